/* check_cmd.c - cmd messages (sync_once) through per-user mailboxes against
 * the real tree: an online member gets a RECV with SyncOnce and its RECVACK
 * empties its mailbox; an offline member gets the message from
 * /message/sync exactly once, however much chat traffic came between;
 * exact pages with syncack; a new member gets only what was sent after it
 * joined; subscribers sends reach exactly those users; and kill -9 of the
 * mailbox shard and of the channel shard while cmd messages flow loses and
 * doubles nothing.  See wk-mailbox(8), wk-channel(8), wk-api(8). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <jansson.h>
#include "wk_crypto.h"
#include "wk_shard.h"
#include "wkclient.h"
#include "wktest.h"

static struct wkt_tree tree;

static void setup(void) { wkt_tree_start(&tree, "tokenAuthOn: false\n"); }
static void teardown(void) { wkt_tree_stop(&tree); }

static void
post_ok(const char *path, const char *body)
{
	wkt_post_ok(&tree, path, body);
}

/* POST /message/send from boss of text to (to, type) with header `header`,
 * to `subs` (a JSON array) if given; its seq. */
static json_int_t
send_msg(const char *to, int type, const char *text, const char *header, const char *subs)
{
	char extra[512] = "";

	if (subs)
		snprintf(extra, sizeof extra, ",\"subscribers\":%s", subs);
	return wkt_send_text(&tree, "boss", to, type, text, header, extra, NULL);
}

static json_int_t
send_cmd(const char *to, const char *text)
{
	return send_msg(to, 2, text, "{\"sync_once\":1}", NULL);
}

static json_t *
sync_cmd(const char *uid, int limit)
{
	char body[256];

	snprintf(body, sizeof body, "{\"uid\":\"%s\",\"limit\":%d}", uid, limit);
	return wkt_call(&tree, "POST", "/message/sync", body, 200);
}

static void
syncack(const char *uid, json_int_t seq)
{
	char body[256];

	snprintf(body, sizeof body, "{\"uid\":\"%s\",\"last_message_seq\":%lld}", uid, (long long)seq);
	post_ok("/message/syncack", body);
}

/* The decoded payload of a MessageResp. */
static void
payload_of(json_t *m, char *out, size_t cap)
{
	const char *b = json_string_value(json_object_get(m, "payload"));
	ssize_t n = wk_b64_decode(b, strlen(b), (uint8_t *)out, cap - 1);

	ck_assert(n >= 0);
	out[n] = '\0';
}

/* Wait (bounded) until uid's mailbox holds n messages; the last answer. */
static json_t *
wait_mailbox(const char *uid, size_t n)
{
	uint64_t end = wkt_now_ms() + 15000;
	json_t *l = NULL;

	while (wkt_now_ms() < end) {
		json_decref(l);
		l = sync_cmd(uid, 1000);
		if (json_array_size(l) == n)
			return l;
		wkt_tick();
	}
	ck_abort_msg("%s: %zu cmd messages, want %zu", uid, json_array_size(l), n);
	return NULL;
}

static struct wkc *
login(const char *uid)
{
	struct wkc *c = wkc_connect_tcp("127.0.0.1", tree.tcp_port);

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(wkc_handshake(c, uid, "", 5, 1, "d1", NULL), 1);
	return c;
}

