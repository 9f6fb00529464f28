/* channel_notify.c - msg.notify as durable as the message (wk-channel(8),
 * wk-hook(8)).
 *
 * Between the commit of a message and wk-hook's commit of its msg.notify
 * the event lived only in this process (wk_webhook.c keeps the batch until
 * HOOK_ACK): a kill -9 in that window lost it.  So the event is also
 * written into cmdout.db, in the transaction that stores the message:
 *
 *   cmdout.db:  'h' u64 message id -> the message (wk_chmsg_put)
 *
 * After the commit it is emitted with the message id as its token
 * (wk_webhook_emit_durable); when wk-hook acknowledges the batch that
 * carried it, the row is deleted in the iteration's transaction.  At start
 * every row left is emitted again.  An event wk-hook had committed whose
 * row survived (the acknowledgement or the delete lost in the kill) is
 * posted twice: at-least-once, and receivers de-duplicate by message_id.
 * With msg.notify off nothing is written, and rows left from before are
 * deleted at start.
 */
#include <stdio.h>
#include <string.h>
#include "channel.h"
#include "wk_buf.h"
#include "wk_chmsg.h"
#include "wk_db.h"
#include "wk_log.h"
#include "wk_shard.h"
#include "wk_webhook.h"
#include "wkproto.h"

#define NOTIFY_KEY_LEN 9

static struct {
	uint64_t kept, acked, replayed;
} nt;

/* cmdout.db key of a message's msg.notify: 'h', u64 message id. */
static void
notify_key(uint8_t k[NOTIFY_KEY_LEN], uint64_t message_id)
{
	k[0] = 'h';
	wk_be64_put(k + 1, message_id);
}

int
channel_notify_event(struct wk_proc *p, const struct wk_chmsg *m)
{
	if (m->seq == 0 || (m->flags & WKPROTO_FLAG_NOPERSIST))
		return -1;
	/* An agent channel's messages go to the agent webhook when there is one. */
	if (m->channel_type == WKPROTO_CHANNEL_AGENT && wk_webhook_on(p, WK_WEBHOOK_AGENT_NOTIFY))
		return WK_WEBHOOK_AGENT_NOTIFY;
	return wk_webhook_on(p, WK_WEBHOOK_MSG_NOTIFY) ? WK_WEBHOOK_MSG_NOTIFY : -1;
}

int
channel_notify_keep(struct wk_proc *p, const struct wk_chmsg *m, const void *frame, size_t len)
{
	uint8_t k[NOTIFY_KEY_LEN];
	DB_TXN *txn;

	if (channel_notify_event(p, m) < 0)
		return 0;
	if ((txn = channel_txn(p)) == NULL)
		return -1;
	notify_key(k, (uint64_t)m->message_id);
	if (wk_db_put(p->db[CHANNEL_DB_CMDOUT], txn, k, sizeof k, frame, len) < 0) {
		channel_txn_fail(p);
		return -1;
	}
	nt.kept++;
	return 0;
}

void
channel_notify_emit(struct wk_proc *p, const struct wk_chmsg *m, const void *frame, size_t len)
{
	uint32_t key = wk_shard_hash(m->channel_id.p, m->channel_id.len);
	int ev = channel_notify_event(p, m);

	/* Dropped (wk-hook away too long): the row stays for the next start. */
	if (ev >= 0)
		wk_webhook_emit_durable(p, ev, key, frame, len, (uint64_t)m->message_id);
}

/* wk-hook committed these events: their rows go with this iteration's
 * commit.  A failed delete only means the event is posted again later. */
static void
on_acked(struct wk_proc *p, const uint8_t *tokens, size_t n)
{
	DB_TXN *txn = channel_txn(p);
	uint8_t k[NOTIFY_KEY_LEN];

	if (txn == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		notify_key(k, wk_be64_get(tokens + 8 * i));
		if (wk_db_del(p->db[CHANNEL_DB_CMDOUT], txn, k, sizeof k) == 0)
			nt.acked++;
	}
}

int
channel_notify_open(struct wk_proc *p)
{
	uint8_t k[64];               /* room for any cmdout.db key */
	DB_TXN *txn = channel_txn(p);
	DB *db = p->db[CHANNEL_DB_CMDOUT];
	DBT key = { .data = k, .size = 1, .ulen = sizeof k, .flags = DB_DBT_USERMEM };
	DBT data = { 0 };
	int rc;
	uint64_t dropped = 0;
	DBC *cur;

	wk_webhook_on_acked(on_acked);
	if (txn == NULL)
		return -1;
	if ((rc = db->cursor(db, txn, &cur, 0)) != 0) {
		wk_log_warnx("cmdout.db cursor: %s", db_strerror(rc));
		return -1;
	}
	k[0] = 'h';
	for (rc = wk_db_cget(cur, &key, &data, DB_SET_RANGE); rc == 0;
	    rc = wk_db_cget(cur, &key, &data, DB_NEXT)) {
		struct wk_chmsg m;
		struct wk_rbuf r;
		if (key.size != NOTIFY_KEY_LEN || k[0] != 'h')
			break;
		wk_rbuf_init(&r, data.data, data.size);
		if (wk_chmsg_get(&r, &m) < 0 || channel_notify_event(p, &m) < 0) {
			dropped++;
			cur->del(cur, 0);
			continue;
		}
		channel_notify_emit(p, &m, data.data, data.size);
		nt.replayed++;
	}
	cur->close(cur);
	wk_db_dbt_free(&key, &data);
	if (rc != 0 && rc != DB_NOTFOUND) {
		wk_log_warnx("cmdout.db: %s", db_strerror(rc));
		return -1;
	}
	if (nt.replayed)
		wk_log_info("msg.notify of %llu committed messages handed to wk-hook again",
		    (unsigned long long)nt.replayed);
	if (dropped)
		wk_log_info("msg.notify off: %llu kept events deleted", (unsigned long long)dropped);
	return 0;
}

int
channel_notify_status(char *buf, size_t len)
{
	return snprintf(buf, len, " notify_kept=%llu notify_acked=%llu notify_replayed=%llu",
	    (unsigned long long)nt.kept, (unsigned long long)nt.acked,
	    (unsigned long long)nt.replayed);
}
