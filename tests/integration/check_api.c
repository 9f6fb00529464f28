/* check_api.c - wk-api against the real tree, over HTTP with libcurl:
 * every route with good and bad bodies, compared as parsed JSON with the
 * reference's shapes; tokens as a real client sees them (auth, kicks,
 * device_quit), bans, /user/onlinestatus from the presence table, the
 * manager token, CORS, 404, bad JSON, oversized bodies, a shard that does
 * not answer (500 timeout), and system uids surviving kill -9 of every
 * mailbox shard.  See wk-api(8). */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>
#include <curl/curl.h>
#include <jansson.h>
#include "wkclient.h"
#include "wktest.h"

static struct wkt_tree tree;

struct resp {
	long status;
	char *body;
	size_t len;
	char *headers;
	size_t hlen;
	char ctype[128];
};

struct buf {
	char *p;
	size_t len;
};

static size_t
collect(char *data, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	size_t add = size * n;

	b->p = realloc(b->p, b->len + add + 1);
	memcpy(b->p + b->len, data, add);
	b->len += add;
	b->p[b->len] = '\0';
	return add;
}

/* One request: body of `len` bytes (or a string when len is 0), extra
 * headers NULL-terminated; the status, body, headers and Content-Type. */
static void
http(const char *method, const char *path, const char *body, size_t len,
    const char *const *headers, struct resp *out)
{
	struct buf b = { calloc(1, 1), 0 }, h = { calloc(1, 1), 0 };
	struct curl_slist *hl = NULL;
	CURL *c = curl_easy_init();
	char url[512], *ct = NULL;

	snprintf(url, sizeof url, "%s%s", tree.http, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 15000L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)(len ? len : strlen(body)));
		hl = curl_slist_append(hl, "Content-Type: application/json");
	}
	for (int i = 0; headers && headers[i]; i++)
		hl = curl_slist_append(hl, headers[i]);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	memset(out, 0, sizeof *out);
	out->status = -1;
	if (curl_easy_perform(c) == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
		curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
		if (ct)
			snprintf(out->ctype, sizeof out->ctype, "%s", ct);
	}
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	out->body = b.p;
	out->len = b.len;
	out->headers = h.p;
	out->hlen = h.len;
}

static void
resp_free(struct resp *r)
{
	free(r->body);
	free(r->headers);
}

/* The value of response header `name`, or NULL (static buffer). */
static const char *
header(const struct resp *r, const char *name)
{
	static char val[1024];
	size_t n = strlen(name);

	for (const char *l = r->headers; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : "") {
		if (strncasecmp(l, name, n) == 0 && l[n] == ':') {
			const char *v = l + n + 1;
			v += strspn(v, " ");
			snprintf(val, sizeof val, "%.*s", (int)strcspn(v, "\r\n"), v);
			return val;
		}
	}
	return NULL;
}

/* Assert status and body (parsed JSON equal to `want`; NULL: not checked). */
static void
expect_r(const struct resp *r, const char *what, long status, const char *want)
{
	json_t *got, *exp;

	ck_assert_msg(r->status == status, "%s: status %ld, want %ld (%s)", what, r->status,
	    status, r->body);
	if (want == NULL)
		return;
	got = json_loads(r->body, JSON_DECODE_ANY, NULL);
	exp = json_loads(want, JSON_DECODE_ANY, NULL);
	ck_assert_msg(exp != NULL, "%s: bad expectation %s", what, want);
	ck_assert_msg(got && json_equal(got, exp), "%s: body %s, want %s", what, r->body, want);
	if (status != 401 && status != 204)
		ck_assert_msg(strncmp(r->ctype, "application/json", 16) == 0,
		    "%s: Content-Type %s", what, r->ctype);
	json_decref(got);
	json_decref(exp);
}

