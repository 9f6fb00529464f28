/* broker.c - wk-broker: the client connection broker (wk-broker(8)).
 *
 * Owns the client sockets: WKProto over TCP (addr), WebSocket (wsAddr) and
 * secure WebSocket (wssAddr); every broker process binds the same ports with
 * SO_REUSEPORT and the kernel spreads the connections.  Per connection:
 * broker_conn.c.  Messages handled: BROKER_AUTH_REP and BROKER_KICK from the
 * mailbox shards, BROKER_MAILBOX_HELLO (a mailbox shard restarted: restore
 * its users' connections).  At start it sends MAILBOX_BROKER_HELLO so the
 * mailbox shards drop connections of this broker's previous life.
 * BROKER_USER_FLAGS (a user's send ban changed) comes from the mailbox too;
 * BROKER_SENDACK, BROKER_DELIVER and BROKER_EVENT come from the channel
 * shards (broker_msg.c, broker_event.c) and BROKER_DELIVER also from the
 * mailbox shards (cmd messages).  BROKER_CONN_LIST and BROKER_CONN_CLOSE
 * come from wk-api (broker_admin.c).  The dispatch table below checks each
 * message's sender role and frame count before a handler runs.
 *
 * Ownership: a broker owns its connections and their ids; a connection's
 * entry in the presence table is written by the user's mailbox shard
 * (after AUTH), which the broker only reads.  Files: broker_conn.c
 * (connections, WKProto), broker_msg.c (SEND, SENDACK, RECV),
 * broker_event.c (stream events), broker_ws.c, broker_tls.c. */
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include "broker.h"
#include "wk_cluster.h"
#include "wk_buf.h"
#include "wk_log.h"

struct broker broker = { .listen_fd = { -1, -1, -1 } };

/* Listen on "scheme://host:port" with SO_REUSEPORT; -1 on error. */
static int
listen_on(const char *url, const char *scheme)
{
	char host[256], port[16];
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_PASSIVE | AI_NUMERICSERV }, *ai;
	const char *hp = url, *colon;
	int fd = -1, one = 1;

	if (strncmp(url, scheme, strlen(scheme)) == 0)
		hp = url + strlen(scheme);
	colon = strrchr(hp, ':');
	if (colon == NULL || (size_t)(colon - hp) >= sizeof host || strlen(colon + 1) >= sizeof port) {
		wk_log_warnx("bad listen address %s", url);
		return -1;
	}
	memcpy(host, hp, colon - hp);
	host[colon - hp] = '\0';
	snprintf(port, sizeof port, "%s", colon + 1);
	if (getaddrinfo(host[0] ? host : NULL, port, &hints, &ai) != 0) {
		wk_log_warnx("cannot resolve %s", url);
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 4096) < 0) {
			wk_log_warn("listen %s", url);
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(ai);
	return fd;
}

/* Every connection is a descriptor: take the hard limit, and say so when
 * limits.maxConnections cannot be reached under it. */
static void
raise_fd_limit(const struct wk_config *cfg)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY && (rlim_t)cfg->limits_maxConnections + 64 > rl.rlim_cur)
		wk_log_warnx("the descriptor limit (%llu) is below limits.maxConnections (%lld): "
		    "this broker can hold about %llu connections", (unsigned long long)rl.rlim_cur,
		    (long long)cfg->limits_maxConnections, (unsigned long long)rl.rlim_cur - 64);
}

/* BROKER_AUTH_REP: the mailbox shard's verdict on a CONNECT.  A connection
 * that closed while we asked has been registered by the shard on success,
 * so it is told at once that the connection is gone; otherwise the row
 * would stay in the presence table. */
