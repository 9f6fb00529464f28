/* wk_proxyproto.c - PROXY protocol v1/v2 headers and allowFrom networks
 * (wk_proxyproto.h).  Strict: a header that a load balancer would not send
 * is refused, never guessed at. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "wk_proxyproto.h"

static const uint8_t v1_sig[] = "PROXY ";
static const uint8_t v2_sig[12] = { '\r', '\n', '\r', '\n', 0, '\r', '\n', 'Q', 'U', 'I', 'T', '\n' };

static ssize_t
bad(const char **why, const char *what)
{
	*why = what;
	return -1;
}

/* A decimal port without sign or leading zeros. */
static int
port(const char *s, uint16_t *out)
{
	unsigned long v = 0;

	if (*s == '\0' || strlen(s) > 5 || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (const char *c = s; *c; c++) {
		if (*c < '0' || *c > '9')
			return -1;
		v = v * 10 + (unsigned long)(*c - '0');
	}
	if (v > 65535)
		return -1;
	*out = htons((uint16_t)v);
	return 0;
}

/* "PROXY TCP4|TCP6 src dst sport dport\r\n" or "PROXY UNKNOWN...\r\n". */
static ssize_t
parse_v1(const uint8_t *p, size_t n, struct wk_proxy_addr *out, const char **why)
{
	char line[WK_PROXY_V1_MAX + 1], *f[7], *save;
	const uint8_t *crlf = NULL;
	size_t len;
	int nf = 0;

	for (size_t i = 0; i + 1 < n && i + 2 <= WK_PROXY_V1_MAX; i++)
		if (p[i] == '\r' && p[i + 1] == '\n') {
			crlf = p + i;
			break;
		}
	if (crlf == NULL)
		return n >= WK_PROXY_V1_MAX ? bad(why, "v1 header over 107 bytes") : 0;
	len = (size_t)(crlf - p);
	memcpy(line, p, len);
	line[len] = '\0';
	if (memchr(line, '\0', len) || strchr(line, '\r') || strchr(line, '\n'))
		return bad(why, "v1 header with a control byte");
	if (strncmp(line, "PROXY UNKNOWN", 13) == 0 && (line[13] == '\0' || line[13] == ' ')) {
		out->local = 1;
		return (ssize_t)len + 2;
	}
	/* Exactly one space between fields (strtok would fold several). */
	if (strstr(line, "  ") || line[len - 1] == ' ')
		return bad(why, "v1 header is not PROXY proto src dst sport dport");
	for (char *t = strtok_r(line, " ", &save); t && nf < 7; t = strtok_r(NULL, " ", &save))
		f[nf++] = t;
	if (nf != 6)
		return bad(why, "v1 header is not PROXY proto src dst sport dport");
	memset(out, 0, sizeof *out);
	if (strcmp(f[1], "TCP4") == 0) {
		struct sockaddr_in *sa = (struct sockaddr_in *)&out->src;
		struct in_addr dst;
		sa->sin_family = AF_INET;
		if (inet_pton(AF_INET, f[2], &sa->sin_addr) != 1 || inet_pton(AF_INET, f[3], &dst) != 1 ||
		    port(f[4], &sa->sin_port) < 0)
			return bad(why, "v1 header with a bad TCP4 address or port");
	} else if (strcmp(f[1], "TCP6") == 0) {
		struct sockaddr_in6 *sa = (struct sockaddr_in6 *)&out->src;
		struct in6_addr dst;
		sa->sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, f[2], &sa->sin6_addr) != 1 || inet_pton(AF_INET6, f[3], &dst) != 1 ||
		    port(f[4], &sa->sin6_port) < 0)
			return bad(why, "v1 header with a bad TCP6 address or port");
	} else
		return bad(why, "v1 header with a protocol other than TCP4, TCP6, UNKNOWN");
	uint16_t dport;
	if (port(f[5], &dport) < 0)
		return bad(why, "v1 header with a bad destination port");
	return (ssize_t)len + 2;
}

