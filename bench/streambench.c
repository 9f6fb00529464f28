/* streambench.c - stream messages under load (bench/README.md, issue 8's
 * figure): -s concurrent streams (default 1000), each appending -r pieces
 * per second (default 20) through POST /message/event for -t seconds, each
 * to its own user connected over WKProto/TCP with encryption; users with an
 * even number speak protocol version 5 (they get EVENT packets), the others
 * version 2 (they get the stream RECVs of the npm SDK's form), so one run
 * compares the two forms under the same load.
 *
 * Open loop: piece k of stream i is due at t0 + k/r + i/(r*s) seconds; -c
 * keep-alive HTTP clients (libcurl multi) take the due pieces in order, and
 * the piece's text carries its due time (CLOCK_MONOTONIC, one clock for the
 * machine), so a piece that waited for a free client or a slow server is
 * counted from when it was due (no coordinated omission).  Delivery
 * latency is due time -> the EVENT or RECV decoded (and, for RECV, its
 * msgKey verified and payload decrypted) at the receiver.  Also checked:
 * every piece arrives, once, in order, and every stream's end arrives.
 * Not a test: it asserts nothing about time.
 *
 *   streambench -H 127.0.0.1:5001 -p 5100 [-s 1000] [-r 20] [-t 10] [-c 64] [-x prefix]
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>
#include <curl/curl.h>
#include "bench_hist.h"
#include "wk_crypto.h"
#include "wk_time.h"
#include "wkclient.h"
#include "wkproto.h"

static const char *http = "127.0.0.1:5001", *host = "127.0.0.1", *prefix = "sb";
static int port = 5100, nstreams = 1000, rate = 20, secs = 10, conc = 64;

/* One stream and its receiver. */
struct stream {
	struct wkc *c;
	int version;
	int anchored, ended;         /* its anchor and its end arrived */
	long next_k;                 /* the piece expected next */
	long lost, dups, disorder;
};

static struct stream *st;
static struct hist lat[2];           /* delivery: [0] EVENT (v5), [1] stream RECV (v2) */
static long got[2];
static volatile int stop_rx;
static struct hist http_lat;         /* append -> HTTP answer */
static long http_ok, http_err;

/* ---- the receivers: one epoll thread over every connection ---- */

/* "<k>:<due_us>" after `key` in text: 0, or -1. */
static int
piece_of(const char *text, size_t n, const char *key, long *k, uint64_t *due)
{
	char buf[256];
	const char *p;

	if (n >= sizeof buf)
		n = sizeof buf - 1;
	memcpy(buf, text, n);
	buf[n] = '\0';
	if ((p = strstr(buf, key)) == NULL)
		return -1;
	return sscanf(p + strlen(key), "%ld:%lu", k, (unsigned long *)due) == 2 ? 0 : -1;
}

static void
on_piece(struct stream *s, int form, long k, uint64_t due)
{
	uint64_t now = wk_now_us();

	hist_add(&lat[form], now > due ? now - due : 0);
	got[form]++;
	if (k == s->next_k)
		s->next_k++;
	else if (k < s->next_k)
		s->dups++;
	else {
		s->disorder++;
		s->lost += k - s->next_k;
		s->next_k = k + 1;
	}
}

static void
on_packet(struct stream *s, struct wkproto_packet *p)
{
	char text[4096];
	uint64_t due;
	long k;
	ssize_t n;

	if (p->type == WKPROTO_EVENT) {
		if (p->event.type.len == 12 && memcmp(p->event.type.p, "stream.close", 12) == 0)
			s->ended = 1;
		else if (piece_of((const char *)p->event.data.p, p->event.data.len, "\"delta\":\"",
		    &k, &due) == 0)
			on_piece(s, 0, k, due);
	} else if (p->type == WKPROTO_RECV) {
		if ((n = wkc_open_recv(s->c, &p->recv, text, sizeof text)) < 0)
			return;
		if (!(p->recv.setting & WKPROTO_SETTING_STREAM_SDK) || p->recv.stream_flag == 0) {
			s->anchored = 1;          /* the anchor: at v2 the stream's start */
			wkc_recvack(s->c, p);
		} else if (p->recv.stream_flag == 2)
			s->ended = 1;
		else if (piece_of(text, (size_t)n, "\"content\":\"", &k, &due) == 0)
			on_piece(s, 1, k, due);
	}
	if (p->type == WKPROTO_RECV && s->version >= 5)
		s->anchored = 1;
}

