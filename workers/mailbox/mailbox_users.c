/* mailbox_users.c - a mailbox shard's user store and the HTTP API
 * operations on it (wk-mailbox(8)).
 *
 * users.db (p->db[MAILBOX_DB_USERS]) is a btree in the shard's transactional environment.
 * Keys are a kind letter, '/', the uid; uids come from JSON strings, which
 * cannot hold NUL, so NUL separates the uid from what follows it:
 *   u/<uid>                  u64 created_at (ms)   the user exists
 *   t/<uid> NUL <flag u8>    u8 level, token       one device's token
 *   f/<uid>                  u8 ban, send_ban, disband, large, allow_stranger
 *                                                  (the person channel's flags)
 *   s/<uid>                  (empty)               a system account
 * Every shard holds the whole system uid set (wk-api writes each change to
 * every shard), so mailbox_is_system_uid answers for any uid; an in-memory
 * set, loaded on first use, mirrors it (and is dropped when a commit
 * fails).  Every operation reads and writes in the iteration's transaction
 * (p->txn, wk_txn.h), committed once in on_iteration; the API_REP leaves
 * after it (durability as storage.sync says), 500 if it failed.
 *
 * API_REQ from wk-api: frame 1 the op, frame 2 a JSON object; the API_REP
 * is [HTTP status, JSON body] in the reference's shape:
 *   user.token        {uid, token, device_flag, device_level}  OK, {"status":19} if banned
 *   user.device_quit  {uid, device_flag (-1: all)}             OK
 *   user.flags        {uid, ban, send_ban, disband, large, allow_stranger}  OK
 *   user.sysuid_add, user.sysuid_remove  {uids: [...]}         OK
 *   user.sysuid_list  {}                                       the uids, an array
 */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "wk_chmsg.h"
#include "wk_json.h"
#include "mailbox.h"
#include "wk_alloc.h"
#include "wk_buf.h"
#include "wk_db.h"
#include "wk_log.h"
#include "wk_time.h"
#include "wk_txn.h"
#include "wkproto.h"

#define TOKEN_KICK_MS 10000          /* /user/token device_level 1: close the old connections after */
#define QUIT_KICK_MS 2000            /* /user/device_quit: close after */

enum { F_BAN, F_SEND_BAN, F_DISBAND, F_LARGE, F_ALLOW_STRANGER, F_COUNT };
static const char *const flag_names[F_COUNT] = {
	"ban", "send_ban", "disband", "large", "allow_stranger",
};

static zhashx_t *sysuids;            /* the system uid set; NULL until loaded */
static int sysuid_present = 1;       /* the item stored for each key */

void
mailbox_reply_error(struct mailbox_reply *rep, unsigned status, const char *msg)
{
	rep->status = status;
	rep->body = wk_json_error(msg, (int)status);
}

void
mailbox_reply_walk(struct mailbox_reply *rep, int rc, const char *db, json_t *out)
{
	if (rc != 0 && rc != DB_NOTFOUND) {
		wk_log_warnx("%s walk: %s", db, db_strerror(rc));
		json_decref(out);
		mailbox_reply_error(rep, 500, "storage error");
		return;
	}
	rep->status = 200;
	rep->body = out;
}

void
mailbox_reply_status(struct mailbox_reply *rep, int status)
{
	rep->status = 200;
	rep->body = wk_json_status(status);
}

/* key = kind '/' uid */
static void
user_key(struct wk_wbuf *k, char kind, const char *uid)
{
	wk_wbuf_init(k);
	wk_put_u8(k, (uint8_t)kind);
	wk_put_u8(k, '/');
	wk_put_mem(k, uid, strlen(uid));
}

static void
token_key(struct wk_wbuf *k, const char *uid, uint8_t device_flag)
{
	user_key(k, 't', uid);
	wk_put_u8(k, 0);
	wk_put_u8(k, device_flag);
}

