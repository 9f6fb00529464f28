/* channel.h - wk-channel's private interfaces between its files (wk-channel(8)).
 *   channel.c               main, dispatch table, loop hooks
 *   channel_store.c         the storage: the iteration's transaction (p->txn,
 *                           wk_txn.h), the cache of channel records, the
 *                           channel records
 *   channel_store.h         what the three store files share, private to them
 *   channel_list.c          a channel's lists: members, blacklist, whitelist
 *   channel_mcache.c        the hot lists in memory (channel_mset.c sets),
 *   channel_sendcache.c     the last seq each user sent to a channel, in memory
 *                           bounded, least recently used out
 *   channel_log.c           a channel's message log: append, by seq, ranges,
 *                           by client_msg_no, the last seq a sender sent
 *   channel_api.c           the HTTP API op rows' dispatch; channel records
 *                           and lists
 *   channel_msgops.c        the message op rows (send, sync, search, get...)
 *   channel_conv.c          CHANNEL_CONV_RECENTS for /conversation/sync
 *   channel_lastmsg.c       this shard's region of the last-message table
 *   channel_append.c        APPEND from brokers: permissions, dedup, append;
 *                           SENDACK after the commit, then the fan-out
 *   channel_beforesend.c    the msg.before_send hook: a message parked until
 *                           the receiver allows, rejects or rewrites it
 *   channel_fanout.c        who receives a channel's messages; the fan-out to
 *                           their connections (wk_fanout.h)
 *   channel_person.c        who may write to whom in a person chat: the
 *                           recipient's lists, answered by the shard that owns
 *                           them and cached by the shard of the chat
 *   channel_cmd.c           the durable hand-over of cmd messages and first
 *                           conversation rows to the mailbox shards
 *   channel_stream.c        stream messages: the shard's streams, their events'
 *                           delivery, CHANNEL_MSG_EVENT / _EVENTSYNC
 *   channel_stream_state.c  one stream's state and how an event changes it
 *   channel_stream_store.c  streams.db: stream records, logged events
 *   channel_stream.h        what the three stream files share
 *   channel_webhook.c       msg.notify and msg.offline webhooks
 *   channel_notify.c        msg.notify kept durable until wk-hook has it
 *   channel_import.c        CHANNEL_MSG_IMPORT: history with its ids and seqs
 *
 * Transactions (group commit).  Every write, from any file, goes into the
 * one transaction of the current loop iteration, channel_txn() (the
 * process's p->txn, wk_txn.h; the channel_txn functions are its wrappers);
 * the store functions below call it themselves.  channel.c's on_iteration
 * commits it once (channel_commit) after the inbox was drained; only then may anything
 * written in it be acknowledged.  A commit that fails aborts: every write
 * of the iteration is gone, and every reply that depended on it must say so.
 * channel_after_commit() queues work to run when the transaction ends, with
 * its outcome (0 committed, -1 aborted): the op rows answer wk-api there.
 * The process is single-threaded and reads go through the same transaction,
 * so there is never a lock wait.
 *
 * The store keeps its state (a cache of channel records) in
 * channel_store.c; p->state is free for channel_append.c.
 */
#ifndef CHANNEL_H
#define CHANNEL_H
#include <stddef.h>
#include <stdint.h>
#include <db.h>
#include "wk_buf.h"
#include "wk_proc.h"
#include "wk_txn.h"

/* The databases, in the order of def->databases (p->db[i]). */
enum channel_db {
	CHANNEL_DB_CHANNELS,         /* "channels.db": (type, id) -> the record */
	CHANNEL_DB_MEMBERS,          /* "members.db": (num, list, uid) -> entry */
	CHANNEL_DB_MESSAGES,         /* "messages.db": (num, seq) -> message */
	CHANNEL_DB_CLIENTMSGNO,      /* "clientmsgno.db": (num, client_msg_no, from) -> id, seq */
	CHANNEL_DB_META,             /* "meta.db": counters */
	CHANNEL_DB_SENDERS,          /* "senders.db": (num, uid) -> last seq uid sent */
	CHANNEL_DB_CMDOUT,           /* "cmdout.db": hand-overs to mailbox shards (channel_cmd.c) */
	CHANNEL_DB_STREAMS,          /* "streams.db": stream messages (channel_stream_store.c) */
	CHANNEL_DB_COUNT
};
/* NULL-terminated, for the skeleton (and tests). */
extern const char *const channel_databases[CHANNEL_DB_COUNT + 1];
extern const uint32_t channel_db_pagesize[CHANNEL_DB_COUNT];

