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
 * API_REQ ops (JSON from wk-api):
 *   conv.rows   {uid}  [[channel_id, type, readed_to, deleted_at, updated_ms],
 *               ...] newest update first, at most conversation.userMaxCount
 *   conv.set    {uids, channel_id, channel_type, read_to, mode}  OK; mode
 *               "reset" (membership: read_to, deleted-at cleared), "forward"
 *               (created if missing; read_to only advances), "missing"
 *               (created with read_to only if missing)
 *   conv.remove {uids, channel_id, channel_type}  OK
 *   conv.delete {uid, channel_id, channel_type, deleted_at}  OK (no row: OK)
 */
#include <stdlib.h>
#include <string.h>
#include "mailbox.h"
#include "wk_alloc.h"
#include "wk_buf.h"
#include "wk_db.h"
#include "wk_json.h"
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

/* The request's uids: "uids" or the single "uid". */
static json_t *
req_uids(json_t *req)
{
	json_t *uids = json_object_get(req, "uids");

	return uids ? json_incref(uids) : json_pack("[s]", wk_jstr(req, "uid"));
}

void
mailbox_op_conv_set(struct wk_proc *p, json_t *req, struct mailbox_reply *rep)
{
	const char *mode = wk_jstr(req, "mode"), *id = wk_jstr(req, "channel_id");
	uint8_t type = (uint8_t)wk_jint(req, "channel_type");
	json_int_t to = wk_jint(req, "read_to");
	enum set_mode m = strcmp(mode, "reset") == 0 ? SET_RESET :
	    strcmp(mode, "forward") == 0 ? SET_FORWARD : SET_MISSING;
	json_t *uids = req_uids(req), *v;
	DB_TXN *txn;
	size_t i;
	int ok = 1;

	if ((txn = mailbox_txn_begin(p, rep)) != NULL) {
		json_array_foreach(uids, i, v)
			if (ok && json_is_string(v))
				ok = row_set(p, txn, json_string_value(v), id, type,
				    to < 0 ? 0 : to > UINT32_MAX ? UINT32_MAX : (uint32_t)to, m) == 0;
		if (mailbox_txn_end(txn, ok, rep) == 0)
			mailbox_reply_status(rep, 200);
	}
	json_decref(uids);
}

void
mailbox_op_conv_remove(struct wk_proc *p, json_t *req, struct mailbox_reply *rep)
{
	json_t *uids = req_uids(req), *v;
	struct wk_wbuf k;
	DB_TXN *txn;
	size_t i;
	int ok = 1;

	if ((txn = mailbox_txn_begin(p, rep)) != NULL) {
		json_array_foreach(uids, i, v) {
			if (!ok || !json_is_string(v))
				continue;
			row_key(&k, json_string_value(v), wk_jstr(req, "channel_id"),
			    (uint8_t)wk_jint(req, "channel_type"));
			ok = wk_db_del(p->db[MAILBOX_DB_CONVS], txn, k.p, k.len) == 0;
			wk_wbuf_free(&k);
		}
		if (mailbox_txn_end(txn, ok, rep) == 0)
			mailbox_reply_status(rep, 200);
	}
	json_decref(uids);
}

/* conv.delete: the conversation is hidden until a message newer than
 * deleted_at arrives (the row must exist, as the reference). */
void
mailbox_op_conv_delete(struct wk_proc *p, json_t *req, struct mailbox_reply *rep)
{
	json_int_t at = wk_jint(req, "deleted_at");
	struct row r;
	struct wk_wbuf k;
	DB_TXN *txn;
	int rc;

	if ((txn = mailbox_txn_begin(p, rep)) == NULL)
		return;
	row_key(&k, wk_jstr(req, "uid"), wk_jstr(req, "channel_id"),
	    (uint8_t)wk_jint(req, "channel_type"));
	rc = row_get(p, txn, &k, &r);
	if (rc == 1) {
		r.deleted_at = at < 0 ? 0 : at > UINT32_MAX ? UINT32_MAX : (uint32_t)at;
		rc = row_put(p, txn, &k, &r);
	}
	wk_wbuf_free(&k);
	if (mailbox_txn_end(txn, rc >= 0, rep) == 0)
		mailbox_reply_status(rep, 200);
}

static int
by_updated_desc(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_array_get(*(json_t *const *)a, 4));
	json_int_t y = json_integer_value(json_array_get(*(json_t *const *)b, 4));

	return x < y ? 1 : x > y ? -1 : 0;
}

/* conv.rows: every row of the uid (a prefix walk), newest update first. */
void
mailbox_op_conv_rows(struct wk_proc *p, json_t *req, struct mailbox_reply *rep)
{
	const char *uid = wk_jstr(req, "uid");
	size_t plen = strlen(uid) + 1, n = 0, cap = 0;
	DBT key = { .data = (void *)uid, .size = (u_int32_t)plen }, data = { 0 };
	json_t **v = NULL, *out;
	struct row r;
	DBC *cur;
	int rc;

	if ((rc = p->db[MAILBOX_DB_CONVS]->cursor(p->db[MAILBOX_DB_CONVS],
	    mailbox_txn_begin(p, NULL), &cur, 0)) != 0) {
		wk_log_warnx("convs.db cursor: %s", db_strerror(rc));
		mailbox_reply_error(rep, 500, "storage error");
		return;
	}
	for (rc = cur->get(cur, &key, &data, DB_SET_RANGE); rc == 0;
	    rc = cur->get(cur, &key, &data, DB_NEXT)) {
		if (key.size <= plen || memcmp(key.data, uid, plen) != 0)
			break;
		if (row_decode(&r, data.data, data.size) < 0)
			continue;
		wk_grow(&v, &cap, (n + 1) * sizeof *v);
		v[n++] = json_pack("[s#,i,I,I,I]", (const char *)key.data + plen + 1,
		    (size_t)(key.size - plen - 1), ((const uint8_t *)key.data)[plen],
		    (json_int_t)r.readed_to, (json_int_t)r.deleted_at, (json_int_t)r.updated_ms);
	}
	cur->close(cur);
	qsort(v, n, sizeof *v, by_updated_desc);
	out = json_array();
	for (size_t i = 0; i < n; i++) {
		if ((long long)i < p->cfg.conversation_userMaxCount)
			json_array_append(out, v[i]);
		json_decref(v[i]);
	}
	free(v);
	mailbox_reply_walk(rep, rc, "convs.db", out);
}
