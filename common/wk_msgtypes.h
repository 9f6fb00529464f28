/* wk_msgtypes.h - the one list of internal message types (an X-macro).
 *
 * X(NAME, value, description).  Values are stable on the wire between
 * processes of one build; WK_MSG_VERSION is bumped on every change to this
 * list or to a payload layout, and a peer speaking another version is refused
 * by the dispatcher.  Names are WK_MSG_<TARGET>_<EVENT>.  Payloads are one
 * frame written with wk_buf.h unless said otherwise.
 */
#ifndef WK_MSG_VERSION
#define WK_MSG_VERSION 21
#endif
/* User flags carried by AUTH replies and BROKER_USER_FLAGS. */
#ifndef WK_USER_SEND_BAN
#define WK_USER_SEND_BAN 0x01
#endif
/* The channel flags byte of CHANNEL_UPSERT and CHANNEL_INFO, and the list
 * actions of CHANNEL_LIST (a list byte is 'm' subscribers, 'b' blacklist,
 * 'w' whitelist). */
#ifndef WK_CHANNEL_BAN
#define WK_CHANNEL_BAN 0x01
#define WK_CHANNEL_SEND_BAN 0x02
#define WK_CHANNEL_DISBAND 0x04
#define WK_CHANNEL_LARGE 0x08
#define WK_CHANNEL_ALLOW_STRANGER 0x10
#define WK_CHANNEL_LIST_ADD 1        /* add the uids */
#define WK_CHANNEL_LIST_SET 2        /* clear, then add (subscriber_add's reset) */
#define WK_CHANNEL_LIST_REMOVE 3
#define WK_CHANNEL_LIST_CLEAR 4      /* no uids */
#endif
/* BROKER_CONN_LIST's sort keys (the reference's /connz sort values; each
 * also descending).  Ties go by connection id. */
#ifndef WK_CONN_SORT_ID
#define WK_CONN_SORT_ID 0
#define WK_CONN_SORT_IN_MSG 1
#define WK_CONN_SORT_OUT_MSG 2
#define WK_CONN_SORT_IN_MSG_BYTES 3
#define WK_CONN_SORT_OUT_MSG_BYTES 4
#define WK_CONN_SORT_PENDING_BYTES 5
#define WK_CONN_SORT_UPTIME 6        /* by connect time */
#define WK_CONN_SORT_IDLE 7          /* by last activity */
#define WK_CONN_SORT_IN_PACKET 8
#define WK_CONN_SORT_OUT_PACKET 9
#define WK_CONN_SORT_IN_PACKET_BYTES 10
#define WK_CONN_SORT_OUT_PACKET_BYTES 11
#define WK_CONN_SORT_PROTO_VERSION 12
#define WK_CONN_SORT_COUNT 13
#endif
#ifdef X
/* Any process: introspection (wkctl status, tests). */
X(STATUS_REQ, 1, "report pid, uptime, role, instance, queue depths")
X(STATUS_REP, 2, "reply to STATUS_REQ: one text frame of key=value pairs")
X(PING_REQ, 3, "liveness probe; echoed as PING_REP with the same payload")
X(PING_REP, 4, "reply to PING_REQ")
X(BATCH, 5, "any process: n {u16 frames, frames {u32 len, bytes}}: the messages one process sent another in one loop iteration, in order")
X(REP_LSN, 6, "cluster, a replicated shard: u32 log file, u32 offset; the master's end of log to its copies each second, a copy's own in reply (replication lag)")

/* Connections: broker <-> mailbox shard of the uid. */
X(MAILBOX_AUTH, 10, "broker: u16 broker, u64 conn, u8 device_flag, u8 proto, str uid, str token, str device_id")
X(BROKER_AUTH_REP, 11, "mailbox: u64 conn, u8 reason, u8 device_level, str uid, u8 user flags")
X(MAILBOX_CONN_CLOSED, 12, "broker: u16 broker, u64 conn, str uid")
X(BROKER_KICK, 13, "mailbox: u64 conn, u8 reason, u32 delay_ms, u8 send_disconnect, str text")
X(MAILBOX_BROKER_HELLO, 14, "broker started, or done re-asserting: u16 broker, u32 pid; drop its connections not named")
X(BROKER_MAILBOX_HELLO, 15, "mailbox started: u16 mailbox; brokers restore its users' connections")
X(MAILBOX_CONN_RESTORE, 16, "broker: as MAILBOX_AUTH plus u8 device_level, no token check")
X(BROKER_USER_FLAGS, 17, "mailbox: u64 conn, u8 user flags (WK_USER_SEND_BAN)")
/* A cluster: a mailbox shard's master -> its copies on the other hosts. */
X(MAILBOX_PRESENCE, 20, "mailbox master -> its copies: ops, each u8 op (1 reset the region; 2 add: str uid, u8 device_flag, u8 device_level, u8 proto, u16 broker id, u64 conn, u64 connected_at_ms; 3 remove: str uid, u16 broker id, u64 conn)")
/* Connections for the operator (wk-api's /connz, /conn/kick, /conn/remove;
 * broker_admin.c), answered by one API_ANSWER as the op rows below. */
