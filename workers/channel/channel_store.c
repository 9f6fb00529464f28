/* channel_store.c - a channel shard's storage (wk-channel(8)): the
 * group-commit transaction, the cache of channel records, the low-level
 * access the other store files share (channel_store.h), and the channel
 * records themselves.  Members and lists are in channel_list.c, the
 * message log in channel_log.c.
 *
 * The btrees in the shard's transactional environment (channel.h lists
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
 * Record: u8 version 2, u64 num, u32 last_seq, u8 flags, u32 members,
 * u32 blacklist, u32 whitelist, u64 created_ms, u64 updated_ms, u32
 * first_seq (the oldest kept by retention; 0: all), u32 retention seconds,
 * u32 retention count (0xffffffff: the configured default, 0: no limit),
 * u32 the last edit version.  Version 1 (older releases) ends at
 * updated_ms and reads as all kept, default retention, no edits.
 * Message: u8 version 1, u64 message_id, u32 timestamp, u8 flags,
 * u8 setting, u32 expire, then from_uid, client_msg_no, topic, stream_no
 * each as u16 length, bytes, NUL; then u32 length and the payload.
 *
 * Every read and write goes through the one open transaction (channel_txn:
 * the process's group commit p->txn, wk_txn.h), committed once per loop
 * iteration.  Channel records are cached: a write changes the cached copy
 * and marks it dirty; the dirty records are written into the transaction
 * just before it commits (wk_txn's prepare hook), once per iteration
 * however many changes were made.  An append alone does not write the
 * record: the messages.db row it writes is the record of the new last
 * seq, and a read of the record from channels.db takes the larger of its
 * last_seq and the channel's highest seq in messages.db (one cursor step,
 * on the page a read of the newest messages touches anyway).  At moderate
 * load, where a commit holds one message per channel, that is one B-tree
 * put less per message.  Whatever deletes messages writes the record in
 * the same transaction, so its last_seq is never below a seq that was
 * deleted: seqs are never given twice.  After an abort the dirty entries
 * are dropped, so the next read loads the committed record again.  A
 * failed write "poisons" the transaction: it may hold half of an
 * operation, so channel_commit aborts it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "channel_store.h"
#include "wk_alloc.h"
#include "wk_map.h"
#include "wk_buf.h"
#include "wk_db.h"
#include "wk_log.h"
#include "wk_time.h"
#include "wk_txn.h"

const char *const channel_databases[CHANNEL_DB_COUNT + 1] = {
	"channels.db", "members.db", "messages.db", "clientmsgno.db", "meta.db", "senders.db",
	"cmdout.db", "streams.db", NULL,
};

/* messages.db and clientmsgno.db take every message in the middle of the
 * tree (keys begin with the channel), where Berkeley DB splits a full page
 * in halves and logs the whole page: 16 KB pages split a quarter as often
 * as 4 KB ones, which cut the shard's CPU per message at depth 64 by ~20 %
 * (bench/README.md).  Created so; a data directory made before keeps its
 * 4 KB pages.  The others stay at the default. */
const uint32_t channel_db_pagesize[CHANNEL_DB_COUNT] = {
	[CHANNEL_DB_MESSAGES] = 16384, [CHANNEL_DB_CLIENTMSGNO] = 16384,
};

#define RECORD_SIZE CHANNEL_RECORD_SIZE_V2
/* Bound on the record cache: past CACHE_MAX entries it is emptied at the
 * end of a transaction (never inside one, when dirty entries are in use). */
#define CACHE_MAX 65536               /* cached records before the cache is emptied */

enum {                                /* record flag bits */
	F_BAN = 0x01, F_DISBAND = 0x02, F_SEND_BAN = 0x04, F_LARGE = 0x08,
	F_ALLOW_STRANGER = 0x10,
};

/* The store's state; one shard is one thread, so no locking.  Ownership:
 * the cache owns its records; `dirty` links some of them (dirty_next) and
 * owns nothing. */
static struct {
	struct wk_txn *t;             /* p->txn, the group commit (wk_txn.h) */
	DB_TXN *txn;                  /* its open transaction, as channel_txn returned it */
	struct wk_map cache;          /* hkey -> struct channel_rec */
	struct channel_rec *dirty;           /* records changed in txn */
	struct channel_rec *last;     /* the record found last (chan_free forgets it) */
} st;


