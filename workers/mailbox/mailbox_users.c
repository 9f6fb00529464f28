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
 * (p->txn, wk_txn.h), committed once in on_iteration; the API_ANSWER leaves
 * after it (durability as storage.sync says), 500 if it failed.
 *
 * The HTTP API ops on users (rows MAILBOX_USER_TOKEN ... SYSUID_LIST in
 * wk_msgtypes.h; mailbox_api.c runs them).
 */
#include <stdlib.h>
#include <string.h>
#include "wk_chmsg.h"
#include "wk_channelid.h"
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

/* The person channel's flags, in the order MAILBOX_USER_FLAGS carries them. */
enum { F_BAN, F_SEND_BAN, F_DISBAND, F_LARGE, F_ALLOW_STRANGER, F_COUNT };

static zhashx_t *sysuids;            /* the system uid set; NULL until loaded */
static int sysuid_present = 1;       /* the item stored for each key */

/* key = kind '/' uid */
/* A users.db key: kind letter, '/', uid (layout in the header comment). */
static void
user_key(struct wk_wbuf *k, char kind, const char *uid)
{
	wk_wbuf_init(k);
	wk_put_u8(k, (uint8_t)kind);
	wk_put_u8(k, '/');
	wk_put_mem(k, uid, strlen(uid));
}

/* The key of one device's token: t/<uid> NUL <device flag>. */
static void
token_key(struct wk_wbuf *k, const char *uid, uint8_t device_flag)
{
	user_key(k, 't', uid);
	wk_put_u8(k, 0);
	wk_put_u8(k, device_flag);
}

/* users.db rows by a built key (wk_db.h). */
/* users.db access, all through wk_db (1 found / 0 not / -1 error). */
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

/* The iteration's transaction (p->txn); NULL (and a is 500) on failure. */
DB_TXN *
mailbox_txn_begin(struct wk_proc *p, struct wk_answer *a)
{
	DB_TXN *txn = wk_txn_get(group = p->txn);

	if (txn == NULL && a)
		wk_answer_error(a, 500, "storage error");
	return txn;
}

/* The operation's writes are done: 0 if ok (the answer waits for the
 * commit), else the transaction is marked failed (the commit aborts it),
 * a is 500 and -1. */
int
mailbox_txn_end(DB_TXN *txn, int ok, struct wk_answer *a)
{
	if (ok)
		return 0;
	wk_txn_fail(group);
	if (a)
		wk_answer_error(a, 500, "storage error");
	return -1;
}

/* The store's end-of-transaction hook: after an abort the in-memory system
 * uid set may hold uncommitted changes, so it is dropped and reloaded. */
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

/* The stored token and device level of (uid, device flag): 1 found, 0 not
 * (or a bad record, logged).  Read inside the iteration's transaction, so
 * a token set by /user/token earlier in the iteration is already seen. */
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

/* Whether the user is banned (AUTH refuses with reason 19). */
int
mailbox_user_is_banned(struct wk_proc *p, const char *uid)
{
	uint8_t flags[F_COUNT];

	return flags_get(p, mailbox_txn_begin(p, NULL), uid, flags) == 0 && flags[F_BAN];
}

/* Whether the user may not send (the broker refuses their SENDs). */
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
	for (rc = wk_db_cget(cur, &key, &data, DB_SET_RANGE); rc == 0;
	    rc = wk_db_cget(cur, &key, &data, DB_NEXT)) {
		if (key.size < 2 || memcmp(key.data, "s/", 2) != 0)
			break;
		uid = wk_strndup((const char *)key.data + 2, key.size - 2);
		zhashx_insert(sysuids, uid, &sysuid_present);
		free(uid);
	}
	cur->close(cur);
	wk_db_dbt_free(&key, &data);
	if (rc != 0 && rc != DB_NOTFOUND) {
		wk_log_warnx("users.db system uids: %s", db_strerror(rc));
		zhashx_destroy(&sysuids);
		return -1;
	}
	return 0;
}

/* Is uid a system account: the built-in system uid, or one added through
 * /user/systemuids_add (every shard holds the whole set). */
int
mailbox_is_system_uid(struct wk_proc *p, const char *uid)
{
	if (strcmp(uid, WK_SYSTEM_UID) == 0)
		return 1;
	return sysuid_load(p) == 0 && zhashx_lookup(sysuids, uid) != NULL;
}

/* user.token: store the token and level unless the user is banned; a
 * master-level token kicks the uid's connections with that device flag. */
