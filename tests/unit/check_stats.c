/* check_stats.c - the statistics segment (shm/stats.h): rows made by the
 * master and found by their processes, a restart claiming a row (values
 * from zero, starts + 1), the log2 histogram buckets, a reader in another
 * process, a segment of another layout refused; and the connection rows of
 * BROKER_CONN_LIST (wk_connrow.h): round trip, order, malformed input. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "stats.h"
#include "wk_connrow.h"
#include "wk_msg.h"
#include "wktest.h"

static struct stats st;
static char name[64];

static void
setup(void)
{
	const uint8_t roles[] = { WK_ROLE_HOOK, WK_ROLE_CHANNEL, WK_ROLE_CHANNEL, WK_ROLE_BROKER };
	const uint16_t inst[] = { 0, 0, 1, 0 };

	snprintf(name, sizeof name, "/wkt.stats.%d", (int)getpid());
	ck_assert_int_eq(stats_create(&st, name, 4, roles, inst), 0);
}

static void
teardown(void)
{
	stats_close(&st);
	stats_unlink(name);
}

START_TEST(test_stats_rows_found_by_role_and_instance)
{
	ck_assert_uint_eq(stats_nrows(&st), 4);
	ck_assert_ptr_eq(stats_row_find(&st, WK_ROLE_CHANNEL, 1), stats_row_at(&st, 2));
	ck_assert_ptr_eq(stats_row_find(&st, WK_ROLE_HOOK, 0), stats_row_at(&st, 0));
	ck_assert_ptr_null(stats_row_find(&st, WK_ROLE_CHANNEL, 2));
	ck_assert_ptr_null(stats_row_find(&st, WK_ROLE_MAILBOX, 0));
	ck_assert_ptr_null(stats_row_at(&st, 4));
	ck_assert_int_eq(stats_row_at(&st, 3)->pid, 0);   /* not started yet */
}
END_TEST

/* A restarted process starts counting from zero; starts goes on. */
START_TEST(test_stats_claim_resets_values_keeps_starts)
{
	struct stats_row *r = stats_row_find(&st, WK_ROLE_BROKER, 0);

	stats_row_claim(r, 100, 5000);
	stats_add(r, STATS_CONNECTIONS, 3);
	stats_add(r, STATS_CONNECTIONS, 4);
	stats_set(r, STATS_RSS_BYTES, 99);
	stats_add_typed(r, STATS_MSGS_IN, 2, 5);
	stats_add_typed(r, STATS_MSGS_IN, 200, 1);   /* out of range: type 0 */
	stats_observe(r, STATS_H_COMMIT, 10);
	ck_assert_uint_eq(stats_get(r, STATS_CONNECTIONS), 7);
	ck_assert_uint_eq(stats_get(r, STATS_RSS_BYTES), 99);
	ck_assert_uint_eq(stats_get_typed(r, STATS_MSGS_IN, 2), 5);
	ck_assert_uint_eq(stats_get_typed(r, STATS_MSGS_IN, 0), 1);
	ck_assert_uint_eq(r->starts, 1);
	stats_row_claim(r, 101, 6000);
	ck_assert_uint_eq(r->starts, 2);
	ck_assert_int_eq(r->pid, 101);
	ck_assert_int_eq(r->started_ms, 6000);
	ck_assert_uint_eq(stats_get(r, STATS_CONNECTIONS), 0);
	ck_assert_uint_eq(stats_get_typed(r, STATS_MSGS_IN, 2), 0);
	struct stats_hist_view hv;
	stats_hist_read(r, STATS_H_COMMIT, &hv);
	ck_assert_uint_eq(hv.count, 0);
	/* No segment: every writer is a no-op. */
	stats_add(NULL, STATS_CONNECTIONS, 1);
	stats_observe(NULL, STATS_H_COMMIT, 1);
	stats_row_claim(NULL, 1, 1);
}
END_TEST

/* Bucket i holds (2^(i-1), 2^i] us, bucket 0 at most 1 us, past 2^23 us
 * +Inf; the count is the buckets' sum, the sum the latencies'. */
