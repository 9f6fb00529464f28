/* wk_cluster.c - the cluster's address map (wk_cluster.h, wk-cluster(7)):
 * hosts from cluster.nodes, and each host's block of WK_CLUSTER_PORTS
 * internal ports from its base:
 *   base + (role-BROKER)*256 + instance     TCP inbox of broker, api,
 *                                           channel, mailbox, hook
 *   base + 1280 + (role-CHANNEL)*256 + i    replication site of channel,
 *                                           mailbox shard i
 * Every host computes the same map from the same list, so no address is
 * ever exchanged at run time. */
#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "wk_alloc.h"
#include "wk_cluster.h"
#include "wk_config.h"
#include "wk_msg.h"
#include "wk_rep.h"

enum {
	SLOT = 256,        /* ports per role: instances 0..255 */
	REP_BASE = 1280,   /* first replication port, after the five inbox slots */
};
_Static_assert((WK_ROLE_HOOK - WK_ROLE_BROKER + 1) * SLOT == REP_BASE,
    "one inbox slot per role from broker to hook");
_Static_assert(REP_BASE + 2 * SLOT == WK_CLUSTER_PORTS, "two replicated roles");

/* The host has to fit a replication site (wk_rep_config) as it is. */
#define HOST_MAX sizeof(((struct wk_rep_site *)0)->host)

/* Host: letters, digits, '.', '-', '_' only: what a name or an IPv4 literal
 * needs, and nothing that could change the meaning of "tcp://host:port"
 * (IPv6 literals would need brackets and ZMQ_IPV6 on every socket: not
 * supported).  Port: decimal, the whole block below 65536. */
int
wk_cluster_parse_node(const char *entry, char *host, size_t hostlen, unsigned *port)
{
	int retired = entry[0] == '-';
	const char *colon, *d;
	unsigned long p = 0;
	size_t n;

	/* "-host:port": a host taken out of the cluster, kept in the list so
	 * the others keep their positions and its copies can be removed. */
	entry += retired;
	if (entry[0] == '-')
		return -1;
	colon = strchr(entry, ':');
	if (colon == NULL || (n = (size_t)(colon - entry)) == 0 || n >= HOST_MAX || n >= hostlen)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)entry[i]) && strchr(".-_", entry[i]) == NULL)
			return -1;
	for (d = colon + 1; isdigit((unsigned char)*d) && d - colon <= 5; d++)
		p = p * 10 + (unsigned long)(*d - '0');
	if (d == colon + 1 || *d != '\0' || p < 1 || p > 65535 - WK_CLUSTER_PORTS)
		return -1;
	memcpy(host, entry, n);
	host[n] = '\0';
	*port = (unsigned)p;
	return retired;
}

int
wk_cluster_on(const struct wk_config *cfg)
{
	return cfg->cluster_node > 0;
}

int
wk_cluster_count(const struct wk_config *cfg)
{
	return wk_cluster_on(cfg) ? cfg->cluster_nodes.n : 0;
}

/* Host and base port of node's entry, retired or not: 0 member, 1 retired, -1. */
static int
node_entry(const struct wk_config *cfg, int node, char *host, size_t hostlen, unsigned *port)
{
	if (node < 1 || node > wk_cluster_count(cfg))
		return -1;
	return wk_cluster_parse_node(cfg->cluster_nodes.v[node - 1], host, hostlen, port);
}

int
wk_cluster_node_addr(const struct wk_config *cfg, int node, char *host, size_t hostlen,
    unsigned *port)
{
	return node_entry(cfg, node, host, hostlen, port) == 0 ? 0 : -1;
}

int
wk_cluster_member(const struct wk_config *cfg, int node)
{
	char host[HOST_MAX];
	unsigned port;

	return node_entry(cfg, node, host, sizeof host, &port) == 0;
}

int
wk_cluster_replicated(int role)
{
	return role == WK_ROLE_CHANNEL || role == WK_ROLE_MAILBOX;
}

