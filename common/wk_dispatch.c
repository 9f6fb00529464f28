/* wk_dispatch.c - validation of internal messages before their handler runs. */
#include "wk_dispatch.h"

/* The text of a dispatch or header error, for the log line before exit. */
const char *
wk_dispatch_strerror(int err)
{
	switch (err) {
	case WK_DISPATCH_ENOHANDLER: return "message type not handled by this process";
	case WK_DISPATCH_EFRAMES: return "wrong number of frames";
	case WK_DISPATCH_ESENDER: return "sender not allowed to send this type";
	case WK_DISPATCH_EEMPTY: return "empty message";
	}
	return wk_msg_strerror(err);
}

/* Validate a message against the table: a decodable header, a type this
 * process handles, a sender role allowed for it, the frame count in range.
 * 0 and *entry set, or an error code; no handler ever sees a message that
 * fails. */
int
wk_dispatch_find(const struct wk_dispatch *table, size_t n, const uint8_t *hdr, size_t hlen,
    int frames, struct wk_msg_hdr *h, const struct wk_dispatch **entry)
{
	const struct wk_dispatch *e = NULL;
	int rc = wk_msg_hdr_decode(hdr, hlen, h);

	if (rc != WK_MSG_OK)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (table[i].type == h->type) {
			e = &table[i];
			break;
		}
	if (e == NULL)
		return WK_DISPATCH_ENOHANDLER;
	if (!(e->senders & WK_ROLE_BIT(h->sender_role)))
		return WK_DISPATCH_ESENDER;
	if (frames < e->min_frames || frames > e->max_frames)
		return WK_DISPATCH_EFRAMES;
	*entry = e;
	return 0;
}

/* The same for msg; on success its header frame is popped. */
int
wk_dispatch_check(const struct wk_dispatch *table, size_t n, zmsg_t *msg,
    struct wk_msg_hdr *h, const struct wk_dispatch **entry)
{
	zframe_t *f = zmsg_first(msg);
	int rc;

	if (f == NULL)
		return WK_DISPATCH_EEMPTY;
	rc = wk_dispatch_find(table, n, zframe_data(f), zframe_size(f), (int)zmsg_size(msg) - 1,
	    h, entry);
	if (rc != 0)
		return rc;
	f = zmsg_pop(msg);
	zframe_destroy(&f);
	return 0;
}

int
wk_msgv_of(zmsg_t *msg, struct wk_msgv *v)
{
	v->n = 0;
	for (zframe_t *f = zmsg_first(msg); f; f = zmsg_next(msg)) {
		if (v->n == WK_MSGV_MAX)
			return -1;
		v->p[v->n] = zframe_data(f);
		v->len[v->n++] = zframe_size(f);
	}
	return 0;
}
