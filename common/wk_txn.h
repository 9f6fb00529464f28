/* wk_txn.h - the group commit of a process that owns databases (wk(7)):
 * one Berkeley DB transaction for everything a loop iteration writes, and
 * the work that waits for it.
 *
 * The skeleton makes one, p->txn, for every process that declares
 * databases; wk-channel, wk-mailbox and wk-hook write through it.  Every
 * read and write of the iteration goes through wk_txn_get (one thread, one
 * transaction: there is never a lock wait).  The process commits it in its
 * on_iteration (wk-hook: paced, every few iterations), and the order is
 * always: commit, then acknowledge, then fan out.  Acknowledgements are the
 * work queued with wk_txn_after_commit: it runs when the transaction ends,
 * in the order queued, with the outcome (0 committed and durable as
 * storage.sync says, -1 aborted: every write of the transaction is gone,
 * and every reply that depended on it must say so).  A write that failed
 * half-way marks the transaction failed (wk_txn_fail) and the commit
 * aborts it instead.
 *
 * Bounded: at most `max` callbacks wait for one commit.  Past half of it
 * the transaction is "busy" and the skeleton takes no more messages until
 * the commit; at the bound wk_txn_after_commit refuses (-1), and the caller
 * answers as for a storage error.
 */
#ifndef WK_TXN_H
#define WK_TXN_H
#include <stddef.h>
#include <stdint.h>
#include <db.h>

#define WK_TXN_QUEUE_MAX 65536       /* callbacks waiting for one commit (default) */

struct wk_proc;
struct wk_txn;

/* Run when the transaction ends: rc 0 committed, -1 aborted. */
typedef void wk_txn_done_fn(struct wk_proc *p, int rc, void *arg);

/* The owner's part of a commit (both optional). */
struct wk_txn_hooks {
	/* Just before the commit: the last writes (records cached during the
	 * iteration).  0, or -1 to abort instead. */
	int (*prepare)(struct wk_proc *p, DB_TXN *txn);
	/* The transaction ended with rc, before the queued work runs (so that
	 * a cache is consistent again when a callback reads). */
	void (*ended)(struct wk_proc *p, int rc);
};

/* A group commit over p->env; at most queue_max callbacks per commit. */
struct wk_txn *wk_txn_new(struct wk_proc *p, size_t queue_max);
/* Abort an open transaction (its callbacks get -1) and free. */
void wk_txn_destroy(struct wk_txn **t);
void wk_txn_set_hooks(struct wk_txn *t, const struct wk_txn_hooks *hooks);

/* The open transaction; begins one if none.  NULL if it cannot begin. */
DB_TXN *wk_txn_get(struct wk_txn *t);
/* 1 if a transaction is open (something to commit). */
int wk_txn_is_open(const struct wk_txn *t);
/* Mark the open transaction failed: the commit will abort it. */
void wk_txn_fail(struct wk_txn *t);
/* 1 if the open transaction is marked failed. */
int wk_txn_is_failed(const struct wk_txn *t);
/* Queue fn(p, rc, arg) for the end of the transaction, beginning one if
 * none is open.  0, or -1 (no transaction, or the queue is full). */
int wk_txn_after_commit(struct wk_txn *t, wk_txn_done_fn *fn, void *arg);
/* 1 when half the queue is used: take no more work before the commit. */
int wk_txn_is_busy(const struct wk_txn *t);
/* Commit (0 if nothing is open), or abort if marked failed: 0, or -1
 * (every write is gone).  Then the hooks' ended and the queued work. */
int wk_txn_commit(struct wk_txn *t);
/* Abort the open transaction, if any; the queued work gets -1. */
void wk_txn_abort(struct wk_txn *t);
/* Commits and aborts so far. */
uint64_t wk_txn_commits(const struct wk_txn *t);
uint64_t wk_txn_aborts(const struct wk_txn *t);
/* Callbacks waiting for the open transaction's end. */
size_t wk_txn_waiting(const struct wk_txn *t);

#endif
