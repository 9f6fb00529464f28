/* wk_proc.c - the process skeleton (see wk_proc.h and wk(7)). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include "config.h"
#include "wk_alloc.h"
#include "wk_buf.h"
#include "wk_cluster.h"
#include "wk_db.h"
#include "wk_webhook.h"
#include "wk_log.h"
#include "wk_proc.h"
#include "wk_proc_rep.h"
#include "wk_shard.h"
#include "wk_time.h"
#include "wk_txn.h"

#define INBOX_BATCH 1024   /* messages handled per iteration before other work */
#define WK_HEAP_KEEP (32 << 20) /* big buffers below this come from a heap that is kept (wk_proc_main) */

static void proc_handle_msg(struct wk_proc *p, zmsg_t *msg);

static void proc_backup_run(struct wk_proc *p);
static int proc_begin(struct wk_proc *p);

static void
usage_exit(const struct wk_proc_def *def, int status)
{
	fprintf(status ? stderr : stdout, "usage: %s [-dhnv] [-f config]%s\n", def->name,
	    def->sharded ? " [-i instance]" : "");
	if (status == 0)
		printf("  -f config    wk.yaml to load\n  -d           foreground, log to stderr\n"
		    "%s  -n           check the configuration and exit\n"
		    "  -v           version;  -h, --help  this help\n"
		    "Started by wk-master(8), not by hand; see %s(8).\n",
		    def->sharded ? "  -i instance  the shard number\n" : "", def->name);
	exit(status);
}

static void usage(const struct wk_proc_def *def) { usage_exit(def, 2); }

char *
wk_proc_endpoint(const struct wk_config *cfg, int role, int instance)
{
	return wk_asprintf("ipc://%s/%s-%d.ipc", cfg->runDir, wk_role_name(role), instance);
}

char *
wk_proc_data_dir(const struct wk_proc *p)
{
	return wk_asprintf("%s/%s-%d", p->cfg.dataDir, wk_role_name(p->def->role), p->instance);
}

/* Open the environment of the databases the process declared: in a
 * cluster, a replicated shard's as this host's site of its group. */
static int
proc_store_open(struct wk_proc *p)
{
	char *dir = wk_proc_data_dir(p);
	int rc;

	p->env = wk_calloc(1, sizeof *p->env);
	if (wk_cluster_on(&p->cfg) && wk_cluster_replicated(p->def->role))
		rc = wk_proc_rep_open(p, p->env, dir);
	else
		rc = wk_db_env_open(p->env, dir, p->cfg.storage_sync, p->cfg.storage_cacheSize);
	if (rc == 0)
		wk_log_info("opened %s (storage.sync %s)", dir, p->cfg.storage_sync);
	free(dir);
	return rc;
}

/* The databases inside it and the group commit.  0, or -1 with nothing
 * left open (a copy just elected may meet a lockout: it tries again). */
static int
proc_dbs_open(struct wk_proc *p)
{
	for (int i = 0; p->def->databases[i]; i++) {
		if (i == WK_PROC_MAX_DBS)
			wk_fatalx("too many databases");
		if (wk_db_open(p->env, p->def->databases[i],
		    p->def->db_pagesize ? p->def->db_pagesize[i] : 0, &p->db[i]) < 0) {
			while (i-- > 0) {
				p->db[i]->close(p->db[i], 0);
				p->db[i] = NULL;
			}
			return -1;
		}
	}
	p->txn = wk_txn_new(p, WK_TXN_QUEUE_MAX);
	return 0;
}

/* Close what proc_store_open opened, in reverse: the group commit first
 * (it aborts an open transaction, whose waiting replies get -1), then the
 * databases, then the environment. */
static void
proc_store_close(struct wk_proc *p)
{
	/* on_stop committed; what is still open now is aborted. */
	wk_txn_destroy(&p->txn);
	for (int i = 0; i < WK_PROC_MAX_DBS; i++)
		if (p->db[i]) {
			p->db[i]->close(p->db[i], 0);
			p->db[i] = NULL;
		}
	if (p->env) {
		wk_db_env_close(p->env);
		wk_free(&p->env);
	}
	wk_proc_rep_free(p);
}

