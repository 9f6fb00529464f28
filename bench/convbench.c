/* convbench.c - /conversation/sync under load (bench/README.md, issue 6's
 * figure): a user with -n conversations (default 1000, each a group with one
 * message) and, for comparison in the same run, a user with 10; then -c
 * concurrent keep-alive HTTP clients (libcurl multi) ask /conversation/sync
 * {uid, msg_count: 1} in a closed loop for -t seconds each; and the
 * incremental sync (version > 0) of a user with -n conversations read and
 * 10 with a new message (what an app asks when it comes back).  Prints
 * requests/s and latency p50/p99/max per user, and checks every answer: the
 * expected number of conversations, each with one unread message whose seq
 * is the last (1; 2 for the incremental user's new ones) and that message
 * as its one recent.  Not a test: it asserts nothing about time.
 *
 *   convbench -H 127.0.0.1:5001 [-n 1000] [-c 16] [-t 10] [-x prefix] [-B]
 *
 * -B: no set-up, only the full sync of the -n user, against a server that
 * already has it (convbound.c, the machine's limit for that answer).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <malloc.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <curl/curl.h>
#include "bench_hist.h"
#include "wk_time.h"

static const char *http = "127.0.0.1:5001", *prefix = "cb";
static long nconv = 1000;
static int conc = 16, secs = 10;

/* A response body; the buffer is kept and reused by the next request of
 * the same client and grows by doubling, so a 600 KB answer costs one copy
 * and no realloc (a realloc per 16 KB chunk cost more than the answer). */
struct resp {
	char *p;
	size_t n, cap;
};

static size_t
collect(void *data, size_t sz, size_t n, void *arg)
{
	struct resp *r = arg;
	size_t len = sz * n;

	if (r->n + len + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 64 * 1024;
		while (cap < r->n + len + 1)
			cap *= 2;
		r->p = realloc(r->p, cap);
		r->cap = cap;
	}
	memcpy(r->p + r->n, data, len);
	r->n += len;
	r->p[r->n] = '\0';
	return len;
}

/* One blocking POST for the set-up; exits on anything but 200. */
static void
post(CURL *h, const char *path, const char *body)
{
	char url[256];
	struct resp r = { 0 };
	long code = 0;

	snprintf(url, sizeof url, "http://%s%s", http, path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
	if (curl_easy_perform(h) != CURLE_OK ||
	    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK || code != 200) {
		fprintf(stderr, "convbench: POST %s: %ld %s\n", path, code, r.p ? r.p : "");
		exit(1);
	}
	free(r.p);
}

static void
send_to(CURL *h, const char *uid, long i)
{
	char body[512];

	snprintf(body, sizeof body, "{\"from_uid\":\"%s-peer\",\"channel_id\":\"%s-%s-%ld\","
	    "\"channel_type\":2,\"payload\":\"eyJ0eXBlIjoxLCJjb250ZW50IjoiaGkifQ==\"}",
	    prefix, prefix, uid, i);
	post(h, "/message/send", body);
}

/* uid gets n groups with one message each, unread (read: added after it). */
static void
make_user(CURL *h, const char *uid, long n, int read)
{
	char body[512];

	for (long i = 0; i < n; i++) {
		snprintf(body, sizeof body, "{\"channel_id\":\"%s-%s-%ld\",\"channel_type\":2,"
		    "\"subscribers\":[\"%s-peer\"%s%s%s]}", prefix, uid, i, prefix,
		    read ? "" : ",\"", read ? "" : uid, read ? "" : "\"");
		post(h, "/channel", body);
		send_to(h, uid, i);
		if (read) {
			snprintf(body, sizeof body, "{\"channel_id\":\"%s-%s-%ld\",\"channel_type\":2,"
			    "\"subscribers\":[\"%s\"]}", prefix, uid, i, uid);
			post(h, "/channel/subscriber_add", body);
		}
	}
}

static int
at(const char *s, const char *end, const char *what, size_t len)
{
	return (size_t)(end - s) >= len && memcmp(s, what, len) == 0;
}

/* One key (s at its opening quote) counted if it is one of the four. */
struct tally {
	const char *last, *mseq;
	size_t llen, mlen;
	long recents, unread, lasts, mseqs;
};

static inline void
key_at(struct tally *t, const char *s, const char *end)
{
	switch (s[1]) {
	case 'r': t->recents += at(s, end, "\"recents\"", 9); break;
	case 'u': t->unread += at(s, end, "\"unread\":1,", 11); break;
	case 'l': t->lasts += at(s, end, t->last, t->llen); break;
	case 'm': t->mseqs += at(s, end, t->mseq, t->mlen); break;
	}
}

/* A right answer: `want` conversations (objects with "recents"), each one
 * unread message whose seq is last_seq, and one recent message each.  One
 * pass from quote to quote, 16 bytes a compare (SSE2), so checking every
 * answer costs the client much less than the server's writing it. */
static int
answer_ok(const char *json, size_t n, long want, int last_seq)
{
	char last[48], mseq[48];
	struct tally t = { last, mseq, 0, 0, 0, 0, 0, 0 };
	const char *s = json, *end = json + n;

	t.llen = (size_t)snprintf(last, sizeof last, "\"last_msg_seq\":%d,", last_seq);
	t.mlen = (size_t)snprintf(mseq, sizeof mseq, "\"message_seq\":%d,", last_seq);
#ifdef __SSE2__
	const __m128i q = _mm_set1_epi8('"');
	for (; end - s >= 16; s += 16) {
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
		    _mm_loadu_si128((const __m128i *)(const void *)s), q));
		for (; m; m &= m - 1)
			key_at(&t, s + __builtin_ctz(m), end);
	}
