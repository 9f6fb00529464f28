/* wkconnbench_worker.c - a worker process of wkconnbench (wkconnbench.c,
 * bench/README.md): client connections on one epoll loop, non-blocking
 * connects and up to -c handshakes in flight.  Each client socket is bound
 * to 127.0.0.(2+i) round-robin to get past 64k connections on loopback.
 * Every connection sends CONNECT with a real X25519 public key, waits for
 * CONNACK reason 1 and derives the AES key from the server's key exactly as
 * a client does, so the server really did the key agreement.  Ready
 * connections get a PING every -i seconds, spread evenly.  It obeys the
 * controller's commands (CMD_RAMP, CMD_HALT, CMD_STATS, CMD_HOLD,
 * CMD_CLOSE) and answers each with a struct report. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include "bench_client.h"
#include "bench_hist.h"
#include "wk_crypto.h"
#include "wk_time.h"
#include "wkconnbench.h"
#include "wkproto.h"

#define TICK_US		10000	/* PINGs are sent this often */
#define TIMEOUT_TICKS	10	/* handshake timeouts are looked for every 10 ticks */

/* Failures of this worker, counted by cause. */
static struct fail fails[MAX_FAILS];
static int nfails;
static long fail_total;

void
connbench_add_fail(struct fail *tab, int *ntab, const char *what, long n)
{
	int i;

	for (i = 0; i < *ntab; i++)
		if (strcmp(tab[i].what, what) == 0)
			break;
	if (i == *ntab) {
		if (*ntab == MAX_FAILS)
			i = MAX_FAILS - 1;	/* lump the rest into the last */
		else
			snprintf(tab[(*ntab)++].what, sizeof tab[0].what, "%s", what);
	}
	tab[i].n += n;
}

static void
count_fail(const char *fmt, ...)
{
	char what[96];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	fail_total++;
	connbench_add_fail(fails, &nfails, what, 1);
}


enum cstate { C_CONNECTING, C_UPGRADING, C_CONNACK, C_READY };
static const char *const cstate_name[] = { "connect", "ws upgrade", "CONNACK", "ready" };

struct conn {
	int		 fd;
	uint8_t		 state;
	uint8_t		 ws;
	uint8_t		 ping_out;	/* a PING is waiting for its PONG */
	uint16_t	 len;		/* bytes in buf */
	uint32_t	 seq;		/* connection number: uid, source address */
	uint64_t	 t0;		/* connect() started; then the last PING */
	struct wk_crypto_keypair kp;	/* ours, until CONNACK */
	uint8_t		 buf[256];	/* inbound bytes not yet parsed */
};

static struct conn **conns;	/* by fd */
static int conns_cap;
static int fd_hwm;		/* 1 + the highest fd a connection had */
static int epfd;
static struct sockaddr_in dst_tcp, dst_ws;
static struct sockaddr_in *srcs;
static struct wk_crypto_keypair *key_pool;
static int worker_id, cmdfd = -1;
static uint32_t next_seq;
static long inflight, est_tcp, est_ws;
static uint64_t phase_t0, last_done_us;	/* the phase's start, its last CONNACK */
static struct hist h_phase, h_pong;
static long pings_sent, pongs, pongs_missed;
static int pinging = 1;

static void
conn_free(struct conn *c)
{
	if (c->state == C_READY) {
		if (c->ws)
			est_ws--;
		else
			est_tcp--;
	} else
		inflight--;
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	conns[c->fd] = NULL;
	memset(&c->kp, 0, sizeof c->kp);
	free(c);
}

/* Count a failure of c (what happened, in which state) and drop it. */
static void
conn_fail(struct conn *c, const char *fmt, ...)
{
	char what[80];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	count_fail("%s%s: %s", c->ws ? "ws " : "", cstate_name[c->state], what);
	conn_free(c);
}

