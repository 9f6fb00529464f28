/* api_cluster.c - /route in a cluster (wk-cluster(7)): which host a user
 * connects to.
 *
 * Every host serves every user (a connection's messages reach it from any
 * host), so /route only spreads users: a uid goes to one of the hosts that
 * are up, by its hash, the same answer on every host while the same hosts
 * are up.  A host is up while its wk-api answers this one's pings (one
 * every PING_MS over the cluster's TCP inboxes; DOWN_MS without an
 * answer: down).  The clients of a host that dies reconnect through
 * /route to one that is up and sync what they missed. */
#include <string.h>
#include "api.h"
#include "wk_cluster.h"
#include "wk_shard.h"
#include "wk_time.h"

#define PING_MS 1000
#define DOWN_MS 3000

static uint64_t last_pong[WK_CLUSTER_MAX + 1], last_ping;

/* Once a tick: a ping to every other host's wk-api. */
void
api_cluster_tick(struct wk_proc *p)
{
	uint64_t now = wk_now_ms();
	int hosts = wk_cluster_count(&p->cfg);

	if (hosts == 0 || now - last_ping < PING_MS)
		return;
	last_ping = now;
	for (int node = 1; node <= hosts; node++)
		if (node != p->node && wk_cluster_member(&p->cfg, node)) {
			zmsg_t *m = wk_proc_msg(p, WK_MSG_PING_REQ, (uint64_t)node, 0);
			wk_proc_send_to(p, node, WK_ROLE_API, 0, &m);
		}
}

/* PING_REP from another host's wk-api (corr: its node). */
void
api_on_ping_rep(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg)
{
	if (h->sender_node >= 1 && h->sender_node <= WK_CLUSTER_MAX && h->corr == h->sender_node)
		last_pong[h->sender_node] = wk_now_ms();
}

static int
host_up(const struct wk_proc *p, int node, uint64_t now)
{
	return node == p->node || (last_pong[node] && now - last_pong[node] < DOWN_MS);
}

int
api_cluster_route_node(const struct wk_proc *p, const char *uid)
{
	int hosts = wk_cluster_count(&p->cfg), up[WK_CLUSTER_MAX], n = 0;
	uint64_t now = wk_now_ms();

	if (hosts == 0 || p->cfg.cluster_routes.n == 0 || uid == NULL || *uid == '\0')
		return 0;
	for (int node = 1; node <= hosts; node++)
		if (host_up(p, node, now))
			up[n++] = node;
	return up[wk_shard_hash(uid, strlen(uid)) % (uint32_t)n];
}

json_t *
api_cluster_addrs(const struct wk_proc *p, int node)
{
	struct wk_cluster_route r;

	if (wk_cluster_route(&p->cfg, node, &r) < 0)
		return NULL;
	return json_pack("{s:s,s:s,s:s}", "tcp_addr", r.tcp, "ws_addr", r.ws, "wss_addr", r.wss);
}

int
api_cluster_status(const struct wk_proc *p, char *buf, size_t len)
{
	int hosts = wk_cluster_count(&p->cfg), n = 0, up = 0, members = 0;
	uint64_t now = wk_now_ms();

	for (int node = 1; node <= hosts; node++)
		if (wk_cluster_member(&p->cfg, node)) {
			members++;
			up += host_up(p, node, now);
		}
	if (hosts)
		n = snprintf(buf, len, " hosts_up=%d/%d", up, members);
	return n;
}
