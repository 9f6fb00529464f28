/* wk_db.c - Berkeley DB environments for shards (see wk_db.h, wk-channel(8)). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "wk_alloc.h"
#include "wk_db.h"
#include "wk_fs.h"
#include "wk_log.h"
#include "wk_rep.h"
#include "wk_time.h"

/* Puts and deletes since start, for the status line: one process, one
 * thread, so a plain counter. */
uint64_t wk_db_writes;

/* The database's file name, for log lines. */
static const char *
db_name(DB *db)
{
	const char *file = NULL, *name = NULL;

	db->get_dbname(db, &file, &name);
	return file ? file : "db";
}

/* Read key k: 1 and *val (malloc'd, the caller frees), 0 if absent, -1 on
 * an error (logged). */
int
wk_db_get(DB *db, DB_TXN *txn, const void *k, size_t klen, uint8_t **val, size_t *len)
{
	DBT key = { .data = (void *)k, .size = (u_int32_t)klen };
	DBT data = { .flags = DB_DBT_MALLOC };
	int rc = db->get(db, txn, &key, &data, 0);

	if (rc == DB_NOTFOUND)
		return 0;
	if (rc != 0) {
		wk_log_warnx("%s get: %s", db_name(db), db_strerror(rc));
		return -1;
	}
	*val = data.data;
	*len = data.size;
	return 1;
}

/* Write k = v in txn: 0, or -1 logged; the caller marks its transaction
 * failed, since the write may be half of an operation. */
int
wk_db_put(DB *db, DB_TXN *txn, const void *k, size_t klen, const void *v, size_t vlen)
{
	DBT key = { .data = (void *)k, .size = (u_int32_t)klen };
	DBT data = { .data = (void *)v, .size = (u_int32_t)vlen };
	int rc = db->put(db, txn, &key, &data, 0);

	wk_db_writes++;
	if (rc != 0) {
		wk_log_warnx("%s put: %s", db_name(db), db_strerror(rc));
		return -1;
	}
	return 0;
}

/* Delete k in txn; a key that is not there is no error. */
int
wk_db_del(DB *db, DB_TXN *txn, const void *k, size_t klen)
{
	DBT key = { .data = (void *)k, .size = (u_int32_t)klen };
	int rc = db->del(db, txn, &key, 0);

	wk_db_writes++;
	if (rc != 0 && rc != DB_NOTFOUND) {
		wk_log_warnx("%s del: %s", db_name(db), db_strerror(rc));
		return -1;
	}
	return 0;
}

/* 1 if k is there, 0 if not, -1 on an error. */
int
wk_db_exists(DB *db, DB_TXN *txn, const void *k, size_t klen)
{
	DBT key = { .data = (void *)k, .size = (u_int32_t)klen };
	int rc = db->exists(db, txn, &key, 0);

	if (rc == 0 || rc == DB_NOTFOUND)
		return rc == 0;
	wk_log_warnx("%s exists: %s", db_name(db), db_strerror(rc));
	return -1;
}

/* Berkeley DB's own error text goes to our log, with the role tag, at most
 * ten lines a second: it is called from the loop, the checkpoint thread and
 * a replication manager's threads, and a replication lockout repeats its
 * line on every call it refuses. */
static void
db_errcall(const DB_ENV *env, const char *pfx, const char *msg)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	static struct wk_ratelimit rl = WK_RATELIMIT_INIT(10);

	pthread_mutex_lock(&mu);
	wk_log_limited(&rl, WK_LOG_WARN, "berkeley db: %s", msg);
	pthread_mutex_unlock(&mu);
}

/* Open (and create) the transactional environment in dir, recovering after
 * a crash (DB_RECOVER). storage.sync picks the durability of a commit:
 * "write" commits to the OS without fsync (survives a process crash, not a
 * machine crash), "none" not even that; "fsync" (the default) syncs. */
int
wk_db_env_open(struct wk_db_env *e, const char *dir, const char *sync, int64_t cache_bytes)
{
	return wk_db_env_open_rep(e, dir, sync, cache_bytes, NULL, NULL);
}

/* The same, as a site of a replication group when rep_cfg is set (wk_rep.h). */
int
wk_db_env_open_rep(struct wk_db_env *e, const char *dir, const char *sync, int64_t cache_bytes,
    struct wk_rep *rep, const struct wk_rep_config *rep_cfg)
{
	char lockpath[4096];
	/* DB_THREAD: the checkpoint thread (wk_db_checkpointer_start) uses the
	 * same handle as the loop. */
	uint32_t flags = DB_CREATE | DB_INIT_LOCK | DB_INIT_LOG | DB_INIT_MPOOL |
	    DB_INIT_TXN | DB_PRIVATE | DB_THREAD;
	int rc, fatal;

