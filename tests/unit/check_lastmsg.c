/* check_lastmsg.c - the last-message table (shm/lastmsg.h): layout and
 * open, put/get against a model, "no message" versus "ask the shard" (a
 * region never built, being rebuilt, full, an id too long), rows never torn
 * for readers in another process while a writer rewrites them, and a
 * writer killed in the middle of a row. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lastmsg.h"
#include "wktest.h"

static struct lastmsg t;
static char name[64];

static void
setup_cap(uint32_t regions, uint32_t cap)
{
	snprintf(name, sizeof name, "/wkt.lastmsg.%d", (int)getpid());
	ck_assert_int_eq(lastmsg_create(&t, name, regions, cap), 0);
	for (uint32_t r = 0; r < regions; r++) {
		lastmsg_rebuild(&t, r);
		lastmsg_rebuilt(&t, r);
	}
}

static void
teardown(void)
{
	lastmsg_close(&t);
	lastmsg_unlink(name);
}

/* Every field follows from k: a reader can tell a torn row. */
static struct lastmsg_row
row_of(uint32_t k)
{
	return (struct lastmsg_row){ .last_seq = k, .message_id = (int64_t)k * 7919,
	    .timestamp = (int32_t)k + 1000, .from_hash = k ^ 0xabcdefu };
}

static int
put(const char *id, uint8_t type, uint32_t k)
{
	struct lastmsg_row r = row_of(k);
	return lastmsg_put(&t, lastmsg_region_of(&t, id, strlen(id)), id, strlen(id), type, &r);
}

static int
get(const char *id, uint8_t type, struct lastmsg_row *out)
{
	return lastmsg_get(&t, id, strlen(id), type, out);
}

START_TEST(test_lastmsg_header_and_open)
{
	struct lastmsg r;

	setup_cap(3, 128);
	ck_assert_uint_eq(t.hdr->magic, LASTMSG_MAGIC);
	ck_assert_uint_eq(t.hdr->slot_size, 128);
	ck_assert_int_eq(lastmsg_open(&r, name, 0), 0);
	ck_assert_uint_eq(r.hdr->nregions, 3);
	lastmsg_close(&r);
	t.hdr->version++;
	ck_assert_int_eq(lastmsg_open(&r, name, 0), -1);
	t.hdr->version--;
	teardown();
}
END_TEST

static int
same_row(const struct lastmsg_row *a, const struct lastmsg_row *b)
{
	return a->last_seq == b->last_seq && a->message_id == b->message_id &&
	    a->timestamp == b->timestamp && a->from_hash == b->from_hash;
}

/* Through a hint: the same answers as without, after the row moved on,
 * and after a rebuild (the hint is stale: looked up again). */
START_TEST(test_lastmsg_hinted_get)
{
	struct lastmsg_hint h = { 0 }, none = { 0 };
	struct lastmsg_row r, want = row_of(5);
	uint32_t reg;

	setup_cap(2, 64);
	ck_assert_int_eq(lastmsg_get_hinted(&t, "g1", 2, 2, &r, &none), LASTMSG_NONE);
	ck_assert_uint_eq(none.gen, 0);
	ck_assert_int_eq(put("g1", 2, 5), 0);
	ck_assert_int_eq(lastmsg_get_hinted(&t, "g1", 2, 2, &r, &h), LASTMSG_HIT);
	ck_assert_uint_ne(h.gen, 0);
	ck_assert(same_row(&r, &want));
	ck_assert_int_eq(put("g1", 2, 9), 0);
	want = row_of(9);
	ck_assert_int_eq(lastmsg_get_hinted(&t, "g1", 2, 2, &r, &h), LASTMSG_HIT);
	ck_assert(same_row(&r, &want));
	/* A rebuild: the row is gone until put again, the hint is not used. */
	reg = lastmsg_region_of(&t, "g1", 2);
	lastmsg_rebuild(&t, reg);
	ck_assert_int_eq(lastmsg_get_hinted(&t, "g1", 2, 2, &r, &h), LASTMSG_UNKNOWN);
	lastmsg_rebuilt(&t, reg);
	ck_assert_int_eq(lastmsg_get_hinted(&t, "g1", 2, 2, &r, &h), LASTMSG_NONE);
	ck_assert_uint_eq(h.gen, 0);
	ck_assert_int_eq(put("g2", 2, 1), 0);   /* may take g1's old slot */
	ck_assert_int_eq(put("g1", 2, 3), 0);
	want = row_of(3);
	ck_assert_int_eq(lastmsg_get_hinted(&t, "g1", 2, 2, &r, &h), LASTMSG_HIT);
	ck_assert(same_row(&r, &want));
	teardown();
}
END_TEST

