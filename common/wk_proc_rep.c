/* wk_proc_rep.c - a replicated shard's routing in a cluster (wk_proc_rep.h,
 * wk-cluster(7)). */
#include <stdlib.h>
#include <string.h>
#include "wk_alloc.h"
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
};

static struct wk_ratelimit rl_rep = WK_RATELIMIT_INIT(5);

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
	free(r->ring);
	free(r);
	p->rep = NULL;
}

static void
hold(struct wk_proc_rep *r, zmsg_t *msg, uint64_t at_ms)
{
	if (r->n == WK_PROC_REP_HOLD_MAX) {
		r->refused++;
		wk_log_limited(&rl_rep, WK_LOG_WARN, "cluster: %d messages wait for a master: "
		    "dropped one", WK_PROC_REP_HOLD_MAX);
		zmsg_destroy(&msg);
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
		zmsg_destroy(&msg);
		return;
	}
	if (r->master && r->master != p->node && r->n == 0) {
		wk_proc_forward(p, r->master, &msg);
		r->forwarded++;
		return;
	}
	hold(r, msg, wk_now_ms());
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
			hold(r, m, now);
		}
		/* The ones held before go after them: rotate the ring. */
		for (size_t i = 0; i < keep && r->n > keep; i++)
			hold(r, unhold(r), now);
	}
	wk_wbuf_free(&b);
}

/* Ask the replication manager which site is master, as a node. */
static int
ask_master(struct wk_proc *p)
{
	char host[64];
	unsigned port;

	if (p->rep->rep.role == WK_REP_MASTER)
		return p->node;
	if (wk_rep_master_addr(p->env->env, host, sizeof host, &port) < 0)
		return 0;
	return wk_cluster_node_of(&p->cfg, p->def->role, p->instance, host, port);
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
			    "within %d ms: dropped (%llu so far)", WK_PROC_REP_HOLD_MS,
			    (unsigned long long)r->expired);
			zmsg_destroy(&m);
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

	return snprintf(buf, len, " rep=%s rep_master=%d rep_synced=%d rep_changes=%llu "
	    "forwarded=%llu rep_held=%zu rep_expired=%llu rep_refused=%llu",
	    p->started ? "master" : role == WK_REP_STARTING ? "starting" : "copy", r->master,
	    p->started || r->rep.synced, (unsigned long long)r->master_changes,
	    (unsigned long long)r->forwarded, r->n, (unsigned long long)r->expired,
	    (unsigned long long)r->refused);
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
