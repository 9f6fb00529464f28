/* wkbench.c - message benchmark for wk (bench/README.md, wkbench(1)):
 * PERFORMANCE.md scenarios 1 (durable 1:1 throughput, pipelined), 2
 * (SENDACK and RECV latency at a fixed offered rate, open loop) and 3
 * (group fan-out); scenario 7 is scenario 1 against trees started with
 * processes.perCore 1, 2, 4 (bench/bench.sh).
 *
 * Real clients: every connection does the X25519 handshake, every SEND is
 * AES-encrypted with its msgKey, every RECV is verified (msgKey), decrypted
 * and acknowledged with RECVACK, over TCP or WebSocket.  Users need no
 * tokens (the tree runs with tokenAuthOn: false); groups are made through
 * the HTTP API (POST /channel, /channel/subscriber_add).
 *
 * Event-driven: each worker process runs one epoll loop over its share of
 * the connections and writes what it has queued once per loop iteration
 * (several packets per write).  Workers are forked because a process may
 * hold no more than RLIMIT_NOFILE sockets.  Counters and histograms live
 * in a shared mapping, so the controller prints a progress line every
 * second and sums the histograms at the end.
 *
 * Latency: SENDACK latency is SEND -> SENDACK on the sender; RECV latency
 * is SEND -> RECV at the receiver, from a send time carried inside the
 * encrypted payload (CLOCK_MONOTONIC, one clock for the machine).  In the
 * open-loop scenarios the send time is the time the message was due, not
 * when it went out, so a stall is counted in full (no coordinated
 * omission).  Not a test: it asserts nothing about time. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
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

#define MAX_WORKERS	64
#define FD_RESERVE	64
#define CONNS_PER_WORKER_MAX	18000
#define RING		4096	/* send times kept per sender (power of two) */
#define WS_KEY		"dGhlIHNhbXBsZSBub25jZQ=="
#define WS_ACCEPT	"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

static struct {
	const char	*host, *http, *prefix, *csv, *label;
	int		 scenario, port, wsport, ws, depth, secs, warm, jobs, nsrc;
	int		 payload, quiet, users, drain, verify, cmd;
	long		 n, group, rate;
} o = {
	.host = "127.0.0.1", .http = "127.0.0.1:5001", .scenario = 1, .port = 5100,
	.depth = 16, .secs = 10, .warm = 2, .jobs = 0, .nsrc = 4, .payload = 128,
	.n = 100, .group = 10000, .rate = 0, .drain = 5, .verify = 1,
};


static void
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "wkbench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/*
 * Shared between the controller and the workers.
 */
enum { PH_SETUP, PH_WARM, PH_MEASURE, PH_DRAIN, PH_DONE };

struct wstat {
	int		 ready, failed, exited;
	char		 why[160];
	long		 sent, acked, ack_bad, recvd, recv_bad, seq_gap, seq_dup;
	long		 disconnects, backlog;
	uint64_t	 win_max;	/* largest SENDACK latency since the last progress line */
	double		 cpu;
	struct hist	 h_ack, h_recv;
};

struct shared {
	int		 phase;
	struct wstat	 w[MAX_WORKERS];
};
static struct shared *sh;

#define LOAD(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define STORE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define INC(x, v)	__atomic_store_n(&(x), (x) + (v), __ATOMIC_RELAXED)

/*
 * A client connection of a worker.
 */
enum { R_SENDER = 1, R_RECEIVER = 2 };

struct bc {
	int		 fd;
	uint8_t		 role, ws, dirty, wantout;
	uint32_t	 idx;
	char		 uid[48], to[48];	/* to: where a sender sends */
	uint8_t		 to_type;
	struct wk_crypto_session cs;
	uint32_t	 next_seq;	/* client_seq of the next SEND, from 1 */
	uint32_t	 acked;		/* SENDACKs received */
	uint32_t	 last_mseq;	/* receiver: the last message_seq seen */
	uint64_t	*sent_at;	/* sender: send time by client_seq % RING */
	uint8_t		*in, *out;
	uint32_t	 inlen, incap, outlen, outcap, outoff;
	struct bc	*next_dirty;
};

static struct bc **bcs;		/* this worker's connections */
static int nbc, wid, epfd;
static struct bc **senders;
static int nsenders;
static struct bc *dirty_head;
static struct wstat *me;
static struct sockaddr_in dst;
static int version = WKPROTO_VERSION_MAX;

static void
wfail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(me->why, sizeof me->why, fmt, ap);
	va_end(ap);
	STORE(me->failed, 1);
	exit(1);
}

