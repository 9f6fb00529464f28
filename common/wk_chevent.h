/* wk_chevent.h - one event of a stream message as it travels from the
 * channel shard that owns the stream to the brokers (BROKER_EVENT: frame
 * pairs, this then the u64 target connections).  One layout, written and
 * read only here.  The shard makes both client forms once; a broker picks
 * one per connection by its protocol version: an EVENT packet (id, type,
 * timestamp, data) at version 5, a stream RECV of the anchor message
 * carrying the piece at versions 2-4 (wkproto(7)), nothing at version 1. */
#ifndef WK_CHEVENT_H
#define WK_CHEVENT_H
#include <stdint.h>
#include "wk_buf.h"
#include "wk_chmsg.h"
#include "wkproto.h"

/* The stream flag of a stream RECV (versions 2-4). */
enum wk_stream_flag {
	WK_STREAM_START = 0,         /* the anchor message itself */
	WK_STREAM_ING = 1,           /* a piece */
	WK_STREAM_END = 2,           /* the last piece */
};

struct wk_chevent {
	/* The stream RECV: the anchor message (stored channel id, stream_no
	 * the stream's number, timestamp when the event was appended) with
	 * the piece as its payload: {"type":1,"content":...}. */
	struct wk_chmsg msg;
	uint32_t stream_seq;         /* 1, 2, ... per stream (streamSeq, streamId) */
	uint8_t stream_flag;         /* WK_STREAM_ING or WK_STREAM_END */
	/* The EVENT packet. */
	struct wk_str event_id;
	struct wk_str event_type;
	int64_t occurred_at;         /* ms */
	struct wk_bytes data;        /* JSON, semantics.md §13.1 */
};

void wk_chevent_put(struct wk_wbuf *b, const struct wk_chevent *e);
/* Read one event; strings and blobs are views into r's buffer.  0, or -1
 * if malformed. */
int wk_chevent_get(struct wk_rbuf *r, struct wk_chevent *e);

#endif
