/* check_cluster.c - three trees on one machine as the three hosts of a
 * cluster (issue 18, wk-cluster(7)): host K runs its whole tree under its
 * own wk-master and rootDir, internal ports on 127.0.0.1K from one base,
 * client listeners on 127.0.0.1.  A group channel takes messages through
 * every host's HTTP API and brokers, whichever host masters its shard.
 *
 * kill_host: the host mastering the group's channel shard is killed with
 * SIGKILL, wk-master and all; sends go on through the other two (retried
 * with the same client_msg_no until one is acknowledged); the killed host
 * comes back and catches up; then the new master's host is killed in turn.
 * stopped_host: the master's host is frozen (SIGSTOP) and thawed; status is
 * sampled all along for two answering masters of one shard.
 *
 * Every send is sequential, so the acknowledgements have one order: each
 * must carry the next message_seq (1, 2, 3 ...: no gap, no reordering, no
 * message acknowledged twice).  At the end the channel read back through
 * /channel/messagesync, and then each host's own channel shard files opened
 * alone (no replication), must hold every acknowledged message exactly once
 * at its seq, with its payload, client_msg_no and sender.  The failover
 * times are printed; WKT_VERBOSE=1 prints every send. */
#include <check.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include "channel.h"
#include "wk_crypto.h"
#include "wk_db.h"
#include "wk_proc.h"
#include "wk_shard.h"
#include "wkclient.h"
#include "wktest.h"
#include "wkt_stream.h"

#define NHOSTS 4                 /* at most: three found the cluster, add_host adds one */
#define NFOUND 3
#define NSHARDS 2                /* processes.channel and .mailbox (wkt_write_config) */
#define NPORTS 1792              /* internal ports per host (wk-cluster(7)) */
#define GROUP "cluster-group"
#define MAXMSG 600
#define TRY_MS 2000L             /* one HTTP attempt; the copy holds up to 4 s */
#define SEND_DEADLINE_MS 30000   /* one message, retried, must be acknowledged by then */
#define SETTLE_MS 30000          /* elections and catching up */
/* A thawed master steps down within this.  It learns of the new master
 * from the replication heartbeats (monitor 2 s) or a reconnection (retry
 * 1 s): 3 s by design, and the sampler's own status calls lag behind on a
 * loaded machine (3,101 ms seen once in CI).  The margin is for that lag;
 * a master that serves on (the 30 s of lockouts fixed in 9c79fbb) still
 * fails. */
#define DUAL_MAX_MS 5000
#define API_TIMEOUT_MS 5000      /* wk-api's answer to a shard that never answers */

static const char *const addrs[NHOSTS] = { "127.0.0.11", "127.0.0.12", "127.0.0.13",
	"127.0.0.14" };
static const char *const roles[] = { "channel", "mailbox" };

static struct wkt_tree host[NHOSTS];
static atomic_int alive[NHOSTS];  /* its processes run (not killed) */
static atomic_int frozen = -1;    /* the host stopped with SIGSTOP, or -1 */
static int verbose, shard;        /* shard: the group's channel shard */
static int nhosts;                /* hosts prepared (the test's view of cluster.nodes) */
static int nsend;                 /* sends go through hosts 0..nsend-1 */
static int base;                  /* every host's first internal port */

/* A message, in the order of its acknowledgement (every send waits for
 * its answer before the next one goes). */
struct msg {
	char cmn[24];                /* client_msg_no, the same on every retry */
	char text[96];               /* payload, unique */
	char from[8];
	uint32_t seq;
	int64_t id;
	int via, tries;              /* the host that acknowledged it; attempts */
};
static struct msg msgs[MAXMSG];
static int nmsgs;
static uint64_t phase_end;        /* when set, every send must be done by then */

/* Host k's cluster section: `listed` hosts in cluster.nodes, those in
 * `out` (a bit per host) marked taken out, join: true with `join`. */
static void
write_cluster(int k, int listed, unsigned out, int join)
{
	char extra[512];
	int n;

	n = snprintf(extra, sizeof extra, "cluster:\n  node: %d\n  join: %s\n  nodes: [", k + 1,
	    join ? "true" : "false");
	for (int i = 0; i < listed; i++)
		n += snprintf(extra + n, sizeof extra - n, "%s\"%s%s:%d\"", i ? ", " : "",
		    (out >> i) & 1 ? "-" : "", addrs[i], base);
	snprintf(extra + n, sizeof extra - n, "]\n");
	if (host[k].dir == NULL)
		wkt_tree_prepare(&host[k], extra);
	else {
		/* The same tree on the same files and ports, its config rewritten. */
		char text[1024];
		snprintf(text, sizeof text, "addr: tcp://127.0.0.1:%d\nwsAddr: ws://127.0.0.1:%d\n"
		    "httpAddr: 127.0.0.1:%d\n%s", host[k].tcp_port, host[k].ws_port,
		    host[k].http_port, extra);
		free(wkt_write_config(host[k].dir, text));
	}
}

static void
setup(void)
{
	char err[256], dir[512];

	signal(SIGPIPE, SIG_IGN);
	verbose = getenv("WKT_VERBOSE") && atoi(getenv("WKT_VERBOSE")) > 0;
	nmsgs = 0;
	phase_end = 0;
	memset(msgs, 0, sizeof msgs);
	base = wkt_free_port_block(addrs, NHOSTS, NPORTS);
	ck_assert_msg(base > 0, "no block of %d ports free on 127.0.0.11-14 in 2000-9999", NPORTS);
	memset(host, 0, sizeof host);
	nhosts = nsend = NFOUND;
	for (int k = 0; k < nhosts; k++)
		write_cluster(k, NFOUND, 0, 0);
	for (int k = 0; k < nhosts; k++) {
		wkt_tree_launch(&host[k]);
		alive[k] = 1;
	}
	frozen = -1;
	/* The placement the trees use (their LAYOUT), for the group's shard. */
	snprintf(dir, sizeof dir, "%s/data", host[0].dir);
	ck_assert_msg(wk_shard_layout_load(dir, err, sizeof err) == 0, "%s", err);
	shard = wk_shard_channel(GROUP, strlen(GROUP), NSHARDS);
	if (verbose)
		fprintf(stderr, "cluster: base port %d, the group on channel shard %d\n", base, shard);
}

static void
teardown(void)
{
	for (int k = 0; k < nhosts; k++)
		wkt_tree_stop(&host[k]);
	for (int k = 0; k < NHOSTS; k++)
		alive[k] = 0;
}

