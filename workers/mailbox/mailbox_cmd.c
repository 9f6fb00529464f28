/* mailbox_cmd.c - cmd mailboxes (wk-mailbox(8)): the messages with
 * sync_once that a user has not acknowledged yet.
 *
 * Write fan-out, on purpose: a cmd message tells a client to re-fetch
 * something, so it must never be pushed out by chat traffic nor lost while
 * the user is offline.  The channel shards hand cmd messages over in
 * numbered entries (channel_cmd.c, MAILBOX_CMD), one per message and
 * mailbox shard.  An entry is applied only if it is the next one expected
 * from its channel shard; everything applied in a loop iteration is in the
 * iteration's transaction (p->txn), committed in on_iteration; only then
 * is CHANNEL_CMD_ACK sent and the message delivered to the recipients'
 * online devices (wk_fanout.h: BROKER_DELIVER, RECV with SyncOnce).  Resent entries are recognised by
 * their number and only acknowledged again.
 *
 * Mailbox sequence: one counter per shard, taken once per entry, so every
 * recipient of one message sees the same number and each user's numbers
 * increase (with gaps).  The RECV carries it as message_seq, /message/sync
 * answers it as message_seq, and /message/syncack {last_message_seq}
 * acknowledges everything up to it.  A RECVACK from the user's master
 * device (any device with token auth off), forwarded by the broker,
 * removes that one message.
 *
 * cmdbox.db:  'm' uid NUL u64 seq  -> the message (wk_chmsg; seq is the key's)
 *             'a' u16 channel shard -> u64 the last entry applied from it
 *             'c'                   -> u64 the last mailbox seq given out
 *
 * The HTTP API ops (rows MAILBOX_CMD_SYNC, MAILBOX_CMD_SYNCACK; mailbox_api.c
 * runs them):
 *   cmd.sync     the oldest `limit` messages, oldest first
 *   cmd.syncack  removes every message with seq <= last_message_seq
 */
#include <stdlib.h>
#include <string.h>
#include "mailbox.h"
#include "wk_alloc.h"
#include "wk_buf.h"
#include "wk_channelid.h"
#include "wk_chmsg.h"
#include "wk_db.h"
#include "wk_log.h"
#include "wk_time.h"
#include "wk_shard.h"
#include "wk_fanout.h"
#include "wk_txn.h"

#define KEY_MAX (1 + PRESENCE_UID_MAX + 1 + 8)

enum { KIND_CMD = 1, KIND_CONV = 2 };

/* A message applied in the open transaction, delivered after its commit. */
struct delivery {
	uint8_t *msg;                /* wk_chmsg bytes */
	size_t len;
	uint8_t *uids;               /* count x str uid (wk_buf) */
	size_t uids_len;
	uint32_t count;
	uint32_t seq;                /* the mailbox seq */
	uint16_t broker;             /* the sending connection: no RECV */
	uint64_t conn;
	struct delivery *next;
};

static struct {
	DB_TXN *txn;                 /* the iteration's transaction, once a hand-over used it */
	int committed;               /* the outcome of the last transaction */
	int loaded;
	uint64_t *applied;           /* per channel shard */
	uint8_t *ack_due;            /* per channel shard */
	int nchannel;
	uint64_t counter;
	struct delivery *head, **tail;
	uint64_t applied_n, dups, gaps, delivered, acked;
	uint64_t expired, capped;    /* dropped by the bound (cmd_bound_step) */
} mc;

/* cmdbox.db key of the last entry applied from channel shard `shard`. */
static void
applied_key(uint8_t k[3], int shard)
{
	k[0] = 'a';
	wk_be16_put(k + 1, (uint16_t)shard);
}

/* cmdbox.db key of one message: 'm', uid, NUL, big-endian seq, so a
 * cursor walks a user's mailbox oldest first. */
static size_t
msg_key(uint8_t *k, const char *uid, size_t len, uint64_t seq)
{
	k[0] = 'm';
	memcpy(k + 1, uid, len);
	k[1 + len] = '\0';
	wk_be64_put(k + 2 + len, seq);
	return 2 + len + 8;
}

