/* hook_queue.c - wk-hook's durable queue (wk-hook(8), hook.h).
 *
 * queue.db holds every event accepted and not yet posted (or dropped),
 * keyed by (event, seq) so that each kind is one range in queue order;
 * producers.db the last batch taken from each producer.  Writes go into
 * the process's group commit (p->txn, wk_txn.h), committed in on_iteration
 * (paced) before any acknowledgement and before any of its events is
 * posted.
 *
 * Memory holds a window of the queue: per kind, every event up to
 * loaded_upto that is not done, in its lane.  While a kind holds
 * HOOK_MEM_MAX bytes, newer events stay on disk only ("spilled") and are
 * read back in seq order once the lanes have drained to half of that: a
 * receiver that is down for long costs disk, not memory.  At start every
 * kind is spilled: the queue is read back from the beginning.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hook.h"
#include "wk_alloc.h"
#include "wk_buf.h"
#include "wk_db.h"
#include "wk_log.h"
#include "wk_time.h"
#include "wk_txn.h"

#define HOOK_MEM_MAX (32u << 20)     /* bytes of events in memory per kind */
#define QKEY_LEN 9                   /* u8 event, u64 seq */

/* A lane: the events whose keys map to it (hook_lane), in queue order;
 * hook_post.c posts one batch of it at a time. */
struct lane {
	struct hook_event *head, **tail;
	size_t n;
	uint64_t since_ms;           /* when the head became the head */
};

/* Per event kind. Ownership: `pending` holds what this transaction put,
 * and only the commit moves it into the lanes, so that nothing is posted
 * before it is durable. */
struct kind {
	struct lane lanes[HOOK_LANES];
	struct hook_event *pending, **ptail;   /* put in this transaction */
	uint64_t next_seq;
	uint64_t loaded_upto;        /* every event <= this is in memory or done */
	int spilled;                 /* events past loaded_upto are on disk only */
	size_t mem;                  /* bytes in memory: lanes and batches taken */
	uint64_t depth;              /* on disk */
};

const char *const hook_databases[HOOK_DB_COUNT + 1] = {
	"queue.db", "producers.db", NULL,
};

/* The last batch acknowledged to a producer (epoch, seq), durable in
 * producers.db: a batch sent again after a restart of either side is
 * recognised as a duplicate and acknowledged without queueing it twice. */
struct producer {
	int known;
	uint64_t epoch, seq;
};

static struct {
	struct kind k[WK_WEBHOOK_NEVENTS];
	struct producer prod[WK_ROLE_COUNT][HOOK_MAX_INSTANCES];
	DB *queue, *producers;
	size_t writes;               /* in the open transaction */
	uint64_t loaded, commits;
} q;

static size_t ev_size(const struct hook_event *e) { return sizeof *e + e->len; }

/* A queue.db key: the kind, then the seq big-endian, so that a cursor
 * walks one kind in queue order. */
static void
qkey(uint8_t k[QKEY_LEN], int ev, uint64_t seq)
{
	k[0] = (uint8_t)ev;
	wk_be64_put(k + 1, seq);
}

/* The group commit's transaction, for one row's write. */
static DB_TXN *
txn(struct wk_proc *p)
{
	DB_TXN *t = wk_txn_get(p->txn);

	if (t == NULL)
		wk_fatalx("queue.db: no transaction");
	q.writes++;   /* every caller writes one row */
	return t;
}

/* Append e to the tail of its key's lane. */
static void
lane_push(struct kind *k, struct hook_event *e)
{
	struct lane *l = &k->lanes[hook_lane(e->key)];

	e->next = NULL;
	if (l->n++ == 0)
		l->since_ms = wk_now_ms();
	*l->tail = e;
	l->tail = &e->next;
}

/* An event from a queue.db row. */
static struct hook_event *
ev_from_row(const DBT *key, const DBT *data)
{
	struct hook_event *e;

	if (key->size != QKEY_LEN || data->size < 4)
		wk_fatalx("queue.db: a row of %u/%u bytes", key->size, data->size);
	e = wk_malloc(sizeof *e + data->size - 4);
	e->seq = wk_be64_get((const uint8_t *)key->data + 1);
	e->key = wk_be32_get(data->data);
	e->len = data->size - 4;
	memcpy(e->data, (const uint8_t *)data->data + 4, e->len);
	return e;
}

