/* channel_store.c - a channel shard's storage (wk-channel(8)).
 *
 * Five btrees in the shard's transactional environment (channel.h lists
 * them).  A channel gets a number, unique in the shard, when its record is
 * created; everything else is keyed by that number, big-endian, so a cursor
 * walks one channel's rows in order:
 *   channels.db     u8 type, id                      -> the record (below)
 *   members.db      u64 num, u8 list ('m' 'b' 'w'), uid  -> u64 row, u64 created, u64 updated
 *   messages.db     u64 num, u32 seq                 -> the message (below)
 *   clientmsgno.db  u64 num, u16 n, client_msg_no[n], from_uid  -> u64 message_id, u32 seq
 *   meta.db         "num" / "row"                    -> u64 the next channel number / row id
 *   senders.db      u64 num, from_uid                -> u32 the last seq from_uid sent
 *                   (conversations: what a user sent counts as read)
 *   cmdout.db       the hand-overs to mailbox shards (channel_cmd.c)
 * Record: u8 version 1, u64 num, u32 last_seq, u8 flags, u32 members,
 * u32 blacklist, u32 whitelist, u64 created_ms, u64 updated_ms.
 * Message: u8 version 1, u64 message_id, u32 timestamp, u8 flags,
 * u8 setting, u32 expire, then from_uid, client_msg_no, topic, stream_no
 * each as u16 length, bytes, NUL; then u32 length and the payload.
 *
 * Every read and write goes through the one open transaction (channel_txn:
 * the process's group commit p->txn, wk_txn.h), committed once per loop
 * iteration.  Channel records are cached: a write changes the cached copy
 * and marks it dirty; the dirty records are written into the transaction
 * just before it commits (wk_txn's prepare hook), so a record (last_seq
 * above all) is written once per iteration however many messages were
 * appended.  After an abort the dirty entries are dropped, so the next
 * read loads the committed record again.  A failed write "poisons" the
 * transaction: it may hold half of an operation, so channel_commit aborts it.
 */
#include <stdlib.h>
#include <string.h>
#include "channel.h"
#include "wk_alloc.h"
#include "wk_buf.h"
#include "wk_db.h"
#include "wk_log.h"
#include "wk_time.h"
#include "wk_txn.h"

const char *const channel_databases[CHANNEL_DB_COUNT + 1] = {
	"channels.db", "members.db", "messages.db", "clientmsgno.db", "meta.db", "senders.db",
	"cmdout.db", "streams.db", NULL,
};

#define RECORD_VERSION 1
#define RECORD_SIZE (1 + 8 + 4 + 1 + 4 * 3 + 8 + 8)
#define MSG_VERSION 1
#define CACHE_MAX 65536               /* cached records before the cache is emptied */
#define NUM_SIZE 8                    /* the channel number prefix of every key */

enum {                                /* record flag bits */
	F_BAN = 0x01, F_DISBAND = 0x02, F_SEND_BAN = 0x04, F_LARGE = 0x08,
	F_ALLOW_STRANGER = 0x10,
};
enum { L_MEMBERS, L_BLACKLIST, L_WHITELIST, L_COUNT };

/* A cached channel record; num 0: the channel does not exist. */
struct chan {
	char *hkey;                   /* "type/id", the cache key */
	const char *id;               /* inside hkey */
	uint8_t type;
	uint64_t num;
	uint32_t last_seq;
	uint8_t flags;
	uint32_t count[L_COUNT];
	uint64_t created_ms, updated_ms;
	int dirty;
	struct chan *dirty_next;
};

static struct {
	struct wk_txn *t;             /* p->txn, the group commit (wk_txn.h) */
	DB_TXN *txn;                  /* its open transaction, as channel_txn returned it */
	zhashx_t *cache;              /* hkey -> struct chan */
	struct chan *dirty;           /* records changed in txn */
} st;

static int
list_index(enum channel_list list)
{
	return list == CHANNEL_MEMBERS ? L_MEMBERS : list == CHANNEL_BLACKLIST ? L_BLACKLIST :
	    L_WHITELIST;
}

static void
chan_free(void **item)
{
	struct chan *c = *item;

	if (c) {
		free(c->hkey);
		free(c);
		*item = NULL;
	}
}

static zhashx_t *
cache(void)
{
	if (st.cache == NULL) {
		st.cache = zhashx_new();
		zhashx_set_destructor(st.cache, chan_free);
	}
	return st.cache;
}

/* ---- the transaction: wrappers over p->txn (wk_txn.h) ---- */

DB_TXN *
channel_txn(struct wk_proc *p)
{
	return st.txn = wk_txn_get(p->txn);
}

