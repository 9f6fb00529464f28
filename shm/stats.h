/* stats.h - the statistics segment: one row per process of the tree, its
 * counters, gauges and latency histograms, read by wk-api for /metrics and
 * /varz and by anyone who wants to watch the tree (wk(7), Statistics).
 *
 * A POSIX shared-memory segment created by wk-master next to the presence
 * segment and removed with it: a versioned header page, then one row of
 * STATS_ROW_SIZE bytes per child process.  The master writes each row's
 * identity (role, instance) before any child starts; from then on only
 * the process of that row writes it, without locks: every value is an
 * aligned 64-bit word stored atomically (relaxed), so a reader sees each
 * value whole, though not all values of one instant.  A histogram's count
 * is the sum of its buckets, so its buckets and count always agree.  A
 * restarted process keeps its row and adds one to `starts`; what it counts
 * starts again from zero (Prometheus counters reset with the process).
 *
 * Readers (no writes, no locks):
 *     struct stats st;
 *     if (stats_attach(&st, cfg.runDir, 0) == 0) {
 *         for (uint32_t i = 0; i < stats_nrows(&st); i++) {
 *             const struct stats_row *r = stats_row_at(&st, i);
 *             ... stats_get(r, STATS_CONNECTIONS), r->role, r->instance ...
 *         }
 *         stats_close(&st);
 *     }
 * The values are listed once (STATS_VALUES below) with their Prometheus
 * name, kind and help text: stats_info(id). */
#ifndef STATS_H
#define STATS_H
#include <stddef.h>
#include <stdint.h>

#define STATS_MAGIC 0x574b5354u      /* "WKST" */
#define STATS_VERSION 1u
#define STATS_ROW_SIZE 4096u
#define STATS_NVALUES_MAX 160        /* room for values added later without a new layout */
#define STATS_CHTYPES 16             /* per channel type 0..15 (others count as 0) */
#define STATS_HIST_BUCKETS 24        /* bucket i: at most 2^i microseconds; then +Inf */
#define STATS_NHIST_MAX 4

enum stats_kind { STATS_COUNTER, STATS_GAUGE };

/* X(NAME, kind, scale, owner, prometheus name, help): scale divides the
 * stored integer for display (1000000: microseconds shown as seconds);
 * owner is the role name (wk_role_name) of the processes that write it,
 * "*" every process, "db" those with databases.  Append only: a value's
 * index is part of the layout (STATS_VERSION). */