X(BROKER_CONN_LIST, 18, "api: str uid (a substring; empty: all), u8 sort (WK_CONN_SORT_*), u8 descending, u32 max -> u32 connections open, u32 matched, u32 n, n (at most max, sorted) {u64 id, str uid, str ip, u16 port, u64 connected (wall ms), u64 last activity (wall ms), u32 pending bytes, u64 in_msgs, out_msgs, in_msg_bytes, out_msg_bytes, in_packets, out_packets, in_packet_bytes, out_packet_bytes, u8 device_flag, u8 device_level, str device_id, u8 proto version}; only authenticated connections")
X(BROKER_CONN_CLOSE, 19, "api: u64 conn, str uid (empty: any), u8 kick (1: DISCONNECT ConnectKick \"server kick\", closed 2 s later; 0: closed now) -> u8 found")

/* HTTP API: wk-api sends the shard that owns the data one op row (70-99
 * channel shards, 100-119 mailbox shards), validated in the reference's
 * words beforehand; the shard answers with one API_ANSWER (wk_answer.h):
 * u16 HTTP status, then the answer the op's row describes, or for a status
 * other than 200 the error message (str).  JSON is made by wk-api only. */
X(API_ANSWER, 22, "shard: u16 HTTP status, then per op (its row), or str error message")

/* Messages: broker/api -> channel shard -> brokers.  See channel_append.c. */
X(CHANNEL_APPEND, 30, "broker: u16 broker, u64 conn, u32 client_seq, then the message (wk_chmsg)")
X(BROKER_SENDACK, 31, "channel: u64 conn, u32 client_seq, u8 flags, u64 message_id, u32 seq, u8 reason")
X(BROKER_DELIVER, 32, "channel: frame 1 the message (wk_chmsg), frame 2 u64 target conns")
X(CHANNEL_PERSON_CHECK, 34, "channel: u64 corr, str to, str from, u8 need whitelist: may from write to to?")
X(CHANNEL_PERSON_CHECK_REP, 35, "channel: u64 corr, u8 reason (1 ok, 4 blacklisted, 13 not whitelisted)")
/* The cache of those answers on the shard of the chat (channel_person.c, wk(7)). */
X(CHANNEL_PERSON_CHANGED, 36, "channel (owner of the lists) -> every other channel shard, once the transaction ended, before the reply: str uid, repeated to the end of the frame: the person blacklist/whitelist of each uid changed; drop the cached answers about writing to it")
X(CHANNEL_PERSON_FLUSH, 37, "channel -> every other channel shard, at start: u16 the sender's instance; drop every cached answer it gave (it may have died between a commit and its CHANGED)")

/* cmd mailboxes and conversation rows: channel shard -> mailbox shards
 * (channel_cmd.c, mailbox_cmd.c).  A hand-over is numbered per (channel
 * shard, mailbox shard) and kept by the channel shard until acknowledged. */
X(MAILBOX_CMD, 40, "channel: u16 channel shard, u64 hand-over seq, u8 kind, then per kind (channel_cmd.c)")
X(CHANNEL_CMD_ACK, 41, "mailbox: u16 mailbox shard, u64 every hand-over up to this seq is durable")
X(MAILBOX_CMD_RECVACK, 42, "broker: str uid, u64 message_id: a master device acknowledged a cmd RECV")

/* Webhooks: producers (wk-channel, wk-mailbox) <-> wk-hook.  See wk_webhook.h. */
X(HOOK_EVENT, 50, "producer: u64 epoch, u64 batch seq, then records {u8 event, u32 order key, blob the event's facts (wk_webhook.h)}")
X(HOOK_ACK, 51, "hook: u64 epoch, u64 seq: every batch up to seq is in the durable queue")
X(HOOK_HELLO, 52, "hook started: u32 pid; send again every batch not acknowledged")
X(CHANNEL_MSG_IMPORT, 53, "api: str channel_id, u8 channel_type, u32 n, n messages (wk_chmsg, message_id, seq and timestamp set; seq ascending) -> u32 stored, u32 already there; 409 when another message holds a seq")

