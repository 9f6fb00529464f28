/* check_conn.c - client connections against the real tree: the C test
 * client over TCP and WebSocket at protocol versions 2, 4 and 5 (CONNACK
 * layout, key agreement, PING), auth failure with a reason, the pre-auth
 * timeout, garbage, oversize packets, the master-login kick, presence as
 * /user/onlinestatus shows it, kill -9 of a broker and of a mailbox (its
 * users stay online and deliverable through the restart), WSS. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <wslay/wslay.h>
#include "wk_shard.h"
#include "wkclient.h"
#include "wktest.h"

static struct wkt_tree tree;

static struct wkc *
dial(int ws)
{
	struct wkc *c = ws ? wkc_connect_ws("127.0.0.1", tree.ws_port) :
	    wkc_connect_tcp("127.0.0.1", tree.tcp_port);
	ck_assert_ptr_nonnull(c);
	return c;
}

static void
set_token(const char *uid, const char *token, int device_flag, int level)
{
	wkt_set_token(&tree, uid, token, device_flag, level);
}

static int
wait_online(const char *uid, int want, int timeout_ms)
{
	return wkt_wait_online(&tree, uid, -1, want, timeout_ms);
}

static void
setup_open(void)
{
	wkt_tree_start(&tree, "tokenAuthOn: false\nconnAuthTimeout: 700ms\n"
	    "limits:\n  maxPacketSize: 64k\n");
}

static void
setup_auth(void)
{
	wkt_tree_start(&tree, "tokenAuthOn: true\n");
}

static int wss_port;

/* A self-signed certificate for the wss listener. */
static void
setup_wss(void)
{
	char dir[] = "/tmp/wkt-XXXXXX", extra[1024], *out;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_msg(wkt_run(&out, "openssl req -x509 -newkey rsa:2048 -nodes -days 2 "
	    "-subj /CN=localhost -keyout %s/key.pem -out %s/cert.pem", dir, dir) == 0,
	    "openssl: %s", out);
	free(out);
	wss_port = wkt_free_port();
	snprintf(extra, sizeof extra, "tokenAuthOn: false\nwssAddr: wss://127.0.0.1:%d\n"
	    "wssConfig:\n  certFile: %s/cert.pem\n  keyFile: %s/key.pem\n", wss_port, dir, dir);
	wkt_tree_start(&tree, extra);
}

static void teardown(void) { wkt_tree_stop(&tree); }

/* Versions 2, 4, 5 over TCP and WebSocket: the CONNACK layout each expects,
 * keys both sides agree on (a PING/PONG and a refused SEND round trip). */
START_TEST(test_conn_versions_tcp_and_ws)
{
	static const int versions[] = { 2, 4, 5 };
	struct wkproto_connack ack;
	struct wkproto_packet p;

	for (int ws = 0; ws <= 1; ws++)
		for (int i = 0; i < 3; i++) {
			int v = versions[i];
			char uid[32];
			struct wkc *c = dial(ws);
			snprintf(uid, sizeof uid, "user%d%d", ws, v);
			ck_assert_int_eq(wkc_handshake(c, uid, "", v, 1, "dev1", &ack), 1);
			ck_assert_int_eq(ack.server_key.len, 44);
			ck_assert_int_eq(ack.salt.len, 16);
			/* Only v > 3 clients get the server version (SDK 1.0.4 cannot parse it). */
			ck_assert_int_eq(ack.server_version, v > 3 ? v : 0);
			ck_assert(ack.node_id == (v >= 4 ? 1001u : 0u));
			struct wkproto_packet ping = { .type = WKPROTO_PING };
			ck_assert_int_eq(wkc_send(c, &ping), 0);
			ck_assert_int_eq(wkc_recv(c, &p, 3000), 0);
			ck_assert_int_eq(p.type, WKPROTO_PONG);
			ck_assert_int_eq(wait_online(uid, 1, 3000), 1);
			if (v == 5) {
				/* wkctl presence UID shows the device, read from shared memory. */
				char *out, *wkctl = wkt_bin("wkctl");
				ck_assert_int_eq(wkt_run(&out, "%s -f %s presence %s", wkctl, tree.config, uid), 0);
				ck_assert_msg(strstr(out, uid) && strstr(out, "slave"), "%s", out);
				free(out);
				free(wkctl);
			}
			if (ws)
				ck_assert_int_eq(c->ws_multi, 0);   /* one packet per WS message */
			wkc_close(c);
			ck_assert_int_eq(wait_online(uid, 0, 3000), 0);
		}
}
END_TEST

