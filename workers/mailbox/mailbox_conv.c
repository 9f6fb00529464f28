/* mailbox_conv.c - a mailbox shard's conversation rows (wk-mailbox(8)).
 *
 * Read mode: a row says only where a user's reading of one channel stands;
 * nothing here changes when a message arrives.  /conversation/sync (wk-api,
 * api_conv.c) joins the rows with what the channel shards say of each
 * channel's newest messages.  Rows are created and moved by membership
 * (wk-api after /channel/subscriber_add), by the first message of a person
 * chat (channel_cmd.c's hand-over), by setUnread/clearUnread (only
 * forward) and /conversations/delete (deleted-at).
 *
 * convs.db: uid NUL u8 type stored-channel-id -> u8 version 1,
 * u32 readed_to, u32 deleted_at, u64 created_ms, u64 updated_ms.
 *
 * The HTTP API ops (rows MAILBOX_CONV_ROWS ... CONV_DELETE in
 * wk_msgtypes.h; mailbox_api.c runs them):
 *   conv.rows   the uid's rows, newest update first, at most the max
 *               asked (0: all); with a filter, only those whose channel
 *               the last-message table says has a message at or after
 *               the row's start (what /conversation/sync would ask the
 *               channel shard about), so that an incremental sync costs
 *               what changed.  The rows come from memory for hot users
 *               (mailbox_convcache.c).
 *   conv.set    mode reset (membership: read_to, deleted-at cleared),
 *               forward (created if missing; read_to only advances),
 *               missing (created with read_to only if missing)
 *   conv.remove the rows of some uids for one channel
 *   conv.delete deleted-at of one row (no row: nothing)
 */
#include <stdlib.h>
#include <string.h>
#include "mailbox.h"
#include "wk_alloc.h"
#include "wk_buf.h"
#include "wk_db.h"
#include "wk_channelid.h"
#include "wk_log.h"
#include "wk_time.h"

#define ROW_VERSION 1
#define ROW_SIZE (1 + 4 + 4 + 8 + 8)

struct row {
	uint32_t readed_to, deleted_at;
	uint64_t created_ms, updated_ms;
};

static void
row_key(struct wk_wbuf *k, const char *uid, const char *id, uint8_t type)
{
	wk_wbuf_init(k);
	wk_put_mem(k, uid, strlen(uid) + 1);
	wk_put_u8(k, type);
	wk_put_mem(k, id, strlen(id));
}

static int
row_decode(struct row *r, const uint8_t *v, size_t n)
{
	if (n != ROW_SIZE || v[0] != ROW_VERSION)
		return -1;
	r->readed_to = wk_be32_get(v + 1);
	r->deleted_at = wk_be32_get(v + 5);
	r->created_ms = wk_be64_get(v + 9);
	r->updated_ms = wk_be64_get(v + 17);
	return 0;
}

int
mailbox_conv_decode(struct mailbox_crow *c, const uint8_t *v, size_t n)
{
	struct row r;

	if (row_decode(&r, v, n) < 0)
		return -1;
	c->readed_to = r.readed_to;
	c->deleted_at = r.deleted_at;
	c->created_ms = r.created_ms;
	c->updated_ms = r.updated_ms;
	return 0;
}

/* The row: 1 found, 0 none, -1 error. */
static int
row_get(struct wk_proc *p, DB_TXN *txn, const struct wk_wbuf *k, struct row *r)
{
	uint8_t *v = NULL;
	size_t n = 0;
	int rc = wk_db_get(p->db[MAILBOX_DB_CONVS], txn, k->p, k->len, &v, &n);

	if (rc == 1 && row_decode(r, v, n) < 0) {
		wk_log_warnx("convs.db: bad row (%zu bytes)", n);
		rc = -1;
	}
	free(v);
	return rc;
}

