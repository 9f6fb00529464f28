/* check_config_format.c - a loaded wk.yaml written back
 * (common/wk_config_format.c): each kind of value as text, every key
 * formatted and loaded back equal, and the keys that differ between two
 * loads (what the master reports on SIGHUP).  See wk.yaml(5). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wktest.h"
#include "wk_config.h"
#include "config_fixture.h"

START_TEST(test_config_format)
{
	static const char text[] =
	    "managerUID: \"true\"\n"
	    "managerToken: \"\"\n"
	    "customerService:\n"
	    "  visitorsSuffix: \"a \\\"b\\\"\"\n"
	    "connIdleTime: 5400s\n"
	    "connAuthTimeout: 1500ms\n"
	    "storage:\n"
	    "  cacheSize: 2048m\n"
	    "limits:\n"
	    "  maxPacketSize: 1536\n"
	    "webhook:\n"
	    "  focusEvents: [msg.offline, \"x y\"]\n"
	    "processes:\n"
	    "  broker: 4\n";
	static const struct { int ki; const char *want; } cases[] = {
		{ WK_CKI_addr, "tcp://0.0.0.0:5100" },
		{ WK_CKI_managerUID, "\"true\"" },
		{ WK_CKI_managerToken, "\"\"" },
		{ WK_CKI_customerService_visitorsSuffix, "\"a \\\"b\\\"\"" },
		{ WK_CKI_tokenAuthOn, "true" },
		{ WK_CKI_connIdleTime, "1h30m" },
		{ WK_CKI_connAuthTimeout, "1s500ms" },
		{ WK_CKI_supervisor_respawnDelay, "100ms" },
		{ WK_CKI_storage_cacheSize, "2g" },
		{ WK_CKI_limits_maxPacketSize, "1536" },
		{ WK_CKI_limits_outputBufferMax, "4m" },
		{ WK_CKI_webhook_focusEvents, "[msg.offline, \"x y\"]" },
		{ WK_CKI_processes_broker, "4" },
		{ WK_CKI_mode, "release" },
		{ WK_CKI_logger_level, "0" },
	};
	struct wk_config c;
	char *out, buf[256];

	ck_assert_int_eq(ct_load(text, &c, &out), 0);
	ck_assert_str_eq(out, "");
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		wk_config_format(&c, &wk_config_keys[cases[i].ki], buf, sizeof buf);
		ck_assert_msg(strcmp(buf, cases[i].want) == 0, "%s: want %s got %s",
		    wk_config_keys[cases[i].ki].path, cases[i].want, buf);
	}
	/* a short buffer is truncated, never overrun */
	wk_config_format(&c, &wk_config_keys[WK_CKI_addr], buf, 4);
	ck_assert_str_eq(buf, "tcp");
	free(out);
	wk_config_free(&c);
}
END_TEST

/* Every key written with wk_config_format (sections nested) loads back equal. */
START_TEST(test_config_format_roundtrip)
{
	static const char text[] =
	    "managerUID: \"on\"\n"
	    "customerService: {visitorsSuffix: \"tab\\there\"}\n"
	    "webhook: {focusEvents: [\"a,b\", \"[c]\", \"#d\"], httpAddr: \"http://x/?a=1&b=2\"}\n"
	    "external: {ip: \"1234\"}\n";
	struct wk_config a, b;
	char *out, *yaml = NULL, buf[512];
	size_t len = 0, sectlen = 0;
	const char *sect = NULL;
	FILE *f;

	ck_assert_int_eq(ct_load(text, &a, &out), 0);
	free(out);
	f = open_memstream(&yaml, &len);
	for (size_t i = 0; i < wk_config_nkeys; i++) {
		const char *p = wk_config_keys[i].path, *dot = strchr(p, '.');
		wk_config_format(&a, &wk_config_keys[i], buf, sizeof buf);
		if (dot != NULL && (sect == NULL || sectlen != (size_t)(dot - p) ||
		    strncmp(sect, p, sectlen) != 0)) {
			sect = p;
			sectlen = (size_t)(dot - p);
			fprintf(f, "%.*s:\n", (int)sectlen, p);
		} else if (dot == NULL)
			sect = NULL;
		fprintf(f, "%s%s: %s\n", dot ? "  " : "", dot ? dot + 1 : p, buf);
	}
	fclose(f);
	ck_assert_msg(ct_load(yaml, &b, &out) == 0, "%s\n%s", yaml, out);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(wk_config_diff(&a, &b, NULL, NULL), 0);
	ck_assert_str_eq(b.customerService_visitorsSuffix, "tab\there");
	ck_assert_str_eq(b.webhook_focusEvents.v[0], "a,b");
	free(out);
	free(yaml);
	wk_config_free(&a);
	wk_config_free(&b);
}
END_TEST

START_TEST(test_config_diff)
{
	struct wk_config a, b, c;
	char *out, seen[512] = "";

	ck_assert_int_eq(ct_load(NULL, &a, &out), 0);
	free(out);
	ck_assert_int_eq(ct_load(NULL, &b, &out), 0);
	free(out);
	ck_assert_int_eq(wk_config_diff(&a, &b, ct_collect_paths, seen), 0);
	ck_assert_str_eq(seen, "");
	wk_config_free(&b);

	ck_assert_int_eq(ct_load("connIdleTime: 5m\n"
	    "managerUID: admin\n"
	    "webhook:\n  focusEvents: [msg.offline]\n"
	    "storage: {cacheSize: 65536k}\n"          /* = 64m: no change */
	    "tokenAuthOn: yes\n"                      /* = default: no change */
	    "processes: {broker: 1}\n", &b, &out), 0);
	free(out);
	ck_assert_int_eq(wk_config_diff(&a, &b, ct_collect_paths, seen), ct_ncores() == 1 ? 3 : 4);
	ck_assert_str_eq(seen, ct_ncores() == 1 ?
	    "managerUID connIdleTime webhook.focusEvents " :
	    "managerUID connIdleTime webhook.focusEvents processes.broker ");
	ck_assert_int_eq(wk_config_diff(&b, &a, NULL, NULL), ct_ncores() == 1 ? 3 : 4);
	wk_config_free(&b);

	/* lists differing only in one element */
	ck_assert_int_eq(ct_load("webhook:\n  focusEvents: [a, b]\n", &b, &out), 0);
	free(out);
	ck_assert_int_eq(ct_load("webhook:\n  focusEvents: [a, c]\n", &c, &out), 0);
	free(out);
	ck_assert_int_eq(wk_config_diff(&b, &c, NULL, NULL), 1);
	wk_config_free(&a);
	wk_config_free(&b);
	wk_config_free(&c);
}
END_TEST

static Suite *
config_format_suite(void)
{
	Suite *s = suite_create("config_format");
	TCase *tc = tcase_create("format");

	tcase_add_checked_fixture(tc, ct_setup, ct_teardown);
	tcase_add_test(tc, test_config_format);
	tcase_add_test(tc, test_config_format_roundtrip);
	tcase_add_test(tc, test_config_diff);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return wkt_run_suite(config_format_suite());
}
