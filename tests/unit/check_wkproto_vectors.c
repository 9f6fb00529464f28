/* check_wkproto_vectors.c - the WKProto codec (common/wkproto.c) against
 * the golden vectors in tests/vectors (wkproto(7)): decode of every c2s and
 * s2c vector field by field against its layout, encode of every s2c input
 * to its exact bytes, and a batched WebSocket message split into its
 * packets.  The malformed inputs are in check_wkproto_malformed.c, the
 * round trips in check_wkproto_roundtrip.c. */
#include <check.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "wktest.h"
#include "wkproto.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

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

static Suite *
wkproto_vectors_suite(void)
{
	Suite *s = suite_create("wkproto_vectors");
	TCase *tc;

	tc = tcase_create("vectors");
	tcase_add_loop_test(tc, test_wkproto_c2s_vectors_decode, 0, NELEM(c2s_files));
	tcase_add_loop_test(tc, test_wkproto_s2c_vectors_decode, 0, NELEM(s2c_files));
	tcase_add_loop_test(tc, test_wkproto_s2c_vectors_encode, 0, NELEM(s2c_files));
	tcase_add_test(tc, test_wkproto_batched_ws_message_splits);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return wkt_run_suite(wkproto_vectors_suite());
}