START_TEST(test_conn_bad_token_gets_reason_2)
{
	struct wkproto_connack ack;
	int reason;

	for (int ws = 0; ws <= 1; ws++) {
		struct wkc *c = dial(ws);
		ck_assert_int_eq(wkc_handshake(c, "mallory", "guess", 4, 1, "d", &ack),
		    WKPROTO_REASON_AUTH_FAIL);
		ck_assert_int_eq(ack.server_key.len, 0);
		ck_assert_int_eq(wkc_wait_closed(c, 5000, &reason), 0);
		/* On WebSocket a Close frame says why (a browser shows 1008, not 1006). */
		if (ws)
			ck_assert_int_eq(c->ws_close_code, 1008);
		wkc_close(c);
	}
	/* With the token stored, the same uid gets in. */
	set_token("mallory", "right", 1, 0);
	struct wkc *c = dial(0);
	ck_assert_int_eq(wkc_handshake(c, "mallory", "right", 5, 1, "d", &ack), 1);
	ck_assert_int_eq(wkc_handshake(dial(1), "mallory", "wrong", 5, 1, "d2", &ack), 2);
	/* A token is per device flag. */
	ck_assert_int_eq(wkc_handshake(dial(0), "mallory", "right", 5, 0, "d3", &ack), 2);
	wkc_close(c);
}
END_TEST

START_TEST(test_conn_preauth_timeout)
{
	for (int ws = 0; ws <= 1; ws++) {
		struct wkc *c = dial(ws);
		uint64_t t0 = wkt_now_ms();
		ck_assert_int_eq(wkc_wait_closed(c, 5000, NULL), 0);
		ck_assert_uint_ge(wkt_now_ms() - t0, 600);   /* connAuthTimeout: 700ms */
		wkc_close(c);
	}
}
END_TEST

/* Garbage, a non-CONNECT first packet, an oversize packet: each closes that
 * client only; the brokers stay up and serve the next client. */
START_TEST(test_conn_garbage_closes_client_only)
{
	static const struct { const char *name; const char *bytes; size_t len; } bad[] = {
		{ "reserved type", "\x00\x01\x02", 3 },
		{ "type 13", "\xd0\x00", 2 },
		{ "five-byte length", "\x10\xff\xff\xff\xff\x01", 6 },
		{ "PING before CONNECT", "\x70", 1 },
		{ "truncated CONNECT body", "\x10\x03\x02\x01\x00\x10\x00", 7 },
		{ "over maxPacketSize", "\x10\x80\x80\x08", 4 },   /* 131072 > 64k */
		{ "HTTP on the TCP port", "GET / HTTP/1.1\r\n\r\n", 18 },
	};
	int b0 = wkt_tree_pid(&tree, "broker", 0), b1 = wkt_tree_pid(&tree, "broker", 1);

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct wkc *c = dial(0);
		ck_assert_int_eq(wkc_send_raw(c, bad[i].bytes, bad[i].len), 0);
		ck_assert_msg(wkc_wait_closed(c, 3000, NULL) == 0, "%s: not closed", bad[i].name);
		wkc_close(c);
	}
	struct wkc *c = dial(1);
	ck_assert_int_eq(wkc_send_raw(c, "\xd0\x00", 2), 0);
	ck_assert_int_eq(wkc_wait_closed(c, 3000, NULL), 0);
	ck_assert_int_eq(c->ws_close_code, 1002);   /* protocol error */
	ck_assert_int_eq(wkc_wait_eof(c, 3000), 0);
	wkc_close(c);
	ck_assert_int_eq(wkt_tree_pid(&tree, "broker", 0), b0);
	ck_assert_int_eq(wkt_tree_pid(&tree, "broker", 1), b1);
	c = dial(0);
	ck_assert_int_eq(wkc_handshake(c, "after", "", 5, 1, "d", NULL), 1);
	wkc_close(c);
}
END_TEST

/* A client's Close frame (what a browser sends on ws.close()): answered
 * with the same code, the TCP connection closed at once, the user offline
 * at once - not when the client gives up waiting (Chromium: 2 s). */
