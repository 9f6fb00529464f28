/* wkbench_worker.c - a worker process of wkbench (wkbench.c, wkbench(1)):
 * its share of the client connections, set up with blocking connects and
 * handshakes in batches, then one epoll loop that writes what it has
 * queued once per iteration (several packets per write).  Senders send
 * AES-encrypted SENDs with their msgKey (closed loop on SENDACK in scenario
 * 1, open loop at the offered rate in 2 and 3); receivers verify, decrypt
 * and acknowledge every RECV and check the message_seq order.  Counters and
 * histograms go to this worker's struct wstat in the shared mapping. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include "bench_client.h"
#include "bench_hist.h"
#include "wk_crypto.h"
#include "wk_time.h"
#include "wkbench.h"
#include "wkproto.h"

/* A client connection of a worker. */
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
static struct hist h_sec;	/* this second's SENDACK latencies (measurement only) */
static uint64_t sec_start;
static int sec_no;
static struct sockaddr_in dst;	/* the server */
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
		if ((n = wkproto_encode(p, version, tmp, sizeof tmp)) < 0)
			wfail("encode: %s", wkproto_strerror((int)n));
		out_reserve(c, (size_t)n + BENCH_WS_HDR_MAX);
		c->outlen += (uint32_t)bench_ws_frame(c->out + c->outlen, tmp, (size_t)n);
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
	    .flags = wkbench_opt.cmd ? WKPROTO_FLAG_SYNCONCE : WKPROTO_FLAG_REDDOT };
	char plain[4096], sealed[WK_CRYPTO_SEALED_LEN(4096)], key[WK_CRYPTO_MSGKEY_LEN], cmn[40];
	int n;
	ssize_t sn;
	uint32_t seq = c->next_seq++;

	n = snprintf(plain, sizeof plain, "{\"type\":1,\"t\":%llu,\"w\":%d,\"content\":\"",
	    (unsigned long long)t, wid);
	while (n < wkbench_opt.payload - 2 && n < (int)sizeof plain - 3) {
		plain[n] = (char)('a' + (n % 26));
		n++;
	}
	plain[n++] = '"';
	plain[n++] = '}';
	if ((sn = wk_crypto_encrypt(&c->cs, plain, (size_t)n, sealed, sizeof sealed)) < 0)
		wfail("encrypt failed");
	p.send.client_seq = seq;
	/* 32 hex digits, unique per sender, as the SDKs send one with every
	 * message (the server's de-duplication index is written for each):
	 * the send time first, so a channel's rows are appended in order; with
	 * -R random, as the SDKs' UUIDs are, so they land anywhere in the
	 * index (xorshift64*, seeded per worker). */
	if (wkbench_opt.random_cmn) {
		static uint64_t x;  /* one worker process, one sequence */
		if (x == 0)
			x = t ^ ((uint64_t)(unsigned)wid << 32) ^ 0x9e3779b97f4a7c15u;
		uint64_t r[2];
		for (int i = 0; i < 2; i++) {
			x ^= x >> 12;
			x ^= x << 25;
			x ^= x >> 27;
			r[i] = x * 0x2545f4914f6cdd1du;
		}
		snprintf(cmn, sizeof cmn, "%016llx%016llx", (unsigned long long)r[0],
		    (unsigned long long)r[1]);
	} else
		snprintf(cmn, sizeof cmn, "%016llx%08x%08x", (unsigned long long)t, seq, (unsigned)wid);
	p.send.client_msg_no = wk_str_of(cmn);
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

/* The worst second: a histogram per whole second of the measurement,
 * its p99 kept when it is the largest so far. */
