/* check_wkproto.c - tests of the WKProto codec (common/wkproto.c) and the
 * person channel id (common/wk_channelid.c) against the golden vectors in
 * tests/vectors: decode of every c2s and s2c vector field by field against
 * its layout, encode of every s2c input to its exact bytes, the splitter
 * at every split point, round trips at every version, and a table of
 * malformed inputs. */
#include <check.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "wktest.h"
#include "wkproto.h"
#include "wk_channelid.h"

#define VECDIR	WK_TEST_SRCDIR "/tests/vectors/"

/*
 * Helpers: JSON vectors and hex.
 */
/* A JSON number or decimal string as 64 bits. */
static uint64_t
jint(const json_t *v)
{
	if (json_is_integer(v))
		return (uint64_t)json_integer_value(v);
	ck_assert_msg(json_is_string(v), "not a number");
	if (json_string_value(v)[0] == '-')
		return (uint64_t)strtoll(json_string_value(v), NULL, 10);
	return strtoull(json_string_value(v), NULL, 10);
}

/* The layout entry of a field, or NULL. */
static json_t *
layout_field(json_t *layout, const char *name)
{
	size_t i;
	json_t *e;

	json_array_foreach(layout, i, e)
		if (strcmp(json_string_value(json_object_get(e, "field")), name) == 0)
			return e;
	return NULL;
}

/*
 * Field tables: layout name -> where the field lives in the packet.
 */
enum fkind { F_U8, F_U32, F_I32, F_U64, F_STR, F_REST };
struct fdesc {
	const char	*name;	/* as in the vectors' layout and input */
	enum fkind	 kind;
	size_t		 off;
};
#define P(m)	offsetof(struct wkproto_packet, m)

static const struct fdesc f_connect[] = {
	{ "version", F_U8, P(connect.version) },
	{ "deviceFlag", F_U8, P(connect.device_flag) },
	{ "deviceID", F_STR, P(connect.device_id) },
	{ "uid", F_STR, P(connect.uid) },
	{ "token", F_STR, P(connect.token) },
	{ "clientTimestamp", F_U64, P(connect.client_timestamp) },
	{ "clientKey", F_STR, P(connect.client_key) },
	{ NULL, 0, 0 },
};
static const struct fdesc f_connack[] = {
	{ "serverVersion", F_U8, P(connack.server_version) },
	{ "timeDiff", F_U64, P(connack.time_diff) },
	{ "reasonCode", F_U8, P(connack.reason_code) },
	{ "serverKey", F_STR, P(connack.server_key) },
	{ "salt", F_STR, P(connack.salt) },
	{ "nodeId", F_U64, P(connack.node_id) },
	{ NULL, 0, 0 },
};
static const struct fdesc f_send[] = {
	{ "setting", F_U8, P(send.setting) },
	{ "clientSeq", F_U32, P(send.client_seq) },
	{ "clientMsgNo", F_STR, P(send.client_msg_no) },
	{ "streamNo", F_STR, P(send.stream_no) },
	{ "channelID", F_STR, P(send.channel_id) },
	{ "channelType", F_U8, P(send.channel_type) },
	{ "expire", F_U32, P(send.expire) },
	{ "msgKey", F_STR, P(send.msg_key) },
	{ "topic", F_STR, P(send.topic) },
	{ "payload", F_REST, P(send.payload) },
	{ NULL, 0, 0 },
};
static const struct fdesc f_sendack[] = {
	{ "messageID", F_U64, P(sendack.message_id) },
	{ "clientSeq", F_U32, P(sendack.client_seq) },
	{ "messageSeq", F_U32, P(sendack.message_seq) },
	{ "reasonCode", F_U8, P(sendack.reason_code) },
	{ NULL, 0, 0 },
};
static const struct fdesc f_recv[] = {
	{ "setting", F_U8, P(recv.setting) },
	{ "msgKey", F_STR, P(recv.msg_key) },
	{ "fromUID", F_STR, P(recv.from_uid) },
	{ "channelID", F_STR, P(recv.channel_id) },
	{ "channelType", F_U8, P(recv.channel_type) },
	{ "expire", F_U32, P(recv.expire) },
	{ "clientMsgNo", F_STR, P(recv.client_msg_no) },
	{ "streamFlag", F_U8, P(recv.stream_flag) },
	{ "streamNo", F_STR, P(recv.stream_no) },
	{ "streamSeq", F_U32, P(recv.stream_seq) },
	{ "streamId", F_U64, P(recv.stream_id) },
	{ "messageID", F_U64, P(recv.message_id) },
	{ "messageSeq", F_U32, P(recv.message_seq) },
	{ "timestamp", F_I32, P(recv.timestamp) },
	{ "topic", F_STR, P(recv.topic) },
	{ "payload", F_REST, P(recv.payload) },
	{ NULL, 0, 0 },
};
static const struct fdesc f_recvack[] = {
	{ "messageID", F_U64, P(recvack.message_id) },
	{ "messageSeq", F_U32, P(recvack.message_seq) },
	{ NULL, 0, 0 },
};
static const struct fdesc f_none[] = {
	{ NULL, 0, 0 },
};
static const struct fdesc f_disconnect[] = {
	{ "reasonCode", F_U8, P(disconnect.reason_code) },
	{ "reason", F_STR, P(disconnect.reason) },
	{ NULL, 0, 0 },
};
static const struct fdesc f_sub[] = {
	{ "setting", F_U8, P(sub.setting) },
	{ "subNo", F_STR, P(sub.sub_no) },
	{ "channelID", F_STR, P(sub.channel_id) },
	{ "channelType", F_U8, P(sub.channel_type) },
	{ "action", F_U8, P(sub.action) },
	{ "param", F_STR, P(sub.param) },
	{ NULL, 0, 0 },
};
static const struct fdesc f_suback[] = {
	{ "subNo", F_STR, P(suback.sub_no) },
	{ "channelID", F_STR, P(suback.channel_id) },
	{ "channelType", F_U8, P(suback.channel_type) },
	{ "action", F_U8, P(suback.action) },
	{ "reasonCode", F_U8, P(suback.reason_code) },
	{ NULL, 0, 0 },
};
static const struct fdesc f_event[] = {
	{ "id", F_STR, P(event.id) },
	{ "type", F_STR, P(event.type) },
	{ "timestamp", F_U64, P(event.timestamp) },
	{ "data", F_REST, P(event.data) },
	{ NULL, 0, 0 },
};

