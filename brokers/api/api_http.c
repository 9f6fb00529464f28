/* api_http.c - wk-api's HTTP server: libmicrohttpd in external epoll mode
 * inside the skeleton's loop (wk-api(8)).
 *
 * No libmicrohttpd thread: its epoll descriptor is one more descriptor of
 * p->loop, MHD_run() runs when it is readable, when the MHD_get_timeout()
 * timer fires, and at the end of a loop iteration in which a suspended
 * connection was resumed.  A request is decided in three steps: at its
 * headers (manager token 401 (api_auth.c), CORS pre-flight 204, unknown route 404,
 * declared body too large 413), then its body is collected (at most
 * API_BODY_MAX), then its route handler answers or asks shards; a
 * connection waiting on shards is suspended until api.c has the answer.
 *
 * The console (manager.addr) and the demo chat (demo.addr) are two more
 * libmicrohttpd daemons on the same loop with the same requests; only the
 * decision at the headers differs (api_console.c).
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <microhttpd.h>
#include "api.h"
#include "wk_alloc.h"
#include "wk_log.h"
#include "wk_time.h"

#define API_CONN_TIMEOUT_S 60        /* idle keep-alive connections are closed after this */
/* A bound on open HTTP connections: past it libmicrohttpd refuses new ones
 * rather than let descriptors run out under the shards' sockets. */
#define API_CONN_LIMIT 10000
#define API_CONSOLE_CONN_LIMIT 256 /* the console's and the demo's: a few browsers */
/* libmicrohttpd's memory per connection (request line, headers, read and
 * header write buffers): it zeroes all of it after every request, so the
 * API's is half the default 32 KB (request headers up to ~13 KB; larger
 * is 431); the console's browsers, with their cookies, keep the default. */
#define API_CONN_MEMORY (16 * 1024)
#define API_CONSOLE_CONN_MEMORY (32 * 1024)

/* Client mistakes are logged at most 10 a second, libmicrohttpd's own
 * complaints 5: a misbehaving caller must not flood the log. */
static struct wk_ratelimit rl_bad = WK_RATELIMIT_INIT(10);
static struct wk_ratelimit rl_mhd = WK_RATELIMIT_INIT(5);

static void api_http_run(struct api_listener *l);

/* Record r's answer (body is taken over, malloc'd); it is queued to
 * libmicrohttpd when the access handler next runs for r.  A second answer
 * replaces the first, so an error path may overwrite a partial one. */
void
api_answer(struct api_req *r, unsigned status, const char *ctype, char *body, size_t len)
{
	free(r->resp);
	r->answered = 1;
	r->status = status;
	r->ctype = ctype;
	r->resp = body;
	r->resp_len = body ? len : 0;
}

/* Answer with a jansson value (taken over), compact as the reference. */
void
api_answer_json(struct api_req *r, unsigned status, json_t *body)
{
	char *text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);

	json_decref(body);
	if (text == NULL) {
		api_answer_error(r, 500, "cannot encode the answer");
		return;
	}
	api_answer(r, status, API_JSON, text, strlen(text));
}

/* The reference's error shape: {"msg": ..., "status": N}. */
void
api_answer_error(struct api_req *r, unsigned status, const char *msg)
{
	api_answer_json(r, status, json_pack("{s:s,s:i}", "msg", msg, "status", (int)status));
}

void
api_answer_retry_after(struct api_req *r, unsigned status, const char *msg, unsigned secs)
{
	api_answer_error(r, status, msg);
	r->retry_after = secs;
}

/* The reference's success shape for routes with nothing to return. */
void
api_answer_ok(struct api_req *r)
{
	api_answer_json(r, 200, json_pack("{s:i}", "status", 200));
}

/* A query-string argument, or NULL; valid while r's connection lives. */
const char *
api_query(struct api_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

int
api_conn_fd(struct api_req *r)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);

	return ci ? ci->connect_fd : -1;
}

