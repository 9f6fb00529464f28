/* hook.c - wk-hook: the webhook queue (wk-hook(8)).
 *
 * Owns <dataDir>/hook-0, a Berkeley DB environment holding the durable
 * queue of the events the other processes raise (hook_queue.c), and posts
 * them to webhook.httpAddr (hook_post.c, common/wk_http.c).
 *
 * Messages handled: HOOK_EVENT from the producers (wk-channel,
 * wk-mailbox), and the built-in STATUS_REQ and PING_REQ.  Each producer's
 * batches are taken once and in order (wk_webhook.h): a batch goes whole into
 * the open transaction; after its commit (paced: see hook_on_iteration)
 * each producer is acknowledged up to its last batch (HOOK_ACK) and only
 * then are the new events posted.  At start HOOK_HELLO asks every producer to
 * send again what was not acknowledged.
 */
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>
#include "hook.h"
#include "wk_buf.h"
#include "wk_http.h"
#include "wk_log.h"
#include "wk_time.h"
#include "wk_txn.h"

#define HOOK_COMMIT_MS 20            /* at most one commit per this long... */
#define HOOK_COMMIT_WRITES 20000     /* ...unless the transaction holds this many rows */
#define HOOK_NICE 10

static struct {
	uint8_t due[WK_ROLE_COUNT][HOOK_MAX_INSTANCES];     /* an ack is queued for the commit */
	uint64_t batches, events, duplicates, gaps;
} acks;

static struct {
	uint64_t last_ms, timer;
} commits;

static struct wk_ratelimit rl_intake = WK_RATELIMIT_INIT(2);

/* After the commit (rc 0: a failed one is fatal, hook_queue.c): HOOK_ACK
 * to the producer up to its last batch taken. */
static void
send_ack(struct wk_proc *p, int rc, void *arg)
{
	int role = (int)((uintptr_t)arg >> 16), instance = (int)((uintptr_t)arg & 0xffff);
	uint64_t epoch, seq;
	struct wk_wbuf b;

	acks.due[role][instance] = 0;
	if (rc < 0 || !hook_queue_producer(role, instance, &epoch, &seq))
		return;
	wk_wbuf_init(&b);
	wk_put_u64(&b, epoch);
	wk_put_u64(&b, seq);
	wk_proc_send_buf(p, role, instance, WK_MSG_HOOK_ACK, seq, &b);
	wk_wbuf_free(&b);
}

/* Acknowledge the producer once the open transaction is durable. */
static void
ack_later(struct wk_proc *p, int role, int instance)
{
	if (acks.due[role][instance])
		return;
	if (wk_txn_after_commit(p->txn, send_ack,
	    (void *)(uintptr_t)((unsigned)role << 16 | (unsigned)instance)) < 0)
		wk_fatalx("queue.db: cannot queue an acknowledgement");
	acks.due[role][instance] = 1;
}

/* The records of a batch: how many, or -1 if malformed. */
static long
count_records(struct wk_rbuf r)
{
	long n = 0;
	size_t len;

	while (r.off < r.len && !r.err) {
		uint8_t ev = wk_get_u8(&r);
		wk_get_u32(&r);
		wk_get_blob(&r, &len);
		if (ev >= WK_WEBHOOK_NEVENTS)
			return -1;
		n++;
	}
	return r.err ? -1 : n;
}

/* HOOK_EVENT: the producer's next batch goes into the queue; a repeat is
 * acknowledged again, a batch after a gap waits for the missing one. */
static void
hook_on_event(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg)
{
	zframe_t *f = zmsg_first(msg);
	int role = h->sender_role, instance = h->sender_instance;
	uint64_t epoch, seq, last_epoch, last_seq;
	struct wk_rbuf r;
	long n;

	wk_rbuf_init(&r, zframe_data(f), zframe_size(f));
	epoch = wk_get_u64(&r);
	seq = wk_get_u64(&r);
	if (r.err || instance >= HOOK_MAX_INSTANCES || (n = count_records(r)) < 0) {
		if (role == WK_ROLE_CTL) {
			wk_log_warnx("HOOK_EVENT from ctl/%u: malformed; dropped", instance);
			return;
		}
		wk_fatalx("HOOK_EVENT from %s/%u: malformed payload", wk_role_name(role), instance);
	}
	if (!hook_queue_producer(role, instance, &last_epoch, &last_seq) || last_epoch != epoch)
		last_seq = 0;   /* a new life of the producer starts at batch 1 */
	if (seq <= last_seq) {
		acks.duplicates++;
		ack_later(p, role, instance);
		return;
	}
	if (seq != last_seq + 1) {
		acks.gaps++;
		wk_log_limited(&rl_intake, WK_LOG_INFO, "%s/%u: batch %llu after %llu; waiting for the "
		    "missing ones", wk_role_name(role), instance, (unsigned long long)seq,
		    (unsigned long long)last_seq);
		return;
	}
	while (r.off < r.len) {
		int ev = wk_get_u8(&r);
		uint32_t key = wk_get_u32(&r);
		size_t len;
		const void *data = wk_get_blob(&r, &len);

		if (hook_format_check(ev, data, len) == 0)
			hook_queue_put(p, ev, key, data, len);
		else if (role == WK_ROLE_CTL)
			wk_log_limited(&rl_intake, WK_LOG_WARN, "HOOK_EVENT from ctl/%u: a malformed %s "
			    "event; dropped", instance, wk_webhook_event_name(ev));
		else
			wk_fatalx("HOOK_EVENT from %s/%u: a malformed %s event", wk_role_name(role),
			    instance, wk_webhook_event_name(ev));
	}
	hook_queue_producer_set(p, role, instance, epoch, seq);
	ack_later(p, role, instance);
	acks.batches++;
	acks.events += (uint64_t)n;
}