#define STATS_VALUES(X) \
	/* every process (the skeleton, refreshed every WK_STATS_REFRESH_MS) */ \
	X(IPC_IN, COUNTER, 1, "*", "ipc_messages_in_total", "internal messages received") \
	X(IPC_OUT, COUNTER, 1, "*", "ipc_messages_out_total", "internal messages sent") \
	X(IPC_DROPS, COUNTER, 1, "*", "ipc_send_drops_total", "internal sends refused (peer queue full or gone)") \
	X(IPC_BAD, COUNTER, 1, "*", "ipc_bad_messages_total", "malformed internal messages dropped") \
	X(CPU_US, COUNTER, 1000000, "*", "process_cpu_seconds_total", "user and system CPU time") \
	X(RSS_BYTES, GAUGE, 1, "*", "process_resident_memory_bytes", "resident memory") \
	/* processes with databases: Berkeley DB (memp_stat, log_stat) and the group commit */ \
	X(DB_CACHE_HITS, COUNTER, 1, "db", "db_cache_hits_total", "pages found in the Berkeley DB cache") \
	X(DB_CACHE_MISSES, COUNTER, 1, "db", "db_cache_misses_total", "pages read into the Berkeley DB cache") \
	X(DB_CACHE_BYTES, GAUGE, 1, "db", "db_cache_size_bytes", "Berkeley DB cache size") \
	X(DB_CACHE_PAGES, GAUGE, 1, "db", "db_cache_pages", "pages in the Berkeley DB cache") \
	X(DB_CACHE_DIRTY, GAUGE, 1, "db", "db_cache_dirty_pages", "dirty pages in the Berkeley DB cache") \
	X(DB_CACHE_EVICTIONS, COUNTER, 1, "db", "db_cache_evictions_total", "pages evicted from the Berkeley DB cache") \
	X(DB_LOG_BYTES, COUNTER, 1, "db", "db_log_written_bytes_total", "bytes written to the Berkeley DB log") \
	X(DB_LOG_WRITES, COUNTER, 1, "db", "db_log_writes_total", "writes to the Berkeley DB log") \
	X(DB_LOG_SYNCS, COUNTER, 1, "db", "db_log_syncs_total", "fsyncs of the Berkeley DB log") \
	X(DB_COMMITS, COUNTER, 1, "db", "db_commits_total", "group commits") \
	X(DB_ABORTS, COUNTER, 1, "db", "db_aborts_total", "group commits aborted") \
	X(TXN_WAITING, GAUGE, 1, "db", "commit_waiting", "replies waiting for the next commit") \
	/* wk-broker */ \
	X(CONNECTIONS, GAUGE, 1, "broker", "connections", "client connections open") \
	X(CONN_ACCEPTED, COUNTER, 1, "broker", "connections_accepted_total", "client connections accepted") \
	X(CONN_REFUSED, COUNTER, 1, "broker", "connections_refused_total", "client connections refused (limits)") \
	X(AUTH_OK, COUNTER, 1, "broker", "auth_ok_total", "CONNECTs accepted") \
	X(AUTH_FAIL, COUNTER, 1, "broker", "auth_failed_total", "CONNECTs refused") \
	X(KICKED, COUNTER, 1, "broker", "connections_kicked_total", "connections kicked") \
	X(SLOW_CLIENTS, COUNTER, 1, "broker", "slow_clients_total", "connections closed for output over limits.outputBufferMax or, the slowest, over limits.outputTotalMax") \
	X(BYTES_IN, COUNTER, 1, "broker", "client_bytes_in_total", "bytes read from clients") \
	X(BYTES_OUT, COUNTER, 1, "broker", "client_bytes_out_total", "bytes written to clients") \
	X(PACKETS_IN, COUNTER, 1, "broker", "client_packets_in_total", "WKProto packets from clients") \
	X(PACKETS_OUT, COUNTER, 1, "broker", "client_packets_out_total", "WKProto packets to clients") \
	X(SENDS, COUNTER, 1, "broker", "client_sends_total", "SEND packets from clients") \
	X(DELIVERIES, COUNTER, 1, "broker", "deliveries_total", "RECV packets written for stored messages (first tries)") \
	X(RETRIES, COUNTER, 1, "broker", "delivery_retries_total", "RECV packets sent again for lack of a RECVACK") \
	X(OUT_QUEUE_BYTES, GAUGE, 1, "broker", "output_queue_bytes", "bytes waiting in the connections' output buffers") \
	X(RETRY_QUEUE, GAUGE, 1, "broker", "retry_queue", "RECVs waiting for a RECVACK") \
	X(RETRY_QUEUE_BYTES, GAUGE, 1, "broker", "retry_queue_bytes", "bytes of the RECVs waiting for a RECVACK") \
	/* wk-channel */ \
	X(APPEND_REFUSED, COUNTER, 1, "channel", "messages_refused_total", "appends refused (permissions, bans, errors)") \
	X(APPEND_DUPLICATES, COUNTER, 1, "channel", "messages_duplicate_total", "appends answered as repeats of a stored message") \
	/* wk-mailbox */ \
	X(PRESENCE_USED, GAUGE, 1, "mailbox", "presence_slots_used", "presence slots in use in this shard's region") \
	X(PRESENCE_CAPACITY, GAUGE, 1, "mailbox", "presence_slots", "presence slots of this shard's region") \
	/* wk-hook and the webhook producers */ \
	X(HOOK_QUEUED, GAUGE, 1, "hook", "webhook_queued", "webhook events in the durable queue") \
	X(HOOK_QUEUE_BYTES, GAUGE, 1, "hook", "webhook_queue_bytes", "bytes of webhook events held in memory") \
	X(HOOK_INFLIGHT, GAUGE, 1, "hook", "webhook_inflight", "webhook POSTs under way") \
	X(HOOK_REQUESTS, COUNTER, 1, "hook", "webhook_requests_total", "webhook POSTs made") \
	X(HOOK_FAILURES, COUNTER, 1, "hook", "webhook_failures_total", "webhook POSTs that failed (retried)") \
	X(HOOK_DROPPED, COUNTER, 1, "hook", "webhook_dropped_total", "webhook events given up") \
	/* wk-api */ \
	X(HTTP_REQUESTS, COUNTER, 1, "api", "http_requests_total", "HTTP requests") \
	X(HTTP_PENDING, GAUGE, 1, "api", "http_pending", "HTTP requests waiting on shards") \
	X(HTTP_TIMEOUTS, COUNTER, 1, "api", "http_timeouts_total", "HTTP requests answered 500 timeout") \
	/* wk-broker: backpressure (limits.sendWindow, limits.sendBacklog) */ \
	X(SENDS_UNACKED, GAUGE, 1, "broker", "sends_unacked", "SENDs passed to a channel shard and not yet acknowledged") \
	X(CONNS_PAUSED, GAUGE, 1, "broker", "connections_paused", "connections not read for too many unacknowledged SENDs") \
	X(SEND_PAUSES, COUNTER, 1, "broker", "send_pauses_total", "times a connection was paused by the send window or backlog") \
	/* every process: batches held back by a full peer (limits.internalQueue) */ \
	X(IPC_WAITING_BYTES, GAUGE, 1, "*", "ipc_waiting_bytes", "bytes of internal messages waiting for a peer whose queue is full") \
	X(IPC_PEERS_FULL, GAUGE, 1, "*", "ipc_peers_full", "peers whose queue was full at the last try") \
	/* processes with databases: the checkpoint thread (storage.checkpointInterval) */ \
	X(DB_CHECKPOINTS, COUNTER, 1, "db", "db_checkpoints_total", "Berkeley DB checkpoints taken (on the checkpoint thread)") \
	X(DB_CHECKPOINT_LAST_US, GAUGE, 1000000, "db", "db_checkpoint_last_seconds", "how long the last checkpoint took") \
	X(DB_CHECKPOINT_MAX_US, GAUGE, 1000000, "db", "db_checkpoint_max_seconds", "the longest checkpoint since the process started")