const char *
api_header(struct api_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

/* The reference's CORS middleware: on every answer but the manager-token 401. */
static void
api_http_cors(struct MHD_Response *resp)
{
	MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
	MHD_add_response_header(resp, "Access-Control-Allow-Credentials", "true");
	MHD_add_response_header(resp, "Access-Control-Allow-Headers",
	    "Content-Type, Authorization, Content-Length, Accept-Encoding, X-CSRF-Token, "
	    "token, accept, origin, Cache-Control, X-Requested-With, appid, noncestr, sign, "
	    "timestamp");
	MHD_add_response_header(resp, "Access-Control-Allow-Methods",
	    "POST, OPTIONS, GET, PUT,DELETE,PATCH");
}

/* Hand r's answer to libmicrohttpd; client errors are logged, rate-limited. */
static enum MHD_Result
api_http_queue(struct api_req *r, const char *method, const char *url)
{
	struct MHD_Response *resp;
	enum MHD_Result rc;

	if (r->status >= 400 && r->status != 401)
		wk_log_limited(&rl_bad, r->status >= 500 ? WK_LOG_WARN : WK_LOG_INFO,
		    "%s %s: %u %.200s", method, url, r->status, r->resp ? r->resp : "");
	if (r->resp)
		resp = MHD_create_response_from_buffer(r->resp_len, r->resp, MHD_RESPMEM_MUST_FREE);
	else
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	r->resp = NULL;
	if (r->ctype)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->ctype);
	if (r->cors)
		api_http_cors(resp);
	if (r->retry_after) {
		char secs[16];
		snprintf(secs, sizeof secs, "%u", r->retry_after);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, secs);
	}
	rc = MHD_queue_response(r->conn, r->status, resp);
	MHD_destroy_response(resp);
	return rc;
}

/* What can be decided from the request line and headers alone. */
static void
api_http_headers(struct wk_proc *p, struct api_req *r, const char *method, const char *url)
{
	const char *cl;

	cl = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl && strtoull(cl, NULL, 10) > API_BODY_MAX)
		r->too_big = 1;
	if (r->lis->face != API_FACE_API) {
		api_console_headers(p, r, method, url);
		return;
	}
	/* The reference checks the token before CORS: pre-flights get 401 too.
	 * Open routes (/health, /route) need none (api_auth.c). */
	if (!api_route_is_open(url) && !api_auth_ok(p, r)) {
		api_answer(r, MHD_HTTP_UNAUTHORIZED, NULL, NULL, 0);
		return;
	}
	r->cors = 1;
	if (strcmp(method, MHD_HTTP_METHOD_OPTIONS) == 0)
		api_answer(r, MHD_HTTP_NO_CONTENT, NULL, NULL, 0);
	else if ((r->route = api_route_find(method, url)) == NULL)
		api_answer(r, MHD_HTTP_NOT_FOUND, "text/plain", wk_strdup("404 page not found"), 18);
	else
		r->path = wk_strdup(url);
}

/* Whether the request announces a body. */
static int
api_http_has_body(struct MHD_Connection *c)
{
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);

	return (cl && strtoull(cl, NULL, 10) > 0) ||
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
}

/* Collect a piece of the body; past API_BODY_MAX it is dropped. */
static void
api_http_body(struct api_req *r, const char *data, size_t n)
{
	if (r->too_big)
		return;
	if (n > API_BODY_MAX - r->len) {
		r->too_big = 1;
		wk_free(&r->body);
		r->len = r->cap = 0;
		return;
	}
	if (r->len + n + 1 > r->cap) {
		r->cap = r->cap ? r->cap : 1024;
		while (r->cap < r->len + n + 1)
			r->cap *= 2;
		r->body = wk_realloc(r->body, r->cap);
	}
	memcpy(r->body + r->len, data, n);
	r->len += n;
	r->body[r->len] = '\0';
}

/* 413 with the limit named, as the reference words it. */
static void
api_http_too_big(struct api_req *r)
{
	char msg[80];

	snprintf(msg, sizeof msg, "request body larger than %d bytes", API_BODY_MAX);
	api_answer_error(r, MHD_HTTP_CONTENT_TOO_LARGE, msg);
}

/* libmicrohttpd's access handler: called at the headers, for each piece of
 * body, at the end of the body, and again after a resume. */
static enum MHD_Result
api_on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct api_listener *l = cls;
	struct wk_proc *p = l->p;
	struct api_req *r = *con_cls;

	if (r == NULL) {
		r = wk_calloc(1, sizeof *r);
		r->conn = c;
		r->lis = l;
		*con_cls = r;
		api_state(p)->requests++;
		api_http_headers(p, r, method, url);
		if (r->too_big && !r->answered)
			api_http_too_big(r);
		/* Answer now only if no body follows or it is too large to read;
		 * a small body is read and dropped first, so that closing with
		 * unread data does not reset the connection under the answer. */
		if (r->answered && (r->too_big || !api_http_has_body(c)))
			return api_http_queue(r, method, url);
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (!r->answered)
			api_http_body(r, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (!r->started && !r->answered) {
		r->started = 1;
		if (r->too_big)
			api_http_too_big(r);
		else {
			if (r->body == NULL)
				r->body = wk_strdup("");
			r->route->fn(p, r);
		}
		if (!r->answered && r->waiting == 0)
			api_answer_error(r, 500, "internal error: no answer");
		if (!r->answered) {
			MHD_suspend_connection(c);
			r->suspended = 1;
			return MHD_YES;
		}
	}
	if (!r->answered)
		return MHD_NO;
	return api_http_queue(r, method, url);
}

/* libmicrohttpd's end of a request (answered, timed out or reset): drop
 * r from the pending lists first, so a late shard answer finds nothing
 * (api.c matches answers by request id), then free it. */
static void
api_on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct api_listener *l = cls;
	struct api_req *r = *con_cls;

	if (r == NULL)
		return;
	api_pending_drop(l->p, r);
	free(r->path);
	free(r->body);
	free(r->resp);
	api_ops_free(r);
	free(r->ops);
	if (r->ctx_free)
		r->ctx_free(r->ctx);
	free(r);
	*con_cls = NULL;
}

