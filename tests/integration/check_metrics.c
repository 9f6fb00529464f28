/* check_metrics.c - what an operator sees of a running tree (issue 17):
 * GET /metrics read by the Prometheus client library's own text-format
 * parser, its counters moving by exactly the messages sent, restarts after
 * a kill -9; /varz; /connz paging, sorting and uid filter; /conn/kick
 * (DISCONNECT, then closed) and /conn/remove. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include "wk_buf.h"
#include "wk_msg.h"
#include "wkclient.h"
#include "wktest.h"

static struct wkt_tree tree;

static void setup(void) { wkt_tree_start(&tree, "tokenAuthOn: false\n"); }
static void teardown(void) { wkt_tree_stop(&tree); }

/* A scrape parsed by promparse.py: "name\tlabels\tvalue" lines. */
static char *
scrape(void)
{
	char url[128], path[512], *body = NULL, *out = NULL;
	FILE *f;
	int rc;

	snprintf(url, sizeof url, "%s/metrics", tree.http);
	ck_assert_int_eq(wkt_http("GET", url, NULL, &body, NULL), 200);
	snprintf(path, sizeof path, "%s/scrape.txt", tree.dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(body, f);
	fclose(f);
	free(body);
	rc = wkt_run(&out, "/usr/bin/python3 %s/tests/integration/promparse.py < %s",
	    WK_TEST_SRCDIR, path);
	ck_assert_msg(rc == 0, "the Prometheus parser refused the scrape: %s", out);
	return out;
}

/* The sum of the samples called name whose labels contain every
 * "k=v" of the comma-separated `want` ("" for all); -1 if there is none. */
static double
metric(const char *parsed, const char *name, const char *want)
{
	double sum = -1;
	char *copy = strdup(parsed), *save = NULL;

	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
		int ok = 1;
		if (t2 == NULL)
			continue;
		*t1 = *t2 = '\0';
		if (strcmp(line, name) != 0)
			continue;
		char labels[1024];
		snprintf(labels, sizeof labels, ",%s,", t1 + 1);
		char w[256], *ws = NULL;
		snprintf(w, sizeof w, "%s", want);
		for (char *k = strtok_r(w, ",", &ws); k; k = strtok_r(NULL, ",", &ws)) {
			char pat[300];
			snprintf(pat, sizeof pat, ",%s,", k);
			ok &= strstr(labels, pat) != NULL;
		}
		if (ok)
			sum = (sum < 0 ? 0 : sum) + strtod(t2 + 1, NULL);
	}
	free(copy);
	return sum;
}

/* Scrape until metric(name, want) == v (the refreshed values lag by up to
 * WK_STATS_REFRESH_MS); the last value read. */
static double
wait_metric(const char *name, const char *want, double v)
{
	uint64_t deadline = wkt_now_ms() + 5000;
	double got;

	for (;;) {
		char *s = scrape();
		got = metric(s, name, want);
		free(s);
		if (got == v || wkt_now_ms() > deadline)
			return got;
		wkt_tick();
	}
}

static struct wkc *
login(const char *uid)
{
	struct wkc *c = wkc_connect_tcp("127.0.0.1", tree.tcp_port);

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(wkc_handshake(c, uid, "", 4, 1, uid, NULL), 1);
	return c;
}

static void
send_acked(struct wkc *c, const char *to, int type, uint32_t cseq)
{
	struct wkproto_packet p;

	ck_assert_int_eq(wkc_send_msg(c, to, type, "hello", "", cseq, 0), 0);
	ck_assert_int_eq(wkc_expect(c, WKPROTO_SENDACK, &p, 5000), 0);
	ck_assert_int_eq(p.sendack.reason_code, 1);
}

/* Seven person messages a -> b and three group messages: the channel
 * shards' counters move by exactly that, the SENDACK histogram by ten, the
 * connections b got them on by the same; the brokers' refreshed counters
 * follow within a refresh. */