/* Read the spilled events of a kind back in seq order, up to 3/4 of the
 * memory bound; reaching the end of its range ends the spill. */
static void
refill(int ev)
{
	struct kind *k = &q.k[ev];
	uint8_t kb[QKEY_LEN];
	DBT key = { .data = kb, .size = QKEY_LEN, .ulen = QKEY_LEN, .flags = DB_DBT_USERMEM };
	DBT data = { 0 };
	DBC *c;
	int rc;

	if ((rc = q.queue->cursor(q.queue, NULL, &c, 0)) != 0)
		wk_fatalx("queue.db cursor: %s", db_strerror(rc));
	qkey(kb, ev, k->loaded_upto + 1);
	for (rc = wk_db_cget(c, &key, &data, DB_SET_RANGE); rc == 0 && kb[0] == ev;
	    rc = wk_db_cget(c, &key, &data, DB_NEXT)) {
		if (k->mem >= HOOK_MEM_MAX / 4 * 3)
			break;
		struct hook_event *e = ev_from_row(&key, &data);
		k->mem += ev_size(e);
		k->loaded_upto = e->seq;
		lane_push(k, e);
		q.loaded++;
	}
	if (rc != 0 && rc != DB_NOTFOUND)
		wk_fatalx("queue.db read: %s", db_strerror(rc));
	if (rc == DB_NOTFOUND || kb[0] != ev)
		k->spilled = 0;
	c->close(c);
	wk_db_dbt_free(&key, &data);
}

/* Scan the queue once: depth and next seq of each kind. */
static void
scan(void)
{
	uint8_t kb[QKEY_LEN];
	DBT key = { .data = kb, .ulen = QKEY_LEN, .flags = DB_DBT_USERMEM };
	DBT data = { .flags = DB_DBT_PARTIAL };   /* dlen 0: keys only */
	DBC *c;
	int rc;

	if ((rc = q.queue->cursor(q.queue, NULL, &c, 0)) != 0)
		wk_fatalx("queue.db cursor: %s", db_strerror(rc));
	while ((rc = wk_db_cget(c, &key, &data, DB_NEXT)) == 0) {
		if (key.size != QKEY_LEN || kb[0] >= WK_WEBHOOK_NEVENTS)
			wk_fatalx("queue.db: a key of %u bytes, event %u", key.size, kb[0]);
		q.k[kb[0]].depth++;
		q.k[kb[0]].next_seq = wk_be64_get(kb + 1) + 1;
	}
	if (rc != DB_NOTFOUND)
		wk_fatalx("queue.db scan: %s", db_strerror(rc));
	c->close(c);
	wk_db_dbt_free(&key, &data);
}

/* Read producers.db into q.prod; a bad row is fatal (the database is
 * ours). */
static void
load_producers(void)
{
	uint8_t kb[3], vb[16];
	DBT key = { .data = kb, .ulen = sizeof kb, .flags = DB_DBT_USERMEM };
	DBT data = { .data = vb, .ulen = sizeof vb, .flags = DB_DBT_USERMEM };
	DBC *c;
	int rc;

	if ((rc = q.producers->cursor(q.producers, NULL, &c, 0)) != 0)
		wk_fatalx("producers.db cursor: %s", db_strerror(rc));
	while ((rc = wk_db_cget(c, &key, &data, DB_NEXT)) == 0) {
		int role = kb[0], inst = wk_be16_get(kb + 1);
		if (key.size != 3 || data.size != 16 || role >= WK_ROLE_COUNT || inst >= HOOK_MAX_INSTANCES)
			wk_fatalx("producers.db: a bad row");
		q.prod[role][inst] = (struct producer){ 1, wk_be64_get(vb), wk_be64_get(vb + 8) };
	}
	if (rc != DB_NOTFOUND)
		wk_fatalx("producers.db: %s", db_strerror(rc));
	c->close(c);
	wk_db_dbt_free(&key, &data);
}

/* Open the queue: set up the lanes, find each kind's depth and next seq,
 * load the producers, and read the start of each kind back into memory. */