#define CHANNEL_ID_MAX 1024          /* bytes of a channel id or uid, NUL excluded */

/* ---- channel_store.c: set-up ---- */
/* After the skeleton opened p->env and p->db[]: 0, or -1. */
int channel_store_open(struct wk_proc *p);
/* Abort an open transaction (running its after-commit work) and drop the cache. */
void channel_store_close(struct wk_proc *p);

/* ---- channel_store.c: the transaction (p->txn, wk_txn.h) ---- */
/* The current iteration's transaction; begins one if none.  NULL on error. */
DB_TXN *channel_txn(struct wk_proc *p);
/* Commit the current transaction (0 if none is open).  -1: it was aborted
 * instead and every write in it is gone.  Runs the after-commit work. */
int channel_commit(struct wk_proc *p);
/* Abort the current transaction, if any; runs the after-commit work with -1. */
void channel_abort(struct wk_proc *p);
/* Run fn(p, rc, arg) when the current transaction ends (rc 0 committed,
 * -1 aborted), in the order queued.  Begins a transaction if none is open,
 * so fn always runs at the next channel_commit/channel_abort.  -1: no
 * transaction, or the queue is full (wk_txn.h): answer as for a failure. */
typedef wk_txn_done_fn channel_done_fn;
int channel_after_commit(struct wk_proc *p, channel_done_fn *fn, void *arg);
/* 1 if a transaction is open (something to commit). */
int channel_txn_open(void);
/* Mark the current transaction failed (an operation stopped half-way):
 * channel_commit will abort it.  Store write functions that return -1
 * have done this already. */
void channel_txn_fail(struct wk_proc *p);

/* ---- channel_store.c: channel records ---- */
struct channel_info {
	char id[CHANNEL_ID_MAX + 1];
	uint8_t type;
	/* Flags, 0/1; written by channel_put. */
	uint8_t ban, disband, send_ban, large, allow_stranger;
	/* Kept by the store; channel_put ignores them. */
	uint32_t last_seq;           /* seq of the newest message, 0 none */
	uint32_t nmembers, nblacklist, nwhitelist;
	uint64_t created_ms, updated_ms;
};

/* 1 found (info filled), 0 no such channel (info zeroed but id/type), -1 error. */
int channel_get(struct wk_proc *p, const char *id, uint8_t type, struct channel_info *info);
/* Create or update the record of (info->id, info->type) with info's flags:
 * 0, or -1 (an id longer than CHANNEL_ID_MAX is an error). */
int channel_put(struct wk_proc *p, const struct channel_info *info);
/* Disband the channel (disband = 1) and remove its members, lists, messages
 * and client_msg_no index; last_seq is kept, so seqs are never reused.
 * 1 done, 0 no such channel (nothing written), -1 error. */
int channel_delete(struct wk_proc *p, const char *id, uint8_t type);

/* ---- channel_list.c: members and lists ---- */
/* A list is a set of uids per channel; the value is the key byte. */
enum channel_list {
	CHANNEL_MEMBERS = 'm',       /* subscribers */
	CHANNEL_BLACKLIST = 'b',     /* denylist */
	CHANNEL_WHITELIST = 'w',     /* allowlist */
};

/* One entry of a list (channel_list_foreach). */
struct channel_entry {
	const char *uid;             /* NUL-terminated */
	size_t len;
	uint64_t id;                 /* row id, unique per shard (GET /channel/whitelist) */
	uint64_t created_ms, updated_ms;
};

/* Add uid (creates the channel record if missing): 1 added, 0 already there, -1. */
int channel_list_add(struct wk_proc *p, const char *id, uint8_t type, enum channel_list list,
    const char *uid);
/* 1 removed, 0 was not there, -1. */
int channel_list_remove(struct wk_proc *p, const char *id, uint8_t type, enum channel_list list,
    const char *uid);