START_TEST(test_metrics_counters_exact)
{
	struct wkc *a = login("ma"), *b = login("mb");
	struct wkproto_packet p;
	char *s0, *s1;

	json_decref(wkt_call(&tree, "POST", "/channel",
	    "{\"channel_id\":\"mg\",\"channel_type\":2,\"subscribers\":[\"ma\",\"mb\"]}", 200));
	ck_assert_double_eq(wait_metric("wk_connections", "role=broker", 2), 2);
	s0 = scrape();
	for (uint32_t i = 1; i <= 7; i++)
		send_acked(a, "mb", 1, i);
	for (uint32_t i = 8; i <= 10; i++)
		send_acked(a, "mg", 2, i);
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(wkc_expect(b, WKPROTO_RECV, &p, 5000), 0);
	s1 = scrape();
	ck_assert_double_eq(metric(s1, "wk_messages_in_total", "channel_type=1") -
	    metric(s0, "wk_messages_in_total", "channel_type=1"), 7);
	ck_assert_double_eq(metric(s1, "wk_messages_in_total", "channel_type=2") -
	    metric(s0, "wk_messages_in_total", "channel_type=2"), 3);
	/* b's one connection per message (the sender's own is skipped). */
	ck_assert_double_eq(metric(s1, "wk_messages_out_total", "channel_type=1") -
	    metric(s0, "wk_messages_out_total", "channel_type=1"), 7);
	ck_assert_double_eq(metric(s1, "wk_messages_out_total", "channel_type=2") -
	    metric(s0, "wk_messages_out_total", "channel_type=2"), 3);
	ck_assert_double_eq(metric(s1, "wk_sendack_latency_seconds_count", "role=channel") -
	    metric(s0, "wk_sendack_latency_seconds_count", "role=channel"), 10);
	ck_assert_double_eq(metric(s1, "wk_sendack_latency_seconds_bucket", "le=+Inf") -
	    metric(s0, "wk_sendack_latency_seconds_bucket", "le=+Inf"), 10);
	ck_assert(metric(s1, "wk_commit_latency_seconds_count", "role=channel") >
	    metric(s0, "wk_commit_latency_seconds_count", "role=channel"));
	ck_assert_double_eq(metric(s1, "wk_messages_refused_total", ""), 0);
	/* Refreshed every second by the brokers. */
	ck_assert_double_eq(wait_metric("wk_deliveries_total", "role=broker",
	    metric(s0, "wk_deliveries_total", "role=broker") + 10),
	    metric(s0, "wk_deliveries_total", "role=broker") + 10);
	ck_assert_double_eq(wait_metric("wk_client_sends_total", "role=broker",
	    metric(s0, "wk_client_sends_total", "role=broker") + 10),
	    metric(s0, "wk_client_sends_total", "role=broker") + 10);
	/* The rest is there, per process and shard. */
	ck_assert(metric(s1, "wk_db_cache_size_bytes", "role=channel,instance=1") > 0);
	ck_assert(metric(s1, "wk_db_log_written_bytes_total", "role=channel") > 0);
	ck_assert(metric(s1, "wk_process_resident_memory_bytes", "role=api,instance=0") > 0);
	ck_assert_double_eq(metric(s1, "wk_presence_online", ""), 2);
	ck_assert_double_eq(metric(s1, "wk_presence_slots_used", "role=mailbox"), 2);
	ck_assert(metric(s1, "wk_webhook_queued", "role=hook") >= 0);
	ck_assert(metric(s1, "wk_output_queue_bytes", "role=broker") >= 0);
	ck_assert_double_eq(metric(s1, "wk_process_restarts_total", ""), 0);
	/* Nothing waits for a full peer in a healthy tree. */
	ck_assert_double_eq(metric(s1, "wk_ipc_waiting_bytes", ""), 0);
	ck_assert_double_eq(metric(s1, "wk_ipc_peers_full", ""), 0);
	/* Checkpoints on their own thread, every second by default. */
	double ck;
	uint64_t end = wkt_now_ms() + 5000;
	do {
		char *s = scrape();
		ck = metric(s, "wk_db_checkpoints_total", "role=channel");
		free(s);
	} while (ck < 2 && wkt_now_ms() < end && (wkt_tick(), 1));
	ck_assert(ck >= 2);
	ck_assert(metric(s1, "wk_db_checkpoint_max_seconds", "role=channel") >= 0);
	free(s0);
	free(s1);
	wkc_close(a);
	wkc_close(b);
}
END_TEST

/* A child killed is counted as a restart of that child only. */
START_TEST(test_metrics_restarts)
{
	char *s;

	wkt_tree_kill9(&tree, "channel", 1);
	ck_assert_double_eq(wait_metric("wk_process_restarts_total", "role=channel,instance=1", 1), 1);
	s = scrape();
	ck_assert_double_eq(metric(s, "wk_process_restarts_total", ""), 1);
	free(s);
}
END_TEST

/* Admin routes: the same token rules as the others (here: loopback, no
 * managerToken: open; a managerToken makes them 401 without it). */
