/* check_broker_rpc.c - wk-broker's JSON-RPC codec (brokers/broker/
 * broker_rpc.c): WuKongEasySDK's exact frames decode to the packets a binary
 * client sends; a malformed-input table (not JSON, wrong types, ranges,
 * unknown methods, huge values) gets the right JSON-RPC error and never a
 * crash; what the broker sends encodes in the reference's shapes. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "broker_rpc.h"
#include "wktest.h"

#define MAXP 1024

static int
decode(const char *text, struct wkproto_packet *pkt, struct broker_rpc_in *in)
{
	return broker_rpc_decode(text, strlen(text), MAXP, pkt, in);
}

/* The frames the SDK sends (src/index.ts), byte for byte in shape. */
START_TEST(test_broker_rpc_sdk_frames)
{
	struct wkproto_packet p;
	struct broker_rpc_in in;

	ck_assert_int_eq(decode("{\"method\":\"connect\",\"params\":{\"uid\":\"u1\",\"token\":\"t1\","
	    "\"deviceId\":\"web_1234abcd_1700000000000\",\"deviceFlag\":1,\"clientTimestamp\":1700000000123},"
	    "\"id\":\"8c1e2f3a-0000-4000-8000-000000000001\"}", &p, &in), 0);
	ck_assert_int_eq(p.type, WKPROTO_CONNECT);
	ck_assert_str_eq(in.id, "8c1e2f3a-0000-4000-8000-000000000001");
	ck_assert_int_eq(p.connect.uid.len, 2);
	ck_assert_int_eq(memcmp(p.connect.uid.p, "u1", 2), 0);
	ck_assert_int_eq(p.connect.token.len, 2);
	ck_assert_int_eq(p.connect.device_flag, 1);
	ck_assert_int_eq(p.connect.version, WKPROTO_VERSION_MAX);
	ck_assert(p.connect.client_timestamp == 1700000000123LL);
	broker_rpc_in_free(&in);

	/* send: payload base64 of {"type":1,"content":"hi"}, header.redDot. */
	ck_assert_int_eq(decode("{\"method\":\"send\",\"params\":{\"clientMsgNo\":\"m-1\","
	    "\"channelId\":\"u2\",\"channelType\":1,\"payload\":\"eyJ0eXBlIjoxLCJjb250ZW50IjoiaGkifQ==\","
	    "\"header\":{\"redDot\":true}},\"id\":\"r2\"}", &p, &in), 0);
	ck_assert_int_eq(p.type, WKPROTO_SEND);
	ck_assert_int_eq(p.flags, WKPROTO_FLAG_REDDOT);
	ck_assert_int_eq(p.send.channel_type, 1);
	ck_assert_int_eq((int)p.send.payload.len, 25);
	ck_assert_int_eq(memcmp(p.send.payload.p, "{\"type\":1,\"content\":\"hi\"}", 25), 0);
	ck_assert_int_eq(p.send.client_msg_no.len, 3);
	broker_rpc_in_free(&in);

	/* Older SDKs send the payload as an object: its compact JSON text. */
	ck_assert_int_eq(decode("{\"method\":\"send\",\"params\":{\"channelId\":\"g\",\"channelType\":2,"
	    "\"payload\": {\"type\": 1, \"content\": \"hi\"}, \"setting\":{\"receipt\":true,\"topic\":false}},"
	    "\"id\":\"r3\"}", &p, &in), 0);
	ck_assert_int_eq((int)p.send.payload.len, 25);
	ck_assert_int_eq(memcmp(p.send.payload.p, "{\"type\":1,\"content\":\"hi\"}", 25), 0);
	ck_assert_int_eq(p.send.setting, WKPROTO_SETTING_RECEIPT);
	ck_assert_int_eq(p.send.client_msg_no.len, 0);   /* the broker makes one */
	broker_rpc_in_free(&in);

	/* recvack is a notification; messageId a decimal string. */
	ck_assert_int_eq(decode("{\"method\":\"recvack\",\"params\":{\"header\":{\"redDot\":true},"
	    "\"messageId\":\"1234567890123456789\",\"messageSeq\":7}}", &p, &in), 0);
	ck_assert_int_eq(p.type, WKPROTO_RECVACK);
	ck_assert(p.recvack.message_id == 1234567890123456789LL);
	ck_assert_int_eq(p.recvack.message_seq, 7);
	ck_assert_int_eq(in.has_id, 0);
	broker_rpc_in_free(&in);

	ck_assert_int_eq(decode("{\"method\":\"ping\",\"params\":{},\"id\":\"p1\"}", &p, &in), 0);
	ck_assert_int_eq(p.type, WKPROTO_PING);
	broker_rpc_in_free(&in);
	ck_assert_int_eq(decode("{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"id\":\"p2\"}", &p, &in), 0);
	broker_rpc_in_free(&in);
	ck_assert_int_eq(decode("{\"method\":\"disconnect\",\"params\":{\"reasonCode\":0}}", &p, &in), 0);
	ck_assert_int_eq(p.type, WKPROTO_DISCONNECT);
	broker_rpc_in_free(&in);
}
END_TEST

