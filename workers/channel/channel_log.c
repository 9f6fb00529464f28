/* channel_log.c - a channel's message log (wk-channel(8)): append with
 * the next seq, a message by seq, ranges of seqs either way, the newest
 * message of a client_msg_no, and the last seq each sender sent.  Keys
 * (channel_store.c has the whole map):
 *   messages.db     u64 num, u32 seq                 -> the message
 *   clientmsgno.db  u64 num, u16 n, client_msg_no[n], from_uid  -> u64 message_id, u32 seq
 *   senders.db      u64 num, from_uid                -> u32 the last seq from_uid sent
 * The message record is channel_msgrec.c's.
 * The channel's last_seq is in its record (channel_store.c), written once
 * per commit however many messages were appended; so is each sender's
 * last seq (kept in the record until then).
 */
#include <stdlib.h>
#include <string.h>
#include "channel_store.h"
#include "wk_alloc.h"
#include "wk_buf.h"
#include "wk_db.h"
#include "wk_log.h"
#include "wk_shard.h"

/* clientmsgno.db key: u64 num, u16 n, client_msg_no, then from_uid if any
 * (k emptied first). */
static void
cmn_key(struct wk_wbuf *k, uint64_t num, const char *cmn, size_t n, const char *from,
    size_t from_len)
{
	uint8_t b[CHANNEL_NUM_SIZE];

	k->len = 0;
	wk_be64_put(b, num);
	wk_put_mem(k, b, CHANNEL_NUM_SIZE);
	wk_put_strn(k, cmn, n);
	wk_put_mem(k, from, from_len);
}

/* senders.db key: u64 num, uid. */
static size_t
sender_key(uint8_t *k, uint64_t num, const char *uid, size_t len)
{
	wk_be64_put(k, num);
	memcpy(k + CHANNEL_NUM_SIZE, uid, len);
	return CHANNEL_NUM_SIZE + len;
}

/* A sender's newest seq in a channel, kept for the commit. */
struct channel_sender {
	char *uid;
	size_t len;
	uint32_t seq;
};

/* A group with more distinct senders than this in one transaction writes
 * the rest at once (a linear search stays short). */
#define SENDERS_KEPT_MAX 32

static int
senders_write(struct wk_proc *p, DB_TXN *txn, uint64_t num, const char *uid, size_t len,
    uint32_t seq)
{
	uint8_t k[CHANNEL_NUM_SIZE + CHANNEL_ID_MAX], v[4];

	wk_be32_put(v, seq);
	return wk_db_put(p->db[CHANNEL_DB_SENDERS], txn, k, sender_key(k, num, uid, len), v, 4) < 0 ?
	    -1 : 0;
}

/* c's kept entry for uid, or NULL. */
static struct channel_sender *
sender_kept(const struct channel_rec *c, const char *uid, size_t len)
{
	for (uint32_t i = 0; i < c->nsenders; i++)
		if (c->senders[i].len == len && memcmp(c->senders[i].uid, uid, len) == 0)
			return &c->senders[i];
	return NULL;
}

/* Remember seq as the last message uid sent to channel c.  senders.db is
 * written once per (channel, sender) per transaction, just before the
 * commit (channel_senders_flush): at depth 64 a sender has several
 * messages in one commit, and each was a put of its own. */
static int
sender_put(struct wk_proc *p, struct channel_rec *c, const char *uid, size_t len, uint32_t seq)
{
	struct channel_sender *s;

	if (len > CHANNEL_ID_MAX)
		return 0;   /* longer than any stored uid: no conversation to keep right */
	channel_sendcache_put(c->num, uid, len, seq);
	if ((s = sender_kept(c, uid, len)) != NULL) {
		s->seq = seq;
		return 0;
	}
	if (c->nsenders == SENDERS_KEPT_MAX)
		return senders_write(p, channel_txn(p), c->num, uid, len, seq);
	if (c->nsenders == c->senders_cap) {
		c->senders_cap = c->senders_cap ? c->senders_cap * 2 : 2;
		c->senders = wk_realloc(c->senders, c->senders_cap * sizeof *c->senders);
	}
	s = &c->senders[c->nsenders++];
	s->uid = wk_malloc(len);
	memcpy(s->uid, uid, len);
	s->len = len;
	s->seq = seq;
	return 0;
}

