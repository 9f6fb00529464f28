/* check_sdk_conn.c - end-to-end tests with the official WuKongIM JS SDK
 * (sdk_driver.c) against the real tree over WebSocket, its connection:
 * token auth and heartbeats, a wrong token and a uid without one (no
 * reconnect), and the two kinds of kick (a second master login, and POST
 * /user/token with device_level 1), as the SDK's status listener reports
 * them and /user/onlinestatus lists them. */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <jansson.h>
#include "wktest.h"
#include "sdk_driver.h"

/* (1) A stored token, then the SDK connects over WebSocket: (1,1), and it
 * stays connected through several heartbeats (every PING answered by a PONG,
 * no other status), listed by /user/onlinestatus; gone once it leaves. */
START_TEST(test_sdk_connects_and_heartbeats)
{
	sdk_set_token("alice", "tok-alice", 1, 0);
	struct sdk *a = sdk_start("alice", "alice", "tok-alice", 1, 500, NULL);

	sdk_expect_status(a, 1, 1, 1, 15000);
	ck_assert_msg(a->connacks == 1, "CONNACKs: %d%s", a->connacks, sdk_why(a));
	ck_assert_int_eq(sdk_wait_online("alice", 1, 1, 5000), 1);
	ck_assert_msg(SDK_WAIT_FOR(a->pongs >= 4 || a->eof, 10000) && a->pongs >= 4,
	    "%d PINGs sent, %d PONGs received in 10 s%s", a->pings, a->pongs, sdk_why(a));
	ck_assert_msg(a->pongs <= a->pings, "more PONGs than PINGs%s", sdk_why(a));
	ck_assert_msg(a->bad_pongs == 0, "PONG not the single byte 0x80%s", sdk_why(a));
	ck_assert_msg(a->rx_multi == 0, "a WS message not holding exactly one packet%s", sdk_why(a));
	ck_assert_msg(a->nstatus == 1 && a->ws_new == 1 && a->ws_close == 0,
	    "the connection did not stay up%s", sdk_why(a));
	sdk_state(a);
	ck_assert_msg(sdk_state_bool(a, "connected"), "SDK not connected%s", sdk_why(a));
	ck_assert_msg(json_integer_value(json_object_get(a->state, "pingRetryCount")) <= 1,
	    "PINGs unanswered%s", sdk_why(a));
	ck_assert_int_eq(sdk_online("alice", 1), 1);
	ck_assert_int_eq(sdk_online("alice", 0), 0);
	/* The SDK closes the socket; the server takes it out of presence. */
	sdk_cmd(a, "disconnect");
	ck_assert_msg(SDK_WAIT_FOR(a->ws_close == 1, 5000), "socket not closed%s", sdk_why(a));
	ck_assert_int_eq(sdk_wait_online("alice", 1, 0, 5000), 0);
	sdk_stop(a);
}
END_TEST

/* (2) A wrong token and a uid without any token: the SDK reports (3,2),
 * the server closes the socket, and the SDK does not come back (its
 * reconnect delay is 3 s; we watch for 4.5 s).  The right token then works. */
START_TEST(test_sdk_wrong_token_fails_without_reconnect)
{
	sdk_set_token("bob", "right", 1, 0);
	struct sdk *b = sdk_start("bob", "bob", "wrong", 1, 500, NULL);
	struct sdk *n = sdk_start("nobody", "nobody", "anything", 1, 500, NULL);

	sdk_expect_status(b, 1, 3, 2, 15000);
	sdk_expect_status(n, 1, 3, 2, 15000);
	ck_assert_msg(b->connacks == 1 && n->connacks == 1, "CONNACK count%s%s", sdk_why(b), sdk_why(n));
	ck_assert_msg(SDK_WAIT_FOR(b->ws_close >= 1 && n->ws_close >= 1, 5000),
	    "server kept the failed connection open%s%s", sdk_why(b), sdk_why(n));
	ck_assert_msg(!SDK_WAIT_FOR(b->ws_new > 1 || n->ws_new > 1, 4500),
	    "the SDK reconnected after ConnectFail%s%s", sdk_why(b), sdk_why(n));
	sdk_state(b);
	ck_assert_msg(!sdk_state_bool(b, "needReconnect") && !sdk_state_bool(b, "connected"),
	    "SDK still wants to reconnect%s", sdk_why(b));
	/* (3,2), then (0,0) when the socket closed: nothing else. */
	ck_assert_msg(b->nstatus <= 2 && (b->nstatus == 1 || b->status[1] == 0), "statuses%s", sdk_why(b));
	ck_assert_int_eq(sdk_online("bob", 1), 0);
	ck_assert_int_eq(sdk_online("nobody", 1), 0);
	sdk_stop(b);
	sdk_stop(n);

	struct sdk *ok = sdk_start("bob-right", "bob", "right", 1, 500, NULL);
	sdk_expect_status(ok, 1, 1, 1, 15000);
	ck_assert_int_eq(sdk_wait_online("bob", 1, 1, 5000), 1);
	sdk_stop(ok);
}
END_TEST

