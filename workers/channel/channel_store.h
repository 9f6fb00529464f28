/* channel_store.h - what the three files of a channel shard's storage share
 * (wk-channel(8)): channel_store.c (the transaction, the record cache, the
 * low-level access, the channel records), channel_list.c (members and
 * lists) and channel_log.c (the message log).  Nothing outside them
 * includes it; the rest of the process sees channel.h only.  The key and
 * record layouts are described at the top of channel_store.c.
 */
#ifndef CHANNEL_STORE_H
#define CHANNEL_STORE_H
#include "channel.h"

#define CHANNEL_NUM_SIZE 8            /* the channel number prefix of every key */

/* Counters of the record, one per list. */
enum { CHANNEL_L_MEMBERS, CHANNEL_L_BLACKLIST, CHANNEL_L_WHITELIST, CHANNEL_L_COUNT };

/* A cached channel record; num 0: the channel does not exist.  (The name
 * stays short because the transaction code in channel_store.c, which is
 * moving to common/wk_txn, walks the dirty ones.) */
struct channel_rec {
	char *hkey;                   /* "type/id", the cache key */
	const char *id;               /* inside hkey */
	uint8_t type;
	uint64_t num;
	uint32_t last_seq;
	uint8_t flags;
	uint32_t count[CHANNEL_L_COUNT];
	uint64_t created_ms, updated_ms;
	/* Record version 2: the oldest seq retention kept (0, 1: all), the
	 * channel's retention (CHANNEL_RETENTION_DEFAULT: the configured one),
	 * the last edit version handed out (channel_extra_next). */
	uint32_t first_seq, ret_secs, ret_count, extra_version;
	/* On the transaction's list (dirty): published, its senders written,
	 * dropped on an abort.  Written to channels.db at the commit only
	 * with `write`: an append alone moves last_seq, which a read of the
	 * record finds again in messages.db (channel_rec_get). */
	int dirty, write;
	struct channel_rec *dirty_next;
	/* The newest message, as the last-message table publishes it
	 * (channel_lastmsg.c): set by channel_msg_append, published after the
	 * commit when last_seq is past pub_seq. */
	int64_t last_msg_id;
	int32_t last_ts;
	uint32_t last_from_hash;
	uint32_t pub_seq;
	/* The newest message's stored value (messages.db), when it is at most
	 * CHANNEL_NEWEST_MAX bytes: a sync's msg_count 1 reads it here.  Set
	 * by channel_msg_append and by a read of the newest; messages are
	 * never rewritten, only deleted with the channel (channel_delete
	 * drops it). */
	uint8_t *newest;
	uint32_t newest_len, newest_seq;
	uint32_t newest_cap;         /* bytes at newest: reused message after message */
	/* The senders whose last seq here changed in the open transaction:
	 * written to senders.db once each, just before the commit, instead of
	 * once per message (channel_log.c). */
	struct channel_sender *senders;
	uint32_t nsenders, senders_cap;
};
#define CHANNEL_NEWEST_MAX 1024
/* Keep v (n bytes) as c's newest message, seq; nothing if it is too big. */
void channel_rec_newest_set(struct channel_rec *c, uint32_t seq, const void *v, size_t n);

/* The channels.db value (channel_store.c): version 1 (RECORD_SIZE_V1
 * bytes, read only) or 2 (RECORD_SIZE_V2, written).  decode: 0, or -1 for
 * a wrong size or version. */
#define CHANNEL_RECORD_SIZE_V1 (1 + 8 + 4 + 1 + 4 * 3 + 8 + 8)
#define CHANNEL_RECORD_SIZE_V2 (CHANNEL_RECORD_SIZE_V1 + 4 * 4)
void channel_record_encode(const struct channel_rec *c, uint8_t out[CHANNEL_RECORD_SIZE_V2]);
int channel_record_decode(struct channel_rec *c, const uint8_t *b, size_t len);

/* The cached record of (id, type), loading it; with CHANNEL_REC_WRITE, a
 * missing channel is created and the record is written at the commit;
 * with CHANNEL_REC_APPEND (a message appended, nothing else changed), it
 * is written only when the channel is new.  NULL on error. */
enum { CHANNEL_REC_READ, CHANNEL_REC_WRITE, CHANNEL_REC_APPEND };
struct channel_rec *channel_rec_get(struct wk_proc *p, const char *id, uint8_t type, int create);
/* The highest seq of channel num in messages.db into *seq: 1, 0 if it
 * has none, -1 on an error. */
