/* channel_list.c - a channel's lists (wk-channel(8)): its members
 * (subscribers), blacklist and whitelist, one members.db row per uid:
 *   members.db      u64 num, u8 list ('m' 'b' 'w'), uid  -> u64 row, u64 created, u64 updated
 * The counts live in the channel's record (channel_store.c), so a count
 * and "is the list empty" cost no walk.
 */
#include <stdlib.h>
#include <string.h>
#include "channel_mset.h"
#include "channel_store.h"
#include "wk_buf.h"
#include "wk_db.h"
#include "wk_log.h"
#include "wk_time.h"
#include "wkproto.h"

/* Who hears about changes of a person chat's black/whitelist: the cache of
 * person-chat answers (channel_person.c) registers here, so this file need
 * not know about it. */
static channel_watch_fn *watch;

/* Register (or, with NULL, remove) the list watcher. */
void
channel_list_watch(channel_watch_fn *fn)
{
	watch = fn;
}

/* A list of (id, type) changed: tell the watcher when it is a user's
 * person blacklist or whitelist, the lists that decide who may write to
 * that user (channel_person.c caches the answers on other shards). */
void
channel_list_changed(struct wk_proc *p, const char *id, uint8_t type, enum channel_list list)
{
	if (watch && type == WKPROTO_CHANNEL_PERSON && list != CHANNEL_MEMBERS)
		watch(p, id);
}

/* The record's count slot of a list. */
static int
list_index(enum channel_list list)
{
	return list == CHANNEL_MEMBERS ? CHANNEL_L_MEMBERS : list == CHANNEL_BLACKLIST ?
	    CHANNEL_L_BLACKLIST : CHANNEL_L_WHITELIST;
}


/* members.db key: u64 num, u8 list, uid. */
static size_t
entry_key(uint8_t *k, uint64_t num, enum channel_list list, const char *uid, size_t len)
{
	wk_be64_put(k, num);
	k[CHANNEL_NUM_SIZE] = (uint8_t)list;
	memcpy(k + CHANNEL_NUM_SIZE + 1, uid, len);
	return CHANNEL_NUM_SIZE + 1 + len;
}

#define ENTRY_KEY_MAX (CHANNEL_NUM_SIZE + 1 + CHANNEL_ID_MAX)

/* The uid's length, or -1 (logged) when it is longer than CHANNEL_ID_MAX. */
static long
uid_len(const char *uid)
{
	size_t n = strlen(uid);

	if (n > CHANNEL_ID_MAX) {
		wk_log_warnx("uid of %zu bytes refused", n);
		return -1;
	}
	return (long)n;
}

/* The channel of (id, type), created if `create`, and in k/key the
 * members.db key of uid on list: 1, 0 (no such channel), -1 error. */
static int
entry_locate(struct wk_proc *p, const char *id, uint8_t type, enum channel_list list,
    const char *uid, int create, uint8_t k[ENTRY_KEY_MAX], DBT *key, struct channel_rec **c)
{
	long n = uid_len(uid);

	if (n < 0 || (*c = channel_rec_get(p, id, type, create)) == NULL)
		return -1;
	if ((*c)->num == 0)
		return 0;
	memset(key, 0, sizeof *key);
	key->data = k;
	key->size = (u_int32_t)entry_key(k, (*c)->num, list, uid, (size_t)n);
	return 1;
}

/* Add uid to a list, creating the channel if need be: 1 added, 0 already
 * there, -1 error (transaction poisoned).  The count, the cached set and
 * the watcher change in the same call, so all agree with the transaction. */
int
channel_list_add(struct wk_proc *p, const char *id, uint8_t type, enum channel_list list,
    const char *uid)
{
	DB *db = p->db[CHANNEL_DB_MEMBERS];
	uint8_t k[ENTRY_KEY_MAX], v[24];
	DBT key, data = { .data = v, .size = sizeof v };
	struct channel_rec *c;
	uint64_t row, now;
	int rc;

	if (entry_locate(p, id, type, list, uid, 1, k, &key, &c) < 0)
		return channel_store_op_failed(p);
	if ((rc = db->exists(db, channel_txn(p), &key, 0)) == 0)
		return 0;
	if (rc != DB_NOTFOUND)
		return channel_store_write_failed("members.db exists", id, type, rc);
	if (channel_store_meta_next(p, "row", &row) < 0)
		return channel_store_op_failed(p);
	now = (uint64_t)wk_wall_ms();
	wk_be64_put(v, row);
	wk_be64_put(v + 8, now);
	wk_be64_put(v + 16, now);
	wk_db_writes++;
	if ((rc = db->put(db, channel_txn(p), &key, &data, 0)) != 0)
		return channel_store_write_failed("members.db put", id, type, rc);
	c->count[list_index(list)]++;
	c->updated_ms = now;
	channel_mcache_changed(c, list, uid, key.size - CHANNEL_NUM_SIZE - 1, 1);
	channel_list_changed(p, id, type, list);
	return 1;
}