static const struct fdesc *const fields_by_type[13] = {
	NULL, f_connect, f_connack, f_send, f_sendack, f_recv, f_recvack,
	f_none, f_none, f_disconnect, f_sub, f_suback, f_event,
};

static uint64_t
fget_int(const struct wkproto_packet *p, const struct fdesc *d)
{
	const char *b = (const char *)p + d->off;

	switch (d->kind) {
	case F_U8:	return *(const uint8_t *)b;
	case F_U32:	return *(const uint32_t *)b;
	case F_I32:	return (uint64_t)(int64_t)*(const int32_t *)b;
	case F_U64:	return *(const uint64_t *)b;
	default:	return 0;
	}
}

/* Check a decoded packet against a layout: every field has its value and
 * sits at its offset in buf; fields absent from the layout are zero. */
static void
check_layout(const struct wkproto_packet *p, const uint8_t *buf,
    json_t *layout, const char *what)
{
	const struct fdesc *d;
	json_t *hdr, *e, *v;
	size_t i, nfields = 0;

	hdr = json_object_get(json_array_get(layout, 0), "value");
	ck_assert_int_eq(p->type, jint(json_object_get(hdr, "type")));
	ck_assert_int_eq(p->flags,
	    jint(json_object_get(hdr, "dup")) << 3 |
	    jint(json_object_get(hdr, "syncOnce")) << 2 |
	    jint(json_object_get(hdr, "redDot")) << 1 |
	    jint(json_object_get(hdr, "noPersist_or_hasServerVersion")));

	/* Every layout field must be one we know. */
	json_array_foreach(layout, i, e) {
		const char *name = json_string_value(json_object_get(e, "field"));
		int known = 0;

		if (i < 2 && p->type != WKPROTO_PING && p->type != WKPROTO_PONG)
			continue;	/* fixed header, varint */
		if (i == 0)
			continue;
		for (d = fields_by_type[p->type]; d->name != NULL; d++)
			known |= strcmp(d->name, name) == 0;
		ck_assert_msg(known, "%s: unknown layout field %s", what, name);
		nfields++;
	}
	for (d = fields_by_type[p->type]; d->name != NULL; d++) {
		const char *b = (const char *)p + d->off;
		size_t off;

		e = layout_field(layout, d->name);
		if (e == NULL) {
			/* Not on the wire: must decode as zero/empty. */
			if (d->kind == F_STR)
				ck_assert_uint_eq(((const struct wk_str *)b)->len, 0);
			else if (d->kind == F_REST)
				ck_assert_uint_eq(((const struct wk_bytes *)b)->len, 0);
			else
				ck_assert_msg(fget_int(p, d) == 0,
				    "%s: absent %s not zero", what, d->name);
			continue;
		}
		v = json_object_get(e, "value");
		off = (size_t)jint(json_object_get(e, "offset"));
		switch (d->kind) {
		case F_STR: {
			const struct wk_str *s = (const struct wk_str *)b;

			ck_assert_msg(s->len == strlen(json_string_value(v)) &&
			    memcmp(s->p, json_string_value(v), s->len) == 0,
			    "%s: field %s differs", what, d->name);
			ck_assert_msg((const uint8_t *)s->p == buf + off + 2,
			    "%s: field %s not at offset %zu", what, d->name, off);
			break;
		}
		case F_REST: {
			const struct wk_bytes *r = (const struct wk_bytes *)b;
			size_t n;
			uint8_t *want = wkt_unhex(json_string_value(
			    json_object_get(e, "hex")), &n);

			ck_assert_uint_eq(r->len, n);
			ck_assert(n == 0 || memcmp(r->p, want, n) == 0);
			ck_assert(r->p == buf + off);
			free(want);
			break;
		}
		default:
			ck_assert_msg(fget_int(p, d) == (d->kind == F_U8 ?
			    (uint8_t)jint(v) : d->kind == F_U32 ?
			    (uint32_t)jint(v) : jint(v)),
			    "%s: field %s = %llu, want %llu", what, d->name,
			    (unsigned long long)fget_int(p, d),
			    (unsigned long long)jint(v));
		}
	}
	(void)nfields;
}

