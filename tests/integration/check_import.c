/* check_import.c - `wkctl import` (wkctl(8)) with a wk tree standing in as
 * the WuKongIM source: two trees, the source filled through the HTTP API
 * (groups with members, blacklist, whitelist and flags; a person chat;
 * messages with client_msg_nos, red dots, topics), the import run by the
 * real wkctl, then every /channel/messagesync answer of the target equal
 * byte for byte to the source's (same ids, seqs, timestamps, payloads), the
 * lists and flags equal, a second run storing nothing, and the target's
 * next message taking the seq after the imported ones.  Also POST
 * /message/import's refusals: a seq held by another message (409), bad
 * messages (400); and CHANNEL_MSG_IMPORT rows that do not decode. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "wk_msg.h"
#include "wktest.h"

static struct wkt_tree src, dst;

/* Fill the source: g1 (3 members, a blacklist, a whitelist, 25 messages),
 * g2 (banned after 3 messages), the person chat a/b (4 messages). */
static void
fill_source(void)
{
	char text[64], extra[64];

	wkt_post_ok(&src, "/channel", "{\"channel_id\":\"g1\",\"channel_type\":2,"
	    "\"subscribers\":[\"a\",\"b\",\"c\"]}");
	wkt_post_ok(&src, "/channel/blacklist_add", "{\"channel_id\":\"g1\",\"channel_type\":2,"
	    "\"uids\":[\"x\"]}");
	wkt_post_ok(&src, "/channel/whitelist_add", "{\"channel_id\":\"g1\",\"channel_type\":2,"
	    "\"uids\":[\"a\",\"b\"]}");
	wkt_post_ok(&src, "/channel", "{\"channel_id\":\"g2\",\"channel_type\":2,"
	    "\"subscribers\":[\"a\"]}");
	for (int i = 1; i <= 25; i++) {
		snprintf(text, sizeof text, "g1 message %d", i);
		snprintf(extra, sizeof extra, ",\"client_msg_no\":\"cmn-%d\"", i);
		wkt_send_text(&src, i % 2 ? "a" : "b", "g1", 2, text, i % 3 ? NULL :
		    "{\"red_dot\":0}", extra, NULL);
	}
	for (int i = 1; i <= 3; i++) {
		snprintf(text, sizeof text, "g2 message %d", i);
		wkt_send_text(&src, "a", "g2", 2, text, NULL, NULL, NULL);
	}
	wkt_post_ok(&src, "/channel/info", "{\"channel_id\":\"g2\",\"channel_type\":2,\"ban\":1}");
	for (int i = 1; i <= 4; i++) {
		snprintf(text, sizeof text, "person message %d", i);
		wkt_send_text(&src, i % 2 ? "a" : "b", i % 2 ? "b" : "a", 1, text, NULL, NULL, NULL);
	}
}

/* POST path on t: the raw answer (status 200 required). */
static char *
post_raw(const struct wkt_tree *t, const char *path, const char *body)
{
	char url[256], *resp = NULL;

	snprintf(url, sizeof url, "%s%s", t->http, path);
	ck_assert_int_eq(wkt_http("POST", url, body, &resp, NULL), 200);
	return resp;
}

static char *
get_raw(const struct wkt_tree *t, const char *path)
{
	char url[256], *resp = NULL;
	long st;

	snprintf(url, sizeof url, "%s%s", t->http, path);
	st = wkt_http("GET", url, NULL, &resp, NULL);
	ck_assert_msg(st == 200, "GET %s: %ld %s", path, st, resp ? resp : "");
	return resp;
}

/* Both trees answer POST path with body byte for byte the same. */
static void
same_post(const char *path, const char *body)
{
	char *a = post_raw(&src, path, body), *b = post_raw(&dst, path, body);

	if (strcmp(a, b) != 0)       /* too long for a Check message */
		fprintf(stderr, "%s %s:\nsource %s\ntarget %s\n", path, body, a, b);
	ck_assert_msg(strcmp(a, b) == 0, "POST %s: the answers differ", path);
	free(a);
	free(b);
}

