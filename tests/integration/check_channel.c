/* check_channel.c - the /channel routes against the real tree: every route
 * with good and bad bodies and the reference's exact shapes, what the
 * channel shards stored (asked of the shard directly with the CHANNEL_GET
 * and CHANNEL_LIST_GET op rows, as a tool does: there is no HTTP route for
 * members), person-channel flags going to the user's mailbox, delete
 * removing everything, and all of it surviving kill -9 of every channel
 * shard.  See wk-channel(8) and wk-api(8). */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <curl/curl.h>
#include <czmq.h>
#include <jansson.h>
#include "wk_buf.h"
#include "wk_msg.h"
#include "wk_shard.h"
#include "wktest.h"

#define NCHANNEL 2                   /* channel shards in a test tree */

static struct wkt_tree tree;


/* Assert the status and the body (parsed JSON equal to `want`). */
static void
expect(const char *method, const char *path, const char *body, long status, const char *want)
{
	wkt_expect(&tree, method, path, body, status, want);
}

static void
post_ok(const char *path, const char *body)
{
	expect("POST", path, body, 200, "{\"status\":200}");
}

/* 400 with {"msg":msg,"status":400}. */
static void
post_400(const char *path, const char *body, const char *msg)
{
	wkt_expect_400(&tree, "POST", path, body, msg);
}

/* The test's inbox for replies from the shards, and a socket to each
 * shard: made once per test (each test is its own process), because a
 * reply sent to an inbox that was just closed and bound again can be lost. */
static zsock_t *inbox, *to_shard[NCHANNEL];
static uint64_t corr;

static void setup(void) { wkt_tree_start(&tree, "tokenAuthOn: false\n"); }

static void
teardown(void)
{
	zsock_destroy(&inbox);
	for (int i = 0; i < NCHANNEL; i++)
		zsock_destroy(&to_shard[i]);
	wkt_tree_stop(&tree);
}

/* Ask the channel shard owning id directly, as a tool: op row `type` with
 * payload req; the answer's status, and its body (after the status) into
 * *out (the caller frees it). */
static long
shard_op(int type, const char *id, const struct wk_wbuf *req, struct wk_wbuf *out)
{
	int shard = wk_shard_channel(id, strlen(id), NCHANNEL), inst = (int)(getpid() & 0x7fff);
	struct wk_msg_hdr h = { .version = WK_MSG_VERSION, .type = (uint16_t)type,
	    .sender_role = WK_ROLE_CTL, .sender_instance = (uint16_t)inst, .corr = ++corr }, rh;
	zmsg_t *m = wk_msg_new(&h), *rep;
	zframe_t *hdr, *f;
	long status;

	if (inbox == NULL) {
		inbox = zsock_new_pull(NULL);
		ck_assert_int_eq(zsock_bind(inbox, "ipc://%s/ctl-%d.ipc", tree.run, inst), 0);
		zsock_set_rcvtimeo(inbox, 5000);
		for (int i = 0; i < NCHANNEL; i++) {
			to_shard[i] = zsock_new_push(NULL);
			ck_assert_int_eq(zsock_connect(to_shard[i], "ipc://%s/channel-%d.ipc",
			    tree.run, i), 0);
		}
	}
	zmsg_addmem(m, req->p, req->len);
	ck_assert_int_eq(zmsg_send(&m, to_shard[shard]), 0);
	rep = zmsg_recv(inbox);
	ck_assert_msg(rep != NULL && zmsg_size(rep) == 2, "no answer to %s from channel/%d",
	    wk_msg_type_name(type), shard);
	hdr = zmsg_pop(rep);
	ck_assert_int_eq(wk_msg_hdr_decode(zframe_data(hdr), zframe_size(hdr), &rh), 0);
	ck_assert_uint_eq(rh.corr, corr);
	ck_assert_int_eq(rh.type, WK_MSG_API_ANSWER);
	zframe_destroy(&hdr);
	f = zmsg_first(rep);
	ck_assert_uint_ge(zframe_size(f), 2);
	status = wk_be16_get(zframe_data(f));
	wk_wbuf_init(out);
	wk_put_mem(out, zframe_data(f) + 2, zframe_size(f) - 2);
	zmsg_destroy(&rep);
	return status;
}

