/* check_convsync.c - /conversation/sync with the last-message table
 * (lastmsg in wk(7)) against the real tree: the conversation.userMaxCount
 * cap keeps the newest news (issue 14's 1,100-conversation regression);
 * answers equal the old computation on randomized histories (a property
 * test with a model of semantics.md §10.2); the table survives kill -9 of
 * a channel shard and of wk-master.  See wk-api(8), wk-channel(8). */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "wktest.h"

static struct wkt_tree tree;

static void setup(void) { wkt_tree_start(&tree, "tokenAuthOn: false\n"); }
static void teardown(void) { wkt_tree_stop(&tree); }

static json_t *
sync_conv(const char *uid, int msg_count, const char *extra)
{
	char body[512];
	json_t *j;

	snprintf(body, sizeof body, "{\"uid\":\"%s\",\"msg_count\":%d%s}", uid, msg_count, extra);
	j = wkt_call(&tree, "POST", "/conversation/sync", body, 200);
	ck_assert_msg(json_is_array(j), "sync %s", body);
	return j;
}

static json_int_t
num(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static json_t *
find(json_t *list, const char *id)
{
	size_t i;
	json_t *v;

	json_array_foreach(list, i, v)
		if (strcmp(json_string_value(json_object_get(v, "channel_id")), id) == 0)
			return v;
	return NULL;
}

static void
send_from(const char *from, const char *to)
{
	ck_assert(wkt_send_text(&tree, from, to, 2, "x", NULL, NULL, NULL) > 0);
}

/* Issue 14: 1,100 group conversations, all read, then one new message in
 * each of 10 of them, the oldest conversation among them. */
START_TEST(test_convsync_cap_keeps_newest_news)
{
	char body[256], id[32];
	json_t *l, *c;
	time_t t0;
	size_t unread = 0, i;

	for (int k = 0; k < 1100; k++) {
		snprintf(body, sizeof body, "{\"channel_id\":\"cap%d\",\"channel_type\":2,"
		    "\"subscribers\":[\"capp\"]}", k);
		wkt_post_ok(&tree, "/channel", body);
		snprintf(id, sizeof id, "cap%d", k);
		send_from("capp", id);
		/* Added after the message: read up to it. */
		snprintf(body, sizeof body, "{\"channel_id\":\"cap%d\",\"channel_type\":2,"
		    "\"subscribers\":[\"capu\"]}", k);
		wkt_post_ok(&tree, "/channel/subscriber_add", body);
	}
	/* The news is newer than any message of the set-up, to the second. */
	for (t0 = time(NULL); time(NULL) == t0;)
		wkt_tick();
	for (int k = 0; k < 1100; k += 110) {
		snprintf(id, sizeof id, "cap%d", k);
		send_from("capp", id);
	}
	l = sync_conv("capu", 1, ",\"version\":1");
	ck_assert_uint_eq(json_array_size(l), 10);
	for (int k = 0; k < 1100; k += 110) {
		snprintf(id, sizeof id, "cap%d", k);
		ck_assert_msg((c = find(l, id)) != NULL, "incremental: no %s", id);
		ck_assert_int_eq(num(c, "unread"), 1);
		ck_assert_int_eq(num(c, "last_msg_seq"), 2);
	}
	json_decref(l);
	l = sync_conv("capu", 1, "");
	ck_assert_uint_eq(json_array_size(l), 1000);
	json_array_foreach(l, i, c)
		unread += num(c, "unread") == 1;
	ck_assert_uint_eq(unread, 10);
	ck_assert_ptr_nonnull(find(l, "cap0"));
	json_decref(l);
}
END_TEST

/* ---- the property test: a model of the old computation ---- */

enum { NU = 4, NC = 4, MAXMSG = 64, STEPS = 120 };

struct model {
	int member[NC][NU];
	int nmsg[NC];
	int from[NC][MAXMSG + 1];        /* sender of each seq */
	int row[NC][NU];                 /* the user has a conversation row */
	long R[NC][NU], del[NC][NU];
};

static const char *
uname(int u)
{
	static char b[NU][16];

	snprintf(b[u], sizeof b[u], "pu%d", u);
	return b[u];
}

static const char *
cname(int c)
{
	static char b[NC][16];

	snprintf(b[c], sizeof b[c], "pc%d", c);
	return b[c];
}

/* What the old /conversation/sync computed for (c, u): 0 if the
 * conversation is not shown, else 1 and its figures. */
static int
expect_item(const struct model *m, int c, int u, int incremental, long *unread, long *last,
    long *readed, int *from)
{
	long start, R, U = 0, ls;

	if (!m->row[c][u] || !m->member[c][u])
		return 0;
	start = incremental ? m->R[c][u] + 1 : 0;
	if (m->del[c][u] > 0 && m->del[c][u] >= start)
		start = m->del[c][u] + 1;
	if (start < 1)
		start = 1;
	ls = m->nmsg[c];
	if (ls < start)
		return 0;
	R = m->R[c][u] > m->del[c][u] ? m->R[c][u] : m->del[c][u];
	for (long s = 1; s <= ls; s++)
		if (m->from[c][s] == u)
			U = s;
	*unread = ls > R ? ls - R : 0;
	*readed = R;
	if (U > R && ls >= R && ls - U < *unread) {
		*unread = ls - U;
		*readed = U;
	}
	if (m->from[c][ls] == u) {
		*unread = 0;
		*readed = ls;
	}
	*last = ls;
	*from = m->from[c][ls];
	return 1;
}

static void
check_user(const struct model *m, int u, int incremental, int step)
{
	json_t *l = sync_conv(uname(u), 1, incremental ? ",\"version\":1" : ""), *it;
	char *text = json_dumps(l, JSON_COMPACT);
	size_t shown = 0;
	long unread, last, readed;
	int from;

	for (int c = 0; c < NC; c++) {
		it = find(l, cname(c));
		if (!expect_item(m, c, u, incremental, &unread, &last, &readed, &from)) {
			ck_assert_msg(it == NULL, "step %d %s inc %d: %s shown: %s", step, uname(u),
			    incremental, cname(c), text);
			continue;
		}
		shown++;
		ck_assert_msg(it != NULL, "step %d %s inc %d: no %s: %s", step, uname(u), incremental,
		    cname(c), text);
		json_t *r0 = json_array_get(json_object_get(it, "recents"), 0);
		ck_assert_msg(num(it, "unread") == unread && num(it, "last_msg_seq") == last &&
		    num(it, "readed_to_msg_seq") == readed && num(r0, "message_seq") == last &&
		    strcmp(json_string_value(json_object_get(r0, "from_uid")), uname(from)) == 0,
		    "step %d %s inc %d %s: want unread %ld last %ld readed %ld: %s", step, uname(u),
		    incremental, cname(c), unread, last, readed, text);
	}
	ck_assert_uint_eq(json_array_size(l), shown);
	free(text);
	json_decref(l);
}

/* Random sends, setUnread, clearUnread, delete, members added and removed
 * across a few users and groups; after each step every user's full and
 * incremental sync equal the model's. */
START_TEST(test_convsync_matches_model_on_random_histories)
{
	struct model m = { 0 };
	char body[256];
	unsigned seed = (unsigned)time(NULL);

	fprintf(stderr, "convsync property: seed %u\n", seed);
	srand(seed);
	for (int c = 0; c < NC; c++) {
		snprintf(body, sizeof body, "{\"channel_id\":\"%s\",\"channel_type\":2,"
		    "\"subscribers\":[\"%s\",\"%s\"]}", cname(c), uname(0), uname(1));
		wkt_post_ok(&tree, "/channel", body);
		for (int u = 0; u < 2; u++)
			m.member[c][u] = m.row[c][u] = 1;
	}
	for (int step = 0; step < STEPS; step++) {
		int c = rand() % NC, u = rand() % NU, op = rand() % 10;
		long last = m.nmsg[c];
		if (op < 4 && m.member[c][u] && m.nmsg[c] < MAXMSG) {
			send_from(uname(u), cname(c));
			m.from[c][++m.nmsg[c]] = u;
		} else if (op == 4 || op == 5) {
			/* setUnread n (5: clearUnread, n 0): only forward; a missing row is made. */
			long n = op == 4 ? rand() % 4 : 0, to = last;
			if (n > 0)
				to = n <= last ? last - n : last - 1;
			snprintf(body, sizeof body, "{\"uid\":\"%s\",\"channel_id\":\"%s\",\"channel_type\":2%s%ld}",
			    uname(u), cname(c), op == 4 ? ",\"unread\":" : ",\"message_seq\":", n);
			wkt_post_ok(&tree, op == 4 ? "/conversations/setUnread" :
			    "/conversations/clearUnread", body);
			if (!m.row[c][u]) {
				m.row[c][u] = 1;
				m.R[c][u] = to;
				m.del[c][u] = 0;
			} else if (to > m.R[c][u])
				m.R[c][u] = to;
		} else if (op == 6) {
			snprintf(body, sizeof body, "{\"uid\":\"%s\",\"channel_id\":\"%s\",\"channel_type\":2}",
			    uname(u), cname(c));
			wkt_post_ok(&tree, "/conversations/delete", body);
			if (m.row[c][u])
				m.del[c][u] = last;
		} else if (op == 7 && !m.member[c][u]) {
			snprintf(body, sizeof body, "{\"channel_id\":\"%s\",\"channel_type\":2,"
			    "\"subscribers\":[\"%s\"]}", cname(c), uname(u));
			wkt_post_ok(&tree, "/channel/subscriber_add", body);
			m.member[c][u] = m.row[c][u] = 1;
			m.R[c][u] = last;
			m.del[c][u] = 0;
		} else if (op == 8 && m.member[c][u]) {
			snprintf(body, sizeof body, "{\"channel_id\":\"%s\",\"channel_type\":2,"
			    "\"subscribers\":[\"%s\"]}", cname(c), uname(u));
			wkt_post_ok(&tree, "/channel/subscriber_remove", body);
			m.member[c][u] = m.row[c][u] = 0;
			m.R[c][u] = m.del[c][u] = 0;
		} else
			continue;
		for (int v = 0; v < NU; v++) {
			check_user(&m, v, 0, step);
			check_user(&m, v, 1, step);
		}
	}
}
END_TEST

/* The table is rebuilt by a channel shard killed -9, and after wk-master
 * is: incremental syncs stay right (a stale or empty table would hide or
 * invent news). */
START_TEST(test_convsync_table_survives_kill9)
{
	char id[32], body[256];
	json_t *l;

	for (int k = 0; k < 20; k++) {
		snprintf(body, sizeof body, "{\"channel_id\":\"kg%d\",\"channel_type\":2,"
		    "\"subscribers\":[\"kp\"]}", k);
		wkt_post_ok(&tree, "/channel", body);
		snprintf(id, sizeof id, "kg%d", k);
		send_from("kp", id);
		snprintf(body, sizeof body, "{\"channel_id\":\"kg%d\",\"channel_type\":2,"
		    "\"subscribers\":[\"ku\"]}", k);
		wkt_post_ok(&tree, "/channel/subscriber_add", body);
	}
	for (int s = 0; s < 2; s++)
		wkt_tree_kill9(&tree, "channel", s);
	send_from("kp", "kg3");
	l = sync_conv("ku", 1, ",\"version\":1");
	ck_assert_uint_eq(json_array_size(l), 1);
	ck_assert_int_eq(num(json_array_get(l, 0), "last_msg_seq"), 2);
	json_decref(l);
	l = sync_conv("ku", 1, "");
	ck_assert_uint_eq(json_array_size(l), 20);
	json_decref(l);

	/* wk-master: the tree goes down with it and a new one rebuilds the table. */
	struct wkt_proc v[32];
	int n = wkt_status(tree.run, v, 32);
	kill(tree.master, SIGKILL);
	wkt_wait_exit(tree.master, 5000, NULL);
	for (int i = 1; i < n; i++) {
		uint64_t end = wkt_now_ms() + 10000;
		while (kill(v[i].pid, 0) == 0 && wkt_now_ms() < end)
			wkt_tick();
	}
	tree.master = wkt_start_master(tree.config, tree.dir);
	ck_assert_int_eq(wkt_wait_ready(tree.run, WKT_NPROCS, 20000), 0);
	send_from("kp", "kg7");
	l = sync_conv("ku", 1, ",\"version\":1");
	ck_assert_uint_eq(json_array_size(l), 2);
	ck_assert_ptr_nonnull(find(l, "kg3"));
	ck_assert_ptr_nonnull(find(l, "kg7"));
	json_decref(l);
	l = sync_conv("ku", 1, "");
	ck_assert_uint_eq(json_array_size(l), 20);
	json_decref(l);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("convsync");
	TCase *tc = tcase_create("convsync");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_convsync_cap_keeps_newest_news);
	tcase_add_test(tc, test_convsync_matches_model_on_random_histories);
	tcase_add_test(tc, test_convsync_table_survives_kill9);
	suite_add_tcase(s, tc);
	return wkt_run_suite(s);
}