char *
wk_cluster_endpoint(const struct wk_config *cfg, int node, int role, int instance)
{
	char host[HOST_MAX];
	unsigned base;

	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *ai;

	if (role < WK_ROLE_BROKER || role > WK_ROLE_HOOK || instance < 0 || instance >= SLOT ||
	    wk_cluster_node_addr(cfg, node, host, sizeof host, &base) < 0)
		return NULL;
	/* ZeroMQ binds to an address or an interface, never a name: a name is
	 * resolved here (to its first IPv4 address), for bind and connect alike. */
	if (getaddrinfo(host, NULL, &hints, &ai) == 0) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, host, sizeof host);
		freeaddrinfo(ai);
	}
	return wk_asprintf("tcp://%s:%u", host,
	    base + (unsigned)((role - WK_ROLE_BROKER) * SLOT + instance));
}

/* The replication site of (role, instance) on node: 0 a member's, 1 a
 * retired host's, -1. */
static int
rep_site(const struct wk_config *cfg, int node, int role, int instance, struct wk_rep_site *s)
{
	int rc;

	if (!wk_cluster_replicated(role) || instance < 0 || instance >= SLOT ||
	    (rc = node_entry(cfg, node, s->host, sizeof s->host, &s->port)) < 0)
		return -1;
	s->port += (unsigned)(REP_BASE + (role - WK_ROLE_CHANNEL) * SLOT + instance);
	return rc;
}

int
wk_cluster_rep_config(const struct wk_config *cfg, int role, int instance,
    struct wk_rep_config *out)
{
	int n = wk_cluster_count(cfg), self = (int)cfg->cluster_node;

	struct wk_rep_site s;
	int rc;

	memset(out, 0, sizeof *out);
	if (self < 1 || self > n || n - 1 > WK_REP_MAX_PEERS)
		return -1;
	out->join = cfg->cluster_join;
	out->join_ms = (int)(cfg->supervisor_readyTimeout * 2 / 3);
	for (int node = 1; node <= n; node++) {
		if ((rc = rep_site(cfg, node, role, instance, &s)) < 0 || (rc && node == self))
			return -1;
		if (node == self)
			out->self = s;
		else if (rc == 0)
			out->peer[out->npeers++] = s;
	}
	return 0;
}

int
wk_cluster_retired_site(const struct wk_config *cfg, int node, int role, int instance,
    struct wk_rep_site *out)
{
	return rep_site(cfg, node, role, instance, out) == 1 ? 0 : -1;
}

int
wk_cluster_node_of(const struct wk_config *cfg, int role, int instance, const char *host,
    unsigned port)
{
	struct wk_rep_site s;

	for (int node = 1; node <= wk_cluster_count(cfg); node++)
		if (rep_site(cfg, node, role, instance, &s) == 0 && s.port == port &&
		    strcasecmp(s.host, host) == 0)
			return node;
	return 0;
}

int
wk_cluster_parse_route(const char *entry, struct wk_cluster_route *out)
{
	struct wk_cluster_route r = { "", "", "" };
	char rest[8];
	int n = sscanf(entry, "%127s %127s %127s %7s", r.tcp, r.ws, r.wss, rest);

	/* The TCP address as the reference's /route gives it: host:port. */
	if (n < 2 || n > 3 || strchr(r.tcp, ':') == NULL || strstr(r.tcp, "://") != NULL ||
	    strncmp(r.ws, "ws://", 5) != 0 || (n == 3 && strncmp(r.wss, "wss://", 6) != 0))
		return -1;
	*out = r;
	return 0;
}

int
wk_cluster_route(const struct wk_config *cfg, int node, struct wk_cluster_route *out)
{
	if (node < 1 || node > wk_cluster_count(cfg) || node > cfg->cluster_routes.n)
		return -1;
	return wk_cluster_parse_route(cfg->cluster_routes.v[node - 1], out);
}
