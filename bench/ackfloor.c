/* ackfloor.c - the floor of durable one-to-one messaging over WKProto on
 * this machine: what wkbench scenario 2 asks of wk, done by one thread of
 * one process with no hand-off.  It answers wkbench as wk would (CONNECT
 * and its key agreement, SEND verified and decrypted, SENDACK, RECV sealed
 * for the receiver, RECVACK, PING), and makes every message durable before
 * it answers: each loop turn appends the turn's messages to one log file
 * with one write and one fdatasync (a group commit), then writes each
 * connection's answers in one write.  Nothing else: no B-tree, no index, no
 * second process, no ZeroMQ, no conversations, no retries.  bench.sh runs
 * wkbench against it at scenario 2's rates beside wk (bench/README.md).
 *
 *   ackfloor [-s fsync|none] [-d dir] [-p port]
 * Prints "ackfloor: port N" when it listens; runs until SIGTERM or SIGINT
 * and then prints the commits and messages it made durable.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include "wk_crypto.h"
#include "wk_time.h"
#include "wkproto.h"

#define CONNS_MAX	4096
#define UID_MAX		64
#define PENDING_MAX	65536	/* messages of one turn (a turn reads 64 KB per connection) */
#define PLAIN_MAX	512	/* a payload kept for the RECV */
#define CMN_MAX		64
/* A log record: id, seq, the two uids, client_msg_no, payload length, payload. */
#define RECORD_MAX	(8 + 4 + 2 * UID_MAX + CMN_MAX + 2 + PLAIN_MAX)
#define LOG_ROOM	((size_t)PENDING_MAX * RECORD_MAX)

struct conn {
	int fd, version, ready;
	char uid[UID_MAX];
	uint32_t next_seq;                  /* the next RECV's message_seq (one sender per receiver) */
	uint8_t in[65536];
	size_t inlen;
	uint8_t *out;                       /* answers of this turn, then what the kernel did not take */
	size_t outlen, outcap;
	struct wk_crypto_session cs;
	struct conn *dirty_next;            /* on the turn's list of connections with output */
	int dirty;
	struct conn *peer;                  /* the last SEND's receiver (one per sender in scenario 2) */
};

/* A message of this turn, answered once the turn's commit is durable. */
struct pending {
	struct conn *from, *to;
	uint32_t client_seq, seq;
	int64_t id;
	uint8_t flags;
	char cmn[CMN_MAX];
	uint16_t cmn_len;
	uint16_t plain_len;
	uint8_t plain[PLAIN_MAX];
};

static struct conn *conns[CONNS_MAX];
static struct pending *pend;
static size_t npend;
static uint8_t *logbuf;
static size_t loglen;
static struct conn *dirty;
static int logfd, sync_on = 1;
static volatile sig_atomic_t stop;
static uint64_t commits, durable, next_id = 1;

static void
die(const char *what)
{
	perror(what);
	exit(1);
}

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
mark(struct conn *c)
{
	if (!c->dirty) {
		c->dirty = 1;
		c->dirty_next = dirty;
		dirty = c;
	}
}

/* Encode p at c's version onto c's output. */
static void
put(struct conn *c, const struct wkproto_packet *p)
{
	ssize_t n = wkproto_encoded_size(p, c->version);

	if (n < 0)
		return;
	if (c->outlen + (size_t)n > c->outcap) {
		c->outcap = (c->outlen + (size_t)n) * 2;
		if ((c->out = realloc(c->out, c->outcap)) == NULL)
			die("realloc");
	}
	if (wkproto_encode(p, c->version, c->out + c->outlen, c->outcap - c->outlen) == n)
		c->outlen += (size_t)n;
	mark(c);
}

/* The connection of uid: the sender's last receiver when it is the same,
 * else a scan (once per pair in scenario 2). */
static struct conn *
find(struct conn *from, const char *uid, size_t len)
{
	struct conn *p = from->peer;

	if (p && p->fd >= 0 && strlen(p->uid) == len && memcmp(p->uid, uid, len) == 0)
		return p;
	for (int i = 0; i < CONNS_MAX; i++)
		if (conns[i] && conns[i]->ready && strlen(conns[i]->uid) == len &&
		    memcmp(conns[i]->uid, uid, len) == 0)
			return from->peer = conns[i];
	return NULL;
}

