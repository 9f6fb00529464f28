/* broker_proxy.c - the PROXY protocol on wk-broker's listeners
 * (proxyProtocol.*, wk.yaml(5); wk-broker(8)).  A listener with it on takes
 * connections only from proxyProtocol.allowFrom, and each must begin with a
 * v1 or v2 header (common/wk_proxyproto.c), whose client address replaces
 * the balancer's (c->peer for /connz, c->addr for log lines).  The header is read exactly: the socket is peeked, and
 * only bytes that belong to the header are consumed, so what follows
 * (WKProto, the HTTP upgrade, a TLS ClientHello) is read by the next stage
 * as if the header had never been there.  Bytes that cannot yet be told
 * complete are all header bytes by then (wk_proxy_parse's 0), so they are
 * consumed too and the socket is never left readable with nothing to do. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "broker.h"
#include "wk_alloc.h"
#include "wk_log.h"

static struct wk_ratelimit rl_proxy = WK_RATELIMIT_INIT(10);

/* The allowFrom networks, parsed once (wk.yaml validated them). */
int
broker_proxy_init(const struct wk_config *cfg)
{
	const struct wk_strlist *l = &cfg->proxyProtocol_allowFrom;

	broker.proxy_on[BROKER_CONN_TCP] = (uint8_t)cfg->proxyProtocol_addr;
	broker.proxy_on[BROKER_CONN_WS] = (uint8_t)cfg->proxyProtocol_wsAddr;
	broker.proxy_on[BROKER_CONN_WSS] = (uint8_t)cfg->proxyProtocol_wssAddr;
	broker.proxy_nets = wk_calloc((size_t)l->n + 1, sizeof *broker.proxy_nets);
	broker.nproxy_nets = 0;
	for (int i = 0; i < l->n; i++)
		if (wk_cidr_parse(l->v[i], &broker.proxy_nets[broker.nproxy_nets++]) < 0) {
			wk_log_warnx("proxyProtocol.allowFrom: bad network %s", l->v[i]);
			return -1;
		}
	return 0;
}

/* A connection to a PROXY listener from sa: may it talk to us at all? */
int
broker_proxy_allowed(const struct sockaddr *sa, const char *addr)
{
	if (wk_cidr_match(broker.proxy_nets, broker.nproxy_nets, sa))
		return 1;
	wk_log_limited(&rl_proxy, WK_LOG_WARN, "connection from %s to a PROXY protocol listener: "
	    "not in proxyProtocol.allowFrom; closed", addr);
	return 0;
}

int
broker_proxy_read(struct broker_conn *c)
{
	uint8_t buf[WK_PROXY_MAX];
	struct wk_proxy_addr a;
	const char *why = NULL;
	size_t have = c->inlen;
	ssize_t n, len;

	n = recv(c->fd, buf + have, sizeof buf - have, MSG_PEEK);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0)
		return -1;
	if (have)
		memcpy(buf, c->in, have);
	len = wk_proxy_parse(buf, have + (size_t)n, &a, &why);
	if (len < 0) {
		broker.st.proto_errors++;
		wk_log_limited(&rl_proxy, WK_LOG_INFO, "conn %llx from %s: PROXY protocol: %s; closing",
		    (unsigned long long)c->id, c->addr, why);
		return -1;
	}
	/* Consume the header's bytes (all of them so far while incomplete). */
	size_t take = len == 0 ? (size_t)n : (size_t)len - have;
	if (recv(c->fd, buf + have, take, 0) != (ssize_t)take)
		return -1;
	broker.st.bytes_in += take;
	if (len == 0) {
		wk_grow(&c->in, &c->incap, have + take);
		memcpy(c->in + have, buf + have, take);
		c->inlen = have + take;
		return 0;
	}
	if (!a.local) {
		c->peer = a.src;
		wk_sockaddr_str((const struct sockaddr *)&a.src, c->addr, sizeof c->addr);
	}
	free(c->in);
	c->in = NULL;
	c->inlen = c->incap = 0;
	return 1;
}