/* Stream messages: channel shard -> brokers (channel_stream.c, broker_event.c). */
X(BROKER_EVENT, 60, "channel: frame pairs, each a stream event (wk_chevent) then its u64 target conns")

/* The channel shards' HTTP API ops (channel_api.c, channel_msgops.c,
 * channel_conv.c, channel_stream.c; asked by wk-api, and by tools as ctl).
 * "->" is the 200 answer after API_ANSWER's u16 status.  A channel id is
 * the stored one (a person chat's "a@b") and at most 1024 bytes, as uids.
 * A message in an answer is a wk_chmsg, then u8 1 and the stream state if
 * it is a stream anchor with events, else u8 0, then u8 1 and {u8 revoked,
 * u32 extra_version, u32 edited_at, str revoker} if it was revoked or
 * edited, else u8 0.  The stream state: str
 * client_msg_no, u8 completed, u64 event_seq, u32 n, n lanes {str key, u8
 * status (0 open, 1 closed, 2 error, 3 cancelled), u64 last_msg_event_seq,
 * u8 end_reason, u8 snapshot is JSON, blob snapshot, str error}. */
X(CHANNEL_UPSERT, 70, "api: str channel_id, u8 channel_type, u8 flags (WK_CHANNEL_BAN...), u8 reset, u32 n, n str subscriber -> nothing")
X(CHANNEL_INFO, 71, "api: str channel_id, u8 channel_type, u8 flags: all overwritten -> nothing")
X(CHANNEL_DELETE, 72, "api: str channel_id, u8 channel_type: disband, remove members, lists, messages -> nothing")
X(CHANNEL_LIST, 73, "api: str channel_id, u8 channel_type, u8 list, u8 action (WK_CHANNEL_LIST_ADD...), u32 n, n str uid (blank skipped) -> nothing")
X(CHANNEL_LIST_GET, 74, "api, ctl: str channel_id, u8 channel_type, u8 list -> u32 n, n {u64 id, str uid, u64 created_ms, u64 updated_ms} in uid order")
X(CHANNEL_GET, 75, "ctl: str channel_id, u8 channel_type -> u8 flags, u32 last_seq, u32 members, u32 blacklist, u32 whitelist; 404 none")
X(CHANNEL_MSG_SEND, 76, "api: str channel_id, u8 channel_type, str from_uid, str client_msg_no, u8 flags, u32 expire, u8 setting, blob payload, u32 n, n str recipient (0: the channel's) -> u8 reason, u64 message_id, u32 seq")
X(CHANNEL_MSG_SENDBATCH, 77, "api: str from_uid, u8 flags, blob payload, u32 n, n {str person chat id, str client_msg_no} -> nothing, once committed")
X(CHANNEL_MSG_SYNC, 78, "api: str channel_id, u8 channel_type, u64 start_seq, u64 end_seq, u64 limit (int64), u8 pull_mode (0 down, 1 up, 2 other) -> u8 more, u32 n, n messages ascending, u32 history start seq (0: never cut by retention)")
X(CHANNEL_MSG_SEARCH, 79, "api: str channel_id, u8 channel_type, u32 n, n u32 seq, u32 n, n u64 message_id, u32 n, n str client_msg_no -> u32 n, n messages (those found, in that order)")
X(CHANNEL_MSG_GET, 80, "api: str channel_id, u8 channel_type, u64 message_id (0: by client_msg_no), str client_msg_no -> u8 found, then the message if found")
X(CHANNEL_MSG_LAST, 81, "api: str channel_id, u8 channel_type -> u8 found, then the newest message if found")
X(CHANNEL_MSG_MAX_SEQ, 82, "api: str channel_id, u8 channel_type -> u32 last seq (0: no such channel)")
X(CHANNEL_CONV_RECENTS, 83, "api: str uid, u32 msg_count, u32 n, n {str channel_id, u8 channel_type, u64 start seq} -> u32 n, n {u32 last_seq, u32 uid's last sent seq, u32 m, m messages newest first}; only the channels the last-message table cannot answer, one per shard and request")
X(CHANNEL_MSG_EVENT, 84, "api: str channel_id, u8 channel_type, str from_uid, u64 message_id, str client_msg_no, str event_id, str event_type, str event_key, str visibility, u64 occurred_at, blob payload (the client's JSON text, compact, empty: none), u8 1 and blob the delta's text if the event is a text delta (a stream.delta whose payload is {\"delta\": a string} with no \"kind\" or kind \"text\"), else u8 0 -> str client_msg_no, str event_key, str event_id, u64 msg_event_seq, u8 stream_status, str from_uid")
X(CHANNEL_MSG_EVENTSYNC, 85, "api: str channel_id, u8 channel_type, str client_msg_no, str event_key, u64 from_seq, u32 limit, u8 include_private -> u8 more, u64 next seq, u32 n, n {u64 seq, str event_id, str event_key, str event_type, str visibility, u64 occurred_at, blob payload JSON text}")
/* Revoke, edit, retention (channel_edit.c, channel_retention.c; wk-api sends
 * the members' cmd notice itself, through CHANNEL_MSG_SEND, once answered). */
