/* check_responder.c - the example AI-reply responder
 * (examples/ai-responder/responder.mjs, under Node.js) against the real
 * tree: a user writes to the responder's uid, the responder streams its
 * answer back in pieces 100-300 ms apart and ends it; the user's version-5
 * connection sees the anchor, every piece as an EVENT in order and the
 * end; its version-2 connection the same as stream RECVs; and the whole
 * text is in /channel/messagesync afterwards.  Two ways in: the msg.notify
 * webhook of wk-hook (webhook.httpAddr pointing at the responder), and a
 * msg.notify body posted to the responder by the test itself, so that the
 * responder is tested whatever the state of the webhooks.  No Node.js is
 * a failure with a message (scripts/bootstrap installs it). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <jansson.h>
#include "wk_crypto.h"
#include "wkclient.h"
#include "wktest.h"

extern char **environ;

static struct wkt_tree tree;
static pid_t responder = -1;
static int responder_out = -1, responder_port;
static char *node_bin;

#define BOT "ai-bot"

/* The answer the responder gives to `q` (responder.mjs, answer()). */
static void
expected(const char *q, char *out, size_t cap)
{
	snprintf(out, cap, "You asked: \"%s\". Here is a streamed reply, word by word, ending now.", q);
}

/* The responder's next stdout line (into buf), waiting up to ms: 0, -1. */
static int
responder_line(char *buf, size_t cap, int ms)
{
	size_t n = 0;
	uint64_t end = wkt_now_ms() + (uint64_t)ms;

	while (n + 1 < cap) {
		struct pollfd pfd = { responder_out, POLLIN, 0 };
		int64_t left = (int64_t)(end - wkt_now_ms());
		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return -1;
		if (read(responder_out, buf + n, 1) != 1)
			return -1;
		if (buf[n] == '\n') {
			buf[n] = '\0';
			return 0;
		}
		n++;
	}
	return -1;
}