/* The cache's destructor: a record and its "type/id" key. */
static void
chan_free(void *item)
{
	struct channel_rec *c = item;

	if (c) {
		if (st.last == c)
			st.last = NULL;
		channel_senders_drop(c);
		free(c->newest);
		free(c->hkey);
		free(c);
	}
}

/* ---- the transaction: wrappers over p->txn (wk_txn.h) ---- */

/* The iteration's open transaction, begun on first use; NULL if the
 * environment cannot begin one.  Every store access starts here. */
DB_TXN *
channel_txn(struct wk_proc *p)
{
	return st.txn = wk_txn_get(p->txn);
}

/* Whether a transaction is open now (something to commit this iteration). */
int
channel_txn_open(void)
{
	return st.t && wk_txn_is_open(st.t);
}

/* Poison the open transaction: it aborts instead of committing. */
void
channel_txn_fail(struct wk_proc *p)
{
	wk_txn_fail(p->txn);
}

/* Run fn(arg, rc) once the open transaction has committed or aborted: the
 * acknowledgements and fan-out of work written in it wait for durability. */
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
	struct channel_rec *c, *next;

	st.txn = NULL;
	for (c = st.dirty; c; c = next) {
		next = c->dirty_next;
		c->dirty = c->write = 0;
		c->dirty_next = NULL;
		channel_senders_drop(c);
		if (rc < 0)
			chan_free(wk_map_del(&st.cache, c->hkey, strlen(c->hkey)));
		else if (c->last_seq != c->pub_seq)
			channel_lastmsg_publish(c);   /* before the acks: after-commit work runs next */
	}
	st.dirty = NULL;
	channel_mcache_ended(rc);
	if (rc < 0)
		channel_sendcache_clear();
	if (wk_map_size(&st.cache) > CACHE_MAX)
		wk_map_clear(&st.cache, chan_free);
}

/* The fixed-size channels.db value of c (layout in the header comment). */
void
channel_record_encode(const struct channel_rec *c, uint8_t out[RECORD_SIZE])
{
	uint8_t *b = out;

	*b++ = 2;
	wk_be64_put(b, c->num), b += 8;
	wk_be32_put(b, c->last_seq), b += 4;
	*b++ = c->flags;
	for (int i = 0; i < CHANNEL_L_COUNT; i++)
		wk_be32_put(b, c->count[i]), b += 4;
	wk_be64_put(b, c->created_ms), b += 8;
	wk_be64_put(b, c->updated_ms), b += 8;
	wk_be32_put(b, c->first_seq), b += 4;
	wk_be32_put(b, c->ret_secs), b += 4;
	wk_be32_put(b, c->ret_count), b += 4;
	wk_be32_put(b, c->extra_version);
}

/* Read a channels.db value of version 1 or 2 into c. */
int
channel_record_decode(struct channel_rec *c, const uint8_t *b, size_t len)
{
	if (len < 1 || !((b[0] == 1 && len == CHANNEL_RECORD_SIZE_V1) ||
	    (b[0] == 2 && len == CHANNEL_RECORD_SIZE_V2)))
		return -1;
	b++;
	c->num = wk_be64_get(b), b += 8;
	c->last_seq = wk_be32_get(b), b += 4;
	c->flags = *b++;
	for (int i = 0; i < CHANNEL_L_COUNT; i++)
		c->count[i] = wk_be32_get(b), b += 4;
	c->created_ms = wk_be64_get(b), b += 8;
	c->updated_ms = wk_be64_get(b), b += 8;
	c->first_seq = 0;
	c->ret_secs = c->ret_count = CHANNEL_RETENTION_DEFAULT;
	c->extra_version = 0;
	if (len == CHANNEL_RECORD_SIZE_V1)
		return 0;
	c->first_seq = wk_be32_get(b), b += 4;
	c->ret_secs = wk_be32_get(b), b += 4;
	c->ret_count = wk_be32_get(b), b += 4;
	c->extra_version = wk_be32_get(b);
	if (c->first_seq > c->last_seq + 1 && c->last_seq != UINT32_MAX)
		return -1;
	return 0;
}

/* The channels.db key of c: u8 type, id. */
static size_t
record_key(const struct channel_rec *c, uint8_t *out)
{
	size_t n = strlen(c->id);

	out[0] = c->type;
	memcpy(out + 1, c->id, n);
	return n + 1;
}

/* Just before the commit: write the dirty records into it, and their
 * senders' last seqs: 0, -1. */
