/* check_message.c - the message routes against the real tree: POST
 * /message/send answered after the commit (id, seq, client_msg_no, a
 * refusal's reason), delivered to a WKProto client byte for byte; every
 * pull mode and edge of /channel/messagesync; /channel/max_message_seq,
 * /channel/last_message, /messages, /message, /message/byclientmsgno and
 * /message/sendbatch; bad bodies answered 400 with the reference's words.
 * Every answer is parsed and compared whole.  See wk-api(8), wk-channel(8). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "wk_channelid.h"
#include "wkclient.h"
#include "wktest.h"

static struct wkt_tree tree;

static void setup(void) { wkt_tree_start(&tree, "tokenAuthOn: false\n"); }
static void teardown(void) { wkt_tree_stop(&tree); }

/* A request; the status must be `status`; the parsed body (caller frees). */
static json_t *
call(const char *method, const char *path, const char *body, long status)
{
	return wkt_call(&tree, method, path, body, status);
}

/* The body must equal `want` (JSON text). */
static void
expect(const char *method, const char *path, const char *body, long status, const char *want)
{
	wkt_expect(&tree, method, path, body, status, want);
}

static void
expect_400(const char *method, const char *path, const char *body, const char *msg)
{
	wkt_expect_400(&tree, method, path, body, msg);
}

static char *
b64(const void *p, size_t n)
{
	char *out = malloc(WK_B64_ENCODED_LEN(n) + 1);

	out[wk_b64_encode(p, n, out)] = '\0';
	return out;
}

/* A send's answer. */
struct sent {
	int64_t id;
	uint32_t seq;
	char cmn[128];
	int reason;
};

/* POST /message/send with `body`; checks the whole answer's shape. */
static struct sent
send_body(const char *body)
{
	json_t *j = call("POST", "/message/send", body, 200), *d = json_object_get(j, "data");
	struct sent s;
	char idstr[32];

	ck_assert_msg(json_is_object(d) && json_object_size(j) == 2 && json_object_size(d) == 5,
	    "send answer %s", body);
	s.id = json_integer_value(json_object_get(d, "message_id"));
	s.seq = (uint32_t)json_integer_value(json_object_get(d, "message_seq"));
	s.reason = (int)json_integer_value(json_object_get(d, "reason_code"));
	snprintf(s.cmn, sizeof s.cmn, "%s", json_string_value(json_object_get(d, "client_msg_no")));
	snprintf(idstr, sizeof idstr, "%lld", (long long)s.id);
	ck_assert_str_eq(json_string_value(json_object_get(d, "message_idstr")), idstr);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "status")),
	    s.reason == 1 ? 200 : s.reason);
	ck_assert(s.id > 0);
	json_decref(j);
	return s;
}

/* Send text from `from` ("" for the system) to (to, type) as client_msg_no cmn. */
static struct sent
send_text(const char *from, const char *to, int type, const char *text, const char *cmn,
    const char *header)
{
	char *p = b64(text, strlen(text)), body[2048];
	struct sent s;

	snprintf(body, sizeof body, "{\"from_uid\":\"%s\",\"channel_id\":\"%s\",\"channel_type\":%d,"
	    "\"payload\":\"%s\",\"client_msg_no\":\"%s\",\"header\":%s}", from, to, type, p, cmn,
	    header ? header : "{\"red_dot\":1}");
	free(p);
	s = send_body(body);
	ck_assert_int_eq(s.reason, 1);
	if (*cmn)
		ck_assert_str_eq(s.cmn, cmn);
	return s;
}

/* A MessageResp must be exactly these fields (timestamp: within a minute). */
static void
check_msg(json_t *m, struct sent s, const char *from, const char *chan, int type,
    const char *text, int red_dot)
{
	char idstr[32], *p = b64(text, strlen(text)), *gs;
	json_int_t ts = json_integer_value(json_object_get(m, "timestamp"));
	json_t *w;

	snprintf(idstr, sizeof idstr, "%lld", (long long)s.id);
	ck_assert_msg(ts > (json_int_t)time(NULL) - 60 && ts <= (json_int_t)time(NULL) + 1,
	    "timestamp %lld", (long long)ts);
	w = json_pack("{s:{s:i,s:i,s:i},s:i,s:I,s:s,s:s,s:I,s:s,s:s,s:i,s:i,s:I,s:s}",
	    "header", "no_persist", 0, "red_dot", red_dot, "sync_once", 0, "setting", 0,
	    "message_id", (json_int_t)s.id, "message_idstr", idstr, "client_msg_no", s.cmn,
	    "message_seq", (json_int_t)s.seq, "from_uid", from, "channel_id", chan,
	    "channel_type", type, "expire", 0, "timestamp", ts, "payload", p);
	gs = json_dumps(m, JSON_COMPACT);
	ck_assert_msg(json_equal(m, w), "message %s", gs);
	free(gs);
	free(p);
	json_decref(w);
}

