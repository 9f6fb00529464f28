/* check_ops.c - running wk in production (issue 17): the generated manager
 * token seen from a non-loopback address, /health with a frozen shard, a
 * failed start that leaves nothing behind, wkctl with a broken wk.yaml, the
 * respawn policy, shard counts kept from the data's LAYOUT, and the
 * webhook signature. */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <check.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <jansson.h>
#include "wk_shard.h"
#include "wkrx.h"
#include "wktest.h"

static long
get(const struct wkt_tree *t, const char *path, char **body)
{
	char url[256];

	snprintf(url, sizeof url, "%s%s", t->http, path);
	return wkt_http("GET", url, NULL, body, NULL);
}

/* The network namespace and veth pair of the token test: removing the
 * namespace removes its end of the pair, which removes the other. */
static char ns[32], veth[16];

static void
netns_cleanup(void)
{
	char *out;

	if (ns[0]) {
		wkt_run(&out, "ip netns del %s; ip link del %s", ns, veth);
		free(out);
	}
}

/* managerTokenOn (the default), no managerToken: the token is generated
 * (0600); from loopback admin routes are open; from another host (a client
 * in its own network namespace, reaching wk-api over a veth pair) they need
 * it; /health and /route never do. */
START_TEST(test_ops_token_from_non_loopback)
{
	struct wkt_tree t;
	char *out, *tok, path[512], hdr[128];
	int id = getpid() % 10000, rc;
	struct stat st;

	snprintf(ns, sizeof ns, "wkt%d", id);
	snprintf(veth, sizeof veth, "wkv%da", id);
	rc = wkt_run(&out, "ip netns add %s && ip link add %s type veth peer name wkv%db && "
	    "ip link set wkv%db netns %s && ip addr add 10.217.%d.1/24 dev %s && "
	    "ip link set %s up && ip netns exec %s ip addr add 10.217.%d.2/24 dev wkv%db && "
	    "ip netns exec %s ip link set wkv%db up", ns, veth, id, id, ns, id % 250, veth, veth,
	    ns, id % 250, id, ns, id);
	if (rc != 0) {
		netns_cleanup();
		ck_abort_msg("cannot make a network namespace (needs root): %s", out);
	}
	free(out);
	/* wk-api on all addresses: the environment overrides the file. */
	int port = wkt_free_port();
	snprintf(hdr, sizeof hdr, "0.0.0.0:%d", port);
	setenv("WK_HTTPADDR", hdr, 1);
	wkt_tree_start(&t, NULL);
	snprintf(t.http, sizeof t.http, "http://127.0.0.1:%d", port);

	snprintf(path, sizeof path, "%s/managerToken", t.dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	tok = wkt_read_file(path);
	tok[strcspn(tok, "\n")] = '\0';
	ck_assert_int_eq(strlen(tok), 64);
	snprintf(path, sizeof path, "%s/master.log", t.dir);
	out = wkt_read_file(path);
	ck_assert_ptr_nonnull(strstr(out, "managerToken"));
	ck_assert_ptr_null(strstr(out, tok));      /* the path is logged, never the token */
	free(out);

	ck_assert_int_eq(get(&t, "/user/systemuids", &out), 200);   /* loopback */
	free(out);
	/* A literal, so that the format is checked (-Wformat-nonliteral). */
#define CURL_NS "ip netns exec %s curl -s -o /dev/null -w %%{http_code} %s " \
	    "http://10.217.%d.1:%d%s"
	struct { const char *path, *hdr; const char *want; } cases[] = {
		{ "/user/systemuids", "", "401" },
		{ "/user/systemuids", "-H 'token: wrong'", "401" },
		{ "/user/systemuids", NULL, "200" },
		{ "/health", "", "200" },
		{ "/route", "", "200" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char h[200];
		snprintf(h, sizeof h, "-H 'token: %s'", tok);
		wkt_run(&out, CURL_NS, ns, cases[i].hdr ? cases[i].hdr : h, id % 250, port, cases[i].path);
		ck_assert_msg(strcmp(out, cases[i].want) == 0, "%s %s: %s, want %s", cases[i].path,
		    cases[i].hdr ? cases[i].hdr : "good token", out, cases[i].want);
		free(out);
	}
	wkt_tree_stop(&t);

	/* managerTokenOn: false opens the API, with a warning at the start. */
	wkt_tree_start(&t, "managerTokenOn: false\n");
	wkt_run(&out, CURL_NS, ns, "", id % 250, port, "/user/systemuids");
	ck_assert_str_eq(out, "200");
	free(out);
	snprintf(path, sizeof path, "%s/master.log", t.dir);
	out = wkt_read_file(path);
	ck_assert_ptr_nonnull(strstr(out, "managerTokenOn is false"));
	free(out);
	wkt_tree_stop(&t);
	unsetenv("WK_HTTPADDR");
	free(tok);
	netns_cleanup();
}
END_TEST

/* Poll /health until it answers `want`; the body in *body. */
static int
wait_health(const struct wkt_tree *t, long want, int timeout_ms, char **body)
{
	uint64_t end = wkt_now_ms() + timeout_ms;
	long st;

	for (;;) {
		*body = NULL;
		st = get(t, "/health", body);
		if (st == want || wkt_now_ms() > end)
			return st == want ? 0 : -1;
		free(*body);
		wkt_tick();
	}
}

/* A channel shard stopped with SIGSTOP makes /health 503 within
 * pingTimeout (and a tick), naming it; SIGCONT makes it healthy again. */
START_TEST(test_ops_health_frozen_shard)
{
	struct wkt_tree t;
	char *body;
	uint64_t t0;
	int pid;

	setenv("WK_SUPERVISOR_PINGTIMEOUT", "1s", 1);
	wkt_tree_start(&t, NULL);
	ck_assert_int_eq(wait_health(&t, 200, 5000, &body), 0);
	ck_assert_str_eq(body, "{\"status\":\"ok\"}");
	free(body);
	pid = wkt_tree_pid(&t, "channel", 1);
	ck_assert_int_gt(pid, 0);
	kill(pid, SIGSTOP);
	t0 = wkt_now_ms();
	ck_assert_int_eq(wait_health(&t, 503, 4000, &body), 0);
	ck_assert_msg(wkt_now_ms() - t0 < 2600, "503 after %llu ms",
	    (unsigned long long)(wkt_now_ms() - t0));
	ck_assert_msg(strstr(body, "channel/1: no answer") != NULL, "%s", body);
	free(body);
	kill(pid, SIGCONT);
	ck_assert_int_eq(wait_health(&t, 200, 3000, &body), 0);
	free(body);
	wkt_tree_stop(&t);
	unsetenv("WK_SUPERVISOR_PINGTIMEOUT");
}
END_TEST

/* The HTTP port is taken: `wkctl start` fails at once, names the cause,
 * and leaves no process of the tree behind. */
START_TEST(test_ops_failed_start_leaves_nothing)
{
	char *dir = wkt_tmpdir(), *cfg, *out, text[256];
	int s = socket(AF_INET, SOCK_STREAM, 0), one = 1, port = wkt_free_port(), rc;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
	    .sin_addr.s_addr = htonl(0x7f000001) };
	uint64_t t0;

	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&a, sizeof a), 0);
	ck_assert_int_eq(listen(s, 1), 0);
	snprintf(text, sizeof text, "addr: tcp://127.0.0.1:%d\nwsAddr: ws://127.0.0.1:%d\n"
	    "httpAddr: 127.0.0.1:%d\n", wkt_free_port(), wkt_free_port(), port);
	cfg = wkt_write_config(dir, text);
	t0 = wkt_now_ms();
	rc = wkt_run(&out, "%s/wkctl -f %s start", WK_TEST_BUILDDIR, cfg);
	ck_assert_int_eq(rc, 1);
	ck_assert_msg(wkt_now_ms() - t0 < 8000, "took %llu ms", (unsigned long long)(wkt_now_ms() - t0));
	ck_assert_msg(strstr(out, "api/0") && strstr(out, "Address already in use") &&
	    strstr(out, "nothing is left running"), "%s", out);
	free(out);
	/* No process has the config on its command line. */
	rc = wkt_run(&out, "pgrep -f '[-]f %s'", cfg);   /* [-]: not this shell */
	ck_assert_msg(rc == 1, "left running: %s", out);
	free(out);
	close(s);
	wkt_rm_rf(dir);
	free(cfg);
	free(dir);
}
END_TEST