/* Map the statistics segment and take this process's row (stats.h): under
 * wk-master only, which makes the segment before it starts anyone. */
static void
proc_stats_open(struct wk_proc *p)
{
	if (p->master_fd < 0)
		return;
	if (stats_attach(&p->stats_seg, p->cfg.runDir, 1) < 0 ||
	    (p->stats = stats_row_find(&p->stats_seg, p->def->role, p->instance)) == NULL) {
		wk_log_warnx("no row in the statistics segment: /metrics will not show this process");
		stats_close(&p->stats_seg);
		return;
	}
	stats_row_claim(p->stats, getpid(), wk_wall_ms());
}

/* Resident set size in bytes (/proc/self/statm), 0 if unknown. */
static uint64_t
proc_rss(void)
{
	unsigned long long size, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%llu %llu", &size, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* Timer (WK_STATS_REFRESH_MS): the skeleton's values, the store's, then
 * the process's own (on_stats). */
static void
proc_on_stats(struct wk_loop *l, uint64_t id, void *arg)
{
	struct wk_proc *p = arg;
	struct stats_row *r = p->stats;
	struct rusage ru;
	struct wk_db_stats ds;

	stats_set(r, STATS_IPC_IN, p->msgs_in);
	stats_set(r, STATS_IPC_OUT, p->msgs_out);
	stats_set(r, STATS_IPC_DROPS, p->send_drops);
	stats_set(r, STATS_IPC_BAD, p->bad_msgs);
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		stats_set(r, STATS_CPU_US, (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
		    (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec));
	stats_set(r, STATS_RSS_BYTES, proc_rss());
	int full;
	stats_set(r, STATS_IPC_WAITING_BYTES, wk_proc_waiting_bytes(p, &full));
	stats_set(r, STATS_IPC_PEERS_FULL, (uint64_t)full);
	if (p->env && wk_db_env_stats(p->env, &ds) == 0) {
		stats_set(r, STATS_DB_CACHE_HITS, ds.cache_hits);
		stats_set(r, STATS_DB_CACHE_MISSES, ds.cache_misses);
		stats_set(r, STATS_DB_CACHE_BYTES, ds.cache_bytes);
		stats_set(r, STATS_DB_CACHE_PAGES, ds.cache_pages);
		stats_set(r, STATS_DB_CACHE_DIRTY, ds.cache_dirty);
		stats_set(r, STATS_DB_CACHE_EVICTIONS, ds.evictions);
		stats_set(r, STATS_DB_LOG_BYTES, ds.log_bytes);
		stats_set(r, STATS_DB_LOG_WRITES, ds.log_writes);
		stats_set(r, STATS_DB_LOG_SYNCS, ds.log_syncs);
	}
	if (p->env) {
		stats_set(r, STATS_DB_CHECKPOINTS, p->env->ckpt_count);
		stats_set(r, STATS_DB_CHECKPOINT_LAST_US, p->env->ckpt_last_us);
		stats_set(r, STATS_DB_CHECKPOINT_MAX_US, p->env->ckpt_max_us);
	}
	if (p->txn) {
		stats_set(r, STATS_DB_COMMITS, wk_txn_commits(p->txn));
		stats_set(r, STATS_DB_ABORTS, wk_txn_aborts(p->txn));
		stats_set(r, STATS_TXN_WAITING, wk_txn_waiting(p->txn));
	}
	if (p->def->on_stats && p->started)
		p->def->on_stats(p, r);
}

/* The "status" line: the skeleton's counters, then the webhook producer's,
 * then the process's own (on_status); each part appends while room is
 * left. */
void
wk_proc_status(struct wk_proc *p, char *buf, size_t len)
{
	int n = snprintf(buf, len, "role=%s instance=%d pid=%d uptime_ms=%llu "
	    "msgs_in=%llu msgs_out=%llu send_drops=%llu bad_msgs=%llu db_writes=%llu",
	    wk_role_name(p->def->role), p->instance, (int)getpid(),
	    (unsigned long long)(wk_now_ms() - p->started_ms),
	    (unsigned long long)p->msgs_in, (unsigned long long)p->msgs_out,
	    (unsigned long long)p->send_drops, (unsigned long long)p->bad_msgs,
	    (unsigned long long)wk_db_writes);
	if (p->env && n > 0 && (size_t)n < len)
		n += snprintf(buf + n, len - n, " checkpoints=%llu checkpoint_last_ms=%llu "
		    "checkpoint_max_ms=%llu", (unsigned long long)p->env->ckpt_count,
		    (unsigned long long)p->env->ckpt_last_us / 1000,
		    (unsigned long long)p->env->ckpt_max_us / 1000);
	if (p->rep && n > 0 && (size_t)n < len)
		n += wk_proc_rep_status(p, buf + n, len - n);
	if (n > 0 && (size_t)n < len)
		n += wk_webhook_status(p, buf + n, len - n);
	if (p->def->on_status && p->started && n > 0 && (size_t)n < len)
		p->def->on_status(p, buf + n, len - n);
}

/* STATUS_REQ and PING_REQ: every process answers them. */
static void
proc_on_status(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg)
{
	char buf[1024];
	zmsg_t *rep = zmsg_new();

	wk_proc_status(p, buf, sizeof buf);
	zmsg_addstr(rep, buf);
	wk_proc_reply(p, h, WK_MSG_STATUS_REP, &rep);
}

/* PING_REQ: echo the payload back (the master's and the tools' liveness
 * probe). */
static void
proc_on_ping(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg)
{
	zmsg_t *echo = zmsg_dup(msg);   /* msg stays the caller's: it destroys it */

	wk_proc_reply(p, h, WK_MSG_PING_REP, &echo);
}

/* The skeleton's own rows, checked before the process's table. */
static const struct wk_dispatch builtin[] = {
	{ WK_MSG_STATUS_REQ, 0, 0, WK_ROLE_ANY, proc_on_status },
	{ WK_MSG_PING_REQ, 0, 4, WK_ROLE_ANY, proc_on_ping },
	/* Any process may raise webhook events (wk_webhook.h). */
	{ WK_MSG_HOOK_ACK, 1, 1, WK_ROLE_BIT(WK_ROLE_HOOK), wk_webhook_on_ack },
	{ WK_MSG_HOOK_HELLO, 1, 1, WK_ROLE_BIT(WK_ROLE_HOOK), wk_webhook_on_hello },
	/* A replicated shard's copies and master (wk_proc_rep.h). */
	{ WK_MSG_REP_LSN, 1, 1, WK_ROLE_BIT(WK_ROLE_CHANNEL) | WK_ROLE_BIT(WK_ROLE_MAILBOX),
	    wk_proc_rep_on_lsn },
};

/* A message a copy of a replicated shard handles itself. */
static int
proc_copy_serves(const struct wk_proc *p, int type)
{
	for (size_t i = 0; i < p->def->ncopy_types; i++)
		if (p->def->copy_types[i] == type)
			return 1;
	return 0;
}

/* The view handler of a dispatch row without fn (a process definition
 * missing one is a bug: fatal). */
static wk_view_fn
proc_view_fn(const struct wk_proc *p, int type)
{
	for (size_t i = 0; i < p->def->nviews; i++)
		if (p->def->views[i].type == type)
			return p->def->views[i].fn;
	wk_fatalx("%s: no handler", wk_msg_type_name(type));
}

/* Validate and run one inbound message.  A malformed message from an
 * internal peer is a bug there: log and exit so wk-master restarts us in a
 * known state.  From a tool (ctl) or with a header we cannot trust, drop it. */
static void
proc_handle_msg(struct wk_proc *p, zmsg_t *msg)
{
	static struct wk_ratelimit rl = WK_RATELIMIT_INIT(5);
	const struct wk_dispatch *e = NULL;
	struct wk_msg_hdr h = { 0 };
	int rc, own = 0;

	p->msgs_in++;
	rc = wk_dispatch_check(builtin, sizeof builtin / sizeof builtin[0], msg, &h, &e);
	if (rc == WK_DISPATCH_ENOHANDLER) {
		rc = wk_dispatch_check(p->def->dispatch, p->def->ndispatch, msg, &h, &e);
		own = 1;
	}
	if (rc == 0 && own && !p->started && !proc_copy_serves(p, h.type)) {
		wk_proc_rep_route(p, &h, msg);   /* a copy: the master serves it */
		return;
	}
	if (rc == 0) {
		if (e->fn)
			e->fn(p, &h, msg);
		else {
			struct wk_msgv v;
			if (wk_msgv_of(msg, &v) < 0)
				wk_fatalx("%s: more frames than a view holds", wk_msg_type_name(h.type));
			proc_view_fn(p, h.type)(p, &h, &v);
		}
		zmsg_destroy(&msg);
		return;
	}
	p->bad_msgs++;
	/* Errors in this range come with a header we could decode, so the
	 * sender is known: an internal sender that sends a wrong message
	 * is fatal (a restart from a known state beats running on with a
	 * peer we disagree with). */
	if (rc <= WK_DISPATCH_ENOHANDLER && rc >= WK_DISPATCH_ESENDER &&
	    h.sender_role != WK_ROLE_CTL)
		wk_fatalx("internal message %s from %s/%u: %s", wk_msg_type_name(h.type),
		    wk_role_name(h.sender_role), h.sender_instance, wk_dispatch_strerror(rc));
	wk_log_limited(&rl, WK_LOG_WARN, "dropped internal message: %s",
	    wk_dispatch_strerror(rc));
	zmsg_destroy(&msg);
}

/* A BATCH from another process: kept as p->in_batch and read one
 * message at a time.  Tools never batch: a BATCH from one goes to the
 * dispatcher, which has no row for it and drops it. */
static int
proc_is_batch(zmsg_t *m)
{
	zframe_t *f = zmsg_first(m);
	struct wk_msg_hdr h;

	return zmsg_size(m) == 2 && wk_msg_hdr_decode(zframe_data(f), zframe_size(f), &h) ==
	    WK_MSG_OK && h.type == WK_MSG_BATCH && h.sender_role != WK_ROLE_CTL;
}

/* The next message as a copy: from the BATCH being read, else from the
 * inbox.  NULL when the inbox is empty, or when what came is a BATCH: it
 * is kept as p->in_batch and read from the next call on (in place, by
 * proc_batch_view, where it can).  A malformed BATCH is a bug in the
 * internal peer that sent it (only processes batch): fatal, as for any
 * malformed internal message. */
static zmsg_t *
proc_next_msg(struct wk_proc *p)
{
	if (p->in_batch) {
		zmsg_t *m = wk_msg_batch_next(&p->in_r);
		if (m)
			return m;
		if (p->in_r.err)
			wk_fatalx("malformed BATCH at byte %zu of %zu", p->in_r.off, p->in_r.len);
		zmsg_destroy(&p->in_batch);
	}
	zmsg_t *m = zmsg_recv_nowait(p->inbox);
	if (m == NULL || !proc_is_batch(m))
		return m;
	zframe_t *f = zmsg_last(m);
	p->in_batch = m;
	wk_rbuf_init(&p->in_r, zframe_data(f), zframe_size(f));
	return NULL;
}

/* The next message of the BATCH being read, when its handler reads views
 * and this process serves it: handled in place, nothing copied (1).  0:
 * none, or one that goes the long way (a copy, proc_next_msg): a builtin
 * or zmsg_t handler, a copy's forwarding, the batch's end or a fault. */
static int
proc_batch_view(struct wk_proc *p)
{
	const struct wk_dispatch *e = NULL;
	struct wk_msg_hdr h;
	struct wk_msgv v, pv;
	size_t at = p->in_r.off;

	if (wk_msg_batch_view(&p->in_r, &v) != 1)
		return 0;
	if (wk_dispatch_find(p->def->dispatch, p->def->ndispatch, v.p[0], v.len[0], v.n - 1, &h,
	    &e) != 0 || e->fn != NULL || (!p->started && !proc_copy_serves(p, h.type))) {
		p->in_r.off = at;
		return 0;
	}
	pv.n = v.n - 1;
	for (int i = 0; i < pv.n; i++) {
		pv.p[i] = v.p[i + 1];
		pv.len[i] = v.len[i + 1];
	}
	p->msgs_in++;
	proc_view_fn(p, h.type)(p, &h, &pv);
	return 1;
}

/* Drain the inbox, at most INBOX_BATCH messages, and none once the group
 * commit is busy (its after-commit queue half full); ask the loop not to
 * sleep when more are waiting.  ZMQ_FD is edge-like, so the inbox is read
 * until it says EAGAIN: that read processes the socket's pending commands
 * and re-arms the descriptor, as asking ZMQ_EVENTS first would, with one
 * poll and getpid less per message. */
static void
proc_drain_inbox(struct wk_proc *p)
{
	for (int i = 0; i < INBOX_BATCH; i++) {
		if (p->txn && wk_txn_is_busy(p->txn))
			break;
		if (p->in_batch && proc_batch_view(p))
			continue;
		zmsg_t *m = proc_next_msg(p);
		if (m == NULL && p->in_batch)
			continue;   /* a BATCH came: read its first message in place */
		if (m == NULL)
			return;
		proc_handle_msg(p, m);
	}
	wk_loop_pending(p->loop);
}

/* The inbox's descriptor became readable. */
static void
proc_on_inbox(struct wk_loop *l, int fd, uint32_t ev, void *arg)
{
	proc_drain_inbox(arg);
}

/* Once per loop iteration, in this order: take messages, then the
 * process's on_iteration (commit, then acknowledge, then fan out), then
 * the producers, so that what a producer sends out (webhook events)
 * follows the commit of what raised it. */
static void
proc_iteration(struct wk_loop *l, void *arg)
{
	struct wk_proc *p = arg;

	if (p->rep && wk_proc_rep_poll(p) && proc_begin(p) == 0)
		wk_proc_rep_serve_held(p, proc_handle_msg);
	proc_drain_inbox(p);
	wk_proc_flush(p);   /* what the messages asked of others leaves before the commit */
	if (p->def->on_iteration && p->started)
		p->def->on_iteration(p);
	if (p->backup_dir && !(p->txn && wk_txn_is_open(p->txn)))
		proc_backup_run(p);
	for (int i = 0; i < p->nproducers; i++)
		p->producers[i].fn(p, p->producers[i].arg);
	wk_proc_flush(p);
}

/* Register a producer run after on_iteration each iteration; registering
 * the same (fn, arg) again is a no-op. -1 when the fixed table is full. */
int
wk_proc_on_iteration(struct wk_proc *p, wk_proc_iter_fn *fn, void *arg)
{
	for (int i = 0; i < p->nproducers; i++)
		if (p->producers[i].fn == fn && p->producers[i].arg == arg)
			return 0;
	if (p->nproducers == WK_PROC_MAX_PRODUCERS)
		return -1;
	p->producers[p->nproducers].fn = fn;
	p->producers[p->nproducers++].arg = arg;
	return 0;
}

/* The process's periodic timer (def->tick_ms). */
static void
proc_on_tick(struct wk_loop *l, uint64_t id, void *arg);

/* A copy of a replicated shard wakes this often to follow the replication
 * manager (the iteration asks it) and pass held messages on. */
static void
proc_on_rep_wake(struct wk_loop *l, uint64_t id, void *arg)
{
}

/* Serve: open the databases, start the checkpoint thread, run on_start,
 * arm the tick.  At start on one host; in a cluster a replicated shard's
 * copy does this when it is elected master.  0, or -1 when its databases
 * cannot be opened yet (a copy just elected: tried again). */
static int
proc_begin(struct wk_proc *p)
{
	const struct wk_proc_def *def = p->def;

	if (def->databases) {
		if (proc_dbs_open(p) < 0) {
			if (p->rep == NULL)
				wk_fatalx("cannot open the store");
			return -1;
		}
		/* storage.checkpointInterval: a checkpoint bounds the log that
		 * recovery replays after a crash (and lets old log files go). */
		if (wk_db_checkpointer_start(p->env, p->cfg.storage_checkpointInterval) < 0)
			wk_fatalx("cannot start the checkpoint thread");
	}
	p->started = 1;
	if (def->on_start && def->on_start(p) < 0)
		wk_fatalx("start failed");
	wk_proc_flush(p);
	if (def->on_tick && def->tick_ms)
		wk_loop_timer(p->loop, def->tick_ms, def->tick_ms, proc_on_tick, p);
	if (p->rep)
		wk_log_info("cluster: elected master of this shard: serving");
	return 0;
}

static void
proc_on_tick(struct wk_loop *l, uint64_t id, void *arg)
{
	struct wk_proc *p = arg;
	p->def->on_tick(p);
}

/* Stop once: a signal and the master's EOF may both ask. on_stop runs
 * while the loop still exists, so it can commit and send its last replies. */
static void
proc_stop(struct wk_proc *p)
{
	if (p->stopping)
		return;
	p->stopping = 1;
	wk_log_info("stopping");
	if (p->def->on_stop && p->started)
		p->def->on_stop(p);
	wk_loop_stop(p->loop);
}

/* SIGHUP: re-read the config file; a bad file keeps the running config. */
static void
proc_reload(struct wk_proc *p)
{
	struct wk_config next = { 0 }, old;
	char *errs = NULL;
	size_t errlen = 0;
	FILE *ef = open_memstream(&errs, &errlen);

	if (wk_config_load(&next, p->config_path, ef) < 0) {
		fclose(ef);
		wk_log_warnx("reload: config has errors, keeping the running one:\n%s", errs);
		free(errs);
		wk_config_free(&next);
		return;
	}
	fclose(ef);
	free(errs);
	old = p->cfg;
	p->cfg = next;
	if (p->env)
		wk_db_checkpointer_interval(p->env, p->cfg.storage_checkpointInterval);
	if (p->def->on_reload && p->started)
		p->def->on_reload(p, &old);
	wk_config_free(&old);
	wk_log_info("reloaded %s", p->config_path ? p->config_path : "(defaults)");
}

/* Signals read from the signalfd: SIGHUP reloads, SIGTERM and SIGINT stop. */
static void
proc_on_signal(struct wk_loop *l, int fd, uint32_t ev, void *arg)
{
	struct wk_proc *p = arg;
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof si) == sizeof si) {
		if (si.ssi_signo == SIGHUP)
			proc_reload(p);
		else
			proc_stop(p);
	}
}