int
channel_senders_flush(struct wk_proc *p, DB_TXN *txn, const struct channel_rec *c)
{
	for (uint32_t i = 0; i < c->nsenders; i++)
		if (senders_write(p, txn, c->num, c->senders[i].uid, c->senders[i].len,
		    c->senders[i].seq) < 0)
			return -1;
	return 0;
}

void
channel_senders_drop(struct channel_rec *c)
{
	for (uint32_t i = 0; i < c->nsenders; i++)
		free(c->senders[i].uid);
	free(c->senders);
	c->senders = NULL;
	c->nsenders = c->senders_cap = 0;
}

/* The seq of the last message uid sent to the channel (0: none). */
int
channel_msg_last_sent(struct wk_proc *p, const char *id, uint8_t type, const char *uid,
    uint32_t *seq)
{
	struct channel_rec *c = channel_rec_get(p, id, type, 0);
	uint8_t k[CHANNEL_NUM_SIZE + CHANNEL_ID_MAX], *v = NULL;
	size_t len = strlen(uid), n = 0;
	int rc;

	*seq = 0;
	if (c == NULL)
		return -1;
	if (c->num == 0 || len > CHANNEL_ID_MAX)
		return 0;
	if (channel_sendcache_get(c->num, uid, len, seq))
		return 0;
	/* Not cached (the cache was emptied): what this transaction keeps
	 * for senders.db is newer than what senders.db has. */
	struct channel_sender *kept = sender_kept(c, uid, len);
	if (kept) {
		*seq = kept->seq;
		return 0;
	}
	rc = wk_db_get(p->db[CHANNEL_DB_SENDERS], channel_txn(p), k, sender_key(k, c->num, uid, len), &v, &n);
	if (rc == 1 && n == 4)
		*seq = wk_be32_get(v);
	free(v);
	if (rc >= 0)
		channel_sendcache_put(c->num, uid, len, *seq);
	return rc < 0 ? -1 : 0;
}

/* Append m with the channel's next seq (set in m->seq): the message, its
 * client_msg_no index row and its sender's last seq, all in the
 * iteration's transaction. The record's last_seq changes in the cache
 * only; it is written once, before the commit (channel_store.c). A failed
 * write poisons the transaction. */
/* clientmsgno.db: the entry of m at seq, written first.  With `once`,
 * only if the key is new: 1 and the entry's ids in *dup_id, *dup_seq when
 * it is there already (one search, where a lookup and then a put were
 * two).  0, or -1 after a failed write. */
static int
cmn_put(struct wk_proc *p, const struct channel_rec *c, const struct channel_msg *m,
    uint32_t seq, int once, int64_t *dup_id, uint32_t *dup_seq, const char *id, uint8_t type)
{
	DB *idx = p->db[CHANNEL_DB_CLIENTMSGNO];
	uint8_t iv[12];
	static struct wk_wbuf ik;    /* the key, its room kept from call to call */
	int rc;

	cmn_key(&ik, c->num, m->client_msg_no, m->client_msg_no_len, m->from_uid, m->from_uid_len);
	wk_be64_put(iv, (uint64_t)m->message_id);
	wk_be32_put(iv + 8, seq);
	DBT ikey = { .data = ik.p, .size = (u_int32_t)ik.len };
	DBT idata = { .data = iv, .size = sizeof iv };
	wk_db_writes++;
	rc = idx->put(idx, channel_txn(p), &ikey, &idata, once ? DB_NOOVERWRITE : 0);
	if (rc == DB_KEYEXIST) {
		uint8_t *old = NULL;
		size_t n = 0;
		rc = wk_db_get(idx, channel_txn(p), ik.p, ik.len, &old, &n);
		if (rc != 1 || n != 12) {
			free(old);
			return channel_store_write_failed("clientmsgno.db get", id, type, DB_NOTFOUND);
		}
		*dup_id = (int64_t)wk_be64_get(old);
		*dup_seq = wk_be32_get(old + 8);
		free(old);
		return 1;
	}
	if (rc != 0)
		return channel_store_write_failed("clientmsgno.db put", id, type, rc);
	return 0;
}