/* users.db rows by a built key (wk_db.h). */
static int
db_get(struct wk_proc *p, DB_TXN *txn, const struct wk_wbuf *k, uint8_t **val, size_t *len)
{
	return wk_db_get(p->db[MAILBOX_DB_USERS], txn, k->p, k->len, val, len);
}

static int
db_exists(struct wk_proc *p, DB_TXN *txn, const struct wk_wbuf *k)
{
	return wk_db_exists(p->db[MAILBOX_DB_USERS], txn, k->p, k->len);
}

static int
db_put(struct wk_proc *p, DB_TXN *txn, const struct wk_wbuf *k, const void *v, size_t vlen)
{
	return wk_db_put(p->db[MAILBOX_DB_USERS], txn, k->p, k->len, v, vlen);
}

static int
db_del(struct wk_proc *p, DB_TXN *txn, const struct wk_wbuf *k)
{
	return wk_db_del(p->db[MAILBOX_DB_USERS], txn, k->p, k->len);
}

static struct wk_txn *group;         /* p->txn, for mailbox_txn_end */

/* The iteration's transaction (p->txn); NULL (and rep is 500) on failure. */
DB_TXN *
mailbox_txn_begin(struct wk_proc *p, struct mailbox_reply *rep)
{
	DB_TXN *txn = wk_txn_get(group = p->txn);

	if (txn == NULL && rep)
		mailbox_reply_error(rep, 500, "storage error");
	return txn;
}

/* The operation's writes are done: 0 if ok (the reply waits for the
 * commit), else the transaction is marked failed (the commit aborts it),
 * rep is 500 and -1. */
int
mailbox_txn_end(DB_TXN *txn, int ok, struct mailbox_reply *rep)
{
	if (ok)
		return 0;
	wk_txn_fail(group);
	if (rep)
		mailbox_reply_error(rep, 500, "storage error");
	return -1;
}

void
mailbox_users_txn_ended(struct wk_proc *p, int rc)
{
	if (rc < 0)
		zhashx_destroy(&sysuids);   /* it may hold what was not committed: reload */
}

/* The user's flags (zero when never set): 0, or -1 on error. */
static int
flags_get(struct wk_proc *p, DB_TXN *txn, const char *uid, uint8_t flags[F_COUNT])
{
	struct wk_wbuf k;
	uint8_t *v = NULL;
	size_t n = 0;
	int rc;

	memset(flags, 0, F_COUNT);
	user_key(&k, 'f', uid);
	rc = db_get(p, txn, &k, &v, &n);
	wk_wbuf_free(&k);
	if (rc == 1)
		memcpy(flags, v, n < F_COUNT ? n : F_COUNT);
	free(v);
	return rc < 0 ? -1 : 0;
}

int
mailbox_user_token(struct wk_proc *p, const char *uid, uint8_t device_flag,
    char token[MAILBOX_TOKEN_MAX], uint8_t *device_level)
{
	struct wk_wbuf k;
	uint8_t *v = NULL;
	size_t n = 0;
	int rc;

	token_key(&k, uid, device_flag);
	rc = db_get(p, mailbox_txn_begin(p, NULL), &k, &v, &n);
	wk_wbuf_free(&k);
	if (rc == 1 && (n < 1 || n > MAILBOX_TOKEN_MAX)) {
		wk_log_warnx("users.db: bad token record for %s/%u", uid, device_flag);
		rc = 0;
	}
	if (rc == 1) {
		*device_level = v[0];
		memcpy(token, v + 1, n - 1);
		token[n - 1] = '\0';
	}
	free(v);
	return rc == 1;
}

int
mailbox_user_is_banned(struct wk_proc *p, const char *uid)
{
	uint8_t flags[F_COUNT];

	return flags_get(p, mailbox_txn_begin(p, NULL), uid, flags) == 0 && flags[F_BAN];
}

