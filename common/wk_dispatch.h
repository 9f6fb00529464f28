/* wk_dispatch.h - one dispatch table per process: {type, frames, allowed
 * senders, handler}.  The dispatcher validates a message before a handler
 * sees it, so handlers never re-check the header, the frame count or who
 * sent it. */
#ifndef WK_DISPATCH_H
#define WK_DISPATCH_H
#include <stddef.h>
#include <stdint.h>
#include <czmq.h>
#include "wk_msg.h"

struct wk_proc;
/* `msg` holds the payload frames only (the header frame was removed). */
typedef void (*wk_handler_fn)(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg);
/* A handler that reads its payload in place (no zmsg_t is made for a
 * message of a BATCH): v's frames are the payload's, valid during the
 * call only.  For the hot messages (one per message sent). */
struct wk_msgv;
typedef void (*wk_view_fn)(struct wk_proc *p, const struct wk_msg_hdr *h,
    const struct wk_msgv *v);

struct wk_dispatch {
	int type;              /* enum wk_msg_type */
	int min_frames;        /* payload frames, header excluded */
	int max_frames;
	uint32_t senders;      /* mask of WK_ROLE_BIT(role) allowed to send it */
	wk_handler_fn fn;      /* NULL: the process's view handler (wk_dispatch_view) */
};

/* The handler of a type whose row has no fn: it reads the payload in
 * place; that row's max_frames is at most WK_MSGV_MAX. */
struct wk_dispatch_view {
	int type;
	wk_view_fn fn;
};

enum wk_dispatch_err {
	WK_DISPATCH_ENOHANDLER = -20,   /* a known type this process does not take */
	WK_DISPATCH_EFRAMES = -21,      /* wrong number of payload frames */
	WK_DISPATCH_ESENDER = -22,      /* sender role not allowed for this type */
	WK_DISPATCH_EEMPTY = -23,       /* no header frame at all */
};

/* Validate `msg` against `table`: on success (0) the header frame has been
 * popped from msg, *h is filled and *entry points at the handler's row.
 * Otherwise returns a wk_msg_err or wk_dispatch_err (h is filled when the
 * header itself decoded, so the caller can name the sender). */
int wk_dispatch_check(const struct wk_dispatch *table, size_t n, zmsg_t *msg,
    struct wk_msg_hdr *h, const struct wk_dispatch **entry);
/* The same checks for a message given as its header bytes and payload
 * frame count (nothing is popped). */
int wk_dispatch_find(const struct wk_dispatch *table, size_t n, const uint8_t *hdr, size_t hlen,
    int frames, struct wk_msg_hdr *h, const struct wk_dispatch **entry);
/* The payload frames of msg (its header popped) as views: 0, or -1 if
 * there are more than WK_MSGV_MAX. */
int wk_msgv_of(zmsg_t *msg, struct wk_msgv *v);
const char *wk_dispatch_strerror(int err);

#endif
