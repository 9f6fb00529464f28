/* check_beforesend.c - the msg.before_send hook (wk-channel(8),
 * webhook.beforeSend* keys in wk.yaml(5)) against the real tree and a real
 * HTTP receiver on loopback (wkrx, libmicrohttpd in the test process).
 * The receiver answers by the message's text: "allow..." allow,
 * "reject..." reject with reason 77, "rewrite..." a new payload, "slow..."
 * only after the timeout, "bad..." with something that is not JSON.
 * Shown, for client SENDs and for /message/send: an allowed message is
 * stored and delivered as sent; a rejected one gets reason 77 in its
 * SENDACK (or the HTTP answer) and nothing is stored; a rewritten one is
 * stored and delivered with the new payload; a slow or malformed answer
 * stores the message with failOpen true and refuses it (15) with false;
 * the receiver sees each message once as the reference's MessageResp. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include "wk_crypto.h"
#include "wkclient.h"
#include "wkrx.h"
#include "wktest.h"

#define REJECT_REASON 77
#define TIMEOUT_MS 300

static struct wkt_tree tree;

static struct {
	struct wkrx *srv;
	pthread_mutex_t mu;
	json_t *seen;                /* every request's body, in order */
	char sig[128];               /* the last X-WK-Signature */
	int busy;                    /* answering a "slow" message */
} rx = { .mu = PTHREAD_MUTEX_INITIALIZER };

/* The receiver: a verdict by the text of the message. */
static unsigned
rx_decide(void *arg, const char *method, const char *event, const char *ctype, const char *body,
    size_t len)
{
	json_t *j = json_loadb(body, len, 0, NULL);
	const char *b64 = json_string_value(json_object_get(j, "payload"));
	char text[256] = "", out[512];
	ssize_t n = b64 ? wk_b64_decode(b64, strlen(b64), (uint8_t *)text, sizeof text - 1) : -1;
	const char *sig = wkrx_header("X-WK-Signature");

	text[n > 0 ? n : 0] = '\0';
	pthread_mutex_lock(&rx.mu);
	json_array_append(rx.seen, j ? j : json_null());
	snprintf(rx.sig, sizeof rx.sig, "%s", sig ? sig : "");
	pthread_mutex_unlock(&rx.mu);
	json_decref(j);
	if (strncmp(text, "reject", 6) == 0)
		wkrx_reply("{\"action\":\"reject\",\"reason\":77}");
	else if (strncmp(text, "rewrite", 7) == 0) {
		char b[256];
		snprintf(out, sizeof out, "clean: %s", text);
		b[wk_b64_encode(out, strlen(out), b)] = '\0';
		snprintf(out, sizeof out, "{\"action\":\"rewrite\",\"payload\":\"%s\"}", b);
		wkrx_reply(out);
	} else if (strncmp(text, "bad", 3) == 0)
		wkrx_reply("{\"action\":");
	else {
		if (strncmp(text, "slow", 4) == 0) {
			__atomic_add_fetch(&rx.busy, 1, __ATOMIC_SEQ_CST);
			usleep(3 * TIMEOUT_MS * 1000);
			__atomic_sub_fetch(&rx.busy, 1, __ATOMIC_SEQ_CST);
		}
		wkrx_reply("{\"action\":\"allow\"}");
	}
	return 200;
}

/* A tree asking the receiver, failing open or closed; users a and b with
 * tokens, group g1 of both. */
static void
start(int fail_open)
{
	char cfg[1024];

	rx.seen = json_array();
	rx.srv = wkrx_start(0, rx_decide, NULL);
	ck_assert_ptr_nonnull(rx.srv);
	snprintf(cfg, sizeof cfg, "webhook:\n  secret: s3cret\n"
	    "  beforeSendUrl: http://127.0.0.1:%d/moderate\n  beforeSendTimeout: %dms\n"
	    "  beforeSendFailOpen: %s\n",
	    wkrx_port(rx.srv), TIMEOUT_MS, fail_open ? "true" : "false");
	wkt_tree_start(&tree, cfg);
	wkt_set_token(&tree, "a", "ta", 1, 1);
	wkt_set_token(&tree, "b", "tb", 1, 1);
	wkt_post_ok(&tree, "/channel", "{\"channel_id\":\"g1\",\"channel_type\":2,"
	    "\"subscribers\":[\"a\",\"b\"]}");
}

static void
teardown(void)
{
	wkt_tree_stop(&tree);
	wkrx_stop(&rx.srv);
	json_decref(rx.seen);
}