/* Decode hex at a version; exactly one packet consumed whole. */
static void
decode_and_check(const char *hex, int version, json_t *layout,
    const char *what)
{
	struct wkproto_packet p;
	uint8_t *buf, out[4096];
	size_t len, used = 0;
	int rc;

	buf = wkt_unhex(hex, &len);
	rc = wkproto_decode(buf, len, version, &p, &used);
	ck_assert_msg(rc == 0, "%s: decode: %s", what, wkproto_strerror(rc));
	ck_assert_uint_eq(used, len);
	check_layout(&p, buf, layout, what);
	/* Re-encoding gives the same bytes. */
	ck_assert_int_eq(wkproto_encoded_size(&p, version), (ssize_t)len);
	ck_assert_int_eq(wkproto_encode(&p, version, out, sizeof out),
	    (ssize_t)len);
	ck_assert_msg(memcmp(out, buf, len) == 0, "%s: re-encode differs", what);
	free(buf);
}

/*
 * Vector decoding.
 */
static const char *const c2s_files[] = {
	"c2s_connect.json",
	"c2s_connect_utf8_empty_token.json",
	"c2s_head_connect_v5.json",
	"c2s_head_recvack_v5.json",
	"c2s_head_send_v5.json",
	"c2s_ping.json",
	"c2s_recvack.json",
	"c2s_send.json",
	"c2s_send_receipt_group.json",
	"c2s_send_via_chatManager_send.json",
	"c2s_sub_subscribe.json",
	"c2s_sub_unsubscribe.json",
};
static const char *const s2c_files[] = {
	"s2c_connack_v2.json",
	"s2c_connack_v2_authfail.json",
	"s2c_connack_v5.json",
	"s2c_disconnect.json",
	"s2c_event.json",
	"s2c_pong.json",
	"s2c_recv_v2_encrypted.json",
	"s2c_recv_v2_plain.json",
	"s2c_recv_v2_plain_200B_payload.json",
	"s2c_recv_v2_topic_plain.json",
	"s2c_recv_v5_encrypted.json",
	"s2c_sendack.json",
	"s2c_sendack_payload_decode_error.json",
	"s2c_suback.json",
};
#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* Every c2s vector decodes to its layout at its version. */
START_TEST(test_wkproto_c2s_vectors_decode)
{
	json_t *j = wkt_vec_load(c2s_files[_i]);
	int version = (int)jint(json_object_get(j, "proto_version"));

	ck_assert_int_eq(jint(json_object_get(j, "size_bytes")),
	    strlen(json_string_value(json_object_get(j, "hex"))) / 2);
	decode_and_check(json_string_value(json_object_get(j, "hex")),
	    version, json_object_get(j, "layout"), c2s_files[_i]);
	json_decref(j);
}
END_TEST

/* The s2c vectors decode too (the test and bench clients need it). */
START_TEST(test_wkproto_s2c_vectors_decode)
{
	json_t *j = wkt_vec_load(s2c_files[_i]);
	int version = (int)jint(json_object_get(j, "proto_version"));

	decode_and_check(json_string_value(json_object_get(j, "hex")),
	    version, json_object_get(j, "layout"), s2c_files[_i]);
	json_decref(j);
}
END_TEST

/* Two SENDs in one WS message split into the two packets of the file. */
START_TEST(test_wkproto_batched_ws_message_splits)
{
	json_t *j = wkt_vec_load("c2s_head_send_batched_ws_message.json");
	json_t *pkts = json_object_get(j, "packets"), *pk;
	struct wkproto_frame f;
	struct wkproto_packet p;
	uint8_t *buf;
	size_t len, off = 0, i;

	buf = wkt_unhex(json_string_value(json_object_get(j, "ws_message_hex")),
	    &len);
	ck_assert_uint_eq(json_array_size(pkts), 2);
	json_array_foreach(pkts, i, pk) {
		size_t plen;
		uint8_t *want = wkt_unhex(json_string_value(
		    json_object_get(pk, "hex")), &plen);

		ck_assert_int_eq(wkproto_split(buf + off, len - off, 0, &f), 0);
		ck_assert_uint_eq(f.total, plen);
		ck_assert(memcmp(buf + off, want, plen) == 0);
		/* The HEAD SDK speaks version 5. */
		ck_assert_int_eq(wkproto_decode_frame(&f, 5, &p), 0);
		check_layout(&p, buf + off, json_object_get(pk, "layout"),
		    "batched");
		ck_assert_int_eq(p.send.client_seq, jint(json_object_get(
		    json_array_get(json_object_get(j,
		    "decoded_and_verified_by_go"), i), "clientSeq")));
		off += f.total;
		free(want);
	}
	ck_assert_uint_eq(off, len);
	ck_assert_int_eq(wkproto_split(buf + off, 0, 0, &f), WKPROTO_ENEED);
	free(buf);
	json_decref(j);
}
END_TEST

