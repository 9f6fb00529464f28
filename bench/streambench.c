/* streambench.c - stream messages under load (bench/README.md, issue 8's
 * figure): -s concurrent streams (default 1000), each appending -r pieces
 * per second (default 20) through POST /message/event for -t seconds, each
 * to its own user connected over WKProto/TCP with encryption; users with an
 * even number speak protocol version 5 (they get EVENT packets), the others
 * version 2 (they get the stream RECVs of the npm SDK's form), so one run
 * compares the two forms under the same load.
 *
 * Open loop: piece k of stream i is due at t0 + k/r + i/(r*s) seconds; -c
 * keep-alive HTTP connections take the due pieces in order, and
 * the piece's text carries its due time (CLOCK_MONOTONIC, one clock for the
 * machine), so a piece that waited for a free client or a slow server is
 * counted from when it was due (no coordinated omission).  Delivery
 * latency is due time -> the EVENT or RECV decoded (and, for RECV, its
 * msgKey verified and payload decrypted) at the receiver.  Also checked:
 * every piece arrives, once, in order, and every stream's end arrives.
 * Not a test: it asserts nothing about time.
 *
 * With -m send the pieces are not HTTP requests but SENDs carrying the
 * stream's number (the npm SDK's form, protocol version 2) from -b bot
 * users, one connection each; the first SEND of a stream is its anchor;
 * the ends are still POST /message/event (stream.close by stream number).
 *
 *   streambench -H 127.0.0.1:5001 -p 5100 [-s 1000] [-r 20] [-t 10] [-c 64]
 *               [-m http|send] [-b 16] [-x prefix]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include "bench_hist.h"
#include "wk_crypto.h"
#include "wk_time.h"
#include "wkclient.h"
#include "wkproto.h"

static const char *http = "127.0.0.1:5001", *host = "127.0.0.1", *prefix = "sb";
static int port = 5100, nstreams = 1000, rate = 20, secs = 10, conc = 64, nbots = 16;
static int by_send;                  /* -m send: pieces are SENDs of bot clients */

/* One stream and its receiver (or, with is_bot, a bot's connection). */
struct stream {
	struct wkc *c;
	int version;
	int is_bot;
	long acks, refused;                  /* a bot's SENDACKs */
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

static void usage(void);

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

	if (s->is_bot) {
		if (p->type == WKPROTO_SENDACK) {
			s->acks++;
			s->refused += p->sendack.reason_code != WKPROTO_REASON_SUCCESS;
		}
		return;
	}
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

/* ---- the appends: -c keep-alive HTTP/1.1 connections, one request each
 * in flight, driven by epoll (a client much cheaper than libcurl, so that
 * the generator takes less of the machine from the server) ---- */

struct client {
	int fd;
	int busy;
	uint64_t due;                /* the request's due time (µs) */
	char out[768];
	size_t outlen, outoff;
	char in[4096];
	size_t inlen;
};

static struct client *cl;
static int hep;                      /* the clients' epoll */
static char http_host[128];
static int http_port;

static int
dial(const char *h, int p)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)p) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	inet_pton(AF_INET, h, &sa.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		fprintf(stderr, "streambench: cannot connect to %s:%d: %s\n", h, p, strerror(errno));
		exit(1);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

static void
http_open(void)
{
	const char *colon = strrchr(http, ':');

	if (colon == NULL || (size_t)(colon - http) >= sizeof http_host)
		usage();
	memcpy(http_host, http, (size_t)(colon - http));
	http_port = atoi(colon + 1);
	hep = epoll_create1(0);
	cl = calloc((size_t)conc, sizeof *cl);
	for (int i = 0; i < conc; i++) {
		struct epoll_event e = { .events = EPOLLIN, .data.ptr = &cl[i] };
		cl[i].fd = dial(http_host, http_port);
		epoll_ctl(hep, EPOLL_CTL_ADD, cl[i].fd, &e);
	}
}

static void
http_write(struct client *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = write(c->fd, c->out + c->outoff, c->outlen - c->outoff);
		if (n < 0 && errno == EAGAIN) {
			struct epoll_event e = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };
			epoll_ctl(hep, EPOLL_CTL_MOD, c->fd, &e);
			return;
		}
		if (n <= 0) {
			fprintf(stderr, "streambench: HTTP write: %s\n", strerror(errno));
			exit(1);
		}
		c->outoff += (size_t)n;
	}
}

/* POST path with body on client c, due at `due`. */
static void
start(struct client *c, const char *path, const char *body, uint64_t due)
{
	size_t blen = strlen(body);

	c->outlen = (size_t)snprintf(c->out, sizeof c->out, "POST %s HTTP/1.1\r\nHost: %s\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s", path, http, blen,
	    body);
	if (c->outlen >= sizeof c->out) {
		fprintf(stderr, "streambench: request too long\n");
		exit(1);
	}
	c->outoff = 0;
	c->due = due;
	c->busy = 1;
	http_write(c);
}