static void
same_get(const char *path)
{
	char *a = get_raw(&src, path), *b = get_raw(&dst, path);

	if (strcmp(a, b) != 0)
		fprintf(stderr, "GET %s:\nsource %s\ntarget %s\n", path, a, b);
	ck_assert_msg(strcmp(a, b) == 0, "GET %s: the answers differ", path);
	free(a);
	free(b);
}

/* What a client syncing the channel sees: the same on both trees. */
static void
same_history(const char *login, const char *id, int type)
{
	char body[256];

	snprintf(body, sizeof body, "{\"login_uid\":\"%s\",\"channel_id\":\"%s\",\"channel_type\":%d,"
	    "\"start_message_seq\":0,\"end_message_seq\":0,\"limit\":100,\"pull_mode\":1}",
	    login, id, type);
	same_post("/channel/messagesync", body);
	snprintf(body, sizeof body, "{\"login_uid\":\"%s\",\"channel_id\":\"%s\",\"channel_type\":%d,"
	    "\"start_message_seq\":7,\"end_message_seq\":3,\"limit\":2,\"pull_mode\":0}",
	    login, id, type);
	same_post("/channel/messagesync", body);
}

/* Run wkctl import into dst; its output. */
static char *
run_import(void)
{
	char *out = NULL;
	int rc = wkt_run(&out, "%s/wkctl -f %s import -s %s -n 10 g1:2 g2:2 a@b:1 2>&1",
	    WK_TEST_BUILDDIR, dst.config, src.http);

	ck_assert_msg(rc == 0, "wkctl import: %d\n%s", rc, out);
	return out;
}

START_TEST(test_import_identical)
{
	char *out;

	wkt_tree_start(&src, NULL);
	wkt_tree_start(&dst, NULL);
	fill_source();
	out = run_import();
	ck_assert_msg(strstr(out, "g1:2: members 3, blacklist 1, whitelist 2, messages 25 (25 new)"),
	    "%s", out);
	ck_assert_msg(strstr(out, "g2:2: members 1, blacklist 0, whitelist 0, messages 3 (3 new)"),
	    "%s", out);
	ck_assert_msg(strstr(out, "a@b:1: members -, blacklist -, whitelist -, messages 4 (4 new)"),
	    "%s", out);
	free(out);
	same_history("a", "g1", 2);
	same_history("c", "g2", 2);
	same_history("a", "b", 1);
	same_history("b", "a", 1);
	same_get("/cluster/channels?channel_id=g1&channel_type=2");
	same_get("/cluster/channels?channel_id=g2&channel_type=2");   /* ban 1 */
	same_get("/cluster/channels/g1/2/subscribers");
	same_get("/cluster/channels/g1/2/denylist");
	same_get("/cluster/channels/g1/2/allowlist");
	same_post("/messages", "{\"channel_id\":\"g1\",\"channel_type\":2,"
	    "\"client_msg_nos\":[\"cmn-3\",\"cmn-20\"]}");
	/* Twice: nothing new, nothing changed. */
	out = run_import();
	ck_assert_msg(strstr(out, "g1:2: members 3, blacklist 1, whitelist 2, messages 25 (0 new)"),
	    "%s", out);
	free(out);
	same_history("a", "g1", 2);
	/* The target goes on after the imported seqs. */
	ck_assert_int_eq(wkt_send_text(&dst, "a", "g1", 2, "after", NULL, NULL, NULL), 26);
	wkt_tree_stop(&dst);
	wkt_tree_stop(&src);
}
END_TEST