/* The cursors and the counter, from cmdbox.db (inside txn). */
static int
load(struct wk_proc *p, DB_TXN *txn)
{
	DB *db = p->db[MAILBOX_DB_CMD];
	uint8_t k[3], *v = NULL;
	size_t n = 0;
	int rc;

	if (mc.applied == NULL) {
		mc.nchannel = p->cfg.processes_channel;
		mc.applied = wk_calloc((size_t)mc.nchannel, sizeof *mc.applied);
		mc.ack_due = wk_calloc((size_t)mc.nchannel, 1);
		mc.tail = &mc.head;
	}
	for (int s = 0; s < mc.nchannel; s++) {
		applied_key(k, s);
		if ((rc = wk_db_get(db, txn, k, 3, &v, &n)) < 0)
			return -1;
		mc.applied[s] = rc == 1 && n == 8 ? wk_be64_get(v) : 0;
		free(v);
		v = NULL;
	}
	if ((rc = wk_db_get(db, txn, "c", 1, &v, &n)) < 0)
		return -1;
	mc.counter = rc == 1 && n == 8 ? wk_be64_get(v) : 0;
	free(v);
	mc.loaded = 1;
	return 0;
}

/* The iteration's transaction; NULL on failure. */
static DB_TXN *
cmd_txn(struct wk_proc *p)
{
	if (mc.txn == NULL) {
		if ((mc.txn = mailbox_txn_begin(p, NULL)) == NULL)
			return NULL;
		if (!mc.loaded && load(p, mc.txn) < 0)
			wk_txn_fail(p->txn);
	}
	return mc.txn;
}

/* No write of the transaction failed (so far). */
static int
cmd_ok(struct wk_proc *p)
{
	return !wk_txn_is_failed(p->txn);
}

/* Write into the iteration's transaction; a failure poisons it (nothing of
 * the iteration is acknowledged, the channel shards send again). */
static void
put(struct wk_proc *p, const void *k, size_t klen, const void *v, size_t vlen)
{
	if (cmd_ok(p) && wk_db_put(p->db[MAILBOX_DB_CMD], mc.txn, k, klen, v, vlen) < 0)
		wk_txn_fail(p->txn);
}

/* Kind 1: the message into each named user's mailbox. */
static void
apply_cmd(struct wk_proc *p, struct wk_rbuf *r)
{
	struct delivery *d = wk_calloc(1, sizeof *d);
	uint8_t k[KEY_MAX], v[8];
	const void *msg;
	size_t ul, off;
	const char *uid;

	d->broker = wk_get_u16(r);
	d->conn = wk_get_u64(r);
	msg = wk_get_blob(r, &d->len);
	d->count = wk_get_u32(r);
	off = r->off;
	d->seq = (uint32_t)++mc.counter;
	wk_be64_put(v, mc.counter);
	put(p, "c", 1, v, 8);
	for (uint32_t i = 0; i < d->count && !r->err; i++) {
		uid = wk_get_strv(r, &ul);
		if (!r->err && ul > 0 && ul < PRESENCE_UID_MAX)
			put(p, k, msg_key(k, uid, ul, d->seq), msg, d->len);
	}
	if (r->err) {
		free(d);
		return;
	}
	d->msg = wk_malloc(d->len);
	memcpy(d->msg, msg, d->len);
	d->uids_len = r->off - off;
	d->uids = wk_malloc(d->uids_len);
	memcpy(d->uids, r->p + off, d->uids_len);
	*mc.tail = d;
	mc.tail = &d->next;
}

/* Kind 2: conversation rows where missing (a person chat's first message). */
static void
apply_conv(struct wk_proc *p, struct wk_rbuf *r)
{
	char id[2 * PRESENCE_UID_MAX + 2], uid[PRESENCE_UID_MAX];
	uint8_t type;
	uint32_t count, read_to;

	wk_get_str(r, id, sizeof id);
	type = wk_get_u8(r);
	count = wk_get_u32(r);
	for (uint32_t i = 0; i < count && !r->err; i++) {
		wk_get_str(r, uid, sizeof uid);
		read_to = wk_get_u32(r);
		if (!r->err && cmd_ok(p) &&
		    mailbox_conv_touch(p, mc.txn, uid, id, type, read_to) < 0)
			wk_txn_fail(p->txn);
	}
}

