/* check_hook_queue.c - wk-hook's durable queue (workers/hook/hook_queue.c)
 * against a real Berkeley DB environment in a temporary directory: events
 * reach their lanes only after the commit, in queue order per order key;
 * what was not done survives a close and reopen, in order, and new events
 * are numbered after it; more events than memory holds are kept on disk
 * and read back, each once and in order; the producers' last batches are
 * kept.  The queue only needs p->env and p->db[], so a bare struct wk_proc
 * stands in for the process skeleton. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hook.h"
#include "wk_db.h"
#include "wktest.h"

static struct wk_proc proc;
static char *dir;

static void
queue_open(void)
{
	wkt_store_open(&proc, dir, hook_databases, NULL, "none");
	ck_assert_int_eq(hook_queue_open(&proc), 0);
}

static void
queue_close(void)
{
	hook_queue_close(&proc);
	wkt_store_close(&proc);
}

static void
setup(void)
{
	dir = wkt_tmpdir();
	queue_open();
}

static void
teardown(void)
{
	queue_close();
	wkt_rm_rf(dir);
	free(dir);
}

/* Event i of key k: "{"k":k,"i":i}" padded with spaces to len bytes. */
static void
put(int ev, uint32_t key, int i, size_t len)
{
	char text[4096];
	int n = snprintf(text, sizeof text, "{\"k\":%u,\"i\":%d}", key, i);

	memset(text + n, ' ', len > (size_t)n ? len - (size_t)n : 0);
	ck_assert_int_eq(hook_queue_put(&proc, ev, key, text, len > (size_t)n ? len : (size_t)n), 0);
}

static int
item_i(const struct hook_event *e)
{
	unsigned k;
	int i;

	ck_assert_int_eq(sscanf(e->data, "{\"k\":%u,\"i\":%d}", &k, &i), 2);
	ck_assert_uint_eq(k, e->key);
	return i;
}

static size_t
waiting(int ev)
{
	size_t n = 0;
	uint64_t since;

	for (int l = 0; l < HOOK_LANES; l++)
		n += hook_queue_waiting(ev, l, &since);
	return n;
}

/* Take everything waiting in every lane (max per take), mark it done,
 * commit; each key's i must follow last[key] + 1.  Returns how many. */
static size_t
drain(int ev, size_t max, int *last, int nkeys)
{
	size_t total = 0;

	for (int l = 0; l < HOOK_LANES; l++) {
		size_t n;
		struct hook_event *list;
		while ((list = hook_queue_take(ev, l, max, &n)) != NULL) {
			for (struct hook_event *e = list; e; e = e->next) {
				int i = item_i(e);
				ck_assert_int_eq(hook_lane(e->key), l);
				ck_assert_int_lt(e->key, nkeys);
				ck_assert_msg(i == last[e->key] + 1, "key %u: %d after %d", e->key, i,
				    last[e->key]);
				last[e->key] = i;
			}
			total += n;
			hook_queue_done(&proc, ev, list);
		}
	}
	hook_queue_commit(&proc);
	return total;
}

START_TEST(test_hook_queue_lanes_after_commit)
{
	int last[40];

	memset(last, -1, sizeof last);
	for (int i = 0; i < 400; i++)
		put(WK_WEBHOOK_MSG_NOTIFY, (uint32_t)(i % 40), i / 40, 50);
	ck_assert_uint_eq(waiting(WK_WEBHOOK_MSG_NOTIFY), 0);     /* not committed yet */
	ck_assert_uint_eq(hook_queue_depth(WK_WEBHOOK_MSG_NOTIFY), 400);
	hook_queue_commit(&proc);
	ck_assert_uint_eq(waiting(WK_WEBHOOK_MSG_NOTIFY), 400);
	ck_assert_uint_eq(waiting(WK_WEBHOOK_MSG_OFFLINE), 0);
	ck_assert_uint_eq(drain(WK_WEBHOOK_MSG_NOTIFY, 7, last, 40), 400);
	for (int k = 0; k < 40; k++)
		ck_assert_int_eq(last[k], 9);
	ck_assert_uint_eq(hook_queue_depth(WK_WEBHOOK_MSG_NOTIFY), 0);
	queue_close();
	queue_open();
	ck_assert_uint_eq(hook_queue_depth(WK_WEBHOOK_MSG_NOTIFY), 0);
	ck_assert_uint_eq(waiting(WK_WEBHOOK_MSG_NOTIFY), 0);
}
END_TEST