static struct wkc *
login(const char *uid, const char *device)
{
	struct wkc *c = wkc_connect_tcp("127.0.0.1", tree.tcp_port);

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(wkc_handshake(c, uid, "", 5, 1, device, NULL), 1);
	return c;
}

static void
post_ok(const char *path, const char *body)
{
	expect("POST", path, body, 200, "{\"status\":200}");
}

START_TEST(test_message_send_delivers)
{
	static const unsigned char bytes[] = { 'h', 'i', 0, 0xff, 0x80, '\n', 0xe4, 0xbd, 0xa0 };
	struct wkc *b = login("mb", "b1"), *a = login("ma", "a1");
	char *p = b64(bytes, sizeof bytes), body[512], out[256];
	struct wkproto_packet pk;
	struct sent s, s2;
	ssize_t n;

	/* Person chat from ma: stored in the fake id, delivered to mb and to ma's device. */
	snprintf(body, sizeof body, "{\"from_uid\":\"ma\",\"channel_id\":\"mb\",\"channel_type\":1,"
	    "\"payload\":\"%s\",\"client_msg_no\":\"c1\",\"header\":{\"red_dot\":1},\"expire\":0}", p);
	s = send_body(body);
	ck_assert_int_eq(s.reason, 1);
	ck_assert_uint_eq(s.seq, 1);
	ck_assert_str_eq(s.cmn, "c1");
	ck_assert_int_eq(wkc_expect(b, WKPROTO_RECV, &pk, 5000), 0);
	n = wkc_open_recv(b, &pk.recv, out, sizeof out);
	ck_assert_int_eq(n, sizeof bytes);
	ck_assert_mem_eq(out, bytes, sizeof bytes);
	ck_assert_int_eq(pk.recv.message_id, s.id);
	ck_assert_uint_eq(pk.recv.message_seq, 1);
	ck_assert_int_eq(pk.recv.channel_type, 1);
	ck_assert_int_eq(pk.recv.channel_id.len, 2);
	ck_assert_mem_eq(pk.recv.channel_id.p, "ma", 2);
	ck_assert_mem_eq(pk.recv.from_uid.p, "ma", 2);
	ck_assert(pk.flags & WKPROTO_FLAG_REDDOT);
	ck_assert_int_eq(wkc_recvack(b, &pk), 0);
	ck_assert_int_eq(wkc_expect(a, WKPROTO_RECV, &pk, 5000), 0);   /* the sender's device */
	ck_assert_int_eq(wkc_open_recv(a, &pk.recv, out, sizeof out), sizeof bytes);
	ck_assert_int_eq(wkc_recvack(a, &pk), 0);
	/* The same client_msg_no again: the original, nothing stored, nothing delivered. */
	s2 = send_body(body);
	ck_assert_int_eq(s2.id, s.id);
	ck_assert_uint_eq(s2.seq, 1);
	ck_assert_int_eq(wkc_expect(b, WKPROTO_RECV, &pk, 500), -1);
	/* No client_msg_no: generated, 32 hex digits and "0"; the seq follows. */
	s2 = send_text("ma", "mb", 1, "second", "", NULL);
	ck_assert_uint_eq(s2.seq, 2);
	ck_assert_uint_eq(strlen(s2.cmn), 33);
	ck_assert_uint_eq(strspn(s2.cmn, "0123456789abcdef"), 33);
	ck_assert_int_eq(s2.cmn[32], '0');
	ck_assert_int_eq(wkc_expect(b, WKPROTO_RECV, &pk, 5000), 0);
	ck_assert_int_eq(wkc_open_recv(b, &pk.recv, out, sizeof out), 6);
	ck_assert_str_eq(out, "second");
	/* no_persist: delivered, seq 0, not stored. */
	s2 = send_text("ma", "mb", 1, "gone", "np1", "{\"no_persist\":1}");
	ck_assert_uint_eq(s2.seq, 0);
	ck_assert_int_eq(wkc_expect(b, WKPROTO_RECV, &pk, 5000), 0);
	ck_assert(pk.flags & WKPROTO_FLAG_NOPERSIST);
	ck_assert(!(pk.flags & WKPROTO_FLAG_REDDOT));
	expect("GET", "/channel/max_message_seq?channel_id=mb&channel_type=1&login_uid=ma", NULL,
	    200, "{\"message_seq\":2}");
	/* From the system uid (no from_uid): delivered; stored with from_uid "". */
	s2 = send_text("", "mb", 1, "sys", "sys1", "{}");
	ck_assert_uint_eq(s2.seq, 1);
	ck_assert_int_eq(wkc_expect(b, WKPROTO_RECV, &pk, 5000), 0);
	ck_assert_int_eq(wkc_open_recv(b, &pk.recv, out, sizeof out), 3);
	json_t *m = call("GET", "/channel/last_message?login_uid=mb&channel_id=____system&channel_type=1",
	    NULL, 200);
	check_msg(m, s2, "", "mb", 1, "sys", 0);
	json_decref(m);
	/* A group: every member's connection. */
	post_ok("/channel", "{\"channel_id\":\"mg\",\"channel_type\":2,\"subscribers\":[\"ma\",\"mb\"]}");
	s2 = send_text("ma", "mg", 2, "to the group", "g1", NULL);
	ck_assert_uint_eq(s2.seq, 1);
	ck_assert_int_eq(wkc_expect(b, WKPROTO_RECV, &pk, 5000), 0);
	ck_assert_int_eq(wkc_open_recv(b, &pk.recv, out, sizeof out), 12);
	ck_assert_mem_eq(pk.recv.channel_id.p, "mg", 2);
	free(p);
	wkc_close(a);
	wkc_close(b);
}
END_TEST

