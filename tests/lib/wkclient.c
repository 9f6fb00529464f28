/* wkclient.c - WKProto test client (see wkclient.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <wslay/wslay.h>
#include <openssl/ssl.h>
#include "wkclient.h"

static uint64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
dial(const char *host, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	inet_pton(AF_INET, host, &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

struct wkc *
wkc_connect_tcp(const char *host, int port)
{
	int fd = dial(host, port);
	struct wkc *c;

	if (fd < 0)
		return NULL;
	c = calloc(1, sizeof *c);
	c->fd = fd;
	c->version = WKPROTO_VERSION_MAX;
	return c;
}

/* read/write through TLS when the connection has it. */
static ssize_t
io_read(struct wkc *c, void *buf, size_t n, int dontwait)
{
	if (c->ssl) {
		if (dontwait && SSL_pending(c->ssl) == 0) {
			struct pollfd p = { c->fd, POLLIN, 0 };
			if (poll(&p, 1, 0) != 1) {
				errno = EAGAIN;
				return -1;
			}
		}
		int r = SSL_read(c->ssl, buf, (int)n);
		if (r <= 0 && SSL_get_error(c->ssl, r) == SSL_ERROR_WANT_READ) {
			errno = EAGAIN;
			return -1;
		}
		return r;
	}
	return recv(c->fd, buf, n, dontwait ? MSG_DONTWAIT : 0);
}

static ssize_t
io_write(struct wkc *c, const void *buf, size_t n)
{
	if (c->ssl)
		return SSL_write(c->ssl, buf, (int)n);
	return send(c->fd, buf, n, MSG_NOSIGNAL);
}

static ssize_t
ws_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user)
{
	struct wkc *c = user;
	ssize_t n = io_read(c, buf, len, 1);

	if (n > 0)
		return n;
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	c->closed = c->eof = 1;
	wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
	return -1;
}

static ssize_t
ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *user)
{
	struct wkc *c = user;
	ssize_t n = io_write(c, data, len);

	if (n < 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return n;
}

static int
ws_genmask_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *user)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)rand();
	return 0;
}

static void
ws_msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg, void *user)
{
	struct wkc *c = user;
	struct wkproto_frame f;

	if (arg->opcode == WSLAY_CONNECTION_CLOSE) {
		c->closed = 1;
		c->ws_close_code = arg->status_code;
		return;
	}
	if (arg->opcode != WSLAY_BINARY_FRAME || c->inlen + arg->msg_length > sizeof c->in)
		return;
	c->ws_msgs++;
	/* The server promises one packet per message: count the exceptions. */
	if (wkproto_split(arg->msg, arg->msg_length, 0, &f) == 0 && f.total != arg->msg_length)
		c->ws_multi++;
	memcpy(c->in + c->inlen, arg->msg, arg->msg_length);
	c->inlen += arg->msg_length;
}

static const struct wslay_event_callbacks ws_callbacks = {
	ws_recv_cb, ws_send_cb, ws_genmask_cb, NULL, NULL, NULL, ws_msg_cb,
};

/* The HTTP upgrade over c (plain or TLS), then a wslay client context. */
static struct wkc *
ws_upgrade(struct wkc *c)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Sec-WebSocket-Version: 13\r\n\r\n";
	char head[4096];
	size_t len = 0;

	if (io_write(c, req, sizeof req - 1) != (ssize_t)(sizeof req - 1))
		goto fail;
	/* Read the response head byte by byte: nothing past it is consumed. */
	while (len < sizeof head - 1) {
		struct pollfd p = { c->fd, POLLIN, 0 };
		if ((!c->ssl || SSL_pending(c->ssl) == 0) && poll(&p, 1, 5000) != 1)
			goto fail;
		if (io_read(c, head + len, 1, 0) != 1)
			goto fail;
		head[++len] = '\0';
		if (len >= 4 && memcmp(head + len - 4, "\r\n\r\n", 4) == 0)
			break;
	}
	/* The RFC 6455 example key and its accept value. */
	if (strncmp(head, "HTTP/1.1 101", 12) != 0 ||
	    strstr(head, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == NULL)
		goto fail;
	c->ws = 1;
	if (wslay_event_context_client_init((wslay_event_context_ptr *)&c->wsctx, &ws_callbacks, c) != 0)
		goto fail;
	return c;
fail:
	wkc_close(c);
	return NULL;
}

