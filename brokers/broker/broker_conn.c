/* broker_conn.c - a client connection of wk-broker (wk-broker(8)).
 *
 * Bytes in -> WKProto packets (the codec's splitter: several packets per
 * read, packets across reads) -> CONNECT -> AUTH to the user's mailbox shard
 * -> CONNACK (with the reason code on failure, then close) -> PING/PONG and
 * the rest.  Output is appended to one buffer per connection and written
 * once per loop iteration (batched); a client whose unsent output passes
 * limits.outputBufferMax is disconnected: a slow reader must not hold the
 * broker's memory.  Timeouts (pre-auth, idle, kick delays) are checked by a
 * sweep once a second rather than a timer per connection. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "broker.h"
#include "wk_alloc.h"
#include "wk_buf.h"
#include "wk_log.h"
#include "wk_shard.h"
#include "wk_time.h"

#define READ_CHUNK 65536
#define ACCEPT_PAUSE_MS 100
#define PENDING_MAX 65536   /* bytes a client may send before its AUTH completes */

/* Warnings caused by clients: at most ten a second, whatever they send. */
static struct wk_ratelimit rl_proto = WK_RATELIMIT_INIT(10);

/* The connection whose id is id, or NULL. An id is pid << 32 | generation
 * << 24 | fd: the fd finds the slot, and the generation (bumped at each
 * accept on that fd) tells a reused descriptor from the connection a late
 * message was meant for. */
struct broker_conn *
broker_conn_find(uint64_t id)
{
	int fd = (int)(id & 0xffffff);

	if (fd >= broker.nconns_cap || broker.conns[fd] == NULL || broker.conns[fd]->id != id)
		return NULL;
	return broker.conns[fd];
}

/* Grow the fd-indexed tables (connections, generations) to cover fd. */
static void
conn_table_grow(int fd)
{
	int n = broker.nconns_cap ? broker.nconns_cap : 1024;

	while (n <= fd)
		n *= 2;
	broker.conns = wk_realloc(broker.conns, n * sizeof *broker.conns);
	broker.gen = wk_realloc(broker.gen, n);
	memset(broker.conns + broker.nconns_cap, 0, (n - broker.nconns_cap) * sizeof *broker.conns);
	memset(broker.gen + broker.nconns_cap, 0, n - broker.nconns_cap);
	broker.nconns_cap = n;
}

static void on_conn_event(struct wk_loop *l, int fd, uint32_t ev, void *arg);

/* Tell the user's mailbox shard the connection is gone (only if it knew). */
void
broker_notify_closed(uint64_t id, const char *uid)
{
	struct wk_proc *p = broker.proc;
	struct wk_wbuf b;

	wk_wbuf_init(&b);
	wk_put_u16(&b, (uint16_t)p->instance);
	wk_put_u64(&b, id);
	wk_put_str(&b, uid);
	wk_proc_send_buf(p, WK_ROLE_MAILBOX, wk_shard_uid(uid, strlen(uid),
	    p->cfg.processes_mailbox), WK_MSG_MAILBOX_CONN_CLOSED, id, &b);
	wk_wbuf_free(&b);
}

/* Put c at the tail of the flush list (once): broker_flush_all writes the
 * list in the order output was queued, so a sender's SENDACK is not written
 * after the hundreds of RECVs queued behind it (a LIFO list did that). */
static void
conn_mark_dirty(struct broker_conn *c)
{
	if (c->dirty)
		return;
	c->dirty = 1;
	c->next_dirty = NULL;
	if (broker.dirty_tail)
		broker.dirty_tail->next_dirty = c;
	else
		broker.dirty = c;
	broker.dirty_tail = c;
	broker.ndirty++;
}

/* Take c off the flush list (a close in the middle of the iteration). */
static void
dirty_unlink(struct broker_conn *c)
{
	struct broker_conn *prev = NULL;

	for (struct broker_conn *x = broker.dirty; x; prev = x, x = x->next_dirty)
		if (x == c) {
			if (prev)
				prev->next_dirty = c->next_dirty;
			else
				broker.dirty = c->next_dirty;
			if (broker.dirty_tail == c)
				broker.dirty_tail = prev;
			broker.ndirty--;
			break;
		}
	c->dirty = 0;
}