/*
 * Vector encoding: build the packet from the json input (the layout fills
 * what the input leaves out) and compare with the bytes.
 */
static json_t *
input_value(json_t *j, const char *name)
{
	json_t *in = json_object_get(j, "input"), *v, *e;

	if (strcmp(name, "payload") == 0)
		name = "payload_on_wire";
	if ((v = json_object_get(in, name)) != NULL)
		return v;
	if (strcmp(name, "payload_on_wire") == 0)
		name = "payload";
	e = layout_field(json_object_get(j, "layout"), name);
	return e == NULL ? NULL : json_object_get(e, "value");
}

START_TEST(test_wkproto_s2c_vectors_encode)
{
	json_t *j = wkt_vec_load(s2c_files[_i]), *in, *v, *hdr;
	struct wkproto_packet p;
	const struct fdesc *d;
	uint8_t *want, out[4096];
	size_t len;
	int version = (int)jint(json_object_get(j, "proto_version"));
	ssize_t n;

	memset(&p, 0, sizeof p);
	in = json_object_get(j, "input");
	hdr = json_object_get(json_array_get(json_object_get(j, "layout"), 0),
	    "value");
	p.type = (uint8_t)jint(json_object_get(j, "type_code"));
	if ((v = json_object_get(in, "framer_reddot")) != NULL)
		p.flags |= json_is_true(v) ? WKPROTO_FLAG_REDDOT : 0;
	else
		p.flags |= (uint8_t)(jint(json_object_get(hdr, "redDot")) << 1);
	if ((v = json_object_get(in, "hasServerVersion")) != NULL)
		p.flags |= json_is_true(v) ? WKPROTO_FLAG_HAS_SERVER_VERSION : 0;
	for (d = fields_by_type[p.type]; d->name != NULL; d++) {
		char *b = (char *)&p + d->off;

		if ((v = input_value(j, d->name)) == NULL)
			continue;
		switch (d->kind) {
		case F_U8:	*(uint8_t *)b = (uint8_t)jint(v); break;
		case F_U32:	*(uint32_t *)b = (uint32_t)jint(v); break;
		case F_I32:	*(int32_t *)b = (int32_t)jint(v); break;
		case F_U64:	*(uint64_t *)b = jint(v); break;
		case F_STR:
			*(struct wk_str *)b = wk_str_of(json_string_value(v));
			break;
		case F_REST:
			((struct wk_bytes *)b)->p =
			    (const uint8_t *)json_string_value(v);
			((struct wk_bytes *)b)->len = strlen(json_string_value(v));
			break;
		}
	}
	want = wkt_unhex(json_string_value(json_object_get(j, "hex")), &len);
	ck_assert_int_eq(wkproto_encoded_size(&p, version), (ssize_t)len);
	n = wkproto_encode(&p, version, out, sizeof out);
	ck_assert_msg(n == (ssize_t)len, "%s: %zd bytes, want %zu",
	    s2c_files[_i], n, len);
	ck_assert_msg(memcmp(out, want, len) == 0, "%s: bytes differ",
	    s2c_files[_i]);
	/* One byte short is refused, not truncated. */
	ck_assert_int_eq(wkproto_encode(&p, version, out, len - 1),
	    WKPROTO_ENOSPC);
	free(want);
	json_decref(j);
}
END_TEST

/*
 * Malformed input, per packet type: each with the error it must give.
 */
struct bad_case {
	const char	*name;
	int		 version;
	uint32_t	 cap;		/* 0: default 1 MiB */
	const char	*hex;
	int		 err;
};

#define RVACK12	"17979cfe3d85cd7900000008"	/* a RECVACK body */
#define SACK17	"17979cfe3d85cd15000000010000000701"	/* a SENDACK body */
#define CONNACK_V5 "21520500000000000004d201002c65615978377434622b636d5045674d7333713351353642354f592f486872694d7945627369612b4670526f3d00104131623243336434453566364737683800000000000003e9"
#define CONNACK_V2 "204900000000000004d201002c65615978377434622b636d5045674d7333713351353642354f592f486872694d7945627369612b4670526f3d001041316232433364344535663647376838"
#define EVENT_V5 "c02a00046576743100135f5f5f546578744d65737361676553746172740000018bcfe56fd07b2278223a317d"
#define SEND_V2 "329001000000000100213031323334353637383961626364656630313233343536373839616263646566330003626f6201002065373033616438313733383563663762316534343263613666363930333063316853436f5448466439706339457553675051686245634b644367476b332f2b784b32433463702b2b656b52527a2b5948326c666b595138785530797656667348"
#define RECV_TOPIC "52560800000003626f620003626f6201000a626f626d73673030303117979cfe3d85cd79000000086553f10100046e6577737b22636f6e74656e74223a22686920616c69636520e4bda0e5a5bd222c2274797065223a317d"
#define SUB_SUB	"a01700000000056c69766531070000097b226b223a2276227d"