START_TEST(test_lastmsg_put_get_model)
{
	struct lastmsg_row r;
	char id[32];

	setup_cap(2, 1024);
	ck_assert_int_eq(get("g1", 2, &r), LASTMSG_NONE);
	for (uint32_t i = 0; i < 500; i++) {
		snprintf(id, sizeof id, "g%u", i);
		ck_assert_int_eq(put(id, 2, i + 1), 0);
		ck_assert_int_eq(put(id, 1, i + 100), 0);   /* same id, another type */
	}
	for (uint32_t i = 0; i < 500; i++) {
		snprintf(id, sizeof id, "g%u", i);
		ck_assert_int_eq(put(id, 2, i + 2), 0);    /* an update keeps one row */
	}
	for (uint32_t i = 0; i < 500; i++) {
		snprintf(id, sizeof id, "g%u", i);
		ck_assert_int_eq(get(id, 2, &r), LASTMSG_HIT);
		ck_assert_uint_eq(r.last_seq, i + 2);
		ck_assert_int_eq(r.message_id, (int64_t)(i + 2) * 7919);
		ck_assert_int_eq(get(id, 1, &r), LASTMSG_HIT);
		ck_assert_uint_eq(r.last_seq, i + 100);
	}
	ck_assert_int_eq(get("nope", 2, &r), LASTMSG_NONE);
	ck_assert_uint_eq(lastmsg_region(&t, 0)->used + lastmsg_region(&t, 1)->used, 1000);
	teardown();
}
END_TEST

/* What a reader is told when the table cannot know. */
START_TEST(test_lastmsg_unknown_cases)
{
	struct lastmsg_row r;
	char id[200], g[32];
	uint32_t reg;

	snprintf(name, sizeof name, "/wkt.lastmsg.%d", (int)getpid());
	ck_assert_int_eq(lastmsg_create(&t, name, 1, 64), 0);
	/* Never built (a shard that has not started). */
	ck_assert_int_eq(get("g1", 2, &r), LASTMSG_UNKNOWN);
	lastmsg_rebuild(&t, 0);
	ck_assert_int_eq(put("g1", 2, 5), 0);
	/* Being rebuilt. */
	ck_assert_int_eq(get("g1", 2, &r), LASTMSG_UNKNOWN);
	lastmsg_rebuilt(&t, 0);
	ck_assert_int_eq(get("g1", 2, &r), LASTMSG_HIT);
	ck_assert_int_eq(get("g2", 2, &r), LASTMSG_NONE);
	/* An id longer than a row holds: refused, and misses become unknown. */
	memset(id, 'x', sizeof id - 1);
	id[sizeof id - 1] = '\0';
	ck_assert_int_eq(put(id, 2, 1), LASTMSG_EID);
	ck_assert_int_eq(get(id, 2, &r), LASTMSG_UNKNOWN);
	ck_assert_int_eq(get("g2", 2, &r), LASTMSG_UNKNOWN);
	ck_assert_int_eq(get("g1", 2, &r), LASTMSG_HIT);
	/* Full: 90% of 64 rows, then refused; the rows held still answer. */
	lastmsg_rebuild(&t, 0);
	lastmsg_rebuilt(&t, 0);
	reg = 0;
	int i, rc = 0;
	for (i = 0; i < 64 && rc == 0; i++) {
		snprintf(g, sizeof g, "f%d", i);
		rc = put(g, 2, (uint32_t)i + 1);
	}
	ck_assert_int_eq(rc, LASTMSG_EFULL);
	ck_assert_int_eq(i - 1, 57);
	ck_assert_uint_eq(lastmsg_region(&t, reg)->overflow, 1);
	ck_assert_int_eq(get("f0", 2, &r), LASTMSG_HIT);
	ck_assert_int_eq(put("f0", 2, 99), 0);            /* updates still work */
	ck_assert_int_eq(get("f0", 2, &r), LASTMSG_HIT);
	ck_assert_uint_eq(r.last_seq, 99);
	ck_assert_int_eq(get("f63", 2, &r), LASTMSG_UNKNOWN);
	teardown();
}
END_TEST

