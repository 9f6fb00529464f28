/* wk_http.h - an HTTP client on the process skeleton's loop: libcurl's
 * multi interface, nothing blocks (wk_http.c).  One per process; linked
 * into the processes that POST (wk-hook, wk-channel), not into libwk, so
 * the others do not carry libcurl. */
#ifndef WK_HTTP_H
#define WK_HTTP_H
#include <stddef.h>

struct wk_proc;

/* done(p, arg, status, body, len): the HTTP status, or 0 when there was no
 * answer (refused, timed out, ...); the answer's body (up to the open's
 * max_body bytes, NUL-terminated; NULL when not kept), valid during the
 * call only.  The request body is freed by then. */
typedef void wk_http_done_fn(struct wk_proc *p, void *arg, long status, const char *body,
    size_t len);

/* Set up the client: at most max_conns connections kept open; answers'
 * bodies kept up to max_body bytes (0: discarded; longer: status 0). */
int wk_http_open(struct wk_proc *p, long max_conns, size_t max_body);
/* Free it; requests still in flight are abandoned, their callbacks never run. */
void wk_http_close(void);
int wk_http_is_open(void);
/* POST body (malloc'd; taken) to url as application/json, signed with
 * webhook.secret when set, with a timeout of timeout_ms in all; done runs
 * from the loop in every case, never from here. */
void wk_http_post(struct wk_proc *p, const char *url, char *body, size_t len, long timeout_ms,
    wk_http_done_fn *done, void *arg);

#endif