int
channel_txn_open(void)
{
	return st.t && wk_txn_is_open(st.t);
}

void
channel_txn_fail(struct wk_proc *p)
{
	wk_txn_fail(p->txn);
}

int
channel_after_commit(struct wk_proc *p, channel_done_fn *fn, void *arg)
{
	if (channel_txn(p) == NULL)
		return -1;
	return wk_txn_after_commit(p->txn, fn, arg);
}

/* The transaction ended with rc (before its queued work runs): forget or
 * keep the dirty records. */
static void
txn_ended(struct wk_proc *p, int rc)
{
	struct chan *c, *next;

	st.txn = NULL;
	for (c = st.dirty; c; c = next) {
		next = c->dirty_next;
		c->dirty = 0;
		c->dirty_next = NULL;
		if (rc < 0)
			zhashx_delete(st.cache, c->hkey);
	}
	st.dirty = NULL;
	if (st.cache && zhashx_size(st.cache) > CACHE_MAX)
		zhashx_purge(st.cache);
}

static void
record_encode(const struct chan *c, uint8_t out[RECORD_SIZE])
{
	uint8_t *b = out;

	*b++ = RECORD_VERSION;
	wk_be64_put(b, c->num), b += 8;
	wk_be32_put(b, c->last_seq), b += 4;
	*b++ = c->flags;
	for (int i = 0; i < L_COUNT; i++)
		wk_be32_put(b, c->count[i]), b += 4;
	wk_be64_put(b, c->created_ms), b += 8;
	wk_be64_put(b, c->updated_ms);
}

static int
record_decode(struct chan *c, const uint8_t *b, size_t len)
{
	if (len != RECORD_SIZE || b[0] != RECORD_VERSION)
		return -1;
	b++;
	c->num = wk_be64_get(b), b += 8;
	c->last_seq = wk_be32_get(b), b += 4;
	c->flags = *b++;
	for (int i = 0; i < L_COUNT; i++)
		c->count[i] = wk_be32_get(b), b += 4;
	c->created_ms = wk_be64_get(b), b += 8;
	c->updated_ms = wk_be64_get(b);
	return 0;
}

/* The channels.db key of c: u8 type, id. */
static size_t
record_key(const struct chan *c, uint8_t *out)
{
	size_t n = strlen(c->id);

	out[0] = c->type;
	memcpy(out + 1, c->id, n);
	return n + 1;
}

/* Just before the commit: write the dirty records into it: 0, -1. */
static int
flush_records(struct wk_proc *p, DB_TXN *txn)
{
	uint8_t k[CHANNEL_ID_MAX + 1], v[RECORD_SIZE];
	DB *db = p->db[CHANNEL_DB_CHANNELS];
	int rc;

	for (struct chan *c = st.dirty; c; c = c->dirty_next) {
		DBT key = { .data = k, .size = (u_int32_t)record_key(c, k) };
		DBT data = { .data = v, .size = RECORD_SIZE };

		record_encode(c, v);
		wk_db_writes++;
		if ((rc = db->put(db, txn, &key, &data, 0)) != 0) {
			wk_log_warnx("channel %s/%u: put record: %s", c->id, c->type, db_strerror(rc));
			return -1;
		}
	}
	return 0;
}

int
channel_commit(struct wk_proc *p)
{
	return wk_txn_commit(p->txn);
}

void
channel_abort(struct wk_proc *p)
{
	wk_txn_abort(p->txn);
}

int
channel_store_open(struct wk_proc *p)
{
	for (int i = 0; i < CHANNEL_DB_COUNT; i++)
		if (p->db[i] == NULL) {
			wk_log_warnx("%s is not open", channel_databases[i]);
			return -1;
		}
	static const struct wk_txn_hooks hooks = { flush_records, txn_ended };

	st.t = p->txn;
	wk_txn_set_hooks(p->txn, &hooks);
	cache();
	return 0;
}

void
channel_store_close(struct wk_proc *p)
{
	channel_abort(p);
	st.t = NULL;
	zhashx_destroy(&st.cache);
}

/* ---- low-level access, all inside the transaction ---- */

/* A failed write: log it and poison the transaction; returns -1. */
static int
write_failed(const char *what, const char *id, uint8_t type, int rc)
{
	wk_log_warnx("channel %s/%u: %s: %s", id, type, what, db_strerror(rc));
	wk_txn_fail(st.t);
	return -1;
}

/* A write operation failed before it was done (the caller may have done
 * part of something with it): the transaction, begun now if need be so
 * that the caller's after-commit work sees the failure, must not commit; -1. */
