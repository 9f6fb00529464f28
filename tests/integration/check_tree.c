/* check_tree.c - the whole process tree, started from the build tree:
 * readiness, status, respawn after kill -9, crash-loop throttle, exit 2 on a
 * bad config, SIGHUP with a bad file, a clean stop. */
#include <check.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <jansson.h>
#include "presence.h"
#include "wktest.h"

#define NPROCS WKT_NPROCS
#define READY_MS 20000

/* Count files in the run directory other than wk.yaml-like leftovers. */
static int
run_dir_entries(const char *run)
{
	DIR *d = opendir(run);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

START_TEST(test_tree_ready_status_and_clean_stop)
{
	struct wkt_tree t = { 0 };
	struct wkt_proc v[32];
	char *out, *wkctl = wkt_bin("wkctl"), shm[64], shmpath[128];
	int n, rc, pids[32];
	struct stat st;

	wkt_tree_start(&t, NULL);
	n = wkt_status(t.run, v, 32);
	ck_assert_int_eq(n, NPROCS);
	ck_assert_str_eq(v[0].role, "master");
	ck_assert_int_eq(v[0].pid, t.master);
	const char *roles[] = { "hook", "mailbox", "mailbox", "channel", "channel", "api", "broker", "broker" };
	for (int i = 0; i < 8; i++) {
		ck_assert_str_eq(v[i + 1].role, roles[i]);
		ck_assert_str_eq(v[i + 1].state, "ready");
		ck_assert_int_gt(v[i + 1].pid, 0);
		ck_assert_int_eq(kill(v[i + 1].pid, 0), 0);
		pids[i] = v[i + 1].pid;
	}
	/* wkctl status lists every process. */
	rc = wkt_run(&out, "%s -f %s status", wkctl, t.config);
	ck_assert_msg(rc == 0, "wkctl status: %d %s", rc, out);
	for (int i = 0; i < 8; i++) {
		char pidtxt[32];
		snprintf(pidtxt, sizeof pidtxt, " %d ", pids[i]);
		ck_assert_msg(strstr(out, pidtxt) != NULL, "pid %d missing in:\n%s", pids[i], out);
	}
	ck_assert_ptr_nonnull(strstr(out, "channel"));
	free(out);
	/* The presence segment exists while the tree runs. */
	presence_name(t.run, shm, sizeof shm);
	snprintf(shmpath, sizeof shmpath, "/dev/shm%s", shm);
	ck_assert_int_eq(stat(shmpath, &st), 0);

	rc = wkt_run(&out, "%s -f %s stop", wkctl, t.config);
	ck_assert_msg(rc == 0, "wkctl stop: %d %s", rc, out);
	free(out);
	ck_assert_int_eq(wkt_wait_exit(t.master, 1000, &rc), 0);
	ck_assert(WIFEXITED(rc) && WEXITSTATUS(rc) == 0);
	for (int i = 0; i < 8; i++)
		ck_assert_msg(kill(pids[i], 0) < 0, "pid %d still alive", pids[i]);
	ck_assert_msg(stat(shmpath, &st) < 0, "%s left behind", shmpath);
	ck_assert_int_eq(run_dir_entries(t.run), 0);
	/* Stopping a stopped tree says so. */
	rc = wkt_run(&out, "%s -f %s stop", wkctl, t.config);
	ck_assert_int_eq(rc, 1);
	free(out);
	t.master = 0;
	wkt_tree_stop(&t);
	free(wkctl);
}
END_TEST

/* kill -9 of each child: it comes back (new pid, ready), the others keep running. */
START_TEST(test_tree_kill9_respawns_each_child)
{
	struct wkt_tree t = { 0 };
	struct wkt_proc before[32], after[32];
	int n;

	wkt_tree_start(&t, NULL);
	for (int k = 1; k < NPROCS; k++) {
		n = wkt_status(t.run, before, 32);
		ck_assert_int_eq(n, NPROCS);
		ck_assert_int_eq(kill(before[k].pid, SIGKILL), 0);
		uint64_t end = wkt_now_ms() + READY_MS;
		int back = 0;
		while (!back && wkt_now_ms() < end) {
			n = wkt_status(t.run, after, 32);
			back = n == NPROCS && after[k].pid != before[k].pid && after[k].pid > 0 &&
			    strcmp(after[k].state, "ready") == 0;
			if (!back)
				wkt_tick();
		}
		ck_assert_msg(back, "%s/%d not respawned", before[k].role, before[k].instance);
		ck_assert_uint_eq(after[k].restarts, before[k].restarts + 1);
		for (int j = 1; j < NPROCS; j++)
			if (j != k)
				ck_assert_msg(after[j].pid == before[j].pid, "%s/%d was restarted too",
				    after[j].role, after[j].instance);
	}
	wkt_tree_stop(&t);
}
END_TEST

/* A child that fails at start is throttled: its delay doubles. */
START_TEST(test_tree_failing_child_is_throttled)
{
	struct wkt_tree t = { 0 };
	struct wkt_proc v[32], *c = NULL;
	char path[512], *log;
	int n;

	wkt_tree_start(&t, NULL);
	n = wkt_status(t.run, v, 32);
	c = wkt_find(v, n, "channel", 1);
	ck_assert_ptr_nonnull(c);
	/* Its data directory becomes a plain file: the shard cannot open it. */
	snprintf(path, sizeof path, "%s/data/channel-1", t.dir);
	char *out;
	wkt_run(&out, "rm -rf '%s' && echo x > '%s'", path, path);
	free(out);
	kill(c->pid, SIGKILL);
	uint64_t t0 = wkt_now_ms(), end = t0 + 20000;
	unsigned long long last_delay = 0;
	int increases = 0;
	while (wkt_now_ms() < end && increases < 4) {
		n = wkt_status(t.run, v, 32);
		c = wkt_find(v, n, "channel", 1);
		if (c && strcmp(c->state, "backoff") == 0 && c->next_delay_ms > last_delay) {
			if (last_delay)
				ck_assert_uint_eq(c->next_delay_ms, last_delay * 2);
			last_delay = c->next_delay_ms;
			increases++;
		}
		wkt_tick();
	}
	ck_assert_int_ge(increases, 4);
	/* Unthrottled it would have restarted every few milliseconds. */
	ck_assert_msg(c->restarts <= 6, "restarts %u in %llums", c->restarts,
	    (unsigned long long)(wkt_now_ms() - t0));
	/* The others were not disturbed. */
	ck_assert_str_eq(wkt_find(v, n, "channel", 0)->state, "ready");
	ck_assert_str_eq(wkt_find(v, n, "broker", 1)->state, "ready");
	/* Repaired, it comes back by itself. */
	unlink(path);
	ck_assert_int_eq(wkt_wait_ready(t.run, NPROCS, 30000), 0);
	snprintf(path, sizeof path, "%s/master.log", t.dir);
	log = wkt_read_file(path);
	ck_assert_ptr_nonnull(strstr(log, "channel/1"));
	free(log);
	wkt_tree_stop(&t);
}
END_TEST

START_TEST(test_tree_bad_config_exits_2_with_position)
{
	char *dir = wkt_tmpdir(), *out, *bin = wkt_bin("wk-master"), path[512];
	int rc;

	snprintf(path, sizeof path, "%s/bad.yaml", dir);
	wkt_write_file(path, "rootDir: /tmp\nprocesses:\n  broker: 2\n  brokers: 3\n");
	rc = wkt_run(&out, "%s -d -f %s", bin, path);
	ck_assert_int_eq(rc, 2);
	ck_assert_msg(strstr(out, "bad.yaml:4:3:") != NULL, "no position in: %s", out);
	free(out);
	rc = wkt_run(&out, "%s -n -f %s", bin, path);
	ck_assert_int_eq(rc, 2);
	free(out);
	/* wkctl check and start say the same, and nothing is started. */
	free(bin);
	bin = wkt_bin("wkctl");
	rc = wkt_run(&out, "%s -f %s check", bin, path);
	ck_assert_int_eq(rc, 2);
	ck_assert_ptr_nonnull(strstr(out, "bad.yaml:4:3:"));
	free(out);
	free(bin);
	wkt_rm_rf(dir);
	free(dir);
}
END_TEST

/* SIGHUP: a bad file keeps the old config and every process; a good one is
 * taken; a child that failed on a bad config is started again. */
START_TEST(test_tree_sighup_bad_config_keeps_running)
{
	struct wkt_tree t = { 0 };
	struct wkt_proc before[32], v[32];
	char *good;
	int n;

	wkt_tree_start(&t, NULL);
	n = wkt_status(t.run, before, 32);
	good = wkt_read_file(t.config);
	wkt_write_file(t.config, "rootDir: [unclosed\n");
	kill(t.master, SIGHUP);
	uint64_t end = wkt_now_ms() + 5000;
	do {
		n = wkt_status(t.run, v, 32);
	} while (v[0].reload_failures == 0 && wkt_now_ms() < end && (wkt_tick(), 1));
	ck_assert_uint_eq(v[0].reload_failures, 1);
	ck_assert_uint_eq(v[0].reloads, 0);
	ck_assert_int_eq(wkt_wait_ready(t.run, NPROCS, 5000), 0);
	n = wkt_status(t.run, v, 32);
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(v[i].pid, before[i].pid);

	/* A child restarted while the file is bad exits 2 and is not respawned. */
	kill(wkt_find(v, n, "hook", 0)->pid, SIGKILL);
	end = wkt_now_ms() + 10000;
	do {
		n = wkt_status(t.run, v, 32);
	} while (strcmp(wkt_find(v, n, "hook", 0)->state, "failed") != 0 &&
	    wkt_now_ms() < end && (wkt_tick(), 1));
	ck_assert_str_eq(wkt_find(v, n, "hook", 0)->state, "failed");

	/* A good file is taken, and the failed child comes back. */
	wkt_write_file(t.config, good);
	char *out, *wkctl = wkt_bin("wkctl");
	int rc = wkt_run(&out, "%s -f %s reload", wkctl, t.config);
	ck_assert_msg(rc == 0, "reload: %s", out);
	free(out);
	ck_assert_int_eq(wkt_wait_ready(t.run, NPROCS, READY_MS), 0);
	n = wkt_status(t.run, v, 32);
	ck_assert_uint_eq(v[0].reloads, 1);
	/* And wkctl reload of a bad file fails with the position, changing nothing. */
	wkt_write_file(t.config, "rootDir: [unclosed\n");
	rc = wkt_run(&out, "%s -f %s reload", wkctl, t.config);
	ck_assert_int_ne(rc, 0);
	free(out);
	wkt_write_file(t.config, good);
	free(good);
	free(wkctl);
	wkt_tree_stop(&t);
}
END_TEST

/* Checkpoints run on each shard's own thread (status: checkpoints=) every
 * storage.checkpointInterval, which a reload changes without a restart;
 * a channel shard killed after them recovers every message. */
START_TEST(test_tree_checkpoint_thread_follows_reload)
{
	struct wkt_tree t = { 0 };
	struct wkt_proc before[32], v[32];
	char *cfg, *at, *out, *wkctl = wkt_bin("wkctl");
	const char *body = "{\"from_uid\":\"u1\",\"channel_id\":\"ckpt\",\"channel_type\":2,"
	    "\"payload\":\"aGk=\"}";
	int n, rc;

	wkt_tree_start(&t, "tokenAuthOn: false\nstorage:\n  cacheSize: 4m\n"
	    "  checkpointInterval: 1h\n");
	for (int i = 0; i < 20; i++)
		json_decref(wkt_call(&t, "POST", "/message/send", body, 200));
	ck_assert_int_eq(wkt_status_sum(t.run, "channel", "checkpoints"), 0);
	n = wkt_status(t.run, before, 32);

	cfg = wkt_read_file(t.config);
	ck_assert_ptr_nonnull(at = strstr(cfg, "checkpointInterval: 1h"));
	at[strlen("checkpointInterval: 1")] = 's';
	wkt_write_file(t.config, cfg);
	free(cfg);
	rc = wkt_run(&out, "%s -f %s reload", wkctl, t.config);
	ck_assert_msg(rc == 0, "reload: %s", out);
	free(out);
	uint64_t end = wkt_now_ms() + 10000;
	while (wkt_status_sum(t.run, "channel", "checkpoints") < 2 && wkt_now_ms() < end)
		wkt_tick();
	ck_assert_int_ge(wkt_status_sum(t.run, "channel", "checkpoints"), 2);
	ck_assert_int_eq(wkt_status(t.run, v, 32), n);
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(v[i].pid, before[i].pid);

	for (int i = 0; i < 2; i++)
		wkt_tree_kill9(&t, "channel", i);
	ck_assert_int_eq(wkt_wait_ready(t.run, NPROCS, READY_MS), 0);
	json_t *j = wkt_call(&t, "GET", "/channel/max_message_seq?channel_id=ckpt&channel_type=2",
	    NULL, 200);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "message_seq")), 20);
	json_decref(j);
	free(wkctl);
	wkt_tree_stop(&t);
}
END_TEST