/* A complete answer in c->in: consume it. */
static int
http_answer(struct client *c)
{
	char *hdr_end, *cl_at;
	size_t need;
	int status;

	c->in[c->inlen] = '\0';
	if ((hdr_end = strstr(c->in, "\r\n\r\n")) == NULL)
		return 0;
	cl_at = strcasestr(c->in, "\r\nContent-Length:");
	need = (size_t)(hdr_end + 4 - c->in) + (cl_at && cl_at < hdr_end ?
	    strtoul(cl_at + 17, NULL, 10) : 0);
	if (c->inlen < need)
		return 0;
	status = atoi(c->in + 9);
	if (status == 200) {
		http_ok++;
		hist_add(&http_lat, wk_now_us() - c->due);
	} else {
		if (http_err++ < 5)
			fprintf(stderr, "streambench: HTTP %d: %.*s\n", status, (int)(c->inlen - (size_t)(hdr_end + 4 - c->in)), hdr_end + 4);
	}
	memmove(c->in, c->in + need, c->inlen - need);
	c->inlen -= need;
	c->busy = 0;
	return 1;
}

/* Handle what the clients have to say, waiting up to wait_us. */
static void
drive_us(uint64_t wait_us)
{
	struct epoll_event ev[64];
	struct timespec ts = { (time_t)(wait_us / 1000000), (long)(wait_us % 1000000) * 1000 };
	int n = epoll_pwait2(hep, ev, 64, &ts, NULL);

	for (int i = 0; i < n; i++) {
		struct client *c = ev[i].data.ptr;
		if (ev[i].events & EPOLLOUT) {
			struct epoll_event e = { .events = EPOLLIN, .data.ptr = c };
			epoll_ctl(hep, EPOLL_CTL_MOD, c->fd, &e);
			http_write(c);
		}
		if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
			ssize_t r = read(c->fd, c->in + c->inlen, sizeof c->in - 1 - c->inlen);
			if (r <= 0 && !(r < 0 && errno == EAGAIN)) {
				fprintf(stderr, "streambench: wk-api closed an HTTP connection\n");
				exit(1);
			}
			if (r > 0)
				c->inlen += (size_t)r;
			while (c->busy && http_answer(c))
				;
		}
	}
}

static void
drive(int wait_ms)
{
	drive_us((uint64_t)wait_ms * 1000);
}

static struct client *
free_client(void)
{
	static int next;

	for (;;) {
		for (int k = 0; k < conc; k++, next = (next + 1) % conc)
			if (!cl[next].busy)
				return &cl[next];
		drive(5);
	}
}

