/* wkt_stream.h - a test's expectations of a connection that watches
 * streams (wkt_stream.c); every failure aborts the test. */
#ifndef WKT_STREAM_H
#define WKT_STREAM_H
#include <stdint.h>
#include <jansson.h>
#include "wkclient.h"

/* What to add to a failure's message (called only then). */
typedef const char *wkt_why_fn(void);
/* The next packet that is not a PONG, which must be of `type` (5 s). */
struct wkproto_packet wkt_next(struct wkc *c, int type, wkt_why_fn *why);
/* An EVENT with this type and id: its data parsed (the caller frees). */
json_t *wkt_expect_event(struct wkc *c, const char *type, const char *id, wkt_why_fn *why);
/* A stream RECV in the connection's form: flag, seq, stream number, and
 * (unless NULL) the content of its payload. */
struct wkproto_packet wkt_expect_piece(struct wkc *c, int flag, uint32_t seq,
    const char *stream_no, const char *content, wkt_why_fn *why);

#endif