/* "backup DIR" from wk-master: take it after this iteration's commit (no
 * transaction is open then), answer "backup ok|none|error <why>". */
static void
proc_backup_run(struct wk_proc *p)
{
	char err[600], line[700];
	uint64_t t0 = wk_now_ms();
	int len;

	if (p->env == NULL)
		len = snprintf(line, sizeof line, "backup none\n");
	else if (wk_db_backup(p->env, p->backup_dir, err, sizeof err) < 0) {
		wk_log_warnx("%s", err);
		len = snprintf(line, sizeof line, "backup error %s\n", err);
	} else {
		wk_log_info("backup of %s to %s in %llu ms", p->env->dir, p->backup_dir,
		    (unsigned long long)(wk_now_ms() - t0));
		len = snprintf(line, sizeof line, "backup ok %llu\n",
		    (unsigned long long)(wk_now_ms() - t0));
	}
	wk_free(&p->backup_dir);
	if (len >= (int)sizeof line) {
		len = sizeof line - 1;
		line[len - 1] = '\n';
	}
	if (p->master_fd >= 0 && write(p->master_fd, line, len) != len)
		wk_log_warn("write to wk-master");
}

/* One line from wk-master (without its newline). */
static void
proc_on_master_line(struct wk_proc *p, int fd, const char *cmd)
{
	char line[1100];

	if (strcmp(cmd, "ping") == 0 && write(fd, "pong\n", 5) != 5)
		wk_log_warn("write to wk-master");
	if (strcmp(cmd, "status") == 0) {
		int len = snprintf(line, sizeof line, "status ");
		wk_proc_status(p, line + len, sizeof line - len - 1);
		len = strlen(line);
		line[len++] = '\n';
		if (write(fd, line, len) != len)
			wk_log_warn("write to wk-master");
	}
	if (strncmp(cmd, "backup ", 7) == 0 && p->backup_dir == NULL) {
		p->backup_dir = wk_strdup(cmd + 7);
		wk_loop_pending(p->loop);   /* run the iteration even if idle */
	}
}