/* Close c now and free it: the mailbox shard learns it (if it registered c
 * in presence), c leaves the flush list, and its retry queue, WebSocket,
 * TLS and crypto state go with it. */
void
broker_conn_close(struct broker_conn *c, const char *why)
{
	if (why)
		wk_log_debug("close %s conn %llx from %s: %s", c->uid[0] ? c->uid : "-",
		    (unsigned long long)c->id, c->addr, why);
	if (c->registered)
		broker_notify_closed(c->id, c->uid);
	wk_loop_del(broker.proc->loop, c->fd);
	close(c->fd);
	broker.conns[c->fd] = NULL;
	broker.nconns--;
	broker.st.closed++;
	if (c->dirty)
		dirty_unlink(c);
	broker.unacked -= c->unacked;   /* their SENDACKs will find no connection */
	broker.senders -= c->unacked > 0;
	broker.npaused -= c->paused;
	broker_retry_free(c);
	broker_rpc_free(c);
	broker_ws_free(c);
	broker_tls_free(c);
	wk_crypto_session_clear(&c->crypto);
	free(c->in);
	broker.out_bytes -= c->outlen;
	free(c->out);
	free(c->ws_pre);
	free(c);
}

/* Refuse c: on WebSocket a Close frame says why (a browser otherwise
 * reports 1006); the connection ends once its output is written, or after
 * the 5 s the sweep allows a closing connection. */
void
broker_conn_refuse(struct broker_conn *c, uint16_t ws_code, const char *why)
{
	if (c->kind != BROKER_CONN_TCP)
		broker_ws_close(c, ws_code, why);
	c->state = BROKER_CS_CLOSING;
	c->last_in_ms = wk_now_ms();
	conn_mark_dirty(c);
}

/* The pause after running out of descriptors is over: watch the listener
 * again. */
static void
resume_accept(struct wk_loop *l, uint64_t id, void *arg)
{
	wk_loop_mod(l, (int)(intptr_t)arg, EPOLLIN);
}

/* The state a new connection starts in (after its PROXY header, if its
 * listener wants one): CONNECT on TCP, the HTTP upgrade on WS, TLS on WSS.
 * -1 if TLS cannot be set up. */
static int
conn_first_state(struct broker_conn *c)
{
	c->state = c->kind == BROKER_CONN_TCP ? BROKER_CS_CONNECT : c->kind == BROKER_CONN_WS ?
	    BROKER_CS_WS_UPGRADE : BROKER_CS_TLS;
	return c->kind == BROKER_CONN_WSS ? broker_tls_start(c) : 0;
}

/* Accept up to 256 connections per event (so one busy listener cannot
 * starve the loop), refusing those over limits.maxConnections. */
void
broker_accept(struct wk_loop *l, int lfd, uint32_t ev, void *arg)
{
	int kind = (int)(intptr_t)arg, one = 1;

	for (int i = 0; i < 256; i++) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof peer;
		char addr[56];
		int fd = accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)) {
			/* Out of descriptors: the listener stays readable, so stop
			 * watching it for a while instead of spinning on it. */
			broker.st.refused++;
			wk_log_limited(&rl_proto, WK_LOG_WARN, "accept: %s; pausing accepts for %dms "
			    "(raise the descriptor limit or lower limits.maxConnections)",
			    strerror(errno), ACCEPT_PAUSE_MS);
			wk_loop_mod(l, lfd, 0);
			wk_loop_timer(l, ACCEPT_PAUSE_MS, 0, resume_accept, (void *)(intptr_t)lfd);
			return;
		}
		if (fd < 0)
			return;   /* EAGAIN, or a transient error: try at the next event */
		wk_sockaddr_str((struct sockaddr *)&peer, addr, sizeof addr);
		if (broker.nconns >= broker.proc->cfg.limits_maxConnections || fd > 0xffffff ||
		    (broker.proxy_on[kind] && !broker_proxy_allowed((struct sockaddr *)&peer, addr))) {
			broker.st.refused++;
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (fd >= broker.nconns_cap)
			conn_table_grow(fd);
		struct broker_conn *c = wk_calloc(1, sizeof *c);
		c->fd = fd;
		c->kind = (uint8_t)kind;
		/* The pid makes ids unique across broker restarts too: a
		 * reply that names a connection of the previous process
		 * finds nothing. */
		c->id = (uint64_t)getpid() << 32 | (uint64_t)(++broker.gen[fd]) << 24 | (uint64_t)fd;
		c->accepted_ms = c->last_in_ms = wk_now_ms();
		c->peer = peer;
		memcpy(c->addr, addr, sizeof addr);
		broker.conns[fd] = c;
		broker.nconns++;
		broker.st.accepted++;
		wk_loop_add(l, fd, EPOLLIN | EPOLLRDHUP, on_conn_event, NULL);
		if (broker.proxy_on[kind])
			c->state = BROKER_CS_PROXY;
		else if (conn_first_state(c) < 0)
			broker_conn_close(c, "tls setup failed");
	}
}