/* Write all of a small buffer or fail the connection; 0 or -1 (c is gone). */
static int
conn_write(struct conn *c, const void *p, size_t n)
{
	ssize_t w;

	do
		w = send(c->fd, p, n, MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	if (w == (ssize_t)n)
		return 0;
	if (w < 0)
		conn_fail(c, "send: %s", strerror(errno));
	else
		conn_fail(c, "short send");
	return -1;
}

/* Send one WKProto packet: raw on TCP, one masked binary frame on WS. */
static int
conn_send(struct conn *c, const uint8_t *p, size_t n)
{
	uint8_t frame[BENCH_WS_HDR_MAX + 512];

	if (!c->ws)
		return conn_write(c, p, n);
	if (n > 512)
		return -1;
	return conn_write(c, frame, bench_ws_frame(frame, p, n));
}

static int
send_connect(struct conn *c)
{
	struct wkproto_packet pkt;
	char uid[64], dev[32], key64[WK_CRYPTO_KEY_B64_LEN];
	uint8_t buf[512];
	ssize_t n;

	snprintf(uid, sizeof uid, "%s%d_%u", connbench_opt.uid_prefix, worker_id, c->seq);
	snprintf(dev, sizeof dev, "dev%d_%u", worker_id, c->seq);
	bench_connect_packet(&pkt, uid, dev, connbench_opt.version, &c->kp, key64);
	/* CONNECT's layout is the same in every version; encode at the max. */
	if ((n = wkproto_encode(&pkt, WKPROTO_VERSION_MAX, buf, sizeof buf)) < 0) {
		conn_fail(c, "encode CONNECT: %s", wkproto_strerror((int)n));
		return -1;
	}
	c->state = C_CONNACK;
	return conn_send(c, buf, (size_t)n);
}

static int
send_upgrade(struct conn *c)
{
	char req[256];
	int n = bench_ws_upgrade_request(req, sizeof req, connbench_opt.host, connbench_opt.wsport);

	c->state = C_UPGRADING;
	return conn_write(c, req, (size_t)n);
}

static void
send_ping(struct conn *c, uint64_t now)
{
	static const uint8_t ping = 0x70;

	if (c->ping_out)
		pongs_missed++;		/* the last one was not answered */
	c->ping_out = 1;
	c->t0 = now;
	pings_sent++;
	conn_send(c, &ping, 1);
}

/* A complete CONNACK: check it and agree on the key as a client does. */
static int
on_connack(struct conn *c, const struct wkproto_packet *p)
{
	const struct wkproto_connack *a = &p->connack;
	char aes_key[WK_CRYPTO_AES_LEN], iv[WK_CRYPTO_AES_LEN];
	uint64_t now = wk_now_us();

	if (p->type != WKPROTO_CONNACK) {
		conn_fail(c, "%s instead of CONNACK", wkproto_type_name(p->type));
		return -1;
	}
	if (a->reason_code != WKPROTO_REASON_SUCCESS) {
		conn_fail(c, "CONNACK reason %u", a->reason_code);
		return -1;
	}
	if (bench_connack_keys(a, &c->kp, aes_key, iv) < 0) {
		conn_fail(c, "key agreement failed (server key or salt)");
		return -1;
	}
	hist_add(&h_phase, now - c->t0);
	memset(&c->kp, 0, sizeof c->kp);
	c->state = C_READY;
	c->t0 = now;
	inflight--;
	if (c->ws)
		est_ws++;
	else
		est_tcp++;
	last_done_us = now;
	return 0;
}

/* One packet from the server; -1 when c is gone. */
static int
on_packet(struct conn *c, const uint8_t *p, size_t n)
{
	struct wkproto_packet pkt;
	size_t used;
	int rc, version = connbench_opt.version < WKPROTO_VERSION_MAX ? connbench_opt.version : WKPROTO_VERSION_MAX;

	rc = wkproto_decode(p, n, version, &pkt, &used);
	if (rc < 0 || used != n) {
		conn_fail(c, "bad packet from server: %s", rc < 0 ? wkproto_strerror(rc) :
		    "trailing bytes");
		return -1;
	}
	if (c->state == C_CONNACK)
		return on_connack(c, &pkt);
	switch (pkt.type) {
	case WKPROTO_PONG:
		if (c->ping_out) {
			hist_add(&h_pong, wk_now_us() - c->t0);
			c->ping_out = 0;
		}
		pongs++;
		return 0;
	case WKPROTO_DISCONNECT:
		conn_fail(c, "DISCONNECT reason %u", pkt.disconnect.reason_code);
		return -1;
	default:
		count_fail("ready: unexpected %s (ignored)", wkproto_type_name(pkt.type));
		return 0;
	}
}

/* Parse what is in c->buf; -1 when c is gone. */
static int
conn_process(struct conn *c)
{
	size_t hdr, plen;
	int op, rc;

	for (;;) {
		if (c->state == C_UPGRADING) {
			uint8_t *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
			if (end == NULL)
				return 0;
			if (!bench_ws_upgrade_ok(c->buf, (size_t)(end - c->buf))) {
				*end = '\0';
				char *eol = strchr((char *)c->buf, '\r');
				if (eol)
					*eol = '\0';
				conn_fail(c, "upgrade refused: %.40s", (char *)c->buf);
				return -1;
			}
			hdr = (size_t)(end - c->buf) + 4;
			memmove(c->buf, c->buf + hdr, c->len - hdr);
			c->len -= hdr;
			if (send_connect(c) < 0)
				return -1;
			continue;
		}
		if ((rc = bench_next_packet(c->buf, c->len, c->ws, &hdr, &plen, &op)) == 0)
			return 0;
		if (rc < 0) {
			conn_fail(c, "bad %s from server", c->ws ? "frame" : "packet");
			return -1;
		}
		if (op == 8) {
			conn_fail(c, "WebSocket close from server");
			return -1;
		}
		if (op == 2 && on_packet(c, c->buf + hdr, plen) < 0)
			return -1;
		memmove(c->buf, c->buf + hdr + plen, c->len - hdr - plen);
		c->len -= (uint16_t)(hdr + plen);
	}
}

/* Readable (edge-triggered): read until EAGAIN. */
static void
conn_readable(struct conn *c)
{
	for (;;) {
		ssize_t n;

		if (c->len == sizeof c->buf) {
			conn_fail(c, "reply too long");
			return;
		}
		n = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
		if (n > 0) {
			c->len += (uint16_t)n;
			if (conn_process(c) < 0)
				return;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n == 0)
			conn_fail(c, "closed by server");
		else
			conn_fail(c, "read: %s", strerror(errno));
		return;
	}
}

static void
conn_event(struct conn *c, uint32_t ev)
{
	if (c->state == C_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof err;

		if (!(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err != 0 || (ev & (EPOLLERR | EPOLLHUP))) {
			conn_fail(c, "%s", strerror(err ? err : ECONNRESET));
			return;
		}
		if ((c->ws ? send_upgrade(c) : send_connect(c)) < 0)
			return;
	}
	if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		conn_readable(c);
}

/* Start one connection; -1 if even the socket could not be had. */
static int
conn_start(int ws)
{
	struct conn *c;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET };
	uint32_t seq = next_seq++;
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		count_fail("socket: %s", strerror(errno));
		return -1;
	}
	if (fd >= conns_cap) {
		int cap = conns_cap ? conns_cap * 2 : 16384;
		while (cap <= fd)
			cap *= 2;
		conns = realloc(conns, (size_t)cap * sizeof *conns);
		if (conns == NULL) {
			perror("wkconnbench: realloc");
			exit(1);
		}
		memset(conns + conns_cap, 0, (size_t)(cap - conns_cap) * sizeof *conns);
		conns_cap = cap;
	}
	if ((c = calloc(1, sizeof *c)) == NULL) {
		perror("wkconnbench: calloc");
		exit(1);
	}
	c->fd = fd;
	if (fd >= fd_hwm)
		fd_hwm = fd + 1;
	c->ws = (uint8_t)ws;
	c->seq = seq;
	c->state = C_CONNECTING;
	conns[fd] = c;
	inflight++;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connbench_opt.keys == 0) {
		if (wk_crypto_keypair_new(&c->kp) < 0) {
			conn_fail(c, "X25519 key generation failed");
			return 0;
		}
	} else
		c->kp = key_pool[seq % (uint32_t)connbench_opt.keys];
	if (connbench_opt.nsrc > 0) {
		if (bench_bind_source(fd, &srcs[(seq + (uint32_t)worker_id) % (uint32_t)connbench_opt.nsrc]) < 0) {
			conn_fail(c, "bind: %s", strerror(errno));
			return 0;
		}
	}
	c->t0 = wk_now_us();
	if (connect(fd, (struct sockaddr *)(ws ? &dst_ws : &dst_tcp), sizeof dst_tcp) < 0 &&
	    errno != EINPROGRESS) {
		conn_fail(c, "%s", strerror(errno));
		return 0;
	}
	/* Already connected is fine too: epoll reports it writable at once. */
	ev.data.fd = fd;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		conn_fail(c, "epoll_ctl: %s", strerror(errno));
		return 0;
	}
	return 0;
}