/* ---- status ---- */

/* role/instance's `key` on host k as an integer; -1 when not answered. */
static long
field_int(int k, const char *role, int inst, const char *key)
{
	char v[32];

	return wkt_status_field(host[k].run, role, inst, key, v, sizeof v) ? atol(v) : -1;
}

/* Does role/instance on host k say rep=master? */
static int
is_master(int k, const char *role, int inst)
{
	char v[16];

	return wkt_status_field(host[k].run, role, inst, "rep", v, sizeof v) &&
	    strcmp(v, "master") == 0;
}

/* Has every shard one master among the running hosts, named by every
 * copy (rep_master), all caught up (rep_synced=1) and, with `lag`, none
 * behind the master (rep_lag=0)?  If not, why in `why`. */
static int
settled(int lag, char *why, size_t len)
{
	for (size_t r = 0; r < sizeof roles / sizeof roles[0]; r++)
		for (int i = 0; i < NSHARDS; i++) {
			long master = 0;
			for (int k = 0; k < nhosts; k++) {
				if (!alive[k])
					continue;
				long m = field_int(k, roles[r], i, "rep_master");
				long synced = field_int(k, roles[r], i, "rep_synced");
				int own = is_master(k, roles[r], i);
				if (m <= 0 || m > nhosts || !alive[m - 1] || (master && m != master) ||
				    own != (m == k + 1) || synced != 1 ||
				    (lag && !own && field_int(k, roles[r], i, "rep_lag") != 0)) {
					snprintf(why, len, "%s/%d on host %d: rep_master %ld (%s), "
					    "rep_synced %ld, rep_lag %ld", roles[r], i, k + 1, m,
					    own ? "master" : "not master", synced,
					    field_int(k, roles[r], i, "rep_lag"));
					return 0;
				}
				master = m;
			}
		}
	return 1;
}

/* Wait until settled (fails the test after SETTLE_MS).  With `lag`, the
 * copies' lag must be 0 as measured at least 1.5 s from now: a master
 * sends its end of log to its copies once a second (wk-cluster(7)), so an
 * earlier 0 may predate the last commits. */
static void
wait_settled(int lag, const char *when)
{
	uint64_t t0 = wkt_now_ms(), end = t0 + SETTLE_MS;
	char why[256] = "";

	while ((lag && wkt_now_ms() < t0 + 1500) || !settled(lag, why, sizeof why)) {
		ck_assert_msg(wkt_now_ms() < end, "cluster not settled %s in %d ms: %s", when,
		    SETTLE_MS, why);
		wkt_tick();
	}
	if (verbose)
		fprintf(stderr, "cluster: settled %s in %llu ms\n", when,
		    (unsigned long long)(wkt_now_ms() - t0));
}

/* The host whose copy of role/instance is master. */
static int
master_of(const char *role, int inst)
{
	for (int k = 0; k < nhosts; k++)
		if (alive[k] && k != frozen && is_master(k, role, inst))
			return k;
	ck_abort_msg("no host masters %s/%d", role, inst);
	return -1;
}

/* ---- sending ---- */

/* The next message: its number is its place in the order of
 * acknowledgements, and its seq must be that plus one. */
static struct msg *
new_msg(const char *from)
{
	struct msg *m;

	ck_assert_int_lt(nmsgs, MAXMSG);
	m = &msgs[nmsgs];
	snprintf(m->cmn, sizeof m->cmn, "cm-%d", nmsgs + 1);
	snprintf(m->text, sizeof m->text, "{\"type\":1,\"content\":\"cluster message %d from %s\"}",
	    nmsgs + 1, from);
	snprintf(m->from, sizeof m->from, "%s", from);
	return m;
}

/* m was acknowledged by host k with (seq, id), ms after it was first sent. */
static void
acked(struct msg *m, int k, uint32_t seq, int64_t id, uint64_t ms)
{
	m->seq = seq;
	m->id = id;
	m->via = k;
	if (verbose)
		fprintf(stderr, "cluster: %s via host %d (%s): seq %u, %d attempt%s, %llu ms\n",
		    m->cmn, k + 1, m->from[0] == 'w' ? "WKProto" : "HTTP", seq, m->tries,
		    m->tries == 1 ? "" : "s", (unsigned long long)ms);
	/* Sequential sends: the next seq, whatever host and failover. */
	ck_assert_msg(seq == (uint32_t)nmsgs + 1, "%s acknowledged by host %d with seq %u, want %d "
	    "(the previous acknowledgement had seq %u)", m->cmn, k + 1, seq, nmsgs + 1,
	    nmsgs ? msgs[nmsgs - 1].seq : 0);
	nmsgs++;
}

/* One HTTP attempt of m through host k, waiting up to ms: 1 if it was
 * acknowledged. */
static int
http_try_ms(int k, struct msg *m, uint32_t *seq, int64_t *id, long ms)
{
	char url[128], body[1024], p64[256], *resp = NULL;
	json_t *j, *d;
	long st;
	int ok;

	p64[wk_b64_encode(m->text, strlen(m->text), p64)] = '\0';
	snprintf(url, sizeof url, "%s/message/send", host[k].http);
	snprintf(body, sizeof body, "{\"from_uid\":\"%s\",\"channel_id\":\"" GROUP "\","
	    "\"channel_type\":2,\"client_msg_no\":\"%s\",\"payload\":\"%s\","
	    "\"header\":{\"red_dot\":1}}", m->from, m->cmn, p64);
	m->tries++;
	st = wkt_http_ms("POST", url, body, &resp, NULL, ms);
	j = st == 200 ? json_loads(resp, 0, NULL) : NULL;
	d = json_object_get(j, "data");
	ok = j && json_integer_value(json_object_get(j, "status")) == 200 &&
	    json_integer_value(json_object_get(d, "reason_code")) == 1 &&
	    json_integer_value(json_object_get(d, "message_seq")) > 0 &&
	    json_is_string(json_object_get(d, "client_msg_no")) &&
	    strcmp(json_string_value(json_object_get(d, "client_msg_no")), m->cmn) == 0;
	if (ok) {
		*seq = (uint32_t)json_integer_value(json_object_get(d, "message_seq"));
		*id = json_integer_value(json_object_get(d, "message_id"));
	} else if (verbose)
		fprintf(stderr, "cluster: %s via host %d: status %ld %.200s\n", m->cmn, k + 1, st,
		    resp ? resp : "");
	json_decref(j);
	free(resp);
	return ok;
}