static int
row_put(struct wk_proc *p, DB_TXN *txn, const struct wk_wbuf *k, struct row *r)
{
	uint8_t v[ROW_SIZE];

	r->updated_ms = (uint64_t)wk_wall_ms();
	if (r->created_ms == 0)
		r->created_ms = r->updated_ms;
	v[0] = ROW_VERSION;
	wk_be32_put(v + 1, r->readed_to);
	wk_be32_put(v + 5, r->deleted_at);
	wk_be64_put(v + 9, r->created_ms);
	wk_be64_put(v + 17, r->updated_ms);
	return wk_db_put(p->db[MAILBOX_DB_CONVS], txn, k->p, k->len, v, sizeof v);
}

enum set_mode { SET_RESET, SET_FORWARD, SET_MISSING };

/* Apply one conv.set to one uid: 0, -1. */
static int
row_set(struct wk_proc *p, DB_TXN *txn, const char *uid, const char *id, uint8_t type,
    uint32_t read_to, enum set_mode mode)
{
	struct row r = { 0 };
	struct wk_wbuf k;
	int rc;

	row_key(&k, uid, id, type);
	mailbox_convcache_forget(uid);
	rc = row_get(p, txn, &k, &r);
	if (rc == 0 || mode == SET_RESET) {
		memset(&r, 0, sizeof r);
		r.readed_to = read_to;
		rc = row_put(p, txn, &k, &r);
	} else if (rc == 1 && mode == SET_FORWARD && read_to > r.readed_to) {
		r.readed_to = read_to;
		rc = row_put(p, txn, &k, &r);
	} else if (rc == 1)
		rc = 0;
	wk_wbuf_free(&k);
	return rc;
}

int
mailbox_conv_touch(struct wk_proc *p, DB_TXN *txn, const char *uid, const char *id,
    uint8_t type, uint32_t read_to)
{
	return row_set(p, txn, uid, id, type, read_to, SET_MISSING);
}

int
mailbox_op_conv_set(struct wk_proc *p, struct wk_rbuf *req, struct wk_answer *a)
{
	char id[WK_STORED_ID_MAX + 1], **uids;
	uint8_t type, mode;
	uint32_t to, n;
	DB_TXN *txn;
	int ok = 1;

	wk_get_str(req, id, sizeof id);
	type = wk_get_u8(req);
	to = wk_get_u32(req);
	mode = wk_get_u8(req);
	uids = wk_get_strs(req, &n);
	if (wk_rbuf_done(req) < 0 || mode > SET_MISSING) {
		wk_strs_free(&uids);
		return -1;
	}
	if ((txn = mailbox_txn_begin(p, a)) != NULL) {
		for (uint32_t i = 0; i < n && ok; i++)
			ok = row_set(p, txn, uids[i], id, type, to, (enum set_mode)mode) == 0;
		mailbox_txn_end(txn, ok, a);
	}
	wk_strs_free(&uids);
	return 0;
}

int
mailbox_op_conv_remove(struct wk_proc *p, struct wk_rbuf *req, struct wk_answer *a)
{
	char id[WK_STORED_ID_MAX + 1], **uids;
	struct wk_wbuf k;
	uint8_t type;
	uint32_t n;
	DB_TXN *txn;
	int ok = 1;

	wk_get_str(req, id, sizeof id);
	type = wk_get_u8(req);
	uids = wk_get_strs(req, &n);
	if (wk_rbuf_done(req) < 0) {
		wk_strs_free(&uids);
		return -1;
	}
	if ((txn = mailbox_txn_begin(p, a)) != NULL) {
		for (uint32_t i = 0; i < n && ok; i++) {
			row_key(&k, uids[i], id, type);
			mailbox_convcache_forget(uids[i]);
			ok = wk_db_del(p->db[MAILBOX_DB_CONVS], txn, k.p, k.len) == 0;
			wk_wbuf_free(&k);
		}
		mailbox_txn_end(txn, ok, a);
	}
	wk_strs_free(&uids);
	return 0;
}

/* conv.delete: the conversation is hidden until a message newer than
 * deleted_at arrives (the row must exist, as the reference). */