enum stats_id {
#define X(name, kind, scale, owner, prom, help) STATS_##name,
	STATS_VALUES(X)
#undef X
	STATS_NVALUES
};
_Static_assert(STATS_NVALUES <= STATS_NVALUES_MAX, "STATS_VALUES outgrew the row");

/* Per channel type (wk-channel): messages stored, and connections they
 * were sent to. */
enum stats_typed { STATS_MSGS_IN, STATS_MSGS_OUT, STATS_NTYPED };

enum stats_hist_id {
	STATS_H_SENDACK,   /* wk-channel: a SEND's arrival to its SENDACK (after the commit) */
	STATS_H_COMMIT,    /* processes with databases: one group commit */
	STATS_NHIST
};

struct stats_hist {
	uint64_t bucket[STATS_HIST_BUCKETS + 1];   /* not cumulative; the last is +Inf */
	uint64_t sum_us;
};

struct stats_header {
	uint32_t magic;
	uint32_t version;
	uint32_t nrows;
	uint32_t row_size;
	uint64_t total_size;
	int64_t created_ms;          /* wall clock */
	int32_t master_pid;
	uint32_t nvalues;            /* STATS_NVALUES of the master's build */
};

struct stats_row {
	uint8_t used;                /* set by the master: this row has an owner */
	uint8_t role;                /* enum wk_role */
	uint16_t instance;
	int32_t pid;                 /* the process writing the row now, 0 none yet */
	int64_t started_ms;          /* wall clock, when pid started */
	uint64_t starts;             /* processes that had this row: restarts + 1 */
	uint64_t v[STATS_NVALUES_MAX];
	uint64_t typed[STATS_NTYPED][STATS_CHTYPES];
	struct stats_hist h[STATS_NHIST_MAX];
	uint8_t pad[STATS_ROW_SIZE - 24 - 8 * STATS_NVALUES_MAX - 8 * STATS_NTYPED * STATS_CHTYPES -
	    STATS_NHIST_MAX * sizeof(struct stats_hist)];
};
_Static_assert(sizeof(struct stats_row) == STATS_ROW_SIZE, "row layout is part of STATS_VERSION");

