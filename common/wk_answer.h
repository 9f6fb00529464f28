/* wk_answer.h - a shard's answer to an HTTP API op (API_ANSWER in
 * wk_msgtypes.h): the binary side of wk-api's routes.
 *
 * wk-api validates a request in the reference's words, then sends each
 * shard concerned one op row (WK_MSG_<SHARD>_<OP>) whose payload the row
 * documents.  The shard answers with one API_ANSWER: u16 HTTP status, then
 * the op's answer as its row says, or for any status but 200 the error
 * message (str).  JSON is made once, by wk-api, at the HTTP edge.
 *
 * An op that writes answers after the iteration's commit: hand
 * wk_answer_send to the shard's after-commit queue, and a failed commit
 * turns the answer into 500 "storage error".  An op that writes nothing
 * sends at once (wk_answer_send(p, 0, a)).
 */
#ifndef WK_ANSWER_H
#define WK_ANSWER_H
#include <stdint.h>
#include "wk_buf.h"
#include "wk_msg.h"

struct wk_proc;

struct wk_answer {
	struct wk_msg_hdr h;         /* the request's: corr and key are echoed */
	uint16_t status;             /* HTTP status, 200 unless set */
	struct wk_wbuf body;         /* the op's answer; an error's message */
	int now;                     /* wrote nothing: send without waiting for a commit */
};

/* A 200 answer to request h, body empty. */
struct wk_answer *wk_answer_new(const struct wk_msg_hdr *h);
/* Make a an error: status and message, whatever its body held. */
void wk_answer_error(struct wk_answer *a, unsigned status, const char *msg);
/* Send a and free it (an after-commit callback: void *a).  rc < 0: the
 * commit failed, and a becomes 500 "storage error". */
void wk_answer_send(struct wk_proc *p, int rc, void *a);
/* A payload that does not decode.  From wk-api it is a bug there (fatal, as
 * any bad internal message); from a tool (WK_ROLE_CTL) a is answered 400
 * with err, at once. */
void wk_answer_bad(struct wk_proc *p, struct wk_answer *a, const char *err);

/* An op row's handler: decode req whole, then work and fill a.  -1 when
 * the payload did not decode (what the shard does then is its own). */
typedef int wk_op_fn(struct wk_proc *p, struct wk_rbuf *req, struct wk_answer *a);
struct wk_op {
	int type;                    /* WK_MSG_<SHARD>_<OP> */
	wk_op_fn *fn;
};
/* Run request h's row of ops (n rows) over msg's first frame: the new
 * answer, and in *rc what the handler returned.  A type without a row is
 * fatal: the shard's dispatch table lists only the types of ops. */
struct wk_answer *wk_answer_op(struct wk_proc *p, const struct wk_op *ops, size_t n,
    const struct wk_msg_hdr *h, zmsg_t *msg, int *rc);

#endif
