/* channel_webhook.c - the webhook events of wk-channel (wk-hook(8),
 * semantics.md §12): msg.notify for every stored message (cmd messages
 * included), msg.offline for the recipients of a message (no_persist and
 * cmd ones included) who have no master device online, the sender and the
 * system uid left out.  Raised once the message is durable (a no_persist
 * one: once accepted), after the SENDACKs of its commit, and handed to
 * wk-hook without waiting (wk_webhook.h).  With webhook.httpAddr empty,
 * nothing here does anything.
 *
 * Only the facts are gathered here, on the message path: the message as
 * it is already encoded for the brokers, and for msg.offline who is
 * offline now (from the presence table).  wk-hook makes the JSON bodies
 * (hook_format.c), off the message path.
 *
 * A large group (channel.offlineLargeGroup members, or the large flag)
 * would cost a walk of all its members on every message.  Its msg.offline
 * is a job instead: the message, and where the walk stopped.  After each
 * commit and fan-out, the oldest job walks the next channel.offlineBatch
 * members of members.db (in uid order, resuming after the last uid it saw,
 * so members added or removed meanwhile are simply met or not) and emits
 * one msg.offline for the offline ones among them; the loop runs again at
 * once while jobs remain.  So one message gives several msg.offline, each
 * a batch, and nothing holds the channel's log or an iteration longer
 * than one batch.  At most OFFLINE_JOBS_MAX jobs wait; past it the oldest
 * is finished at once (the shard slows down rather than drop or grow).
 */
#include <stdlib.h>
#include <string.h>
#include "channel.h"
#include "wk_alloc.h"
#include "wk_fanout.h"
#include "wk_buf.h"
#include "wk_chmsg.h"
#include "wk_webhook.h"
#include "wk_log.h"
#include "wk_shard.h"
#include "wkproto.h"

/* Unreadable member lists are logged at most twice a second. */
static struct wk_ratelimit rl_hook = WK_RATELIMIT_INIT(2);

#define OFFLINE_JOBS_MAX 1024

/* A large group's msg.offline still to make. */
struct offline_job {
	struct offline_job *next;
	char *id;
	uint8_t type;
	uint32_t key;
	char after[CHANNEL_ID_MAX + 1];   /* the last member walked; "" none yet */
	size_t len;
	uint8_t frame[];             /* the message (wk_chmsg_put) */
};

static struct {
	struct offline_job *head, **tail;
	size_t n;
	uint64_t jobs, batches, forced;
} oj = { NULL, &oj.head, 0, 0, 0, 0 };

/* The recipients without a master device online, appended to out. */
struct offline {
	const struct wk_chmsg *m;
	struct wk_wbuf *out;
	uint32_t n;
	struct presence_conn c[PRESENCE_CONNS_MAX];
};

/* Is the counted string uid equal to want. */
static int
is_uid(const char *uid, size_t len, const char *want, size_t wlen)
{
	return len == wlen && memcmp(uid, want, len) == 0;
}

/* Recipient callback: count and record uid in the msg.offline body unless
 * it is the sender, the system uid, or has a master device online. */
static int
offline_uid(const char *uid, size_t len, void *arg)
{
	struct offline *o = arg;
	char u[PRESENCE_UID_MAX];
	int n = 0;

	if (len == 0 || is_uid(uid, len, o->m->from_uid.p, o->m->from_uid.len) ||
	    is_uid(uid, len, WK_SYSTEM_UID, sizeof WK_SYSTEM_UID - 1))
		return 0;
	if (len < sizeof u) {        /* a longer uid can not be online */
		memcpy(u, uid, len);
		u[len] = '\0';
		n = wk_fanout_lookup(channel_presence(), u, o->c);
		for (int i = 0; i < n; i++)
			if (o->c[i].device_level == WKPROTO_DEVICE_LEVEL_MASTER)
				return 0;
	}
	wk_put_strn(o->out, uid, len);
	o->n++;
	return 0;
}