int
mailbox_op_user_token(struct wk_proc *p, struct wk_rbuf *req, struct wk_answer *a)
{
	char uid[WK_ID_MAX + 1], token[MAILBOX_TOKEN_MAX];
	uint8_t flag, level, flags[F_COUNT];
	struct wk_wbuf k, val;
	size_t tlen;
	DB_TXN *txn;
	int ok, rc;

	wk_get_str(req, uid, sizeof uid);
	wk_get_str(req, token, sizeof token);
	flag = wk_get_u8(req);
	level = wk_get_u8(req);
	if (wk_rbuf_done(req) < 0)
		return -1;
	tlen = strlen(token);
	if ((txn = mailbox_txn_begin(p, a)) == NULL)
		return 0;
	ok = flags_get(p, txn, uid, flags) == 0;
	/* As the reference's permission check of the user's person channel:
	 * a status body, no token (banned before disbanded). */
	if (ok && (flags[F_BAN] || flags[F_DISBAND])) {
		wk_put_u16(&a->body, flags[F_BAN] ? WKPROTO_REASON_BAN : WKPROTO_REASON_DISBAND);
		return 0;
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
	if (mailbox_txn_end(txn, ok, a) < 0)
		return 0;
	if (level == WKPROTO_DEVICE_LEVEL_MASTER)
		mailbox_kick(p, uid, flag, "账号在其他设备上登录", TOKEN_KICK_MS);
	wk_put_u16(&a->body, 200);
	return 0;
}

/* user.device_quit: clear the stored token of the device flag (-1: APP, WEB
 * and PC) where one exists, and kick the uid's connections with that flag. */
int
mailbox_op_device_quit(struct wk_proc *p, struct wk_rbuf *req, struct wk_answer *a)
{
	static const uint8_t cleared = WKPROTO_DEVICE_LEVEL_MASTER;  /* level, empty token */
	char uid[WK_ID_MAX + 1];
	int64_t flag;
	int from, to, ok = 1, rc;
	struct wk_wbuf k;
	DB_TXN *txn;

	wk_get_str(req, uid, sizeof uid);
	flag = (int64_t)wk_get_u64(req);
	if (wk_rbuf_done(req) < 0)
		return -1;
	from = to = (int)flag;
	if (flag == -1)
		from = 0, to = 2;
	else if (flag < 0 || flag > 255)
		return 0;
	if ((txn = mailbox_txn_begin(p, a)) == NULL)
		return 0;
	for (int f = from; ok && f <= to; f++) {
		token_key(&k, uid, (uint8_t)f);
		rc = db_exists(p, txn, &k);
		ok = rc == 0 || (rc == 1 && db_put(p, txn, &k, &cleared, 1) == 0);
		wk_wbuf_free(&k);
	}
	if (mailbox_txn_end(txn, ok, a) < 0)
		return 0;
	mailbox_kick(p, uid, (int)flag, "", QUIT_KICK_MS);
	return 0;
}

/* user.flags: the person channel's flags, all overwritten. */
int
mailbox_op_user_flags(struct wk_proc *p, struct wk_rbuf *req, struct wk_answer *a)
{
	char uid[WK_ID_MAX + 1];
	uint8_t flags[F_COUNT];
	struct wk_wbuf k;
	DB_TXN *txn;
	int ok;

	wk_get_str(req, uid, sizeof uid);
	for (int i = 0; i < F_COUNT; i++)
		flags[i] = wk_get_u8(req) == 1;
	if (wk_rbuf_done(req) < 0)
		return -1;
	if ((txn = mailbox_txn_begin(p, a)) == NULL)
		return 0;
	user_key(&k, 'f', uid);
	ok = db_put(p, txn, &k, flags, F_COUNT) == 0;
	wk_wbuf_free(&k);
	if (mailbox_txn_end(txn, ok, a) == 0)
		/* Connected devices learn the new send-ban at once. */
		mailbox_conn_flags_changed(p, uid, flags[F_SEND_BAN]);
	return 0;
}

/* user.sysuid_add / user.sysuid_remove: one transaction for the list. */
static int
sysuid_change(struct wk_proc *p, struct wk_rbuf *req, struct wk_answer *a, int add)
{
	uint32_t n;
	char **uids = wk_get_strs(req, &n);
	struct wk_wbuf k;
	DB_TXN *txn;
	int ok = 1;

	if (wk_rbuf_done(req) < 0) {
		wk_strs_free(&uids);
		return -1;
	}
	if ((txn = mailbox_txn_begin(p, a)) == NULL)
		goto out;
	for (uint32_t i = 0; i < n && ok; i++) {
		user_key(&k, 's', uids[i]);
		ok = (add ? db_put(p, txn, &k, "", 0) : db_del(p, txn, &k)) == 0;
		wk_wbuf_free(&k);
	}
	if (mailbox_txn_end(txn, ok, a) < 0 || sysuids == NULL)
		goto out;
	for (uint32_t i = 0; i < n; i++)
		if (add)
			zhashx_insert(sysuids, uids[i], &sysuid_present);
		else
			zhashx_delete(sysuids, uids[i]);
out:
	wk_strs_free(&uids);
	return 0;
}

/* MAILBOX_SYSUID_ADD: add the uids to this shard's copy of the set. */
int
mailbox_op_sysuid_add(struct wk_proc *p, struct wk_rbuf *req, struct wk_answer *a)
{
	return sysuid_change(p, req, a, 1);
}

/* MAILBOX_SYSUID_REMOVE: remove them from this shard's copy. */
int
mailbox_op_sysuid_remove(struct wk_proc *p, struct wk_rbuf *req, struct wk_answer *a)
{
	return sysuid_change(p, req, a, 0);
}

/* zlistx comparator: the set is answered sorted by uid. */
static int
uid_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* user.sysuid_list: the set, sorted. */
int
mailbox_op_sysuid_list(struct wk_proc *p, struct wk_rbuf *req, struct wk_answer *a)
{
	zlistx_t *keys;

	if (wk_rbuf_done(req) < 0)
		return -1;
	if (sysuid_load(p) < 0) {
		wk_answer_error(a, 500, "storage error");
		return 0;
	}
	keys = zhashx_keys(sysuids);
	zlistx_set_comparator(keys, uid_cmp);
	zlistx_sort(keys);
	wk_put_u32(&a->body, (uint32_t)zlistx_size(keys));
	for (const char *uid = zlistx_first(keys); uid; uid = zlistx_next(keys))
		wk_put_str(&a->body, uid);
	zlistx_destroy(&keys);
	return 0;
}
