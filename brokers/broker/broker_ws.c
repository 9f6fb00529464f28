/* broker_ws.c - WebSocket for wk-broker: the HTTP upgrade (RFC 6455 §4.2),
 * then framing by wslay.  Inbound binary messages are a byte stream for the
 * WKProto splitter (the HEAD SDK puts several packets in one message, and a
 * packet may span messages).  Outbound, every WKProto packet is exactly one
 * binary message: SDK 1.0.4 mis-parses two packets in one message.  wslay's
 * output goes into the connection's output buffer, written once per loop
 * iteration like TCP output. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/sha.h>
#include "broker.h"
#include "wk_alloc.h"
#include "wk_log.h"

/* The upgrade request head must fit in UPGRADE_MAX bytes (431 past it):
 * the bound keeps a hostile client from growing the buffer. */
#define UPGRADE_MAX 8192
/* The fixed GUID of RFC 6455 §1.3 that Sec-WebSocket-Accept hashes in. */
#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/* wslay's input: first the bytes that arrived behind the upgrade request
 * (ws_pre), then the socket.  EAGAIN becomes WOULDBLOCK so wslay stops
 * reading until the next readable event. */
static ssize_t
ws_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user)
{
	struct broker_conn *c = user;
	ssize_t n;

	if (c->ws_pre && c->ws_preoff < c->ws_prelen) {
		n = (ssize_t)(c->ws_prelen - c->ws_preoff);
		if ((size_t)n > len)
			n = (ssize_t)len;
		memcpy(buf, c->ws_pre + c->ws_preoff, n);
		c->ws_preoff += n;
		return n;
	}
	if (c->paused) {   /* backpressure (broker_conn_sent): read nothing more */
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	n = broker_io_read(c, buf, len);
	if (n > 0) {
		broker.st.bytes_in += n;
		return n;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
	else
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
	return -1;
}

/* wslay's framed output: into the connection's buffer (never blocks). */
static ssize_t
ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *user)
{
	if (broker_conn_queue(user, data, len) < 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return (ssize_t)len;
}

/* A whole WebSocket message.  The first one chooses what the connection
 * speaks: binary, WKProto (a byte stream for the splitter, as if from
 * TCP); text, JSON-RPC (one request per message).  The other kind later is
 * refused with 1003.  Nothing more is taken once the connection is closing. */
static void
ws_msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg, void *user)
{
	struct broker_conn *c = user;
	int text = arg->opcode == WSLAY_TEXT_FRAME;

	if (c->state == BROKER_CS_CLOSING ||
	    (arg->opcode != WSLAY_BINARY_FRAME && arg->opcode != WSLAY_TEXT_FRAME))
		return;
	if (c->ws_mode == BROKER_WS_UNSET)
		c->ws_mode = !text ? BROKER_WS_BINARY : broker.proc->cfg.disableJSONRPC ?
		    BROKER_WS_BINARY : BROKER_WS_JSONRPC;
	if (c->ws_mode == BROKER_WS_BINARY && !text)
		broker_conn_input(c, arg->msg, arg->msg_length);
	else if (c->ws_mode == BROKER_WS_JSONRPC && text)
		broker_rpc_input(c, arg->msg, arg->msg_length);
	else
		broker_conn_refuse(c, WSLAY_CODE_UNSUPPORTED_DATA,
		    text ? "text on a binary connection" : "binary on a JSON-RPC connection");
}

static const struct wslay_event_callbacks ws_callbacks = {
	ws_recv_cb, ws_send_cb, NULL, NULL, NULL, NULL, ws_msg_cb,
};

/* The value of header `name` in an HTTP request head, or NULL. */
static const char *
header(const char *head, const char *name, size_t *len)
{
	size_t nl = strlen(name);

	for (const char *line = strstr(head, "\r\n"); line; line = strstr(line, "\r\n")) {
		line += 2;
		if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
			const char *v = line + nl + 1, *end;
			while (*v == ' ' || *v == '\t')
				v++;
			end = strstr(v, "\r\n");
			if (end == NULL)
				return NULL;
			while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
				end--;
			*len = (size_t)(end - v);
			return v;
		}
	}
	return NULL;
}

/* Refuse the upgrade with an HTTP status and close once it is written. */
static int
reply_http(struct broker_conn *c, const char *status)
{
	char buf[256];
	int n = snprintf(buf, sizeof buf, "HTTP/1.1 %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", status);

	broker_conn_queue(c, (const uint8_t *)buf, n);
	c->state = BROKER_CS_CLOSING;
	return 0;
}