static int
op_failed(struct wk_proc *p)
{
	if (channel_txn(p) != NULL)
		wk_txn_fail(p->txn);
	return -1;
}

/* The next value of meta counter `name` (starting at 1): 0, -1. */
static int
meta_next(struct wk_proc *p, const char *name, uint64_t *out)
{
	DB *db = p->db[CHANNEL_DB_META];
	uint8_t v[8];
	DBT key = { .data = (void *)name, .size = (u_int32_t)strlen(name) };
	DBT data = { .data = v, .ulen = sizeof v, .flags = DB_DBT_USERMEM };
	int rc = db->get(db, st.txn, &key, &data, 0);

	if (rc == DB_NOTFOUND)
		*out = 1;
	else if (rc == 0 && data.size == 8)
		*out = wk_be64_get(v);
	else {
		wk_log_warnx("meta.db %s: %s", name, rc ? db_strerror(rc) : "bad value");
		return -1;
	}
	wk_be64_put(v, *out + 1);
	data.size = 8;
	data.flags = 0;
	wk_db_writes++;
	if ((rc = db->put(db, st.txn, &key, &data, 0)) != 0)
		return write_failed("meta.db put", name, 0, rc);
	return 0;
}

/* The cached record of (id, type), loading it; with `create`, a missing
 * channel is created (dirty).  NULL on error. */
static struct chan *
chan_get(struct wk_proc *p, const char *id, uint8_t type, int create)
{
	uint8_t k[CHANNEL_ID_MAX + 1], v[RECORD_SIZE];
	DB *db = p->db[CHANNEL_DB_CHANNELS];
	size_t idlen = strlen(id);
	char *hkey;
	struct chan *c;
	int rc;

	if (idlen > CHANNEL_ID_MAX) {
		wk_log_warnx("channel id of %zu bytes refused", idlen);
		return NULL;
	}
	if (channel_txn(p) == NULL)
		return NULL;
	hkey = wk_asprintf("%u/%s", type, id);
	if ((c = zhashx_lookup(cache(), hkey)) == NULL) {
		c = wk_calloc(1, sizeof *c);
		c->hkey = hkey;
		c->id = strchr(hkey, '/') + 1;
		c->type = type;
		DBT key = { .data = k, .size = (u_int32_t)record_key(c, k) };
		DBT data = { .data = v, .ulen = sizeof v, .flags = DB_DBT_USERMEM };
		rc = db->get(db, st.txn, &key, &data, 0);
		if ((rc != 0 && rc != DB_NOTFOUND) || (rc == 0 && record_decode(c, v, data.size) < 0)) {
			wk_log_warnx("channel %s/%u: get record: %s", id, type,
			    rc ? db_strerror(rc) : "bad record");
			chan_free((void **)&c);
			return NULL;
		}
		zhashx_insert(st.cache, hkey, c);
	} else
		free(hkey);
	if (c->num == 0 && create) {
		if (meta_next(p, "num", &c->num) < 0) {
			c->num = 0;
			return NULL;
		}
		c->created_ms = c->updated_ms = (uint64_t)wk_wall_ms();
	}
	if (create && !c->dirty) {
		c->dirty = 1;
		c->dirty_next = st.dirty;
		st.dirty = c;
	}
	return c;
}

/* Open a cursor on database i inside the transaction; NULL on error. */
static DBC *
cursor_open(struct wk_proc *p, int i)
{
	DBC *cur;
	int rc;

	if (channel_txn(p) == NULL)
		return NULL;
	if ((rc = p->db[i]->cursor(p->db[i], st.txn, &cur, 0)) != 0) {
		wk_log_warnx("%s cursor: %s", channel_databases[i], db_strerror(rc));
		return NULL;
	}
	return cur;
}

/* Delete every key of database i that starts with prefix[0..n): 0, -1. */
static int
prefix_delete(struct wk_proc *p, int i, const uint8_t *prefix, size_t n)
{
	DBC *cur = cursor_open(p, i);
	DBT key = { .data = (void *)prefix, .size = (u_int32_t)n };
	DBT data = { .flags = DB_DBT_PARTIAL };   /* keys only */
	int rc;

	if (cur == NULL)
		return -1;
	for (rc = cur->get(cur, &key, &data, DB_SET_RANGE); rc == 0;
	    rc = cur->get(cur, &key, &data, DB_NEXT)) {
		if (key.size < n || memcmp(key.data, prefix, n) != 0)
			break;
		wk_db_writes++;
		if ((rc = cur->del(cur, 0)) != 0)
			break;
	}
	cur->close(cur);
	if (rc != 0 && rc != DB_NOTFOUND)
		return write_failed("delete", channel_databases[i], 0, rc);
	return 0;
}

