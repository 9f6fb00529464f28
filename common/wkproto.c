/* wkproto.c - WKProto codec: stream splitter, zero-copy decoder and encoder
 * for CONNECT, CONNACK, SEND, SENDACK, RECV, RECVACK, PING, PONG,
 * DISCONNECT, SUB, SUBACK and EVENT at protocol versions 1..5.  See
 * wkproto.h for the API and wkproto(7) for the wire format.
 *
 * Depends on libc only: the fuzzer builds this file alone. */
#include <string.h>
#include "wkproto.h"

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

/* Whether a client or server may send this type at this version: EVENT
 * only exists from version 5 on. */
int
wkproto_type_valid(int type, int version)
{
	if (!WKPROTO_VERSION_OK(version) || type < WKPROTO_CONNECT ||
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
	if (!WKPROTO_VERSION_OK(version))
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
