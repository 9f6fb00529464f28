/* bench_client.h - the client side of WKProto that wkbench and wkconnbench
 * share, for their own event loops and buffers: the WebSocket upgrade and
 * framing of a client (RFC 6455: masked binary frames out, unmasked frames
 * in), CONNECT, the client's half of the CONNACK key agreement, and the
 * loopback source addresses that get past 64k connections (bench/README.md).
 * tests/lib/wkclient.c is the blocking client of the tests. */
#ifndef BENCH_CLIENT_H
#define BENCH_CLIENT_H
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include "wk_crypto.h"
#include "wkproto.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

/* A frame header of ours: 2 or 4 bytes, then the 4-byte mask. */
#define BENCH_WS_HDR_MAX	8

/* The HTTP upgrade request for host:port into buf: its length. */
int bench_ws_upgrade_request(char *buf, size_t cap, const char *host, int port);
/* 1 if the response head (its first n bytes, up to the blank line) is a
 * 101 carrying the accept value of our key, else 0. */
int bench_ws_upgrade_ok(const uint8_t *head, size_t n);
/* p[0..n), n < 65536, as one masked binary frame into out (room for
 * n + BENCH_WS_HDR_MAX): the frame's length. */
size_t bench_ws_frame(uint8_t *out, const uint8_t *p, size_t n);
/* The next whole unit from the server at b[0..n): on TCP a WKProto packet
 * (*hdr 0, *op 2), on WebSocket a frame (its header length, payload length
 * and opcode).  1, 0 if incomplete, -1 if bad (a masked frame: a server
 * never masks). */
int bench_next_packet(const uint8_t *b, size_t n, int ws, size_t *hdr, size_t *len, int *op);

/* A CONNECT of uid from device dev at `version` with kp's public key,
 * stamped with the wall clock; key64 holds the key's text for as long as
 * pkt is used. */
void bench_connect_packet(struct wkproto_packet *pkt, const char *uid, const char *dev,
    int version, const struct wk_crypto_keypair *kp, char key64[WK_CRYPTO_KEY_B64_LEN]);
/* The client's half of the key agreement on a CONNACK: the AES key and IV
 * (the salt), as a client derives them; 0, or -1 if the server's key or
 * salt is unusable. */
int bench_connack_keys(const struct wkproto_connack *a, const struct wk_crypto_keypair *kp,
    char aes[WK_CRYPTO_AES_LEN], char iv[WK_CRYPTO_AES_LEN]);

/* n source addresses 127.0.0.(2+i) (port 0), or NULL when n is 0. */
struct sockaddr_in *bench_loopback_sources(int n);
/* Bind fd to src, the port left to connect() (per 4-tuple): 0 or -1. */
int bench_bind_source(int fd, const struct sockaddr_in *src);

#endif
