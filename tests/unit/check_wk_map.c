/* check_wk_map.c - the in-memory hash map (common/wk_map.c) the channel
 * shard's caches use: a table of set/get/del steps (keys that share
 * prefixes, the empty key, binary keys with NULs), then many keys against
 * a model through growth and backward-shift deletion, and clearing with a
 * destructor. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "wk_map.h"
#include "wktest.h"

enum op { SET, GET, DEL };

static const struct step {
	enum op op;
	const char *key;
	size_t len;
	long val;                    /* SET: the value; GET/DEL: the one wanted (0: none) */
} steps[] = {
	{ GET, "a", 1, 0 }, { DEL, "a", 1, 0 },
	{ SET, "a", 1, 1 }, { GET, "a", 1, 1 }, { GET, "ab", 2, 0 }, { GET, "", 0, 0 },
	{ SET, "", 0, 2 }, { GET, "", 0, 2 }, { GET, "a", 1, 1 },
	{ SET, "a", 1, 3 }, { GET, "a", 1, 3 },
	{ SET, "a\0b", 3, 4 }, { GET, "a\0c", 3, 0 }, { GET, "a\0b", 3, 4 }, { GET, "a", 1, 3 },
	{ DEL, "a", 1, 3 }, { GET, "a", 1, 0 }, { GET, "a\0b", 3, 4 }, { DEL, "a", 1, 0 },
	{ DEL, "", 0, 2 }, { GET, "", 0, 0 },
};

START_TEST(test_wk_map_steps)
{
	struct wk_map m;
	size_t n = 0;

	wk_map_init(&m);
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		const struct step *t = &steps[i];
		void *got;
		if (t->op == SET) {
			got = wk_map_set(&m, t->key, t->len, (void *)t->val);
			n += got == NULL;
			continue;
		}
		got = t->op == GET ? wk_map_get(&m, t->key, t->len) : wk_map_del(&m, t->key, t->len);
		ck_assert_msg((long)got == t->val, "step %zu: %ld, want %ld", i, (long)got, t->val);
		if (t->op == DEL && got)
			n--;
		ck_assert_uint_eq(wk_map_size(&m), n);
	}
	wk_map_free(&m, NULL);
	ck_assert_uint_eq(wk_map_size(&m), 0);
}
END_TEST

#define MANY 100000

START_TEST(test_wk_map_many)
{
	struct wk_map m;
	char k[32];
	unsigned char *model = calloc(MANY, 1);
	size_t n = 0;

	wk_map_init(&m);
	srand(7);
	/* Random sets and deletes over keys with a shared prefix: the runs of
	 * the linear probe grow, shrink and shift back. */
	for (int round = 0; round < 6 * MANY; round++) {
		int i = rand() % MANY, len = snprintf(k, sizeof k, "2/cb-u1000-%d", i);
		if (rand() % 3) {
			void *old = wk_map_set(&m, k, (size_t)len, (void *)(long)(i + 1));
			ck_assert(old == (model[i] ? (void *)(long)(i + 1) : NULL));
			n += !model[i];
			model[i] = 1;
		} else {
			void *old = wk_map_del(&m, k, (size_t)len);
			ck_assert(old == (model[i] ? (void *)(long)(i + 1) : NULL));
			n -= model[i];
			model[i] = 0;
		}
	}
	ck_assert_uint_eq(wk_map_size(&m), n);
	for (int i = 0; i < MANY; i++) {
		int len = snprintf(k, sizeof k, "2/cb-u1000-%d", i);
		void *v = wk_map_get(&m, k, (size_t)len);
		ck_assert_msg(v == (model[i] ? (void *)(long)(i + 1) : NULL), "key %d", i);
	}
	ck_assert_uint_le(m.n * 2, m.cap);   /* the load bound */
	wk_map_free(&m, NULL);
	free(model);
}
END_TEST

static int freed;

static void
count_free(void *v)
{
	free(v);
	freed++;
}

START_TEST(test_wk_map_clear)
{
	struct wk_map m;
	char k[16];

	wk_map_init(&m);
	for (int i = 0; i < 1000; i++)
		wk_map_set(&m, k, (size_t)snprintf(k, sizeof k, "k%d", i), malloc(8));
	wk_map_clear(&m, count_free);
	ck_assert_int_eq(freed, 1000);
	ck_assert_uint_eq(wk_map_size(&m), 0);
	ck_assert_ptr_null(wk_map_get(&m, "k1", 2));
	/* Usable again after a clear. */
	wk_map_set(&m, "x", 1, (void *)1);
	ck_assert_ptr_eq(wk_map_get(&m, "x", 1), (void *)1);
	wk_map_free(&m, NULL);
	/* The hash spreads keys that differ in one byte over the low bits. */
	uint64_t a = wk_map_hash("cb-u1-1", 7), b = wk_map_hash("cb-u1-2", 7);
	ck_assert_uint_ne(a & 0xffff, b & 0xffff);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("wk_map");
	TCase *tc = tcase_create("map");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_wk_map_steps);
	tcase_add_test(tc, test_wk_map_many);
	tcase_add_test(tc, test_wk_map_clear);
	suite_add_tcase(s, tc);
	return wkt_run_suite(s);
}