/* Remove every uid of the list: 0, -1. */
int channel_list_clear(struct wk_proc *p, const char *id, uint8_t type, enum channel_list list);
/* 1 if uid is on the list, 0 if not, -1 error. */
int channel_list_has(struct wk_proc *p, const char *id, uint8_t type, enum channel_list list,
    const char *uid);
/* How many uids are on the list (0 for no channel); -1 error. */
long channel_list_count(struct wk_proc *p, const char *id, uint8_t type, enum channel_list list);
/* Call fn for each entry in uid byte order (stable); a non-zero return
 * stops the walk and is returned.  0 after the last, -1 on error. */
typedef int channel_entry_fn(const struct channel_entry *e, void *arg);
int channel_list_foreach(struct wk_proc *p, const char *id, uint8_t type, enum channel_list list,
    channel_entry_fn *fn, void *arg);
/* The same for the entries after uid `after` (NULL: from the first), at
 * most `limit` of them (0: no limit): a walk in bounded steps. */
int channel_list_foreach_after(struct wk_proc *p, const char *id, uint8_t type,
    enum channel_list list, const char *after, size_t limit, channel_entry_fn *fn, void *arg);

/* fn(p, uid) whenever the blacklist or whitelist of the person channel
 * (uid, 1) changes in the current transaction (channel_person.c); NULL: none. */
typedef void channel_watch_fn(struct wk_proc *p, const char *uid);
void channel_list_watch(channel_watch_fn *fn);

/* Members (subscribers) are CHANNEL_MEMBERS; these are shorthands. */
int channel_is_member(struct wk_proc *p, const char *id, uint8_t type, const char *uid);
long channel_member_count(struct wk_proc *p, const char *id, uint8_t type);
/* fn(uid, len, arg) per member (uid NUL-terminated at len), in no
 * particular order (a cached set's, else uid byte order); non-zero stops
 * and is returned.  fn must not change the channel's members. */
int channel_members_foreach(struct wk_proc *p, const char *id, uint8_t type,
    int (*fn)(const char *uid, size_t len, void *arg), void *arg);

/* ---- channel_mcache.c: the hot lists in memory ---- */
/* Set the bound (channel.memberCacheMax uids), evicting down to it. */
void channel_mcache_configure(uint64_t max);
void channel_mcache_close(void);
void channel_sendcache_close(void);
int channel_sendcache_status(char *buf, size_t len);
/* " member_cache=N member_cache_bytes=N ..." for the status line. */
int channel_mcache_status(char *buf, size_t len);

/* ---- channel_log.c: the message log ---- */
/* A stored message.  On append the caller fills everything but seq (strings
 * may be NULL when their length is 0); on read the strings and payload
 * point into the caller's buffer (or the store's, during a range walk) and
 * the strings are NUL-terminated. */
struct channel_msg {
	int64_t message_id;
	uint32_t seq;
	int32_t timestamp;           /* server seconds */
	uint8_t flags;               /* WKProto header flags: no_persist, red_dot, sync_once, dup */
	uint8_t setting;
	uint32_t expire;
	const char *from_uid;
	size_t from_uid_len;
	const char *client_msg_no;
	size_t client_msg_no_len;
	const char *topic;
	size_t topic_len;
	const char *stream_no;
	size_t stream_no_len;
	const void *payload;
	size_t payload_len;
	/* After a revoke or an edit (a version 2 record, channel_msgrec.c):
	 * revoked (its payload is gone), the channel's edit version when it
	 * changed last (0: never), when it was edited (seconds, 0: never),
	 * who revoked it. */
	uint8_t revoked;
	uint32_t extra_version;
	uint32_t edited_at;
	const char *revoker;
	size_t revoker_len;
};

/* Store m as the channel's next message: m->seq = last_seq + 1, in the
 * current transaction; indexes a non-empty client_msg_no; creates the
 * channel record if missing.  0, or -1 (nothing stored, seq unchanged). */