/* wk.yaml broken while the tree runs: status and stop still reach it; and
 * the tree is found from another directory (rootDir relative to the file). */
START_TEST(test_ops_broken_yaml_status_and_stop)
{
	char *dir = wkt_tmpdir(), *out, path[512], text[512];
	int rc;

	snprintf(text, sizeof text, "rootDir: tree\nprocesses:\n  broker: 1\n  channel: 1\n"
	    "  mailbox: 1\naddr: tcp://127.0.0.1:%d\nwsAddr: ws://127.0.0.1:%d\n"
	    "httpAddr: 127.0.0.1:%d\n", wkt_free_port(), wkt_free_port(), wkt_free_port());
	snprintf(path, sizeof path, "%s/wk.yaml", dir);
	wkt_write_file(path, text);
	rc = wkt_run(&out, "cd / && %s/wkctl -f %s start", WK_TEST_BUILDDIR, path);
	ck_assert_msg(rc == 0, "%s", out);
	ck_assert_msg(strstr(out, "listening: tcp tcp://127.0.0.1:"), "%s", out);
	free(out);
	snprintf(text, sizeof text, "%s/tree/run/wk-master.pid", dir);
	ck_assert_int_eq(access(text, F_OK), 0);
	/* From another directory, through the relative rootDir. */
	rc = wkt_run(&out, "cd /tmp && %s/wkctl -f %s status", WK_TEST_BUILDDIR, path);
	ck_assert_msg(rc == 0 && strstr(out, "channel"), "%s", out);
	free(out);
	wkt_write_file(path, "rootDir: tree\nprocesses: [\n");
	rc = wkt_run(&out, "%s/wkctl -f %s status", WK_TEST_BUILDDIR, path);
	ck_assert_msg(rc == 0 && strstr(out, "mailbox"), "%s", out);
	free(out);
	rc = wkt_run(&out, "%s/wkctl -f %s stop", WK_TEST_BUILDDIR, path);
	ck_assert_msg(rc == 0, "%s", out);
	free(out);
	ck_assert_int_ne(access(text, F_OK), 0);
	wkt_rm_rf(dir);
	free(dir);
}
END_TEST

