/* check_apicompat.c - the reference's routes and answers that business
 * servers depend on, against the real tree: the system-uid cache routes,
 * /tmpchannel/subscriber_set, /conversation/syncMessages, the routes wk
 * answers as "not supported", /user/token for a disbanded user, setUnread
 * on a conversation without a row, the 400s of syncByChannels, and /route
 * advertising the address the client reached.  See wk-api(8). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <jansson.h>
#include "wkclient.h"
#include "wkproto.h"
#include "wktest.h"

static struct wkt_tree tree;

static void setup(void) { wkt_tree_start(&tree, "tokenAuthOn: false\n"); }
static void teardown(void) { wkt_tree_stop(&tree); }

static int
has_uid(const char *uid)
{
	json_t *l = wkt_call(&tree, "GET", "/user/systemuids", NULL, 200), *v;
	size_t i;
	int found = 0;

	json_array_foreach(l, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), uid) == 0)
			found = 1;
	json_decref(l);
	return found;
}

/* The cache routes change the same set as systemuids_add/remove. */
START_TEST(test_apicompat_systemuids_cache)
{
	ck_assert(!has_uid("sys1"));
	wkt_post_ok(&tree, "/user/systemuids_add_to_cache", "{\"uids\":[\"sys1\"]}");
	ck_assert(has_uid("sys1"));
	wkt_post_ok(&tree, "/user/systemuids_remove_from_cache", "{\"uids\":[\"sys1\"]}");
	ck_assert(!has_uid("sys1"));
	wkt_post_ok(&tree, "/user/systemuids_add_to_cache", "{\"uids\":[]}");
	wkt_expect_400(&tree, "POST", "/user/systemuids_add_to_cache", "{\"uids\":1}",
	    "json: cannot unmarshal number 1 into Go struct field struct { UIDs []string }.uids of type []string");
}
END_TEST

/* A temporary channel's members are set, and a send there reaches them. */
START_TEST(test_apicompat_tmpchannel)
{
	struct wkc *a = wkc_login("127.0.0.1", tree.tcp_port, "tm1", "d", 5);
	struct wkc *b = wkc_login("127.0.0.1", tree.tcp_port, "tm2", "d", 5);
	struct wkproto_packet p;
	char text[64];

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	wkt_expect_400(&tree, "POST", "/tmpchannel/subscriber_set", "{\"uids\":[\"x\"]}",
	    "channel_id不能为空！");
	wkt_expect_400(&tree, "POST", "/tmpchannel/subscriber_set",
	    "{\"channel_id\":\"a@b\",\"uids\":[\"x\"]}", "频道ID不能包含特殊字符！");
	wkt_expect_400(&tree, "POST", "/tmpchannel/subscriber_set", "{\"channel_id\":\"t1\"}",
	    "uids不能为空！");
	wkt_post_ok(&tree, "/tmpchannel/subscriber_set",
	    "{\"channel_id\":\"t1\",\"uids\":[\"tm2\",\"tm1\"]}");
	wkt_post_ok(&tree, "/tmpchannel/subscriber_set", "{\"channel_id\":\"t1\",\"uids\":[\"tm1\"]}");
	wkt_send_text(&tree, "", "t1", 8, "to-temp", NULL, NULL, NULL);
	ck_assert_int_eq(wkc_expect(a, WKPROTO_RECV, &p, 5000), 0);
	ck_assert(wkc_open_recv(a, &p.recv, text, sizeof text) >= 0);
	ck_assert_int_eq(p.recv.channel_type, 8);
	/* tm2 was set, then replaced. */
	ck_assert_int_eq(wkc_expect(b, WKPROTO_RECV, &p, 500), -1);
	wkc_close(a);
	wkc_close(b);
}
END_TEST

static json_int_t
seq_at(json_t *item, size_t i)
{
	json_t *m = json_array_get(json_object_get(item, "messages"), i);

	ck_assert_ptr_nonnull(m);
	return json_integer_value(json_object_get(m, "message_seq"));
}

