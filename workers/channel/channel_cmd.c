/* channel_cmd.c - the hand-over from a channel shard to the mailbox shards
 * (wk-channel(8)): cmd messages (sync_once) written into each recipient's
 * mailbox, and the conversation rows a person chat's first message makes.
 *
 * Why a durable outbox: a cmd message must reach every recipient's mailbox
 * even when a mailbox shard, or this shard, is killed in between.  So the
 * hand-over entries are written into cmdout.db in the same transaction as
 * the message itself (one entry per mailbox shard, however many of its
 * users it names), numbered per mailbox shard.  After the commit they are
 * sent (MAILBOX_CMD); the mailbox shard applies an entry only if it is the
 * next number it expects, commits, and answers CHANNEL_CMD_ACK with the
 * highest number applied; acknowledged entries are deleted.  Entries not
 * acknowledged within RESEND_MS are sent again from the first unacknowledged
 * one; a mailbox ignores (and re-acknowledges) what it already has.  After
 * a restart everything still in cmdout.db is sent again.
 *
 * cmdout.db:  'e' u16 shard, u64 n  -> the entry (below)
 *             'n' u16 shard         -> u64 the last n given out
 * Entry, kind 1 (cmd message): u8 1, u16 broker, u64 conn (the sending
 * connection: it gets no RECV), blob the message (wk_chmsg), u32 count,
 * count x str uid.  Kind 2 (conversation rows if missing): u8 2, str stored
 * channel id, u8 type, u32 count, count x (str uid, u32 read_to).
 */
#include <stdlib.h>
#include <string.h>
#include "channel.h"
#include "wk_alloc.h"
#include "wk_buf.h"
#include "wk_chmsg.h"
#include "wk_db.h"
#include "wk_log.h"
#include "wk_shard.h"
#include "wk_time.h"

#define WINDOW 64                    /* entries in flight per mailbox shard */
#define RESEND_MS 1000               /* no acknowledgement this long: send again */
/* A channel's cmd twin, "<id>____cmd", holds its cmd messages with their
 * own sequence numbers, so they neither show in the chat history nor move
 * its unread count (wk-channel(8)). */
#define CMD_SUFFIX "____cmd"

enum { KIND_CMD = 1, KIND_CONV = 2 };

/* Unexpected acknowledgements are logged at most 5 a second. */
static struct wk_ratelimit rl_ack = WK_RATELIMIT_INIT(5);

/* Per mailbox shard. */
struct outq {
	uint64_t next;               /* the last number given out */
	uint64_t acked;              /* everything up to here is applied */
	uint64_t sent;               /* sent up to here (>= acked) */
	uint64_t progress_ms;        /* last send or acknowledgement */
};

static struct {
	struct outq *q;
	int n;
	int loaded;                  /* q[].next/acked read from cmdout.db */
	int dirty;                   /* entries written in the open transaction */
	uint64_t handed, resent, acks;
} cs;

/* cmdout.db key of entry n for mailbox shard `shard`: 'e', u16, u64 (big-
 * endian, so a cursor walks one shard's entries in number order). */
static void
entry_key(uint8_t k[11], int shard, uint64_t n)
{
	k[0] = 'e';
	wk_be16_put(k + 1, (uint16_t)shard);
	wk_be64_put(k + 3, n);
}

/* cmdout.db key of a shard's counter (the last number given out): 'n', u16. */
static void
counter_key(uint8_t k[3], int shard)
{
	k[0] = 'n';
	wk_be16_put(k + 1, (uint16_t)shard);
}

/* Read the counters and the first unacknowledged entry of every shard,
 * inside txn (NULL only when no transaction of ours is open). */
static int
load(struct wk_proc *p, DB_TXN *txn)
{
	DB *db = p->db[CHANNEL_DB_CMDOUT];
	uint8_t k[11], *v = NULL;
	size_t n = 0;
	DBC *cur;
	int rc;

	for (int s = 0; s < cs.n; s++) {
		struct outq *q = &cs.q[s];
		counter_key(k, s);
		if ((rc = wk_db_get(db, txn, k, 3, &v, &n)) < 0)
			return -1;
		q->next = rc == 1 && n == 8 ? wk_be64_get(v) : 0;
		free(v);
		v = NULL;
		q->acked = q->next;
		entry_key(k, s, 0);
		if ((rc = db->cursor(db, txn, &cur, 0)) != 0)
			return -1;
		DBT key = { .data = k, .size = sizeof k, .ulen = sizeof k, .flags = DB_DBT_USERMEM };
		DBT data = { .flags = DB_DBT_PARTIAL };
		rc = wk_db_cget(cur, &key, &data, DB_SET_RANGE);
		if (rc == 0 && key.size == sizeof k && k[0] == 'e' && wk_be16_get(k + 1) == s)
			q->acked = wk_be64_get(k + 3) - 1;
		cur->close(cur);
		wk_db_dbt_free(&key, &data);
		q->sent = q->acked;
	}
	cs.loaded = 1;
	return 0;
}