static void
out_reserve(struct bc *c, size_t n)
{
	if (c->outoff > 0 && c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
	if (c->outlen + n <= c->outcap)
		return;
	if (c->outoff > 0) {
		memmove(c->out, c->out + c->outoff, c->outlen - c->outoff);
		c->outlen -= c->outoff;
		c->outoff = 0;
		if (c->outlen + n <= c->outcap)
			return;
	}
	while (c->outlen + n > c->outcap)
		c->outcap = c->outcap ? c->outcap * 2 : 4096;
	if ((c->out = realloc(c->out, c->outcap)) == NULL)
		wfail("out of memory");
}

static void
mark_dirty(struct bc *c)
{
	if (!c->dirty) {
		c->dirty = 1;
		c->next_dirty = dirty_head;
		dirty_head = c;
	}
}

/* Queue one packet: raw on TCP, one masked binary frame on WebSocket. */
static void
queue_packet(struct bc *c, const struct wkproto_packet *p)
{
	uint8_t tmp[4096];
	ssize_t n;

	if (!c->ws) {
		ssize_t need = wkproto_encoded_size(p, version);
		if (need < 0)
			wfail("encode %s: %s", wkproto_type_name(p->type), wkproto_strerror((int)need));
		out_reserve(c, (size_t)need);
		n = wkproto_encode(p, version, c->out + c->outlen, c->outcap - c->outlen);
		if (n < 0)
			wfail("encode: %s", wkproto_strerror((int)n));
		c->outlen += (uint32_t)n;
	} else {
		uint8_t *f;
		size_t h = 2;
		uint32_t mask = (uint32_t)random();

		if ((n = wkproto_encode(p, version, tmp, sizeof tmp)) < 0)
			wfail("encode: %s", wkproto_strerror((int)n));
		out_reserve(c, (size_t)n + 8);
		f = c->out + c->outlen;
		f[0] = 0x82;
		if (n < 126)
			f[1] = (uint8_t)(0x80 | n);
		else {
			f[1] = 0x80 | 126;
			f[2] = (uint8_t)(n >> 8);
			f[3] = (uint8_t)n;
			h = 4;
		}
		memcpy(f + h, &mask, 4);
		for (ssize_t i = 0; i < n; i++)
			f[h + 4 + i] = tmp[i] ^ f[h + (i & 3)];
		c->outlen += (uint32_t)(h + 4 + (size_t)n);
	}
	mark_dirty(c);
}

/* Write what is queued; EAGAIN leaves the rest for EPOLLOUT. */
static void
flush(struct bc *c)
{
	while (c->outoff < c->outlen) {
		ssize_t w = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
		if (w > 0) {
			c->outoff += (uint32_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			if (!c->wantout) {
				struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };
				c->wantout = 1;
				epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
			}
			return;
		}
		wfail("%s: send: %s", c->uid, strerror(errno));
	}
	c->outoff = c->outlen = 0;
	if (c->wantout) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
		c->wantout = 0;
		epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
	}
}

static void
flush_dirty(void)
{
	while (dirty_head) {
		struct bc *c = dirty_head;
		dirty_head = c->next_dirty;
		c->dirty = 0;
		flush(c);
	}
}

/* Queue one SEND of c stamped with time t (µs). */
static void
send_one(struct bc *c, uint64_t t)
{
	struct wkproto_packet p = { .type = WKPROTO_SEND,
	    .flags = o.cmd ? WKPROTO_FLAG_SYNCONCE : WKPROTO_FLAG_REDDOT };
	char plain[4096], sealed[WK_CRYPTO_SEALED_LEN(4096)], key[WK_CRYPTO_MSGKEY_LEN];
	int n;
	ssize_t sn;
	uint32_t seq = c->next_seq++;

	n = snprintf(plain, sizeof plain, "{\"type\":1,\"t\":%llu,\"w\":%d,\"content\":\"",
	    (unsigned long long)t, wid);
	while (n < o.payload - 2 && n < (int)sizeof plain - 3) {
		plain[n] = (char)('a' + (n % 26));
		n++;
	}
	plain[n++] = '"';
	plain[n++] = '}';
	if ((sn = wk_crypto_encrypt(&c->cs, plain, (size_t)n, sealed, sizeof sealed)) < 0)
		wfail("encrypt failed");
	p.send.client_seq = seq;
	p.send.client_msg_no = wk_str_of("");
	p.send.channel_id = wk_str_of(c->to);
	p.send.channel_type = c->to_type;
	p.send.payload = (struct wk_bytes){ (const uint8_t *)sealed, (size_t)sn };
	if (wk_crypto_msgkey_send(&c->cs, &p.send, key) < 0)
		wfail("msgKey failed");
	p.send.msg_key = wk_str_n(key, sizeof key);
	c->sent_at[seq & (RING - 1)] = t;
	queue_packet(c, &p);
	INC(me->sent, 1);
}

static void
on_sendack(struct bc *c, const struct wkproto_sendack *a, uint64_t now, int phase)
{
	if (c->sent_at == NULL)
		return;
	c->acked++;
	INC(me->acked, 1);
	if (a->reason_code != WKPROTO_REASON_SUCCESS)
		INC(me->ack_bad, 1);
	uint64_t lat = now - c->sent_at[a->client_seq & (RING - 1)];
	if (phase == PH_MEASURE)
		hist_add(&me->h_ack, lat);
	if (lat > LOAD(me->win_max))
		STORE(me->win_max, lat);
	/* Closed loop: the next one as soon as one is acknowledged. */
	if (o.scenario == 1 && phase < PH_DRAIN)
		send_one(c, now);
}

