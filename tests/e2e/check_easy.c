/* check_easy.c - JSON-RPC over WebSocket text frames, end to end: clients
 * that send WuKongEasySDK's exact frames (easy_client.mjs under Node.js, run
 * by sdk_driver.c) on the same port as binary WKProto.  Connect (token auth),
 * send and its answer, recv with the automatic recvack, ping, stream events,
 * chat with a binary (encrypted) client both ways; a refused connect and
 * malformed or out-of-order requests get an error response and a Close code
 * while everyone else stays connected. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "wkclient.h"
#include "wktest.h"
#include "sdk_driver.h"

/* A member by dotted path ("params.header.redDot"), or NULL. */
static json_t *
jpath(json_t *j, const char *path)
{
	char buf[128], *save, *k;

	snprintf(buf, sizeof buf, "%s", path);
	for (k = strtok_r(buf, ".", &save); k && j; k = strtok_r(NULL, ".", &save))
		j = json_object_get(j, k);
	return j;
}

static const char *
jpstr(json_t *j, const char *path)
{
	const char *s = json_string_value(jpath(j, path));
	return s ? s : "";
}

static long long
jpint(json_t *j, const char *path)
{
	return json_integer_value(jpath(j, path));
}

/* An easy client of uid with token (device flag 1); extra: one more option. */
static struct sdk *
easy(const char *uid, const char *token, const char *extra)
{
	char addr[96], a_uid[96], a_token[96];

	snprintf(addr, sizeof addr, "--addr=ws://127.0.0.1:%d", sdk_tree.ws_port);
	snprintf(a_uid, sizeof a_uid, "--uid=%s", uid);
	snprintf(a_token, sizeof a_token, "--token=%s", token);
	return sdk_start_script(uid, "easy_client.mjs",
	    (const char *const[]){ addr, a_uid, a_token, "--device-flag=1", extra, NULL });
}

/* An easy client that connected. */
static struct sdk *
easy_login(const char *uid)
{
	char token[64];

	snprintf(token, sizeof token, "tok-%s", uid);
	sdk_set_token(uid, token, 1, 0);
	struct sdk *c = easy(uid, token, NULL);
	json_t *r = sdk_wait_line(c, "connected", 1, 15000);
	ck_assert_msg(jpint(r, "result.reasonCode") == 1 && jpath(r, "result.nodeId") &&
	    jpath(r, "result.timeDiff"), "connect result%s", sdk_why(c));
	return c;
}

/* A message as the receiving client saw it. */
static void
check_message(struct sdk *c, json_t *m, const char *from, const char *channel, int type,
    const char *text)
{
	ck_assert_msg(strcmp(jpstr(m, "params.fromUid"), from) == 0 &&
	    strcmp(jpstr(m, "params.channelId"), channel) == 0 &&
	    jpint(m, "params.channelType") == type && strcmp(jpstr(m, "content.content"), text) == 0 &&
	    jpint(m, "content.type") == 1 && jpint(m, "params.messageSeq") >= 1 &&
	    jpint(m, "params.timestamp") > 1600000000 && jpstr(m, "params.messageId")[0] != '\0',
	    "message from %s in %s/%d \"%s\"%s", from, channel, type, text, sdk_why(c));
}

/* (1) Two easy clients chat: the send is answered with the stored id and
 * seq, the peer gets it (redDot header, base64 payload) and acknowledges;
 * ping is answered; both are online. */
