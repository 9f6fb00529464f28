/* check_stream.c - stream messages against the real tree (semantics.md
 * §13, wkproto(7), wk-channel(8)): an anchor from /message/send is_stream,
 * events from /message/event, each request on its own HTTP connection; a
 * version-5 client gets every event as an EVENT in order and the end; a
 * version-2 and a version-4 client get the anchor as the stream's start
 * and every piece as a stream RECV in their own form (never an EVENT), a
 * version-1 client gets the anchor only; duplicate event_ids are ignored,
 * deltas after the end refused; a client that comes later gets the whole
 * text from /channel/messagesync, the conversation's recents and
 * /message/eventsync.  Also: SENDs with
 * a stream number from version-2 and version-4 clients, streams of a group
 * interleaved, the idle timeout, kill -9 of the channel shards mid-stream,
 * and the malformed request bodies. */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "wk_crypto.h"
#include "wkclient.h"
#include "wktest.h"
#include "wkt_stream.h"

static struct wkt_tree tree;

static void setup(void) { wkt_tree_start(&tree, "tokenAuthOn: false\n"); }
static void
setup_timeout(void)
{
	wkt_tree_start(&tree, "tokenAuthOn: false\nstream:\n  timeout: 1s\n");
}
static void teardown(void) { wkt_tree_stop(&tree); }

static struct wkc *
login(const char *uid, const char *device, int version)
{
	struct wkc *c = wkc_login("127.0.0.1", tree.tcp_port, uid, device, version);

	ck_assert_msg(c != NULL, "%s/%s cannot log in", uid, device);
	return c;
}

static char *
b64(const char *s)
{
	char *out = malloc(WK_B64_ENCODED_LEN(strlen(s)) + 1);

	out[wk_b64_encode(s, strlen(s), out)] = '\0';
	return out;
}

/* The end of master.log (the daemons' logs), for a failure's message. */
static const char *
log_tail(void)
{
	static char buf[3200];
	char path[512], *all;
	size_t n;

	snprintf(path, sizeof path, "%s/master.log", tree.dir);
	all = wkt_read_file(path);
	n = all ? strlen(all) : 0;
	snprintf(buf, sizeof buf, "\n--- master.log (tail):\n%s",
	    all ? all + (n > 3000 ? n - 3000 : 0) : "");
	free(all);
	return buf;
}

/* The library's expectations (wkt_stream.h), with this tree's log tail. */
static struct wkproto_packet
next(struct wkc *c, int type)
{
	return wkt_next(c, type, log_tail);
}

static json_t *
expect_event(struct wkc *c, const char *type, const char *id)
{
	return wkt_expect_event(c, type, id, log_tail);
}

static struct wkproto_packet
expect_piece(struct wkc *c, int flag, uint32_t seq, const char *stream_no, const char *content)
{
	return wkt_expect_piece(c, flag, seq, stream_no, content, log_tail);
}

/* POST /message/event; the answer's status must be `status`. */
static json_t *
event(const char *from, const char *to, int type, const char *cmn, const char *id,
    const char *etype, const char *extra, long status)
{
	char body[2048];

	snprintf(body, sizeof body, "{\"from_uid\":\"%s\",\"channel_id\":\"%s\",\"channel_type\":%d,"
	    "\"client_msg_no\":\"%s\",\"event_id\":\"%s\",\"event_type\":\"%s\"%s%s}", from, to, type,
	    cmn, id, etype, extra ? "," : "", extra ? extra : "");
	return wkt_call(&tree, "POST", "/message/event", body, status);
}

/* A delta; the answer must be OK+data with the lane open. */
static void
delta(const char *from, const char *to, int type, const char *cmn, const char *id,
    const char *text)
{
	char extra[1024];
	json_t *j, *d;

	snprintf(extra, sizeof extra, "\"payload\":{\"kind\":\"text\",\"delta\":\"%s\"}", text);
	j = event(from, to, type, cmn, id, "stream.delta", extra, 200);
	d = json_object_get(j, "data");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "status")), 200);
	ck_assert_str_eq(json_string_value(json_object_get(d, "event_id")), id);
	ck_assert_str_eq(json_string_value(json_object_get(d, "event_key")), "main");
	ck_assert_str_eq(json_string_value(json_object_get(d, "stream_status")), "open");
	ck_assert_str_eq(json_string_value(json_object_get(d, "client_msg_no")), cmn);
	json_decref(j);
}