static void
expect(const char *method, const char *path, const char *body, long status, const char *want)
{
	struct resp r;
	char what[256];

	snprintf(what, sizeof what, "%s %s %.60s", method, path, body ? body : "");
	http(method, path, body, 0, NULL, &r);
	expect_r(&r, what, status, want);
	resp_free(&r);
}

/* A 400 whose msg mentions `part`. */
static void
expect_400(const char *path, const char *body, const char *part)
{
	struct resp r;
	json_t *j;

	http("POST", path, body, 0, NULL, &r);
	ck_assert_msg(r.status == 400, "%s %s: %ld %s", path, body, r.status, r.body);
	j = json_loads(r.body, 0, NULL);
	ck_assert_msg(j && json_integer_value(json_object_get(j, "status")) == 400 &&
	    json_is_string(json_object_get(j, "msg")), "%s %s: %s", path, body, r.body);
	ck_assert_msg(strstr(json_string_value(json_object_get(j, "msg")), part) != NULL,
	    "%s %s: msg %s lacks %s", path, body, r.body, part);
	json_decref(j);
	resp_free(&r);
}

static void
set_token(const char *uid, const char *token, int flag, int level, const char *want)
{
	char body[256];

	snprintf(body, sizeof body, "{\"uid\":\"%s\",\"token\":\"%s\",\"device_flag\":%d,"
	    "\"device_level\":%d}", uid, token, flag, level);
	expect("POST", "/user/token", body, 200, want);
}

static struct wkc *
dial(void)
{
	struct wkc *c = wkc_connect_tcp("127.0.0.1", tree.tcp_port);

	ck_assert_ptr_nonnull(c);
	return c;
}

/* CONNECT uid/token/device flag; the CONNACK reason (the connection is
 * returned in *out when asked, else closed). */
static int
login(const char *uid, const char *token, int flag, struct wkc **out)
{
	struct wkc *c = dial();
	int reason = wkc_handshake(c, uid, token, 5, flag, "dev", NULL);

	if (out)
		*out = c;
	else
		wkc_close(c);
	return reason;
}

/* The next packet on c is DISCONNECT with reason 12 (ConnectKick). */
static void
expect_kicked(struct wkc *c)
{
	struct wkproto_packet p;

	ck_assert_int_eq(wkc_recv(c, &p, 5000), 0);
	ck_assert_int_eq(p.type, WKPROTO_DISCONNECT);
	ck_assert_int_eq(p.disconnect.reason_code, 12);
}

/* /user/device_quit of uid and flag: c, connected with that flag, is
 * kicked and then closed by the server. */
static void
quit_kicks(const char *uid, int flag, struct wkc *c)
{
	char body[128];

	snprintf(body, sizeof body, "{\"uid\":\"%s\",\"device_flag\":%d}", uid, flag);
	expect("POST", "/user/device_quit", body, 200, "{\"status\":200}");
	expect_kicked(c);
	ck_assert_int_eq(wkc_wait_closed(c, 5000, NULL), 0);
	wkc_close(c);
}

static int
wait_online(const char *uid, int want)
{
	return wkt_wait_online(&tree, uid, -1, want, 5000);
}

static void
setup_open(void)
{
	wkt_tree_start(&tree, "tokenAuthOn: false\n"
	    "external:\n  ip: 10.1.2.3\n  wssAddr: wss://im.example.com:5210\n"
	    "intranet:\n  tcpAddr: 192.168.0.9:5100\n");
}

static void setup_auth(void) { wkt_tree_start(&tree, "tokenAuthOn: true\n"); }
static void setup_manager(void) { wkt_tree_start(&tree, "managerToken: \"s3cret\"\n"); }
static void teardown(void) { wkt_tree_stop(&tree); }