static int
http_try(int k, struct msg *m, uint32_t *seq, int64_t *id)
{
	return http_try_ms(k, m, seq, id, TRY_MS);
}

/* Send the next message over HTTP, first through host `first`, then
 * through the next running host after each failure, the same message
 * each time, until one is acknowledged (30 s at most, which fails the
 * test).  ms since t0; UINT64_MAX when phase_end came first (the caller
 * fails the test after saying more). */
static uint64_t
http_send(int first, uint64_t t0)
{
	struct msg *m = new_msg("hs");
	uint64_t began = wkt_now_ms(), end = began + SEND_DEADLINE_MS;

	if (phase_end && phase_end < end)
		end = phase_end;
	uint32_t seq;
	int64_t id;

	for (int k = first % nsend;; k = (k + 1) % nsend) {
		if (!alive[k] || k == frozen)
			continue;
		if (http_try(k, m, &seq, &id)) {
			acked(m, k, seq, id, wkt_now_ms() - began);
			return wkt_now_ms() - t0;
		}
		if (wkt_now_ms() >= end && end == phase_end)
			return UINT64_MAX;
		ck_assert_msg(wkt_now_ms() < end, "%s not acknowledged in %llu ms (%d attempts)",
		    m->cmn, (unsigned long long)(wkt_now_ms() - began), m->tries);
		wkt_tick();
	}
}

/* A WKProto connection of uid to host k's brokers at protocol `version`
 * (its token set by make_group or the test). */
static struct wkc *
login_v(int k, const char *uid, int version)
{
	char token[32];
	struct wkc *c = wkc_connect_tcp("127.0.0.1", host[k].tcp_port);

	ck_assert_ptr_nonnull(c);
	snprintf(token, sizeof token, "tok-%s", uid);
	ck_assert_int_eq(wkc_handshake(c, uid, token, version, 1, "dev", NULL), 1);
	return c;
}

static struct wkc *
wk_login(int k, const char *uid)
{
	return login_v(k, uid, WKPROTO_VERSION_MAX);
}

/* The next message as a SEND of uid's connection c on host k: it must get
 * its SENDACK with reason 1 (the cluster is whole: no retry). */
static void
wk_send(struct wkc *c, int k, const char *uid)
{
	struct msg *m = new_msg(uid);
	struct wkproto_packet p;
	uint64_t began = wkt_now_ms();

	m->tries = 1;
	ck_assert_int_eq(wkc_send_msg(c, GROUP, 2, m->text, m->cmn, (uint32_t)nmsgs + 1, 0), 0);
	ck_assert_msg(wkc_expect(c, WKPROTO_SENDACK, &p, 10000) == 0, "%s: no SENDACK from host %d",
	    m->cmn, k + 1);
	ck_assert_uint_eq(p.sendack.client_seq, (uint32_t)nmsgs + 1);
	ck_assert_msg(p.sendack.reason_code == 1 && p.sendack.message_seq > 0,
	    "%s via host %d: SENDACK reason %d seq %u", m->cmn, k + 1, p.sendack.reason_code,
	    (unsigned)p.sendack.message_seq);
	acked(m, k, (uint32_t)p.sendack.message_seq, p.sendack.message_id, wkt_now_ms() - began);
}

/* Tokens for the WKProto senders and the group, its members added
 * through another host than the one that made it. */
static void
make_group(void)
{
	char uid[16];

	for (int k = 0; k < nhosts; k++) {
		snprintf(uid, sizeof uid, "wp%d", k + 1);
		char token[32];
		snprintf(token, sizeof token, "tok-%s", uid);
		wkt_set_token(&host[k], uid, token, 1, 0);
	}
	wkt_post_ok(&host[0], "/channel", "{\"channel_id\":\"" GROUP "\",\"channel_type\":2,"
	    "\"subscribers\":[\"hs\",\"wp1\"]}");
	wkt_post_ok(&host[1], "/channel/subscriber_add", "{\"channel_id\":\"" GROUP "\","
	    "\"channel_type\":2,\"subscribers\":[\"wp2\",\"wp3\",\"cu\"]}");
}

/* Sends round-robin over the hosts (the running ones) until `upto`
 * messages are acknowledged.  The time from t0 to the first
 * acknowledgement (t0 0: none wanted). */
static uint64_t
http_until(int upto, uint64_t t0)
{
	uint64_t first = 0;

	for (int i = 0; nmsgs < upto; i++) {
		uint64_t ms = http_send(i % nsend, t0);
		if (first == 0)
			first = t0 ? ms : 1;
	}
	return first;
}

/* ---- what is stored ---- */

struct rec {
	uint32_t seq;
	char cmn[24], from[8], text[160];
};

/* The group's messages through /channel/messagesync on host k, in seq
 * order; how many. */
static int
read_sync(int k, struct rec *out, int max)
{
	char url[128], *resp = NULL;
	json_t *j, *a, *e;
	size_t i;
	int n = 0;

	snprintf(url, sizeof url, "%s/channel/messagesync", host[k].http);
	ck_assert_int_eq(wkt_http("POST", url, "{\"login_uid\":\"hs\",\"channel_id\":\"" GROUP "\","
	    "\"channel_type\":2,\"start_message_seq\":1,\"end_message_seq\":0,\"limit\":10000,"
	    "\"pull_mode\":1}", &resp, NULL), 200);
	j = json_loads(resp, 0, NULL);
	a = json_object_get(j, "messages");
	ck_assert_msg(json_is_array(a), "messagesync on host %d: %s", k + 1, resp);
	json_array_foreach(a, i, e) {
		const char *cmn = json_string_value(json_object_get(e, "client_msg_no"));
		const char *from = json_string_value(json_object_get(e, "from_uid"));
		const char *p64 = json_string_value(json_object_get(e, "payload"));
		struct rec *r = &out[n];
		ssize_t len;

		ck_assert_int_lt(n, max);
		memset(r, 0, sizeof *r);
		r->seq = (uint32_t)json_integer_value(json_object_get(e, "message_seq"));
		snprintf(r->cmn, sizeof r->cmn, "%s", cmn ? cmn : "");
		snprintf(r->from, sizeof r->from, "%s", from ? from : "");
		len = p64 ? wk_b64_decode(p64, strlen(p64), (uint8_t *)r->text, sizeof r->text - 1) : -1;
		r->text[len > 0 ? len : 0] = '\0';
		n++;
	}
	json_decref(j);
	free(resp);
	return n;
}