/* libmicrohttpd's error log, rate-limited, one line per message. */
static void
api_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];
	size_t n;

	if (!wk_ratelimit_ok(&rl_mhd))
		return;
	vsnprintf(buf, sizeof buf, fmt, ap);
	n = strlen(buf);
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	wk_log_warnx("libmicrohttpd: %s", buf);
}

/* libmicrohttpd's deadline (idle connections, timeouts) came: run it. */
static void
api_on_mhd_timer(struct wk_loop *lp, uint64_t id, void *arg)
{
	struct api_listener *l = arg;

	l->mhd_timer = 0;
	api_http_run(l);
}

/* Arm the loop for libmicrohttpd's next deadline (MHD_get_timeout). */
static void
api_http_arm(struct api_listener *l)
{
	MHD_UNSIGNED_LONG_LONG t;
	uint64_t at;

	if (MHD_get_timeout(l->mhd, &t) != MHD_YES)
		return;
	if (t == 0) {
		l->mhd_dirty = 1;
		wk_loop_pending(l->p->loop);
		return;
	}
	at = wk_now_ms() + t;
	if (l->mhd_timer != 0 && l->mhd_timer_at <= at)
		return;
	if (l->mhd_timer != 0)
		wk_loop_timer_cancel(l->p->loop, l->mhd_timer);
	l->mhd_timer = wk_loop_timer(l->p->loop, t, 0, api_on_mhd_timer, l);
	l->mhd_timer_at = at;
}

/* One non-blocking MHD_run, then re-arm its timer; runs every handler of
 * connections that are ready, so it may answer and suspend requests. */
static void
api_http_run(struct api_listener *l)
{
	l->mhd_dirty = 0;
	if (MHD_run(l->mhd) != MHD_YES)
		wk_log_limited(&rl_mhd, WK_LOG_WARN, "MHD_run failed");
	api_http_arm(l);
}

/* End of a loop iteration: run libmicrohttpd again when a resume or a zero
 * timeout asked for it (mhd_dirty), so answers leave in this iteration. */
void
api_http_iteration(struct wk_proc *p)
{
	struct api_state *st = api_state(p);

	for (int i = 0; i < API_NFACES; i++)
		if (st->lis[i].mhd && st->lis[i].mhd_dirty)
			api_http_run(&st->lis[i]);
}

/* A suspended request got its shards' answers: resume it; the answer is
 * queued when api_http_iteration() runs libmicrohttpd. */
void
api_http_resume(struct wk_proc *p, struct api_req *r)
{
	if (r->suspended) {
		r->suspended = 0;
		MHD_resume_connection(r->conn);
	}
	r->lis->mhd_dirty = 1;
}

/* libmicrohttpd's epoll descriptor is readable: something to accept/read. */
static void
api_on_mhd_fd(struct wk_loop *lp, int fd, uint32_t ev, void *arg)
{
	api_http_run(arg);
}

/* A listening socket for an address ("host:port", "[v6]:port", ":port");
 * key names the config key in messages. */
static int
api_http_listen(const char *key, const char *addr)
{
	struct addrinfo hints = { .ai_flags = AI_PASSIVE, .ai_socktype = SOCK_STREAM }, *res, *ai;
	char host[256];
	const char *colon = strrchr(addr, ':'), *h = addr;
	size_t hl;
	int fd = -1, one = 1, rc;

	if (colon == NULL || colon[1] == '\0') {
		wk_log_warnx("%s \"%s\": expected host:port", key, addr);
		return -1;
	}
	hl = colon - addr;
	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']')
		h++, hl -= 2;
	if (hl >= sizeof host) {
		wk_log_warnx("%s \"%s\": host too long", key, addr);
		return -1;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	if ((rc = getaddrinfo(hl ? host : NULL, colon + 1, &hints, &res)) != 0) {
		wk_log_warnx("%s \"%s\": %s", key, addr, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 511) == 0)
			break;
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		wk_log_warn("listen on %s %s", key, addr);
	freeaddrinfo(res);
	return fd;
}

