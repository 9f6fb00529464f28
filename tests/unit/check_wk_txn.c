/* check_wk_txn.c - the group commit (common/wk_txn.c) against a real
 * Berkeley DB environment in a temporary directory: the queued callbacks
 * run only when the transaction ends, in order, with rc 0 after a commit
 * (the writes are there) and rc -1 after a failed or aborted one (the
 * writes are gone); what a callback queues waits for the next commit; the
 * owner's hooks; and the bound on the queue. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "wk_db.h"
#include "wk_proc.h"
#include "wk_txn.h"
#include "wktest.h"

static const char *const dbs[] = { "t.db", NULL };
static struct wk_proc proc;
static char *dir;

/* What the callbacks saw, in the order they ran. */
static int ran[64], rcs[64], nran;

static void
record(struct wk_proc *p, int rc, void *arg)
{
	ran[nran] = (int)(intptr_t)arg;
	rcs[nran++] = rc;
}

static void
setup(void)
{
	dir = wkt_tmpdir();
	wkt_store_open(&proc, dir, dbs, NULL, "none");
	nran = 0;
}

static void
teardown(void)
{
	wkt_store_close(&proc);
	wkt_rm_rf(dir);
	free(dir);
}

static int
put(const char *k)
{
	return wk_db_put(proc.db[0], wk_txn_get(proc.txn), k, strlen(k), "v", 1);
}

/* 1 if k is stored (read outside any transaction: only committed rows). */
static int
stored(const char *k)
{
	uint8_t *v = NULL;
	size_t n;
	int rc = wk_db_get(proc.db[0], NULL, k, strlen(k), &v, &n);

	free(v);
	return rc;
}

/* How the transaction ends, and what the callbacks and the row see. */
static const struct {
	const char *name;
	int fail;                    /* wk_txn_fail before the end */
	int abort;                   /* wk_txn_abort instead of wk_txn_commit */
	int want_rc;                 /* the callbacks' rc and wk_txn_commit's */
	int want_stored;
} ends[] = {
	{ "commit", 0, 0, 0, 1 },
	{ "failed write", 1, 0, -1, 0 },
	{ "abort", 0, 1, -1, 0 },
};

START_TEST(test_wk_txn_callbacks_after_end)
{
	ck_assert_int_eq(put("row"), 0);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(wk_txn_after_commit(proc.txn, record, (void *)(intptr_t)(i + 1)), 0);
	ck_assert_int_eq(nran, 0);                 /* nothing before the end */
	ck_assert(wk_txn_is_open(proc.txn));
	if (ends[_i].fail) {
		wk_txn_fail(proc.txn);
		ck_assert(wk_txn_is_failed(proc.txn));
	}
	if (ends[_i].abort)
		wk_txn_abort(proc.txn);
	else
		ck_assert_int_eq(wk_txn_commit(proc.txn), ends[_i].want_rc);
	ck_assert_msg(nran == 3, "%s: %d callbacks ran", ends[_i].name, nran);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(ran[i], i + 1);       /* in the order queued */
		ck_assert_int_eq(rcs[i], ends[_i].want_rc);
	}
	ck_assert_int_eq(stored("row"), ends[_i].want_stored);
	ck_assert(!wk_txn_is_open(proc.txn));
	ck_assert_int_eq(wk_txn_commit(proc.txn), 0);   /* nothing open: nothing runs */
	ck_assert_int_eq(nran, 3);
}
END_TEST

/* A callback that queues another: it runs at the next commit, not this one. */
static void
requeue(struct wk_proc *p, int rc, void *arg)
{
	record(p, rc, arg);
	ck_assert_int_eq(wk_txn_after_commit(p->txn, record, (void *)(intptr_t)99), 0);
}

START_TEST(test_wk_txn_queued_during_callbacks)
{
	ck_assert_int_eq(wk_txn_after_commit(proc.txn, requeue, (void *)(intptr_t)1), 0);
	ck_assert_int_eq(wk_txn_commit(proc.txn), 0);
	ck_assert_int_eq(nran, 1);
	ck_assert(wk_txn_is_open(proc.txn));
	ck_assert_int_eq(wk_txn_commit(proc.txn), 0);
	ck_assert_int_eq(nran, 2);
	ck_assert_int_eq(ran[1], 99);
	ck_assert_uint_eq(wk_txn_commits(proc.txn), 2);
}
END_TEST

static int prepared, prepare_rc, ended_rc;

static int
hook_prepare(struct wk_proc *p, DB_TXN *txn)
{
	prepared++;
	return prepare_rc;
}

static void
hook_ended(struct wk_proc *p, int rc)
{
	ended_rc = rc;
	ck_assert_int_eq(nran, 0);                 /* before the queued work */
}

/* The owner's hooks: prepare can abort the commit; ended runs first. */
START_TEST(test_wk_txn_hooks)
{
	static const struct wk_txn_hooks hooks = { hook_prepare, hook_ended };

	wk_txn_set_hooks(proc.txn, &hooks);
	for (prepare_rc = 0; prepare_rc >= -1; prepare_rc--) {
		nran = 0;
		ended_rc = 7;
		ck_assert_int_eq(put("row"), 0);
		ck_assert_int_eq(wk_txn_after_commit(proc.txn, record, NULL), 0);
		ck_assert_int_eq(wk_txn_commit(proc.txn), prepare_rc);
		ck_assert_int_eq(ended_rc, prepare_rc);
		ck_assert_int_eq(rcs[0], prepare_rc);
	}
	ck_assert_int_eq(prepared, 2);
	ck_assert_uint_eq(wk_txn_aborts(proc.txn), 1);
}
END_TEST

/* At most max callbacks wait for one commit; busy from half of it. */
START_TEST(test_wk_txn_queue_bounded)
{
	struct wk_txn *t = wk_txn_new(&proc, 8);

	for (int i = 0; i < 8; i++) {
		ck_assert_int_eq(wk_txn_is_busy(t), i >= 4);
		ck_assert_int_eq(wk_txn_after_commit(t, record, (void *)(intptr_t)i), 0);
	}
	ck_assert_int_eq(wk_txn_after_commit(t, record, (void *)(intptr_t)8), -1);
	ck_assert_int_eq(wk_txn_commit(t), 0);
	ck_assert_int_eq(nran, 8);
	ck_assert(!wk_txn_is_busy(t));
	ck_assert_int_eq(wk_txn_after_commit(t, record, NULL), 0);
	wk_txn_destroy(&t);                        /* aborts: the callback gets -1 */
	ck_assert_ptr_null(t);
	ck_assert_int_eq(nran, 9);
	ck_assert_int_eq(rcs[8], -1);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("wk_txn");
	TCase *tc = tcase_create("wk_txn");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_wk_txn_callbacks_after_end, 0, sizeof ends / sizeof ends[0]);
	tcase_add_test(tc, test_wk_txn_queued_during_callbacks);
	tcase_add_test(tc, test_wk_txn_hooks);
	tcase_add_test(tc, test_wk_txn_queue_bounded);
	suite_add_tcase(s, tc);
	return wkt_run_suite(s);
}