/* The key every row starts with. */
static void
key_row(struct wk_wbuf *w, const char *id, int type)
{
	wk_wbuf_init(w);
	wk_put_str(w, id);
	wk_put_u8(w, (uint8_t)type);
}

/* The uids of a list ('m', 'b', 'w'), comma-separated ("" when empty). */
static char *
list_uids(const char *id, int type, char list)
{
	struct wk_wbuf w, ans;
	struct wk_rbuf rb;
	char buf[1024] = "", uid[256];
	uint32_t n;

	key_row(&w, id, type);
	wk_put_u8(&w, (uint8_t)list);
	ck_assert_int_eq(shard_op(WK_MSG_CHANNEL_LIST_GET, id, &w, &ans), 200);
	wk_rbuf_init(&rb, ans.p, ans.len);
	n = wk_get_u32(&rb);
	for (uint32_t i = 0; i < n; i++) {
		wk_get_u64(&rb);
		wk_get_str(&rb, uid, sizeof uid);
		wk_get_u64(&rb);
		wk_get_u64(&rb);
		if (i)
			strcat(buf, ",");
		strcat(buf, uid);
	}
	ck_assert_int_eq(wk_rbuf_done(&rb), 0);
	wk_wbuf_free(&w);
	wk_wbuf_free(&ans);
	return strdup(buf);
}

static void
expect_list(const char *id, int type, const char *list, const char *want)
{
	char *got = list_uids(id, type, strcmp(list, "subscribers") == 0 ? 'm' : list[0]);

	ck_assert_msg(strcmp(got, want) == 0, "%s/%d %s: [%s], want [%s]", id, type, list, got,
	    want);
	free(got);
}

/* The stored record's field `key` (a flag or a count); -1 when the
 * channel does not exist. */
static long
record(const char *id, int type, const char *key)
{
	static const struct { const char *key; uint8_t bit; } flags[] = {
		{ "ban", WK_CHANNEL_BAN }, { "send_ban", WK_CHANNEL_SEND_BAN },
		{ "disband", WK_CHANNEL_DISBAND }, { "large", WK_CHANNEL_LARGE },
		{ "allow_stranger", WK_CHANNEL_ALLOW_STRANGER },
	};
	struct wk_wbuf w, ans;
	struct wk_rbuf rb;
	long status, v = -1, counts[4];
	uint8_t f;

	key_row(&w, id, type);
	status = shard_op(WK_MSG_CHANNEL_GET, id, &w, &ans);
	ck_assert_msg(status == 200 || status == 404, "CHANNEL_GET %s: %ld", id, status);
	if (status == 200) {
		wk_rbuf_init(&rb, ans.p, ans.len);
		f = wk_get_u8(&rb);
		for (int i = 0; i < 4; i++)
			counts[i] = wk_get_u32(&rb);
		ck_assert_int_eq(wk_rbuf_done(&rb), 0);
		for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
			if (strcmp(key, flags[i].key) == 0)
				v = (f & flags[i].bit) != 0;
		if (strcmp(key, "last_seq") == 0)
			v = counts[0];
		else if (strcmp(key, "members") == 0)
			v = counts[1];
		else if (strcmp(key, "blacklist") == 0)
			v = counts[2];
		else if (strcmp(key, "whitelist") == 0)
			v = counts[3];
	}
	wk_wbuf_free(&w);
	wk_wbuf_free(&ans);
	return v;
}