/* At start: one queue per mailbox shard, loaded from cmdout.db; whatever
 * is there was committed and not acknowledged, and is sent again. */
int
channel_cmd_open(struct wk_proc *p)
{
	cs.n = p->cfg.processes_mailbox;
	cs.q = wk_calloc((size_t)cs.n, sizeof *cs.q);
	return load(p, NULL);
}

/* At stop: the entries stay in cmdout.db for the next start. */
void
channel_cmd_close(struct wk_proc *p)
{
	free(cs.q);
	memset(&cs, 0, sizeof cs);
}

/* After an abort the counters in memory are ahead of the database. */
static void
txn_done(struct wk_proc *p, int rc, void *arg)
{
	if (rc != 0)
		cs.loaded = 0;
	cs.dirty = 0;
}

/* Write one entry for `shard` into the transaction: 0, or -1. */
static int
entry_put(struct wk_proc *p, int shard, const struct wk_wbuf *e)
{
	DB *db = p->db[CHANNEL_DB_CMDOUT];
	DB_TXN *txn = channel_txn(p);
	uint8_t k[11], c[3], v[8];

	if (txn == NULL || (!cs.loaded && load(p, txn) < 0)) {
		channel_txn_fail(p);
		return -1;
	}
	if (!cs.dirty) {
		cs.dirty = 1;
		channel_after_commit(p, txn_done, NULL);
	}
	cs.q[shard].next++;
	entry_key(k, shard, cs.q[shard].next);
	counter_key(c, shard);
	wk_be64_put(v, cs.q[shard].next);
	if (wk_db_put(db, txn, k, sizeof k, e->p, e->len) < 0 ||
	    wk_db_put(db, txn, c, sizeof c, v, sizeof v) < 0) {
		channel_txn_fail(p);
		return -1;
	}
	cs.handed++;
	return 0;
}

/* Recipients grouped by mailbox shard: one entry body per shard. */
struct groups {
	struct wk_proc *p;
	struct wk_wbuf *body;        /* per shard, from the count on */
	uint32_t *count;
	const char *skip;            /* the sender: not its own recipient */
	size_t skip_len;
};

/* Empty per-shard bodies for one hand-over. */
static void
groups_init(struct groups *g, struct wk_proc *p)
{
	memset(g, 0, sizeof *g);
	g->p = p;
	g->body = wk_calloc((size_t)cs.n, sizeof *g->body);
	g->count = wk_calloc((size_t)cs.n, sizeof *g->count);
}

/* channel_recipients_foreach callback: file uid under its mailbox shard;
 * the sender and the system uid get no cmd copy. */
static int
group_uid(const char *uid, size_t len, void *arg)
{
	struct groups *g = arg;
	int s;

	if (len == 0 || (len == g->skip_len && memcmp(uid, g->skip, len) == 0) ||
	    (len == sizeof WK_SYSTEM_UID - 1 && memcmp(uid, WK_SYSTEM_UID, len) == 0))
		return 0;
	s = wk_shard_uid(uid, len, cs.n);
	wk_put_strn(&g->body[s], uid, len);
	g->count[s]++;
	return 0;
}

/* One entry per shard with recipients: head, then the count, then the
 * shard's part.  0, or -1. */
static int
groups_put(struct groups *g, const struct wk_wbuf *head)
{
	struct wk_wbuf e;
	int rc = 0;

	for (int s = 0; s < cs.n; s++) {
		if (g->count[s] > 0 && rc == 0) {
			wk_wbuf_init(&e);
			wk_put_mem(&e, head->p, head->len);
			wk_put_u32(&e, g->count[s]);
			wk_put_mem(&e, g->body[s].p, g->body[s].len);
			rc = entry_put(g->p, s, &e);
			wk_wbuf_free(&e);
		}
		wk_wbuf_free(&g->body[s]);
	}
	free(g->body);
	free(g->count);
	return rc;
}

