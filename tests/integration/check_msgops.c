/* check_msgops.c - revoke, edit and retention against the real tree
 * (wk-api(8), wk-channel(8)): a revoked message's payload bytes leave the
 * channel shard's messages.db (its record stays, emptied), the members
 * online get the "messageRevoke" cmd, sync shows it revoked; an edit (whose
 * old content leaves the file too) shows in /channel/messagesync and /conversation/sync with its version, and the
 * members get "messageEdit"; retention by count and by age deletes old
 * messages a small batch per step, and a sync below the kept range says
 * where history starts (history_start_seq). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "wk_crypto.h"
#include "wk_shard.h"
#include "wkclient.h"
#include "wktest.h"

static struct wkt_tree tree;

/* A checkpoint each second writes the shard's pages to messages.db, so the
 * test sees what is on disk; three messages per retention step. */
static void
setup(void)
{
	setenv("WK_STORAGE_CHECKPOINTINTERVAL", "1s", 1);
	wkt_tree_start(&tree, "tokenAuthOn: false\nchannel:\n  retentionBatch: 3\n");
	unsetenv("WK_STORAGE_CHECKPOINTINTERVAL");
}

static void teardown(void) { wkt_tree_stop(&tree); }

static struct wkc *
login(const char *uid)
{
	struct wkc *c = wkc_connect_tcp("127.0.0.1", tree.tcp_port);

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(wkc_handshake(c, uid, "", 5, 1, "d1", NULL), 1);
	return c;
}

/* Does the messages.db file of channel id's shard hold `needle`? */
static int
db_has(const char *id, const char *needle)
{
	char path[1024];
	FILE *f;
	char *buf;
	long n;
	int found = 0;

	snprintf(path, sizeof path, "%s/data/channel-%u/messages.db", tree.dir,
	    wk_shard_channel(id, strlen(id), 2));
	if ((f = fopen(path, "rb")) == NULL)
		return 0;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) == (size_t)n)
		found = memmem(buf, (size_t)n, needle, strlen(needle)) != NULL;
	free(buf);
	fclose(f);
	return found;
}

/* Wait (bounded: checkpoints come each second) until db_has is `want`. */
static void
wait_db(const char *id, const char *needle, int want)
{
	uint64_t end = wkt_now_ms() + 20000;

	while (wkt_now_ms() < end) {
		if (db_has(id, needle) == want)
			return;
		wkt_tick();
	}
	ck_abort_msg("messages.db of %s: \"%.20s...\" %s", id, needle,
	    want ? "never written" : "still there");
}

/* The next RECV on c that is a cmd (SyncOnce): its payload as JSON. */
static json_t *
next_cmd(struct wkc *c)
{
	struct wkproto_packet pk;
	char text[8192];
	ssize_t n;

	for (;;) {
		ck_assert_int_eq(wkc_expect(c, WKPROTO_RECV, &pk, 5000), 0);
		ck_assert_int_eq(wkc_recvack(c, &pk), 0);
		if (!(pk.flags & WKPROTO_FLAG_SYNCONCE))
			continue;
		n = wkc_open_recv(c, &pk.recv, text, sizeof text);
		ck_assert(n > 0);
		text[n] = '\0';
		json_t *o = json_loads(text, 0, NULL);
		ck_assert_msg(o != NULL, "cmd payload %s", text);
		return o;
	}
}

/* /channel/messagesync of (id, type) seen by login, from start to end
 * (pull_mode up when start is given). */
static json_t *
msync(const char *login_uid, const char *id, int type, int start, int end)
{
	char body[512];

	snprintf(body, sizeof body, "{\"login_uid\":\"%s\",\"channel_id\":\"%s\",\"channel_type\":%d,"
	    "\"start_message_seq\":%d,\"end_message_seq\":%d,\"limit\":100,\"pull_mode\":%d}",
	    login_uid, id, type, start, end, start ? 1 : 0);
	return wkt_call(&tree, "POST", "/channel/messagesync", body, 200);
}

/* The message with seq in a sync answer, or NULL. */
static json_t *
find_seq(json_t *sync, json_int_t seq)
{
	size_t i;
	json_t *m;

	json_array_foreach(json_object_get(sync, "messages"), i, m)
		if (json_integer_value(json_object_get(m, "message_seq")) == seq)
			return m;
	return NULL;
}

/* A MessageResp's decoded payload. */
static void
payload_of(json_t *m, char *out, size_t cap)
{
	const char *b = json_string_value(json_object_get(m, "payload"));
	ssize_t n;

	ck_assert_ptr_nonnull(b);
	n = wk_b64_decode(b, strlen(b), (uint8_t *)out, cap - 1);
	ck_assert(n >= 0);
	out[n] = '\0';
}

