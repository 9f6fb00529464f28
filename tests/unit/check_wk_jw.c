/* check_wk_jw.c - the streaming JSON writer (common/wk_jw.h)
 * against jansson: the same values in the same order print the same bytes
 * (what /conversation/sync's answers rely on), for random strings with
 * every escape, integers at the edges, base64 payloads, nesting; and the
 * UTF-8 check agrees with jansson's on random bytes. */
#include <check.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "wk_jw.h"
#include "wk_crypto.h"
#include "wk_msgresp.h"
#include "wkproto.h"
#include "wktest.h"

static void
rand_bytes(char *s, size_t n, int ascii)
{
	static const char some[] = "\"\\/\b\f\n\r\t\x01\x1f\x7f az09{}";

	for (size_t i = 0; i < n; i++)
		s[i] = ascii ? some[rand() % (sizeof some - 1)] : (char)(rand() & 0xff);
}

static void
check_same(struct wk_jw *w, json_t *tree)
{
	char *want = json_dumps(tree, JSON_COMPACT | JSON_ENCODE_ANY), *got;
	size_t len;

	got = wk_jw_take(w, &len);
	ck_assert_uint_eq(len, strlen(want));
	ck_assert_str_eq(got, want);
	free(got);
	free(want);
	json_decref(tree);
}

START_TEST(test_wk_jw_strings_match_jansson)
{
	struct wk_jw w;
	char s[64];

	srand(1234);
	for (int round = 0; round < 2000; round++) {
		size_t n = (size_t)(rand() % (int)sizeof s);
		rand_bytes(s, n, 1);
		wk_jw_init(&w);
		wk_jw_object(&w);
		wk_jw_kstr(&w, "k", s, n);
		wk_jw_key(&w, "a");
		wk_jw_array(&w);
		wk_jw_str(&w, s, n / 2);
		wk_jw_null(&w);
		wk_jw_end(&w, ']');
		wk_jw_end(&w, '}');
		check_same(&w, json_pack("{s:s%,s:[s%,n]}", "k", s, n, "a", s, n / 2));
		wk_jw_free(&w);
	}
}
END_TEST

START_TEST(test_wk_jw_ints_match_jansson)
{
	static const long long v[] = { 0, 1, -1, 9, 10, -10, 123456789, LLONG_MAX, LLONG_MIN,
	    LLONG_MIN + 1, 1700000000LL * 1000000000LL, 99, 100, -99, -100,
	    999999999999999999LL, 1000000000000000000LL, -1000000000000000000LL };
	struct wk_jw w;
	json_t *a = json_array();

	wk_jw_init(&w);
	wk_jw_array(&w);
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		wk_jw_int(&w, v[i]);
		json_array_append_new(a, json_integer(v[i]));
	}
	/* Random values of every length. */
	srand(77);
	for (int i = 0; i < 5000; i++) {
		long long r = (long long)(((unsigned long long)rand() << 33) ^
		    ((unsigned long long)rand() << 11) ^ (unsigned long long)rand());
		r >>= rand() % 63;
		if (rand() & 1)
			r = -r;
		wk_jw_int(&w, r);
		json_array_append_new(a, json_integer(r));
	}
	wk_jw_end(&w, ']');
	check_same(&w, a);
	wk_jw_free(&w);
}
END_TEST

START_TEST(test_wk_jw_b64_matches_string)
{
	struct wk_jw w;
	char in[40], out[WK_B64_ENCODED_LEN(40) + 1];

	for (size_t n = 0; n <= sizeof in; n++) {
		rand_bytes(in, n, 0);
		size_t k = wk_b64_encode(in, n, out);
		wk_jw_init(&w);
		wk_jw_array(&w);
		wk_jw_b64(&w, in, n);
		wk_jw_end(&w, ']');
		check_same(&w, json_pack("[s%]", out, k));
		wk_jw_free(&w);
	}
}
END_TEST