/* Every malformed message: an error code, a reason, no packet, no crash. */
START_TEST(test_broker_rpc_malformed)
{
	static char big[MAXP * 2];
	static const struct { const char *name, *text; int code; } bad[] = {
		{ "empty", "", BROKER_RPC_PARSE_ERROR },
		{ "not JSON", "hello", BROKER_RPC_PARSE_ERROR },
		{ "truncated", "{\"method\":\"ping\"", BROKER_RPC_PARSE_ERROR },
		{ "trailing bytes", "{\"method\":\"ping\"} x", BROKER_RPC_PARSE_ERROR },
		{ "two objects", "{\"method\":\"ping\"}{\"method\":\"ping\"}", BROKER_RPC_PARSE_ERROR },
		{ "duplicate key", "{\"method\":\"ping\",\"method\":\"send\"}", BROKER_RPC_PARSE_ERROR },
		{ "NUL in a string", "{\"method\":\"connect\",\"id\":\"1\",\"params\":{\"uid\":\"a\\u0000b\"}}",
		    BROKER_RPC_PARSE_ERROR },
		{ "bad UTF-8", "{\"method\":\"p\xffing\"}", BROKER_RPC_PARSE_ERROR },
		{ "array", "[{\"method\":\"ping\"}]", BROKER_RPC_INVALID_REQUEST },
		{ "string", "\"ping\"", BROKER_RPC_INVALID_REQUEST },
		{ "wrong version", "{\"jsonrpc\":\"1.0\",\"method\":\"ping\"}", BROKER_RPC_INVALID_REQUEST },
		{ "version not a string", "{\"jsonrpc\":2,\"method\":\"ping\"}", BROKER_RPC_INVALID_REQUEST },
		{ "no method", "{\"id\":\"1\",\"params\":{}}", BROKER_RPC_INVALID_REQUEST },
		{ "method a number", "{\"method\":7}", BROKER_RPC_INVALID_REQUEST },
		{ "a response", "{\"id\":\"1\",\"result\":{}}", BROKER_RPC_INVALID_REQUEST },
		{ "an error response", "{\"id\":\"1\",\"error\":{\"code\":1}}", BROKER_RPC_INVALID_REQUEST },
		{ "numeric id", "{\"method\":\"ping\",\"id\":1}", BROKER_RPC_INVALID_REQUEST },
		{ "id too long", "{\"method\":\"ping\",\"id\":\"0123456789012345678901234567890123456789"
		    "012345678901234567890123456789\"}", BROKER_RPC_INVALID_REQUEST },
		{ "unknown method", "{\"method\":\"fly\",\"id\":\"1\"}", BROKER_RPC_METHOD_NOT_FOUND },
		{ "subscribe", "{\"method\":\"subscribe\",\"id\":\"1\",\"params\":{}}", BROKER_RPC_METHOD_NOT_FOUND },
		{ "params an array", "{\"method\":\"send\",\"id\":\"1\",\"params\":[]}", BROKER_RPC_INVALID_PARAMS },
		{ "connect without params", "{\"method\":\"connect\",\"id\":\"1\"}", BROKER_RPC_INVALID_PARAMS },
		{ "connect without id", "{\"method\":\"connect\",\"params\":{\"uid\":\"a\"}}",
		    BROKER_RPC_INVALID_REQUEST },
		{ "connect without uid", "{\"method\":\"connect\",\"id\":\"1\",\"params\":{\"token\":\"t\"}}",
		    BROKER_RPC_INVALID_PARAMS },
		{ "empty uid", "{\"method\":\"connect\",\"id\":\"1\",\"params\":{\"uid\":\"\"}}",
		    BROKER_RPC_INVALID_PARAMS },
		{ "uid a number", "{\"method\":\"connect\",\"id\":\"1\",\"params\":{\"uid\":5}}",
		    BROKER_RPC_INVALID_PARAMS },
		{ "deviceFlag 256", "{\"method\":\"connect\",\"id\":\"1\",\"params\":{\"uid\":\"a\",\"deviceFlag\":256}}",
		    BROKER_RPC_INVALID_PARAMS },
		{ "deviceFlag a string", "{\"method\":\"connect\",\"id\":\"1\",\"params\":{\"uid\":\"a\","
		    "\"deviceFlag\":\"1\"}}", BROKER_RPC_INVALID_PARAMS },
		{ "version -1", "{\"method\":\"connect\",\"id\":\"1\",\"params\":{\"uid\":\"a\",\"version\":-1}}",
		    BROKER_RPC_INVALID_PARAMS },
		{ "header not an object", "{\"method\":\"connect\",\"id\":\"1\",\"params\":{\"uid\":\"a\","
		    "\"header\":true}}", BROKER_RPC_INVALID_PARAMS },
		{ "header bit not a boolean", "{\"method\":\"send\",\"id\":\"1\",\"params\":{\"channelId\":\"a\","
		    "\"channelType\":1,\"payload\":\"\",\"header\":{\"redDot\":1}}}", BROKER_RPC_INVALID_PARAMS },
		{ "send without payload", "{\"method\":\"send\",\"id\":\"1\",\"params\":{\"channelId\":\"a\","
		    "\"channelType\":1}}", BROKER_RPC_INVALID_PARAMS },
		{ "send payload null", "{\"method\":\"send\",\"id\":\"1\",\"params\":{\"channelId\":\"a\","
		    "\"channelType\":1,\"payload\":null}}", BROKER_RPC_INVALID_PARAMS },
		{ "payload not base64", "{\"method\":\"send\",\"id\":\"1\",\"params\":{\"channelId\":\"a\","
		    "\"channelType\":1,\"payload\":\"hello!\"}}", BROKER_RPC_INVALID_PARAMS },
		{ "channelType 0", "{\"method\":\"send\",\"id\":\"1\",\"params\":{\"channelId\":\"a\","
		    "\"channelType\":0,\"payload\":\"\"}}", BROKER_RPC_INVALID_PARAMS },
		{ "channelType 1.5", "{\"method\":\"send\",\"id\":\"1\",\"params\":{\"channelId\":\"a\","
		    "\"channelType\":1.5,\"payload\":\"\"}}", BROKER_RPC_INVALID_PARAMS },
		{ "channelType huge", "{\"method\":\"send\",\"id\":\"1\",\"params\":{\"channelId\":\"a\","
		    "\"channelType\":99999999999999999999,\"payload\":\"\"}}", BROKER_RPC_PARSE_ERROR },
		{ "expire negative", "{\"method\":\"send\",\"id\":\"1\",\"params\":{\"channelId\":\"a\","
		    "\"channelType\":1,\"payload\":\"\",\"expire\":-5}}", BROKER_RPC_INVALID_PARAMS },
		{ "send without id", "{\"method\":\"send\",\"params\":{\"channelId\":\"a\",\"channelType\":1,"
		    "\"payload\":\"\"}}", BROKER_RPC_INVALID_REQUEST },
		{ "recvack id not digits", "{\"method\":\"recvack\",\"params\":{\"messageId\":\"12x\","
		    "\"messageSeq\":1}}", BROKER_RPC_INVALID_PARAMS },
		{ "recvack id empty", "{\"method\":\"recvack\",\"params\":{\"messageId\":\"\",\"messageSeq\":1}}",
		    BROKER_RPC_INVALID_PARAMS },
		{ "recvack without seq", "{\"method\":\"recvack\",\"params\":{\"messageId\":\"1\"}}",
		    BROKER_RPC_INVALID_PARAMS },
		{ "recvack seq over u32", "{\"method\":\"recvack\",\"params\":{\"messageId\":\"1\","
		    "\"messageSeq\":4294967296}}", BROKER_RPC_INVALID_PARAMS },
		{ "big payload", NULL, BROKER_RPC_INVALID_PARAMS },
	};
	struct wkproto_packet p;
	struct broker_rpc_in in;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *text = bad[i].text;
		if (text == NULL) {
			/* A payload (as an object) over the packet bound. */
			int n = snprintf(big, sizeof big, "{\"method\":\"send\",\"id\":\"1\",\"params\":{"
			    "\"channelId\":\"a\",\"channelType\":1,\"payload\":{\"t\":\"");
			memset(big + n, 'x', MAXP);
			strcpy(big + n + MAXP, "\"}}}");
			text = big;
		}
		int rc = decode(text, &p, &in);
		ck_assert_msg(rc == -1 && in.error == bad[i].code && in.why[0] != '\0',
		    "%s: rc %d error %d (%s), want %d", bad[i].name, rc, in.error, in.why, bad[i].code);
		broker_rpc_in_free(&in);
	}
}
END_TEST

