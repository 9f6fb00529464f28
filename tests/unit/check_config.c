/* check_config.c - unit tests of the wk.yaml loader (common/wk_config.c):
 * defaults, nested and case-insensitive keys, every error with its exact
 * FILE:LINE:COL text, reference keys, WK_* overrides, value parsers, derived
 * values, format and diff, and the shipped wk.yaml.  See wk.yaml(5). */
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wktest.h"
#include "wk_config.h"

static char tmpdir[64];
static char *oldcwd;

/* Unset every WK_<KEY> so the caller's environment cannot leak into a test. */
static void
clear_env(void)
{
	for (size_t i = 0; i < wk_config_nkeys; i++) {
		char name[128], *p;
		snprintf(name, sizeof name, "WK_%s", wk_config_keys[i].path);
		for (p = name; *p; p++)
			*p = *p == '.' ? '_' : (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
		unsetenv(name);
	}
}

/* Each test runs in a fresh temporary directory. */
static void
setup(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/check_config.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	oldcwd = getcwd(NULL, 0);
	ck_assert_int_eq(chdir(tmpdir), 0);
	clear_env();
	wk_config_getenv = getenv;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void
teardown(void)
{
	if (oldcwd != NULL && chdir(oldcwd) == 0)
		nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(oldcwd);
	oldcwd = NULL;
	clear_env();
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/* Load `text` as ./wk.yaml (NULL: no file); *out gets the messages (malloc'd). */
static int
load(const char *text, struct wk_config *cfg, char **out)
{
	size_t len = 0;
	FILE *ef;
	int rc;

	*out = NULL;
	ef = open_memstream(out, &len);
	ck_assert_ptr_nonnull(ef);
	if (text != NULL)
		write_file("wk.yaml", text);
	rc = wk_config_load(cfg, text ? "wk.yaml" : NULL, ef);
	fclose(ef);
	return rc;
}

static char *
cwd_join(const char *rel)
{
	char *cwd = getcwd(NULL, 0), *p;

	ck_assert_ptr_nonnull(cwd);
	ck_assert_int_ne(asprintf(&p, "%s/%s", cwd, rel), -1);
	free(cwd);
	return p;
}

static int
ncores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : (int)n;
}

START_TEST(test_config_defaults)
{
	struct wk_config c;
	char *out, *root, *data, *run, buf[256];
	int n = ncores() > 256 ? 256 : ncores();

	ck_assert_int_eq(load(NULL, &c, &out), 0);
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
	ck_assert_int_eq(c.ncores, ncores());
	ck_assert_int_eq(c.processes_broker, n);
	ck_assert_int_eq(c.processes_channel, n);
	ck_assert_int_eq(c.processes_mailbox, n);
	root = cwd_join("wkdata");
	data = cwd_join("wkdata/data");
	run = cwd_join("wkdata/run");
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
	/* a section's keys are contiguous, so wk.yaml and wk.yaml(5) can follow the table */
	for (size_t i = 0; i < wk_config_nkeys; i++) {
		const char *a = wk_config_keys[i].path, *dot = strchr(a, '.');
		ck_assert_msg(dot == NULL || strchr(dot + 1, '.') == NULL, "%s: one level only", a);
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

	ck_assert_int_eq(load(text, &c, &out), 0);
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
	ck_assert_int_eq(c.processes_channel, ncores() > 256 ? 256 : ncores());
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
	  "wk.yaml:2:3: unknown key 'webhook.httpAdr'\n" },
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
	int rc = load(bad_files[_i].yaml, &c, &out);

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
	    "  dir: ./logs\n"
	    "  level: 2\n"
	    "stress: false\n"
	    "external:\n"
	    "  managerAddr: x:5300\n"
	    "  ip: 1.2.3.4\n"
	    "webhook:\n"
	    "  grpcAddr: \"\"\n"
	    "  httpAddr: http://app/hook\n"
	    "jwt:\n"
	    "demo: {on: true}\n"
	    "conversation:\n"
	    "  syncInterval: 1m\n"
	    "  on: true\n";
	static const char want[] =
	    "wk.yaml:3:3: warning: cluster.nodeId is a WuKongIM key that wk does not use; ignored\n"
	    "wk.yaml:4:3: warning: cluster.initNodes is a WuKongIM key that wk does not use; ignored\n"
	    "wk.yaml:6:3: warning: logger.dir is a WuKongIM key that wk does not use; ignored\n"
	    "wk.yaml:8:1: warning: stress is a WuKongIM key that wk does not use; ignored\n"
	    "wk.yaml:10:3: warning: external.managerAddr is a WuKongIM key that wk does not use; "
	    "ignored\n"
	    "wk.yaml:13:3: warning: webhook.grpcAddr is a WuKongIM key that wk does not use; "
	    "ignored\n"
	    "wk.yaml:15:1: warning: jwt is a WuKongIM key that wk does not use; ignored\n"
	    "wk.yaml:16:8: warning: demo.on is a WuKongIM key that wk does not use; ignored\n"
	    "wk.yaml:18:3: warning: conversation.syncInterval is a WuKongIM key that wk does not "
	    "use; ignored\n";
	struct wk_config c;
	char *out;

	ck_assert_int_eq(load(text, &c, &out), 0);
	ck_assert_msg(strcmp(out, want) == 0, "want:\n%sgot:\n%s", want, out);
	ck_assert_int_eq(c.logger_level, 2);
	ck_assert_str_eq(c.external_ip, "1.2.3.4");
	ck_assert_str_eq(c.webhook_httpAddr, "http://app/hook");
	free(out);
	wk_config_free(&c);
}
END_TEST

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
	ck_assert_int_eq(load(text, &c, &out), 0);
	ck_assert_str_eq(out, "");
	ck_assert_str_eq(c.httpAddr, "127.0.0.1:9000");
	ck_assert_str_eq(c.webhook_httpAddr, "http://env/hook");
	ck_assert_int_eq(c.processes_broker, 2);
	ck_assert_int_eq(c.processes_mailbox, ncores() > 256 ? 256 : ncores());
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
	ck_assert_int_eq(load(NULL, &c, &out), 0);
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
	ck_assert_int_eq(load(text, &c, &out), -1);
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
	ck_assert_int_eq(load("rootDir: ~/wk\n", &c, &out), 0);
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

		ck_assert_int_eq(load(cases[i].yaml, &c, &out), 0);
		const char *got[3] = { c.rootDir, c.dataDir, c.runDir };
		for (int j = 0; j < 3; j++) {
			char *w = want[j][0] == '/' ? strdup(want[j]) :
			    strcmp(want[j], ".") == 0 ? getcwd(NULL, 0) : cwd_join(want[j]);
			ck_assert_msg(strcmp(got[j], w) == 0, "case %zu dir %d: want %s got %s",
			    i, j, w, got[j]);
			free(w);
		}
		free(out);
		wk_config_free(&c);
	}
}
END_TEST

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

