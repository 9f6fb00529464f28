/* mailbox_presence.c - this host's presence region of the shard, written
 * only here (presence(3)).
 *
 * On one host: the connections of the users this shard owns.  In a cluster
 * (wk-cluster(7)) every host needs every connection, since the fan-out of a
 * channel runs on the host that masters the channel, wherever its members
 * are connected: the master of the shard writes its region and passes each
 * change to its copies on the other hosts (MAILBOX_PRESENCE, batched per
 * iteration), which write theirs.  A slot names the host holding the
 * connection in its broker id (WK_FANOUT_BROKER_ID), so the fan-out sends
 * the delivery there.  A copy that (re)joins gets the whole region
 * (reset, then every slot); a host whose replication site stays
 * disconnected for HOST_TIMEOUT_MS loses its connections, as if its
 * brokers had closed them.  When a copy is elected it already holds the
 * region: its connections stay deliverable while the brokers re-assert
 * them (mailbox_conn.c). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "mailbox.h"
#include "wk_alloc.h"
#include "wk_buf.h"
#include "wk_cluster.h"
#include "wk_fanout.h"
#include "wk_log.h"
#include "wk_proc_rep.h"
#include "wk_time.h"

#define HOST_TIMEOUT_MS 10000
/* The changes go out in messages of about this many bytes, whole ops
 * each: a whole region (100,000 connections are ~5 MB) in one message
 * would pass what may wait for a host (wk_proc_send.c) and be dropped. */
#define OPS_CHUNK (48 * 1024)

enum { OP_RESET = 1, OP_ADD = 2, OP_REMOVE = 3 };

static struct presence presence;
static int attached;
static struct wk_wbuf ops;              /* changes for the copies, this iteration */
static uint64_t seen_connects;
static uint64_t down_since[WK_CLUSTER_MAX + 1];
static struct wk_ratelimit rl = WK_RATELIMIT_INIT(5);

struct presence *mailbox_presence(void) { return &presence; }

int
mailbox_presence_open(struct wk_proc *p)
{
	int kept;

	if (attached)
		return 0;
	if (presence_attach(&presence, p->cfg.runDir, 1) < 0)
		return -1;
	if ((uint32_t)p->instance >= presence.hdr->nregions) {
		wk_log_warnx("no presence region %d (segment has %u)", p->instance,
		    presence.hdr->nregions);
		presence_close(&presence);
		return -1;
	}
	/* A previous instance of this shard may have died mid-update: rebuild
	 * the region from its consistent slots.  Its connections stay
	 * deliverable, unconfirmed (in the table, not in our registry) until
	 * each broker re-asserts its own (MAILBOX_CONN_RESTORE) and says it is
	 * done (MAILBOX_BROKER_HELLO): what it did not name is dropped then. */
	kept = presence_region_rebuild(&presence, p->instance);
	presence_region(&presence, p->instance)->writer_pid = getpid();
	if (kept)
		wk_log_info("kept %d connections online until the brokers re-assert them", kept);
	wk_wbuf_init(&ops);
	attached = 1;
	return 0;
}

void
mailbox_presence_close(void)
{
	if (!attached)
		return;
	presence_close(&presence);
	wk_wbuf_free(&ops);
	attached = 0;
}

/* The changes so far to every other host's copy (in order, as each host's
 * messages are). */
static void
send_ops(struct wk_proc *p)
{
	int hosts = wk_cluster_count(&p->cfg);

	for (int node = 1; node <= hosts; node++)
		if (node != p->node && wk_cluster_member(&p->cfg, node))
			wk_proc_send_buf_to(p, node, WK_ROLE_MAILBOX, p->instance,
			    WK_MSG_MAILBOX_PRESENCE, 0, &ops);
	ops.len = 0;
}

static void
op_conn(struct wk_proc *p, int op, const struct presence_conn *c)
{
	if (!wk_cluster_on(&p->cfg))
		return;
	if (ops.len >= OPS_CHUNK)
		send_ops(p);
	wk_put_u8(&ops, (uint8_t)op);
	wk_put_str(&ops, c->uid);
	if (op == OP_ADD) {
		wk_put_u8(&ops, c->device_flag);
		wk_put_u8(&ops, c->device_level);
		wk_put_u8(&ops, c->proto_version);
	}
	wk_put_u16(&ops, c->broker_id);
	wk_put_u64(&ops, c->conn_id);
	if (op == OP_ADD)
		wk_put_u64(&ops, (uint64_t)c->connected_at_ms);
}

int
mailbox_presence_add(struct wk_proc *p, const struct presence_conn *c)
{
	int rc = presence_add(&presence, (uint32_t)p->instance, c);

	if (rc == 0)
		op_conn(p, OP_ADD, c);
	return rc;
}

void
mailbox_presence_remove(struct wk_proc *p, const char *uid, uint16_t broker_id, uint64_t conn)
{
	struct presence_conn c = { .broker_id = broker_id, .conn_id = conn };

	snprintf(c.uid, sizeof c.uid, "%s", uid);
	if (presence_remove(&presence, (uint32_t)p->instance, uid, broker_id, conn) == 1)
		op_conn(p, OP_REMOVE, &c);
}