	pthread_condattr_t ca;

	memset(e, 0, sizeof *e);
	e->lock_fd = -1;
	pthread_mutex_init(&e->ckpt_mu, NULL);
	/* The checkpoint thread waits on the monotonic clock: a wall-clock
	 * step neither skips checkpoints nor bunches them. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&e->ckpt_cv, &ca);
	pthread_condattr_destroy(&ca);
	if (wk_mkdirs(dir) < 0) {
		wk_log_warn("mkdir %s", dir);
		return -1;
	}
	snprintf(lockpath, sizeof lockpath, "%s/LOCK", dir);
	e->lock_fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (e->lock_fd < 0) {
		wk_log_warn("open %s", lockpath);
		return -1;
	}
	if (flock(e->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		wk_log_warn("%s is held by another process", lockpath);
		close(e->lock_fd);
		e->lock_fd = -1;
		return -1;
	}
	if ((rc = db_env_create(&e->env, 0)) != 0)
		goto fail;
	e->env->set_errcall(e->env, db_errcall);
	e->env->set_cachesize(e->env, (uint32_t)(cache_bytes >> 30),
	    (uint32_t)(cache_bytes & ((1 << 30) - 1)), 1);
	/* DB_PRIVATE: the region lives in this process; the lock file, not a
	 * shared region, keeps a second opener out. */
	/* A 4 MB log buffer: a large group commit is written out at its commit
	 * rather than piecemeal each time a small buffer fills.  Log files no
	 * checkpoint needs any more are removed, so the directory does not grow
	 * with traffic. */
	e->env->set_lg_bsize(e->env, 4 << 20);
	e->env->log_set_config(e->env, DB_LOG_AUTO_REMOVE, 1);
	if (strcmp(sync, "write") == 0)
		e->env->set_flags(e->env, DB_TXN_WRITE_NOSYNC, 1);
	else if (strcmp(sync, "none") == 0)
		e->env->set_flags(e->env, DB_TXN_NOSYNC, 1);
	/* A restored hot backup (wk_db_backup) carries the marker: its files
	 * were copied while being written, so only catastrophic recovery over
	 * every log file in it makes them consistent. */
	snprintf(lockpath, sizeof lockpath, "%s/" WK_DB_RECOVER_FATAL, dir);
	fatal = access(lockpath, F_OK) == 0;
	flags |= fatal ? DB_RECOVER_FATAL : DB_RECOVER;
	if (rep_cfg) {
		if (wk_rep_configure(rep, e->env, rep_cfg) < 0) {
			rc = EINVAL;
			goto fail;
		}
		flags |= DB_INIT_REP;
	}
	if ((rc = e->env->open(e->env, dir, flags, 0644)) != 0)
		goto fail;
	if (rep_cfg && wk_rep_start(e->env, rep_cfg) < 0) {
		rc = EINVAL;
		goto fail;
	}
	e->rep = rep_cfg != NULL;
	if (fatal) {
		wk_log_info("%s: catastrophic recovery of a restored backup done", dir);
		e->env->txn_checkpoint(e->env, 0, 0, DB_FORCE);
		unlink(lockpath);
	}
	e->dir = wk_strdup(dir);
	return 0;
fail:
	wk_log_warnx("open environment %s: %s", dir, db_strerror(rc));
	if (e->env)
		e->env->close(e->env, 0);
	e->env = NULL;
	close(e->lock_fd);
	e->lock_fd = -1;
	return -1;
}