START_TEST(test_conn_ws_close_frame_closes_at_once)
{
	struct wkc *c = dial(1);
	uint64_t t0;

	ck_assert_int_eq(wkc_handshake(c, "closer", "", 5, 1, "d", NULL), 1);
	ck_assert_int_eq(wait_online("closer", 1, 5000), 1);
	t0 = wkt_now_ms();
	ck_assert_int_eq(wkc_ws_close(c, 1000), 0);
	ck_assert_msg(wkc_wait_eof(c, 2000) == 0, "TCP connection left open after the Close");
	ck_assert_msg(wkt_now_ms() - t0 < 300, "TCP closed after %llu ms",
	    (unsigned long long)(wkt_now_ms() - t0));
	ck_assert_int_eq(c->ws_close_code, 1000);
	ck_assert_int_eq(wait_online("closer", 0, 300), 0);
	wkc_close(c);
	/* Before the CONNECT too. */
	c = dial(1);
	ck_assert_int_eq(wkc_ws_close(c, 1001), 0);
	ck_assert_int_eq(wkc_wait_eof(c, 300), 0);
	ck_assert_int_eq(c->ws_close_code, 1001);
	wkc_close(c);
}
END_TEST

/* What a WebSocket connection speaks is fixed by its first message: a text
 * frame on a binary WKProto connection, or a binary one on a JSON-RPC
 * connection, is refused with 1003. */
START_TEST(test_conn_ws_mixed_frames_are_1003)
{
	static const char connect[] = "{\"method\":\"connect\",\"id\":\"1\",\"params\":"
	    "{\"uid\":\"rpc\",\"token\":\"\"}}";
	struct wkc *c = dial(1);
	struct wslay_event_msg m = { WSLAY_TEXT_FRAME, (const uint8_t *)"{}", 2 };

	ck_assert_int_eq(wkc_handshake(c, "texter", "", 5, 1, "d", NULL), 1);
	ck_assert_int_eq(wslay_event_queue_msg(c->wsctx, &m), 0);
	ck_assert_int_eq(wslay_event_send(c->wsctx), 0);
	ck_assert_int_eq(wkc_wait_closed(c, 3000, NULL), 0);
	ck_assert_int_eq(c->ws_close_code, 1003);
	ck_assert_int_eq(wait_online("texter", 0, 1000), 0);
	wkc_close(c);
	/* A JSON-RPC connect (its answer is a text frame this client skips),
	 * then a binary PING. */
	c = dial(1);
	m = (struct wslay_event_msg){ WSLAY_TEXT_FRAME, (const uint8_t *)connect, sizeof connect - 1 };
	ck_assert_int_eq(wslay_event_queue_msg(c->wsctx, &m), 0);
	ck_assert_int_eq(wslay_event_send(c->wsctx), 0);
	ck_assert_int_eq(wait_online("rpc", 1, 5000), 1);
	ck_assert_int_eq(wkc_send_raw(c, "\x70", 1), 0);
	ck_assert_int_eq(wkc_wait_closed(c, 3000, NULL), 0);
	ck_assert_int_eq(c->ws_close_code, 1003);
	ck_assert_int_eq(wait_online("rpc", 0, 1000), 0);
	wkc_close(c);
}
END_TEST

START_TEST(test_conn_master_login_kicks_other_device)
{
	struct wkproto_packet p;
	int reason;

	set_token("alice", "tok", 1, 1);    /* master device */
	struct wkc *a = dial(0), *b = dial(1), *app = dial(0);
	ck_assert_int_eq(wkc_handshake(a, "alice", "tok", 5, 1, "devA", NULL), 1);
	set_token("alice", "tok0", 0, 1);
	ck_assert_int_eq(wkc_handshake(app, "alice", "tok0", 5, 0, "phone", NULL), 1);
	ck_assert_int_eq(wait_online("alice", 2, 3000), 2);
	ck_assert_int_eq(wkc_handshake(b, "alice", "tok", 5, 1, "devB", NULL), 1);
	ck_assert_int_eq(wkc_recv(a, &p, 3000), 0);
	ck_assert_int_eq(p.type, WKPROTO_DISCONNECT);
	ck_assert_int_eq(p.disconnect.reason_code, WKPROTO_REASON_CONNECT_KICK);
	ck_assert_int_eq(wkc_wait_closed(a, 5000, &reason), 0);
	/* Another device flag is not kicked; the new login stays. */
	struct wkproto_packet ping = { .type = WKPROTO_PING };
	ck_assert_int_eq(wkc_send(app, &ping), 0);
	ck_assert_int_eq(wkc_recv(app, &p, 3000), 0);
	ck_assert_int_eq(p.type, WKPROTO_PONG);
	ck_assert_int_eq(wkc_send(b, &ping), 0);
	ck_assert_int_eq(wkc_recv(b, &p, 3000), 0);
	ck_assert_int_eq(p.type, WKPROTO_PONG);
	ck_assert_int_eq(wait_online("alice", 2, 3000), 2);
	wkc_close(a);
	wkc_close(b);
	wkc_close(app);
}
END_TEST

