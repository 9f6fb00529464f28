/* channel_stream.h - the state of stream messages inside wk-channel, shared
 * by channel_stream_state.c (one stream's state and how an event changes
 * it), channel_stream.c (the shard's streams, their delivery, the HTTP ops)
 * and channel_stream_store.c (their records in streams.db).  See
 * wk-channel(8).
 *
 * A stream is the event stream of one anchor message, keyed by (stored
 * channel id, channel type, client_msg_no).  It has lanes (event_key, "main"
 * by default); each lane has a status, an accumulated snapshot (the text of
 * its deltas, or the last JSON value that replaced it) and the projection
 * of its last persisted event.  The owner keeps every open stream in
 * memory; streams.db keeps what survives a restart. */
#ifndef CHANNEL_STREAM_H
#define CHANNEL_STREAM_H
#include <stdint.h>
#include <jansson.h>
#include "channel.h"
#include "wk_buf.h"

enum channel_lane_status { CHANNEL_LANE_OPEN, CHANNEL_LANE_CLOSED, CHANNEL_LANE_ERROR, CHANNEL_LANE_CANCELLED };

/* end_reason as the reference's wkproto.EndReason. */
enum { CHANNEL_END_OK = 0, CHANNEL_END_TIMEOUT = 1, CHANNEL_END_ERROR = 2, CHANNEL_END_CANCELLED = 3 };

#define CHANNEL_STREAM_KEY_DEFAULT "main"
#define CHANNEL_STREAM_KEY_FINISH "__finish__"

/* One event as appended (and as logged in streams.db).  The payload is
 * JSON text, compact as jansson prints it (wk-api made it so, the log keeps
 * it so): it is copied into the log and the EVENT as it is, and parsed
 * (channel_stream_event_json) only for the rare events that look inside it
 * other than a text delta, whose text comes ready in `delta`. */
struct channel_stream_event {
	const char *event_id, *type, *key, *visibility;
	int64_t occurred_at;         /* ms */
	const char *payload;         /* JSON text, NULL: none */
	size_t payload_len;
	const char *delta;           /* a text delta's text (not terminated), or NULL: */
	size_t delta_len;            /* unknown, looked up in the payload if need be */
	json_t *json;                /* the payload parsed, once asked (channel_stream_event_clear frees it) */
	int timeout;                 /* a stream.error made by the timeout */
	uint16_t broker;             /* a SEND's connection: not sent back to it */
	uint64_t conn;               /* (0: the event came from wk-api) */
};

/* The last persisted event of a lane (what /message/eventsync answers). */
struct channel_lane_proj {
	char *event_id, *type, *visibility;
	int64_t occurred_at;
	char *payload;               /* JSON text, NULL: none */
};

struct channel_lane {
	char *key;
	uint8_t status;              /* enum channel_lane_status */
	uint8_t end_reason;
	uint8_t json;                /* the snapshot is a JSON value, not text */
	struct wk_wbuf snap;         /* UTF-8 text, or JSON text */
	uint64_t last_seq;           /* msg_event_seq of the last persisted event */
	char *error;                 /* a stream.error's message */
	struct channel_lane_proj proj;
	struct channel_lane *next;           /* in the order the lanes were opened */
};

/* Event ids seen, as 64-bit hashes (open addressing; 0 is "empty"). */
struct channel_seen {
	uint64_t *v;
	size_t cap, n;
};

struct channel_stream {
	char *hkey;                  /* the memory table's key */
	char *id;                    /* stored channel id */
	uint8_t type;
	char *cmn;                   /* the anchor's client_msg_no */
	char *stream_no;             /* versions 2-4; "" means cmn */
	char *from_uid;
	int64_t message_id;          /* the anchor's, 0 if there is none */
	uint32_t seq;                /* the anchor's, 0 until known */
	uint8_t setting;
	uint8_t completed;           /* stream.finish came */
	uint8_t ended_old;           /* the END piece went to versions 2-4 */
	uint64_t event_seq;          /* msg_event_seq: one counter for every lane */
	uint32_t pieces;             /* stream RECVs so far (their streamSeq) */
	uint32_t nlog;               /* event records since the last checkpoint */
	struct wk_wbuf log;          /* events not yet in an event record */
	uint64_t born_iter;          /* the iteration it came into memory */
	uint64_t touched_iter;       /* 1 + the iteration of its last event */
	uint64_t active_ms;          /* the last event (monotonic clock) */
	struct channel_lane *lanes;
	struct channel_seen seen;
};

/* ---- channel_stream_state.c: one stream's state ---- */
/* What channel_stream_apply did: OK; a repeated event_id (DUP); a persisted event
 * on an ended lane (IGNORED, as the reference); a delta on an ended lane
 * (ENDED, refused); a snapshot past its size (TOO_BIG, refused). */