START_TEST(test_config_count_auto)
{
	struct wk_config c;
	char *out;
	int want = 2 * ncores() > 256 ? 256 : 2 * ncores();

	ck_assert_int_eq(load("processes:\n  perCore: 2\n  channel: 3\n  mailbox: Auto\n", &c, &out), 0);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(c.processes_perCore, 2);
	ck_assert_int_eq(c.processes_broker, want);
	ck_assert_int_eq(c.processes_channel, 3);
	ck_assert_int_eq(c.processes_mailbox, want);
	free(out);
	wk_config_free(&c);

	/* 64 per core on any machine with more than 4 cores passes 256: clamped */
	ck_assert_int_eq(load("processes: {perCore: 64}\n", &c, &out), 0);
	want = 64 * ncores() > 256 ? 256 : 64 * ncores();
	ck_assert_int_eq(c.processes_broker, want);
	free(out);
	wk_config_free(&c);
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

		ck_assert_int_eq(load(cases[i].yaml, &c, &out), 0);
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

	ck_assert_int_eq(load(text, &c, &out), 0);
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

	ck_assert_int_eq(load(text, &a, &out), 0);
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
	ck_assert_msg(load(yaml, &b, &out) == 0, "%s\n%s", yaml, out);
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

static void
collect(const struct wk_config_key *k, void *arg)
{
	char *s = arg;

	strcat(s, k->path);
	strcat(s, " ");
}

START_TEST(test_config_diff)
{
	struct wk_config a, b, c;
	char *out, seen[512] = "";

	ck_assert_int_eq(load(NULL, &a, &out), 0);
	free(out);
	ck_assert_int_eq(load(NULL, &b, &out), 0);
	free(out);
	ck_assert_int_eq(wk_config_diff(&a, &b, collect, seen), 0);
	ck_assert_str_eq(seen, "");
	wk_config_free(&b);

	ck_assert_int_eq(load("connIdleTime: 5m\n"
	    "managerUID: admin\n"
	    "webhook:\n  focusEvents: [msg.offline]\n"
	    "storage: {cacheSize: 65536k}\n"          /* = 64m: no change */
	    "tokenAuthOn: yes\n"                      /* = default: no change */
	    "processes: {broker: 1}\n", &b, &out), 0);
	free(out);
	ck_assert_int_eq(wk_config_diff(&a, &b, collect, seen), ncores() == 1 ? 3 : 4);
	ck_assert_str_eq(seen, ncores() == 1 ?
	    "managerUID connIdleTime webhook.focusEvents " :
	    "managerUID connIdleTime webhook.focusEvents processes.broker ");
	ck_assert_int_eq(wk_config_diff(&b, &a, NULL, NULL), ncores() == 1 ? 3 : 4);
	wk_config_free(&b);

	/* lists differing only in one element */
	ck_assert_int_eq(load("webhook:\n  focusEvents: [a, b]\n", &b, &out), 0);
	free(out);
	ck_assert_int_eq(load("webhook:\n  focusEvents: [a, c]\n", &c, &out), 0);
	free(out);
	ck_assert_int_eq(wk_config_diff(&b, &c, NULL, NULL), 1);
	wk_config_free(&a);
	wk_config_free(&b);
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

	ck_assert_int_eq(wk_config_load(&c, WK_TEST_SRCDIR "/wk.yaml", ef), 0);
	fclose(ef);
	ck_assert_msg(strcmp(out, "") == 0, "wk.yaml:\n%s", out);
	free(out);
	for (size_t i = 0; i < wk_config_nkeys; i++)
		ck_assert_msg(c.origin[i] == WK_CO_FILE, "wk.yaml lacks %s", wk_config_keys[i].path);
	ck_assert_int_eq(load(NULL, &def, &out), 0);
	free(out);
	ck_assert_msg(wk_config_diff(&def, &c, collect, seen) == 0,
	    "wk.yaml differs from the defaults in: %s", seen);
	wk_config_free(&def);
	wk_config_free(&c);
}
END_TEST

static Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_config_defaults);
	tcase_add_test(tc, test_config_schema_table);
	tcase_add_test(tc, test_config_good_file);
	tcase_add_loop_test(tc, test_config_bad_files, 0, sizeof bad_files / sizeof bad_files[0]);
	tcase_add_test(tc, test_config_missing_file);
	tcase_add_test(tc, test_config_reference_keys_warn);
	tcase_add_test(tc, test_config_env_overrides);
	tcase_add_test(tc, test_config_env_errors);
	tcase_add_test(tc, test_config_env_hook);
	tcase_add_test(tc, test_config_paths);
	tcase_add_loop_test(tc, test_config_duration_parse, 0, sizeof durations / sizeof durations[0]);
	tcase_add_loop_test(tc, test_config_size_parse, 0, sizeof sizes / sizeof sizes[0]);
	tcase_add_test(tc, test_config_bool_parse);
	tcase_add_test(tc, test_config_count_auto);
	tcase_add_test(tc, test_config_lists);
	tcase_add_test(tc, test_config_format);
	tcase_add_test(tc, test_config_format_roundtrip);
	tcase_add_test(tc, test_config_diff);
	tcase_add_test(tc, test_config_shipped_yaml);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return wkt_run_suite(config_suite());
}
