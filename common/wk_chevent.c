/* wk_chevent.c - the internal layout of a stream event (wk_chevent.h):
 * the anchor message (wk_chmsg), u32 stream seq, u8 stream flag, str event
 * id, str event type, u64 occurred_at, blob data. */
#include "wk_chevent.h"

void
wk_chevent_put(struct wk_wbuf *b, const struct wk_chevent *e)
{
	wk_chmsg_put(b, &e->msg);
	wk_put_u32(b, e->stream_seq);
	wk_put_u8(b, e->stream_flag);
	wk_put_strn(b, e->event_id.p, e->event_id.len);
	wk_put_strn(b, e->event_type.p, e->event_type.len);
	wk_put_u64(b, (uint64_t)e->occurred_at);
	wk_put_blob(b, e->data.p, e->data.len);
}

int
wk_chevent_get(struct wk_rbuf *r, struct wk_chevent *e)
{
	size_t n;

	if (wk_chmsg_get(r, &e->msg) < 0)
		return -1;
	e->stream_seq = wk_get_u32(r);
	e->stream_flag = wk_get_u8(r);
	e->event_id.p = wk_get_strv(r, &n);
	e->event_id.len = (uint16_t)n;
	e->event_type.p = wk_get_strv(r, &n);
	e->event_type.len = (uint16_t)n;
	e->occurred_at = (int64_t)wk_get_u64(r);
	e->data.p = wk_get_blob(r, &e->data.len);
	return r->err || e->stream_flag > WK_STREAM_END ? -1 : 0;
}