X(CHANNEL_MSG_REVOKE, 90, "api: str channel_id, u8 channel_type, u64 message_id (0: by client_msg_no), str client_msg_no, str revoker -> u64 message_id, u32 seq, u32 extra_version, str client_msg_no, str from_uid; 404 no such message; the payload is scrubbed from the record")
X(CHANNEL_MSG_EDIT, 91, "api: as CHANNEL_MSG_REVOKE (str editor), then blob the new payload -> as CHANNEL_MSG_REVOKE; 400 if revoked")
X(CHANNEL_RETENTION, 92, "api: str channel_id, u8 channel_type, u32 age seconds, u32 count (each 0: no limit, 0xffffffff: channel.retention*) -> u32 history start seq (0: all kept)")

/* HTTP API ops on the mailbox shards (api_user.c, api_conv.c ->
 * mailbox_users.c, mailbox_conv.c, mailbox_cmd.c).  Each is answered by one
 * API_ANSWER; "-> nothing" means 200 {"status":200} at the edge.
 * Strings are u16-length; a list is u32 n then n items. */
X(MAILBOX_USER_TOKEN, 100, "api: str uid, str token, u8 device_flag, u8 device_level -> u16 status for the body (200, 19: the user is banned, 24: disbanded)")
X(MAILBOX_DEVICE_QUIT, 101, "api: str uid, u64 device_flag (an int64: -1 every device, outside 0-255 nothing) -> nothing")
X(MAILBOX_USER_FLAGS, 102, "api: str uid, u8 ban, u8 send_ban, u8 disband, u8 large, u8 allow_stranger (each 0/1, all overwritten) -> nothing")
X(MAILBOX_SYSUID_ADD, 103, "api: list of str uids -> nothing")
X(MAILBOX_SYSUID_REMOVE, 104, "api: list of str uids -> nothing")
X(MAILBOX_SYSUID_LIST, 105, "api: empty -> list of str uids, sorted")
X(MAILBOX_CONV_ROWS, 106, "api: str uid, u32 max (0: all), u8 filter, u32 filter_max -> u8 filtered (1: the filter was applied), list of {str channel id, u8 type, u32 readed_to, u32 deleted_at, u64 updated_ms}, newest update first, at most max; filter (only for a uid with at most filter_max rows, and with the last-message table): 0 every row, 1 the rows whose channel the table says has a message at seq >= max(1, deleted_at + 1) or cannot tell, 2 the same from max(readed_to + 1, deleted_at + 1)")
X(MAILBOX_CONV_SET, 107, "api: str channel id, u8 type, u32 read_to, u8 mode (0 reset, 1 forward, 2 missing), list of str uids -> nothing")
X(MAILBOX_CONV_REMOVE, 108, "api: str channel id, u8 type, list of str uids -> nothing")
X(MAILBOX_CONV_DELETE, 109, "api: str uid, str channel id, u8 type, u32 deleted_at -> nothing")
X(MAILBOX_CMD_SYNC, 110, "api: str uid, u32 limit -> list of messages (wk_chmsg, seq the mailbox seq), oldest first")
X(MAILBOX_CMD_SYNCACK, 111, "api: str uid, u64 last_message_seq -> nothing")

/* Reserved ranges so that work in parallel does not collide:
 * 36-39 the person-chat permission cache, 43-49 conversations and cmd
 * mailboxes, 50-52 webhooks (wk-hook), 53-55 msg.before_send and import,
 * 60-69 streams and EVENT, 70-99 the channel shards' API ops, 100-119 the
 * mailbox shards' API ops. */
#endif /* X */