START_TEST(test_metrics_varz)
{
	struct wkc *a = login("va");
	json_t *v;

	ck_assert_double_eq(wait_metric("wk_connections", "role=broker", 1), 1);
	v = wkt_call(&tree, "GET", "/varz", NULL, 200);
	ck_assert_int_eq(json_integer_value(json_object_get(v, "connections")), 1);
	ck_assert_str_eq(json_string_value(json_object_get(v, "server_name")), "wk");
	ck_assert_int_eq(json_integer_value(json_object_get(v, "goroutine")), WKT_NPROCS - 1);
	ck_assert(json_integer_value(json_object_get(v, "mem")) > 0);
	ck_assert(json_is_string(json_object_get(v, "uptime")));
	ck_assert(json_is_string(json_object_get(v, "tcp_addr")));
	ck_assert_ptr_null(json_object_get(v, "conns"));
	json_decref(v);
	v = wkt_call(&tree, "GET", "/varz?show=conn&conn_limit=5", NULL, 200);
	ck_assert_int_eq(json_array_size(json_object_get(v, "conns")), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(v,
	    "conns"), 0), "uid")), "va");
	json_decref(v);
	wkc_close(a);
}
END_TEST

static const char *
row_uid(json_t *connz, size_t i)
{
	return json_string_value(json_object_get(json_array_get(json_object_get(connz,
	    "connections"), i), "uid"));
}

/* Five users, user i having sent i messages, over both brokers: pages of
 * two in each order, the uid filter, and the reference's fields. */
START_TEST(test_connz_paging_sorting)
{
	struct wkc *c[5];
	char uid[16];
	json_t *z, *row;

	for (int i = 0; i < 5; i++) {
		snprintf(uid, sizeof uid, "cz%d", i + 1);
		c[i] = login(uid);
		for (int k = 1; k <= i + 1; k++)
			send_acked(c[i], "nobody", 1, (uint32_t)k);
	}
	z = wkt_call(&tree, "GET", "/connz?sort=inMsgDesc&offset=0&limit=2", NULL, 200);
	ck_assert_int_eq(json_integer_value(json_object_get(z, "total")), 5);
	ck_assert_int_eq(json_integer_value(json_object_get(z, "offset")), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(z, "limit")), 2);
	ck_assert(json_is_string(json_object_get(z, "now")));
	ck_assert_int_eq(json_array_size(json_object_get(z, "connections")), 2);
	ck_assert_str_eq(row_uid(z, 0), "cz5");
	ck_assert_str_eq(row_uid(z, 1), "cz4");
	row = json_array_get(json_object_get(z, "connections"), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(row, "in_msgs")), 5);
	ck_assert_int_eq(json_integer_value(json_object_get(row, "out_msgs")), 0);
	ck_assert(json_integer_value(json_object_get(row, "in_packets")) >= 6);  /* CONNECT + 5 */
	ck_assert(json_integer_value(json_object_get(row, "out_packet_bytes")) > 0);
	ck_assert_str_eq(json_string_value(json_object_get(row, "ip")), "127.0.0.1");
	ck_assert(json_integer_value(json_object_get(row, "port")) > 0);
	ck_assert_str_eq(json_string_value(json_object_get(row, "device")), "Web(从)");  /* no token: a slave device */
	ck_assert_str_eq(json_string_value(json_object_get(row, "device_id")), "cz5");
	ck_assert_int_eq(json_integer_value(json_object_get(row, "version")), 4);
	ck_assert(json_integer_value(json_object_get(row, "id")) > 0);
	json_decref(z);
	z = wkt_call(&tree, "GET", "/connz?sort=inMsgDesc&offset=2&limit=2", NULL, 200);
	ck_assert_int_eq(json_array_size(json_object_get(z, "connections")), 2);
	ck_assert_str_eq(row_uid(z, 0), "cz3");
	ck_assert_str_eq(row_uid(z, 1), "cz2");
	json_decref(z);
	z = wkt_call(&tree, "GET", "/connz?sort=inMsgDesc&offset=4&limit=2", NULL, 200);
	ck_assert_int_eq(json_array_size(json_object_get(z, "connections")), 1);
	ck_assert_str_eq(row_uid(z, 0), "cz1");
	json_decref(z);
	z = wkt_call(&tree, "GET", "/connz?sort=inMsg", NULL, 200);
	ck_assert_int_eq(json_integer_value(json_object_get(z, "limit")), 20);
	ck_assert_int_eq(json_array_size(json_object_get(z, "connections")), 5);
	for (int i = 0; i < 5; i++) {
		snprintf(uid, sizeof uid, "cz%d", i + 1);
		ck_assert_str_eq(row_uid(z, (size_t)i), uid);
	}
	json_decref(z);
	z = wkt_call(&tree, "GET", "/connz?uid=z3", NULL, 200);
	ck_assert_int_eq(json_array_size(json_object_get(z, "connections")), 1);
	ck_assert_str_eq(row_uid(z, 0), "cz3");
	ck_assert_int_eq(json_integer_value(json_object_get(z, "total")), 5);
	json_decref(z);
	z = wkt_call(&tree, "GET", "/connz?offset=99", NULL, 200);
	ck_assert_int_eq(json_array_size(json_object_get(z, "connections")), 0);
	json_decref(z);
	for (int i = 0; i < 5; i++)
		wkc_close(c[i]);
}
END_TEST

