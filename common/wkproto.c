/* wkproto.c - WKProto codec: stream splitter, zero-copy decoder and encoder
 * for CONNECT, CONNACK, SEND, SENDACK, RECV, RECVACK, PING, PONG,
 * DISCONNECT, SUB, SUBACK and EVENT at protocol versions 1..5.  See
 * wkproto.h for the API and wkproto(7) for the wire format.
 *
 * Depends on libc only: the fuzzer builds this file alone. */
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
 * Writing.  The encoder sizes the packet first, so these never check.
 */
/* The writers return the advanced pointer, so an encoder is a chain. */
static inline uint8_t *
wr_u8(uint8_t *w, uint8_t v)
{
	*w = v;
	return w + 1;
}

static inline uint8_t *
wr_u32(uint8_t *w, uint32_t v)
{
	w[0] = (uint8_t)(v >> 24);
	w[1] = (uint8_t)(v >> 16);
	w[2] = (uint8_t)(v >> 8);
	w[3] = (uint8_t)v;
	return w + 4;
}

static inline uint8_t *
wr_u64(uint8_t *w, uint64_t v)
{
	w = wr_u32(w, (uint32_t)(v >> 32));
	return wr_u32(w, (uint32_t)v);
}

/* u16 length then the bytes; body_size() already refused > STR_MAX. */
static inline uint8_t *
wr_str(uint8_t *w, struct wk_str s)
{
	w[0] = (uint8_t)(s.len >> 8);
	w[1] = (uint8_t)s.len;
	if (s.len > 0)
		memcpy(w + 2, s.p, s.len);
	return w + 2 + s.len;
}

/* Unframed bytes to the end of the packet (payload, event data). */
static inline uint8_t *
wr_bytes(uint8_t *w, struct wk_bytes b)
{
	if (b.len > 0)
		memcpy(w, b.p, b.len);
	return w + b.len;
}

/*
 * Tables and small queries.
 */
static const char *const type_names[16] = {
	"RESERVED", "CONNECT", "CONNACK", "SEND", "SENDACK", "RECV",
	"RECVACK", "PING", "PONG", "DISCONNECT", "SUB", "SUBACK", "EVENT",
	"UNKNOWN", "UNKNOWN", "UNKNOWN",
};

/* A packet type's name for logs; out-of-range types are "UNKNOWN". */
const char *
wkproto_type_name(int type)
{
	if (type < 0 || type > 15)
		return "UNKNOWN";
	return type_names[type];
}

/* The text of a WKPROTO_E* code, for logs and the fuzz driver. */
const char *
wkproto_strerror(int err)
{
	switch (err) {
	case WKPROTO_OK:	return "success";
	case WKPROTO_ENEED:	return "need more bytes";
	case WKPROTO_ETYPE:	return "reserved or unknown packet type";
	case WKPROTO_ELENGTH:	return "bad remaining length";
	case WKPROTO_ETRUNC:	return "field truncated";
	case WKPROTO_ETRAILING:	return "trailing bytes in packet";
	case WKPROTO_ESTRING:	return "string too long";
	case WKPROTO_EVERSION:	return "not valid at this protocol version";
	case WKPROTO_ENOSPC:	return "buffer too small";
	case WKPROTO_EINVAL:	return "invalid argument";
	default:		return "unknown error";
	}
}

/* Versions this codec speaks (wkproto(7): 1 to 5). */
static inline int
version_ok(int version)
{
	return version >= WKPROTO_VERSION_MIN && version <= WKPROTO_VERSION_MAX;
}

/* Whether a client or server may send this type at this version: EVENT
 * only exists from version 5 on. */
int
wkproto_type_valid(int type, int version)
{
	if (!version_ok(version) || type < WKPROTO_CONNECT ||
	    type > WKPROTO_EVENT)
		return 0;
	return type != WKPROTO_EVENT || version >= 5;
}

/* The setting bit that announces stream fields at this version, or 0. */
uint8_t
wkproto_stream_bit(int version)
{
	/* wk's choice (wkproto(7)): the SDK 1.0.4 form at v2 and v3, the
	 * v2.2.5 form at v4, no stream fields at v1 and v5. */
	if (version == 2 || version == 3)
		return WKPROTO_SETTING_STREAM_SDK;
	if (version == 4)
		return WKPROTO_SETTING_STREAM;
	return 0;
}

/*
 * Splitting.
 */
/* Find the next whole packet in buf: its type, flags and body.  PING and
 * PONG are a lone header byte; other types carry a varint body length,
 * bounded by max_remaining (wk-broker passes limits.maxPacketSize) so a hostile
 * length is refused before its bytes are buffered.  ENEED: read more. */