static void
on_connect(struct conn *c, const struct wkproto_connect *p)
{
	struct wkproto_packet a = { .type = WKPROTO_CONNACK };
	uint8_t peer[WK_CRYPTO_KEY_LEN], pub[WK_CRYPTO_KEY_LEN], shared[WK_CRYPTO_KEY_LEN];
	char aes[WK_CRYPTO_AES_LEN], salt[WK_CRYPTO_SALT_LEN], pub64[WK_CRYPTO_KEY_B64_LEN];

	c->version = p->version < WKPROTO_VERSION_MAX ? p->version : WKPROTO_VERSION_MAX;
	snprintf(c->uid, sizeof c->uid, "%.*s", (int)p->uid.len, p->uid.p);
	a.connack.reason_code = WKPROTO_REASON_SUCCESS;
	if (p->version > 3) {
		a.flags = WKPROTO_FLAG_HAS_SERVER_VERSION;
		a.connack.server_version = (uint8_t)c->version;
	}
	if (wk_crypto_decode_key(p->client_key.p, p->client_key.len, peer) < 0 ||
	    wk_crypto_agree(peer, pub, shared) < 0 || wk_crypto_derive_key(shared, aes) < 0 ||
	    wk_crypto_salt(salt) < 0 || wk_crypto_session_init(&c->cs, aes, salt) < 0)
		a.connack.reason_code = WKPROTO_REASON_CLIENT_KEY_IS_EMPTY;
	wk_b64_encode(pub, sizeof pub, pub64);
	a.connack.server_key = wk_str_n(pub64, sizeof pub64);
	a.connack.salt = wk_str_n(salt, sizeof salt);
	c->ready = a.connack.reason_code == WKPROTO_REASON_SUCCESS;
	put(c, &a);
}

/* A SENDACK refusing client_seq with reason, as wk-broker answers. */
static void
refuse(struct conn *c, uint32_t client_seq, uint8_t reason)
{
	struct wkproto_packet a = { .type = WKPROTO_SENDACK };

	a.sendack.client_seq = client_seq;
	a.sendack.reason_code = reason;
	put(c, &a);
}

/* A SEND, as wk-broker takes it: msgKey verified, payload decrypted; then
 * its log record, and the answers wait for the commit.  A turn's room
 * (PENDING_MAX) full is refused with reason 15, as wk's full queue is. */
static void
on_send(struct conn *c, uint8_t flags, const struct wkproto_send *s)
{
	struct pending *m;
	struct conn *to;
	uint8_t plain[PLAIN_MAX], *r;
	ssize_t n;

	if (npend == PENDING_MAX || s->client_msg_no.len > CMN_MAX) {
		refuse(c, s->client_seq, WKPROTO_REASON_SYSTEM_ERROR);
		return;
	}
	if (wk_crypto_verify_send(&c->cs, s) < 0 ||
	    (n = wk_crypto_decrypt(&c->cs, (const char *)s->payload.p, s->payload.len, plain,
	    sizeof plain)) < 0 ||
	    (to = find(c, s->channel_id.p, s->channel_id.len)) == NULL) {
		refuse(c, s->client_seq, WKPROTO_REASON_PAYLOAD_DECODE_ERROR);
		return;
	}
	m = &pend[npend++];
	*m = (struct pending){ .from = c, .to = to, .client_seq = s->client_seq,
	    .seq = ++to->next_seq, .id = (int64_t)next_id++, .flags = flags,
	    .cmn_len = s->client_msg_no.len, .plain_len = (uint16_t)n };
	memcpy(m->cmn, s->client_msg_no.p, s->client_msg_no.len);
	memcpy(m->plain, plain, (size_t)n);
	/* The record (RECORD_MAX at most: LOG_ROOM holds PENDING_MAX of them). */
	r = logbuf + loglen;
	memcpy(r, &m->id, 8);
	memcpy(r + 8, &m->seq, 4);
	memcpy(r + 12, c->uid, UID_MAX);
	memcpy(r + 12 + UID_MAX, to->uid, UID_MAX);
	memcpy(r + 12 + 2 * UID_MAX, m->cmn, CMN_MAX);
	memcpy(r + 12 + 2 * UID_MAX + CMN_MAX, &m->plain_len, 2);
	memcpy(r + 14 + 2 * UID_MAX + CMN_MAX, m->plain, (size_t)n);
	loglen += 14 + 2 * UID_MAX + CMN_MAX + (size_t)n;
}

/* Every whole packet in c's input. */
static void
on_input(struct conn *c)
{
	size_t off = 0;
	struct wkproto_frame f;
	struct wkproto_packet p;

	while (wkproto_split(c->in + off, c->inlen - off, 0, &f) == 0) {
		off += f.total;
		if (wkproto_decode_frame(&f, c->ready ? c->version : WKPROTO_VERSION_MAX, &p) != 0)
			continue;
		if (p.type == WKPROTO_CONNECT)
			on_connect(c, &p.connect);
		else if (p.type == WKPROTO_SEND && c->ready)
			on_send(c, p.flags, &p.send);
		else if (p.type == WKPROTO_PING) {
			struct wkproto_packet a = { .type = WKPROTO_PONG };
			put(c, &a);
		}
	}
	memmove(c->in, c->in + off, c->inlen - off);
	c->inlen -= off;
}

/* The group commit, then the turn's answers: SENDACK to the sender, the
 * RECV sealed for the receiver, each connection's output in one write. */