/* Whether a channel id is already a cmd twin ("<id>____cmd"). */
int
channel_cmd_is_twin(const char *id, size_t len)
{
	size_t sl = sizeof CMD_SUFFIX - 1;

	return len >= sl && memcmp(id + len - sl, CMD_SUFFIX, sl) == 0;
}

/* The cmd twin of a channel id (malloc'd); a twin is its own twin. */
char *
channel_cmd_twin(const char *id)
{
	return channel_cmd_is_twin(id, strlen(id)) ? wk_strdup(id) :
	    wk_asprintf("%s%s", id, CMD_SUFFIX);
}

/* A cmd message was appended: write, in the same transaction, one entry
 * per mailbox shard naming the recipients it owns.  It is sent after the
 * commit (channel_cmd_flush), never before: a mailbox must not hold a
 * message whose channel write was rolled back. */
int
channel_cmd_handover(struct wk_proc *p, const struct wk_chmsg *m, const char *to, size_t to_len,
    uint16_t broker, uint64_t conn)
{
	char *id = wk_strndup(m->channel_id.p, m->channel_id.len);
	struct wk_wbuf head, msg;
	struct groups g;
	int rc;

	groups_init(&g, p);
	g.skip = m->from_uid.p;
	g.skip_len = m->from_uid.len;
	rc = channel_recipients_foreach(p, to, to_len, id, m->channel_type, group_uid, &g);
	wk_wbuf_init(&msg);
	wk_chmsg_put(&msg, m);
	wk_wbuf_init(&head);
	wk_put_u8(&head, KIND_CMD);
	wk_put_u16(&head, broker);
	wk_put_u64(&head, conn);
	wk_put_blob(&head, msg.p, msg.len);
	if (rc < 0) {
		for (int s = 0; s < cs.n; s++)
			g.count[s] = 0;
		channel_txn_fail(p);
	}
	if (groups_put(&g, &head) < 0)
		rc = -1;
	wk_wbuf_free(&head);
	wk_wbuf_free(&msg);
	free(id);
	return rc < 0 ? -1 : 0;
}

/* Kind 2 bodies carry a read position after each uid. */
struct conv_arg {
	struct groups g;
	const char *from;
	size_t from_len;
};

/* channel_recipients_foreach callback for kind 2: uid and its read_to. */
static int
conv_uid(const char *uid, size_t len, void *arg)
{
	struct conv_arg *a = arg;
	int s;

	if (len == 0 || (len == sizeof WK_SYSTEM_UID - 1 && memcmp(uid, WK_SYSTEM_UID, len) == 0))
		return 0;
	s = wk_shard_uid(uid, len, cs.n);
	wk_put_strn(&a->g.body[s], uid, len);
	/* What the sender sent counts as read: its row starts at seq 1. */
	wk_put_u32(&a->g.body[s], len == a->from_len && memcmp(uid, a->from, len) == 0 ? 1 : 0);
	a->g.count[s]++;
	return 0;
}

/* A person chat's first message: entries asking the mailbox shards of
 * both users to create the conversation row if it is missing. */
int
channel_cmd_conv_first(struct wk_proc *p, const char *id, uint8_t type, const char *from,
    size_t from_len)
{
	struct conv_arg a;
	struct wk_wbuf head;
	int rc;

	groups_init(&a.g, p);
	a.from = from;
	a.from_len = from_len;
	rc = channel_recipients_foreach(p, NULL, 0, id, type, conv_uid, &a);
	wk_wbuf_init(&head);
	wk_put_u8(&head, KIND_CONV);
	wk_put_str(&head, id);
	wk_put_u8(&head, type);
	if (rc < 0)
		for (int s = 0; s < cs.n; s++)
			a.g.count[s] = 0;
	if (groups_put(&a.g, &head) < 0)
		rc = -1;
	wk_wbuf_free(&head);
	return rc < 0 ? -1 : 0;
}

