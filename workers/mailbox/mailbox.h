/* mailbox.h - wk-mailbox's private interfaces between its files.
 *   mailbox.c        main, dispatch table, presence region
 *   mailbox_conn.c   AUTH, connection registry, kick rules, presence writes
 *   mailbox_api.c    the HTTP API op rows (wk_msgtypes.h 100-119): decode,
 *                    run, answer (API_ANSWER) after the iteration's commit
 *   mailbox_users.c  the user store (tokens, levels, flags, system uids),
 *                    the iteration's transaction
 *   mailbox_conv.c   conversation rows (read cursor, deleted-at) per user
 *   mailbox_convcache.c  hot users' rows in memory, for conv.rows
 *   mailbox_cmd.c    cmd mailboxes: hand-over from the channel shards,
 *                    delivery, acknowledgement, /message/sync
 *   mailbox_webhook.c  user.onlinestatus facts for wk-hook
 */
#ifndef MAILBOX_H
#define MAILBOX_H
#include <stdint.h>
#include <db.h>
#include "lastmsg.h"
#include "presence.h"
#include "wk_answer.h"
#include "wk_buf.h"
#include "wk_proc.h"

#define MAILBOX_TOKEN_MAX 512

/* The databases, in the order of the skeleton's list (p->db[i]). */
enum mailbox_db {
	MAILBOX_DB_USERS,            /* "users.db": tokens, flags, system uids */
	MAILBOX_DB_CONVS,            /* "convs.db": conversation rows */
	MAILBOX_DB_CMD,              /* "cmdbox.db": cmd mailboxes and hand-over cursors */
	MAILBOX_DB_COUNT
};

/* An HTTP API op: decode req (the row's payload) and fill a.  0, or -1 if
 * req does not decode (then nothing was done). */
typedef int mailbox_op_fn(struct wk_proc *p, struct wk_rbuf *req, struct wk_answer *a);

/* ---- mailbox.c ---- */
/* The last-message table, read-only; NULL without one (a shard run alone). */
const struct lastmsg *mailbox_lastmsg(void);

/* ---- mailbox_presence.c: this host's presence region, written only
 * there; in a cluster copied from the master to every host ---- */
struct presence *mailbox_presence(void);
/* Attach the segment, rebuild the region (a writer may have died in it). */
int mailbox_presence_open(struct wk_proc *p);
void mailbox_presence_close(void);
/* The master begins: the region to the copies, and each change after it. */
int mailbox_presence_start(struct wk_proc *p);
/* Once a second: a host that (re)joined gets the region; one gone too long
 * loses its connections (mailbox_conn_drop_node). */
void mailbox_presence_tick(struct wk_proc *p);
/* The region's writes (they reach the copies too); as presence_add,
 * presence_remove, presence_remove_if. */
int mailbox_presence_add(struct wk_proc *p, const struct presence_conn *c);
void mailbox_presence_remove(struct wk_proc *p, const char *uid, uint16_t broker_id,
    uint64_t conn);
int mailbox_presence_remove_if(struct wk_proc *p,
    int (*drop)(const struct presence_conn *, void *), void *arg);
void mailbox_on_presence(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg);

/* ---- mailbox_users.c (the database is p->db[0], "users.db") ---- */
/* The stored token and device level for (uid, device_flag): 1 found, 0 none. */
int mailbox_user_token(struct wk_proc *p, const char *uid, uint8_t device_flag,
    char token[MAILBOX_TOKEN_MAX], uint8_t *device_level);
/* 1 if the user is banned (person-channel ban flag), else 0. */
int mailbox_user_is_banned(struct wk_proc *p, const char *uid);
/* 1 if the user may not send (person-channel send_ban flag), else 0. */
int mailbox_user_is_send_banned(struct wk_proc *p, const char *uid);
/* 1 if uid is a system account. */
int mailbox_is_system_uid(struct wk_proc *p, const char *uid);
mailbox_op_fn mailbox_op_user_token, mailbox_op_device_quit, mailbox_op_user_flags,
    mailbox_op_sysuid_add, mailbox_op_sysuid_remove, mailbox_op_sysuid_list;
/* The iteration's transaction (p->txn, wk_txn.h): every read and write of
 * the shard goes through it (one thread: never a lock wait).  NULL on
 * failure (a, if any, is 500). */
DB_TXN *mailbox_txn_begin(struct wk_proc *p, struct wk_answer *a);
/* An operation's writes are done: 0 if ok (its answer waits for the
 * iteration's commit), else -1: the transaction is marked failed and a,
 * if any, is 500. */
int mailbox_txn_end(DB_TXN *txn, int ok, struct wk_answer *a);
/* The transaction ended (wk_txn's hook): after a failed commit, forget
 * what memory holds of it. */