/* ---- channel records ---- */

static void
info_fill(struct channel_info *info, const char *id, uint8_t type, const struct chan *c)
{
	memset(info, 0, sizeof *info);
	snprintf(info->id, sizeof info->id, "%s", id);
	info->type = type;
	if (c == NULL || c->num == 0)
		return;
	info->ban = (c->flags & F_BAN) != 0;
	info->disband = (c->flags & F_DISBAND) != 0;
	info->send_ban = (c->flags & F_SEND_BAN) != 0;
	info->large = (c->flags & F_LARGE) != 0;
	info->allow_stranger = (c->flags & F_ALLOW_STRANGER) != 0;
	info->last_seq = c->last_seq;
	info->nmembers = c->count[L_MEMBERS];
	info->nblacklist = c->count[L_BLACKLIST];
	info->nwhitelist = c->count[L_WHITELIST];
	info->created_ms = c->created_ms;
	info->updated_ms = c->updated_ms;
}

int
channel_get(struct wk_proc *p, const char *id, uint8_t type, struct channel_info *info)
{
	struct chan *c = chan_get(p, id, type, 0);

	info_fill(info, id, type, c);
	if (c == NULL)
		return -1;
	return c->num != 0;
}

int
channel_put(struct wk_proc *p, const struct channel_info *info)
{
	struct chan *c = chan_get(p, info->id, info->type, 1);

	if (c == NULL)
		return op_failed(p);
	c->flags = (info->ban ? F_BAN : 0) | (info->disband ? F_DISBAND : 0) |
	    (info->send_ban ? F_SEND_BAN : 0) | (info->large ? F_LARGE : 0) |
	    (info->allow_stranger ? F_ALLOW_STRANGER : 0);
	c->updated_ms = (uint64_t)wk_wall_ms();
	return 0;
}

int
channel_delete(struct wk_proc *p, const char *id, uint8_t type)
{
	struct chan *c = chan_get(p, id, type, 0);
	uint8_t prefix[NUM_SIZE];

	if (c == NULL)
		return op_failed(p);
	if (c->num == 0)
		return 0;
	wk_be64_put(prefix, c->num);
	if (prefix_delete(p, CHANNEL_DB_MEMBERS, prefix, NUM_SIZE) < 0 ||
	    prefix_delete(p, CHANNEL_DB_MESSAGES, prefix, NUM_SIZE) < 0 ||
	    prefix_delete(p, CHANNEL_DB_CLIENTMSGNO, prefix, NUM_SIZE) < 0 ||
	    prefix_delete(p, CHANNEL_DB_SENDERS, prefix, NUM_SIZE) < 0)
		return op_failed(p);
	c = chan_get(p, id, type, 1);
	c->flags |= F_DISBAND;
	memset(c->count, 0, sizeof c->count);
	c->updated_ms = (uint64_t)wk_wall_ms();
	return 1;
}

/* ---- members and lists ---- */

/* members.db key: u64 num, u8 list, uid. */
static size_t
entry_key(uint8_t *k, uint64_t num, enum channel_list list, const char *uid, size_t len)
{
	wk_be64_put(k, num);
	k[NUM_SIZE] = (uint8_t)list;
	memcpy(k + NUM_SIZE + 1, uid, len);
	return NUM_SIZE + 1 + len;
}

#define ENTRY_KEY_MAX (NUM_SIZE + 1 + CHANNEL_ID_MAX)

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
    const char *uid, int create, uint8_t k[ENTRY_KEY_MAX], DBT *key, struct chan **c)
{
	long n = uid_len(uid);

	if (n < 0 || (*c = chan_get(p, id, type, create)) == NULL)
		return -1;
	if ((*c)->num == 0)
		return 0;
	memset(key, 0, sizeof *key);
	key->data = k;
	key->size = (u_int32_t)entry_key(k, (*c)->num, list, uid, (size_t)n);
	return 1;
}