int
wkproto_split(const uint8_t *buf, size_t len, uint32_t max_remaining,
    struct wkproto_frame *f)
{
	uint32_t v = 0, cap;
	unsigned type, i, b;

	if (len == 0)
		return WKPROTO_ENEED;
	type = buf[0] >> 4;
	if (type == WKPROTO_RESERVED || type > WKPROTO_EVENT)
		return WKPROTO_ETYPE;
	f->type = (uint8_t)type;
	f->flags = buf[0] & 0x0f;
	if (type == WKPROTO_PING || type == WKPROTO_PONG) {
		f->hdr_len = 1;
		f->body_len = 0;
		f->body = buf + 1;
		f->total = 1;
		return 0;
	}
	cap = max_remaining == 0 ? WKPROTO_MAX_REMAINING : max_remaining;
	if (cap > WKPROTO_VARINT_MAX)
		cap = WKPROTO_VARINT_MAX;
	/*
	 * MQTT varint, at most 4 bytes, minimal encoding only (every real
	 * encoder writes it so; a zero final byte after a continuation is
	 * refused).  With a continuation bit the final value is at least
	 * v + 2^(7(i+1)), so an oversize length fails here without waiting
	 * for the rest of the packet.
	 */
	for (i = 0;; i++) {
		if (1 + i >= len)
			return WKPROTO_ENEED;
		b = buf[1 + i];
		v |= (uint32_t)(b & 0x7f) << (7 * i);
		if ((b & 0x80) == 0) {
			if (b == 0 && i > 0)
				return WKPROTO_ELENGTH;
			break;
		}
		if (i == 3 || v + (1u << (7 * (i + 1))) > cap)
			return WKPROTO_ELENGTH;
	}
	if (v > cap)
		return WKPROTO_ELENGTH;
	f->hdr_len = (uint8_t)(i + 2);
	f->body_len = v;
	f->body = buf + f->hdr_len;
	f->total = (size_t)f->hdr_len + v;
	if (len < f->total)
		return WKPROTO_ENEED;
	return 0;
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