#endif
	while ((s = memchr(s, '"', (size_t)(end - s))) != NULL)
		key_at(&t, s++, end);
	return t.recents == want && t.unread == want && t.lasts == want && t.mseqs == want;
}

struct client {
	CURL *h;
	struct resp r;
	uint64_t t0;
};

/* The closed loop for one user: figures printed, 0 if every answer was right. */
static int
run(const char *uid, long want, int version, const char *what)
{
	CURLM *m = curl_multi_init();
	struct client *c = calloc((size_t)conc, sizeof *c);
	char url[256], body[256];
	struct hist h = { 0 };
	uint64_t start = wk_now_us(), end = start + (uint64_t)secs * 1000000;
	long done = 0, bad = 0;
	int running = 0;

	snprintf(url, sizeof url, "http://%s/conversation/sync", http);
	snprintf(body, sizeof body, "{\"uid\":\"%s\",\"msg_count\":1,\"version\":%d}", uid,
	    version);
	for (int i = 0; i < conc; i++) {
		c[i].h = curl_easy_init();
		curl_easy_setopt(c[i].h, CURLOPT_URL, url);
		curl_easy_setopt(c[i].h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c[i].h, CURLOPT_WRITEFUNCTION, collect);
		curl_easy_setopt(c[i].h, CURLOPT_WRITEDATA, &c[i].r);
		curl_easy_setopt(c[i].h, CURLOPT_PRIVATE, &c[i]);
		curl_easy_setopt(c[i].h, CURLOPT_BUFFERSIZE, 512L * 1024);
		c[i].t0 = wk_now_us();
		curl_multi_add_handle(m, c[i].h);
	}
	for (;;) {
		CURLMsg *msg;
		int left;
		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			struct client *cl;
			long code = 0;
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&cl);
			curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
			uint64_t now = wk_now_us();
			hist_add(&h, now - cl->t0);
			done++;
			if (msg->data.result != CURLE_OK || code != 200 || cl->r.p == NULL ||
			    !answer_ok(cl->r.p, cl->r.n, want, version ? 2 : 1))
				bad++;
			cl->r.n = 0;
			curl_multi_remove_handle(m, cl->h);
			if (now < end) {
				cl->t0 = now;
				curl_multi_add_handle(m, cl->h);
			}
		}
		if (running == 0 && wk_now_us() >= end)
			break;
		curl_multi_poll(m, NULL, 0, 100, NULL);
	}
	double el = (double)(wk_now_us() - start) / 1e6;
	printf("%-34s %5ld returned  %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  max %7.2f ms  "
	    "wrong answers %ld\n", what, want, (double)done / el, hist_pct(&h, 0.50) / 1000.0,
	    hist_pct(&h, 0.99) / 1000.0, hist_max(&h) / 1000.0, bad);
	for (int i = 0; i < conc; i++) {
		curl_easy_cleanup(c[i].h);
		free(c[i].r.p);
	}
	free(c);
	curl_multi_cleanup(m);
	return bad != 0;
}

int
main(int argc, char **argv)
{
	char big[64], small[64], inc[64], label[96];
	int ch, rc, bound = 0;
	CURL *h;

	while ((ch = getopt(argc, argv, "H:n:c:t:x:B")) != -1)
		switch (ch) {
		case 'H': http = optarg; break;
		case 'n': nconv = atol(optarg); break;
		case 'c': conc = atoi(optarg); break;
		case 't': secs = atoi(optarg); break;
		case 'x': prefix = optarg; break;
		case 'B': bound = 1; break;
		default:
			fprintf(stderr, "usage: convbench [-H host:port] [-n convs] [-c clients] "
			    "[-t secs] [-x prefix] [-B]\n");
			return 2;
		}
	/* Keep freed memory: libcurl frees and reallocates its buffers per
	 * transfer, and glibc giving them back to the kernel each time made
	 * the client's page faults the limit of the benchmark. */
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	curl_global_init(CURL_GLOBAL_ALL);
	snprintf(big, sizeof big, "%s-u%ld", prefix, nconv);
	if (bound) {
		snprintf(label, sizeof label, "bound, %ld conversations", nconv);
		rc = run(big, nconv, 0, label);
		curl_global_cleanup();
		return rc ? 3 : 0;
	}
	h = curl_easy_init();
	snprintf(small, sizeof small, "%s-u10", prefix);
	uint64_t t0 = wk_now_us();
	snprintf(inc, sizeof inc, "%s-i%ld", prefix, nconv);
	make_user(h, big, nconv, 0);
	make_user(h, small, 10, 0);
	/* The app-resume case: nconv conversations read, 10 with news. */
	make_user(h, inc, nconv, 1);
	for (long i = 0; i < 10; i++)
		send_to(h, inc, i * (nconv / 10));
	curl_easy_cleanup(h);
	printf("set-up: %ld + 10 + %ld groups with one message each in %.1f s; %d clients, %d s each\n",
	    nconv, nconv, (double)(wk_now_us() - t0) / 1e6, conc, secs);
	snprintf(label, sizeof label, "full, %ld conversations", nconv);
	rc = run(big, nconv, 0, label);
	rc |= run(small, 10, 0, "full, 10 conversations");
	snprintf(label, sizeof label, "incremental, %ld conv., 10 new", nconv);
	rc |= run(inc, 10, 1, label);
	curl_global_cleanup();
	return rc ? 3 : 0;
}