int
channel_list_add(struct wk_proc *p, const char *id, uint8_t type, enum channel_list list,
    const char *uid)
{
	DB *db = p->db[CHANNEL_DB_MEMBERS];
	uint8_t k[ENTRY_KEY_MAX], v[24];
	DBT key, data = { .data = v, .size = sizeof v };
	struct chan *c;
	uint64_t row, now;
	int rc;

	if (entry_locate(p, id, type, list, uid, 1, k, &key, &c) < 0)
		return op_failed(p);
	if ((rc = db->exists(db, st.txn, &key, 0)) == 0)
		return 0;
	if (rc != DB_NOTFOUND)
		return write_failed("members.db exists", id, type, rc);
	if (meta_next(p, "row", &row) < 0)
		return op_failed(p);
	now = (uint64_t)wk_wall_ms();
	wk_be64_put(v, row);
	wk_be64_put(v + 8, now);
	wk_be64_put(v + 16, now);
	wk_db_writes++;
	if ((rc = db->put(db, st.txn, &key, &data, 0)) != 0)
		return write_failed("members.db put", id, type, rc);
	c->count[list_index(list)]++;
	c->updated_ms = now;
	return 1;
}

int
channel_list_remove(struct wk_proc *p, const char *id, uint8_t type, enum channel_list list,
    const char *uid)
{
	DB *db = p->db[CHANNEL_DB_MEMBERS];
	uint8_t k[ENTRY_KEY_MAX];
	struct chan *c;
	DBT key;
	int rc;

	if ((rc = entry_locate(p, id, type, list, uid, 0, k, &key, &c)) <= 0)
		return rc < 0 ? op_failed(p) : 0;
	wk_db_writes++;
	if ((rc = db->del(db, st.txn, &key, 0)) == DB_NOTFOUND)
		return 0;
	if (rc != 0)
		return write_failed("members.db del", id, type, rc);
	c = chan_get(p, id, type, 1);
	if (c->count[list_index(list)] > 0)
		c->count[list_index(list)]--;
	c->updated_ms = (uint64_t)wk_wall_ms();
	return 1;
}

int
channel_list_clear(struct wk_proc *p, const char *id, uint8_t type, enum channel_list list)
{
	uint8_t prefix[NUM_SIZE + 1];
	struct chan *c = chan_get(p, id, type, 0);

	if (c == NULL)
		return op_failed(p);
	if (c->num == 0 || c->count[list_index(list)] == 0)
		return 0;
	wk_be64_put(prefix, c->num);
	prefix[NUM_SIZE] = (uint8_t)list;
	if (prefix_delete(p, CHANNEL_DB_MEMBERS, prefix, sizeof prefix) < 0)
		return op_failed(p);
	c = chan_get(p, id, type, 1);
	c->count[list_index(list)] = 0;
	c->updated_ms = (uint64_t)wk_wall_ms();
	return 0;
}

int
channel_list_has(struct wk_proc *p, const char *id, uint8_t type, enum channel_list list,
    const char *uid)
{
	DB *db = p->db[CHANNEL_DB_MEMBERS];
	uint8_t k[ENTRY_KEY_MAX];
	struct chan *c;
	DBT key;
	int rc;

	if ((rc = entry_locate(p, id, type, list, uid, 0, k, &key, &c)) <= 0)
		return rc;
	if (c->count[list_index(list)] == 0)
		return 0;
	if ((rc = db->exists(db, st.txn, &key, 0)) == 0 || rc == DB_NOTFOUND)
		return rc == 0;
	wk_log_warnx("channel %s/%u: members.db exists: %s", id, type, db_strerror(rc));
	return -1;
}

long
channel_list_count(struct wk_proc *p, const char *id, uint8_t type, enum channel_list list)
{
	struct chan *c = chan_get(p, id, type, 0);

	if (c == NULL)
		return -1;
	return c->num ? (long)c->count[list_index(list)] : 0;
}

int
channel_list_foreach(struct wk_proc *p, const char *id, uint8_t type, enum channel_list list,
    channel_entry_fn *fn, void *arg)
{
	uint8_t prefix[NUM_SIZE + 1];
	char uid[CHANNEL_ID_MAX + 1];
	struct channel_entry e;
	struct chan *c = chan_get(p, id, type, 0);
	DBT key = { .data = prefix, .size = sizeof prefix }, data = { 0 };
	DBC *cur;
	int rc, ret = 0;

	if (c == NULL)
		return -1;
	if (c->num == 0 || c->count[list_index(list)] == 0)
		return 0;
	if ((cur = cursor_open(p, CHANNEL_DB_MEMBERS)) == NULL)
		return -1;
	wk_be64_put(prefix, c->num);
	prefix[NUM_SIZE] = (uint8_t)list;
	for (rc = cur->get(cur, &key, &data, DB_SET_RANGE); rc == 0;
	    rc = cur->get(cur, &key, &data, DB_NEXT)) {
		if (key.size < sizeof prefix || key.size > ENTRY_KEY_MAX ||
		    memcmp(key.data, prefix, sizeof prefix) != 0)
			break;
		e.len = key.size - sizeof prefix;
		memcpy(uid, (uint8_t *)key.data + sizeof prefix, e.len);
		uid[e.len] = '\0';
		e.uid = uid;
		e.id = data.size == 24 ? wk_be64_get(data.data) : 0;
		e.created_ms = data.size == 24 ? wk_be64_get((uint8_t *)data.data + 8) : 0;
		e.updated_ms = data.size == 24 ? wk_be64_get((uint8_t *)data.data + 16) : 0;
		if ((ret = fn(&e, arg)) != 0)
			break;
	}
	cur->close(cur);
	if (ret == 0 && rc != 0 && rc != DB_NOTFOUND) {
		wk_log_warnx("channel %s/%u: members.db walk: %s", id, type, db_strerror(rc));
		return -1;
	}
	return ret;
}

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