/* The next batch of a large group's offline members, as one msg.offline:
 * 1 more to walk, 0 the job is done. */
struct batch {
	struct offline o;
	struct offline_job *j;
	size_t walked;
};

/* members.db walk callback of a job: remember where the walk is, then
 * treat the member as a recipient. */
static int
batch_one(const struct channel_entry *e, void *arg)
{
	struct batch *b = arg;

	b->walked++;
	memcpy(b->j->after, e->uid, e->len + 1);
	return offline_uid(e->uid, e->len, &b->o);
}

/* The body: the message, u32 n, n uids; emitted when n > 0. */
static void
offline_emit(struct wk_proc *p, struct wk_wbuf *b, size_t at, uint32_t n, uint32_t key)
{
	if (n) {
		wk_be32_put(b->p + at, n);
		wk_webhook_emit(p, WK_WEBHOOK_MSG_OFFLINE, key, b->p, b->len);
	}
	wk_wbuf_free(b);
}

/* One batch of a job: walk channel.offlineBatch members after the last one
 * seen and emit their msg.offline.  1 if the job has more members. */
static int
offline_step(struct wk_proc *p, struct offline_job *j)
{
	struct wk_chmsg m;
	struct wk_rbuf r;
	struct wk_wbuf b;
	struct batch bt = { .j = j };
	size_t at;
	int rc;

	wk_rbuf_init(&r, j->frame, j->len);
	if (wk_chmsg_get(&r, &m) < 0)
		return 0;
	wk_wbuf_init(&b);
	wk_put_mem(&b, j->frame, j->len);
	at = b.len;
	wk_put_u32(&b, 0);
	bt.o.m = &m;
	bt.o.out = &b;
	rc = channel_list_foreach_after(p, j->id, j->type, CHANNEL_MEMBERS,
	    j->after[0] ? j->after : NULL, (size_t)p->cfg.channel_offlineBatch, batch_one, &bt);
	if (rc < 0)
		wk_log_limited(&rl_hook, WK_LOG_WARN, "msg.offline %s/%u: members unreadable",
		    j->id, j->type);
	offline_emit(p, &b, at, bt.o.n, j->key);
	oj.batches++;
	return rc == 0 && bt.walked == (size_t)p->cfg.channel_offlineBatch;
}

/* Free the oldest job (done, or finished by force). */
static void
job_pop(void)
{
	struct offline_job *j = oj.head;

	if ((oj.head = j->next) == NULL)
		oj.tail = &oj.head;
	oj.n--;
	free(j->id);
	free(j);
}

/* After each commit and fan-out: one batch of the oldest job; while jobs
 * remain the loop is told to run again without waiting for input. */
void
channel_hook_offline_step(struct wk_proc *p)
{
	if (oj.head == NULL)
		return;
	if (!offline_step(p, oj.head))
		job_pop();
	if (oj.head)
		wk_loop_pending(p->loop);
}

/* At stop: finish every job, so a stop loses no msg.offline. */
void
channel_hook_offline_drain(struct wk_proc *p)
{
	while (oj.head) {
		while (offline_step(p, oj.head))
			;
		job_pop();
	}
}

/* Job counters for `wkctl status`; offline_jobs_forced counts the bound. */
int
channel_hook_status(char *buf, size_t len)
{
	return snprintf(buf, len, " offline_jobs=%zu offline_jobs_total=%llu offline_batches=%llu"
	    " offline_jobs_forced=%llu", oj.n, (unsigned long long)oj.jobs,
	    (unsigned long long)oj.batches, (unsigned long long)oj.forced);
}