/* A refused send answers its reason (wk does better than the reference). */
START_TEST(test_message_send_refused)
{
	struct sent s;
	char body[256];

	post_ok("/channel", "{\"channel_id\":\"rg\",\"channel_type\":2,\"ban\":1,\"subscribers\":[\"x\"]}");
	snprintf(body, sizeof body, "{\"channel_id\":\"rg\",\"channel_type\":2,\"payload\":\"aGk=\","
	    "\"client_msg_no\":\"r1\"}");
	s = send_body(body);
	ck_assert_int_eq(s.reason, 19);
	ck_assert_uint_eq(s.seq, 0);
	ck_assert_str_eq(s.cmn, "r1");
	/* Disbanded (banned first would still say 19: ban is checked first). */
	post_ok("/channel", "{\"channel_id\":\"rd\",\"channel_type\":2,\"subscribers\":[\"x\"]}");
	post_ok("/channel/delete", "{\"channel_id\":\"rd\",\"channel_type\":2}");
	s = send_body("{\"channel_id\":\"rd\",\"channel_type\":2,\"payload\":\"aGk=\"}");
	ck_assert_int_eq(s.reason, 24);
	ck_assert_uint_eq(strlen(s.cmn), 33);
	post_ok("/channel/delete", "{\"channel_id\":\"rg\",\"channel_type\":2}");
	ck_assert_int_eq(send_body(body).reason, 19);
	/* A non-member sends on the system device: allowed (no sender checks). */
	post_ok("/channel", "{\"channel_id\":\"rg2\",\"channel_type\":2,\"subscribers\":[\"x\"]}");
	s = send_text("stranger", "rg2", 2, "hi", "r2", NULL);
	ck_assert_uint_eq(s.seq, 1);
	/* Group send_ban binds members, not the system device. */
	post_ok("/channel", "{\"channel_id\":\"rg3\",\"channel_type\":2,\"send_ban\":1}");
	s = send_text("x", "rg3", 2, "hi", "r3", NULL);
	ck_assert_uint_eq(s.seq, 1);
	expect("GET", "/channel/max_message_seq?channel_id=rg&channel_type=2", NULL, 200,
	    "{\"message_seq\":0}");
}
END_TEST

/* With subscribers: exactly those uids, through a temporary channel. */
START_TEST(test_message_send_subscribers)
{
	struct wkc *c1 = login("t1", "d"), *c2 = login("t2", "d"), *c3 = login("t3", "d");
	struct wkproto_packet pk;
	char out[64], want[64], path[128];
	struct sent s;
	uint64_t h = 14695981039346656037ULL;
	const char *joined = "t1,t2";

	/* Not stored: the online cmd channel, seq 0. */
	s = send_body("{\"subscribers\":[\"t1\",\"t2\"],\"payload\":\"Y21k\","
	    "\"header\":{\"sync_once\":1,\"no_persist\":1},\"client_msg_no\":\"ignored\"}");
	ck_assert_int_eq(s.reason, 1);
	ck_assert_uint_eq(s.seq, 0);
	ck_assert_uint_eq(strlen(s.cmn), 33);                /* always generated */
	for (int i = 0; i < 2; i++) {
		struct wkc *c = i ? c2 : c1;
		ck_assert_int_eq(wkc_expect(c, WKPROTO_RECV, &pk, 5000), 0);
		ck_assert_int_eq(wkc_open_recv(c, &pk.recv, out, sizeof out), 3);
		ck_assert_str_eq(out, "cmd");
		ck_assert_int_eq(pk.recv.channel_type, 8);
		ck_assert_int_eq(pk.recv.channel_id.len, 15);
		ck_assert_mem_eq(pk.recv.channel_id.p, "systemcmdonline", 15);
		ck_assert(pk.flags & WKPROTO_FLAG_SYNCONCE);
	}
	ck_assert_int_eq(wkc_expect(c3, WKPROTO_RECV, &pk, 500), -1);
	/* Stored: the FNV-1a 64 of "t1,t2" as a cmd channel, seq 1. */
	for (const char *q = joined; *q; q++)
		h = (h ^ (unsigned char)*q) * 1099511628211ULL;
	snprintf(want, sizeof want, "%llu____cmd", (unsigned long long)h);
	s = send_body("{\"subscribers\":[\"t1\",\"t2\"],\"payload\":\"Y21k\","
	    "\"header\":{\"sync_once\":1}}");
	ck_assert_uint_eq(s.seq, 1);
	ck_assert_int_eq(wkc_expect(c2, WKPROTO_RECV, &pk, 5000), 0);
	ck_assert_int_eq(pk.recv.channel_id.len, strlen(want));
	ck_assert_mem_eq(pk.recv.channel_id.p, want, strlen(want));
	ck_assert_int_eq(wkc_expect(c3, WKPROTO_RECV, &pk, 500), -1);
	snprintf(path, sizeof path, "/channel/max_message_seq?channel_id=%s&channel_type=8", want);
	expect("GET", path, NULL, 200, "{\"message_seq\":1}");
	wkc_close(c1);
	wkc_close(c2);
	wkc_close(c3);
}
END_TEST