struct store_walk {
	struct rec *out;
	int n, max;
};

static int
store_rec(const struct channel_msg *m, void *arg)
{
	struct store_walk *w = arg;
	struct rec *r;

	if (w->n >= w->max)
		return 1;
	r = &w->out[w->n++];
	memset(r, 0, sizeof *r);
	r->seq = m->seq;
	snprintf(r->cmn, sizeof r->cmn, "%.*s", (int)m->client_msg_no_len,
	    m->client_msg_no ? m->client_msg_no : "");
	snprintf(r->from, sizeof r->from, "%.*s", (int)m->from_uid_len,
	    m->from_uid ? m->from_uid : "");
	snprintf(r->text, sizeof r->text, "%.*s", (int)m->payload_len,
	    m->payload ? (const char *)m->payload : "");
	return 0;
}

/* The group's messages in host k's own files of its channel shard, opened
 * alone (recovery, no replication), its tree stopped. */
static int
read_store(int k, struct rec *out, int max)
{
	static struct wk_proc proc;
	struct store_walk w = { out, 0, max };
	char dir[512];
	long got;

	snprintf(dir, sizeof dir, "%s/data/channel-%d", host[k].dir, shard);
	memset(&proc, 0, sizeof proc);
	wkt_store_open(&proc, dir, channel_databases, channel_db_pagesize, "fsync");
	ck_assert_int_eq(channel_store_open(&proc), 0);
	got = channel_msg_range(&proc, GROUP, 2, 1, 0, 0, 0, store_rec, &w);
	channel_store_close(&proc);
	wkt_store_close(&proc);
	ck_assert_msg(got >= 0, "host %d: cannot read %s", k + 1, dir);
	ck_assert_int_lt(w.n, max);
	return w.n;
}

/* What one host holds, against the acknowledgements: seqs 1, 2, ...
 * without a gap; seq s up to `upto` is message s, the one acknowledged with
 * it (client_msg_no, sender and payload alike, so none is there twice);
 * with `exact` there is nothing else (every message, and only those, is
 * stored once).  Beyond upto, without exact, records a host committed as
 * master but never had acknowledged are left alone. */
static void
check_held(const char *what, const struct rec *r, int n, int upto, int exact)
{
	for (int i = 0; i < n; i++) {
		ck_assert_msg(r[i].seq == (uint32_t)i + 1, "%s: record %d has seq %u (a gap or a "
		    "reorder)", what, i, r[i].seq);
		if (i >= upto)
			continue;
		const struct msg *m = &msgs[i];
		ck_assert_msg(strcmp(r[i].cmn, m->cmn) == 0 && strcmp(r[i].from, m->from) == 0 &&
		    strcmp(r[i].text, m->text) == 0, "%s: seq %u is %s from %s \"%s\", acknowledged "
		    "as %s from %s \"%s\"", what, r[i].seq, r[i].cmn, r[i].from, r[i].text, m->cmn,
		    m->from, m->text);
	}
	ck_assert_msg(n >= upto, "%s: %d messages, %d acknowledged up to there", what, n, upto);
	if (exact)
		ck_assert_msg(n == upto, "%s: %d messages, %d acknowledged", what, n, upto);
}

static void
check_sync(int k)
{
	static struct rec r[MAXMSG + 64];
	char what[64];

	snprintf(what, sizeof what, "messagesync on host %d", k + 1);
	check_held(what, r, read_sync(k, r, MAXMSG + 64), nmsgs, 1);
}

static void
check_store(int k, int upto, int exact)
{
	static struct rec r[MAXMSG + 64];
	char what[64];
	int n;

	snprintf(what, sizeof what, "host %d's channel-%d files", k + 1, shard);
	n = read_store(k, r, MAXMSG + 64);
	check_held(what, r, n, upto, exact);
	fprintf(stderr, "cluster: %s hold %d messages, %d of them checked against the "
	    "acknowledgements\n", what, n, upto);
}

/* Every acknowledged message, once, in order, through each running host's
 * API; then they stop, for their files to be read. */
static void
sync_and_halt(void)
{
	for (int k = 0; k < nhosts; k++)
		if (alive[k])
			check_sync(k);
	for (int k = 0; k < nhosts; k++)
		if (alive[k])
			wkt_tree_halt(&host[k]);
}

/* kill -9 host k, wk-master and every child (a host lost at once). */
static void
kill_host(int k)
{
	wkt_tree_kill_all(&host[k]);
	alive[k] = 0;
}

/* Until `upto` messages are acknowledged: HTTP sends round-robin over the
 * hosts, and after every `every`-th of them (the one where i % every ==
 * at) a SEND through the next host's brokers, by its user wpN. */
static void
mixed_until(int upto, int every, int at)
{
	struct wkc *c[NHOSTS];
	char uid[16];

	for (int k = 0; k < nhosts; k++) {
		snprintf(uid, sizeof uid, "wp%d", k + 1);
		c[k] = wk_login(k, uid);
	}
	for (int i = 0; nmsgs < upto; i++) {
		http_send(i % nhosts, 0);
		if (i % every == at) {
			int k = (i / every) % nhosts;
			snprintf(uid, sizeof uid, "wp%d", k + 1);
			wk_send(c[k], k, uid);
		}
	}
	for (int k = 0; k < nhosts; k++)
		wkc_close(c[k]);
}

START_TEST(test_cluster_kill_host)
{
	uint64_t t0, ms;
	int victim, victim2, upto2;

	wait_settled(0, "at start");
	make_group();
	/* 60 over HTTP round-robin, two SENDs through each host's brokers. */
	mixed_until(66, 10, 9);

	/* The group's master host dies; the two others go on. */
	victim = master_of("channel", shard);
	t0 = wkt_now_ms();
	kill_host(victim);
	ms = http_until(160, t0);
	fprintf(stderr, "cluster: kill -9 of host %d (master of channel/%d): the first send "
	    "acknowledged %llu ms after\n", victim + 1, shard, (unsigned long long)ms);

	/* It comes back on the same files and catches up. */
	t0 = wkt_now_ms();
	wkt_tree_launch(&host[victim]);
	alive[victim] = 1;
	wait_settled(0, "after the restart");
	fprintf(stderr, "cluster: host %d back, every copy caught up, %llu ms after its start\n",
	    victim + 1, (unsigned long long)(wkt_now_ms() - t0));
	mixed_until(200, 12, 5);

	/* The new master's host dies too. */
	victim2 = master_of("channel", shard);
	upto2 = nmsgs;
	t0 = wkt_now_ms();
	kill_host(victim2);
	ms = http_until(240, t0);
	fprintf(stderr, "cluster: kill -9 of host %d (the new master of channel/%d): the first "
	    "send acknowledged %llu ms after\n", victim2 + 1, shard, (unsigned long long)ms);

	/* Every acknowledged message, once, in order: through each survivor's
	 * API, then in each host's own files. */
	sync_and_halt();
	for (int k = 0; k < nhosts; k++)
		if (k == victim2)
			check_store(k, upto2, 0);    /* all it acknowledged, as master */
		else
			check_store(k, nmsgs, 1);    /* a survivor: everything */
}
END_TEST