/* POST /message/send is_stream: the anchor's message id. */
static int64_t
anchor(const char *from, const char *to, int type, const char *cmn, const char *content)
{
	char body[1024], text[256], *p;
	json_t *j;
	int64_t id;

	snprintf(text, sizeof text, "{\"type\":1,\"content\":\"%s\"}", content);
	p = b64(text);
	snprintf(body, sizeof body, "{\"from_uid\":\"%s\",\"channel_id\":\"%s\",\"channel_type\":%d,"
	    "\"payload\":\"%s\",\"client_msg_no\":\"%s\",\"is_stream\":1}", from, to, type, p, cmn);
	free(p);
	j = wkt_call(&tree, "POST", "/message/send", body, 200);
	id = json_integer_value(json_object_get(json_object_get(j, "data"), "message_id"));
	ck_assert(id > 0);
	json_decref(j);
	return id;
}

/* A plain message from the system to uid, and the next packet of each of
 * uid's connections given (NULL-terminated) must be it: nothing else was
 * queued for them before it. */
static void
marker(const char *uid, const char *text, ...)
{
	char body[512], *p = b64(text), got[256];
	struct wkproto_packet pk;
	struct wkc *c;
	va_list ap;

	snprintf(body, sizeof body, "{\"channel_id\":\"%s\",\"channel_type\":1,\"payload\":\"%s\"}",
	    uid, p);
	free(p);
	json_decref(wkt_call(&tree, "POST", "/message/send", body, 200));
	va_start(ap, text);
	while ((c = va_arg(ap, struct wkc *)) != NULL) {
		pk = next(c, WKPROTO_RECV);
		ck_assert_msg(!(pk.recv.setting & (WKPROTO_SETTING_STREAM | WKPROTO_SETTING_STREAM_SDK)),
		    "the marker came as a stream message");
		ck_assert_int_ge(wkc_open_recv(c, &pk.recv, got, sizeof got), 0);
		ck_assert_str_eq(got, text);
	}
	va_end(ap);
}

/* The stream message of a sync answer (the only one). */
static json_t *
synced(const char *login_uid, const char *channel, int type)
{
	char body[512];
	json_t *j, *m;

	snprintf(body, sizeof body, "{\"login_uid\":\"%s\",\"channel_id\":\"%s\",\"channel_type\":%d,"
	    "\"limit\":10}", login_uid, channel, type);
	j = wkt_call(&tree, "POST", "/channel/messagesync", body, 200);
	for (size_t i = 0; i < json_array_size(json_object_get(j, "messages")); i++) {
		m = json_array_get(json_object_get(j, "messages"), i);
		if (json_integer_value(json_object_get(m, "setting")) & WKPROTO_SETTING_STREAM) {
			json_incref(m);
			json_decref(j);
			return m;
		}
	}
	ck_abort_msg("no stream message in %s", body);
	return NULL;
}

/* Its stream_data decoded. */
static char *
stream_text(json_t *m)
{
	const char *s = json_string_value(json_object_get(m, "stream_data"));
	char *out;
	ssize_t n;

	ck_assert_msg(s != NULL, "no stream_data");
	out = malloc(WK_B64_DECODED_MAX(strlen(s)) + 1);
	n = wk_b64_decode(s, strlen(s), (uint8_t *)out, WK_B64_DECODED_MAX(strlen(s)) + 1);
	ck_assert(n >= 0);
	out[n] = '\0';
	return out;
}