/* The id /connz shows for uid's one connection. */
static long long
conn_id(const char *uid)
{
	char path[64];
	json_t *z;
	long long id;

	snprintf(path, sizeof path, "/connz?uid=%s", uid);
	z = wkt_call(&tree, "GET", path, NULL, 200);
	ck_assert_int_eq(json_array_size(json_object_get(z, "connections")), 1);
	id = json_integer_value(json_object_get(json_array_get(json_object_get(z,
	    "connections"), 0), "id"));
	json_decref(z);
	return id;
}

/* kick: DISCONNECT ConnectKick (12) "server kick", then closed (the
 * reference waits 2 s); remove: closed at once, nothing said; a wrong uid
 * or an unknown id closes nothing and is still OK; conn_id 0 is 400. */
START_TEST(test_conn_kick_and_remove)
{
	struct wkc *k = login("kk"), *r = login("rr"), *o = login("oo");
	char body[128];
	int reason = 0;
	uint64_t t0;

	snprintf(body, sizeof body, "{\"uid\":\"someoneelse\",\"conn_id\":%lld}", conn_id("oo"));
	wkt_expect(&tree, "POST", "/conn/kick", body, 200, "{\"status\":200}");
	wkt_expect(&tree, "POST", "/conn/remove", "{\"conn_id\":12345}", 200, "{\"status\":200}");
	wkt_expect_400(&tree, "POST", "/conn/kick", "{\"uid\":\"kk\",\"conn_id\":0}", "conn_id is 0");
	wkt_expect_400(&tree, "POST", "/conn/remove", "{\"uid\":\"kk\"}", "conn_id is 0");

	snprintf(body, sizeof body, "{\"uid\":\"kk\",\"conn_id\":%lld}", conn_id("kk"));
	t0 = wkt_now_ms();
	wkt_expect(&tree, "POST", "/conn/kick", body, 200, "{\"status\":200}");
	ck_assert_int_eq(wkc_wait_closed(k, 5000, &reason), 0);
	ck_assert_int_eq(reason, 12);
	ck_assert_msg(wkt_now_ms() - t0 >= 1500, "closed %llu ms after the kick",
	    (unsigned long long)(wkt_now_ms() - t0));

	snprintf(body, sizeof body, "{\"conn_id\":%lld}", conn_id("rr"));
	wkt_expect(&tree, "POST", "/conn/remove", body, 200, "{\"status\":200}");
	ck_assert_int_eq(wkc_wait_closed(r, 5000, &reason), 0);
	ck_assert_int_eq(reason, -1);
	ck_assert_int_eq(wkt_wait_online(&tree, "rr", -1, 0, 5000), 0);
	ck_assert_int_eq(wkt_online_count(&tree, "oo", -1), 1);   /* untouched */
	wkc_close(k);
	wkc_close(r);
	wkc_close(o);
}
END_TEST

/* With a managerToken, the operator's routes need it as the others do. */
START_TEST(test_metrics_need_the_token)
{
	char url[128], *body = NULL;
	const char *hdr[] = { "token: s3cret", NULL };
	const char *paths[] = { "/metrics", "/varz", "/connz" };

	for (size_t i = 0; i < 3; i++) {
		snprintf(url, sizeof url, "%s%s", tree.http, paths[i]);
		ck_assert_int_eq(wkt_http("GET", url, NULL, &body, NULL), 401);
		free(body);
		ck_assert_int_eq(wkt_http("GET", url, NULL, &body, hdr), 200);
		free(body);
	}
	snprintf(url, sizeof url, "%s/conn/kick", tree.http);
	ck_assert_int_eq(wkt_http("POST", url, "{\"conn_id\":1}", &body, NULL), 401);
	free(body);
}
END_TEST