/* POST /message/revoke or /message/edit; the answer's extra_version. */
static json_int_t
change(const char *path, const char *body)
{
	json_t *j = wkt_call(&tree, "POST", path, body, 200);
	json_int_t v = json_integer_value(json_object_get(json_object_get(j, "data"), "extra_version"));

	ck_assert_int_eq(json_integer_value(json_object_get(j, "status")), 200);
	json_decref(j);
	return v;
}

/* Revoke the message (id, seq) of group rv: its payload (needle) leaves
 * messages.db, the record (its client_msg_no cmn) stays; ra online gets the
 * notice; the sync shows it revoked. */
static void
revoke_and_check(struct wkc *ra, int64_t id, json_int_t seq, const char *needle, const char *cmn,
    json_int_t want_version)
{
	char body[512], idstr[32];
	json_t *cmd, *param, *s, *m, *x;

	wait_db("rv", needle, 1);
	snprintf(idstr, sizeof idstr, "%lld", (long long)id);
	snprintf(body, sizeof body, "{\"channel_id\":\"rv\",\"channel_type\":2,\"message_id\":\"%s\","
	    "\"from_uid\":\"rb\"}", idstr);
	ck_assert_int_eq(change("/message/revoke", body), want_version);
	cmd = next_cmd(ra);
	param = json_object_get(cmd, "param");
	ck_assert_int_eq(json_integer_value(json_object_get(cmd, "type")), 99);
	ck_assert_str_eq(json_string_value(json_object_get(cmd, "cmd")), "messageRevoke");
	ck_assert_str_eq(json_string_value(json_object_get(param, "message_id")), idstr);
	ck_assert_int_eq(json_integer_value(json_object_get(param, "message_seq")), seq);
	ck_assert_str_eq(json_string_value(json_object_get(param, "channel_id")), "rv");
	ck_assert_str_eq(json_string_value(json_object_get(param, "revoker")), "rb");
	ck_assert_str_eq(json_string_value(json_object_get(param, "client_msg_no")), cmn);
	json_decref(cmd);
	s = msync("ra", "rv", 2, 0, 0);
	m = find_seq(s, seq);
	ck_assert_ptr_nonnull(m);
	x = json_object_get(m, "message_extra");
	ck_assert_int_eq(json_integer_value(json_object_get(m, "revoke")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(x, "revoke")), 1);
	ck_assert_str_eq(json_string_value(json_object_get(x, "revoker")), "rb");
	ck_assert_int_eq(json_integer_value(json_object_get(x, "extra_version")), want_version);
	ck_assert(json_is_null(json_object_get(m, "payload")));
	json_decref(s);
	/* On disk: the payload gone, the record (its client_msg_no) there.
	 * The page of the rewritten record may reach the file at a later
	 * checkpoint than the page that held the payload. */
	wait_db("rv", needle, 0);
	wait_db("rv", cmn, 1);
	ck_assert(!db_has("rv", needle));
}

START_TEST(test_msgops_revoke)
{
	struct wkc *ra = login("ra");
	char big[4096], b64[6000], body[8192];
	int64_t id;
	json_int_t seq;
	json_t *j;

	wkt_post_ok(&tree, "/channel", "{\"channel_id\":\"rv\",\"channel_type\":2,"
	    "\"subscribers\":[\"ra\",\"rb\"]}");
	/* A small message: on its btree page. */
	seq = wkt_send_text(&tree, "rb", "rv", 2, "SECRET-7f3a9c-small-payload-to-revoke", NULL,
	    ",\"client_msg_no\":\"rv-cmn-small\"", &id);
	revoke_and_check(ra, id, seq, "SECRET-7f3a9c-small", "rv-cmn-small", 1);
	/* A large one: in overflow pages. */
	for (size_t i = 0; i + 1 < sizeof big; i++)
		big[i] = "BIGSECRET-4e1d-"[i % 15];
	big[sizeof big - 1] = '\0';
	b64[wk_b64_encode(big, strlen(big), b64)] = '\0';
	snprintf(body, sizeof body, "{\"from_uid\":\"rb\",\"channel_id\":\"rv\",\"channel_type\":2,"
	    "\"client_msg_no\":\"rv-cmn-big\",\"payload\":\"%s\"}", b64);
	j = wkt_call(&tree, "POST", "/message/send", body, 200);
	seq = json_integer_value(json_object_get(json_object_get(j, "data"), "message_seq"));
	id = json_integer_value(json_object_get(json_object_get(j, "data"), "message_id"));
	json_decref(j);
	revoke_and_check(ra, id, seq, "BIGSECRET-4e1d-BIGSECRET-4e1d-", "rv-cmn-big", 2);
	/* Again: nothing changes; an edit of it is refused; unknown: 404. */
	snprintf(body, sizeof body, "{\"channel_id\":\"rv\",\"channel_type\":2,\"message_id\":%lld}",
	    (long long)id);
	ck_assert_int_eq(change("/message/revoke", body), 2);
	snprintf(body, sizeof body, "{\"channel_id\":\"rv\",\"channel_type\":2,\"message_id\":%lld,"
	    "\"payload\":\"eyJ0eXBlIjoxfQ==\"}", (long long)id);
	json_decref(wkt_call(&tree, "POST", "/message/edit", body, 400));
	json_decref(wkt_call(&tree, "POST", "/message/revoke",
	    "{\"channel_id\":\"rv\",\"channel_type\":2,\"message_id\":12345}", 404));
	json_decref(wkt_call(&tree, "POST", "/message/revoke",
	    "{\"channel_id\":\"rv\",\"channel_type\":2}", 400));
	json_decref(wkt_call(&tree, "POST", "/message/revoke",
	    "{\"channel_id\":\"rb\",\"channel_type\":1,\"message_id\":1}", 400));
	wkc_close(ra);
}
END_TEST

