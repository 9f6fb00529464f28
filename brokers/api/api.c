/* api.c - wk-api: the HTTP API on httpAddr (wk-api(8)).
 *
 * One process, one thread: libmicrohttpd runs inside the skeleton's epoll
 * loop (api_http.c), the routes (api_routes.c) answer at once or ask the
 * owning shards.  A request that needs shards sends one API_REQ per shard
 * with a fresh correlation id and its connection is suspended; the API_REP
 * replies are gathered here, and the connection is resumed with the answer
 * when the last one is in, or with 500 "timeout" after API_SHARD_TIMEOUT_MS.
 *
 * Messages handled: API_ANSWER (and API_REP) from wk-mailbox and wk-channel.
 * Sends: the op rows (wk_msgtypes.h 70-119; API_REQ) to wk-mailbox and
 * wk-channel.
 */
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "wk_alloc.h"
#include "wk_log.h"
#include "wk_shard.h"
#include "wk_time.h"

static struct wk_ratelimit rl_shard = WK_RATELIMIT_INIT(5);

static struct api_req **
pending_bucket(struct api_state *st, uint64_t corr)
{
	return &st->buckets[corr % API_NBUCKETS];
}

static int
pending_has(struct api_state *st, const struct api_req *r)
{
	return r->prev != NULL || st->head == r;
}

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

static struct api_req *
pending_find(struct api_state *st, uint64_t corr)
{
	struct api_req *r;

	for (r = *pending_bucket(st, corr); r; r = r->hnext)
		if (r->corr == corr)
			return r;
	return NULL;
}

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
round_start(struct api_state *st, struct api_req *r, enum api_gather gather)
{
	if (r->corr != 0)
		return;
	r->corr = ++st->next_corr;
	r->gather = gather;
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
	r->waiting++;
	r->nparts++;
	return 0;
}

int
api_ask_op(struct wk_proc *p, struct api_req *r, int role, int shard, int type,
    const struct wk_wbuf *req, api_then_fn *then)
{
	zmsg_t *m;

	if (r->corr == 0) {
		/* A new round: its then has read the answers of the last one. */
		api_ops_free(r);
		r->then = then;
	}
	round_start(api_state(p), r, API_GATHER_OPS);
	if (r->nparts == r->ops_cap) {
		r->ops_cap = r->ops_cap ? 2 * r->ops_cap : 4;
		r->ops = wk_realloc(r->ops, (size_t)r->ops_cap * sizeof *r->ops);
	}
	r->ops[r->nparts] = (struct api_part){ 0 };
	/* The shard echoes the key: it is the part's index. */
	m = wk_proc_msg(p, type, r->corr, (uint32_t)r->nparts);
	zmsg_addmem(m, req->p, req->len);
	return round_send(p, r, role, shard, &m, wk_msg_type_name(type));
}

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

void
api_op_read(const struct api_req *r, int i, struct wk_rbuf *rb)
{
	wk_rbuf_init(rb, r->ops[i].data, r->ops[i].len);
}

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

void
api_ctx_keep(struct api_req *r, json_t *o)
{
	r->ctx = o;
	r->ctx_free = ctx_json_free;
}

void
api_put_key(struct wk_wbuf *w, const char *id, json_int_t type)
{
	wk_put_str(w, id);
	wk_put_u8(w, (uint8_t)type);
}

void
api_put_strs(struct wk_wbuf *w, json_t *a)
{
	size_t i;
	json_t *v;

	wk_put_u32(w, (uint32_t)json_array_size(a));
	json_array_foreach(a, i, v)
		wk_put_str(w, json_string_value(v));
}

/* Free the answers of the last round. */
void
api_ops_free(struct api_req *r)
{
	/* nparts may count the parts of a JSON round: ops holds ops_cap. */
	for (int i = 0; i < r->nparts && i < r->ops_cap; i++) {
		free(r->ops[i].data);
		r->ops[i] = (struct api_part){ 0 };
	}
}

int
api_ask(struct wk_proc *p, struct api_req *r, int shard, uint32_t key, const char *op,
    const json_t *body, enum api_gather gather)
{
	return api_ask_role(p, r, WK_ROLE_MAILBOX, shard, key, op, body, gather);
}

int
api_ask_role(struct wk_proc *p, struct api_req *r, int role, int shard, uint32_t key,
    const char *op, const json_t *body, enum api_gather gather)
{
	char *text = json_dumps(body, JSON_COMPACT);
	zmsg_t *m;

	round_start(api_state(p), r, gather);
	/* Shards echo the key; EACH uses it for the part's index. */
	if (r->gather == API_GATHER_EACH)
		key = (uint32_t)r->nparts;
	m = wk_proc_msg(p, WK_MSG_API_REQ, r->corr, key);
	zmsg_addstr(m, op);
	zmsg_addmem(m, text, strlen(text));
	free(text);
	return round_send(p, r, role, shard, &m, op);
}