static int
flush_records(struct wk_proc *p, DB_TXN *txn)
{
	uint8_t k[CHANNEL_ID_MAX + 1], v[RECORD_SIZE];
	DB *db = p->db[CHANNEL_DB_CHANNELS];
	int rc;

	for (struct channel_rec *c = st.dirty; c; c = c->dirty_next) {
		if (c->write) {
			DBT key = { .data = k, .size = (u_int32_t)record_key(c, k) };
			DBT data = { .data = v, .size = RECORD_SIZE };

			channel_record_encode(c, v);
			wk_db_writes++;
			if ((rc = db->put(db, txn, &key, &data, 0)) != 0) {
				wk_log_warnx("channel %s/%u: put record: %s", c->id, c->type,
				    db_strerror(rc));
				return -1;
			}
		}
		if (channel_senders_flush(p, txn, c) < 0) {
			wk_log_warnx("channel %s/%u: put senders", c->id, c->type);
			return -1;
		}
	}
	return 0;
}

/* Commit the iteration's transaction (flush_records, then txn_ended). */
int
channel_commit(struct wk_proc *p)
{
	return wk_txn_commit(p->txn);
}

/* Abort it; the cached dirty records are dropped by txn_ended. */
void
channel_abort(struct wk_proc *p)
{
	wk_txn_abort(p->txn);
}

/* After the databases are open: hook the record flush and the end of each
 * transaction into the shard's group commit. */
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
	return 0;
}

/* At stop: whatever is uncommitted is aborted (nothing was acknowledged
 * for it), and the cache freed. */
void
channel_store_close(struct wk_proc *p)
{
	channel_abort(p);
	st.t = NULL;
	wk_map_free(&st.cache, chan_free);
}

/* ---- low-level access, all inside the transaction ---- */

/* A failed write: log it and poison the transaction; returns -1. */
int
channel_store_write_failed(const char *what, const char *id, uint8_t type, int rc)
{
	wk_log_warnx("channel %s/%u: %s: %s", id, type, what, db_strerror(rc));
	wk_txn_fail(st.t);
	return -1;
}

/* A write operation failed before it was done (the caller may have done
 * part of something with it): the transaction, begun now if need be so
 * that the caller's after-commit work sees the failure, must not commit; -1. */
int
channel_store_op_failed(struct wk_proc *p)
{
	if (channel_txn(p) != NULL)
		wk_txn_fail(p->txn);
	return -1;
}

/* The next value of meta counter `name` (starting at 1): 0, -1. */
int
channel_store_meta_next(struct wk_proc *p, const char *name, uint64_t *out)
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
		return channel_store_write_failed("meta.db put", name, 0, rc);
	return 0;
}

void
channel_rec_newest_set(struct channel_rec *c, uint32_t seq, const void *v, size_t n)
{
	c->newest_len = c->newest_seq = 0;
	if (v == NULL || n > CHANNEL_NEWEST_MAX) {
		wk_free(&c->newest);
		c->newest_cap = 0;
		return;
	}
	if (n > c->newest_cap || c->newest == NULL) {
		c->newest = wk_realloc(c->newest, n ? n : 1);
		c->newest_cap = (uint32_t)(n ? n : 1);
	}
	memcpy(c->newest, v, n);
	c->newest_len = (uint32_t)n;
	c->newest_seq = seq;
}

/* The record c just read from channels.db: its last_seq is the larger of
 * the stored one and the highest seq in messages.db (appends do not
 * rewrite the record).  0, or -1 on a storage error. */
static int
last_seq_found(struct wk_proc *p, struct channel_rec *c)
{
	uint32_t seq;
	int rc;

	if (c->num == 0)
		return 0;
	if ((rc = channel_msg_last_stored(p, c->num, &seq)) < 0)
		return -1;
	if (rc == 1 && seq > c->last_seq)
		c->last_seq = seq;
	return 0;
}

/* The cached record of (id, type), loading it; with CHANNEL_REC_WRITE or
 * CHANNEL_REC_APPEND a missing channel is created (channel_store.h says
 * which writes the record).  NULL on error. */
