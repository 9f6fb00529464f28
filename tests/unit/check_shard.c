/* check_shard.c - the shard map is stable: a fixed table of keys and the
 * shards they map to (computed by an independent FNV-1a in Python).  If this test fails, data on disk would move: do not
 * "fix" the table, fix the code. */
#include <check.h>
#include "wktest.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "wk_shard.h"

static const struct { const char *key; uint32_t hash; int s2, s3, s7, s16; } fixed[] = {
	{ "", 0x811c9dc5u, 1, 1, 2, 5 },
	{ "a", 0xe40c292cu, 0, 1, 5, 12 },
	{ "alice", 0x872213e7u, 1, 2, 6, 7 },
	{ "bob@alice", 0x2e55b65cu, 0, 0, 0, 12 },
	{ "g123", 0xfcde2ae2u, 0, 1, 5, 2 },
	{ "u2@u1", 0xf055839cu, 0, 0, 5, 12 },
	{ "____manager", 0xefce18a0u, 0, 2, 4, 0 },
	{ "用户", 0x1be4cbb9u, 1, 1, 3, 9 },
};

START_TEST(test_shard_fixed_table)
{
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
		const char *k = fixed[i].key;
		size_t n = strlen(k);
		ck_assert_msg(wk_shard_hash(k, n) == fixed[i].hash, "%s: %08x", k, wk_shard_hash(k, n));
		ck_assert_int_eq(wk_shard_channel(k, n, 1), 0);
		ck_assert_int_eq(wk_shard_channel(k, n, 2), fixed[i].s2);
		ck_assert_int_eq(wk_shard_channel(k, n, 3), fixed[i].s3);
		ck_assert_int_eq(wk_shard_uid(k, n, 7), fixed[i].s7);
		ck_assert_int_eq(wk_shard_uid(k, n, 16), fixed[i].s16);
	}
}
END_TEST

START_TEST(test_shard_spread)
{
	int count[4] = { 0 };
	char key[32];

	for (int i = 0; i < 40000; i++) {
		int n = snprintf(key, sizeof key, "user%d", i);
		count[wk_shard_uid(key, n, 4)]++;
	}
	for (int s = 0; s < 4; s++)
		ck_assert_msg(count[s] > 9000 && count[s] < 11000, "shard %d: %d", s, count[s]);
}
END_TEST

START_TEST(test_shard_layout_file)
{
	char dir[] = "/tmp/wkt-XXXXXX", err[512], cmd[64];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(wk_shard_layout_check(dir, 2, 3, err, sizeof err), 0);
	ck_assert_int_eq(wk_shard_layout_check(dir, 2, 3, err, sizeof err), 0);
	ck_assert_int_eq(wk_shard_layout_check(dir, 4, 3, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "channel=2 mailbox=3"));
	ck_assert_ptr_nonnull(strstr(err, "channel=4 mailbox=3"));
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("shard");
	TCase *tc = tcase_create("shard");

	tcase_add_test(tc, test_shard_fixed_table);
	tcase_add_test(tc, test_shard_spread);
	tcase_add_test(tc, test_shard_layout_file);
	suite_add_tcase(s, tc);
	return wkt_run_suite(s);
}