static void
broker_on_auth_rep(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg)
{
	zframe_t *f = zmsg_first(msg);
	struct wk_rbuf r;
	char uid[BROKER_UID_MAX];
	uint64_t id;
	uint8_t reason, level, user_flags;

	wk_rbuf_init(&r, zframe_data(f), zframe_size(f));
	id = wk_get_u64(&r);
	reason = wk_get_u8(&r);
	level = wk_get_u8(&r);
	wk_get_str(&r, uid, sizeof uid);
	user_flags = wk_get_u8(&r);
	if (wk_rbuf_done(&r) < 0)
		wk_fatalx("BROKER_AUTH_REP from mailbox/%u: malformed payload", h->sender_instance);
	struct broker_conn *c = broker_conn_find(id);
	if (c && c->state == BROKER_CS_AUTH)
		broker_conn_on_auth(c, reason, level, user_flags);
	else if (reason == WKPROTO_REASON_SUCCESS)
		broker_notify_closed(id, uid);   /* it left while we asked */
}

/* BROKER_KICK: the mailbox shard ends a connection (token changed, ban,
 * device quit), with a DISCONNECT first if asked and after `delay` ms. */
static void
broker_on_kick(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg)
{
	zframe_t *f = zmsg_first(msg);
	struct wk_rbuf r;
	char text[256];
	uint64_t id;
	uint8_t reason, disconnect;
	uint32_t delay;

	wk_rbuf_init(&r, zframe_data(f), zframe_size(f));
	id = wk_get_u64(&r);
	reason = wk_get_u8(&r);
	delay = wk_get_u32(&r);
	disconnect = wk_get_u8(&r);
	wk_get_str(&r, text, sizeof text);
	if (wk_rbuf_done(&r) < 0)
		wk_fatalx("BROKER_KICK from mailbox/%u: malformed payload", h->sender_instance);
	struct broker_conn *c = broker_conn_find(id);
	if (c)
		broker_conn_kick(c, reason, text, disconnect, delay);
}

/* BROKER_USER_FLAGS: a connected user's flags changed (send ban); SEND is
 * checked against them here without asking the mailbox. */
void
broker_on_user_flags(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg)
{
	zframe_t *f = zmsg_first(msg);
	struct wk_rbuf r;
	uint64_t id;
	uint8_t flags;

	wk_rbuf_init(&r, zframe_data(f), zframe_size(f));
	id = wk_get_u64(&r);
	flags = wk_get_u8(&r);
	if (wk_rbuf_done(&r) < 0)
		wk_fatalx("BROKER_USER_FLAGS from mailbox/%u: malformed payload", h->sender_instance);
	struct broker_conn *c = broker_conn_find(id);
	if (c)
		c->user_flags = flags;
}

/* BROKER_MAILBOX_HELLO: a mailbox shard (re)started with an empty presence
 * region: tell it again which of our connections belong to it. */
static void
broker_on_mailbox_hello(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg)
{
	broker_conn_restore_to(h->sender_instance);
}

#define FROM_MAILBOX WK_ROLE_BIT(WK_ROLE_MAILBOX)
#define FROM_CHANNEL WK_ROLE_BIT(WK_ROLE_CHANNEL)
/* Columns: type, min and max frames, allowed sender roles, handler.  A
 * message failing these checks is fatal (internal peers are trusted to be
 * right), as is a malformed payload inside the handlers. */
static const struct wk_dispatch broker_dispatch[] = {
	{ WK_MSG_BROKER_AUTH_REP, 1, 1, FROM_MAILBOX, broker_on_auth_rep },
	{ WK_MSG_BROKER_KICK, 1, 1, FROM_MAILBOX, broker_on_kick },
	{ WK_MSG_BROKER_MAILBOX_HELLO, 1, 1, FROM_MAILBOX, broker_on_mailbox_hello },
	{ WK_MSG_BROKER_USER_FLAGS, 1, 1, FROM_MAILBOX, broker_on_user_flags },
	{ WK_MSG_BROKER_SENDACK, 1, 1, FROM_CHANNEL, NULL },
	{ WK_MSG_BROKER_DELIVER, 2, 2, FROM_CHANNEL | WK_ROLE_BIT(WK_ROLE_MAILBOX), NULL },
	{ WK_MSG_BROKER_EVENT, 2, 256, FROM_CHANNEL, broker_on_event },
	{ WK_MSG_BROKER_CONN_LIST, 1, 1, WK_ROLE_BIT(WK_ROLE_API) | WK_ROLE_BIT(WK_ROLE_CTL), broker_on_admin },
	{ WK_MSG_BROKER_CONN_CLOSE, 1, 1, WK_ROLE_BIT(WK_ROLE_API) | WK_ROLE_BIT(WK_ROLE_CTL), broker_on_admin },
};