int channel_msg_last_stored(struct wk_proc *p, uint64_t num, uint32_t *seq);
/* A failed write: log it and poison the transaction; returns -1. */
int channel_store_write_failed(const char *what, const char *id, uint8_t type, int rc);
/* An operation failed before it was done: the transaction must not commit; -1. */
int channel_store_op_failed(struct wk_proc *p);
/* The next value of meta counter `name` (starting at 1): 0, -1. */
int channel_store_meta_next(struct wk_proc *p, const char *name, uint64_t *out);
/* A cursor on p->db[i] inside the transaction; NULL on error. */
DBC *channel_store_cursor(struct wk_proc *p, int i);
/* Delete every key of p->db[i] that starts with prefix[0..n): 0, -1. */
int channel_store_prefix_delete(struct wk_proc *p, int i, const uint8_t *prefix, size_t n);

/* fn for each channel record of the shard (a cursor walk of channels.db
 * inside the transaction); a non-zero return stops it.  0, -1. */
typedef int channel_rec_fn(struct wk_proc *p, const char *id, uint8_t type, uint64_t num,
    uint32_t last_seq, void *arg);
int channel_store_records(struct wk_proc *p, channel_rec_fn *fn, void *arg);
/* Overwrite the record under cursor cur (size bytes) with zeros of its
 * length, before a delete, so the page keeps none of its bytes (as
 * channel_msg_replace's scrub): 0, or a Berkeley DB error. */
int channel_msg_scrub_current(DBC *cur, size_t size);
/* The message (num, seq) of a channel: as channel_msg_get. */
int channel_msg_get_num(struct wk_proc *p, uint64_t num, uint32_t seq, struct channel_msg *m,
    struct wk_wbuf *buf);

/* ---- channel_lastmsg.c (channel.h has its open and close) ---- */
/* After a commit: the record's newest message into the table. */
void channel_lastmsg_publish(struct channel_rec *c);

/* A list of (id, type) changed in the current transaction: tells the
 * watch (channel_list_watch) when it is a person chat's black/whitelist. */
void channel_list_changed(struct wk_proc *p, const char *id, uint8_t type, enum channel_list list);

/* ---- channel_mcache.c: the hot lists in memory ---- */
struct channel_mset;
/* The cached set of c's list, built from members.db on a miss; NULL when
 * the list is longer than channel.memberCacheMax (or c has no number, or the
 * walk failed): read members.db instead.  Valid until the next call into
 * the store. */
struct channel_mset *channel_mcache_get(struct wk_proc *p, const struct channel_rec *c,
    enum channel_list list);
/* fn per uid of the cached set (built on a miss), in no order: 1 and *rc
 * fn's stop value (0 after the last), or 0 if the list is not cacheable. */
int channel_mcache_foreach(struct wk_proc *p, const struct channel_rec *c, enum channel_list list,
    int (*fn)(const char *uid, size_t len, void *arg), void *arg, int *rc);
/* The shard wrote uid onto (added 1) or off c's list: the cached set follows. */
void channel_mcache_changed(const struct channel_rec *c, enum channel_list list, const char *uid,
    size_t len, int added);
/* Forget channel num's cached list (0: all three). */
void channel_mcache_drop(uint64_t num, int list);
/* The transaction ended with rc: after an abort, the sets it built or
 * changed are dropped. */
void channel_mcache_ended(int rc);

/* ---- channel_log.c: senders.db rows kept for the commit ---- */
/* Write c's kept senders into txn (just before the commit): 0, or -1. */
int channel_senders_flush(struct wk_proc *p, DB_TXN *txn, const struct channel_rec *c);
/* Forget c's kept senders (the transaction ended, or the channel's rows
 * were deleted). */
void channel_senders_drop(struct channel_rec *c);

/* ---- channel_sendcache.c: the last seq a user sent to a channel ---- */
/* 1 and *seq (0: never sent) if cached, else 0. */
int channel_sendcache_get(uint64_t num, const char *uid, size_t len, uint32_t *seq);
void channel_sendcache_put(uint64_t num, const char *uid, size_t len, uint32_t seq);
/* A failed commit, a channel deleted: forget every entry. */
void channel_sendcache_clear(void);

#endif