static void
on_recv(struct bc *c, const struct wkproto_packet *p, uint64_t now, int phase)
{
	const struct wkproto_recv *r = &p->recv;
	struct wkproto_packet a = { .type = WKPROTO_RECVACK,
	    .flags = p->flags & (WKPROTO_FLAG_REDDOT | WKPROTO_FLAG_SYNCONCE | WKPROTO_FLAG_NOPERSIST) };
	uint8_t plain[8192];
	ssize_t n;
	const char *t;

	INC(me->recvd, 1);
	/* -v N: verify and decrypt one RECV in N only (a lighter generator). */
	if (o.verify > 1 && (uint32_t)(me->recvd % o.verify) != 0)
		;
	else if (wk_crypto_verify_recv(&c->cs, r) < 0 ||
	    (n = wk_crypto_decrypt(&c->cs, (const char *)r->payload.p, r->payload.len,
	    plain, sizeof plain - 1)) < 0) {
		INC(me->recv_bad, 1);
	} else {
		plain[n] = '\0';
		if ((t = strstr((char *)plain, "\"t\":")) != NULL && phase == PH_MEASURE) {
			uint64_t ts = strtoull(t + 4, NULL, 10);
			if (ts <= now)
				hist_add(&me->h_recv, now - ts);
		}
	}
	/* One sender per receiver channel: seqs come contiguous.  A cmd
	 * message carries the mailbox seq: increasing, with gaps. */
	if (c->last_mseq != 0 && (p->flags & WKPROTO_FLAG_SYNCONCE)) {
		if (r->message_seq <= c->last_mseq)
			INC(me->seq_dup, 1);
	} else if (c->last_mseq != 0) {
		if (r->message_seq <= c->last_mseq)
			INC(me->seq_dup, 1);
		else if (r->message_seq != c->last_mseq + 1)
			INC(me->seq_gap, r->message_seq - c->last_mseq - 1);
	}
	if (r->message_seq > c->last_mseq)
		c->last_mseq = r->message_seq;
	a.recvack.message_id = r->message_id;
	a.recvack.message_seq = r->message_seq;
	queue_packet(c, &a);
}

/* The next WKProto packet in c->in: 1 and its extent, 0 if incomplete, -1
 * bad.  *skip is the number of bytes to drop after handling it. */
static int
next_packet(struct bc *c, const uint8_t **pk, size_t *plen, size_t *skip)
{
	struct wkproto_frame f;
	const uint8_t *b = c->in;
	size_t n = c->inlen, len, h = 2;
	int rc;

	if (!c->ws) {
		rc = wkproto_split(b, n, 0, &f);
		if (rc == WKPROTO_ENEED)
			return 0;
		if (rc < 0)
			return -1;
		*pk = b;
		*plen = *skip = f.total;
		return 1;
	}
	for (;;) {
		if (n < 2)
			return 0;
		if (b[1] & 0x80)
			return -1;
		len = b[1] & 0x7f;
		h = 2;
		if (len == 126) {
			if (n < 4)
				return 0;
			len = (size_t)b[2] << 8 | b[3];
			h = 4;
		} else if (len == 127) {
			if (n < 10)
				return 0;
			len = 0;
			for (int i = 2; i < 10; i++)
				len = len << 8 | b[i];
			h = 10;
		}
		if (n < h + len)
			return 0;
		if ((b[0] & 0x0f) == 8)
			return -1;
		if ((b[0] & 0x0f) != 2) {	/* ping/pong/text: skip */
			memmove(c->in, c->in + h + len, n - h - len);
			c->inlen -= (uint32_t)(h + len);
			n = c->inlen;
			continue;
		}
		*pk = b + h;
		*plen = len;
		*skip = h + len;
		return 1;
	}
}

/* Read once and handle every whole packet; -1 on EOF/error. */
static int
conn_read(struct bc *c, int phase)
{
	const uint8_t *pk;
	size_t plen, skip, off = 0;
	struct wkproto_packet p;
	ssize_t r;
	uint64_t now;
	int rc;

	if (c->incap - c->inlen < 2048) {
		c->incap = c->incap ? c->incap * 2 : 16384;
		if ((c->in = realloc(c->in, c->incap)) == NULL)
			wfail("out of memory");
	}
	r = read(c->fd, c->in + c->inlen, c->incap - c->inlen);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (r <= 0)
		return -1;
	c->inlen += (uint32_t)r;
	now = wk_now_us();
	for (;;) {
		struct bc view = *c;

		view.in = c->in + off;
		view.inlen = c->inlen - (uint32_t)off;
		if ((rc = next_packet(&view, &pk, &plen, &skip)) == 0)
			break;
		if (rc < 0)
			wfail("%s: bad frame or packet from the server", c->uid);
		if (c->ws && view.inlen != c->inlen - off) {	/* skipped control frames */
			memmove(c->in + off, view.in, view.inlen);
			c->inlen = (uint32_t)off + view.inlen;
		}
		if ((rc = wkproto_decode(pk, plen, version, &p, &skip)) < 0)
			wfail("%s: decode: %s", c->uid, wkproto_strerror(rc));
		if (c->ws)
			skip = (size_t)(pk + plen - (c->in + off));
		off += skip;
		switch (p.type) {
		case WKPROTO_SENDACK:
			on_sendack(c, &p.sendack, now, phase);
			break;
		case WKPROTO_RECV:
			on_recv(c, &p, now, phase);
			break;
		case WKPROTO_DISCONNECT:
			INC(me->disconnects, 1);
			wfail("%s: DISCONNECT reason %u", c->uid, p.disconnect.reason_code);
			break;
		default:
			break;
		}
	}
	if (off > 0) {
		memmove(c->in, c->in + off, c->inlen - off);
		c->inlen -= (uint32_t)off;
	}
	return 0;
}

