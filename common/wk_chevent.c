/* wk_chevent.c - the internal layout of a stream event (wk_chevent.h). */
#include "wk_chevent.h"

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

	return wk_str_n(p, n);
}

static struct wk_bytes
get_blob(struct wk_rbuf *r)
{
	struct wk_bytes b;

	b.p = wk_get_blob(r, &b.len);
	return b;
}

void
wk_chevent_put(struct wk_wbuf *b, const struct wk_chevent *e)
{
	wk_put_u64(b, (uint64_t)e->message_id);
	wk_put_u32(b, e->message_seq);
	wk_put_u32(b, (uint32_t)e->timestamp);
	wk_put_u8(b, e->channel_type);
	wk_put_u8(b, e->setting);
	put_str(b, e->channel_id);
	put_str(b, e->from_uid);
	put_str(b, e->client_msg_no);
	put_str(b, e->stream_no);
	put_str(b, e->event_id);
	put_str(b, e->event_type);
	wk_put_u64(b, (uint64_t)e->occurred_at);
	wk_put_blob(b, e->data.p, e->data.len);
	wk_put_u32(b, e->stream_seq);
	wk_put_u8(b, e->stream_flag);
	wk_put_blob(b, e->recv_payload.p, e->recv_payload.len);
}

int
wk_chevent_get(struct wk_rbuf *r, struct wk_chevent *e)
{
	e->message_id = (int64_t)wk_get_u64(r);
	e->message_seq = wk_get_u32(r);
	e->timestamp = (int32_t)wk_get_u32(r);
	e->channel_type = wk_get_u8(r);
	e->setting = wk_get_u8(r);
	e->channel_id = get_str(r);
	e->from_uid = get_str(r);
	e->client_msg_no = get_str(r);
	e->stream_no = get_str(r);
	e->event_id = get_str(r);
	e->event_type = get_str(r);
	e->occurred_at = (int64_t)wk_get_u64(r);
	e->data = get_blob(r);
	e->stream_seq = wk_get_u32(r);
	e->stream_flag = wk_get_u8(r);
	e->recv_payload = get_blob(r);
	return r->err || e->stream_flag > WK_STREAM_END ? -1 : 0;
}
