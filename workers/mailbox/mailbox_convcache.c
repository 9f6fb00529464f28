/* mailbox_convcache.c - hot users' conversation rows in memory
 * (wk-mailbox(8)), so that /conversation/sync does not walk convs.db and
 * sort the rows on every request.
 *
 * An entry holds all of one uid's rows in conv.rows order (newest update
 * first; the same update time: key order, as the walk gives them), their
 * ids in one block, and per row where the last-message table keeps its
 * channel (lastmsg_hint), so that conv.rows' filter reads the table
 * without hashing ids.  Bounded (CONVCACHE_ROWS rows in all,
 * CONVCACHE_USERS users), least recently used first out; a user with more
 * rows than the bound is never held.  Rebuilt from convs.db on a miss
 * (inside the iteration's transaction: what this iteration wrote is seen);
 * a write to a uid's rows drops its entry (mailbox_conv.c), and a failed
 * commit drops them all (what was read may never have been committed).
 */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <czmq.h>
#include "mailbox.h"
#include "wk_db.h"
#include "wk_alloc.h"
#include "wk_log.h"

#define CONVCACHE_ROWS (1u << 20)    /* ~80 MB at 64-byte ids */
#define CONVCACHE_USERS 65536

struct convcache_user {
	char *uid;
	struct mailbox_crows rows;
	struct convcache_user *prev, *next;   /* LRU: head most recent */
};

static struct {
	zhashx_t *by_uid;            /* uid -> struct convcache_user */
	struct convcache_user *head, *tail;
	size_t rows, users;
	uint64_t hits, misses;
} cc;

void
mailbox_crows_free(struct mailbox_crows *c)
{
	free(c->v);
	free(c->ids);
	memset(c, 0, sizeof *c);
}

static void
lru_unlink(struct convcache_user *u)
{
	if (u->prev)
		u->prev->next = u->next;
	else
		cc.head = u->next;
	if (u->next)
		u->next->prev = u->prev;
	else
		cc.tail = u->prev;
	u->prev = u->next = NULL;
}

static void
lru_push(struct convcache_user *u)
{
	u->next = cc.head;
	if (cc.head)
		cc.head->prev = u;
	cc.head = u;
	if (cc.tail == NULL)
		cc.tail = u;
}

static void
user_drop(struct convcache_user *u)
{
	lru_unlink(u);
	cc.rows -= u->rows.n;
	cc.users--;
	zhashx_delete(cc.by_uid, u->uid);
	mailbox_crows_free(&u->rows);
	free(u->uid);
	free(u);
}

void
mailbox_convcache_forget(const char *uid)
{
	struct convcache_user *u;

	if (cc.by_uid && (u = zhashx_lookup(cc.by_uid, uid)) != NULL)
		user_drop(u);
}

void
mailbox_convcache_clear(void)
{
	while (cc.head)
		user_drop(cc.head);
}

/* conv.rows order: newest update first, then key order (type, then id
 * bytes, a shorter id first), which is what the walk gave a stable sort. */
static const char *sort_ids;

static int
by_updated_desc(const void *a, const void *b)
{
	const struct mailbox_crow *x = a, *y = b;
	size_t n = x->idlen < y->idlen ? x->idlen : y->idlen;
	int c;

	if (x->updated_ms != y->updated_ms)
		return x->updated_ms < y->updated_ms ? 1 : -1;
	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	if ((c = memcmp(sort_ids + x->id, sort_ids + y->id, n)) != 0)
		return c;
	return x->idlen < y->idlen ? -1 : x->idlen > y->idlen;
}

/* The uid's rows from convs.db: 0, or -1 (logged; a is 500). */
static int
rows_load(struct wk_proc *p, const char *uid, struct mailbox_crows *out,
    struct wk_answer *a)
{
	size_t plen = strlen(uid) + 1, cap = 0, idcap = 0, idlen = 0;
	DBT key = { 0 }, data = { 0 };
	struct mailbox_crow row;
	DBC *cur;
	DB *db = p->db[MAILBOX_DB_CONVS];
	int rc;

	memset(out, 0, sizeof *out);
	key.data = (void *)uid;
	key.size = (u_int32_t)plen;
	if ((rc = db->cursor(db, mailbox_txn_begin(p, NULL), &cur, 0)) != 0) {
		wk_log_warnx("convs.db cursor: %s", db_strerror(rc));
		wk_answer_error(a, 500, "storage error");
		return -1;
	}
	/* The keys and values stay valid only until the next get: copy. */
	for (rc = wk_db_cget(cur, &key, &data, DB_SET_RANGE); rc == 0;
	    rc = wk_db_cget(cur, &key, &data, DB_NEXT)) {
		if (key.size <= plen || memcmp(key.data, uid, plen) != 0)
			break;
		memset(&row, 0, sizeof row);
		if (mailbox_conv_decode(&row, data.data, data.size) < 0)
			continue;
		row.type = ((const uint8_t *)key.data)[plen];
		row.idlen = key.size - plen - 1;
		row.id = idlen;
		wk_grow(&out->ids, &idcap, idlen + row.idlen + 1);
		memcpy(out->ids + idlen, (const char *)key.data + plen + 1, row.idlen);
		idlen += row.idlen;
		wk_grow(&out->v, &cap, (out->n + 1) * sizeof *out->v);
		out->v[out->n++] = row;
	}
	cur->close(cur);
	wk_db_dbt_free(&key, &data);
	if (mailbox_walk_end(a, rc, "convs.db") < 0) {
		mailbox_crows_free(out);
		return -1;
	}
	sort_ids = out->ids;
	qsort(out->v, out->n, sizeof *out->v, by_updated_desc);
	return 0;
}

struct mailbox_crows *
mailbox_convcache_get(struct wk_proc *p, const char *uid, struct mailbox_crows *tmp,
    struct wk_answer *a)
{
	struct convcache_user *u;

	if (cc.by_uid == NULL)
		cc.by_uid = zhashx_new();
	if ((u = zhashx_lookup(cc.by_uid, uid)) != NULL) {
		cc.hits++;
		lru_unlink(u);
		lru_push(u);
		return &u->rows;
	}
	cc.misses++;
	if (rows_load(p, uid, tmp, a) < 0)
		return NULL;
	if (tmp->n > CONVCACHE_ROWS / 2)
		return tmp;          /* too big to hold: the caller frees it */
	while (cc.tail && (cc.rows + tmp->n > CONVCACHE_ROWS || cc.users >= CONVCACHE_USERS))
		user_drop(cc.tail);
	u = wk_calloc(1, sizeof *u);
	u->uid = wk_strdup(uid);
	u->rows = *tmp;
	memset(tmp, 0, sizeof *tmp);
	zhashx_insert(cc.by_uid, u->uid, u);
	lru_push(u);
	cc.rows += u->rows.n;
	cc.users++;
	return &u->rows;
}

int
mailbox_convcache_status(char *buf, size_t len)
{
	return snprintf(buf, len, " convcache_users=%zu convcache_rows=%zu convcache_hits=%llu"
	    " convcache_misses=%llu", cc.users, cc.rows, (unsigned long long)cc.hits,
	    (unsigned long long)cc.misses);
}

void
mailbox_convcache_close(void)
{
	mailbox_convcache_clear();
	zhashx_destroy(&cc.by_uid);
}
