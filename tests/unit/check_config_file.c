/* check_config_file.c - the wk.yaml loader (common/wk_config.c,
 * wk_config_yaml.c) on files: the defaults, the schema table, a good file
 * with nested and case-insensitive keys, every error of a bad file with its
 * exact FILE:LINE:COL text, a missing file, the reference keys wk accepts
 * with a warning, and the shipped wk.yaml.  See wk.yaml(5). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wktest.h"
#include "wk_config.h"
#include "config_fixture.h"

START_TEST(test_config_defaults)
{
	struct wk_config c;
	char *out, *root, *data, *run, buf[256];
	int n = ct_ncores() > 256 ? 256 : ct_ncores();

	ck_assert_int_eq(ct_load(NULL, &c, &out), 0);
	ck_assert_str_eq(out, "");
	ck_assert_ptr_null(c.path);
	ck_assert_str_eq(c.addr, "tcp://0.0.0.0:5100");
	ck_assert_str_eq(c.wsAddr, "ws://0.0.0.0:5200");
	ck_assert_str_eq(c.wssAddr, "");
	ck_assert_str_eq(c.httpAddr, "0.0.0.0:5001");
	ck_assert_int_eq(c.connIdleTime, 180000);
	ck_assert_int_eq(c.connAuthTimeout, 4000);
	ck_assert_int_eq(c.tokenAuthOn, 1);
	ck_assert_int_eq(c.disableEncryption, 0);
	ck_assert_str_eq(c.mode, "release");
	ck_assert_str_eq(c.managerUID, "____manager");
	ck_assert_str_eq(c.customerService_visitorsSuffix, "___vstr");
	ck_assert_int_eq(c.logger_level, 0);
	ck_assert_int_eq(c.webhook_msgNotifyEventPushInterval, 500);
	ck_assert_int_eq(c.webhook_focusEvents.n, 0);
	ck_assert_int_eq(c.messageRetry_interval, 60000);
	ck_assert_int_eq(c.supervisor_respawnDelay, 100);
	ck_assert_str_eq(c.storage_sync, "fsync");
	ck_assert_int_eq(c.storage_cacheSize, 64LL << 20);
	ck_assert_int_eq(c.limits_maxPacketSize, 1 << 20);
	ck_assert_int_eq(c.limits_maxConnections, 100000);
	ck_assert_int_eq(c.ncores, ct_ncores());
	ck_assert_int_eq(c.processes_broker, n);
	ck_assert_int_eq(c.processes_channel, n);
	ck_assert_int_eq(c.processes_mailbox, n);
	root = ct_cwd_join("wkdata");
	data = ct_cwd_join("wkdata/data");
	run = ct_cwd_join("wkdata/run");
	ck_assert_str_eq(c.rootDir, root);
	ck_assert_str_eq(c.dataDir, data);
	ck_assert_str_eq(c.runDir, run);
	/* every key: default origin, STR/ENUM never NULL, formats to something */
	for (size_t i = 0; i < wk_config_nkeys; i++) {
		const struct wk_config_key *k = &wk_config_keys[i];
		ck_assert_int_eq(c.origin[i], WK_CO_DEFAULT);
		if (k->kind == WK_CK_STR || k->kind == WK_CK_ENUM)
			ck_assert_ptr_nonnull(*(char **)((char *)&c + k->offset));
		wk_config_format(&c, k, buf, sizeof buf);
		ck_assert_msg(buf[0] != '\0', "%s formats to nothing", k->path);
	}
	free(root);
	free(data);
	free(run);
	free(out);
	wk_config_free(&c);
}
END_TEST

