/* api.c - wk-api: the HTTP API on httpAddr (wk-api(8)).
 *
 * One process, one thread: libmicrohttpd runs inside the skeleton's epoll
 * loop (api_http.c), the routes (api_routes.c) answer at once or ask the
 * owning shards.  A request that needs shards sends one binary op row per
 * shard (a round) with a fresh correlation id and its connection is
 * suspended; the API_ANSWERs are gathered here by part, and when the last
 * one is in, the first error answers the request or the route's `then`
 * makes the answer (or asks another round).  A round that is not answered
 * within API_SHARD_TIMEOUT_MS is answered 500 "timeout".
 *
 * Messages handled: API_ANSWER from wk-mailbox, wk-channel and wk-broker.
 * Sends: the op rows (wk_msgtypes.h 70-119) to wk-mailbox and wk-channel,
 * BROKER_CONN_LIST and BROKER_CONN_CLOSE to every wk-broker.
 */
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "wk_cluster.h"
#include "wk_alloc.h"
#include "wk_log.h"
#include "wk_shard.h"
#include "wk_time.h"


/* Warnings about shards (busy, unreachable, slow): a stuck shard would
 * otherwise log once per request. */
static struct wk_ratelimit rl_shard = WK_RATELIMIT_INIT(5);

/* The corr table's bucket of corr: an answer finds its request without a
 * walk of the whole pending list. */
static struct api_req **
pending_bucket(struct api_state *st, uint64_t corr)
{
	return &st->buckets[corr % API_NBUCKETS];
}

/* 1 if r waits on the pending list (the head has no prev). */
static int
pending_has(struct api_state *st, const struct api_req *r)
{
	return r->prev != NULL || st->head == r;
}

/* Invariant: every pending request is on both structures, the list (for
 * the timeout sweep) and its corr bucket (for the answers). */
/* Append r to the pending list (deadlines only grow) and the corr table. */
static void
pending_add(struct api_state *st, struct api_req *r)
{
	struct api_req **b = pending_bucket(st, r->corr);

	r->hnext = *b;
	*b = r;
	r->next = NULL;
	r->prev = st->tail;
	if (st->tail)
		st->tail->next = r;
	else
		st->head = r;
	st->tail = r;
	st->npending++;
}

/* Take r off the pending list and out of its bucket. */
static void
pending_remove(struct api_state *st, struct api_req *r)
{
	struct api_req **b;

	for (b = pending_bucket(st, r->corr); *b; b = &(*b)->hnext)
		if (*b == r) {
			*b = r->hnext;
			break;
		}
	if (r->prev)
		r->prev->next = r->next;
	else
		st->head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		st->tail = r->prev;
	r->prev = r->next = r->hnext = NULL;
	st->npending--;
}

/* The request waiting for corr; NULL when it timed out or went away. */
static struct api_req *
pending_find(struct api_state *st, uint64_t corr)
{
	struct api_req *r;

	for (r = *pending_bucket(st, corr); r; r = r->hnext)
		if (r->corr == corr)
			return r;
	return NULL;
}

/* r's connection went away: stop waiting for its answers (they are dropped
 * as late when they come). */
void
api_pending_drop(struct wk_proc *p, struct api_req *r)
{
	struct api_state *st = api_state(p);

	if (pending_has(st, r))
		pending_remove(st, r);
}

/* Stop waiting for r: answer it with 500 `msg` and wake its connection. */
static void
pending_fail(struct wk_proc *p, struct api_req *r, const char *msg)
{
	pending_remove(api_state(p), r);
	api_answer_error(r, 500, msg);
	api_http_resume(p, r);
}

/* Answer every waiting request 500 msg (stopping). */
void
api_pending_abort(struct wk_proc *p, const char *msg)
{
	struct api_state *st = api_state(p);

	while (st->head)
		pending_fail(p, st->head, msg);
}

/* Start a round of r if none is under way: a fresh correlation id, the
 * deadline, the pending list. */
static void
round_start(struct api_state *st, struct api_req *r)
{
	if (r->corr != 0)
		return;
	r->corr = ++st->next_corr;
	r->deadline_ms = wk_now_ms() + API_SHARD_TIMEOUT_MS;
	r->nparts = 0;
	pending_add(st, r);
}

