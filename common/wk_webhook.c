/* wk_webhook.c - raising webhook events: batches kept until wk-hook has them
 * (wk_webhook.h, wk-hook(8)).  One producer per process, so the state is
 * file-static like the skeleton's own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "wk_alloc.h"
#include "wk_buf.h"
#include "wk_webhook.h"
#include "wk_log.h"
#include "wk_proc.h"
#include "wk_time.h"

/* Each batch starts with the producer's epoch and the batch number; both
 * are echoed in HOOK_ACK so an acknowledgement for an earlier life of this
 * process is ignored. */
#define HOOK_HDR 16                  /* u64 epoch, u64 seq */
#define HOOK_RETRY_MS 50             /* a batch that would block is tried again after this */
#define HOOK_FLUSH_MS 10             /* a batch is closed and sent at most this often... */
#define HOOK_FLUSH_BYTES (256u << 10) /* ...or when it holds this much */

/* A batch sent (or to be sent) and not yet acknowledged. */
/* Ownership: the list hk.head..hk.tail owns the batches; a batch leaves it
 * only when HOOK_ACK covers its seq.  `sent` is cleared by HOOK_HELLO so a
 * restarted wk-hook gets every kept batch again, in order. */
struct batch {
	struct batch *next;
	uint64_t seq;
	int sent;
	struct wk_wbuf b;
	struct wk_wbuf tokens;       /* u64s: the producer's durable copies of its events */
};

static struct {
	uint64_t epoch, next_seq;
	struct wk_wbuf cur;          /* this iteration's events, after the header */
	struct wk_wbuf cur_tokens;   /* and their tokens (wk_webhook_emit_durable) */
	wk_webhook_acked_fn *acked;  /* told the tokens wk-hook has committed */
	struct batch *head, **tail;  /* kept, in seq order */
	size_t kept;                 /* bytes in head... */
	uint64_t timer, flush_timer, flushed_ms;
	uint64_t events, dropped, resent;
	int registered;              /* with the skeleton's per-iteration producers */
} hk = { .tail = &hk.head };

static struct wk_ratelimit rl_full = WK_RATELIMIT_INIT(1);

static void webhook_flush(struct wk_proc *p, void *arg);

/* The reference's event names, as webhook.focusEvents spells them. */
static const char *const names[WK_WEBHOOK_NEVENTS] = {
	[WK_WEBHOOK_MSG_NOTIFY] = "msg.notify",
	[WK_WEBHOOK_MSG_OFFLINE] = "msg.offline",
	[WK_WEBHOOK_USER_ONLINESTATUS] = "user.onlinestatus",
	[WK_WEBHOOK_AGENT_NOTIFY] = "msg.notify",   /* from_name finds MSG_NOTIFY first */
};

/* The name of an event number, or NULL. */
const char *
wk_webhook_event_name(int ev)
{
	return ev >= 0 && ev < WK_WEBHOOK_NEVENTS ? names[ev] : NULL;
}

