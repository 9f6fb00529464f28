/* wk_txn.c - the group commit and its after-commit queue (wk_txn.h). */
#include <stdlib.h>
#include "wk_alloc.h"
#include "wk_db.h"
#include "wk_log.h"
#include "wk_proc.h"
#include "wk_proc_rep.h"
#include "wk_rep.h"
#include "wk_time.h"
#include "wk_txn.h"

/* A callback waiting for the end of the transaction. */
struct done {
	wk_txn_done_fn *fn;
	void *arg;
};

struct wk_txn {
	struct wk_proc *p;
	DB_TXN *txn;
	int failed;                  /* a write failed half-way: abort at commit */
	struct wk_txn_hooks hooks;
	struct done *q;              /* to run when txn ends, in order */
	size_t n, cap, max;
	uint64_t commits, aborts, refused;
};

/* The "queue full" warning: at most once a second, since under overload it
 * would otherwise be logged for every refused reply. */
static struct wk_ratelimit rl_full = WK_RATELIMIT_INIT(1);

/* A group commit for p; nothing is begun until the first wk_txn_get. */
struct wk_txn *
wk_txn_new(struct wk_proc *p, size_t queue_max)
{
	struct wk_txn *t = wk_calloc(1, sizeof *t);

	t->p = p;
	t->max = queue_max ? queue_max : WK_TXN_QUEUE_MAX;
	return t;
}

/* Abort what is open (its waiting callbacks learn it with -1) and free. */
void
wk_txn_destroy(struct wk_txn **tp)
{
	struct wk_txn *t = *tp;

	if (t == NULL)
		return;
	wk_txn_abort(t);
	free(t->q);
	free(t);
	*tp = NULL;
}

void
wk_txn_set_hooks(struct wk_txn *t, const struct wk_txn_hooks *hooks)
{
	t->hooks = *hooks;
}

/* The open transaction, begun now if none: transactions start lazily, so
 * an iteration that reads and writes nothing commits nothing. */
DB_TXN *
wk_txn_get(struct wk_txn *t)
{
	DB_ENV *env = t->p->env->env;
	int rc;

	if (t->txn)
		return t->txn;
	if ((rc = env->txn_begin(env, NULL, &t->txn, 0)) == DB_REP_LOCKOUT && t->p->rep)
		/* A serving master locked out: the group is settling around
		 * another master (measured up to 30 s of waiting); start again
		 * as a copy at once instead. */
		wk_fatalx("replication lockout on the master: restarting as a copy");
	if (rc != 0) {
		wk_log_warnx("txn_begin: %s", db_strerror(rc));
		t->txn = NULL;
	}
	t->failed = 0;
	return t->txn;
}

int wk_txn_is_open(const struct wk_txn *t) { return t->txn != NULL; }
int wk_txn_is_failed(const struct wk_txn *t) { return t->txn != NULL && t->failed; }
int wk_txn_is_busy(const struct wk_txn *t) { return t->n >= t->max / 2; }
uint64_t wk_txn_commits(const struct wk_txn *t) { return t->commits; }
uint64_t wk_txn_aborts(const struct wk_txn *t) { return t->aborts; }

/* Poison the open transaction: it may hold half of an operation, so its
 * commit must become an abort. */
void
wk_txn_fail(struct wk_txn *t)
{
	if (t->txn)
		t->failed = 1;
}

/* Queue fn for the end of the transaction. The queue is bounded: a full
 * one refuses, and the caller answers as for a storage error rather than
 * grow without limit. */
int
wk_txn_after_commit(struct wk_txn *t, wk_txn_done_fn *fn, void *arg)
{
	if (wk_txn_get(t) == NULL)
		return -1;
	if (t->n == t->max) {
		t->refused++;
		wk_log_limited(&rl_full, WK_LOG_WARN, "%zu replies wait for one commit: refused "
		    "(%llu so far)", t->n, (unsigned long long)t->refused);
		return -1;
	}
	/* Grown by doubling up to max; the memory is dropped at every
	 * commit (ended), so a burst does not keep it. */
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		if (t->cap > t->max)
			t->cap = t->max;
		t->q = wk_realloc(t->q, t->cap * sizeof *t->q);
	}
	t->q[t->n].fn = fn;
	t->q[t->n].arg = arg;
	t->n++;
	return 0;
}

/* The transaction ended with rc: the owner's hook, then the queued work.
 * The queue is taken first: what a callback queues waits for the next
 * transaction (which it may open). */
static void
ended(struct wk_txn *t, int rc)
{
	struct done *q = t->q;
	size_t n = t->n;

	t->txn = NULL;
	t->failed = 0;
	if (rc == 0)
		t->commits++;
	else
		t->aborts++;
	if (t->hooks.ended)
		t->hooks.ended(t->p, rc);
	t->q = NULL;
	t->n = t->cap = 0;
	for (size_t i = 0; i < n; i++)
		q[i].fn(t->p, rc, q[i].arg);
	free(q);
}

/* Commit the open transaction, or abort it if a write failed or the
 * owner's prepare hook failed; then ended() runs the owner's hook and the
 * queue. Only after this do the replies leave: commit, then acknowledge. */
int
wk_txn_commit(struct wk_txn *t)
{
	DB_TXN *txn = t->txn;
	int rc;

	if (txn == NULL)
		return 0;
	if (t->failed || (t->hooks.prepare && t->hooks.prepare(t->p, txn) < 0) ||
	    (t->p->rep && wk_proc_rep_mark(t->p, txn) < 0)) {
		wk_log_warnx("commit: a write failed, aborting the transaction");
		txn->abort(txn);
		ended(t, -1);
		return -1;
	}
	/* A failed commit has aborted the transaction and freed its handle. */
	uint64_t t0 = wk_now_us();
	rc = t->p->rep ? wk_rep_commit(txn) : txn->commit(txn, 0);
	stats_observe(t->p->stats, STATS_H_COMMIT, wk_now_us() - t0);
	if (rc == WK_REP_NOT_DURABLE) {
		/* Committed here, but no quorum of hosts has it: it may be rolled
		 * back by the next master, so nothing waiting is acknowledged
		 * (the senders re-send; de-duplication finds what survived).  A
		 * master without a quorum is cut off from the others: it starts
		 * again from its store, as a copy until an election says more. */
		wk_log_warnx("commit: not acknowledged by a quorum of hosts");
		ended(t, -1);
		wk_proc_flush(t->p);
		wk_fatalx("commit without a quorum: restarting from the store");
	}
	if (rc != 0) {
		wk_log_warnx("commit: %s", db_strerror(rc));
		ended(t, -1);
		return -1;
	}
	ended(t, 0);
	return 0;
}

/* Abort what is open; every queued callback gets -1. */
void
wk_txn_abort(struct wk_txn *t)
{
	if (t->txn == NULL)
		return;
	t->txn->abort(t->txn);
	ended(t, -1);
}

size_t
wk_txn_waiting(const struct wk_txn *t)
{
	return t->n;
}