/* MAILBOX_CMD: apply entry n from channel shard s if it is the next one;
 * a repeat is only acknowledged again, an entry after a gap is dropped
 * until the resend of the missing one (channel_cmd.c resends in order).
 * The "applied up to n" cursor is written in the same transaction as the
 * entry's messages, so a crash can neither lose nor repeat an entry. */
void
mailbox_on_cmd(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg)
{
	zframe_t *f = zmsg_first(msg);
	struct wk_rbuf r;
	uint8_t k[3], v[8], kind;
	uint64_t n;
	int s;

	wk_rbuf_init(&r, zframe_data(f), zframe_size(f));
	s = wk_get_u16(&r);
	n = wk_get_u64(&r);
	if (r.err || s != h->sender_instance)
		wk_fatalx("MAILBOX_CMD from channel/%u: malformed payload", h->sender_instance);
	if (cmd_txn(p) == NULL || !cmd_ok(p) || s >= mc.nchannel)
		return;   /* not applied: the channel shard sends it again */
	if (n <= mc.applied[s]) {
		mc.dups++;
		mc.ack_due[s] = 1;
		return;
	}
	if (n != mc.applied[s] + 1) {
		mc.gaps++;   /* one was lost on the way: wait for the resend */
		return;
	}
	kind = wk_get_u8(&r);
	if (kind == KIND_CMD)
		apply_cmd(p, &r);
	else if (kind == KIND_CONV)
		apply_conv(p, &r);
	if (r.err || wk_rbuf_done(&r) < 0 || (kind != KIND_CMD && kind != KIND_CONV))
		wk_fatalx("MAILBOX_CMD from channel/%u: malformed entry %llu", h->sender_instance,
		    (unsigned long long)n);
	mc.applied[s] = n;
	applied_key(k, s);
	wk_be64_put(v, n);
	put(p, k, 3, v, 8);
	mc.ack_due[s] = 1;
	mc.applied_n++;
}

/* A master device acknowledged a cmd RECV: remove that message. */
void
mailbox_on_cmd_recvack(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg)
{
	zframe_t *f = zmsg_first(msg);
	uint8_t k[KEY_MAX], *v = NULL;
	struct wk_rbuf r, mr;
	struct wk_chmsg m;
	const char *uid;
	size_t ul, klen, n = 0;
	uint64_t id;
	uint32_t seq;

	wk_rbuf_init(&r, zframe_data(f), zframe_size(f));
	uid = wk_get_strv(&r, &ul);
	id = wk_get_u64(&r);
	seq = wk_get_u32(&r);
	if (wk_rbuf_done(&r) < 0 || ul == 0 || ul >= PRESENCE_UID_MAX)
		wk_fatalx("MAILBOX_CMD_RECVACK from broker/%u: malformed payload", h->sender_instance);
	if (cmd_txn(p) == NULL || !cmd_ok(p))
		return;
	klen = msg_key(k, uid, ul, seq);
	if (wk_db_get(p->db[MAILBOX_DB_CMD], mc.txn, k, klen, &v, &n) == 1) {
		wk_rbuf_init(&mr, v, n);
		/* Only the message that RECV carried (an old RECVACK after a
		 * restart could name a seq that is another message's now). */
		if (wk_chmsg_get(&mr, &m) == 0 && (uint64_t)m.message_id == id) {
			if (wk_db_del(p->db[MAILBOX_DB_CMD], mc.txn, k, klen) < 0)
				wk_txn_fail(p->txn);
			mc.acked++;
		}
	}
	free(v);
}