static int
append(struct wk_proc *p, const char *id, uint8_t type, struct channel_msg *m, int once,
    int64_t *dup_id, uint32_t *dup_seq)
{
	DB *db = p->db[CHANNEL_DB_MESSAGES];
	uint8_t k[CHANNEL_NUM_SIZE + 4];
	static struct wk_wbuf v;     /* the record, its room kept from call to call */
	struct channel_rec *c;
	uint32_t seq;
	int rc;

	if (m->from_uid_len > 0xffff || m->client_msg_no_len > 0xffff || m->topic_len > 0xffff ||
	    m->stream_no_len > 0xffff || m->payload_len > UINT32_MAX) {
		wk_log_warnx("channel %s/%u: message field too long", id, type);
		return channel_store_op_failed(p);
	}
	if ((c = channel_rec_get(p, id, type, CHANNEL_REC_APPEND)) == NULL)
		return channel_store_op_failed(p);
	/* The bound: seqs are u32 and never reused; a full channel takes
	 * no more. */
	if (c->last_seq == UINT32_MAX) {
		wk_log_warnx("channel %s/%u: seq exhausted", id, type);
		return channel_store_op_failed(p);
	}
	seq = c->last_seq + 1;
	if (m->client_msg_no_len > 0 &&
	    (rc = cmn_put(p, c, m, seq, once, dup_id, dup_seq, id, type)) != 0)
		return rc;
	wk_be64_put(k, c->num);
	wk_be32_put(k + CHANNEL_NUM_SIZE, seq);
	v.len = 0;
	channel_msg_encode(&v, m);
	DBT key = { .data = k, .size = sizeof k };
	DBT data = { .data = v.p, .size = (u_int32_t)v.len };
	wk_db_writes++;
	rc = db->put(db, channel_txn(p), &key, &data, 0);
	if (rc == 0)
		channel_rec_newest_set(c, seq, v.p, v.len);
	if (v.cap > 65536)
		wk_wbuf_free(&v);    /* a large message: its room is not kept */
	if (rc != 0)
		return channel_store_write_failed("messages.db put", id, type, rc);
	if (m->from_uid_len > 0 && sender_put(p, c, m->from_uid, m->from_uid_len, seq) < 0)
		return channel_store_op_failed(p);
	c->last_seq = seq;
	c->last_msg_id = m->message_id;
	c->last_ts = m->timestamp;
	c->last_from_hash = m->from_uid_len ? wk_shard_hash(m->from_uid, m->from_uid_len) : 0;
	m->seq = seq;
	return 0;
}

int
channel_msg_append(struct wk_proc *p, const char *id, uint8_t type, struct channel_msg *m)
{
	return append(p, id, type, m, 0, NULL, NULL);
}

int
channel_msg_append_once(struct wk_proc *p, const char *id, uint8_t type, struct channel_msg *m,
    int64_t *dup_id, uint32_t *dup_seq)
{
	return append(p, id, type, m, 1, dup_id, dup_seq);
}

/* An imported message at its own seq (m->seq), its id and timestamp kept:
 * 1 stored, 0 the same message (id) is there already, -2 another message
 * holds that seq, -1 an error (the transaction is poisoned).  A seq past
 * last_seq + 1 leaves the seqs between empty, as a source that lost them. */