/* Open (create) database `name`, a btree, in e. */
int
wk_db_open(struct wk_db_env *e, const char *name, uint32_t pagesize, DB **out)
{
	DB *db;
	DB_TXN *txn;
	int rc;

	/* In an explicit transaction, begun first: under replication a lockout
	 * then fails the begin at once (DB_REP_CONF_NOWAIT), before there is a
	 * handle to close, where DB->close or an open without a transaction
	 * would wait it out inside the library (5 s). */
	if ((rc = e->env->txn_begin(e->env, NULL, &txn, 0)) != 0)
		goto fail;
	if ((rc = db_create(&db, e->env, 0)) != 0) {
		txn->abort(txn);
		goto fail;
	}
	if (pagesize && (rc = db->set_pagesize(db, pagesize)) != 0) {
		txn->abort(txn);
		db->close(db, 0);
		goto fail;
	}
	if ((rc = db->open(db, txn, name, NULL, DB_BTREE, DB_CREATE, 0644)) != 0) {
		txn->abort(txn);
		db->close(db, 0);
		goto fail;
	}
	if ((rc = txn->commit(txn, 0)) != 0) {
		db->close(db, 0);
		goto fail;
	}
	*out = db;
	return 0;
fail:
	wk_log_warnx("open %s/%s: %s", e->dir, name, db_strerror(rc));
	return -1;
}

/* A checkpoint: recovery after a crash replays the log from the last one.
 * Berkeley DB skips one when nothing was logged since the last, but on its
 * own thread a checkpoint can race a commit: the commit's pages, dirtied
 * after the cache was written, stay dirty behind a checkpoint record that
 * follows the commit, and every later checkpoint would be skipped while the
 * shard is idle (a revoked message's bytes left in the file for good).  So
 * a cache with dirty pages is always checkpointed; a clean one never. */
static int
db_checkpoint(struct wk_db_env *e)
{
	DB_MPOOL_STAT *mp = NULL;
	u_int32_t flags = 0;
	int rc;

	if (e->env->memp_stat(e->env, &mp, NULL, 0) == 0) {
		flags = mp->st_page_dirty ? DB_FORCE : 0;
		free(mp);
	}
	rc = e->env->txn_checkpoint(e->env, 0, 0, flags);

	if (rc != 0) {
		wk_log_warnx("checkpoint %s: %s", e->dir, db_strerror(rc));
		return -1;
	}
	return 0;
}

/* The checkpoint thread's body: a checkpoint every interval until told to
 * stop.  It writes the cache's dirty pages and fsyncs the database files
 * while the loop goes on committing; Berkeley DB's own latches order the
 * two (a page being written is waited for only by a writer of that page). */
static void *
db_checkpointer(void *arg)
{
	struct wk_db_env *e = arg;
	struct timespec last, at;

	pthread_mutex_lock(&e->ckpt_mu);
	clock_gettime(CLOCK_MONOTONIC, &last);
	while (!e->ckpt_stop) {
		/* Recomputed after every wake-up: a reload may have changed it. */
		at = last;
		at.tv_sec += e->ckpt_interval_ms / 1000;
		at.tv_nsec += (e->ckpt_interval_ms % 1000) * 1000000;
		if (at.tv_nsec >= 1000000000) {
			at.tv_sec++;
			at.tv_nsec -= 1000000000;
		}
		if (pthread_cond_timedwait(&e->ckpt_cv, &e->ckpt_mu, &at) != ETIMEDOUT)
			continue;
		clock_gettime(CLOCK_MONOTONIC, &last);
		pthread_mutex_unlock(&e->ckpt_mu);
		uint64_t t0 = wk_now_us();
		db_checkpoint(e);
		uint64_t took = wk_now_us() - t0;
		e->ckpt_last_us = took;
		if (took > e->ckpt_max_us)
			e->ckpt_max_us = took;
		e->ckpt_count++;
		pthread_mutex_lock(&e->ckpt_mu);
	}
	pthread_mutex_unlock(&e->ckpt_mu);
	return NULL;
}

int
wk_db_checkpointer_start(struct wk_db_env *e, int64_t interval_ms)
{
	int rc;

	e->ckpt_interval_ms = interval_ms > 0 ? interval_ms : 1000;
	e->ckpt_stop = 0;
	if ((rc = pthread_create(&e->ckpt_thread, NULL, db_checkpointer, e)) != 0) {
		wk_log_warnx("checkpoint thread: %s", strerror(rc));
		return -1;
	}
	e->ckpt_running = 1;
	return 0;
}

void
wk_db_checkpointer_interval(struct wk_db_env *e, int64_t interval_ms)
{
	pthread_mutex_lock(&e->ckpt_mu);
	e->ckpt_interval_ms = interval_ms > 0 ? interval_ms : 1000;
	pthread_cond_signal(&e->ckpt_cv);
	pthread_mutex_unlock(&e->ckpt_mu);
}

