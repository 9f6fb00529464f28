/* wk_msgtypes.h - the one list of internal message types (an X-macro).
 *
 * X(NAME, value, description).  Values are stable on the wire between
 * processes of one build; WK_MSG_VERSION is bumped on every change to this
 * list or to a payload layout, and a peer speaking another version is refused
 * by the dispatcher.  Names are WK_MSG_<TARGET>_<EVENT>.  Payloads are one
 * frame written with wk_buf.h unless said otherwise.
 */
#ifndef WK_MSG_VERSION
#define WK_MSG_VERSION 5
#endif
/* User flags carried by AUTH replies and BROKER_USER_FLAGS. */
#ifndef WK_USER_SEND_BAN
#define WK_USER_SEND_BAN 0x01
#endif
#ifdef X
/* Any process: introspection (wkctl status, tests). */
X(STATUS_REQ, 1, "report pid, uptime, role, instance, queue depths")
X(STATUS_REP, 2, "reply to STATUS_REQ: one text frame of key=value pairs")
X(PING_REQ, 3, "liveness probe; echoed as PING_REP with the same payload")
X(PING_REP, 4, "reply to PING_REQ")

/* Connections: broker <-> mailbox shard of the uid. */
X(MAILBOX_AUTH, 10, "broker: u16 broker, u64 conn, u8 device_flag, u8 proto, str uid, str token, str device_id")
X(BROKER_AUTH_REP, 11, "mailbox: u64 conn, u8 reason, u8 device_level, str uid, u8 user flags")
X(MAILBOX_CONN_CLOSED, 12, "broker: u16 broker, u64 conn, str uid")
X(BROKER_KICK, 13, "mailbox: u64 conn, u8 reason, u32 delay_ms, u8 send_disconnect, str text")
X(MAILBOX_BROKER_HELLO, 14, "broker started: u16 broker, u32 pid; drop its older connections")
X(BROKER_MAILBOX_HELLO, 15, "mailbox started: u16 mailbox; brokers restore its users' connections")
X(MAILBOX_CONN_RESTORE, 16, "broker: as MAILBOX_AUTH plus u8 device_level, no token check")
X(BROKER_USER_FLAGS, 17, "mailbox: u64 conn, u8 user flags (WK_USER_SEND_BAN)")

/* HTTP API requests: api -> shard, shard -> api.  Frames: op name, JSON body. */
X(API_REQ, 20, "api: frame 1 op (text), frame 2 JSON request")
X(API_REP, 21, "shard: frame 1 HTTP status (text), frame 2 JSON body")

/* Messages: broker/api -> channel shard -> brokers.  See channel_append.c. */
X(CHANNEL_APPEND, 30, "broker: u16 broker, u64 conn, u32 client_seq, then the message (wk_chmsg)")
X(BROKER_SENDACK, 31, "channel: u64 conn, u32 client_seq, u8 flags, u64 message_id, u32 seq, u8 reason")
X(BROKER_DELIVER, 32, "channel: frame 1 the message (wk_chmsg), frame 2 u64 target conns")
X(API_SENDACK, 33, "channel: the answer to an api append: u64 message_id, u32 seq, u8 reason")
X(CHANNEL_PERSON_CHECK, 34, "channel: u64 corr, str to, str from, u8 need whitelist: may from write to to?")
X(CHANNEL_PERSON_CHECK_REP, 35, "channel: u64 corr, u8 reason (1 ok, 4 blacklisted, 13 not whitelisted)")
#endif /* X */