START_TEST(test_config_schema_table)
{
	ck_assert_int_eq(wk_config_nkeys, WK_CONFIG_NKEYS);
	ck_assert_str_eq(wk_config_keys[WK_CKI_mode].path, "mode");
	ck_assert_str_eq(wk_config_keys[WK_CKI_webhook_httpAddr].path, "webhook.httpAddr");
	ck_assert_ptr_eq(wk_config_find("WEBHOOK.HTTPADDR"), &wk_config_keys[WK_CKI_webhook_httpAddr]);
	ck_assert_ptr_eq(wk_config_find("tokenauthon"), &wk_config_keys[WK_CKI_tokenAuthOn]);
	ck_assert_ptr_null(wk_config_find("webhook"));
	ck_assert_ptr_null(wk_config_find("nope"));
	ck_assert_ptr_null(wk_config_find("cluster.nodeId"));
	/* a section's keys are contiguous, so wk.yaml and wk.yaml(5) can follow
	 * the table; one level, but for the reference's agent.webhook.httpAddr */
	for (size_t i = 0; i < wk_config_nkeys; i++) {
		const char *a = wk_config_keys[i].path, *dot = strrchr(a, '.');
		ck_assert_msg(dot == NULL || dot == strchr(a, '.') ||
		    strcmp(a, "agent.webhook.httpAddr") == 0, "%s: one level only", a);
		for (size_t j = i + 2; dot != NULL && j < wk_config_nkeys; j++) {
			const char *b = wk_config_keys[j].path;
			const char *prev = wk_config_keys[j - 1].path;
			size_t n = (size_t)(dot - a) + 1;
			if (strncmp(a, b, n) == 0)
				ck_assert_msg(strncmp(a, prev, n) == 0, "section of %s is split", b);
		}
	}
}
END_TEST

START_TEST(test_config_good_file)
{
	static const char text[] =
	    "# a comment\n"
	    "HTTPADDR: 127.0.0.1:8080\n"
	    "Webhook:\n"
	    "  httpaddr: http://app/hook\n"
	    "  focusEvents: [msg.offline, msg.notify]\n"
	    "  MsgNotifyEventPushInterval: 1s\n"
	    "tokenAuthOn: off\n"
	    "disableEncryption: \"1\"\n"
	    "mode: DEBUG\n"
	    "managerToken: 12345\n"
	    "processes:\n"
	    "  broker: 3\n"
	    "  channel: AUTO\n"
	    "storage:\n"
	    "  cacheSize: 16M\n"
	    "  sync: None\n"
	    "logger: {level: 2}\n"
	    "messageRetry:\n"
	    "  maxCount: 0\n"
	    "  interval: 2m30s\n"
	    "external:\n"
	    "  ip: 203.0.113.10\n"
	    "supervisor:\n"
	    "  respawnDelay: 0\n";
	struct wk_config c;
	char *out;

	ck_assert_int_eq(ct_load(text, &c, &out), 0);
	ck_assert_str_eq(out, "");
	ck_assert_str_eq(c.path, "wk.yaml");
	ck_assert_str_eq(c.httpAddr, "127.0.0.1:8080");
	ck_assert_str_eq(c.webhook_httpAddr, "http://app/hook");
	ck_assert_int_eq(c.webhook_focusEvents.n, 2);
	ck_assert_str_eq(c.webhook_focusEvents.v[0], "msg.offline");
	ck_assert_str_eq(c.webhook_focusEvents.v[1], "msg.notify");
	ck_assert_int_eq(c.webhook_msgNotifyEventPushInterval, 1000);
	ck_assert_int_eq(c.tokenAuthOn, 0);
	ck_assert_int_eq(c.disableEncryption, 1);
	ck_assert_str_eq(c.mode, "debug");
	ck_assert_str_eq(c.managerToken, "12345");
	ck_assert_int_eq(c.processes_broker, 3);
	ck_assert_int_eq(c.processes_channel, ct_ncores() > 256 ? 256 : ct_ncores());
	ck_assert_int_eq(c.storage_cacheSize, 16 << 20);
	ck_assert_str_eq(c.storage_sync, "none");
	ck_assert_int_eq(c.logger_level, 2);
	/* an explicit 0 is the value, not "the default" as in the reference */
	ck_assert_int_eq(c.messageRetry_maxCount, 0);
	ck_assert_int_eq(c.supervisor_respawnDelay, 0);
	ck_assert_int_eq(c.messageRetry_interval, 150000);
	ck_assert_str_eq(c.external_ip, "203.0.113.10");
	ck_assert_int_eq(c.origin[WK_CKI_httpAddr], WK_CO_FILE);
	ck_assert_int_eq(c.origin[WK_CKI_addr], WK_CO_DEFAULT);
	free(out);
	wk_config_free(&c);
}
END_TEST