/* Append n bytes to c's output, written at the end of the iteration. The
 * bound: past limits.outputBufferMax the client is too slow to keep, and
 * is closed rather than buffered without limit. */
int
broker_conn_queue(struct broker_conn *c, const uint8_t *p, size_t n)
{
	if (c->outlen + n > (size_t)broker.proc->cfg.limits_outputBufferMax) {
		broker.st.slow_clients++;
		wk_log_limited(&rl_proto, WK_LOG_WARN, "%s: output over limits.outputBufferMax; "
		    "disconnecting the slow client", c->uid[0] ? c->uid : "-");
		c->close_at_ms = 1;   /* the sweep and the flush close it */
		return -1;
	}
	/* What a partial write left starts at outoff.  It moves to the front
	 * only once the written part before it is at least as long, so a
	 * slow reader's backlog is not copied again at every write. */
	if (c->outoff + c->outlen + n > c->outcap && c->outoff >= c->outlen) {
		memmove(c->out, c->out + c->outoff, c->outlen);
		c->outoff = 0;
	}
	wk_grow(&c->out, &c->outcap, c->outoff + c->outlen + n);
	memcpy(c->out + c->outoff + c->outlen, p, n);
	c->outlen += n;
	broker.out_bytes += n;
	conn_mark_dirty(c);
	return 0;
}

/* One encoded packet to c: over TCP into the output buffer, over WebSocket
 * as one binary message. */
int
broker_conn_send_bytes(struct broker_conn *c, const uint8_t *p, size_t n)
{
	int rc = c->kind == BROKER_CONN_TCP ? broker_conn_queue(c, p, n) :
	    broker_ws_send_packet(c, p, n);   /* one packet, one WS message */

	if (rc == 0) {
		broker.st.packets_out++;
		c->cs.out_packets++;
		c->cs.out_packet_bytes += n;
	}
	return rc;
}

/* Encode pkt in the version c negotiated (or as JSON-RPC text) and send
 * it; small packets are encoded on the stack. */
int
broker_conn_send(struct broker_conn *c, const struct wkproto_packet *pkt)
{
	uint8_t stackbuf[4096], *buf = stackbuf;
	int version = c->proto_version ? c->proto_version : WKPROTO_VERSION_MAX;
	ssize_t n;
	int rc;

	if (c->ws_mode == BROKER_WS_JSONRPC)
		return broker_rpc_send(c, pkt);
	n = wkproto_encoded_size(pkt, version);
	if (n < 0)
		return -1;
	if ((size_t)n > sizeof stackbuf)
		buf = wk_malloc(n);
	n = wkproto_encode(pkt, version, buf, n);
	rc = n < 0 ? -1 : broker_conn_send_bytes(c, buf, (size_t)n);
	if (buf != stackbuf)
		free(buf);
	return rc;
}

/* What epoll watches on c: reads unless paused (backpressure: a paused
 * connection's hang-up is seen when it resumes, or as an error), writes
 * while output waits. */