/* Drop every connection at once (the server sees them all close). */
static void
close_all_conns(void)
{
	for (int fd = 0; fd < fd_hwm; fd++)
		if (conns[fd])
			conn_free(conns[fd]);
}

/*
 * The worker's loop: events, handshake timeouts, PINGs spread over the
 * interval, commands from the controller.
 */
static uint64_t last_tick_us;
static double ping_credit;
static int ping_cursor, ticks;
static int pending;			/* CMD_RAMP until the target is reached */
static int ramp_ws, gave_up;
static long ramp_target, ramp_fail_limit, ramp_fail_base;

static void
tick(uint64_t now)
{
	double elapsed = (double)(now - last_tick_us);

	last_tick_us = now;
	if (inflight > 0 && ++ticks % TIMEOUT_TICKS == 0)
		for (int fd = 0; fd < fd_hwm; fd++) {
			struct conn *c = conns[fd];
			if (c && c->state != C_READY &&
			    now - c->t0 > (uint64_t)connbench_opt.timeout_s * 1000000)
				conn_fail(c, "no answer in %d s", connbench_opt.timeout_s);
		}
	if (!pinging || connbench_opt.ping_s <= 0 || fd_hwm == 0)
		return;
	/* Walk the fd table once per interval: every ready connection gets
	 * one PING per interval, spread evenly (no bursts). */
	ping_credit += (double)fd_hwm * elapsed / (connbench_opt.ping_s * 1e6);
	while (ping_credit >= 1) {
		struct conn *c = conns[ping_cursor];
		ping_credit -= 1;
		if (c && c->state == C_READY)
			send_ping(c, now);
		if (++ping_cursor >= fd_hwm)
			ping_cursor = 0;
	}
}