/* A shard that was ready and served longer than stableAfter (1s) comes back
 * after respawnDelay each time, however often it is killed. */
START_TEST(test_ops_respawn_served_child_quickly)
{
	struct wkt_tree t;
	char path[512], *log, *at;
	int n = 0;

	wkt_tree_start(&t, NULL);
	for (int k = 0; k < 3; k++) {
		usleep(1200 * 1000);   /* serve past stableAfter */
		wkt_tree_kill9(&t, "channel", 0);
	}
	snprintf(path, sizeof path, "%s/master.log", t.dir);
	log = wkt_read_file(path);
	ck_assert_msg(log != NULL, "no %s", path);
	for (at = log; (at = strstr(at, "channel/0 (pid")) != NULL; at++) {
		char *eol = strchr(at, '\n');
		if (eol)
			*eol = '\0';
		ck_assert_msg(strstr(at, "restarting in 100ms") != NULL, "%s", at);
		n++;
		if (eol)
			*eol = '\n';
	}
	ck_assert_int_eq(n, 3);
	free(log);
	wkt_tree_stop(&t);
}
END_TEST

/* Data written with 2 channel and 2 mailbox shards, counts left auto on a
 * "bigger host" (perCore 3): the tree starts with the data's counts and
 * says so in the log. */
START_TEST(test_ops_layout_keeps_counts)
{
	char *dir = wkt_tmpdir(), *cfg, path[512], *log, text[256];
	pid_t master;

	snprintf(text, sizeof text, "addr: tcp://127.0.0.1:%d\nwsAddr: ws://127.0.0.1:%d\n"
	    "httpAddr: 127.0.0.1:%d\n", wkt_free_port(), wkt_free_port(), wkt_free_port());
	cfg = wkt_write_config(dir, text);
	snprintf(path, sizeof path, "%s/data", dir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof path, "%s/data/LAYOUT", dir);
	wkt_write_file(path, "hash=fnv1a32 channel=2 mailbox=2\n");
	setenv("WK_PROCESSES_CHANNEL", "auto", 1);
	setenv("WK_PROCESSES_MAILBOX", "auto", 1);
	setenv("WK_PROCESSES_PERCORE", "3", 1);
	master = wkt_start_master(cfg, dir);
	snprintf(path, sizeof path, "%s/run", dir);
	ck_assert_int_eq(wkt_wait_ready(path, WKT_NPROCS, 20000), 0);
	snprintf(path, sizeof path, "%s/master.log", dir);
	log = wkt_read_file(path);
	ck_assert_msg(log != NULL, "no %s", path);
	ck_assert_msg(strstr(log, "keeping those counts") != NULL, "%s", log);
	free(log);
	kill(master, SIGTERM);
	ck_assert_int_eq(wkt_wait_exit(master, 20000, NULL), 0);
	unsetenv("WK_PROCESSES_CHANNEL");
	unsetenv("WK_PROCESSES_MAILBOX");
	unsetenv("WK_PROCESSES_PERCORE");
	wkt_rm_rf(dir);
	free(cfg);
	free(dir);
}
END_TEST