int channel_msg_append(struct wk_proc *p, const char *id, uint8_t type, struct channel_msg *m);
/* The same unless (sender, client_msg_no) is stored already (m has both):
 * then 1, nothing written, and the stored message's id and seq in
 * *dup_id, *dup_seq.  The de-duplication of a send in one search of
 * clientmsgno.db, where a lookup before the append made two. */
int channel_msg_append_once(struct wk_proc *p, const char *id, uint8_t type, struct channel_msg *m,
    int64_t *dup_id, uint32_t *dup_seq);
/* An imported message at its own m->seq, id and timestamp kept: 1 stored,
 * 0 already there (same id), -2 another message holds the seq, -1 error. */
int channel_msg_put_at(struct wk_proc *p, const char *id, uint8_t type, struct channel_msg *m);
/* The message with `seq`: 1 found (m points into buf, which the caller
 * owns and frees with wk_wbuf_free), 0 none, -1 error. */
int channel_msg_get(struct wk_proc *p, const char *id, uint8_t type, uint32_t seq,
    struct channel_msg *m, struct wk_wbuf *buf);
/* Walk the messages with lo <= seq <= hi (hi 0: no upper bound), ascending,
 * or descending if `reverse`, at most `limit` of them (0: no limit).  fn's m
 * is valid during the call only; a non-zero return stops the walk.
 * Returns how many messages fn was given, or -1 on error. */
typedef int channel_msg_fn(const struct channel_msg *m, void *arg);
long channel_msg_range(struct wk_proc *p, const char *id, uint8_t type, uint32_t lo,
    uint32_t hi, uint32_t limit, int reverse, channel_msg_fn *fn, void *arg);
/* The newest message with this client_msg_no from from_uid (NULL: from
 * anyone): 1 found (message_id and seq set), 0 none, -1 error. */
int channel_msg_find_client_msg_no(struct wk_proc *p, const char *id, uint8_t type,
    const char *from_uid, const char *client_msg_no, int64_t *message_id, uint32_t *seq);

/* Replace stored message m->seq of the channel by m (a revoke or an
 * edit), in the current transaction.  With `scrub`, the old record's bytes
 * are first overwritten by zeros of the same length, so the page keeps
 * none of them (wk-channel(8) says what the log keeps).  0, or -1 (the
 * transaction is marked failed). */
int channel_msg_replace(struct wk_proc *p, const char *id, uint8_t type,
    const struct channel_msg *m, int scrub);
/* The next edit version of the channel (its record counts them): 0 on error. */
uint32_t channel_extra_next(struct wk_proc *p, const char *id, uint8_t type);

/* A messages.db record (channel_msgrec.c): version 1, or 2 when m was
 * revoked or edited (m->extra_version != 0).  decode: m's strings and
 * payload point into rec; 0, or -1 for an unknown version or a bad record. */
void channel_msg_encode(struct wk_wbuf *v, const struct channel_msg *m);
int channel_msg_decode(struct channel_msg *m, uint32_t seq, const void *rec, size_t len);

/* ---- channel_retention.c: old messages out, a few at a time ---- */
/* A channel's retention: age in seconds and count (CHANNEL_RETENTION_DEFAULT:
 * the configured default; 0: no limit). */
#define CHANNEL_RETENTION_DEFAULT UINT32_MAX
/* The oldest seq the channel still keeps (0: all, never cut): 0, or -1. */
int channel_history_start(struct wk_proc *p, const char *id, uint8_t type, uint32_t *first);
/* Set a channel's retention (creating its record); *first as above: 0, -1. */
int channel_retention_set(struct wk_proc *p, const char *id, uint8_t type, uint32_t secs,
    uint32_t count, uint32_t *first);
/* The timer's step: up to channel.retentionBatch messages out, in the
 * iteration's transaction, resuming where the last step stopped. */
void channel_retention_step(struct wk_proc *p);
int channel_retention_status(char *buf, size_t len);

/* The seq of the newest message uid sent in the channel (0: none): 0, -1. */
int channel_msg_last_sent(struct wk_proc *p, const char *id, uint8_t type, const char *uid,
    uint32_t *seq);

/* ---- channel_api.c: the HTTP API op rows (wk_msgtypes.h 70-99) ---- */
struct wk_answer;
struct wk_rbuf;
/* Every op row: the op decodes, runs, and is answered (API_ANSWER) after
 * the iteration's commit, or at once if it set a->now, or by itself when
 * it returned 1 (a send: after its msg.before_send verdict and commit). */