START_TEST(test_easy_chat)
{
	struct sdk *a = easy_login("alice"), *b = easy_login("bob");
	json_t *r, *m;

	ck_assert_int_eq(sdk_wait_online("alice", 1, 1, 5000), 1);
	sdk_cmd(a, "send bob 1 hello, bob ✓");
	r = sdk_wait_line(a, "sendack", 1, 10000);
	ck_assert_msg(jpint(r, "result.reasonCode") == 1 && jpint(r, "result.messageSeq") == 1 &&
	    strspn(jpstr(r, "result.messageId"), "0123456789") == strlen(jpstr(r, "result.messageId")) &&
	    jpstr(r, "result.messageId")[0] != '\0', "sendack%s", sdk_why(a));
	m = sdk_wait_line(b, "message", 1, 10000);
	check_message(b, m, "alice", "alice", 1, "hello, bob ✓");
	ck_assert_msg(json_is_true(jpath(m, "params.header.redDot")) &&
	    strcmp(jpstr(m, "params.messageId"), jpstr(r, "result.messageId")) == 0 &&
	    strcmp(jpstr(m, "params.clientMsgNo"), jpstr(r, "clientMsgNo")) == 0,
	    "recv fields%s%s", sdk_why(a), sdk_why(b));
	/* The answer to a ping names it. */
	sdk_cmd(b, "ping");
	r = sdk_wait_line(b, "pong", 1, 5000);
	ck_assert_msg(json_is_null(jpath(r, "result")), "pong%s", sdk_why(b));
	/* Several sends in a row, each answered (the ids are matched). */
	sdk_cmd(b, "send alice 1 one");
	sdk_cmd(b, "send alice 1 two");
	sdk_cmd(b, "send alice 1 three");
	for (int n = 1; n <= 3; n++) {
		r = sdk_wait_line(b, "sendack", n, 10000);
		ck_assert_msg(jpint(r, "result.reasonCode") == 1, "sendack %d%s", n, sdk_why(b));
	}
	m = sdk_wait_line(a, "message", 3, 10000);
	check_message(a, m, "bob", "bob", 1, "three");
	/* Nothing the server sent was unexpected, and nobody was closed. */
	ck_assert_msg(sdk_line(a, "closed") == NULL && sdk_line(b, "closed") == NULL &&
	    sdk_line(a, "response") == NULL, "%s%s", sdk_why(a), sdk_why(b));
	sdk_stop(a);
	sdk_stop(b);
}
END_TEST

/* (2) An easy client and a binary (encrypted WKProto) client on the same
 * port talk to each other both ways. */
START_TEST(test_easy_and_binary_client)
{
	struct sdk *a = easy_login("alice");
	struct wkproto_packet p;
	char text[256];
	json_t *m;

	sdk_set_token("carol", "tok-carol", 1, 0);
	struct wkc *c = wkc_connect_ws("127.0.0.1", sdk_tree.ws_port);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(wkc_handshake(c, "carol", "tok-carol", 5, 1, "d", NULL), 1);
	ck_assert_int_eq(wkc_send_msg(c, "alice", 1, "{\"type\":1,\"content\":\"from carol\"}",
	    "cm-1", 1, 0), 0);
	ck_assert_int_eq(wkc_expect(c, WKPROTO_SENDACK, &p, 5000), 0);
	ck_assert_int_eq(p.sendack.reason_code, 1);
	m = sdk_wait_line(a, "message", 1, 10000);
	check_message(a, m, "carol", "carol", 1, "from carol");
	sdk_cmd(a, "send carol 1 to carol");
	ck_assert_int_eq(wkc_expect(c, WKPROTO_RECV, &p, 10000), 0);
	ck_assert_int_gt(wkc_open_recv(c, &p.recv, text, sizeof text), 0);
	ck_assert_str_eq(text, "{\"type\":1,\"content\":\"to carol\"}");
	wkc_close(c);
	sdk_stop(a);
}
END_TEST

/* (3) A stream to an easy client: the anchor as a recv, each event from
 * /message/event as an "event" notification (it speaks version 5). */
START_TEST(test_easy_stream_events)
{
	struct sdk *a = easy_login("alice");
	json_t *e;

	/* base64 of {"type":1,"content":""} */
	sdk_post("/message/send", "{\"from_uid\":\"bot\",\"channel_id\":\"alice\",\"channel_type\":1,"
	    "\"payload\":\"eyJ0eXBlIjoxLCJjb250ZW50IjoiIn0=\",\"client_msg_no\":\"ai-1\",\"is_stream\":1}");
	sdk_wait_line(a, "message", 1, 10000);
	sdk_post("/message/event", "{\"from_uid\":\"bot\",\"channel_id\":\"alice\",\"channel_type\":1,"
	    "\"client_msg_no\":\"ai-1\",\"event_id\":\"d0\",\"event_type\":\"stream.delta\","
	    "\"payload\":{\"kind\":\"text\",\"delta\":\"Hel\"}}");
	e = sdk_wait_line(a, "event", 1, 10000);
	ck_assert_msg(strcmp(jpstr(e, "params.id"), "d0") == 0 &&
	    strcmp(jpstr(e, "params.type"), "stream.delta") == 0 &&
	    strstr(jpstr(e, "params.data"), "Hel") != NULL && jpint(e, "params.timestamp") > 0,
	    "event%s", sdk_why(a));
	sdk_stop(a);
}
END_TEST

