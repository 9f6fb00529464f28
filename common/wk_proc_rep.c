/* wk_proc_rep.c - a replicated shard's routing in a cluster (wk_proc_rep.h,
 * wk-cluster(7)). */
#include <stdlib.h>
#include <string.h>
#include "wk_alloc.h"
#include "wk_answer.h"
#include "wk_buf.h"
#include "wk_cluster.h"
#include "wk_db.h"
#include "wk_log.h"
#include "wk_proc.h"
#include "wk_proc_rep.h"
#include "wk_rep.h"
#include "wk_time.h"

struct held {
	zmsg_t *m;
	uint64_t at_ms;
};

struct wk_proc_rep {
	struct wk_rep rep;           /* written by the replication manager's threads */
	int master;                  /* the master's node, 0 while unknown */
	uint64_t next_ask_ms, seen_changes;
	struct held *ring;           /* WK_PROC_REP_HOLD_MAX, oldest at head */
	size_t head, n;
	uint64_t forwarded, held, expired, refused, master_changes;
	/* Replication lag in bytes of log: a copy's behind its master; the
	 * master's view of each copy (UINT64_MAX: no answer lately). */
	uint64_t lag, copy_lag[WK_CLUSTER_MAX + 1], copy_seen_ms[WK_CLUSTER_MAX + 1];
	uint64_t next_lsn_ms;
	uint64_t next_retire_ms;     /* when to look for retired hosts' copies again */
	DB *mark;                    /* the master's commit marker (wk_proc_rep_mark) */
	uint64_t marks;
	uint64_t retired;            /* copies this master took out of the group */
};

#define LSN_MS 1000            /* the master's end of log to its copies */
#define LSN_STALE_MS 3000      /* a copy silent this long shows no lag */
#define RETIRE_MS 5000         /* the master's look for retired hosts' copies */

static struct wk_ratelimit rl_rep = WK_RATELIMIT_INIT(5);

#define REFUSED_MSG "no master for this shard now (a cluster election); retry, with the " \
	"same client_msg_no for a message"

/* A message this copy will not serve or pass on (msg: the header frame
 * first, as routed): its sender, if it waits for an answer, gets a
 * retryable error now rather than its own timeout (wk-cluster(7)). */
static void
refuse(struct wk_proc *p, zmsg_t **msg)
{
	zframe_t *hf = zmsg_pop(*msg);
	struct wk_msg_hdr h;

	if (hf && wk_msg_hdr_decode(zframe_data(hf), zframe_size(hf), &h) == 0 &&
	    !(h.flags & WK_MSG_F_REPLY)) {
		if (h.sender_role == WK_ROLE_API) {
			struct wk_answer *a = wk_answer_new(&h);
			wk_answer_error(a, 503, REFUSED_MSG);
			wk_answer_send(p, 0, a);
		} else if (p->def->on_refused)
			p->def->on_refused(p, &h, *msg);
	}
	zframe_destroy(&hf);
	zmsg_destroy(msg);
}

int
wk_proc_rep_open(struct wk_proc *p, struct wk_db_env *env, const char *dir)
{
	struct wk_rep_config rc;
	struct wk_proc_rep *r;

	if (wk_cluster_rep_config(&p->cfg, p->def->role, p->instance, &rc) < 0) {
		wk_log_warnx("cluster: no replication sites for %s/%d", wk_role_name(p->def->role),
		    p->instance);
		return -1;
	}
	r = wk_calloc(1, sizeof *r);
	r->ring = wk_calloc(WK_PROC_REP_HOLD_MAX, sizeof *r->ring);
	if (wk_db_env_open_rep(env, dir, p->cfg.storage_sync, p->cfg.storage_cacheSize,
	    &r->rep, &rc) < 0) {
		free(r->ring);
		free(r);
		return -1;
	}
	wk_log_info("replication site %s:%u with %d other hosts", rc.self.host, rc.self.port,
	    rc.npeers);
	p->rep = r;
	return 0;
}

void
wk_proc_rep_free(struct wk_proc *p)
{
	struct wk_proc_rep *r = p->rep;

	if (r == NULL)
		return;
	for (; r->n; r->n--, r->head = (r->head + 1) % WK_PROC_REP_HOLD_MAX)
		zmsg_destroy(&r->ring[r->head].m);
	if (r->mark)
		r->mark->close(r->mark, 0);
	free(r->ring);
	free(r);
	p->rep = NULL;
}