static const struct { const char *method, *path, *body, *msg; } bad[] = {
	{ "POST", "/message/send", "", "EOF" },
	{ "POST", "/message/send", "[]", "json: cannot unmarshal array into Go value of type api.messageSendReq" },
	{ "POST", "/message/send", "{\"channel_id\":\"g\",\"channel_type\":2}", "payload不能为空！" },
	{ "POST", "/message/send", "{\"channel_id\":\"g\",\"channel_type\":2,\"payload\":\"\"}", "payload不能为空！" },
	{ "POST", "/message/send", "{\"channel_id\":\"g\",\"channel_type\":2,\"payload\":\"ab$c\"}", "illegal base64 data at input byte 2" },
	{ "POST", "/message/send", "{\"channel_id\":\"g\",\"channel_type\":2,\"payload\":\"abc\"}", "illegal base64 data at input byte 0" },
	{ "POST", "/message/send", "{\"channel_id\":\"g\",\"channel_type\":2,\"payload\":1}", "json: cannot unmarshal number 1 into Go struct field messageSendReq.payload of type []uint8" },
	{ "POST", "/message/send", "{\"channel_id\":\"g\",\"channel_type\":\"2\",\"payload\":\"aGk=\"}", "json: cannot unmarshal string into Go struct field messageSendReq.channel_type of type uint8" },
	{ "POST", "/message/send", "{\"channel_id\":\"g\",\"channel_type\":2,\"payload\":\"aGk=\",\"header\":{\"red_dot\":\"1\"}}", "json: cannot unmarshal string into Go struct field messageSendReq.header.red_dot of type int" },
	{ "POST", "/message/send", "{\"channel_id\":\"g\",\"channel_type\":2,\"payload\":\"aGk=\",\"header\":1}", "json: cannot unmarshal number 1 into Go struct field messageSendReq.header of type types.MessageHeader" },
	{ "POST", "/message/send", "{\"channel_type\":2,\"payload\":\"aGk=\"}", "无法处理发送消息请求！" },
	{ "POST", "/message/send", "{\"channel_type\":2,\"payload\":\"aGk=\",\"subscribers\":[\"a\"]}", "无法处理发送消息请求！" },
	{ "POST", "/message/send", "{\"channel_id\":\"g\",\"channel_type\":2,\"payload\":\"aGk=\",\"subscribers\":[\"a\"],\"header\":{\"sync_once\":1}}", "无法处理发送消息请求！" },
	{ "POST", "/message/send", "{\"channel_id\":\"g@1\",\"channel_type\":2,\"payload\":\"aGk=\"}", "频道ID不合法！" },
	{ "POST", "/message/sendbatch", "{\"subscribers\":[\"a\"],\"payload\":\"aGk=\"}", "from_uid不能为空！" },
	{ "POST", "/message/sendbatch", "{\"from_uid\":\"a\",\"payload\":\"aGk=\"}", "subscribers不能为空！" },
	{ "POST", "/message/sendbatch", "{\"from_uid\":\"a\",\"subscribers\":[\"b\"]}", "payload不能为空！" },
	{ "POST", "/channel/messagesync", "{\"login_uid\":\"a\"}", "channel_id不能为空！" },
	{ "POST", "/channel/messagesync", "{\"channel_id\":\"a\"}", "login_uid不能为空！" },
	{ "POST", "/channel/messagesync", "{\"channel_id\":\"a\",\"login_uid\":\"b\",\"limit\":\"1\"}", "json: cannot unmarshal string into Go struct field .limit of type int" },
	{ "POST", "/channel/messagesync", "{\"channel_id\":\"a\",\"login_uid\":\"b\",\"start_message_seq\":-1}", "json: cannot unmarshal number -1 into Go struct field .start_message_seq of type uint64" },
	{ "POST", "/messages", "{\"channel_id\":\"a\",\"message_seqs\":[\"1\"]}", "数据格式有误！" },
	{ "POST", "/messages", "{", "数据格式有误！" },
	{ "POST", "/messages", "{\"channel_type\":2}", "channel_id不能为空！" },
	{ "POST", "/messages", "{\"channel_id\":\"g\"}", "channel_type不能为0" },
	{ "POST", "/message", "{\"channel_id\":1}", "数据格式有误！" },
	{ "POST", "/message", "{\"channel_type\":2}", "channel_id不能为空！" },
	{ "POST", "/message", "{\"channel_id\":\"g\"}", "channel_type不能为0" },
	{ "POST", "/message", "{\"channel_id\":\"g\",\"channel_type\":1}", "login_uid不能为空！" },
	{ "GET", "/message/byclientmsgno?channel_type=2&client_msg_no=x", NULL, "channel_id不能为空" },
	{ "GET", "/message/byclientmsgno?channel_id=g&channel_type=2", NULL, "client_msg_no不能为空" },
	{ "GET", "/message/byclientmsgno?channel_id=g&client_msg_no=x", NULL, "channel_type不能为0" },
	{ "GET", "/channel/max_message_seq?channel_type=2", NULL, "channel_id不能为空！" },
	{ "GET", "/channel/max_message_seq?channel_id=u&channel_type=1", NULL, "login_uid不能为空！" },
	{ "GET", "/channel/last_message?channel_id=u&channel_type=1", NULL, "login_uid不能为空！" },
};

