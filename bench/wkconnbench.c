/* wkconnbench.c - connection benchmark for wk (bench/README.md): many
 * authenticated, idle WKProto connections with heartbeats, and what they
 * cost the server.
 *
 * Event-driven: each worker process runs one epoll loop with non-blocking
 * connects and up to -c handshakes in flight.  There are as many workers as
 * the descriptor limit needs (-j at least): a process may not hold more
 * than RLIMIT_NOFILE sockets, and without CAP_SYS_RESOURCE the hard limit
 * cannot be raised.  Each client socket is bound to 127.0.0.(2+i)
 * round-robin (IP_BIND_ADDRESS_NO_PORT: the port is picked per 4-tuple at
 * connect time) to get past 64k connections on loopback.  Every connection
 * sends CONNECT with a real X25519 public key, waits for CONNACK reason 1
 * and derives the AES key from the server's key exactly as a client does,
 * so the server really did the key agreement.
 *
 * The controller (the first process) tells the workers to ramp to each
 * step over a SOCK_SEQPACKET pair; when all have, and nothing is in flight,
 * it waits until the brokers count the same connections, then samples the
 * server: RSS and PSS (/proc/PID/smaps_rollup) summed over wk-master and
 * every child (from `wk-master -c status -r`), minus a baseline taken
 * before the first connection.  Per step: set-up rate, handshake latency
 * p50/p99, server and generator CPU.  Then it holds the connections with
 * PINGs (-d), measures again (idle vs after PINGs), adds -W WebSocket
 * connections if asked (a TCP vs a WebSocket connection, same server, same
 * run), closes everything and checks the server let go of them, and
 * reconnects -x times (churn).
 *
 * Prints a table and a summary; -o writes a CSV for a plot.  Not a test:
 * it asserts nothing about time.  One file of two halves (worker, then
 * controller) so that the benchmark stays a single program. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "bench_hist.h"
#include "wk_time.h"
#include "wkproto.h"
#include "wk_crypto.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define TICK_US		10000	/* PINGs are sent this often */
#define TIMEOUT_TICKS	10	/* handshake timeouts are looked for every 10 ticks */
#define MAX_STEPS	64
#define MAX_CYCLES	16
#define MAX_PROCS	128
#define MAX_FAILS	48
#define MAX_WORKERS	64
#define FD_RESERVE	64	/* descriptors a worker keeps for itself */
/* "dGhlIHNhbXBsZSBub25jZQ==" is RFC 6455's example key; its accept value: */
#define WS_KEY		"dGhlIHNhbXBsZSBub25jZQ=="
#define WS_ACCEPT	"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

static struct {
	const char	*host, *config, *master, *csv, *uid_prefix, *steps;
	int		 port, wsport, nsrc, inflight_max, version, keys, jobs;
	int		 hold_s, ping_s, timeout_s, settle_s, cycles, verbose;
	long		 n, nws;
} o = {
	.host = "127.0.0.1", .port = 5100, .n = 50000, .nsrc = 4,
	.inflight_max = 256, .version = 5, .hold_s = 60, .ping_s = 20,
	.timeout_s = 10, .settle_s = 10, .jobs = 1,
	.steps = "1000,5000,10000,20000,30000,40000,50000",
};


/*
 * Failures, counted by cause.
 */
struct fail {
	char		 what[96];
	long		 n;
};
static struct fail fails[MAX_FAILS];
static int nfails;
static long fail_total;

static void
add_fail(struct fail *tab, int *ntab, const char *what, long n)
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
	add_fail(fails, &nfails, what, 1);
}

/*
 * What the controller and the workers say to each other, one datagram each
 * way per command.  A reply carries the worker's cumulative counts and the
 * handshake histogram of the phase.
 */
enum { CMD_RAMP = 1, CMD_HALT, CMD_STATS, CMD_HOLD, CMD_CLOSE };

struct cmd {
	int		 op, ws;
	long		 target, fail_limit;	/* CMD_RAMP: this worker's share */
};

struct report {
	int		 op, gave_up;
	long		 est_tcp, est_ws, inflight;
	uint64_t	 t_start, t_last;	/* the phase: start, last CONNACK */
	double		 cpu;
	long		 pings, pongs, missed, fail_total;
	int		 nfails;
	struct fail	 fails[MAX_FAILS];
	struct hist	 phase, pong;
};

/*
 * A worker: client connections on one epoll loop.
 */
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
	uint8_t frame[16 + 512];
	size_t h = 2;
	uint32_t mask;

	if (!c->ws)
		return conn_write(c, p, n);
	if (n > 512)
		return -1;
	frame[0] = 0x82;	/* FIN, binary */
	if (n < 126)
		frame[1] = (uint8_t)(0x80 | n);
	else {
		frame[1] = 0x80 | 126;
		frame[2] = (uint8_t)(n >> 8);
		frame[3] = (uint8_t)n;
		h = 4;
	}
	mask = (uint32_t)random();
	memcpy(frame + h, &mask, 4);
	for (size_t i = 0; i < n; i++)
		frame[h + 4 + i] = p[i] ^ frame[h + (i & 3)];
	return conn_write(c, frame, h + 4 + n);
}