/* Remove uid from a list: 1 removed, 0 not there, -1 error. */
int
channel_list_remove(struct wk_proc *p, const char *id, uint8_t type, enum channel_list list,
    const char *uid)
{
	DB *db = p->db[CHANNEL_DB_MEMBERS];
	uint8_t k[ENTRY_KEY_MAX];
	struct channel_rec *c;
	DBT key;
	int rc;

	if ((rc = entry_locate(p, id, type, list, uid, 0, k, &key, &c)) <= 0)
		return rc < 0 ? channel_store_op_failed(p) : 0;
	wk_db_writes++;
	if ((rc = db->del(db, channel_txn(p), &key, 0)) == DB_NOTFOUND)
		return 0;
	if (rc != 0)
		return channel_store_write_failed("members.db del", id, type, rc);
	c = channel_rec_get(p, id, type, 1);
	if (c->count[list_index(list)] > 0)
		c->count[list_index(list)]--;
	channel_mcache_changed(c, list, uid, key.size - CHANNEL_NUM_SIZE - 1, 0);
	c->updated_ms = (uint64_t)wk_wall_ms();
	channel_list_changed(p, id, type, list);
	return 1;
}

/* Empty a list with one prefix delete; its cached set is dropped, not
 * edited (a large list would cost a walk). */
int
channel_list_clear(struct wk_proc *p, const char *id, uint8_t type, enum channel_list list)
{
	uint8_t prefix[CHANNEL_NUM_SIZE + 1];
	struct channel_rec *c = channel_rec_get(p, id, type, 0);

	if (c == NULL)
		return channel_store_op_failed(p);
	if (c->num == 0 || c->count[list_index(list)] == 0)
		return 0;
	wk_be64_put(prefix, c->num);
	prefix[CHANNEL_NUM_SIZE] = (uint8_t)list;
	if (channel_store_prefix_delete(p, CHANNEL_DB_MEMBERS, prefix, sizeof prefix) < 0)
		return channel_store_op_failed(p);
	channel_mcache_drop(c->num, list);
	c = channel_rec_get(p, id, type, 1);
	c->count[list_index(list)] = 0;
	c->updated_ms = (uint64_t)wk_wall_ms();
	channel_list_changed(p, id, type, list);
	return 0;
}

/* Is uid on the list: from the cached set when the list is cacheable, else
 * one btree lookup.  1, 0, or -1 on error. */
int
channel_list_has(struct wk_proc *p, const char *id, uint8_t type, enum channel_list list,
    const char *uid)
{
	DB *db = p->db[CHANNEL_DB_MEMBERS];
	uint8_t k[ENTRY_KEY_MAX];
	struct channel_rec *c;
	struct channel_mset *s;
	DBT key;
	int rc;

	if ((rc = entry_locate(p, id, type, list, uid, 0, k, &key, &c)) <= 0)
		return rc;
	if (c->count[list_index(list)] == 0)
		return 0;
	if ((s = channel_mcache_get(p, c, list)) != NULL)
		return channel_mset_has(s, uid, key.size - CHANNEL_NUM_SIZE - 1);
	if ((rc = db->exists(db, channel_txn(p), &key, 0)) == 0 || rc == DB_NOTFOUND)
		return rc == 0;
	wk_log_warnx("channel %s/%u: members.db exists: %s", id, type, db_strerror(rc));
	return -1;
}

/* The list's length from the record (no walk); 0 for an unknown channel. */
long
channel_list_count(struct wk_proc *p, const char *id, uint8_t type, enum channel_list list)
{
	struct channel_rec *c = channel_rec_get(p, id, type, 0);

	if (c == NULL)
		return -1;
	return c->num ? (long)c->count[list_index(list)] : 0;
}

/* Walk list's entries with a uid after `after` (NULL: from the first), at
 * most `limit` (0: all). */