START_TEST(test_cmd_online_offline_and_chat_in_between)
{
	struct wkc *b = login("cb");
	struct wkproto_packet pk;
	char text[64];
	json_t *l, *m;

	post_ok("/channel", "{\"channel_id\":\"cg\",\"channel_type\":2,\"subscribers\":[\"ca\",\"cb\",\"cc\"]}");
	send_cmd("cg", "{\"cmd\":\"channelUpdate\"}");
	/* Online: a RECV with SyncOnce, the channel as addressed. */
	ck_assert_int_eq(wkc_expect(b, WKPROTO_RECV, &pk, 5000), 0);
	ck_assert(pk.flags & WKPROTO_FLAG_SYNCONCE);
	ck_assert_int_eq(pk.recv.channel_id.len, 2);
	ck_assert_mem_eq(pk.recv.channel_id.p, "cg", 2);
	ck_assert_int_eq(wkc_open_recv(b, &pk.recv, text, sizeof text), 23);
	ck_assert_str_eq(text, "{\"cmd\":\"channelUpdate\"}");
	/* Until acknowledged it is in the mailbox too. */
	l = wait_mailbox("cb", 1);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(l, 0), "message_seq")),
	    pk.recv.message_seq);
	json_decref(l);
	ck_assert_int_eq(wkc_recvack(b, &pk), 0);
	json_decref(wait_mailbox("cb", 0));
	/* Chat traffic in between pushes nothing out. */
	for (int i = 0; i < 300; i++) {
		snprintf(text, sizeof text, "chat %d", i);
		send_msg("cg", 2, text, "{\"red_dot\":1}", NULL);
	}
	l = wait_mailbox("cc", 1);
	m = json_array_get(l, 0);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(m, "header"), "sync_once")), 1);
	ck_assert_str_eq(json_string_value(json_object_get(m, "channel_id")), "cg");
	ck_assert_int_eq(json_integer_value(json_object_get(m, "channel_type")), 2);
	ck_assert_str_eq(json_string_value(json_object_get(m, "from_uid")), "boss");
	payload_of(m, text, sizeof text);
	ck_assert_str_eq(text, "{\"cmd\":\"channelUpdate\"}");
	/* Again: the same one (not acknowledged); then acknowledged: gone. */
	json_decref(wait_mailbox("cc", 1));
	syncack("cc", json_integer_value(json_object_get(m, "message_seq")));
	json_decref(l);
	json_decref(wait_mailbox("cc", 0));
	/* The sender does not get its own cmd message. */
	json_decref(wait_mailbox("boss", 0));
	/* The chat messages are not in the conversation's cmd count either. */
	l = wkt_call(&tree, "POST", "/conversation/sync", "{\"uid\":\"cc\",\"msg_count\":1}", 200);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(l, 0), "last_msg_seq")), 300);
	json_decref(l);
	wkt_expect_400(&tree, "POST", "/message/sync", "{\"uid\":\"cc\",\"limit\":-1}", "limit不能小于0！");
	wkt_expect_400(&tree, "POST", "/message/sync", "{\"limit\":1}", "uid不能为空！");
	wkc_close(b);
}
END_TEST

START_TEST(test_cmd_exact_pages)
{
	json_int_t last = 0;
	char text[64], want[64];
	int got = 0;

	post_ok("/channel", "{\"channel_id\":\"pg\",\"channel_type\":2,\"subscribers\":[\"pa\"]}");
	for (int i = 0; i < 25; i++) {
		snprintf(text, sizeof text, "cmd %d", i);
		send_cmd("pg", text);
	}
	json_decref(wait_mailbox("pa", 25));
	/* Pages of 10, 10, 5, then nothing: in order, no duplicate, no gap. */
	for (int page = 0; page < 4; page++) {
		json_t *l = sync_cmd("pa", 10), *m;
		size_t i;
		ck_assert_uint_eq(json_array_size(l), page < 2 ? 10 : page == 2 ? 5 : 0);
		json_array_foreach(l, i, m) {
			json_int_t seq = json_integer_value(json_object_get(m, "message_seq"));
			ck_assert(seq > last);
			last = seq;
			payload_of(m, text, sizeof text);
			snprintf(want, sizeof want, "cmd %d", got++);
			ck_assert_str_eq(text, want);
		}
		if (json_array_size(l))
			syncack("pa", last);
		json_decref(l);
	}
	ck_assert_int_eq(got, 25);
}
END_TEST

START_TEST(test_cmd_new_member_and_subscribers)
{
	json_t *l;
	char text[64];

	post_ok("/channel", "{\"channel_id\":\"ng\",\"channel_type\":2,\"subscribers\":[\"na\"]}");
	send_cmd("ng", "before");
	post_ok("/channel/subscriber_add", "{\"channel_id\":\"ng\",\"channel_type\":2,\"subscribers\":[\"nb\"]}");
	send_cmd("ng", "after");
	json_decref(wait_mailbox("na", 2));
	l = wait_mailbox("nb", 1);
	payload_of(json_array_get(l, 0), text, sizeof text);
	ck_assert_str_eq(text, "after");
	json_decref(l);
	/* subscribers: exactly these users' mailboxes. */
	send_msg("", 0, "targeted", "{\"sync_once\":1}", "[\"sx\",\"sy\"]");
	l = wait_mailbox("sx", 1);
	payload_of(json_array_get(l, 0), text, sizeof text);
	ck_assert_str_eq(text, "targeted");
	json_decref(l);
	json_decref(wait_mailbox("sy", 1));
	json_decref(wait_mailbox("na", 2));
}
END_TEST

/* Every message of uid's mailbox, in order: "k 0" .. "k n-1", once each. */
static void
expect_all(const char *uid, int n)
{
	json_t *l = wait_mailbox(uid, (size_t)n), *m;
	char text[64], want[64];
	size_t i;

	json_array_foreach(l, i, m) {
		payload_of(m, text, sizeof text);
		snprintf(want, sizeof want, "k %zu", i);
		ck_assert_str_eq(text, want);
	}
	json_decref(l);
}