int
mailbox_user_is_send_banned(struct wk_proc *p, const char *uid)
{
	uint8_t flags[F_COUNT];

	return flags_get(p, mailbox_txn_begin(p, NULL), uid, flags) == 0 && flags[F_SEND_BAN];
}

/* Load the system uid set from users.db: 0, or -1 (it stays unloaded). */
static int
sysuid_load(struct wk_proc *p)
{
	char prefix[] = "s/", *uid;
	DBT key = { .data = prefix, .size = 2 }, data = { 0 };
	DBC *cur;
	int rc;

	if (sysuids)
		return 0;
	if ((rc = p->db[MAILBOX_DB_USERS]->cursor(p->db[MAILBOX_DB_USERS],
	    mailbox_txn_begin(p, NULL), &cur, 0)) != 0) {
		wk_log_warnx("users.db cursor: %s", db_strerror(rc));
		return -1;
	}
	sysuids = zhashx_new();
	for (rc = cur->get(cur, &key, &data, DB_SET_RANGE); rc == 0;
	    rc = cur->get(cur, &key, &data, DB_NEXT)) {
		if (key.size < 2 || memcmp(key.data, "s/", 2) != 0)
			break;
		uid = wk_strndup((const char *)key.data + 2, key.size - 2);
		zhashx_insert(sysuids, uid, &sysuid_present);
		free(uid);
	}
	cur->close(cur);
	if (rc != 0 && rc != DB_NOTFOUND) {
		wk_log_warnx("users.db system uids: %s", db_strerror(rc));
		zhashx_destroy(&sysuids);
		return -1;
	}
	return 0;
}

int
mailbox_is_system_uid(struct wk_proc *p, const char *uid)
{
	if (strcmp(uid, WK_SYSTEM_UID) == 0)
		return 1;
	return sysuid_load(p) == 0 && zhashx_lookup(sysuids, uid) != NULL;
}

/* user.token: store the token and level unless the user is banned; a
 * master-level token kicks the uid's connections with that device flag. */
static void
op_token(struct wk_proc *p, json_t *req, struct mailbox_reply *rep)
{
	const char *uid = wk_jstr(req, "uid"), *token = wk_jstr(req, "token");
	uint8_t flag = (uint8_t)wk_jint(req, "device_flag"), level = (uint8_t)wk_jint(req, "device_level");
	size_t tlen = strlen(token);
	uint8_t flags[F_COUNT];
	struct wk_wbuf k, val;
	DB_TXN *txn;
	int ok, rc;

	if (tlen >= MAILBOX_TOKEN_MAX) {
		mailbox_reply_error(rep, 400, "token is longer than 511 bytes");
		return;
	}
	if ((txn = mailbox_txn_begin(p, rep)) == NULL)
		return;
	ok = flags_get(p, txn, uid, flags) == 0;
	if (ok && flags[F_BAN]) {
		mailbox_reply_status(rep, WKPROTO_REASON_BAN);   /* nothing written */
		return;
	}
	/* The user record, created once. */
	wk_wbuf_init(&val);
	user_key(&k, 'u', uid);
	if (ok && (rc = db_exists(p, txn, &k)) >= 0) {
		wk_put_u64(&val, (uint64_t)wk_wall_ms());
		ok = rc == 1 || db_put(p, txn, &k, val.p, val.len) == 0;
	} else
		ok = 0;
	wk_wbuf_free(&k);
	/* The device's token. */
	val.len = 0;
	wk_put_u8(&val, level);
	wk_put_mem(&val, token, tlen);
	token_key(&k, uid, flag);
	ok = ok && db_put(p, txn, &k, val.p, val.len) == 0;
	wk_wbuf_free(&k);
	wk_wbuf_free(&val);
	if (mailbox_txn_end(txn, ok, rep) < 0)
		return;
	if (level == WKPROTO_DEVICE_LEVEL_MASTER)
		mailbox_kick(p, uid, flag, "账号在其他设备上登录", TOKEN_KICK_MS);
	mailbox_reply_status(rep, 200);
}