START_TEST(test_api_health_and_route)
{
	char want[512];

	expect("GET", "/health", NULL, 200, "{\"status\":\"ok\"}");
	snprintf(want, sizeof want, "{\"tcp_addr\":\"10.1.2.3:%d\",\"ws_addr\":\"ws://10.1.2.3:%d\","
	    "\"wss_addr\":\"wss://im.example.com:5210\"}", tree.tcp_port, tree.ws_port);
	expect("GET", "/route", NULL, 200, want);
	expect("GET", "/route?uid=u1&intranet=0", NULL, 200, want);
	expect("GET", "/route?intranet=1", NULL, 200,
	    "{\"tcp_addr\":\"192.168.0.9:5100\",\"ws_addr\":\"\",\"wss_addr\":\"\"}");
	snprintf(want, sizeof want, "[{\"uids\":[\"a\",\"b\"],\"tcp_addr\":\"10.1.2.3:%d\","
	    "\"ws_addr\":\"ws://10.1.2.3:%d\",\"wss_addr\":\"wss://im.example.com:5210\"}]",
	    tree.tcp_port, tree.ws_port);
	expect("POST", "/route/batch", "[\"a\",\"b\"]", 200, want);
	expect("POST", "/route/batch?intranet=1", "[]", 200, "[{\"uids\":[],"
	    "\"tcp_addr\":\"192.168.0.9:5100\",\"ws_addr\":\"\",\"wss_addr\":\"\"}]");
	/* QUIRK kept: a null body gives "uids":null. */
	expect("POST", "/route/batch?intranet=1", "null", 200, "[{\"uids\":null,"
	    "\"tcp_addr\":\"192.168.0.9:5100\",\"ws_addr\":\"\",\"wss_addr\":\"\"}]");
	static const char *const bad[] = { "{\"uids\":[]}", "[1]", "nope", "", "[\"a\",null]" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		expect("POST", "/route/batch", bad[i], 400,
		    "{\"msg\":\"数据格式有误！\",\"status\":400}");
}
END_TEST

START_TEST(test_api_token_validation)
{
	static const struct { const char *body, *msg; } cases[] = {
		{ "{\"token\":\"t\"}", "uid不能为空！" },
		{ "{\"uid\":null,\"token\":\"t\"}", "uid不能为空！" },
		{ "{\"uid\":\"a\"}", "token不能为空！" },
		{ "{\"uid\":\"a\",\"token\":\"\"}", "token不能为空！" },
		{ "{\"uid\":\"a@b\",\"token\":\"t\"}", "uid不能包含特殊字符！" },
		{ "{\"uid\":\"a#b\",\"token\":\"t\"}", "uid不能包含特殊字符！" },
		{ "{\"uid\":\"a&b\",\"token\":\"t\"}", "uid不能包含特殊字符！" },
		{ "{\"uid\":\"____system\",\"token\":\"t\"}", "系统账号不允许更新token！" },
	};
	char want[256];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(want, sizeof want, "{\"msg\":\"%s\",\"status\":400}", cases[i].msg);
		expect("POST", "/user/token", cases[i].body, 400, want);
	}
	/* Wrong JSON types and malformed bodies: 400 with Go's wording. */
	expect_400("/user/token", "{\"uid\":5,\"token\":\"t\"}", "cannot unmarshal number 5");
	expect_400("/user/token", "{\"uid\":\"a\",\"token\":\"t\",\"device_flag\":256}", "device_flag");
	expect_400("/user/token", "{\"uid\":\"a\",\"token\":\"t\",\"device_level\":-1}", "device_level");
	expect_400("/user/token", "{\"uid\":\"a\",\"token\":\"t\",\"device_flag\":\"1\"}", "string");
	expect_400("/user/token", "[]", "cannot unmarshal array");
	expect_400("/user/token", "{\"uid\":", "");
	expect("POST", "/user/token", "", 400, "{\"msg\":\"EOF\",\"status\":400}");
	/* Unknown fields are ignored; keys match case-insensitively as in Go. */
	expect("POST", "/user/token", "{\"UID\":\"ok1\",\"Token\":\"t\",\"larges\":[1]}", 200,
	    "{\"status\":200}");
	expect("POST", "/user/device_quit", "{\"uid\":\"ok1\",\"device_flag\":-1}", 200,
	    "{\"status\":200}");
	expect("POST", "/user/device_quit", "{}", 200, "{\"status\":200}");
	expect_400("/user/device_quit", "{\"uid\":[]}", "cannot unmarshal array");
	expect_400("/user/device_quit", "{\"uid\":\"a\",\"device_flag\":1.5}", "device_flag");
}
END_TEST