struct channel_rec *
channel_rec_get(struct wk_proc *p, const char *id, uint8_t type, int create)
{
	uint8_t k[CHANNEL_ID_MAX + 1], v[RECORD_SIZE];
	DB *db = p->db[CHANNEL_DB_CHANNELS];
	size_t idlen = strlen(id), tl;
	char tbuf[4], look[3 + 1 + CHANNEL_ID_MAX + 1], *hkey;
	struct channel_rec *c;
	int rc, new_num = 0;

	if (idlen > CHANNEL_ID_MAX) {
		wk_log_warnx("channel id of %zu bytes refused", idlen);
		return NULL;
	}
	if (channel_txn(p) == NULL)
		return NULL;
	/* The same channel as the last call (a conversation of a sync asks
	 * for its record four times): no hashing. */
	if ((c = st.last) != NULL && c->type == type && strcmp(c->id, id) == 0)
		goto found;
	/* "type/id", built on the stack, copied only when a record is added. */
	tl = (size_t)(type >= 100 ? 3 : type >= 10 ? 2 : 1);
	for (size_t i = tl, t = type; i > 0; i--, t /= 10)
		tbuf[i - 1] = (char)('0' + t % 10);
	memcpy(look, tbuf, tl);
	look[tl] = '/';
	memcpy(look + tl + 1, id, idlen + 1);
	if ((c = wk_map_get(&st.cache, look, tl + 1 + idlen)) == NULL) {
		hkey = wk_strdup(look);
		c = wk_calloc(1, sizeof *c);
		c->hkey = hkey;
		c->id = strchr(hkey, '/') + 1;
		c->type = type;
		c->ret_secs = c->ret_count = CHANNEL_RETENTION_DEFAULT;
		DBT key = { .data = k, .size = (u_int32_t)record_key(c, k) };
		DBT data = { .data = v, .ulen = sizeof v, .flags = DB_DBT_USERMEM };
		rc = db->get(db, st.txn, &key, &data, 0);
		if ((rc != 0 && rc != DB_NOTFOUND) || (rc == 0 && channel_record_decode(c, v, data.size) < 0)) {
			wk_log_warnx("channel %s/%u: get record: %s", id, type,
			    rc ? db_strerror(rc) : "bad record");
			chan_free(c);
			return NULL;
		}
		if (rc == 0 && last_seq_found(p, c) < 0) {
			chan_free(c);
			return NULL;
		}
		c->pub_seq = c->last_seq;   /* the table has it (rebuilt at start) */
		wk_map_set(&st.cache, look, tl + 1 + idlen, c);
	}
	st.last = c;
found:
	if (c->num == 0 && create) {
		if (channel_store_meta_next(p, "num", &c->num) < 0) {
			c->num = 0;
			return NULL;
		}
		c->created_ms = c->updated_ms = (uint64_t)wk_wall_ms();
		new_num = 1;
	}
	if (create && !c->dirty) {
		c->dirty = 1;
		c->dirty_next = st.dirty;
		st.dirty = c;
	}
	if (create == CHANNEL_REC_WRITE || new_num)
		c->write = 1;
	return c;
}

/* Walk every channel record of the shard (at start the last-message
 * table is rebuilt from it); fn returns 1 to stop. */
int
channel_store_records(struct wk_proc *p, channel_rec_fn *fn, void *arg)
{
	DBC *cur = channel_store_cursor(p, CHANNEL_DB_CHANNELS);
	DBT key = { 0 }, data = { 0 };
	struct channel_rec c;
	char id[CHANNEL_ID_MAX + 1];
	int rc, stop = 0;

	if (cur == NULL)
		return -1;
	while (!stop && (rc = wk_db_cget(cur, &key, &data, DB_NEXT)) == 0) {
		if (key.size < 1 || key.size > CHANNEL_ID_MAX + 1 ||
		    channel_record_decode(&c, data.data, data.size) < 0)
			continue;
		memcpy(id, (const char *)key.data + 1, key.size - 1);
		id[key.size - 1] = '\0';
		if (last_seq_found(p, &c) < 0) {
			rc = EIO;
			break;
		}
		stop = fn(p, id, ((const uint8_t *)key.data)[0], c.num, c.last_seq, arg);
	}
	cur->close(cur);
	wk_db_dbt_free(&key, &data);
	if (!stop && rc != DB_NOTFOUND) {
		wk_log_warnx("channels.db walk: %s", db_strerror(rc));
		return -1;
	}
	return 0;
}

/* Open a cursor on database i inside the transaction; NULL on error. */
DBC *
channel_store_cursor(struct wk_proc *p, int i)
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
int
channel_store_prefix_delete(struct wk_proc *p, int i, const uint8_t *prefix, size_t n)
{
	DBC *cur = channel_store_cursor(p, i);
	DBT key = { .data = (void *)prefix, .size = (u_int32_t)n };
	DBT data = { .flags = DB_DBT_PARTIAL };   /* keys only */
	int rc;

	if (cur == NULL)
		return -1;
	for (rc = wk_db_cget(cur, &key, &data, DB_SET_RANGE); rc == 0;
	    rc = wk_db_cget(cur, &key, &data, DB_NEXT)) {
		if (key.size < n || memcmp(key.data, prefix, n) != 0)
			break;
		wk_db_writes++;
		if ((rc = cur->del(cur, 0)) != 0)
			break;
	}
	cur->close(cur);
	wk_db_dbt_free(&key, &data);
	if (rc != 0 && rc != DB_NOTFOUND)
		return channel_store_write_failed("delete", channel_databases[i], 0, rc);
	return 0;
}