/* Bad files: the exact messages, in document order, and rc -1. */
static const struct {
	const char *name, *yaml, *want;
} bad_files[] = {
	{ "unknown top-level key",
	  "httpAddr: 0.0.0.0:1\n"
	  "foo:\n"
	  "  bar: 1\n",
	  "wk.yaml:2:1: unknown key 'foo'\n" },
	{ "unknown key in a section",
	  "webhook:\n"
	  "  httpAdr: http://x\n",
	  "wk.yaml:2:3: unknown key 'webhook.httpAdr'; did you mean 'webhook.httpAddr'?\n" },
	{ "misspelt top-level key",
	  "tokenAuthOnn: true\n",
	  "wk.yaml:1:1: unknown key 'tokenAuthOnn'; did you mean 'tokenAuthOn'?\n" },
	{ "misspelt section",
	  "webhok:\n"
	  "  httpAddr: http://x\n",
	  "wk.yaml:1:1: unknown key 'webhok'; did you mean 'webhook'?\n" },
	{ "misspelt key of wk's own section",
	  "messageRetry:\n"
	  "  scanIntervall: 1s\n"
	  "storage:\n"
	  "  snyc: none\n",
	  "wk.yaml:2:3: unknown key 'messageRetry.scanIntervall'; did you mean "
	  "'messageRetry.scanInterval'?\n"
	  "wk.yaml:4:3: unknown key 'storage.snyc'; did you mean 'storage.sync'?\n" },
	{ "several errors, all reported in order",
	  "connIdleTime: 10\n"
	  "tokenAuthOn: maybe\n"
	  "mode: prod\n"
	  "logger:\n"
	  "  level: 9\n"
	  "storage:\n"
	  "  cacheSize: 12q\n"
	  "processes:\n"
	  "  broker: lots\n"
	  "  perCore: 1.5\n",
	  "wk.yaml:1:15: connIdleTime: expected a duration like 500ms, 30s, 5m, got \"10\" "
	  "(add a unit: 10ms, 10s, 10m)\n"
	  "wk.yaml:2:14: tokenAuthOn: expected a boolean (true/false, yes/no, on/off, 1/0), "
	  "got \"maybe\"\n"
	  "wk.yaml:3:7: mode: must be one of debug, release, bench, got \"prod\"\n"
	  "wk.yaml:5:10: logger.level: must be between 0 and 4, got \"9\"\n"
	  "wk.yaml:7:14: storage.cacheSize: expected a size like 512k, 64m, 1g, got \"12q\"\n"
	  "wk.yaml:9:11: processes.broker: expected an integer or auto, got \"lots\"\n"
	  "wk.yaml:10:12: processes.perCore: expected an integer, got \"1.5\"\n" },
	{ "range errors",
	  "connIdleTime: 0s\n"
	  "storage:\n"
	  "  cacheSize: 100g\n"
	  "processes:\n"
	  "  broker: 0\n"
	  "messageRetry:\n"
	  "  maxCount: -1\n"
	  "webhook:\n"
	  "  msgNotifyEventPushInterval: 2h\n",
	  "wk.yaml:1:15: connIdleTime: must be between 1s and 24h, got \"0s\"\n"
	  "wk.yaml:3:14: storage.cacheSize: must be between 1m and 64g, got \"100g\"\n"
	  "wk.yaml:5:11: processes.broker: must be between 1 and 256, got \"0\"\n"
	  "wk.yaml:7:13: messageRetry.maxCount: must be between 0 and 1000, got \"-1\"\n"
	  "wk.yaml:9:31: webhook.msgNotifyEventPushInterval: must be between 10ms and 1h, "
	  "got \"2h\"\n" },
	{ "bad durations",
	  "connIdleTime: 5x\n"
	  "connAuthTimeout: -1s\n"
	  "messageRetry:\n"
	  "  interval:\n"
	  "  scanInterval: 1500us\n",
	  "wk.yaml:1:15: connIdleTime: expected a duration like 500ms, 30s, 5m, got \"5x\"\n"
	  "wk.yaml:2:18: connAuthTimeout: expected a duration like 500ms, 30s, 5m, got \"-1s\"\n"
	  "wk.yaml:4:12: messageRetry.interval: expected a duration like 500ms, 30s, 5m, got \"\"\n"
	  "wk.yaml:5:17: messageRetry.scanInterval: expected a duration like 500ms, 30s, 5m, "
	  "got \"1500us\"\n" },
	{ "duplicate keys",
	  "httpAddr: a:1\n"
	  "HTTPADDR: b:2\n"
	  "webhook:\n"
	  "  httpAddr: x\n"
	  "webhook:\n"
	  "  httpAddr: y\n",
	  "wk.yaml:2:1: duplicate key 'HTTPADDR' (first at line 1)\n"
	  "wk.yaml:5:1: duplicate key 'webhook' (first at line 3)\n" },
	{ "a mapping or a sequence where a scalar is expected",
	  "httpAddr:\n"
	  "  host: 0.0.0.0\n"
	  "wsAddr: [ws://a]\n"
	  "webhook:\n"
	  "  focusEvents: {a: 1}\n"
	  "  httpAddr: [x]\n"
	  "  msgNotifyEventRetryMaxCount:\n"
	  "    - 1\n",
	  "wk.yaml:2:3: httpAddr: expected a scalar value, got a mapping\n"
	  "wk.yaml:3:9: wsAddr: expected a scalar value, got a sequence\n"
	  "wk.yaml:5:16: webhook.focusEvents: expected a sequence, got a mapping\n"
	  "wk.yaml:6:13: webhook.httpAddr: expected a scalar value, got a sequence\n"
	  "wk.yaml:8:5: webhook.msgNotifyEventRetryMaxCount: expected a scalar value, "
	  "got a sequence\n" },
	{ "a scalar where a section is expected",
	  "logger: 3\n",
	  "wk.yaml:1:9: logger: expected a mapping (a section), got a scalar\n" },
	{ "a list item that is not a scalar",
	  "webhook:\n"
	  "  focusEvents:\n"
	  "    - msg.offline\n"
	  "    - {a: b}\n",
	  "wk.yaml:4:7: webhook.focusEvents: expected a scalar list item, got a mapping\n" },
	{ "YAML syntax error: bad indentation",
	  "httpAddr: a\n"
	  "  wsAddr: b\n",
	  "wk.yaml:2:9: mapping values are not allowed in this context\n" },
	{ "YAML syntax error: unclosed flow sequence",
	  "webhook:\n"
	  "  focusEvents: [a, b\n"
	  "mode: debug\n",
	  "wk.yaml:3:5: did not find expected ',' or ']' (while parsing a flow sequence at line 2)\n" },
	{ "YAML syntax error: tab indentation",
	  "mode: debug\n"
	  "\tlogger: 1\n",
	  "wk.yaml:2:1: found a tab character that violates indentation "
	  "(while scanning a plain scalar at line 1)\n" },
	{ "YAML error: undefined alias",
	  "mode: *foo\n",
	  "wk.yaml:1:7: found undefined alias\n" },
	{ "invalid UTF-8",
	  "mode: debug\n"
	  "httpAddr: \xff\n",
	  "wk.yaml:2:11: invalid leading UTF-8 octet\n" },
	{ "top level not a mapping",
	  "- a\n"
	  "- b\n",
	  "wk.yaml:1:1: expected a mapping of keys at the top level, got a sequence\n" },
	{ "two documents",
	  "mode: debug\n"
	  "---\n"
	  "mode: release\n",
	  "wk.yaml:3:1: only one YAML document is allowed\n" },
	{ "a key that is not a scalar",
	  "? [a]\n"
	  ": b\n",
	  "wk.yaml:1:3: expected a key name, got a sequence\n" },
	{ "listener schemes",
	  "addr: 0.0.0.0:5100\n"
	  "wsAddr: wss://0.0.0.0:5200\n",
	  "wk.yaml:1:7: addr: must start with tcp://, got \"0.0.0.0:5100\"\n"
	  "wk.yaml:2:9: wsAddr: must start with ws://, got \"wss://0.0.0.0:5200\"\n" },
	{ "wssAddr without its key file",
	  "wssConfig:\n"
	  "  certFile: /c.pem\n"
	  "wssAddr: wss://0.0.0.0:5210\n",
	  "wk.yaml:3:1: wssAddr: needs wssConfig.keyFile\n" },
	{ "wssAddr without certificate and key",
	  "wssAddr: wss://0.0.0.0:5210\n",
	  "wk.yaml:1:1: wssAddr: needs wssConfig.certFile and wssConfig.keyFile\n" },
	{ "a PROXY listener without allowFrom",
	  "proxyProtocol:\n"
	  "  wsAddr: on\n",
	  "wk.yaml:2:11: proxyProtocol.wsAddr: needs proxyProtocol.allowFrom, the networks of the "
	  "load balancers\n" },
	{ "allowFrom with a bad network",
	  "proxyProtocol:\n"
	  "  allowFrom: [10.0.0.0/8, 10.1.2.3/8]\n",
	  "wk.yaml:2:14: proxyProtocol.allowFrom: \"10.1.2.3/8\" is not a network (10.0.0.0/8, "
	  "2001:db8::/32, or one address, no host bits past the prefix)\n" },
	{ "respawn delay above its bound",
	  "supervisor:\n"
	  "  respawnDelayMax: 1s\n"
	  "  respawnDelay: 1m\n",
	  "wk.yaml:3:17: supervisor.respawnDelay must not be more than "
	  "supervisor.respawnDelayMax\n" },
	{ "warnings and errors together, in order",
	  "cluster:\n"
	  "  nodeId: 1001\n"
	  "bogus: 1\n",
	  "wk.yaml:2:3: warning: cluster.nodeId is a WuKongIM key that wk does not use; ignored\n"
	  "wk.yaml:3:1: unknown key 'bogus'\n" },
};