START_TEST(test_stream_every_version)
{
	static const char *const pieces[] = { "Hel", "lo, ", "wor", "ld" };
	struct wkc *c5 = login("sa", "d5", 5), *c4 = login("sa", "d4", 4);
	struct wkc *c2 = login("sa", "d2", 2), *c1 = login("sa", "d1", 1);
	struct wkproto_packet pk;
	int64_t id = anchor("sbot", "sa", 1, "st1", "");
	char eid[16];
	json_t *d, *j, *m, *w;
	char *text;

	/* The anchor: a message to everyone, the stream's start below v5. */
	pk = next(c5, WKPROTO_RECV);
	ck_assert_int_eq(pk.recv.message_id, id);
	ck_assert(pk.recv.setting & WKPROTO_SETTING_STREAM);
	expect_piece(c4, 0, 0, "st1", "");
	expect_piece(c2, 0, 0, "st1", "");
	pk = next(c1, WKPROTO_RECV);
	ck_assert_int_eq(pk.recv.message_id, id);
	/* Pieces, each through its own HTTP connection, in order. */
	for (int i = 0; i < 4; i++) {
		snprintf(eid, sizeof eid, "e%d", i + 1);
		delta("sbot", "sa", 1, "st1", eid, pieces[i]);
	}
	for (int i = 0; i < 4; i++) {
		snprintf(eid, sizeof eid, "e%d", i + 1);
		d = expect_event(c5, "stream.delta", eid);
		w = json_pack("{s:s,s:s,s:i,s:s,s:I,s:s,s:i,s:s,s:{s:s,s:s}}", "client_msg_no", "st1",
		    "channel_id", "sa", "channel_type", 1, "from_uid", "sbot", "message_id",
		    (json_int_t)id, "event_key", "main", "msg_event_seq", 0, "stream_status", "open",
		    "payload", "kind", "text", "delta", pieces[i]);
		text = json_dumps(d, JSON_COMPACT);
		ck_assert_msg(json_equal(d, w), "EVENT data %s", text);
		free(text);
		json_decref(w);
		json_decref(d);
		pk = expect_piece(c4, 1, (uint32_t)i + 1, "st1", pieces[i]);
		ck_assert_int_eq(pk.recv.message_id, id);
		expect_piece(c2, 1, (uint32_t)i + 1, "st1", pieces[i]);
	}
	/* A repeated event_id: the answer, and nothing sent. */
	delta("sbot", "sa", 1, "st1", "e2", "lo, ");
	delta("sbot", "sa", 1, "st1", "e5", "!");
	json_decref(expect_event(c5, "stream.delta", "e5"));
	expect_piece(c4, 1, 5, "st1", "!");
	expect_piece(c2, 1, 5, "st1", "!");
	/* The end. */
	j = event("sbot", "sa", 1, "st1", "e6", "stream.close", NULL, 200);
	w = json_pack("{s:i,s:{s:s,s:s,s:s,s:i,s:s,s:s,s:i,s:s}}", "status", 200, "data",
	    "client_msg_no", "st1", "event_key", "main", "event_id", "e6", "msg_event_seq", 1,
	    "stream_status", "closed", "channel_id", "sa", "channel_type", 1, "from_uid", "sbot");
	ck_assert(json_equal(j, w));
	json_decref(w);
	json_decref(j);
	d = expect_event(c5, "stream.close", "e6");
	ck_assert_str_eq(json_string_value(json_object_get(d, "stream_status")), "closed");
	ck_assert_int_eq(json_integer_value(json_object_get(d, "msg_event_seq")), 1);
	json_decref(d);
	expect_piece(c4, 2, 6, "st1", "");
	expect_piece(c2, 2, 6, "st1", "");
	/* After the end: deltas refused; a repeated close ignored. */
	wkt_expect_400(&tree, "POST", "/message/event", "{\"from_uid\":\"sbot\",\"channel_id\":\"sa\","
	    "\"channel_type\":1,\"client_msg_no\":\"st1\",\"event_id\":\"e7\","
	    "\"event_type\":\"stream.delta\",\"payload\":{\"kind\":\"text\",\"delta\":\"late\"}}",
	    "stream already ended");
	json_decref(event("sbot", "sa", 1, "st1", "e8", "stream.close", NULL, 200));
	/* Nothing else reached anyone: the next packet is a plain message. */
	marker("sa", "after the end", c5, c4, c2, c1, NULL);
	/* A client that comes now reads the whole text from the history. */
	m = synced("sa", "sbot", 1);
	text = stream_text(m);
	ck_assert_str_eq(text, "Hello, world!");
	free(text);
	ck_assert_int_eq(json_integer_value(json_object_get(m, "end")), 1);
	ck_assert_ptr_null(json_object_get(m, "end_reason"));
	w = json_pack("{s:b,s:b,s:i,s:i,s:i,s:i,s:[{s:s,s:s,s:i,s:i,s:{s:s,s:s}}]}",
	    "has_events", 1, "completed", 0, "event_version", 1, "last_msg_event_seq", 1,
	    "event_count", 1, "open_event_count", 0, "events", "event_key", "main",
	    "status", "closed", "last_msg_event_seq", 1, "end_reason", 0, "snapshot",
	    "kind", "text", "text", "Hello, world!");
	text = json_dumps(json_object_get(m, "event_meta"), JSON_COMPACT);
	ck_assert_msg(json_equal(json_object_get(m, "event_meta"), w), "event_meta %s", text);
	free(text);
	json_decref(w);
	json_decref(m);
	/* The conversation's recents carry the same. */
	j = wkt_call(&tree, "POST", "/conversation/sync", "{\"uid\":\"sa\",\"msg_count\":1}", 200);
	m = NULL;
	for (size_t i = 0; i < json_array_size(j); i++)
		if (strcmp(json_string_value(json_object_get(json_array_get(j, i), "channel_id")),
		    "sbot") == 0)
			m = json_array_get(json_object_get(json_array_get(j, i), "recents"), 0);
	ck_assert_msg(m != NULL, "no conversation with sbot");
	text = stream_text(m);
	ck_assert_str_eq(text, "Hello, world!");
	free(text);
	ck_assert_int_eq(json_integer_value(json_object_get(m, "end")), 1);
	json_decref(j);
	j = wkt_call(&tree, "POST", "/message/eventsync", "{\"channel_id\":\"sa\",\"channel_type\":1,"
	    "\"from_uid\":\"sbot\",\"client_msg_no\":\"st1\"}", 200);
	d = json_object_get(j, "data");
	ck_assert_int_eq(json_integer_value(json_object_get(d, "next_msg_event_seq")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(d, "more")), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(d, "events")), 1);
	m = json_array_get(json_object_get(d, "events"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(m, "event_type")), "stream.close");
	ck_assert_str_eq(json_string_value(json_object_get(m, "event_id")), "e6");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(json_object_get(m,
	    "payload"), "snapshot"), "text")), "Hello, world!");
	json_decref(j);
	wkc_close(c1);
	wkc_close(c2);
	wkc_close(c4);
	wkc_close(c5);
}
END_TEST