/* The id of a request that failed is kept for its error response. */
START_TEST(test_broker_rpc_error_keeps_id)
{
	struct wkproto_packet p;
	struct broker_rpc_in in;
	size_t len;
	char *t;

	ck_assert_int_eq(decode("{\"method\":\"send\",\"id\":\"abc\",\"params\":{}}", &p, &in), -1);
	ck_assert_str_eq(in.id, "abc");
	t = broker_rpc_error(in.id, in.error, in.why, &len);
	ck_assert_str_eq(t, "{\"jsonrpc\":\"2.0\",\"id\":\"abc\",\"error\":{\"code\":-32602,"
	    "\"message\":\"params.channelId is required\"}}");
	ck_assert_uint_eq(len, strlen(t));
	free(t);
	broker_rpc_in_free(&in);
	t = broker_rpc_error("", BROKER_RPC_PARSE_ERROR, "x", &len);
	ck_assert_str_eq(t, "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,\"message\":\"x\"}}");
	free(t);
}
END_TEST

static void
expect_encoding(const struct wkproto_packet *p, const char *id, const char *want)
{
	size_t len;
	char *t = broker_rpc_encode(p, id, &len);

	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(t, want);
	ck_assert_uint_eq(len, strlen(want));
	free(t);
}

/* What goes back, in the reference's shapes (pkg/jsonrpc FromFrame). */
START_TEST(test_broker_rpc_encode)
{
	struct wkproto_packet p = { .type = WKPROTO_CONNACK };

	p.connack.reason_code = WKPROTO_REASON_SUCCESS;
	p.connack.time_diff = -15;
	p.connack.node_id = 1001;
	expect_encoding(&p, "c1", "{\"jsonrpc\":\"2.0\",\"id\":\"c1\",\"result\":{\"timeDiff\":-15,"
	    "\"reasonCode\":1,\"serverVersion\":5,\"nodeId\":1001}}");
	p.connack.reason_code = WKPROTO_REASON_AUTH_FAIL;
	expect_encoding(&p, "c1", "{\"jsonrpc\":\"2.0\",\"id\":\"c1\",\"error\":{\"code\":2,"
	    "\"message\":\"authentication failed\"}}");

	p = (struct wkproto_packet){ .type = WKPROTO_SENDACK };
	p.sendack.message_id = 1234567890123456789LL;
	p.sendack.message_seq = 42;
	p.sendack.reason_code = 1;
	expect_encoding(&p, "s1", "{\"jsonrpc\":\"2.0\",\"id\":\"s1\",\"result\":{\"messageId\":"
	    "\"1234567890123456789\",\"messageSeq\":42,\"reasonCode\":1}}");

	p = (struct wkproto_packet){ .type = WKPROTO_PONG };
	expect_encoding(&p, "p1", "{\"jsonrpc\":\"2.0\",\"id\":\"p1\",\"result\":null}");
	expect_encoding(&p, "", "{\"jsonrpc\":\"2.0\",\"method\":\"pong\"}");

	p = (struct wkproto_packet){ .type = WKPROTO_RECV, .flags = WKPROTO_FLAG_REDDOT };
	p.recv.message_id = 99;
	p.recv.message_seq = 3;
	p.recv.timestamp = 1700000000;
	p.recv.channel_id = wk_str_of("u1");
	p.recv.channel_type = 1;
	p.recv.from_uid = wk_str_of("u1");
	p.recv.client_msg_no = wk_str_of("m-1");
	p.recv.payload = (struct wk_bytes){ (const uint8_t *)"{\"type\":1,\"content\":\"hi\"}", 25 };
	expect_encoding(&p, NULL, "{\"jsonrpc\":\"2.0\",\"method\":\"recv\",\"params\":{\"header\":"
	    "{\"redDot\":true},\"messageId\":\"99\",\"messageSeq\":3,\"clientMsgNo\":\"m-1\","
	    "\"timestamp\":1700000000,\"channelId\":\"u1\",\"channelType\":1,\"fromUid\":\"u1\","
	    "\"payload\":\"eyJ0eXBlIjoxLCJjb250ZW50IjoiaGkifQ==\"}}");

	p = (struct wkproto_packet){ .type = WKPROTO_EVENT };
	p.event.id = wk_str_of("e1");
	p.event.type = wk_str_of("___TextMessageContent");
	p.event.timestamp = 1700000000000;
	p.event.data = (struct wk_bytes){ (const uint8_t *)"{\"a\":1}", 7 };
	expect_encoding(&p, NULL, "{\"jsonrpc\":\"2.0\",\"method\":\"event\",\"params\":{\"id\":\"e1\","
	    "\"type\":\"___TextMessageContent\",\"timestamp\":1700000000000,\"data\":\"{\\\"a\\\":1}\"}}");

	p = (struct wkproto_packet){ .type = WKPROTO_DISCONNECT };
	p.disconnect.reason_code = 12;
	p.disconnect.reason = wk_str_of("kicked");
	expect_encoding(&p, NULL, "{\"jsonrpc\":\"2.0\",\"method\":\"disconnect\",\"params\":"
	    "{\"reasonCode\":12,\"reason\":\"kicked\"}}");

	/* A stored string that is not UTF-8 becomes "", the JSON stays valid. */
	p = (struct wkproto_packet){ .type = WKPROTO_DISCONNECT };
	p.disconnect.reason = wk_str_of("\xff\xfe");
	expect_encoding(&p, NULL, "{\"jsonrpc\":\"2.0\",\"method\":\"disconnect\",\"params\":"
	    "{\"reasonCode\":0,\"reason\":\"\"}}");
	/* No JSON-RPC form: NULL. */
	p = (struct wkproto_packet){ .type = WKPROTO_SUBACK };
	size_t len;
	ck_assert_ptr_null(broker_rpc_encode(&p, "x", &len));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("broker_rpc");
	TCase *tc = tcase_create("codec");

	tcase_add_test(tc, test_broker_rpc_sdk_frames);
	tcase_add_test(tc, test_broker_rpc_malformed);
	tcase_add_test(tc, test_broker_rpc_error_keeps_id);
	tcase_add_test(tc, test_broker_rpc_encode);
	suite_add_tcase(s, tc);
	return wkt_run_suite(s);
}