START_TEST(test_config_bad_files)
{
	struct wk_config c;
	char *out;
	int rc = ct_load(bad_files[_i].yaml, &c, &out);

	ck_assert_msg(rc == -1, "%s: rc %d", bad_files[_i].name, rc);
	ck_assert_msg(strcmp(out, bad_files[_i].want) == 0, "%s:\nwant:\n%sgot:\n%s",
	    bad_files[_i].name, bad_files[_i].want, out);
	/* a failed load leaves nothing to free */
	ck_assert_ptr_null(c.addr);
	ck_assert_ptr_null(c.path);
	wk_config_free(&c);
	free(out);
}
END_TEST

START_TEST(test_config_missing_file)
{
	struct wk_config c;
	char *out = NULL;
	size_t len;
	FILE *ef = open_memstream(&out, &len);

	ck_assert_int_eq(wk_config_load(&c, "nosuch.yaml", ef), -1);
	fclose(ef);
	ck_assert_str_eq(out, "nosuch.yaml: No such file or directory\n");
	free(out);
}
END_TEST

START_TEST(test_config_reference_keys_warn)
{
	static const char text[] =
	    "mode: release\n"
	    "cluster:\n"
	    "  nodeId: 1001\n"
	    "  initNodes: [\"1001@node1\", \"1002@node2\"]\n"
	    "logger:\n"
	    "  lineNum: true\n"
	    "  level: 2\n"
	    "  loki: {url: \"http://loki:3100\"}\n"
	    "stress: false\n"
	    "external:\n"
	    "  managerAddr: x:5300\n"
	    "  ip: 1.2.3.4\n"
	    "webhook:\n"
	    "  grpcAddr: \"\"\n"
	    "  httpAddr: http://app/hook\n"
	    "jwt:\n"
	    "auth: {kind: jwt}\n"
	    "conversation:\n"
	    "  syncInterval: 1m\n"
	    "  on: true\n"
	    "violent: true\n"
	    "monitor:\n"
	    "  on: true\n"
	    "unitTest: false\n";
	static const char want[] =
	    "wk.yaml:3:3: warning: cluster.nodeId is a WuKongIM key that wk does not use; ignored\n"
	    "wk.yaml:4:3: warning: cluster.initNodes is a WuKongIM key that wk does not use; ignored\n"
	    "wk.yaml:6:3: warning: logger.lineNum is a WuKongIM key that wk does not use; ignored\n"
	    "wk.yaml:8:10: warning: logger.loki.url is a WuKongIM key that wk does not use; ignored\n"
	    "wk.yaml:9:1: warning: stress is a WuKongIM key that wk does not use; ignored\n"
	    "wk.yaml:11:3: warning: external.managerAddr is a WuKongIM key that wk does not use; "
	    "ignored\n"
	    "wk.yaml:14:3: warning: webhook.grpcAddr is a WuKongIM key that wk does not use; "
	    "ignored\n"
	    "wk.yaml:16:1: warning: jwt is a WuKongIM key that wk does not use; ignored\n"
	    "wk.yaml:17:8: warning: auth.kind is a WuKongIM key that wk does not use; ignored\n"
	    "wk.yaml:19:3: warning: conversation.syncInterval is a WuKongIM key that wk does not "
	    "use; ignored\n"
	    "wk.yaml:21:1: warning: violent is a WuKongIM key that wk does not use; ignored\n"
	    "wk.yaml:23:3: warning: monitor.on is a WuKongIM key that wk does not use; ignored\n"
	    "wk.yaml:24:1: warning: unitTest is a WuKongIM key that wk does not use; ignored\n";
	struct wk_config c;
	char *out;

	ck_assert_int_eq(ct_load(text, &c, &out), 0);
	ck_assert_msg(strcmp(out, want) == 0, "want:\n%sgot:\n%s", want, out);
	ck_assert_int_eq(c.logger_level, 2);
	ck_assert_str_eq(c.external_ip, "1.2.3.4");
	ck_assert_str_eq(c.webhook_httpAddr, "http://app/hook");
	free(out);
	wk_config_free(&c);
}
END_TEST