/* The pipe to wk-master, one command a line: "status", "ping" (answered
 * "pong" from this loop, so a stopped or stuck process stays silent and
 * wk-master reports it, wk-master(8)), "backup DIR"; EOF means the master
 * is gone. */
static void
proc_on_master(struct wk_loop *l, int fd, uint32_t ev, void *arg)
{
	struct wk_proc *p = arg;
	ssize_t n = read(fd, p->master_in + p->master_inlen,
	    sizeof p->master_in - 1 - p->master_inlen);
	char *line, *nl;

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		wk_log_warnx("wk-master went away; exiting");
		wk_loop_del(l, fd);
		proc_stop(p);
		return;
	}
	if (n < 0)
		return;
	p->master_inlen += n;
	p->master_in[p->master_inlen] = '\0';
	for (line = p->master_in; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
		*nl = '\0';
		proc_on_master_line(p, fd, line);
	}
	p->master_inlen -= line - p->master_in;
	memmove(p->master_in, line, p->master_inlen + 1);
	if (p->master_inlen == sizeof p->master_in - 1)
		p->master_inlen = 0;   /* the master never sends such a line */
}

/* Load the config.  Under wk-master the warnings were already printed by the
 * master: print the loader's output only when the load fails. */
static int
proc_load_config(struct wk_proc *p)
{
	char *text = NULL;
	size_t len = 0;
	FILE *ef;
	int rc;

	if (getenv("WK_MASTER_FD") == NULL)
		return wk_config_load(&p->cfg, p->config_path, stderr);
	ef = open_memstream(&text, &len);
	rc = wk_config_load(&p->cfg, p->config_path, ef);
	fclose(ef);
	if (rc < 0)
		fputs(text, stderr);
	free(text);
	return rc;
}

