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

/* Validate msg against the table: a decodable header, a type this process
 * handles, a sender role allowed for it, the frame count in range.  0 and
 * *entry set, or an error code; no handler ever sees a message that fails. */
int
wk_dispatch_check(const struct wk_dispatch *table, size_t n, zmsg_t *msg,
    struct wk_msg_hdr *h, const struct wk_dispatch **entry)
{
	zframe_t *f = zmsg_first(msg);
	const struct wk_dispatch *e = NULL;
	int rc, frames;

	if (f == NULL)
		return WK_DISPATCH_EEMPTY;
	rc = wk_msg_hdr_decode(zframe_data(f), zframe_size(f), h);
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
	frames = (int)zmsg_size(msg) - 1;
	if (frames < e->min_frames || frames > e->max_frames)
		return WK_DISPATCH_EFRAMES;
	f = zmsg_pop(msg);
	zframe_destroy(&f);
	*entry = e;
	return 0;
}