/* ---- stopped_host: the status sampler ---- */

struct sampler {
	pthread_t th;
	atomic_int stop;
	atomic_int clear;                 /* a round without two masters of a shard */
	int rounds, sightings, violations;
	uint64_t longest_ms;
	uint64_t dual_since[2][NSHARDS];  /* when a dual sighting began, 0: none */
	char first[256];                  /* the first violation */
	char seen[256];                   /* the first sighting */
};

/* Every ~50 ms: which answering process of each shard says rep=master.
 * Two at once while a host is frozen is a violation outright (both run
 * normally); after the thaw the old master may say so until it hears of
 * the new one (wk-cluster(7): it then exits), which must happen within
 * DUAL_MAX_MS.  Whether it acknowledged anything meanwhile is what the
 * stored messages tell (an acknowledged message lost or stored twice). */
static void *
sample(void *arg)
{
	struct sampler *s = arg;

	while (!s->stop) {
		uint64_t now = wkt_now_ms();
		int duals = 0;
		for (int r = 0; r < 2; r++)
			for (int i = 0; i < NSHARDS; i++) {
				int masters = 0, f = frozen, who[NHOSTS];
				for (int k = 0; k < nhosts; k++)
					if (alive[k] && k != f && is_master(k, roles[r], i))
						who[masters++] = k;
				if (masters < 2) {
					s->dual_since[r][i] = 0;
					continue;
				}
				duals++;
				if (s->dual_since[r][i] == 0) {
					s->dual_since[r][i] = now;
					if (s->sightings++ == 0)
						snprintf(s->seen, sizeof s->seen, "%s/%d on hosts %d and %d, "
						    "%s", roles[r], i, who[0] + 1, who[1] + 1,
						    f >= 0 ? "a host frozen" : "after the thaw");
				}
				uint64_t lasted = wkt_now_ms() - s->dual_since[r][i];
				if (lasted > s->longest_ms)
					s->longest_ms = lasted;
				if (f >= 0 || lasted > DUAL_MAX_MS) {
					if (s->violations++ == 0)
						snprintf(s->first, sizeof s->first, "%s/%d master on hosts %d "
						    "and %d at once, %s, for %llu ms", roles[r], i, who[0] + 1,
						    who[1] + 1, f >= 0 ? "while a host was frozen" :
						    "after the thaw", (unsigned long long)lasted);
				}
			}
		s->rounds++;
		s->clear = duals == 0;
		poll(NULL, 0, 50);
	}
	return NULL;
}

START_TEST(test_cluster_stopped_host)
{
	static struct sampler smp;
	struct wkc *c[NHOSTS];
	char uid[16];
	uint64_t t0, ms;
	int victim;

	wait_settled(0, "at start");
	make_group();
	for (int k = 0; k < nhosts; k++) {
		snprintf(uid, sizeof uid, "wp%d", k + 1);
		c[k] = wk_login(k, uid);
		wk_send(c[k], k, uid);
	}
	http_until(30, 0);

	/* Freeze the master's host: the others elect after the heartbeats. */
	victim = master_of("channel", shard);
	memset(&smp, 0, sizeof smp);
	ck_assert_int_eq(pthread_create(&smp.th, NULL, sample, &smp), 0);
	frozen = victim;                    /* before: the sampler asks it nothing */
	t0 = wkt_now_ms();
	ck_assert_int_gt(wkt_tree_signal(&host[victim], SIGSTOP), 0);
	ms = http_until(nmsgs + 1, t0);
	fprintf(stderr, "cluster: SIGSTOP of host %d (master of channel/%d): the first send "
	    "acknowledged %llu ms after\n", victim + 1, shard, (unsigned long long)ms);
	ck_assert_msg(ms < 15000, "writes resumed only %llu ms after the stop",
	    (unsigned long long)ms);
	http_until(nmsgs + 29, 0);

	/* Thaw it: 150 more through all three, within 30 s. */
	t0 = wkt_now_ms();
	wkt_tree_signal(&host[victim], SIGCONT);
	frozen = -1;
	phase_end = t0 + 30000;
	int thawed = nmsgs;
	while (nmsgs < thawed + 150 && http_send(nmsgs % nhosts, 0) != UINT64_MAX)
		;
	phase_end = 0;
	ms = wkt_now_ms() - t0;
	/* The sampler goes on until no shard has two masters (30 s after the
	 * thaw at most), so that the longest time is the whole of it. */
	smp.clear = 0;
	while (!smp.clear && wkt_now_ms() < t0 + 30000)
		wkt_tick();
	smp.stop = 1;
	pthread_join(smp.th, NULL);
	fprintf(stderr, "cluster: host %d thawed; %d sends acknowledged in %llu ms; %d status "
	    "rounds, %d times two masters of a shard answered at once (longest %llu ms%s%s)\n",
	    victim + 1, nmsgs - thawed, (unsigned long long)ms, smp.rounds, smp.sightings,
	    (unsigned long long)smp.longest_ms, smp.sightings ? "; first: " : "", smp.seen);
	ck_assert_msg(nmsgs == thawed + 150, "%d of 150 sends acknowledged within 30 s of the thaw",
	    nmsgs - thawed);
	ck_assert_msg(smp.violations == 0, "%d violations; the first: %s", smp.violations, smp.first);
	for (int k = 0; k < nhosts; k++)
		wkc_close(c[k]);

	/* Every copy caught up (none behind its master), then the counts. */
	wait_settled(1, "after the thaw");
	for (int k = 0; k < nhosts; k++)
		check_sync(k);
	for (int k = 0; k < nhosts; k++)
		wkt_tree_halt(&host[k]);
	for (int k = 0; k < nhosts; k++)
		check_store(k, nmsgs, 1);
}
END_TEST