int
channel_msg_put_at(struct wk_proc *p, const char *id, uint8_t type, struct channel_msg *m)
{
	struct channel_rec *c = channel_rec_get(p, id, type, 1);
	struct channel_msg old;
	struct wk_wbuf buf;
	int rc;

	if (c == NULL)
		return channel_store_op_failed(p);
	if (m->seq <= c->last_seq) {
		wk_wbuf_init(&buf);
		rc = channel_msg_get(p, id, type, m->seq, &old, &buf);
		if (rc == 1)
			rc = old.message_id == m->message_id ? 0 : -2;
		else if (rc == 0)
			rc = -2;         /* a seq left empty: not filled afterwards */
		wk_wbuf_free(&buf);
		return rc;
	}
	c->last_seq = m->seq - 1;    /* channel_msg_append takes the next */
	return channel_msg_append(p, id, type, m) < 0 ? -1 : 1;
}

/* Message seq of the channel into m (decoded from buf, which the caller
 * reuses across calls): 1, 0 if there is none, -1 on an error. */
int
channel_msg_get(struct wk_proc *p, const char *id, uint8_t type, uint32_t seq,
    struct channel_msg *m, struct wk_wbuf *buf)
{
	struct channel_rec *c = channel_rec_get(p, id, type, 0);

	memset(m, 0, sizeof *m);
	if (c == NULL)
		return -1;
	if (c->num == 0 || seq == 0 || seq > c->last_seq)
		return 0;
	return channel_msg_get_num(p, c->num, seq, m, buf);
}

int
channel_msg_last_stored(struct wk_proc *p, uint64_t num, uint32_t *seq)
{
	DBC *cur = channel_store_cursor(p, CHANNEL_DB_MESSAGES);
	uint8_t k[CHANNEL_NUM_SIZE + 4];
	DBT key = { .data = k, .size = CHANNEL_NUM_SIZE, .ulen = sizeof k, .flags = DB_DBT_USERMEM };
	DBT data = { .flags = DB_DBT_PARTIAL };   /* the key only */
	int rc;

	if (cur == NULL)
		return -1;
	/* The first key of the next channel, then one step back. */
	wk_be64_put(k, num + 1);
	rc = cur->get(cur, &key, &data, DB_SET_RANGE);
	if (rc == 0 || rc == DB_NOTFOUND)
		rc = cur->get(cur, &key, &data, rc == 0 ? DB_PREV : DB_LAST);
	cur->close(cur);
	if (rc == DB_NOTFOUND)
		return 0;
	if (rc != 0) {
		wk_log_warnx("channel #%llu: last message: %s", (unsigned long long)num, db_strerror(rc));
		return -1;
	}
	if (key.size != sizeof k || wk_be64_get(k) != num)
		return 0;
	*seq = wk_be32_get(k + CHANNEL_NUM_SIZE);
	return 1;
}

int
channel_msg_get_num(struct wk_proc *p, uint64_t num, uint32_t seq, struct channel_msg *m,
    struct wk_wbuf *buf)
{
	DB *db = p->db[CHANNEL_DB_MESSAGES];
	uint8_t k[CHANNEL_NUM_SIZE + 4];
	int rc;

	memset(m, 0, sizeof *m);
	wk_be64_put(k, num);
	wk_be32_put(k + CHANNEL_NUM_SIZE, seq);
	DBT key = { .data = k, .size = sizeof k };
	DBT data = { .data = buf->p, .flags = DB_DBT_REALLOC };
	rc = db->get(db, channel_txn(p), &key, &data, 0);
	buf->p = data.data;
	if (data.size > buf->cap)
		buf->cap = data.size;
	if (rc == DB_NOTFOUND)
		return 0;
	buf->len = data.size;
	if (rc == 0 && channel_msg_decode(m, seq, buf->p, buf->len) == 0)
		return 1;
	wk_log_warnx("channel #%llu: message %u: %s", (unsigned long long)num, seq,
	    rc ? db_strerror(rc) : "bad record");
	return -1;
}

/* Call fn for each message with lo <= seq <= hi (hi 0: the last), oldest
 * first or newest first, at most limit (0: no limit), until fn returns
 * non-zero. The number of messages, or -1. */
