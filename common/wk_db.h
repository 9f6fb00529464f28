/* wk_db.h - a shard's own Berkeley DB environment: one per shard, opened
 * after exec, recovered at open, guarded by a lock file, with the commit
 * durability that storage.sync asks for. */
#ifndef WK_DB_H
#define WK_DB_H
#include <pthread.h>
#include <stdint.h>
#include <db.h>

struct wk_db_env {
	DB_ENV *env;
	char *dir;
	int lock_fd;
	int rep;                     /* a replication site (wk_db_env_open_rep) */
	/* The checkpoint thread (wk_db_checkpointer_start): its own, the
	 * loop's thread only starts and stops it. */
	pthread_t ckpt_thread;
	pthread_mutex_t ckpt_mu;
	pthread_cond_t ckpt_cv;
	int ckpt_running, ckpt_stop;
	int64_t ckpt_interval_ms;
	/* Written by the thread, read by the status line. */
	_Atomic uint64_t ckpt_count, ckpt_last_us, ckpt_max_us;
};

/* Create `dir` if needed, take its LOCK file (fails if another process holds
 * it), open the environment with DB_RECOVER.  sync: "fsync", "write", "none". */
int wk_db_env_open(struct wk_db_env *e, const char *dir, const char *sync,
    int64_t cache_bytes);
/* The same, as a site of a Berkeley DB replication group (wk_rep.h) when
 * cfg is set: rep receives the site's role; commits then go through
 * wk_rep_commit. */
struct wk_rep;
struct wk_rep_config;
int wk_db_env_open_rep(struct wk_db_env *e, const char *dir, const char *sync,
    int64_t cache_bytes, struct wk_rep *rep, const struct wk_rep_config *cfg);
void wk_db_env_close(struct wk_db_env *e);
/* Open (creating) a btree database inside the environment, transactionally.
 * pagesize: the page size of a database created now (0: Berkeley DB's
 * choice from the file system); one that exists keeps its own. */
int wk_db_open(struct wk_db_env *e, const char *name, uint32_t pagesize, DB **out);
/* Row access by byte keys inside a transaction (txn may be NULL), with
 * a log line naming `what` on failure.  wk_db_get: 1 found (*val malloc'd,
 * the caller frees), 0 absent, -1 error; put/del: 0 or -1 (del of an
 * absent key is 0); exists: 1, 0 or -1. */
int wk_db_get(DB *db, DB_TXN *txn, const void *k, size_t klen, uint8_t **val, size_t *len);
int wk_db_put(DB *db, DB_TXN *txn, const void *k, size_t klen, const void *v, size_t vlen);
int wk_db_del(DB *db, DB_TXN *txn, const void *k, size_t klen);
int wk_db_exists(DB *db, DB_TXN *txn, const void *k, size_t klen);
/* Rows written or deleted by this process (puts and dels): the figure
 * behind "one message costs the same writes whatever the group's size";
 * shown as db_writes= in every process's status. */
extern uint64_t wk_db_writes;

/* Hot backup of the environment into target (created, must not exist):
 * 0, or -1 with the cause in err.  Blocks the caller while it copies. */
int wk_db_backup(struct wk_db_env *e, const char *target, char *err, size_t errlen);
/* The marker file in a backup copy: the next open runs DB_RECOVER_FATAL. */
#define WK_DB_RECOVER_FATAL "wk-recover-fatal"

/* What Berkeley DB says of the environment's cache and log (memp_stat,
 * log_stat), for the statistics segment. */
struct wk_db_stats {
	uint64_t cache_hits, cache_misses, cache_bytes, cache_pages, cache_dirty, evictions;
	uint64_t log_bytes, log_writes, log_syncs;
};
int wk_db_env_stats(struct wk_db_env *e, struct wk_db_stats *out);

/* Checkpoint (which also lets log files no longer needed go) every
 * interval_ms on a thread of its own, so the caller's loop
 * never waits for the cache to be written out (bench/README.md, "the
 * checkpoint stall"); stopped by wk_db_env_close.  0 or -1. */
int wk_db_checkpointer_start(struct wk_db_env *e, int64_t interval_ms);
/* A new interval (SIGHUP), counted from the last checkpoint. */
void wk_db_checkpointer_interval(struct wk_db_env *e, int64_t interval_ms);

/* The environment is DB_THREAD (the checkpoint thread shares it), so
 * Berkeley DB never lends its own memory to a read.  wk_db_cget is
 * DBC->get for DBTs that have no memory flag: each gets DB_DBT_REALLOC
 * and keeps its buffer from one call to the next (an input key is copied
 * into it first); wk_db_dbt_free releases what wk_db_cget allocated.  The
 * result is valid until the next call with the same DBT, as before. */
int wk_db_cget(DBC *c, DBT *key, DBT *data, u_int32_t flags);
void wk_db_dbt_free(DBT *key, DBT *data);

#endif