static void *
receiver(void *arg)
{
	int ep = *(int *)arg;
	struct epoll_event ev[256];

	while (!stop_rx) {
		int n = epoll_wait(ep, ev, 256, 100);
		for (int i = 0; i < n; i++) {
			struct stream *s = ev[i].data.ptr;
			struct wkproto_packet p;
			ssize_t r = read(s->c->fd, s->c->in + s->c->inlen, sizeof s->c->in - s->c->inlen);
			if (r <= 0) {
				if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
					fprintf(stderr, "streambench: a receiver's connection closed\n");
					exit(1);
				}
				continue;
			}
			s->c->inlen += (size_t)r;
			while (wkc_recv(s->c, &p, 0) == 0)
				on_packet(s, &p);
		}
	}
	return NULL;
}

/* ---- the appends: -c keep-alive HTTP clients ---- */

struct client {
	CURL *h;
	char body[512];
	uint64_t due;
	int busy;
};

static size_t
discard(void *data, size_t sz, size_t n, void *arg)
{
	return sz * n;
}

static void
start(CURLM *m, struct client *cl, const char *path, uint64_t due)
{
	char url[256];

	snprintf(url, sizeof url, "http://%s%s", http, path);
	curl_easy_setopt(cl->h, CURLOPT_URL, url);
	curl_easy_setopt(cl->h, CURLOPT_POSTFIELDS, cl->body);
	cl->due = due;
	cl->busy = 1;
	curl_multi_add_handle(m, cl->h);
}

