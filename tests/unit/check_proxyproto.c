/* check_proxyproto.c - common/wk_proxyproto.c: PROXY v1 and v2 headers as
 * HAProxy and nginx send them, every prefix of them incomplete (never
 * wrong), a malformed-input table (bad signature, versions, commands,
 * families, addresses, ports, lengths, too long); allowFrom networks: a
 * table of good and bad CIDRs and of matches, IPv4-mapped IPv6 included. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include "wk_proxyproto.h"
#include "wktest.h"

static void
expect_addr(const struct wk_proxy_addr *a, const char *want)
{
	char buf[64];

	wk_sockaddr_str((const struct sockaddr *)&a->src, buf, sizeof buf);
	ck_assert_str_eq(buf, want);
}

/* A whole header, then every prefix of it: incomplete, not an error. */
static void
expect_header(const uint8_t *h, size_t n, const char *addr, int local)
{
	struct wk_proxy_addr a;
	const char *why = NULL;
	uint8_t buf[1024];

	memcpy(buf, h, n);
	memcpy(buf + n, "\x10\x20WKPROTO", 9);   /* the client's bytes follow */
	ck_assert_int_eq(wk_proxy_parse(buf, n + 9, &a, &why), (ssize_t)n);
	ck_assert_int_eq(a.local, local);
	if (!local)
		expect_addr(&a, addr);
	for (size_t k = 0; k < n; k++)
		ck_assert_msg(wk_proxy_parse(h, k, &a, &why) == 0, "prefix %zu of %zu: %s", k, n,
		    why ? why : "");
}

