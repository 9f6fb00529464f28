/* check_shard.c - the shard map is stable: fixed tables of keys and the
 * shards they map to under each function a LAYOUT can name (computed by an
 * independent FNV-1a / fmix64 in Python).  If this test fails, data on disk
 * would move: do not "fix" the tables, fix the code.  And the new function
 * spreads what the old one did not: the benchmark's person chats. */
#include <check.h>
#include "wktest.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "wk_channelid.h"
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

static const struct { const char *key; uint64_t hash; int s2, s3, s7, s16; } fixed64[] = {
	{ "", 0xefd01f60ba992926ull, 0, 2, 1, 6 },
	{ "a", 0x82a2a958a9bece5bull, 1, 2, 1, 11 },
	{ "alice", 0x3507d047a67c08f4ull, 0, 2, 6, 4 },
	{ "bob@alice", 0x2219a62bedcf0b0eull, 0, 2, 2, 14 },
	{ "g123", 0x50aaf43421774ccbull, 1, 2, 4, 11 },
	{ "u2@u1", 0xd20762590453ce1bull, 1, 1, 5, 11 },
	{ "____manager", 0x568a093d29d67e82ull, 0, 1, 6, 2 },
	{ "用户", 0x39c3b6c93ed61209ull, 1, 2, 6, 9 },
};