/* Tokens as a client sees them, with tokenAuthOn. */
START_TEST(test_api_token_stored_kick_and_device_quit)
{
	struct wkc *web, *app;

	ck_assert_int_eq(login("ann", "t1", 1, NULL), 2);
	set_token("ann", "t1", 1, 0, "{\"status\":200}");
	set_token("ann", "a0", 0, 0, "{\"status\":200}");
	ck_assert_int_eq(login("ann", "t1", 1, &web), 1);
	ck_assert_int_eq(login("ann", "t1", 0, NULL), 2);
	ck_assert_int_eq(login("ann", "a0", 0, &app), 1);
	ck_assert_int_eq(wait_online("ann", 2), 2);
	/* A master-level token replaces the old one and kicks that device flag only. */
	set_token("ann", "t2", 1, 1, "{\"status\":200}");
	expect_kicked(web);
	wkc_close(web);
	ck_assert_int_eq(login("ann", "t1", 1, NULL), 2);
	ck_assert_int_eq(login("ann", "t2", 1, &web), 1);
	/* device_quit of WEB: token cleared, connection kicked, APP untouched. */
	quit_kicks("ann", 1, web);
	ck_assert_int_eq(login("ann", "t2", 1, NULL), 2);
	ck_assert_int_eq(login("ann", "a0", 0, NULL), 1);
	/* -1: every device flag. */
	quit_kicks("ann", -1, app);
	ck_assert_int_eq(login("ann", "a0", 0, NULL), 2);
	/* A new token works again. */
	set_token("ann", "t3", 1, 0, "{\"status\":200}");
	ck_assert_int_eq(login("ann", "t3", 1, NULL), 1);
}
END_TEST

/* /channel/info on a person channel bans the user: {"status":19}, CONNACK 19. */
START_TEST(test_api_ban_user)
{
	set_token("bo", "tk", 1, 0, "{\"status\":200}");
	expect("POST", "/channel/info", "{\"channel_id\":\"bo\",\"channel_type\":1,\"ban\":1}",
	    200, "{\"status\":200}");
	set_token("bo", "tk2", 1, 0, "{\"status\":19}");
	ck_assert_int_eq(login("bo", "tk", 1, NULL), 19);
	/* Nothing was stored while banned. */
	expect("POST", "/channel/info", "{\"channel_id\":\"bo\",\"channel_type\":1,\"send_ban\":1}",
	    200, "{\"status\":200}");
	ck_assert_int_eq(login("bo", "tk2", 1, NULL), 2);
	ck_assert_int_eq(login("bo", "tk", 1, NULL), 1);
	set_token("bo", "tk2", 1, 0, "{\"status\":200}");
	ck_assert_int_eq(login("bo", "tk2", 1, NULL), 1);
	/* Other channel types go to the channel shard; a value of the wrong
	 * type is the reference's decode error, "数据格式有误！". */
	expect("POST", "/channel/info", "{\"channel_id\":\"g1\",\"channel_type\":2,\"ban\":1}", 200,
	    "{\"status\":200}");
	expect_400("/channel/info", "{\"channel_id\":\"bo\",\"channel_type\":1,\"ban\":\"1\"}", "数据格式有误");
	expect_400("/channel/info", "{\"channel_id\":\"bo\",\"channel_type\":300}", "数据格式有误");
	expect_400("/channel/info", "{", "");
}
END_TEST