START_TEST(test_stats_histogram_buckets)
{
	static const struct { uint64_t us; int bucket; } cases[] = {
		{ 0, 0 }, { 1, 0 }, { 2, 1 }, { 3, 2 }, { 4, 2 }, { 5, 3 }, { 1000, 10 },
		{ 1024, 10 }, { 1025, 11 }, { 1u << 23, 23 }, { (1u << 23) + 1, 24 },
		{ UINT64_MAX / 2, 24 },
	};
	struct stats_row *r = stats_row_find(&st, WK_ROLE_CHANNEL, 0);
	struct stats_hist_view hv;
	uint64_t sum = 0;

	stats_row_claim(r, 1, 1);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		stats_hist_read(r, STATS_H_SENDACK, &hv);
		uint64_t before = hv.bucket[cases[i].bucket];
		stats_observe(r, STATS_H_SENDACK, cases[i].us);
		stats_hist_read(r, STATS_H_SENDACK, &hv);
		ck_assert_msg(hv.bucket[cases[i].bucket] == before + 1, "%llu us not in bucket %d",
		    (unsigned long long)cases[i].us, cases[i].bucket);
		sum += cases[i].us;
	}
	ck_assert_uint_eq(hv.count, sizeof cases / sizeof cases[0]);
	ck_assert_uint_eq(hv.sum_us, sum);
}
END_TEST