/* Send shard s's committed entries after `sent`, up to the window. */
static void
send_from(struct wk_proc *p, int s)
{
	struct outq *q = &cs.q[s];
	DB *db = p->db[CHANNEL_DB_CMDOUT];
	uint8_t k[11];
	DBT key = { .data = k, .size = sizeof k, .ulen = sizeof k, .flags = DB_DBT_USERMEM };
	DBT data = { 0 };
	DBC *cur;
	int rc;

	if (q->sent >= q->next || q->sent - q->acked >= WINDOW)
		return;
	/* Committed entries only (no transaction of ours is open): an entry
	 * sent and then aborted would leave its number to another entry, which
	 * the mailbox would take for one it has. */
	if ((rc = db->cursor(db, NULL, &cur, 0)) != 0) {
		wk_log_warnx("cmdout.db cursor: %s", db_strerror(rc));
		return;
	}
	entry_key(k, s, q->sent + 1);
	for (rc = wk_db_cget(cur, &key, &data, DB_SET_RANGE); rc == 0 &&
	    q->sent - q->acked < WINDOW; rc = wk_db_cget(cur, &key, &data, DB_NEXT)) {
		if (key.size != sizeof k || k[0] != 'e' || wk_be16_get(k + 1) != s)
			break;
		uint64_t n = wk_be64_get(k + 3);
		struct wk_wbuf b;
		wk_wbuf_init(&b);
		wk_put_u16(&b, (uint16_t)p->instance);
		wk_put_u64(&b, n);
		wk_put_mem(&b, data.data, data.size);
		wk_proc_send_buf(p, WK_ROLE_MAILBOX, s, WK_MSG_MAILBOX_CMD, n, &b);
		wk_wbuf_free(&b);
		q->sent = n;
	}
	cur->close(cur);
	wk_db_dbt_free(&key, &data);
	q->progress_ms = wk_now_ms();
}

/* After the iteration's commit: send what each queue has committed, up to
 * WINDOW in flight.  With a transaction still open, wait for its commit. */
void
channel_cmd_flush(struct wk_proc *p)
{
	if (channel_txn_open() || (!cs.loaded && load(p, NULL) < 0))
		return;   /* after the next commit */
	for (int s = 0; s < cs.n; s++)
		send_from(p, s);
}

/* CHANNEL_CMD_ACK: everything up to n is durable in the mailbox: delete it. */
void
channel_on_cmd_ack(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg)
{
	zframe_t *f = zmsg_first(msg);
	struct wk_rbuf r;
	uint8_t k[11];
	int s;
	uint64_t upto;

	wk_rbuf_init(&r, zframe_data(f), zframe_size(f));
	s = wk_get_u16(&r);
	upto = wk_get_u64(&r);
	if (wk_rbuf_done(&r) < 0 || s != h->sender_instance || s >= cs.n)
		wk_fatalx("CHANNEL_CMD_ACK from mailbox/%u: malformed payload", h->sender_instance);
	if (!cs.loaded)
		return;   /* everything is sent again after the reload anyway */
	struct outq *q = &cs.q[s];
	if (upto > q->next) {
		/* Only if cmdout.db was lost while the mailbox kept its cursor. */
		wk_log_limited(&rl_ack, WK_LOG_WARN, "mailbox/%d acknowledges %llu, beyond %llu", s,
		    (unsigned long long)upto, (unsigned long long)q->next);
		return;
	}
	cs.acks++;
	for (; q->acked < upto; q->acked++) {
		entry_key(k, s, q->acked + 1);
		if (channel_txn(p) == NULL ||
		    wk_db_del(p->db[CHANNEL_DB_CMDOUT], channel_txn(p), k, sizeof k) < 0) {
			channel_txn_fail(p);
			break;
		}
	}
	if (q->sent < q->acked)
		q->sent = q->acked;
	q->progress_ms = wk_now_ms();
}

/* Entries unacknowledged for RESEND_MS are sent again. */
void
channel_cmd_tick(struct wk_proc *p)
{
	uint64_t now = wk_now_ms();

	if (!cs.loaded)
		return;
	for (int s = 0; s < cs.n; s++) {
		struct outq *q = &cs.q[s];
		if (q->sent > q->acked && now - q->progress_ms >= RESEND_MS) {
			cs.resent += q->sent - q->acked;
			q->sent = q->acked;
		}
	}
	channel_cmd_flush(p);
}

/* Hand-over counters for `wkctl status`; cmd_unacked is the backlog. */
int
channel_cmd_status(struct wk_proc *p, char *buf, size_t len)
{
	uint64_t unacked = 0;

	for (int s = 0; s < cs.n; s++)
		unacked += cs.q[s].next - cs.q[s].acked;
	return snprintf(buf, len, " cmd_handed=%llu cmd_resent=%llu cmd_acks=%llu cmd_unacked=%llu",
	    (unsigned long long)cs.handed, (unsigned long long)cs.resent,
	    (unsigned long long)cs.acks, (unsigned long long)unacked);
}
