/* hook.h - wk-hook's private interfaces between its files (wk-hook(8)).
 *   hook.c        main, dispatch table, loop hooks; HOOK_EVENT from the
 *                 producers, each producer's batches taken once and in
 *                 order, HOOK_ACK after the commit, HOOK_HELLO at start
 *   hook_format.c the JSON of each event, made from what the producers sent
 *                 when it is posted (the queue keeps what they sent)
 *   hook_queue.c  the durable queue (Berkeley DB, paced group commit: p->txn) and
 *                 the part of it held in memory, in lanes
 *   hook_post.c   the POSTs: batching, one request in flight per lane,
 *                 retries with back-off, drops after the last attempt
 *   (common/wk_http.c: libcurl's multi interface on the skeleton's loop)
 *
 * Order.  Every event carries an order key (the hash of its channel, or of
 * its uid); its lane is hook_lane(key).  A lane's events are posted in queue
 * order, one request at a time, and a failed request is retried before
 * anything after it: so the events of one channel reach the receiver in
 * order, while up to HOOK_LANES requests per event kind are in flight.
 */
#ifndef HOOK_H
#define HOOK_H
#include <stddef.h>
#include <stdint.h>
#include "wk_webhook.h"
#include "wk_proc.h"

#define HOOK_LANES 32                /* 2^5: hook_lane() takes 5 bits */
#define HOOK_MAX_INSTANCES 256       /* processes.* are at most 256 */

/* The databases, in the order of the skeleton's list (p->db[i]). */
enum hook_db {
	HOOK_DB_QUEUE,               /* "queue.db": (u8 event, u64 seq) -> u32 order key, data */
	HOOK_DB_PRODUCERS,           /* "producers.db": (u8 role, u16 instance) -> u64 epoch, u64 seq */
	HOOK_DB_COUNT
};
/* NULL-terminated, for the skeleton (and tests). */
extern const char *const hook_databases[HOOK_DB_COUNT + 1];

/* The lane of an order key.  The keys are FNV-1a hashes, whose low bits
 * are poorly mixed (the lowest is the parity of the bytes): take the high
 * bits of a multiplicative mix instead (HOOK_LANES is a power of two). */
static inline int
hook_lane(uint32_t key)
{
	return (int)((key * 0x9e3779b1u) >> 27);
}

/* One queued event in memory.  It stays on disk until hook_queue_done. */
struct hook_event {
	struct hook_event *next;
	uint64_t seq;
	uint32_t key;
	uint32_t len;
	char data[];                 /* len bytes as the producer sent them (wk_webhook.h) */
};

/* ---- hook_format.c ---- */
/* An event's data (a record of HOOK_EVENT, wk_webhook.h) is well formed: 0 or -1. */
int hook_format_check(int ev, const void *data, size_t len);
/* Append the JSON of an event to out: 0, or -1 if its data is malformed. */
struct wk_wbuf;
int hook_format(const struct wk_proc *p, int ev, const void *data, size_t len,
    struct wk_wbuf *out);

/* ---- hook_queue.c ---- */
int hook_queue_open(struct wk_proc *p);
void hook_queue_close(struct wk_proc *p);
/* In the current transaction: append an event.  It reaches its lane after
 * the commit.  0, or -1 (the transaction will be aborted: fatal). */
int hook_queue_put(struct wk_proc *p, int ev, uint32_t key, const void *data, size_t len);
/* A producer's last batch taken: 1 found, 0 none. */
int hook_queue_producer(int role, int instance, uint64_t *epoch, uint64_t *seq);
/* In the current transaction: remember it. */
int hook_queue_producer_set(struct wk_proc *p, int role, int instance, uint64_t epoch,
    uint64_t seq);
/* Commit the open transaction (p->txn; an error is fatal: the producers
 * send again what was not acknowledged), which sends the acknowledgements
 * queued after it; then move what it made durable into the lanes and load
 * more from disk if memory allows. */
void hook_queue_commit(struct wk_proc *p);
/* Rows written in the open transaction (0: none open). */
size_t hook_queue_writes(void);
/* Events waiting in a lane, and since when (ms) the oldest has waited. */
size_t hook_queue_waiting(int ev, int lane, uint64_t *since_ms);
/* Take up to max events from the head of a lane: a list, queue order. */
struct hook_event *hook_queue_take(int ev, int lane, size_t max, size_t *n);
/* Posted (or dropped): remove the events from disk (current transaction)
 * and free them. */
void hook_queue_done(struct wk_proc *p, int ev, struct hook_event *list);
/* Events on disk (posted ones are gone), per kind. */
uint64_t hook_queue_depth(int ev);
int hook_queue_status(char *buf, size_t len);
/* The queue's depth and memory into the statistics row. */
struct stats_row;
void hook_queue_stats(struct stats_row *r);

/* ---- hook_post.c ---- */
/* Start the requests that are due; arms a timer for the next due time. */
void hook_post_schedule(struct wk_proc *p);
void hook_post_close(struct wk_proc *p);
int hook_post_status(char *buf, size_t len);
/* The POSTs' counters into the statistics row. */
void hook_post_stats(struct stats_row *r);

#endif