START_TEST(test_message_bad_requests)
{
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		expect_400(bad[i].method, bad[i].path, bad[i].body, bad[i].msg);
}
END_TEST

/* The seqs of a sync's answer as "1,2,3", and its `more`. */
static void
expect_sync(const char *id, int type, const char *login, long start, long end, long limit,
    int mode, const char *want_seqs, int want_more)
{
	char body[512], seqs[1024] = "";
	json_t *j, *v;
	size_t i;

	snprintf(body, sizeof body, "{\"login_uid\":\"%s\",\"channel_id\":\"%s\",\"channel_type\":%d,"
	    "\"start_message_seq\":%ld,\"end_message_seq\":%ld,\"limit\":%ld,\"pull_mode\":%d}",
	    login, id, type, start, end, limit, mode);
	j = call("POST", "/channel/messagesync", body, 200);
	ck_assert_uint_eq(json_object_size(j), 4);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "start_message_seq")), start);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "end_message_seq")), end);
	json_array_foreach(json_object_get(j, "messages"), i, v)
		snprintf(seqs + strlen(seqs), sizeof seqs - strlen(seqs), "%s%lld", i ? "," : "",
		    (long long)json_integer_value(json_object_get(v, "message_seq")));
	ck_assert_msg(strcmp(seqs, want_seqs) == 0 &&
	    json_integer_value(json_object_get(j, "more")) == want_more,
	    "sync %s: [%s] more %lld, want [%s] more %d", body, seqs,
	    (long long)json_integer_value(json_object_get(j, "more")), want_seqs, want_more);
	json_decref(j);
}

START_TEST(test_message_sync_modes)
{
	static const struct { long start, end, limit; int mode; const char *seqs; int more; } c[] = {
		{ 0, 0, 3, 0, "8,9,10", 1 },         /* the newest `limit` */
		{ 0, 0, 3, 1, "8,9,10", 1 },
		{ 0, 0, 10, 0, "1,2,3,4,5,6,7,8,9,10", 1 },
		{ 0, 0, 11, 0, "1,2,3,4,5,6,7,8,9,10", 0 },
		{ 0, 0, 0, 0, "", 1 },               /* QUIRK: limit 0 */
		{ 0, 0, -1, 0, "", 1 },
		{ 0, 0, 20000, 0, "1,2,3,4,5,6,7,8,9,10", 0 },
		{ 1, 0, 3, 1, "1,2,3", 1 },          /* up: [start, end) */
		{ 8, 0, 5, 1, "8,9,10", 0 },
		{ 10, 0, 1, 1, "10", 1 },
		{ 11, 0, 5, 1, "", 0 },
		{ 3, 6, 10, 1, "3,4,5", 0 },
		{ 3, 6, 3, 1, "3,4,5", 1 },
		{ 3, 4, 10, 1, "3", 0 },
		{ 5, 5, 10, 1, "", 0 },
		{ 6, 2, 10, 1, "", 0 },
		{ 5, 0, 3, 0, "3,4,5", 1 },          /* down: (end, start], the newest */
		{ 5, 2, 10, 0, "3,4,5", 0 },
		{ 5, 2, 3, 0, "3,4,5", 1 },
		{ 5, 4, 1, 0, "5", 1 },
		{ 5, 5, 10, 0, "", 0 },
		{ 3, 0, 10, 0, "1,2,3", 0 },
		{ 2, 5, 10, 0, "", 0 },              /* end > start: nothing */
		{ 20, 8, 10, 0, "9,10", 0 },
		{ 4294967296L, 0, 2, 0, "9,10", 1 }, /* past uint32: the newest */
	};
	char text[32];
	struct sent s[11];

	post_ok("/channel", "{\"channel_id\":\"sg\",\"channel_type\":2,\"subscribers\":[\"sa\"]}");
	for (int i = 1; i <= 10; i++) {
		snprintf(text, sizeof text, "m%d", i);
		s[i] = send_text("sa", "sg", 2, text, text, NULL);
		ck_assert_uint_eq(s[i].seq, (uint32_t)i);
	}
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
		expect_sync("sg", 2, "anyone", c[i].start, c[i].end, c[i].limit, c[i].mode, c[i].seqs,
		    c[i].more);
	/* Never used: the same shape, empty. */
	expect("POST", "/channel/messagesync", "{\"login_uid\":\"x\",\"channel_id\":\"nothing\","
	    "\"channel_type\":2,\"limit\":10}", 200,
	    "{\"start_message_seq\":0,\"end_message_seq\":0,\"more\":0,\"messages\":[]}");
	/* The messages themselves, whole. */
	json_t *j = call("POST", "/channel/messagesync", "{\"login_uid\":\"x\",\"channel_id\":\"sg\","
	    "\"channel_type\":2,\"start_message_seq\":2,\"end_message_seq\":4,\"limit\":5,"
	    "\"pull_mode\":1}", 200);
	check_msg(json_array_get(json_object_get(j, "messages"), 0), s[2], "sa", "sg", 2, "m2", 1);
	check_msg(json_array_get(json_object_get(j, "messages"), 1), s[3], "sa", "sg", 2, "m3", 1);
	json_decref(j);
}
END_TEST