/* After the commit: deliver d to its users' online devices. */
static void
deliver(struct wk_proc *p, struct delivery *d)
{
	char uid[PRESENCE_UID_MAX];
	struct wk_fanout f;
	struct wk_rbuf r;
	struct wk_chmsg m;
	struct wk_wbuf out;

	wk_fanout_begin(&f, p, mailbox_presence(), d->broker, d->conn);
	wk_rbuf_init(&r, d->uids, d->uids_len);
	for (uint32_t i = 0; i < d->count; i++) {
		wk_get_str(&r, uid, sizeof uid);
		wk_fanout_uid(&f, uid, strlen(uid));
	}
	mc.delivered += f.targets;
	/* The RECV carries the mailbox seq: what RECVACK and syncack name. */
	wk_rbuf_init(&r, d->msg, d->len);
	wk_chmsg_get(&r, &m);
	m.seq = d->seq;
	wk_wbuf_init(&out);
	wk_chmsg_put(&out, &m);
	wk_fanout_deliver(&f, WK_MSG_BROKER_DELIVER, out.p, out.len);
	wk_wbuf_free(&out);
	wk_fanout_end(&f);
}

/* The iteration's deliveries: sent to the online devices if the
 * transaction committed, dropped if not (the entries will come again). */
static void
deliveries_end(struct wk_proc *p, int committed)
{
	while (mc.head) {
		struct delivery *d = mc.head;
		mc.head = d->next;
		if (committed)
			deliver(p, d);
		free(d->msg);
		free(d->uids);
		free(d);
	}
	mc.tail = &mc.head;
}

/* The store's end-of-transaction hook: remember the outcome for
 * mailbox_cmd_flush; after an abort the cursors in memory are reloaded. */
void
mailbox_cmd_txn_ended(struct wk_proc *p, int rc)
{
	mc.txn = NULL;
	mc.committed = rc == 0;
	if (rc < 0)
		mc.loaded = 0;   /* the cursors in memory are ahead: reload */
}

/* After the commit, in this order: CHANNEL_CMD_ACK to every channel shard
 * with something applied (or repeated), then the deliveries.  Nothing is
 * acknowledged or delivered for an aborted transaction. */
void
mailbox_cmd_flush(struct wk_proc *p)
{
	int committed = mc.committed;

	for (int s = 0; s < mc.nchannel; s++) {
		if (!mc.ack_due[s])
			continue;
		mc.ack_due[s] = 0;
		if (!committed)
			continue;
		struct wk_wbuf b;
		wk_wbuf_init(&b);
		wk_put_u16(&b, (uint16_t)p->instance);
		wk_put_u64(&b, mc.applied[s]);
		wk_proc_send_buf(p, WK_ROLE_CHANNEL, s, WK_MSG_CHANNEL_CMD_ACK, 0, &b);
		wk_wbuf_free(&b);
	}
	deliveries_end(p, committed);
}

/* Cmd counters for `wkctl status`: applied, repeats, gaps, delivered. */
int
mailbox_cmd_status(struct wk_proc *p, char *buf, size_t len)
{
	return snprintf(buf, len, " cmd_applied=%llu cmd_dups=%llu cmd_gaps=%llu "
	    "cmd_delivered_to=%llu cmd_recvacked=%llu cmd_expired=%llu cmd_capped=%llu",
	    (unsigned long long)mc.applied_n, (unsigned long long)mc.dups,
	    (unsigned long long)mc.gaps, (unsigned long long)mc.delivered,
	    (unsigned long long)mc.acked, (unsigned long long)mc.expired,
	    (unsigned long long)mc.capped);
}

