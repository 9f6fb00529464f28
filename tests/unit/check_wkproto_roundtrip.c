/* check_wkproto_roundtrip.c - the WKProto encoder and decoder
 * (common/wkproto.c) against each other: SEND and RECV at every version
 * and setting, every type at every version where it exists, what the
 * encoder refuses, bodies at the varint boundaries, and the names of every
 * error and type.  See wkproto(7). */
#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "wktest.h"
#include "wkproto.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * Round trips at every version.
 */
static void
str_eq(struct wk_str a, struct wk_str b)
{
	ck_assert_uint_eq(a.len, b.len);
	ck_assert(a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static const uint8_t settings[] = {
	0, WKPROTO_SETTING_TOPIC, WKPROTO_SETTING_STREAM_SDK,
	WKPROTO_SETTING_STREAM, WKPROTO_SETTING_STREAM_SDK |
	WKPROTO_SETTING_STREAM | WKPROTO_SETTING_TOPIC,
	WKPROTO_SETTING_RECEIPT | WKPROTO_SETTING_TOPIC, 0xff,
};

/* Encode p at v into buf and decode it back into q, whole, flags and all. */
static void
encode_decode(const struct wkproto_packet *p, int v, uint8_t *buf, size_t cap,
    struct wkproto_packet *q)
{
	ssize_t n = wkproto_encode(p, v, buf, cap);
	size_t used;

	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(n, wkproto_encoded_size(p, v));
	ck_assert_int_eq(wkproto_decode(buf, (size_t)n, v, q, &used), 0);
	ck_assert_uint_eq(used, (size_t)n);
	ck_assert_int_eq(q->flags, p->flags);
}

START_TEST(test_wkproto_send_roundtrip_versions)
{
	struct wkproto_packet p, q;
	uint8_t buf[512];

	for (int v = 1; v <= 5; v++)
		for (size_t i = 0; i < NELEM(settings); i++) {
			uint8_t sb = wkproto_stream_bit(v);
			int has_stream = (settings[i] & sb) != 0;
			int has_topic = (settings[i] & WKPROTO_SETTING_TOPIC) != 0;

			memset(&p, 0, sizeof p);
			p.type = WKPROTO_SEND;
			p.flags = WKPROTO_FLAG_REDDOT | WKPROTO_FLAG_DUP;
			p.send.setting = settings[i];
			p.send.client_seq = 0xfedcba98;
			p.send.client_msg_no = wk_str_of("cmn-1");
			p.send.stream_no = wk_str_of("stream-7");
			p.send.channel_id = wk_str_of("g1");
			p.send.channel_type = 2;
			p.send.expire = 86400;
			p.send.msg_key = wk_str_of("0123456789abcdef0123456789abcdef");
			p.send.topic = wk_str_of("news");
			p.send.payload.p = (const uint8_t *)"{\"a\":1}";
			p.send.payload.len = 7;
			encode_decode(&p, v, buf, sizeof buf, &q);
			ck_assert_int_eq(q.send.setting, p.send.setting);
			ck_assert_uint_eq(q.send.client_seq, p.send.client_seq);
			str_eq(q.send.client_msg_no, p.send.client_msg_no);
			str_eq(q.send.channel_id, p.send.channel_id);
			ck_assert_int_eq(q.send.channel_type, 2);
			ck_assert_uint_eq(q.send.expire, v >= 3 ? 86400 : 0);
			str_eq(q.send.msg_key, p.send.msg_key);
			str_eq(q.send.stream_no, has_stream ? p.send.stream_no :
			    wk_str_of(""));
			str_eq(q.send.topic, has_topic ? p.send.topic :
			    wk_str_of(""));
			ck_assert_uint_eq(q.send.payload.len, 7);
			ck_assert(memcmp(q.send.payload.p, "{\"a\":1}", 7) == 0);
			/* streamNo sits right after clientMsgNo. */
			if (has_stream)
				ck_assert(memcmp(buf + 2 + 1 + 4 + 7,
				    "\0\x08stream-7", 10) == 0);
			ck_assert(has_stream == ((v == 2 || v == 3) ?
			    (settings[i] & 0x04) != 0 : v == 4 ?
			    (settings[i] & 0x02) != 0 : 0));
		}
}
END_TEST

START_TEST(test_wkproto_recv_roundtrip_versions)
{
	struct wkproto_packet p, q;
	uint8_t buf[512];
	size_t at;

	for (int v = 1; v <= 5; v++)
		for (size_t i = 0; i < NELEM(settings); i++) {
			uint8_t sb = wkproto_stream_bit(v);
			int has_stream = (settings[i] & sb) != 0;
			int has_topic = (settings[i] & WKPROTO_SETTING_TOPIC) != 0;

			memset(&p, 0, sizeof p);
			p.type = WKPROTO_RECV;
			p.flags = WKPROTO_FLAG_REDDOT | WKPROTO_FLAG_SYNCONCE;
			p.recv.setting = settings[i];
			p.recv.msg_key = wk_str_of("bf31e4c31c24125e6f58ad3997f7ebd7");
			p.recv.from_uid = wk_str_of("bob");
			p.recv.channel_id = wk_str_of("bob");
			p.recv.channel_type = 1;
			p.recv.expire = 60;
			p.recv.client_msg_no = wk_str_of("bobmsg0001");
			p.recv.stream_flag = 2;
			p.recv.stream_no = wk_str_of("sn");
			p.recv.stream_seq = 0x01020304;
			p.recv.stream_id = 0x1122334455667788ull;
			p.recv.message_id = -5;	/* signed on the wire */
			p.recv.message_seq = 8;
			p.recv.timestamp = -1;
			p.recv.topic = wk_str_of("t");
			p.recv.payload.p = (const uint8_t *)"xyz";
			p.recv.payload.len = 3;
			encode_decode(&p, v, buf, sizeof buf, &q);
			str_eq(q.recv.msg_key, p.recv.msg_key);
			str_eq(q.recv.from_uid, p.recv.from_uid);
			str_eq(q.recv.channel_id, p.recv.channel_id);
			ck_assert_uint_eq(q.recv.expire, v >= 3 ? 60 : 0);
			str_eq(q.recv.client_msg_no, p.recv.client_msg_no);
			ck_assert_int_eq(q.recv.message_id, -5);
			ck_assert_uint_eq(q.recv.message_seq, 8);
			ck_assert_int_eq(q.recv.timestamp, -1);
			str_eq(q.recv.topic, has_topic ? p.recv.topic :
			    wk_str_of(""));
			ck_assert(q.recv.payload.len == 3 &&
			    memcmp(q.recv.payload.p, "xyz", 3) == 0);
			/* After clientMsgNo: header 2 + setting + msgKey 34 +
			 * 5 + 5 + type + expire + clientMsgNo 12. */
			at = 2 + 1 + 34 + 5 + 5 + 1 + (v >= 3 ? 4 : 0) + 12;
			if (has_stream && v < 4) {
				/* SDK 1.0.4 form: streamNo, streamSeq, streamFlag */
				ck_assert(memcmp(buf + at,
				    "\0\x02sn\x01\x02\x03\x04\x02", 9) == 0);
				ck_assert_uint_eq(q.recv.stream_seq, 0x01020304);
				ck_assert_uint_eq(q.recv.stream_id, 0);
			} else if (has_stream) {
				/* v2.2.5 form: streamFlag, streamNo, streamId */
				ck_assert(memcmp(buf + at,
				    "\x02\0\x02sn\x11\x22\x33\x44\x55\x66\x77\x88",
				    13) == 0);
				ck_assert_uint_eq(q.recv.stream_id,
				    0x1122334455667788ull);
				ck_assert_uint_eq(q.recv.stream_seq, 0);
			} else {
				ck_assert_uint_eq(q.recv.stream_seq, 0);
				ck_assert_uint_eq(q.recv.stream_id, 0);
				ck_assert_int_eq(q.recv.stream_flag, 0);
				ck_assert_uint_eq(q.recv.stream_no.len, 0);
				/* messageID follows clientMsgNo directly. */
				ck_assert(memcmp(buf + at,
				    "\xff\xff\xff\xff\xff\xff\xff\xfb", 8) == 0);
			}
			if (has_stream) {
				ck_assert_int_eq(q.recv.stream_flag, 2);
				str_eq(q.recv.stream_no, p.recv.stream_no);
			}
		}
}
END_TEST

/* Every type at every version where it exists: encode, decode, encode. */
START_TEST(test_wkproto_all_types_roundtrip)
{
	struct wkproto_packet p, q;
	uint8_t a[256], b[256];
	size_t used;
	ssize_t n, m;
	int v = _i + 1;

	for (int t = WKPROTO_CONNECT; t <= WKPROTO_EVENT; t++) {
		memset(&p, 0, sizeof p);
		p.type = (uint8_t)t;
		p.flags = WKPROTO_FLAG_NOPERSIST;
		switch (t) {
		case WKPROTO_CONNECT:
			p.connect.version = 5;
			p.connect.device_flag = WKPROTO_DEVICE_WEB;
			p.connect.device_id = wk_str_of("dev");
			p.connect.uid = wk_str_of("u1");
			p.connect.client_timestamp = 1700000000000;
			p.connect.client_key = wk_str_of("k");
			break;
		case WKPROTO_CONNACK:
			p.connack.server_version = 5;
			p.connack.time_diff = -3;
			p.connack.reason_code = WKPROTO_REASON_SUCCESS;
			p.connack.salt = wk_str_of("A1b2C3d4E5f6G7h8");
			p.connack.node_id = v >= 4 ? 1001 : 0;
			break;
		case WKPROTO_SENDACK:
			p.sendack.message_id = 99;
			p.sendack.reason_code = WKPROTO_REASON_PAYLOAD_DECODE_ERROR;
			break;
		case WKPROTO_RECVACK:
			p.recvack.message_seq = 3;
			break;
		case WKPROTO_PING:
		case WKPROTO_PONG:
			p.flags = 0;
			break;
		case WKPROTO_DISCONNECT:
			p.disconnect.reason_code = WKPROTO_REASON_CONNECT_KICK;
			p.disconnect.reason = wk_str_of("server kick");
			break;
		case WKPROTO_SUB:
			p.sub.channel_id = wk_str_of("live1");
			p.sub.channel_type = WKPROTO_CHANNEL_DATA;
			p.sub.action = 1;
			break;
		case WKPROTO_SUBACK:
			p.suback.channel_id = wk_str_of("live1");
			p.suback.reason_code = 1;
			break;
		case WKPROTO_EVENT:
			p.event.id = wk_str_of("e");
			p.event.type = wk_str_of("___TextMessageEnd");
			p.event.data.p = (const uint8_t *)"{}";
			p.event.data.len = 2;
			break;
		}
		n = wkproto_encode(&p, v, a, sizeof a);
		if (t == WKPROTO_EVENT && v < 5) {
			ck_assert_int_eq(n, WKPROTO_EVERSION);
			ck_assert(!wkproto_type_valid(t, v));
			continue;
		}
		ck_assert_msg(n > 0, "%s v%d: %s", wkproto_type_name(t), v,
		    wkproto_strerror((int)n));
		ck_assert(wkproto_type_valid(t, v));
		ck_assert_int_eq(wkproto_decode(a, (size_t)n, v, &q, &used), 0);
		ck_assert_uint_eq(used, (size_t)n);
		m = wkproto_encode(&q, v, b, sizeof b);
		ck_assert_int_eq(m, n);
		ck_assert(memcmp(a, b, (size_t)n) == 0);
	}
}
END_TEST

/* The encoder refuses what the decoder would refuse. */
START_TEST(test_wkproto_encode_refusals)
{
	static char big[0x8000];
	struct wkproto_packet p;
	uint8_t buf[64];

	memset(big, 'a', sizeof big);
	memset(&p, 0, sizeof p);
	p.type = WKPROTO_DISCONNECT;
	p.disconnect.reason = wk_str_n(big, 0x8000);
	ck_assert_int_eq(wkproto_encoded_size(&p, 2), WKPROTO_ESTRING);
	ck_assert_int_eq(wkproto_encode(&p, 2, buf, sizeof buf), WKPROTO_ESTRING);
	p.disconnect.reason = wk_str_n(big, 0x7fff);
	ck_assert_int_eq(wkproto_encoded_size(&p, 2), 1 + 3 + 1 + 2 + 0x7fff);
	ck_assert_int_eq(wkproto_encode(&p, 2, buf, sizeof buf), WKPROTO_ENOSPC);
	/* Over 0xffff is clamped, then refused. */
	ck_assert_uint_eq(wk_str_n(big, 100000).len, 0xffff);

	memset(&p, 0, sizeof p);
	p.type = WKPROTO_EVENT;
	ck_assert_int_eq(wkproto_encode(&p, 4, buf, sizeof buf), WKPROTO_EVERSION);
	ck_assert_int_gt(wkproto_encode(&p, 5, buf, sizeof buf), 0);
	ck_assert_int_eq(wkproto_encode(&p, 6, buf, sizeof buf), WKPROTO_EVERSION);
	ck_assert_int_eq(wkproto_encode(&p, 0, buf, sizeof buf), WKPROTO_EVERSION);
	p.type = 0;
	ck_assert_int_eq(wkproto_encode(&p, 5, buf, sizeof buf), WKPROTO_ETYPE);
	p.type = 13;
	ck_assert_int_eq(wkproto_encode(&p, 5, buf, sizeof buf), WKPROTO_ETYPE);

	/* CONNACK writes only HasServerVersion; it gates serverVersion. */
	memset(&p, 0, sizeof p);
	p.type = WKPROTO_CONNACK;
	p.flags = 0x0e;
	p.connack.server_version = 9;
	ck_assert_int_eq(wkproto_encode(&p, 3, buf, sizeof buf), 2 + 13);
	ck_assert_int_eq(buf[0], 0x20);
	p.flags = 0x0f;
	ck_assert_int_eq(wkproto_encode(&p, 3, buf, sizeof buf), 2 + 14);
	ck_assert_int_eq(buf[0], 0x21);
	ck_assert_int_eq(buf[2], 9);
}
END_TEST

/* Bodies at the varint boundaries encode with the right length bytes
 * (a fuzzer-found bug: 128-byte bodies were written as 126). */
START_TEST(test_wkproto_varint_boundaries)
{
	static const size_t bodies[] = { 12, 126, 127, 128, 129, 16383, 16384,
	    16385, 2097151, 2097152, 2097153 };
	static uint8_t data[2097153], buf[2097153 + 8];
	struct wkproto_packet p, q;
	struct wkproto_frame f;
	ssize_t n;

	memset(data, 'd', sizeof data);
	for (size_t i = 0; i < NELEM(bodies); i++) {
		size_t body = bodies[i];
		size_t vlen = body < 128 ? 1 : body < 16384 ? 2 :
		    body < 2097152 ? 3 : 4;

		memset(&p, 0, sizeof p);
		p.type = WKPROTO_EVENT;
		p.event.data.p = data;
		p.event.data.len = body - 12;
		n = wkproto_encode(&p, 5, buf, sizeof buf);
		ck_assert_int_eq(n, (ssize_t)(1 + vlen + body));
		ck_assert_int_eq(wkproto_split(buf, (size_t)n, WKPROTO_VARINT_MAX,
		    &f), 0);
		ck_assert_uint_eq(f.hdr_len, 1 + vlen);
		ck_assert_uint_eq(f.body_len, body);
		ck_assert_int_eq(wkproto_decode_frame(&f, 5, &q), 0);
		ck_assert_uint_eq(q.event.data.len, body - 12);
		/* The default 1 MiB cap refuses the larger ones. */
		ck_assert_int_eq(wkproto_split(buf, (size_t)n, 0, &f),
		    body > WKPROTO_MAX_REMAINING ? WKPROTO_ELENGTH : 0);
	}
}
END_TEST

/* Names for errors and types exist for every value. */
START_TEST(test_wkproto_names)
{
	ck_assert_str_eq(wkproto_strerror(WKPROTO_ENEED), "need more bytes");
	for (int e = WKPROTO_EINVAL; e <= 0; e++)
		ck_assert_str_ne(wkproto_strerror(e), "unknown error");
	ck_assert_str_eq(wkproto_strerror(-100), "unknown error");
	ck_assert_str_eq(wkproto_type_name(WKPROTO_SEND), "SEND");
	ck_assert_str_eq(wkproto_type_name(WKPROTO_EVENT), "EVENT");
	ck_assert_str_eq(wkproto_type_name(14), "UNKNOWN");
	ck_assert_str_eq(wkproto_type_name(99), "UNKNOWN");
	ck_assert_int_eq(wkproto_stream_bit(1), 0);
	ck_assert_int_eq(wkproto_stream_bit(2), 0x04);
	ck_assert_int_eq(wkproto_stream_bit(3), 0x04);
	ck_assert_int_eq(wkproto_stream_bit(4), 0x02);
	ck_assert_int_eq(wkproto_stream_bit(5), 0);
}
END_TEST

static Suite *
wkproto_roundtrip_suite(void)
{
	Suite *s = suite_create("wkproto_roundtrip");
	TCase *tc;

	tc = tcase_create("roundtrip");
	tcase_add_test(tc, test_wkproto_send_roundtrip_versions);
	tcase_add_test(tc, test_wkproto_recv_roundtrip_versions);
	tcase_add_loop_test(tc, test_wkproto_all_types_roundtrip, 0, 5);
	tcase_add_test(tc, test_wkproto_encode_refusals);
	tcase_add_test(tc, test_wkproto_varint_boundaries);
	tcase_add_test(tc, test_wkproto_names);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return wkt_run_suite(wkproto_roundtrip_suite());
}