/* /conversation/syncMessages by stored ids, both orders. */
START_TEST(test_apicompat_sync_messages)
{
	json_t *l, *it;

	wkt_post_ok(&tree, "/channel", "{\"channel_id\":\"sm\",\"channel_type\":2,"
	    "\"subscribers\":[\"u1\",\"u2\"]}");
	for (int i = 0; i < 4; i++)
		wkt_send_text(&tree, i == 2 ? "u1" : "u2", "sm", 2, "m", NULL, NULL, NULL);
	l = wkt_call(&tree, "POST", "/conversation/syncMessages", "{\"uid\":\"u1\",\"channels\":"
	    "[{\"channel_id\":\"sm\",\"channel_type\":2,\"last_msg_seq\":2}],\"msg_count\":2}", 200);
	ck_assert_uint_eq(json_array_size(l), 1);
	it = json_array_get(l, 0);
	ck_assert_str_eq(json_string_value(json_object_get(it, "channel_id")), "sm");
	ck_assert_int_eq(json_integer_value(json_object_get(it, "channel_type")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(it, "user_last_msg_seq")), 3);
	ck_assert_uint_eq(json_array_size(json_object_get(it, "messages")), 2);
	ck_assert_int_eq(seq_at(it, 0), 2);
	ck_assert_int_eq(seq_at(it, 1), 3);
	json_decref(l);
	/* Newest first, and a channel with nothing in it. */
	l = wkt_call(&tree, "POST", "/conversation/syncMessages", "{\"uid\":\"u1\",\"channels\":"
	    "[{\"channel_id\":\"sm\",\"channel_type\":2},{\"channel_id\":\"none\",\"channel_type\":2}],"
	    "\"msg_count\":3,\"order_by_last\":1}", 200);
	ck_assert_uint_eq(json_array_size(l), 2);
	it = json_array_get(l, 0);
	ck_assert_uint_eq(json_array_size(json_object_get(it, "messages")), 3);
	ck_assert_int_eq(seq_at(it, 0), 4);
	ck_assert_int_eq(seq_at(it, 2), 2);
	it = json_array_get(l, 1);
	ck_assert_uint_eq(json_array_size(json_object_get(it, "messages")), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(it, "user_last_msg_seq")), 0);
	json_decref(l);
	wkt_expect(&tree, "POST", "/conversation/syncMessages", "{\"uid\":\"u1\"}", 200, "[]");
	wkt_expect_400(&tree, "POST", "/conversation/syncMessages", "{\"channels\":1}",
	    "数据格式有误！");
	wkt_expect_400(&tree, "POST", "/conversation/syncMessages",
	    "{\"channels\":[{\"channel_type\":\"2\"}]}", "数据格式有误！");
}
END_TEST

/* Each kind of route wk does not have answers the reference's error
 * envelope with why; the documentation routes as the reference in release
 * mode; stress routes are absent, as in the reference without stress. */
START_TEST(test_apicompat_unsupported)
{
	static const struct { const char *method, *path; } rows[] = {
		{ "GET", "/cluster/nodes" }, { "POST", "/cluster/slots/1/migrate" },
		{ "GET", "/cluster/channels/g/2/replicas" }, { "GET", "/varz/setting" },
		{ "POST", "/manager/login" }, { "GET", "/tags" },
		{ "GET", "/tag" }, { "POST", "/tag/remove" }, { "GET", "/plugins" },
		{ "POST", "/plugins/ai/chat" }, { "GET", "/plugin/bind" }, { "POST", "/plugin/uninstall" },
		{ "POST", "/pluginconfig/ai" }, { "POST", "/user/update_plugin_no" },
		{ "GET", "/metrics/app" }, { "GET", "/migrate/result" },
	};
	char *body;
	json_t *j;

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		j = wkt_call(&tree, rows[i].method, rows[i].path, "{}", 400);
		ck_assert_int_eq(json_integer_value(json_object_get(j, "status")), 400);
		ck_assert_msg(strncmp(json_string_value(json_object_get(j, "msg")), "not supported: ", 15) == 0,
		    "%s %s", rows[i].method, rows[i].path);
		json_decref(j);
	}
	j = wkt_call(&tree, "GET", "/docs", NULL, 403);
	ck_assert_str_eq(json_string_value(json_object_get(j, "error")),
	    "Documentation endpoints are disabled in release mode");
	json_decref(j);
	j = wkt_call(&tree, "GET", "/docs/health", NULL, 200);
	ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "disabled");
	json_decref(j);
	body = NULL;
	{
		char url[128];
		snprintf(url, sizeof url, "http://127.0.0.1:%d/stress/add", tree.http_port);
		ck_assert_int_eq(wkt_http("POST", url, "{}", &body, NULL), 404);
		free(body);
		snprintf(url, sizeof url, "http://127.0.0.1:%d/clusterx", tree.http_port);
		ck_assert_int_eq(wkt_http("GET", url, NULL, &body, NULL), 404);
		free(body);
	}
}
END_TEST

/* /user/token answers a disbanded user's status as the reference does. */
START_TEST(test_apicompat_token_disbanded)
{
	wkt_set_token(&tree, "du", "t", 1, 1);
	wkt_post_ok(&tree, "/channel/info", "{\"channel_id\":\"du\",\"channel_type\":1,\"disband\":1}");
	wkt_expect(&tree, "POST", "/user/token", "{\"uid\":\"du\",\"token\":\"t2\"}", 200,
	    "{\"status\":24}");
	wkt_post_ok(&tree, "/channel/info", "{\"channel_id\":\"du\",\"channel_type\":1,\"ban\":1,\"disband\":1}");
	wkt_expect(&tree, "POST", "/user/token", "{\"uid\":\"du\",\"token\":\"t2\"}", 200,
	    "{\"status\":19}");
	wkt_post_ok(&tree, "/channel/info", "{\"channel_id\":\"du\",\"channel_type\":1}");
	wkt_set_token(&tree, "du", "t3", 1, 1);
}
END_TEST

