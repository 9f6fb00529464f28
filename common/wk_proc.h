/* wk_proc.h - the process skeleton every wk daemon is built on.
 *
 * A daemon supplies a struct wk_proc_def (its role, dispatch table and
 * callbacks) and calls wk_proc_main().  The skeleton owns: options (-f config,
 * -n check and exit, -d foreground, -v, -i instance), logging with the role
 * tag, signals (TERM/INT stop, HUP reload), the pipe to wk-master (exit on
 * EOF, "ready", "status"), ZeroMQ set-up after exec (one PULL inbox bound at
 * ipc://<runDir>/<role>-<instance>.ipc, PUSH sockets to peers made on first
 * use), the loop, the once-per-iteration callback and the producers run
 * after it, a tick timer, the STATUS and PING requests every process
 * answers, for a process with databases its store and its group
 * commit (p->txn, wk_txn.h), and the process's row of the statistics
 * segment (p->stats, stats.h): the skeleton fills its own values every
 * WK_STATS_REFRESH_MS and then calls on_stats for the process's.
 *
 * One loop iteration: drain the inbox (at most INBOX_BATCH messages, fewer
 * once p->txn is busy), on_iteration (the process commits, acknowledges,
 * fans out), then the per-iteration producers in the order registered
 * (the webhook events of wk_webhook.c register themselves when raised).
 *
 * Messages to another process are batched: what an iteration sends one
 * peer leaves as one ZeroMQ message (BATCH) after the inbox was drained
 * and again after the producers, so a hop costs one ZeroMQ message and
 * one wake-up per iteration, not per message.  Order per peer is kept.
 * Tools (role ctl) get their answers unbatched.
 */
#ifndef WK_PROC_H
#define WK_PROC_H
#include <signal.h>
#include <stdint.h>
#include <czmq.h>
#include "wk_buf.h"
#include "wk_config.h"
#include "wk_dispatch.h"
#include "wk_loop.h"
#include "wk_msg.h"
#include "stats.h"

#define WK_EAGAIN (-2)   /* a send that would block: the peer's queue is full */

struct wk_proc;

struct wk_proc_def {
	const char *name;            /* program name, e.g. "wk-channel" */
	enum wk_role role;
	int sharded;                 /* takes -i INSTANCE */
	const struct wk_dispatch *dispatch;
	size_t ndispatch;
	/* The handlers of the rows of `dispatch` without fn: the hot messages
	 * (one per message sent), read in place from a BATCH, no zmsg_t made. */
	const struct wk_dispatch_view *views;
	size_t nviews;
	/* Nobody waits on this process's answers (wk-hook): its loop turns at
	 * most once per this many ms (wk_loop_set_min_interval); 0 for the
	 * others. */
	int min_iteration_ms;
	/* In a cluster, the rows of `dispatch` that a copy of a replicated
	 * shard serves itself (what its master sends it); a copy forwards
	 * every other message to the master (wk_proc_rep.h). */
	const int *copy_types;
	size_t ncopy_types;
	/* In a cluster, a message from a process other than wk-api that a copy
	 * drops unserved (no master found in time, or the master moved while
	 * it was being forwarded): answer its sender with a retryable error if
	 * it waits for one (wk-api's are answered 503 by the skeleton).
	 * msg holds the payload frames, header taken off. */
	void (*on_refused)(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg);
	/* Open what the process owns; -1 exits 1 (wk-master respawns it). */
	int (*on_start)(struct wk_proc *p);
	/* Once per loop iteration, after the inbox was drained: commit p->txn,
	 * then acknowledge, then fan out. */
	void (*on_iteration)(struct wk_proc *p);
	/* Every tick_ms if non-zero. */
	void (*on_tick)(struct wk_proc *p);
	uint64_t tick_ms;
	/* SIGTERM: stop taking new work, finish and commit; the loop ends after. */
	void (*on_stop)(struct wk_proc *p);
	/* After a good SIGHUP reload; `old` is the previous config. */
	void (*on_reload)(struct wk_proc *p, const struct wk_config *old);
	/* Extra " key=value" pairs for STATUS (queue depths); returns length written. */
	int (*on_status)(struct wk_proc *p, char *buf, size_t len);
	/* Every WK_STATS_REFRESH_MS: copy the process's counters and gauges
	 * into its row (stats_set); values counted as they happen are added
	 * to p->stats directly (stats_add, stats_observe). */
	void (*on_stats)(struct wk_proc *p, struct stats_row *row);
	/* Databases this process owns (NULL-terminated), or NULL for none.  The
	 * skeleton opens its environment <dataDir>/<role>-<instance> and these
	 * databases as p->db[i] before on_start, checkpoints on a timer, and
	 * closes them after on_stop. */
	const char *const *databases;
	/* Their page sizes when created, in the same order (0 or NULL:
	 * Berkeley DB's choice, 4 KB here). */
	const uint32_t *db_pagesize;
};

#define WK_PROC_MAX_DBS 12
#define WK_STATS_REFRESH_MS 1000     /* how often on_stats runs */
#define WK_PROC_MAX_PRODUCERS 8      /* per-iteration producers (wk_proc_on_iteration) */

typedef void wk_proc_iter_fn(struct wk_proc *p, void *arg);
struct wk_txn;
struct wk_proc_peer;                 /* a PUSH socket and its waiting batch (wk_proc_send.c) */
struct wk_proc_rep;