static const struct wk_dispatch hook_dispatch[] = {
	{ WK_MSG_HOOK_EVENT, 1, 1, WK_ROLE_ANY, hook_on_event },
};

/* HOOK_HELLO to every process that may hold unacknowledged batches. */
static void
send_hello(struct wk_proc *p)
{
	struct wk_wbuf b;
	uint64_t epoch, seq;

	wk_wbuf_init(&b);
	wk_put_u32(&b, (uint32_t)getpid());
	wk_proc_broadcast(p, WK_ROLE_CHANNEL, p->cfg.processes_channel, WK_MSG_HOOK_HELLO, &b);
	wk_proc_broadcast(p, WK_ROLE_MAILBOX, p->cfg.processes_mailbox, WK_MSG_HOOK_HELLO, &b);
	for (int role = 0; role < WK_ROLE_COUNT; role++)
		for (int i = 0; i < HOOK_MAX_INSTANCES; i++)
			if (role != WK_ROLE_CHANNEL && role != WK_ROLE_MAILBOX && role != WK_ROLE_CTL &&
			    hook_queue_producer(role, i, &epoch, &seq))
				wk_proc_send_buf(p, role, i, WK_MSG_HOOK_HELLO, 0, &b);
	wk_wbuf_free(&b);
}

static int
hook_on_start(struct wk_proc *p)
{
	struct sched_param sp = { 0 };

	/* Webhooks wait without harm; messages do not.  SCHED_BATCH: waking up
	 * (for a batch, a commit, an answer) never preempts a broker or a
	 * channel shard; and a lower priority than theirs. */
	if (sched_setscheduler(0, SCHED_BATCH, &sp) < 0 || setpriority(PRIO_PROCESS, 0, HOOK_NICE) < 0)
		wk_log_warn("lowering the scheduling priority");
	/* One connection per lane and kind: a request never waits for one. */
	if (hook_queue_open(p) < 0 || wk_http_open(p, (long)(HOOK_LANES * WK_WEBHOOK_NEVENTS), 0) < 0)
		return -1;
	send_hello(p);
	hook_post_schedule(p);
	return 0;
}

/* Commit, then acknowledge (queued after the commit), then post what the
 * commit made durable. */
static void
commit(struct wk_proc *p)
{
	hook_queue_commit(p);
	commits.last_ms = wk_now_ms();
	hook_post_schedule(p);
}

static void
on_commit_timer(struct wk_loop *l, uint64_t id, void *arg)
{
	commits.timer = 0;
	commit(arg);
}

/* Group commit, paced: at most one commit (one fsync, on the disk the
 * channel shards commit to as well) per HOOK_COMMIT_MS, or sooner when a
 * transaction grows big.  Nobody waits for it but the webhooks. */
static void
hook_on_iteration(struct wk_proc *p)
{
	uint64_t now = wk_now_ms();
	size_t writes = hook_queue_writes();
	int open = wk_txn_is_open(p->txn);   /* rows, or only acknowledgements */

	if (writes >= HOOK_COMMIT_WRITES || (open && now - commits.last_ms >= HOOK_COMMIT_MS)) {
		commit(p);
		return;
	}
	if (open && commits.timer == 0)
		commits.timer = wk_loop_timer(p->loop, HOOK_COMMIT_MS - (now - commits.last_ms), 0,
		    on_commit_timer, p);
	hook_post_schedule(p);
}

static void
hook_on_stop(struct wk_proc *p)
{
	if (commits.timer)
		wk_loop_timer_cancel(p->loop, commits.timer);
	commits.timer = 0;
	hook_queue_commit(p);
	hook_post_close(p);
	wk_http_close();
	hook_queue_close(p);
}

static int
hook_on_status(struct wk_proc *p, char *buf, size_t len)
{
	int n = snprintf(buf, len, " batches=%llu events=%llu duplicates=%llu gaps=%llu",
	    (unsigned long long)acks.batches, (unsigned long long)acks.events,
	    (unsigned long long)acks.duplicates, (unsigned long long)acks.gaps);

	if (n > 0 && (size_t)n < len)
		n += hook_queue_status(buf + n, len - n);
	if (n > 0 && (size_t)n < len)
		n += hook_post_status(buf + n, len - n);
	return n;
}

static void
hook_on_stats(struct wk_proc *p, struct stats_row *r)
{
	hook_queue_stats(r);
	hook_post_stats(r);
}

static const struct wk_proc_def hook_def = {
	.name = "wk-hook",
	.role = WK_ROLE_HOOK,
	.dispatch = hook_dispatch,
	.ndispatch = sizeof hook_dispatch / sizeof hook_dispatch[0],
	.on_start = hook_on_start,
	.on_iteration = hook_on_iteration,
	.on_stop = hook_on_stop,
	.on_status = hook_on_status,
	.on_stats = hook_on_stats,
	.databases = hook_databases,
	/* Producers keep their events until acknowledged, and a receiver
	 * waits msgNotifyEventPushInterval anyway: taking what came in every
	 * 5 ms, not per batch, costs the machine a fifth of the CPU at
	 * 5,000 msgs/s (wake-ups, not work). */
	.min_iteration_ms = 5,
};

int
main(int argc, char **argv)
{
	return wk_proc_main(argc, argv, &hook_def);
}