static const struct { const char *path, *body, *msg; } bad[] = {
	/* /channel */
	{ "/channel", "", "数据格式有误！: EOF" },
	{ "/channel", "[1]", "数据格式有误！: json: cannot unmarshal array into Go value of type api.channelCreateReq" },
	{ "/channel", "{\"channel_id\":\"g1\",\"channel_type\":\"2\"}", "数据格式有误！: json: cannot unmarshal string into Go struct field channelCreateReq.channel_type of type uint8" },
	{ "/channel", "{\"channel_id\":\"g1\",\"channel_type\":256}", "数据格式有误！: json: cannot unmarshal number 256 into Go struct field channelCreateReq.channel_type of type uint8" },
	{ "/channel", "{\"channel_id\":\"g1\",\"channel_type\":2,\"subscribers\":\"u1\"}", "数据格式有误！: json: cannot unmarshal string into Go struct field channelCreateReq.subscribers of type []string" },
	{ "/channel", "{\"channel_id\":\"g1\",\"channel_type\":2,\"ban\":true}", "数据格式有误！: json: cannot unmarshal bool into Go struct field channelCreateReq.ban of type int" },
	{ "/channel", "{\"channel_type\":2}", "频道ID不能为空！" },
	{ "/channel", "{\"channel_id\":\"  \",\"channel_type\":2}", "频道ID不能为空！" },
	{ "/channel", "{\"channel_id\":\"g1\"}", "频道类型错误！" },
	{ "/channel", "{\"channel_id\":\"g#1\",\"channel_type\":2}", "频道ID不能包含特殊字符！" },
	{ "/channel", "{\"channel_id\":\"u2\",\"channel_type\":1,\"subscribers\":[\"u1\"]}", "不支持个人频道添加订阅者！" },
	/* /channel/info: any decoding error is the one message */
	{ "/channel/info", "{", "数据格式有误！" },
	{ "/channel/info", "{\"channel_id\":1}", "数据格式有误！" },
	{ "/channel/info", "{\"channel_id\":\"g1\",\"ban\":\"1\"}", "数据格式有误！" },
	/* /channel/delete */
	{ "/channel/delete", "{\"channel_id\":\"u1\",\"channel_type\":1}", "个人频道不支持添加订阅者！" },
	{ "/channel/delete", "{\"channel_id\":[]}", "数据格式有误！: json: cannot unmarshal array into Go struct field channelDeleteReq.channel_id of type string" },
	/* subscribers */
	{ "/channel/subscriber_add", "{\"channel_id\":\"g@1\",\"channel_type\":2,\"subscribers\":[\"u1\"]}", "频道ID不能包含特殊字符！" },
	{ "/channel/subscriber_add", "{\"channel_type\":2,\"subscribers\":[\"u1\"]}", "频道ID不能为空！" },
	{ "/channel/subscriber_add", "{\"channel_id\":\"g1\",\"channel_type\":2,\"subscribers\":[]}", "订阅者不能为空！" },
	{ "/channel/subscriber_add", "{\"channel_id\":\"g1\",\"channel_type\":2,\"subscribers\":[\" \",\"\"]}", "订阅者不能为空！" },
	{ "/channel/subscriber_add", "{\"channel_id\":\"g1\",\"channel_type\":2}", "订阅者不能为空！" },
	{ "/channel/subscriber_add", "{\"channel_id\":\"u2\",\"channel_type\":1,\"subscribers\":[\"u1\"]}", "个人频道不支持添加订阅者！" },
	{ "/channel/subscriber_add", "{\"channel_id\":\"g1\",\"channel_type\":2,\"temp_subscriber\":1,\"subscribers\":[\"u1\"]}", "新版本临时订阅者已不支持！" },
	{ "/channel/subscriber_add", "{\"channel_id\":\"g1\",\"subscribers\":[true]}", "数据格式有误！: json: cannot unmarshal bool into Go struct field subscriberAddReq.subscribers of type string" },
	{ "/channel/subscriber_remove", "{\"channel_id\":\"u2\",\"channel_type\":1,\"subscribers\":[\"u1\"]}", "个人频道不支持添加订阅者！" },
	{ "/channel/subscriber_remove", "{\"channel_id\":\"g&1\",\"channel_type\":2,\"subscribers\":[\"u1\"]}", "频道ID不能包含特殊字符！" },
	{ "/channel/subscriber_remove", "{\"channel_id\":\"g1\",\"channel_type\":2}", "订阅者不能为空！" },
	{ "/channel/subscriber_remove_all", "{\"channel_type\":2}", "channel_id不能为空！" },
	{ "/channel/subscriber_remove_all", "{\"channel_id\":\"g1\"}", "频道类型不能为0！" },
	{ "/channel/subscriber_remove_all", "{\"channel_id\":\"u1@u2\",\"channel_type\":1}", "个人频道不支持此操作！" },
	/* blacklist: Go's decoding error as it is */
	{ "/channel/blacklist_add", "{\"channel_type\":2,\"uids\":[\"u1\"]}", "channel_id不能为空！" },
	{ "/channel/blacklist_add", "{\"channel_id\":\"g1\",\"uids\":[\"u1\"]}", "频道类型不能为0！" },
	{ "/channel/blacklist_add", "{\"channel_id\":\"g1\",\"channel_type\":2}", "uids不能为空！" },
	{ "/channel/blacklist_add", "{\"channel_id\":\"g1\",\"channel_type\":2,\"uids\":{}}", "json: cannot unmarshal object into Go struct field blacklistReq.uids of type []string" },
	{ "/channel/blacklist_remove", "{\"channel_id\":\"g1\",\"channel_type\":2,\"uids\":[]}", "uids不能为空！" },
	{ "/channel/blacklist_set", "{\"channel_id\":\" \",\"channel_type\":2,\"uids\":[\"u1\"]}", "频道ID不能为空！" },
	{ "/channel/blacklist_remove_all", "{\"channel_type\":2}", "channel_id不能为空！" },
	{ "/channel/blacklist_remove_all", "{\"channel_id\":\"g1\"}", "频道类型不能为0！" },
	/* whitelist */
	{ "/channel/whitelist_add", "{\"channel_type\":2,\"uids\":[\"u1\"]}", "channel_id不能为空！" },
	{ "/channel/whitelist_add", "{\"channel_id\":\"g#1\",\"channel_type\":2,\"uids\":[\"u1\"]}", "频道ID不能包含特殊字符！" },
	{ "/channel/whitelist_add", "{\"channel_id\":\"g1\",\"uids\":[\"u1\"]}", "频道类型不能为0！" },
	{ "/channel/whitelist_add", "{\"channel_id\":\"g1\",\"channel_type\":2,\"uids\":[\"\"]}", "uids不能为空！" },
	{ "/channel/whitelist_remove", "{\"channel_id\":\"g1\",\"channel_type\":2,\"uids\":[]}", "uids不能为空！" },
	{ "/channel/whitelist_set", "{\"channel_type\":2}", "频道ID不能为空！" },
	{ "/channel/whitelist_set", "", "EOF" },
	{ "/channel/whitelist_remove_all", "{\"channel_id\":\"g1\"}", "频道类型不能为0！" },
};