START_TEST(test_api_onlinestatus)
{
	struct wkc *a, *b;
	struct resp r;
	json_t *got, *want;

	expect("POST", "/user/onlinestatus", "[]", 200, "{\"status\":200}");
	expect("POST", "/user/onlinestatus", "null", 200, "{\"status\":200}");
	expect("POST", "/user/onlinestatus", "[\"nobody\"]", 200, "[]");
	expect_400("/user/onlinestatus", "{\"uids\":[]}", "cannot unmarshal object");
	expect_400("/user/onlinestatus", "[1]", "cannot unmarshal number");
	ck_assert_int_eq(login("olu", "", 1, &a), 1);
	ck_assert_int_eq(login("olu", "", 0, &b), 1);
	ck_assert_int_eq(wait_online("olu", 2), 2);
	http("POST", "/user/onlinestatus", "[\"nobody\",\"olu\"]", 0, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	got = json_loads(r.body, 0, NULL);
	want = json_loads("[{\"uid\":\"olu\",\"device_flag\":1,\"online\":1},"
	    "{\"uid\":\"olu\",\"device_flag\":0,\"online\":1}]", 0, NULL);
	ck_assert_msg(json_array_size(got) == 2, "%s", r.body);
	/* One entry per connection, in the table's order. */
	for (size_t i = 0; i < 2; i++) {
		json_t *e = json_array_get(got, i);
		ck_assert_msg(json_equal(e, json_array_get(want, 0)) ||
		    json_equal(e, json_array_get(want, 1)), "%s", r.body);
	}
	ck_assert(!json_equal(json_array_get(got, 0), json_array_get(got, 1)));
	json_decref(got);
	json_decref(want);
	resp_free(&r);
	wkc_close(a);
	ck_assert_int_eq(wait_online("olu", 1), 1);
	wkc_close(b);
	ck_assert_int_eq(wait_online("olu", 0), 0);
}
END_TEST

START_TEST(test_api_cors_404_bad_json_huge_body)
{
	const char *const no_expect[] = { "Expect:", NULL };
	const char *const chunked[] = { "Transfer-Encoding: chunked", NULL };
	const char *const *variants[] = { NULL, no_expect, chunked };
	size_t big = 2 * 1024 * 1024;
	char *huge = malloc(big + 1);
	struct resp r;

	http("OPTIONS", "/user/token", NULL, 0, NULL, &r);
	expect_r(&r, "OPTIONS", 204, NULL);
	ck_assert_uint_eq(r.len, 0);
	ck_assert_str_eq(header(&r, "Access-Control-Allow-Origin"), "*");
	ck_assert_ptr_nonnull(strstr(header(&r, "Access-Control-Allow-Methods"), "POST"));
	ck_assert_ptr_nonnull(strstr(header(&r, "Access-Control-Allow-Headers"), "token"));
	resp_free(&r);
	http("OPTIONS", "/no/such/route", NULL, 0, NULL, &r);
	expect_r(&r, "OPTIONS unknown", 204, NULL);
	resp_free(&r);
	http("GET", "/health", NULL, 0, NULL, &r);
	ck_assert_str_eq(header(&r, "Access-Control-Allow-Origin"), "*");
	resp_free(&r);
	/* Unknown routes and wrong methods: gin's 404. */
	static const char *const missing[][2] = {
		{ "GET", "/nope" }, { "GET", "/user/token" }, { "POST", "/health" },
		{ "POST", "/conversations" }, { "GET", "/health/" },
	};
	for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
		http(missing[i][0], missing[i][1], NULL, 0, NULL, &r);
		ck_assert_msg(r.status == 404, "%s %s: %ld", missing[i][0], missing[i][1], r.status);
		ck_assert_str_eq(r.body, "404 page not found");
		ck_assert_msg(strncmp(r.ctype, "text/plain", 10) == 0, "%s", r.ctype);
		resp_free(&r);
	}
	/* Malformed JSON: the ERROR shape. */
	expect_400("/user/systemuids_add", "{\"uids\":[\"a\"", "");
	expect_400("/user/token", "\xff\xfe", "");
	/* Bodies over 1 MiB: 413, with and without Expect, chunked; the server lives. */
	memset(huge, '[', big);
	huge[big] = '\0';
	for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
		http("POST", "/user/token", huge, big, variants[i], &r);
		ck_assert_msg(r.status == 413, "variant %zu: %ld", i, r.status);
		expect_r(&r, "huge", 413, "{\"msg\":\"request body larger than 1048576 bytes\","
		    "\"status\":413}");
		resp_free(&r);
		expect("GET", "/health", NULL, 200, "{\"status\":\"ok\"}");
	}
	/* Just under the limit is read (and rejected as JSON, not as size). */
	huge[1024 * 1024 - 1] = '\0';
	expect_400("/user/token", huge, "");
	free(huge);
	expect("GET", "/health", NULL, 200, "{\"status\":\"ok\"}");
}
END_TEST