/* (4) Refusals: a wrong token gets an error response (code 2) and Close
 * 1008; a first message that is not JSON an error (-32700) and 1002; a
 * send before connect an error and 1008; an unknown method after connect
 * an error (-32601) and 1002.  A connected client is not disturbed. */
START_TEST(test_easy_refusals)
{
	struct sdk *a = easy_login("alice");
	json_t *r;

	struct sdk *w = easy("alice", "wrong", NULL);
	r = sdk_wait_line(w, "connect_error", 1, 10000);
	ck_assert_msg(jpint(r, "error.code") == 2, "wrong token%s", sdk_why(w));
	r = sdk_wait_line(w, "closed", 1, 5000);
	ck_assert_msg(jpint(r, "code") == 1008, "wrong token close%s", sdk_why(w));

	struct sdk *g = easy("garbage", "x", "--no-connect");
	sdk_wait_line(g, "open", 1, 10000);
	sdk_cmd(g, "raw not json {{");
	r = sdk_wait_line(g, "response", 1, 5000);
	ck_assert_msg(jpint(r, "msg.error.code") == -32700 && json_is_null(jpath(r, "msg.id")),
	    "garbage%s", sdk_why(g));
	r = sdk_wait_line(g, "closed", 1, 5000);
	ck_assert_msg(jpint(r, "code") == 1002, "garbage close%s", sdk_why(g));

	struct sdk *s = easy("early", "x", "--no-connect");
	sdk_wait_line(s, "open", 1, 10000);
	sdk_cmd(s, "raw {\"method\":\"send\",\"id\":\"s1\",\"params\":{\"channelId\":\"alice\","
	    "\"channelType\":1,\"payload\":\"e30=\"}}");
	r = sdk_wait_line(s, "response", 1, 5000);
	ck_assert_msg(jpint(r, "msg.error.code") == -32600 && strcmp(jpstr(r, "msg.id"), "s1") == 0,
	    "send first%s", sdk_why(s));
	r = sdk_wait_line(s, "closed", 1, 5000);
	ck_assert_msg(jpint(r, "code") == 1008, "send first close%s", sdk_why(s));

	struct sdk *u = easy_login("ursula");
	sdk_cmd(u, "raw {\"method\":\"subscribe\",\"id\":\"x1\",\"params\":{}}");
	r = sdk_wait_line(u, "response", 1, 5000);
	ck_assert_msg(jpint(r, "msg.error.code") == -32601 && strcmp(jpstr(r, "msg.id"), "x1") == 0,
	    "subscribe%s", sdk_why(u));
	r = sdk_wait_line(u, "closed", 1, 5000);
	ck_assert_msg(jpint(r, "code") == 1002, "subscribe close%s", sdk_why(u));
	ck_assert_int_eq(sdk_wait_online("ursula", 1, 0, 2000), 0);

	/* alice was never disturbed. */
	sdk_cmd(a, "ping");
	sdk_wait_line(a, "pong", 1, 5000);
	ck_assert_msg(sdk_line(a, "closed") == NULL, "alice closed%s", sdk_why(a));
	ck_assert_int_eq(sdk_online("alice", 1), 1);
	/* A clean close from the client: offline at once. */
	sdk_cmd(a, "close 1000");
	r = sdk_wait_line(a, "closed", 1, 5000);
	ck_assert_int_eq(jpint(r, "code"), 1000);
	ck_assert_int_eq(sdk_wait_online("alice", 1, 0, 300), 0);
	sdk_stop(a);
	sdk_stop(w);
	sdk_stop(g);
	sdk_stop(s);
	sdk_stop(u);
}
END_TEST

static void
add_tests(TCase *tc)
{
	tcase_add_test(tc, test_easy_chat);
	tcase_add_test(tc, test_easy_and_binary_client);
	tcase_add_test(tc, test_easy_stream_events);
	tcase_add_test(tc, test_easy_refusals);
}

int
main(void)
{
	return sdk_main("easy", add_tests);
}
