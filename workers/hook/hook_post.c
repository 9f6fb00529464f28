/* hook_post.c - wk-hook's POSTs (wk-hook(8), hook.h).
 *
 * Per event kind and lane, one request at a time: POST
 * <webhook.httpAddr>?event=<name>, Content-Type application/json (an agent
 * channel's msg.notify: <agent.webhook.httpAddr>?event=msg.notify).
 *   msg.notify         a JSON array of up to msgNotifyEventCountPerPush
 *                      MessageResp, sent when that many wait in the lane or
 *                      the oldest has waited msgNotifyEventPushInterval;
 *   user.onlinestatus  a JSON array of up to HOOK_ONLINESTATUS_PER_PUSH
 *                      strings, at once;
 *   msg.offline        one object per request, at once.
 * Success is HTTP 200, and only then are the events removed from the queue.
 * Anything else (another status, no answer within the timeouts) is tried
 * again with the same events after webhook.retryDelay, then 4 times longer
 * each time (at most HOOK_BACKOFF_MAX_MS), and the lane waits meanwhile, so
 * a channel's events keep their order.  After
 * webhook.msgNotifyEventRetryMaxCount attempts (0: no limit) the events
 * are dropped, logged and counted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hook.h"
#include "wk_alloc.h"
#include "wk_buf.h"
#include "wk_http.h"
#include "wk_log.h"
#include "wk_time.h"

#define HOOK_ONLINESTATUS_PER_PUSH 1000
#define HOOK_BACKOFF_MAX_MS (60 * 1000)
#define HOOK_TIMEOUT_MS 30000L       /* in all, as the reference's client */

/* A lane's posting state: its batch stays here, the same events, until it
 * is posted or dropped, so a retry sends exactly what failed. */
struct post {
	int ev, lane;
	struct hook_event *batch;    /* being posted or waiting for its retry */
	size_t n;
	int attempts, inflight;
	uint64_t retry_at_ms;
};

static struct {
	struct post lanes[WK_WEBHOOK_NEVENTS][HOOK_LANES];
	uint64_t timer, timer_at;
	uint64_t requests, failures, posted[WK_WEBHOOK_NEVENTS], dropped;
	int inflight;
} ps;

static struct wk_ratelimit rl_fail = WK_RATELIMIT_INIT(2);

/* The request body: the event's JSON, or the events' as one JSON array
 * (hook_format.c).  malloc'd, for wk_http_post. */
static char *
body(const struct wk_proc *p, int ev, const struct hook_event *list, size_t *len)
{
	static struct wk_ratelimit rl_bad = WK_RATELIMIT_INIT(2);
	int array = ev != WK_WEBHOOK_MSG_OFFLINE, first = 1;
	struct wk_wbuf b;

	wk_wbuf_init(&b);
	if (array)
		wk_put_u8(&b, '[');
	for (const struct hook_event *e = list; e; e = e->next) {
		size_t mark = b.len;
		if (array && !first)
			wk_put_u8(&b, ',');
		if (hook_format(p, ev, e->data, e->len, &b) < 0) {
			b.len = mark;   /* checked when it came: not expected */
			wk_log_limited(&rl_bad, WK_LOG_WARN, "%s: event %llu malformed; left out",
			    wk_webhook_event_name(ev), (unsigned long long)e->seq);
			continue;
		}
		first = 0;
	}
	if (array)
		wk_put_u8(&b, ']');
	wk_put_u8(&b, '\0');
	*len = b.len - 1;
	return (char *)b.p;
}

static void on_done(struct wk_proc *p, void *arg, long status, const char *answer,
    size_t alen);

/* Where events of kind ev go: agent.webhook.httpAddr for an agent
 * channel's msg.notify, else webhook.httpAddr ("": off). */
static const char *
target(const struct wk_proc *p, int ev)
{
	return ev == WK_WEBHOOK_AGENT_NOTIFY ? p->cfg.agent_webhook_httpAddr : p->cfg.webhook_httpAddr;
}

/* POST l's batch to its target, with ?event=<name> (or &event= when the
 * address has a query already). */
static void
post(struct wk_proc *p, struct post *l)
{
	const char *addr = target(p, l->ev);
	size_t len;
	char *b = body(p, l->ev, l->batch, &len), url[4096];

	snprintf(url, sizeof url, "%s%cevent=%s", addr, strchr(addr, '?') ? '&' : '?',
	    wk_webhook_event_name(l->ev));
	l->inflight = 1;
	l->attempts++;
	ps.inflight++;
	ps.requests++;
	wk_http_post(p, url, b, len, HOOK_TIMEOUT_MS, on_done, l);
}

/* The wait before attempt attempts + 1: webhook.retryDelay, times 4 per
 * earlier failure, at most HOOK_BACKOFF_MAX_MS. */
static uint64_t
backoff_ms(const struct wk_proc *p, int attempts)
{
	uint64_t d = (uint64_t)p->cfg.webhook_retryDelay;

	for (int i = 1; i < attempts && d < HOOK_BACKOFF_MAX_MS; i++)
		d *= 4;
	return d < HOOK_BACKOFF_MAX_MS ? d : HOOK_BACKOFF_MAX_MS;
}

/* The answer to a POST (status 0: none). 200 removes the batch from the
 * queue; anything else keeps it for a retry after the backoff, until the
 * retry limit drops it. */