/* Start the responder for the tree, listening on responder_port. */
static void
responder_start(void)
{
	char api[96], listen[64], line[512], script[4096];
	int out[2];
	posix_spawn_file_actions_t fa;

	ck_assert_msg(node_bin != NULL, "no node: set NODE or install Node.js (scripts/bootstrap)");
	snprintf(api, sizeof api, "--api=%s", tree.http);
	snprintf(listen, sizeof listen, "--listen=127.0.0.1:%d", responder_port);
	snprintf(script, sizeof script, "%s/examples/ai-responder/responder.mjs", WK_TEST_SRCDIR);
	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	char *argv[] = { node_bin, script, api, "--uid=" BOT, listen, NULL };
	int rc = posix_spawn(&responder, node_bin, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	ck_assert_msg(rc == 0, "posix_spawn %s: %s", node_bin, strerror(rc));
	close(out[1]);
	responder_out = out[0];
	ck_assert_msg(responder_line(line, sizeof line, 10000) == 0 && strstr(line, "\"listening\""),
	    "the responder did not start: %s", line);
}

static void
setup_hook(void)
{
	char cfg[256];

	/* The responder's port is known before the tree: webhook.httpAddr. */
	responder_port = wkt_free_port();
	snprintf(cfg, sizeof cfg, "tokenAuthOn: false\nwebhook:\n  httpAddr: http://127.0.0.1:%d\n"
	    "  msgNotifyEventPushInterval: 20ms\n", responder_port);
	wkt_tree_start(&tree, cfg);
	responder_start();
}

static void
setup_plain(void)
{
	wkt_tree_start(&tree, "tokenAuthOn: false\n");
	responder_port = wkt_free_port();
	responder_start();
}

static void
teardown(void)
{
	if (responder > 0) {
		kill(responder, SIGTERM);
		waitpid(responder, NULL, 0);
		responder = -1;
	}
	if (responder_out >= 0)
		close(responder_out);
	responder_out = -1;
	wkt_tree_stop(&tree);
}

static struct wkc *
login(const char *uid, const char *device, int version)
{
	struct wkc *c = wkc_login("127.0.0.1", tree.tcp_port, uid, device, version);

	ck_assert_msg(c != NULL, "%s/%s cannot log in", uid, device);
	return c;
}

/* The next packet that is not a PONG. */
static struct wkproto_packet
next(struct wkc *c, int timeout_ms)
{
	struct wkproto_packet p;
	int rc = wkc_next(c, &p, timeout_ms);

	ck_assert_msg(rc == 0, "version %d: no packet (%d)", c->version, rc);
	return p;
}

/* Read a whole streamed answer on a version-5 connection: the anchor from
 * the bot, EVENTs in order, the end; the text, and the mean and the
 * largest gap between pieces in *mean_gap / *max_gap (ms). */
static void
read_v5(struct wkc *c, char *text, size_t cap, uint64_t *mean_gap, uint64_t *max_gap)
{
	struct wkproto_packet p = next(c, 10000);
	uint64_t last = 0, first = 0;
	int n = 0;

	ck_assert_int_eq(p.type, WKPROTO_RECV);
	ck_assert(p.recv.setting & WKPROTO_SETTING_STREAM);
	ck_assert_int_eq(p.recv.from_uid.len, strlen(BOT));
	text[0] = '\0';
	*mean_gap = 0;
	*max_gap = 0;
	for (;;) {
		p = next(c, 5000);
		ck_assert_int_eq(p.type, WKPROTO_EVENT);
		json_t *d = json_loadb((const char *)p.event.data.p, p.event.data.len, 0, NULL);
		ck_assert_ptr_nonnull(d);
		if (p.event.type.len == 12 && memcmp(p.event.type.p, "stream.close", 12) == 0) {
			ck_assert_str_eq(json_string_value(json_object_get(d, "stream_status")), "closed");
			json_decref(d);
			break;
		}
		ck_assert_int_eq(p.event.type.len, 12);
		ck_assert_mem_eq(p.event.type.p, "stream.delta", 12);
		char want_id[64];
		snprintf(want_id, sizeof want_id, "-%d", ++n);
		ck_assert_msg(p.event.id.len > strlen(want_id) && memcmp(p.event.id.p + p.event.id.len -
		    strlen(want_id), want_id, strlen(want_id)) == 0, "piece %d out of order: %.*s", n,
		    p.event.id.len, p.event.id.p);
		strncat(text, json_string_value(json_object_get(json_object_get(d, "payload"), "delta")),
		    cap - strlen(text) - 1);
		json_decref(d);
		uint64_t now = wkt_now_ms();
		if (last)
			*max_gap = now - last > *max_gap ? now - last : *max_gap;
		else
			first = now;
		last = now;
	}
	ck_assert_int_gt(n, 5);
	*mean_gap = (last - first) / (uint64_t)(n - 1);
}

/* The same on a version-2 connection: start, pieces, end. */
static void
read_v2(struct wkc *c, char *text, size_t cap)
{
	struct wkproto_packet p = next(c, 10000);
	char plain[1024];
	uint32_t seq = 0;

	ck_assert_int_eq(p.type, WKPROTO_RECV);
	ck_assert_int_eq(p.recv.stream_flag, 0);
	text[0] = '\0';
	for (;;) {
		p = next(c, 5000);
		ck_assert_int_eq(p.type, WKPROTO_RECV);
		ck_assert(p.recv.setting & WKPROTO_SETTING_STREAM_SDK);
		ck_assert_uint_eq(p.recv.stream_seq, ++seq);
		if (p.recv.stream_flag == 2)
			break;
		ck_assert_int_eq(p.recv.stream_flag, 1);
		ck_assert_int_ge(wkc_open_recv(c, &p.recv, plain, sizeof plain), 0);
		json_t *j = json_loads(plain, 0, NULL);
		strncat(text, json_string_value(json_object_get(j, "content")), cap - strlen(text) - 1);
		json_decref(j);
	}
}

/* After the answer: the history has it whole. */
static void
check_history(const char *user, const char *want)
{
	char body[256], *b64 = malloc(WK_B64_ENCODED_LEN(strlen(want)) + 1);
	json_t *j, *m;

	b64[wk_b64_encode(want, strlen(want), b64)] = '\0';
	snprintf(body, sizeof body, "{\"login_uid\":\"%s\",\"channel_id\":\"" BOT "\","
	    "\"channel_type\":1,\"limit\":10}", user);
	j = wkt_call(&tree, "POST", "/channel/messagesync", body, 200);
	m = json_array_get(json_object_get(j, "messages"), json_array_size(json_object_get(j,
	    "messages")) - 1);
	ck_assert_str_eq(json_string_value(json_object_get(m, "from_uid")), BOT);
	ck_assert_str_eq(json_string_value(json_object_get(m, "stream_data")), b64);
	ck_assert_int_eq(json_integer_value(json_object_get(m, "end")), 1);
	json_decref(j);
	free(b64);
}

/* The answer to question q reaches user's v5 and v2 connections whole, its
 * pieces 100-300 ms apart (a mean of at least 60 ms and no gap over 1500:
 * paced, not all at once; one piece held back by a shard's checkpoint
 * may land right before the next), and is in
 * the history. */
static void
expect_answer(struct wkc *c5, struct wkc *c2, const char *user, const char *q)
{
	char t5[1024], t2[1024], want[512];
	uint64_t mean_gap, max_gap;

	expected(q, want, sizeof want);
	read_v5(c5, t5, sizeof t5, &mean_gap, &max_gap);
	ck_assert_str_eq(t5, want);
	ck_assert_msg(mean_gap >= 60 && max_gap <= 1500, "pieces %llu ms apart on average, "
	    "at most %llu", (unsigned long long)mean_gap, (unsigned long long)max_gap);
	read_v2(c2, t2, sizeof t2);
	ck_assert_str_eq(t2, want);
	check_history(user, want);
}

/* A user writes to the bot; wk-hook tells the responder (msg.notify). */
START_TEST(test_responder_via_webhook)
{
	struct wkc *c5 = login("alice", "a5", 5), *c2 = login("alice", "a2", 2);
	struct wkc *w = login("alice", "aw", 5);
	struct wkproto_packet p;

	/* alice's third device asks (its own SEND is not echoed to it). */
	ck_assert_int_eq(wkc_send_msg(w, BOT, 1, "{\"type\":1,\"content\":\"what is wk?\"}", "q1", 1,
	    0), 0);
	p = next(w, 5000);
	ck_assert_int_eq(p.type, WKPROTO_SENDACK);
	ck_assert_int_eq(p.sendack.reason_code, 1);
	/* The other devices see the question first, then the answer. */
	ck_assert_int_eq(next(c5, 5000).type, WKPROTO_RECV);
	ck_assert_int_eq(next(c2, 5000).type, WKPROTO_RECV);
	expect_answer(c5, c2, "alice", "what is wk?");
	wkc_close(c5);
	wkc_close(c2);
	wkc_close(w);
}
END_TEST

/* The same answer to a msg.notify body posted by the test, as wk-hook
 * would: the responder on its own. */
START_TEST(test_responder_direct)
{
	struct wkc *c5 = login("bob", "b5", 5), *c2 = login("bob", "b2", 2);
	char url[128], body[512], *resp = NULL, *b64;
	const char *q = "{\"type\":1,\"content\":\"hello bot\"}";

	b64 = malloc(WK_B64_ENCODED_LEN(strlen(q)) + 1);
	b64[wk_b64_encode(q, strlen(q), b64)] = '\0';
	snprintf(body, sizeof body, "[{\"header\":{\"no_persist\":0,\"red_dot\":1,\"sync_once\":0},"
	    "\"setting\":0,\"message_id\":42,\"message_idstr\":\"42\",\"client_msg_no\":\"x\","
	    "\"message_seq\":1,\"from_uid\":\"bob\",\"channel_id\":\"" BOT "\",\"channel_type\":1,"
	    "\"expire\":0,\"timestamp\":1,\"payload\":\"%s\"},"
	    "{\"setting\":2,\"message_id\":43,\"message_idstr\":\"43\",\"from_uid\":\"" BOT "\","
	    "\"channel_id\":\"bob\",\"channel_type\":1,\"payload\":\"%s\"}]", b64, b64);
	free(b64);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/?event=msg.notify", responder_port);
	ck_assert_int_eq(wkt_http("POST", url, body, &resp, NULL), 200);
	free(resp);
	/* Again (a webhook retried): answered once. */
	ck_assert_int_eq(wkt_http("POST", url, body, &resp, NULL), 200);
	free(resp);
	expect_answer(c5, c2, "bob", "hello bot");
	/* Nothing more: a plain message is the next thing bob gets. */
	json_decref(wkt_call(&tree, "POST", "/message/send", "{\"channel_id\":\"bob\","
	    "\"channel_type\":1,\"payload\":\"aGk=\"}", 200));
	struct wkproto_packet p = next(c5, 5000);
	ck_assert_msg(p.type == WKPROTO_RECV && !(p.recv.setting & WKPROTO_SETTING_STREAM),
	    "a second answer came");
	wkc_close(c5);
	wkc_close(c2);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("responder");
	TCase *hook = tcase_create("webhook"), *direct = tcase_create("direct");

	node_bin = wkt_find_program("NODE", (const char *const[]){ "node", "nodejs", NULL });
	signal(SIGPIPE, SIG_IGN);
	tcase_set_timeout(hook, 90);
	tcase_add_checked_fixture(hook, setup_hook, teardown);
	tcase_add_test(hook, test_responder_via_webhook);
	suite_add_tcase(s, hook);
	tcase_set_timeout(direct, 90);
	tcase_add_checked_fixture(direct, setup_plain, teardown);
	tcase_add_test(direct, test_responder_direct);
	suite_add_tcase(s, direct);
	return wkt_run_suite(s);
}