int
hook_queue_open(struct wk_proc *p)
{
	q.queue = p->db[HOOK_DB_QUEUE];
	q.producers = p->db[HOOK_DB_PRODUCERS];
	for (int ev = 0; ev < WK_WEBHOOK_NEVENTS; ev++) {
		struct kind *k = &q.k[ev];
		for (int l = 0; l < HOOK_LANES; l++)
			k->lanes[l].tail = &k->lanes[l].head;
		k->ptail = &k->pending;
		k->next_seq = 1;
	}
	scan();
	load_producers();
	for (int ev = 0; ev < WK_WEBHOOK_NEVENTS; ev++) {
		q.k[ev].spilled = 1;
		refill(ev);
		if (q.k[ev].depth)
			wk_log_info("%s: %llu events queued", wk_webhook_event_name(ev),
			    (unsigned long long)q.k[ev].depth);
	}
	return 0;
}

static void
free_list(struct hook_event *e)
{
	while (e) {
		struct hook_event *next = e->next;
		free(e);
		e = next;
	}
}

/* Commit what is open and free the lanes. */
void
hook_queue_close(struct wk_proc *p)
{
	hook_queue_commit(p);
	for (int ev = 0; ev < WK_WEBHOOK_NEVENTS; ev++)
		for (int l = 0; l < HOOK_LANES; l++)
			free_list(q.k[ev].lanes[l].head);
	memset(&q, 0, sizeof q);
}

/* Queue an event: its row goes into the open transaction, the event onto
 * the kind's pending list until the commit. A failed write poisons the
 * transaction (the commit then restarts the process). */
int
hook_queue_put(struct wk_proc *p, int ev, uint32_t key, const void *data, size_t len)
{
	struct kind *k = &q.k[ev];
	struct hook_event *e = wk_malloc(sizeof *e + len);
	uint8_t kb[QKEY_LEN], *v = wk_malloc(4 + len);
	int rc;

	e->next = NULL;
	e->seq = k->next_seq++;
	e->key = key;
	e->len = (uint32_t)len;
	memcpy(e->data, data, len);
	qkey(kb, ev, e->seq);
	wk_be32_put(v, key);
	memcpy(v + 4, data, len);
	rc = wk_db_put(q.queue, txn(p), kb, sizeof kb, v, 4 + len);
	free(v);
	if (rc < 0) {
		wk_txn_fail(p->txn);
		free(e);
		return -1;
	}
	k->depth++;
	*k->ptail = e;
	k->ptail = &e->next;
	return 0;
}

/* A producer's last acknowledged batch: 1 and (*epoch, *seq) if known. */
int
hook_queue_producer(int role, int instance, uint64_t *epoch, uint64_t *seq)
{
	const struct producer *pr;

	if (role < 0 || role >= WK_ROLE_COUNT || instance < 0 || instance >= HOOK_MAX_INSTANCES)
		return 0;
	pr = &q.prod[role][instance];
	*epoch = pr->epoch;
	*seq = pr->seq;
	return pr->known;
}

/* Record a producer's batch as taken, in the same transaction as its
 * events: the events and the mark are durable together, or neither. */
int
hook_queue_producer_set(struct wk_proc *p, int role, int instance, uint64_t epoch, uint64_t seq)
{
	uint8_t kb[3], vb[16];

	if (role < 0 || role >= WK_ROLE_COUNT || instance < 0 || instance >= HOOK_MAX_INSTANCES)
		return -1;
	kb[0] = (uint8_t)role;
	wk_be16_put(kb + 1, (uint16_t)instance);
	wk_be64_put(vb, epoch);
	wk_be64_put(vb + 8, seq);
	if (wk_db_put(q.producers, txn(p), kb, sizeof kb, vb, sizeof vb) < 0) {
		wk_txn_fail(p->txn);
		return -1;
	}
	q.prod[role][instance] = (struct producer){ 1, epoch, seq };
	return 0;
}

/* Commit, then let the new events into memory. Past the per-kind memory
 * bound an event stays on disk only; once the lanes drain below half of
 * the bound, refill reads the spilled events back in seq order. */