/* Readers in other processes while the writer rewrites rows and rebuilds
 * the region: a row read is always one the writer wrote whole. */
START_TEST(test_lastmsg_readers_never_torn)
{
	enum { READERS = 2, KEYS = 64 };
	pid_t kids[READERS];
	char id[32];

	setup_cap(1, 256);
	for (int k = 0; k < KEYS; k++) {
		snprintf(id, sizeof id, "c%d", k);
		put(id, 2, 1);
	}
	for (int i = 0; i < READERS; i++) {
		if ((kids[i] = fork()) == 0) {
			struct lastmsg r;
			struct lastmsg_row row;
			long hits = 0;
			if (lastmsg_open(&r, name, 0) < 0)
				_exit(2);
			uint64_t end = wkt_now_ms() + 1500;
			while (wkt_now_ms() < end) {
				for (int k = 0; k < KEYS; k++) {
					char kid[32];
					snprintf(kid, sizeof kid, "c%d", k);
					int rc = lastmsg_get(&r, kid, strlen(kid), 2, &row);
					if (rc == LASTMSG_HIT) {
						struct lastmsg_row want = row_of(row.last_seq);
						if (memcmp(&row, &want, sizeof row) != 0)
							_exit(1);
						hits++;
					} else if (rc == LASTMSG_NONE)
						_exit(3);   /* every key is always there or unknown */
				}
			}
			_exit(hits > 0 ? 0 : 4);
		}
	}
	uint64_t end = wkt_now_ms() + 1500;
	for (uint32_t n = 2; wkt_now_ms() < end; n++) {
		for (int k = 0; k < KEYS; k++) {
			snprintf(id, sizeof id, "c%d", k);
			put(id, 2, n);
		}
		if (n % 1000 == 0) {           /* a rebuild now and then */
			lastmsg_rebuild(&t, 0);
			for (int k = 0; k < KEYS; k++) {
				snprintf(id, sizeof id, "c%d", k);
				put(id, 2, n);
			}
			lastmsg_rebuilt(&t, 0);
		}
	}
	for (int i = 0; i < READERS; i++) {
		int st;
		waitpid(kids[i], &st, 0);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "reader %d: status %d", i, st);
	}
	teardown();
}
END_TEST

/* A writer killed inside a row leaves it odd: readers say "ask the shard"
 * instead of waiting; the shard's restart (a rebuild) repairs it. */
START_TEST(test_lastmsg_writer_killed_mid_row)
{
	struct lastmsg_row r;
	struct lastmsg_slot *s;

	setup_cap(1, 64);
	put("g1", 2, 3);
	s = (struct lastmsg_slot *)(lastmsg_region(&t, 0) + 1);
	for (int i = 0; i < 64; i++)
		if (s[i].state == 1)
			s[i].seq++;             /* as a writer that died after write_begin */
	ck_assert_int_eq(get("g1", 2, &r), LASTMSG_UNKNOWN);
	lastmsg_rebuild(&t, 0);
	put("g1", 2, 4);
	lastmsg_rebuilt(&t, 0);
	ck_assert_int_eq(get("g1", 2, &r), LASTMSG_HIT);
	ck_assert_uint_eq(r.last_seq, 4);
	teardown();
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("lastmsg");
	TCase *tc = tcase_create("lastmsg");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_lastmsg_header_and_open);
	tcase_add_test(tc, test_lastmsg_put_get_model);
	tcase_add_test(tc, test_lastmsg_hinted_get);
	tcase_add_test(tc, test_lastmsg_unknown_cases);
	tcase_add_test(tc, test_lastmsg_readers_never_torn);
	tcase_add_test(tc, test_lastmsg_writer_killed_mid_row);
	suite_add_tcase(s, tc);
	return wkt_run_suite(s);
}