/* ---- streams ---- */

#define SGROUP "cluster-stream"

/* Wait until host k's presence table holds a connection of each of the n
 * uids (/user/onlinestatus reads it): a connection made on one host
 * reaches the others' tables through its mailbox shard's master, a moment
 * after its CONNACK (wk-cluster(7), Presence and delivery), and a channel's
 * fan-out on host k sends live only to what its table holds. */
static void
wait_online(int k, const char *const *uids, int n)
{
	uint64_t t0 = wkt_now_ms();
	char url[128], body[256];
	size_t len = 0;

	snprintf(url, sizeof url, "%s/user/onlinestatus", host[k].http);
	len += (size_t)snprintf(body, sizeof body, "[");
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(body + len, sizeof body - len, "%s\"%s\"", i ? "," : "",
		    uids[i]);
	snprintf(body + len, sizeof body - len, "]");
	for (;;) {
		char *resp = NULL;
		int online = 0;
		if (wkt_http("POST", url, body, &resp, NULL) == 200 && resp) {
			json_t *a = json_loads(resp, 0, NULL);
			for (int i = 0; i < n; i++) {
				size_t j;
				json_t *e;
				int seen = 0;
				json_array_foreach(a, j, e) {
					const char *u = json_string_value(json_object_get(e, "uid"));
					seen |= u != NULL && strcmp(u, uids[i]) == 0;
				}
				online += seen;
			}
			json_decref(a);
		}
		free(resp);
		if (online == n)
			break;
		ck_assert_msg(wkt_now_ms() < t0 + SETTLE_MS, "host %d's presence table holds %d of "
		    "the %d users after %d ms", k + 1, online, n, SETTLE_MS);
		wkt_tick();
	}
	fprintf(stderr, "cluster: host %d sees the %d users online, %llu ms after they connected\n",
	    k + 1, n, (unsigned long long)(wkt_now_ms() - t0));
}

/* A stream in a group whose shard is mastered on host M: its sender (SENDs
 * with a stream number, version 2) on host A, members on host B (version
 * 5: EVENTs) and on M (version 2: stream RECVs); the business server ends
 * it through host B.  Every member, the sender included, gets every piece
 * in order whatever host holds its connection. */
START_TEST(test_cluster_streams)
{
	static const char *const pieces[] = { "one ", "two ", "three" };
	struct wkc *s, *r5, *r2;
	struct wkproto_packet pk;
	char payload[128], cmn[16], url[128], *resp = NULL;
	int64_t id = 0;
	int m, a, b;

	wait_settled(0, "at start");
	make_group();
	wkt_post_ok(&host[0], "/channel", "{\"channel_id\":\"" SGROUP "\",\"channel_type\":2,"
	    "\"subscribers\":[\"wp1\",\"wp2\",\"wp3\"]}");
	m = master_of("channel", wk_shard_channel(SGROUP, strlen(SGROUP), NSHARDS));
	a = (m + 1) % NFOUND;
	b = (m + 2) % NFOUND;
	s = login_v(a, "wp1", 2);
	r5 = login_v(b, "wp2", 5);
	r2 = login_v(m, "wp3", 2);
	wait_online(m, (const char *const[]){ "wp1", "wp2", "wp3" }, 3);
	for (int i = 0; i < 3; i++) {
		snprintf(payload, sizeof payload, "{\"type\":1,\"content\":\"%s\"}", pieces[i]);
		snprintf(cmn, sizeof cmn, "sp%d", i);
		ck_assert_int_eq(wkc_send_stream(s, SGROUP, 2, payload, cmn, (uint32_t)i + 1, "sn1"), 0);
		pk = wkt_next(s, WKPROTO_SENDACK, NULL);
		ck_assert_int_eq(pk.sendack.reason_code, 1);
		if (i == 0)
			id = pk.sendack.message_id;
		ck_assert_int_eq(pk.sendack.message_id, id);   /* the anchor's */
	}
	pk = wkt_next(r5, WKPROTO_RECV, NULL);
	ck_assert_int_eq(pk.recv.message_id, id);
	ck_assert(pk.recv.setting & WKPROTO_SETTING_STREAM);
	json_decref(wkt_expect_event(r5, "stream.delta", "sp1", NULL));
	json_decref(wkt_expect_event(r5, "stream.delta", "sp2", NULL));
	for (int i = 0; i < 3; i++)
		wkt_expect_piece(r2, i ? 1 : 0, (uint32_t)i, "sn1", pieces[i], NULL);
	snprintf(url, sizeof url, "%s/message/event", host[b].http);
	ck_assert_int_eq(wkt_http("POST", url, "{\"from_uid\":\"wp1\",\"channel_id\":\"" SGROUP
	    "\",\"channel_type\":2,\"client_msg_no\":\"sn1\",\"event_id\":\"end\","
	    "\"event_type\":\"stream.finish\"}", &resp, NULL), 200);
	free(resp);
	json_decref(wkt_expect_event(r5, "stream.finish", "end", NULL));
	wkt_expect_piece(r2, 2, 3, "sn1", "", NULL);
	wkt_expect_piece(s, 2, 3, "sn1", "", NULL);   /* the sender, on a third host */
	fprintf(stderr, "cluster: a stream sent on host %d, mastered on host %d, watched on hosts "
	    "%d and %d: every piece in order\n", a + 1, m + 1, b + 1, m + 1);
	wkc_close(s);
	wkc_close(r5);
	wkc_close(r2);
}
END_TEST

/* ---- no_master ---- */

static void *
kill_later(void *arg)
{
	poll(NULL, 0, 300);
	kill_host(*(int *)arg);
	return NULL;
}

/* First, sends lost with their master: the master's host is frozen, a
 * SEND and an HTTP send go through another host (its copy forwards them to
 * the frozen master), and the frozen host is killed.  The broker and wk-api
 * pass them again each second (same client_msg_no), so both are
 * acknowledged, once, after the others elect: not answered 500 at wk-api's
 * 5 s timeout, and the SEND not left without a SENDACK.
 *
 * Then two hosts of three killed: the one left has no quorum, so no master for
 * any shard.  What reaches it is held for a master (4 s), then refused
 * with a retryable error at once (wk-cluster(7)): HTTP 503, and a SEND's
 * SENDACK with the system-error reason, not silence until the sender's
 * own timeout.  Refused messages are not stored: with the hosts back, the
 * channel holds exactly what was acknowledged. */
