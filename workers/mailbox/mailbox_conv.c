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
 *               asked (0: all)
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
	rc = row_get(p, txn, &k, &r);
	if (rc == 1) {
		r.deleted_at = at;
		rc = row_put(p, txn, &k, &r);
	}
	wk_wbuf_free(&k);
	mailbox_txn_end(txn, rc >= 0, a);
	return 0;
}

/* One row of conv.rows, as read from convs.db. */
struct rowv {
	const char *id;
	size_t idlen;
	uint8_t type;
	struct row r;
};

static int
by_updated_desc(const void *a, const void *b)
{
	uint64_t x = ((const struct rowv *)a)->r.updated_ms, y = ((const struct rowv *)b)->r.updated_ms;

	return x < y ? 1 : x > y ? -1 : 0;
}

/* conv.rows: the uid's rows (a prefix walk), newest update first, at most
 * max (0: all; /conversation/sync applies conversation.userMaxCount itself,
 * once it knows the channels' last messages). */
int
mailbox_op_conv_rows(struct wk_proc *p, struct wk_rbuf *req, struct wk_answer *a)
{
	char uid[WK_ID_MAX + 1];
	size_t plen, n = 0, cap = 0, keep;
	uint32_t max;
	DBT key = { 0 }, data = { 0 };
	struct rowv *v = NULL;
	struct row r;
	DBC *cur;
	int rc;

	wk_get_str(req, uid, sizeof uid);
	max = wk_get_u32(req);
	if (wk_rbuf_done(req) < 0)
		return -1;
	plen = strlen(uid) + 1;
	key.data = uid;
	key.size = (u_int32_t)plen;
	if ((rc = p->db[MAILBOX_DB_CONVS]->cursor(p->db[MAILBOX_DB_CONVS],
	    mailbox_txn_begin(p, NULL), &cur, 0)) != 0) {
		wk_log_warnx("convs.db cursor: %s", db_strerror(rc));
		wk_answer_error(a, 500, "storage error");
		return 0;
	}
	/* The keys and values stay valid only until the next get: copy ids. */
	for (rc = cur->get(cur, &key, &data, DB_SET_RANGE); rc == 0;
	    rc = cur->get(cur, &key, &data, DB_NEXT)) {
		if (key.size <= plen || memcmp(key.data, uid, plen) != 0)
			break;
		if (row_decode(&r, data.data, data.size) < 0)
			continue;
		wk_grow(&v, &cap, (n + 1) * sizeof *v);
		v[n].idlen = key.size - plen - 1;
		v[n].id = wk_strndup((const char *)key.data + plen + 1, v[n].idlen);
		v[n].type = ((const uint8_t *)key.data)[plen];
		v[n++].r = r;
	}
	cur->close(cur);
	qsort(v, n, sizeof *v, by_updated_desc);
	keep = max == 0 || n < max ? n : max;
	if (mailbox_walk_end(a, rc, "convs.db") == 0) {
		wk_put_u32(&a->body, (uint32_t)keep);
		for (size_t i = 0; i < keep; i++) {
			wk_put_strn(&a->body, v[i].id, v[i].idlen);
			wk_put_u8(&a->body, v[i].type);
			wk_put_u32(&a->body, v[i].r.readed_to);
			wk_put_u32(&a->body, v[i].r.deleted_at);
			wk_put_u64(&a->body, v[i].r.updated_ms);
		}
	}
	for (size_t i = 0; i < n; i++)
		free((void *)v[i].id);
	free(v);
	return 0;
}