void channel_on_op(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg);
/* An op: reads its payload from rb and writes its answer into a (an error
 * with wk_answer_error).  It must decode all of rb before it writes
 * anything.  0: a is to be sent; -1: a was answered (and freed) already,
 * because the payload did not decode (channel_op_decoded). */
typedef int channel_op_fn(struct wk_proc *p, struct wk_rbuf *rb, struct wk_answer *a);
/* 0 if rb was read to its end without error; else a is answered as a bad
 * payload (wk_answer_bad) and -1. */
int channel_op_decoded(struct wk_proc *p, const struct wk_rbuf *rb, struct wk_answer *a);
/* The key that starts most payloads: str channel_id (id holds
 * CHANNEL_ID_MAX + 1 bytes; a longer one is a decode error), u8 type. */
void channel_get_key(struct wk_rbuf *rb, char *id, uint8_t *type);
/* Skip a uid list (u32 n, n str of at most CHANNEL_ID_MAX), leaving *uids
 * a reader at its start for a second walk: 0, or -1 (rb->err). */
int channel_get_uids(struct wk_rbuf *rb, struct wk_rbuf *uids);
/* A payload of just the key: the channel's record.  1 found, 0 none, -1
 * storage error (a is 500), -2 the payload did not decode (a answered). */
int channel_op_record(struct wk_proc *p, struct wk_rbuf *rb, struct wk_answer *a,
    struct channel_info *info);
/* A store call failed: the transaction is marked failed, a becomes 500. */
void channel_answer_storage_error(struct wk_proc *p, struct wk_answer *a);

/* ---- channel_msgops.c: the message op rows ---- */
channel_op_fn channel_op_msg_send, channel_op_msg_sendbatch, channel_op_msg_sync,
    channel_op_msg_search, channel_op_msg_get, channel_op_msg_last, channel_op_msg_max_seq;
/* The seq of a channel's message by id (not 0), else by client_msg_no:
 * 1 found, 0 none, -1 storage error. */
int channel_msg_locate(struct wk_proc *p, const char *id, uint8_t type, int64_t message_id,
    const char *client_msg_no, uint32_t *seq);
/* CHANNEL_MSG_REVOKE, CHANNEL_MSG_EDIT (channel_edit.c). */
channel_op_fn channel_op_msg_revoke, channel_op_msg_edit;
/* CHANNEL_RETENTION (channel_edit.c). */
channel_op_fn channel_op_retention;
/* A stored message as the op rows answer it: wk_chmsg, then the stream
 * state (channel_stream_put) or u8 0. */
void channel_msg_put(const char *id, uint8_t type, const struct channel_msg *m,
    struct wk_wbuf *b);
/* Messages collected for an answer (channel_msgs_add as a channel_msg_fn). */
struct channel_msgs {
	const char *id;
	uint8_t type;
	struct wk_wbuf buf;          /* the records, one after another */
	size_t *off;                 /* where each starts in buf */
	uint32_t *seq;
	size_t n, cap;
	int64_t want_id;             /* not 0: only this message; the walk stops at it */
	const char *want_cmn;        /* not NULL: only a message with this client_msg_no */
};
void channel_msgs_init(struct channel_msgs *ms, const char *id, uint8_t type);
void channel_msgs_free(struct channel_msgs *ms);
int channel_msgs_add(const struct channel_msg *m, void *arg);
/* u32 n, then the records, in the order collected or reversed. */
void channel_msgs_put(const struct channel_msgs *ms, int reverse, struct wk_wbuf *out);
/* " msgid_walks=N" (lookups by message id not found by the binary search,
 * walked instead) for the status line. */
int channel_api_status(struct wk_proc *p, char *buf, size_t len);

/* ---- channel_stream.c: stream messages (semantics.md §13) ---- */
/* Load the streams left open (their timeout runs on): 0, -1. */
int channel_stream_open(struct wk_proc *p);
void channel_stream_close(struct wk_proc *p);
/* CHANNEL_MSG_EVENT and CHANNEL_MSG_EVENTSYNC (POST /message/event,
 * /message/eventsync). */
