/* wk_cluster.h - the cluster's address map (issue 18, wk-cluster(7)): which
 * host is which (cluster.node, cluster.nodes in wk.yaml(5)), the TCP inbox
 * of every process of every host, and the replication sites of every
 * replicated shard.  Pure arithmetic on the configuration: nothing here
 * opens a socket.  With cluster.node 0 (one host) every call answers "off". */
#ifndef WK_CLUSTER_H
#define WK_CLUSTER_H
#include <stddef.h>

#define WK_CLUSTER_MAX 9           /* hosts; the schema's max of cluster.node */
#define WK_CLUSTER_PORTS 1792      /* internal ports a host uses from its base */

struct wk_config;
struct wk_rep_config;
struct wk_rep_site;

/* "host:port" -> host (NUL-terminated) and base port: 0; "-host:port" (a
 * host retired from the cluster, wk-cluster(7)) the same and 1; -1 if
 * malformed. */
int wk_cluster_parse_node(const char *entry, char *host, size_t hostlen, unsigned *port);
/* 1 when cluster.node > 0. */
int wk_cluster_on(const struct wk_config *cfg);
/* How many nodes (cluster.nodes.n), 0 when off. */
int wk_cluster_count(const struct wk_config *cfg);
/* Host and base port of node (1..count), a member: 0, or -1 (out of range
 * or retired). */
int wk_cluster_node_addr(const struct wk_config *cfg, int node, char *host, size_t hostlen,
    unsigned *port);
/* 1 if node is a member (in range, not retired): only members are sent to. */
int wk_cluster_member(const struct wk_config *cfg, int node);
/* 1 for the roles whose shards are replicated (WK_ROLE_CHANNEL, WK_ROLE_MAILBOX). */
int wk_cluster_replicated(int role);
/* "tcp://host:P" (malloc'd) where P = base + (role-1)*256 + instance: the TCP
 * inbox of (role, instance) on node; NULL if node, role (BROKER..HOOK) or
 * instance (0..255) is out of range. */
char *wk_cluster_endpoint(const struct wk_config *cfg, int node, int role, int instance);
/* The replication sites of (role, instance) (a replicated role): self = this
 * host's (cluster.node) site, peers = every other member's, join =
 * cluster.join, site port =
 * base + 1280 + (role-WK_ROLE_CHANNEL)*256 + instance.  0, or -1. */
int wk_cluster_rep_config(const struct wk_config *cfg, int role, int instance,
    struct wk_rep_config *out);
/* The replication site of (role, instance) on node when node is retired
 * (its copy to be removed from the group): 0, or -1. */
int wk_cluster_retired_site(const struct wk_config *cfg, int node, int role, int instance,
    struct wk_rep_site *out);
/* The member node (1..count) whose replication site of (role, instance) is
 * host:port, 0 if none (the replication manager's master address -> a node). */
int wk_cluster_node_of(const struct wk_config *cfg, int role, int instance, const char *host,
    unsigned port);

/* What /route answers for a host: cluster.routes' entry, "tcpAddr wsAddr
 * [wssAddr]" (host:port, ws://..., wss://...). */
struct wk_cluster_route {
	char tcp[128], ws[128], wss[128];
};
/* Parse one entry: 0, or -1 if malformed. */
int wk_cluster_parse_route(const char *entry, struct wk_cluster_route *out);
/* The entry of node (1..count): 0, or -1 (none configured, or bad). */
int wk_cluster_route(const struct wk_config *cfg, int node, struct wk_cluster_route *out);

#endif