/*
 * Set-up: blocking connects and handshakes, pipelined in batches.
 */
static void
read_some(struct bc *c)
{
	ssize_t r;

	if (c->incap - c->inlen < 2048) {
		c->incap = c->incap ? c->incap * 2 : 16384;
		if ((c->in = realloc(c->in, c->incap)) == NULL)
			wfail("out of memory");
	}
	r = read(c->fd, c->in + c->inlen, c->incap - c->inlen);
	if (r <= 0)
		wfail("%s: handshake: %s", c->uid, r == 0 ? "closed by server" : strerror(errno));
	c->inlen += (uint32_t)r;
}

static void
conn_open(struct bc *c, const struct sockaddr_in *src)
{
	int one = 1;
	struct timeval tv = { 20, 0 };

	if ((c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		wfail("socket: %s", strerror(errno));
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (src) {
		setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
		if (bind(c->fd, (const struct sockaddr *)src, sizeof *src) < 0)
			wfail("bind: %s", strerror(errno));
	}
	if (connect(c->fd, (struct sockaddr *)&dst, sizeof dst) < 0)
		wfail("connect %s:%d: %s", o.host, ntohs(dst.sin_port), strerror(errno));
	if (c->ws) {
		char req[256];
		int n = snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
		    "Connection: Upgrade\r\nSec-WebSocket-Key: " WS_KEY "\r\n"
		    "Sec-WebSocket-Version: 13\r\n\r\n", o.host, o.wsport);
		uint8_t *end;

		if (write(c->fd, req, (size_t)n) != n)
			wfail("upgrade: write failed");
		while ((end = c->inlen ? memmem(c->in, c->inlen, "\r\n\r\n", 4) : NULL) == NULL)
			read_some(c);
		if (strncmp((char *)c->in, "HTTP/1.1 101", 12) != 0 ||
		    memmem(c->in, (size_t)(end - c->in), WS_ACCEPT, strlen(WS_ACCEPT)) == NULL)
			wfail("WebSocket upgrade refused");
		end += 4;
		memmove(c->in, end, c->inlen - (size_t)(end - c->in));
		c->inlen -= (uint32_t)(end - c->in);
	}
}

static struct wk_crypto_keypair kp;

static void
conn_send_connect(struct bc *c)
{
	struct wkproto_packet p = { .type = WKPROTO_CONNECT };
	char key64[WK_CRYPTO_KEY_B64_LEN], dev[64];

	wk_b64_encode(kp.pub, sizeof kp.pub, key64);
	snprintf(dev, sizeof dev, "%s-d", c->uid);
	p.connect.version = (uint8_t)version;
	p.connect.device_flag = WKPROTO_DEVICE_APP;
	p.connect.device_id = wk_str_of(dev);
	p.connect.uid = wk_str_of(c->uid);
	p.connect.token = wk_str_of("bench");
	p.connect.client_timestamp = 1700000000000;
	p.connect.client_key = wk_str_n(key64, sizeof key64);
	queue_packet(c, &p);
	flush(c);
	c->dirty = 0;
}

static void
conn_wait_connack(struct bc *c)
{
	const uint8_t *pk;
	size_t plen, skip;
	struct wkproto_packet p;
	uint8_t spub[WK_CRYPTO_KEY_LEN], shared[WK_CRYPTO_KEY_LEN];
	char aes[WK_CRYPTO_AES_LEN], iv[WK_CRYPTO_AES_LEN];
	int rc;

	while ((rc = next_packet(c, &pk, &plen, &skip)) == 0)
		read_some(c);
	if (rc < 0 || wkproto_decode(pk, plen, version, &p, &plen) < 0 || p.type != WKPROTO_CONNACK)
		wfail("%s: no CONNACK", c->uid);
	if (p.connack.reason_code != WKPROTO_REASON_SUCCESS)
		wfail("%s: CONNACK reason %u", c->uid, p.connack.reason_code);
	if (p.connack.salt.len != WK_CRYPTO_SALT_LEN ||
	    wk_crypto_decode_key(p.connack.server_key.p, p.connack.server_key.len, spub) < 0 ||
	    wk_crypto_shared(kp.priv, spub, shared) < 0 || wk_crypto_derive_key(shared, aes) < 0)
		wfail("%s: key agreement failed", c->uid);
	memcpy(iv, p.connack.salt.p, sizeof iv);
	if (wk_crypto_session_init(&c->cs, aes, iv) < 0)
		wfail("session init failed");
	memmove(c->in, c->in + skip, c->inlen - skip);
	c->inlen -= (uint32_t)skip;
}

/* Connection number k of the whole run: role, uid, where it sends. */
static void
conn_define(struct bc *c, long k)
{
	if (o.scenario == 3) {
		if (k == 0) {
			c->role = R_SENDER;
			snprintf(c->uid, sizeof c->uid, "%ss", o.prefix);
		} else {
			c->role = R_RECEIVER;
			snprintf(c->uid, sizeof c->uid, "%sm%ld", o.prefix, k - 1);
		}
		snprintf(c->to, sizeof c->to, "%sg", o.prefix);
		c->to_type = WKPROTO_CHANNEL_GROUP;
	} else {
		long pair = k / 2;
		c->role = k % 2 == 0 ? R_SENDER : R_RECEIVER;
		snprintf(c->uid, sizeof c->uid, "%s%c%ld", o.prefix, c->role == R_SENDER ? 's' : 'r', pair);
		snprintf(c->to, sizeof c->to, "%sr%ld", o.prefix, pair);
		c->to_type = WKPROTO_CHANNEL_PERSON;
	}
	c->idx = (uint32_t)k;
	c->ws = (uint8_t)o.ws;
	c->next_seq = 1;
	if (c->role == R_SENDER && (c->sent_at = calloc(RING, sizeof *c->sent_at)) == NULL)
		wfail("out of memory");
}

static void
worker(int id, int nworkers, long total)
{
	struct sockaddr_in *srcs = NULL;
	struct epoll_event evs[512];
	long k;
	int phase = PH_SETUP, i;
	double rate_w = 0;
	uint64_t t_open = 0, issued = 0;
	uint32_t rr = 0;

	wid = id;
	me = &sh->w[id];
	srandom((unsigned)(getpid() ^ wk_now_us()));
	if (wk_crypto_keypair_new(&kp) < 0)
		wfail("X25519 key generation failed");
	if (o.nsrc > 0) {
		srcs = calloc((size_t)o.nsrc, sizeof *srcs);
		for (i = 0; i < o.nsrc; i++) {
			srcs[i].sin_family = AF_INET;
			srcs[i].sin_addr.s_addr = htonl(0x7f000002u + (uint32_t)i);
		}
	}
	bcs = calloc((size_t)(total / nworkers + 2), sizeof *bcs);
	senders = calloc((size_t)(total / nworkers + 2), sizeof *senders);
	/* Scenarios 1, 2: a pair lives in one worker (k, k+1); 3: round-robin. */
	for (k = 0; k < total; k++) {
		long owner = o.scenario == 3 ? k % nworkers : (k / 2) % nworkers;
		if (owner != id)
			continue;
		struct bc *c = calloc(1, sizeof *c);
		conn_define(c, k);
		bcs[nbc++] = c;
		if (c->role == R_SENDER)
			senders[nsenders++] = c;
	}
	/* Handshakes in batches of 128: CONNECTs out, then the CONNACKs. */
	for (int b = 0; b < nbc; b += 128) {
		int e = b + 128 < nbc ? b + 128 : nbc;
		for (i = b; i < e; i++) {
			conn_open(bcs[i], srcs ? &srcs[(bcs[i]->idx) % (uint32_t)o.nsrc] : NULL);
			conn_send_connect(bcs[i]);
		}
		for (i = b; i < e; i++)
			conn_wait_connack(bcs[i]);
	}
	dirty_head = NULL;
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		wfail("epoll_create1: %s", strerror(errno));
	for (i = 0; i < nbc; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = bcs[i] };
		fcntl(bcs[i]->fd, F_SETFL, fcntl(bcs[i]->fd, F_GETFL) | O_NONBLOCK);
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, bcs[i]->fd, &ev) < 0)
			wfail("epoll_ctl: %s", strerror(errno));
	}
	/* This worker's share of the offered rate (scenarios 2, 3). */
	if (o.rate > 0 && nsenders > 0) {
		long all_senders = o.scenario == 3 ? 1 : o.n;
		rate_w = (double)o.rate * nsenders / (double)all_senders;
	}
	STORE(me->ready, 1);
	while ((phase = LOAD(sh->phase)) == PH_SETUP)
		usleep(1000);
	me->cpu = cpu_seconds(RUSAGE_SELF);
	if (o.scenario == 1)
		for (i = 0; i < nsenders; i++)
			for (int d = 0; d < o.depth; d++)
				send_one(senders[i], wk_now_us());
	t_open = wk_now_us();
	while (phase != PH_DONE) {
		int n, timeout = 1;
		uint64_t now;

		flush_dirty();
		if (rate_w > 0 && phase < PH_DRAIN)
			timeout = 1;
		else if (o.scenario == 1 && phase < PH_DRAIN)
			timeout = 10;
		else
			timeout = 10;
		n = epoll_wait(epfd, evs, 512, timeout);
		phase = LOAD(sh->phase);
		for (i = 0; i < n; i++) {
			struct bc *c = evs[i].data.ptr;
			if (evs[i].events & EPOLLOUT)
				flush(c);
			if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				if (conn_read(c, phase) < 0)
					wfail("%s: connection closed by the server", c->uid);
		}
		/* Open loop: every message due by now, stamped with when it was due. */
		if (rate_w > 0 && phase < PH_DRAIN) {
			now = wk_now_us();
			/* Message k is due at t_open + k / rate: k = 0 at once (counting
			 * only whole intervals stamped each one an interval early). */
			uint64_t due = (uint64_t)((double)(now - t_open) * rate_w / 1e6) + 1;
			int cap = 20000;
			while (issued < due && cap-- > 0) {
				struct bc *c = senders[rr++ % (uint32_t)nsenders];
				uint64_t t = t_open + (uint64_t)((double)issued * 1e6 / rate_w);
				issued++;
				if (c->next_seq - 1 - c->acked >= RING - 1) {
					INC(me->backlog, 1);	/* too far behind: skipped */
					continue;
				}
				send_one(c, t);
			}
		}
	}
	me->cpu = cpu_seconds(RUSAGE_SELF) - me->cpu;
	STORE(me->exited, 1);
	exit(0);
}