START_TEST(test_channel_bad_requests)
{
	char *big = malloc(1100), body[1300];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		post_400(bad[i].path, bad[i].body, bad[i].msg);
	/* wk's own bound: ids and uids wk-channel can store. */
	memset(big, 'x', 1025);
	big[1025] = '\0';
	snprintf(body, sizeof body, "{\"channel_id\":\"%s\",\"channel_type\":2}", big);
	post_400("/channel/info", body, "channel_id is longer than 1024 bytes");
	snprintf(body, sizeof body, "{\"channel_id\":\"g1\",\"channel_type\":2,\"uids\":[\"%s\"]}",
	    big);
	post_400("/channel/blacklist_add", body, "uid is longer than 1024 bytes");
	free(big);
	/* Nothing was stored by any of them. */
	ck_assert_int_eq(record("g1", 2, "members"), -1);
	ck_assert_int_eq(record("g1", 0, "members"), -1);
}
END_TEST

/* POST /channel, /channel/info and the subscriber routes. */
START_TEST(test_channel_upsert_and_subscribers)
{
	post_ok("/channel", "{\"channel_id\":\"g1\",\"channel_type\":2,\"ban\":1,\"large\":1,"
	    "\"subscribers\":[\"u2\",\"u1\",\"\"],\"legacy\":\"ignored\"}");
	ck_assert_int_eq(record("g1", 2, "ban"), 1);
	ck_assert_int_eq(record("g1", 2, "large"), 1);
	ck_assert_int_eq(record("g1", 2, "members"), 2);
	expect_list("g1", 2, "subscribers", "u1,u2");
	/* Every flag is overwritten; subscribers are added to. */
	post_ok("/channel", "{\"channel_id\":\"g1\",\"channel_type\":2,\"send_ban\":1,"
	    "\"subscribers\":[\"u3\",\"u1\"]}");
	ck_assert_int_eq(record("g1", 2, "ban"), 0);
	ck_assert_int_eq(record("g1", 2, "large"), 0);
	ck_assert_int_eq(record("g1", 2, "send_ban"), 1);
	expect_list("g1", 2, "subscribers", "u1,u2,u3");
	post_ok("/channel", "{\"channel_id\":\"g1\",\"channel_type\":2,\"reset\":1,"
	    "\"subscribers\":[\"u4\"]}");
	expect_list("g1", 2, "subscribers", "u4");
	/* channel_type 0 is a group for subscriber_add. */
	post_ok("/channel/subscriber_add", "{\"channel_id\":\"g1\",\"subscribers\":[\"u5\",\" \"]}");
	expect_list("g1", 2, "subscribers", "u4,u5");
	post_ok("/channel/subscriber_add", "{\"channel_id\":\"g1\",\"channel_type\":2,\"reset\":1,"
	    "\"subscribers\":[\"u7\",\"u6\",\"u8\"]}");
	expect_list("g1", 2, "subscribers", "u6,u7,u8");
	post_ok("/channel/subscriber_remove", "{\"channel_id\":\"g1\",\"channel_type\":2,"
	    "\"subscribers\":[\"u6\",\"never\"]}");
	expect_list("g1", 2, "subscribers", "u7,u8");
	post_ok("/channel/info", "{\"channel_id\":\"g1\",\"channel_type\":2,\"disband\":1,"
	    "\"allow_stranger\":1}");
	ck_assert_int_eq(record("g1", 2, "disband"), 1);
	ck_assert_int_eq(record("g1", 2, "allow_stranger"), 1);
	ck_assert_int_eq(record("g1", 2, "send_ban"), 0);
	expect_list("g1", 2, "subscribers", "u7,u8");
	post_ok("/channel/subscriber_remove_all", "{\"channel_id\":\"g1\",\"channel_type\":2}");
	expect_list("g1", 2, "subscribers", "");
	ck_assert_int_eq(record("g1", 2, "members"), 0);
	/* /channel/info creates a channel; other types are separate channels. */
	post_ok("/channel/info", "{\"channel_id\":\"g2\",\"channel_type\":4,\"ban\":1}");
	ck_assert_int_eq(record("g2", 4, "ban"), 1);
	ck_assert_int_eq(record("g2", 2, "ban"), -1);
	/* A person channel's flags are its user's (wk-mailbox): a ban shows in /user/token. */
	post_ok("/channel", "{\"channel_id\":\"pu\",\"channel_type\":1,\"ban\":1}");
	expect("POST", "/user/token", "{\"uid\":\"pu\",\"token\":\"t\",\"device_flag\":0}", 200,
	    "{\"status\":19}");
	post_ok("/channel/info", "{\"channel_id\":\"pu\",\"channel_type\":1}");
	post_ok("/user/token", "{\"uid\":\"pu\",\"token\":\"t\",\"device_flag\":0}");
	ck_assert_int_eq(record("pu", 1, "ban"), -1);
}
END_TEST