static int
send_connect(struct conn *c)
{
	struct wkproto_packet pkt = { .type = WKPROTO_CONNECT };
	char uid[64], dev[32], key64[WK_CRYPTO_KEY_B64_LEN];
	uint8_t buf[512];
	ssize_t n;

	snprintf(uid, sizeof uid, "%s%d_%u", o.uid_prefix, worker_id, c->seq);
	snprintf(dev, sizeof dev, "dev%d_%u", worker_id, c->seq);
	wk_b64_encode(c->kp.pub, sizeof c->kp.pub, key64);
	pkt.connect.version = (uint8_t)o.version;
	pkt.connect.device_flag = WKPROTO_DEVICE_APP;
	pkt.connect.device_id = wk_str_of(dev);
	pkt.connect.uid = wk_str_of(uid);
	pkt.connect.token = wk_str_of("bench");
	pkt.connect.client_timestamp = wk_wall_ms();
	pkt.connect.client_key = wk_str_n(key64, sizeof key64);
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
	int n;

	n = snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Key: " WS_KEY "\r\n"
	    "Sec-WebSocket-Version: 13\r\n\r\n", o.host, o.wsport);
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
	uint8_t server_pub[WK_CRYPTO_KEY_LEN], shared[WK_CRYPTO_KEY_LEN];
	char aes_key[WK_CRYPTO_AES_LEN];
	uint64_t now = wk_now_us();

	if (p->type != WKPROTO_CONNACK) {
		conn_fail(c, "%s instead of CONNACK", wkproto_type_name(p->type));
		return -1;
	}
	if (a->reason_code != WKPROTO_REASON_SUCCESS) {
		conn_fail(c, "CONNACK reason %u", a->reason_code);
		return -1;
	}
	if (a->salt.len != WK_CRYPTO_SALT_LEN ||
	    wk_crypto_decode_key(a->server_key.p, a->server_key.len, server_pub) < 0 ||
	    wk_crypto_shared(c->kp.priv, server_pub, shared) < 0 ||
	    wk_crypto_derive_key(shared, aes_key) < 0) {
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
	int rc, version = o.version < WKPROTO_VERSION_MAX ? o.version : WKPROTO_VERSION_MAX;

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

/* The next whole packet in c->buf: its length, 0 if incomplete, -1 if bad.
 * On WS *hdr is the frame header length and *op its opcode. */
static int
next_packet(struct conn *c, size_t *hdr, size_t *plen, int *op)
{
	struct wkproto_frame f;
	const uint8_t *b = c->buf;
	size_t n = c->len, len, h = 2;
	int rc;

	if (!c->ws) {
		rc = wkproto_split(b, n, 0, &f);
		if (rc == WKPROTO_ENEED)
			return 0;
		if (rc < 0)
			return -1;
		*hdr = 0;
		*plen = f.total;
		*op = 2;
		return 1;
	}
	if (n < 2)
		return 0;
	if (b[1] & 0x80)
		return -1;	/* servers never mask */
	len = b[1] & 0x7f;
	if (len == 126) {
		if (n < 4)
			return 0;
		len = (size_t)b[2] << 8 | b[3];
		h = 4;
	} else if (len == 127)
		return -1;	/* nothing this big is expected */
	if (n < h + len)
		return 0;
	*hdr = h;
	*plen = len;
	*op = b[0] & 0x0f;
	return 1;
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
			*end = '\0';
			if (strncmp((char *)c->buf, "HTTP/1.1 101", 12) != 0 ||
			    strstr((char *)c->buf, WS_ACCEPT) == NULL) {
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
		if ((rc = next_packet(c, &hdr, &plen, &op)) == 0)
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
	if (o.keys == 0) {
		if (wk_crypto_keypair_new(&c->kp) < 0) {
			conn_fail(c, "X25519 key generation failed");
			return 0;
		}
	} else
		c->kp = key_pool[seq % (uint32_t)o.keys];
	if (o.nsrc > 0) {
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
		if (bind(fd, (struct sockaddr *)&srcs[(seq + (uint32_t)worker_id) % (uint32_t)o.nsrc],
		    sizeof srcs[0]) < 0) {
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
		if (conns[fd]) {
			struct conn *c = conns[fd];
			if (c->state != C_READY)
				inflight--;
			else if (c->ws)
				est_ws--;
			else
				est_tcp--;
			epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
			close(fd);
			free(c);
			conns[fd] = NULL;
		}
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
			    now - c->t0 > (uint64_t)o.timeout_s * 1000000)
				conn_fail(c, "no answer in %d s", o.timeout_s);
		}
	if (!pinging || o.ping_s <= 0 || fd_hwm == 0)
		return;
	/* Walk the fd table once per interval: every ready connection gets
	 * one PING per interval, spread evenly (no bursts). */
	ping_credit += (double)fd_hwm * elapsed / (o.ping_s * 1e6);
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
static void
worker_run(int id, int fd)
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

			for (int i = 0; i < 256 && want > 0 && inflight < o.inflight_max; i++, want--)
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
			busy = want > 0 && inflight < o.inflight_max;
		}
		loop_once(busy ? 0 : TICK_US / 1000);
	}
}

/*
 * The controller: the workers.
 */
static struct worker {
	pid_t		 pid;
	int		 fd;
	struct report	 r;		/* the last reply */
} workers[MAX_WORKERS];
static int nworkers;
static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	stop = 1;
}

static void
spawn_workers(void)
{
	for (int w = 0; w < nworkers; w++) {
		int sv[2], sz = (int)sizeof(struct report) * 4;

		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
			perror("wkconnbench: socketpair");
			exit(1);
		}
		setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
		setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
		fflush(stdout);
		switch (workers[w].pid = fork()) {
		case -1:
			perror("wkconnbench: fork");
			exit(1);
		case 0:
			close(sv[0]);
			for (int i = 0; i < w; i++)
				close(workers[i].fd);
			worker_run(w, sv[1]);
			_exit(0);
		}
		close(sv[1]);
		workers[w].fd = sv[0];
	}
}