/* Person chats: both sides read the same stored channel; channel_id in
 * the results is relative to the sender (the reference's QUIRK). */
START_TEST(test_message_person_reads)
{
	struct sent s1 = send_text("pa", "pb", 1, "from a", "p1", NULL);
	struct sent s2 = send_text("pb", "pa", 1, "from b", "p2", "{\"red_dot\":0}");
	char path[256], fake[64];
	json_t *j;

	ck_assert_uint_eq(s1.seq, 1);
	ck_assert_uint_eq(s2.seq, 2);
	j = call("POST", "/channel/messagesync", "{\"login_uid\":\"pb\",\"channel_id\":\"pa\","
	    "\"channel_type\":1,\"limit\":10}", 200);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "messages")), 2);
	check_msg(json_array_get(json_object_get(j, "messages"), 0), s1, "pa", "pb", 1, "from a", 1);
	check_msg(json_array_get(json_object_get(j, "messages"), 1), s2, "pb", "pa", 1, "from b", 0);
	json_decref(j);
	/* max seq and last message: by peer and login_uid, or by the fake id. */
	ck_assert_int_ge(wk_channelid_person("pa", 2, "pb", 2, fake, sizeof fake), 0);
	expect("GET", "/channel/max_message_seq?channel_id=pa&channel_type=1&login_uid=pb", NULL,
	    200, "{\"message_seq\":2}");
	snprintf(path, sizeof path, "/channel/max_message_seq?channel_id=%s&channel_type=1", fake);
	expect("GET", path, NULL, 200, "{\"message_seq\":2}");
	expect("GET", "/channel/max_message_seq?channel_id=nobody&channel_type=2", NULL, 200,
	    "{\"message_seq\":0}");
	j = call("GET", "/channel/last_message?login_uid=pa&channel_id=pb&channel_type=1", NULL, 200);
	check_msg(j, s2, "pb", "pa", 1, "from b", 0);
	json_decref(j);
	expect("GET", "/channel/last_message?channel_id=nobody&channel_type=2", NULL, 200,
	    "{\"status\":404}");
	/* byclientmsgno takes the fake id. */
	snprintf(path, sizeof path, "/message/byclientmsgno?channel_id=%s&channel_type=1&client_msg_no=p1",
	    fake);
	j = call("GET", path, NULL, 200);
	check_msg(j, s1, "pa", "pb", 1, "from a", 1);
	json_decref(j);
	expect("GET", "/message/byclientmsgno?channel_id=pb&channel_type=1&client_msg_no=p1", NULL,
	    200, "{\"status\":404}");
	/* /message by id and by client_msg_no, with login_uid. */
	snprintf(path, sizeof path, "{\"login_uid\":\"pa\",\"channel_id\":\"pb\",\"channel_type\":1,"
	    "\"message_id\":%lld}", (long long)s2.id);
	j = call("POST", "/message", path, 200);
	check_msg(j, s2, "pb", "pa", 1, "from b", 0);
	json_decref(j);
	j = call("POST", "/message", "{\"login_uid\":\"pb\",\"channel_id\":\"pa\",\"channel_type\":1,"
	    "\"client_msg_no\":\"p1\"}", 200);
	check_msg(j, s1, "pa", "pb", 1, "from a", 1);
	json_decref(j);
	expect("POST", "/message", "{\"login_uid\":\"pb\",\"channel_id\":\"pa\",\"channel_type\":1,"
	    "\"client_msg_no\":\"nope\"}", 200, "{\"status\":404}");
	expect("POST", "/message", "{\"login_uid\":\"pb\",\"channel_id\":\"pa\",\"channel_type\":1,"
	    "\"message_id\":12345}", 200, "{\"status\":404}");
}
END_TEST