/*
 * HTTP API: one blocking request per call, Connection: close.
 */
static long
http_post(const char *path, const char *body, char *resp, size_t cap)
{
	char host[128], head[512];
	const char *colon;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd, hn;
	size_t len = 0, blen = strlen(body);
	long st = -1;

	if ((colon = strrchr(o.http, ':')) == NULL)
		die("-H %s: want host:port", o.http);
	snprintf(host, sizeof host, "%.*s", (int)(colon - o.http), o.http);
	sa.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		die("-H %s: want an IPv4 address", o.http);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		die("HTTP %s: %s", o.http, strerror(errno));
	hn = snprintf(head, sizeof head, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n", path, o.http, blen);
	if (write(fd, head, (size_t)hn) != hn || write(fd, body, blen) != (ssize_t)blen)
		die("HTTP %s: write failed", path);
	for (;;) {
		ssize_t r = read(fd, resp + len, cap - 1 - len);
		if (r <= 0)
			break;
		len += (size_t)r;
		if (len == cap - 1)
			break;
	}
	resp[len] = '\0';
	close(fd);
	sscanf(resp, "HTTP/1.%*d %ld", &st);
	return st;
}

static void
post_or_die(const char *path, const char *body)
{
	static char resp[65536];
	long st = http_post(path, body, resp, sizeof resp);

	if (st != 200)
		die("POST %s: status %ld: %.200s", path, st, resp);
}

/* Scenario 3's group: o.group members (the sender and o.n - 1 online ones
 * among them), made with POST /channel and /channel/subscriber_add. */
static void
make_group(void)
{
	size_t cap = 64 + 1000 * 64;
	char *body = malloc(cap);
	long m = 0, members = o.group - 1;	/* plus the sender */
	int first = 1;
	uint64_t t0 = wk_now_us();

	while (first || m < members) {
		size_t len = (size_t)snprintf(body, cap, "{\"channel_id\":\"%sg\",\"channel_type\":2,"
		    "\"subscribers\":[", o.prefix);
		int k = 0;
		if (first)
			len += (size_t)snprintf(body + len, cap - len, "\"%ss\"", o.prefix), k++;
		for (; k < 1000 && m < members; k++, m++)
			len += (size_t)snprintf(body + len, cap - len, "%s\"%sm%ld\"", k ? "," : "",
			    o.prefix, m);
		snprintf(body + len, cap - len, "]}");
		post_or_die(first ? "/channel" : "/channel/subscriber_add", body);
		first = 0;
	}
	free(body);
	printf("group %sg: %ld members (POST /channel + /channel/subscriber_add) in %.2f s\n",
	    o.prefix, o.group, (double)(wk_now_us() - t0) / 1e6);
}

/* -U: a token per user through POST /user/token (not needed with
 * tokenAuthOn: false, but it is what an application server does). */
static void
make_users(long total)
{
	char body[256], uid[64];
	uint64_t t0 = wk_now_us();

	for (long k = 0; k < total; k++) {
		if (o.scenario == 3)
			snprintf(uid, sizeof uid, k == 0 ? "%ss" : "%sm%ld", o.prefix, k - 1);
		else
			snprintf(uid, sizeof uid, "%s%c%ld", o.prefix, k % 2 ? 'r' : 's', k / 2);
		snprintf(body, sizeof body, "{\"uid\":\"%s\",\"token\":\"bench\",\"device_flag\":0,"
		    "\"device_level\":1}", uid);
		post_or_die("/user/token", body);
	}
	printf("users: %ld tokens (POST /user/token) in %.2f s\n", total,
	    (double)(wk_now_us() - t0) / 1e6);
}

/*
 * The controller.
 */
struct totals {
	long	 sent, acked, ack_bad, recvd, recv_bad, gap, dup, backlog;
};

static void
sum(int nw, struct totals *t)
{
	memset(t, 0, sizeof *t);
	for (int i = 0; i < nw; i++) {
		struct wstat *w = &sh->w[i];
		t->sent += LOAD(w->sent);
		t->acked += LOAD(w->acked);
		t->ack_bad += LOAD(w->ack_bad);
		t->recvd += LOAD(w->recvd);
		t->recv_bad += LOAD(w->recv_bad);
		t->gap += LOAD(w->seq_gap);
		t->dup += LOAD(w->seq_dup);
		t->backlog += LOAD(w->backlog);
	}
}

static pid_t pids[MAX_WORKERS];
static int nworkers;

static void
check_workers(void)
{
	for (int i = 0; i < nworkers; i++)
		if (LOAD(sh->w[i].failed)) {
			fprintf(stderr, "\nwkbench: worker %d: %s\n", i, sh->w[i].why);
			for (int j = 0; j < nworkers; j++)
				kill(pids[j], SIGKILL);
			exit(1);
		}
}

static void
usage(void)
{
	fprintf(stderr, "usage: wkbench [-c] [-s 1|2|3] [-h host] [-p port] [-w wsport -W] [-H httphost:port]\n"
	    "\t[-n conns] [-d depth] [-r rate] [-g members] [-t secs] [-u warmup] [-j workers]\n"
	    "\t[-b payload] [-S srcaddrs] [-x prefix] [-o csv] [-l label] [-v every] [-D drain] [-U] [-q]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct rlimit rl;
	long total, per;
	int ch;
	char prefix[32];
	struct totals t0, t1, t2, prev;
	uint64_t tm0, tm1;
	double srvcpu = 0;

	while ((ch = getopt(argc, argv, "s:h:p:w:WH:n:d:r:g:t:u:j:b:S:x:o:l:UqD:v:c")) != -1) {
		switch (ch) {
		case 's': o.scenario = atoi(optarg); break;
		case 'h': o.host = optarg; break;
		case 'p': o.port = atoi(optarg); break;
		case 'w': o.wsport = atoi(optarg); break;
		case 'W': o.ws = 1; break;
		case 'H': o.http = optarg; break;
		case 'n': o.n = atol(optarg); break;
		case 'd': o.depth = atoi(optarg); break;
		case 'r': o.rate = atol(optarg); break;
		case 'g': o.group = atol(optarg); break;
		case 't': o.secs = atoi(optarg); break;
		case 'u': o.warm = atoi(optarg); break;
		case 'j': o.jobs = atoi(optarg); break;
		case 'b': o.payload = atoi(optarg); break;
		case 'S': o.nsrc = atoi(optarg); break;
		case 'x': o.prefix = optarg; break;
		case 'o': o.csv = optarg; break;
		case 'l': o.label = optarg; break;
		case 'U': o.users = 1; break;
		case 'q': o.quiet = 1; break;
		case 'D': o.drain = atoi(optarg); break;
		case 'v': o.verify = atoi(optarg); break;
		case 'c': o.cmd = 1; break;
		default: usage();
		}
	}
	if (o.scenario < 1 || o.scenario > 3 || o.n < 1 || o.depth < 1 || o.depth >= RING / 2 ||
	    o.secs < 1 || o.verify < 1 || o.payload < 40 || o.payload > 3000 || (o.ws && o.wsport == 0))
		usage();
	if (o.scenario == 2 && o.rate <= 0)
		o.rate = 20000;
	if (o.scenario == 3 && o.rate <= 0)
		o.rate = 100;
	if (o.scenario == 3 && o.group < o.n)
		o.group = o.n;
	if (o.prefix == NULL) {
		snprintf(prefix, sizeof prefix, "wb%x_", (unsigned)(getpid() ^ (unsigned)time(NULL)) & 0xfffff);
		o.prefix = prefix;
	}
	/* -n: pairs (1, 2) or online members, the sender among them (3). */
	total = o.scenario == 3 ? o.n : 2 * o.n;
	getrlimit(RLIMIT_NOFILE, &rl);
	per = (long)rl.rlim_cur - FD_RESERVE;
	if (per > CONNS_PER_WORKER_MAX)
		per = CONNS_PER_WORKER_MAX;
	nworkers = (int)((total + per - 1) / per);
	if (o.jobs > nworkers)
		nworkers = o.jobs;
	if (nworkers > MAX_WORKERS)
		die("%ld connections need more than %d workers", total, MAX_WORKERS);
	if (o.scenario != 3 && nworkers > o.n)
		nworkers = (int)o.n;
	memset(&dst, 0, sizeof dst);
	dst.sin_family = AF_INET;
	dst.sin_port = htons((uint16_t)(o.ws ? o.wsport : o.port));
	if (inet_pton(AF_INET, o.host, &dst.sin_addr) != 1)
		die("-h %s: want an IPv4 address", o.host);
	sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("wkbench: scenario %d, %s, %ld connections in %d worker(s), payload %d B, ", o.scenario,
	    o.ws ? "WebSocket" : "TCP", total, nworkers, o.payload);
	if (o.scenario == 1)
		printf("%ld pairs, closed loop, depth %d per sender\n", o.n, o.depth);
	else if (o.scenario == 2)
		printf("%ld pairs, open loop at %ld msgs/s\n", o.n, o.rate);
	else
		printf("group of %ld, %ld online (1 sender), open loop at %ld msgs/s = %ld deliveries/s offered\n",
		    o.group, o.n, o.rate, o.rate * (o.n - 1));
	if (o.users)
		make_users(o.scenario == 3 ? o.group : total);
	if (o.scenario == 3)
		make_group();
	fflush(stdout);
	uint64_t ts = wk_now_us();
	for (int i = 0; i < nworkers; i++) {
		if ((pids[i] = fork()) < 0)
			die("fork: %s", strerror(errno));
		if (pids[i] == 0)
			worker(i, nworkers, total);
	}
	for (;;) {
		int ready = 0;
		check_workers();
		for (int i = 0; i < nworkers; i++)
			ready += LOAD(sh->w[i].ready);
		if (ready == nworkers)
			break;
		usleep(10000);
	}
	printf("connected and authenticated %ld in %.2f s\n", total, (double)(wk_now_us() - ts) / 1e6);
	STORE(sh->phase, PH_WARM);
	uint64_t tstart = wk_now_us(), tlast = tstart;
	int phase = PH_WARM;
	memset(&prev, 0, sizeof prev);
	memset(&t0, 0, sizeof t0);
	tm0 = tm1 = tstart;
	srvcpu = cpu_seconds(RUSAGE_CHILDREN);
	for (;;) {
		usleep(100000);
		check_workers();
		uint64_t now = wk_now_us();
		double el = (double)(now - tstart) / 1e6;
		if (phase == PH_WARM && el >= o.warm) {
			sum(nworkers, &t0);
			tm0 = now;
			phase = PH_MEASURE;
			STORE(sh->phase, phase);
		} else if (phase == PH_MEASURE && el >= o.warm + o.secs) {
			sum(nworkers, &t1);
			tm1 = now;
			phase = PH_DRAIN;
			STORE(sh->phase, phase);
		} else if (phase == PH_DRAIN) {
			struct totals d;
			sum(nworkers, &d);
			long want = o.scenario == 3 ? (d.acked - d.ack_bad) * (o.n - 1) : d.acked - d.ack_bad;
			if ((d.acked == d.sent - d.backlog * 0 && d.recvd >= want) ||
			    el >= o.warm + o.secs + o.drain)
				break;
		}
		if (now - tlast >= 1000000 && !o.quiet) {
			struct totals c;
			double dt = (double)(now - tlast) / 1e6;
			uint64_t wmax = 0;
			sum(nworkers, &c);
			for (int i = 0; i < nworkers; i++) {
				uint64_t m = LOAD(sh->w[i].win_max);
				if (m > wmax)
					wmax = m;
				STORE(sh->w[i].win_max, 0);
			}
			fprintf(stderr, "%5.1fs %-7s sent %8.0f/s  acked %8.0f/s  recv %8.0f/s  in flight %ld"
			    "  ack max %.1f ms\n",
			    el, phase == PH_WARM ? "warmup" : phase == PH_MEASURE ? "measure" : "drain",
			    (c.sent - prev.sent) / dt, (c.acked - prev.acked) / dt,
			    (c.recvd - prev.recvd) / dt, c.sent - c.acked, (double)wmax / 1000);
			prev = c;
			tlast = now;
		}
	}
	STORE(sh->phase, PH_DONE);
	for (int i = 0; i < nworkers; i++) {
		int st;
		waitpid(pids[i], &st, 0);
	}
	check_workers();
	srvcpu = cpu_seconds(RUSAGE_CHILDREN) - srvcpu;
	sum(nworkers, &t2);

	struct hist ha, hr;
	memset(&ha, 0, sizeof ha);
	memset(&hr, 0, sizeof hr);
	for (int i = 0; i < nworkers; i++) {
		hist_merge(&ha, &sh->w[i].h_ack);
		hist_merge(&hr, &sh->w[i].h_recv);
	}
	double secs = (double)(tm1 - tm0) / 1e6;
	double acks = (t1.acked - t0.acked) / secs, recvs = (t1.recvd - t0.recvd) / secs;
	double sends = (t1.sent - t0.sent) / secs;
	/* Acknowledged but not delivered after the drain.  In scenario 3 a
	 * RECV may come before its SENDACK, so compare with what was sent
	 * when everything sent was acknowledged. */
	long expect = o.scenario == 3 ? (t2.acked - t2.ack_bad) * (o.n - 1) : t2.acked - t2.ack_bad;
	long lost = expect > t2.recvd ? expect - t2.recvd : 0;

	printf("measured %.2f s: sent %.0f/s, SENDACK %.0f/s, RECV %.0f/s%s\n", secs, sends, acks,
	    recvs, o.scenario == 3 ? " (deliveries)" : "");
	printf("SENDACK latency us: p50 %.0f  p99 %.0f  p99.9 %.0f  max %.0f  (n=%llu)\n",
	    hist_pct(&ha, .5), hist_pct(&ha, .99), hist_pct(&ha, .999), hist_max(&ha),
	    (unsigned long long)ha.n);
	printf("RECV latency us:    p50 %.0f  p99 %.0f  p99.9 %.0f  max %.0f  (n=%llu)\n",
	    hist_pct(&hr, .5), hist_pct(&hr, .99), hist_pct(&hr, .999), hist_max(&hr),
	    (unsigned long long)hr.n);
	printf("totals: sent %ld, acked %ld (refused %ld), received %ld (bad msgKey/payload %ld), "
	    "not acknowledged after %d s drain %ld, acknowledged but not delivered %ld, "
	    "seq gaps %ld, seq dups %ld, skipped (backlog) %ld\n",
	    t2.sent, t2.acked, t2.ack_bad, t2.recvd, t2.recv_bad, o.drain, t2.sent - t2.acked, lost,
	    t2.gap, t2.dup, t2.backlog);
	printf("generator CPU: %.0f%% of one core over the run\n",
	    100.0 * srvcpu / ((double)(wk_now_us() - tstart) / 1e6));
	if (o.csv) {
		FILE *f = fopen(o.csv, "a");
		if (f == NULL)
			die("%s: %s", o.csv, strerror(errno));
		/* label,scenario,conns,depth,rate,sent/s,acks/s,recvs/s,ack p50,p99,p999,recv p50,p99,p999,lost,gaps,dups,refused */
		fprintf(f, "%s,%d,%ld,%d,%ld,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%ld,%ld,%ld,%ld\n",
		    o.label ? o.label : "-", o.scenario, o.n, o.depth, o.rate, sends, acks, recvs,
		    hist_pct(&ha, .5), hist_pct(&ha, .99), hist_pct(&ha, .999),
		    hist_pct(&hr, .5), hist_pct(&hr, .99), hist_pct(&hr, .999),
		    lost, t2.gap, t2.dup, t2.ack_bad);
		fclose(f);
	}
	return lost != 0 || t2.sent != t2.acked || t2.gap || t2.recv_bad || t2.ack_bad ? 3 : 0;
}