/* SENDs with a stream number: a version-2 client (the npm SDK's form) and a
 * version-4 client (the reference's form) stream to a user whose v5 and v2
 * devices each get it in their own form.  A piece's text is its payload's
 * content, escapes and all, or a payload that is not JSON as it is. */
START_TEST(test_stream_client_sends)
{
	struct wkc *s2 = login("ca", "a2", 2), *s4 = login("cc", "c4", 4);
	struct wkc *r5 = login("cb", "b5", 5), *r2 = login("cb", "b2", 2);
	static const char *const pieces[] = { "one ", "tw\"o\n", "three" };
	static const char *const sent[] = { "one ", "tw\\\"o\\n", "three" };   /* as JSON */
	struct wkproto_packet pk;
	char payload[128], cmn[16];
	int64_t id = 0;
	json_t *m;
	char *text;

	for (int i = 0; i < 3; i++) {
		snprintf(payload, sizeof payload, "{\"type\":1,\"content\":\"%s\"}", sent[i]);
		snprintf(cmn, sizeof cmn, "p%d", i);
		ck_assert_int_eq(wkc_send_stream(s2, "cb", 1, payload, cmn, (uint32_t)i + 1, "n1"), 0);
		pk = next(s2, WKPROTO_SENDACK);
		ck_assert_int_eq(pk.sendack.reason_code, 1);
		ck_assert_uint_eq(pk.sendack.message_seq, 1);        /* the anchor's */
		if (i == 0)
			id = pk.sendack.message_id;
		ck_assert_int_eq(pk.sendack.message_id, id);
	}
	/* v5: the anchor (the first SEND), then EVENTs. */
	pk = next(r5, WKPROTO_RECV);
	ck_assert_int_eq(pk.recv.message_id, id);
	ck_assert(pk.recv.setting & WKPROTO_SETTING_STREAM);
	json_decref(expect_event(r5, "stream.delta", "p1"));
	json_decref(expect_event(r5, "stream.delta", "p2"));
	/* v2: start, pieces. */
	expect_piece(r2, 0, 0, "n1", pieces[0]);
	expect_piece(r2, 1, 1, "n1", pieces[1]);
	expect_piece(r2, 1, 2, "n1", pieces[2]);
	/* The business server ends it by stream number. */
	json_decref(event("ca", "cb", 1, "n1", "end", "stream.finish", NULL, 200));
	json_decref(expect_event(r5, "stream.finish", "end"));
	expect_piece(r2, 2, 3, "n1", "");
	expect_piece(s2, 2, 3, "n1", "");   /* the sender is in the chat too */
	m = synced("cb", "ca", 1);
	text = stream_text(m);
	ck_assert_str_eq(text, "one tw\"o\nthree");
	free(text);
	ck_assert(json_is_true(json_object_get(json_object_get(m, "event_meta"), "completed")));
	json_decref(m);
	/* The same number again: a new stream. */
	ck_assert_int_eq(wkc_send_stream(s2, "cb", 1, "{\"type\":1,\"content\":\"again\"}", "p9",
	    9, "n1"), 0);
	pk = next(s2, WKPROTO_SENDACK);
	ck_assert_uint_eq(pk.sendack.message_seq, 2);
	expect_piece(r2, 0, 0, "n1", "again");
	/* The version-4 form. */
	ck_assert_int_eq(wkc_send_stream(s4, "cb", 1, "{\"type\":1,\"content\":\"x\"}", "q1", 1, "n4"), 0);
	ck_assert_int_eq(wkc_send_stream(s4, "cb", 1, "y", "q2", 2, "n4"), 0);
	ck_assert_int_eq(next(s4, WKPROTO_SENDACK).sendack.reason_code, 1);
	ck_assert_int_eq(next(s4, WKPROTO_SENDACK).sendack.reason_code, 1);
	expect_piece(r2, 0, 0, "n4", "x");
	expect_piece(r2, 1, 1, "n4", "y");
	wkc_close(s2);
	wkc_close(s4);
	wkc_close(r5);
	wkc_close(r2);
}
END_TEST