/* The number of an event name, or -1. */
int
wk_webhook_event_from_name(const char *name)
{
	for (int i = 0; i < WK_WEBHOOK_NEVENTS; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

/* Should ev be raised: never without webhook.httpAddr; with focusEvents
 * naming known events, only those; otherwise (empty, or only unknown
 * names: wk.yaml(5) ignores those) every event. */
int
wk_webhook_on(const struct wk_proc *p, int ev)
{
	const struct wk_strlist *f = &p->cfg.webhook_focusEvents;
	int known = 0;

	if (ev == WK_WEBHOOK_AGENT_NOTIFY)
		return p->cfg.agent_webhook_httpAddr[0] != '\0';
	if (p->cfg.webhook_httpAddr[0] == '\0')
		return 0;
	for (int i = 0; i < f->n; i++) {
		int e = wk_webhook_event_from_name(f->v[i]);
		if (e == ev)
			return 1;
		known += e >= 0;
	}
	return known == 0;
}

/* Append one event to the open batch (starting it with its header).  At
 * WK_WEBHOOK_KEEP_MAX kept bytes the event is dropped (-1): the producer's
 * memory stays bounded when wk-hook is down, and the message path never
 * waits for it. */
static int
emit(struct wk_proc *p, int ev, uint32_t key, const void *data, size_t len)
{
	size_t need = (hk.cur.len ? 0 : HOOK_HDR) + 9 + len;

	if (hk.kept + hk.cur.len + need > WK_WEBHOOK_KEEP_MAX) {
		hk.dropped++;
		wk_log_limited(&rl_full, WK_LOG_WARN, "hook queue full: %zu bytes wait for wk-hook; "
		    "%s event dropped (%llu so far)", hk.kept + hk.cur.len, names[ev],
		    (unsigned long long)hk.dropped);
		return -1;
	}
	if (hk.cur.len == 0) {
		if (hk.epoch == 0)
			hk.epoch = (uint64_t)wk_wall_ms();
		wk_put_u64(&hk.cur, hk.epoch);
		wk_put_u64(&hk.cur, 0);      /* the seq, set by close_batch */
	}
	if (!hk.registered && wk_proc_on_iteration(p, webhook_flush, NULL) == 0)
		hk.registered = 1;
	wk_put_u8(&hk.cur, (uint8_t)ev);
	wk_put_u32(&hk.cur, key);
	wk_put_blob(&hk.cur, data, len);
	hk.events++;
	return 0;
}

void
wk_webhook_emit(struct wk_proc *p, int ev, uint32_t key, const void *data, size_t len)
{
	emit(p, ev, key, data, len);
}

int
wk_webhook_emit_durable(struct wk_proc *p, int ev, uint32_t key, const void *data, size_t len,
    uint64_t token)
{
	if (emit(p, ev, key, data, len) < 0)
		return -1;
	wk_put_u64(&hk.cur_tokens, token);
	return 0;
}

void
wk_webhook_on_acked(wk_webhook_acked_fn *fn)
{
	hk.acked = fn;
}

static void send_kept(struct wk_proc *p);

/* The retry timer of a batch that could not be sent. */
static void
on_retry(struct wk_loop *l, uint64_t id, void *arg)
{
	hk.timer = 0;
	send_kept(arg);
}

/* Send the kept batches not sent yet, in order; a full pipe to wk-hook
 * (or no wk-hook yet) is tried again shortly. */
static void
send_kept(struct wk_proc *p)
{
	for (struct batch *b = hk.head; b; b = b->next) {
		if (b->sent)
			continue;
		zmsg_t *m = wk_proc_msg(p, WK_MSG_HOOK_EVENT, b->seq, 0);
		zmsg_addmem(m, b->b.p, b->b.len);
		if (wk_proc_send(p, WK_ROLE_HOOK, 0, &m) != 0) {
			if (hk.timer == 0)
				hk.timer = wk_loop_timer(p->loop, HOOK_RETRY_MS, 0, on_retry, p);
			return;
		}
		b->sent = 1;
	}
}

/* Number the events collected so far as the next batch, keep it, send it. */
static void
close_batch(struct wk_proc *p)
{
	struct batch *b;

	if (hk.cur.len == 0)
		return;
	b = wk_calloc(1, sizeof *b);
	b->seq = ++hk.next_seq;
	wk_be64_put(hk.cur.p + 8, b->seq);
	b->b = hk.cur;
	b->tokens = hk.cur_tokens;
	wk_wbuf_init(&hk.cur);
	wk_wbuf_init(&hk.cur_tokens);
	hk.kept += b->b.len;
	*hk.tail = b;
	hk.tail = &b->next;
	hk.flushed_ms = wk_now_ms();
	send_kept(p);
}

/* The flush timer: close the batch that waited HOOK_FLUSH_MS. */
static void
on_flush(struct wk_loop *l, uint64_t id, void *arg)
{
	hk.flush_timer = 0;
	close_batch(arg);
}

/* Once per loop iteration, after on_iteration (a producer registered with
 * the skeleton).  A busy producer iterates thousands of times a second: its
 * events go out every HOOK_FLUSH_MS, so that wk-hook wakes up for a batch
 * of some size rather than for every iteration. */
static void
webhook_flush(struct wk_proc *p, void *arg)
{
	uint64_t now;

	if (hk.cur.len == 0)
		return;
	now = wk_now_ms();
	if (hk.cur.len >= HOOK_FLUSH_BYTES || now - hk.flushed_ms >= HOOK_FLUSH_MS || p->stopping)
		close_batch(p);
	else if (hk.flush_timer == 0)
		hk.flush_timer = wk_loop_timer(p->loop, HOOK_FLUSH_MS - (now - hk.flushed_ms), 0,
		    on_flush, p);
}

/* wk-hook committed every batch up to seq: forget them. */
void
wk_webhook_on_ack(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg)
{
	zframe_t *f = zmsg_first(msg);
	struct wk_rbuf r;
	uint64_t epoch, seq;

	wk_rbuf_init(&r, zframe_data(f), zframe_size(f));
	epoch = wk_get_u64(&r);
	seq = wk_get_u64(&r);
	if (wk_rbuf_done(&r) < 0)
		wk_fatalx("HOOK_ACK from hook/%u: malformed payload", h->sender_instance);
	if (epoch != hk.epoch)
		return;   /* for an earlier life of this process */
	while (hk.head && hk.head->seq <= seq) {
		struct batch *b = hk.head;
		hk.head = b->next;
		hk.kept -= b->b.len;
		if (b->tokens.len && hk.acked)
			hk.acked(p, b->tokens.p, b->tokens.len / 8);
		wk_wbuf_free(&b->tokens);
		wk_wbuf_free(&b->b);
		free(b);
	}
	if (hk.head == NULL)
		hk.tail = &hk.head;
}

/* wk-hook (re)started: whatever it did not acknowledge may be lost. */
void
wk_webhook_on_hello(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg)
{
	for (struct batch *b = hk.head; b; b = b->next) {
		hk.resent += b->sent;
		b->sent = 0;
	}
	send_kept(p);
}

/* Producer counters for `wkctl status` (nothing when webhooks are off). */
int
wk_webhook_status(const struct wk_proc *p, char *buf, size_t len)
{
	if (hk.events == 0 && hk.dropped == 0 && p->cfg.webhook_httpAddr[0] == '\0' &&
	    p->cfg.agent_webhook_httpAddr[0] == '\0')
		return 0;
	return snprintf(buf, len, " hook_events=%llu hook_dropped=%llu hook_kept=%zu hook_resent=%llu",
	    (unsigned long long)hk.events, (unsigned long long)hk.dropped, hk.kept + hk.cur.len,
	    (unsigned long long)hk.resent);
}