/* The blacklist and whitelist routes, and GET /channel/whitelist's shape. */
START_TEST(test_channel_lists)
{
	char url[256], *body = NULL;
	json_t *a, *e;

	post_ok("/channel/blacklist_add", "{\"channel_id\":\"g1\",\"channel_type\":2,"
	    "\"uids\":[\"b2\",\"b1\"]}");
	expect_list("g1", 2, "blacklist", "b1,b2");
	post_ok("/channel/blacklist_set", "{\"channel_id\":\"g1\",\"channel_type\":2,"
	    "\"uids\":[\"b3\"]}");
	expect_list("g1", 2, "blacklist", "b3");
	post_ok("/channel/blacklist_add", "{\"channel_id\":\"g1\",\"channel_type\":2,"
	    "\"uids\":[\"b4\"]}");
	post_ok("/channel/blacklist_remove", "{\"channel_id\":\"g1\",\"channel_type\":2,"
	    "\"uids\":[\"b3\"]}");
	expect_list("g1", 2, "blacklist", "b4");
	post_ok("/channel/blacklist_set", "{\"channel_id\":\"g1\",\"channel_type\":2,\"uids\":[]}");
	expect_list("g1", 2, "blacklist", "");
	post_ok("/channel/blacklist_add", "{\"channel_id\":\"g1\",\"channel_type\":2,"
	    "\"uids\":[\"b5\"]}");
	post_ok("/channel/blacklist_remove_all", "{\"channel_id\":\"g1\",\"channel_type\":2}");
	expect_list("g1", 2, "blacklist", "");
	/* The lists are separate from each other and from the members. */
	expect_list("g1", 2, "subscribers", "");

	expect("GET", "/channel/whitelist?channel_id=g1&channel_type=2", NULL, 200, "[]");
	expect("GET", "/channel/whitelist", NULL, 200, "[]");
	post_ok("/channel/whitelist_add", "{\"channel_id\":\"g1\",\"channel_type\":2,"
	    "\"uids\":[\"w2\",\"w1\"]}");
	post_ok("/channel/whitelist_add", "{\"channel_id\":\"g1\",\"channel_type\":2,"
	    "\"uids\":[\"w1\"]}");
	snprintf(url, sizeof url, "%s/channel/whitelist?channel_id=g1&channel_type=2", tree.http);
	ck_assert_int_eq(wkt_http("GET", url, NULL, &body, NULL), 200);
	a = json_loads(body, 0, NULL);
	ck_assert_msg(json_is_array(a) && json_array_size(a) == 2, "%s", body);
	e = json_array_get(a, 0);
	ck_assert_int_eq(json_object_size(e), 4);
	ck_assert_str_eq(json_string_value(json_object_get(e, "uid")), "w1");
	ck_assert_int_gt(json_integer_value(json_object_get(e, "id")), 0);
	ck_assert_int_ne(json_integer_value(json_object_get(e, "id")),
	    json_integer_value(json_object_get(json_array_get(a, 1), "id")));
	/* RFC 3339 in UTC, as Go writes a time.Time: 2026-01-02T03:04:05.678Z */
	const char *t = json_string_value(json_object_get(e, "created_at"));
	ck_assert_msg(t && strlen(t) >= 20 && t[4] == '-' && t[10] == 'T' &&
	    t[strlen(t) - 1] == 'Z', "created_at %s", t);
	ck_assert_str_eq(t, json_string_value(json_object_get(e, "updated_at")));
	json_decref(a);
	free(body);
	post_ok("/channel/whitelist_remove", "{\"channel_id\":\"g1\",\"channel_type\":2,"
	    "\"uids\":[\"w1\"]}");
	expect_list("g1", 2, "whitelist", "w2");
	post_ok("/channel/whitelist_set", "{\"channel_id\":\"g1\",\"channel_type\":0,"
	    "\"uids\":[\"w3\"]}");
	expect_list("g1", 0, "whitelist", "w3");
	expect_list("g1", 2, "whitelist", "w2");
	post_ok("/channel/whitelist_remove_all", "{\"channel_id\":\"g1\",\"channel_type\":2}");
	expect("GET", "/channel/whitelist?channel_id=g1&channel_type=2", NULL, 200, "[]");
	/* A person channel's lists are the owner's, on the shard of the owner's uid. */
	post_ok("/channel/blacklist_add", "{\"channel_id\":\"owner\",\"channel_type\":1,"
	    "\"uids\":[\"pest\"]}");
	post_ok("/channel/whitelist_add", "{\"channel_id\":\"owner\",\"channel_type\":1,"
	    "\"uids\":[\"friend\"]}");
	expect_list("owner", 1, "blacklist", "pest");
	expect_list("owner", 1, "whitelist", "friend");
}
END_TEST