static void
hold(struct wk_proc *p, zmsg_t *msg, uint64_t at_ms)
{
	struct wk_proc_rep *r = p->rep;

	if (r->n == WK_PROC_REP_HOLD_MAX) {
		r->refused++;
		wk_log_limited(&rl_rep, WK_LOG_WARN, "cluster: %d messages wait for a master: "
		    "refused one", WK_PROC_REP_HOLD_MAX);
		refuse(p, &msg);
		return;
	}
	r->ring[(r->head + r->n++) % WK_PROC_REP_HOLD_MAX] = (struct held){ msg, at_ms };
	r->held++;
}

static zmsg_t *
unhold(struct wk_proc_rep *r)
{
	zmsg_t *m = r->ring[r->head].m;

	r->ring[r->head].m = NULL;
	r->head = (r->head + 1) % WK_PROC_REP_HOLD_MAX;
	r->n--;
	return m;
}

void
wk_proc_rep_route(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg)
{
	struct wk_proc_rep *r = p->rep;
	uint8_t hb[WK_MSG_HDR_SIZE];

	/* The dispatcher took the header off: it goes on again, as it came. */
	wk_msg_hdr_encode(h, hb);
	zmsg_pushmem(msg, hb, sizeof hb);
	/* Forwarded once already, and the master moved on the way: passing it
	 * again could bounce it between two copies with different views. */
	if ((h->flags & WK_MSG_F_FORWARDED) && r->rep.role != WK_REP_MASTER) {
		r->refused++;
		refuse(p, &msg);
		return;
	}
	if (r->master && r->master != p->node && r->n == 0) {
		wk_proc_forward(p, r->master, &msg);
		r->forwarded++;
		return;
	}
	if (h->flags & WK_MSG_F_AGAIN) {
		r->refused++;
		refuse(p, &msg);
		return;
	}
	hold(p, msg, wk_now_ms());
}

/* The master changed from `old`: what still waits in our batch for the
 * old master's host (it stopped taking messages) is held again, ahead of
 * what is held already, to go to the new one. */
static void
retake(struct wk_proc *p, int old)
{
	struct wk_proc_rep *r = p->rep;
	struct wk_wbuf b;
	struct wk_rbuf rb;
	zmsg_t *m;
	uint64_t now = wk_now_ms();
	size_t keep = r->n;

	wk_wbuf_init(&b);
	if (old != 0 && old != p->node &&
	    wk_proc_take_waiting(p, old, p->def->role, p->instance, &b) > 0) {
		wk_rbuf_init(&rb, b.p, b.len);
		while ((m = wk_msg_batch_next(&rb)) != NULL) {
			zframe_data(zmsg_first(m))[3] &= (uint8_t)~WK_MSG_F_FORWARDED;
			hold(p, m, now);
		}
		/* The ones held before go after them: rotate the ring. */
		for (size_t i = 0; i < keep && r->n > keep; i++)
			hold(p, unhold(r), now);
	}
	wk_wbuf_free(&b);
}

/* This site's end of log as one number: file * the log file size + offset. */
static uint64_t
lsn_bytes(uint32_t file, uint32_t offset, const struct wk_proc *p)
{
	uint32_t max = 0;

	p->env->env->get_lg_max(p->env->env, &max);
	return (uint64_t)file * (max ? max : 10u << 20) + offset;
}

static int
own_lsn(const struct wk_proc *p, uint32_t *file, uint32_t *offset)
{
	DB_LOG_STAT *st;

	if (p->env->env->log_stat(p->env->env, &st, 0) != 0)
		return -1;
	*file = st->st_cur_file;
	*offset = st->st_cur_offset;
	free(st);
	return 0;
}

/* The master's end of log to every copy (REP_LSN). */
static void
send_lsn(struct wk_proc *p)
{
	struct wk_wbuf b;
	uint32_t file, offset;
	int hosts = wk_cluster_count(&p->cfg);

	if (own_lsn(p, &file, &offset) < 0)
		return;
	wk_wbuf_init(&b);
	wk_put_u32(&b, file);
	wk_put_u32(&b, offset);
	for (int node = 1; node <= hosts; node++)
		if (node != p->node && wk_cluster_member(&p->cfg, node))
			wk_proc_send_buf_to(p, node, p->def->role, p->instance, WK_MSG_REP_LSN, 0, &b);
	wk_wbuf_free(&b);
}

/* REP_LSN: on a copy, the master's end of log (answered with ours); on the
 * master, a copy's answer. */