struct stats {
	struct stats_header *hdr;
	size_t size;
	char name[64];
};

struct stats_info {
	const char *name;            /* Prometheus name without the wk_ prefix */
	const char *help;
	enum stats_kind kind;
	uint32_t scale;
	const char *owner;           /* a role name, "*" or "db" */
};

/* The segment name for a run directory ("/wk.<hash>.stats"). */
void stats_name(const char *run_dir, char *out, size_t len);
/* Master: create (replacing a stale one) with one row per (roles[i],
 * instances[i]), i < nrows. */
int stats_create(struct stats *s, const char *name, uint32_t nrows, const uint8_t *roles,
    const uint16_t *instances);
/* Map the segment of run_dir: read-only for readers, writable for the
 * processes that own a row. */
int stats_attach(struct stats *s, const char *run_dir, int writable);
int stats_open(struct stats *s, const char *name, int writable);
void stats_close(struct stats *s);
int stats_unlink(const char *name);

/* Readers. */
static inline uint32_t stats_nrows(const struct stats *s) { return s->hdr ? s->hdr->nrows : 0; }
const struct stats_row *stats_row_at(const struct stats *s, uint32_t i);
const struct stats_info *stats_info(enum stats_id id);
/* 1 if processes of role (its wk_role_name) write value id. */
int stats_owned(enum stats_id id, const char *role);
static inline uint64_t
stats_get(const struct stats_row *r, int id)
{
	return __atomic_load_n(&r->v[id], __ATOMIC_RELAXED);
}
static inline uint64_t
stats_get_typed(const struct stats_row *r, int which, int type)
{
	return __atomic_load_n(&r->typed[which][type], __ATOMIC_RELAXED);
}
/* A histogram read bucket by bucket; its count is the sum of buckets. */
struct stats_hist_view {
	uint64_t bucket[STATS_HIST_BUCKETS + 1];
	uint64_t count, sum_us;
};
void stats_hist_read(const struct stats_row *r, int h, struct stats_hist_view *out);

/* Writers: the row's process only.  r NULL (no segment: a process run by
 * hand, a unit test) is a no-op, so callers never check. */
struct stats_row *stats_row_find(struct stats *s, int role, int instance);
/* Take the row at start: pid, start time, starts + 1. */
void stats_row_claim(struct stats_row *r, int32_t pid, int64_t now_ms);
static inline void
stats_store(uint64_t *w, uint64_t v)
{
	__atomic_store_n(w, v, __ATOMIC_RELAXED);
}
static inline void
stats_set(struct stats_row *r, int id, uint64_t v)
{
	if (r)
		stats_store(&r->v[id], v);
}
static inline void
stats_add(struct stats_row *r, int id, uint64_t n)
{
	if (r)
		stats_store(&r->v[id], r->v[id] + n);
}
static inline void
stats_add_typed(struct stats_row *r, int which, unsigned type, uint64_t n)
{
	if (r) {
		uint64_t *w = &r->typed[which][type < STATS_CHTYPES ? type : 0];
		stats_store(w, *w + n);
	}
}
/* One latency of us microseconds into histogram h. */
void stats_observe(struct stats_row *r, int h, uint64_t us);

#endif