enum channel_apply { CHANNEL_APPLY_OK, CHANNEL_APPLY_DUP, CHANNEL_APPLY_IGNORED, CHANNEL_APPLY_ENDED, APPLY_TOO_BIG };
struct channel_applied {
	struct channel_lane *lane;           /* the event's lane (NULL if it has none yet) */
	uint32_t piece;              /* its streamSeq at versions 2-4, 0: not sent there */
	uint8_t flag;                /* WK_STREAM_ING or WK_STREAM_END */
};
/* Apply e to s: the live path and the replay of logged events share it. */
enum channel_apply channel_stream_apply(struct channel_stream *s, struct channel_stream_event *e, struct channel_applied *out);
/* e's payload parsed (NULL: none, or not JSON), kept in e->json. */
json_t *channel_stream_event_json(struct channel_stream_event *e);
/* The text of a text delta's payload ({"delta":"..."} with no "kind" or
 * kind "text"), from e->delta or the payload: NULL if it is not one. */
const char *channel_stream_event_delta(struct channel_stream_event *e, size_t *n);
/* Free what e holds (its parsed payload). */
void channel_stream_event_clear(struct channel_stream_event *e);
struct channel_stream *channel_stream_new(const char *id, uint8_t type, const char *cmn);
void channel_stream_free(struct channel_stream *s);
struct channel_lane *channel_stream_lane(struct channel_stream *s, const char *key, int create);
int channel_stream_is_open(const struct channel_stream *s);
void channel_seen_add(struct channel_seen *set, uint64_t h);
/* FNV-1a 64 of an event id (never 0). */
uint64_t channel_stream_id_hash(const char *s);
/* The key of a stream: "type/len/id" + client_msg_no (or stream number). */
char *channel_stream_hkey(const char *id, uint8_t type, const char *cmn);
/* The same into b (emptied first), NUL-terminated: a lookup's key without
 * an allocation. */
const char *channel_stream_hkey_in(struct wk_wbuf *b, const char *id, uint8_t type, const char *cmn);
/* Replace a lane's snapshot with n bytes of text (json: a JSON value). */
void channel_stream_snap_set(struct channel_lane *l, const char *p, size_t n, int json);
/* The snapshot as a terminal event's payload holds it. */
json_t *channel_stream_snap_json(const struct channel_lane *l);
/* 1 if e is of type t. */
int channel_stream_event_is(const struct channel_stream_event *e, const char *t);

/* ---- channel_stream_store.c: streams.db ----
 * Every function works in the iteration's transaction (channel_txn) and
 * returns 0 or -1 (logged; the transaction is marked failed). */
/* Add e to s's unsaved events (s->log); they are replayed on load once
 * channel_stream_db_save has written them. */
void channel_stream_log_add(struct channel_stream *s, const struct channel_stream_event *e);
/* Write s's unsaved events as one event record (E). */
int channel_stream_db_save(struct wk_proc *p, struct channel_stream *s);
/* Write the whole state (S) and drop the logged events. */
int channel_stream_db_checkpoint(struct wk_proc *p, struct channel_stream *s);
/* s has an open lane: keep it listed for the restart (O, and N for its
 * stream number). */
int channel_stream_db_mark_open(struct wk_proc *p, const struct channel_stream *s);
/* s has no open lane left: checkpoint, unlist.  The caller frees it. */
int channel_stream_db_close(struct wk_proc *p, struct channel_stream *s);
/* The stream's state from S and its logged events: 1 (*out), 0 none, -1. */
int channel_stream_db_load(struct wk_proc *p, const char *id, uint8_t type, const char *cmn,
    struct channel_stream **out);
/* The client_msg_no of the open stream with this stream number (malloc'd
 * into *cmn): 1, 0 none, -1. */
int channel_stream_db_find_no(struct wk_proc *p, const char *id, uint8_t type, const char *stream_no,
    char **cmn);
/* Call fn for every stream listed open: 0, -1. */
int channel_stream_db_foreach_open(struct wk_proc *p,
    void (*fn)(struct wk_proc *p, const char *id, uint8_t type, const char *cmn, void *arg),
    void *arg);

/* What the HTTP operations answer of a stream (channel_stream_state.c). */
struct wk_wbuf;
void channel_lane_proj_put(const struct channel_lane *l, struct wk_wbuf *b);
struct channel_lane **channel_lanes_since(const struct channel_stream *s, uint64_t from,
    const char *key, int priv, int *n);
void channel_stream_state_put(const struct channel_stream *s, struct wk_wbuf *b);

#endif