static void
second_add(uint64_t now, uint64_t lat)
{
	if (sec_start == 0)
		sec_start = now;
	if (now - sec_start >= 1000000) {
		double p99 = hist_pct(&h_sec, .99);
		sec_no++;
		if (p99 > me->worst_p99) {
			me->worst_p99 = p99;
			me->worst_sec = sec_no;
		}
		memset(&h_sec, 0, sizeof h_sec);
		sec_start = now;
	}
	hist_add(&h_sec, lat);
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
	if (phase == PH_MEASURE) {
		hist_add(&me->h_ack, lat);
		second_add(now, lat);
	}
	if (lat > LOAD(me->win_max))
		STORE(me->win_max, lat);
	/* Closed loop: the next one as soon as one is acknowledged. */
	if (wkbench_opt.scenario == 1 && phase < PH_DRAIN)
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
	if (wkbench_opt.verify > 1 && (uint32_t)(me->recvd % wkbench_opt.verify) != 0)
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
 * bad.  *skip is the number of bytes to drop after handling it.  WebSocket
 * control frames (ping, pong, text) are dropped from c->in; a close is bad. */
static int
next_packet(struct bc *c, const uint8_t **pk, size_t *plen, size_t *skip)
{
	size_t h, len;
	int op, rc;

	while ((rc = bench_next_packet(c->in, c->inlen, c->ws, &h, &len, &op)) == 1) {
		if (op == 8)
			return -1;
		if (op == 2) {
			*pk = c->in + h;
			*plen = len;
			*skip = h + len;
			return 1;
		}
		memmove(c->in, c->in + h + len, c->inlen - h - len);
		c->inlen -= (uint32_t)(h + len);
	}
	return rc;
}

/* Room to read 2 KiB more into c->in at least. */
static void
in_reserve(struct bc *c)
{
	if (c->incap - c->inlen < 2048) {
		c->incap = c->incap ? c->incap * 2 : 16384;
		if ((c->in = realloc(c->in, c->incap)) == NULL)
			wfail("out of memory");
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

	in_reserve(c);
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

	in_reserve(c);
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
	if (src && bench_bind_source(c->fd, src) < 0)
		wfail("bind: %s", strerror(errno));
	if (connect(c->fd, (struct sockaddr *)&dst, sizeof dst) < 0)
		wfail("connect %s:%d: %s", wkbench_opt.host, ntohs(dst.sin_port), strerror(errno));
	if (c->ws) {
		char req[256];
		int n = bench_ws_upgrade_request(req, sizeof req, wkbench_opt.host, wkbench_opt.wsport);
		uint8_t *end;

		if (write(c->fd, req, (size_t)n) != n)
			wfail("upgrade: write failed");
		while ((end = c->inlen ? memmem(c->in, c->inlen, "\r\n\r\n", 4) : NULL) == NULL)
			read_some(c);
		if (!bench_ws_upgrade_ok(c->in, (size_t)(end - c->in)))
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
	struct wkproto_packet p;
	char key64[WK_CRYPTO_KEY_B64_LEN], dev[64];

	snprintf(dev, sizeof dev, "%s-d", c->uid);
	bench_connect_packet(&p, c->uid, dev, version, &kp, key64);
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
	char aes[WK_CRYPTO_AES_LEN], iv[WK_CRYPTO_AES_LEN];
	int rc;

	while ((rc = next_packet(c, &pk, &plen, &skip)) == 0)
		read_some(c);
	if (rc < 0 || wkproto_decode(pk, plen, version, &p, &plen) < 0 || p.type != WKPROTO_CONNACK)
		wfail("%s: no CONNACK", c->uid);
	if (p.connack.reason_code != WKPROTO_REASON_SUCCESS)
		wfail("%s: CONNACK reason %u", c->uid, p.connack.reason_code);
	if (bench_connack_keys(&p.connack, &kp, aes, iv) < 0)
		wfail("%s: key agreement failed", c->uid);
	if (wk_crypto_session_init(&c->cs, aes, iv) < 0)
		wfail("session init failed");
	memmove(c->in, c->in + skip, c->inlen - skip);
	c->inlen -= (uint32_t)skip;
}

/* Connection number k of the whole run: role, uid, where it sends. */
static void
conn_define(struct bc *c, long k)
{
	if (wkbench_opt.scenario == 3) {
		if (k == 0) {
			c->role = R_SENDER;
			snprintf(c->uid, sizeof c->uid, "%ss", wkbench_opt.prefix);
		} else {
			c->role = R_RECEIVER;
			snprintf(c->uid, sizeof c->uid, "%sm%ld", wkbench_opt.prefix, k - 1);
		}
		snprintf(c->to, sizeof c->to, "%sg", wkbench_opt.prefix);
		c->to_type = WKPROTO_CHANNEL_GROUP;
	} else {
		long pair = k / 2;
		c->role = k % 2 == 0 ? R_SENDER : R_RECEIVER;
		snprintf(c->uid, sizeof c->uid, "%s%c%ld", wkbench_opt.prefix, c->role == R_SENDER ? 's' : 'r', pair);
		snprintf(c->to, sizeof c->to, "%sr%ld", wkbench_opt.prefix, pair);
		c->to_type = WKPROTO_CHANNEL_PERSON;
	}
	c->idx = (uint32_t)k;
	c->ws = (uint8_t)wkbench_opt.ws;
	c->next_seq = 1;
	if (c->role == R_SENDER && (c->sent_at = calloc(RING, sizeof *c->sent_at)) == NULL)
		wfail("out of memory");
}

void
wkbench_worker(int id, int nworkers, long total, const struct sockaddr_in *to)
{
	struct sockaddr_in *srcs = NULL;
	struct epoll_event evs[512];
	long k;
	int phase = PH_SETUP, i;
	double rate_w = 0;
	uint64_t t_open = 0, issued = 0;
	uint32_t rr = 0;

	wid = id;
	dst = *to;
	me = &wkbench_sh->w[id];
	srandom((unsigned)(getpid() ^ wk_now_us()));
	if (wk_crypto_keypair_new(&kp) < 0)
		wfail("X25519 key generation failed");
	srcs = bench_loopback_sources(wkbench_opt.nsrc);
	bcs = calloc((size_t)(total / nworkers + 2), sizeof *bcs);
	senders = calloc((size_t)(total / nworkers + 2), sizeof *senders);
	/* Scenarios 1, 2: a pair lives in one worker (k, k+1); 3: round-robin. */
	for (k = 0; k < total; k++) {
		long owner = wkbench_opt.scenario == 3 ? k % nworkers : (k / 2) % nworkers;
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
			conn_open(bcs[i], srcs ? &srcs[(bcs[i]->idx) % (uint32_t)wkbench_opt.nsrc] : NULL);
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
	if (wkbench_opt.rate > 0 && nsenders > 0) {
		long all_senders = wkbench_opt.scenario == 3 ? 1 : wkbench_opt.n;
		rate_w = (double)wkbench_opt.rate * nsenders / (double)all_senders;
	}
	STORE(me->ready, 1);
	while ((phase = LOAD(wkbench_sh->phase)) == PH_SETUP)
		usleep(1000);
	me->cpu = cpu_seconds(RUSAGE_SELF);
	if (wkbench_opt.scenario == 1)
		for (i = 0; i < nsenders; i++)
			for (int d = 0; d < wkbench_opt.depth; d++)
				send_one(senders[i], wk_now_us());
	/* Wake-ups to 10 us, not the default 50: the open loop's timer. */
	prctl(PR_SET_TIMERSLACK, 10000UL);
	t_open = wk_now_us();
	while (phase != PH_DONE) {
		int n;
		uint64_t now;

		flush_dirty();
		/* Open loop: sleep until the next message is due, but not less
		 * than 100 us (at higher rates messages go in bursts of that
		 * span: a wake-up per message would take the server's CPU).  A
		 * millisecond timeout sent a message up to 1 ms after it was
		 * due, counted as the server's latency (stamped when due). */
		struct timespec ts = { .tv_sec = 0, .tv_nsec = 10000000 };
		if (rate_w > 0 && phase < PH_DRAIN) {
			uint64_t next = t_open + (uint64_t)((double)issued * 1e6 / rate_w);
			now = wk_now_us();
			uint64_t wait = next > now ? next - now : 0;
			if (wait > 0 && wait < 100)
				wait = 100;
			ts.tv_nsec = (long)(wait < 1000 ? wait : 1000) * 1000;
		}
		n = epoll_pwait2(epfd, evs, 512, &ts, NULL);
		phase = LOAD(wkbench_sh->phase);
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