/* Data placed with FNV-1a 32 (a LAYOUT from before the hash field) keeps
 * that function across restarts: its channel is written on the shard the
 * old function names, found there after a restart, and LAYOUT is left as
 * it was.  A new directory would use fnv1a64-fmix64 (check_shard). */
START_TEST(test_ops_layout_keeps_hash)
{
	struct wkt_tree t;
	char path[512], id[32], body[256], *text, *out = NULL;
	int old_shard = -1;
	json_t *j;

	/* A channel the two functions place on different shards. */
	for (int i = 0; old_shard < 0; i++) {
		int n = snprintf(id, sizeof id, "lk%d", i);
		wk_shard_use(WK_SHARD_FNV1A32);
		old_shard = wk_shard_channel(id, (size_t)n, 2);
		wk_shard_use(WK_SHARD_FNV1A64_FMIX64);
		if (wk_shard_channel(id, (size_t)n, 2) == old_shard)
			old_shard = -1;
	}
	wkt_tree_prepare(&t, NULL);
	snprintf(path, sizeof path, "%s/data", t.dir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof path, "%s/data/LAYOUT", t.dir);
	wkt_write_file(path, "channel=2 mailbox=2\n");
	for (int round = 0; round < 2; round++) {
		wkt_tree_launch(&t);
		if (round == 0) {
			snprintf(body, sizeof body, "{\"channel_id\":\"%s\",\"channel_type\":2,"
			    "\"subscribers\":[\"a\",\"b\"]}", id);
			wkt_post_ok(&t, "/channel", body);
			ck_assert_int_eq(wkt_send_text(&t, "a", id, 2, "kept", NULL, NULL, NULL), 1);
		}
		snprintf(body, sizeof body, "{\"login_uid\":\"a\",\"channel_id\":\"%s\","
		    "\"channel_type\":2,\"start_message_seq\":1,\"end_message_seq\":0,"
		    "\"limit\":10,\"pull_mode\":1}", id);
		j = wkt_call(&t, "POST", "/channel/messagesync", body, 200);
		ck_assert_int_eq(json_array_size(json_object_get(j, "messages")), 1);
		json_decref(j);
		wkt_tree_halt(&t);
	}
	ck_assert_msg(wkt_run(&out, "grep -rlF '%s' '%s/data/channel-%d'", id, t.dir, old_shard) == 0,
	    "%s is not on channel/%d, the shard FNV-1a 32 names", id, old_shard);
	free(out);
	ck_assert_msg(wkt_run(&out, "grep -rlF '%s' '%s/data/channel-%d'", id, t.dir,
	    1 - old_shard) != 0, "%s is on channel/%d too: %s", id, 1 - old_shard, out);
	free(out);
	text = wkt_read_file(path);
	ck_assert_str_eq(text, "channel=2 mailbox=2\n");
	free(text);
	snprintf(path, sizeof path, "%s/master.log", t.dir);
	text = wkt_read_file(path);
	ck_assert_msg(strstr(text, "placed with fnv1a32") != NULL, "%s", text);
	free(text);
	wkt_tree_stop(&t);
}
END_TEST

/* The first webhook request's body and signature header. */
static struct {
	pthread_mutex_t mu;
	char *body, *sig;
} hook = { PTHREAD_MUTEX_INITIALIZER, NULL, NULL };

static unsigned
hook_record(void *arg, const char *method, const char *event, const char *ctype,
    const char *body, size_t len)
{
	const char *sig = wkrx_header("X-WK-Signature");

	pthread_mutex_lock(&hook.mu);
	if (hook.body == NULL) {
		hook.body = strdup(body);
		hook.sig = strdup(sig ? sig : "(none)");
	}
	pthread_mutex_unlock(&hook.mu);
	return 200;
}

/* webhook.secret: X-WK-Signature is sha256=<hex HMAC-SHA256 of the body>,
 * as libcrypto and the openssl command of wk-hook(8) compute it. */
