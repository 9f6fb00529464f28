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
 * Two options add, one at a time, what wk's architecture asks for, so the
 * floor of each part is measured (bench/README.md, "the architecture's
 * floor"); a third measures a layout wk does not have yet:
 *   -b  the turn's messages are stored as wk-channel stores them instead
 *       of the log: one Berkeley DB transaction (wk_db's environment, 16 KB
 *       pages, a checkpoint every second as wk.yaml's default) with a
 *       messages.db put keyed (channel, seq) and a
 *       clientmsgno.db put keyed (channel, client_msg_no, sender) per
 *       message, committed with fsync;
 *   -a  with -b, the append layout: messages.db keyed by the store's row
 *       id, so every record goes at the tree's end and pages fill once,
 *       and an index.db of (channel, seq) -> row id beside it (three puts
 *       a message where -b makes two);
 *   -z N  the storing is done by N other processes (a channel number
 *       picks one), each handed the turn's records for it in one ZeroMQ
 *       message over ipc while this one goes on reading, and answering with
 *       one per commit, as brokers hand their SENDs to channel shards.
 *
 *   ackfloor [-s fsync|none] [-a] [-b] [-z N] [-d dir] [-p port]
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
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>
#include "wk_buf.h"
#include "wk_crypto.h"
#include "wk_db.h"
#include "wk_time.h"
#include "wkproto.h"

#define CONNS_MAX	4096
#define UID_MAX		64
#define PENDING_MAX	65536	/* messages of one turn (a turn reads 64 KB per connection) */
#define PLAIN_MAX	512	/* a payload kept for the RECV */
#define CMN_MAX		64
/* A log record: id, seq, channel, the two uids, client_msg_no, payload
 * length, payload (the uids and client_msg_no NUL-padded). */
#define REC_HEAD	(8 + 4 + 8 + 2 * UID_MAX + CMN_MAX + 2)
#define RECORD_MAX	(REC_HEAD + PLAIN_MAX)
#define LOG_ROOM	((size_t)PENDING_MAX * RECORD_MAX)

struct conn {
	int fd, version, ready;
	uint32_t num;                       /* its own, never reused: a pair's channel number */
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

/* A message not yet answered, until its commit is durable. */
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
static struct pending *pend;          /* PENDING_MAX, the free ones in freel */
static uint32_t *freel;
static size_t nfree;

#define STORES_MAX	8
/* Where a channel's records go: this process's log (or B-trees), or with
 * -z one of the storing processes.  Each keeps the turn's records and its
 * unanswered messages in the order they came. */
struct store {
	uint8_t *log;                       /* the turn's records (8 bytes of room in front) */
	size_t loglen;
	uint32_t *fifo;                     /* slots of pend, oldest first: fh..ft (counters) */
	uint64_t fh, ft, turn_start;
	void *sock;                         /* -z: the PAIR socket to its process */
};
static struct store stores[STORES_MAX];
static int nstores = 1;
static struct conn *dirty;
static int logfd, sync_on = 1, by_bdb, by_child;    /* by_child: -z N */
static struct wk_db_env env;
static DB *db_msgs, *db_cmn, *db_index;
static int append_layout;             /* -a */
static uint64_t next_row = 1;         /* -a: the store's next row id */
static void *zctx, *zsock;            /* a storing process's own socket */
static volatile sig_atomic_t stop;
static uint64_t commits, durable, next_id = 1;
static uint32_t next_num;             /* the last connection's num */

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
 * its record in its store's turn, and the answers wait for the commit.
 * With all PENDING_MAX unanswered messages in flight it is refused with
 * reason 15, as wk's full queue is. */
static void
on_send(struct conn *c, uint8_t flags, const struct wkproto_send *s)
{
	struct pending *m;
	struct conn *to;
	uint8_t plain[PLAIN_MAX], *r;
	ssize_t n;

	if (nfree == 0 || s->client_msg_no.len > CMN_MAX) {
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
	uint32_t slot = freel[--nfree];
	m = &pend[slot];
	*m = (struct pending){ .from = c, .to = to, .client_seq = s->client_seq,
	    .seq = ++to->next_seq, .id = (int64_t)next_id++, .flags = flags,
	    .cmn_len = s->client_msg_no.len, .plain_len = (uint16_t)n };
	memcpy(m->cmn, s->client_msg_no.p, s->client_msg_no.len);
	memcpy(m->plain, plain, (size_t)n);
	/* The record (RECORD_MAX at most: LOG_ROOM holds PENDING_MAX of them). */
	uint64_t num = c->num < to->num ? (uint64_t)c->num << 32 | to->num :
	    (uint64_t)to->num << 32 | c->num;
	struct store *st = &stores[(num * 0x9e3779b97f4a7c15u >> 32) % (uint64_t)nstores];
	st->fifo[st->ft++ % PENDING_MAX] = slot;
	r = st->log + st->loglen;
	memset(r, 0, REC_HEAD);
	memcpy(r, &m->id, 8);
	memcpy(r + 8, &m->seq, 4);
	memcpy(r + 12, &num, 8);
	memcpy(r + 20, c->uid, strlen(c->uid));
	memcpy(r + 20 + UID_MAX, to->uid, strlen(to->uid));
	memcpy(r + 20 + 2 * UID_MAX, m->cmn, m->cmn_len);
	memcpy(r + 20 + 2 * UID_MAX + CMN_MAX, &m->plain_len, 2);
	memcpy(r + REC_HEAD, m->plain, (size_t)n);
	st->loglen += REC_HEAD + (size_t)n;
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

/* Records made durable: store_add takes a buffer of records (appended to
 * the log, or with -b put into the two B-trees in the open transaction),
 * store_commit makes all of them durable at once (one fdatasync, or the
 * transaction's commit). */
static DB_TXN *txn;

static void
store_add(const uint8_t *b, size_t len)
{
	uint8_t k[8 + 4], ck[8 + 2 + CMN_MAX + UID_MAX], v[12];

	if (!by_bdb) {
		if (write(logfd, b, len) != (ssize_t)len)
			die("log");
		return;
	}
	if (txn == NULL && env.env->txn_begin(env.env, NULL, &txn, 0) != 0)
		die("txn_begin");
	for (size_t off = 0; off + REC_HEAD <= len;) {
		const uint8_t *r = b + off;
		uint64_t num;
		uint16_t plen;
		size_t cl = strnlen((const char *)r + 20 + 2 * UID_MAX, CMN_MAX);
		size_t fl = strnlen((const char *)r + 20, UID_MAX);

		memcpy(&num, r + 12, 8);
		memcpy(&plen, r + 20 + 2 * UID_MAX + CMN_MAX, 2);
		wk_be64_put(k, num);
		memcpy(k + 8, r + 8, 4);
		wk_be64_put(ck, num);
		wk_be16_put(ck + 8, (uint16_t)cl);
		memcpy(ck + 10, r + 20 + 2 * UID_MAX, cl);
		memcpy(ck + 10 + cl, r + 20, fl);
		memcpy(v, r, 12);
		DBT key = { .data = k, .size = sizeof k };
		DBT data = { .data = (void *)r, .size = (u_int32_t)(REC_HEAD + plen) };
		DBT ckey = { .data = ck, .size = (u_int32_t)(10 + cl + fl) };
		DBT cdata = { .data = v, .size = sizeof v };
		if (db_cmn->put(db_cmn, txn, &ckey, &cdata, DB_NOOVERWRITE) != 0)
			die("put");
		if (append_layout) {
			/* The record under the next row id (always the tree's
			 * end: pages fill once), and (channel, seq) -> row id. */
			uint8_t rk[8];
			wk_be64_put(rk, next_row++);
			DBT rkey = { .data = rk, .size = sizeof rk };
			DBT rval = { .data = rk, .size = sizeof rk };
			if (db_msgs->put(db_msgs, txn, &rkey, &data, 0) != 0 ||
			    db_index->put(db_index, txn, &key, &rval, 0) != 0)
				die("put");
		} else if (db_msgs->put(db_msgs, txn, &key, &data, 0) != 0)
			die("put");
		off += REC_HEAD + plen;
	}
}

static void
store_commit(void)
{
	if (!by_bdb) {
		if (sync_on && fdatasync(logfd) < 0)
			die("fdatasync");
		return;
	}
	if (txn && txn->commit(txn, 0) != 0)
		die("commit");
	txn = NULL;
}

/* -z: the child's loop, as a channel shard's: every turn handed over since
 * its last commit (each a u32 count of messages, then their records)
 * stored in one commit, answered with the count made durable. */
static void
child_serve(void)
{
	zmq_msg_t m;
	int flags = 0;
	uint32_t n = 0;

	zmq_msg_init(&m);
	for (;;) {
		if (zmq_msg_recv(&m, zsock, flags) < 0) {
			if (errno != EAGAIN)
				break;
			store_commit();
			if (zmq_send(zsock, &n, sizeof n, 0) < 0)
				die("zmq_send");
			n = 0;
			flags = 0;
			continue;
		}
		if (zmq_msg_size(&m) < sizeof n)
			break;
		uint32_t k;
		memcpy(&k, zmq_msg_data(&m), sizeof k);
		n += k;
		store_add((uint8_t *)zmq_msg_data(&m) + sizeof k, zmq_msg_size(&m) - sizeof k);
		flags = ZMQ_DONTWAIT;
	}
	zmq_msg_close(&m);
}

/* Answer st's n oldest messages, now durable: SENDACK to the sender, the
 * RECV sealed for the receiver. */
static void
answer(struct store *st, uint64_t n)
{
	for (; n > 0 && st->fh < st->ft; n--) {
		uint32_t slot = st->fifo[st->fh++ % PENDING_MAX];
		struct pending *m = &pend[slot];
		struct wkproto_packet a = { .type = WKPROTO_SENDACK, .flags = m->flags };
		struct wkproto_packet r = { .type = WKPROTO_RECV, .flags = m->flags };
		char sealed[1024], key[WK_CRYPTO_MSGKEY_LEN];
		ssize_t len;

		durable++;
		a.sendack = (struct wkproto_sendack){ .message_id = m->id, .client_seq = m->client_seq,
		    .message_seq = m->seq, .reason_code = WKPROTO_REASON_SUCCESS };
		put(m->from, &a);
		if ((len = wk_crypto_encrypt(&m->to->cs, m->plain, m->plain_len, sealed, sizeof sealed)) < 0)
			die("encrypt");
		r.recv.from_uid = wk_str_of(m->from->uid);
		r.recv.channel_id = wk_str_of(m->from->uid);
		r.recv.channel_type = WKPROTO_CHANNEL_PERSON;
		r.recv.client_msg_no = wk_str_n(m->cmn, m->cmn_len);
		r.recv.message_id = m->id;
		r.recv.message_seq = m->seq;
		r.recv.timestamp = (uint32_t)(wk_wall_ms() / 1000);
		r.recv.payload = (struct wk_bytes){ (const uint8_t *)sealed, (size_t)len };
		if (wk_crypto_msgkey_recv(&m->to->cs, &r.recv, key) < 0)
			die("msgkey");
		r.recv.msg_key = wk_str_n(key, sizeof key);
		put(m->to, &r);
		freel[nfree++] = slot;
	}
}

/* The group commit, then the turn's answers: SENDACK to the sender, the
 * RECV sealed for the receiver, each connection's output in one write. */
static void
commit_and_answer(void)
{
	for (int i = 0; i < nstores; i++) {
		struct store *st = &stores[i];
		uint32_t k = (uint32_t)(st->ft - st->turn_start);

		if (!by_child && k > 0) {
			store_add(st->log, st->loglen);
			store_commit();
			commits++;
			answer(st, k);
		} else if (k > 0) {
			/* The count goes in front of the records. */
			memcpy(st->log - sizeof k, &k, sizeof k);
			if (zmq_send(st->sock, st->log - sizeof k, st->loglen + sizeof k, 0) < 0)
				die("zmq_send");
		}
		st->turn_start = st->ft;
		st->loglen = 0;
	}
	for (int i = 0; by_child && i < nstores; i++) {
		uint32_t k;
		while (zmq_recv(stores[i].sock, &k, sizeof k, ZMQ_DONTWAIT) == sizeof k) {
			commits++;
			answer(&stores[i], k);
		}
	}
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

/* -b: the environment and the two databases, as wk-channel opens them
 * (the i-th storing process's own with -z). */
static void
bdb_open(const char *dir, int i)
{
	char path[4096];

	snprintf(path, sizeof path, "%s/ackfloor.env.%d", dir, i);
	if (wk_db_env_open(&env, path, sync_on ? "fsync" : "none", 64 << 20) < 0 ||
	    wk_db_open(&env, "messages.db", 16384, &db_msgs) < 0 ||
	    wk_db_open(&env, "clientmsgno.db", 16384, &db_cmn) < 0 ||
	    (append_layout && wk_db_open(&env, "index.db", 16384, &db_index) < 0) ||
	    wk_db_checkpointer_start(&env, 1000) < 0)
		die("bdb");
}

/* -z: fork the storing processes (each binds its end of a PAIR socket over
 * ipc and stores into its own log or environment), then connect to them. */
static void
children_start(const char *dir)
{
	char ep[4200], path[4200];

	for (int i = 0; i < nstores; i++) {
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid > 0)
			continue;
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		snprintf(ep, sizeof ep, "ipc://%s/ackfloor.%d.ipc", dir, i);
		snprintf(path, sizeof path, "%s/ackfloor.%d.log", dir, i);
		close(logfd);
		if ((logfd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644)) < 0)
			die(path);
		zctx = zmq_ctx_new();
		if ((zsock = zmq_socket(zctx, ZMQ_PAIR)) == NULL || zmq_bind(zsock, ep) < 0)
			die("zmq_bind");
		if (by_bdb)
			bdb_open(dir, i);
		child_serve();
		exit(0);
	}
	zctx = zmq_ctx_new();
	for (int i = 0; i < nstores; i++) {
		snprintf(ep, sizeof ep, "ipc://%s/ackfloor.%d.ipc", dir, i);
		if ((stores[i].sock = zmq_socket(zctx, ZMQ_PAIR)) == NULL ||
		    zmq_connect(stores[i].sock, ep) < 0)
			die("zmq_connect");
	}
}

int
main(int argc, char **argv)
{
	const char *dir = ".";
	char path[4096];
	int port = 0, c, one = 1;

	while ((c = getopt(argc, argv, "s:abz:d:p:")) != -1) {
		if (c == 's')
			sync_on = strcmp(optarg, "none") != 0;
		else if (c == 'b')
			by_bdb = 1;
		else if (c == 'a')
			append_layout = by_bdb = 1;
		else if (c == 'z') {
			by_child = 1;
			nstores = atoi(optarg);
			if (nstores < 1 || nstores > STORES_MAX) {
				fprintf(stderr, "ackfloor: -z 1..%d\n", STORES_MAX);
				return 2;
			}
		}
		else if (c == 'd')
			dir = optarg;
		else if (c == 'p')
			port = atoi(optarg);
		else {
			fprintf(stderr, "usage: ackfloor [-s fsync|none] [-a] [-b] [-z N] [-d dir] [-p port]\n");
			return 2;
		}
	}
	snprintf(path, sizeof path, "%s/ackfloor.log", dir);
	if ((logfd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644)) < 0)
		die(path);
	if (by_child)
		children_start(dir);
	else if (by_bdb)
		bdb_open(dir, 0);
	pend = calloc(PENDING_MAX, sizeof *pend);
	freel = calloc(PENDING_MAX, sizeof *freel);
	if (pend == NULL || freel == NULL)
		die("malloc");
	for (nfree = 0; nfree < PENDING_MAX; nfree++)
		freel[nfree] = (uint32_t)(PENDING_MAX - 1 - nfree);
	for (int i = 0; i < nstores; i++) {
		stores[i].log = malloc(LOG_ROOM + 8);
		stores[i].fifo = calloc(PENDING_MAX, sizeof *stores[i].fifo);
		if (stores[i].log == NULL || stores[i].fifo == NULL)
			die("malloc");
		stores[i].log += 8;    /* room for -z's count in front */
	}
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
	for (int i = 0; by_child && i < nstores; i++) {
		/* The answers wake the loop; each turn reads all of them. */
		int zfd;
		size_t zl = sizeof zfd;
		struct epoll_event ze = { .events = EPOLLIN, .data.ptr = &zsock };
		if (zmq_getsockopt(stores[i].sock, ZMQ_FD, &zfd, &zl) < 0 ||
		    epoll_ctl(ep, EPOLL_CTL_ADD, zfd, &ze) < 0)
			die("ZMQ_FD");
	}
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
			if (cn == (void *)&zsock)
				continue;
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
					cn->num = ++next_num;
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
	for (int i = 0; by_child && i < nstores; i++)
		zmq_send(stores[i].sock, "", 0, 0);
	if (by_bdb && !by_child)
		wk_db_env_close(&env);
	printf("ackfloor: %llu commits, %llu messages durable (%.1f per commit)\n",
	    (unsigned long long)commits, (unsigned long long)durable,
	    commits ? (double)durable / (double)commits : 0.0);
	return 0;
}