/* Another process maps it read-only and sees the writer's values. */
START_TEST(test_stats_reader_in_another_process)
{
	struct stats_row *r = stats_row_find(&st, WK_ROLE_HOOK, 0);
	pid_t pid;
	int status;

	stats_row_claim(r, getpid(), 1);
	stats_set(r, STATS_HOOK_QUEUED, 42);
	pid = fork();
	if (pid == 0) {
		struct stats rd;
		const struct stats_row *x;
		if (stats_open(&rd, name, 0) < 0)
			_exit(1);
		x = stats_row_at(&rd, 0);
		_exit(x->role == WK_ROLE_HOOK && stats_get(x, STATS_HOOK_QUEUED) == 42 &&
		    x->starts == 1 ? 0 : 2);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

/* Another layout (version, size) is refused before a row is read. */
START_TEST(test_stats_wrong_layout_refused)
{
	struct stats rd;

	st.hdr->version = STATS_VERSION + 1;
	ck_assert_int_eq(stats_open(&rd, name, 0), -1);
	st.hdr->version = STATS_VERSION;
	st.hdr->nrows = 5;
	ck_assert_int_eq(stats_open(&rd, name, 0), -1);
	st.hdr->nrows = 4;
	ck_assert_int_eq(stats_open(&rd, name, 0), 0);
	stats_close(&rd);
	ck_assert_int_eq(stats_open(&rd, "/wkt.stats.none", 0), -1);
}
END_TEST

START_TEST(test_stats_names_and_owners)
{
	ck_assert_str_eq(stats_info(STATS_CONNECTIONS)->name, "connections");
	ck_assert_int_eq(stats_info(STATS_CPU_US)->scale, 1000000);
	ck_assert_ptr_null(stats_info(STATS_NVALUES));
	ck_assert(stats_owned(STATS_CONNECTIONS, "broker"));
	ck_assert(!stats_owned(STATS_CONNECTIONS, "channel"));
	ck_assert(stats_owned(STATS_DB_COMMITS, "hook"));
	ck_assert(!stats_owned(STATS_DB_COMMITS, "api"));
	ck_assert(stats_owned(STATS_IPC_IN, "api"));
	for (int i = 0; i < STATS_NVALUES; i++)
		for (int k = i + 1; k < STATS_NVALUES; k++)
			ck_assert_str_ne(stats_info(i)->name, stats_info(k)->name);
}
END_TEST

static struct wk_connrow
row_example(void)
{
	struct wk_connrow c;

	memset(&c, 0, sizeof c);   /* padding too: rows are compared with memcmp */
	c.id = 0x1234500000007ull;
	c.port = 40000;
	c.connected_ms = 1000;
	c.last_ms = 2000;
	c.pending = 17;
	c.device_flag = c.device_level = 1;
	c.version = 4;
	strcpy(c.uid, "alice");
	strcpy(c.ip, "127.0.0.1");
	strcpy(c.device_id, "dev");
	for (int i = 0; i < WK_CONN_NCOUNTERS; i++)
		c.n[i] = 100 + i;
	return c;
}

START_TEST(test_connrow_round_trip)
{
	struct wk_connrow c = row_example(), d;
	struct wk_wbuf b;
	struct wk_rbuf rb;

	wk_wbuf_init(&b);
	wk_connrow_put(&b, &c);
	wk_rbuf_init(&rb, b.p, b.len);
	memset(&d, 0, sizeof d);
	wk_connrow_get(&rb, &d);
	ck_assert_int_eq(wk_rbuf_done(&rb), 0);
	ck_assert_int_eq(memcmp(&c, &d, sizeof c), 0);
	wk_wbuf_free(&b);
}
END_TEST

/* Short at every length, trailing bytes, strings longer than a row holds. */
START_TEST(test_connrow_malformed)
{
	struct wk_connrow c = row_example(), d;
	struct wk_wbuf b;
	struct wk_rbuf rb;
	char big[300];

	wk_wbuf_init(&b);
	wk_connrow_put(&b, &c);
	for (size_t n = 0; n < b.len; n++) {
		wk_rbuf_init(&rb, b.p, n);
		wk_connrow_get(&rb, &d);
		ck_assert_msg(wk_rbuf_done(&rb) < 0, "a row cut at %zu bytes was read", n);
	}
	wk_put_u8(&b, 0);
	wk_rbuf_init(&rb, b.p, b.len);
	wk_connrow_get(&rb, &d);
	ck_assert_int_eq(wk_rbuf_done(&rb), -1);
	wk_wbuf_free(&b);
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	/* uid, ip, device_id each longer than the row holds. */
	for (int field = 0; field < 3; field++) {
		wk_wbuf_init(&b);
		wk_put_u64(&b, 1);
		wk_put_str(&b, field == 0 ? big : "u");
		wk_put_str(&b, field == 1 ? big : "ip");
		wk_put_u16(&b, 1);
		wk_put_u64(&b, 1);
		wk_put_u64(&b, 1);
		wk_put_u32(&b, 0);
		for (int i = 0; i < WK_CONN_NCOUNTERS; i++)
			wk_put_u64(&b, 1);
		wk_put_u8(&b, 0);
		wk_put_u8(&b, 0);
		wk_put_str(&b, field == 2 ? big : "d");
		wk_put_u8(&b, 4);
		wk_rbuf_init(&rb, b.p, b.len);
		wk_connrow_get(&rb, &d);
		ck_assert_msg(wk_rbuf_done(&rb) < 0, "field %d too long was read", field);
		wk_wbuf_free(&b);
	}
}
END_TEST

/* By key, then by id; descending reverses both. */
START_TEST(test_connrow_order)
{
	struct wk_connrow a = row_example(), b = row_example();

	b.id = a.id + 1;
	ck_assert_int_lt(wk_connrow_cmp(&a, &b, WK_CONN_SORT_IN_MSG, 0), 0);
	ck_assert_int_gt(wk_connrow_cmp(&a, &b, WK_CONN_SORT_IN_MSG, 1), 0);
	b.n[WK_CONN_IN_MSGS] = 1;
	ck_assert_int_gt(wk_connrow_cmp(&a, &b, WK_CONN_SORT_IN_MSG, 0), 0);
	ck_assert_int_lt(wk_connrow_cmp(&a, &b, WK_CONN_SORT_ID, 0), 0);
	ck_assert_uint_eq(wk_connrow_key(&a, WK_CONN_SORT_IDLE), 2000);
	ck_assert_uint_eq(wk_connrow_key(&a, WK_CONN_SORT_UPTIME), 1000);
	ck_assert_uint_eq(wk_connrow_key(&a, WK_CONN_SORT_PENDING_BYTES), 17);
	ck_assert_uint_eq(wk_connrow_key(&a, WK_CONN_SORT_PROTO_VERSION), 4);
	ck_assert_uint_eq(wk_connrow_key(&a, 99), a.id);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("stats");
	TCase *tc = tcase_create("segment");
	TCase *tr = tcase_create("connrow");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_stats_rows_found_by_role_and_instance);
	tcase_add_test(tc, test_stats_claim_resets_values_keeps_starts);
	tcase_add_test(tc, test_stats_histogram_buckets);
	tcase_add_test(tc, test_stats_reader_in_another_process);
	tcase_add_test(tc, test_stats_wrong_layout_refused);
	tcase_add_test(tc, test_stats_names_and_owners);
	suite_add_tcase(s, tc);
	tcase_add_test(tr, test_connrow_round_trip);
	tcase_add_test(tr, test_connrow_malformed);
	tcase_add_test(tr, test_connrow_order);
	suite_add_tcase(s, tr);
	return wkt_run_suite(s);
}