static void
report(int op)
{
	static struct report r;

	memset(&r, 0, sizeof r);
	r.op = op;
	r.gave_up = gave_up;
	r.est_tcp = est_tcp;
	r.est_ws = est_ws;
	r.inflight = inflight;
	r.t_start = phase_t0;
	r.t_last = last_done_us;
	r.cpu = cpu_seconds(RUSAGE_SELF);
	r.pings = pings_sent;
	r.pongs = pongs;
	r.missed = pongs_missed;
	r.fail_total = fail_total;
	r.nfails = nfails;
	memcpy(r.fails, fails, sizeof fails);
	r.phase = h_phase;
	r.pong = h_pong;
	if (send(cmdfd, &r, sizeof r, MSG_NOSIGNAL) != (ssize_t)sizeof r)
		_exit(1);	/* the controller is gone */
}

static void
on_command(void)
{
	struct cmd c;
	ssize_t n = recv(cmdfd, &c, sizeof c, 0);

	if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
		_exit(0);	/* the controller is gone: so are we */
	if (n != (ssize_t)sizeof c)
		return;
	switch (c.op) {
	case CMD_RAMP:
		pending = CMD_RAMP;
		ramp_ws = c.ws;
		ramp_target = c.target;
		ramp_fail_limit = c.fail_limit;
		ramp_fail_base = fail_total;
		gave_up = 0;
		pinging = 1;
		memset(&h_phase, 0, sizeof h_phase);
		phase_t0 = last_done_us = wk_now_us();
		break;
	case CMD_HALT:
		/* Start nothing more; the ramp ends when the handshakes in
		 * flight have. */
		ramp_target = 0;
		break;
	case CMD_STATS:
		report(CMD_STATS);
		break;
	case CMD_HOLD:
		/* PONG latency from now on: idle, not behind a ramp. */
		report(CMD_HOLD);
		memset(&h_pong, 0, sizeof h_pong);
		pongs_missed = 0;
		break;
	case CMD_CLOSE:
		pinging = 0;
		close_all_conns();
		report(CMD_CLOSE);
		break;
	}
}

