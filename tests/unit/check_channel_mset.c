/* check_channel_mset.c - the uid set of wk-channel's list cache
 * (workers/channel/channel_mset.c): a table of add/remove/has steps, then
 * many uids against a model (adds, removes, re-adds, compaction of the
 * arena, growth of the table), the walk, and the size bound. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "channel_mset.h"
#include "wktest.h"

enum op { ADD, DEL, HAS };

static const struct step {
	enum op op;
	const char *uid;
	int want;
} steps[] = {
	{ HAS, "a", 0 }, { DEL, "a", 0 },
	{ ADD, "a", 1 }, { ADD, "a", 0 }, { HAS, "a", 1 },
	{ ADD, "", 1 }, { HAS, "", 1 }, { HAS, "b", 0 },
	{ ADD, "ab", 1 }, { HAS, "a", 1 }, { HAS, "ab", 1 },
	{ DEL, "a", 1 }, { HAS, "a", 0 }, { HAS, "ab", 1 }, { DEL, "a", 0 },
	{ ADD, "a", 1 }, { HAS, "a", 1 }, { DEL, "", 1 }, { HAS, "", 0 },
};

START_TEST(test_channel_mset_steps)
{
	struct channel_mset s;
	int n = 0;

	channel_mset_init(&s);
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		const struct step *t = &steps[i];
		size_t len = strlen(t->uid);
		int got = t->op == ADD ? channel_mset_add(&s, t->uid, len) :
		    t->op == DEL ? channel_mset_remove(&s, t->uid, len) :
		    channel_mset_has(&s, t->uid, len);
		ck_assert_msg(got == t->want, "step %zu (%d \"%s\"): %d, want %d", i, t->op,
		    t->uid, got, t->want);
		if (t->op != HAS)
			n += t->op == ADD ? got : -got;
		ck_assert_uint_eq(s.n, (unsigned)n);
	}
	channel_mset_free(&s);
}
END_TEST

#define MANY 200000

static int
count_one(const char *uid, size_t len, void *arg)
{
	unsigned long *c = arg;
	char buf[32];

	ck_assert(len < sizeof buf);
	memcpy(buf, uid, len);
	buf[len] = '\0';
	ck_assert_int_eq(strncmp(buf, "user", 4), 0);
	c[0]++;
	c[1] += strtoul(buf + 4, NULL, 10);
	return 0;
}

/* Many uids: every third removed, then half of those added back; the set
 * agrees with the model for every uid, and the walk sees each once. */
START_TEST(test_channel_mset_many)
{
	static unsigned char model[MANY];
	struct channel_mset s;
	unsigned long want_n = 0, want_sum = 0, c[2] = { 0, 0 };
	char uid[32];

	channel_mset_init(&s);
	for (int i = 0; i < MANY; i++) {
		int n = snprintf(uid, sizeof uid, "user%d", i);
		ck_assert_int_eq(channel_mset_add(&s, uid, (size_t)n), 1);
		model[i] = 1;
	}
	for (int i = 0; i < MANY; i += 3) {
		int n = snprintf(uid, sizeof uid, "user%d", i);
		ck_assert_int_eq(channel_mset_remove(&s, uid, (size_t)n), 1);
		model[i] = 0;
	}
	for (int i = 0; i < MANY; i += 6) {
		int n = snprintf(uid, sizeof uid, "user%d", i);
		ck_assert_int_eq(channel_mset_add(&s, uid, (size_t)n), 1);
		model[i] = 1;
	}
	/* Remove most, so that the arena is compacted on the way. */
	for (int i = 1; i < MANY; i += 2) {
		int n = snprintf(uid, sizeof uid, "user%d", i);
		ck_assert_int_eq(channel_mset_remove(&s, uid, (size_t)n), model[i]);
		model[i] = 0;
	}
	for (int i = 0; i < MANY + 100; i++) {
		int n = snprintf(uid, sizeof uid, "user%d", i);
		int in = i < MANY && model[i];
		ck_assert_msg(channel_mset_has(&s, uid, (size_t)n) == in, "user%d", i);
		if (in) {
			want_n++;
			want_sum += (unsigned long)i;
		}
	}
	ck_assert_uint_eq(s.n, want_n);
	ck_assert_int_eq(channel_mset_foreach(&s, count_one, c), 0);
	ck_assert_uint_eq(c[0], want_n);
	ck_assert_uint_eq(c[1], want_sum);
	ck_assert(s.dead * 2 <= s.alen || s.dead <= 4096);
	channel_mset_free(&s);
}
END_TEST

/* Memory per uid of a large set stays small (no allocation per uid). */
START_TEST(test_channel_mset_bytes)
{
	struct channel_mset s;
	char uid[32];

	channel_mset_init(&s);
	for (int i = 0; i < MANY; i++) {
		int n = snprintf(uid, sizeof uid, "u%09d", i);
		channel_mset_add(&s, uid, (size_t)n);
	}
	channel_mset_trim(&s);
	/* 10-byte uids: 13 arena bytes, 10.7 to 21.3 bytes of slots (load 3/8 to 3/4). */
	ck_assert_uint_le(channel_mset_bytes(&s) / MANY, 35);
	channel_mset_free(&s);
	ck_assert_uint_eq(channel_mset_bytes(&s), 0);
}
END_TEST

static int
stop_at_second(const char *uid, size_t len, void *arg)
{
	int *seen = arg;

	(void)uid;
	(void)len;
	return ++*seen == 2 ? 7 : 0;
}

/* The walk stops at a non-zero return; an over-long uid is refused. */
START_TEST(test_channel_mset_walk_and_bounds)
{
	struct channel_mset s;
	char *big = malloc(CHANNEL_MSET_UID_MAX + 2);
	int seen = 0;

	channel_mset_init(&s);
	ck_assert_int_eq(channel_mset_foreach(&s, stop_at_second, &seen), 0);
	channel_mset_add(&s, "x", 1);
	channel_mset_add(&s, "y", 1);
	channel_mset_add(&s, "z", 1);
	ck_assert_int_eq(channel_mset_foreach(&s, stop_at_second, &seen), 7);
	memset(big, 'u', CHANNEL_MSET_UID_MAX + 1);
	ck_assert_int_eq(channel_mset_add(&s, big, CHANNEL_MSET_UID_MAX + 1), -1);
	ck_assert_int_eq(channel_mset_has(&s, big, CHANNEL_MSET_UID_MAX + 1), 0);
	ck_assert_int_eq(channel_mset_add(&s, big, CHANNEL_MSET_UID_MAX), 1);
	ck_assert_int_eq(channel_mset_has(&s, big, CHANNEL_MSET_UID_MAX), 1);
	channel_mset_free(&s);
	free(big);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("channel_mset");
	TCase *tc = tcase_create("mset");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_channel_mset_steps);
	tcase_add_test(tc, test_channel_mset_many);
	tcase_add_test(tc, test_channel_mset_bytes);
	tcase_add_test(tc, test_channel_mset_walk_and_bounds);
	suite_add_tcase(s, tc);
	return wkt_run_suite(s);
}