/* cmd.sync: the oldest `limit` unacknowledged messages. */
int
mailbox_op_cmd_sync(struct wk_proc *p, struct wk_rbuf *req, struct wk_answer *a)
{
	char uid[WK_ID_MAX + 1];
	uint32_t limit, n = 0;
	size_t ul, count_at;
	uint8_t k[KEY_MAX];
	DB *db = p->db[MAILBOX_DB_CMD];
	DBT key = { .data = k }, data = { 0 };
	struct wk_rbuf r;
	struct wk_chmsg m;
	DBC *cur;
	int rc;

	wk_get_str(req, uid, sizeof uid);
	limit = wk_get_u32(req);
	if (wk_rbuf_done(req) < 0)
		return -1;
	count_at = a->body.len;
	wk_put_u32(&a->body, 0);   /* the count, set at the end */
	ul = strlen(uid);
	if (ul == 0 || ul >= PRESENCE_UID_MAX)
		return 0;
	msg_key(k, uid, ul, 0);
	key.size = (u_int32_t)(2 + ul);
	if ((rc = db->cursor(db, mailbox_txn_begin(p, NULL), &cur, 0)) != 0) {
		wk_answer_error(a, 500, "storage error");
		return 0;
	}
	for (rc = wk_db_cget(cur, &key, &data, DB_SET_RANGE); rc == 0 && n < limit;
	    rc = wk_db_cget(cur, &key, &data, DB_NEXT)) {
		if (key.size != 2 + ul + 8 || memcmp(key.data, k, 2 + ul) != 0)
			break;
		wk_rbuf_init(&r, data.data, data.size);
		if (wk_chmsg_get(&r, &m) < 0)
			continue;
		m.seq = (uint32_t)wk_be64_get((uint8_t *)key.data + 2 + ul);
		wk_chmsg_put(&a->body, &m);
		n++;
	}
	cur->close(cur);
	wk_db_dbt_free(&key, &data);
	if (mailbox_walk_end(a, rc, "cmdbox.db") == 0)
		wk_be32_put(a->body.p + count_at, n);
	return 0;
}

/* cmd.syncack: remove every message up to last_message_seq. */
int
mailbox_op_cmd_syncack(struct wk_proc *p, struct wk_rbuf *req, struct wk_answer *a)
{
	char uid[WK_ID_MAX + 1];
	uint64_t upto;
	size_t ul;
	uint8_t k[KEY_MAX];
	DB *db = p->db[MAILBOX_DB_CMD];
	DBT key = { .data = k }, data = { .flags = DB_DBT_PARTIAL };
	DB_TXN *txn;
	DBC *cur;
	int rc, ok = 1;

	wk_get_str(req, uid, sizeof uid);
	upto = wk_get_u64(req);
	if (wk_rbuf_done(req) < 0)
		return -1;
	ul = strlen(uid);
	if (ul == 0 || ul >= PRESENCE_UID_MAX || upto == 0)
		return 0;
	key.size = (u_int32_t)(2 + ul);
	if ((txn = mailbox_txn_begin(p, a)) == NULL)
		return 0;
	msg_key(k, uid, ul, 0);
	if ((rc = db->cursor(db, txn, &cur, 0)) != 0) {
		mailbox_txn_end(txn, 0, a);
		return 0;
	}
	for (rc = wk_db_cget(cur, &key, &data, DB_SET_RANGE); rc == 0;
	    rc = wk_db_cget(cur, &key, &data, DB_NEXT)) {
		if (key.size != 2 + ul + 8 || memcmp(key.data, k, 2 + ul) != 0 ||
		    wk_be64_get((uint8_t *)key.data + 2 + ul) > upto)
			break;
		wk_db_writes++;
		if (cur->del(cur, 0) != 0) {
			ok = 0;
			break;
		}
	}
	cur->close(cur);
	wk_db_dbt_free(&key, &data);
	if (rc != 0 && rc != DB_NOTFOUND)
		ok = 0;
	mailbox_txn_end(txn, ok, a);
	return 0;
}

/* ---- the bound: users who never come back ---- */

#define BOUND_STEP 2000              /* records looked at per step (one a tick) */

/* Where the walk is: it goes backwards through the 'm' records (each
 * user's newest first), a step a tick, and wraps at the first of them. */
static struct {
	uint8_t resume[KEY_MAX];     /* the key the next step starts before */
	size_t resume_len;           /* 0: from the last record */
	char uid[PRESENCE_UID_MAX];  /* the user being walked, and how many of */
	size_t uid_len;              /* its messages were kept so far */
	uint64_t kept;
} cb;

static struct wk_ratelimit rl_bound = WK_RATELIMIT_INIT(5);

/* Whether the record at key/data goes: older than the age, or past the
 * user's newest maxPerUser. */