/* Three streams in a group, their events interleaved: each member's
 * connection sees each stream's pieces in the order appended. */
START_TEST(test_stream_group_interleaved)
{
	struct wkc *g5 = login("gm1", "d", 5), *g2 = login("gm2", "d", 2);
	char cmn[16], eid[32], piece[16];
	uint32_t got2[3] = { 0 };
	int got5[3] = { 0 };

	json_decref(wkt_call(&tree, "POST", "/channel", "{\"channel_id\":\"sg\",\"channel_type\":2,"
	    "\"subscribers\":[\"gm1\",\"gm2\"]}", 200));
	for (int s = 0; s < 3; s++) {
		snprintf(cmn, sizeof cmn, "g%d", s);
		anchor("bot", "sg", 2, cmn, "");
		next(g5, WKPROTO_RECV);
		expect_piece(g2, 0, 0, cmn, "");
	}
	for (int i = 0; i < 10; i++)
		for (int s = 0; s < 3; s++) {
			snprintf(cmn, sizeof cmn, "g%d", s);
			snprintf(eid, sizeof eid, "g%d-%d", s, i);
			snprintf(piece, sizeof piece, "%d", i);
			delta("bot", "sg", 2, cmn, eid, piece);
		}
	for (int n = 0; n < 30; n++) {
		struct wkproto_packet pk = next(g5, WKPROTO_EVENT);
		json_t *d = json_loadb((const char *)pk.event.data.p, pk.event.data.len, 0, NULL);
		int s = json_string_value(json_object_get(d, "client_msg_no"))[1] - '0';
		snprintf(eid, sizeof eid, "g%d-%d", s, got5[s]++);
		ck_assert_int_eq(pk.event.id.len, strlen(eid));
		ck_assert_mem_eq(pk.event.id.p, eid, strlen(eid));
		json_decref(d);
	}
	for (int n = 0; n < 30; n++) {
		struct wkproto_packet pk = next(g2, WKPROTO_RECV);
		char text[256];
		int s = pk.recv.stream_no.p[1] - '0';
		ck_assert_uint_eq(pk.recv.stream_seq, ++got2[s]);
		ck_assert_int_ge(wkc_open_recv(g2, &pk.recv, text, sizeof text), 0);
		snprintf(piece, sizeof piece, "\"content\":\"%u\"", got2[s] - 1);
		ck_assert_msg(strstr(text, piece) != NULL, "%s, want %s", text, piece);
	}
	wkc_close(g5);
	wkc_close(g2);
}
END_TEST