void
broker_conn_set_events(struct broker_conn *c)
{
	wk_loop_mod(broker.proc->loop, c->fd, (c->paused ? 0 : EPOLLIN | EPOLLRDHUP) |
	    (c->want_write ? EPOLLOUT : 0));
}

/* Write what is queued; 0 when all went or the socket is full, -1 to close. */
static int
conn_flush(struct broker_conn *c)
{
	size_t off = 0;

	while (off < c->outlen) {
		ssize_t n = broker_io_write(c, c->out + c->outoff + off, c->outlen - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0)
			return -1;
		off += n;
		broker.st.bytes_out += n;
	}
	c->outoff += off;
	c->outlen -= off;
	broker.out_bytes -= off;
	if (c->outlen == 0) {
		c->outoff = 0;
		if (c->outcap > 16384) {
			free(c->out);       /* idle connections keep no big buffers */
			c->out = NULL;
			c->outcap = 0;
		}
	}
	int want = c->outlen > 0;
	if (want != c->want_write) {
		c->want_write = (uint8_t)want;
		broker_conn_set_events(c);
	}
	return 0;
}

/* A closing connection whose output is all written: closed, 1; or, on
 * WebSocket while our Close is unanswered, half-closed, 0: the reader waits
 * for the client's Close (or EOF, or the sweep's 5 s), because closing with
 * its answer unread makes the kernel send a reset and the browser reports
 * the close as unclean.  The user is offline from now either way. */
static int
conn_end(struct broker_conn *c)
{
	if (c->half_closed)
		return 0;
	if (c->ws && wslay_event_get_close_sent(c->ws) && !wslay_event_get_close_received(c->ws)) {
		if (c->registered)
			broker_notify_closed(c->id, c->uid);
		c->registered = 0;
		c->half_closed = 1;
		c->last_in_ms = wk_now_ms();
		shutdown(c->fd, SHUT_WR);
		return 0;
	}
	broker_conn_close(c, NULL);
	return 1;
}

/* Write every connection on the flush list, and close those that failed,
 * finished closing, or went over an output bound. */
static void
flush_list(void)
{
	while (broker.dirty) {
		struct broker_conn *c = broker.dirty;
		broker.dirty = c->next_dirty;
		if (!broker.dirty)
			broker.dirty_tail = NULL;
		broker.ndirty--;
		c->dirty = 0;
		if (conn_flush(c) < 0)
			broker_conn_close(c, c->state == BROKER_CS_CLOSING ? NULL : "write failed");
		else if (c->close_at_ms == 1)
			broker_conn_close(c, "too slow: output over its bound");
		else if (c->state == BROKER_CS_CLOSING && c->outlen == 0)
			conn_end(c);
	}
}

static int
by_outlen_desc(const void *a, const void *b)
{
	size_t x = (*(struct broker_conn *const *)a)->outlen, y = (*(struct broker_conn *const *)b)->outlen;

	return x < y ? 1 : x > y ? -1 : 0;
}

/* The output of all connections over limits.outputTotalMax (a fan-out
 * faster than its readers): the clients with the most waiting are
 * disconnected, as one over limits.outputBufferMax is, until what is left
 * is under half the bound.  They reconnect and sync; the broker's memory
 * stays bounded whatever the backlog.  The number disconnected. */
static size_t
shed_slowest(void)
{
	uint64_t max = (uint64_t)broker.proc->cfg.limits_outputTotalMax, left = broker.out_bytes;
	struct broker_conn **v = wk_malloc((size_t)broker.nconns * sizeof *v);
	size_t n = 0, shed = 0;

	for (int fd = 0; fd < broker.nconns_cap; fd++) {
		struct broker_conn *c = broker.conns[fd];
		if (c && c->outlen > 0 && c->close_at_ms != 1 && n < (size_t)broker.nconns)
			v[n++] = c;
	}
	qsort(v, n, sizeof *v, by_outlen_desc);
	for (; shed < n && left > max / 2; shed++) {
		left -= v[shed]->outlen;
		v[shed]->close_at_ms = 1;
		broker.st.slow_clients++;
		conn_mark_dirty(v[shed]);
	}
	free(v);
	wk_log_limited(&rl_proto, WK_LOG_WARN, "output of all connections over "
	    "limits.outputTotalMax (%llu bytes): disconnecting the %zu slowest clients",
	    (unsigned long long)max, shed);
	return shed;
}

