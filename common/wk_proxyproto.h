/* wk_proxyproto.h - the PROXY protocol (HAProxy's proxy-protocol.txt,
 * versions 1 and 2) as a load balancer puts it in front of a client's
 * bytes, and the networks (proxyProtocol.allowFrom, wk.yaml(5)) allowed to
 * send it.  Parsers only: wk-broker reads the bytes. */
#ifndef WK_PROXYPROTO_H
#define WK_PROXYPROTO_H
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

/* The longest header accepted: a v1 line is at most 107 bytes; v2 is 16
 * bytes and an address block (with TLVs, which are skipped) up to this. */
#define WK_PROXY_V1_MAX 107
#define WK_PROXY_MAX 536

struct wk_proxy_addr {
	int local;                   /* v2 LOCAL or v1 UNKNOWN: the socket's own address stands */
	struct sockaddr_storage src; /* otherwise the client's address and port */
};

/* Parse the header at the start of p[0..n): its length (> 0) with *out
 * set, 0 while it is incomplete (every byte so far belongs to it), or -1
 * with *why set: no PROXY signature, malformed, too long, an address
 * family other than TCP over IPv4/IPv6. */
ssize_t wk_proxy_parse(const uint8_t *p, size_t n, struct wk_proxy_addr *out, const char **why);

/* A network: "10.0.0.0/8", "2001:db8::/32", or one address. */
struct wk_cidr {
	int family;                  /* AF_INET, AF_INET6 */
	uint8_t addr[16];
	int bits;
};

/* Parse s: 0, or -1 (not an address, prefix out of range, host bits set). */
int wk_cidr_parse(const char *s, struct wk_cidr *out);
/* Whether sa (AF_INET, AF_INET6; an IPv4-mapped IPv6 address counts as
 * IPv4) is in one of the n networks. */
int wk_cidr_match(const struct wk_cidr *nets, size_t n, const struct sockaddr *sa);
/* "ip:port" ("[ip6]:port") of sa into buf. */
void wk_sockaddr_str(const struct sockaddr *sa, char *buf, size_t len);

#endif
