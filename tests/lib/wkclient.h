/* wkclient.h - a WKProto test client over TCP or WebSocket, built on the
 * project's own codec and crypto (the server's counterpart), for the
 * integration tests and the benchmarks. */
#ifndef WKCLIENT_H
#define WKCLIENT_H
#include <stddef.h>
#include <stdint.h>
#include "wk_crypto.h"
#include "wkproto.h"

struct wkc {
	int fd;
	int ws;                      /* 1: WebSocket */
	void *ssl;                   /* SSL * for wss */
	void *wsctx;                 /* wslay client context */
	int version;                 /* protocol version of the connection */
	uint8_t in[1 << 20];
	size_t inlen, consumed;
	int ws_msgs;                 /* WebSocket messages received */
	int ws_multi;                /* messages that held more than one packet */
	int closed;
	int eof;                     /* the server closed the TCP connection */
	int ws_close_code;           /* status of the server's Close frame, 0 if none */
	struct wk_crypto_keypair kp;
	struct wk_crypto_session crypto;
};

struct wkc *wkc_connect_tcp(const char *host, int port);
/* The HTTP upgrade and then WebSocket framing (wslay, client side). */
struct wkc *wkc_connect_ws(const char *host, int port);
/* The same after sending the n bytes of pre first (a PROXY header). */
struct wkc *wkc_connect_ws_after(const char *host, int port, const void *pre, size_t n);
/* The same over TLS (the server's certificate is not verified: tests use a
 * self-signed one). */
struct wkc *wkc_connect_wss(const char *host, int port);
void wkc_close(struct wkc *c);
int wkc_send_raw(struct wkc *c, const void *p, size_t n);
int wkc_send(struct wkc *c, const struct wkproto_packet *pkt);
/* The next packet (views into c->in, valid until the next call).
 * 0, -1 timeout, -2 closed by the server, or a wkproto error. */
int wkc_recv(struct wkc *c, struct wkproto_packet *out, int timeout_ms);
/* CONNECT at `version`, then wait for CONNACK; on reason 1 derive the keys.
 * Returns the CONNACK reason code, or a negative error. */
int wkc_handshake(struct wkc *c, const char *uid, const char *token, int version,
    int device_flag, const char *device_id, struct wkproto_connack *ack);
/* An encrypted SEND (RedDot set, as the SDK does) of payload to channel. */
int wkc_send_msg(struct wkc *c, const char *channel_id, int channel_type, const char *payload,
    const char *client_msg_no, uint32_t client_seq, uint8_t extra_flags);
/* The same carrying a stream number in the connection's stream form
 * (setting 0x04 at versions 2-3, 0x02 at version 4; wkproto(7)). */
int wkc_send_stream(struct wkc *c, const char *channel_id, int channel_type, const char *payload,
    const char *client_msg_no, uint32_t client_seq, const char *stream_no);
/* wkc_connect_tcp and wkc_handshake as uid (no token, device flag 1) at
 * version: the connection, or NULL if either failed. */
struct wkc *wkc_login(const char *host, int port, const char *uid, const char *device,
    int version);
/* The next packet that is not a PONG: as wkc_recv. */
int wkc_next(struct wkc *c, struct wkproto_packet *out, int timeout_ms);
/* Wait for the next packet of `type`, skipping others (PONGs...): 0 or < 0. */
int wkc_expect(struct wkc *c, int type, struct wkproto_packet *out, int timeout_ms);
/* Verify a RECV's msgKey and decrypt its payload into out (NUL-terminated):
 * the plaintext length, or -1. */
ssize_t wkc_open_recv(struct wkc *c, const struct wkproto_recv *r, char *out, size_t cap);
int wkc_recvack(struct wkc *c, const struct wkproto_packet *recv);

/* Wait until the server closes the connection: 0, or -1 on timeout.
 * Packets received meanwhile are discarded but for the last DISCONNECT,
 * whose reason is stored in *disconnect_reason (-1 if none). */
int wkc_wait_closed(struct wkc *c, int timeout_ms, int *disconnect_reason);

/* WebSocket: send a Close frame with code (as a browser's ws.close()). */
int wkc_ws_close(struct wkc *c, int code);
/* Wait until the server has closed the TCP connection (answering its
 * Close frame as a browser does): 0, or -1 on timeout. */
int wkc_wait_eof(struct wkc *c, int timeout_ms);

#endif