/* End of the iteration: write what is queued; past the broker's output
 * bound, shed the slowest clients. */
void
broker_flush_all(void)
{
	flush_list();
	if (broker.out_bytes > (uint64_t)broker.proc->cfg.limits_outputTotalMax && shed_slowest() > 0)
		flush_list();
}

/* A fan-out to many connections fills many buffers; write the few small
 * outputs queued before it first (a frame or two each), so their latency
 * does not include the fan-out's encoding. Below the threshold the end of
 * the iteration's flush is soon enough. */
void
broker_flush_before_fanout(size_t targets)
{
	if (targets >= 64 && broker.ndirty > 0 && broker.ndirty < 64)
		broker_flush_all();
}

/* The mailbox shard that owns c's user. */
static int
mailbox_of(const struct broker_conn *c)
{
	return wk_shard_uid(c->uid, strlen(c->uid), broker.proc->cfg.processes_mailbox);
}

/* The MAILBOX_AUTH payload (MAILBOX_CONN_RESTORE appends the level). */
static void
put_auth(struct wk_wbuf *b, const struct broker_conn *c, const char *token, size_t tlen)
{
	wk_put_u16(b, (uint16_t)broker.proc->instance);
	wk_put_u64(b, c->id);
	wk_put_u8(b, c->device_flag);
	wk_put_u8(b, c->proto_version);
	wk_put_str(b, c->uid);
	wk_put_strn(b, token, tlen);
	wk_put_str(b, c->device_id);
}

/* CONNECT: check it, remember it, ask the user's mailbox shard. */
static int
on_connect(struct broker_conn *c, const struct wkproto_connect *p)
{
	struct wk_proc *proc = broker.proc;
	struct wk_wbuf b;
	int rc;

	if (p->version < WKPROTO_VERSION_MIN || p->uid.len == 0 || p->uid.len >= BROKER_UID_MAX ||
	    p->device_id.len >= BROKER_DEVICE_ID_MAX || p->token.len >= 512)
		return -1;
	c->client_version = p->version;
	c->proto_version = p->version < WKPROTO_VERSION_MAX ? p->version : WKPROTO_VERSION_MAX;
	c->device_flag = p->device_flag;
	c->client_ts = p->client_timestamp;
	memcpy(c->uid, p->uid.p, p->uid.len);
	c->uid[p->uid.len] = '\0';
	memcpy(c->device_id, p->device_id.p, p->device_id.len);
	c->device_id[p->device_id.len] = '\0';
	if (broker_conn_encrypts(c) &&
	    wk_crypto_decode_key(p->client_key.p, p->client_key.len, c->client_key) < 0) {
		/* The reference slices without checking; wk answers with a reason. */
		broker_conn_on_auth(c, WKPROTO_REASON_CLIENT_KEY_IS_EMPTY, 0, 0);
		return 0;
	}
	wk_wbuf_init(&b);
	put_auth(&b, c, p->token.p, p->token.len);
	c->state = BROKER_CS_AUTH;
	rc = wk_proc_send_buf(proc, WK_ROLE_MAILBOX, mailbox_of(c), WK_MSG_MAILBOX_AUTH, c->id, &b);
	wk_wbuf_free(&b);
	if (rc < 0)
		broker_conn_on_auth(c, WKPROTO_REASON_SYSTEM_ERROR, 0, 0);
	return 0;
}