static void
commit_and_answer(void)
{
	if (npend > 0) {
		if (write(logfd, logbuf, loglen) != (ssize_t)loglen ||
		    (sync_on && fdatasync(logfd) < 0))
			die("log");
		commits++;
		durable += npend;
	}
	for (size_t i = 0; i < npend; i++) {
		struct pending *m = &pend[i];
		struct wkproto_packet a = { .type = WKPROTO_SENDACK, .flags = m->flags };
		struct wkproto_packet r = { .type = WKPROTO_RECV, .flags = m->flags };
		char sealed[1024], key[WK_CRYPTO_MSGKEY_LEN];
		ssize_t n;

		a.sendack = (struct wkproto_sendack){ .message_id = m->id, .client_seq = m->client_seq,
		    .message_seq = m->seq, .reason_code = WKPROTO_REASON_SUCCESS };
		put(m->from, &a);
		if ((n = wk_crypto_encrypt(&m->to->cs, m->plain, m->plain_len, sealed, sizeof sealed)) < 0)
			die("encrypt");
		r.recv.from_uid = wk_str_of(m->from->uid);
		r.recv.channel_id = wk_str_of(m->from->uid);
		r.recv.channel_type = WKPROTO_CHANNEL_PERSON;
		r.recv.client_msg_no = wk_str_n(m->cmn, m->cmn_len);
		r.recv.message_id = m->id;
		r.recv.message_seq = m->seq;
		r.recv.timestamp = (uint32_t)(wk_wall_ms() / 1000);
		r.recv.payload = (struct wk_bytes){ (const uint8_t *)sealed, (size_t)n };
		if (wk_crypto_msgkey_recv(&m->to->cs, &r.recv, key) < 0)
			die("msgkey");
		r.recv.msg_key = wk_str_n(key, sizeof key);
		put(m->to, &r);
	}
	npend = 0;
	loglen = 0;
	/* What the kernel did not take stays on the list for the next turn. */
	struct conn *c = dirty, *next;
	dirty = NULL;
	for (; c; c = next) {
		ssize_t w = c->outlen && c->fd >= 0 ? write(c->fd, c->out, c->outlen) : 0;
		next = c->dirty_next;
		c->dirty = 0;
		if (w > 0) {
			memmove(c->out, c->out + w, c->outlen - (size_t)w);
			c->outlen -= (size_t)w;
		}
		if (c->outlen && c->fd >= 0)
			mark(c);
	}
}

int
main(int argc, char **argv)
{
	const char *dir = ".";
	char path[4096];
	int port = 0, c, one = 1;

	while ((c = getopt(argc, argv, "s:d:p:")) != -1) {
		if (c == 's')
			sync_on = strcmp(optarg, "none") != 0;
		else if (c == 'd')
			dir = optarg;
		else if (c == 'p')
			port = atoi(optarg);
		else {
			fprintf(stderr, "usage: ackfloor [-s fsync|none] [-d dir] [-p port]\n");
			return 2;
		}
	}
	snprintf(path, sizeof path, "%s/ackfloor.log", dir);
	if ((logfd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644)) < 0)
		die(path);
	pend = calloc(PENDING_MAX, sizeof *pend);
	logbuf = malloc(LOG_ROOM);
	if (pend == NULL || logbuf == NULL)
		die("malloc");
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;
	int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), ep = epoll_create1(0);
	if (l < 0 || ep < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 4096) < 0 ||
	    getsockname(l, (struct sockaddr *)&a, &al) < 0)
		die("listen");
	struct epoll_event le = { .events = EPOLLIN, .data.ptr = NULL };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, l, &le) < 0)
		die("epoll_ctl");
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	printf("ackfloor: port %d\n", ntohs(a.sin_port));
	fflush(stdout);
	while (!stop) {
		struct epoll_event evs[256];
		int k = epoll_wait(ep, evs, 256, dirty ? 1 : 100);
		for (int j = 0; j < k; j++) {
			struct conn *cn = evs[j].data.ptr;
			if (cn == NULL) {
				int fd;
				while ((fd = accept4(l, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					int slot = 0;
					while (slot < CONNS_MAX && conns[slot])
						slot++;
					if (slot == CONNS_MAX || (cn = calloc(1, sizeof *cn)) == NULL) {
						close(fd);
						continue;
					}
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
					cn->fd = fd;
					conns[slot] = cn;
					struct epoll_event e = { .events = EPOLLIN, .data.ptr = cn };
					if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) < 0)
						die("epoll_ctl");
				}
				continue;
			}
			ssize_t r = cn->inlen < sizeof cn->in ?
			    read(cn->fd, cn->in + cn->inlen, sizeof cn->in - cn->inlen) : 0;
			if (r == 0 || (r < 0 && errno != EAGAIN)) {
				/* Never freed: pending messages may point at it
				 * (a run's few disconnects leak a little). */
				for (int i = 0; i < CONNS_MAX; i++)
					if (conns[i] == cn)
						conns[i] = NULL;
				close(cn->fd);
				cn->fd = -1;
				cn->outlen = 0;
				continue;
			}
			if (r > 0) {
				cn->inlen += (size_t)r;
				on_input(cn);
			}
		}
		commit_and_answer();
	}
	printf("ackfloor: %llu commits, %llu messages durable (%.1f per commit)\n",
	    (unsigned long long)commits, (unsigned long long)durable,
	    commits ? (double)durable / (double)commits : 0.0);
	return 0;
}