static const struct bad_case bad_cases[] = {
	/* framing */
	{ "empty", 2, 0, "", WKPROTO_ENEED },
	{ "header only", 2, 0, "62", WKPROTO_ENEED },
	{ "varint cut", 2, 0, "3290", WKPROTO_ENEED },
	{ "body short", 2, 0, "620c17979cfe3d85cd79000000", WKPROTO_ENEED },
	{ "type 0", 2, 0, "00", WKPROTO_ETYPE },
	{ "type 0 flags", 2, 0, "0f0100", WKPROTO_ETYPE },
	{ "type 13", 2, 0, "d0", WKPROTO_ETYPE },
	{ "type 14", 2, 0, "e00100", WKPROTO_ETYPE },
	{ "type 15", 2, 0, "ff", WKPROTO_ETYPE },
	{ "5-byte varint", 2, WKPROTO_VARINT_MAX, "32ffffffff01", WKPROTO_ELENGTH },
	{ "5-byte varint zero", 2, WKPROTO_VARINT_MAX, "3280808080", WKPROTO_ELENGTH },
	{ "4-byte max varint waits", 2, WKPROTO_VARINT_MAX, "32ffffff7f", WKPROTO_ENEED },
	{ "over 1 MiB", 2, 0, "32818040", WKPROTO_ELENGTH },
	{ "exactly 1 MiB waits", 2, 0, "32808040", WKPROTO_ENEED },
	{ "huge 3 bytes, early", 2, 0, "32ffffff", WKPROTO_ELENGTH },
	{ "huge 4 bytes", 2, 0, "32ffffff7f", WKPROTO_ELENGTH },
	{ "over small cap", 2, 100, "3265", WKPROTO_ELENGTH },
	{ "non-minimal varint", 2, 0, "628c00" RVACK12, WKPROTO_ELENGTH },
	{ "non-minimal zero", 2, 0, "6280000000", WKPROTO_ELENGTH },
	/* versions */
	{ "version 0", 0, 0, "620c" RVACK12, WKPROTO_EVERSION },
	{ "version 6", 6, 0, "620c" RVACK12, WKPROTO_EVERSION },
	{ "EVENT at v4", 4, 0, EVENT_V5, WKPROTO_EVERSION },
	{ "EVENT at v1", 1, 0, EVENT_V5, WKPROTO_EVERSION },
	/* CONNECT */
	{ "CONNECT empty body", 2, 0, "1000", WKPROTO_ETRUNC },
	{ "CONNECT short", 2, 0, "100402010000", WKPROTO_ETRUNC },
	{ "CONNECT trailing", 2, 0, "101302010000000000000000000000000000000000", WKPROTO_ETRAILING },
	{ "CONNECT uid 0x8000", 2, 0, "100602010000" "8000", WKPROTO_ESTRING },
	{ "CONNECT deviceID cut", 2, 0, "1006020100054142", WKPROTO_ETRUNC },
	/* CONNACK */
	{ "CONNACK v2 bytes at v4", 4, 0, CONNACK_V2, WKPROTO_ETRUNC },
	{ "CONNACK v5 bytes at v3", 3, 0, CONNACK_V5, WKPROTO_ETRAILING },
	{ "CONNACK trailing", 2, 0, "200e0000000000000000020000000000", WKPROTO_ETRAILING },
	{ "CONNACK short", 2, 0, "200c000000000000000002000000", WKPROTO_ETRUNC },
	/* SEND */
	{ "SEND v2 bytes at v3", 3, 0, SEND_V2, WKPROTO_ETRUNC },
	{ "SEND body 3 bytes", 2, 0, "3203000000", WKPROTO_ETRUNC },
	{ "SEND clientMsgNo 0x8000", 2, 0, "320700000000018000", WKPROTO_ESTRING },
	{ "SEND clientMsgNo 0xffff", 2, 0, "32070000000001ffff", WKPROTO_ESTRING },
	{ "SEND topic bit, no topic", 2, 0, "320c080000000100000000010000", WKPROTO_ETRUNC },
	{ "SEND stream bit v2, no streamNo", 2, 0, "320704000000010000", WKPROTO_ETRUNC },
	/* SENDACK */
	{ "SENDACK short", 2, 0, "4210" "17979cfe3d85cd150000000100000007", WKPROTO_ETRUNC },
	{ "SENDACK trailing", 2, 0, "4212" SACK17 "00", WKPROTO_ETRAILING },
	/* RECV */
	{ "RECV topic cut", 2, 0, "522c0800000003626f620003626f6201000a626f626d73673030303117979cfe3d85cd79000000086553f1010004", WKPROTO_ETRUNC },
	{ "RECV msgKey 0x8000", 2, 0, "5203008000", WKPROTO_ESTRING },
	{ "RECV v2 topic bytes at v3", 3, 0, RECV_TOPIC, WKPROTO_ETRUNC },
	/* RECVACK */
	{ "RECVACK short", 2, 0, "620b17979cfe3d85cd79000000", WKPROTO_ETRUNC },
	{ "RECVACK trailing", 2, 0, "620d" RVACK12 "00", WKPROTO_ETRAILING },
	{ "RECVACK empty", 2, 0, "6200", WKPROTO_ETRUNC },
	/* DISCONNECT */
	{ "DISCONNECT reason 0x8000", 2, 0, "90030c8000", WKPROTO_ESTRING },
	{ "DISCONNECT reason cut", 2, 0, "90040c000541", WKPROTO_ETRUNC },
	{ "DISCONNECT trailing", 2, 0, "90040c000000", WKPROTO_ETRAILING },
	{ "DISCONNECT no length", 2, 0, "90010c", WKPROTO_ETRUNC },
	/* SUB, SUBACK */
	{ "SUB trailing", 2, 0, "a018" "00000000056c69766531070000097b226b223a2276227d00", WKPROTO_ETRAILING },
	{ "SUB param cut", 2, 0, "a016" "00000000056c69766531070000097b226b223a2276227d", WKPROTO_ETRUNC },
	{ "SUBACK short", 2, 0, "b00b000000056c697665310700", WKPROTO_ETRUNC },
	{ "SUBACK trailing", 2, 0, "b00d000000056c6976653107000100", WKPROTO_ETRAILING },
	/* EVENT */
	{ "EVENT no timestamp", 5, 0, "c0080001410001420000", WKPROTO_ETRUNC },
	{ "EVENT type 0x8000", 5, 0, "c009000141800000000000", WKPROTO_ESTRING },
};