struct wkc *
wkc_connect_ws(const char *host, int port)
{
	return wkc_connect_ws_after(host, port, NULL, 0);
}

struct wkc *
wkc_connect_ws_after(const char *host, int port, const void *pre, size_t n)
{
	struct wkc *c = wkc_connect_tcp(host, port);

	if (c && n && send(c->fd, pre, n, MSG_NOSIGNAL) != (ssize_t)n) {
		wkc_close(c);
		return NULL;
	}
	return c ? ws_upgrade(c) : NULL;
}

struct wkc *
wkc_connect_wss(const char *host, int port)
{
	static SSL_CTX *ctx;
	struct wkc *c = wkc_connect_tcp(host, port);

	if (c == NULL)
		return NULL;
	if (ctx == NULL)
		ctx = SSL_CTX_new(TLS_client_method());
	c->ssl = SSL_new(ctx);
	SSL_set_fd(c->ssl, c->fd);
	if (SSL_connect(c->ssl) != 1) {
		wkc_close(c);
		return NULL;
	}
	return ws_upgrade(c);
}

void
wkc_close(struct wkc *c)
{
	if (c == NULL)
		return;
	if (c->wsctx)
		wslay_event_context_free(c->wsctx);
	if (c->ssl)
		SSL_free(c->ssl);
	wk_crypto_session_clear(&c->crypto);
	close(c->fd);
	free(c);
}