struct remove_if {
	struct wk_proc *p;
	int (*drop)(const struct presence_conn *, void *);
	void *arg;
};

static int
remove_if_op(const struct presence_conn *c, void *arg)
{
	struct remove_if *ri = arg;

	if (!ri->drop(c, ri->arg))
		return 0;
	op_conn(ri->p, OP_REMOVE, c);
	return 1;
}

int
mailbox_presence_remove_if(struct wk_proc *p, int (*drop)(const struct presence_conn *, void *),
    void *arg)
{
	struct remove_if ri = { p, drop, arg };

	return presence_remove_if(&presence, (uint32_t)p->instance, remove_if_op, &ri);
}

/* Producer: the iteration's changes to every other host's copy. */
static void
presence_flush(struct wk_proc *p, void *arg)
{
	struct wk_wbuf *b = &ops;

	if (b->len == 0)
		return;
	send_ops(p);
	if (b->cap > 4 * OPS_CHUNK) {   /* give a burst's room back */
		wk_wbuf_free(b);
		wk_wbuf_init(b);
	}
}

/* The whole region to the copies: reset, then every slot. */
static void
presence_dump(struct wk_proc *p)
{
	struct presence_region *r = presence_region(&presence, p->instance);
	int max = (int)r->used + 1024, n;
	struct presence_conn *v = wk_calloc((size_t)max, sizeof *v);

	while ((n = presence_region_conns(&presence, (uint32_t)p->instance, v, max)) ==
	    PRESENCE_EBUSY)
		;
	wk_put_u8(&ops, OP_RESET);
	for (int i = 0; i < n; i++)
		op_conn(p, OP_ADD, &v[i]);
	free(v);
}

int
mailbox_presence_start(struct wk_proc *p)
{
	if (!wk_cluster_on(&p->cfg))
		return 0;
	if (wk_proc_on_iteration(p, presence_flush, NULL) < 0)
		return -1;
	seen_connects = wk_proc_rep_connects(p);
	presence_dump(p);
	return 0;
}

/* connection-drop selector of mailbox_conn_drop_node */
void
mailbox_presence_tick(struct wk_proc *p)
{
	uint64_t now = wk_now_ms(), c;
	int hosts = wk_cluster_count(&p->cfg);

	if (!wk_cluster_on(&p->cfg))
		return;
	/* A host (re)joined: it may hold an old region or none. */
	if ((c = wk_proc_rep_connects(p)) != seen_connects) {
		seen_connects = c;
		presence_dump(p);
	}
	for (int node = 1; node <= hosts; node++) {
		if (node == p->node || !wk_cluster_member(&p->cfg, node) ||
		    wk_proc_rep_node_up(p, node)) {
			down_since[node] = 0;
			continue;
		}
		if (down_since[node] == 0)
			down_since[node] = now;
		else if (down_since[node] != UINT64_MAX && now - down_since[node] >= HOST_TIMEOUT_MS) {
			int n = mailbox_conn_drop_node(p, node);
			wk_log_info("cluster: node %d unreachable for %d s: dropped its %d connections",
			    node, HOST_TIMEOUT_MS / 1000, n);
			down_since[node] = UINT64_MAX;   /* until it is back */
		}
	}
}

static int
drop_all(const struct presence_conn *c, void *arg)
{
	return 1;
}

/* MAILBOX_PRESENCE on a copy: the master's changes, applied to this
 * host's region.  Only from the master this copy follows: a former
 * master that has not learnt it yet may still send. */
void
mailbox_on_presence(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg)
{
	zframe_t *f = zmsg_first(msg);
	struct wk_rbuf r;

	if (p->started || h->sender_node != wk_proc_rep_master(p) || mailbox_presence_open(p) < 0)
		return;
	wk_rbuf_init(&r, zframe_data(f), zframe_size(f));
	while (r.off < r.len && !r.err) {
		struct presence_conn c = { 0 };
		int op = wk_get_u8(&r);

		if (op == OP_RESET) {
			presence_remove_if(&presence, (uint32_t)p->instance, drop_all, NULL);
			continue;
		}
		wk_get_str(&r, c.uid, sizeof c.uid);
		if (op == OP_ADD) {
			c.device_flag = wk_get_u8(&r);
			c.device_level = wk_get_u8(&r);
			c.proto_version = wk_get_u8(&r);
		}
		c.broker_id = wk_get_u16(&r);
		c.conn_id = wk_get_u64(&r);
		if (op == OP_ADD)
			c.connected_at_ms = (int64_t)wk_get_u64(&r);
		if (r.err || (op != OP_ADD && op != OP_REMOVE))
			break;
		if (op == OP_REMOVE)
			presence_remove(&presence, (uint32_t)p->instance, c.uid, c.broker_id, c.conn_id);
		else if (!presence_has(&presence, &c) &&
		    presence_add(&presence, (uint32_t)p->instance, &c) < 0)
			wk_log_limited(&rl, WK_LOG_WARN, "presence copy: region full "
			    "(raise presence.capacity)");
	}
	if (r.err || r.off != r.len)
		wk_fatalx("MAILBOX_PRESENCE from mailbox/%u on node %u: malformed payload",
		    h->sender_instance, h->sender_node);
}