long
channel_msg_range(struct wk_proc *p, const char *id, uint8_t type, uint32_t lo,
    uint32_t hi, uint32_t limit, int reverse, channel_msg_fn *fn, void *arg)
{
	struct channel_rec *c = channel_rec_get(p, id, type, 0);
	uint8_t k[CHANNEL_NUM_SIZE + 4];
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
	/* The newest message alone (a sync's msg_count 1): from memory. */
	if (reverse && limit == 1 && hi == c->last_seq && c->newest && c->newest_seq == hi) {
		if (channel_msg_decode(&m, hi, c->newest, c->newest_len) < 0) {
			wk_log_warnx("channel %s/%u: message %u: bad record", id, type, hi);
			return -1;
		}
		fn(&m, arg);
		return 1;
	}
	if ((cur = channel_store_cursor(p, CHANNEL_DB_MESSAGES)) == NULL)
		return -1;
	wk_be64_put(k, c->num);
	wk_be32_put(k + CHANNEL_NUM_SIZE, reverse ? hi : lo);
	/* Reverse: the first key at or after hi, then step back unless it is hi. */
	rc = wk_db_cget(cur, &key, &data, DB_SET_RANGE);
	if (reverse) {
		if (rc == DB_NOTFOUND)
			rc = wk_db_cget(cur, &key, &data, DB_LAST);
		else if (rc == 0 && (key.size != sizeof k || memcmp(key.data, k, CHANNEL_NUM_SIZE) != 0 ||
		    wk_be32_get((uint8_t *)key.data + CHANNEL_NUM_SIZE) > hi))
			rc = wk_db_cget(cur, &key, &data, DB_PREV);
	}
	for (; rc == 0; rc = wk_db_cget(cur, &key, &data, reverse ? DB_PREV : DB_NEXT)) {
		if (key.size != sizeof k || memcmp(key.data, k, CHANNEL_NUM_SIZE) != 0)
			break;
		seq = wk_be32_get((uint8_t *)key.data + CHANNEL_NUM_SIZE);
		if (seq < lo || seq > hi)
			break;
		if (channel_msg_decode(&m, seq, data.data, data.size) < 0) {
			wk_log_warnx("channel %s/%u: message %u: bad record", id, type, seq);
			n = -1;
			break;
		}
		if (seq == c->last_seq && c->newest_seq != seq)
			channel_rec_newest_set(c, seq, data.data, data.size);
		n++;
		if (fn(&m, arg) != 0 || (limit && (uint32_t)n >= limit))
			break;
	}
	cur->close(cur);
	wk_db_dbt_free(&key, &data);
	if (n >= 0 && rc != 0 && rc != DB_NOTFOUND) {
		wk_log_warnx("channel %s/%u: messages.db walk: %s", id, type, db_strerror(rc));
		return -1;
	}
	return n;
}

/* The message_id and seq of the newest message with client_msg_no (from
 * from_uid, or from anyone when NULL): 1 found, 0 not, -1 on an error. */