START_TEST(test_wkproto_malformed_table)
{
	const struct bad_case *c = &bad_cases[_i];
	struct wkproto_frame f;
	struct wkproto_packet p;
	uint8_t *buf;
	size_t len;
	int rc;

	buf = wkt_unhex(c->hex, &len);
	rc = wkproto_split(buf, len, c->cap, &f);
	if (rc == 0)
		rc = wkproto_decode_frame(&f, c->version, &p);
	ck_assert_msg(rc == c->err, "%s: got %s, want %s", c->name,
	    wkproto_strerror(rc), wkproto_strerror(c->err));
	free(buf);
}
END_TEST

/* The good packets the malformed table is built from do decode. */
START_TEST(test_wkproto_malformed_bases_are_good)
{
	static const struct { const char *hex; int v; } good[] = {
		{ CONNACK_V5, 5 }, { CONNACK_V5, 4 }, { CONNACK_V2, 2 },
		{ CONNACK_V2, 3 }, { EVENT_V5, 5 }, { SEND_V2, 2 },
		{ SEND_V2, 1 }, { RECV_TOPIC, 2 }, { SUB_SUB, 2 },
		{ "620c" RVACK12, 1 }, { "4211" SACK17, 5 },
		{ "c00e000141000142000000000000000a", 5 },
		{ "90030c0000", 2 },
	};
	struct wkproto_packet p;
	uint8_t *buf;
	size_t len, used;

	for (size_t i = 0; i < NELEM(good); i++) {
		buf = wkt_unhex(good[i].hex, &len);
		ck_assert_int_eq(wkproto_decode(buf, len, good[i].v, &p, &used), 0);
		ck_assert_uint_eq(used, len);
		free(buf);
	}
}
END_TEST

/* Any byte with high nibble 7 or 8 is a whole 1-byte packet. */
START_TEST(test_wkproto_ping_pong_one_byte)
{
	struct wkproto_packet p;
	uint8_t b[2], out[4];
	size_t used;

	for (unsigned x = 0x70; x <= 0x8f; x++) {
		b[0] = (uint8_t)x;
		b[1] = 0x10;	/* the next packet's first byte */
		ck_assert_int_eq(wkproto_decode(b, 2, 2, &p, &used), 0);
		ck_assert_uint_eq(used, 1);
		ck_assert_int_eq(p.type, x >> 4);
		ck_assert_int_eq(p.flags, x & 15);
		/* Encoded always with flags 0. */
		ck_assert_int_eq(wkproto_encode(&p, 2, out, sizeof out), 1);
		ck_assert_int_eq(out[0], x & 0xf0);
	}
}
END_TEST

/*
 * The splitter over every split point of a multi-packet stream.
 */
struct conn {
	uint8_t	buf[1024];
	size_t	len;
	size_t	npkt;
	size_t	ends[16];	/* stream offset where each packet ended */
	size_t	pos;		/* stream offset of buf[0] */
};