/* managerToken: every admin route and its pre-flight needs the header, from
 * loopback too; /health and /route never do (load balancers, SDKs). */
START_TEST(test_api_manager_token)
{
	const char *const good[] = { "token: s3cret", NULL };
	const char *const bad[] = { "token: s3cret ", NULL };
	struct resp r;

	http("GET", "/health", NULL, 0, NULL, &r);
	expect_r(&r, "health without token", 200, "{\"status\":\"ok\"}");
	resp_free(&r);
	http("GET", "/route", NULL, 0, bad, &r);
	expect_r(&r, "route with a wrong token", 200, NULL);
	resp_free(&r);
	http("POST", "/user/token", "{\"uid\":\"m1\",\"token\":\"t\"}", 0, bad, &r);
	expect_r(&r, "wrong token", 401, NULL);
	ck_assert_uint_eq(r.len, 0);
	ck_assert_ptr_null(header(&r, "Access-Control-Allow-Origin"));
	resp_free(&r);
	http("OPTIONS", "/user/token", NULL, 0, NULL, &r);
	expect_r(&r, "pre-flight without token", 401, NULL);
	resp_free(&r);
	http("POST", "/user/token", "{\"uid\":\"m1\",\"token\":\"t\"}", 0, NULL, &r);
	expect_r(&r, "token route without token", 401, NULL);
	resp_free(&r);
	http("GET", "/nope", NULL, 0, NULL, &r);
	expect_r(&r, "unknown route without token", 401, NULL);
	resp_free(&r);
	http("GET", "/health", NULL, 0, good, &r);
	expect_r(&r, "token", 200, "{\"status\":\"ok\"}");
	resp_free(&r);
	http("OPTIONS", "/user/token", NULL, 0, good, &r);
	expect_r(&r, "pre-flight with token", 204, NULL);
	resp_free(&r);
	http("POST", "/user/token", "{\"uid\":\"m1\",\"token\":\"t\"}", 0, good, &r);
	expect_r(&r, "token route", 200, "{\"status\":200}");
	resp_free(&r);
	http("GET", "/nope", NULL, 0, good, &r);
	expect_r(&r, "unknown route", 404, NULL);
	resp_free(&r);
}
END_TEST