/* Send m (taken) to shard `shard` of role as the next part of r. */
static int
round_send(struct wk_proc *p, struct api_req *r, int role, int shard, zmsg_t **m, const char *what)
{
	int rc = wk_proc_send(p, role, shard, m);

	if (rc != 0) {
		wk_log_limited(&rl_shard, WK_LOG_WARN, "%s to %s/%d: %s", what, wk_role_name(role),
		    shard, rc == WK_EAGAIN ? "queue full" : "send failed");
		pending_remove(api_state(p), r);
		api_answer_error(r, 500, rc == WK_EAGAIN ? "shard busy" : "shard unreachable");
		return -1;
	}
	/* One more answer to wait for; the part's index is its key. */
	r->waiting++;
	r->nparts++;
	return 0;
}

/* Ask shard `shard` of role with op row `type` (payload req, copied) as a
 * part of r's round; then runs when every part answered 200. 0, or -1 */
int
api_ask_op(struct wk_proc *p, struct api_req *r, int role, int shard, int type,
    const struct wk_wbuf *req, api_then_fn *then)
{
	zmsg_t *m;

	if (r->corr == 0) {          /* a new round: the last one's answers go */
		api_ops_free(r);
		r->then = then;
	}
	round_start(api_state(p), r);
	if (r->nparts == r->ops_cap) {
		r->ops_cap = r->ops_cap ? 2 * r->ops_cap : 4;
		r->ops = wk_realloc(r->ops, (size_t)r->ops_cap * sizeof *r->ops);
	}
	r->ops[r->nparts] = (struct api_part){ .role = role, .shard = shard, .type = type,
	    .asked = 1 };
	r->ops_n = r->nparts + 1;
	if (r->resendable && wk_cluster_on(&p->cfg)) {
		r->ops[r->nparts].req = wk_malloc(req->len ? req->len : 1);
		memcpy(r->ops[r->nparts].req, req->p, req->len);
		r->ops[r->nparts].req_len = req->len;
	}
	/* The shard echoes the key: it is the part's index. */
	m = wk_proc_msg(p, type, r->corr, (uint32_t)r->nparts);
	zmsg_addmem(m, req->p, req->len);
	return round_send(p, r, role, shard, &m, wk_msg_type_name(type));
}

/* As api_ask_op, to the shard that owns key: a channel id on the channel
 * shards, a uid on the mailbox shards. */
int
api_ask_op_owner(struct wk_proc *p, struct api_req *r, int role, const char *key, int type,
    const struct wk_wbuf *req, api_then_fn *then)
{
	size_t len = strlen(key);
	int shard = role == WK_ROLE_CHANNEL ?
	    wk_shard_channel(key, len, p->cfg.processes_channel) :
	    wk_shard_uid(key, len, p->cfg.processes_mailbox);

	return api_ask_op(p, r, role, shard, type, req, then);
}

/* A JSON array of strings as the u32 count and strings of an op row (a
 * value that is not a string goes as ""). */
void
api_put_strs(struct wk_wbuf *b, json_t *strs)
{
	size_t i;
	json_t *v;

	wk_put_u32(b, (uint32_t)json_array_size(strs));
	json_array_foreach(strs, i, v)
		wk_put_str(b, json_string_value(v) ? json_string_value(v) : "");
}

/* A reader over part i's answer. */
void
api_op_read(const struct api_req *r, int i, struct wk_rbuf *rb)
{
	wk_rbuf_init(rb, r->ops[i].data, r->ops[i].len);
}

/* Part i's answer as one u32 (a malformed one is fatal: a shard's bug). */
uint32_t
api_op_u32(const struct api_req *r, int i)
{
	struct wk_rbuf rb;
	uint32_t v;

	api_op_read(r, i, &rb);
	v = wk_get_u32(&rb);
	if (wk_rbuf_done(&rb) < 0)
		api_op_malformed(r, i);
	return v;
}

/* A `then` for ops whose success has no body: {"status":200}. */
void
api_then_ok(struct wk_proc *p, struct api_req *r)
{
	(void)p;
	api_answer_ok(r);
}

static void
ctx_json_free(void *o)
{
	json_decref(o);
}

/* Keep o with r for the next `then` (freed with r). */
void
api_ctx_keep(struct api_req *r, json_t *o)
{
	r->ctx = o;
	r->ctx_free = ctx_json_free;
}

/* A channel key in an op row: the id, then the type byte. */
void
api_put_key(struct wk_wbuf *w, const char *id, json_int_t type)
{
	wk_put_str(w, id);
	wk_put_u8(w, (uint8_t)type);
}