/* kill -9 of a broker: its users leave presence once it is back. */
START_TEST(test_conn_broker_kill9_clears_presence)
{
	struct wkc *c[8];
	int before = wkt_tree_pid(&tree, "broker", 0);

	for (int i = 0; i < 8; i++) {
		c[i] = dial(i & 1);
		ck_assert_int_eq(wkc_handshake(c[i], "bob", "", 5, 1, "d", NULL), 1);
	}
	ck_assert_int_eq(wait_online("bob", 8, 3000), 8);
	kill(wkt_tree_pid(&tree, "broker", 0), SIGKILL);
	kill(wkt_tree_pid(&tree, "broker", 1), SIGKILL);
	uint64_t end = wkt_now_ms() + 10000;
	while ((wkt_tree_pid(&tree, "broker", 0) == before ||
	    wkt_wait_ready(tree.run, WKT_NPROCS, 100) < 0) && wkt_now_ms() < end)
		wkt_tick();
	ck_assert_int_eq(wait_online("bob", 0, 5000), 0);
	for (int i = 0; i < 8; i++)
		wkc_close(c[i]);
}
END_TEST

/* kill -9 of a mailbox shard: nothing stale after its respawn, and the
 * users still connected are online again (the brokers restore them). */
START_TEST(test_conn_mailbox_kill9_no_stale_entries)
{
	struct wkc *stay = dial(0), *leave = dial(1);
	int mb;

	ck_assert_int_eq(wkc_handshake(stay, "carol", "", 5, 1, "d", NULL), 1);
	ck_assert_int_eq(wkc_handshake(leave, "carol", "", 5, 2, "pc", NULL), 1);
	ck_assert_int_eq(wait_online("carol", 2, 3000), 2);
	/* Which shard owns carol: the one whose pid changes matters not; kill both. */
	for (mb = 0; mb < 2; mb++)
		kill(wkt_tree_pid(&tree, "mailbox", mb), SIGKILL);
	wkc_close(leave);   /* leaves while its shard is down */
	ck_assert_int_eq(wkt_wait_ready(tree.run, WKT_NPROCS, 15000), 0);
	ck_assert_int_eq(wait_online("carol", 1, 5000), 1);
	wkc_close(stay);
	ck_assert_int_eq(wait_online("carol", 0, 5000), 0);
}
END_TEST

/* kill -9 of a mailbox shard with its users online: they stay online and
 * deliverable through its restart without reconnecting.  Both brokers are
 * frozen meanwhile, so nothing is re-asserted until they resume: what
 * shows and what is delivered is what the restarted shard kept.  A
 * connection closed meanwhile goes once its broker resumes. */
