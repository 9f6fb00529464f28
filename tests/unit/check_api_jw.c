/* check_api_jw.c - wk-api's streaming JSON writer (brokers/api/api_jw.h)
 * against jansson: the same values in the same order print the same bytes
 * (what /conversation/sync's answers rely on), for random strings with
 * every escape, integers at the edges, base64 payloads, nesting; and the
 * UTF-8 check agrees with jansson's on random bytes. */
#include <check.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "api_jw.h"
#include "wk_crypto.h"
#include "wktest.h"

static void
rand_bytes(char *s, size_t n, int ascii)
{
	static const char some[] = "\"\\/\b\f\n\r\t\x01\x1f\x7f az09{}";

	for (size_t i = 0; i < n; i++)
		s[i] = ascii ? some[rand() % (sizeof some - 1)] : (char)(rand() & 0xff);
}

static void
check_same(struct api_jw *w, json_t *tree)
{
	char *want = json_dumps(tree, JSON_COMPACT | JSON_ENCODE_ANY), *got;
	size_t len;

	got = api_jw_take(w, &len);
	ck_assert_uint_eq(len, strlen(want));
	ck_assert_str_eq(got, want);
	free(got);
	free(want);
	json_decref(tree);
}

START_TEST(test_api_jw_strings_match_jansson)
{
	struct api_jw w;
	char s[64];

	srand(1234);
	for (int round = 0; round < 2000; round++) {
		size_t n = (size_t)(rand() % (int)sizeof s);
		rand_bytes(s, n, 1);
		api_jw_init(&w);
		api_jw_object(&w);
		api_jw_kstr(&w, "k", s, n);
		api_jw_key(&w, "a");
		api_jw_array(&w);
		api_jw_str(&w, s, n / 2);
		api_jw_null(&w);
		api_jw_end(&w, ']');
		api_jw_end(&w, '}');
		check_same(&w, json_pack("{s:s%,s:[s%,n]}", "k", s, n, "a", s, n / 2));
		api_jw_free(&w);
	}
}
END_TEST

START_TEST(test_api_jw_ints_match_jansson)
{
	static const long long v[] = { 0, 1, -1, 9, 10, -10, 123456789, LLONG_MAX, LLONG_MIN,
	    LLONG_MIN + 1, 1700000000LL * 1000000000LL, 99, 100, -99, -100,
	    999999999999999999LL, 1000000000000000000LL, -1000000000000000000LL };
	struct api_jw w;
	json_t *a = json_array();

	api_jw_init(&w);
	api_jw_array(&w);
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		api_jw_int(&w, v[i]);
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
		api_jw_int(&w, r);
		json_array_append_new(a, json_integer(r));
	}
	api_jw_end(&w, ']');
	check_same(&w, a);
	api_jw_free(&w);
}
END_TEST

START_TEST(test_api_jw_b64_matches_string)
{
	struct api_jw w;
	char in[40], out[WK_B64_ENCODED_LEN(40) + 1];

	for (size_t n = 0; n <= sizeof in; n++) {
		rand_bytes(in, n, 0);
		size_t k = wk_b64_encode(in, n, out);
		api_jw_init(&w);
		api_jw_array(&w);
		api_jw_b64(&w, in, n);
		api_jw_end(&w, ']');
		check_same(&w, json_pack("[s%]", out, k));
		api_jw_free(&w);
	}
}
END_TEST

START_TEST(test_api_jw_utf8_agrees_with_jansson)
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
		ck_assert_int_eq(api_jw_is_utf8(s, n), j != NULL);
		json_decref(j);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("api_jw");
	TCase *tc = tcase_create("api_jw");

	tcase_add_test(tc, test_api_jw_strings_match_jansson);
	tcase_add_test(tc, test_api_jw_ints_match_jansson);
	tcase_add_test(tc, test_api_jw_b64_matches_string);
	tcase_add_test(tc, test_api_jw_utf8_agrees_with_jansson);
	suite_add_tcase(s, tc);
	return wkt_run_suite(s);
}