static int
member_walk_one(const struct channel_entry *e, void *arg)
{
	struct member_walk *w = arg;

	return w->fn(e->uid, e->len, w->arg);
}

int
channel_members_foreach(struct wk_proc *p, const char *id, uint8_t type,
    int (*fn)(const char *uid, size_t len, void *arg), void *arg)
{
	struct member_walk w = { fn, arg };

	return channel_list_foreach(p, id, type, CHANNEL_MEMBERS, member_walk_one, &w);
}

/* ---- the message log ---- */

static void
put_cstr(struct wk_wbuf *b, const char *s, size_t n)
{
	wk_put_u16(b, (uint16_t)n);
	wk_put_mem(b, s, n);
	wk_put_u8(b, 0);
}

/* A u16-length, NUL-terminated string of a stored message. */
static const char *
get_cstr(struct wk_rbuf *r, size_t *n)
{
	const char *s = wk_get_strv(r, n);

	if (wk_get_u8(r) != 0)
		r->err = 1;
	return r->err ? "" : s;
}

static int
msg_decode(struct channel_msg *m, uint32_t seq, const void *p, size_t len)
{
	struct wk_rbuf r;

	memset(m, 0, sizeof *m);
	wk_rbuf_init(&r, p, len);
	if (wk_get_u8(&r) != MSG_VERSION)
		return -1;
	m->seq = seq;
	m->message_id = (int64_t)wk_get_u64(&r);
	m->timestamp = (int32_t)wk_get_u32(&r);
	m->flags = wk_get_u8(&r);
	m->setting = wk_get_u8(&r);
	m->expire = wk_get_u32(&r);
	m->from_uid = get_cstr(&r, &m->from_uid_len);
	m->client_msg_no = get_cstr(&r, &m->client_msg_no_len);
	m->topic = get_cstr(&r, &m->topic_len);
	m->stream_no = get_cstr(&r, &m->stream_no_len);
	m->payload = wk_get_blob(&r, &m->payload_len);
	return wk_rbuf_done(&r);
}

/* clientmsgno.db key: u64 num, u16 n, client_msg_no, then from_uid if any. */
static void
cmn_key(struct wk_wbuf *k, uint64_t num, const char *cmn, size_t n, const char *from,
    size_t from_len)
{
	uint8_t b[NUM_SIZE];

	wk_wbuf_init(k);
	wk_be64_put(b, num);
	wk_put_mem(k, b, NUM_SIZE);
	wk_put_strn(k, cmn, n);
	wk_put_mem(k, from, from_len);
}

/* senders.db key: u64 num, uid. */
static size_t
sender_key(uint8_t *k, uint64_t num, const char *uid, size_t len)
{
	wk_be64_put(k, num);
	memcpy(k + NUM_SIZE, uid, len);
	return NUM_SIZE + len;
}

static int
sender_put(struct wk_proc *p, uint64_t num, const char *uid, size_t len, uint32_t seq)
{
	uint8_t k[NUM_SIZE + CHANNEL_ID_MAX], v[4];

	if (len > CHANNEL_ID_MAX)
		return 0;   /* longer than any stored uid: no conversation to keep right */
	wk_be32_put(v, seq);
	return wk_db_put(p->db[CHANNEL_DB_SENDERS], st.txn, k, sender_key(k, num, uid, len), v, 4);
}

int
channel_msg_last_sent(struct wk_proc *p, const char *id, uint8_t type, const char *uid,
    uint32_t *seq)
{
	struct chan *c = chan_get(p, id, type, 0);
	uint8_t k[NUM_SIZE + CHANNEL_ID_MAX], *v = NULL;
	size_t len = strlen(uid), n = 0;
	int rc;

	*seq = 0;
	if (c == NULL)
		return -1;
	if (c->num == 0 || len > CHANNEL_ID_MAX)
		return 0;
	rc = wk_db_get(p->db[CHANNEL_DB_SENDERS], st.txn, k, sender_key(k, c->num, uid, len), &v, &n);
	if (rc == 1 && n == 4)
		*seq = wk_be32_get(v);
	free(v);
	return rc < 0 ? -1 : 0;
}