START_TEST(test_message_search)
{
	struct sent s[6];
	char text[16], body[512];
	json_t *j, *list;

	post_ok("/channel", "{\"channel_id\":\"qg\",\"channel_type\":2}");
	for (int i = 1; i <= 5; i++) {
		snprintf(text, sizeof text, "q%d", i);
		s[i] = send_text("qa", "qg", 2, text, text, NULL);
	}
	snprintf(body, sizeof body, "{\"channel_id\":\"qg\",\"channel_type\":2,\"message_seqs\":[1,99,3],"
	    "\"message_ids\":[%lld,7],\"client_msg_nos\":[\"q5\",\"zz\"],\"unknown\":1}",
	    (long long)s[4].id);
	j = call("POST", "/messages", body, 200);
	ck_assert_uint_eq(json_object_size(j), 4);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "start_message_seq")), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "end_message_seq")), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "more")), 0);
	list = json_object_get(j, "messages");
	ck_assert_uint_eq(json_array_size(list), 4);
	check_msg(json_array_get(list, 0), s[1], "qa", "qg", 2, "q1", 1);
	check_msg(json_array_get(list, 1), s[3], "qa", "qg", 2, "q3", 1);
	check_msg(json_array_get(list, 2), s[4], "qa", "qg", 2, "q4", 1);
	check_msg(json_array_get(list, 3), s[5], "qa", "qg", 2, "q5", 1);
	json_decref(j);
	expect("POST", "/messages", "{\"channel_id\":\"qg\",\"channel_type\":2}", 200,
	    "{\"start_message_seq\":0,\"end_message_seq\":0,\"more\":0,\"messages\":[]}");
}
END_TEST

/* /messages by message_ids in a longer channel: each found by the binary
 * search over seq (the status line's msgid_walks does not move); an id
 * that is not there is looked for by the walk, and is not found. */
START_TEST(test_message_search_by_id)
{
	static struct sent s[301];
	char text[16], body[512];
	const int want[] = { 1, 2, 150, 299, 300 };
	long long walks;
	int64_t missing;
	int k;
	json_t *j, *list;

	post_ok("/channel", "{\"channel_id\":\"qi\",\"channel_type\":2}");
	for (int i = 1; i <= 300; i++) {
		snprintf(text, sizeof text, "i%d", i);
		s[i] = send_text("qa", "qi", 2, text, text, NULL);
	}
	walks = wkt_status_sum(tree.run, "channel", "msgid_walks");
	for (k = 0; k < (int)(sizeof want / sizeof want[0]); k++) {
		snprintf(body, sizeof body, "{\"channel_id\":\"qi\",\"channel_type\":2,"
		    "\"message_ids\":[%lld]}", (long long)s[want[k]].id);
		j = call("POST", "/messages", body, 200);
		list = json_object_get(j, "messages");
		ck_assert_uint_eq(json_array_size(list), 1);
		snprintf(text, sizeof text, "i%d", want[k]);
		check_msg(json_array_get(list, 0), s[want[k]], "qa", "qi", 2, text, 1);
		json_decref(j);
	}
	ck_assert_int_eq(wkt_status_sum(tree.run, "channel", "msgid_walks"), walks);
	/* An id between two stored ones that is neither. */
	for (missing = s[150].id + 1, k = 151; k <= 300; k++)
		if (s[k].id == missing)
			missing++;
	snprintf(body, sizeof body, "{\"channel_id\":\"qi\",\"channel_type\":2,"
	    "\"message_ids\":[%lld]}", (long long)missing);
	expect("POST", "/messages", body, 200,
	    "{\"start_message_seq\":0,\"end_message_seq\":0,\"more\":0,\"messages\":[]}");
	ck_assert_int_eq(wkt_status_sum(tree.run, "channel", "msgid_walks"), walks + 1);
}
END_TEST

/* POST /message/send of body with an Idempotency-Key header: the answer's
 * client_msg_no into cmn, the message_seq returned. */
static long long
send_with_key(const char *body, const char *key, char *cmn, size_t cmnlen)
{
	char url[256], hdr[200], *resp = NULL;
	const char *hdrs[] = { hdr, NULL };
	json_t *j, *d;
	long long seq;

	snprintf(url, sizeof url, "%s/message/send", tree.http);
	snprintf(hdr, sizeof hdr, "Idempotency-Key: %s", key);
	ck_assert_int_eq(wkt_http("POST", url, body, &resp, hdrs), 200);
	j = json_loads(resp, 0, NULL);
	d = json_object_get(j, "data");
	ck_assert_msg(d != NULL, "answer %s", resp);
	seq = json_integer_value(json_object_get(d, "message_seq"));
	snprintf(cmn, cmnlen, "%s", json_string_value(json_object_get(d, "client_msg_no")));
	json_decref(j);
	free(resp);
	return seq;
}