	if (!version_ok(version))
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

/*
 * Encoding.  body_size() validates and sizes; encode writes.
 */
#define STRSZ(s)	(2 + (size_t)(s).len)
#define STRBAD(s)	((s).len > WKPROTO_STR_MAX || ((s).len > 0 && (s).p == NULL))
#define BYTESBAD(b)	((b).len > 0 && (b).p == NULL)

/* Body length of p at version v, or a negative error. */
static ssize_t
body_size(const struct wkproto_packet *p, int v)
{
	uint8_t sb = wkproto_stream_bit(v);
	size_t n;
	int bad;

	switch (p->type) {
	case WKPROTO_CONNECT: {
		const struct wkproto_connect *c = &p->connect;

		bad = STRBAD(c->device_id) | STRBAD(c->uid) |
		    STRBAD(c->token) | STRBAD(c->client_key);
		n = 2 + STRSZ(c->device_id) + STRSZ(c->uid) + STRSZ(c->token) +
		    8 + STRSZ(c->client_key);
		break;
	}
	case WKPROTO_CONNACK: {
		const struct wkproto_connack *c = &p->connack;

		bad = STRBAD(c->server_key) | STRBAD(c->salt);
		n = ((p->flags & WKPROTO_FLAG_HAS_SERVER_VERSION) ? 1 : 0) +
		    8 + 1 + STRSZ(c->server_key) + STRSZ(c->salt) +
		    (v >= 4 ? 8 : 0);
		break;
	}
	case WKPROTO_SEND: {
		const struct wkproto_send *s = &p->send;

		bad = STRBAD(s->client_msg_no) | STRBAD(s->channel_id) |
		    STRBAD(s->msg_key) | BYTESBAD(s->payload);
		n = 1 + 4 + STRSZ(s->client_msg_no) + STRSZ(s->channel_id) +
		    1 + STRSZ(s->msg_key) + s->payload.len;
		if (s->setting & sb) {
			bad |= STRBAD(s->stream_no);
			n += STRSZ(s->stream_no);
		}
		if (v >= 3)
			n += 4;
		if (s->setting & WKPROTO_SETTING_TOPIC) {
			bad |= STRBAD(s->topic);
			n += STRSZ(s->topic);
		}
		break;
	}
	case WKPROTO_SENDACK:
		bad = 0;
		n = 8 + 4 + 4 + 1;
		break;
	case WKPROTO_RECV: {
		const struct wkproto_recv *m = &p->recv;

		bad = STRBAD(m->msg_key) | STRBAD(m->from_uid) |
		    STRBAD(m->channel_id) | STRBAD(m->client_msg_no) |
		    BYTESBAD(m->payload);
		n = 1 + STRSZ(m->msg_key) + STRSZ(m->from_uid) +
		    STRSZ(m->channel_id) + 1 + STRSZ(m->client_msg_no) +
		    8 + 4 + 4 + m->payload.len;
		if (v >= 3)
			n += 4;
		if (m->setting & sb) {
			bad |= STRBAD(m->stream_no);
			n += STRSZ(m->stream_no) + 1 + (v < 4 ? 4 : 8);
		}
		if (m->setting & WKPROTO_SETTING_TOPIC) {
			bad |= STRBAD(m->topic);
			n += STRSZ(m->topic);
		}
		break;
	}
	case WKPROTO_RECVACK:
		bad = 0;
		n = 8 + 4;
		break;
	case WKPROTO_PING:
	case WKPROTO_PONG:
		bad = 0;
		n = 0;
		break;
	case WKPROTO_DISCONNECT:
		bad = STRBAD(p->disconnect.reason);
		n = 1 + STRSZ(p->disconnect.reason);
		break;
	case WKPROTO_SUB: {
		const struct wkproto_sub *s = &p->sub;

		bad = STRBAD(s->sub_no) | STRBAD(s->channel_id) |
		    STRBAD(s->param);
		n = 1 + STRSZ(s->sub_no) + STRSZ(s->channel_id) + 1 + 1 +
		    STRSZ(s->param);
		break;
	}
	case WKPROTO_SUBACK: {
		const struct wkproto_suback *s = &p->suback;

		bad = STRBAD(s->sub_no) | STRBAD(s->channel_id);
		n = STRSZ(s->sub_no) + STRSZ(s->channel_id) + 3;
		break;
	}
	case WKPROTO_EVENT: {
		const struct wkproto_event *e = &p->event;

		bad = STRBAD(e->id) | STRBAD(e->type) | BYTESBAD(e->data);
		n = STRSZ(e->id) + STRSZ(e->type) + 8 + e->data.len;
		break;
	}
	default:
		return WKPROTO_ETYPE;
	}
	if (bad)
		return WKPROTO_ESTRING;
	if (n > WKPROTO_VARINT_MAX)
		return WKPROTO_ELENGTH;
	return (ssize_t)n;
}

/* Bytes of the MQTT length varint for a body of n bytes. */
static inline size_t
varint_len(size_t n)
{
	return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : 4;
}

/* Check p and version; the body length, or a negative error. */
static ssize_t
checked_body_size(const struct wkproto_packet *p, int version)
{
	if (p == NULL)
		return WKPROTO_EINVAL;
	if (!version_ok(version))
		return WKPROTO_EVERSION;
	if (p->type == WKPROTO_RESERVED || p->type > WKPROTO_EVENT)
		return WKPROTO_ETYPE;
	if (!wkproto_type_valid(p->type, version))
		return WKPROTO_EVERSION;
	return body_size(p, version);
}

/* The size wkproto_encode() will write, or a negative error: callers size
 * their output buffer with it first. */
ssize_t
wkproto_encoded_size(const struct wkproto_packet *p, int version)
{
	ssize_t n;

	if ((n = checked_body_size(p, version)) < 0)
		return n;
	if (p->type == WKPROTO_PING || p->type == WKPROTO_PONG)
		return 1;
	return 1 + (ssize_t)varint_len((size_t)n) + n;
}

/* Write p at version into buf (cap bytes): the total size, or a negative
 * error (ENOSPC leaves buf untouched).  Header flags other types do not
 * define are cleared, so a caller's stray bits never reach a client. */
ssize_t
wkproto_encode(const struct wkproto_packet *p, int version, uint8_t *buf,
    size_t cap)
{
	uint8_t sb = wkproto_stream_bit(version), flags;
	ssize_t total, body;
	uint8_t *w = buf;
	size_t n;

	if ((body = checked_body_size(p, version)) < 0)
		return body;
	if (p->type == WKPROTO_PING || p->type == WKPROTO_PONG)
		total = 1;
	else
		total = 1 + (ssize_t)varint_len((size_t)body) + body;
	if ((size_t)total > cap)
		return WKPROTO_ENOSPC;
	if (buf == NULL)
		return WKPROTO_EINVAL;
	flags = p->flags & 0x0f;
	if (p->type == WKPROTO_CONNACK)
		flags &= WKPROTO_FLAG_HAS_SERVER_VERSION;
	else if (p->type == WKPROTO_PING || p->type == WKPROTO_PONG)
		flags = 0;
	w = wr_u8(w, (uint8_t)(p->type << 4 | flags));
	if (total == 1)
		return 1;
	for (n = (size_t)body; n >= 0x80; n >>= 7)
		w = wr_u8(w, (uint8_t)(n | 0x80));
	w = wr_u8(w, (uint8_t)n);

	switch (p->type) {
	case WKPROTO_CONNECT: {
		const struct wkproto_connect *c = &p->connect;

		w = wr_u8(w, c->version);
		w = wr_u8(w, c->device_flag);
		w = wr_str(w, c->device_id);
		w = wr_str(w, c->uid);
		w = wr_str(w, c->token);
		w = wr_u64(w, (uint64_t)c->client_timestamp);
		w = wr_str(w, c->client_key);
		break;
	}
	case WKPROTO_CONNACK: {
		const struct wkproto_connack *c = &p->connack;

		if (flags & WKPROTO_FLAG_HAS_SERVER_VERSION)
			w = wr_u8(w, c->server_version);
		w = wr_u64(w, (uint64_t)c->time_diff);
		w = wr_u8(w, c->reason_code);
		w = wr_str(w, c->server_key);
		w = wr_str(w, c->salt);
		if (version >= 4)
			w = wr_u64(w, c->node_id);
		break;
	}
	case WKPROTO_SEND: {
		const struct wkproto_send *s = &p->send;

		w = wr_u8(w, s->setting);
		w = wr_u32(w, s->client_seq);
		w = wr_str(w, s->client_msg_no);
		if (s->setting & sb)
			w = wr_str(w, s->stream_no);
		w = wr_str(w, s->channel_id);
		w = wr_u8(w, s->channel_type);
		if (version >= 3)
			w = wr_u32(w, s->expire);
		w = wr_str(w, s->msg_key);
		if (s->setting & WKPROTO_SETTING_TOPIC)
			w = wr_str(w, s->topic);
		w = wr_bytes(w, s->payload);
		break;
	}
	case WKPROTO_SENDACK: {
		const struct wkproto_sendack *s = &p->sendack;

		w = wr_u64(w, (uint64_t)s->message_id);
		w = wr_u32(w, s->client_seq);
		w = wr_u32(w, s->message_seq);
		w = wr_u8(w, s->reason_code);
		break;
	}
	case WKPROTO_RECV: {
		const struct wkproto_recv *m = &p->recv;

		w = wr_u8(w, m->setting);
		w = wr_str(w, m->msg_key);
		w = wr_str(w, m->from_uid);
		w = wr_str(w, m->channel_id);
		w = wr_u8(w, m->channel_type);
		if (version >= 3)
			w = wr_u32(w, m->expire);
		w = wr_str(w, m->client_msg_no);
		if ((m->setting & sb) && version < 4) {
			w = wr_str(w, m->stream_no);
			w = wr_u32(w, m->stream_seq);
			w = wr_u8(w, m->stream_flag);
		} else if (m->setting & sb) {
			w = wr_u8(w, m->stream_flag);
			w = wr_str(w, m->stream_no);
			w = wr_u64(w, m->stream_id);
		}
		w = wr_u64(w, (uint64_t)m->message_id);
		w = wr_u32(w, m->message_seq);
		w = wr_u32(w, (uint32_t)m->timestamp);
		if (m->setting & WKPROTO_SETTING_TOPIC)
			w = wr_str(w, m->topic);
		w = wr_bytes(w, m->payload);
		break;
	}
	case WKPROTO_RECVACK:
		w = wr_u64(w, (uint64_t)p->recvack.message_id);
		w = wr_u32(w, p->recvack.message_seq);
		break;
	case WKPROTO_DISCONNECT:
		w = wr_u8(w, p->disconnect.reason_code);
		w = wr_str(w, p->disconnect.reason);
		break;
	case WKPROTO_SUB: {
		const struct wkproto_sub *s = &p->sub;

		w = wr_u8(w, s->setting);
		w = wr_str(w, s->sub_no);
		w = wr_str(w, s->channel_id);
		w = wr_u8(w, s->channel_type);
		w = wr_u8(w, s->action);
		w = wr_str(w, s->param);
		break;
	}
	case WKPROTO_SUBACK: {
		const struct wkproto_suback *s = &p->suback;

		w = wr_str(w, s->sub_no);
		w = wr_str(w, s->channel_id);
		w = wr_u8(w, s->channel_type);
		w = wr_u8(w, s->action);
		w = wr_u8(w, s->reason_code);
		break;
	}
	case WKPROTO_EVENT: {
		const struct wkproto_event *e = &p->event;

		w = wr_str(w, e->id);
		w = wr_str(w, e->type);
		w = wr_u64(w, (uint64_t)e->timestamp);
		w = wr_bytes(w, e->data);
		break;
	}
	}
	/* body_size() and the writers above must agree. */
	if (w - buf != total)
		return WKPROTO_EINVAL;
	return total;
}
