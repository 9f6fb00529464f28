/* wkrx.c - a small HTTP receiver for webhook tests (wkrx.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>
#include "wkrx.h"

/* The connection whose request the callback is handling (wkrx_header). */
static __thread struct MHD_Connection *current;
/* The body the callback chose (wkrx_reply), or NULL for "ok". */
static __thread char *reply;

struct wkrx {
	struct MHD_Daemon *d;
	int port;
	wkrx_fn *fn;
	void *arg;
};

struct upload {
	char *p;
	size_t n;
};

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *data, size_t *size, void **state)
{
	static char ok[] = "ok";
	struct wkrx *rx = cls;
	struct upload *u = *state;
	struct MHD_Response *resp;
	const char *ev, *ct;
	enum MHD_Result ret;
	unsigned status;

	if (u == NULL) {             /* the headers: the body comes next */
		*state = calloc(1, sizeof *u);
		return *state ? MHD_YES : MHD_NO;
	}
	if (*size) {
		char *p = realloc(u->p, u->n + *size + 1);
		if (p == NULL)
			return MHD_NO;
		u->p = p;
		memcpy(u->p + u->n, data, *size);
		u->n += *size;
		u->p[u->n] = '\0';
		*size = 0;
		return MHD_YES;
	}
	ev = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "event");
	ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	current = c;
	status = rx->fn(rx->arg, method, ev ? ev : "", ct ? ct : "", u->p ? u->p : "", u->n);
	current = NULL;
	if (reply) {
		resp = MHD_create_response_from_buffer(strlen(reply), reply, MHD_RESPMEM_MUST_FREE);
		reply = NULL;
	} else
		resp = MHD_create_response_from_buffer(2, ok, MHD_RESPMEM_PERSISTENT);
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

const char *
wkrx_header(const char *name)
{
	return current ? MHD_lookup_connection_value(current, MHD_HEADER_KIND, name) : NULL;
}

void
wkrx_reply(const char *body)
{
	free(reply);
	reply = strdup(body);
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **state, enum MHD_RequestTerminationCode t)
{
	struct upload *u = *state;

	if (u) {
		free(u->p);
		free(u);
	}
	*state = NULL;
}

struct wkrx *
wkrx_start(int port, wkrx_fn *fn, void *arg)
{
	struct wkrx *rx = calloc(1, sizeof *rx);
	const union MHD_DaemonInfo *i;

	if (rx == NULL)
		return NULL;
	rx->fn = fn;
	rx->arg = arg;
	rx->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, (uint16_t)port,
	    NULL, NULL, on_request, rx, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	    MHD_OPTION_CONNECTION_LIMIT, 1000u, MHD_OPTION_END);
	if (rx->d == NULL || (i = MHD_get_daemon_info(rx->d, MHD_DAEMON_INFO_BIND_PORT)) == NULL) {
		wkrx_stop(&rx);
		return NULL;
	}
	rx->port = i->port;
	return rx;
}

int
wkrx_port(const struct wkrx *rx)
{
	return rx->port;
}

void
wkrx_stop(struct wkrx **rxp)
{
	struct wkrx *rx = *rxp;

	if (rx == NULL)
		return;
	if (rx->d)
		MHD_stop_daemon(rx->d);
	free(rx);
	*rxp = NULL;
}