/* A send without client_msg_no gets a fresh one in the answer: two identical
 * sends are two messages, a retry with the returned id is the first one;
 * with an Idempotency-Key the retry of the same request is stored once, and
 * another key is another message (wk-api(8)). */
START_TEST(test_message_send_idempotent)
{
	const char *body = "{\"from_uid\":\"u1\",\"channel_id\":\"idem\",\"channel_type\":2,"
	    "\"payload\":\"aGk=\"}";
	char retry[300], c1[64], c2[64], c3[64];
	struct sent a = send_body(body), b = send_body(body), r;
	json_t *j;

	ck_assert_str_ne(a.cmn, b.cmn);
	ck_assert_int_eq(b.seq, a.seq + 1);
	snprintf(retry, sizeof retry, "{\"from_uid\":\"u1\",\"channel_id\":\"idem\","
	    "\"channel_type\":2,\"payload\":\"aGk=\",\"client_msg_no\":\"%s\"}", a.cmn);
	r = send_body(retry);
	ck_assert_int_eq(r.id, a.id);
	ck_assert_int_eq(r.seq, a.seq);

	ck_assert_int_eq(send_with_key(body, "order-42", c1, sizeof c1), b.seq + 1);
	ck_assert_int_eq(send_with_key(body, "order-42", c2, sizeof c2), b.seq + 1);
	ck_assert_str_eq(c1, c2);
	ck_assert_int_eq(strlen(c1), 33);
	ck_assert_int_eq(c1[32], 'k');
	ck_assert_int_eq(send_with_key(body, "order-43", c3, sizeof c3), b.seq + 2);
	ck_assert_str_ne(c1, c3);
	/* A client_msg_no in the body wins over the header. */
	ck_assert_int_eq(send_with_key(retry, "order-44", c3, sizeof c3), a.seq);
	ck_assert_str_eq(c3, a.cmn);

	j = call("GET", "/channel/max_message_seq?channel_id=idem&channel_type=2", NULL, 200);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "message_seq")), b.seq + 2);
	json_decref(j);
}
END_TEST

START_TEST(test_message_sendbatch)
{
	struct wkc *b = login("bb", "b1"), *c = login("bc", "c1");
	struct wkproto_packet pk;
	char out[64];
	json_t *j;

	expect("POST", "/message/sendbatch", "{\"from_uid\":\"ba\",\"subscribers\":[\"bb\",\"x#y\",\"bc\"],"
	    "\"payload\":\"aGVsbG8=\",\"header\":{\"red_dot\":1}}", 200,
	    "{\"fail_uids\":[\"x#y\"],\"reason\":[\"频道ID不合法！\"]}");
	ck_assert_int_eq(wkc_expect(b, WKPROTO_RECV, &pk, 5000), 0);
	ck_assert_int_eq(wkc_open_recv(b, &pk.recv, out, sizeof out), 5);
	ck_assert_str_eq(out, "hello");
	ck_assert_mem_eq(pk.recv.channel_id.p, "ba", 2);
	ck_assert_int_eq(wkc_expect(c, WKPROTO_RECV, &pk, 5000), 0);
	ck_assert_int_eq(wkc_open_recv(c, &pk.recv, out, sizeof out), 5);
	/* Stored, each with its own client_msg_no. */
	j = call("GET", "/channel/last_message?login_uid=bb&channel_id=ba&channel_type=1", NULL, 200);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "message_seq")), 1);
	ck_assert_str_eq(json_string_value(json_object_get(j, "payload")), "aGVsbG8=");
	ck_assert_uint_eq(strlen(json_string_value(json_object_get(j, "client_msg_no"))), 33);
	json_decref(j);
	expect("POST", "/message/sendbatch", "{\"from_uid\":\"ba\",\"subscribers\":[\"@\"],"
	    "\"payload\":\"aGVsbG8=\"}", 200, "{\"fail_uids\":[\"@\"],\"reason\":[\"频道ID不合法！\"]}");
	wkc_close(b);
	wkc_close(c);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("message");
	TCase *tc = tcase_create("message");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_message_send_delivers);
	tcase_add_test(tc, test_message_send_refused);
	tcase_add_test(tc, test_message_send_subscribers);
	tcase_add_test(tc, test_message_bad_requests);
	tcase_add_test(tc, test_message_sync_modes);
	tcase_add_test(tc, test_message_person_reads);
	tcase_add_test(tc, test_message_search);
	tcase_add_test(tc, test_message_search_by_id);
	tcase_add_test(tc, test_message_sendbatch);
	tcase_add_test(tc, test_message_send_idempotent);
	suite_add_tcase(s, tc);
	return wkt_run_suite(s);
}