/* Run the multi handle until a client is free (or `all`: every one is). */
static void
drive(CURLM *m, struct client *c, int all, int wait_ms)
{
	CURLMsg *msg;
	int running, left, busy;

	curl_multi_perform(m, &running);
	while ((msg = curl_multi_info_read(m, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		struct client *cl;
		long code = 0;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&cl);
		curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
		if (msg->data.result == CURLE_OK && code == 200) {
			http_ok++;
			hist_add(&http_lat, wk_now_us() - cl->due);
		} else
			http_err++;
		curl_multi_remove_handle(m, cl->h);
		cl->busy = 0;
	}
	busy = 0;
	for (int i = 0; i < conc; i++)
		busy += c[i].busy;
	if ((all && busy) || (!all && busy == conc))
		curl_multi_poll(m, NULL, 0, wait_ms, NULL);
}

static struct client *
free_client(CURLM *m, struct client *c)
{
	for (;;) {
		for (int i = 0; i < conc; i++)
			if (!c[i].busy)
				return &c[i];
		drive(m, c, 0, 5);
	}
}

static void
wait_idle(CURLM *m, struct client *c)
{
	for (;;) {
		int busy = 0;
		for (int i = 0; i < conc; i++)
			busy += c[i].busy;
		if (!busy)
			return;
		drive(m, c, 1, 5);
	}
}

/* Wait until every stream has flag `what` (0 anchored, 1 ended), at most ms. */
static long
wait_streams(int what, int ms)
{
	uint64_t end = wk_now_ms() + (uint64_t)ms;
	long n;

	do {
		n = 0;
		for (int i = 0; i < nstreams; i++)
			n += what ? st[i].ended : st[i].anchored;
		if (n == nstreams)
			break;
		usleep(10000);
	} while (wk_now_ms() < end);
	return n;
}

static void
usage(void)
{
	fprintf(stderr, "usage: streambench [-H host:port] [-h host] [-p port] [-s streams] "
	    "[-r pieces/s] [-t seconds] [-c http clients] [-x prefix]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct rlimit rl;
	struct client *c;
	CURLM *m;
	pthread_t rx;
	int ep, ch;
	long k, sent = 0;
	uint64_t t0, period_us, tend;
	double cpu0;

	while ((ch = getopt(argc, argv, "H:h:p:s:r:t:c:x:")) != -1)
		switch (ch) {
		case 'H': http = optarg; break;
		case 'h': host = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 's': nstreams = atoi(optarg); break;
		case 'r': rate = atoi(optarg); break;
		case 't': secs = atoi(optarg); break;
		case 'c': conc = atoi(optarg); break;
		case 'x': prefix = optarg; break;
		default: usage();
		}
	if (nstreams < 1 || rate < 1 || secs < 1 || conc < 1)
		usage();
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	st = calloc((size_t)nstreams, sizeof *st);
	ep = epoll_create1(0);
	for (int i = 0; i < nstreams; i++) {
		char uid[64], dev[16];
		snprintf(uid, sizeof uid, "%su%d", prefix, i);
		snprintf(dev, sizeof dev, "d%d", i);
		st[i].version = i % 2 ? 2 : 5;
		if ((st[i].c = wkc_connect_tcp(host, port)) == NULL ||
		    wkc_handshake(st[i].c, uid, "", st[i].version, 1, dev, NULL) != 1) {
			fprintf(stderr, "streambench: user %s cannot connect to %s:%d\n", uid, host, port);
			return 1;
		}
		struct epoll_event e = { .events = EPOLLIN, .data.ptr = &st[i] };
		epoll_ctl(ep, EPOLL_CTL_ADD, st[i].c->fd, &e);
	}
	pthread_create(&rx, NULL, receiver, &ep);

	curl_global_init(CURL_GLOBAL_DEFAULT);
	m = curl_multi_init();
	c = calloc((size_t)conc, sizeof *c);
	for (int i = 0; i < conc; i++) {
		c[i].h = curl_easy_init();
		curl_easy_setopt(c[i].h, CURLOPT_WRITEFUNCTION, discard);
		curl_easy_setopt(c[i].h, CURLOPT_PRIVATE, &c[i]);
		curl_easy_setopt(c[i].h, CURLOPT_TCP_NODELAY, 1L);
		curl_easy_setopt(c[i].h, CURLOPT_HTTPHEADER,
		    curl_slist_append(NULL, "Content-Type: application/json"));
	}
	/* The anchors. */
	for (int i = 0; i < nstreams; i++) {
		struct client *cl = free_client(m, c);
		char *p = malloc(WK_B64_ENCODED_LEN(24) + 1);
		p[wk_b64_encode("{\"type\":1,\"content\":\"\"}", 23, p)] = '\0';
		snprintf(cl->body, sizeof cl->body, "{\"from_uid\":\"%sbot\",\"channel_id\":\"%su%d\","
		    "\"channel_type\":1,\"payload\":\"%s\",\"client_msg_no\":\"%ss%d\",\"is_stream\":1}",
		    prefix, prefix, i, p, prefix, i);
		free(p);
		start(m, cl, "/message/send", wk_now_us());
	}
	wait_idle(m, c);
	if (wait_streams(0, 30000) != nstreams) {
		fprintf(stderr, "streambench: not every anchor arrived\n");
		return 1;
	}
	memset(&http_lat, 0, sizeof http_lat);
	http_ok = http_err = 0;

	/* The pieces, open loop. */
	printf("streambench: %d streams x %d pieces/s for %d s (%d pieces/s), %d HTTP clients; "
	    "receivers: %d at v5 (EVENT), %d at v2 (stream RECV)\n", nstreams, rate, secs,
	    nstreams * rate, conc, (nstreams + 1) / 2, nstreams / 2);
	fflush(stdout);
	cpu0 = cpu_seconds(RUSAGE_SELF);
	period_us = 1000000 / (uint64_t)rate;
	t0 = wk_now_us() + 10000;
	tend = t0 + (uint64_t)secs * 1000000;
	for (k = 0;; k++) {
		uint64_t base = t0 + (uint64_t)k * period_us;
		if (base >= tend)
			break;
		for (int i = 0; i < nstreams; i++) {
			uint64_t due = base + (uint64_t)i * period_us / (uint64_t)nstreams;
			while (wk_now_us() < due)
				drive(m, c, 1, 1);
			struct client *cl = free_client(m, c);
			snprintf(cl->body, sizeof cl->body, "{\"from_uid\":\"%sbot\",\"channel_id\":\"%su%d\","
			    "\"channel_type\":1,\"client_msg_no\":\"%ss%d\",\"event_id\":\"%ld\","
			    "\"event_type\":\"stream.delta\",\"payload\":{\"kind\":\"text\","
			    "\"delta\":\"%ld:%lu;\"}}", prefix, prefix, i, prefix, i, k, k,
			    (unsigned long)due);
			start(m, cl, "/message/event", due);
			sent++;
		}
	}
	wait_idle(m, c);
	double elapsed = (wk_now_us() - t0) / 1e6;
	/* The ends. */
	for (int i = 0; i < nstreams; i++) {
		struct client *cl = free_client(m, c);
		snprintf(cl->body, sizeof cl->body, "{\"from_uid\":\"%sbot\",\"channel_id\":\"%su%d\","
		    "\"channel_type\":1,\"client_msg_no\":\"%ss%d\",\"event_id\":\"end\","
		    "\"event_type\":\"stream.close\"}", prefix, prefix, i, prefix, i);
		start(m, cl, "/message/event", wk_now_us());
	}
	wait_idle(m, c);
	long ended = wait_streams(1, 30000);
	stop_rx = 1;
	pthread_join(rx, NULL);

	long lost = 0, dups = 0, disorder = 0;
	for (int i = 0; i < nstreams; i++) {
		long want = k;
		if (st[i].next_k < want)
			st[i].lost += want - st[i].next_k;
		lost += st[i].lost;
		dups += st[i].dups;
		disorder += st[i].disorder;
	}
	printf("appended %ld pieces in %.1f s (%.0f/s), HTTP answers %ld ok %ld failed, "
	    "append->answer p50 %.2f ms p99 %.2f ms\n", sent, elapsed, sent / elapsed, http_ok,
	    http_err, hist_pct(&http_lat, 0.5) / 1000, hist_pct(&http_lat, 0.99) / 1000);
	for (int f = 0; f < 2; f++)
		printf("%-22s %8ld pieces  p50 %6.2f ms  p99 %6.2f ms  p99.9 %6.2f ms  max %7.2f ms\n",
		    f ? "v2 stream RECV:" : "v5 EVENT:", got[f], hist_pct(&lat[f], 0.5) / 1000,
		    hist_pct(&lat[f], 0.99) / 1000, hist_pct(&lat[f], 0.999) / 1000,
		    hist_max(&lat[f]) / 1000);
	struct hist all = lat[0];
	hist_merge(&all, &lat[1]);
	printf("%-22s %8ld pieces  p50 %6.2f ms  p99 %6.2f ms  p99.9 %6.2f ms  max %7.2f ms\n",
	    "all pieces:", got[0] + got[1], hist_pct(&all, 0.5) / 1000, hist_pct(&all, 0.99) / 1000,
	    hist_pct(&all, 0.999) / 1000, hist_max(&all) / 1000);
	printf("missing %ld, duplicated %ld, out of order %ld, ends %ld/%d; generator CPU %.1f s\n",
	    lost, dups, disorder, ended, nstreams, cpu_seconds(RUSAGE_SELF) - cpu0);
	return lost || dups || disorder || ended != nstreams ? 1 : 0;
}