START_TEST(test_proxyproto_v1)
{
	static const char *const ok[][2] = {
		{ "PROXY TCP4 192.0.2.10 10.0.0.1 56324 5100\r\n", "192.0.2.10:56324" },
		{ "PROXY TCP6 2001:db8::7 2001:db8::1 4000 5200\r\n", "[2001:db8::7]:4000" },
		{ "PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n", "255.255.255.255:65535" },
		{ "PROXY TCP4 1.2.3.4 5.6.7.8 0 1\r\n", "1.2.3.4:0" },
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		expect_header((const uint8_t *)ok[i][0], strlen(ok[i][0]), ok[i][1], 0);
	expect_header((const uint8_t *)"PROXY UNKNOWN\r\n", 15, NULL, 1);
	expect_header((const uint8_t *)"PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n", 35, NULL, 1);
}
END_TEST

/* v2: signature, 0x21 (v2 PROXY), family, length, addresses, TLVs. */
START_TEST(test_proxyproto_v2)
{
	static const uint8_t tcp4[] = "\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c"
	    "\xc0\x00\x02\x0a" "\x0a\x00\x00\x01" "\xdc\x04" "\x13\xec";
	static const uint8_t tcp4_tlv[] = "\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x13"
	    "\xc0\x00\x02\x0b" "\x0a\x00\x00\x01" "\x00\x50" "\x13\xec" "\x04\x00\x04" "abcd";
	static const uint8_t tcp6[] = "\r\n\r\n\0\r\nQUIT\n\x21\x21\x00\x24"
	    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x07" "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01"
	    "\x0f\xa0" "\x14\x50";
	static const uint8_t local[] = "\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00";
	static const uint8_t unspec[] = "\r\n\r\n\0\r\nQUIT\n\x21\x00\x00\x00";

	expect_header(tcp4, sizeof tcp4 - 1, "192.0.2.10:56324", 0);
	expect_header(tcp4_tlv, sizeof tcp4_tlv - 1, "192.0.2.11:80", 0);
	expect_header(tcp6, sizeof tcp6 - 1, "[2001:db8::7]:4000", 0);
	expect_header(local, sizeof local - 1, NULL, 1);
	expect_header(unspec, sizeof unspec - 1, NULL, 1);
}
END_TEST

/* Every malformed header: -1 with a reason, whatever follows. */
START_TEST(test_proxyproto_malformed)
{
	static uint8_t long_v1[200], long_v2[16 + 600];
	static const struct { const char *name; const uint8_t *p; size_t n; } bad[] = {
#define B(name, s) { name, (const uint8_t *)(s), sizeof(s) - 1 }
		B("WKProto CONNECT", "\x10\x20\x05"),
		B("HTTP", "GET / HTTP/1.1\r\n"),
		B("lower case", "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n"),
		B("no space after PROXY", "PROXYTCP4 1.2.3.4 5.6.7.8 1 2\r\n"),
		B("TCP5", "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n"),
		B("UDP4", "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n"),
		B("UNKNOWNX", "PROXY UNKNOWNX\r\n"),
		B("bad IPv4", "PROXY TCP4 1.2.3.400 5.6.7.8 1 2\r\n"),
		B("IPv6 as TCP4", "PROXY TCP4 ::1 ::1 1 2\r\n"),
		B("IPv4 as TCP6", "PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n"),
		B("port 65536", "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n"),
		B("port with sign", "PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n"),
		B("port leading zero", "PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n"),
		B("port not a number", "PROXY TCP4 1.2.3.4 5.6.7.8 x 2\r\n"),
		B("bad dst port", "PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n"),
		B("missing port", "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"),
		B("extra field", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n"),
		B("two spaces", "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n"),
		B("trailing space", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n"),
		B("NUL in line", "PROXY TCP4 1.2.3.4\0 5.6.7.8 1 2\r\n"),
		B("bare LF", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n\r\n"),
		B("v2 bad signature", "\r\n\r\n\0\r\nQUIZ\n\x21\x11\x00\x0c"),
		B("v2 version 1", "\r\n\r\n\0\r\nQUIT\n\x11\x11\x00\x0c"),
		B("v2 version 3", "\r\n\r\n\0\r\nQUIT\n\x31\x11\x00\x0c"),
		B("v2 command 2", "\r\n\r\n\0\r\nQUIT\n\x22\x11\x00\x0c"),
		B("v2 UDP4", "\r\n\r\n\0\r\nQUIT\n\x21\x12\x00\x0c" "123456789012"),
		B("v2 unix", "\r\n\r\n\0\r\nQUIT\n\x21\x31\x00\x0c" "123456789012"),
		B("v2 TCP4 short", "\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x04" "1234"),
		B("v2 TCP6 short", "\r\n\r\n\0\r\nQUIT\n\x21\x21\x00\x0c" "123456789012"),
		B("v2 length 65535", "\r\n\r\n\0\r\nQUIT\n\x21\x11\xff\xff"),
		B("v2 length 521", "\r\n\r\n\0\r\nQUIT\n\x21\x11\x02\x09"),
#undef B
		{ "v1 without CRLF in 107 bytes", long_v1, sizeof long_v1 },
		{ "v2 over 536 bytes", long_v2, sizeof long_v2 },
	};
	struct wk_proxy_addr a;

	memset(long_v1, '1', sizeof long_v1);
	memcpy(long_v1, "PROXY TCP4 ", 11);
	memcpy(long_v2, "\r\n\r\n\0\r\nQUIT\n\x21\x11\x02\x58", 16);   /* 600 */
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *why = NULL;
		ssize_t rc = wk_proxy_parse(bad[i].p, bad[i].n, &a, &why);
		ck_assert_msg(rc == -1 && why != NULL, "%s: %zd", bad[i].name, rc);
	}
	/* Exactly 107 bytes with the CRLF last is the longest v1 line. */
	char line[WK_PROXY_V1_MAX + 1];
	int n = snprintf(line, sizeof line, "PROXY UNKNOWN %*s\r\n", WK_PROXY_V1_MAX - 16, "x");
	ck_assert_int_eq(n, WK_PROXY_V1_MAX);
	const char *why;
	ck_assert_int_eq(wk_proxy_parse((const uint8_t *)line, (size_t)n, &a, &why), n);
}
END_TEST

static struct sockaddr_storage
sa_of(const char *ip)
{
	struct sockaddr_storage ss = { 0 };

	if (inet_pton(AF_INET, ip, &((struct sockaddr_in *)&ss)->sin_addr) == 1)
		ss.ss_family = AF_INET;
	else if (inet_pton(AF_INET6, ip, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1)
		ss.ss_family = AF_INET6;
	else
		ck_abort_msg("bad test address %s", ip);
	return ss;
}

START_TEST(test_proxyproto_cidr)
{
	static const char *const good[] = { "10.0.0.0/8", "192.168.1.5", "192.168.1.5/32", "0.0.0.0/0",
		"2001:db8::/32", "::1", "::/0", "172.16.0.0/12", "fe80::/10" };
	static const char *const badc[] = { "", "/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1",
		"10.0.0.0/8x", "10.1.2.3/8", "10.0.0", "example.com", "2001:db8::/129",
		"2001:db8::1/32", "10.0.0.0/ 8", " 10.0.0.0/8", "10.0.0.0/8/8",
		"0123456789012345678901234567890123456789012345678901234567890123456789/8" };
	static const struct { const char *ip; int in; } match[] = {
		{ "10.1.2.3", 1 }, { "11.0.0.1", 0 }, { "172.31.255.255", 1 }, { "172.32.0.0", 0 },
		{ "::ffff:10.9.9.9", 1 }, { "::ffff:11.0.0.1", 0 }, { "2001:db8:1::5", 1 },
		{ "2001:db9::1", 0 }, { "::1", 1 }, { "::2", 0 }, { "fe80::1", 1 }, { "febf::1", 1 },
		{ "fec0::1", 0 },
	};
	struct wk_cidr nets[4], c;

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		ck_assert_msg(wk_cidr_parse(good[i], &c) == 0, "%s refused", good[i]);
	for (size_t i = 0; i < sizeof badc / sizeof badc[0]; i++)
		ck_assert_msg(wk_cidr_parse(badc[i], &c) == -1, "\"%s\" accepted", badc[i]);
	ck_assert_int_eq(wk_cidr_parse("10.0.0.0/8", &nets[0]), 0);
	ck_assert_int_eq(wk_cidr_parse("172.16.0.0/12", &nets[1]), 0);
	ck_assert_int_eq(wk_cidr_parse("2001:db8::/32", &nets[2]), 0);
	ck_assert_int_eq(wk_cidr_parse("::1", &nets[3]), 0);
	struct wk_cidr fe80;
	ck_assert_int_eq(wk_cidr_parse("fe80::/10", &fe80), 0);
	for (size_t i = 0; i < sizeof match / sizeof match[0]; i++) {
		struct sockaddr_storage ss = sa_of(match[i].ip);
		int in = wk_cidr_match(nets, 4, (struct sockaddr *)&ss) ||
		    wk_cidr_match(&fe80, 1, (struct sockaddr *)&ss);
		ck_assert_msg(in == match[i].in, "%s: %d", match[i].ip, in);
	}
	/* No networks: nobody. */
	struct sockaddr_storage ss = sa_of("10.0.0.1");
	ck_assert_int_eq(wk_cidr_match(nets, 0, (struct sockaddr *)&ss), 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("proxyproto");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_proxyproto_v1);
	tcase_add_test(tc, test_proxyproto_v2);
	tcase_add_test(tc, test_proxyproto_malformed);
	tcase_add_test(tc, test_proxyproto_cidr);
	suite_add_tcase(s, tc);
	return wkt_run_suite(s);
}