START_TEST(test_msgops_edit)
{
	struct wkc *ea = login("ea");
	const char *v1 = "{\"type\":1,\"content\":\"hello\"}";
	const char *v2 = "{\"type\":1,\"content\":\"hello edited\"}";
	char b64[256], body[1024], text[256];
	json_t *cmd, *s, *m, *x, *c;
	json_int_t seq;
	int64_t id;

	wkt_post_ok(&tree, "/channel", "{\"channel_id\":\"ev\",\"channel_type\":2,"
	    "\"subscribers\":[\"ea\",\"eb\"]}");
	seq = wkt_send_text(&tree, "eb", "ev", 2, v1, NULL, ",\"client_msg_no\":\"ev-1\"", &id);
	b64[wk_b64_encode(v2, strlen(v2), b64)] = '\0';
	wait_db("ev", "\"content\":\"hello\"}", 1);
	/* By client_msg_no. */
	snprintf(body, sizeof body, "{\"channel_id\":\"ev\",\"channel_type\":2,"
	    "\"client_msg_no\":\"ev-1\",\"from_uid\":\"eb\",\"payload\":\"%s\"}", b64);
	ck_assert_int_eq(change("/message/edit", body), 1);
	cmd = next_cmd(ea);
	ck_assert_str_eq(json_string_value(json_object_get(cmd, "cmd")), "messageEdit");
	c = json_object_get(json_object_get(cmd, "param"), "content_edit");
	ck_assert_str_eq(json_string_value(json_object_get(c, "content")), "hello edited");
	json_decref(cmd);
	s = msync("ea", "ev", 2, 0, 0);
	m = find_seq(s, seq);
	ck_assert_ptr_nonnull(m);
	payload_of(m, text, sizeof text);
	ck_assert_str_eq(text, v2);
	x = json_object_get(m, "message_extra");
	ck_assert_int_eq(json_integer_value(json_object_get(x, "extra_version")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(x, "revoke")), 0);
	ck_assert(json_integer_value(json_object_get(x, "edited_at")) > 0);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(x, "content_edit"),
	    "content")), "hello edited");
	json_decref(s);
	/* The old content is gone from the file as well. */
	wait_db("ev", "\"content\":\"hello\"}", 0);
	/* Again, by id: the channel's next version; conversation sync shows it. */
	snprintf(body, sizeof body, "{\"channel_id\":\"ev\",\"channel_type\":2,\"message_id\":%lld,"
	    "\"payload\":\"%s\"}", (long long)id, b64);
	ck_assert_int_eq(change("/message/edit", body), 2);
	json_decref(next_cmd(ea));
	s = wkt_call(&tree, "POST", "/conversation/sync", "{\"uid\":\"ea\",\"msg_count\":1}", 200);
	m = json_array_get(json_object_get(json_array_get(s, 0), "recents"), 0);
	ck_assert_ptr_nonnull(m);
	payload_of(m, text, sizeof text);
	ck_assert_str_eq(text, v2);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(m, "message_extra"),
	    "extra_version")), 2);
	json_decref(s);
	/* A person chat: the stored id needs from_uid. */
	seq = wkt_send_text(&tree, "pa", "pb", 1, v1, NULL, NULL, &id);
	snprintf(body, sizeof body, "{\"channel_id\":\"pb\",\"channel_type\":1,\"message_id\":%lld,"
	    "\"payload\":\"%s\"}", (long long)id, b64);
	json_decref(wkt_call(&tree, "POST", "/message/edit", body, 400));
	snprintf(body, sizeof body, "{\"channel_id\":\"pb\",\"channel_type\":1,\"message_id\":%lld,"
	    "\"from_uid\":\"pa\",\"payload\":\"%s\"}", (long long)id, b64);
	ck_assert_int_eq(change("/message/edit", body), 1);
	s = msync("pb", "pa", 1, 0, 0);
	payload_of(find_seq(s, seq), text, sizeof text);
	ck_assert_str_eq(text, v2);
	json_decref(s);
	wkc_close(ea);
}
END_TEST

