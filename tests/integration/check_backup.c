/* check_backup.c - `wkctl backup` under load and `wkctl restore` (issue 17,
 * wkctl(8)): a client sends without pause while every shard takes its hot
 * backup; the backup restored into a fresh tree holds every message that
 * was acknowledged before the backup began, and the sends stalled only
 * briefly.  Also: a restore over an existing data directory moves it aside,
 * and a backup refuses a directory that is not empty. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <check.h>
#include <jansson.h>
#include "wktest.h"

#define NMAX 100000
#define NCHAN 4

struct ack { uint64_t at_ms; uint32_t seq; };

static struct wkt_tree tree;
static struct ack acks[NMAX];
static volatile int sending, nsent;

/* The sender: message n to channel bk<n % NCHAN> as client_msg_no "bk<n>";
 * its acknowledgement time and seq in acks[n]. */
static void *
sender(void *arg)
{
	char url[128], body[256], *resp;

	snprintf(url, sizeof url, "%s/message/send", tree.http);
	for (int n = 0; sending && n < NMAX; n++) {
		snprintf(body, sizeof body, "{\"from_uid\":\"s\",\"channel_id\":\"bk%d\","
		    "\"channel_type\":2,\"payload\":\"aGk=\",\"client_msg_no\":\"bk%d\"}",
		    n % NCHAN, n);
		resp = NULL;
		if (wkt_http("POST", url, body, &resp, NULL) == 200) {
			json_t *j = json_loads(resp, 0, NULL);
			json_t *d = json_object_get(j, "data");
			if (json_integer_value(json_object_get(d, "reason_code")) == 1) {
				acks[n].seq = (uint32_t)json_integer_value(json_object_get(d, "message_seq"));
				acks[n].at_ms = wkt_now_ms();
			}
			json_decref(j);
		}
		free(resp);
		nsent = n + 1;
	}
	return arg;
}

/* The client_msg_nos stored in channel bk<c> of t: a bitmap by n. */
static void
stored(const struct wkt_tree *t, int c, char *have)
{
	char url[128], body[256], *resp = NULL;
	json_t *j, *msgs, *m;
	size_t i;

	snprintf(url, sizeof url, "%s/channel/messagesync", t->http);
	snprintf(body, sizeof body, "{\"login_uid\":\"s\",\"channel_id\":\"bk%d\",\"channel_type\":2,"
	    "\"start_message_seq\":1,\"end_message_seq\":0,\"limit\":10000,\"pull_mode\":1}", c);
	ck_assert_int_eq(wkt_http("POST", url, body, &resp, NULL), 200);
	j = json_loads(resp, 0, NULL);
	msgs = json_object_get(j, "messages");
	ck_assert_msg(json_is_array(msgs), "%s", resp);
	json_array_foreach(msgs, i, m) {
		const char *no = json_string_value(json_object_get(m, "client_msg_no"));
		int n = no && strncmp(no, "bk", 2) == 0 ? atoi(no + 2) : -1;
		ck_assert_msg(n >= 0 && n < NMAX, "client_msg_no %s", no ? no : "(none)");
		have[n] = 1;
	}
	json_decref(j);
	free(resp);
}

/* A tree on a fresh directory, its data restored from `backup` by wkctl
 * before the first start. */
static void
restored_tree_start(struct wkt_tree *t, const char *backup)
{
	char *out = NULL;

	wkt_tree_prepare(t, "tokenAuthOn: false\n");
	ck_assert_msg(wkt_run(&out, "%s/wkctl -f %s restore %s", WK_TEST_BUILDDIR, t->config,
	    backup) == 0, "restore: %s", out);
	free(out);
	wkt_tree_launch(t);
}

