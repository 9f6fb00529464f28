/* wk_http.c - libcurl's multi interface driven by the skeleton's loop
 * (wk_http.h; wk-hook(8) posts its webhooks with it, wk-channel(8) its
 * msg.before_send calls): curl tells us which sockets to watch and when to
 * wake it (CURLMOPT_SOCKETFUNCTION, CURLMOPT_TIMERFUNCTION), the loop
 * calls curl_multi_socket_action, and finished transfers are reported to
 * their done callbacks.  Nothing blocks: name resolution runs in curl's
 * own resolver thread, connections are kept alive and reused.  Timeouts
 * as the reference's client: 5 s to connect, and what the caller gives in
 * all (30 s for the webhooks).
 *
 * With webhook.secret set, each request carries
 * X-WK-Signature: sha256=<hex HMAC-SHA256 of the body keyed with the secret>
 * (libcrypto's HMAC), so a receiver can tell wk's requests from forgeries.
 */
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "wk_http.h"
#include "wk_proc.h"
#include "wk_alloc.h"
#include "wk_log.h"

#define CONNECT_TIMEOUT_MS 5000L

/* A transfer: its easy handle is reused from the free list, so the options
 * are set once per handle. */
struct req {
	struct req *next;            /* free list */
	CURL *easy;
	char *body;
	struct curl_slist *signed_headers;   /* the headers with its signature, or NULL */
	char *answer;                /* the answer's body, when kept */
	size_t answer_len;
	int too_long;
	wk_http_done_fn *done;
	void *arg;
};

static struct {
	struct wk_proc *p;
	CURLM *multi;
	struct curl_slist *headers;
	struct req *free;
	uint64_t timer;
	struct req *failed;          /* requests that could not start */
	size_t max_body;
} h;

static struct wk_ratelimit rl_err = WK_RATELIMIT_INIT(2);

static void
req_unsign(struct req *r)
{
	curl_slist_free_all(r->signed_headers);
	r->signed_headers = NULL;
}

/* The common headers plus X-WK-Signature for body, when a secret is set. */
static void
req_sign(struct wk_proc *p, struct req *r, const char *body, size_t len)
{
	const char *secret = p->cfg.webhook_secret;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	char line[40 + 2 * EVP_MAX_MD_SIZE];
	int at;

	if (*secret == '\0') {
		curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, h.headers);
		return;
	}
	if (HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)body, len,
	    mac, &n) == NULL)
		wk_fatalx("HMAC-SHA256 failed");
	at = snprintf(line, sizeof line, "X-WK-Signature: sha256=");
	for (unsigned int i = 0; i < n; i++)
		at += snprintf(line + at, sizeof line - at, "%02x", mac[i]);
	r->signed_headers = curl_slist_append(NULL, "Content-Type: application/json");
	r->signed_headers = curl_slist_append(r->signed_headers, "Expect:");
	r->signed_headers = curl_slist_append(r->signed_headers, line);
	curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->signed_headers);
}

/* The answer's body: kept up to max_body bytes, else dropped. */
static size_t
on_body(char *ptr, size_t size, size_t n, void *arg)
{
	struct req *r = arg;

	n *= size;
	if (h.max_body == 0 || r->too_long)
		return n;
	if (r->answer_len + n > h.max_body) {
		r->too_long = 1;
		return n;
	}
	r->answer = wk_realloc(r->answer, r->answer_len + n + 1);
	memcpy(r->answer + r->answer_len, ptr, n);
	r->answer_len += n;
	r->answer[r->answer_len] = '\0';
	return n;
}

/* r is over (status: the HTTP status, 0 for none): its handle goes back to
 * the free list for the next request (it keeps its options and its
 * connection), then its owner learns the outcome. */
static void
req_done(struct req *r, long status)
{
	char *answer = r->answer;
	size_t len = r->answer_len;

	if (r->too_long)
		status = 0;
	free(r->body);
	r->body = NULL;
	r->answer = NULL;
	r->answer_len = 0;
	r->too_long = 0;
	req_unsign(r);
	r->next = h.free;
	h.free = r;
	r->done(h.p, r->arg, status, status ? answer : NULL, status ? len : 0);
	free(answer);
}

/* Report every finished transfer. */
static void
check_done(void)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(h.multi, &left)) != NULL) {
		struct req *r;
		long status = 0;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		if (m->data.result == CURLE_OK)
			curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
		else
			wk_log_limited(&rl_err, WK_LOG_WARN, "POST: %s",
			    curl_easy_strerror(m->data.result));
		curl_multi_remove_handle(h.multi, r->easy);
		req_done(r, status);
	}
}

