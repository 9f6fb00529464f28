/* check_browser.c - wk's WebSocket edge as a browser sees it: pages in
 * Debian's headless chromium (browser_ws.mjs, puppeteer-core, run by
 * sdk_driver.c) open binary WKProto sockets.  A page that closes its socket
 * gets the closing handshake done at once (wasClean, no 2 s wait for the
 * server's TCP close) and its user is offline within 300 ms; a refused
 * CONNECT and a bad first packet end with a Close frame whose code says why
 * (1008, 1002), never the 1006 of a bare TCP close. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "wk_crypto.h"
#include "wkproto.h"
#include "wktest.h"
#include "sdk_driver.h"

/* A CONNECT (version 4, device flag 1) for uid/token as hex, as the page
 * sends it: one binary message. */
static void
connect_hex(const char *uid, const char *token, char *hex, size_t cap)
{
	struct wkproto_packet p = { .type = WKPROTO_CONNECT };
	struct wk_crypto_keypair kp;
	uint8_t seed[32] = { 7 }, buf[512];
	char pub64[WK_CRYPTO_KEY_B64_LEN];
	ssize_t n;

	wk_crypto_keypair_from(&kp, seed);
	wk_b64_encode(kp.pub, 32, pub64);
	p.connect.version = 4;
	p.connect.device_flag = 1;
	p.connect.device_id = wk_str_of("browser");
	p.connect.uid = wk_str_of(uid);
	p.connect.token = wk_str_of(token);
	p.connect.client_timestamp = 1700000000000;
	p.connect.client_key = wk_str_n(pub64, sizeof pub64);
	n = wkproto_encode(&p, 4, buf, sizeof buf);
	ck_assert_int_gt(n, 0);
	ck_assert_uint_lt((size_t)n * 2, cap);
	for (ssize_t i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", buf[i]);
}

/* The browser: launched, its page ready. */
static struct sdk *
start_browser(void)
{
	char addr[96];

	snprintf(addr, sizeof addr, "--addr=ws://127.0.0.1:%d", sdk_tree.ws_port);
	struct sdk *b = sdk_start_script("chromium", "browser_ws.mjs",
	    (const char *const[]){ addr, NULL });
	ck_assert_msg(SDK_WAIT_FOR(sdk_line(b, "loaded") || b->eof, 60000) && sdk_line(b, "loaded"),
	    "chromium did not start%s", sdk_why(b));
	return b;
}

/* The first line `ev` about socket name, or NULL. */
static json_t *
find_line(struct sdk *b, const char *ev, const char *name)
{
	for (size_t i = 0; i < json_array_size(b->lines); i++) {
		json_t *j = json_array_get(b->lines, i);
		const char *n = json_string_value(json_object_get(j, "name"));
		if (strcmp(json_string_value(json_object_get(j, "ev")), ev) == 0 && n &&
		    strcmp(n, name) == 0)
			return j;
	}
	return NULL;
}

/* The same, waiting up to ms. */
static json_t *
wait_line(struct sdk *b, const char *ev, const char *name, int ms)
{
	SDK_WAIT_FOR(find_line(b, ev, name) || b->eof, ms);
	return find_line(b, ev, name);
}

/* Open socket name in the page; it sends a CONNECT of uid/token. */
static void
open_connect(struct sdk *b, const char *name, const char *uid, const char *token)
{
	char hex[1024], cmd[1100];

	connect_hex(uid, token, hex, sizeof hex);
	snprintf(cmd, sizeof cmd, "open %s %s", name, hex);
	sdk_cmd(b, cmd);
}

static long long
jint(json_t *j, const char *key)
{
	return json_integer_value(json_object_get(j, key));
}

/* The page closes its socket: a clean close at once, offline at once. */
START_TEST(test_browser_close_is_clean_and_offline_at_once)
{
	json_t *l;

	sdk_set_token("brow", "tok-brow", 1, 0);
	struct sdk *b = start_browser();
	open_connect(b, "a", "brow", "tok-brow");
	l = wait_line(b, "rx", "a", 10000);
	ck_assert_msg(l && jint(l, "type") == WKPROTO_CONNACK, "no CONNACK%s", sdk_why(b));
	ck_assert_int_eq(sdk_wait_online("brow", 1, 1, 5000), 1);
	sdk_cmd(b, "close a 1000");
	uint64_t t0 = wkt_now_ms();
	ck_assert_msg(sdk_wait_online("brow", 1, 0, 300) == 0, "still online %llu ms after the "
	    "page closed its socket", (unsigned long long)(wkt_now_ms() - t0));
	l = wait_line(b, "closed", "a", 5000);
	ck_assert_msg(l != NULL, "no onclose%s", sdk_why(b));
	ck_assert_msg(jint(l, "code") == 1000 && json_is_true(json_object_get(l, "wasClean")),
	    "onclose code %lld wasClean %d%s", jint(l, "code"),
	    json_is_true(json_object_get(l, "wasClean")), sdk_why(b));
	/* Chromium waits up to 2 s for the server's TCP close. */
	ck_assert_msg(jint(l, "ms") < 1000, "closing handshake took %lld ms%s", jint(l, "ms"),
	    sdk_why(b));
	sdk_stop(b);
}
END_TEST

/* Refusals end with a Close frame the page can read: a wrong token 1008
 * (after the CONNACK with reason 2), a first packet that is not CONNECT
 * 1002. */
START_TEST(test_browser_refusals_carry_a_close_code)
{
	json_t *l;

	sdk_set_token("brow", "tok-brow", 1, 0);
	struct sdk *b = start_browser();
	open_connect(b, "bad", "brow", "wrong");
	sdk_cmd(b, "open ping 70");           /* PING before CONNECT */
	l = wait_line(b, "closed", "bad", 10000);
	ck_assert_msg(l && jint(l, "code") == 1008 && json_is_true(json_object_get(l, "wasClean")),
	    "wrong token: %s%s", l ? json_dumps(l, 0) : "no close", sdk_why(b));
	ck_assert_msg(wait_line(b, "rx", "bad", 0) != NULL, "no CONNACK before the Close%s", sdk_why(b));
	l = wait_line(b, "closed", "ping", 10000);
	ck_assert_msg(l && jint(l, "code") == 1002, "PING first: %s%s",
	    l ? json_dumps(l, 0) : "no close", sdk_why(b));
	ck_assert_int_eq(sdk_online("brow", -1), 0);
	sdk_stop(b);
}
END_TEST

static void
add_tests(TCase *tc)
{
	tcase_add_test(tc, test_browser_close_is_clean_and_offline_at_once);
	tcase_add_test(tc, test_browser_refusals_carry_a_close_code);
}

int
main(void)
{
	return sdk_main("browser", add_tests);
}