/* A large group (no `to`): 1 if its msg.offline was queued as a job. */
static int
offline_queue(struct wk_proc *p, const char *id, uint8_t type, const void *frame, size_t len,
    uint32_t key)
{
	struct channel_info ci;
	struct offline_job *j;

	if (!channel_type_is_group(type) || channel_get(p, id, type, &ci) != 1 ||
	    (!ci.large && ci.nmembers < (uint64_t)p->cfg.channel_offlineLargeGroup))
		return 0;
	if (oj.n >= OFFLINE_JOBS_MAX) {   /* the bound: finish the oldest now */
		while (offline_step(p, oj.head))
			;
		job_pop();
		oj.forced++;
	}
	j = wk_malloc(sizeof *j + len);
	j->next = NULL;
	j->id = wk_strdup(id);
	j->type = type;
	j->key = key;
	j->after[0] = '\0';
	j->len = len;
	memcpy(j->frame, frame, len);
	*oj.tail = j;
	oj.tail = &j->next;
	oj.n++;
	oj.jobs++;
	wk_loop_pending(p->loop);
	return 1;
}

/* msg.offline: the message, then u32 n and the n uids of its recipients
 * with no master device online; nothing if there are none. */
static void
hook_offline(struct wk_proc *p, const struct wk_chmsg *m, const void *frame, size_t len,
    const char *to, size_t to_len, uint32_t key)
{
	struct offline o = { .m = m };
	char id[CHANNEL_ID_MAX + 1];
	struct wk_wbuf b;
	size_t at;

	if (m->channel_type == WKPROTO_CHANNEL_AGENT || m->channel_id.len > CHANNEL_ID_MAX)
		return;   /* the reference raises none for agent channels */
	memcpy(id, m->channel_id.p, m->channel_id.len);
	id[m->channel_id.len] = '\0';
	if (to == NULL && offline_queue(p, id, m->channel_type, frame, len, key))
		return;
	wk_wbuf_init(&b);
	wk_put_mem(&b, frame, len);
	at = b.len;
	wk_put_u32(&b, 0);           /* n, set below */
	o.out = &b;
	if (channel_recipients_foreach(p, to, to_len, id, m->channel_type, offline_uid, &o) < 0)
		wk_log_limited(&rl_hook, WK_LOG_WARN, "msg.offline %s/%u: recipients unreadable",
		    id, m->channel_type);
	offline_emit(p, &b, at, o.n, key);
}

void
channel_hook_frame(struct wk_proc *p, const void *frame, size_t len, const char *to, size_t to_len)
{
	int notify = wk_webhook_on(p, WK_WEBHOOK_MSG_NOTIFY), offline = wk_webhook_on(p, WK_WEBHOOK_MSG_OFFLINE);
	int agent = wk_webhook_on(p, WK_WEBHOOK_AGENT_NOTIFY);
	struct wk_chmsg m;
	struct wk_rbuf r;
	uint32_t key;

	if (!notify && !offline && !agent)
		return;
	wk_rbuf_init(&r, frame, len);
	if (wk_chmsg_get(&r, &m) < 0)
		return;
	key = wk_shard_hash(m.channel_id.p, m.channel_id.len);
	if (channel_notify_event(p, &m) >= 0)
		channel_notify_emit(p, &m, frame, len);   /* its cmdout.db row (channel_notify.c) */
	if (offline)
		hook_offline(p, &m, frame, len, to, to_len, key);
}

void
channel_hook_message(struct wk_proc *p, const struct wk_chmsg *m, const char *to, size_t to_len)
{
	struct wk_wbuf b;

	if (!wk_webhook_on(p, WK_WEBHOOK_MSG_NOTIFY) && !wk_webhook_on(p, WK_WEBHOOK_MSG_OFFLINE) &&
	    !(m->channel_type == WKPROTO_CHANNEL_AGENT && wk_webhook_on(p, WK_WEBHOOK_AGENT_NOTIFY)))
		return;
	wk_wbuf_init(&b);
	wk_chmsg_put(&b, m);
	channel_hook_frame(p, b.p, b.len, to, to_len);
	wk_wbuf_free(&b);
}