START_TEST(test_cluster_no_master)
{
	char url[128], *resp = NULL, body[512];
	struct wkproto_packet pk;
	struct wkc *c;
	uint64_t t0;
	long st;
	int left;

	pthread_t th;
	uint32_t seq;
	int64_t id;
	int victim;

	wait_settled(0, "at start");
	make_group();
	http_until(5, 0);
	victim = master_of("channel", shard);
	left = (victim + 1) % NFOUND;
	c = wk_login(left, "wp1");   /* before: a login asks the mailbox shard's master */
	frozen = victim;
	ck_assert_int_gt(wkt_tree_signal(&host[victim], SIGSTOP), 0);
	ck_assert_int_eq(pthread_create(&th, NULL, kill_later, &victim), 0);
	/* Two sends in flight at once, a SEND and an HTTP send: the next two
	 * messages, in the order of their seqs once acknowledged. */
	t0 = wkt_now_ms();
	struct msg *ws = new_msg("wp1");
	nmsgs++;                            /* new_msg fills msgs[nmsgs]: the next slot */
	struct msg *hs = new_msg("hs");
	nmsgs--;
	uint32_t wseq;
	ws->tries = 1;
	ck_assert_int_eq(wkc_send_msg(c, GROUP, 2, ws->text, ws->cmn, 501, 0), 0);
	ck_assert_msg(http_try_ms(left, hs, &seq, &id, 10000), "the HTTP send in flight to a "
	    "dying master was not acknowledged");
	uint64_t http_ms = wkt_now_ms() - t0;
	ck_assert_msg(wkc_expect(c, WKPROTO_SENDACK, &pk, 10000) == 0, "the SEND in flight to a "
	    "dying master got no SENDACK");
	uint64_t send_ms = wkt_now_ms() - t0;
	pthread_join(th, NULL);
	frozen = -1;
	ck_assert_uint_eq(pk.sendack.client_seq, 501);
	ck_assert_int_eq(pk.sendack.reason_code, 1);
	wseq = (uint32_t)pk.sendack.message_seq;
	int64_t wid = pk.sendack.message_id;
	if (seq < wseq) {                   /* msgs[] in seq order: swap the two */
		struct msg t = msgs[nmsgs];
		msgs[nmsgs] = msgs[nmsgs + 1];
		msgs[nmsgs + 1] = t;
		acked(&msgs[nmsgs], left, seq, id, http_ms);
		acked(&msgs[nmsgs], left, wseq, wid, send_ms);
	} else {
		acked(&msgs[nmsgs], left, wseq, wid, send_ms);
		acked(&msgs[nmsgs], left, seq, id, http_ms);
	}
	fprintf(stderr, "cluster: sends forwarded to a master that died (killed 300 ms in): "
	    "the HTTP send acknowledged %llu ms after it was sent, the SEND %llu ms\n",
	    (unsigned long long)http_ms, (unsigned long long)send_ms);
	ck_assert_msg(http_ms < API_TIMEOUT_MS && send_ms < API_TIMEOUT_MS,
	    "acknowledged only after %llu and %llu ms", (unsigned long long)http_ms,
	    (unsigned long long)send_ms);
	for (int k = 0; k < NFOUND; k++)
		if (k != left && alive[k])
			kill_host(k);
	/* Until it knows there is none (a master on it would first fail a
	 * commit for want of a quorum and restart as a copy). */
	t0 = wkt_now_ms();
	while (is_master(left, "channel", shard) || field_int(left, "channel", shard,
	    "rep_master") != 0) {
		ck_assert_msg(wkt_now_ms() < t0 + SETTLE_MS, "host %d still names a master",
		    left + 1);
		wkt_tick();
	}
	t0 = wkt_now_ms();
	snprintf(url, sizeof url, "%s/message/send", host[left].http);
	snprintf(body, sizeof body, "{\"from_uid\":\"hs\",\"channel_id\":\"" GROUP "\","
	    "\"channel_type\":2,\"client_msg_no\":\"refused-1\",\"payload\":\"aGk=\"}");
	st = wkt_http_ms("POST", url, body, &resp, NULL, 8000);
	fprintf(stderr, "cluster: no master: HTTP send answered %ld in %llu ms: %.160s\n", st,
	    (unsigned long long)(wkt_now_ms() - t0), resp ? resp : "");
	ck_assert_msg(st == 503 && resp && strstr(resp, "no master") != NULL,
	    "HTTP send without a master: %ld %s", st, resp ? resp : "");
	free(resp);

	t0 = wkt_now_ms();
	ck_assert_int_eq(wkc_send_msg(c, GROUP, 2, "{\"type\":1,\"content\":\"refused\"}",
	    "refused-2", 77, 0), 0);
	ck_assert_msg(wkc_expect(c, WKPROTO_SENDACK, &pk, 8000) == 0,
	    "no SENDACK without a master within 8 s");
	fprintf(stderr, "cluster: no master: SENDACK reason %d in %llu ms\n", pk.sendack.reason_code,
	    (unsigned long long)(wkt_now_ms() - t0));
	ck_assert_uint_eq(pk.sendack.client_seq, 77);
	ck_assert_int_eq(pk.sendack.reason_code, WKPROTO_REASON_SYSTEM_ERROR);
	wkc_close(c);

	/* The others back: exactly the five acknowledged, nothing refused. */
	for (int k = 0; k < NFOUND; k++)
		if (k != left) {
			wkt_tree_launch(&host[k]);
			alive[k] = 1;
		}
	wait_settled(0, "with the hosts back");
	http_until(nmsgs + 2, 0);
	sync_and_halt();
}
END_TEST

/* ---- add_host ---- */

/* Host k stopped (SIGTERM), its config rewritten, started again. */
static void
restart_host(int k, int listed, unsigned out, int join)
{
	wkt_tree_halt(&host[k]);
	alive[k] = 0;
	write_cluster(k, listed, out, join);
	wkt_tree_launch(&host[k]);
	alive[k] = 1;
}

/* Does every shard on every running host count `sites` sites in its group
 * (rep_sites: the replication manager's membership)?  If not, which not
 * in `why`. */