/* The shipped wk.yaml: loads cleanly, names every key, and equals the defaults. */
START_TEST(test_config_shipped_yaml)
{
	struct wk_config def, c;
	char *out = NULL, seen[4096] = "";
	size_t len;
	FILE *ef = open_memstream(&out, &len);

	/* The source directory without ".." (a VPATH build such as distcheck's
	 * names it build/../..), as wkctl's realpath of -f would give. */
	char *src = realpath(WK_TEST_SRCDIR, NULL), yaml[4200];
	ck_assert_ptr_nonnull(src);
	snprintf(yaml, sizeof yaml, "%s/wk.yaml", src);
	ck_assert_int_eq(wk_config_load(&c, yaml, ef), 0);
	fclose(ef);
	ck_assert_msg(strcmp(out, "") == 0, "wk.yaml:\n%s", out);
	free(out);
	for (size_t i = 0; i < wk_config_nkeys; i++)
		ck_assert_msg(c.origin[i] == WK_CO_FILE, "wk.yaml lacks %s", wk_config_keys[i].path);
	/* A relative rootDir is the file's directory's: the defaults from there. */
	char *cwd = getcwd(NULL, 0);
	ck_assert_int_eq(chdir(src), 0);
	ck_assert_int_eq(ct_load(NULL, &def, &out), 0);
	ck_assert_int_eq(chdir(cwd), 0);
	free(cwd);
	free(src);
	free(out);
	ck_assert_msg(wk_config_diff(&def, &c, ct_collect_paths, seen) == 0,
	    "wk.yaml differs from the defaults in: %s", seen);
	wk_config_free(&def);
	wk_config_free(&c);
}
END_TEST

static Suite *
config_file_suite(void)
{
	Suite *s = suite_create("config_file");
	TCase *tc = tcase_create("file");

	tcase_add_checked_fixture(tc, ct_setup, ct_teardown);
	tcase_add_test(tc, test_config_defaults);
	tcase_add_test(tc, test_config_schema_table);
	tcase_add_test(tc, test_config_good_file);
	tcase_add_loop_test(tc, test_config_bad_files, 0, sizeof bad_files / sizeof bad_files[0]);
	tcase_add_test(tc, test_config_missing_file);
	tcase_add_test(tc, test_config_reference_keys_warn);
	tcase_add_test(tc, test_config_shipped_yaml);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return wkt_run_suite(config_file_suite());
}