void
wk_proc_rep_on_lsn(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg)
{
	struct wk_proc_rep *r = p->rep;
	zframe_t *f = zmsg_first(msg);
	struct wk_rbuf rb;
	uint32_t file, offset, of, oo;
	uint64_t theirs, ours;

	wk_rbuf_init(&rb, zframe_data(f), zframe_size(f));
	file = wk_get_u32(&rb);
	offset = wk_get_u32(&rb);
	if (r == NULL || wk_rbuf_done(&rb) < 0 || h->sender_node < 1 ||
	    h->sender_node > WK_CLUSTER_MAX || own_lsn(p, &of, &oo) < 0)
		return;
	theirs = lsn_bytes(file, offset, p);
	ours = lsn_bytes(of, oo, p);
	if (h->flags & WK_MSG_F_REPLY) {
		r->copy_lag[h->sender_node] = ours > theirs ? ours - theirs : 0;
		r->copy_seen_ms[h->sender_node] = wk_now_ms();
		return;
	}
	if (p->started || h->sender_node != r->master)
		return;
	r->lag = theirs > ours ? theirs - ours : 0;
	uint8_t d[8];
	zmsg_t *m = zmsg_new();
	wk_be32_put(d, of);
	wk_be32_put(d + 4, oo);
	zmsg_addmem(m, d, sizeof d);
	wk_proc_reply(p, h, WK_MSG_REP_LSN, &m);
}

int
wk_proc_rep_mark(struct wk_proc *p, DB_TXN *txn)
{
	struct wk_proc_rep *r = p->rep;
	uint8_t v[8];
	DBT k = { .data = "mark", .size = 4 }, d = { .data = v, .size = sizeof v };
	int rc;

	if (r->mark == NULL) {
		if ((rc = db_create(&r->mark, p->env->env, 0)) == 0)
			rc = r->mark->open(r->mark, NULL, "rep-mark.db", NULL, DB_BTREE,
			    DB_CREATE | DB_AUTO_COMMIT | DB_THREAD, 0644);
		if (rc != 0) {
			wk_log_warnx("cluster: open rep-mark.db: %s", db_strerror(rc));
			if (r->mark)
				r->mark->close(r->mark, 0);
			r->mark = NULL;
			return -1;
		}
	}
	wk_be64_put(v, ++r->marks);
	if ((rc = r->mark->put(r->mark, txn, &k, &d, 0)) != 0) {
		wk_log_warnx("cluster: commit marker: %s", db_strerror(rc));
		return -1;
	}
	return 0;
}

/* The master takes the copies of hosts marked retired in cluster.nodes
 * ("-host:port") out of its group, so elections and the quorum count the
 * hosts that remain (wk-cluster(7), TAKING A HOST OUT).  Removing waits for
 * acknowledgements: rare, and only when something is to be removed. */
static void
remove_retired(struct wk_proc *p)
{
	struct wk_rep_site s;

	for (int node = 1; node <= wk_cluster_count(&p->cfg); node++)
		if (wk_cluster_retired_site(&p->cfg, node, p->def->role, p->instance, &s) == 0 &&
		    wk_rep_remove_site(p->env->env, &s) == 1)
			p->rep->retired++;
}

/* Ask the replication manager which site is master, as a node. */
static int
ask_master(struct wk_proc *p)
{
	char host[64];
	unsigned port;
	int node;

	if (p->rep->rep.role == WK_REP_MASTER)
		return p->node;
	if (wk_rep_master_addr(p->env->env, host, sizeof host, &port) < 0)
		return 0;
	node = wk_cluster_node_of(&p->cfg, p->def->role, p->instance, host, port);
	/* The manager names the last master until an election ends, which
	 * without a quorum is never: one this site has no connection with is
	 * taken for none, so what comes is held, then refused, not sent to a
	 * host that is gone. */
	return node && wk_proc_rep_node_up(p, node) ? node : 0;
}