/* setUnread makes the row it has none of (/conversation/channels lists
 * it); syncByChannels needs channels. */
START_TEST(test_apicompat_conversations)
{
	wkt_post_ok(&tree, "/channel", "{\"channel_id\":\"g1\",\"channel_type\":2,"
	    "\"subscribers\":[\"m1\"]}");
	wkt_send_text(&tree, "m1", "g1", 2, "a", NULL, NULL, NULL);
	wkt_expect(&tree, "POST", "/conversation/channels", "{\"uid\":\"n1\"}", 200, "[]");
	wkt_post_ok(&tree, "/conversations/setUnread",
	    "{\"uid\":\"n1\",\"channel_id\":\"g1\",\"channel_type\":2,\"unread\":1}");
	wkt_post_ok(&tree, "/conversations/setUnread",
	    "{\"uid\":\"n1\",\"channel_id\":\"n2\",\"channel_type\":1,\"unread\":0}");
	wkt_expect(&tree, "POST", "/conversation/channels", "{\"uid\":\"n1\"}", 200,
	    "[{\"channel_id\":\"n1@n2\",\"channel_type\":1},{\"channel_id\":\"g1\",\"channel_type\":2}]");
	wkt_expect_400(&tree, "POST", "/conversation/syncByChannels",
	    "{\"uid\":\"n1\",\"channels\":[]}", "channels cannot be empty");
	wkt_expect_400(&tree, "POST", "/conversation/syncByChannels", "{\"uid\":\"n1\"}",
	    "channels cannot be empty");
}
END_TEST

/* A raw HTTP/1.0 request without a Host header: the body of the answer. */
static char *
raw_get(const char *path)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)tree.http_port) };
	char req[256], *out = calloc(1, 8192), *body;
	size_t n = 0;
	ssize_t k;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	snprintf(req, sizeof req, "GET %s HTTP/1.0\r\n\r\n", path);
	ck_assert(write(fd, req, strlen(req)) == (ssize_t)strlen(req));
	while (n < 8191 && (k = read(fd, out + n, 8191 - n)) > 0)
		n += (size_t)k;
	close(fd);
	body = strstr(out, "\r\n\r\n");
	ck_assert_ptr_nonnull(body);
	body = strdup(body + 4);
	free(out);
	return body;
}

/* external.ip unset: /route names the host the client reached. */
START_TEST(test_apicompat_route_reached_host)
{
	const char *const hdr[] = { "Host: im.example.org:5001", NULL };
	const char *const hdr6[] = { "Host: [2001:db8::7]", NULL };
	char url[128], want[256], *body = NULL;

	snprintf(url, sizeof url, "http://127.0.0.1:%d/route", tree.http_port);
	ck_assert_int_eq(wkt_http("GET", url, NULL, &body, hdr), 200);
	snprintf(want, sizeof want, "{\"tcp_addr\":\"im.example.org:%d\",\"ws_addr\":"
	    "\"ws://im.example.org:%d\",\"wss_addr\":\"\"}", tree.tcp_port, tree.ws_port);
	ck_assert_str_eq(body, want);
	free(body);
	ck_assert_int_eq(wkt_http("GET", url, NULL, &body, hdr6), 200);
	snprintf(want, sizeof want, "{\"tcp_addr\":\"[2001:db8::7]:%d\",\"ws_addr\":"
	    "\"ws://[2001:db8::7]:%d\",\"wss_addr\":\"\"}", tree.tcp_port, tree.ws_port);
	ck_assert_str_eq(body, want);
	free(body);
	/* No Host: the local address of the connection. */
	body = raw_get("/route");
	snprintf(want, sizeof want, "{\"tcp_addr\":\"127.0.0.1:%d\",\"ws_addr\":"
	    "\"ws://127.0.0.1:%d\",\"wss_addr\":\"\"}", tree.tcp_port, tree.ws_port);
	ck_assert_str_eq(body, want);
	free(body);
}
END_TEST

static Suite *
apicompat_suite(void)
{
	Suite *s = suite_create("apicompat");
	TCase *tc = tcase_create("apicompat");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_apicompat_systemuids_cache);
	tcase_add_test(tc, test_apicompat_tmpchannel);
	tcase_add_test(tc, test_apicompat_sync_messages);
	tcase_add_test(tc, test_apicompat_unsupported);
	tcase_add_test(tc, test_apicompat_token_disbanded);
	tcase_add_test(tc, test_apicompat_conversations);
	tcase_add_test(tc, test_apicompat_route_reached_host);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return wkt_run_suite(apicompat_suite());
}