/* The streams the channel shards hold, from `wkctl status -r`, once it is
 * `want` (or the timeout passed: then the last count). */
static int
streams_in_memory(int want, int timeout_ms)
{
	uint64_t end = wkt_now_ms() + (uint64_t)timeout_ms;
	char *wkctl = wkt_bin("wkctl");
	int total;

	do {
		char *out = NULL, *at;
		int n;
		total = 0;
		ck_assert_int_eq(wkt_run(&out, "%s -f %s status -r", wkctl, tree.config), 0);
		for (at = out; (at = strstr(at, " streams=")) != NULL; at++)
			if (sscanf(at, " streams=%d", &n) == 1)
				total += n;
		free(out);
		if (total == want)
			break;
		wkt_tick();
	} while (wkt_now_ms() < end);
	free(wkctl);
	return total;
}

/* A stream left open past stream.timeout ends with an error; it is
 * refused more deltas and its memory is freed (wkctl status streams=0). */
START_TEST(test_stream_timeout)
{
	struct wkc *c5 = login("ta", "d5", 5), *c2 = login("ta", "d2", 2);
	json_t *d, *m;
	char *text;

	anchor("tbot", "ta", 1, "tt1", "");
	next(c5, WKPROTO_RECV);
	expect_piece(c2, 0, 0, "tt1", "");
	delta("tbot", "ta", 1, "tt1", "x1", "partial");
	json_decref(expect_event(c5, "stream.delta", "x1"));
	expect_piece(c2, 1, 1, "tt1", "partial");
	/* No more events: the server ends it (within the timeout and a tick). */
	d = expect_event(c5, "stream.error", "wk-timeout-1");
	ck_assert_str_eq(json_string_value(json_object_get(d, "stream_status")), "error");
	json_decref(d);
	expect_piece(c2, 2, 2, "tt1", "");
	m = synced("ta", "tbot", 1);
	text = stream_text(m);
	ck_assert_str_eq(text, "partial");
	free(text);
	ck_assert_int_eq(json_integer_value(json_object_get(m, "end")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(m, "end_reason")), 1);
	ck_assert_str_eq(json_string_value(json_object_get(m, "error")), "timeout");
	json_decref(m);
	wkt_expect_400(&tree, "POST", "/message/event", "{\"from_uid\":\"tbot\",\"channel_id\":\"ta\","
	    "\"channel_type\":1,\"client_msg_no\":\"tt1\",\"event_id\":\"x2\","
	    "\"event_type\":\"stream.delta\",\"payload\":{\"kind\":\"text\",\"delta\":\"late\"}}",
	    "stream already ended");
	/* Freed: no channel shard holds a stream any more. */
	ck_assert_msg(streams_in_memory(0, 5000) == 0, "streams still in memory");
	wkc_close(c5);
	wkc_close(c2);
}
END_TEST

/* kill -9 of the channel shards mid-stream: what a persisted event's
 * answer covered is kept, the stream stays open and goes on numbering its
 * pieces, and an event_id seen before the kill is still a repeat. */
START_TEST(test_stream_survives_kill9)
{
	struct wkc *c2 = login("ka", "d2", 2), *c5 = login("ka", "d5", 5);
	json_t *m;
	char *text;

	anchor("kbot", "ka", 1, "kk1", "");
	expect_piece(c2, 0, 0, "kk1", "");
	next(c5, WKPROTO_RECV);
	delta("kbot", "ka", 1, "kk1", "k1", "before ");
	expect_piece(c2, 1, 1, "kk1", "before ");
	json_decref(expect_event(c5, "stream.delta", "k1"));
	/* A delta is answered before it is saved; a persisted event is
	 * answered once it and everything before it are. */
	json_decref(event("kbot", "ka", 1, "kk1", "s1", "stream.snapshot",
	    "\"payload\":{\"kind\":\"text\",\"text\":\"before \"}", 200));
	expect_piece(c2, 1, 2, "kk1", "before ");
	json_decref(expect_event(c5, "stream.snapshot", "s1"));
	wkt_tree_kill9(&tree, "channel", 0);
	wkt_tree_kill9(&tree, "channel", 1);
	m = synced("ka", "kbot", 1);
	text = stream_text(m);
	ck_assert_str_eq(text, "before ");
	free(text);
	ck_assert_ptr_null(json_object_get(m, "end"));
	json_decref(m);
	delta("kbot", "ka", 1, "kk1", "k1", "before ");      /* seen before the kill */
	delta("kbot", "ka", 1, "kk1", "k2", "after");
	expect_piece(c2, 1, 3, "kk1", "after");
	json_decref(expect_event(c5, "stream.delta", "k2"));
	json_decref(event("kbot", "ka", 1, "kk1", "k3", "stream.close", NULL, 200));
	expect_piece(c2, 2, 4, "kk1", "");
	m = synced("ka", "kbot", 1);
	text = stream_text(m);
	ck_assert_str_eq(text, "before after");
	free(text);
	json_decref(m);
	wkc_close(c2);
	wkc_close(c5);
}
END_TEST

