/* wk_proc_rep.h - the routing of a replicated shard in a cluster
 * (wk-cluster(7)): the skeleton's part of a channel or mailbox shard whose
 * environment is one site of a Berkeley DB replication group (wk_rep.h).
 *
 * Every host runs a copy of the shard; the replication manager elects one
 * master among them.  The master serves (its databases open, its on_start
 * run: p->started).  A copy serves nothing: what reaches it is passed on
 * to the master's host (wk_proc_forward; the master answers the original
 * sender directly), held while no master is known (an election), and
 * dropped after WK_PROC_REP_HOLD_MS or when it was forwarded once already
 * (a request is never passed around twice: the requester times out and
 * re-sends, and the channel's de-duplication keeps a re-sent message from
 * being stored twice).  A master that learns it is no longer one exits:
 * wk-master restarts it as a copy, from its store. */
#ifndef WK_PROC_REP_H
#define WK_PROC_REP_H
#include <czmq.h>
#include <db.h>
#include "wk_msg.h"

#define WK_PROC_REP_HOLD_MS 4000      /* a held message is dropped after this */
#define WK_PROC_REP_HOLD_MAX 16384    /* messages held at most */
#define WK_PROC_REP_ASK_MS 100        /* how often a copy asks who is master */

struct wk_proc;
struct wk_db_env;

/* Open p's environment in dir as this host's site of the shard's group
 * (sites from cluster.nodes) and make p->rep.  0, or -1 logged. */
int wk_proc_rep_open(struct wk_proc *p, struct wk_db_env *env, const char *dir);
void wk_proc_rep_free(struct wk_proc *p);
/* A message a copy cannot serve (consumed): forwarded, held or dropped. */
void wk_proc_rep_route(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg);
/* Once per loop iteration, before the inbox: follow the replication
 * manager (which site is master), pass held messages on.  1 when this
 * copy was elected and is not serving yet: the caller begins serving,
 * then hands the held messages to wk_proc_rep_serve_held.  A serving
 * master that is master no more exits here. */
int wk_proc_rep_poll(struct wk_proc *p);
/* Run the held messages through `handle` (now that this copy serves). */
void wk_proc_rep_serve_held(struct wk_proc *p, void (*handle)(struct wk_proc *, zmsg_t *));
/* The master's node as this copy knows it (0: none known). */
int wk_proc_rep_master(const struct wk_proc *p);
/* Connections the replication manager made with other hosts so far: a
 * change means a host (re)joined. */
uint64_t wk_proc_rep_connects(const struct wk_proc *p);
/* 1 if this site is connected with node's site now. */
int wk_proc_rep_node_up(struct wk_proc *p, int node);
/* REP_LSN (a skeleton row: copies and masters both take it). */
void wk_proc_rep_on_lsn(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg);
/* On the master, in every transaction before its commit: one small write
 * (rep-mark.db), so that every commit has a log record the copies must
 * acknowledge, and a quorum's acknowledgement covers everything logged
 * before it.  Without it, a transaction that only read (a re-sent message
 * found by de-duplication) would be acknowledged at once, even if what it
 * found was committed by a master that had no quorum for it.  0, or -1. */
int wk_proc_rep_mark(struct wk_proc *p, DB_TXN *txn);
/* " rep=master|copy|starting rep_master=N ..." for the status line. */
int wk_proc_rep_status(const struct wk_proc *p, char *buf, size_t len);

#endif