/* The rows above without a handler: read in place (wk_dispatch.h). */
static const struct wk_dispatch_view broker_views[] = {
	{ WK_MSG_BROKER_SENDACK, broker_on_sendack },
	{ WK_MSG_BROKER_DELIVER, broker_on_deliver },
};

/* Attach to presence (read-only), listen on the configured addresses and
 * greet the mailbox shards.  Any failure fails the start (exit, reported to
 * wk-master), so a port already in use is seen at `wkctl start`. */
static int
broker_on_start(struct wk_proc *p)
{
	const struct wk_config *cfg = &p->cfg;

	broker.proc = p;
	raise_fd_limit(cfg);
	if (presence_attach(&broker.presence, cfg->runDir, 0) < 0)
		return -1;
	if (broker_proxy_init(cfg) < 0)
		return -1;
	if (cfg->addr[0] && (broker.listen_fd[BROKER_CONN_TCP] = listen_on(cfg->addr, "tcp://")) < 0)
		return -1;
	if (cfg->wsAddr[0] && (broker.listen_fd[BROKER_CONN_WS] = listen_on(cfg->wsAddr, "ws://")) < 0)
		return -1;
	if (cfg->wssAddr[0]) {
		if (broker_tls_init(cfg) < 0 ||
		    (broker.listen_fd[BROKER_CONN_WSS] = listen_on(cfg->wssAddr, "wss://")) < 0)
			return -1;
	}
	for (int k = 0; k < 3; k++)
		if (broker.listen_fd[k] >= 0)
			wk_loop_add(p->loop, broker.listen_fd[k], EPOLLIN, broker_accept,
			    (void *)(intptr_t)k);
	/* Our connections from an earlier life (if we were restarted) are gone. */
	broker_send_hello(p, -1);
	return 0;
}

/* MAILBOX_BROKER_HELLO to one mailbox shard (-1: all): every connection of
 * ours it holds and we did not name (AUTH, CONN_RESTORE) is gone. */
void
broker_send_hello(struct wk_proc *p, int mailbox)
{
	struct wk_wbuf b;

	wk_wbuf_init(&b);
	wk_put_u16(&b, (uint16_t)p->instance);
	wk_put_u32(&b, (uint32_t)getpid());
	if (mailbox < 0)
		wk_proc_broadcast(p, WK_ROLE_MAILBOX, p->cfg.processes_mailbox,
		    WK_MSG_MAILBOX_BROKER_HELLO, &b);
	else
		wk_proc_send_buf(p, WK_ROLE_MAILBOX, mailbox, WK_MSG_MAILBOX_BROKER_HELLO, 0, &b);
	wk_wbuf_free(&b);
}

/* Once per loop iteration: write everything queued this iteration. */
static void
broker_on_iteration(struct wk_proc *p)
{
	broker_flush_all();
}

/* Every 250 ms (tick_ms): timeouts and delayed kicks (broker_sweep). */
static void
broker_on_tick(struct wk_proc *p)
{
	broker_sweep();
	broker_resend_tick();
}

/* Stop accepting first; the connections close as the process exits. */
static void
broker_on_stop(struct wk_proc *p)
{
	for (int k = 0; k < 3; k++)
		if (broker.listen_fd[k] >= 0) {
			wk_loop_del(p->loop, broker.listen_fd[k]);
			close(broker.listen_fd[k]);
			broker.listen_fd[k] = -1;
		}
	for (int fd = 0; fd < broker.nconns_cap; fd++)
		if (broker.conns[fd])
			broker_conn_close(broker.conns[fd], NULL);
	presence_close(&broker.presence);
	free(broker.proxy_nets);
	broker.proxy_nets = NULL;
	if (broker.tls)
		SSL_CTX_free(broker.tls);
	broker.tls = NULL;
}