int
wk_proc_rep_poll(struct wk_proc *p)
{
	struct wk_proc_rep *r = p->rep;
	uint64_t now = wk_now_ms();
	int role = r->rep.role;

	if (p->started) {
		/* Another site won an election while we served: what we commit
		 * now is rolled back when we rejoin.  Start again as a copy. */
		if (role != WK_REP_MASTER)
			wk_fatalx("cluster: no longer the master of this shard; restarting as a copy");
		if (now >= r->next_lsn_ms) {
			r->next_lsn_ms = now + LSN_MS;
			send_lsn(p);
		}
		if (now >= r->next_retire_ms) {
			r->next_retire_ms = now + RETIRE_MS;
			remove_retired(p);
		}
		return 0;
	}
	if (now >= r->next_ask_ms || r->rep.role_changes != r->seen_changes) {
		int m = ask_master(p);
		r->seen_changes = r->rep.role_changes;
		r->next_ask_ms = now + WK_PROC_REP_ASK_MS;
		if (m != r->master) {
			int old = r->master;
			r->master = m;
			r->master_changes++;
			wk_log_info("cluster: master of this shard is %s%d", m ? "node " : "unknown ",
			    m);
			retake(p, old);
		}
	}
	/* Held ones in order: expired dropped, the rest to a known master. */
	while (r->n) {
		int old = now - r->ring[r->head].at_ms >= WK_PROC_REP_HOLD_MS;
		if (!old && !(r->master && r->master != p->node))
			break;
		zmsg_t *m = unhold(r);
		if (old) {
			r->expired++;
			wk_log_limited(&rl_rep, WK_LOG_WARN, "cluster: a message found no master "
			    "within %d ms: refused (%llu so far)", WK_PROC_REP_HOLD_MS,
			    (unsigned long long)r->expired);
			refuse(p, &m);
			continue;
		}
		wk_proc_forward(p, r->master, &m);
		r->forwarded++;
	}
	return role == WK_REP_MASTER;
}

void
wk_proc_rep_serve_held(struct wk_proc *p, void (*handle)(struct wk_proc *, zmsg_t *))
{
	struct wk_proc_rep *r = p->rep;

	while (r->n)
		handle(p, unhold(r));
}

int
wk_proc_rep_status(const struct wk_proc *p, char *buf, size_t len)
{
	const struct wk_proc_rep *r = p->rep;
	int role = r->rep.role;

	uint64_t now = wk_now_ms();
	int n = snprintf(buf, len, " rep=%s rep_master=%d rep_synced=%d rep_changes=%llu "
	    "forwarded=%llu rep_held=%zu rep_expired=%llu rep_refused=%llu rep_retired=%llu "
	    "rep_sites=%d",
	    p->started ? "master" : r->rep.removed ? "removed" :
	    role == WK_REP_STARTING ? "starting" : "copy", r->master,
	    p->started || r->rep.synced, (unsigned long long)r->master_changes,
	    (unsigned long long)r->forwarded, r->n, (unsigned long long)r->expired,
	    (unsigned long long)r->refused, (unsigned long long)r->retired,
	    wk_rep_sites(p->env->env));

	/* The hosts whose copies the replication manager is connected with. */
	struct wk_rep_site up[WK_REP_MAX_PEERS];
	int nup = wk_rep_connected(p->env->env, up, WK_REP_MAX_PEERS);
	for (int i = 0; i < nup && n > 0 && (size_t)n < len; i++)
		n += snprintf(buf + n, len - n, "%s%d", i ? "," : " rep_up=",
		    wk_cluster_node_of(&p->cfg, p->def->role, p->instance, up[i].host, up[i].port));
	/* The lag: a copy's own, or the master's list node:bytes ("-": silent). */
	if (!p->started && n > 0 && (size_t)n < len)
		n += snprintf(buf + n, len - n, " rep_lag=%llu", (unsigned long long)r->lag);
	for (int node = 1, first = 1; p->started && node <= wk_cluster_count(&p->cfg); node++) {
		if (node == p->node || !wk_cluster_member(&p->cfg, node) || n <= 0 || (size_t)n >= len)
			continue;
		if (r->copy_seen_ms[node] && now - r->copy_seen_ms[node] < LSN_STALE_MS)
			n += snprintf(buf + n, len - n, "%s%d:%llu", first ? " rep_copies=" : ",", node,
			    (unsigned long long)r->copy_lag[node]);
		else
			n += snprintf(buf + n, len - n, "%s%d:-", first ? " rep_copies=" : ",", node);
		first = 0;
	}
	return n;
}

int
wk_proc_rep_master(const struct wk_proc *p)
{
	return p->rep ? p->rep->master : 0;
}

uint64_t
wk_proc_rep_connects(const struct wk_proc *p)
{
	return p->rep ? p->rep->rep.connects : 0;
}

int
wk_proc_rep_node_up(struct wk_proc *p, int node)
{
	struct wk_rep_site up[WK_REP_MAX_PEERS];
	int n;

	if (p->rep == NULL || node == p->node)
		return 1;
	n = wk_rep_connected(p->env->env, up, WK_REP_MAX_PEERS);
	for (int i = 0; i < n; i++)
		if (wk_cluster_node_of(&p->cfg, p->def->role, p->instance, up[i].host,
		    up[i].port) == node)
			return 1;
	return n < 0;   /* unknown: taken as up */
}