/* BROKER_CONN_LIST and BROKER_CONN_CLOSE spoken directly, as a tool:
 * every malformed payload is answered 400 and the broker lives on; a good
 * one is answered as wk-api expects. */
START_TEST(test_broker_ops_malformed)
{
	enum { EMPTY, SHORT, TRAILING, BAD_SORT, HUGE_STR };
	static const struct { const char *what; int type, how; } bad[] = {
		{ "list: empty", WK_MSG_BROKER_CONN_LIST, EMPTY },
		{ "list: no max", WK_MSG_BROKER_CONN_LIST, SHORT },
		{ "list: trailing byte", WK_MSG_BROKER_CONN_LIST, TRAILING },
		{ "list: sort 13", WK_MSG_BROKER_CONN_LIST, BAD_SORT },
		{ "list: uid length 65535, no bytes", WK_MSG_BROKER_CONN_LIST, HUGE_STR },
		{ "close: empty", WK_MSG_BROKER_CONN_CLOSE, EMPTY },
		{ "close: no kick byte", WK_MSG_BROKER_CONN_CLOSE, SHORT },
		{ "close: trailing byte", WK_MSG_BROKER_CONN_CLOSE, TRAILING },
		{ "close: uid length 65535, no bytes", WK_MSG_BROKER_CONN_CLOSE, HUGE_STR },
	};
	struct wkt_shard_link *l = wkt_shard_link_new(&tree);
	int pid = wkt_tree_pid(&tree, "broker", 0);
	struct wkc *c = login("bo");
	uint8_t *a = NULL;
	size_t len;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct wk_wbuf b;
		int list = bad[i].type == WK_MSG_BROKER_CONN_LIST;
		wk_wbuf_init(&b);
		if (bad[i].how == HUGE_STR) {
			if (!list)
				wk_put_u64(&b, 1);
			wk_put_u16(&b, 65535);
		} else if (bad[i].how != EMPTY) {
			if (list) {
				wk_put_str(&b, "");
				wk_put_u8(&b, bad[i].how == BAD_SORT ? 13 : 0);
				wk_put_u8(&b, 0);
				if (bad[i].how != SHORT)
					wk_put_u32(&b, 10);
			} else {
				wk_put_u64(&b, 1);
				wk_put_str(&b, "");
				if (bad[i].how != SHORT)
					wk_put_u8(&b, 0);
			}
			if (bad[i].how == TRAILING)
				wk_put_u8(&b, 7);
		}
		ck_assert_msg(wkt_shard_ask(l, "broker", 0, bad[i].type, b.p, b.len, &a, &len) == 400,
		    "%s: not answered 400", bad[i].what);
		free(a);
		a = NULL;
		wk_wbuf_free(&b);
	}
	/* Still the same process, and it answers a good list. */
	struct wk_wbuf b;
	wk_wbuf_init(&b);
	wk_put_str(&b, "");
	wk_put_u8(&b, 0);
	wk_put_u8(&b, 0);
	wk_put_u32(&b, 10);
	ck_assert_int_eq(wkt_shard_ask(l, "broker", 0, WK_MSG_BROKER_CONN_LIST, b.p, b.len, &a,
	    &len), 200);
	ck_assert(len >= 12);
	wk_wbuf_free(&b);
	free(a);
	ck_assert_int_eq(wkt_tree_pid(&tree, "broker", 0), pid);
	wkt_shard_link_destroy(&l);
	wkc_close(c);
}
END_TEST

static void setup_token(void) { wkt_tree_start(&tree, "tokenAuthOn: false\nmanagerToken: s3cret\n"); }

int
main(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("metrics");
	TCase *tt = tcase_create("token");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_metrics_counters_exact);
	tcase_add_test(tc, test_metrics_restarts);
	tcase_add_test(tc, test_metrics_varz);
	tcase_add_test(tc, test_connz_paging_sorting);
	tcase_add_test(tc, test_conn_kick_and_remove);
	tcase_add_test(tc, test_broker_ops_malformed);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(tt, setup_token, teardown);
	tcase_set_timeout(tt, 60);
	tcase_add_test(tt, test_metrics_need_the_token);
	suite_add_tcase(s, tt);
	return wkt_run_suite(s);
}