/* Free the answers of the last round. */
void
api_ops_free(struct api_req *r)
{
	for (int i = 0; i < r->ops_n; i++) {
		free(r->ops[i].data);
		free(r->ops[i].req);
		r->ops[i] = (struct api_part){ 0 };
	}
	r->ops_n = 0;
}

/* Every part of a round answered: the first error, else then. */
static void
round_finish(struct wk_proc *p, struct api_req *r)
{
	struct wk_rbuf rb;
	char msg[256];
	int i;

	pending_remove(api_state(p), r);
	for (i = 0; i < r->nparts && r->ops[i].status == 200; i++)
		;
	if (i < r->nparts) {
		api_op_read(r, i, &rb);
		wk_get_str(&rb, msg, sizeof msg);
		api_answer_error(r, r->ops[i].status, rb.err ? "internal error" : msg);
		api_ops_free(r);
	} else {
		r->corr = 0;   /* then may start another round */
		r->then(p, r);
		if (r->corr == 0)
			api_ops_free(r);
	}
	if (r->answered)
		api_http_resume(p, r);
}

/* API_ANSWER: u16 status, then the op's answer (wk_answer.h). */
static void
api_on_answer(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg)
{
	zframe_t *f = zmsg_first(msg);
	struct api_req *r = pending_find(api_state(p), h->corr);
	struct api_part *part;
	size_t len = zframe_size(f);

	if (h->sender_role < WK_ROLE_COUNT && h->sender_instance < 256)
		api_state(p)->answered_ms[h->sender_role][h->sender_instance] = wk_now_ms();
	if (r == NULL) {
		wk_log_debug("late API_ANSWER corr %llu from %s/%u", (unsigned long long)h->corr,
		    wk_role_name(h->sender_role), h->sender_instance);
		return;
	}
	/* The first answer to a part asked twice wins (the same, by the
	 * shard's de-duplication, unless one was a refusal). */
	if (h->key < (uint32_t)r->nparts && r->ops[h->key].asked > 1 && r->ops[h->key].status != 0)
		return;
	/* An answer for a part we did not ask, or a second answer to one,
	 * is a bug in the shard: fatal, as any bad internal message. */
	if (h->key >= (uint32_t)r->nparts || len < 2 ||
	    r->ops[h->key].status != 0)
		wk_fatalx("API_ANSWER from %s/%u: not an answer to part %u", wk_role_name(h->sender_role),
		    h->sender_instance, h->key);
	part = &r->ops[h->key];
	/* A failure while another pass may still be stored waits for it: a
	 * success wins, and only when every pass failed is it a failure. */
	if (wk_be16_get(zframe_data(f)) != 200 && part->asked > 1 && ++part->failed < part->asked)
		return;
	part->status = wk_be16_get(zframe_data(f));
	if (part->status < 100 || part->status > 599)
		wk_fatalx("API_ANSWER from %s/%u: bad status %u", wk_role_name(h->sender_role),
		    h->sender_instance, part->status);
	part->len = len - 2;
	part->data = wk_malloc(part->len + 1);
	memcpy(part->data, zframe_data(f) + 2, part->len);
	if (--r->waiting == 0)
		round_finish(p, r);
}

/* Ask r's unanswered parts again: their shard's master may have died with
 * them (a cluster's failover); the copy here passes them to the new one,
 * or refuses them 503 when there is none.  Not a shard that answered
 * anything within API_RESEND_MS: it is slow, not gone, and asking it
 * twice would only add to its load. */
static void
resend(struct wk_proc *p, struct api_req *r, uint64_t now)
{
	struct api_state *st = api_state(p);

	r->resend_ms = now + API_RESEND_MS;
	for (int i = 0; i < r->nparts; i++) {
		struct api_part *pt = &r->ops[i];
		if (pt->status != 0 || pt->req == NULL || pt->role < 0 || pt->role >= WK_ROLE_COUNT ||
		    pt->shard < 0 || pt->shard >= 256 ||
		    now - st->answered_ms[pt->role][pt->shard] < API_RESEND_MS)
			continue;
		zmsg_t *m = wk_proc_msg(p, pt->type, r->corr, (uint32_t)i);
		zframe_data(zmsg_first(m))[3] |= WK_MSG_F_AGAIN;   /* the header's flags */
		zmsg_addmem(m, pt->req, pt->req_len);
		if (wk_proc_send(p, pt->role, pt->shard, &m) == 0) {
			pt->asked++;
			api_state(p)->resends++;
		}
	}
}