START_TEST(test_channel_delete)
{
	post_ok("/channel", "{\"channel_id\":\"gd\",\"channel_type\":2,\"subscribers\":[\"u1\",\"u2\"]}");
	post_ok("/channel/blacklist_add", "{\"channel_id\":\"gd\",\"channel_type\":2,\"uids\":[\"b\"]}");
	post_ok("/channel/whitelist_add", "{\"channel_id\":\"gd\",\"channel_type\":2,\"uids\":[\"w\"]}");
	post_ok("/channel/delete", "{\"channel_id\":\"gd\",\"channel_type\":2}");
	ck_assert_int_eq(record("gd", 2, "disband"), 1);
	ck_assert_int_eq(record("gd", 2, "members"), 0);
	expect_list("gd", 2, "subscribers", "");
	expect_list("gd", 2, "blacklist", "");
	expect("GET", "/channel/whitelist?channel_id=gd&channel_type=2", NULL, 200, "[]");
	/* Nothing to delete: still OK, and nothing is created. */
	post_ok("/channel/delete", "{\"channel_id\":\"never\",\"channel_type\":2}");
	post_ok("/channel/delete", "{}");
	ck_assert_int_eq(record("never", 2, "disband"), -1);
	/* Re-created with /channel: the flags are the request's again. */
	post_ok("/channel", "{\"channel_id\":\"gd\",\"channel_type\":2,\"subscribers\":[\"u3\"]}");
	ck_assert_int_eq(record("gd", 2, "disband"), 0);
	expect_list("gd", 2, "subscribers", "u3");
}
END_TEST