/* A curl socket is ready: let curl work on it, then report what finished. */
static void
on_io(struct wk_loop *l, int fd, uint32_t events, void *arg)
{
	int flags = 0, running;

	if (events & EPOLLIN)
		flags |= CURL_CSELECT_IN;
	if (events & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (events & (EPOLLERR | EPOLLHUP))
		flags |= CURL_CSELECT_ERR;
	curl_multi_socket_action(h.multi, fd, flags, &running);
	check_done();
}

/* CURLMOPT_SOCKETFUNCTION: watch fd as curl asks; socketp marks the ones
 * the loop already has. */
static int
on_socket(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
	uint32_t ev = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);

	if (what == CURL_POLL_REMOVE) {
		if (socketp)
			wk_loop_del(h.p->loop, fd);
		curl_multi_assign(h.multi, fd, NULL);
	} else if (socketp == NULL) {
		if (wk_loop_add(h.p->loop, fd, ev, on_io, NULL) < 0)
			wk_log_warn("watch curl socket %d", fd);
		else
			curl_multi_assign(h.multi, fd, &h);
	} else if (wk_loop_mod(h.p->loop, fd, ev) < 0)
		wk_log_warn("watch curl socket %d", fd);
	return 0;
}

/* curl's timeout expired: let it act (timeouts, retries of its own). */
static void
on_timer(struct wk_loop *l, uint64_t id, void *arg)
{
	int running;

	h.timer = 0;
	curl_multi_socket_action(h.multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done();
}

/* CURLMOPT_TIMERFUNCTION: one timer, replaced on every call; -1 deletes it.
 * A 0 ms timeout fires from the loop, not from inside curl. */
static int
on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
	if (h.timer)
		wk_loop_timer_cancel(h.p->loop, h.timer);
	h.timer = 0;
	if (timeout_ms >= 0)
		h.timer = wk_loop_timer(h.p->loop, (uint64_t)timeout_ms, 0, on_timer, NULL);
	return 0;
}

/* Set up the multi handle and the headers every POST carries. */
int
wk_http_open(struct wk_proc *p, long max_conns, size_t max_body)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -1;
	h.p = p;
	h.max_body = max_body;
	h.multi = curl_multi_init();
	if (h.multi == NULL)
		return -1;
	curl_multi_setopt(h.multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(h.multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	/* Enough connections that requests never wait for one; idle ones stay
	 * open for the next request. */
	curl_multi_setopt(h.multi, CURLMOPT_MAX_HOST_CONNECTIONS, max_conns);
	curl_multi_setopt(h.multi, CURLMOPT_MAXCONNECTS, max_conns);
	h.headers = curl_slist_append(NULL, "Content-Type: application/json");
	h.headers = curl_slist_append(h.headers, "Expect:");   /* no 100-continue round trip */
	return 0;
}

/* Free the handles; no callback runs any more. */
void
wk_http_close(void)
{
	struct req *r;

	if (h.multi == NULL)
		return;
	if (h.timer)
		wk_loop_timer_cancel(h.p->loop, h.timer);
	h.timer = 0;
	while ((r = h.free) != NULL) {
		h.free = r->next;
		curl_easy_cleanup(r->easy);
		free(r);
	}
	/* Requests still in flight are abandoned: their events stay queued. */
	curl_multi_cleanup(h.multi);
	h.multi = NULL;
	curl_slist_free_all(h.headers);
	curl_global_cleanup();
}

int
wk_http_is_open(void)
{
	return h.multi != NULL;
}

/* A transfer from the free list, or a new one with the fixed options. */
static struct req *
req_get(void)
{
	struct req *r = h.free;

	if (r) {
		h.free = r->next;
		return r;
	}
	r = wk_calloc(1, sizeof *r);
	r->easy = curl_easy_init();
	if (r->easy == NULL)
		wk_fatalx("curl_easy_init failed");
	curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
	curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, h.headers);
	curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	curl_easy_setopt(r->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
	return r;
}

/* A request that could not even start: answered from the loop. */
static void
on_failed(struct wk_loop *l, uint64_t id, void *arg)
{
	struct req *r;

	while ((r = h.failed) != NULL) {
		h.failed = r->next;
		req_done(r, 0);
	}
}

/* Start POSTing body (taken; freed when done) to url; done runs from the
 * loop in every case, also when the transfer cannot start. */
void
wk_http_post(struct wk_proc *p, const char *url, char *body, size_t len, long timeout_ms,
    wk_http_done_fn *done, void *arg)
{
	struct req *r = req_get();
	CURLMcode rc;

	r->body = body;
	r->done = done;
	r->arg = arg;
	curl_easy_setopt(r->easy, CURLOPT_URL, url);
	curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	req_sign(p, r, body, len);
	if ((rc = curl_multi_add_handle(h.multi, r->easy)) != CURLM_OK) {
		wk_log_limited(&rl_err, WK_LOG_WARN, "POST %s: %s", url, curl_multi_strerror(rc));
		if (h.failed == NULL)
			wk_loop_timer(p->loop, 0, 0, on_failed, NULL);
		r->next = h.failed;
		h.failed = r;
	}
}