/* user.device_quit: clear the stored token of the device flag (-1: APP, WEB
 * and PC) where one exists, and kick the uid's connections with that flag. */
static void
op_device_quit(struct wk_proc *p, json_t *req, struct mailbox_reply *rep)
{
	static const uint8_t cleared = WKPROTO_DEVICE_LEVEL_MASTER;  /* level, empty token */
	const char *uid = wk_jstr(req, "uid");
	json_int_t flag = wk_jint(req, "device_flag");
	int from = (int)flag, to = (int)flag, ok = 1, rc;
	struct wk_wbuf k;
	DB_TXN *txn;

	if (flag == -1)
		from = 0, to = 2;
	else if (flag < 0 || flag > 255) {
		mailbox_reply_status(rep, 200);
		return;
	}
	if ((txn = mailbox_txn_begin(p, rep)) == NULL)
		return;
	for (int f = from; ok && f <= to; f++) {
		token_key(&k, uid, (uint8_t)f);
		rc = db_exists(p, txn, &k);
		ok = rc == 0 || (rc == 1 && db_put(p, txn, &k, &cleared, 1) == 0);
		wk_wbuf_free(&k);
	}
	if (mailbox_txn_end(txn, ok, rep) < 0)
		return;
	mailbox_kick(p, uid, (int)flag, "", QUIT_KICK_MS);
	mailbox_reply_status(rep, 200);
}

/* user.flags: the person channel's flags, all overwritten. */
static void
op_flags(struct wk_proc *p, json_t *req, struct mailbox_reply *rep)
{
	uint8_t flags[F_COUNT];
	struct wk_wbuf k;
	DB_TXN *txn;
	int ok;

	for (int i = 0; i < F_COUNT; i++)
		flags[i] = wk_jint(req, flag_names[i]) == 1;
	if ((txn = mailbox_txn_begin(p, rep)) == NULL)
		return;
	user_key(&k, 'f', wk_jstr(req, "uid"));
	ok = db_put(p, txn, &k, flags, F_COUNT) == 0;
	wk_wbuf_free(&k);
	if (mailbox_txn_end(txn, ok, rep) == 0) {
		/* Connected devices learn the new send-ban at once. */
		mailbox_conn_flags_changed(p, wk_jstr(req, "uid"), flags[F_SEND_BAN]);
		mailbox_reply_status(rep, 200);
	}
}

/* user.sysuid_add / user.sysuid_remove: one transaction for the list. */
static void
sysuid_change(struct wk_proc *p, json_t *req, struct mailbox_reply *rep, int add)
{
	json_t *uids = json_object_get(req, "uids"), *v;
	struct wk_wbuf k;
	DB_TXN *txn;
	size_t i;
	int ok = 1;

	if ((txn = mailbox_txn_begin(p, rep)) == NULL)
		return;
	json_array_foreach(uids, i, v) {
		if (!ok || !json_is_string(v))
			continue;
		user_key(&k, 's', json_string_value(v));
		ok = (add ? db_put(p, txn, &k, "", 0) : db_del(p, txn, &k)) == 0;
		wk_wbuf_free(&k);
	}
	if (mailbox_txn_end(txn, ok, rep) < 0)
		return;
	if (sysuids)
		json_array_foreach(uids, i, v) {
			if (!json_is_string(v))
				continue;
			if (add)
				zhashx_insert(sysuids, json_string_value(v), &sysuid_present);
			else
				zhashx_delete(sysuids, json_string_value(v));
		}
	mailbox_reply_status(rep, 200);
}

static void
op_sysuid_add(struct wk_proc *p, json_t *req, struct mailbox_reply *rep)
{
	sysuid_change(p, req, rep, 1);
}

static void
op_sysuid_remove(struct wk_proc *p, json_t *req, struct mailbox_reply *rep)
{
	sysuid_change(p, req, rep, 0);
}