/* This worker's share of a total. */
static long
share(long total, int w)
{
	return total * (w + 1) / nworkers - total * w / nworkers;
}

static void
send_all(int op, int ws, long target, long fail_limit)
{
	for (int w = 0; w < nworkers; w++) {
		struct cmd c = { op, ws, share(target, w), fail_limit / nworkers + 1 };
		if (send(workers[w].fd, &c, sizeof c, MSG_NOSIGNAL) != (ssize_t)sizeof c) {
			fprintf(stderr, "wkconnbench: worker %d is gone\n", w);
			exit(1);
		}
	}
}

/* Give every worker a command and wait for all the replies.  A ^C while
 * waiting for a ramp halts it (what is in flight still finishes). */
static void
command(int op, int ws, long target, long fail_limit)
{
	static struct report r;
	int got = 0, halted = 0, seen[MAX_WORKERS] = { 0 };

	send_all(op, ws, target, fail_limit);
	while (got < nworkers) {
		struct pollfd pf[MAX_WORKERS];
		int n;

		if (stop && op == CMD_RAMP && !halted) {
			send_all(CMD_HALT, ws, 0, 0);
			halted = 1;
		}
		for (int w = 0; w < nworkers; w++)
			pf[w] = (struct pollfd){ workers[w].fd, POLLIN, 0 };
		if ((n = poll(pf, (nfds_t)nworkers, 500)) <= 0)
			continue;
		for (int w = 0; w < nworkers; w++) {
			if (!(pf[w].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t len = recv(workers[w].fd, &r, sizeof r, 0);
			if (len <= 0) {
				fprintf(stderr, "wkconnbench: worker %d died\n", w);
				exit(1);
			}
			if (len == (ssize_t)sizeof r && r.op == op && !seen[w]) {
				workers[w].r = r;
				seen[w] = 1;
				got++;
			}
		}
	}
}

/* The workers' last replies, added up. */
struct merged {
	long		 est_tcp, est_ws, inflight, pings, pongs, missed, fail_total;
	uint64_t	 t_start, t_last;
	double		 cpu;
	int		 gave_up;
	struct hist	 phase, pong;
};

static void
merge(struct merged *m)
{
	memset(m, 0, sizeof *m);
	for (int w = 0; w < nworkers; w++) {
		const struct report *r = &workers[w].r;
		m->est_tcp += r->est_tcp;
		m->est_ws += r->est_ws;
		m->inflight += r->inflight;
		m->pings += r->pings;
		m->pongs += r->pongs;
		m->missed += r->missed;
		m->fail_total += r->fail_total;
		m->cpu += r->cpu;
		m->gave_up |= r->gave_up;
		if (w == 0 || r->t_start < m->t_start)
			m->t_start = r->t_start;
		if (r->t_last > m->t_last)
			m->t_last = r->t_last;
		hist_merge(&m->phase, &r->phase);
		hist_merge(&m->pong, &r->pong);
	}
	m->cpu += cpu_seconds(RUSAGE_SELF);
}

/* Fresh figures from every worker (their CPU, above all). */
static void
stats(struct merged *m)
{
	command(CMD_STATS, 0, 0, 0);
	merge(m);
}

/*
 * The server: its processes from `wk-master -c status -r`, their memory
 * from /proc/PID/smaps_rollup and CPU from /proc/PID/stat.
 */
enum { R_BROKER, R_MAILBOX, R_OTHER, R_N };

struct sproc {
	char		 role[16];
	int		 instance, pid, restarts, ready;
	long		 connections, presence;	/* -1 when not reported */
	long		 rss, pss, pss_anon, pss_shmem;	/* KiB */
	double		 cpu;			/* seconds */
};

struct sample {
	int		 nproc;
	struct sproc	 p[MAX_PROCS];
	/* KiB.  own = Pss_Anon + Pss_Shmem: the heap (Berkeley DB regions are
	 * DB_PRIVATE, so on the heap too) and the presence table, without the
	 * file-backed pages (code), whose PSS moves with whatever else on the
	 * machine maps the same libraries. */
	long		 rss, pss, own, pss_shmem, role_own[R_N];
	double		 cpu, role_cpu[R_N];
	long		 connections, presence;
	int		 restarts;
};

static int
role_of(const char *r)
{
	return strcmp(r, "broker") == 0 ? R_BROKER : strcmp(r, "mailbox") == 0 ? R_MAILBOX :
	    R_OTHER;
}

static void
read_mem(struct sproc *p)
{
	char path[64], line[256];
	FILE *f;
	long v;

	p->rss = p->pss = p->pss_anon = p->pss_shmem = 0;
	snprintf(path, sizeof path, "/proc/%d/smaps_rollup", p->pid);
	if ((f = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof line, f)) {
		if (sscanf(line, "Rss: %ld kB", &v) == 1)
			p->rss = v;
		else if (sscanf(line, "Pss: %ld kB", &v) == 1)
			p->pss = v;
		else if (sscanf(line, "Pss_Anon: %ld kB", &v) == 1)
			p->pss_anon = v;
		else if (sscanf(line, "Pss_Shmem: %ld kB", &v) == 1)
			p->pss_shmem = v;
	}
	fclose(f);
}

static void
read_cpu(struct sproc *p)
{
	char path[64], buf[1024], *s;
	unsigned long ut, st;
	FILE *f;
	size_t n;

	p->cpu = 0;
	snprintf(path, sizeof path, "/proc/%d/stat", p->pid);
	if ((f = fopen(path, "r")) == NULL)
		return;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* Fields after the command name (which may hold spaces): state is 3rd. */
	if ((s = strrchr(buf, ')')) == NULL ||
	    sscanf(s + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return;
	p->cpu = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Ask wk-master for its processes and measure them; -1 if it did not answer.
 * /proc is read after the status command has exited, so its own pages
 * (it maps the same libraries) do not skew the PSS of the server's. */
static int
sample_server(struct sample *s)
{
	char cmd[1024], line[2048];
	FILE *f;

	memset(s, 0, sizeof *s);
	snprintf(cmd, sizeof cmd, "'%s' -c status -r -f '%s' 2>/dev/null", o.master, o.config);
	if ((f = popen(cmd, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f) && s->nproc < MAX_PROCS) {
		struct sproc *p = &s->p[s->nproc];
		char state[32] = "";
		memset(p, 0, sizeof *p);
		p->connections = p->presence = -1;
		for (char *save, *t = strtok_r(line, " \n", &save); t; t = strtok_r(NULL, " \n", &save)) {
			sscanf(t, "role=%15s", p->role);
			sscanf(t, "instance=%d", &p->instance);
			sscanf(t, "pid=%d", &p->pid);
			sscanf(t, "restarts=%d", &p->restarts);
			sscanf(t, "connections=%ld", &p->connections);
			sscanf(t, "presence_used=%ld", &p->presence);
			sscanf(t, "state=%31s", state);
		}
		p->ready = strcmp(state, "ready") == 0 || strcmp(state, "running") == 0;
		if (p->pid > 0)
			s->nproc++;
	}
	pclose(f);
	for (int i = 0; i < s->nproc; i++) {
		struct sproc *p = &s->p[i];
		int r = role_of(p->role);
		read_mem(p);
		read_cpu(p);
		s->rss += p->rss;
		s->pss += p->pss;
		s->own += p->pss_anon + p->pss_shmem;
		s->pss_shmem += p->pss_shmem;
		s->role_own[r] += p->pss_anon + p->pss_shmem;
		s->cpu += p->cpu;
		s->role_cpu[r] += p->cpu;
		s->connections += p->connections > 0 ? p->connections : 0;
		s->presence += p->presence > 0 ? p->presence : 0;
		s->restarts += p->restarts;
	}
	return s->nproc > 0 ? 0 : -1;
}

/* Sample until the server counts `want` connections (and presence slots),
 * or settle_s passes; 0 if it agreed. */
static int
settle(struct sample *s, long want)
{
	uint64_t end = wk_now_us() + (uint64_t)o.settle_s * 1000000;

	for (;;) {
		if (sample_server(s) < 0) {
			fprintf(stderr, "wkconnbench: wk-master -c status -f %s: no answer\n",
			    o.config);
			return -1;
		}
		if (s->connections == want && s->presence == want)
			return 0;
		if (stop || wk_now_us() >= end)
			return -1;
		usleep(200000);
	}
}

/* Sleep, waking for ^C. */
static void
nap(uint64_t us)
{
	uint64_t end = wk_now_us() + us;

	while (!stop && wk_now_us() < end)
		usleep(100000);
}

/*
 * Rows of the report.
 */
struct row {
	char		 phase[16];
	long		 conns, added;
	double		 secs, rate, p50, p99;	/* rate per s; latency in µs */
	double		 gen_cpu, srv_cpu, brk_cpu, mbx_cpu;	/* % of one core */
	struct sample	 s;
	long		 d_rss, d_pss, d_own;	/* KiB over the baseline */
	int		 agreed;
};

static struct row rows[MAX_STEPS + 4 + 2 * MAX_CYCLES];
static int nrows;
static struct sample base;
static struct hist h_all;		/* handshakes of the "ramp" rows */
static struct merged last;		/* the last figures from the workers */
static struct merged held;		/* ... at the end of the hold */

static double
per_conn(long kib, long n)
{
	return n > 0 ? (double)kib * 1024.0 / (double)n : 0;
}

static void
print_header(void)
{
	printf("\n%-7s %6s %6s %6s %6s %6s %6s %4s %4s %4s %4s %7s %7s %6s %6s %6s %5s %5s %5s %6s\n",
	    "phase", "conns", "added", "secs", "rate/s", "p50ms", "p99ms", "gen%", "srv%",
	    "brk%", "mbx%", "RSS_MiB", "PSS_MiB", "RSS/c", "PSS/c", "own/c", "brk", "mbx", "oth",
	    "server");
}

static void
print_row(const struct row *r)
{
	printf("%-7s %6ld %6ld %6.2f %6.0f %6.2f %6.2f %4.0f %4.0f %4.0f %4.0f %7.1f %7.1f %6.0f %6.0f "
	    "%6.0f %5.0f %5.0f %5.0f %6ld%s\n", r->phase, r->conns, r->added, r->secs, r->rate,
	    r->p50 / 1000, r->p99 / 1000, r->gen_cpu, r->srv_cpu, r->brk_cpu, r->mbx_cpu,
	    r->s.rss / 1024.0, r->s.pss / 1024.0, per_conn(r->d_rss, r->conns),
	    per_conn(r->d_pss, r->conns), per_conn(r->d_own, r->conns),
	    per_conn(r->s.role_own[R_BROKER] - base.role_own[R_BROKER], r->conns),
	    per_conn(r->s.role_own[R_MAILBOX] - base.role_own[R_MAILBOX], r->conns),
	    per_conn(r->s.role_own[R_OTHER] - base.role_own[R_OTHER], r->conns),
	    r->s.connections, r->agreed ? "" : " (!)");
	if (o.verbose)
		for (int i = 0; i < r->s.nproc; i++) {
			const struct sproc *p = &r->s.p[i];
			printf("        %-8s %2d pid %-7d RSS %8ld KiB  PSS %8ld KiB (anon %7ld, "
			    "shmem %6ld)  conns %ld presence %ld restarts %d\n", p->role,
			    p->instance, p->pid, p->rss, p->pss, p->pss_anon, p->pss_shmem,
			    p->connections, p->presence, p->restarts);
		}
	fflush(stdout);
}

/* Close a row: the server settled and sampled, deltas, CPU shares from
 * the figures at its start (s0, m0) over `secs`, or, if t0 is not 0, over
 * the time from t0 until the server had settled (which is then the row's
 * time too). */
static void
finish_row(struct row *r, const struct sample *s0, const struct merged *m0, double secs,
    uint64_t t0, long want)
{
	double wall;

	stats(&last);
	r->agreed = settle(&r->s, want) == 0;
	if (t0)
		secs = r->secs = (double)(wk_now_us() - t0) / 1e6;
	wall = secs > 0 ? secs : 1;
	r->d_rss = r->s.rss - base.rss;
	r->d_pss = r->s.pss - base.pss;
	r->d_own = r->s.own - base.own;
	r->gen_cpu = 100 * (last.cpu - m0->cpu) / wall;
	if (s0->nproc > 0 && r->s.nproc > 0) {
		r->srv_cpu = 100 * (r->s.cpu - s0->cpu) / wall;
		r->brk_cpu = 100 * (r->s.role_cpu[R_BROKER] - s0->role_cpu[R_BROKER]) / wall;
		r->mbx_cpu = 100 * (r->s.role_cpu[R_MAILBOX] - s0->role_cpu[R_MAILBOX]) / wall;
	}
	print_row(r);
	nrows++;
}

/* Ramp the workers to `target` connections of a kind; the phase's row. */
static void
ramp_to(const char *phase, long target, int ws, long fail_limit)
{
	struct row *r = &rows[nrows];
	struct sample s0;
	struct merged m0, m;
	long start_est;

	snprintf(r->phase, sizeof r->phase, "%s", phase);
	sample_server(&s0);
	stats(&m0);
	start_est = ws ? m0.est_ws : m0.est_tcp;
	command(CMD_RAMP, ws, target, fail_limit);
	merge(&m);
	r->conns = m.est_tcp + m.est_ws;
	r->added = (ws ? m.est_ws : m.est_tcp) - start_est;
	r->secs = (double)(m.t_last - m.t_start) / 1e6;
	r->rate = r->secs > 0 ? (double)r->added / r->secs : 0;
	r->p50 = hist_pct(&m.phase, 0.50);
	r->p99 = hist_pct(&m.phase, 0.99);
	if (strcmp(phase, "ramp") == 0)
		hist_merge(&h_all, &m.phase);
	if (m.gave_up) {
		fprintf(stderr, "wkconnbench: too many failures (%ld): giving up\n", m.fail_total);
		stop = 1;
	}
	finish_row(r, &s0, &m0, r->secs, 0, r->conns);
}

/* Hold the connections for hold_s with PINGs; the row after it. */
static void
hold(void)
{
	struct row *r = &rows[nrows];
	struct sample s0;
	struct merged m0;
	uint64_t t0;

	sample_server(&s0);
	command(CMD_HOLD, 0, 0, 0);
	merge(&m0);
	t0 = wk_now_us();
	nap((uint64_t)o.hold_s * 1000000);	/* a ^C cuts it short */
	stats(&last);
	held = last;
	snprintf(r->phase, sizeof r->phase, "pinged");
	r->conns = last.est_tcp + last.est_ws;
	r->secs = (double)(wk_now_us() - t0) / 1e6;
	r->p50 = hist_pct(&last.pong, 0.5);	/* PONG latency in this row */
	r->p99 = hist_pct(&last.pong, 0.99);
	finish_row(r, &s0, &m0, r->secs, 0, r->conns);
}

/* Close every connection; the server must let go of all of them. */
static void
close_all(void)
{
	struct row *r = &rows[nrows];
	struct sample s0;
	struct merged m0;
	uint64_t t0;

	sample_server(&s0);
	stats(&m0);
	t0 = wk_now_us();
	command(CMD_CLOSE, 0, 0, 0);
	snprintf(r->phase, sizeof r->phase, "closed");
	r->conns = 0;
	finish_row(r, &s0, &m0, 0, t0, 0);	/* secs: until the server let go */
}

/*
 * Setup.
 */
/* Raise the descriptor limit towards `need` (the hard limit too, with
 * CAP_SYS_RESOURCE); what it is now. */
static long
raise_nofile(long need)
{
	struct rlimit rl;

	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur >= (rlim_t)need)
		return (long)rl.rlim_cur;
	if (rl.rlim_max < (rlim_t)need) {
		struct rlimit hard = { (rlim_t)need, (rlim_t)need };
		if (setrlimit(RLIMIT_NOFILE, &hard) == 0)
			return need;
	}
	rl.rlim_cur = rl.rlim_max < (rlim_t)need ? rl.rlim_max : (rlim_t)need;
	setrlimit(RLIMIT_NOFILE, &rl);
	getrlimit(RLIMIT_NOFILE, &rl);
	return (long)rl.rlim_cur;
}

/* Steps: "a,b,c", absolute counts; -n is always the last. */
static int
parse_steps(long *v)
{
	int n = 0;

	for (const char *p = o.steps; *p && n < MAX_STEPS - 1; ) {
		char *end;
		long x = strtol(p, &end, 10);
		if (end == p)
			break;
		if (x > 0 && x < o.n && (n == 0 || x > v[n - 1]))
			v[n++] = x;
		p = *end == ',' ? end + 1 : end;
	}
	v[n++] = o.n;
	return n;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: wkconnbench -m config [-h host] [-p port] [-n conns] [-r steps]\n"
	    "           [-s srcaddrs] [-c inflight] [-j workers] [-d hold_s] [-i ping_s]\n"
	    "           [-v version] [-k keys] [-w wsport -W wsconns] [-T timeout_s]\n"
	    "           [-S settle_s] [-M wk-master] [-u uidprefix] [-o csv] [-x cycles] [-V]\n"
	    "  -r  report at these counts: \"1000,5000,...\" (-n is always the last)\n"
	    "  -c  handshakes in flight at most, per worker process\n"
	    "  -j  worker processes at least (more if RLIMIT_NOFILE needs them)\n"
	    "  -s  bind client sockets to 127.0.0.(2+i), i < srcaddrs (0: no bind)\n"
	    "  -k  0: a fresh X25519 key pair per connection; N: reuse N key pairs\n"
	    "  -W  after the TCP ramp and hold, add this many WebSocket connections\n"
	    "  -x  then this many times: reconnect all -n at once, close (churn)\n"
	    "  -V  per-process figures at every row\n");
	exit(2);
}

static void
print_summary(void)
{
	struct fail all[MAX_FAILS];
	int nall = 0;
	const struct row *top = NULL, *idle = NULL, *pinged = NULL, *ws = NULL, *closed = NULL;
	const struct row *first = NULL;
	const struct row *closed1 = NULL, *again = NULL;

	memset(all, 0, sizeof all);
	int ncycles = 0;
	double ramp_secs = 0;
	long ramp_conns = 0;

	for (int i = 0; i < nrows; i++) {
		const struct row *r = &rows[i];
		if (strcmp(r->phase, "ramp") == 0) {
			ramp_secs += r->secs;
			ramp_conns += r->added;
			top = idle = r;
			if (first == NULL)
				first = r;
		} else if (strcmp(r->phase, "pinged") == 0)
			pinged = r;
		else if (strcmp(r->phase, "ws") == 0)
			ws = r;
		else if (strcmp(r->phase, "again") == 0) {
			again = r;
			ncycles++;
		} else if (strcmp(r->phase, "closed") == 0) {
			closed = r;
			if (closed1 == NULL)
				closed1 = r;
		}
	}
	printf("\nsummary (%s, protocol v%d, %s, %d worker process%s)\n", o.host, o.version,
	    o.keys ? "client key pairs reused from a pool" :
	    "a fresh client X25519 key pair per connection", nworkers, nworkers > 1 ? "es" : "");
	printf("  baseline server: %d processes, RSS %.1f MiB, PSS %.1f MiB\n", base.nproc,
	    base.rss / 1024.0, base.pss / 1024.0);
	if (top) {
		double pss_pc = per_conn(top->d_pss, top->conns);
		printf("  connections: %ld TCP up (server counts %ld, presence %ld)\n",
		    top->conns, top->s.connections, top->s.presence);
		printf("  set-up rate: %.0f/s overall (%ld in %.2f s of ramp, CONNECT..CONNACK "
		    "with X25519 on both ends)  [goal >= 5000/s: %s]\n",
		    ramp_secs > 0 ? ramp_conns / ramp_secs : 0, ramp_conns, ramp_secs,
		    ramp_secs > 0 && ramp_conns / ramp_secs >= 5000 ? "met" : "NOT met");
		printf("  handshake latency: p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms "
		    "(connect() to CONNACK, %d in flight at most)\n", hist_pct(&h_all, 0.5) / 1000,
		    hist_pct(&h_all, 0.99) / 1000, hist_pct(&h_all, 0.999) / 1000,
		    o.inflight_max * nworkers);
		printf("  server memory per idle connection at %ld, over the baseline: PSS %.0f B, "
		    "RSS %.0f B, heap+shm PSS %.0f B  [goal <= 8192 B: %s]\n", top->conns, pss_pc,
		    per_conn(top->d_rss, top->conns), per_conn(top->d_own, top->conns),
		    pss_pc <= 8192 ? "met" : "NOT met");
		printf("    heap+shm PSS by process kind: broker %.0f B, mailbox %.0f B, "
		    "other %.0f B; of all, the presence table (shm) %.0f B\n",
		    per_conn(top->s.role_own[R_BROKER] - base.role_own[R_BROKER], top->conns),
		    per_conn(top->s.role_own[R_MAILBOX] - base.role_own[R_MAILBOX], top->conns),
		    per_conn(top->s.role_own[R_OTHER] - base.role_own[R_OTHER], top->conns),
		    per_conn(top->s.pss_shmem - base.pss_shmem, top->conns));
		if (first && first != top)
			printf("    marginal, from %ld to %ld connections (the slope of the curve): "
			    "PSS %.0f B, heap+shm %.0f B per connection\n", first->conns, top->conns,
			    per_conn(top->s.pss - first->s.pss, top->conns - first->conns),
			    per_conn(top->s.own - first->s.own, top->conns - first->conns));
		printf("    all-in (the whole server's PSS / connections): %.0f B; the baseline "
		    "holds %.1f MiB of shared memory (presence table, allocated by capacity)\n",
		    per_conn(top->s.pss, top->conns), base.pss_shmem / 1024.0);
	}
	if (pinged && idle)
		printf("  idle vs after PINGs: PSS %.0f -> %.0f B/conn, heap+shm %.0f -> %.0f; "
		    "%ld PINGs and %ld PONGs since the start, %ld unanswered at the next PING "
		    "during the hold; PONG p50 %.2f ms p99 %.2f ms (idle)\n",
		    per_conn(idle->d_pss, idle->conns), per_conn(pinged->d_pss, pinged->conns),
		    per_conn(idle->d_own, idle->conns), per_conn(pinged->d_own, pinged->conns),
		    held.pings, held.pongs, held.missed, hist_pct(&held.pong, 0.5) / 1000,
		    hist_pct(&held.pong, 0.99) / 1000);
	if (ws && ws->added > 0) {
		const struct row *before = pinged ? pinged : idle;
		printf("  TCP vs WebSocket, PSS per connection: %.0f vs %.0f B (heap+shm %.0f vs "
		    "%.0f B; %ld WebSocket connections added on top, %.0f/s, handshake p50 %.2f ms "
		    "p99 %.2f ms)\n",
		    before ? per_conn(before->d_pss, before->conns) : 0,
		    per_conn(ws->s.pss - (before ? before->s.pss : base.pss), ws->added),
		    before ? per_conn(before->d_own, before->conns) : 0,
		    per_conn(ws->s.own - (before ? before->s.own : base.own), ws->added),
		    ws->added, ws->rate, ws->p50 / 1000, ws->p99 / 1000);
	}
	if (closed)
		printf("  after closing all: server counts %ld connections, %ld presence slots; "
		    "%d restarts; heap+shm %.1f MiB over the baseline (%s)\n",
		    closed->s.connections, closed->s.presence, closed->s.restarts,
		    closed->d_own / 1024.0,
		    closed->s.connections == 0 && closed->s.presence == 0 ?
		    "all released" : "NOT all released");
	/* Freed memory that the allocator keeps is not a leak if reconnecting
	 * reuses it: compare with the peak before the first close. */
	if (again && closed1 && closed1 > rows)
		printf("  churn: heap+shm over the baseline %.1f MiB at the peak (%ld connections), "
		    "%.1f MiB after the first close, %.1f MiB with %ld connected again after %d "
		    "cycle%s, %.1f MiB after the last close\n", closed1[-1].d_own / 1024.0,
		    closed1[-1].conns, closed1->d_own / 1024.0, again->d_own / 1024.0, again->conns,
		    ncycles, ncycles > 1 ? "s" : "", closed->d_own / 1024.0);
	printf("  generator CPU: %.1f s in all (user+sys, every worker)\n", last.cpu);
	for (int w = 0; w < nworkers; w++)
		for (int i = 0; i < workers[w].r.nfails; i++)
			add_fail(all, &nall, workers[w].r.fails[i].what, workers[w].r.fails[i].n);
	printf("  failures: %ld%s\n", last.fail_total, last.fail_total ? ", by cause:" : "");
	for (int i = 0; i < nall; i++)
		printf("    %8ld  %s\n", all[i].n, all[i].what);
}

static void
write_csv(void)
{
	FILE *f;

	if (o.csv == NULL)
		return;
	if ((f = fopen(o.csv, "w")) == NULL) {
		fprintf(stderr, "wkconnbench: %s: %s\n", o.csv, strerror(errno));
		return;
	}
	/* The first four columns are the plot; the rest say more. */
	fprintf(f, "connections,server_rss_kib,server_pss_kib,per_conn_bytes,"
	    "per_conn_rss_bytes,per_conn_heap_shm_bytes,phase,setup_rate,p50_us,p99_us,"
	    "heap_shm_kib,broker_heap_shm_kib,mailbox_heap_shm_kib,other_heap_shm_kib\n");
	fprintf(f, "0,%ld,%ld,0,0,0,baseline,0,0,0,%ld,%ld,%ld,%ld\n", base.rss, base.pss,
	    base.own, base.role_own[R_BROKER], base.role_own[R_MAILBOX], base.role_own[R_OTHER]);
	for (int i = 0; i < nrows; i++) {
		const struct row *r = &rows[i];
		fprintf(f, "%ld,%ld,%ld,%.0f,%.0f,%.0f,%s,%.0f,%.0f,%.0f,%ld,%ld,%ld,%ld\n",
		    r->conns, r->s.rss, r->s.pss, per_conn(r->d_pss, r->conns),
		    per_conn(r->d_rss, r->conns), per_conn(r->d_own, r->conns), r->phase, r->rate,
		    r->p50, r->p99, r->s.own, r->s.role_own[R_BROKER], r->s.role_own[R_MAILBOX],
		    r->s.role_own[R_OTHER]);
	}
	fclose(f);
}

int
main(int argc, char **argv)
{
	static char master_default[4096], prefix[32];
	long steps[MAX_STEPS], nofile, per_worker, fail_limit;
	int nsteps, ch;

	while ((ch = getopt(argc, argv, "h:p:n:r:s:c:j:m:d:i:v:k:w:W:T:S:M:u:o:x:V")) != -1) {
		switch (ch) {
		case 'h': o.host = optarg; break;
		case 'p': o.port = atoi(optarg); break;
		case 'n': o.n = atol(optarg); break;
		case 'r': o.steps = optarg; break;
		case 's': o.nsrc = atoi(optarg); break;
		case 'c': o.inflight_max = atoi(optarg); break;
		case 'j': o.jobs = atoi(optarg); break;
		case 'm': o.config = optarg; break;
		case 'd': o.hold_s = atoi(optarg); break;
		case 'i': o.ping_s = atoi(optarg); break;
		case 'v': o.version = atoi(optarg); break;
		case 'k': o.keys = atoi(optarg); break;
		case 'w': o.wsport = atoi(optarg); break;
		case 'W': o.nws = atol(optarg); break;
		case 'T': o.timeout_s = atoi(optarg); break;
		case 'S': o.settle_s = atoi(optarg); break;
		case 'M': o.master = optarg; break;
		case 'u': o.uid_prefix = optarg; break;
		case 'o': o.csv = optarg; break;
		case 'x': o.cycles = atoi(optarg); break;
		case 'V': o.verbose = 1; break;
		default: usage();
		}
	}
	if (argc != optind || o.config == NULL || o.n < 1 || o.inflight_max < 1 ||
	    o.version < WKPROTO_VERSION_MIN || o.version > 255 || o.nsrc < 0 || o.nsrc > 250 ||
	    o.keys < 0 || o.timeout_s < 1 || o.cycles < 0 || o.cycles > MAX_CYCLES ||
	    o.jobs < 1 || o.jobs > MAX_WORKERS || o.nws < 0 || (o.nws > 0 && o.wsport <= 0))
		usage();
	if (o.master == NULL) {
		/* The build tree: bench/wkconnbench next to ../wk-master. */
		const char *slash = strrchr(argv[0], '/');
		snprintf(master_default, sizeof master_default, "%.*s../wk-master",
		    slash ? (int)(slash - argv[0] + 1) : 0, argv[0]);
		o.master = access(master_default, X_OK) == 0 ? master_default : "wk-master";
	}
	if (o.uid_prefix == NULL) {
		snprintf(prefix, sizeof prefix, "cb%d_", (int)getpid());
		o.uid_prefix = prefix;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	nsteps = parse_steps(steps);

	/* Enough workers that none needs more descriptors than it may have. */
	nofile = raise_nofile(o.n + o.nws + FD_RESERVE);
	per_worker = nofile - FD_RESERVE;
	if (per_worker < 16) {
		fprintf(stderr, "wkconnbench: RLIMIT_NOFILE is only %ld\n", nofile);
		return 1;
	}
	nworkers = (int)((o.n + o.nws + per_worker - 1) / per_worker);
	if (nworkers < o.jobs)
		nworkers = o.jobs;
	if (nworkers > MAX_WORKERS) {
		fprintf(stderr, "wkconnbench: %ld connections need %d workers at RLIMIT_NOFILE "
		    "%ld; at most %d\n", o.n + o.nws, nworkers, nofile, MAX_WORKERS);
		return 1;
	}

	dst_tcp.sin_family = AF_INET;
	dst_tcp.sin_port = htons((uint16_t)o.port);
	if (inet_pton(AF_INET, o.host, &dst_tcp.sin_addr) != 1) {
		fprintf(stderr, "wkconnbench: -h %s: an IPv4 address, please\n", o.host);
		return 2;
	}
	dst_ws = dst_tcp;
	dst_ws.sin_port = htons((uint16_t)o.wsport);
	if (o.nsrc > 0 && strncmp(o.host, "127.", 4) != 0) {
		fprintf(stderr, "wkconnbench: -h is not loopback: not binding source addresses\n");
		o.nsrc = 0;
	}
	if (o.nsrc > 0) {
		srcs = calloc((size_t)o.nsrc, sizeof *srcs);
		for (int i = 0; i < o.nsrc; i++) {
			srcs[i].sin_family = AF_INET;
			srcs[i].sin_addr.s_addr = htonl(0x7f000002u + (uint32_t)i);
		}
	}
	if (o.keys > 0) {
		key_pool = calloc((size_t)o.keys, sizeof *key_pool);
		for (int i = 0; i < o.keys; i++)
			if (wk_crypto_keypair_new(&key_pool[i]) < 0) {
				fprintf(stderr, "wkconnbench: X25519 key generation failed\n");
				return 1;
			}
	}
	if (settle(&base, 0) < 0 && base.nproc == 0)
		return 1;
	printf("wkconnbench: %ld connections to %s:%d from %d source addresses, %d worker "
	    "process%s (RLIMIT_NOFILE %ld), %d handshakes in flight at most each, protocol v%d, "
	    "%s; server: %d processes, baseline RSS %.1f MiB PSS %.1f MiB\n", o.n, o.host,
	    o.port, o.nsrc ? o.nsrc : 1, nworkers, nworkers > 1 ? "es" : "", nofile,
	    o.inflight_max, o.version, o.keys ? "client keys from a pool" :
	    "a fresh client key pair each", base.nproc, base.rss / 1024.0, base.pss / 1024.0);
	spawn_workers();
	print_header();

	fail_limit = o.n / 10 > 1000 ? o.n / 10 : 1000;
	for (int i = 0; i < nsteps && !stop; i++)
		ramp_to("ramp", steps[i], 0, fail_limit);
	if (!stop && o.hold_s > 0)
		hold();
	if (!stop && o.nws > 0)
		ramp_to("ws", o.nws, 1, fail_limit + o.nws / 10);
	stop = 0;	/* even after a ^C: close, and see the server let go */
	close_all();
	for (int i = 0; i < o.cycles && !stop; i++) {
		ramp_to("again", o.n, 0, fail_limit);
		close_all();
	}
	print_summary();
	write_csv();
	for (int w = 0; w < nworkers; w++)
		close(workers[w].fd);	/* the workers exit on EOF */
	for (int w = 0; w < nworkers; w++)
		waitpid(workers[w].pid, NULL, 0);
	return 0;
}