static struct wkc *
login(const char *uid, const char *token)
{
	struct wkc *c = wkc_connect_tcp("127.0.0.1", tree.tcp_port);
	char dev[32];

	ck_assert_ptr_nonnull(c);
	snprintf(dev, sizeof dev, "%s-dev", uid);
	ck_assert_int_eq(wkc_handshake(c, uid, token, 5, 1, dev, NULL), 1);
	return c;
}

/* SEND text to g1; the SENDACK's reason (its seq in *seq). */
static int
send_text(struct wkc *c, const char *text, uint32_t *seq)
{
	static uint32_t client_seq;
	struct wkproto_packet pk;
	char cmn[32];

	snprintf(cmn, sizeof cmn, "cmn-%u", ++client_seq);
	ck_assert_int_eq(wkc_send_msg(c, "g1", 2, text, cmn, client_seq, 0), 0);
	ck_assert_int_eq(wkc_expect(c, WKPROTO_SENDACK, &pk, 5000), 0);
	if (seq)
		*seq = pk.sendack.message_seq;
	return pk.sendack.reason_code;
}

/* The next RECV's text. */
static void
expect_recv(struct wkc *c, const char *want)
{
	struct wkproto_packet pk;
	char text[256];

	ck_assert_int_eq(wkc_expect(c, WKPROTO_RECV, &pk, 5000), 0);
	ck_assert_int_ge(wkc_open_recv(c, &pk.recv, text, sizeof text), 0);
	ck_assert_str_eq(text, want);
	wkc_recvack(c, &pk);
}

/* g1's stored messages' texts, oldest first, joined with "|". */
static char *
stored(void)
{
	json_t *j = wkt_call(&tree, "POST", "/channel/messagesync", "{\"login_uid\":\"a\","
	    "\"channel_id\":\"g1\",\"channel_type\":2,\"start_message_seq\":0,"
	    "\"end_message_seq\":0,\"limit\":100,\"pull_mode\":1}", 200), *m;
	char *out = calloc(1, 4096), text[256];
	size_t i;

	json_array_foreach(json_object_get(j, "messages"), i, m) {
		const char *b64 = json_string_value(json_object_get(m, "payload"));
		ssize_t n = wk_b64_decode(b64, strlen(b64), (uint8_t *)text, sizeof text - 1);
		ck_assert_int_ge(n, 0);
		text[n] = '\0';
		if (i)
			strcat(out, "|");
		strcat(out, text);
	}
	json_decref(j);
	return out;
}

/* POST /message/send of text to g1 from a: the answer's reason_code. */
static int
api_send(const char *text)
{
	char b64[256], body[512];
	json_t *j;
	int reason;

	b64[wk_b64_encode(text, strlen(text), b64)] = '\0';
	snprintf(body, sizeof body, "{\"header\":{\"red_dot\":1},\"from_uid\":\"a\","
	    "\"channel_id\":\"g1\",\"channel_type\":2,\"payload\":\"%s\"}", b64);
	j = wkt_call(&tree, "POST", "/message/send", body, 200);
	reason = (int)json_integer_value(json_object_get(json_object_get(j, "data"),
	    "reason_code"));
	json_decref(j);
	return reason;
}

/* The receiver answers one request at a time: wait until it is done
 * sleeping over a "slow" one before sending what must be answered. */
static void
wait_idle(void)
{
	uint64_t end = wkt_now_ms() + 10000;

	while (__atomic_load_n(&rx.busy, __ATOMIC_SEQ_CST) && wkt_now_ms() < end)
		wkt_tick();
	ck_assert_int_eq(__atomic_load_n(&rx.busy, __ATOMIC_SEQ_CST), 0);
}

static size_t
seen_count(void)
{
	pthread_mutex_lock(&rx.mu);
	size_t n = json_array_size(rx.seen);
	pthread_mutex_unlock(&rx.mu);
	return n;
}