/* Append bytes and take out every complete packet. */
static void
conn_feed(struct conn *c, const uint8_t *p, size_t n)
{
	struct wkproto_frame f;
	struct wkproto_packet pk;
	int rc;

	ck_assert_uint_le(c->len + n, sizeof c->buf);
	memcpy(c->buf + c->len, p, n);
	c->len += n;
	while ((rc = wkproto_split(c->buf, c->len, 0, &f)) == 0) {
		ck_assert_int_eq(wkproto_decode_frame(&f, 2, &pk), 0);
		ck_assert_int_eq(pk.type, f.type);
		ck_assert_uint_lt(c->npkt, NELEM(c->ends));
		c->pos += f.total;
		c->ends[c->npkt++] = c->pos;
		memmove(c->buf, c->buf + f.total, c->len - f.total);
		c->len -= f.total;
	}
	ck_assert_int_eq(rc, WKPROTO_ENEED);
}

static const char stream_hex[] =
    /* CONNECT */
    "106f020100216665646362613938373635343332313066656463626139383736353433323130570005616c696365000b616c6963652d746f6b656e0000018bcfe56800002c686c4637774d4f66364861335a47793134303767506139787a4c7257644644426170634b324d7641506e343d"
    SEND_V2
    "70"			/* PING */
    "620c" RVACK12		/* RECVACK */
    "7f"			/* PING with stray flags */
    "a01700000000056c69766531070000097b226b223a2276227d";	/* SUB */
static const size_t stream_ends[] = { 113, 260, 261, 275, 276, 301 };

START_TEST(test_wkproto_split_every_point)
{
	struct conn c;
	uint8_t *s;
	size_t len;

	s = wkt_unhex(stream_hex, &len);
	ck_assert_uint_eq(len, stream_ends[NELEM(stream_ends) - 1]);
	for (size_t cut = 0; cut <= len; cut++) {
		memset(&c, 0, sizeof c);
		conn_feed(&c, s, cut);
		conn_feed(&c, s + cut, len - cut);
		ck_assert_uint_eq(c.npkt, NELEM(stream_ends));
		ck_assert(memcmp(c.ends, stream_ends, sizeof stream_ends) == 0);
		ck_assert_uint_eq(c.len, 0);
	}
	/* Three pieces: every pair of cut points. */
	for (size_t a = 0; a <= len; a += 7)
		for (size_t b = a; b <= len; b += 5) {
			memset(&c, 0, sizeof c);
			conn_feed(&c, s, a);
			conn_feed(&c, s + a, b - a);
			conn_feed(&c, s + b, len - b);
			ck_assert_uint_eq(c.npkt, NELEM(stream_ends));
			ck_assert(memcmp(c.ends, stream_ends,
			    sizeof stream_ends) == 0);
		}
	free(s);
}
END_TEST

START_TEST(test_wkproto_split_byte_by_byte)
{
	struct conn c;
	uint8_t *s;
	size_t len;

	s = wkt_unhex(stream_hex, &len);
	memset(&c, 0, sizeof c);
	for (size_t i = 0; i < len; i++)
		conn_feed(&c, s + i, 1);
	ck_assert_uint_eq(c.npkt, NELEM(stream_ends));
	ck_assert(memcmp(c.ends, stream_ends, sizeof stream_ends) == 0);
	ck_assert_uint_eq(c.len, 0);
	free(s);
}
END_TEST

/* A bad type after good packets is reported once the good ones are out,
 * and never turns into waiting for more. */
START_TEST(test_wkproto_split_error_not_hang)
{
	static const char *const bad[] = { "00", "d0", "e1", "f0", "32ffffff" };
	struct wkproto_frame f;
	uint8_t *b;
	size_t len;

	for (size_t i = 0; i < NELEM(bad); i++) {
		char hex[64];

		snprintf(hex, sizeof hex, "70620c%s%s", RVACK12, bad[i]);
		b = wkt_unhex(hex, &len);
		ck_assert_int_eq(wkproto_split(b, len, 0, &f), 0);
		ck_assert_uint_eq(f.total, 1);
		ck_assert_int_eq(wkproto_split(b + 1, len - 1, 0, &f), 0);
		ck_assert_uint_eq(f.total, 14);
		ck_assert_int_lt(wkproto_split(b + 15, len - 15, 0, &f),
		    WKPROTO_ENEED);
		free(b);
	}
}
END_TEST

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