/* A complete request head in c->in: answer 101 and start wslay. */
static int
ws_upgrade(struct broker_conn *c, size_t head_len)
{
	char *head = (char *)c->in, accept[64], key[128], resp[256];
	unsigned char sha[SHA_DIGEST_LENGTH];
	size_t klen, ulen;
	const char *k, *u;
	int n;

	head[head_len] = '\0';   /* keep the last header's \r\n */
	if (strncmp(head, "GET ", 4) != 0)
		return reply_http(c, "405 Method Not Allowed");
	u = header(head, "Upgrade", &ulen);
	k = header(head, "Sec-WebSocket-Key", &klen);
	if (u == NULL || ulen != 9 || strncasecmp(u, "websocket", 9) != 0 || k == NULL ||
	    klen == 0 || klen > 64)
		return reply_http(c, "400 Bad Request");
	snprintf(key, sizeof key, "%.*s%s", (int)klen, k, WS_GUID);
	SHA1((const unsigned char *)key, strlen(key), sha);
	accept[wk_b64_encode(sha, sizeof sha, accept)] = '\0';
	n = snprintf(resp, sizeof resp, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", accept);
	broker_conn_queue(c, (const uint8_t *)resp, n);
	if (wslay_event_context_server_init(&c->ws, &ws_callbacks, c) != 0)
		return -1;
	wslay_event_config_set_max_recv_msg_length(c->ws, (uint64_t)broker.proc->cfg.limits_maxPacketSize);
	/* Bytes behind the request head are the first WebSocket frames. */
	if (c->inlen > head_len + 2) {
		c->ws_prelen = c->inlen - head_len - 2;
		c->ws_pre = wk_malloc(c->ws_prelen);
		memcpy(c->ws_pre, c->in + head_len + 2, c->ws_prelen);
		c->ws_preoff = 0;
	}
	/* The request head's buffer is not the packet stream's: give it back. */
	free(c->in);
	c->in = NULL;
	c->inlen = c->incap = 0;
	c->state = BROKER_CS_CONNECT;
	return 1;
}

/* Read the upgrade request; 1 when upgraded, 0 need more, -1 close. */
static int
ws_read_upgrade(struct broker_conn *c)
{
	for (;;) {
		wk_grow(&c->in, &c->incap, UPGRADE_MAX + 1);
		if (c->inlen == UPGRADE_MAX)
			return reply_http(c, "431 Request Header Fields Too Large");
		ssize_t n = broker_read(c, c->in + c->inlen, UPGRADE_MAX - c->inlen);
		if (n <= 0)
			return (int)n;
		c->inlen += n;
		c->in[c->inlen] = '\0';
		char *end = strstr((char *)c->in, "\r\n\r\n");
		if (end)
			return ws_upgrade(c, (size_t)(end - (char *)c->in) + 2);
	}
}

/* The connection's socket is readable: finish the upgrade first, then let
 * wslay read frames (its callbacks deliver messages) and answer control
 * frames.  -1 closes the connection. */
int
broker_ws_on_readable(struct broker_conn *c)
{
	if (c->state == BROKER_CS_WS_UPGRADE) {
		int rc = ws_read_upgrade(c);
		if (rc <= 0)
			return rc;
	}
	if (c->ws == NULL)
		return 0;
	if (wslay_event_recv(c->ws) != 0)
		return -1;
	/* Control frames (pong, close) wslay wants to answer. */
	if (wslay_event_want_write(c->ws) && wslay_event_send(c->ws) != 0)
		return -1;
	/* A Close from the client has been answered: the TCP connection ends
	 * as soon as the output is written, not when the browser gives up
	 * waiting (Chromium: 2 s), and the user is offline from that moment.
	 * A Close of ours (a refusal, or wslay's own 1002/1009) is answered by
	 * the client: conn_end waits for that. */
	if (wslay_event_get_close_received(c->ws)) {
		if (c->outlen == 0)
			return -1;
		c->state = BROKER_CS_CLOSING;
	} else if (wslay_event_get_close_sent(c->ws))
		c->state = BROKER_CS_CLOSING;
	free(c->ws_pre);
	c->ws_pre = NULL;
	c->ws_prelen = c->ws_preoff = 0;
	return 0;
}

/* One WKProto packet as one binary message (see the header for why), or
 * one JSON-RPC text as a text message; the frame goes to the output
 * buffer, not the socket. */
int
broker_ws_send_packet(struct broker_conn *c, const uint8_t *p, size_t n)
{
	struct wslay_event_msg msg = { c->ws_mode == BROKER_WS_JSONRPC ? WSLAY_TEXT_FRAME :
	    WSLAY_BINARY_FRAME, p, n };

	if (c->ws == NULL)
		return -1;
	if (wslay_event_queue_msg(c->ws, &msg) != 0 || wslay_event_send(c->ws) != 0)
		return -1;
	return 0;
}

/* Queue a Close frame with code (RFC 6455 §7.4.1) and a short reason,
 * once: the refusal a browser can read instead of 1006. */
void
broker_ws_close(struct broker_conn *c, uint16_t code, const char *reason)
{
	if (c->ws == NULL || wslay_event_get_close_sent(c->ws))
		return;
	if (wslay_event_queue_close(c->ws, code, (const uint8_t *)reason, strlen(reason)) == 0)
		wslay_event_send(c->ws);
}

/* Free the connection's wslay context. */
void
broker_ws_free(struct broker_conn *c)
{
	if (c->ws)
		wslay_event_context_free(c->ws);
	c->ws = NULL;
}