/* The mailbox shard's answer: CONNACK, keys, and READY or close. */
void
broker_conn_on_auth(struct broker_conn *c, int reason, uint8_t level, uint8_t user_flags)
{
	struct wkproto_packet pkt = { .type = WKPROTO_CONNACK };
	uint8_t pub[WK_CRYPTO_KEY_LEN], shared[WK_CRYPTO_KEY_LEN];
	char aes_key[WK_CRYPTO_AES_LEN], salt[WK_CRYPTO_SALT_LEN], pub64[WK_CRYPTO_KEY_B64_LEN];

	pkt.connack.time_diff = wk_wall_ms() - c->client_ts;
	pkt.connack.node_id = BROKER_NODE_ID;
	/* SDK 1.0.4 (v2) cannot parse the HasServerVersion layout: only above v3. */
	if (c->client_version > 3) {
		pkt.flags = WKPROTO_FLAG_HAS_SERVER_VERSION;
		pkt.connack.server_version = c->proto_version;
	}
	if (reason == WKPROTO_REASON_SUCCESS && broker_conn_encrypts(c)) {
		if (wk_crypto_agree(c->client_key, pub, shared) < 0 ||
		    wk_crypto_derive_key(shared, aes_key) < 0 || wk_crypto_salt(salt) < 0 ||
		    wk_crypto_session_init(&c->crypto, aes_key, salt) < 0)
			reason = WKPROTO_REASON_CLIENT_KEY_IS_EMPTY;   /* e.g. a low-order key */
		else {
			wk_b64_encode(pub, sizeof pub, pub64);
			pkt.connack.server_key = wk_str_n(pub64, sizeof pub64);
			pkt.connack.salt = wk_str_n(salt, sizeof salt);
		}
		OPENSSL_cleanse(shared, sizeof shared);
	}
	pkt.connack.reason_code = (uint8_t)reason;
	if (reason != WKPROTO_REASON_SUCCESS) {
		broker.st.auth_fail++;
		/* The reference closes silently and the SDK retries every 3 s
		 * forever; a CONNACK with the reason makes it stop. */
		broker_conn_send(c, &pkt);
		broker_conn_refuse(c, WSLAY_CODE_POLICY_VIOLATION, "connect refused");
		return;
	}
	broker.st.auth_ok++;
	c->registered = 1;
	c->device_level = level;
	c->user_flags = user_flags;
	c->state = BROKER_CS_READY;
	broker_conn_send(c, &pkt);
	/* Packets that arrived behind the CONNECT are handled now. */
	if (c->inlen)
		broker_conn_input(c, NULL, 0);
}

/* Close c after delay_ms (the sweep does it), after a DISCONNECT if
 * disconnect; the delay lets the DISCONNECT reach the client first. */
void
broker_conn_kick(struct broker_conn *c, uint8_t reason, const char *text, int disconnect,
    uint32_t delay_ms)
{
	if (disconnect) {
		struct wkproto_packet pkt = { .type = WKPROTO_DISCONNECT };
		pkt.disconnect.reason_code = reason;
		pkt.disconnect.reason = wk_str_of(text);
		broker_conn_send(c, &pkt);
	}
	broker.st.kicked++;
	c->close_at_ms = wk_now_ms() + (delay_ms ? delay_ms : 1);
}

/* One packet from an authenticated client. */
static int
on_packet(struct broker_conn *c, const struct wkproto_packet *pkt)
{
	struct wkproto_packet out = { 0 };

	switch (pkt->type) {
	case WKPROTO_PING:
		out.type = WKPROTO_PONG;
		return broker_conn_send(c, &out) < 0 ? -1 : 0;
	case WKPROTO_SEND:
		broker.st.sends++;
		c->cs.in_msgs++;
		c->cs.in_msg_bytes += pkt->send.payload.len;
		return broker_on_send(c, pkt);
	case WKPROTO_RECVACK:
		broker_on_recvack(c, &pkt->recvack);
		return 0;
	case WKPROTO_SUB:   /* the reference ignores SUB too */
		return 0;
	case WKPROTO_DISCONNECT:
		broker_conn_refuse(c, WSLAY_CODE_NORMAL_CLOSURE, "disconnect");
		return 0;
	default:
		wk_log_limited(&rl_proto, WK_LOG_INFO, "%s: unexpected %s packet; closing",
		    c->uid, wkproto_type_name(pkt->type));
		return -1;
	}
}

/* A bad packet from c (rc: a wkproto error, -100 not CONNECT first, -1
 * refused by its handler): logged, counted, and c refused with 1002. */