START_TEST(test_beforesend_allow_reject_rewrite)
{
	start(1);
	struct wkc *a = login("a", "ta"), *b = login("b", "tb");
	uint32_t seq;
	char *s;

	ck_assert_int_eq(send_text(a, "allow one", &seq), 1);
	ck_assert_uint_eq(seq, 1);
	expect_recv(b, "allow one");
	ck_assert_int_eq(send_text(a, "reject two", &seq), REJECT_REASON);
	ck_assert_uint_eq(seq, 0);
	ck_assert_int_eq(send_text(a, "rewrite three", &seq), 1);
	ck_assert_uint_eq(seq, 2);
	expect_recv(b, "clean: rewrite three");   /* nothing of "reject two" came first */
	/* The same through the HTTP API. */
	ck_assert_int_eq(api_send("reject four"), REJECT_REASON);
	ck_assert_int_eq(api_send("rewrite five"), 1);
	expect_recv(b, "clean: rewrite five");
	ck_assert_int_eq(api_send("allow six"), 1);
	expect_recv(b, "allow six");
	s = stored();
	ck_assert_str_eq(s, "allow one|clean: rewrite three|clean: rewrite five|allow six");
	free(s);
	/* What the receiver saw: each message once, as a MessageResp, signed. */
	ck_assert_uint_eq(seen_count(), 6);
	pthread_mutex_lock(&rx.mu);
	json_t *first = json_array_get(rx.seen, 0);
	ck_assert_str_eq(json_string_value(json_object_get(first, "from_uid")), "a");
	ck_assert_str_eq(json_string_value(json_object_get(first, "channel_id")), "g1");
	ck_assert_int_eq(json_integer_value(json_object_get(first, "channel_type")), 2);
	ck_assert_str_eq(json_string_value(json_object_get(first, "client_msg_no")), "cmn-1");
	ck_assert_int_eq(json_integer_value(json_object_get(first, "message_seq")), 0);
	ck_assert_int_gt(json_integer_value(json_object_get(first, "message_id")), 0);
	ck_assert_int_eq(strncmp(rx.sig, "sha256=", 7), 0);
	pthread_mutex_unlock(&rx.mu);
	ck_assert_int_eq(wkt_status_sum(tree.run, "channel", "bs_rejected"), 2);
	ck_assert_int_eq(wkt_status_sum(tree.run, "channel", "bs_rewritten"), 2);
	wkc_close(a);
	wkc_close(b);
	teardown();
}
END_TEST

/* No answer in time, or a malformed one: failOpen true stores, false
 * refuses with 15 and stores nothing. */
static void
no_verdict(int fail_open)
{
	int want = fail_open ? 1 : 15;

	start(fail_open);
	struct wkc *a = login("a", "ta");
	char *s;

	ck_assert_int_eq(send_text(a, "slow one", NULL), want);
	wait_idle();
	ck_assert_int_eq(send_text(a, "bad two", NULL), want);
	ck_assert_int_eq(api_send("bad three"), want);
	ck_assert_int_eq(send_text(a, "allow four", NULL), 1);
	s = stored();
	ck_assert_str_eq(s, fail_open ? "slow one|bad two|bad three|allow four" : "allow four");
	free(s);
	ck_assert_int_eq(wkt_status_sum(tree.run, "channel", "bs_failed"), 3);
	wkc_close(a);
	teardown();
}

START_TEST(test_beforesend_fail_open)
{
	no_verdict(1);
}
END_TEST

START_TEST(test_beforesend_fail_closed)
{
	no_verdict(0);
}
END_TEST

/* Messages of one channel keep their order even when the earlier one's
 * answer is the slow one (the later one waits behind it at the receiver
 * too): sent without waiting, acked and stored in order. */
START_TEST(test_beforesend_order)
{
	start(1);
	struct wkc *a = login("a", "ta");
	struct wkproto_packet pk;
	char *s;

	ck_assert_int_eq(wkc_send_msg(a, "g1", 2, "slow one", "o1", 1, 0), 0);
	ck_assert_int_eq(wkc_send_msg(a, "g1", 2, "allow two", "o2", 2, 0), 0);
	for (uint32_t i = 1; i <= 2; i++) {
		ck_assert_int_eq(wkc_expect(a, WKPROTO_SENDACK, &pk, 5000), 0);
		ck_assert_uint_eq(pk.sendack.client_seq, i);
		ck_assert_uint_eq(pk.sendack.message_seq, i);
	}
	s = stored();
	ck_assert_str_eq(s, "slow one|allow two");
	free(s);
	wkc_close(a);
	teardown();
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("beforesend");
	TCase *tc = tcase_create("beforesend");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_beforesend_allow_reject_rewrite);
	tcase_add_test(tc, test_beforesend_fail_open);
	tcase_add_test(tc, test_beforesend_fail_closed);
	tcase_add_test(tc, test_beforesend_order);
	suite_add_tcase(s, tc);
	return wkt_run_suite(s);
}