static int
list_walk(struct wk_proc *p, const char *id, uint8_t type, enum channel_list list,
    const char *after, size_t limit, channel_entry_fn *fn, void *arg)
{
	uint8_t k[ENTRY_KEY_MAX];
	char uid[CHANNEL_ID_MAX + 1];
	struct channel_entry e;
	struct channel_rec *c = channel_rec_get(p, id, type, 0);
	size_t plen = CHANNEL_NUM_SIZE + 1, alen = after ? strlen(after) : 0, seen = 0;
	DBT key = { .data = k, .size = (u_int32_t)plen }, data = { 0 };
	DBC *cur;
	int rc, ret = 0;

	if (c == NULL || alen > CHANNEL_ID_MAX)
		return -1;
	if (c->num == 0 || c->count[list_index(list)] == 0)
		return 0;
	if ((cur = channel_store_cursor(p, CHANNEL_DB_MEMBERS)) == NULL)
		return -1;
	key.size = (u_int32_t)entry_key(k, c->num, list, after ? after : "", alen);
	for (rc = wk_db_cget(cur, &key, &data, DB_SET_RANGE); rc == 0;
	    rc = wk_db_cget(cur, &key, &data, DB_NEXT)) {
		if (key.size < plen || key.size > ENTRY_KEY_MAX || memcmp(key.data, k, plen) != 0)
			break;
		e.len = key.size - plen;
		if (after && e.len == alen && memcmp((uint8_t *)key.data + plen, after, alen) == 0)
			continue;            /* the resume point itself */
		if (limit && seen++ == limit)
			break;
		memcpy(uid, (uint8_t *)key.data + plen, e.len);
		uid[e.len] = '\0';
		e.uid = uid;
		e.id = data.size == 24 ? wk_be64_get(data.data) : 0;
		e.created_ms = data.size == 24 ? wk_be64_get((uint8_t *)data.data + 8) : 0;
		e.updated_ms = data.size == 24 ? wk_be64_get((uint8_t *)data.data + 16) : 0;
		if ((ret = fn(&e, arg)) != 0)
			break;
	}
	cur->close(cur);
	wk_db_dbt_free(&key, &data);
	if (ret == 0 && rc != 0 && rc != DB_NOTFOUND) {
		wk_log_warnx("channel %s/%u: members.db walk: %s", id, type, db_strerror(rc));
		return -1;
	}
	return ret;
}

/* Walk a whole list in uid order, straight from members.db. */
int
channel_list_foreach(struct wk_proc *p, const char *id, uint8_t type, enum channel_list list,
    channel_entry_fn *fn, void *arg)
{
	return list_walk(p, id, type, list, NULL, 0, fn, arg);
}

/* A page of a list: uids after `after` (exclusive), at most limit. */
int
channel_list_foreach_after(struct wk_proc *p, const char *id, uint8_t type,
    enum channel_list list, const char *after, size_t limit, channel_entry_fn *fn, void *arg)
{
	return list_walk(p, id, type, list, after, limit, fn, arg);
}

/* Is uid a member (subscriber) of the channel. */
int
channel_is_member(struct wk_proc *p, const char *id, uint8_t type, const char *uid)
{
	return channel_list_has(p, id, type, CHANNEL_MEMBERS, uid);
}

long
channel_member_count(struct wk_proc *p, const char *id, uint8_t type)
{
	return channel_list_count(p, id, type, CHANNEL_MEMBERS);
}

struct member_walk {
	int (*fn)(const char *uid, size_t len, void *arg);
	void *arg;
};

/* Adapt a members.db entry to the uid-only callback. */
static int
member_walk_one(const struct channel_entry *e, void *arg)
{
	struct member_walk *w = arg;

	return w->fn(e->uid, e->len, w->arg);
}

/* fn for every member: from the cached set when possible (no btree), else
 * from members.db; the order is not defined. */
int
channel_members_foreach(struct wk_proc *p, const char *id, uint8_t type,
    int (*fn)(const char *uid, size_t len, void *arg), void *arg)
{
	struct member_walk w = { fn, arg };
	struct channel_rec *c = channel_rec_get(p, id, type, 0);
	int rc;

	if (c == NULL)
		return -1;
	if (c->num == 0 || c->count[CHANNEL_L_MEMBERS] == 0)
		return 0;
	if (channel_mcache_foreach(p, c, CHANNEL_MEMBERS, fn, arg, &rc))
		return rc;
	return channel_list_foreach(p, id, type, CHANNEL_MEMBERS, member_walk_one, &w);
}