static void
conn_protocol_error(struct broker_conn *c, int rc)
{
	broker.st.proto_errors++;
	wk_log_limited(&rl_proto, WK_LOG_INFO, "%s conn %llx from %s: %s; closing",
	    c->uid[0] ? c->uid : "-", (unsigned long long)c->id, c->addr,
	    rc == -100 ? "first packet is not CONNECT" :
	    rc < -1 ? wkproto_strerror(rc) : "bad packet");
	broker_conn_refuse(c, WSLAY_CODE_PROTOCOL_ERROR, "bad packet");
}

int
broker_conn_packet(struct broker_conn *c, const struct wkproto_packet *pkt)
{
	int rc;

	if (c->state == BROKER_CS_CONNECT)
		rc = pkt->type == WKPROTO_CONNECT ? on_connect(c, &pkt->connect) : -100;
	else
		rc = on_packet(c, pkt);
	if (rc != 0)
		conn_protocol_error(c, rc);
	return rc ? -1 : 0;
}

/* Bytes from the client (p may be NULL: run what is buffered). Packets are
 * handled while the connection is in CONNECT or READY; during AUTH they
 * wait in c->in (bounded by PENDING_MAX) and run when the answer comes. A
 * bad packet closes the connection after its queued output is written. */
void
broker_conn_input(struct broker_conn *c, const uint8_t *p, size_t n)
{
	struct wkproto_frame f;
	struct wkproto_packet pkt;
	size_t off = 0;
	int rc;

	if (n) {
		wk_grow(&c->in, &c->incap, c->inlen + n);
		memcpy(c->in + c->inlen, p, n);
		c->inlen += n;
		c->last_in_ms = wk_now_ms();
	}
	/* While AUTH is pending packets wait here; do not let them pile up. */
	if (c->state == BROKER_CS_AUTH && c->inlen > PENDING_MAX) {
		wk_log_limited(&rl_proto, WK_LOG_INFO, "%s: %zu bytes before authentication; closing",
		    c->uid, c->inlen);
		broker_conn_refuse(c, WSLAY_CODE_POLICY_VIOLATION, "too much before authentication");
		return;
	}
	while ((c->state == BROKER_CS_CONNECT || c->state == BROKER_CS_READY) && !c->paused) {
		rc = wkproto_split(c->in + off, c->inlen - off,
		    (uint32_t)broker.proc->cfg.limits_maxPacketSize, &f);
		if (rc == WKPROTO_ENEED)
			break;
		if (rc == 0) {
			rc = wkproto_decode_frame(&f, c->state == BROKER_CS_CONNECT ? WKPROTO_VERSION_MAX :
			    c->proto_version, &pkt);
			off += f.total;
			broker.st.packets_in++;
			c->cs.in_packets++;
			c->cs.in_packet_bytes += f.total;
		}
		if (rc != 0) {
			conn_protocol_error(c, rc);
			return;
		}
		if (broker_conn_packet(c, &pkt) < 0)
			return;
	}
	memmove(c->in, c->in + off, c->inlen - off);
	c->inlen -= off;
	if (c->inlen == 0 && c->incap > 16384) {
		free(c->in);
		c->in = NULL;
		c->incap = 0;
	}
}

/* Read from c (TLS or not): bytes read, 0 if nothing is there now, -1 when
 * the peer closed or the read failed. */
