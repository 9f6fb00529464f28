/* wk_db.h - a shard's own Berkeley DB environment: one per shard, opened
 * after exec, recovered at open, guarded by a lock file, with the commit
 * durability that storage.sync asks for. */
#ifndef WK_DB_H
#define WK_DB_H
#include <stdint.h>
#include <db.h>

struct wk_db_env {
	DB_ENV *env;
	char *dir;
	int lock_fd;
};

/* Create `dir` if needed, take its LOCK file (fails if another process holds
 * it), open the environment with DB_RECOVER.  sync: "fsync", "write", "none". */
int wk_db_env_open(struct wk_db_env *e, const char *dir, const char *sync,
    int64_t cache_bytes);
void wk_db_env_close(struct wk_db_env *e);
/* Open (creating) a btree database inside the environment, transactionally. */
int wk_db_open(struct wk_db_env *e, const char *name, DB **out);
/* Checkpoint and remove log files no longer needed. */
int wk_db_checkpoint(struct wk_db_env *e);

#endif