START_TEST(test_ops_webhook_signature)
{
	struct wkt_tree t;
	struct wkrx *rx = wkrx_start(0, hook_record, NULL);
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int n;
	char cfg[256], want[80] = "sha256=", path[512], *out;
	uint64_t end;

	ck_assert_ptr_nonnull(rx);
	snprintf(cfg, sizeof cfg, "webhook:\n  httpAddr: http://127.0.0.1:%d/wkhook\n"
	    "  msgNotifyEventPushInterval: 50ms\n  secret: k3y\n", wkrx_port(rx));
	wkt_tree_start(&t, cfg);
	wkt_send_text(&t, "alice", "bob", 1, "signed", NULL, NULL, NULL);
	end = wkt_now_ms() + 10000;
	while (wkt_now_ms() < end) {
		pthread_mutex_lock(&hook.mu);
		int got = hook.body != NULL;
		pthread_mutex_unlock(&hook.mu);
		if (got)
			break;
		wkt_tick();
	}
	ck_assert_ptr_nonnull(hook.body);
	HMAC(EVP_sha256(), "k3y", 3, (unsigned char *)hook.body, strlen(hook.body), mac, &n);
	for (unsigned int i = 0; i < n; i++)
		snprintf(want + 7 + 2 * i, 3, "%02x", mac[i]);
	ck_assert_str_eq(hook.sig, want);
	/* The man page's check: openssl dgst -sha256 -hmac SECRET < body. */
	snprintf(path, sizeof path, "%s/body", t.dir);
	wkt_write_file(path, hook.body);
	ck_assert_int_eq(wkt_run(&out, "openssl dgst -sha256 -hmac k3y -r < %s", path), 0);
	ck_assert_msg(strncmp(out, want + 7, 64) == 0, "openssl: %s, want %s", out, want);
	free(out);
	wkt_tree_stop(&t);
	wkrx_stop(&rx);
}
END_TEST

/* systemd's Type=notify: READY=1 on $NOTIFY_SOCKET once the tree is ready. */
START_TEST(test_ops_sd_notify_ready)
{
	struct wkt_tree t;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[256] = "";
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	struct timeval tv = { 10, 0 };

	snprintf(sa.sun_path, sizeof sa.sun_path, "/tmp/wkt-notify-%d", (int)getpid());
	unlink(sa.sun_path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setenv("NOTIFY_SOCKET", sa.sun_path, 1);
	wkt_tree_start(&t, NULL);
	unsetenv("NOTIFY_SOCKET");
	ck_assert_int_gt(recv(fd, buf, sizeof buf - 1, 0), 0);
	ck_assert_str_eq(buf, "READY=1");
	wkt_tree_stop(&t);
	close(fd);
	unlink(sa.sun_path);
}
END_TEST

/* Every command of wkctl and every program answers --help with exit 0. */
START_TEST(test_ops_help)
{
	static const char *const progs[] = {
		"wkctl --help", "wkctl help", "wkctl start --help", "wkctl stop --help",
		"wkctl status --help", "wkctl reload --help", "wkctl presence --help",
		"wkctl check --help", "wkctl restart --help", "wkctl backup --help",
		"wkctl restore --help", "wk-master --help",
		"wk-broker --help", "wk-api --help", "wk-channel --help", "wk-mailbox --help",
		"wk-hook --help",
	};
	char *out;

	for (size_t i = 0; i < sizeof progs / sizeof progs[0]; i++) {
		int rc = wkt_run(&out, "%s/%s", WK_TEST_BUILDDIR, progs[i]);
		ck_assert_msg(rc == 0 && strlen(out) > 20, "%s: %d %s", progs[i], rc, out);
		free(out);
	}
}
END_TEST

static Suite *
ops_suite(void)
{
	Suite *s = suite_create("ops");
	TCase *tc = tcase_create("ops");

	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, test_ops_token_from_non_loopback);
	tcase_add_test(tc, test_ops_health_frozen_shard);
	tcase_add_test(tc, test_ops_failed_start_leaves_nothing);
	tcase_add_test(tc, test_ops_broken_yaml_status_and_stop);
	tcase_add_test(tc, test_ops_respawn_served_child_quickly);
	tcase_add_test(tc, test_ops_layout_keeps_counts);
	tcase_add_test(tc, test_ops_layout_keeps_hash);
	tcase_add_test(tc, test_ops_help);
	tcase_add_test(tc, test_ops_webhook_signature);
	tcase_add_test(tc, test_ops_sd_notify_ready);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return wkt_run_suite(ops_suite());
}