/* The binary form: signature, version/command, family, length, addresses. */
static ssize_t
parse_v2(const uint8_t *p, size_t n, struct wk_proxy_addr *out, const char **why)
{
	size_t len;
	uint8_t cmd, fam;

	if (n < 16)
		return 0;
	if ((p[12] >> 4) != 2)
		return bad(why, "v2 header with a version other than 2");
	cmd = p[12] & 0x0f;
	fam = p[13];
	len = (size_t)p[14] << 8 | p[15];
	if (16 + len > WK_PROXY_MAX)
		return bad(why, "v2 header over 536 bytes");
	if (cmd > 1)
		return bad(why, "v2 header with a command other than LOCAL, PROXY");
	if (n < 16 + len)
		return 0;
	memset(out, 0, sizeof *out);
	if (cmd == 0 || fam == 0x00) {
		/* LOCAL (the balancer's own health check), or UNSPEC. */
		out->local = 1;
		return (ssize_t)(16 + len);
	}
	if (fam == 0x11) {
		struct sockaddr_in *sa = (struct sockaddr_in *)&out->src;
		if (len < 12)
			return bad(why, "v2 TCP4 header shorter than its addresses");
		sa->sin_family = AF_INET;
		memcpy(&sa->sin_addr, p + 16, 4);
		memcpy(&sa->sin_port, p + 24, 2);
	} else if (fam == 0x21) {
		struct sockaddr_in6 *sa = (struct sockaddr_in6 *)&out->src;
		if (len < 36)
			return bad(why, "v2 TCP6 header shorter than its addresses");
		sa->sin6_family = AF_INET6;
		memcpy(&sa->sin6_addr, p + 16, 16);
		memcpy(&sa->sin6_port, p + 48, 2);
	} else
		return bad(why, "v2 header with a family other than TCP over IPv4, IPv6");
	return (ssize_t)(16 + len);
}

ssize_t
wk_proxy_parse(const uint8_t *p, size_t n, struct wk_proxy_addr *out, const char **why)
{
	size_t k;

	if (n == 0)
		return 0;
	if (p[0] == 'P') {
		k = n < 6 ? n : 6;
		if (memcmp(p, v1_sig, k) != 0)
			return bad(why, "no PROXY header");
		return n < 6 ? 0 : parse_v1(p, n, out, why);
	}
	k = n < 12 ? n : 12;
	if (memcmp(p, v2_sig, k) != 0)
		return bad(why, "no PROXY header");
	return n < 12 ? 0 : parse_v2(p, n, out, why);
}

int
wk_cidr_parse(const char *s, struct wk_cidr *out)
{
	char host[64];
	const char *slash = strchr(s, '/');
	size_t hl = slash ? (size_t)(slash - s) : strlen(s);
	int max;

	if (hl == 0 || hl >= sizeof host)
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	memset(out, 0, sizeof *out);
	if (inet_pton(AF_INET, host, out->addr) == 1)
		out->family = AF_INET, max = 32;
	else if (inet_pton(AF_INET6, host, out->addr) == 1)
		out->family = AF_INET6, max = 128;
	else
		return -1;
	out->bits = max;
	if (slash) {
		char *end;
		long b = strtol(slash + 1, &end, 10);
		if (slash[1] < '0' || slash[1] > '9' || *end != '\0' || b < 0 || b > max)
			return -1;
		out->bits = (int)b;
	}
	/* Host bits set ("10.1.2.3/8") are a typo more often than a wish. */
	for (int i = out->bits; i < max; i++)
		if (out->addr[i / 8] & (0x80 >> (i % 8)))
			return -1;
	return 0;
}

static int
prefix_eq(const uint8_t *a, const uint8_t *b, int bits)
{
	if (memcmp(a, b, (size_t)bits / 8) != 0)
		return 0;
	if (bits % 8 == 0)
		return 1;
	uint8_t mask = (uint8_t)(0xff << (8 - bits % 8));
	return (a[bits / 8] & mask) == (b[bits / 8] & mask);
}

int
wk_cidr_match(const struct wk_cidr *nets, size_t n, const struct sockaddr *sa)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const uint8_t *a;
	int family;

	if (sa->sa_family == AF_INET) {
		a = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
		family = AF_INET;
	} else if (sa->sa_family == AF_INET6) {
		a = (const uint8_t *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
		family = AF_INET6;
		if (memcmp(a, mapped, 12) == 0) {
			a += 12;
			family = AF_INET;
		}
	} else
		return 0;
	for (size_t i = 0; i < n; i++)
		if (nets[i].family == family && prefix_eq(nets[i].addr, a, nets[i].bits))
			return 1;
	return 0;
}

void
wk_sockaddr_str(const struct sockaddr *sa, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &s->sin_addr, ip, sizeof ip);
		snprintf(buf, len, "%s:%u", ip, ntohs(s->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof ip);
		snprintf(buf, len, "[%s]:%u", ip, ntohs(s->sin6_port));
	} else
		snprintf(buf, len, "-");
}