/* Wait (bounded) until the mailbox shards' `key` counters add up to at
 * least want. */
static void
wait_dropped(const char *key, long long want)
{
	uint64_t end = wkt_now_ms() + 15000;

	while (wkt_now_ms() < end && wkt_status_sum(tree.run, "mailbox", key) < want)
		wkt_tick();
	ck_assert_int_ge(wkt_status_sum(tree.run, "mailbox", key), want);
}

/* uid's mailbox holds exactly the texts want[0..n), in order. */
static void
mailbox_is(const char *uid, const char *const *want, size_t n)
{
	json_t *l = sync_cmd(uid, 1000), *m;
	char text[64];
	size_t i;

	ck_assert_uint_eq(json_array_size(l), n);
	json_array_foreach(l, i, m) {
		payload_of(m, text, sizeof text);
		ck_assert_str_eq(text, want[i]);
	}
	json_decref(l);
}

/* A user who never comes back keeps the newest cmd.maxPerUser messages
 * (the oldest go, counted), and none older than cmd.maxAge. */
START_TEST(test_cmd_mailbox_bound)
{
	static const char *const newest[] = { "cap 4", "cap 5", "cap 6" },
	    *later[] = { "cap 6", "cap 7", "cap 8" }, *none[] = { NULL };
	char text[32];

	wkt_tree_stop(&tree);
	wkt_tree_start(&tree, "tokenAuthOn: false\ncmd:\n  maxPerUser: 3\n  maxAge: 8s\n");
	post_ok("/channel", "{\"channel_id\":\"cap\",\"channel_type\":2,"
	    "\"subscribers\":[\"ca\",\"cb\"]}");
	for (int i = 0; i < 7; i++) {
		snprintf(text, sizeof text, "cap %d", i);
		send_cmd("cap", text);
	}
	wait_dropped("cmd_capped", 8);          /* 4 of each user's 7 */
	mailbox_is("ca", newest, 3);
	mailbox_is("cb", newest, 3);
	send_cmd("cap", "cap 7");
	send_cmd("cap", "cap 8");
	wait_dropped("cmd_capped", 12);
	mailbox_is("ca", later, 3);
	ck_assert_int_eq(wkt_status_sum(tree.run, "mailbox", "cmd_capped"), 12);
	/* Then they age out: nothing is left 8 s on. */
	wait_dropped("cmd_expired", 6);
	mailbox_is("ca", none, 0);
	mailbox_is("cb", none, 0);
}
END_TEST

/* cmd messages "k from" .. "k to-1" to kg. */
static void
send_ks(int from, int to)
{
	char text[64];

	for (int i = from; i < to; i++) {
		snprintf(text, sizeof text, "k %d", i);
		send_cmd("kg", text);
	}
}

START_TEST(test_cmd_survives_kills)
{
	int ms = wk_shard_uid("ka", 2, 2), cs = wk_shard_channel("kg", 2, 2);

	post_ok("/channel", "{\"channel_id\":\"kg\",\"channel_type\":2,\"subscribers\":[\"ka\",\"kb\"]}");
	send_ks(0, 20);
	/* The mailbox shard stops answering; what is sent meanwhile waits in
	 * the channel shard's outbox; then the mailbox shard dies. */
	ck_assert_int_eq(kill(wkt_tree_pid(&tree, "mailbox", ms), SIGSTOP), 0);
	send_ks(20, 45);
	ck_assert_int_gt(wkt_status_sum(tree.run, "channel", "cmd_unacked"), 0);
	wkt_tree_kill9(&tree, "mailbox", ms);
	/* The channel shard dies right after acknowledging sends. */
	wkt_tree_kill9(&tree, "channel", cs);
	send_ks(45, 60);
	expect_all("ka", 60);
	expect_all("kb", 60);
	/* Nothing left to hand over, once the last acknowledgement is in. */
	uint64_t end = wkt_now_ms() + 5000;
	long long left;
	while ((left = wkt_status_sum(tree.run, "channel", "cmd_unacked")) != 0 && wkt_now_ms() < end)
		wkt_tick();
	ck_assert_int_eq(left, 0);
}
END_TEST

static Suite *
cmd_suite(void)
{
	Suite *s = suite_create("cmd");
	TCase *tc = tcase_create("cmd");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_cmd_online_offline_and_chat_in_between);
	tcase_add_test(tc, test_cmd_exact_pages);
	tcase_add_test(tc, test_cmd_new_member_and_subscribers);
	tcase_add_test(tc, test_cmd_survives_kills);
	tcase_add_test(tc, test_cmd_mailbox_bound);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return wkt_run_suite(cmd_suite());
}