/* A stream in an agent channel through HTTP ("from@agent", as a client's
 * SEND makes it), and /channel/messagesync's event_summary_mode "basic":
 * the events without their snapshots, the stream's text still there. */
START_TEST(test_stream_agent_and_summary)
{
#define SUMMARY_SYNC(mode) "{\"login_uid\":\"au\",\"channel_id\":\"au@abot\"," \
	    "\"channel_type\":11,\"limit\":10,\"event_summary_mode\":\"" mode "\"}"
	char *text;
	json_t *j, *m, *e;

	anchor("au", "abot", 11, "ag1", "x");
	delta("au", "abot", 11, "ag1", "e1", "Hi");
	json_decref(event("au", "abot", 11, "ag1", "e2", "stream.close", NULL, 200));
	m = synced("au", "au@abot", 11);
	e = json_array_get(json_object_get(json_object_get(m, "event_meta"), "events"), 0);
	ck_assert_ptr_nonnull(json_object_get(e, "snapshot"));
	json_decref(m);
	j = wkt_call(&tree, "POST", "/channel/messagesync", SUMMARY_SYNC(" Basic "), 200);
	m = json_array_get(json_object_get(j, "messages"), 0);
	e = json_array_get(json_object_get(json_object_get(m, "event_meta"), "events"), 0);
	ck_assert_ptr_nonnull(e);
	ck_assert_ptr_null(json_object_get(e, "snapshot"));
	ck_assert_str_eq(json_string_value(json_object_get(e, "status")), "closed");
	text = stream_text(m);
	ck_assert_str_eq(text, "Hi");
	free(text);
	json_decref(j);
	j = wkt_call(&tree, "POST", "/channel/messagesync", SUMMARY_SYNC("full"), 200);
	m = json_array_get(json_object_get(j, "messages"), 0);
	e = json_array_get(json_object_get(json_object_get(m, "event_meta"), "events"), 0);
	ck_assert_ptr_nonnull(json_object_get(e, "snapshot"));
	json_decref(j);
	wkt_expect_400(&tree, "POST", "/channel/messagesync", "{\"login_uid\":\"au\",\"channel_id\":"
	    "\"a\",\"event_summary_mode\":1}", "json: cannot unmarshal number 1 into Go struct field "
	    ".event_summary_mode of type string");
}
END_TEST