START_TEST(test_wk_jw_utf8_agrees_with_jansson)
{
	char s[24];

	srand(99);
	for (int round = 0; round < 20000; round++) {
		size_t n = (size_t)(rand() % (int)sizeof s);
		rand_bytes(s, n, 0);
		/* Mostly ASCII with a few high bytes: the 8-byte fast path and
		 * the multi-byte forms both run. */
		for (size_t i = 0; i < n; i++)
			if (rand() % 4)
				s[i] &= 0x7f;
		json_t *j = json_stringn(s, n);
		ck_assert_int_eq(wk_jw_is_utf8(s, n), j != NULL);
		json_decref(j);
	}
}
END_TEST

/* wk_jw_str_lossy: valid UTF-8 as wk_jw_str writes it, each stray byte as
 * U+FFFD. */
START_TEST(test_wk_jw_str_lossy_replaces_bad_bytes)
{
	struct wk_jw w;
	size_t len;
	char *got;

	wk_jw_init(&w);
	wk_jw_array(&w);
	wk_jw_str_lossy(&w, "a\xc3\xa9\"", 4);
	wk_jw_str_lossy(&w, "x\xff\xc3y\xed\xa0\x80", 7);
	wk_jw_end(&w, ']');
	got = wk_jw_take(&w, &len);
	ck_assert_str_eq(got, "[\"a\xc3\xa9\\\"\",\"x\xef\xbf\xbd\xef\xbf\xbdy"
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"]");
	free(got);
	wk_jw_free(&w);
}
END_TEST

/* wk_jw_is_json against jansson (JSON_DECODE_ANY): a table of edge cases,
 * then random cuts and byte flips of valid texts. */
START_TEST(test_wk_jw_is_json_agrees_with_jansson)
{
	static const char *const cases[] = {
		"{}", "[]", "0", "-0", "1.5e3", "-1E-2", "true", "false", "null", "\"\"",
		" { \"a\" : [1, 2.0, {\"b\":null}], \"c\":\"\\u00e9\\n\\/\" } ",
		"\"\\ud83d\\ude00\"", "{\"kind\":\"text\",\"delta\":\"3:12345;\"}",
		"", " ", "{", "}", "[1,]", "{\"a\":1,}", "{\"a\"}", "{1:2}", "01", "1.", ".5",
		"1e", "-", "+1", "tru", "nul", "[1 2]", "\"\\x\"", "\"\\u12\"", "\"a",
		"\"\\ud83d\"", "\"\\ude00\"", "\"\x01\"", "\"\xff\"", "1 2", "[][]",
		"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
	};
	char buf[128];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *j = json_loadb(cases[i], strlen(cases[i]), JSON_DECODE_ANY, NULL);
		/* jansson nests deeper than the writer: the deep case is ours alone. */
		int want = i == sizeof cases / sizeof cases[0] - 1 ? 0 : j != NULL;
		ck_assert_msg(wk_jw_is_json(cases[i], strlen(cases[i])) == want, "%s", cases[i]);
		json_decref(j);
	}
	srand(5);
	for (int round = 0; round < 20000; round++) {
		const char *base = cases[rand() % 13];
		size_t n = strlen(base);
		memcpy(buf, base, n);
		if (rand() % 2)
			n = (size_t)rand() % (n + 1);
		else
			buf[rand() % (int)n] = "{}[],:\"\\ 0e.-au\x01\xc3"[rand() % 18];
		json_t *j = json_loadb(buf, n, JSON_DECODE_ANY, NULL);
		ck_assert_msg(wk_jw_is_json(buf, n) == (j != NULL), "%.*s", (int)n, buf);
		json_decref(j);
	}
}
END_TEST

/* wk_jw_member: the raw text of an object's member, the last of its name. */
START_TEST(test_wk_jw_member_finds_raw_values)
{
	static const struct { const char *json, *want; int rc; } cases[] = {
		{ "{\"type\":1,\"content\":\"hi\"}", "\"hi\"", 1 },
		{ " { \"content\" : [1, {\"content\":2}] , \"x\":null } ", "[1, {\"content\":2}]", 1 },
		{ "{\"content\":1,\"content\":\"last\"}", "\"last\"", 1 },
		{ "{\"contents\":1,\"conten\":2}", NULL, 0 },
		{ "[\"content\"]", NULL, 0 },
		{ "\"content\"", NULL, 0 },
		{ "{}", NULL, 0 },
		{ "{\"content\":", NULL, -1 },
		{ "plain text", NULL, -1 },
		{ "{\"c\\u006fntent\":1}", NULL, -2 },
	};
	const char *v;
	size_t vn;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int rc = wk_jw_member(cases[i].json, strlen(cases[i].json), "content", &v, &vn);
		ck_assert_msg(rc == cases[i].rc, "%s: %d", cases[i].json, rc);
		if (rc == 1)
			ck_assert_msg(vn == strlen(cases[i].want) && memcmp(v, cases[i].want, vn) == 0,
			    "%s: %.*s", cases[i].json, (int)vn, v);
	}
}
END_TEST