static void
on_done(struct wk_proc *p, void *arg, long status, const char *answer, size_t alen)
{
	struct post *l = arg;
	int64_t max = p->cfg.webhook_msgNotifyEventRetryMaxCount;

	l->inflight = 0;
	ps.inflight--;
	if (status == 200) {
		ps.posted[l->ev] += l->n;
	} else {
		ps.failures++;
		if (max == 0 || l->attempts < max) {
			l->retry_at_ms = wk_now_ms() + backoff_ms(p, l->attempts);
			wk_log_limited(&rl_fail, WK_LOG_WARN, "%s: %zu events: %s %ld (attempt %d); "
			    "again in %llu ms", wk_webhook_event_name(l->ev), l->n,
			    status ? "HTTP" : "no answer", status, l->attempts,
			    (unsigned long long)(l->retry_at_ms - wk_now_ms()));
			hook_post_schedule(p);
			return;
		}
		ps.dropped += l->n;
		wk_log_warnx("%s: dropped %zu events after %d attempts (last: %s %ld); "
		    "%llu dropped so far", wk_webhook_event_name(l->ev), l->n, l->attempts,
		    status ? "HTTP" : "no answer", status, (unsigned long long)ps.dropped);
	}
	hook_queue_done(p, l->ev, l->batch);
	l->batch = NULL;
	l->n = 0;
	l->attempts = 0;
	hook_post_schedule(p);
}

/* The earliest lane became due. */
static void
on_timer(struct wk_loop *loop, uint64_t id, void *arg)
{
	ps.timer = 0;
	hook_post_schedule(arg);
}

/* When the lane has something due: now (0), a time, or never (UINT64_MAX). */
static uint64_t
lane_due(const struct wk_proc *p, struct post *l, uint64_t now)
{
	uint64_t since;
	size_t n;

	if (l->inflight)
		return UINT64_MAX;
	if (l->batch)
		return l->retry_at_ms;
	n = hook_queue_waiting(l->ev, l->lane, &since);
	if (n == 0)
		return UINT64_MAX;
	if ((l->ev != WK_WEBHOOK_MSG_NOTIFY && l->ev != WK_WEBHOOK_AGENT_NOTIFY) ||
	    n >= (size_t)p->cfg.webhook_msgNotifyEventCountPerPush)
		return now;
	/* Lane i waits (1 - i / 2 HOOK_LANES) of the interval: never longer
	 * than the interval, and the lanes do not all post at once (a burst of
	 * requests every interval shows in everybody's latency). */
	return since + (uint64_t)p->cfg.webhook_msgNotifyEventPushInterval *
	    (2 * HOOK_LANES - (uint64_t)l->lane) / (2 * HOOK_LANES);
}

/* Post every lane that is due and not in flight, and arm one timer for the
 * earliest lane that will be. Called after each commit and each answer. */
void
hook_post_schedule(struct wk_proc *p)
{
	static const size_t per_push[WK_WEBHOOK_NEVENTS] = {
		[WK_WEBHOOK_MSG_OFFLINE] = 1,
		[WK_WEBHOOK_USER_ONLINESTATUS] = HOOK_ONLINESTATUS_PER_PUSH,
	};
	uint64_t now = wk_now_ms(), next = UINT64_MAX;

	if (p->stopping)
		return;
	for (int ev = 0; ev < WK_WEBHOOK_NEVENTS; ev++)
		for (int i = 0; i < HOOK_LANES && target(p, ev)[0] != '\0'; i++) {
			/* (An address emptied by a reload: that kind's queue waits.) */
			struct post *l = &ps.lanes[ev][i];
			uint64_t due;

			l->ev = ev;
			l->lane = i;
			due = lane_due(p, l, now);
			if (due > now) {
				next = due < next ? due : next;
				continue;
			}
			if (l->batch == NULL) {
				size_t max = per_push[ev] ? per_push[ev] :
				    (size_t)p->cfg.webhook_msgNotifyEventCountPerPush;
				l->batch = hook_queue_take(ev, i, max, &l->n);
			}
			post(p, l);
		}
	if (next != UINT64_MAX && (ps.timer == 0 || next < ps.timer_at)) {
		if (ps.timer)
			wk_loop_timer_cancel(p->loop, ps.timer);
		ps.timer_at = next;
		ps.timer = wk_loop_timer(p->loop, next - now, 0, on_timer, p);
	}
}

/* Stopping: no more timers; what is in flight stays queued on disk. */
void
hook_post_close(struct wk_proc *p)
{
	if (ps.timer)
		wk_loop_timer_cancel(p->loop, ps.timer);
	ps.timer = 0;
}

int
hook_post_status(char *buf, size_t len)
{
	return snprintf(buf, len, " inflight=%d requests=%llu failures=%llu posted_notify=%llu "
	    "posted_offline=%llu posted_onlinestatus=%llu dropped=%llu", ps.inflight,
	    (unsigned long long)ps.requests, (unsigned long long)ps.failures,
	    (unsigned long long)ps.posted[WK_WEBHOOK_MSG_NOTIFY],
	    (unsigned long long)ps.posted[WK_WEBHOOK_MSG_OFFLINE],
	    (unsigned long long)ps.posted[WK_WEBHOOK_USER_ONLINESTATUS],
	    (unsigned long long)ps.dropped);
}

void
hook_post_stats(struct stats_row *r)
{
	stats_set(r, STATS_HOOK_INFLIGHT, (uint64_t)ps.inflight);
	stats_set(r, STATS_HOOK_REQUESTS, ps.requests);
	stats_set(r, STATS_HOOK_FAILURES, ps.failures);
	stats_set(r, STATS_HOOK_DROPPED, ps.dropped);
}