/* Send op/body (reference taken over) to the shard of `role` owning key: a
 * uid's mailbox shard or a channel id's channel shard. */
void
ask_owner(struct wk_proc *p, struct api_req *r, int role, const char *key, const char *op,
    json_t *body)
{
	size_t len = strlen(key);
	int shard = role == WK_ROLE_CHANNEL ?
	    wk_shard_channel(key, len, p->cfg.processes_channel) :
	    wk_shard_uid(key, len, p->cfg.processes_mailbox);

	api_ask_role(p, r, role, shard, wk_shard_hash(key, len), op, body, API_GATHER_ALL);
	json_decref(body);
}

void
ask_uid(struct wk_proc *p, struct api_req *r, const char *uid, const char *op, json_t *body)
{
	ask_owner(p, r, WK_ROLE_MAILBOX, uid, op, body);
}

/* Send op/body (reference taken over) to every mailbox shard. */
void
ask_every_mailbox(struct wk_proc *p, struct api_req *r, const char *op, json_t *body,
    enum api_gather gather)
{
	for (int i = 0; i < p->cfg.processes_mailbox; i++)
		if (api_ask(p, r, i, 0, op, body, gather) < 0)
			break;
	json_decref(body);
}

/* Fold one reply into r: the first non-200 reply is kept; otherwise the
 * last reply (API_GATHER_ALL) or the union of the arrays (API_GATHER_UNION). */
static void
gather_reply(struct api_req *r, const struct wk_msg_hdr *h, unsigned status,
    const char *body, size_t len)
{
	json_t *a, *v, *w;
	size_t i, j;

	if (r->rep_status != 0 && r->rep_status != 200)
		return;
	if (status == 200 && r->gather == API_GATHER_EACH) {
		if ((v = json_loadb(body, len, JSON_DECODE_ANY, NULL)) == NULL)
			wk_fatalx("API_REP from %s/%u: not JSON", wk_role_name(h->sender_role),
			    h->sender_instance);
		if (r->parts == NULL)
			r->parts = json_array();
		while (json_array_size(r->parts) <= h->key)
			json_array_append_new(r->parts, json_null());
		json_array_set_new(r->parts, h->key, v);
		r->rep_status = 200;
		return;
	}
	if (status != 200 || r->gather == API_GATHER_ALL) {
		free(r->rep_body);
		r->rep_body = wk_strndup(body, len);
		r->rep_len = len;
		r->rep_status = status;
		return;
	}
	r->rep_status = 200;
	a = json_loadb(body, len, 0, NULL);
	if (!json_is_array(a))
		wk_fatalx("API_REP from %s/%u: not a JSON array", wk_role_name(h->sender_role),
		    h->sender_instance);
	if (r->rep_union == NULL)
		r->rep_union = json_array();
	/* Sets here are small (system uids): a linear de-duplication is enough. */
	json_array_foreach(a, i, v) {
		json_array_foreach(r->rep_union, j, w)
			if (json_equal(v, w))
				break;
		if (j == json_array_size(r->rep_union))
			json_array_append(r->rep_union, v);
	}
	json_decref(a);
}

static void gather_finish(struct wk_proc *p, struct api_req *r);

/* Every part of a round of op rows answered: the first error, else then. */
static void
ops_finish(struct wk_proc *p, struct api_req *r)
{
	struct wk_rbuf rb;
	char msg[256];
	int i;

	for (i = 0; i < r->nparts && r->ops[i].status == 200; i++)
		;
	if (i < r->nparts) {
		api_op_read(r, i, &rb);
		wk_get_str(&rb, msg, sizeof msg);
		api_answer_error(r, r->ops[i].status, rb.err ? "internal error" : msg);
	} else {
		r->corr = 0;   /* then may start another round */
		r->then(p, r);
	}
	api_ops_free(r);
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

	if (r == NULL) {
		wk_log_debug("late API_ANSWER corr %llu from %s/%u", (unsigned long long)h->corr,
		    wk_role_name(h->sender_role), h->sender_instance);
		return;
	}
	if (r->gather != API_GATHER_OPS || h->key >= (uint32_t)r->nparts || len < 2 ||
	    r->ops[h->key].status != 0)
		wk_fatalx("API_ANSWER from %s/%u: not an answer to part %u", wk_role_name(h->sender_role),
		    h->sender_instance, h->key);
	part = &r->ops[h->key];
	part->status = wk_be16_get(zframe_data(f));
	if (part->status < 100 || part->status > 599)
		wk_fatalx("API_ANSWER from %s/%u: bad status %u", wk_role_name(h->sender_role),
		    h->sender_instance, part->status);
	part->len = len - 2;
	part->data = wk_malloc(part->len + 1);
	memcpy(part->data, zframe_data(f) + 2, part->len);
	if (--r->waiting == 0)
		gather_finish(p, r);
}