/* MessageResp written straight (wk_msgresp_write, wk-hook's msg.notify and
 * wk-api's answers) is json_dumps of wk_msgresp's tree, byte for byte: a
 * person chat (the peer shown), the system uid (blank), no payload (null),
 * a topic, every flag, random strings with escapes; and where wk_msgresp
 * makes no object (a string that is not UTF-8) it writes nothing and
 * says -1. */
START_TEST(test_wk_msgresp_write_matches_tree)
{
	char from[40], cmn[40], topic[24];
	uint8_t payload[300];
	struct wk_chmsg cases[] = {
		{ .message_id = 42, .seq = 7, .timestamp = 1700000000, .flags = 0x01, .setting = 3,
		  .channel_type = WKPROTO_CHANNEL_PERSON, .expire = 60,
		  .from_uid = { "alice", 5 }, .channel_id = { "alice@bob", 9 },
		  .client_msg_no = { "c1", 2 }, .payload = { (const uint8_t *)"hi", 2 } },
		{ .message_id = -1, .seq = 0, .channel_type = 2, .flags = 0x0e,
		  .from_uid = { WK_SYSTEM_UID, sizeof WK_SYSTEM_UID - 1 }, .channel_id = { "g", 1 } },
		{ .message_id = INT64_MAX, .seq = UINT32_MAX, .timestamp = INT32_MIN, .channel_type = 255,
		  .expire = UINT32_MAX, .from_uid = { "u", 1 }, .channel_id = { "g\"\\/\n", 5 },
		  .topic = { "t\x01", 2 }, .payload = { payload, sizeof payload } },
	};
	struct wk_jw w;

	wk_jw_init(&w);
	for (int i = 0; i < 200; i++) {
		struct wk_chmsg m = cases[i % 3];
		if (i >= 3) {
			rand_bytes(from, sizeof from, i % 2);
			rand_bytes(cmn, sizeof cmn, 1);
			rand_bytes(topic, sizeof topic, i % 3 == 0);
			for (size_t k = 0; k < sizeof payload; k++)
				payload[k] = (uint8_t)rand();
			m.from_uid = (struct wk_str){ from, (uint16_t)(rand() % sizeof from) };
			m.client_msg_no = (struct wk_str){ cmn, (uint16_t)(rand() % sizeof cmn) };
			m.topic = (struct wk_str){ topic, (uint16_t)(rand() % sizeof topic) };
		}
		json_t *tree = wk_msgresp(&m);
		wk_jw_reset(&w);
		int rc = wk_msgresp_write(&w, &m);
		if (tree == NULL) {
			ck_assert_msg(rc == -1 && w.b.len == 0, "case %d: written without a tree", i);
			continue;
		}
		ck_assert_msg(rc == 0, "case %d: no text where jansson made a tree", i);
		check_same(&w, tree);
	}
	wk_jw_free(&w);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("wk_jw");
	TCase *tc = tcase_create("wk_jw");

	tcase_add_test(tc, test_wk_jw_strings_match_jansson);
	tcase_add_test(tc, test_wk_jw_ints_match_jansson);
	tcase_add_test(tc, test_wk_jw_b64_matches_string);
	tcase_add_test(tc, test_wk_jw_utf8_agrees_with_jansson);
	tcase_add_test(tc, test_wk_jw_str_lossy_replaces_bad_bytes);
	tcase_add_test(tc, test_wk_jw_is_json_agrees_with_jansson);
	tcase_add_test(tc, test_wk_jw_member_finds_raw_values);
	tcase_add_test(tc, test_wk_msgresp_write_matches_tree);
	suite_add_tcase(s, tc);
	return wkt_run_suite(s);
}