/* The broker's counters for `wkctl status` (wk-broker(8) lists them). */
static int
broker_on_status(struct wk_proc *p, char *buf, size_t len)
{
	const struct broker_stats *s = &broker.st;
	int n = snprintf(buf, len, " connections=%d accepted=%llu refused=%llu auth_ok=%llu "
	    "auth_fail=%llu kicked=%llu timeouts=%llu proto_errors=%llu slow_clients=%llu "
	    "bytes_in=%llu bytes_out=%llu packets_in=%llu packets_out=%llu sends=%llu "
	    "delivered=%llu retries=%llu events=%llu pieces=%llu unacked=%llu paused=%u "
	    "send_pauses=%llu",
	    broker.nconns, (unsigned long long)s->accepted, (unsigned long long)s->refused,
	    (unsigned long long)s->auth_ok, (unsigned long long)s->auth_fail,
	    (unsigned long long)s->kicked, (unsigned long long)s->timeouts,
	    (unsigned long long)s->proto_errors, (unsigned long long)s->slow_clients,
	    (unsigned long long)s->bytes_in, (unsigned long long)s->bytes_out,
	    (unsigned long long)s->packets_in, (unsigned long long)s->packets_out,
	    (unsigned long long)s->sends, (unsigned long long)s->delivered,
	    (unsigned long long)s->retries, (unsigned long long)s->events,
	    (unsigned long long)s->pieces, (unsigned long long)broker.unacked, broker.npaused,
	    (unsigned long long)s->send_pauses);

	if (n > 0 && (size_t)n < len && wk_cluster_on(&p->cfg))
		n += broker_resend_status(buf + n, len - n);
	return n;
}

/* The statistics row (every WK_STATS_REFRESH_MS): the counters above, and
 * the bytes waiting in output buffers. */
static void
broker_on_stats(struct wk_proc *p, struct stats_row *r)
{
	const struct broker_stats *s = &broker.st;

	stats_set(r, STATS_CONNECTIONS, (uint64_t)broker.nconns);
	stats_set(r, STATS_CONN_ACCEPTED, s->accepted);
	stats_set(r, STATS_CONN_REFUSED, s->refused);
	stats_set(r, STATS_AUTH_OK, s->auth_ok);
	stats_set(r, STATS_AUTH_FAIL, s->auth_fail);
	stats_set(r, STATS_KICKED, s->kicked);
	stats_set(r, STATS_SLOW_CLIENTS, s->slow_clients);
	stats_set(r, STATS_BYTES_IN, s->bytes_in);
	stats_set(r, STATS_BYTES_OUT, s->bytes_out);
	stats_set(r, STATS_PACKETS_IN, s->packets_in);
	stats_set(r, STATS_PACKETS_OUT, s->packets_out);
	stats_set(r, STATS_SENDS, s->sends);
	stats_set(r, STATS_DELIVERIES, s->delivered);
	stats_set(r, STATS_RETRIES, s->retries);
	stats_set(r, STATS_OUT_QUEUE_BYTES, broker.out_bytes);
	stats_set(r, STATS_RETRY_QUEUE, broker.retry_count);
	stats_set(r, STATS_RETRY_QUEUE_BYTES, broker.retry_bytes);
	stats_set(r, STATS_SENDS_UNACKED, broker.unacked);
	stats_set(r, STATS_CONNS_PAUSED, broker.npaused);
	stats_set(r, STATS_SEND_PAUSES, s->send_pauses);
}

static const struct wk_proc_def broker_def = {
	.name = "wk-broker",
	.role = WK_ROLE_BROKER,
	.sharded = 1,
	.dispatch = broker_dispatch,
	.ndispatch = sizeof broker_dispatch / sizeof broker_dispatch[0],
	.views = broker_views,
	.nviews = sizeof broker_views / sizeof broker_views[0],
	.on_start = broker_on_start,
	.on_iteration = broker_on_iteration,
	.on_tick = broker_on_tick,
	.tick_ms = 250,
	.on_stop = broker_on_stop,
	.on_status = broker_on_status,
	.on_stats = broker_on_stats,
};

int
main(int argc, char **argv)
{
	return wk_proc_main(argc, argv, &broker_def);
}