channel_op_fn channel_op_event, channel_op_eventsync;

/* ---- channel_import.c ---- */
/* CHANNEL_MSG_IMPORT: history copied from another server (wkctl import). */
channel_op_fn channel_op_msg_import;
/* The stream state of a stream message (wk_msgtypes.h, from which wk-api
 * makes event_meta, stream_data, end...): u8 1 and the state if it has
 * events, else u8 0. */
void channel_stream_put(const char *id, uint8_t type, const char *client_msg_no,
    struct wk_wbuf *b);
struct wk_chmsg;
/* A SEND carrying a stream number (versions 2-4) from (broker, conn),
 * past its checks: 1 if it is a piece of the open stream of that number in
 * this channel (not stored, delivered as an event to all but its sender;
 * *anchor_id and *anchor_seq are the anchor's, for its SENDACK), 0 if it is
 * to be stored as message_id, the anchor of a new stream. */
int channel_stream_on_send(struct wk_proc *p, const char *id, const struct wk_chmsg *m,
    uint16_t broker, uint64_t conn, int64_t message_id, int64_t *anchor_id, uint32_t *anchor_seq);
/* Deliver the queued events: before the commit (after 0) those that need
 * not wait for it; after it (after 1) every one. */
void channel_stream_flush(struct wk_proc *p, int after);
/* End the streams idle for stream.timeout. */
void channel_stream_tick(struct wk_proc *p);
int channel_stream_status(struct wk_proc *p, char *buf, size_t len);

/* ---- channel_lastmsg.c: the last-message table (lastmsg.h) ---- */
/* Map the table and rebuild this shard's region from channels.db: 0, or
 * -1 (no table: /conversation/sync asks the shard for everything). */
int channel_lastmsg_open(struct wk_proc *p);
void channel_lastmsg_close(void);

/* ---- channel_conv.c: what /conversation/sync needs of a channel ---- */
channel_op_fn channel_op_conv_recents;

/* ---- channel_cmd.c: the durable hand-over to the mailbox shards ---- */
int channel_cmd_open(struct wk_proc *p);
void channel_cmd_close(struct wk_proc *p);
/* The cmd twin of a channel ("<id>____cmd", where its cmd messages are
 * stored: they have their own seqs); malloc'd.  An id that is a twin
 * already (a subscribers send's temporary channel) is its own twin. */
char *channel_cmd_twin(const char *id);
int channel_cmd_is_twin(const char *id, size_t len);
/* In the current transaction: hand cmd message m (stored; m->channel_id
 * the channel as addressed) to the mailboxes of its recipients (`to`, or
 * the channel's).  The sender is not a recipient.  0, or -1 (the
 * transaction is marked failed). */
struct wk_chmsg;
int channel_cmd_handover(struct wk_proc *p, const struct wk_chmsg *m, const char *to,
    size_t to_len, uint16_t broker, uint64_t conn);
/* In the current transaction: the first message of a person chat or a
 * customer-service channel makes a conversation row for each recipient
 * (the sender's read up to seq 1). */
int channel_cmd_conv_first(struct wk_proc *p, const char *id, uint8_t type, const char *from,
    size_t from_len);
/* After channel_commit: send what it made durable; and the resend timer. */
void channel_cmd_flush(struct wk_proc *p);
void channel_cmd_tick(struct wk_proc *p);
void channel_on_cmd_ack(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg);
int channel_cmd_status(struct wk_proc *p, char *buf, size_t len);

/* ---- channel_webhook.c: webhook events (wk-hook(8)) ---- */
/* The webhooks of message m once it is durable (a no_persist one: once
 * accepted); call it after the SENDACKs of the commit.  msg.notify if m was
 * stored (m->seq != 0, not no_persist); msg.offline naming those of its
 * recipients who have no master device online (from the presence table),
 * the sender and the system uid left out.  The recipients are those of
 * channel_recipients_foreach(p, to, to_len, m->channel_id, ...): `to` if
 * given, else those of the channel's type; a cmd
 * message's path passes the same `to` it hands to the mailboxes.
 * m->channel_id is the channel as addressed (a person chat: the stored
 * "a@b" id; not a cmd twin).  Nothing is built when webhooks are off. */