void mailbox_users_txn_ended(struct wk_proc *p, int rc);

/* ---- mailbox_api.c: the HTTP API op rows ---- */
/* Any op row from wk-api (or a tool): decode, run, answer after the commit. */
void mailbox_on_op(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg);
/* The end of a walk of db with rc: rc neither 0 nor DB_NOTFOUND is logged
 * and makes a 500.  0, or -1 after that. */
int mailbox_walk_end(struct wk_answer *a, int rc, const char *db);

/* ---- mailbox_conv.c: conversation rows (the ops of api_conv.c) ---- */
mailbox_op_fn mailbox_op_conv_rows, mailbox_op_conv_set, mailbox_op_conv_remove,
    mailbox_op_conv_delete;
/* Create (uid, id, type) with read position read_to unless it exists, in
 * txn: 0, or -1. */
int mailbox_conv_touch(struct wk_proc *p, DB_TXN *txn, const char *uid, const char *id,
    uint8_t type, uint32_t read_to);

/* One conversation row in memory; its id is ids + id in its mailbox_crows. */
struct mailbox_crow {
	size_t id;
	size_t idlen;
	uint8_t type;
	uint32_t readed_to, deleted_at;
	uint64_t created_ms, updated_ms;
	struct lastmsg_hint hint;    /* where the table keeps its channel */
};
/* A uid's rows in conv.rows order (newest update first, then key order). */
struct mailbox_crows {
	struct mailbox_crow *v;
	size_t n;
	char *ids;
};
/* A stored row's value into r's fields: 0, or -1 if it does not decode. */
int mailbox_conv_decode(struct mailbox_crow *r, const uint8_t *v, size_t n);

/* ---- mailbox_convcache.c: hot users' rows ---- */
/* The uid's rows, from memory or loaded from convs.db: held by the cache,
 * or (too many to hold) in *tmp, which the caller then frees with
 * mailbox_crows_free.  NULL on a storage error (a is 500).  Valid until
 * the next call. */
struct mailbox_crows *mailbox_convcache_get(struct wk_proc *p, const char *uid,
    struct mailbox_crows *tmp, struct wk_answer *a);
void mailbox_crows_free(struct mailbox_crows *c);
/* uid's rows are being written: forget them. */
void mailbox_convcache_forget(const char *uid);
/* A failed commit: forget every user. */
void mailbox_convcache_clear(void);
void mailbox_convcache_close(void);
int mailbox_convcache_status(char *buf, size_t len);

/* ---- mailbox_cmd.c: cmd mailboxes ---- */
mailbox_op_fn mailbox_op_cmd_sync, mailbox_op_cmd_syncack;
void mailbox_on_cmd(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg);
void mailbox_on_cmd_recvack(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg);
/* The transaction ended (wk_txn's hook): its outcome for the hand-overs. */
void mailbox_cmd_txn_ended(struct wk_proc *p, int rc);
/* After the iteration's commit: acknowledge the hand-overs it made durable
 * (CHANNEL_CMD_ACK), then deliver them. */
void mailbox_cmd_flush(struct wk_proc *p);
int mailbox_cmd_status(struct wk_proc *p, char *buf, size_t len);
/* A step of the bound on cmd mailboxes (cmd.maxAge, cmd.maxPerUser):
 * a tick's worth of records walked, what is past the bound deleted. */
void mailbox_cmd_bound_step(struct wk_proc *p);

/* ---- mailbox_conn.c ---- */
void mailbox_on_auth(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg);
void mailbox_on_conn_restore(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg);
void mailbox_on_conn_closed(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg);
void mailbox_on_broker_hello(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg);
/* Kick the connections of uid with device_flag (-1: every device flag):
 * DISCONNECT(12, text) then close after delay_ms.  Returns how many. */
int mailbox_kick(struct wk_proc *p, const char *uid, int device_flag,
    const char *text, uint32_t delay_ms);
/* The user's send-ban changed: tell the brokers holding its connections. */
void mailbox_conn_flags_changed(struct wk_proc *p, const char *uid, int send_ban);
/* Connections this shard knows for uid (all brokers). */
int mailbox_conn_count(const char *uid);
/* A cluster host gone: forget the connections its brokers held; how many. */
int mailbox_conn_drop_node(struct wk_proc *p, int node);

/* ---- mailbox_webhook.c ---- */
/* Webhook user.onlinestatus for a connection that came (online 1) or went,
 * after the presence table changed (wk-hook(8)); nothing when it is off. */
void mailbox_hook_onlinestatus(struct wk_proc *p, const char *uid, uint8_t device_flag,
    uint64_t conn_id, int online);

#endif