/* Serve face on addr: listen ourselves (to report a bad address in our
 * words) and hand the socket to libmicrohttpd in epoll mode without
 * threads, so every handler runs on the skeleton's loop and needs no
 * locking.  0, or -1 after logging why. */
static int
api_http_open(struct wk_proc *p, enum api_face face, const char *key, const char *addr,
    unsigned conn_limit, size_t conn_memory)
{
	struct api_listener *l = &api_state(p)->lis[face];
	const union MHD_DaemonInfo *di;
	int fd = api_http_listen(key, addr);

	l->p = p;
	l->face = face;
	l->addr = addr;
	l->mhd_fd = -1;
	if (fd < 0)
		return -1;
	l->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
	    0, NULL, NULL, api_on_request, l,
	    MHD_OPTION_EXTERNAL_LOGGER, api_mhd_log, NULL,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
	    MHD_OPTION_NOTIFY_COMPLETED, api_on_completed, l,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)API_CONN_TIMEOUT_S,
	    MHD_OPTION_CONNECTION_LIMIT, conn_limit,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, conn_memory,
	    MHD_OPTION_END);
	if (l->mhd == NULL) {
		wk_log_warnx("cannot start the HTTP server on %s %s", key, addr);
		close(fd);
		return -1;
	}
	di = MHD_get_daemon_info(l->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (di == NULL || di->epoll_fd < 0) {
		wk_log_warnx("libmicrohttpd has no epoll descriptor");
		return -1;
	}
	l->mhd_fd = di->epoll_fd;
	if (wk_loop_add(p->loop, l->mhd_fd, EPOLLIN, api_on_mhd_fd, l) < 0) {
		wk_log_warn("epoll add");
		return -1;
	}
	api_http_arm(l);
	return 0;
}

/* The HTTP API on httpAddr (its failure fails the start), then the console
 * and the demo when they are on: a console that cannot listen (its port
 * taken by another tree on this host) is logged, and the API serves on. */
int
api_http_start(struct wk_proc *p)
{
	struct rlimit rl;

	api_auth_start(p);
	/* Room for API_CONN_LIMIT connections where the hard limit allows. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < API_CONN_LIMIT + 64) {
		rl.rlim_cur = rl.rlim_max < API_CONN_LIMIT + 64 ? rl.rlim_max : API_CONN_LIMIT + 64;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (api_http_open(p, API_FACE_API, "httpAddr", p->cfg.httpAddr, API_CONN_LIMIT,
	    API_CONN_MEMORY) < 0)
		return -1;
	if (api_is_blank(p->cfg.external_apiUrl))
		wk_log_info("HTTP API on %s", p->cfg.httpAddr);
	else
		wk_log_info("HTTP API on %s, reached as %s", p->cfg.httpAddr, p->cfg.external_apiUrl);
	if (p->cfg.manager_on) {
		if (api_http_open(p, API_FACE_CONSOLE, "manager.addr", p->cfg.manager_addr,
		    API_CONSOLE_CONN_LIMIT, API_CONSOLE_CONN_MEMORY) == 0)
			wk_log_info("console on http://%s/", p->cfg.manager_addr);
		else
			wk_log_warnx("console off: cannot serve manager.addr %s", p->cfg.manager_addr);
	}
	if (p->cfg.demo_on) {
		if (api_http_open(p, API_FACE_DEMO, "demo.addr", p->cfg.demo_addr,
		    API_CONSOLE_CONN_LIMIT, API_CONSOLE_CONN_MEMORY) == 0)
			wk_log_info("demo chat on http://%s/", p->cfg.demo_addr);
		else
			wk_log_warnx("demo chat off: cannot serve demo.addr %s", p->cfg.demo_addr);
	}
	return 0;
}

/* Stop serving at shutdown, after the last answers had a chance to leave. */
void
api_http_stop(struct wk_proc *p)
{
	struct api_state *st = api_state(p);

	api_auth_stop(p);
	for (int i = 0; i < API_NFACES; i++) {
		struct api_listener *l = &st->lis[i];
		if (l->mhd == NULL)
			continue;
		/* A few non-blocking rounds write the answers just given. */
		for (int k = 0; k < 4; k++)
			MHD_run(l->mhd);
		if (l->mhd_fd >= 0)
			wk_loop_del(p->loop, l->mhd_fd);
		if (l->mhd_timer != 0)
			wk_loop_timer_cancel(p->loop, l->mhd_timer);
		MHD_stop_daemon(l->mhd);
		l->mhd = NULL;
		l->mhd_fd = -1;
	}
}