int
channel_msg_find_client_msg_no(struct wk_proc *p, const char *id, uint8_t type,
    const char *from_uid, const char *client_msg_no, int64_t *message_id, uint32_t *seq)
{
	struct channel_rec *c = channel_rec_get(p, id, type, 0);
	size_t n = strlen(client_msg_no), plen;
	struct wk_wbuf k;
	DBT key = { 0 }, data = { 0 };
	DBC *cur;
	int rc, found = 0;

	if (c == NULL)
		return -1;
	if (c->num == 0 || n == 0 || n > 0xffff)
		return 0;
	wk_wbuf_init(&k);
	cmn_key(&k, c->num, client_msg_no, n, from_uid, from_uid ? strlen(from_uid) : 0);
	plen = CHANNEL_NUM_SIZE + 2 + n;
	if ((cur = channel_store_cursor(p, CHANNEL_DB_CLIENTMSGNO)) == NULL) {
		wk_wbuf_free(&k);
		return -1;
	}
	/* With a sender: the one key.  Without: every sender's, keep the newest. */
	key.data = k.p;
	key.size = (u_int32_t)k.len;
	for (rc = wk_db_cget(cur, &key, &data, from_uid ? DB_SET : DB_SET_RANGE); rc == 0;
	    rc = from_uid ? DB_NOTFOUND : wk_db_cget(cur, &key, &data, DB_NEXT)) {
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
	wk_db_dbt_free(&key, &data);
	wk_wbuf_free(&k);
	if (rc != 0 && rc != DB_NOTFOUND) {
		wk_log_warnx("channel %s/%u: clientmsgno.db: %s", id, type, db_strerror(rc));
		return -1;
	}
	return found;
}

/* The key of message seq of channel num. */
static void
msg_key(uint8_t k[CHANNEL_NUM_SIZE + 4], uint64_t num, uint32_t seq)
{
	wk_be64_put(k, num);
	wk_be32_put(k + CHANNEL_NUM_SIZE, seq);
}

/* Overwrite the stored record of key with zeros of its own length: a put
 * of the same size replaces the bytes where they are (on the page, or in
 * the overflow pages for a DB_DBT_PARTIAL put of the whole length), where
 * a smaller record would leave the tail of the old one in the page's free
 * space.  0, or a Berkeley DB error. */
static int
scrub(struct wk_proc *p, DBT *key)
{
	DB *db = p->db[CHANNEL_DB_MESSAGES];
	DBT old = { .flags = DB_DBT_MALLOC };
	void *zeros;
	int rc = db->get(db, channel_txn(p), key, &old, 0);

	if (rc != 0)
		return rc;
	free(old.data);
	zeros = wk_calloc(1, old.size ? old.size : 1);
	DBT z = { .data = zeros, .size = old.size, .dlen = old.size, .doff = 0,
	    .flags = DB_DBT_PARTIAL };
	wk_db_writes++;
	rc = db->put(db, channel_txn(p), key, &z, 0);
	free(zeros);
	return rc;
}

int
channel_msg_scrub_current(DBC *cur, size_t size)
{
	void *zeros = wk_calloc(1, size ? size : 1);
	DBT key = { 0 };
	DBT z = { .data = zeros, .size = (u_int32_t)size, .dlen = (u_int32_t)size,
	    .flags = DB_DBT_PARTIAL };
	int rc;

	wk_db_writes++;
	rc = cur->put(cur, &key, &z, DB_CURRENT);
	free(zeros);
	return rc;
}

int
channel_msg_replace(struct wk_proc *p, const char *id, uint8_t type, const struct channel_msg *m,
    int scrub_old)
{
	DB *db = p->db[CHANNEL_DB_MESSAGES];
	struct channel_rec *c = channel_rec_get(p, id, type, 0);
	uint8_t k[CHANNEL_NUM_SIZE + 4];
	struct wk_wbuf v;
	int rc;

	if (c == NULL || c->num == 0)
		return channel_store_op_failed(p);
	msg_key(k, c->num, m->seq);
	DBT key = { .data = k, .size = sizeof k };
	if (scrub_old && (rc = scrub(p, &key)) != 0)
		return channel_store_write_failed("messages.db scrub", id, type, rc);
	wk_wbuf_init(&v);
	channel_msg_encode(&v, m);
	DBT data = { .data = v.p, .size = (u_int32_t)v.len };
	wk_db_writes++;
	rc = db->put(db, channel_txn(p), &key, &data, 0);
	if (rc == 0 && c->newest_seq == m->seq)
		channel_rec_newest_set(c, m->seq, v.p, v.len);
	wk_wbuf_free(&v);
	if (rc != 0)
		return channel_store_write_failed("messages.db replace", id, type, rc);
	return 0;
}

uint32_t
channel_extra_next(struct wk_proc *p, const char *id, uint8_t type)
{
	struct channel_rec *c = channel_rec_get(p, id, type, 1);

	if (c == NULL || c->extra_version == UINT32_MAX)
		return 0;
	return ++c->extra_version;
}