static int
have_sites(int sites, char *why, size_t len)
{
	for (int k = 0; k < nhosts; k++)
		for (size_t r = 0; alive[k] && r < sizeof roles / sizeof roles[0]; r++)
			for (int i = 0; i < NSHARDS; i++) {
				long got = field_int(k, roles[r], i, "rep_sites");
				if (got != sites) {
					snprintf(why, len, "%s/%d on host %d counts %ld", roles[r], i, k + 1,
					    got);
					return 0;
				}
			}
	return 1;
}

/* Every host's replication lines from its master.log, on stderr: what a
 * group's membership went through, for a failure seen only in CI. */
static void
dump_replication_logs(void)
{
	char path[4200], line[1024];

	for (int k = 0; k < nhosts; k++) {
		snprintf(path, sizeof path, "%s/master.log", host[k].dir);
		FILE *f = fopen(path, "r");
		if (f == NULL)
			continue;
		fprintf(stderr, "cluster: host %d (%s), master.log's replication lines:\n", k + 1,
		    alive[k] ? "running" : "stopped");
		while (fgets(line, sizeof line, f))
			if (strstr(line, "replication") || strstr(line, "cluster:"))
				fprintf(stderr, "  %s", line);
		fclose(f);
	}
}

/* Wait until have_sites (fails the test after SETTLE_MS, with every host's
 * replication log lines on stderr). */
static void
wait_sites(int sites, const char *when)
{
	uint64_t t0 = wkt_now_ms();
	char why[128] = "";

	while (!have_sites(sites, why, sizeof why)) {
		if (wkt_now_ms() >= t0 + SETTLE_MS) {
			dump_replication_logs();
			ck_abort_msg("%s: %s sites in its group, not %d, after %d ms", when, why,
			    sites, SETTLE_MS);
		}
		wkt_tick();
	}
	fprintf(stderr, "cluster: every group has %d sites %s, %llu ms\n", sites, when,
	    (unsigned long long)(wkt_now_ms() - t0));
}

/* The procedure of wk-cluster(7): a fourth host joins the running cluster
 * (cluster.join: a copy of every shard, never elected), the three are
 * restarted one at a time with the longer list, then the new host without
 * join (electable), and it serves; then host 1 is taken out ("-host:port"
 * on the others, restarted in turn) and the masters remove its copies
 * from every group, so that two hosts of the three left elect a master
 * when a third is killed (with host 1 still counted, 2 of 4 could not). */
START_TEST(test_cluster_add_host)
{
	struct wkc *c;
	uint64_t t0, ms;
	int victim, upto_out, upto_victim;

	wait_settled(0, "at start");
	make_group();
	http_until(40, 0);

	/* Host 4 joins: each of its shards is added to its group and copies it. */
	t0 = wkt_now_ms();
	nhosts = 4;
	write_cluster(3, 4, 0, 1);
	wkt_tree_launch(&host[3]);
	alive[3] = 1;
	wait_settled(1, "with host 4 joined");
	wait_sites(4, "after host 4 joined");
	fprintf(stderr, "cluster: host 4 joined, every copy caught up, %llu ms after its start\n",
	    (unsigned long long)(wkt_now_ms() - t0));
	http_until(60, 0);

	/* The founders learn of it, one at a time; writes go on between. */
	for (int k = 0; k < NFOUND; k++) {
		restart_host(k, 4, 0, 0);
		wait_settled(0, "after a founder's restart");
		http_until(nmsgs + 15, 0);
	}
	restart_host(3, 4, 0, 0);   /* listed everywhere now: electable */
	wait_settled(0, "after host 4's restart");
	nsend = 4;
	wkt_set_token(&host[3], "wp4", "tok-wp4", 1, 0);
	wkt_post_ok(&host[3], "/channel/subscriber_add", "{\"channel_id\":\"" GROUP "\","
	    "\"channel_type\":2,\"subscribers\":[\"wp4\"]}");
	c = wk_login(3, "wp4");
	for (int i = 0; i < 3; i++)
		wk_send(c, 3, "wp4");
	wkc_close(c);
	http_until(nmsgs + 40, 0);
	wait_settled(1, "four hosts serving");

	/* Host 1 goes: stopped, marked taken out on the others in turn. */
	upto_out = nmsgs;
	wkt_tree_halt(&host[0]);
	alive[0] = 0;
	nsend = 4;
	http_until(nmsgs + 10, 0);
	for (int k = 1; k < 4; k++) {
		restart_host(k, 4, 1u, 0);
		wait_settled(0, "after a restart with host 1 taken out");
		http_until(nmsgs + 10, 0);
	}
	wait_sites(3, "after host 1 was taken out");

	/* Two of the three left elect a master: kill -9 the group's. */
	for (int k = 0; k < nhosts; k++) {
		char v[64] = "";
		if (alive[k] && wkt_status_field(host[k].run, "channel", shard, "rep_up", v, sizeof v))
			fprintf(stderr, "cluster: host %d's channel/%d connected with hosts %s\n", k + 1,
			    shard, v);
	}
	victim = master_of("channel", shard);
	upto_victim = nmsgs;
	t0 = wkt_now_ms();
	kill_host(victim);
	ms = http_until(nmsgs + 20, t0);
	fprintf(stderr, "cluster: kill -9 of host %d (master of channel/%d) with host 1 taken "
	    "out: the first send acknowledged %llu ms after\n", victim + 1, shard,
	    (unsigned long long)ms);

	sync_and_halt();
	for (int k = 0; k < nhosts; k++)
		if (k == 0)
			check_store(k, upto_out, 0);      /* all until it left */
		else if (k == victim)
			check_store(k, upto_victim, 0);
		else
			check_store(k, nmsgs, 1);         /* host 4 among them: everything */
}
END_TEST

/* One case per test, so that CK_RUN_CASE=stopped_host runs one alone. */
static void
add_case(Suite *s, const char *name, const TTest *test, int timeout_s)
{
	TCase *tc = tcase_create(name);

	tcase_set_timeout(tc, timeout_s);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test);
	suite_add_tcase(s, tc);
}

int
main(void)
{
	Suite *s = suite_create("cluster");

	add_case(s, "kill_host", test_cluster_kill_host, 150);
	add_case(s, "stopped_host", test_cluster_stopped_host, 150);
	add_case(s, "streams", test_cluster_streams, 150);
	add_case(s, "no_master", test_cluster_no_master, 150);
	add_case(s, "add_host", test_cluster_add_host, 300);
	return wkt_run_suite(s);
}