START_TEST(test_backup_under_load_restored)
{
	struct wkt_tree fresh;
	pthread_t th;
	char *bdir, *out = NULL, *have = calloc(NMAX, 1);
	uint64_t began, ended, worst_gap = 0, prev = 0;
	int before = 0, during = 0, rc;

	wkt_tree_start(&tree, "tokenAuthOn: false\n");
	if (asprintf(&bdir, "%s-backup", tree.dir) < 0)
		abort();
	sending = 1;
	pthread_create(&th, NULL, sender, NULL);
	while (nsent < 300)
		usleep(5000);
	began = wkt_now_ms();
	rc = wkt_run(&out, "%s/wkctl -f %s backup %s", WK_TEST_BUILDDIR, tree.config, bdir);
	ended = wkt_now_ms();
	ck_assert_msg(rc == 0, "backup: %s", out);
	ck_assert_msg(strncmp(out, "ok ", 3) == 0 && strstr(out, "channel/1 ok"), "%s", out);
	usleep(300000);
	sending = 0;
	pthread_join(th, NULL);
	/* How long did the sends stall while the shards copied? */
	for (int n = 0; n < nsent; n++) {
		if (acks[n].at_ms == 0)
			continue;
		if (acks[n].at_ms <= began)   /* the 300th ack may share began's millisecond */
			before++;
		else if (acks[n].at_ms <= ended)
			during++;
		if (prev && acks[n].at_ms >= began && prev <= ended && acks[n].at_ms - prev > worst_gap)
			worst_gap = acks[n].at_ms - prev;
		prev = acks[n].at_ms;
	}
	fprintf(stderr, "backup: %llu ms; %d sends acked before it, %d during it; the longest "
	    "gap between two acks around it %llu ms\n", (unsigned long long)(ended - began),
	    before, during, (unsigned long long)worst_gap);
	ck_assert_int_ge(before, 300);
	ck_assert_msg(worst_gap < 2000, "sends stalled %llu ms", (unsigned long long)worst_gap);
	wkt_tree_stop(&tree);

	restored_tree_start(&fresh, bdir);
	for (int c = 0; c < NCHAN; c++)
		stored(&fresh, c, have);
	for (int n = 0; n < nsent; n++)
		if (acks[n].at_ms && acks[n].at_ms < began)
			ck_assert_msg(have[n], "message bk%d (seq %u), acked before the backup, "
			    "missing after the restore", n, acks[n].seq);
	wkt_tree_stop(&fresh);
	wkt_rm_rf(bdir);
	free(bdir);
	free(out);
	free(have);
}
END_TEST

/* A backup into a directory that holds something is refused; a restore
 * needs the tree stopped and moves an existing data directory aside. */
START_TEST(test_backup_refusals_and_restore_over_data)
{
	char *bdir, *out = NULL, path[600];
	struct stat st;

	wkt_tree_start(&tree, "tokenAuthOn: false\n");
	wkt_send_text(&tree, "s", "keep", 2, "one", NULL, NULL, NULL);
	if (asprintf(&bdir, "%s-backup", tree.dir) < 0)
		abort();
	mkdir(bdir, 0755);
	snprintf(path, sizeof path, "%s/x", bdir);
	wkt_write_file(path, "x");
	ck_assert_int_eq(wkt_run(&out, "%s/wkctl -f %s backup %s", WK_TEST_BUILDDIR,
	    tree.config, bdir), 1);
	ck_assert_msg(strstr(out, "not empty") != NULL, "%s", out);
	free(out);
	unlink(path);
	ck_assert_int_eq(wkt_run(&out, "%s/wkctl -f %s backup %s", WK_TEST_BUILDDIR,
	    tree.config, bdir), 0);
	free(out);
	ck_assert_int_eq(wkt_run(&out, "%s/wkctl -f %s restore %s", WK_TEST_BUILDDIR,
	    tree.config, bdir), 1);
	ck_assert_msg(strstr(out, "running") != NULL, "%s", out);
	free(out);
	wkt_send_text(&tree, "s", "keep", 2, "two", NULL, NULL, NULL);
	/* Stopped as its parent (wkctl stop would wait on our zombie). */
	kill(tree.master, SIGTERM);
	ck_assert_int_eq(wkt_wait_exit(tree.master, 20000, NULL), 0);
	ck_assert_int_eq(wkt_run(&out, "%s/wkctl -f %s restore %s", WK_TEST_BUILDDIR,
	    tree.config, bdir), 0);
	ck_assert_msg(strstr(out, "pre-restore") != NULL, "%s", out);
	free(out);
	/* The tree started again holds what the backup held: "one", not "two". */
	tree.master = wkt_start_master(tree.config, tree.dir);
	ck_assert_int_eq(wkt_wait_ready(tree.run, WKT_NPROCS, 20000), 0);
	ck_assert_int_eq(wkt_send_text(&tree, "s", "keep", 2, "three", NULL, NULL, NULL), 2);
	snprintf(path, sizeof path, "%s/data/channel-0/" "wk-recover-fatal", tree.dir);
	ck_assert_int_ne(stat(path, &st), 0);   /* recovered, the marker gone */
	wkt_tree_stop(&tree);
	wkt_rm_rf(bdir);
	free(bdir);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("backup");
	TCase *tc = tcase_create("backup");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_backup_under_load_restored);
	tcase_add_test(tc, test_backup_refusals_and_restore_over_data);
	suite_add_tcase(s, tc);
	return wkt_run_suite(s);
}
