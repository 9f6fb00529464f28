/* mailbox.h - wk-mailbox's private interfaces between its files.
 *   mailbox.c        main, dispatch table, presence region
 *   mailbox_conn.c   AUTH, connection registry, kick rules, presence writes
 *   mailbox_users.c  the user store (tokens, levels, flags, system uids) and
 *                    the API_REQ operations on users
 */
#ifndef MAILBOX_H
#define MAILBOX_H
#include <stdint.h>
#include "presence.h"
#include "wk_proc.h"

#define MAILBOX_TOKEN_MAX 512

/* ---- mailbox.c ---- */
struct presence *mailbox_presence(void);

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
/* API_REQ handler: ops on the users this shard owns. */
void mailbox_on_api(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg);

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

#endif