/* /message/import's refusals. */
START_TEST(test_import_refused)
{
	static const struct { const char *body; long status; } cases[] = {
		{ "{\"channel_id\":\"g1\",\"channel_type\":2,\"messages\":[{\"message_id\":9,"
		  "\"message_seq\":1,\"timestamp\":1,\"payload\":\"aGk=\"}]}", 409 },
		{ "{\"channel_id\":\"g1\",\"channel_type\":2,\"messages\":[{\"message_seq\":5,"
		  "\"timestamp\":1,\"payload\":\"aGk=\"}]}", 400 },
		{ "{\"channel_id\":\"g1\",\"channel_type\":2,\"messages\":[{\"message_id\":9,"
		  "\"message_seq\":5,\"timestamp\":1,\"payload\":\"a\"}]}", 400 },
		{ "{\"channel_id\":\"g1\",\"channel_type\":2,\"messages\":[{\"message_id\":9,"
		  "\"message_seq\":6,\"timestamp\":1,\"payload\":\"aGk=\"},{\"message_id\":8,"
		  "\"message_seq\":6,\"timestamp\":1,\"payload\":\"aGk=\"}]}", 400 },
		{ "{\"channel_id\":\"g1\",\"channel_type\":2}", 400 },
		{ "{\"channel_id\":\"\",\"channel_type\":2,\"messages\":[]}", 400 },
		{ "{\"channel_id\":\"b\",\"channel_type\":1,\"messages\":[]}", 400 },
		{ "{\"channel_id\":\"g1\",\"channel_type\":2,\"messages\":[{\"message_idstr\":\"9x\","
		  "\"message_seq\":5,\"timestamp\":1,\"payload\":\"aGk=\"}]}", 400 },
		{ "[1]", 400 },
	};
	char url[256], *resp;

	wkt_tree_start(&dst, NULL);
	wkt_send_text(&dst, "a", "g1", 2, "one", NULL, NULL, NULL);
	snprintf(url, sizeof url, "%s/message/import", dst.http);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		resp = NULL;
		ck_assert_msg(wkt_http("POST", url, cases[i].body, &resp, NULL) == cases[i].status,
		    "%s: %s", cases[i].body, resp ? resp : "");
		free(resp);
	}
	/* Nothing of them was stored; an empty batch is fine. */
	wkt_expect(&dst, "POST", "/message/import", "{\"channel_id\":\"g1\",\"channel_type\":2,"
	    "\"messages\":[]}", 200, "{\"status\":200,\"data\":{\"stored\":0,\"skipped\":0}}");
	wkt_expect(&dst, "GET", "/channel/max_message_seq?channel_id=g1&channel_type=2", NULL, 200,
	    "{\"message_seq\":1}");
	wkt_tree_stop(&dst);
}
END_TEST

/* CHANNEL_MSG_IMPORT rows that do not decode, sent as a tool: 400 each,
 * and the shard serves on. */
START_TEST(test_import_malformed_row)
{
	static const uint8_t key[] = { 0, 2, 'g', '1', 2 };
	uint8_t row[64], *ans = NULL;
	size_t len, n;
	struct wkt_shard_link *l;
	int shard;

	wkt_tree_start(&dst, NULL);
	l = wkt_shard_link_new(&dst);
	for (int c = 0; c < 5; c++) {
		memcpy(row, key, sizeof key);
		n = sizeof key;
		switch (c) {
		case 0: n = 3; break;                                       /* short key */
		case 1: break;                                              /* no count */
		case 2: memcpy(row + n, "\xff\xff\xff\xff", 4); n += 4; break; /* huge count */
		case 3: memcpy(row + n, "\0\0\0\1\7", 5); n += 5; break;     /* a message cut */
		case 4: memcpy(row + n, "\0\0\0\0\7", 5); n += 5; break;     /* trailing bytes */
		}
		/* Both shards: the row is refused whichever owns g1. */
		for (shard = 0; shard < 2; shard++) {
			ck_assert_int_eq(wkt_shard_ask(l, "channel", shard, WK_MSG_CHANNEL_MSG_IMPORT, row,
			    n, &ans, &len), 400);
			free(ans);
			ans = NULL;
		}
	}
	wkt_shard_link_destroy(&l);
	ck_assert_int_eq(wkt_send_text(&dst, "a", "g1", 2, "still here", NULL, NULL, NULL), 1);
	wkt_tree_stop(&dst);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("import");
	TCase *tc = tcase_create("import");

	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, test_import_identical);
	tcase_add_test(tc, test_import_refused);
	tcase_add_test(tc, test_import_malformed_row);
	suite_add_tcase(s, tc);
	return wkt_run_suite(s);
}