START_TEST(test_shard_fixed_table)
{
	wk_shard_use(WK_SHARD_FNV1A32);
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

START_TEST(test_shard_fixed_table64)
{
	ck_assert_int_eq(wk_shard_in_use(), WK_SHARD_FNV1A64_FMIX64);
	for (size_t i = 0; i < sizeof fixed64 / sizeof fixed64[0]; i++) {
		const char *k = fixed64[i].key;
		size_t n = strlen(k);
		ck_assert_msg(wk_shard_hash64(k, n) == fixed64[i].hash, "%s: %016llx", k,
		    (unsigned long long)wk_shard_hash64(k, n));
		ck_assert_int_eq(wk_shard_channel(k, n, 1), 0);
		ck_assert_int_eq(wk_shard_channel(k, n, 2), fixed64[i].s2);
		ck_assert_int_eq(wk_shard_channel(k, n, 3), fixed64[i].s3);
		ck_assert_int_eq(wk_shard_uid(k, n, 7), fixed64[i].s7);
		ck_assert_int_eq(wk_shard_uid(k, n, 16), fixed64[i].s16);
	}
}
END_TEST

/* Key set `set` number i: 0 uids u0..u9999; 1 person chats of (u2k, u2k+1);
 * 2 the benchmark's pairs (wkbench_worker.c: "<prefix>s<k>" to "<prefix>r<k>"). */
static int
spread_key(int set, int i, char *out, size_t cap)
{
	char a[32], b[32];
	int na, nb;

	if (set == 0)
		return snprintf(out, cap, "u%d", i);
	if (set == 1) {
		na = snprintf(a, sizeof a, "u%d", 2 * i);
		nb = snprintf(b, sizeof b, "u%d", 2 * i + 1);
	} else {
		na = snprintf(a, sizeof a, "wb3f1c2_s%d", i);
		nb = snprintf(b, sizeof b, "wb3f1c2_r%d", i);
	}
	return (int)wk_channelid_person(a, (size_t)na, b, (size_t)nb, out, cap);
}

/* Every shard of 2, 4 and 8 gets its share of each key set, within 10 %. */
START_TEST(test_shard_spread)
{
	static const int nkeys[] = { 10000, 5000, 5000 };
	char key[64];

	for (int set = 0; set < 3; set++)
		for (int nshards = 2; nshards <= 8; nshards *= 2) {
			int count[8] = { 0 }, want = nkeys[set] / nshards;
			for (int i = 0; i < nkeys[set]; i++) {
				int n = spread_key(set, i, key, sizeof key);
				count[wk_shard_channel(key, (size_t)n, nshards)]++;
			}
			for (int s = 0; s < nshards; s++)
				ck_assert_msg(count[s] > want * 9 / 10 && count[s] < want * 11 / 10,
				    "set %d, %d shards: shard %d has %d of %d", set, nshards, s,
				    count[s], nkeys[set]);
		}
}
END_TEST

/* Why the function changed: under FNV-1a 32 the shard of 2 is the parity of
 * the bytes' low bits, and a person chat holds both uids, so only 's'
 * against 'r' is left - every benchmark pair on shard 0, one core idle. */
START_TEST(test_shard_old_hash_pairs)
{
	char key[64];

	wk_shard_use(WK_SHARD_FNV1A32);
	for (int i = 0; i < 5000; i++) {
		int n = spread_key(2, i, key, sizeof key);
		ck_assert_int_eq(wk_shard_channel(key, (size_t)n, 2), 0);
	}
	wk_shard_use(WK_SHARD_FNV1A64_FMIX64);
}
END_TEST

/* A new LAYOUT names the new function; an old one keeps FNV-1a 32, with the
 * field or without it (before it existed); an unknown name is refused. */
START_TEST(test_shard_layout_file)
{
	static const struct { const char *text; int rc; enum wk_shard_fn fn; } old[] = {
		{ "hash=fnv1a32 channel=2 mailbox=3\n", 0, WK_SHARD_FNV1A32 },
		{ "channel=2 mailbox=3\n", 0, WK_SHARD_FNV1A32 },
		{ "hash=fnv1a64-fmix64 channel=2 mailbox=3\n", 0, WK_SHARD_FNV1A64_FMIX64 },
		{ "hash=sha1 channel=2 mailbox=3\n", -1, 0 },
		{ "hash=fnv1a32\n", -1, 0 },
		{ "", -1, 0 },
	};
	char dir[] = "/tmp/wkt-XXXXXX", err[512], path[64], *text;
	enum wk_shard_fn fn = WK_SHARD_FNV1A32;
	int nch, nmb;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(wk_shard_layout_load(dir, err, sizeof err), 0);
	ck_assert_int_eq(wk_shard_in_use(), WK_SHARD_FNV1A64_FMIX64);
	ck_assert_int_eq(wk_shard_layout_check(dir, 2, 3, &fn, err, sizeof err), 0);
	ck_assert_int_eq(fn, WK_SHARD_FNV1A64_FMIX64);
	snprintf(path, sizeof path, "%s/LAYOUT", dir);
	text = wkt_read_file(path);
	ck_assert_str_eq(text, "hash=fnv1a64-fmix64 channel=2 mailbox=3\n");
	free(text);
	ck_assert_int_eq(wk_shard_layout_check(dir, 2, 3, &fn, err, sizeof err), 0);
	ck_assert_int_eq(wk_shard_layout_check(dir, 4, 3, &fn, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "channel=2 mailbox=3"));
	ck_assert_ptr_nonnull(strstr(err, "channel=4 mailbox=3"));
	for (size_t i = 0; i < sizeof old / sizeof old[0]; i++) {
		wkt_write_file(path, old[i].text);
		fn = 99;
		ck_assert_int_eq(wk_shard_layout_check(dir, 2, 3, &fn, err, sizeof err), old[i].rc);
		ck_assert_int_eq(wk_shard_layout_read(dir, &nch, &nmb, NULL), old[i].rc);
		wk_shard_use(WK_SHARD_FNV1A64_FMIX64);
		ck_assert_int_eq(wk_shard_layout_load(dir, err, sizeof err), old[i].rc);
		if (old[i].rc == 0) {
			ck_assert_int_eq(fn, old[i].fn);
			ck_assert_int_eq(wk_shard_in_use(), old[i].fn);
			ck_assert_int_eq(nch * 10 + nmb, 23);
		} else {
			ck_assert_ptr_nonnull(strstr(err, "LAYOUT"));
		}
		/* Checking never rewrites an existing LAYOUT. */
		text = wkt_read_file(path);
		ck_assert_str_eq(text, old[i].text);
		free(text);
	}
	wkt_rm_rf(dir);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("shard");
	TCase *tc = tcase_create("shard");

	tcase_add_test(tc, test_shard_fixed_table);
	tcase_add_test(tc, test_shard_fixed_table64);
	tcase_add_test(tc, test_shard_spread);
	tcase_add_test(tc, test_shard_old_hash_pairs);
	tcase_add_test(tc, test_shard_layout_file);
	suite_add_tcase(s, tc);
	return wkt_run_suite(s);
}