static int
bound_drop(struct wk_proc *p, const DBT *key, const DBT *data, int64_t now)
{
	const uint8_t *k = key->data;
	size_t ul = key->size - 10;  /* 'm' uid NUL seq */
	struct wk_rbuf r;
	struct wk_chmsg m;
	int64_t max_age = (int64_t)(p->cfg.cmd_maxAge / 1000);   /* seconds, as timestamps */

	if (ul != cb.uid_len || memcmp(k + 1, cb.uid, ul) != 0) {
		memcpy(cb.uid, k + 1, ul);
		cb.uid_len = ul;
		cb.kept = 0;
	}
	wk_rbuf_init(&r, data->data, data->size);
	if (max_age > 0 && wk_chmsg_get(&r, &m) == 0 && now - (int64_t)m.timestamp > max_age) {
		mc.expired++;
		return 1;
	}
	if (p->cfg.cmd_maxPerUser > 0 && cb.kept >= (uint64_t)p->cfg.cmd_maxPerUser) {
		mc.capped++;
		return 1;
	}
	cb.kept++;
	return 0;
}

/* A message key ('m' uid NUL u64 seq)? */
static int
is_msg_key(const DBT *key)
{
	const uint8_t *k = key->data;

	return key->size >= 11 && key->size <= KEY_MAX && k[0] == 'm' && k[key->size - 9] == 0;
}

/* One step of the walk, in the iteration's transaction (its deletes are
 * committed with the iteration's other writes): at most BOUND_STEP
 * records, so the loop never stalls on a large cmdbox.db. */
void
mailbox_cmd_bound_step(struct wk_proc *p)
{
	DB *db = p->db[MAILBOX_DB_CMD];
	DBT key = { 0 }, data = { 0 };
	uint64_t before = mc.expired + mc.capped;
	int64_t now = wk_wall_ms() / 1000;
	DBC *cur;
	int rc, n = 0;

	if ((p->cfg.cmd_maxAge <= 0 && p->cfg.cmd_maxPerUser <= 0) || cmd_txn(p) == NULL ||
	    !cmd_ok(p) || db->cursor(db, mc.txn, &cur, 0) != 0)
		return;
	if (cb.resume_len) {
		/* At the record the last step stopped before, or (gone since)
		 * the next older one. */
		key.data = cb.resume;
		key.size = (u_int32_t)cb.resume_len;
		rc = wk_db_cget(cur, &key, &data, DB_SET_RANGE);
		if (rc == DB_NOTFOUND)
			rc = wk_db_cget(cur, &key, &data, DB_LAST);
		else if (rc == 0 && (key.size != cb.resume_len ||
		    memcmp(key.data, cb.resume, key.size) != 0))
			rc = wk_db_cget(cur, &key, &data, DB_PREV);
	} else
		rc = wk_db_cget(cur, &key, &data, DB_LAST);
	cb.resume_len = 0;
	for (; rc == 0; rc = wk_db_cget(cur, &key, &data, DB_PREV)) {
		if (((uint8_t *)key.data)[0] < 'm')
			break;           /* before the first message: the walk wraps */
		if (!is_msg_key(&key))
			continue;
		if (n++ == BOUND_STEP) {
			memcpy(cb.resume, key.data, key.size);   /* the next step starts here */
			cb.resume_len = key.size;
			break;
		}
		if (bound_drop(p, &key, &data, now) && cur->del(cur, 0) != 0) {
			wk_txn_fail(p->txn);
			break;
		}
	}
	if (cb.resume_len == 0)
		cb.uid_len = 0;          /* a new walk: nobody's messages counted yet */
	if (rc != 0 && rc != DB_NOTFOUND)
		wk_txn_fail(p->txn);
	cur->close(cur);
	wk_db_dbt_free(&key, &data);
	if (mc.expired + mc.capped > before)
		wk_log_limited(&rl_bound, WK_LOG_INFO, "cmd mailboxes: %llu message(s) dropped by "
		    "cmd.maxAge/cmd.maxPerUser (%llu expired, %llu capped in all)",
		    (unsigned long long)(mc.expired + mc.capped - before),
		    (unsigned long long)mc.expired, (unsigned long long)mc.capped);
}