START_TEST(test_wkproto_send_roundtrip_versions)
{
	struct wkproto_packet p, q;
	uint8_t buf[512];
	size_t used;
	ssize_t n;

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
			n = wkproto_encode(&p, v, buf, sizeof buf);
			ck_assert_int_gt(n, 0);
			ck_assert_int_eq(n, wkproto_encoded_size(&p, v));
			ck_assert_int_eq(wkproto_decode(buf, (size_t)n, v, &q,
			    &used), 0);
			ck_assert_uint_eq(used, (size_t)n);
			ck_assert_int_eq(q.flags, p.flags);
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
	size_t used, at;
	ssize_t n;

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
			n = wkproto_encode(&p, v, buf, sizeof buf);
			ck_assert_int_gt(n, 0);
			ck_assert_int_eq(n, wkproto_encoded_size(&p, v));
			ck_assert_int_eq(wkproto_decode(buf, (size_t)n, v, &q,
			    &used), 0);
			ck_assert_uint_eq(used, (size_t)n);
			ck_assert_int_eq(q.flags, p.flags);
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

/*
 * Person channel ids.
 */
static const struct {
	const char *a, *b, *id;
} person_ids[] = {
	{ "u1", "u2", "u2@u1" },
	{ "u2", "u1", "u2@u1" },
	{ "alice", "bob", "bob@alice" },
	{ "bob", "alice", "bob@alice" },
	{ "user123", "user456", "user456@user123" },
	{ "user456", "user123", "user456@user123" },
	{ "u", "u", "u@u" },
};

START_TEST(test_wkproto_channelid_person)
{
	char out[64];
	const char *peer;
	size_t plen;
	const char *a = person_ids[_i].a, *b = person_ids[_i].b;
	const char *id = person_ids[_i].id;

	ck_assert_int_eq(wk_channelid_person(a, strlen(a), b, strlen(b), out,
	    sizeof out), (ssize_t)strlen(id));
	ck_assert_str_eq(out, id);
	ck_assert_int_eq(wk_channelid_person_peer(id, strlen(id), a, strlen(a),
	    &peer, &plen), 0);
	ck_assert(plen == strlen(b) && memcmp(peer, b, plen) == 0);
	ck_assert_int_eq(wk_channelid_person_peer(id, strlen(id), b, strlen(b),
	    &peer, &plen), 0);
	ck_assert(plen == strlen(a) && memcmp(peer, a, plen) == 0);
	/* Too small a buffer is refused. */
	ck_assert_int_eq(wk_channelid_person(a, strlen(a), b, strlen(b), out,
	    strlen(id)), -1);
}
END_TEST

START_TEST(test_wkproto_channelid_crc_and_bad_ids)
{
	const char *peer;
	size_t plen;

	/* zlib.crc32 values. */
	ck_assert_uint_eq(wk_crc32("", 0), 0);
	ck_assert_uint_eq(wk_crc32("alice", 5), 0x278ebc47);
	ck_assert_uint_eq(wk_crc32("bob", 3), 0xf5cbb140);
	ck_assert_uint_eq(wk_crc32("123456789", 9), 0xcbf43926);
	ck_assert_int_eq(wk_channelid_person_peer("a@b", 3, "c", 1, &peer,
	    &plen), -1);
	ck_assert_int_eq(wk_channelid_person_peer("a@b@c", 5, "a", 1, &peer,
	    &plen), -1);
	ck_assert_int_eq(wk_channelid_person_peer("ab", 2, "a", 1, &peer,
	    &plen), -1);
	ck_assert_int_eq(wk_channelid_person_peer("ab@", 3, "ab", 2, &peer,
	    &plen), 0);
	ck_assert_uint_eq(plen, 0);
}
END_TEST

static Suite *
wkproto_suite(void)
{
	Suite *s = suite_create("wkproto");
	TCase *tc = tcase_create("codec");

	tcase_add_loop_test(tc, test_wkproto_c2s_vectors_decode, 0,
	    NELEM(c2s_files));
	tcase_add_loop_test(tc, test_wkproto_s2c_vectors_decode, 0,
	    NELEM(s2c_files));
	tcase_add_loop_test(tc, test_wkproto_s2c_vectors_encode, 0,
	    NELEM(s2c_files));
	tcase_add_test(tc, test_wkproto_batched_ws_message_splits);
	tcase_add_loop_test(tc, test_wkproto_malformed_table, 0,
	    NELEM(bad_cases));
	tcase_add_test(tc, test_wkproto_malformed_bases_are_good);
	tcase_add_test(tc, test_wkproto_ping_pong_one_byte);
	tcase_add_test(tc, test_wkproto_split_every_point);
	tcase_add_test(tc, test_wkproto_split_byte_by_byte);
	tcase_add_test(tc, test_wkproto_split_error_not_hang);
	tcase_add_test(tc, test_wkproto_send_roundtrip_versions);
	tcase_add_test(tc, test_wkproto_recv_roundtrip_versions);
	tcase_add_loop_test(tc, test_wkproto_all_types_roundtrip, 0, 5);
	tcase_add_test(tc, test_wkproto_encode_refusals);
	tcase_add_test(tc, test_wkproto_varint_boundaries);
	tcase_add_test(tc, test_wkproto_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("channelid");
	tcase_add_loop_test(tc, test_wkproto_channelid_person, 0,
	    NELEM(person_ids));
	tcase_add_test(tc, test_wkproto_channelid_crc_and_bad_ids);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return wkt_run_suite(wkproto_suite());
}
