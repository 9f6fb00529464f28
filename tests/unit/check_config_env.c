/* check_config_env.c - the wk.yaml loader (common/wk_config.c) after the
 * file: WK_* environment overrides and their errors, that it reads the
 * environment only through wk_config_getenv, and the derived values
 * (absolute directories, "auto" counts).  See wk.yaml(5). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wktest.h"
#include "wk_config.h"
#include "config_fixture.h"

START_TEST(test_config_env_overrides)
{
	static const char text[] =
	    "httpAddr: 0.0.0.0:1\n"
	    "webhook:\n"
	    "  focusEvents: [msg.notify]\n";
	struct wk_config c;
	char *out;

	setenv("WK_HTTPADDR", "127.0.0.1:9000", 1);
	setenv("WK_WEBHOOK_HTTPADDR", "http://env/hook", 1);
	setenv("WK_PROCESSES_BROKER", "2", 1);
	setenv("WK_PROCESSES_MAILBOX", "auto", 1);
	setenv("WK_TOKENAUTHON", "false", 1);
	setenv("WK_MODE", "Bench", 1);
	setenv("WK_CONNIDLETIME", "1d", 1);
	setenv("WK_WEBHOOK_FOCUSEVENTS", " msg.offline  user.onlinestatus ", 1);
	setenv("WK_MANAGERTOKEN", "", 1);       /* empty = unset, as viper */
	setenv("WK_CLUSTER_NODEID", "7", 1);    /* a reference key: ignored */
	ck_assert_int_eq(ct_load(text, &c, &out), 0);
	ck_assert_str_eq(out, "");
	ck_assert_str_eq(c.httpAddr, "127.0.0.1:9000");
	ck_assert_str_eq(c.webhook_httpAddr, "http://env/hook");
	ck_assert_int_eq(c.processes_broker, 2);
	ck_assert_int_eq(c.processes_mailbox, ct_ncores() > 256 ? 256 : ct_ncores());
	ck_assert_int_eq(c.tokenAuthOn, 0);
	ck_assert_str_eq(c.mode, "bench");
	ck_assert_int_eq(c.connIdleTime, 86400000);
	ck_assert_int_eq(c.webhook_focusEvents.n, 2);
	ck_assert_str_eq(c.webhook_focusEvents.v[0], "msg.offline");
	ck_assert_str_eq(c.webhook_focusEvents.v[1], "user.onlinestatus");
	ck_assert_str_eq(c.managerToken, "");
	ck_assert_int_eq(c.origin[WK_CKI_httpAddr], WK_CO_ENV);
	ck_assert_int_eq(c.origin[WK_CKI_webhook_focusEvents], WK_CO_ENV);
	ck_assert_int_eq(c.origin[WK_CKI_managerToken], WK_CO_DEFAULT);
	free(out);
	wk_config_free(&c);

	/* env alone, no file */
	ck_assert_int_eq(ct_load(NULL, &c, &out), 0);
	ck_assert_str_eq(c.httpAddr, "127.0.0.1:9000");
	free(out);
	wk_config_free(&c);
}
END_TEST

START_TEST(test_config_env_errors)
{
	static const char text[] =
	    "connAuthTimeout: 1x\n";
	static const char want[] =
	    "wk.yaml:1:18: connAuthTimeout: expected a duration like 500ms, 30s, 5m, got \"1x\"\n"
	    "WK_TOKENAUTHON: expected a boolean (true/false, yes/no, on/off, 1/0), got \"maybe\"\n"
	    "WK_CONNIDLETIME: expected a duration like 500ms, 30s, 5m, got \"10\" "
	    "(add a unit: 10ms, 10s, 10m)\n"
	    "WK_PROCESSES_BROKER: must be between 1 and 256, got \"1000\"\n"
	    "WK_STORAGE_SYNC: must be one of fsync, write, none, got \"sometimes\"\n"
	    "WK_WSSADDR: wssAddr: needs wssConfig.certFile and wssConfig.keyFile\n";
	struct wk_config c;
	char *out;

	setenv("WK_TOKENAUTHON", "maybe", 1);
	setenv("WK_CONNIDLETIME", "10", 1);
	setenv("WK_STORAGE_SYNC", "sometimes", 1);
	setenv("WK_PROCESSES_BROKER", "1000", 1);
	setenv("WK_WSSADDR", "wss://0.0.0.0:5210", 1);
	ck_assert_int_eq(ct_load(text, &c, &out), -1);
	ck_assert_msg(strcmp(out, want) == 0, "want:\n%sgot:\n%s", want, out);
	free(out);
}
END_TEST