void
hook_queue_commit(struct wk_proc *p)
{
	if (wk_txn_is_open(p->txn)) {
		/* Nothing was acknowledged or posted from this transaction, and
		 * the producers still keep its batches: start again clean.  The
		 * acknowledgements (queued after the commit) leave in it. */
		if (wk_txn_is_failed(p->txn))
			wk_fatalx("queue.db: a write failed; restarting");
		if (wk_txn_commit(p->txn) < 0)
			wk_fatalx("queue.db: the commit failed; restarting");
		q.writes = 0;
		q.commits++;
	}
	for (int ev = 0; ev < WK_WEBHOOK_NEVENTS; ev++) {
		struct kind *k = &q.k[ev];
		struct hook_event *e = k->pending, *next;

		k->pending = NULL;
		k->ptail = &k->pending;
		for (; e; e = next) {
			next = e->next;
			if (!k->spilled && k->mem + ev_size(e) <= HOOK_MEM_MAX) {
				k->mem += ev_size(e);
				k->loaded_upto = e->seq;
				lane_push(k, e);
			} else {
				k->spilled = 1;   /* it stays on disk; refill reads it back */
				free(e);
			}
		}
		if (k->spilled && k->mem < HOOK_MEM_MAX / 2)
			refill(ev);
	}
}

size_t
hook_queue_writes(void)
{
	return q.writes;
}

/* How many events wait in a lane, and since when its head has waited. */
size_t
hook_queue_waiting(int ev, int lane, uint64_t *since_ms)
{
	const struct lane *l = &q.k[ev].lanes[lane];

	*since_ms = l->since_ms;
	return l->n;
}

/* Take up to max events from the head of a lane (a batch to post); they
 * stay in queue.db until hook_queue_done. */
struct hook_event *
hook_queue_take(int ev, int lane, size_t max, size_t *n)
{
	struct lane *l = &q.k[ev].lanes[lane];
	struct hook_event *head = l->head, **pp = &l->head;

	for (*n = 0; *n < max && *pp; (*n)++)
		pp = &(*pp)->next;
	l->head = *pp;
	*pp = NULL;
	l->n -= *n;
	if (l->head == NULL)
		l->tail = &l->head;
	l->since_ms = wk_now_ms();
	return head;
}

/* A batch was posted (or given up on): delete its rows in the open
 * transaction and free it. */
void
hook_queue_done(struct wk_proc *p, int ev, struct hook_event *list)
{
	struct kind *k = &q.k[ev];
	uint8_t kb[QKEY_LEN];

	for (struct hook_event *e = list; e; e = e->next) {
		qkey(kb, ev, e->seq);
		if (wk_db_del(q.queue, txn(p), kb, sizeof kb) < 0)
			wk_txn_fail(p->txn);
		k->depth--;
		k->mem -= ev_size(e);
	}
	free_list(list);
}

uint64_t
hook_queue_depth(int ev)
{
	return q.k[ev].depth;
}

int
hook_queue_status(char *buf, size_t len)
{
	uint64_t depth = 0;
	size_t mem = 0;
	int spilled = 0;

	for (int ev = 0; ev < WK_WEBHOOK_NEVENTS; ev++) {
		depth += q.k[ev].depth;
		mem += q.k[ev].mem;
		spilled |= q.k[ev].spilled;
	}
	return snprintf(buf, len, " queued=%llu queued_notify=%llu queued_offline=%llu "
	    "queued_onlinestatus=%llu queue_mem=%zu spilled=%d loaded=%llu commits=%llu",
	    (unsigned long long)depth, (unsigned long long)q.k[WK_WEBHOOK_MSG_NOTIFY].depth,
	    (unsigned long long)q.k[WK_WEBHOOK_MSG_OFFLINE].depth,
	    (unsigned long long)q.k[WK_WEBHOOK_USER_ONLINESTATUS].depth, mem, spilled,
	    (unsigned long long)q.loaded, (unsigned long long)q.commits);
}

void
hook_queue_stats(struct stats_row *r)
{
	uint64_t depth = 0, mem = 0;

	for (int ev = 0; ev < WK_WEBHOOK_NEVENTS; ev++) {
		depth += q.k[ev].depth;
		mem += q.k[ev].mem;
	}
	stats_set(r, STATS_HOOK_QUEUED, depth);
	stats_set(r, STATS_HOOK_QUEUE_BYTES, mem);
}
