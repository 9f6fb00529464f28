/* wkproto_decode.c - WKProto decoder: zero-copy reading of every packet type
 * at protocol versions 1..5 (wkproto.h, wkproto(7)).  The splitter, names
 * and encoder are in wkproto.c.
 *
 * Depends on libc only: the fuzzer builds it with wkproto.c alone. */
#include <string.h>
#include "wkproto.h"

/*
 * Reading.  The reader keeps the first error and turns every later read
 * into a no-op returning zero, so a decoder is a straight list of fields
 * followed by one check.  Nothing is read past r->end.
 */
struct rd {
	const uint8_t	*p;
	const uint8_t	*end;
	int		 err;
};

/* 1 if n more bytes can be read; otherwise record ETRUNC (once) and 0. */
static inline int
rd_need(struct rd *r, size_t n)
{
	if (r->err != 0)
		return 0;
	if ((size_t)(r->end - r->p) < n) {
		r->err = WKPROTO_ETRUNC;
		return 0;
	}
	return 1;
}

/* One byte, 0 after an error. */
static inline uint8_t
rd_u8(struct rd *r)
{
	if (!rd_need(r, 1))
		return 0;
	return *r->p++;
}

/* Big-endian u32 (every WKProto integer is big-endian, unlike MQTT's
 * length varint). */