int
mailbox_op_conv_delete(struct wk_proc *p, struct wk_rbuf *req, struct wk_answer *a)
{
	char uid[WK_ID_MAX + 1], id[WK_STORED_ID_MAX + 1];
	uint32_t at;
	uint8_t type;
	struct row r;
	struct wk_wbuf k;
	DB_TXN *txn;
	int rc;

	wk_get_str(req, uid, sizeof uid);
	wk_get_str(req, id, sizeof id);
	type = wk_get_u8(req);
	at = wk_get_u32(req);
	if (wk_rbuf_done(req) < 0)
		return -1;
	if ((txn = mailbox_txn_begin(p, a)) == NULL)
		return 0;
	row_key(&k, uid, id, type);
	mailbox_convcache_forget(uid);
	rc = row_get(p, txn, &k, &r);
	if (rc == 1) {
		r.deleted_at = at;
		rc = row_put(p, txn, &k, &r);
	}
	wk_wbuf_free(&k);
	mailbox_txn_end(txn, rc >= 0, a);
	return 0;
}

/* The filter of conv.rows: the first seq that counts for a row, as
 * /conversation/sync computes it (api_convsync.c, sync_then_rows). */
enum rows_filter { FILTER_NONE, FILTER_ANY, FILTER_UNREAD };

/* 1 if the row's channel may have something at or after its start. */
static int
row_has_news(const struct lastmsg *t, const struct mailbox_crows *c, struct mailbox_crow *w,
    enum rows_filter f)
{
	struct lastmsg_row lm;
	uint64_t start = f == FILTER_UNREAD ? (uint64_t)w->readed_to + 1 : 0;
	int known;

	if (w->deleted_at > 0 && w->deleted_at >= start)
		start = (uint64_t)w->deleted_at + 1;
	if (start < 1)
		start = 1;
	known = lastmsg_get_hinted(t, c->ids + w->id, w->idlen, w->type, &lm, &w->hint);
	return known == LASTMSG_UNKNOWN || (known == LASTMSG_HIT && start <= lm.last_seq);
}

/* conv.rows: the uid's rows, newest update first, at most max (0: all;
 * /conversation/sync applies conversation.userMaxCount itself, once it
 * knows the channels' last messages).  The filter applies only to a uid
 * with at most filter_max rows: above, wk-api needs every row for the
 * cap. */
int
mailbox_op_conv_rows(struct wk_proc *p, struct wk_rbuf *req, struct wk_answer *a)
{
	char uid[WK_ID_MAX + 1];
	const struct lastmsg *t = mailbox_lastmsg();
	struct mailbox_crows tmp = { 0 }, *c;
	uint32_t max, filter_max, keep = 0;
	uint8_t filter;
	size_t at;

	wk_get_str(req, uid, sizeof uid);
	max = wk_get_u32(req);
	filter = wk_get_u8(req);
	filter_max = wk_get_u32(req);
	if (wk_rbuf_done(req) < 0 || filter > FILTER_UNREAD)
		return -1;
	if ((c = mailbox_convcache_get(p, uid, &tmp, a)) == NULL)
		return 0;
	if (t == NULL || c->n > filter_max)
		filter = FILTER_NONE;
	wk_put_u8(&a->body, filter != FILTER_NONE);
	at = a->body.len;
	wk_put_u32(&a->body, 0);
	for (size_t i = 0; i < c->n && (max == 0 || keep < max); i++) {
		struct mailbox_crow *w = &c->v[i];
		if (filter != FILTER_NONE && !row_has_news(t, c, w, (enum rows_filter)filter))
			continue;
		wk_put_strn(&a->body, c->ids + w->id, w->idlen);
		wk_put_u8(&a->body, w->type);
		wk_put_u32(&a->body, w->readed_to);
		wk_put_u32(&a->body, w->deleted_at);
		wk_put_u64(&a->body, w->updated_ms);
		keep++;
	}
	wk_be32_put(a->body.p + at, keep);
	mailbox_crows_free(&tmp);
	return 0;
}