int
channel_msg_append(struct wk_proc *p, const char *id, uint8_t type, struct channel_msg *m)
{
	DB *db = p->db[CHANNEL_DB_MESSAGES], *idx = p->db[CHANNEL_DB_CLIENTMSGNO];
	uint8_t k[NUM_SIZE + 4], iv[12];
	struct wk_wbuf v, ik;
	struct chan *c;
	uint32_t seq;
	int rc;

	if (m->from_uid_len > 0xffff || m->client_msg_no_len > 0xffff || m->topic_len > 0xffff ||
	    m->stream_no_len > 0xffff || m->payload_len > UINT32_MAX) {
		wk_log_warnx("channel %s/%u: message field too long", id, type);
		return op_failed(p);
	}
	if ((c = chan_get(p, id, type, 1)) == NULL)
		return op_failed(p);
	if (c->last_seq == UINT32_MAX) {
		wk_log_warnx("channel %s/%u: seq exhausted", id, type);
		return op_failed(p);
	}
	seq = c->last_seq + 1;
	wk_be64_put(k, c->num);
	wk_be32_put(k + NUM_SIZE, seq);
	wk_wbuf_init(&v);
	wk_put_u8(&v, MSG_VERSION);
	wk_put_u64(&v, (uint64_t)m->message_id);
	wk_put_u32(&v, (uint32_t)m->timestamp);
	wk_put_u8(&v, m->flags);
	wk_put_u8(&v, m->setting);
	wk_put_u32(&v, m->expire);
	put_cstr(&v, m->from_uid, m->from_uid_len);
	put_cstr(&v, m->client_msg_no, m->client_msg_no_len);
	put_cstr(&v, m->topic, m->topic_len);
	put_cstr(&v, m->stream_no, m->stream_no_len);
	wk_put_blob(&v, m->payload, m->payload_len);
	DBT key = { .data = k, .size = sizeof k };
	DBT data = { .data = v.p, .size = (u_int32_t)v.len };
	wk_db_writes++;
	rc = db->put(db, st.txn, &key, &data, 0);
	wk_wbuf_free(&v);
	if (rc != 0)
		return write_failed("messages.db put", id, type, rc);
	if (m->client_msg_no_len > 0) {
		cmn_key(&ik, c->num, m->client_msg_no, m->client_msg_no_len, m->from_uid,
		    m->from_uid_len);
		wk_be64_put(iv, (uint64_t)m->message_id);
		wk_be32_put(iv + 8, seq);
		DBT ikey = { .data = ik.p, .size = (u_int32_t)ik.len };
		DBT idata = { .data = iv, .size = sizeof iv };
		wk_db_writes++;
		rc = idx->put(idx, st.txn, &ikey, &idata, 0);
		wk_wbuf_free(&ik);
		if (rc != 0)
			return write_failed("clientmsgno.db put", id, type, rc);
	}
	if (m->from_uid_len > 0 && sender_put(p, c->num, m->from_uid, m->from_uid_len, seq) < 0)
		return op_failed(p);
	c->last_seq = seq;
	m->seq = seq;
	return 0;
}

int
channel_msg_get(struct wk_proc *p, const char *id, uint8_t type, uint32_t seq,
    struct channel_msg *m, struct wk_wbuf *buf)
{
	DB *db = p->db[CHANNEL_DB_MESSAGES];
	struct chan *c = chan_get(p, id, type, 0);
	uint8_t k[NUM_SIZE + 4];
	int rc;

	memset(m, 0, sizeof *m);
	if (c == NULL)
		return -1;
	if (c->num == 0 || seq == 0 || seq > c->last_seq)
		return 0;
	wk_be64_put(k, c->num);
	wk_be32_put(k + NUM_SIZE, seq);
	DBT key = { .data = k, .size = sizeof k };
	DBT data = { .data = buf->p, .flags = DB_DBT_REALLOC };
	rc = db->get(db, st.txn, &key, &data, 0);
	buf->p = data.data;
	if (data.size > buf->cap)
		buf->cap = data.size;
	if (rc == DB_NOTFOUND)
		return 0;
	buf->len = data.size;
	if (rc == 0 && msg_decode(m, seq, buf->p, buf->len) == 0)
		return 1;
	wk_log_warnx("channel %s/%u: message %u: %s", id, type, seq,
	    rc ? db_strerror(rc) : "bad record");
	return -1;
}

