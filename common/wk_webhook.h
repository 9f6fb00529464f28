/* wk_webhook.h - raising webhook events: the producers' side of wk-hook(8).
 *
 * A process that raises events (wk-channel: msg.notify and msg.offline;
 * wk-mailbox: user.onlinestatus) asks wk_webhook_on() before it builds one,
 * so that with webhook.httpAddr empty nothing is built at all, and hands
 * the event to wk_webhook_emit().  Nothing here waits for wk-hook, let
 * alone for the HTTP side: the first event registers the producer with the
 * skeleton (wk_proc_on_iteration), which after on_iteration closes the
 * events collected as one numbered batch, at most every 10 ms, and sends it
 * (HOOK_EVENT, never blocking).
 *
 * Hand-over without loss.  A batch is kept until wk-hook acknowledges it
 * (HOOK_ACK, sent after wk-hook committed it to its queue) and is sent again
 * when wk-hook starts (HOOK_HELLO); wk-hook takes each producer's batches
 * strictly in order, once: a repeat is acknowledged and dropped, a batch
 * after a gap is dropped until the missing one comes again.  So a kill -9
 * of wk-hook loses nothing.  What is lost: the batches a producer still
 * kept when it died or stopped (normally the events of its last few
 * milliseconds), unless the producer stored them itself: an event emitted
 * with wk_webhook_emit_durable carries a token (the producer's key of its
 * own durable copy, written in the commit that made the event happen), and
 * the producer is told each token once wk-hook acknowledged its batch; the
 * producer deletes its copy then, and emits again what it still holds when
 * it starts (wk-channel's msg.notify).  The bytes kept are bounded by
 * WK_WEBHOOK_KEEP_MAX; past it new events are dropped, counted
 * (hook_dropped in STATUS) and logged, rate-limited: "hook queue full".
 *
 * HOOK_EVENT payload, one frame: u64 epoch (the producer's start, wall
 * clock ms), u64 batch seq (1, 2, ... within the epoch), then records to
 * the end: u8 event, u32 order key, blob (u32 length + bytes) data.
 * wk-hook posts the events of one order key (the hash of a channel or of a
 * uid) in the order they were emitted.  The data are facts, not bodies: the
 * JSON is made by wk-hook, off the producers' message path:
 *   msg.notify         the message as wk_chmsg_put writes it;
 *   msg.offline        the same, then u32 n and n uids (u16-length
 *                      strings): its recipients with no master device online;
 *   user.onlinestatus  str uid, u8 device_flag, u8 online, u64 connection
 *                      id, u32 the uid's connections of that device flag,
 *                      u32 all its connections (after the change).
 */
#ifndef WK_WEBHOOK_H
#define WK_WEBHOOK_H
#include <stddef.h>
#include <stdint.h>
#include <czmq.h>

enum wk_webhook_event {
	WK_WEBHOOK_MSG_NOTIFY,          /* item of a JSON array: one MessageResp */
	WK_WEBHOOK_MSG_OFFLINE,         /* the whole body: one object */
	WK_WEBHOOK_USER_ONLINESTATUS,   /* item of a JSON array: one string */
	/* msg.notify of an agent channel (type 11) while agent.webhook.httpAddr
	 * is set: posted there, as the reference does, not to webhook.httpAddr. */
	WK_WEBHOOK_AGENT_NOTIFY,
	WK_WEBHOOK_NEVENTS
};

#define WK_WEBHOOK_KEEP_MAX (64u << 20)   /* bytes a producer keeps for wk-hook */
#define WK_WEBHOOK_SOURCE_ID 1001         /* msg.offline source_id: the reference's node id */

struct wk_proc;
struct wk_msg_hdr;

/* "msg.notify", "msg.offline", "user.onlinestatus" (agent msg.notify:
 * "msg.notify"); NULL if out of range. */
const char *wk_webhook_event_name(int ev);
/* The event of a name, or -1. */
int wk_webhook_event_from_name(const char *name);
/* 1 if events of this kind are wanted: webhook.httpAddr is set and
 * webhook.focusEvents is empty or names it (names it does not know are
 * ignored, as the reference does); agent msg.notify: agent.webhook.httpAddr
 * is set. */
int wk_webhook_on(const struct wk_proc *p, int ev);
/* Hand one event over (data as above, copied).  key: events with the same
 * key are posted in this order. */
void wk_webhook_emit(struct wk_proc *p, int ev, uint32_t key, const void *data, size_t len);
/* The same for an event the producer keeps a durable copy of, named by
 * token: 0, or -1 if it was dropped (the copy stays for the next start). */
int wk_webhook_emit_durable(struct wk_proc *p, int ev, uint32_t key, const void *data,
    size_t len, uint64_t token);
/* fn(p, tokens, n) is called when wk-hook has committed the events of
 * those tokens (n big-endian u64s): the producer may forget its copies. */
typedef void wk_webhook_acked_fn(struct wk_proc *p, const uint8_t *tokens, size_t n);
void wk_webhook_on_acked(wk_webhook_acked_fn *fn);

/* For the skeleton (wk_proc.c): HOOK_ACK and HOOK_HELLO; the " hook_..."
 * STATUS pairs (nothing while no event was ever raised and webhooks are off). */
void wk_webhook_on_ack(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg);
void wk_webhook_on_hello(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg);
int wk_webhook_status(const struct wk_proc *p, char *buf, size_t len);

#endif