struct wk_proc {
	const struct wk_proc_def *def;
	struct wk_config cfg;
	char *config_path;           /* NULL: embedded defaults */
	int instance;
	int foreground;
	struct wk_loop *loop;
	zsock_t *inbox;
	struct wk_proc_peer **peers[WK_ROLE_COUNT];
	int npeers[WK_ROLE_COUNT];
	int node;                    /* cluster.node: this host, 0 on one host */
	struct wk_proc_peer **remote; /* other hosts' processes (wk_proc_send.c), in a cluster */
	struct wk_proc_rep *rep;     /* a replicated shard's routing (wk_proc_rep.h), in a cluster */
	int started;                 /* serving: its databases open and on_start done */
	struct wk_proc_peer **dirty;      /* peers with a batch waiting */
	int ndirty, npeer_all, flush_retry;
	zmsg_t *in_batch;                 /* a BATCH being read (resumed next iteration) */
	struct wk_rbuf in_r;
	int master_fd;               /* -1 when run without wk-master */
	int sig_fd;
	uint64_t started_ms;
	uint64_t msgs_in, msgs_out, send_drops, bad_msgs;
	int stopping;
	struct wk_db_env *env;       /* when def->databases */
	struct __db *db[WK_PROC_MAX_DBS];
	struct wk_txn *txn;          /* the group commit, when def->databases */
	struct { wk_proc_iter_fn *fn; void *arg; } producers[WK_PROC_MAX_PRODUCERS];
	int nproducers;
	void *state;                 /* the process's own state */
	char master_in[4400];        /* a partial line from wk-master */
	size_t master_inlen;
	char *backup_dir;            /* a backup wk-master asked for, not yet taken */
	struct stats stats_seg;      /* the statistics segment, mapped writable */
	struct stats_row *stats;     /* this process's row; NULL without wk-master */
};

int wk_proc_main(int argc, char **argv, const struct wk_proc_def *def);

/* Run fn(p, arg) once per loop iteration after on_iteration, in the order
 * registered: a producer that batches what the iteration raised.  The same
 * fn and arg again is a no-op.  0, or -1 when WK_PROC_MAX_PRODUCERS are. */
int wk_proc_on_iteration(struct wk_proc *p, wk_proc_iter_fn *fn, void *arg);

/* The ipc endpoint of (role, instance) under the run directory (malloc'd). */
char *wk_proc_endpoint(const struct wk_config *cfg, int role, int instance);
/* The data directory of this shard: <dataDir>/<role>-<instance> (malloc'd). */
char *wk_proc_data_dir(const struct wk_proc *p);

/* A message with this process as the sender. */
zmsg_t *wk_proc_msg(struct wk_proc *p, int type, uint64_t corr, uint32_t key);
/* Send without blocking (batched until the end of the iteration); consumes
 * *msg.  0, -1 (error) or WK_EAGAIN: the peer is not taking messages and
 * limits.internalQueue bytes wait for it. */
int wk_proc_send(struct wk_proc *p, int role, int instance, zmsg_t **msg);
struct wk_wbuf;
/* A message of `type` whose one payload frame is b, to (role, instance). */
int wk_proc_send_buf(struct wk_proc *p, int role, int instance, int type, uint64_t corr,
    const struct wk_wbuf *b);
/* The same to instances 0..count-1 of role. */
void wk_proc_broadcast(struct wk_proc *p, int role, int count, int type,
    const struct wk_wbuf *b);
/* The same on every host of the cluster (this one alone on one host). */
void wk_proc_broadcast_hosts(struct wk_proc *p, int role, int count, int type,
    const struct wk_wbuf *b);
/* Reply to a request: same corr id, REPLY flag, to the sender's inbox
 * (on the sender's host in a cluster). */
int wk_proc_reply(struct wk_proc *p, const struct wk_msg_hdr *req, int type, zmsg_t **payload);
/* wk_proc_send and wk_proc_send_buf to (role, instance) on host `node`
 * (wk-cluster(7)): over TCP to another host, as wk_proc_send to this one
 * (node 0 or p->node). */
int wk_proc_send_to(struct wk_proc *p, int node, int role, int instance, zmsg_t **msg);
int wk_proc_send_buf_to(struct wk_proc *p, int node, int role, int instance, int type,
    uint64_t corr, const struct wk_wbuf *b);
/* The same with n payload frames given as pointers (copied). */
int wk_proc_send_frames_to(struct wk_proc *p, int node, int role, int instance, int type,
    uint64_t corr, int n, const void *const *frames, const size_t *lens);
/* Pass a message this copy of a replicated shard cannot serve to the same
 * shard on host `node`, its header kept (the master answers the original
 * sender) and marked WK_MSG_F_FORWARDED; consumes *msg. */
int wk_proc_forward(struct wk_proc *p, int node, zmsg_t **msg);
/* The batch still waiting for (node, role, instance) (a host that stopped
 * taking messages), taken out and returned as a BATCH payload in *out
 * (reset first); how many messages. */
uint32_t wk_proc_take_waiting(struct wk_proc *p, int node, int role, int instance,
    struct wk_wbuf *out);

/* The skeleton's own use (wk_proc_send.c): send every waiting batch;
 * ZeroMQ's queue length per peer in messages (limits.internalQueue over
 * the batch size); close every peer at exit. */
void wk_proc_flush(struct wk_proc *p);
int wk_proc_queue_msgs(const struct wk_proc *p);
void wk_proc_peers_free(struct wk_proc *p);
/* Bytes in batches not yet handed to ZeroMQ, and how many peers are full
 * (between iterations only full peers keep a batch). */
size_t wk_proc_waiting_bytes(const struct wk_proc *p, int *full);

/* The status line ("role=... instance=... pid=..."). */
void wk_proc_status(struct wk_proc *p, char *buf, size_t len);

#endif
