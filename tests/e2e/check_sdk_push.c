/* check_sdk_push.c - end-to-end tests with the official WuKongIM JS SDK
 * (sdk_driver.c) against the real tree over WebSocket, messages a business
 * server pushes through the HTTP API: a cmd message (channelUpdate) to the
 * SDK's CMD listener online and through /message/sync offline, and a
 * stream message in pieces, as the SDK's version-2 stream RECVs (never an
 * EVENT). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "wk_crypto.h"
#include "wktest.h"
#include "sdk_driver.h"

/* /message/sync for uid: the answer, parsed. */
static json_t *
cmd_sync(const char *uid)
{
	char body[128];

	snprintf(body, sizeof body, "{\"uid\":\"%s\",\"limit\":100}", uid);
	return wkt_call(&sdk_tree, "POST", "/message/sync", body, 200);
}

/* (7) The pattern cmd messages exist for: a business server bans a group
 * and sends a cmd message so that every member re-fetches the channel.
 * The online member's SDK gets it through its CMD listener, and its
 * RECVACK empties the mailbox; the offline member gets it from
 * /message/sync after reconnecting, exactly once, although a thousand chat
 * messages were sent to the group in between. */
START_TEST(test_sdk_cmd_channel_update)
{
	static const char cmd[] = "{\"type\":99,\"cmd\":\"channelUpdate\","
	    "\"param\":{\"channel_id\":\"g-cmd\",\"channel_type\":2}}";
	char b64[256], body[512];
	json_t *l;
	uint64_t end;

	sdk_set_token("c-on", "tok-on", 1, 1);
	sdk_set_token("c-off", "tok-off", 1, 1);
	sdk_post("/channel", "{\"channel_id\":\"g-cmd\",\"channel_type\":2,"
	    "\"subscribers\":[\"c-on\",\"c-off\"]}");
	struct sdk *on = sdk_start("c-on", "c-on", "tok-on", 1, 500, NULL);
	sdk_expect_status(on, 1, 1, 1, 15000);
	sdk_post("/channel/info", "{\"channel_id\":\"g-cmd\",\"channel_type\":2,\"ban\":1}");
	b64[wk_b64_encode(cmd, strlen(cmd), b64)] = '\0';
	snprintf(body, sizeof body, "{\"channel_id\":\"g-cmd\",\"channel_type\":2,"
	    "\"header\":{\"sync_once\":1},\"payload\":\"%s\"}", b64);
	sdk_post("/message/send", body);
	ck_assert_msg(SDK_WAIT_FOR(on->ncmds >= 1, 10000) && strcmp(on->cmds[0], "channelUpdate") == 0 &&
	    strcmp(on->cmd_channels[0], "g-cmd") == 0, "CMD listener: %d calls%s", on->ncmds, sdk_why(on));
	ck_assert_msg(on->nrecv == 0, "the cmd message reached the message listener%s", sdk_why(on));
	/* The SDK's RECVACK (a master device) acknowledged it in the mailbox. */
	for (end = wkt_now_ms() + 10000;; sdk_pump(50)) {
		l = cmd_sync("c-on");
		size_t n = json_array_size(l);
		json_decref(l);
		if (n == 0)
			break;
		ck_assert_msg(wkt_now_ms() < end, "c-on's mailbox still holds %zu%s", n, sdk_why(on));
	}
	sdk_stop(on);
	/* A thousand chat messages later, the offline member connects. */
	sdk_post("/channel/info", "{\"channel_id\":\"g-cmd\",\"channel_type\":2,\"ban\":0}");
	for (int i = 0; i < 1000; i++) {
		char chat[64], p64[128];
		snprintf(chat, sizeof chat, "{\"type\":1,\"content\":\"chat %d\"}", i);
		p64[wk_b64_encode(chat, strlen(chat), p64)] = '\0';
		snprintf(body, sizeof body, "{\"from_uid\":\"c-on\",\"channel_id\":\"g-cmd\","
		    "\"channel_type\":2,\"payload\":\"%s\"}", p64);
		sdk_post("/message/send", body);
	}
	struct sdk *off = sdk_start("c-off", "c-off", "tok-off", 1, 500, NULL);
	sdk_expect_status(off, 1, 1, 1, 15000);
	l = cmd_sync("c-off");
	ck_assert_msg(json_array_size(l) == 1, "c-off: %zu cmd messages", json_array_size(l));
	json_t *m = json_array_get(l, 0);
	const char *pl = json_string_value(json_object_get(m, "payload"));
	ck_assert_ptr_nonnull(pl);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(m, "header"), "sync_once")), 1);
	ck_assert_str_eq(json_string_value(json_object_get(m, "channel_id")), "g-cmd");
	char text[256];
	ssize_t tn = wk_b64_decode(pl, strlen(pl), (uint8_t *)text, sizeof text - 1);
	ck_assert(tn > 0);
	text[tn] = '\0';
	ck_assert_str_eq(text, cmd);
	snprintf(body, sizeof body, "{\"uid\":\"c-off\",\"last_message_seq\":%lld}",
	    (long long)json_integer_value(json_object_get(m, "message_seq")));
	json_decref(l);
	sdk_post("/message/syncack", body);
	l = cmd_sync("c-off");
	ck_assert_uint_eq(json_array_size(l), 0);
	json_decref(l);
	/* Nothing came to it as a RECV after connecting: it was offline. */
	sdk_pump(300);
	ck_assert_msg(off->ncmds == 0, "c-off got %d cmd RECVs%s", off->ncmds, sdk_why(off));
	sdk_stop(off);
}
END_TEST