static void
loop_once(int timeout_ms)
{
	struct epoll_event ev[512];
	uint64_t now;
	int n;

	n = epoll_wait(epfd, ev, 512, timeout_ms);
	for (int i = 0; i < n; i++) {
		int fd = ev[i].data.fd;
		struct conn *c = fd < conns_cap ? conns[fd] : NULL;
		if (fd == cmdfd)
			on_command();
		else if (c)
			conn_event(c, ev[i].events);
	}
	now = wk_now_us();
	if (now - last_tick_us >= TICK_US)
		tick(now);
}

/* A worker: connections as the controller says, until it goes away. */
void
connbench_worker_run(int id, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	worker_id = id;
	cmdfd = fd;
	signal(SIGINT, SIG_IGN);	/* the controller decides */
	srandom((unsigned)getpid());
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		perror("wkconnbench: worker epoll");
		_exit(1);
	}
	last_tick_us = wk_now_us();
	for (;;) {
		int busy = 0;

		if (pending == CMD_RAMP) {
			long *est = ramp_ws ? &est_ws : &est_tcp;
			long want = ramp_target - *est - inflight;

			for (int i = 0; i < 256 && want > 0 && inflight < connbench_opt.inflight_max; i++, want--)
				if (conn_start(ramp_ws) < 0)
					break;
			if (fail_total - ramp_fail_base > ramp_fail_limit) {
				gave_up = 1;
				ramp_target = 0;
			}
			if (*est >= ramp_target && inflight == 0) {
				pending = 0;
				report(CMD_RAMP);
			}
			busy = want > 0 && inflight < connbench_opt.inflight_max;
		}
		loop_once(busy ? 0 : TICK_US / 1000);
	}
}

/* Before the workers are forked: the server's addresses, the source
 * addresses and the key pool they all use.  0, or the exit status after
 * saying why not. */
int
connbench_worker_init(void)
{
	dst_tcp.sin_family = AF_INET;
	dst_tcp.sin_port = htons((uint16_t)connbench_opt.port);
	if (inet_pton(AF_INET, connbench_opt.host, &dst_tcp.sin_addr) != 1) {
		fprintf(stderr, "wkconnbench: -h %s: an IPv4 address, please\n", connbench_opt.host);
		return 2;
	}
	dst_ws = dst_tcp;
	dst_ws.sin_port = htons((uint16_t)connbench_opt.wsport);
	if (connbench_opt.nsrc > 0 && strncmp(connbench_opt.host, "127.", 4) != 0) {
		fprintf(stderr, "wkconnbench: -h is not loopback: not binding source addresses\n");
		connbench_opt.nsrc = 0;
	}
	srcs = bench_loopback_sources(connbench_opt.nsrc);
	if (connbench_opt.keys > 0) {
		key_pool = calloc((size_t)connbench_opt.keys, sizeof *key_pool);
		for (int i = 0; i < connbench_opt.keys; i++)
			if (wk_crypto_keypair_new(&key_pool[i]) < 0) {
				fprintf(stderr, "wkconnbench: X25519 key generation failed\n");
				return 1;
			}
	}
	return 0;
}