/* kill -9 role/instance and wait until its successor is ready. */
/* Everything answered 200 is on disk: kill -9 of every channel shard right
 * after the answers loses none of it. */
START_TEST(test_channel_survives_kill9)
{
	char body[256], id[32], want[64];
	int seen[NCHANNEL] = { 0 };

	for (int i = 0; i < 8; i++) {
		snprintf(id, sizeof id, "k%d", i);
		seen[wk_shard_channel(id, strlen(id), NCHANNEL)]++;
		snprintf(body, sizeof body, "{\"channel_id\":\"%s\",\"channel_type\":2,\"ban\":1,"
		    "\"subscribers\":[\"a%d\",\"b%d\"]}", id, i, i);
		post_ok("/channel", body);
		snprintf(body, sizeof body, "{\"channel_id\":\"%s\",\"channel_type\":2,"
		    "\"uids\":[\"w%d\"]}", id, i);
		post_ok("/channel/whitelist_add", body);
	}
	ck_assert_msg(seen[0] && seen[1], "the ids should cover both shards");
	post_ok("/channel/delete", "{\"channel_id\":\"k0\",\"channel_type\":2}");
	for (int s = 0; s < NCHANNEL; s++)
		wkt_tree_kill9(&tree, "channel", s);
	for (int i = 1; i < 8; i++) {
		snprintf(id, sizeof id, "k%d", i);
		ck_assert_int_eq(record(id, 2, "ban"), 1);
		snprintf(want, sizeof want, "a%d,b%d", i, i);
		expect_list(id, 2, "subscribers", want);
		snprintf(want, sizeof want, "w%d", i);
		expect_list(id, 2, "whitelist", want);
	}
	ck_assert_int_eq(record("k0", 2, "disband"), 1);
	expect_list("k0", 2, "subscribers", "");
	/* And the routes work against the new processes. */
	post_ok("/channel/subscriber_add", "{\"channel_id\":\"k1\",\"channel_type\":2,"
	    "\"subscribers\":[\"c1\"]}");
	expect_list("k1", 2, "subscribers", "a1,b1,c1");
}
END_TEST

/* Payloads that do not decode, as a tool could send them: each is answered
 * 400 (from wk-api it would be fatal: a bug there), nothing is written,
 * and the shard goes on serving.  The key is always g1/2 (00026731 02). */