/* (8) A stream message (an AI reply in pieces) to a user of the SDK, which
 * speaks protocol version 2: an anchor from /message/send is_stream, text
 * deltas from /message/event, then its end.  The SDK's message listener
 * sees the anchor as the stream's start (streamNo, flag 0), each piece in
 * order (flag 1, streamSeq 1, 2, ...) with its text, then the end (flag 2);
 * the server never sent it an EVENT packet (which it cannot decode), so it
 * stayed on its one connection without an error. */
START_TEST(test_sdk_stream)
{
	static const char *const pieces[] = { "Stre", "aming ", "reply ✓" };
	char body[512], *p;
	json_t *j;

	sdk_set_token("s-user", "tok-s", 1, 0);
	struct sdk *u = sdk_start("s-user", "s-user", "tok-s", 1, 500, NULL);
	sdk_expect_status(u, 1, 1, 1, 15000);
	p = malloc(WK_B64_ENCODED_LEN(64) + 1);
	p[wk_b64_encode("{\"type\":1,\"content\":\"\"}", 23, p)] = '\0';
	snprintf(body, sizeof body, "{\"from_uid\":\"s-bot\",\"channel_id\":\"s-user\","
	    "\"channel_type\":1,\"payload\":\"%s\",\"client_msg_no\":\"ai-1\",\"is_stream\":1}", p);
	free(p);
	sdk_post("/message/send", body);
	for (int i = 0; i < 3; i++) {
		snprintf(body, sizeof body, "{\"from_uid\":\"s-bot\",\"channel_id\":\"s-user\","
		    "\"channel_type\":1,\"client_msg_no\":\"ai-1\",\"event_id\":\"d%d\","
		    "\"event_type\":\"stream.delta\",\"payload\":{\"kind\":\"text\",\"delta\":\"%s\"}}",
		    i, pieces[i]);
		sdk_post("/message/event", body);
	}
	sdk_post("/message/event", "{\"from_uid\":\"s-bot\",\"channel_id\":\"s-user\",\"channel_type\":1,"
	    "\"client_msg_no\":\"ai-1\",\"event_id\":\"end\",\"event_type\":\"stream.close\"}");
	for (int n = 1; n <= 5; n++) {
		const struct sdk_msg *m = sdk_recv(u, n, 10000);
		const char *want = n == 1 || n == 5 ? "" : pieces[n - 2];
		int flag = n == 1 ? 0 : n == 5 ? 2 : 1;
		ck_assert_msg(strcmp(m->stream_no, "ai-1") == 0 && m->stream_flag == flag &&
		    m->stream_seq == n - 1 && strcmp(m->text, want) == 0 &&
		    strcmp(m->client_msg_no, "ai-1") == 0 && strcmp(m->from, "s-bot") == 0 &&
		    strcmp(m->channel, "s-bot") == 0 && m->seq == 1,
		    "message %d: stream %s flag %d seq %lld text \"%s\", want flag %d seq %d \"%s\"%s",
		    n, m->stream_no, m->stream_flag, m->stream_seq, m->text, flag, n - 1, want, sdk_why(u));
	}
	ck_assert_msg(u->rx_events == 0, "the SDK was sent %d EVENT packets%s", u->rx_events, sdk_why(u));
	ck_assert_msg(u->nstatus == 1 && u->ws_new == 1 && u->ws_close == 0 && u->rx_multi == 0,
	    "the SDK did not stay on its connection%s", sdk_why(u));
	/* It can read the whole text afterwards, as a client that reconnects. */
	j = wkt_call(&sdk_tree, "POST", "/channel/messagesync", "{\"login_uid\":\"s-user\","
	    "\"channel_id\":\"s-bot\",\"channel_type\":1,\"limit\":5}", 200);
	p = malloc(64);
	p[wk_b64_encode("Streaming reply \xe2\x9c\x93", 19, p)] = '\0';
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(j,
	    "messages"), 0), "stream_data")), p);
	free(p);
	json_decref(j);
	sdk_stop(u);
}
END_TEST

static void
add_tests(TCase *tc)
{
	tcase_add_test(tc, test_sdk_cmd_channel_update);
	tcase_add_test(tc, test_sdk_stream);
}

int
main(void)
{
	return sdk_main("sdk_push", add_tests);
}