long
channel_msg_range(struct wk_proc *p, const char *id, uint8_t type, uint32_t lo,
    uint32_t hi, uint32_t limit, int reverse, channel_msg_fn *fn, void *arg)
{
	struct chan *c = chan_get(p, id, type, 0);
	uint8_t k[NUM_SIZE + 4];
	DBT key = { .data = k, .size = sizeof k }, data = { 0 };
	struct channel_msg m;
	long n = 0;
	uint32_t seq;
	DBC *cur;
	int rc;

	if (c == NULL)
		return -1;
	if (hi == 0 || hi > c->last_seq)
		hi = c->last_seq;
	if (c->num == 0 || lo > hi)
		return 0;
	if ((cur = cursor_open(p, CHANNEL_DB_MESSAGES)) == NULL)
		return -1;
	wk_be64_put(k, c->num);
	wk_be32_put(k + NUM_SIZE, reverse ? hi : lo);
	/* Reverse: the first key at or after hi, then step back unless it is hi. */
	rc = cur->get(cur, &key, &data, DB_SET_RANGE);
	if (reverse) {
		if (rc == DB_NOTFOUND)
			rc = cur->get(cur, &key, &data, DB_LAST);
		else if (rc == 0 && (key.size != sizeof k || memcmp(key.data, k, NUM_SIZE) != 0 ||
		    wk_be32_get((uint8_t *)key.data + NUM_SIZE) > hi))
			rc = cur->get(cur, &key, &data, DB_PREV);
	}
	for (; rc == 0; rc = cur->get(cur, &key, &data, reverse ? DB_PREV : DB_NEXT)) {
		if (key.size != sizeof k || memcmp(key.data, k, NUM_SIZE) != 0)
			break;
		seq = wk_be32_get((uint8_t *)key.data + NUM_SIZE);
		if (seq < lo || seq > hi)
			break;
		if (msg_decode(&m, seq, data.data, data.size) < 0) {
			wk_log_warnx("channel %s/%u: message %u: bad record", id, type, seq);
			n = -1;
			break;
		}
		n++;
		if (fn(&m, arg) != 0 || (limit && (uint32_t)n >= limit))
			break;
	}
	cur->close(cur);
	if (n >= 0 && rc != 0 && rc != DB_NOTFOUND) {
		wk_log_warnx("channel %s/%u: messages.db walk: %s", id, type, db_strerror(rc));
		return -1;
	}
	return n;
}

int
channel_msg_find_client_msg_no(struct wk_proc *p, const char *id, uint8_t type,
    const char *from_uid, const char *client_msg_no, int64_t *message_id, uint32_t *seq)
{
	struct chan *c = chan_get(p, id, type, 0);
	size_t n = strlen(client_msg_no), plen;
	struct wk_wbuf k;
	DBT key = { 0 }, data = { 0 };
	DBC *cur;
	int rc, found = 0;

	if (c == NULL)
		return -1;
	if (c->num == 0 || n == 0 || n > 0xffff)
		return 0;
	cmn_key(&k, c->num, client_msg_no, n, from_uid, from_uid ? strlen(from_uid) : 0);
	plen = NUM_SIZE + 2 + n;
	if ((cur = cursor_open(p, CHANNEL_DB_CLIENTMSGNO)) == NULL) {
		wk_wbuf_free(&k);
		return -1;
	}
	/* With a sender: the one key.  Without: every sender's, keep the newest. */
	key.data = k.p;
	key.size = (u_int32_t)k.len;
	for (rc = cur->get(cur, &key, &data, from_uid ? DB_SET : DB_SET_RANGE); rc == 0;
	    rc = from_uid ? DB_NOTFOUND : cur->get(cur, &key, &data, DB_NEXT)) {
		if (key.size < plen || memcmp(key.data, k.p, plen) != 0)
			break;
		if (data.size != 12)
			continue;
		if (!found || wk_be32_get((uint8_t *)data.data + 8) > *seq) {
			*message_id = (int64_t)wk_be64_get(data.data);
			*seq = wk_be32_get((uint8_t *)data.data + 8);
		}
		found = 1;
	}
	cur->close(cur);
	wk_wbuf_free(&k);
	if (rc != 0 && rc != DB_NOTFOUND) {
		wk_log_warnx("channel %s/%u: clientmsgno.db: %s", id, type, db_strerror(rc));
		return -1;
	}
	return found;
}