static inline uint32_t
rd_u32(struct rd *r)
{
	const uint8_t *q = r->p;

	if (!rd_need(r, 4))
		return 0;
	r->p += 4;
	return (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 |
	    (uint32_t)q[2] << 8 | q[3];
}

/* Big-endian u64: message ids, timestamps, node ids. */
static inline uint64_t
rd_u64(struct rd *r)
{
	const uint8_t *q = r->p;

	if (!rd_need(r, 8))
		return 0;
	r->p += 8;
	return (uint64_t)q[0] << 56 | (uint64_t)q[1] << 48 |
	    (uint64_t)q[2] << 40 | (uint64_t)q[3] << 32 |
	    (uint64_t)q[4] << 24 | (uint64_t)q[5] << 16 |
	    (uint64_t)q[6] << 8 | q[7];
}

/* A u16-length string; lengths >= 0x8000 are refused as Go does. */
static inline struct wk_str
rd_str(struct rd *r)
{
	struct wk_str s = { "", 0 };
	unsigned n;

	if (!rd_need(r, 2))
		return s;
	n = (unsigned)r->p[0] << 8 | r->p[1];
	if (n > WKPROTO_STR_MAX) {
		r->err = WKPROTO_ESTRING;
		return s;
	}
	r->p += 2;
	if (!rd_need(r, n))
		return s;
	s.p = (const char *)r->p;
	s.len = (uint16_t)n;
	r->p += n;
	return s;
}

/* The rest of the packet (payload, event data). */
static inline struct wk_bytes
rd_rest(struct rd *r)
{
	struct wk_bytes b = { r->p, 0 };

	if (r->err == 0) {
		b.len = (size_t)(r->end - r->p);
		r->p = r->end;
	}
	return b;
}

/*
 * Decoding, one function per type.  Each reads its fields in wire order;
 * the caller checks r->err and that the body was consumed exactly.
 */
/* CONNECT: version, device flag, device id, uid, token, client time, key. */
static void
dec_connect(struct rd *r, struct wkproto_connect *c)
{
	c->version = rd_u8(r);
	c->device_flag = rd_u8(r);
	c->device_id = rd_str(r);
	c->uid = rd_str(r);
	c->token = rd_str(r);
	c->client_timestamp = (int64_t)rd_u64(r);
	c->client_key = rd_str(r);
}

/* CONNACK: the server version byte only when the header flag says so;
 * node_id from version 4 on. */
static void
dec_connack(struct rd *r, int v, uint8_t flags, struct wkproto_connack *c)
{
	if (flags & WKPROTO_FLAG_HAS_SERVER_VERSION)
		c->server_version = rd_u8(r);
	c->time_diff = (int64_t)rd_u64(r);
	c->reason_code = rd_u8(r);
	c->server_key = rd_str(r);
	c->salt = rd_str(r);
	if (v >= 4)
		c->node_id = rd_u64(r);
}

/* SEND: stream_no when the version's stream bit is set, expire from
 * version 3, topic when the setting says so, the rest is payload. */
static void
dec_send(struct rd *r, int v, struct wkproto_send *s)
{
	uint8_t sb = wkproto_stream_bit(v);

	s->setting = rd_u8(r);
	s->client_seq = rd_u32(r);
	s->client_msg_no = rd_str(r);
	if (s->setting & sb)
		s->stream_no = rd_str(r);
	s->channel_id = rd_str(r);
	s->channel_type = rd_u8(r);
	if (v >= 3)
		s->expire = rd_u32(r);
	s->msg_key = rd_str(r);
	if (s->setting & WKPROTO_SETTING_TOPIC)
		s->topic = rd_str(r);
	s->payload = rd_rest(r);
}

/* SENDACK: message id, the client's seq echoed, message seq, reason. */
static void
dec_sendack(struct rd *r, struct wkproto_sendack *s)
{
	s->message_id = (int64_t)rd_u64(r);
	s->client_seq = rd_u32(r);
	s->message_seq = rd_u32(r);
	s->reason_code = rd_u8(r);
}

/* RECV: as SEND plus sender and ids.  The stream fields come in two
 * layouts: versions 2-3 (no, seq, flag) and 4 (flag, no, id). */
static void
dec_recv(struct rd *r, int v, struct wkproto_recv *m)
{
	uint8_t sb = wkproto_stream_bit(v);

	m->setting = rd_u8(r);
	m->msg_key = rd_str(r);
	m->from_uid = rd_str(r);
	m->channel_id = rd_str(r);
	m->channel_type = rd_u8(r);
	if (v >= 3)
		m->expire = rd_u32(r);
	m->client_msg_no = rd_str(r);
	if ((m->setting & sb) && v < 4) {
		m->stream_no = rd_str(r);
		m->stream_seq = rd_u32(r);
		m->stream_flag = rd_u8(r);
	} else if (m->setting & sb) {
		m->stream_flag = rd_u8(r);
		m->stream_no = rd_str(r);
		m->stream_id = rd_u64(r);
	}
	m->message_id = (int64_t)rd_u64(r);
	m->message_seq = rd_u32(r);
	m->timestamp = (int32_t)rd_u32(r);
	if (m->setting & WKPROTO_SETTING_TOPIC)
		m->topic = rd_str(r);
	m->payload = rd_rest(r);
}

/* RECVACK: which message the client acknowledges. */
static void
dec_recvack(struct rd *r, struct wkproto_recvack *a)
{
	a->message_id = (int64_t)rd_u64(r);
	a->message_seq = rd_u32(r);
}

/* DISCONNECT: reason code and text. */
static void
dec_disconnect(struct rd *r, struct wkproto_disconnect *d)
{
	d->reason_code = rd_u8(r);
	d->reason = rd_str(r);
}

/* SUB: subscribe to a channel (action 0) or unsubscribe (1). */
static void
dec_sub(struct rd *r, struct wkproto_sub *s)
{
	s->setting = rd_u8(r);
	s->sub_no = rd_str(r);
	s->channel_id = rd_str(r);
	s->channel_type = rd_u8(r);
	s->action = rd_u8(r);
	s->param = rd_str(r);
}

/* SUBACK: the SUB echoed with a reason code. */
static void
dec_suback(struct rd *r, struct wkproto_suback *s)
{
	s->sub_no = rd_str(r);
	s->channel_id = rd_str(r);
	s->channel_type = rd_u8(r);
	s->action = rd_u8(r);
	s->reason_code = rd_u8(r);
}

/* EVENT (version 5): id, type, time, then opaque data to the end. */
static void
dec_event(struct rd *r, struct wkproto_event *e)
{
	e->id = rd_str(r);
	e->type = rd_str(r);
	e->timestamp = (int64_t)rd_u64(r);
	e->data = rd_rest(r);
}

/* Decode a split frame at the connection's version.  The packet's strings
 * point into f's buffer (zero-copy): they live as long as that buffer.
 * A packet with bytes left over is refused (ETRAILING). */
int
wkproto_decode_frame(const struct wkproto_frame *f, int version,
    struct wkproto_packet *out)
{
	struct rd r = { f->body, f->body + f->body_len, 0 };

	if (!WKPROTO_VERSION_OK(version))
		return WKPROTO_EVERSION;
	if (f->type == WKPROTO_RESERVED || f->type > WKPROTO_EVENT)
		return WKPROTO_ETYPE;
	if (!wkproto_type_valid(f->type, version))
		return WKPROTO_EVERSION;
	memset(out, 0, sizeof *out);
	out->type = f->type;
	out->flags = f->flags;
	switch (f->type) {
	case WKPROTO_CONNECT:
		dec_connect(&r, &out->connect);
		break;
	case WKPROTO_CONNACK:
		dec_connack(&r, version, f->flags, &out->connack);
		break;
	case WKPROTO_SEND:
		dec_send(&r, version, &out->send);
		break;
	case WKPROTO_SENDACK:
		dec_sendack(&r, &out->sendack);
		break;
	case WKPROTO_RECV:
		dec_recv(&r, version, &out->recv);
		break;
	case WKPROTO_RECVACK:
		dec_recvack(&r, &out->recvack);
		break;
	case WKPROTO_PING:
	case WKPROTO_PONG:
		break;
	case WKPROTO_DISCONNECT:
		dec_disconnect(&r, &out->disconnect);
		break;
	case WKPROTO_SUB:
		dec_sub(&r, &out->sub);
		break;
	case WKPROTO_SUBACK:
		dec_suback(&r, &out->suback);
		break;
	case WKPROTO_EVENT:
		dec_event(&r, &out->event);
		break;
	}
	if (r.err != 0)
		return r.err;
	if (r.p != r.end)
		return WKPROTO_ETRAILING;
	return 0;
}

/* Split and decode in one call (tests and tools); *consumed = packet size. */
int
wkproto_decode(const uint8_t *buf, size_t len, int version,
    struct wkproto_packet *out, size_t *consumed)
{
	struct wkproto_frame f;
	int rc;

	if ((rc = wkproto_split(buf, len, 0, &f)) != 0)
		return rc;
	if ((rc = wkproto_decode_frame(&f, version, out)) != 0)
		return rc;
	if (consumed != NULL)
		*consumed = f.total;
	return 0;
}
