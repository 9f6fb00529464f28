/* bench_client.c - the client side of WKProto shared by wkbench and
 * wkconnbench: WebSocket upgrade and framing, CONNECT, the CONNACK key
 * agreement, loopback source addresses (bench_client.h). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "bench_client.h"
#include "wk_time.h"

/* "dGhlIHNhbXBsZSBub25jZQ==" is RFC 6455's example key; its accept value: */
#define WS_KEY		"dGhlIHNhbXBsZSBub25jZQ=="
#define WS_ACCEPT	"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

int
bench_ws_upgrade_request(char *buf, size_t cap, const char *host, int port)
{
	return snprintf(buf, cap, "GET / HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Key: " WS_KEY "\r\n"
	    "Sec-WebSocket-Version: 13\r\n\r\n", host, port);
}

int
bench_ws_upgrade_ok(const uint8_t *head, size_t n)
{
	return n >= 12 && memcmp(head, "HTTP/1.1 101", 12) == 0 &&
	    memmem(head, n, WS_ACCEPT, strlen(WS_ACCEPT)) != NULL;
}

size_t
bench_ws_frame(uint8_t *out, const uint8_t *p, size_t n)
{
	size_t h = 2;
	uint32_t mask = (uint32_t)random();

	out[0] = 0x82;	/* FIN, binary */
	if (n < 126)
		out[1] = (uint8_t)(0x80 | n);
	else {
		out[1] = 0x80 | 126;
		out[2] = (uint8_t)(n >> 8);
		out[3] = (uint8_t)n;
		h = 4;
	}
	memcpy(out + h, &mask, 4);
	for (size_t i = 0; i < n; i++)
		out[h + 4 + i] = p[i] ^ out[h + (i & 3)];
	return h + 4 + n;
}

int
bench_next_packet(const uint8_t *b, size_t n, int ws, size_t *hdr, size_t *len, int *op)
{
	struct wkproto_frame f;
	size_t h = 2, l;
	int rc;

	if (!ws) {
		rc = wkproto_split(b, n, 0, &f);
		if (rc == WKPROTO_ENEED)
			return 0;
		if (rc < 0)
			return -1;
		*hdr = 0;
		*len = f.total;
		*op = 2;
		return 1;
	}
	if (n < 2)
		return 0;
	if (b[1] & 0x80)
		return -1;
	l = b[1] & 0x7f;
	if (l == 126) {
		if (n < 4)
			return 0;
		l = (size_t)b[2] << 8 | b[3];
		h = 4;
	} else if (l == 127) {
		if (n < 10)
			return 0;
		l = 0;
		for (int i = 2; i < 10; i++)
			l = l << 8 | b[i];
		h = 10;
	}
	if (n < h + l)
		return 0;
	*hdr = h;
	*len = l;
	*op = b[0] & 0x0f;
	return 1;
}

void
bench_connect_packet(struct wkproto_packet *pkt, const char *uid, const char *dev,
    int version, const struct wk_crypto_keypair *kp, char key64[WK_CRYPTO_KEY_B64_LEN])
{
	memset(pkt, 0, sizeof *pkt);
	pkt->type = WKPROTO_CONNECT;
	wk_b64_encode(kp->pub, sizeof kp->pub, key64);
	pkt->connect.version = (uint8_t)version;
	pkt->connect.device_flag = WKPROTO_DEVICE_APP;
	pkt->connect.device_id = wk_str_of(dev);
	pkt->connect.uid = wk_str_of(uid);
	pkt->connect.token = wk_str_of("bench");
	pkt->connect.client_timestamp = wk_wall_ms();
	pkt->connect.client_key = wk_str_n(key64, WK_CRYPTO_KEY_B64_LEN);
}

int
bench_connack_keys(const struct wkproto_connack *a, const struct wk_crypto_keypair *kp,
    char aes[WK_CRYPTO_AES_LEN], char iv[WK_CRYPTO_AES_LEN])
{
	uint8_t server_pub[WK_CRYPTO_KEY_LEN], shared[WK_CRYPTO_KEY_LEN];

	if (a->salt.len != WK_CRYPTO_SALT_LEN ||
	    wk_crypto_decode_key(a->server_key.p, a->server_key.len, server_pub) < 0 ||
	    wk_crypto_shared(kp->priv, server_pub, shared) < 0 ||
	    wk_crypto_derive_key(shared, aes) < 0)
		return -1;
	memcpy(iv, a->salt.p, WK_CRYPTO_AES_LEN);
	return 0;
}

struct sockaddr_in *
bench_loopback_sources(int n)
{
	struct sockaddr_in *srcs;

	if (n <= 0)
		return NULL;
	if ((srcs = calloc((size_t)n, sizeof *srcs)) == NULL) {
		perror("bench: calloc");
		exit(1);
	}
	for (int i = 0; i < n; i++) {
		srcs[i].sin_family = AF_INET;
		srcs[i].sin_addr.s_addr = htonl(0x7f000002u + (uint32_t)i);
	}
	return srcs;
}

int
bench_bind_source(int fd, const struct sockaddr_in *src)
{
	int one = 1;

	setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
	return bind(fd, (const struct sockaddr *)src, sizeof *src);
}