static void
wait_idle(void)
{
	for (;;) {
		int busy = 0;
		for (int i = 0; i < conc; i++)
			busy += cl[i].busy;
		if (!busy)
			return;
		drive(5);
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
	char body[512];
	pthread_t rx;
	int ep, ch;
	long k, sent = 0;
	uint64_t t0, period_us, tend;
	double cpu0;

	while ((ch = getopt(argc, argv, "H:h:p:s:r:t:c:x:m:b:")) != -1)
		switch (ch) {
		case 'H': http = optarg; break;
		case 'h': host = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 's': nstreams = atoi(optarg); break;
		case 'r': rate = atoi(optarg); break;
		case 't': secs = atoi(optarg); break;
		case 'c': conc = atoi(optarg); break;
		case 'x': prefix = optarg; break;
		case 'm': by_send = strcmp(optarg, "send") == 0; break;
		case 'b': nbots = atoi(optarg); break;
		default: usage();
		}
	if (nstreams < 1 || rate < 1 || secs < 1 || conc < 1 || nbots < 1)
		usage();
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	st = calloc((size_t)(nstreams + nbots), sizeof *st);
	ep = epoll_create1(0);
	for (int i = 0; i < nstreams + (by_send ? nbots : 0); i++) {
		char uid[64], dev[16];
		if (i < nstreams)
			snprintf(uid, sizeof uid, "%su%d", prefix, i);
		else
			snprintf(uid, sizeof uid, "%sbot%d", prefix, i - nstreams);
		snprintf(dev, sizeof dev, "d%d", i);
		st[i].version = i % 2 && i < nstreams ? 2 : i < nstreams ? 5 : 2;
		st[i].is_bot = i >= nstreams;
		if ((st[i].c = wkc_login(host, port, uid, dev, st[i].version)) == NULL) {
			fprintf(stderr, "streambench: user %s cannot connect to %s:%d\n", uid, host, port);
			return 1;
		}
		struct epoll_event e = { .events = EPOLLIN, .data.ptr = &st[i] };
		epoll_ctl(ep, EPOLL_CTL_ADD, st[i].c->fd, &e);
	}
	pthread_create(&rx, NULL, receiver, &ep);

	http_open();
	/* The anchors. */
	for (int i = 0; i < nstreams && by_send; i++) {
		char uid[64], cmn[64], no[64];
		snprintf(uid, sizeof uid, "%su%d", prefix, i);
		snprintf(cmn, sizeof cmn, "%ss%d", prefix, i);
		snprintf(no, sizeof no, "%ss%d", prefix, i);
		wkc_send_stream(st[nstreams + i % nbots].c, uid, 1, "{\"type\":1,\"content\":\"\"}", cmn,
		    (uint32_t)i + 1, no);
	}
	for (int i = 0; i < nstreams && !by_send; i++) {
		char *p = malloc(WK_B64_ENCODED_LEN(24) + 1);
		p[wk_b64_encode("{\"type\":1,\"content\":\"\"}", 23, p)] = '\0';
		snprintf(body, sizeof body, "{\"from_uid\":\"%sbot\",\"channel_id\":\"%su%d\","
		    "\"channel_type\":1,\"payload\":\"%s\",\"client_msg_no\":\"%ss%d\",\"is_stream\":1}",
		    prefix, prefix, i, p, prefix, i);
		free(p);
		start(free_client(), "/message/send", body, wk_now_us());
	}
	wait_idle();
	if (wait_streams(0, 30000) != nstreams) {
		fprintf(stderr, "streambench: not every anchor arrived\n");
		return 1;
	}
	memset(&http_lat, 0, sizeof http_lat);
	http_ok = http_err = 0;

	/* The pieces, open loop. */
	if (by_send)
		printf("streambench: %d streams x %d pieces/s for %d s (%d pieces/s) as SENDs of %d bot "
		    "connections (v2 stream form); receivers: %d at v5 (EVENT), %d at v2 (stream RECV)\n",
		    nstreams, rate, secs, nstreams * rate, nbots, (nstreams + 1) / 2, nstreams / 2);
	else
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
			for (uint64_t now; (now = wk_now_us()) < due;)
				drive_us(due - now);
			if (by_send) {
				char uid[64], cmn[64], no[64], text[96];
				snprintf(uid, sizeof uid, "%su%d", prefix, i);
				snprintf(cmn, sizeof cmn, "%ss%d-%ld", prefix, i, k);
				snprintf(no, sizeof no, "%ss%d", prefix, i);
				snprintf(text, sizeof text, "{\"type\":1,\"content\":\"%ld:%lu;\"}", k,
				    (unsigned long)due);
				if (wkc_send_stream(st[nstreams + i % nbots].c, uid, 1, text, cmn,
				    (uint32_t)(k * nstreams + i + nstreams + 1), no) < 0) {
					fprintf(stderr, "streambench: a bot's SEND failed\n");
					return 1;
				}
				sent++;
				continue;
			}
			snprintf(body, sizeof body, "{\"from_uid\":\"%sbot\",\"channel_id\":\"%su%d\","
			    "\"channel_type\":1,\"client_msg_no\":\"%ss%d\",\"event_id\":\"%ld\","
			    "\"event_type\":\"stream.delta\",\"payload\":{\"kind\":\"text\","
			    "\"delta\":\"%ld:%lu;\"}}", prefix, prefix, i, prefix, i, k, k,
			    (unsigned long)due);
			start(free_client(), "/message/event", body, due);
			sent++;
		}
	}
	wait_idle();
	double elapsed = (wk_now_us() - t0) / 1e6;
	/* The ends. */
	for (int i = 0; i < nstreams; i++) {
		char from[64];
		if (by_send)
			snprintf(from, sizeof from, "%sbot%d", prefix, i % nbots);
		else
			snprintf(from, sizeof from, "%sbot", prefix);
		snprintf(body, sizeof body, "{\"from_uid\":\"%s\",\"channel_id\":\"%su%d\","
		    "\"channel_type\":1,\"client_msg_no\":\"%ss%d\",\"event_id\":\"end\","
		    "\"event_type\":\"stream.close\"}", from, prefix, i, prefix, i);
		start(free_client(), "/message/event", body, wk_now_us());
	}
	wait_idle();
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
	if (by_send) {
		long acks = 0, refused = 0;
		for (int j = 0; j < nbots; j++) {
			acks += st[nstreams + j].acks;
			refused += st[nstreams + j].refused;
		}
		printf("appended %ld pieces in %.1f s (%.0f/s), SENDACKs %ld (%ld refused)\n", sent,
		    elapsed, sent / elapsed, acks - nstreams, refused);
	} else
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