/* Requests past their deadline get 500 "timeout"; the list is in deadline order. */
static void
api_on_tick(struct wk_proc *p)
{
	struct api_state *st = api_state(p);
	uint64_t now = wk_now_ms();

	/* Asked API_RESEND_MS ago or more: the head of the list, in order. */
	for (struct api_req *r = wk_cluster_on(&p->cfg) ? st->head : NULL; r &&
	    r->deadline_ms + API_RESEND_MS <= now + API_SHARD_TIMEOUT_MS; r = r->next)
		if (r->resendable && r->resend_ms <= now)
			resend(p, r, now);

	api_cluster_tick(p);
	while (st->head && st->head->deadline_ms <= now) {
		st->timeouts++;
		wk_log_limited(&rl_shard, WK_LOG_WARN, "%s: no reply from %d shard(s) in %d ms",
		    st->head->route->path, st->head->waiting, API_SHARD_TIMEOUT_MS);
		/* A send may have been stored by a shard that answered late: say
		 * so, and how to retry without a duplicate (wk-api(8)). */
		pending_fail(p, st->head, strncmp(st->head->route->path, "/message/send", 13) == 0 ?
		    "timeout: the message may have been stored; retry with the same client_msg_no "
		    "to store it at most once" : "timeout");
	}
}

/* Attach the presence segment read-only (the online routes read it), then
 * start the HTTP listener. */
static int
api_on_start(struct wk_proc *p)
{
	struct api_state *st = wk_calloc(1, sizeof *st);

	p->state = st;
	if (presence_attach(&st->presence, p->cfg.runDir, 0) < 0) {
		wk_log_warnx("cannot attach the presence segment of %s", p->cfg.runDir);
		return -1;
	}
	if (lastmsg_attach(&st->lastmsg, p->cfg.runDir, 0) < 0)
		wk_log_warnx("no last-message table: /conversation/sync asks every channel shard");
	if (p->master_fd >= 0 && stats_attach(&st->stats, p->cfg.runDir, 0) < 0)
		wk_log_warnx("no statistics segment: /metrics and /varz show only presence");
	return api_http_start(p);
}

/* Once per iteration: let libmicrohttpd run. */
static void
api_on_iteration(struct wk_proc *p)
{
	api_http_iteration(p);
}

/* SIGTERM: requests still waiting on shards get 500; then the listener closes. */
static void
api_on_stop(struct wk_proc *p)
{
	struct api_state *st = api_state(p);

	if (st == NULL)
		return;
	api_pending_abort(p, "shutting down");
	api_http_stop(p);
	api_console_stop(p);
	presence_close(&st->presence);
	lastmsg_close(&st->lastmsg);
	stats_close(&st->stats);
}

static int
api_on_status(struct wk_proc *p, char *buf, size_t len)
{
	struct api_state *st = api_state(p);
	int n = snprintf(buf, len, " http_requests=%llu pending=%zu timeouts=%llu resends=%llu",
	    (unsigned long long)st->requests, st->npending, (unsigned long long)st->timeouts,
	    (unsigned long long)st->resends);

	if (n > 0 && (size_t)n < len)
		n += api_cluster_status(p, buf + n, len - n);
	return n;
}

static void
api_on_stats(struct wk_proc *p, struct stats_row *r)
{
	struct api_state *st = api_state(p);

	stats_set(r, STATS_HTTP_REQUESTS, st->requests);
	stats_set(r, STATS_HTTP_PENDING, st->npending);
	stats_set(r, STATS_HTTP_TIMEOUTS, st->timeouts);
}

static const struct wk_dispatch api_dispatch[] = {
	{ WK_MSG_API_ANSWER, 1, 1, WK_ROLE_BIT(WK_ROLE_MAILBOX) | WK_ROLE_BIT(WK_ROLE_CHANNEL) |
	    WK_ROLE_BIT(WK_ROLE_BROKER), api_on_answer },
	{ WK_MSG_PING_REP, 0, 4, WK_ROLE_BIT(WK_ROLE_API), api_on_ping_rep },
};

static const struct wk_proc_def api_def = {
	.name = "wk-api",
	.role = WK_ROLE_API,
	.dispatch = api_dispatch,
	.ndispatch = sizeof api_dispatch / sizeof api_dispatch[0],
	.on_start = api_on_start,
	.on_iteration = api_on_iteration,
	.on_tick = api_on_tick,
	.tick_ms = API_TICK_MS,
	.on_stop = api_on_stop,
	.on_status = api_on_status,
	.on_stats = api_on_stats,
};

int
main(int argc, char **argv)
{
	return wk_proc_main(argc, argv, &api_def);
}