/* kill -9 of the master: the children see the pipe close and exit; a new
 * master starts over the leftovers (pid file, socket, segment). */
START_TEST(test_tree_master_kill9_then_restart)
{
	struct wkt_tree t = { 0 };
	struct wkt_proc v[32];
	int n;

	wkt_tree_start(&t, NULL);
	n = wkt_status(t.run, v, 32);
	kill(t.master, SIGKILL);
	wkt_wait_exit(t.master, 5000, NULL);
	for (int i = 1; i < n; i++) {
		uint64_t end = wkt_now_ms() + 10000;
		while (kill(v[i].pid, 0) == 0 && wkt_now_ms() < end)
			wkt_tick();
		ck_assert_msg(kill(v[i].pid, 0) < 0, "%s/%d outlived the master", v[i].role, v[i].instance);
	}
	t.master = wkt_start_master(t.config, t.dir);
	ck_assert_int_eq(wkt_wait_ready(t.run, NPROCS, READY_MS), 0);
	wkt_tree_stop(&t);
}
END_TEST

static Suite *
tree_suite(void)
{
	Suite *s = suite_create("tree");
	TCase *tc = tcase_create("tree");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_tree_ready_status_and_clean_stop);
	tcase_add_test(tc, test_tree_kill9_respawns_each_child);
	tcase_add_test(tc, test_tree_failing_child_is_throttled);
	tcase_add_test(tc, test_tree_bad_config_exits_2_with_position);
	tcase_add_test(tc, test_tree_sighup_bad_config_keeps_running);
	tcase_add_test(tc, test_tree_master_kill9_then_restart);
	tcase_add_test(tc, test_tree_checkpoint_thread_follows_reload);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return wkt_run_suite(tree_suite());
}
