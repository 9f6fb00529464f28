/* check_proxy.c - the PROXY protocol on the real tree (proxyProtocol.*,
 * wk.yaml(5)): v1 and v2 headers in front of WKProto on TCP and of the
 * WebSocket upgrade; the client address they carry is the one /connz
 * shows and the broker logs; headers that are missing, malformed or too long, and connections
 * from outside proxyProtocol.allowFrom, are closed while the brokers and
 * everyone else carry on; a listener without it is unaffected. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "wkclient.h"
#include "wktest.h"

static struct wkt_tree tree;

static void
setup_allowed(void)
{
	wkt_tree_start(&tree, "tokenAuthOn: false\nconnAuthTimeout: 2s\n"
	    "proxyProtocol:\n  addr: true\n  wsAddr: true\n  allowFrom: [10.0.0.0/8, 127.0.0.0/8]\n");
}

/* The load balancer's network is not ours: 127.0.0.1 is refused. */
static void
setup_other_net(void)
{
	wkt_tree_start(&tree, "tokenAuthOn: false\n"
	    "proxyProtocol:\n  addr: true\n  allowFrom: [192.0.2.0/24]\n");
}

static void teardown(void) { wkt_tree_stop(&tree); }

static const char v1[] = "PROXY TCP4 203.0.113.7 10.0.0.1 40000 5100\r\n";
/* v2 PROXY TCP4 198.51.100.9:1234 -> 10.0.0.1:5200 */
static const char v2[] = "\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c\xc6\x33\x64\x09\x0a\x00\x00\x01"
    "\x04\xd2\x14\x50";

/* Wait until the tree's log holds text. */
static int
log_has(const char *text, int timeout_ms)
{
	char path[512];
	uint64_t end = wkt_now_ms() + timeout_ms;

	snprintf(path, sizeof path, "%s/master.log", tree.dir);
	do {
		char *log = wkt_read_file(path);
		int found = log && strstr(log, text) != NULL;
		free(log);
		if (found)
			return 1;
		wkt_tick();
	} while (wkt_now_ms() < end);
	return 0;
}

/* c (behind its PROXY header) logs in as uid: /connz shows want, the
 * address of the header; then a bad packet: the broker's log line about it
 * names want too. */
static void
login_then_log(struct wkc *c, const char *uid, const char *want)
{
	char text[96];

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(wkc_handshake(c, uid, "", 5, 1, "d", NULL), 1);
	ck_assert_int_eq(wkt_wait_online(&tree, uid, 1, 1, 5000), 1);
	/* /connz shows the header's address and port. */
	snprintf(text, sizeof text, "/connz?uid=%s", uid);
	json_t *z = wkt_call(&tree, "GET", text, NULL, 200);
	json_t *row = json_array_get(json_object_get(z, "connections"), 0);
	snprintf(text, sizeof text, "%s", want);
	*strrchr(text, ':') = '\0';
	ck_assert_str_eq(json_string_value(json_object_get(row, "ip")), text);
	ck_assert_int_eq(json_integer_value(json_object_get(row, "port")), atoi(strrchr(want, ':') + 1));
	json_decref(z);
	ck_assert_int_eq(wkc_send_raw(c, "\xd0\x00", 2), 0);
	ck_assert_int_eq(wkc_wait_closed(c, 3000, NULL), 0);
	snprintf(text, sizeof text, "from %s", want);
	ck_assert_msg(log_has(text, 5000), "no log line with the client address %s", want);
	wkc_close(c);
}

/* A header then a CONNECT on TCP and over WebSocket: connected, and the
 * broker's log names the address of the header, not 127.0.0.1. */
START_TEST(test_proxy_v1_v2_tcp_and_ws)
{
	struct wkc *c = wkc_connect_tcp("127.0.0.1", tree.tcp_port);

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(wkc_send_raw(c, v1, sizeof v1 - 1), 0);
	login_then_log(c, "via-v1", "203.0.113.7:40000");
	login_then_log(wkc_connect_ws_after("127.0.0.1", tree.ws_port, v2, sizeof v2 - 1), "via-v2",
	    "198.51.100.9:1234");

	/* The header and the CONNECT in one write, and a LOCAL (health check). */
	c = wkc_connect_tcp("127.0.0.1", tree.tcp_port);
	ck_assert_int_eq(wkc_send_raw(c, "\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00", 16), 0);
	ck_assert_int_eq(wkc_handshake(c, "local", "", 4, 1, "d", NULL), 1);
	wkc_close(c);
}
END_TEST

/* Missing, malformed and too long headers: each connection is closed; the
 * brokers keep their pids and a connected client keeps its connection. */
