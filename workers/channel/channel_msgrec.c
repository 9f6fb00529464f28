/* channel_msgrec.c - the messages.db record of a message (wk-channel(8)),
 * written and read only here.
 *   version 1: u8 1, u64 message_id, u32 timestamp, u8 flags, u8 setting,
 *              u32 expire, then from_uid, client_msg_no, topic, stream_no
 *              each as u16 length, bytes, NUL; then u32 length and the
 *              payload.
 *   version 2: the same with u8 2 first, then after the payload: u8
 *              revoked, u32 extra_version, u32 edited_at, revoker (u16
 *              length, bytes, NUL).  Written only for a message that was
 *              revoked or edited (POST /message/revoke, /message/edit); a
 *              revoked one has an empty payload.
 * A message never revoked or edited stays version 1, so the records of
 * older releases and new ones read alike.
 */
#include <string.h>
#include "channel.h"
#include "wk_buf.h"

#define MSG_V1 1
#define MSG_V2 2

/* A string of a stored message: u16 length, the bytes, then a NUL, so that
 * a decoded message can point into the record as C strings. */
static void
put_cstr(struct wk_wbuf *b, const char *s, size_t n)
{
	wk_put_u16(b, (uint16_t)n);
	wk_put_mem(b, s, n);
	wk_put_u8(b, 0);
}

/* A u16-length, NUL-terminated string of a stored message. */
static const char *
get_cstr(struct wk_rbuf *r, size_t *n)
{
	const char *s = wk_get_strv(r, n);

	if (wk_get_u8(r) != 0)
		r->err = 1;
	return r->err ? "" : s;
}

void
channel_msg_encode(struct wk_wbuf *v, const struct channel_msg *m)
{
	int v2 = m->extra_version != 0;

	wk_put_u8(v, v2 ? MSG_V2 : MSG_V1);
	wk_put_u64(v, (uint64_t)m->message_id);
	wk_put_u32(v, (uint32_t)m->timestamp);
	wk_put_u8(v, m->flags);
	wk_put_u8(v, m->setting);
	wk_put_u32(v, m->expire);
	put_cstr(v, m->from_uid, m->from_uid_len);
	put_cstr(v, m->client_msg_no, m->client_msg_no_len);
	put_cstr(v, m->topic, m->topic_len);
	put_cstr(v, m->stream_no, m->stream_no_len);
	wk_put_blob(v, m->payload, m->payload_len);
	if (!v2)
		return;
	wk_put_u8(v, m->revoked ? 1 : 0);
	wk_put_u32(v, m->extra_version);
	wk_put_u32(v, m->edited_at);
	put_cstr(v, m->revoker, m->revoker_len);
}

int
channel_msg_decode(struct channel_msg *m, uint32_t seq, const void *rec, size_t len)
{
	struct wk_rbuf r;
	uint8_t version;

	memset(m, 0, sizeof *m);
	wk_rbuf_init(&r, rec, len);
	version = wk_get_u8(&r);
	if (version != MSG_V1 && version != MSG_V2)
		return -1;
	m->seq = seq;
	m->message_id = (int64_t)wk_get_u64(&r);
	m->timestamp = (int32_t)wk_get_u32(&r);
	m->flags = wk_get_u8(&r);
	m->setting = wk_get_u8(&r);
	m->expire = wk_get_u32(&r);
	m->from_uid = get_cstr(&r, &m->from_uid_len);
	m->client_msg_no = get_cstr(&r, &m->client_msg_no_len);
	m->topic = get_cstr(&r, &m->topic_len);
	m->stream_no = get_cstr(&r, &m->stream_no_len);
	m->payload = wk_get_blob(&r, &m->payload_len);
	if (version == MSG_V2) {
		m->revoked = wk_get_u8(&r);
		m->extra_version = wk_get_u32(&r);
		m->edited_at = wk_get_u32(&r);
		m->revoker = get_cstr(&r, &m->revoker_len);
		if (m->revoked > 1 || m->extra_version == 0)
			r.err = 1;
	}
	return wk_rbuf_done(&r);
}