/* Stop and join the checkpoint thread; it finishes a checkpoint it is in. */
static void
db_checkpointer_stop(struct wk_db_env *e)
{
	if (!e->ckpt_running)
		return;
	pthread_mutex_lock(&e->ckpt_mu);
	e->ckpt_stop = 1;
	pthread_cond_signal(&e->ckpt_cv);
	pthread_mutex_unlock(&e->ckpt_mu);
	pthread_join(e->ckpt_thread, NULL);
	e->ckpt_running = 0;
}

/* One DBT of wk_db_cget: without a memory flag it becomes DB_DBT_REALLOC
 * over a buffer of its own, holding a copy of what it pointed at (the
 * input key of DB_SET_RANGE). */
static void
db_dbt_own(DBT *d)
{
	void *p = NULL;

	if (d->flags & (DB_DBT_MALLOC | DB_DBT_REALLOC | DB_DBT_USERMEM))
		return;
	if (d->size > 0) {
		p = wk_malloc(d->size);
		memcpy(p, d->data, d->size);
	}
	d->data = p;
	d->flags |= DB_DBT_REALLOC;
}

int
wk_db_cget(DBC *c, DBT *key, DBT *data, u_int32_t flags)
{
	db_dbt_own(key);
	db_dbt_own(data);
	return c->get(c, key, data, flags);
}

void
wk_db_dbt_free(DBT *key, DBT *data)
{
	DBT *d[2] = { key, data };

	for (int i = 0; i < 2; i++)
		if (d[i] && (d[i]->flags & DB_DBT_REALLOC)) {
			free(d[i]->data);
			d[i]->data = NULL;
			d[i]->size = 0;
		}
}

/* A hot backup of e into target (created; it must not hold another
 * backup): Berkeley DB's own DB_ENV->backup copies the database files and
 * then every log file, so what was committed before the call is in the
 * copy; the log buffer is flushed first for storage.sync "none".  The
 * marker makes the first open of the copy run catastrophic recovery.  The
 * caller's loop is blocked meanwhile: call it between transactions. */
int
wk_db_backup(struct wk_db_env *e, const char *target, char *err, size_t errlen)
{
	char path[4096];
	int rc, fd;

	if ((rc = e->env->log_flush(e->env, NULL)) != 0 ||
	    (rc = e->env->backup(e->env, target, DB_CREATE | DB_EXCL)) != 0) {
		snprintf(err, errlen, "backup %s to %s: %s", e->dir, target, db_strerror(rc));
		return -1;
	}
	snprintf(path, sizeof path, "%s/" WK_DB_RECOVER_FATAL, target);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0 || fsync(fd) < 0) {
		snprintf(err, errlen, "backup %s: %s: %s", e->dir, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* Checkpoint so that the next open recovers quickly, then close and drop
 * the lock. */
void
wk_db_env_close(struct wk_db_env *e)
{
	db_checkpointer_stop(e);
	if (e->env) {
		/* Not at a replication site: a master's checkpoint waits there
		 * for something that never comes (seen: SIGTERM took wk-master's
		 * 10 s stop timeout); the checkpoint thread's last one bounds
		 * the recovery at the next open all the same. */
		if (!e->rep)
			e->env->txn_checkpoint(e->env, 0, 0, 0);
		e->env->close(e->env, 0);
		e->env = NULL;
	}
	if (e->lock_fd >= 0)
		close(e->lock_fd);
	e->lock_fd = -1;
	free(e->dir);
	e->dir = NULL;
}

/* The cache's and the log's counters; 0 or -1. */
int
wk_db_env_stats(struct wk_db_env *e, struct wk_db_stats *out)
{
	DB_MPOOL_STAT *mp = NULL;
	DB_LOG_STAT *lg = NULL;

	memset(out, 0, sizeof *out);
	if (e->env->memp_stat(e->env, &mp, NULL, 0) != 0)
		return -1;
	out->cache_hits = mp->st_cache_hit;
	out->cache_misses = mp->st_cache_miss;
	out->cache_bytes = (uint64_t)mp->st_gbytes * 1073741824ull + mp->st_bytes;
	out->cache_pages = mp->st_pages;
	out->cache_dirty = mp->st_page_dirty;
	out->evictions = mp->st_ro_evict + mp->st_rw_evict;
	free(mp);
	if (e->env->log_stat(e->env, &lg, 0) != 0)
		return -1;
	out->log_bytes = (uint64_t)lg->st_w_mbytes * 1048576ull + lg->st_w_bytes;
	out->log_writes = lg->st_wcount;
	out->log_syncs = lg->st_scount;
	free(lg);
	return 0;
}
