/* wk_chmsg.c - the internal message layout of a chat message (wk_chmsg.h). */
#include "wk_chmsg.h"

static void
put_str(struct wk_wbuf *b, struct wk_str s)
{
	wk_put_strn(b, s.p, s.len);
}

static struct wk_str
get_str(struct wk_rbuf *r)
{
	size_t n;
	const char *p = wk_get_strv(r, &n);

	return (struct wk_str){ p, (uint16_t)(n > 0xffff ? 0xffff : n) };
}

void
wk_chmsg_put(struct wk_wbuf *b, const struct wk_chmsg *m)
{
	wk_put_u64(b, (uint64_t)m->message_id);
	wk_put_u32(b, m->seq);
	wk_put_u32(b, (uint32_t)m->timestamp);
	wk_put_u8(b, m->flags);
	wk_put_u8(b, m->setting);
	wk_put_u8(b, m->channel_type);
	wk_put_u32(b, m->expire);
	put_str(b, m->from_uid);
	put_str(b, m->channel_id);
	put_str(b, m->client_msg_no);
	put_str(b, m->topic);
	put_str(b, m->stream_no);
	wk_put_blob(b, m->payload.p, m->payload.len);
}

int
wk_chmsg_get(struct wk_rbuf *r, struct wk_chmsg *m)
{
	m->message_id = (int64_t)wk_get_u64(r);
	m->seq = wk_get_u32(r);
	m->timestamp = (int32_t)wk_get_u32(r);
	m->flags = wk_get_u8(r);
	m->setting = wk_get_u8(r);
	m->channel_type = wk_get_u8(r);
	m->expire = wk_get_u32(r);
	m->from_uid = get_str(r);
	m->channel_id = get_str(r);
	m->client_msg_no = get_str(r);
	m->topic = get_str(r);
	m->stream_no = get_str(r);
	m->payload.p = wk_get_blob(r, &m->payload.len);
	return r->err ? -1 : 0;
}