struct wk_chmsg;
void channel_hook_message(struct wk_proc *p, const struct wk_chmsg *m, const char *to,
    size_t to_len);
/* The same for a message as wk_chmsg_put wrote it (BROKER_DELIVER frame 1). */
void channel_hook_frame(struct wk_proc *p, const void *frame, size_t len, const char *to,
    size_t to_len);
/* A large group's msg.offline is made a batch at a time (channel.offlineBatch
 * members walked per call), after the fan-out of each iteration: the next
 * batch of the oldest job; the loop is kept running while jobs remain. */
void channel_hook_offline_step(struct wk_proc *p);
/* At stop: every job to its end. */
void channel_hook_offline_drain(struct wk_proc *p);
/* " offline_jobs=N ..." for the status line. */
int channel_hook_status(char *buf, size_t len);

/* ---- channel_notify.c: msg.notify kept in cmdout.db until wk-hook has it ---- */
/* The event stored message m raises: WK_WEBHOOK_AGENT_NOTIFY (an agent
 * channel's, with agent.webhook.httpAddr set), WK_WEBHOOK_MSG_NOTIFY, or -1. */
int channel_notify_event(struct wk_proc *p, const struct wk_chmsg *m);
/* In the transaction that stores m (frame: m as wk_chmsg_put wrote it): its
 * msg.notify row, if it raises one.  0, or -1 (the transaction is failed). */
int channel_notify_keep(struct wk_proc *p, const struct wk_chmsg *m, const void *frame,
    size_t len);
/* After the commit: hand m's msg.notify to wk-hook; its row goes when wk-hook
 * acknowledges it. */
void channel_notify_emit(struct wk_proc *p, const struct wk_chmsg *m, const void *frame,
    size_t len);
/* At start: emit the rows left (or delete them, msg.notify off). */
int channel_notify_open(struct wk_proc *p);
/* " notify_kept=N notify_acked=N notify_replayed=N" for the status line. */
int channel_notify_status(char *buf, size_t len);

/* ---- channel_person.c: who may write to whom in a person chat ---- */
/* The recipient's lists, which this shard owns: 4 if from is on to's
 * blacklist, 13 if need_white and from is not on to's whitelist, else 1
 * (15 on a storage error). */
int channel_person_lists(struct wk_proc *p, const char *to, const char *from, int need_white);
/* The owner's answer about from writing to `to`, if cached and usable
 * (no ask about `to` outstanding): 1, 4 or 13; 0: ask the owner. */
int channel_person_cached(struct wk_proc *p, const char *to, const char *from, int need_white);
/* An ask about `to` was sent; and its answer came (reason < 0: it timed
 * out), which is cached when it is a verdict. */
void channel_person_asked(const char *to);
void channel_person_answered(const char *to, const char *from, int need_white, int reason);
int channel_person_open(struct wk_proc *p);
void channel_person_close(struct wk_proc *p);
int channel_person_status(struct wk_proc *p, char *buf, size_t len);
void channel_on_person_check(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg);
void channel_on_person_changed(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg);
void channel_on_person_flush(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg);

/* ---- channel_fanout.c: recipients and the fan-out (wk_fanout.h) ---- */
/* fn(uid, len, arg) for each recipient: the uids in `to` (to_len bytes of
 * NUL-terminated uids) if given, else by channel type (semantics.md §8.2):
 * a person chat's or an agent channel's two uids; a customer-service
 * channel's visitor (its id up to '|') and members; a visitors channel's
 * visitor (its id) and members; any other channel's members, once each.
 * A non-zero return stops the walk and is returned;
 * -1 on a storage error. */
typedef int channel_uid_fn(const char *uid, size_t len, void *arg);
int channel_recipients_foreach(struct wk_proc *p, const char *to, size_t to_len, const char *id,
    uint8_t type, channel_uid_fn *fn, void *arg);