/* A replacement environment, to check the loader reads only through wk_config_getenv. */
static char *
fake_getenv(const char *name)
{
	static char mode[] = "debug", home[] = "/home/someone";

	if (strcmp(name, "WK_MODE") == 0)
		return mode;
	if (strcmp(name, "HOME") == 0)
		return home;
	return NULL;
}

START_TEST(test_config_env_hook)
{
	struct wk_config c;
	char *out;

	setenv("WK_HTTPADDR", "127.0.0.1:9000", 1);
	wk_config_getenv = fake_getenv;
	ck_assert_int_eq(ct_load("rootDir: ~/wk\n", &c, &out), 0);
	wk_config_getenv = getenv;
	ck_assert_str_eq(out, "");
	ck_assert_str_eq(c.mode, "debug");
	ck_assert_str_eq(c.httpAddr, "0.0.0.0:5001");
	ck_assert_str_eq(c.rootDir, "/home/someone/wk");
	ck_assert_str_eq(c.dataDir, "/home/someone/wk/data");
	free(out);
	wk_config_free(&c);
}
END_TEST

START_TEST(test_config_paths)
{
	static const struct {
		const char *yaml;
		const char *root, *data, *run;   /* relative to cwd unless absolute */
	} cases[] = {
		{ "rootDir: ./sub//dir/\n", "sub/dir", "sub/dir/data", "sub/dir/run" },
		{ "rootDir: /srv/wk\n", "/srv/wk", "/srv/wk/data", "/srv/wk/run" },
		{ "rootDir: /srv/wk\ndataDir: /data/wk\nrunDir: run\n", "/srv/wk", "/data/wk", "run" },
		{ "rootDir: \"\"\n", ".", "data", "run" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *want[3] = { cases[i].root, cases[i].data, cases[i].run };
		struct wk_config c;
		char *out;

		ck_assert_int_eq(ct_load(cases[i].yaml, &c, &out), 0);
		const char *got[3] = { c.rootDir, c.dataDir, c.runDir };
		for (int j = 0; j < 3; j++) {
			char *w = want[j][0] == '/' ? strdup(want[j]) :
			    strcmp(want[j], ".") == 0 ? getcwd(NULL, 0) : ct_cwd_join(want[j]);
			ck_assert_msg(strcmp(got[j], w) == 0, "case %zu dir %d: want %s got %s",
			    i, j, w, got[j]);
			free(w);
		}
		free(out);
		wk_config_free(&c);
	}
}
END_TEST

START_TEST(test_config_count_auto)
{
	struct wk_config c;
	char *out;
	int want = 2 * ct_ncores() > 256 ? 256 : 2 * ct_ncores();
	int cores = ct_ncores() > 256 ? 256 : ct_ncores();

	ck_assert_int_eq(ct_load("processes:\n  perCore: 2\n  channel: 3\n  mailbox: Auto\n", &c, &out), 0);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(c.processes_perCore, 2);
	/* perCore multiplies the shards, not the brokers */
	ck_assert_int_eq(c.processes_broker, cores);
	ck_assert_int_eq(c.processes_channel, 3);
	ck_assert_int_eq(c.processes_mailbox, want);
	free(out);
	wk_config_free(&c);

	/* 64 per core on any machine with more than 4 cores passes 256: clamped */
	ck_assert_int_eq(ct_load("processes: {perCore: 64}\n", &c, &out), 0);
	want = 64 * ct_ncores() > 256 ? 256 : 64 * ct_ncores();
	ck_assert_int_eq(c.processes_mailbox, want);
	ck_assert_int_eq(c.processes_broker, cores);
	free(out);
	wk_config_free(&c);
}
END_TEST

static Suite *
config_env_suite(void)
{
	Suite *s = suite_create("config_env");
	TCase *tc = tcase_create("env");

	tcase_add_checked_fixture(tc, ct_setup, ct_teardown);
	tcase_add_test(tc, test_config_env_overrides);
	tcase_add_test(tc, test_config_env_errors);
	tcase_add_test(tc, test_config_env_hook);
	tcase_add_test(tc, test_config_paths);
	tcase_add_test(tc, test_config_count_auto);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return wkt_run_suite(config_env_suite());
}