/* Every part replied: the answer. */
static void
gather_finish(struct wk_proc *p, struct api_req *r)
{
	pending_remove(api_state(p), r);
	if (r->gather == API_GATHER_OPS) {
		ops_finish(p, r);
		return;
	}
	if (r->rep_status == 200 && r->gather == API_GATHER_EACH) {
		/* A new round may start from here: r is no longer pending. */
		r->corr = 0;
		r->rep_status = 0;
		r->then(p, r);
		json_decref(r->parts);
		r->parts = NULL;
		if (r->answered)
			api_http_resume(p, r);
		return;
	}
	if (r->rep_status == 200 && r->gather == API_GATHER_UNION) {
		api_answer_json(r, 200, r->rep_union);
		r->rep_union = NULL;
	} else {
		api_answer(r, r->rep_status, "application/json; charset=utf-8", r->rep_body,
		    r->rep_len);
		r->rep_body = NULL;
	}
	api_http_resume(p, r);
}

/* API_REP: frame 1 the HTTP status as text, frame 2 the JSON body. */
static void
api_on_rep(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg)
{
	zframe_t *fs = zmsg_first(msg), *fb = zmsg_next(msg);
	struct api_req *r = pending_find(api_state(p), h->corr);
	char text[4], *end;
	unsigned long status;

	if (r == NULL) {
		wk_log_debug("late API_REP corr %llu from %s/%u", (unsigned long long)h->corr,
		    wk_role_name(h->sender_role), h->sender_instance);
		return;
	}
	if (zframe_size(fs) != 3)
		wk_fatalx("API_REP from %s/%u: bad status frame", wk_role_name(h->sender_role),
		    h->sender_instance);
	memcpy(text, zframe_data(fs), 3);
	text[3] = '\0';
	status = strtoul(text, &end, 10);
	if (*end != '\0' || status < 100 || status > 599)
		wk_fatalx("API_REP from %s/%u: bad status \"%s\"", wk_role_name(h->sender_role),
		    h->sender_instance, text);
	gather_reply(r, h, (unsigned)status, (const char *)zframe_data(fb), zframe_size(fb));
	if (--r->waiting == 0)
		gather_finish(p, r);
}

/* Requests past their deadline get 500 "timeout"; the list is in deadline order. */
static void
api_on_tick(struct wk_proc *p)
{
	struct api_state *st = api_state(p);
	uint64_t now = wk_now_ms();

	while (st->head && st->head->deadline_ms <= now) {
		st->timeouts++;
		wk_log_limited(&rl_shard, WK_LOG_WARN, "%s: no reply from %d shard(s) in %d ms",
		    st->head->route->path, st->head->waiting, API_SHARD_TIMEOUT_MS);
		pending_fail(p, st->head, "timeout");
	}
}

static int
api_on_start(struct wk_proc *p)
{
	struct api_state *st = wk_calloc(1, sizeof *st);

	p->state = st;
	st->mhd_fd = -1;
	if (presence_attach(&st->presence, p->cfg.runDir, 0) < 0) {
		wk_log_warnx("cannot attach the presence segment of %s", p->cfg.runDir);
		return -1;
	}
	return api_http_start(p);
}

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
	presence_close(&st->presence);
}

static int
api_on_status(struct wk_proc *p, char *buf, size_t len)
{
	struct api_state *st = api_state(p);

	return snprintf(buf, len, " http_requests=%llu pending=%zu timeouts=%llu",
	    (unsigned long long)st->requests, st->npending, (unsigned long long)st->timeouts);
}

static const struct wk_dispatch api_dispatch[] = {
	{ WK_MSG_API_REP, 2, 2, WK_ROLE_BIT(WK_ROLE_MAILBOX) | WK_ROLE_BIT(WK_ROLE_CHANNEL), api_on_rep },
	{ WK_MSG_API_ANSWER, 1, 1, WK_ROLE_BIT(WK_ROLE_MAILBOX) | WK_ROLE_BIT(WK_ROLE_CHANNEL), api_on_answer },
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
};

int
main(int argc, char **argv)
{
	return wk_proc_main(argc, argv, &api_def);
}
