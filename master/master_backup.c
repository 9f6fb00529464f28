/* master_backup.c - wk-master's side of `wkctl backup DIR` (wkctl(8),
 * wk-master(8)).
 *
 * The shards open their Berkeley DB environments DB_PRIVATE, so no other
 * process can join them: each process that owns one takes its own hot
 * backup.  The master writes "backup DIR/<role>-<instance>" on every
 * child's socketpair; a child answers after its current group commit with
 * "backup ok <ms>", "backup none" (it owns no environment) or "backup error
 * <why>" (wk_proc.c, wk_db_backup).  Once all have answered, the master
 * copies the LAYOUT file and writes DIR/MANIFEST, which `wkctl restore`
 * requires: a backup that failed half-way has none and cannot be restored.
 *
 * Every child must be ready when the backup begins, so no shard is
 * missing from it; one that exits before answering fails the backup. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "config.h"
#include "master.h"
#include "wk_alloc.h"
#include "wk_fs.h"
#include "wk_log.h"
#include "wk_msg.h"
#include "wk_time.h"

#define BACKUP_TIMEOUT_MS (30 * 60 * 1000)   /* a shard copying longer fails it */

static uint64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* 0 if dir is absent (created) or an empty directory; else -1 and why. */
static int
backup_target(const char *dir, char *err, size_t errlen)
{
	DIR *d;
	struct dirent *de;
	int used = 0;

	if (dir[0] != '/') {
		snprintf(err, errlen, "%s: not an absolute path", dir);
		return -1;
	}
	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL)
			used |= strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
		closedir(d);
		if (used) {
			snprintf(err, errlen, "%s is not empty", dir);
			return -1;
		}
		return 0;
	}
	if (errno != ENOENT || wk_mkdirs(dir) < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* Begin a backup into dir: 0, or -1 with the reason in err. */
int
master_backup_start(struct master *m, const char *dir, char *err, size_t errlen)
{
	if (m->backup_dir) {
		snprintf(err, errlen, "a backup into %s is under way", m->backup_dir);
		return -1;
	}
	if (m->stopping || !m->tree_was_ready) {
		snprintf(err, errlen, "the tree is not running");
		return -1;
	}
	for (int i = 0; i < m->nchildren; i++) {
		struct master_child *c = &m->children[i];
		if (c->state != MASTER_CHILD_READY || c->fd < 0) {
			snprintf(err, errlen, "%s/%d is %s; a backup needs every process ready",
			    wk_role_name(c->role), c->instance, master_state_name(c->state));
			return -1;
		}
	}
	if (backup_target(dir, err, errlen) < 0)
		return -1;
	m->backup_dir = wk_strdup(dir);
	m->backup_began_ms = wall_ms();
	m->backup_deadline_ms = wk_now_ms() + BACKUP_TIMEOUT_MS;
	for (int i = 0; i < m->nchildren; i++) {
		struct master_child *c = &m->children[i];
		char line[4200];
		int n = snprintf(line, sizeof line, "backup %s/%s-%d\n", dir,
		    wk_role_name(c->role), c->instance);
		c->backup = MASTER_BACKUP_PENDING;
		c->backup_pid = c->pid;
		c->backup_note[0] = '\0';
		if (n >= (int)sizeof line || write(c->fd, line, n) != n) {
			c->backup = MASTER_BACKUP_FAILED;
			snprintf(c->backup_note, sizeof c->backup_note, "could not ask: %s",
			    n >= (int)sizeof line ? "path too long" : strerror(errno));
		}
	}
	wk_log_info("backup into %s begun", dir);
	return 0;
}

/* A "backup ..." line from child c (after the "backup "). */
void
master_backup_on_line(struct master *m, struct master_child *c, const char *rest)
{
	if (c->backup != MASTER_BACKUP_PENDING)
		return;
	if (strncmp(rest, "ok", 2) == 0) {
		c->backup = MASTER_BACKUP_DONE;
		snprintf(c->backup_note, sizeof c->backup_note, "%s ms", rest[2] ? rest + 3 : "?");
	} else if (strcmp(rest, "none") == 0)
		c->backup = MASTER_BACKUP_NONE;
	else {
		c->backup = MASTER_BACKUP_FAILED;
		snprintf(c->backup_note, sizeof c->backup_note, "%s",
		    strncmp(rest, "error ", 6) == 0 ? rest + 6 : rest);
	}
}

/* Copy the shard layout beside the shards and write the MANIFEST (last, by
 * rename: its presence says the backup is whole). */
static int
backup_finish(struct master *m, char *err, size_t errlen)
{
	char *layout = wk_asprintf("%s/LAYOUT", m->cfg.dataDir);
	char *copy = wk_asprintf("%s/LAYOUT", m->backup_dir);
	char *tmp = wk_asprintf("%s/MANIFEST.tmp", m->backup_dir);
	char *man = wk_asprintf("%s/MANIFEST", m->backup_dir);
	char buf[256];
	FILE *in = fopen(layout, "r"), *out;
	size_t n;
	int rc = -1;

	if (in != NULL && (out = fopen(copy, "w")) != NULL) {
		while ((n = fread(buf, 1, sizeof buf, in)) > 0)
			fwrite(buf, 1, n, out);
		if (fflush(out) != 0 || fsync(fileno(out)) < 0)
			wk_log_warn("write %s", copy);
		fclose(out);
	}
	if (in)
		fclose(in);
	if ((out = fopen(tmp, "w")) == NULL)
		goto done;
	fprintf(out, "wk-backup 1\nversion %s\nbegan_ms %llu\nfinished_ms %llu\n",
	    PACKAGE_VERSION, (unsigned long long)m->backup_began_ms,
	    (unsigned long long)wall_ms());
	for (int i = 0; i < m->nchildren; i++)
		if (m->children[i].backup == MASTER_BACKUP_DONE)
			fprintf(out, "shard %s-%d\n", wk_role_name(m->children[i].role),
			    m->children[i].instance);
	if (fflush(out) == 0 && fsync(fileno(out)) == 0 && fclose(out) == 0 &&
	    rename(tmp, man) == 0)
		rc = 0;
	else
		fclose(out);
done:
	if (rc < 0)
		snprintf(err, errlen, "write %s: %s", man, strerror(errno));
	free(layout);
	free(copy);
	free(tmp);
	free(man);
	return rc;
}

/* The answer for wkctl once every child answered (malloc'd: "ok DIR" or
 * "error WHY", then one line per shard that owns an environment), NULL
 * while the backup is under way or when none is. */
char *
master_backup_poll(struct master *m)
{
	char *text = NULL, err[600] = "";
	size_t len = 0;
	FILE *f;
	int failed = 0;

	if (m->backup_dir == NULL)
		return NULL;
	for (int i = 0; i < m->nchildren; i++) {
		struct master_child *c = &m->children[i];
		if (c->backup == MASTER_BACKUP_PENDING && (c->pid != c->backup_pid ||
		    c->state != MASTER_CHILD_READY || c->fd < 0)) {
			c->backup = MASTER_BACKUP_FAILED;
			snprintf(c->backup_note, sizeof c->backup_note, "exited during the backup");
		} else if (c->backup == MASTER_BACKUP_PENDING && wk_now_ms() > m->backup_deadline_ms) {
			c->backup = MASTER_BACKUP_FAILED;
			snprintf(c->backup_note, sizeof c->backup_note, "no answer in time");
		}
		if (c->backup == MASTER_BACKUP_PENDING)
			return NULL;
		failed += c->backup == MASTER_BACKUP_FAILED;
	}
	if (failed)
		snprintf(err, sizeof err, "%d process(es) failed; %s is incomplete (no MANIFEST)",
		    failed, m->backup_dir);
	else if (backup_finish(m, err, sizeof err) < 0)
		failed = 1;
	f = open_memstream(&text, &len);
	if (failed)
		fprintf(f, "error %s\n", err);
	else
		fprintf(f, "ok %s\n", m->backup_dir);
	for (int i = 0; i < m->nchildren; i++) {
		struct master_child *c = &m->children[i];
		if (c->backup == MASTER_BACKUP_DONE || c->backup == MASTER_BACKUP_FAILED)
			fprintf(f, "%s/%d %s %s\n", wk_role_name(c->role), c->instance,
			    c->backup == MASTER_BACKUP_DONE ? "ok" : "failed", c->backup_note);
		c->backup = MASTER_BACKUP_IDLE;
	}
	fclose(f);
	if (failed)
		wk_log_warnx("backup into %s failed: %s", m->backup_dir, err);
	else
		wk_log_info("backup into %s done", m->backup_dir);
	wk_free(&m->backup_dir);
	return text;
}