/* ---- channel records ---- */

/* The public view of a record; a channel never created reads as zeros. */
static void
info_fill(struct channel_info *info, const char *id, uint8_t type, const struct channel_rec *c)
{
	size_t n = strnlen(id, sizeof info->id - 1);

	/* Not snprintf: a sync reads a record per conversation. */
	memset(info, 0, sizeof *info);
	memcpy(info->id, id, n);
	info->type = type;
	if (c == NULL || c->num == 0)
		return;
	info->ban = (c->flags & F_BAN) != 0;
	info->disband = (c->flags & F_DISBAND) != 0;
	info->send_ban = (c->flags & F_SEND_BAN) != 0;
	info->large = (c->flags & F_LARGE) != 0;
	info->allow_stranger = (c->flags & F_ALLOW_STRANGER) != 0;
	info->last_seq = c->last_seq;
	info->nmembers = c->count[CHANNEL_L_MEMBERS];
	info->nblacklist = c->count[CHANNEL_L_BLACKLIST];
	info->nwhitelist = c->count[CHANNEL_L_WHITELIST];
	info->created_ms = c->created_ms;
	info->updated_ms = c->updated_ms;
}

/* Read a channel's record: 1 if it exists, 0 if not, -1 on error. */
int
channel_get(struct wk_proc *p, const char *id, uint8_t type, struct channel_info *info)
{
	struct channel_rec *c = channel_rec_get(p, id, type, 0);

	info_fill(info, id, type, c);
	if (c == NULL)
		return -1;
	return c->num != 0;
}

/* Create or update a channel's flags (POST /channel, /channel/info). */
int
channel_put(struct wk_proc *p, const struct channel_info *info)
{
	struct channel_rec *c = channel_rec_get(p, info->id, info->type, 1);

	if (c == NULL)
		return channel_store_op_failed(p);
	c->flags = (info->ban ? F_BAN : 0) | (info->disband ? F_DISBAND : 0) |
	    (info->send_ban ? F_SEND_BAN : 0) | (info->large ? F_LARGE : 0) |
	    (info->allow_stranger ? F_ALLOW_STRANGER : 0);
	c->updated_ms = (uint64_t)wk_wall_ms();
	return 0;
}

/* Delete a channel's members, messages and indexes; the record stays,
 * flagged disband with zero counts, so later sends are refused as to a
 * disbanded channel.  1 if it existed, 0 if not. */
int
channel_delete(struct wk_proc *p, const char *id, uint8_t type)
{
	struct channel_rec *c = channel_rec_get(p, id, type, 0);
	uint8_t prefix[CHANNEL_NUM_SIZE];

	if (c == NULL)
		return channel_store_op_failed(p);
	if (c->num == 0)
		return 0;
	wk_be64_put(prefix, c->num);
	if (channel_store_prefix_delete(p, CHANNEL_DB_MEMBERS, prefix, CHANNEL_NUM_SIZE) < 0 ||
	    channel_store_prefix_delete(p, CHANNEL_DB_MESSAGES, prefix, CHANNEL_NUM_SIZE) < 0 ||
	    channel_store_prefix_delete(p, CHANNEL_DB_CLIENTMSGNO, prefix, CHANNEL_NUM_SIZE) < 0 ||
	    channel_store_prefix_delete(p, CHANNEL_DB_SENDERS, prefix, CHANNEL_NUM_SIZE) < 0)
		return channel_store_op_failed(p);
	channel_mcache_drop(c->num, 0);
	channel_sendcache_clear();
	channel_senders_drop(c);
	channel_rec_newest_set(c, 0, NULL, 0);
	channel_list_changed(p, id, type, CHANNEL_BLACKLIST);   /* and the whitelist */
	c = channel_rec_get(p, id, type, 1);
	c->flags |= F_DISBAND;
	memset(c->count, 0, sizeof c->count);
	c->updated_ms = (uint64_t)wk_wall_ms();
	return 1;
}