int
wkc_send_raw(struct wkc *c, const void *p, size_t n)
{
	if (c->ws) {
		struct wslay_event_msg m = { WSLAY_BINARY_FRAME, p, n };
		if (wslay_event_queue_msg(c->wsctx, &m) != 0)
			return -1;
		while (wslay_event_want_write(c->wsctx))
			if (wslay_event_send(c->wsctx) != 0)
				return -1;
		return 0;
	}
	return send(c->fd, p, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

int
wkc_send(struct wkc *c, const struct wkproto_packet *pkt)
{
	uint8_t buf[65536];
	ssize_t n = wkproto_encode(pkt, c->version, buf, sizeof buf);

	return n < 0 ? (int)n : wkc_send_raw(c, buf, n);
}

/* Read what the socket has (waiting up to timeout_ms): 0, -1 timeout, -2 closed. */
static int
fill(struct wkc *c, int timeout_ms)
{
	struct pollfd p = { c->fd, POLLIN, 0 };

	if (c->closed)
		return -2;
	if ((!c->ssl || SSL_pending(c->ssl) == 0) && poll(&p, 1, timeout_ms) != 1)
		return -1;
	if (c->ws) {
		/* Messages read before an EOF are kept in c->in. */
		if (wslay_event_recv(c->wsctx) != 0)
			c->closed = 1;
		return c->closed ? -2 : 0;
	}
	ssize_t n = read(c->fd, c->in + c->inlen, sizeof c->in - c->inlen);
	if (n <= 0) {
		c->closed = c->eof = 1;
		return -2;
	}
	c->inlen += n;
	return 0;
}

int
wkc_recv(struct wkc *c, struct wkproto_packet *out, int timeout_ms)
{
	uint64_t end = now_ms() + timeout_ms;
	size_t consumed;
	int rc;

	/* Drop the packet returned last time. */
	memmove(c->in, c->in + c->consumed, c->inlen - c->consumed);
	c->inlen -= c->consumed;
	c->consumed = 0;
	for (;;) {
		rc = wkproto_decode(c->in, c->inlen, c->version, out, &consumed);
		if (rc == 0) {
			c->consumed = consumed;
			return 0;
		}
		if (rc != WKPROTO_ENEED)
			return rc;
		/* Only once what arrived before the close is decoded. */
		if (c->closed)
			return -2;
		int64_t left = (int64_t)(end - now_ms());
		if (left <= 0)
			return -1;
		fill(c, (int)left);
	}
}

int
wkc_handshake(struct wkc *c, const char *uid, const char *token, int version,
    int device_flag, const char *device_id, struct wkproto_connack *ack)
{
	struct wkproto_packet pkt = { .type = WKPROTO_CONNECT }, in;
	uint8_t seed[32], server_pub[32], shared[32];
	char pub64[WK_CRYPTO_KEY_B64_LEN], key[16], iv[16];
	int rc;

	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)rand();
	wk_crypto_keypair_from(&c->kp, seed);
	wk_b64_encode(c->kp.pub, 32, pub64);
	pkt.connect.version = (uint8_t)version;
	pkt.connect.device_flag = (uint8_t)device_flag;
	pkt.connect.device_id = wk_str_of(device_id);
	pkt.connect.uid = wk_str_of(uid);
	pkt.connect.token = wk_str_of(token);
	pkt.connect.client_timestamp = 1700000000000;
	pkt.connect.client_key = wk_str_n(pub64, sizeof pub64);
	c->version = version > WKPROTO_VERSION_MAX ? WKPROTO_VERSION_MAX : version;
	if ((rc = wkc_send(c, &pkt)) < 0)
		return rc;
	if ((rc = wkc_recv(c, &in, 5000)) < 0)
		return rc;
	if (in.type != WKPROTO_CONNACK)
		return WKPROTO_ETYPE;
	if (ack)
		*ack = in.connack;
	if (in.connack.reason_code != WKPROTO_REASON_SUCCESS)
		return in.connack.reason_code;
	if (in.connack.salt.len != 16 ||
	    wk_crypto_decode_key(in.connack.server_key.p, in.connack.server_key.len, server_pub) < 0 ||
	    wk_crypto_shared(c->kp.priv, server_pub, shared) < 0 ||
	    wk_crypto_derive_key(shared, key) < 0)
		return WKPROTO_EINVAL;
	memcpy(iv, in.connack.salt.p, 16);
	if (wk_crypto_session_init(&c->crypto, key, iv) < 0)
		return WKPROTO_EINVAL;
	return in.connack.reason_code;
}

int
wkc_wait_closed(struct wkc *c, int timeout_ms, int *disconnect_reason)
{
	uint64_t end = now_ms() + timeout_ms;
	struct wkproto_packet p;

	if (disconnect_reason)
		*disconnect_reason = -1;
	for (;;) {
		int64_t left = (int64_t)(end - now_ms());
		if (left <= 0)
			return -1;
		int rc = wkc_recv(c, &p, (int)left);
		if (rc == -2)
			return 0;
		if (rc == -1)
			return -1;
		if (rc < 0) {
			/* Undecodable: skip everything and keep waiting for EOF. */
			c->inlen = c->consumed = 0;
			continue;
		}
		if (p.type == WKPROTO_DISCONNECT && disconnect_reason)
			*disconnect_reason = p.disconnect.reason_code;
	}
}

/* A SEND with a setting and a stream number (NULL: none). */
static int
send_msg(struct wkc *c, const char *channel_id, int channel_type, const char *payload,
    const char *client_msg_no, uint32_t client_seq, uint8_t extra_flags, uint8_t setting,
    const char *stream_no)
{
	struct wkproto_packet p = { .type = WKPROTO_SEND,
	    .flags = WKPROTO_FLAG_REDDOT | extra_flags };
	char sealed[65536], key[WK_CRYPTO_MSGKEY_LEN];
	ssize_t n = wk_crypto_encrypt(&c->crypto, payload, strlen(payload), sealed, sizeof sealed);

	if (n < 0)
		return -1;
	p.send.setting = setting;
	if (stream_no)
		p.send.stream_no = wk_str_of(stream_no);
	p.send.client_seq = client_seq;
	p.send.client_msg_no = wk_str_of(client_msg_no);
	p.send.channel_id = wk_str_of(channel_id);
	p.send.channel_type = (uint8_t)channel_type;
	p.send.payload = (struct wk_bytes){ (const uint8_t *)sealed, (size_t)n };
	if (wk_crypto_msgkey_send(&c->crypto, &p.send, key) < 0)
		return -1;
	p.send.msg_key = wk_str_n(key, sizeof key);
	return wkc_send(c, &p);
}

int
wkc_send_msg(struct wkc *c, const char *channel_id, int channel_type, const char *payload,
    const char *client_msg_no, uint32_t client_seq, uint8_t extra_flags)
{
	return send_msg(c, channel_id, channel_type, payload, client_msg_no, client_seq,
	    extra_flags, 0, NULL);
}

int
wkc_send_stream(struct wkc *c, const char *channel_id, int channel_type, const char *payload,
    const char *client_msg_no, uint32_t client_seq, const char *stream_no)
{
	return send_msg(c, channel_id, channel_type, payload, client_msg_no, client_seq, 0,
	    wkproto_stream_bit(c->version), stream_no);
}

struct wkc *
wkc_login(const char *host, int port, const char *uid, const char *device, int version)
{
	struct wkc *c = wkc_connect_tcp(host, port);

	if (c && wkc_handshake(c, uid, "", version, 1, device, NULL) != 1) {
		wkc_close(c);
		c = NULL;
	}
	return c;
}

int
wkc_next(struct wkc *c, struct wkproto_packet *out, int timeout_ms)
{
	int rc;

	do
		rc = wkc_recv(c, out, timeout_ms);
	while (rc == 0 && out->type == WKPROTO_PONG);
	return rc;
}

int
wkc_expect(struct wkc *c, int type, struct wkproto_packet *out, int timeout_ms)
{
	uint64_t end = now_ms() + timeout_ms;

	for (;;) {
		int64_t left = (int64_t)(end - now_ms());
		if (left <= 0)
			return -1;
		int rc = wkc_recv(c, out, (int)left);
		if (rc < 0)
			return rc;
		if (out->type == type)
			return 0;
	}
}

ssize_t
wkc_open_recv(struct wkc *c, const struct wkproto_recv *r, char *out, size_t cap)
{
	ssize_t n;

	if (wk_crypto_verify_recv(&c->crypto, r) < 0)
		return -1;
	n = wk_crypto_decrypt(&c->crypto, (const char *)r->payload.p, r->payload.len,
	    (uint8_t *)out, cap - 1);
	if (n >= 0)
		out[n] = '\0';
	return n;
}

int
wkc_recvack(struct wkc *c, const struct wkproto_packet *recv)
{
	struct wkproto_packet a = { .type = WKPROTO_RECVACK,
	    .flags = recv->flags & (WKPROTO_FLAG_REDDOT | WKPROTO_FLAG_SYNCONCE | WKPROTO_FLAG_NOPERSIST) };

	a.recvack.message_id = recv->recv.message_id;
	a.recvack.message_seq = recv->recv.message_seq;
	return wkc_send(c, &a);
}

int
wkc_ws_close(struct wkc *c, int code)
{
	if (!c->ws || wslay_event_queue_close(c->wsctx, (uint16_t)code, NULL, 0) != 0)
		return -1;
	while (wslay_event_want_write(c->wsctx))
		if (wslay_event_send(c->wsctx) != 0)
			return -1;
	return 0;
}

int
wkc_wait_eof(struct wkc *c, int timeout_ms)
{
	uint64_t end = now_ms() + timeout_ms;

	while (!c->eof) {
		int64_t left = (int64_t)(end - now_ms());
		struct pollfd p = { c->fd, POLLIN, 0 };
		if (left <= 0)
			return -1;
		if ((!c->ssl || SSL_pending(c->ssl) == 0) && poll(&p, 1, (int)left) != 1)
			continue;
		/* After a Close wslay reads no more: read the socket itself. */
		if (!c->ws || wslay_event_get_close_received(c->wsctx)) {
			char buf[4096];
			ssize_t n = io_read(c, buf, sizeof buf, 1);
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
				c->eof = 1;
			continue;
		}
		if (wslay_event_recv(c->wsctx) != 0)
			c->eof = 1;
		/* The Close reply wslay queued, as a browser sends it. */
		while (!c->eof && wslay_event_want_write(c->wsctx))
			if (wslay_event_send(c->wsctx) != 0)
				break;
	}
	return 0;
}
