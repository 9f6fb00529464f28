/* wkrx.h - a small HTTP receiver on 127.0.0.1 (libmicrohttpd, its own
 * thread) standing in for a business server's webhook endpoint, for the
 * webhook tests and hookbench: each request's method, ?event=, Content-Type
 * and whole body go to a callback, whose return is the status answered
 * (the body answered is "ok" unless the callback gives one). */
#ifndef WKRX_H
#define WKRX_H
#include <stddef.h>

struct wkrx;
/* Called from the receiver's thread; body is NUL-terminated. */
typedef unsigned wkrx_fn(void *arg, const char *method, const char *event, const char *ctype,
    const char *body, size_t len);
/* Listen on port (0: any free one); NULL if that fails. */
struct wkrx *wkrx_start(int port, wkrx_fn *fn, void *arg);
int wkrx_port(const struct wkrx *rx);
void wkrx_stop(struct wkrx **rx);
/* From inside the callback: a header of the request it is handling, or NULL. */
const char *wkrx_header(const char *name);
/* From inside the callback: answer body (copied) instead of "ok". */
void wkrx_reply(const char *body);

#endif
