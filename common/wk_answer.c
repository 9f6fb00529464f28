/* wk_answer.c - a shard's answer to an HTTP API op (wk_answer.h).
 *
 * Ordering: an op that writes answers only after the iteration's commit
 * (wk_answer_send runs as after-commit work, with the commit's result), so
 * wk-api never reports 200 for a write that was rolled back.  Ownership:
 * the answer belongs to the op until it is queued, then to the queue;
 * wk_answer_send frees it. */
#include <stdlib.h>
#include <string.h>
#include "wk_alloc.h"
#include "wk_answer.h"
#include "wk_log.h"
#include "wk_proc.h"

/* An answer to the request h (its correlation id is echoed), 200 and empty. */
struct wk_answer *
wk_answer_new(const struct wk_msg_hdr *h)
{
	struct wk_answer *a = wk_calloc(1, sizeof *a);

	a->h = *h;
	a->status = 200;
	wk_wbuf_init(&a->body);
	return a;
}

/* Replace the body by an error: status and message (wk-api makes the JSON). */
void
wk_answer_error(struct wk_answer *a, unsigned status, const char *msg)
{
	a->status = (uint16_t)status;
	a->body.len = 0;
	wk_put_str(&a->body, msg);
}

/* Send API_ANSWER (u16 status, then the body) and free a.  Its signature
 * is the after-commit callback's: rc < 0 (the commit failed) turns any
 * answer into 500 "storage error". */
void
wk_answer_send(struct wk_proc *p, int rc, void *arg)
{
	struct wk_answer *a = arg;
	struct wk_wbuf out;
	zmsg_t *m;

	if (rc < 0)
		wk_answer_error(a, 500, "storage error");
	wk_wbuf_init(&out);
	wk_put_u16(&out, a->status);
	wk_put_mem(&out, a->body.p, a->body.len);
	m = zmsg_new();
	zmsg_addmem(m, out.p, out.len);
	wk_wbuf_free(&out);
	wk_proc_reply(p, &a->h, WK_MSG_API_ANSWER, &m);
	wk_wbuf_free(&a->body);
	free(a);
}

/* A request that does not decode: from wk-api it is a bug there (fatal, as
 * for any internal peer); from a tool (the ctl role) a 400. */
void
wk_answer_bad(struct wk_proc *p, struct wk_answer *a, const char *err)
{
	if (a->h.sender_role != WK_ROLE_CTL)
		wk_fatalx("%s from %s/%u: %s", wk_msg_type_name(a->h.type),
		    wk_role_name(a->h.sender_role), a->h.sender_instance, err);
	wk_answer_error(a, 400, err);
	wk_answer_send(p, 0, a);
}

/* Find the op row of h's type, decode nothing, run it: the op reads its own
 * payload and fills the answer; *rc is the op's result for the caller. */
struct wk_answer *
wk_answer_op(struct wk_proc *p, const struct wk_op *ops, size_t n,
    const struct wk_msg_hdr *h, zmsg_t *msg, int *rc)
{
	zframe_t *f = zmsg_first(msg);
	struct wk_answer *a;
	struct wk_rbuf req;
	size_t i;

	for (i = 0; i < n && ops[i].type != h->type; i++)
		;
	if (i == n)
		wk_fatalx("%s: a dispatch row without an op", wk_msg_type_name(h->type));
	a = wk_answer_new(h);
	wk_rbuf_init(&req, zframe_data(f), zframe_size(f));
	*rc = ops[i].fn(p, &req, a);
	return a;
}