/* 1 if uid is one of those recipients, 0 if not, -1 on a storage error. */
int channel_is_recipient(struct wk_proc *p, const char *id, uint8_t type, const char *uid);
/* One message of `type` per broker holding a recipient's online connection:
 * frame 1 `frame`, frame 2 the u64 target connections.  The recipients are
 * as for channel_recipients_foreach; the connection (skip_broker,
 * skip_conn) is left out (UINT16_MAX, UINT64_MAX: none). */
void channel_fanout(struct wk_proc *p, int type, const void *frame, size_t len, const char *id,
    uint8_t channel_type, const char *to, size_t to_len, uint16_t skip_broker, uint64_t skip_conn);
/* The same, batched: frame and targets are added as two more frames to
 * batch[broker] (a message of `type` made when NULL; processes.broker
 * entries); channel_fanout_send sends the batch and empties it. */
void channel_fanout_add(struct wk_proc *p, zmsg_t **batch, int type, const void *frame, size_t len,
    const char *id, uint8_t channel_type, const char *to, size_t to_len, uint16_t skip_broker,
    uint64_t skip_conn);
void channel_fanout_send(struct wk_proc *p, zmsg_t **batch);
/* uid is one side of the "a@b" id (an agent channel's two parties). */
int channel_is_party(const char *id, const char *uid);
/* The recipients of a channel of this type are its members only (no
 * person chat, agent, customer-service or visitors channel). */
int channel_type_is_group(uint8_t type);
/* Map the presence table (read-only): 0, -1. */
int channel_fanout_open(struct wk_proc *p);
void channel_fanout_close(struct wk_proc *p);
/* The shard's mapping of the presence table. */
struct presence;
const struct presence *channel_presence(void);
/* " delivered_to=N presence_busy=N" for the status line. */
int channel_fanout_status(struct wk_proc *p, char *buf, size_t len);

/* ---- channel_append.c ---- */
int channel_append_open(struct wk_proc *p);
void channel_append_close(struct wk_proc *p);
/* CHANNEL_APPEND from a broker: checks, dedup, append; SENDACK and fan-out
 * after the commit. */
void channel_on_append(struct wk_proc *p, const struct wk_msg_hdr *h, const struct wk_msgv *v);
void channel_on_refused(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg);
int channel_append_status(struct wk_proc *p, char *buf, size_t len);
/* The owner's answer to a parked person-chat append (channel_person.c). */
void channel_on_person_check_rep(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg);
/* An append from wk-api (POST /message/send), sender on the system device:
 * done(p, arg, reason, message_id, seq) after the commit (reason 1: stored
 * and delivered; 15 if the commit failed), or at once for a refusal.  `to`
 * (to_len bytes of NUL-terminated uids) replaces the channel's recipients;
 * NULL for the channel's own. */
typedef void channel_sent_fn(struct wk_proc *p, void *arg, int reason, int64_t message_id,
    uint32_t seq);
struct wk_chmsg;
void channel_append_api(struct wk_proc *p, const struct wk_chmsg *m, const char *to,
    size_t to_len, channel_sent_fn *done, void *arg);
/* After channel_commit: the fan-out of what it made durable (the SENDACKs
 * went out in the commit's after-work, first). */
void channel_append_flush(struct wk_proc *p);
/* Once in a while: refuse appends whose check was not answered in time. */
void channel_append_tick(struct wk_proc *p);

/* ---- channel_beforesend.c ---- */
/* msg.before_send's verdict: reason WKPROTO_REASON_SUCCESS stores the
 * message, with payload (payload_len bytes, valid during the call) in
 * place of its own when not NULL; another reason refuses it. */
struct channel_verdict {
	int reason;
	const uint8_t *payload;
	size_t payload_len;
};
typedef void channel_verdict_fn(struct wk_proc *p, void *arg, const struct channel_verdict *v);
/* webhook.beforeSendUrl is set. */
int channel_beforesend_is_on(const struct wk_proc *p);
/* Ask the receiver about m; fn runs from the loop with the verdict (per
 * channel in the order asked), or before this returns when no call can be
 * made.  m's bytes must live until fn. */
void channel_beforesend_ask(struct wk_proc *p, const struct wk_chmsg *m, channel_verdict_fn *fn,
    void *arg);
void channel_beforesend_close(void);
int channel_beforesend_status(char *buf, size_t len);

#endif
