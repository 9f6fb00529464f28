/* wk_chevent.h - one event of a stream message as it travels from the
 * channel shard that owns the stream to the brokers (BROKER_EVENT, frame
 * 1; frame 2 is the u64 target connections).  One layout, written and read
 * only here.  The shard makes both client forms once; a broker picks one
 * per connection by its protocol version: an EVENT packet (id, type,
 * timestamp, data) at version 5, a stream RECV of the anchor message
 * carrying recv_payload at versions 2-4, nothing at version 1
 * (wkproto(7), wk-broker(8)). */
#ifndef WK_CHEVENT_H
#define WK_CHEVENT_H
#include <stdint.h>
#include "wk_buf.h"
#include "wkproto.h"

/* The stream flag of a stream RECV (versions 2-4). */
enum wk_stream_flag {
	WK_STREAM_START = 0,         /* the anchor message itself */
	WK_STREAM_ING = 1,           /* a piece */
	WK_STREAM_END = 2,           /* the last piece */
};

struct wk_chevent {
	/* The anchor message: the RECV's fields. */
	int64_t message_id;
	uint32_t message_seq;
	int32_t timestamp;           /* seconds, when the event was appended */
	uint8_t channel_type;
	uint8_t setting;             /* the anchor's (WKPROTO_SETTING_STREAM set) */
	struct wk_str channel_id;    /* stored: a person chat's "a@b" */
	struct wk_str from_uid;
	struct wk_str client_msg_no;
	struct wk_str stream_no;     /* the stream number of versions 2-4 */
	/* The EVENT packet. */
	struct wk_str event_id;
	struct wk_str event_type;
	int64_t occurred_at;         /* ms */
	struct wk_bytes data;        /* JSON, semantics.md §13.1 */
	/* The stream RECV. */
	uint32_t stream_seq;         /* 1, 2, ... per stream (streamSeq, streamId) */
	uint8_t stream_flag;         /* WK_STREAM_ING or WK_STREAM_END */
	struct wk_bytes recv_payload;   /* plaintext, {"type":1,"content":...} */
};

void wk_chevent_put(struct wk_wbuf *b, const struct wk_chevent *e);
/* Read one event; strings and blobs are views into r's buffer.  0, or -1
 * if malformed. */
int wk_chevent_get(struct wk_rbuf *r, struct wk_chevent *e);

#endif
