/* wk_fanout.h - delivering one message to users' online connections, for
 * the channel shards (chat messages, stream events) and the mailbox shards
 * (cmd messages) (wk(7)).
 *
 * The recipients' connections come from the presence table (presence(3)):
 * at most PRESENCE_CONNS_MAX per uid.  A row that is busy (its mailbox
 * shard is moving entries: PRESENCE_EBUSY) is read again, up to
 * WK_FANOUT_BUSY_TRIES times, and then counted and skipped: the writer is
 * mid-update for microseconds, and a delivery must not wait on it longer.
 * The targets are grouped by broker; each broker gets one message of the
 * given type carrying the message once: frame 1 the message, frame 2 the
 * u64 target connection ids (BROKER_DELIVER, BROKER_EVENT).  Several
 * messages may share one broker message (wk_fanout_add: more frame pairs).
 * The sending connection (skip_broker, skip_conn) is never a target: it
 * gets its SENDACK instead.
 */
#ifndef WK_FANOUT_H
#define WK_FANOUT_H
#include <stddef.h>
#include <stdint.h>
#include <czmq.h>
#include "presence.h"

#define WK_FANOUT_BUSY_TRIES 3       /* reads of a busy presence row */
#define WK_FANOUT_NO_BROKER UINT16_MAX
#define WK_FANOUT_NO_CONN UINT64_MAX
/* A connection's broker as the presence table and the fan-out name it: in
 * a cluster the host is the high byte (node << 8 | broker), so a fan-out on
 * any host reaches the broker holding the connection (wk-cluster(7)); on
 * one host (node 0) it is the broker alone. */
#define WK_FANOUT_BROKER_ID(node, broker) ((uint16_t)((unsigned)(node) << 8 | (broker)))

struct wk_proc;
struct wk_wbuf;

/* The targets of one message, per broker. */
struct wk_fanout {
	struct wk_proc *p;
	const struct presence *ps;
	uint16_t skip_broker;        /* the sending connection: not a target */
	uint64_t skip_conn;
	int nbrokers;                /* per host */
	int nslots;                  /* every broker of every host: wk_fanout_slots */
	struct wk_wbuf *per_broker;  /* u64 conn ids, by slot */
	uint64_t targets;            /* connections added since begin */
};

/* The connections of uid (NUL-terminated), at most PRESENCE_CONNS_MAX,
 * with the busy-row policy above: a count (0 if busy or none). */
int wk_fanout_lookup(const struct presence *ps, const char *uid,
    struct presence_conn out[PRESENCE_CONNS_MAX]);
/* Busy rows skipped by this process (for STATUS). */
uint64_t wk_fanout_busy(void);

void wk_fanout_begin(struct wk_fanout *f, struct wk_proc *p, const struct presence *ps,
    uint16_t skip_broker, uint64_t skip_conn);
/* Add the online connections of uid (len bytes, no NUL needed); a uid
 * that is empty or too long to be online adds none.  Returns how many. */
int wk_fanout_uid(struct wk_fanout *f, const char *uid, size_t len);
/* Add one connection (read from the presence table by the caller, e.g. a
 * region's dense list): 1, or 0 if it is the sender's or of no broker. */
int wk_fanout_conn(struct wk_fanout *f, const struct presence_conn *c);
/* The batch array of wk_fanout_add and wk_fanout_send: a slot per broker
 * of every host (calloc'd; the caller frees it). */
int wk_fanout_slots(const struct wk_proc *p);
zmsg_t **wk_fanout_batch_new(const struct wk_proc *p);
/* Add frame and its targets as two frames to batch[slot] (a message of
 * `type` made when NULL), and start the next message's targets. */
void wk_fanout_add(struct wk_fanout *f, zmsg_t **batch, int type, const void *frame, size_t len);
/* Send each batch[slot] to its broker, on its host (and empty it). */
void wk_fanout_send(struct wk_proc *p, zmsg_t **batch);
/* One message, straight into each broker's batch (no zmsg_t made). */
void wk_fanout_deliver(struct wk_fanout *f, int type, const void *frame, size_t len);
void wk_fanout_end(struct wk_fanout *f);

#endif