static const struct { const char *path, *body, *msg; } bad[] = {
	{ "/message/event", "", "EOF" },
	{ "/message/event", "[]", "json: cannot unmarshal array into Go value of type api.eventAppendReq" },
	{ "/message/event", "{", "string or '}' expected near end of file" },
	{ "/message/event", "{}", "channel_id不能为空！" },
	{ "/message/event", "{\"channel_id\":\"a\",\"channel_type\":2}", "client_msg_no不能为空！" },
	{ "/message/event", "{\"channel_id\":\"a\",\"client_msg_no\":\"c\"}", "event_id不能为空！" },
	{ "/message/event", "{\"channel_id\":\"a\",\"client_msg_no\":\"c\",\"event_id\":\" \"}", "event_id不能为空！" },
	{ "/message/event", "{\"channel_id\":\"a\",\"client_msg_no\":\"c\",\"event_id\":\"e\"}", "event_type不能为空！" },
	{ "/message/event", "{\"channel_id\":1}", "json: cannot unmarshal number 1 into Go struct field eventAppendReq.channel_id of type string" },
	{ "/message/event", "{\"channel_id\":\"a\",\"channel_type\":256}", "json: cannot unmarshal number 256 into Go struct field eventAppendReq.channel_type of type uint8" },
	{ "/message/event", "{\"channel_id\":\"a\",\"channel_type\":-1}", "json: cannot unmarshal number -1 into Go struct field eventAppendReq.channel_type of type uint8" },
	{ "/message/event", "{\"channel_id\":\"a\",\"message_id\":\"1\"}", "json: cannot unmarshal string into Go struct field eventAppendReq.message_id of type int64" },
	{ "/message/event", "{\"channel_id\":\"a\",\"occurred_at\":1.5}", "json: cannot unmarshal number 1.5 into Go struct field eventAppendReq.occurred_at of type int64" },
	{ "/message/event", "{\"channel_id\":\"a\",\"event_type\":[]}", "json: cannot unmarshal array into Go struct field eventAppendReq.event_type of type string" },
	{ "/message/event", "{\"channel_id\":\"a\",\"headers\":[]}", "json: cannot unmarshal array into Go struct field eventAppendReq.headers of type map[string]string" },
	{ "/message/event", "{\"channel_id\":\"a\",\"headers\":{\"k\":1}}", "json: cannot unmarshal number 1 into Go struct field eventAppendReq.headers of type string" },
	{ "/message/eventsync", "", "EOF" },
	{ "/message/eventsync", "7", "json: cannot unmarshal number 7 into Go value of type api.eventSyncReq" },
	{ "/message/eventsync", "{}", "channel_id不能为空！" },
	{ "/message/eventsync", "{\"channel_id\":\"a\"}", "client_msg_no不能为空！" },
	{ "/message/eventsync", "{\"channel_id\":\"a\",\"client_msg_no\":\"c\",\"limit\":-1}", "limit不能为负数！" },
	{ "/message/eventsync", "{\"channel_id\":\"a\",\"client_msg_no\":\"c\",\"from_msg_event_seq\":-1}", "json: cannot unmarshal number -1 into Go struct field eventSyncReq.from_msg_event_seq of type uint64" },
	{ "/message/eventsync", "{\"channel_id\":\"a\",\"client_msg_no\":\"c\",\"include_private\":true}", "json: cannot unmarshal bool into Go struct field eventSyncReq.include_private of type uint8" },
};

START_TEST(test_stream_bad_requests)
{
	char big[1100 + 128];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		wkt_expect_400(&tree, "POST", bad[i].path, bad[i].body, bad[i].msg);
	/* Too long: an event id longer than the store takes. */
	snprintf(big, sizeof big, "{\"channel_id\":\"a\",\"channel_type\":2,\"client_msg_no\":\"c\","
	    "\"event_type\":\"stream.delta\",\"event_id\":\"%01100d\"}", 0);
	wkt_expect_400(&tree, "POST", "/message/event", big, "event_id is longer than 1024 bytes");
	/* No such stream: an empty answer, not an error. */
	wkt_expect(&tree, "POST", "/message/eventsync", "{\"channel_id\":\"nope\",\"channel_type\":2,"
	    "\"client_msg_no\":\"none\"}", 200, "{\"status\":200,\"data\":{\"client_msg_no\":\"none\","
	    "\"from_msg_event_seq\":0,\"next_msg_event_seq\":0,\"more\":0,\"events\":[],"
	    "\"filtered_by_event_key\":\"\"}}");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("stream");
	TCase *tc = tcase_create("stream"), *tt = tcase_create("timeout");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_stream_every_version);
	tcase_add_test(tc, test_stream_client_sends);
	tcase_add_test(tc, test_stream_group_interleaved);
	tcase_add_test(tc, test_stream_survives_kill9);
	tcase_add_test(tc, test_stream_bad_requests);
	tcase_add_test(tc, test_stream_agent_and_summary);
	suite_add_tcase(s, tc);
	tcase_set_timeout(tt, 60);
	tcase_add_checked_fixture(tt, setup_timeout, teardown);
	tcase_add_test(tt, test_stream_timeout);
	suite_add_tcase(s, tt);
	return wkt_run_suite(s);
}