ssize_t
broker_read(struct broker_conn *c, void *buf, size_t len)
{
	for (;;) {
		ssize_t n = broker_io_read(c, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			return -1;
		broker.st.bytes_in += n;
		return n;
	}
}

/* Readable on a plain TCP connection. */
static int
tcp_on_readable(struct broker_conn *c)
{
	static uint8_t buf[READ_CHUNK];

	for (;;) {
		ssize_t n = broker_read(c, buf, sizeof buf);
		if (n <= 0)
			return (int)n;
		broker_conn_input(c, buf, n);
		if (c->state == BROKER_CS_CLOSING || broker.conns[c->fd] != c || c->paused)
			return 0;
		/* A short read emptied the socket: no need to try again. */
		if ((size_t)n < sizeof buf)
			return 0;
	}
}

/* Any event on a client socket: flush first (EPOLLOUT), then the TLS
 * handshake or a read; an error closes the connection. */
static void
on_conn_event(struct wk_loop *l, int fd, uint32_t ev, void *arg)
{
	struct broker_conn *c = fd < broker.nconns_cap ? broker.conns[fd] : NULL;
	int rc = 0;

	if (c == NULL)
		return;
	if (ev & EPOLLOUT) {
		if (conn_flush(c) < 0) {
			broker_conn_close(c, "write failed");
			return;
		}
		if (c->state == BROKER_CS_CLOSING && c->outlen == 0 && conn_end(c))
			return;
	}
	if (!(ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		return;
	if (c->state == BROKER_CS_PROXY) {
		rc = broker_proxy_read(c);
		if (rc > 0)
			rc = conn_first_state(c) < 0 ? -1 : 1;
		if (rc <= 0) {
			if (rc < 0)
				broker_conn_close(c, "bad PROXY header");
			return;
		}
		rc = 0;   /* what follows the header may be here already */
	}
	if (c->state == BROKER_CS_TLS) {
		rc = broker_tls_handshake(c);
		if (rc > 0)
			c->state = BROKER_CS_WS_UPGRADE;
		rc = rc < 0 ? -1 : 0;
	}
	if (rc == 0 && c->state != BROKER_CS_TLS)
		rc = c->kind == BROKER_CONN_TCP ? tcp_on_readable(c) : broker_ws_on_readable(c);
	if (rc < 0)
		broker_conn_close(c, "peer closed or read failed");
}

/* Every tick (broker.c, 250 ms): pre-auth and idle timeouts, kick delays;
 * every messageRetry.scanInterval, the RECVs due for a re-send. */
void
broker_sweep(void)
{
	static uint64_t retry_scan_at;   /* the next look for RECVs due again */
	const struct wk_config *cfg = &broker.proc->cfg;
	uint64_t now = wk_now_ms();
	int scan = now >= retry_scan_at;

	if (scan)
		retry_scan_at = now + (uint64_t)cfg->messageRetry_scanInterval;
	for (int fd = 0; fd < broker.nconns_cap; fd++) {
		struct broker_conn *c = broker.conns[fd];
		if (c == NULL)
			continue;
		if (c->close_at_ms && now >= c->close_at_ms)
			broker_conn_close(c, "kicked");
		else if (c->state != BROKER_CS_READY && c->state != BROKER_CS_CLOSING &&
		    now - c->accepted_ms > (uint64_t)cfg->connAuthTimeout) {
			broker.st.timeouts++;
			broker_conn_close(c, "not authenticated in time");
		} else if (c->state == BROKER_CS_READY && now - c->last_in_ms > (uint64_t)cfg->connIdleTime) {
			broker.st.timeouts++;
			broker_conn_close(c, "idle");
		} else if (c->state == BROKER_CS_CLOSING && now - c->last_in_ms > 5000)
			broker_conn_close(c, "close timed out");
		else {
			if (c->retry && scan)
				broker_retry_due(c, now);
			if (c->unacked)
				broker_window_check(c, now);
		}
	}
}

/* A mailbox shard restarted: tell it about our users it owns. */
void
broker_conn_restore_to(int mailbox)
{
	struct wk_proc *p = broker.proc;
	int n = 0;

	for (int fd = 0; fd < broker.nconns_cap; fd++) {
		struct broker_conn *c = broker.conns[fd];
		struct wk_wbuf b;
		if (c == NULL || c->state != BROKER_CS_READY || mailbox_of(c) != mailbox)
			continue;
		wk_wbuf_init(&b);
		put_auth(&b, c, "", 0);
		wk_put_u8(&b, c->device_level);
		wk_proc_send_buf(p, WK_ROLE_MAILBOX, mailbox, WK_MSG_MAILBOX_CONN_RESTORE, c->id, &b);
		wk_wbuf_free(&b);
		n++;
	}
	/* Done: the slots it kept that we did not name are dropped. */
	broker_send_hello(p, mailbox);
	if (n)
		wk_log_info("mailbox/%d restarted: restored %d connections", mailbox, n);
}