/* kill -9 role/instance and wait until its successor is ready. */
START_TEST(test_api_systemuids_survive_mailbox_kill9)
{
	expect("GET", "/user/systemuids", NULL, 200, "[]");
	expect("POST", "/user/systemuids_add", "{\"uids\":[\"sys-c\",\"sys-a\",\"sys-b\"]}", 200,
	    "{\"status\":200}");
	expect("POST", "/user/systemuids_add", "{\"uids\":[\"sys-a\"]}", 200, "{\"status\":200}");
	expect("GET", "/user/systemuids", NULL, 200, "[\"sys-a\",\"sys-b\",\"sys-c\"]");
	expect("POST", "/user/systemuids_remove", "{\"uids\":[\"sys-b\",\"never\"]}", 200,
	    "{\"status\":200}");
	expect("POST", "/user/systemuids_add", "{\"uids\":[]}", 200, "{\"status\":200}");
	expect("POST", "/user/systemuids_add", "{}", 200, "{\"status\":200}");
	expect("POST", "/user/systemuids_remove", "{\"uids\":null}", 200, "{\"status\":200}");
	expect_400("/user/systemuids_add", "{\"uids\":\"sys-x\"}", "[]string");
	expect_400("/user/systemuids_remove", "{\"uids\":[1]}", "cannot unmarshal number");
	expect_400("/user/systemuids_add", "[\"sys-x\"]", "cannot unmarshal array");
	/* kill -9 of each mailbox shard: the set is read back from its store. */
	wkt_tree_kill9(&tree, "mailbox", 0);
	wkt_tree_kill9(&tree, "mailbox", 1);
	expect("GET", "/user/systemuids", NULL, 200, "[\"sys-a\",\"sys-c\"]");
	/* And kill -9 of wk-api itself: it comes back on the same port. */
	wkt_tree_kill9(&tree, "api", 0);
	expect("GET", "/health", NULL, 200, "{\"status\":\"ok\"}");
	expect("GET", "/user/systemuids", NULL, 200, "[\"sys-a\",\"sys-c\"]");
}
END_TEST

/* A mailbox shard that does not answer: 500 timeout, while other requests
 * are served; the late reply is dropped. */
START_TEST(test_api_shard_timeout)
{
	int mb = wkt_tree_pid(&tree, "mailbox", 0), status;
	uint64_t t0;
	pid_t child;
	struct resp r;

	ck_assert_int_eq(kill(mb, SIGSTOP), 0);
	t0 = wkt_now_ms();
	child = fork();
	if (child == 0) {
		http("GET", "/user/systemuids", NULL, 0, NULL, &r);
		_exit(r.status == 500 && strcmp(r.body, "{\"msg\":\"timeout\",\"status\":500}") == 0 ?
		    0 : 1);
	}
	/* The api is not blocked meanwhile. */
	for (int i = 0; i < 5; i++)
		expect("GET", "/health", NULL, 200, "{\"status\":\"ok\"}");
	ck_assert_uint_lt(wkt_now_ms() - t0, 4000);
	ck_assert_int_eq(wkt_wait_exit(child, 15000, &status), 0);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "no 500 timeout");
	ck_assert_uint_ge(wkt_now_ms() - t0, 4900);
	ck_assert_int_eq(kill(mb, SIGCONT), 0);
	expect("GET", "/user/systemuids", NULL, 200, "[]");
	ck_assert_int_eq(wkt_tree_pid(&tree, "api", 0) > 0, 1);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("api");
	TCase *open = tcase_create("open"), *auth = tcase_create("auth"),
	    *manager = tcase_create("manager");

	curl_global_init(CURL_GLOBAL_ALL);
	tcase_set_timeout(open, 120);
	tcase_set_timeout(auth, 120);
	tcase_set_timeout(manager, 60);
	tcase_add_checked_fixture(open, setup_open, teardown);
	tcase_add_checked_fixture(auth, setup_auth, teardown);
	tcase_add_checked_fixture(manager, setup_manager, teardown);
	tcase_add_test(open, test_api_health_and_route);
	tcase_add_test(open, test_api_token_validation);
	tcase_add_test(open, test_api_onlinestatus);
	tcase_add_test(open, test_api_cors_404_bad_json_huge_body);
	tcase_add_test(open, test_api_systemuids_survive_mailbox_kill9);
	tcase_add_test(open, test_api_shard_timeout);
	tcase_add_test(auth, test_api_token_stored_kick_and_device_quit);
	tcase_add_test(auth, test_api_ban_user);
	tcase_add_test(manager, test_api_manager_token);
	suite_add_tcase(s, open);
	suite_add_tcase(s, auth);
	suite_add_tcase(s, manager);
	return wkt_run_suite(s);
}