START_TEST(test_conn_mailbox_kill9_keeps_users)
{
	struct wkc *r = dial(0), *gone = dial(1);
	struct wkproto_packet p;
	int b[2], online, got = -1;
	char text[128];

	ck_assert_int_eq(wkc_handshake(r, "dave", "", 5, 1, "d", NULL), 1);
	ck_assert_int_eq(wkc_handshake(gone, "dave", "", 5, 2, "pc", NULL), 1);
	ck_assert_int_eq(wait_online("dave", 2, 3000), 2);
	for (int i = 0; i < 2; i++) {
		b[i] = wkt_tree_pid(&tree, "broker", i);
		ck_assert_int_eq(kill(b[i], SIGSTOP), 0);
	}
	wkc_close(gone);
	wkt_tree_kill9(&tree, "mailbox", wk_shard_uid("dave", 4, 2));
	online = wkt_online_count(&tree, "dave", -1);
	wkt_send_text(&tree, "erin", "dave", 1, "while the shard restarted", NULL, NULL, NULL);
	for (int i = 0; i < 2; i++)
		kill(b[i], SIGCONT);
	ck_assert_int_eq(online, 2);
	if (wkc_expect(r, WKPROTO_RECV, &p, 5000) == 0 &&
	    wkc_open_recv(r, &p.recv, text, sizeof text) >= 0)
		got = strcmp(text, "while the shard restarted");
	ck_assert_msg(got == 0, "no RECV of the message sent while the mailbox restarted");
	ck_assert_int_eq(wkc_recvack(r, &p), 0);
	ck_assert_int_eq(wait_online("dave", 1, 5000), 1);
	/* Confirmed by its broker: still there, still delivered. */
	wkt_send_text(&tree, "erin", "dave", 1, "after", NULL, NULL, NULL);
	ck_assert_int_eq(wkc_expect(r, WKPROTO_RECV, &p, 5000), 0);
	ck_assert_int_eq(wkc_open_recv(r, &p.recv, text, sizeof text), 5);
	ck_assert_int_eq(wait_online("dave", 1, 100), 1);
	wkc_close(r);
	ck_assert_int_eq(wait_online("dave", 0, 5000), 0);
}
END_TEST

START_TEST(test_conn_wss)
{
	struct wkproto_connack ack;
	struct wkproto_packet p, ping = { .type = WKPROTO_PING };

	for (int v = 2; v <= 5; v += 3) {
		struct wkc *c = wkc_connect_wss("127.0.0.1", wss_port);
		ck_assert_ptr_nonnull(c);
		ck_assert_int_eq(wkc_handshake(c, "tls-user", "", v, 1, "d", &ack), 1);
		for (int i = 0; i < 3; i++) {
			ck_assert_int_eq(wkc_send(c, &ping), 0);
			ck_assert_int_eq(wkc_recv(c, &p, 3000), 0);
			ck_assert_int_eq(p.type, WKPROTO_PONG);
		}
		ck_assert_int_eq(c->ws_multi, 0);
		wkc_close(c);
	}
	/* Plain bytes on the TLS port close that client; the broker stays. */
	int pid = wkt_tree_pid(&tree, "broker", 0);
	struct wkc *raw = wkc_connect_tcp("127.0.0.1", wss_port);
	ck_assert_ptr_nonnull(raw);
	ck_assert_int_eq(wkc_send_raw(raw, "\x10\x05hello", 7), 0);
	ck_assert_int_eq(wkc_wait_closed(raw, 5000, NULL), 0);
	wkc_close(raw);
	ck_assert_int_eq(wkt_tree_pid(&tree, "broker", 0), pid);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("conn");
	TCase *open = tcase_create("open"), *auth = tcase_create("auth"), *wss = tcase_create("wss");

	tcase_set_timeout(open, 120);
	tcase_set_timeout(auth, 120);
	tcase_add_checked_fixture(open, setup_open, teardown);
	tcase_add_checked_fixture(auth, setup_auth, teardown);
	tcase_add_test(open, test_conn_versions_tcp_and_ws);
	tcase_add_test(open, test_conn_preauth_timeout);
	tcase_add_test(open, test_conn_garbage_closes_client_only);
	tcase_add_test(open, test_conn_ws_close_frame_closes_at_once);
	tcase_add_test(open, test_conn_ws_mixed_frames_are_1003);
	tcase_add_test(open, test_conn_broker_kill9_clears_presence);
	tcase_add_test(open, test_conn_mailbox_kill9_no_stale_entries);
	tcase_add_test(open, test_conn_mailbox_kill9_keeps_users);
	tcase_add_test(auth, test_conn_bad_token_gets_reason_2);
	tcase_add_test(auth, test_conn_master_login_kicks_other_device);
	tcase_set_timeout(wss, 60);
	tcase_add_checked_fixture(wss, setup_wss, teardown);
	tcase_add_test(wss, test_conn_wss);
	suite_add_tcase(s, wss);
	suite_add_tcase(s, open);
	suite_add_tcase(s, auth);
	return wkt_run_suite(s);
}