START_TEST(test_proxy_bad_headers_close_only_that_client)
{
	static const struct { const char *name, *bytes; size_t len; } bad[] = {
		{ "no header (a CONNECT)", "\x10\x20\x05\x01", 4 },
		{ "HTTP", "GET / HTTP/1.1\r\n\r\n", 18 },
		{ "v1 bad address", "PROXY TCP4 1.2.3.400 10.0.0.1 1 2\r\n", 35 },
		{ "v1 UDP", "PROXY UDP4 1.2.3.4 10.0.0.1 1 2\r\n", 33 },
		{ "v2 version 3", "\r\n\r\n\0\r\nQUIT\n\x31\x11\x00\x0c" "123456789012", 28 },
		{ "v2 too long", "\r\n\r\n\0\r\nQUIT\n\x21\x11\xff\xff", 16 },
	};
	static char long_v1[300];
	int b0 = wkt_tree_pid(&tree, "broker", 0), b1 = wkt_tree_pid(&tree, "broker", 1);
	struct wkc *ok = wkc_connect_tcp("127.0.0.1", tree.tcp_port), *c;

	ck_assert_int_eq(wkc_send_raw(ok, v1, sizeof v1 - 1), 0);
	ck_assert_int_eq(wkc_handshake(ok, "bystander", "", 5, 1, "d", NULL), 1);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		for (int ws = 0; ws <= 1; ws++) {
			c = wkc_connect_tcp("127.0.0.1", ws ? tree.ws_port : tree.tcp_port);
			ck_assert_ptr_nonnull(c);
			ck_assert_int_eq(wkc_send_raw(c, bad[i].bytes, bad[i].len), 0);
			ck_assert_msg(wkc_wait_closed(c, 3000, NULL) == 0, "%s (%s): not closed",
			    bad[i].name, ws ? "ws" : "tcp");
			wkc_close(c);
		}
	/* A v1 line with no end: closed at 107 bytes, not buffered on. */
	memset(long_v1, 'x', sizeof long_v1);
	memcpy(long_v1, "PROXY TCP4 ", 11);
	c = wkc_connect_tcp("127.0.0.1", tree.tcp_port);
	ck_assert_int_eq(wkc_send_raw(c, long_v1, sizeof long_v1), 0);
	ck_assert_int_eq(wkc_wait_closed(c, 3000, NULL), 0);
	wkc_close(c);
	/* A header that never ends: closed at connAuthTimeout. */
	c = wkc_connect_tcp("127.0.0.1", tree.tcp_port);
	ck_assert_int_eq(wkc_send_raw(c, "PROXY TCP4 1.2", 14), 0);
	ck_assert_int_eq(wkc_wait_closed(c, 5000, NULL), 0);
	wkc_close(c);
	ck_assert_int_eq(wkt_tree_pid(&tree, "broker", 0), b0);
	ck_assert_int_eq(wkt_tree_pid(&tree, "broker", 1), b1);
	/* The bystander is still there and answered. */
	struct wkproto_packet ping = { .type = WKPROTO_PING }, p;
	ck_assert_int_eq(wkc_send(ok, &ping), 0);
	ck_assert_int_eq(wkc_expect(ok, WKPROTO_PONG, &p, 3000), 0);
	ck_assert_int_eq(wkt_online_count(&tree, "bystander", 1), 1);
	wkc_close(ok);
}
END_TEST

/* From outside allowFrom: closed at once, even with a good header; the
 * WebSocket listener (PROXY off there) works without one. */
START_TEST(test_proxy_wrong_network_refused)
{
	struct wkc *c = wkc_connect_tcp("127.0.0.1", tree.tcp_port);
	int reason;

	ck_assert_ptr_nonnull(c);
	wkc_send_raw(c, v1, sizeof v1 - 1);   /* may fail: the socket can be closed already */
	ck_assert_int_eq(wkc_wait_closed(c, 3000, &reason), 0);
	ck_assert_int_eq(reason, -1);   /* no CONNACK, no DISCONNECT: nothing */
	wkc_close(c);
	ck_assert_msg(wkt_status_sum(tree.run, "broker", "refused") >= 1, "not counted as refused");
	c = wkc_connect_ws("127.0.0.1", tree.ws_port);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(wkc_handshake(c, "plain-ws", "", 5, 1, "d", NULL), 1);
	wkc_close(c);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("proxy");
	TCase *allowed = tcase_create("allowed"), *other = tcase_create("other_net");

	tcase_set_timeout(allowed, 60);
	tcase_add_checked_fixture(allowed, setup_allowed, teardown);
	tcase_add_test(allowed, test_proxy_v1_v2_tcp_and_ws);
	tcase_add_test(allowed, test_proxy_bad_headers_close_only_that_client);
	tcase_add_checked_fixture(other, setup_other_net, teardown);
	tcase_add_test(other, test_proxy_wrong_network_refused);
	suite_add_tcase(s, allowed);
	suite_add_tcase(s, other);
	return wkt_run_suite(s);
}