/* Wait until a sync of (id, 2) answers n messages; the answer. */
static json_t *
wait_kept(const char *login_uid, const char *id, size_t n)
{
	uint64_t end = wkt_now_ms() + 20000;
	json_t *s = NULL;

	while (wkt_now_ms() < end) {
		json_decref(s);
		s = msync(login_uid, id, 2, 0, 0);
		if (json_array_size(json_object_get(s, "messages")) == n)
			return s;
		wkt_tick();
	}
	ck_abort_msg("%s: %zu messages kept, want %zu", id,
	    json_array_size(json_object_get(s, "messages")), n);
	return NULL;
}

START_TEST(test_msgops_retention_count)
{
	json_t *s, *j;
	char text[32];

	wkt_post_ok(&tree, "/channel", "{\"channel_id\":\"kc\",\"channel_type\":2,"
	    "\"subscribers\":[\"ka\"]}");
	j = wkt_call(&tree, "POST", "/channel/retention",
	    "{\"channel_id\":\"kc\",\"channel_type\":2,\"retention_count\":3}", 200);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "history_start_seq")), 0);
	json_decref(j);
	for (int i = 1; i <= 10; i++) {
		snprintf(text, sizeof text, "kept-or-not-%d-end", i);
		wkt_send_text(&tree, "ka", "kc", 2, text, NULL, NULL, NULL);
	}
	s = wait_kept("ka", "kc", 3);
	ck_assert_int_eq(json_integer_value(json_object_get(s, "history_start_seq")), 8);
	ck_assert_ptr_nonnull(find_seq(s, 8));
	ck_assert_ptr_nonnull(find_seq(s, 10));
	json_decref(s);
	/* Below the kept range: nothing, and where history starts. */
	s = msync("ka", "kc", 2, 1, 5);
	ck_assert_int_eq(json_array_size(json_object_get(s, "messages")), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(s, "history_start_seq")), 8);
	json_decref(s);
	/* Gone from disk too. */
	wait_db("kc", "kept-or-not-1-end", 0);
	ck_assert(db_has("kc", "kept-or-not-10-end"));
	ck_assert(wkt_status_sum(tree.run, "channel", "retention_deleted") >= 7);
	json_decref(wkt_call(&tree, "POST", "/channel/retention",
	    "{\"channel_type\":2,\"retention_count\":3}", 400));
}
END_TEST

START_TEST(test_msgops_retention_age)
{
	json_t *s;
	char text[32];

	wkt_post_ok(&tree, "/channel", "{\"channel_id\":\"ac\",\"channel_type\":2,"
	    "\"subscribers\":[\"aa\"]}");
	json_decref(wkt_call(&tree, "POST", "/channel/retention",
	    "{\"channel_id\":\"ac\",\"channel_type\":2,\"retention_seconds\":2}", 200));
	for (int i = 1; i <= 5; i++) {
		snprintf(text, sizeof text, "aged-%d", i);
		wkt_send_text(&tree, "aa", "ac", 2, text, NULL, NULL, NULL);
	}
	s = wait_kept("aa", "ac", 0);
	ck_assert_int_eq(json_integer_value(json_object_get(s, "history_start_seq")), 6);
	json_decref(s);
	/* A new message is kept (for its two seconds). */
	ck_assert_int_eq(wkt_send_text(&tree, "aa", "ac", 2, "fresh", NULL, NULL, NULL), 6);
	s = msync("aa", "ac", 2, 6, 0);
	ck_assert_ptr_nonnull(find_seq(s, 6));
	json_decref(s);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("msgops");
	TCase *tc = tcase_create("tree");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_msgops_revoke);
	tcase_add_test(tc, test_msgops_edit);
	tcase_add_test(tc, test_msgops_retention_count);
	tcase_add_test(tc, test_msgops_retention_age);
	suite_add_tcase(s, tc);
	return wkt_run_suite(s);
}
