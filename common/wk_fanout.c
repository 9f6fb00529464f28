/* wk_fanout.c - presence lookup, targets per broker, one message per broker
 * (wk_fanout.h).
 *
 * Used by the channel shards (chat messages, stream events) and the mailbox
 * shards (cmd messages).  The shards never talk to a client: they find the
 * recipients' connections in the presence table and hand each broker one
 * message carrying the frame once and the list of its connections that get
 * it, so a group message costs one ZeroMQ message per broker, not one per
 * member.
 *
 * A presence row is busy while its writer (the uid's mailbox shard) moves
 * entries; the reader tries WK_FANOUT_BUSY_TRIES times, then skips that uid
 * for this delivery and counts it (presence_busy in STATUS).  A skipped
 * connection is not lost for good: RECV of stored messages is also served
 * by the client's sync.  Sends to a broker never block: when a broker's
 * queue is full the batch is dropped and counted (send_drops in STATUS), and
 * its clients get those messages on their next sync. */
#include <stdlib.h>
#include <string.h>
#include "wk_alloc.h"
#include "wk_buf.h"
#include "wk_cluster.h"
#include "wk_fanout.h"
#include "wk_log.h"
#include "wk_proc.h"

static uint64_t busy;
static struct wk_ratelimit rl_busy = WK_RATELIMIT_INIT(1);

/* The per-broker target buffers of the fan-out in progress: one set per
 * process, reused message after message (a fan-out begun while another is
 * open gets its own). */
#define SPARE_KEEP (64 * 1024)
static struct wk_wbuf *spare;
static int spare_slots, spare_busy;

/* The connections of uid, at most PRESENCE_CONNS_MAX (a uid with more is
 * served on that many); 0 when it has none or its row stayed busy. */
int
wk_fanout_lookup(const struct presence *ps, const char *uid,
    struct presence_conn out[PRESENCE_CONNS_MAX])
{
	int n = PRESENCE_EBUSY;

	for (int tries = 0; tries < WK_FANOUT_BUSY_TRIES && n == PRESENCE_EBUSY; tries++)
		n = presence_lookup(ps, uid, out, PRESENCE_CONNS_MAX);
	if (n == PRESENCE_EBUSY) {
		busy++;
		wk_log_limited(&rl_busy, WK_LOG_WARN, "presence of %s busy after %d reads; "
		    "skipped (%llu so far)", uid, WK_FANOUT_BUSY_TRIES, (unsigned long long)busy);
	}
	return n < 0 ? 0 : n;
}

uint64_t
wk_fanout_busy(void)
{
	return busy;
}

/* Start collecting targets; (skip_broker, skip_conn) is the sender's own
 * connection, which does not get its own message back. */
void
wk_fanout_begin(struct wk_fanout *f, struct wk_proc *p, const struct presence *ps,
    uint16_t skip_broker, uint64_t skip_conn)
{
	f->p = p;
	f->ps = ps;
	f->skip_broker = skip_broker;
	f->skip_conn = skip_conn;
	f->nbrokers = (int)p->cfg.processes_broker;
	f->nslots = wk_fanout_slots(p);
	f->targets = 0;
	if (spare_busy) {
		f->per_broker = wk_calloc((size_t)f->nslots, sizeof *f->per_broker);
		return;
	}
	if (spare_slots < f->nslots) {
		spare = wk_realloc(spare, (size_t)f->nslots * sizeof *spare);
		for (int b = spare_slots; b < f->nslots; b++)
			wk_wbuf_init(&spare[b]);
		spare_slots = f->nslots;
	}
	for (int b = 0; b < f->nslots; b++)
		spare[b].len = 0;
	spare_busy = 1;
	f->per_broker = spare;
}

/* Every connection of one recipient.  A uid too long for a presence slot
 * cannot be online, so it needs no lookup. */
int
wk_fanout_uid(struct wk_fanout *f, const char *uid, size_t len)
{
	struct presence_conn c[PRESENCE_CONNS_MAX];
	char u[PRESENCE_UID_MAX];
	int n, added = 0;

	if (len == 0 || len >= sizeof u)
		return 0;
	memcpy(u, uid, len);
	u[len] = '\0';
	n = wk_fanout_lookup(f->ps, u, c);
	for (int i = 0; i < n; i++)
		added += wk_fanout_conn(f, &c[i]);
	return added;
}

/* One connection as a target of its broker (a broker or host past the
 * configured counts is a row from an older layout: skipped). */
int
wk_fanout_conn(struct wk_fanout *f, const struct presence_conn *c)
{
	int b = c->broker_id & 0xff, slot = (c->broker_id >> 8) * f->nbrokers + b;

	if (b >= f->nbrokers || slot >= f->nslots ||
	    (c->conn_id == f->skip_conn && c->broker_id == f->skip_broker))
		return 0;
	wk_put_u64(&f->per_broker[slot], c->conn_id);
	f->targets++;
	return 1;
}

/* Append (frame, targets) to each broker's batch message, made on first
 * use, and empty the targets for the next frame: one message per broker
 * per iteration can carry many frames (frame pairs). */
void
wk_fanout_add(struct wk_fanout *f, zmsg_t **batch, int type, const void *frame, size_t len)
{
	for (int b = 0; b < f->nslots; b++) {
		if (f->per_broker[b].len == 0)
			continue;
		if (batch[b] == NULL)
			batch[b] = wk_proc_msg(f->p, type, 0, 0);
		zmsg_addmem(batch[b], frame, len);
		zmsg_addmem(batch[b], f->per_broker[b].p, f->per_broker[b].len);
		f->per_broker[b].len = 0;
	}
}

int
wk_fanout_slots(const struct wk_proc *p)
{
	return (wk_cluster_count(&p->cfg) + 1) * (int)p->cfg.processes_broker;
}

zmsg_t **
wk_fanout_batch_new(const struct wk_proc *p)
{
	return wk_calloc((size_t)wk_fanout_slots(p), sizeof(zmsg_t *));
}

/* Send every batch that has something (a full queue drops it: see above). */
void
wk_fanout_send(struct wk_proc *p, zmsg_t **batch)
{
	int nb = (int)p->cfg.processes_broker, n = wk_fanout_slots(p);

	for (int slot = 0; slot < n; slot++)
		if (batch[slot])
			wk_proc_send_to(p, slot / nb, WK_ROLE_BROKER, slot % nb, &batch[slot]);
}

/* Straight into each broker's batch: no zmsg_t per broker and message. */
void
wk_fanout_deliver(struct wk_fanout *f, int type, const void *frame, size_t len)
{
	for (int b = 0; b < f->nslots; b++) {
		if (f->per_broker[b].len == 0)
			continue;
		const void *frames[2] = { frame, f->per_broker[b].p };
		size_t lens[2] = { len, f->per_broker[b].len };
		wk_proc_send_frames_to(f->p, b / f->nbrokers, WK_ROLE_BROKER, b % f->nbrokers, type,
		    0, 2, frames, lens);
		f->per_broker[b].len = 0;
	}
}

void
wk_fanout_end(struct wk_fanout *f)
{
	/* The process's one set of buffers is kept for the next message,
	 * unless a large group left them large. */
	if (f->per_broker == spare) {
		spare_busy = 0;
		for (int b = 0; b < f->nslots; b++)
			if (f->per_broker[b].cap > SPARE_KEEP)
				wk_wbuf_free(&f->per_broker[b]);
		f->per_broker = NULL;
		return;
	}
	for (int b = 0; b < f->nslots; b++)
		wk_wbuf_free(&f->per_broker[b]);
	free(f->per_broker);
	f->per_broker = NULL;
}