static const struct { int type; const char *hex, *what; } malformed[] = {
	{ WK_MSG_CHANNEL_GET, "", "empty" },
	{ WK_MSG_CHANNEL_GET, "000267", "short string" },
	{ WK_MSG_CHANNEL_GET, "0002673102ff", "trailing byte" },
	{ WK_MSG_CHANNEL_GET, "ffff673102", "huge string length" },
	{ WK_MSG_CHANNEL_INFO, "0002673102", "no flags" },
	{ WK_MSG_CHANNEL_DELETE, "000267310200", "trailing byte" },
	{ WK_MSG_CHANNEL_LIST, "00026731026d01ffffffff00017531", "huge uid count" },
	{ WK_MSG_CHANNEL_LIST, "00026731027a0100000000", "unknown list" },
	{ WK_MSG_CHANNEL_LIST, "00026731026d0900000000", "unknown action" },
	{ WK_MSG_CHANNEL_UPSERT, "0002673102010000000001000275", "short uid" },
	{ WK_MSG_CHANNEL_MSG_SEND, "0002673102000275310000000000000000ffffffff", "huge payload length" },
	{ WK_MSG_CHANNEL_MSG_SYNC, "00026731020000000000000000", "short" },
	{ WK_MSG_CHANNEL_MSG_SEARCH, "0002673102ffffffff00000001", "huge seq count" },
	{ WK_MSG_CHANNEL_MSG_GET, "00026731020000000000000001000263310000", "trailing bytes" },
	{ WK_MSG_CHANNEL_CONV_RECENTS, "0002753100000001ffffffff", "huge item count" },
	{ WK_MSG_CHANNEL_MSG_EVENT, "0002673102000000000000000000000002633100026531000c"
	    "73747265616d2e64656c746100046d61696e00000000000000000000000000017b00",
	    "payload not JSON" },
	{ WK_MSG_CHANNEL_MSG_EVENT, "0002673102000000000000000000000002633100026531000c"
	    "73747265616d2e64656c746100046d61696e00000000000000000000000000027b7d",
	    "no delta byte" },
	{ WK_MSG_CHANNEL_MSG_EVENT, "0002673102000000000000000000000002633100026531000c"
	    "73747265616d2e64656c746100046d61696e00000000000000000000000000027b7d0100000001ff",
	    "delta not UTF-8" },
	{ WK_MSG_CHANNEL_MSG_EVENTSYNC, "000267310200026331000000000000000000000000c8", "no include_private" },
};

START_TEST(test_channel_ops_malformed)
{
	int shard = wk_shard_channel("g1", 2, NCHANNEL), pid = wkt_tree_pid(&tree, "channel", shard);
	struct wk_wbuf w, ans;
	size_t len;

	post_ok("/channel", "{\"channel_id\":\"g1\",\"channel_type\":2,\"subscribers\":[\"u1\"]}");
	for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
		uint8_t *bytes = wkt_unhex(malformed[i].hex, &len);
		wk_wbuf_init(&w);
		wk_put_mem(&w, bytes, len);
		ck_assert_msg(shard_op(malformed[i].type, "g1", &w, &ans) == 400, "%s %s: not 400",
		    wk_msg_type_name(malformed[i].type), malformed[i].what);
		free(bytes);
		wk_wbuf_free(&w);
		wk_wbuf_free(&ans);
	}
	/* Nothing was written, and the same process answers a good request. */
	ck_assert_int_eq(wkt_tree_pid(&tree, "channel", shard), pid);
	ck_assert_int_eq(record("g1", 2, "members"), 1);
	expect_list("g1", 2, "subscribers", "u1");
	expect("POST", "/channel/messagesync", "{\"login_uid\":\"u1\",\"channel_id\":\"g1\","
	    "\"channel_type\":2}", 200, "{\"start_message_seq\":0,\"end_message_seq\":0,"
	    "\"more\":1,\"messages\":[]}");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("channel");
	TCase *tc = tcase_create("channel");

	curl_global_init(CURL_GLOBAL_ALL);
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_channel_bad_requests);
	tcase_add_test(tc, test_channel_upsert_and_subscribers);
	tcase_add_test(tc, test_channel_lists);
	tcase_add_test(tc, test_channel_delete);
	tcase_add_test(tc, test_channel_survives_kill9);
	tcase_add_test(tc, test_channel_ops_malformed);
	suite_add_tcase(s, tc);
	return wkt_run_suite(s);
}