START_TEST(test_hook_queue_survives_reopen)
{
	int last[3] = { -1, -1, -1 };
	size_t n;
	struct hook_event *list;

	for (int i = 0; i < 30; i++)
		put(WK_WEBHOOK_MSG_OFFLINE, (uint32_t)(i % 3), i / 3, 20);
	hook_queue_commit(&proc);
	/* Key 0: the first 4 are posted; a batch of key 1 is taken
	 * (in flight) but not done when the process goes. */
	list = hook_queue_take(WK_WEBHOOK_MSG_OFFLINE, hook_lane(0), 4, &n);
	ck_assert_uint_eq(n, 4);
	for (struct hook_event *e = list; e; e = e->next)
		last[0] = item_i(e);
	hook_queue_done(&proc, WK_WEBHOOK_MSG_OFFLINE, list);
	list = hook_queue_take(WK_WEBHOOK_MSG_OFFLINE, hook_lane(1), 5, &n);
	ck_assert_uint_eq(n, 5);
	for (struct hook_event *e = list; e; ) {   /* memory only: the queue keeps them */
		struct hook_event *next = e->next;
		free(e);
		e = next;
	}
	queue_close();
	queue_open();
	ck_assert_uint_eq(hook_queue_depth(WK_WEBHOOK_MSG_OFFLINE), 26);
	put(WK_WEBHOOK_MSG_OFFLINE, 0, 10, 20);   /* numbered after what is there */
	put(WK_WEBHOOK_MSG_OFFLINE, 1, 10, 20);
	hook_queue_commit(&proc);
	ck_assert_uint_eq(drain(WK_WEBHOOK_MSG_OFFLINE, 100, last, 3), 28);
	ck_assert_int_eq(last[0], 10);
	ck_assert_int_eq(last[1], 10);
	ck_assert_int_eq(last[2], 9);
}
END_TEST

/* More than the memory bound (32 MiB per kind): the rest stays on disk and
 * comes back in order as the lanes drain, each event once. */
START_TEST(test_hook_queue_spill)
{
	enum { N = 45000, KEYS = 100, LEN = 1000 };
	int last[KEYS];
	char st[512];
	size_t got = 0;

	memset(last, -1, sizeof last);
	for (int i = 0; i < N; i++) {
		put(WK_WEBHOOK_USER_ONLINESTATUS, (uint32_t)(i % KEYS), i / KEYS, LEN);
		if (i % 1000 == 999)
			hook_queue_commit(&proc);
	}
	hook_queue_commit(&proc);
	hook_queue_status(st, sizeof st);
	ck_assert_msg(strstr(st, " spilled=1") != NULL, "%s", st);
	ck_assert_uint_eq(hook_queue_depth(WK_WEBHOOK_USER_ONLINESTATUS), N);
	ck_assert_uint_lt(waiting(WK_WEBHOOK_USER_ONLINESTATUS), N);
	/* New events while spilled go behind the ones on disk. */
	put(WK_WEBHOOK_USER_ONLINESTATUS, 0, N / KEYS, LEN);
	hook_queue_commit(&proc);
	for (int rounds = 0; rounds < 100 && got < N + 1; rounds++)
		got += drain(WK_WEBHOOK_USER_ONLINESTATUS, 500, last, KEYS);
	ck_assert_uint_eq(got, N + 1);
	ck_assert_int_eq(last[0], N / KEYS);
	for (int k = 1; k < KEYS; k++)
		ck_assert_int_eq(last[k], N / KEYS - 1);
	hook_queue_status(st, sizeof st);
	ck_assert_msg(strstr(st, " spilled=0") != NULL && strstr(st, " queued=0 ") != NULL, "%s", st);
}
END_TEST

START_TEST(test_hook_queue_producers)
{
	uint64_t epoch, seq;

	ck_assert_int_eq(hook_queue_producer(WK_ROLE_CHANNEL, 1, &epoch, &seq), 0);
	ck_assert_int_eq(hook_queue_producer_set(&proc, WK_ROLE_CHANNEL, 1, 77, 5), 0);
	ck_assert_int_eq(hook_queue_producer_set(&proc, WK_ROLE_MAILBOX, 255, 78, 9), 0);
	ck_assert_int_eq(hook_queue_producer_set(&proc, WK_ROLE_MAILBOX, 256, 78, 9), -1);
	hook_queue_commit(&proc);
	queue_close();
	queue_open();
	ck_assert_int_eq(hook_queue_producer(WK_ROLE_CHANNEL, 1, &epoch, &seq), 1);
	ck_assert_uint_eq(epoch, 77);
	ck_assert_uint_eq(seq, 5);
	ck_assert_int_eq(hook_queue_producer(WK_ROLE_MAILBOX, 255, &epoch, &seq), 1);
	ck_assert_uint_eq(seq, 9);
	ck_assert_int_eq(hook_queue_producer(WK_ROLE_CHANNEL, 0, &epoch, &seq), 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("hook_queue");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_hook_queue_lanes_after_commit);
	tcase_add_test(tc, test_hook_queue_survives_reopen);
	tcase_add_test(tc, test_hook_queue_spill);
	tcase_add_test(tc, test_hook_queue_producers);
	suite_add_tcase(s, tc);
	return wkt_run_suite(s);
}
