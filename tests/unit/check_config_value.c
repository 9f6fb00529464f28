/* check_config_value.c - the value syntax of wk.yaml
 * (common/wk_config_value.c): durations, sizes and booleans through their
 * parsers, and lists written as a sequence, a flow list or one string.  See wk.yaml(5). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wktest.h"
#include "wk_config.h"
#include "config_fixture.h"

static const struct {
	const char *s;
	int ok;
	int64_t ms;
} durations[] = {
	{ "500ms", 1, 500 }, { "30s", 1, 30000 }, { "5m", 1, 300000 }, { "2h", 1, 7200000 },
	{ "1h30m", 1, 5400000 }, { "1d", 1, 86400000 }, { "7d", 1, 604800000 },
	{ "0", 1, 0 }, { "0s", 1, 0 }, { "1.5s", 1, 1500 }, { ".5s", 1, 500 },
	{ "1m30s", 1, 90000 }, { "2000us", 1, 2 }, { "3000000ns", 1, 3 },
	{ "2\xc2\xb5s", 0, 0 }, { "1000\xc2\xb5s", 1, 1 }, { "1s500ms", 1, 1500 },
	{ "10", 0, 0 }, { "5x", 0, 0 }, { "-1s", 0, 0 }, { "", 0, 0 }, { "s", 0, 0 },
	{ "1.5", 0, 0 }, { "1 s", 0, 0 }, { "1S", 0, 0 }, { "1e3s", 0, 0 }, { "+1s", 0, 0 },
	{ "106751d", 1, 106751LL * 86400000 }, { "106752d", 0, 0 },
	{ "1500us", 0, 0 }, { "99999999999999h", 0, 0 }, { "1h 30m", 0, 0 }, { ".s", 0, 0 },
};

START_TEST(test_config_duration_parse)
{
	int64_t ms = -7;
	int rc = wk_config_parse_duration(durations[_i].s, &ms);

	if (durations[_i].ok) {
		ck_assert_msg(rc == 0, "\"%s\" rejected", durations[_i].s);
		ck_assert_msg(ms == durations[_i].ms, "\"%s\" = %lld", durations[_i].s, (long long)ms);
	} else
		ck_assert_msg(rc == -1, "\"%s\" accepted as %lld", durations[_i].s, (long long)ms);
}
END_TEST

static const struct {
	const char *s;
	int ok;
	int64_t n;
} sizes[] = {
	{ "0", 1, 0 }, { "123", 1, 123 }, { "64k", 1, 65536 }, { "64K", 1, 65536 },
	{ "16m", 1, 16 << 20 }, { "16M", 1, 16 << 20 }, { "1g", 1, 1LL << 30 },
	{ "3G", 1, 3LL << 30 },
	{ "", 0, 0 }, { "k", 0, 0 }, { "1kb", 0, 0 }, { "1.5m", 0, 0 }, { "-1", 0, 0 },
	{ "1t", 0, 0 }, { " 1", 0, 0 }, { "1 k", 0, 0 }, { "99999999999999999999", 0, 0 },
	{ "9999999999999g", 0, 0 },
};

START_TEST(test_config_size_parse)
{
	int64_t n = -7;
	int rc = wk_config_parse_size(sizes[_i].s, &n);

	if (sizes[_i].ok) {
		ck_assert_msg(rc == 0, "\"%s\" rejected", sizes[_i].s);
		ck_assert_msg(n == sizes[_i].n, "\"%s\" = %lld", sizes[_i].s, (long long)n);
	} else
		ck_assert_msg(rc == -1, "\"%s\" accepted as %lld", sizes[_i].s, (long long)n);
}
END_TEST

START_TEST(test_config_bool_parse)
{
	static const struct { const char *s; int rc, v; } cases[] = {
		{ "true", 0, 1 }, { "TRUE", 0, 1 }, { "yes", 0, 1 }, { "On", 0, 1 }, { "1", 0, 1 },
		{ "false", 0, 0 }, { "No", 0, 0 }, { "OFF", 0, 0 }, { "0", 0, 0 },
		{ "", -1, 0 }, { "2", -1, 0 }, { "y", -1, 0 }, { "truee", -1, 0 }, { "t", -1, 0 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int v = -1;
		ck_assert_msg(wk_config_parse_bool(cases[i].s, &v) == cases[i].rc, "\"%s\"", cases[i].s);
		if (cases[i].rc == 0)
			ck_assert_msg(v == cases[i].v, "\"%s\" = %d", cases[i].s, v);
	}
}
END_TEST

START_TEST(test_config_lists)
{
	static const struct {
		const char *yaml;
		int n;
		const char *v0, *v1;
	} cases[] = {
		{ "webhook:\n  focusEvents: [msg.offline, msg.notify]\n", 2, "msg.offline", "msg.notify" },
		{ "webhook:\n  focusEvents:\n    - msg.notify\n    - \"a b\"\n", 2, "msg.notify", "a b" },
		{ "webhook:\n  focusEvents: []\n", 0, NULL, NULL },
		{ "webhook:\n  focusEvents:\n", 0, NULL, NULL },
		{ "webhook:\n  focusEvents: msg.offline user.onlinestatus\n", 2, "msg.offline",
		  "user.onlinestatus" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct wk_config c;
		char *out;

		ck_assert_int_eq(ct_load(cases[i].yaml, &c, &out), 0);
		ck_assert_str_eq(out, "");
		ck_assert_int_eq(c.webhook_focusEvents.n, cases[i].n);
		if (cases[i].n > 0) {
			ck_assert_str_eq(c.webhook_focusEvents.v[0], cases[i].v0);
			ck_assert_str_eq(c.webhook_focusEvents.v[1], cases[i].v1);
		}
		free(out);
		wk_config_free(&c);
	}
}
END_TEST

static Suite *
config_value_suite(void)
{
	Suite *s = suite_create("config_value");
	TCase *tc = tcase_create("value");

	tcase_add_checked_fixture(tc, ct_setup, ct_teardown);
	tcase_add_loop_test(tc, test_config_duration_parse, 0, sizeof durations / sizeof durations[0]);
	tcase_add_loop_test(tc, test_config_size_parse, 0, sizeof sizes / sizeof sizes[0]);
	tcase_add_test(tc, test_config_bool_parse);
	tcase_add_test(tc, test_config_lists);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return wkt_run_suite(config_value_suite());
}