/* The skeleton's main: options, config (exit 2 if bad; -n stops here),
 * signals, the master pipe, the inbox, the store, on_start, timers, then
 * "ready" to the master, the loop, and the teardown. */
int
wk_proc_main(int argc, char **argv, const struct wk_proc_def *def)
{
	struct wk_proc proc = { .def = def, .master_fd = -1 }, *p = &proc;
	int ch, check_only = 0;
	const char *env;
	sigset_t mask;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0)
			usage_exit(def, 0);
	while ((ch = getopt(argc, argv, "df:hi:nv")) != -1) {
		switch (ch) {
		case 'h': usage_exit(def, 0); break;
		case 'd': p->foreground = 1; break;
		case 'f': p->config_path = wk_strdup(optarg); break;
		case 'i':
			if (!def->sharded)
				usage(def);
			p->instance = atoi(optarg);
			break;
		case 'n': check_only = 1; break;
		case 'v': printf("%s %s\n", def->name, PACKAGE_VERSION); return 0;
		default: usage(def);
		}
	}
	if (optind != argc)
		usage(def);
	wk_log_init(wk_role_name(def->role), p->instance, p->foreground || check_only);
	if (proc_load_config(p) < 0)
		return 2;
	if (check_only) {
		printf("%s: configuration ok\n", p->config_path ? p->config_path : "(defaults)");
		return 0;
	}
	wk_log_configure(&p->cfg);
	{
		/* Placement by the function the data was written with. */
		char err[512];
		if (wk_shard_layout_load(p->cfg.dataDir, err, sizeof err) < 0) {
			wk_log_warnx("%s", err);
			return 2;
		}
	}

	/* Buffers of a few hundred KB (a /conversation/sync answer of a
	 * thousand conversations, the shard's part of it, the ZeroMQ frames
	 * that carry them) come and go many times a second.  They stay on the
	 * heap and the heap is not given back at every free (glibc's default
	 * trims the top when ZeroMQ's I/O thread frees a sent frame, and the
	 * next answer faults every page in again: a third of a channel
	 * shard's time in the 1,000-conversation sync). */
	mallopt(M_MMAP_THRESHOLD, WK_HEAP_KEEP);
	mallopt(M_TRIM_THRESHOLD, 4 * WK_HEAP_KEEP);

	/* Signals arrive through a descriptor in the loop, never asynchronously. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	p->loop = wk_loop_new();
	p->sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (p->sig_fd < 0)
		wk_fatal("signalfd");
	wk_loop_add(p->loop, p->sig_fd, EPOLLIN, proc_on_signal, p);
	if ((env = getenv("WK_MASTER_FD")) != NULL) {
		p->master_fd = atoi(env);
		fcntl(p->master_fd, F_SETFD, FD_CLOEXEC);
		fcntl(p->master_fd, F_SETFL, O_NONBLOCK);
		wk_loop_add(p->loop, p->master_fd, EPOLLIN, proc_on_master, p);
		wk_log_report_to(p->master_fd);
	}

	/* ZeroMQ only now, after exec: no context is ever inherited across fork. */
	zsys_handler_set(NULL);
	zsys_set_linger(1000);
	char *ep = wk_proc_endpoint(&p->cfg, def->role, p->instance);
	p->inbox = zsock_new(ZMQ_PULL);
	zsock_set_rcvhwm(p->inbox, wk_proc_queue_msgs(p));
	/* The inbox is bound before "ready" is written: a peer that sends
	 * as soon as the master reports us ready finds the socket there. */
	if (zsock_bind(p->inbox, "%s", ep) < 0)
		wk_fatal("bind %s", ep);
	free(ep);
	/* In a cluster the other hosts reach it over TCP too (wk-cluster(7)). */
	if (wk_cluster_on(&p->cfg) &&
	    (ep = wk_cluster_endpoint(&p->cfg, p->cfg.cluster_node, def->role, p->instance))) {
		if (zsock_bind(p->inbox, "%s", ep) < 0)
			wk_fatal("bind %s", ep);
		free(ep);
		p->node = (int)p->cfg.cluster_node;
	}
	wk_loop_add(p->loop, zsock_fd(p->inbox), EPOLLIN, proc_on_inbox, p);

	p->started_ms = wk_now_ms();
	proc_stats_open(p);
	if (def->databases && proc_store_open(p) < 0)
		wk_fatalx("cannot open the store");
	/* A copy of a replicated shard is ready once its site is open: it
	 * serves when elected (proc_iteration), forwarding until then. */
	if (p->rep)
		wk_loop_timer(p->loop, WK_PROC_REP_ASK_MS, WK_PROC_REP_ASK_MS, proc_on_rep_wake, p);
	else
		proc_begin(p);
	if (p->stats) {
		proc_on_stats(p->loop, 0, p);
		wk_loop_timer(p->loop, WK_STATS_REFRESH_MS, WK_STATS_REFRESH_MS, proc_on_stats, p);
	}
	wk_loop_set_iteration(p->loop, proc_iteration, p);
	wk_loop_set_min_interval(p->loop, p->def->min_iteration_ms);
	/* "ready" last: the databases are open and on_start succeeded, so
	 * whatever the master starts after us can rely on this process. */
	if (p->master_fd >= 0 && write(p->master_fd, "ready\n", 6) != 6)
		wk_fatal("write ready to wk-master");
	wk_log_report_to(-1);
	wk_log_info("ready (pid %d)", (int)getpid());

	wk_loop_run(p->loop);
	wk_proc_flush(p);   /* on_stop's last messages (linger sends them) */
	proc_store_close(p);

	wk_proc_peers_free(p);
	zmsg_destroy(&p->in_batch);
	zsock_destroy(&p->inbox);
	p->stats = NULL;
	stats_close(&p->stats_seg);
	wk_loop_destroy(&p->loop);
	wk_config_free(&p->cfg);
	free(p->config_path);
	wk_log_info("stopped");
	return 0;
}