/* (3a) Master device: a second SDK with the same uid and device flag logs
 * in; the first gets DISCONNECT and reports (4,12), the server closes its
 * socket and the SDK stays down; the second stays connected.  A runs with
 * the default-like long heartbeat so only the kick decides what it does. */
START_TEST(test_sdk_second_master_login_kicks_first)
{
	sdk_set_token("carol", "tok-carol", 1, 1);
	struct sdk *a = sdk_start("carol-a", "carol", "tok-carol", 1, 60000, NULL);
	sdk_expect_status(a, 1, 1, 1, 15000);
	ck_assert_int_eq(sdk_wait_online("carol", 1, 1, 5000), 1);

	struct sdk *b = sdk_start("carol-b", "carol", "tok-carol", 1, 500, NULL);
	sdk_expect_status(b, 1, 1, 1, 15000);
	sdk_expect_status(a, 2, 4, 12, 10000);
	ck_assert_msg(a->disconnects == 1 && strncmp(a->disconnect_hex, "90", 2) == 0,
	    "no DISCONNECT packet%s", sdk_why(a));
	ck_assert_msg(SDK_WAIT_FOR(a->ws_close >= 1, 15000), "kicked socket never closed%s", sdk_why(a));
	int pongs = b->pongs;
	ck_assert_msg(!SDK_WAIT_FOR(a->ws_new > 1, 4500), "kicked SDK reconnected%s", sdk_why(a));
	sdk_state(a);
	ck_assert_msg(!sdk_state_bool(a, "needReconnect"), "kicked SDK wants to reconnect%s", sdk_why(a));
	/* B was not disturbed: still answered, one status only. */
	ck_assert_msg(SDK_WAIT_FOR(b->pongs >= pongs + 2, 5000), "B lost its PONGs%s", sdk_why(b));
	ck_assert_msg(b->nstatus == 1 && b->ws_close == 0 && b->ws_new == 1, "B disturbed%s", sdk_why(b));
	ck_assert_int_eq(sdk_wait_online("carol", 1, 1, 5000), 1);
	sdk_stop(a);
	sdk_stop(b);
}
END_TEST

/* (3b) POST /user/token again for a connected uid: device_level 0 leaves
 * the connection alone, device_level 1 kicks it with (4,12).  This client
 * does what an application does on a kick: disconnect(). */
START_TEST(test_sdk_master_token_update_kicks)
{
	sdk_set_token("dave", "t1", 1, 1);
	struct sdk *a = sdk_start("dave", "dave", "t1", 1, 500, "--on-kick=disconnect");
	sdk_expect_status(a, 1, 1, 1, 15000);
	ck_assert_int_eq(sdk_wait_online("dave", 1, 1, 5000), 1);

	sdk_set_token("dave", "t2", 1, 0);
	int pongs = a->pongs;
	ck_assert_msg(SDK_WAIT_FOR(a->pongs >= pongs + 2, 5000), "no PONGs after the slave update%s", sdk_why(a));
	ck_assert_msg(a->nstatus == 1 && a->disconnects == 0, "a slave token update kicked%s", sdk_why(a));

	sdk_set_token("dave", "t3", 1, 1);
	sdk_expect_status(a, 2, 4, 12, 10000);
	ck_assert_msg(a->disconnects == 1 && strncmp(a->disconnect_hex, "90", 2) == 0,
	    "no DISCONNECT packet%s", sdk_why(a));
	ck_assert_int_eq(sdk_wait_online("dave", 1, 0, 5000), 0);
	sdk_stop(a);
	/* The new token is the one that works now. */
	struct sdk *b = sdk_start("dave-t3", "dave", "t3", 1, 500, NULL);
	sdk_expect_status(b, 1, 1, 1, 15000);
	sdk_stop(b);
}
END_TEST

static void
add_tests(TCase *tc)
{
	tcase_add_test(tc, test_sdk_connects_and_heartbeats);
	tcase_add_test(tc, test_sdk_wrong_token_fails_without_reconnect);
	tcase_add_test(tc, test_sdk_second_master_login_kicks_first);
	tcase_add_test(tc, test_sdk_master_token_update_kicks);
}

int
main(void)
{
	return sdk_main("sdk_conn", add_tests);
}