static int
uid_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* user.sysuid_list: the set, sorted. */
static void
op_sysuid_list(struct wk_proc *p, json_t *req, struct mailbox_reply *rep)
{
	json_t *out;
	zlistx_t *keys;

	if (sysuid_load(p) < 0) {
		mailbox_reply_error(rep, 500, "storage error");
		return;
	}
	out = json_array();
	keys = zhashx_keys(sysuids);
	zlistx_set_comparator(keys, uid_cmp);
	zlistx_sort(keys);
	for (const char *uid = zlistx_first(keys); uid; uid = zlistx_next(keys))
		json_array_append_new(out, json_string(uid));
	zlistx_destroy(&keys);
	rep->status = 200;
	rep->body = out;
}

static const struct {
	const char *name;
	void (*fn)(struct wk_proc *p, json_t *req, struct mailbox_reply *rep);
} ops[] = {
	{ "user.token", op_token },
	{ "user.device_quit", op_device_quit },
	{ "user.flags", op_flags },
	{ "user.sysuid_add", op_sysuid_add },
	{ "user.sysuid_remove", op_sysuid_remove },
	{ "user.sysuid_list", op_sysuid_list },
	{ "conv.rows", mailbox_op_conv_rows },
	{ "conv.set", mailbox_op_conv_set },
	{ "conv.remove", mailbox_op_conv_remove },
	{ "conv.delete", mailbox_op_conv_delete },
	{ "cmd.sync", mailbox_op_cmd_sync },
	{ "cmd.syncack", mailbox_op_cmd_syncack },
};

/* An API_REP waiting for the commit. */
struct api_pending {
	struct wk_msg_hdr h;
	struct mailbox_reply rep;
};

/* Send the reply once the transaction has ended: as made if it committed,
 * 500 if it did not. */
static void
api_reply(struct wk_proc *p, int rc, void *arg)
{
	struct api_pending *a = arg;
	zmsg_t *out;
	char *text;

	if (rc < 0) {
		json_decref(a->rep.body);
		mailbox_reply_error(&a->rep, 500, "storage error");
	}
	text = json_dumps(a->rep.body, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(a->rep.body);
	out = zmsg_new();
	zmsg_addstrf(out, "%u", a->rep.status);
	zmsg_addmem(out, text, strlen(text));
	free(text);
	wk_proc_reply(p, &a->h, WK_MSG_API_REP, &out);
	free(a);
}

/* API_REQ.  A malformed request from wk-api is a bug there (exit, as for
 * any bad internal message); from a tool it is answered 400.  What the op
 * read and wrote is in the iteration's transaction: the answer waits for
 * its commit. */
void
mailbox_on_api(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg)
{
	zframe_t *fop = zmsg_first(msg), *fbody = zmsg_next(msg);
	struct api_pending *a = wk_calloc(1, sizeof *a);
	json_t *req;
	size_t i, n = sizeof ops / sizeof ops[0];

	a->h = *h;
	for (i = 0; i < n; i++)
		if (zframe_streq(fop, ops[i].name))
			break;
	req = json_loadb((const char *)zframe_data(fbody), zframe_size(fbody), 0, NULL);
	if (i == n || !json_is_object(req)) {
		if (h->sender_role == WK_ROLE_API)
			wk_fatalx("API_REQ from api/%u: %s", h->sender_instance,
			    i == n ? "unknown op" : "body is not a JSON object");
		mailbox_reply_error(&a->rep, 400, i == n ? "unknown op" : "body is not a JSON object");
	} else
		ops[i].fn(p, req, &a->rep);
	json_decref(req);
	if (!wk_txn_is_open(p->txn))
		api_reply(p, 0, a);      /* it touched no database */
	else if (wk_txn_after_commit(p->txn, api_reply, a) < 0)
		api_reply(p, -1, a);
}
