/* check_presence.c - the presence segment and table: layout, add/lookup/
 * remove against a model, a full table, a dead broker's connections, readers
 * in other processes while a writer churns, a writer killed mid-update. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "presence.h"
#include "wktest.h"

static struct presence ps;
static char name[64];

static void
setup_cap(uint32_t regions, uint32_t cap)
{
	snprintf(name, sizeof name, "/wkt.presence.%d", (int)getpid());
	ck_assert_int_eq(presence_create(&ps, name, regions, cap), 0);
}

static void
teardown(void)
{
	presence_close(&ps);
	presence_unlink(name);
}

static struct presence_conn
conn(const char *uid, uint16_t broker, uint64_t id)
{
	struct presence_conn c = { .device_flag = 1, .device_level = 1, .proto_version = 5,
	    .broker_id = broker, .conn_id = id, .connected_at_ms = 1700000000000 + (int64_t)id };
	snprintf(c.uid, sizeof c.uid, "%s", uid);
	return c;
}

static int
add(const char *uid, uint16_t broker, uint64_t id)
{
	struct presence_conn c = conn(uid, broker, id);
	return presence_add(&ps, presence_region_of(&ps, uid), &c);
}

START_TEST(test_presence_segment_header_and_open)
{
	struct presence r;

	setup_cap(3, 128);
	ck_assert_uint_eq(ps.hdr->magic, PRESENCE_MAGIC);
	ck_assert_uint_eq(ps.hdr->nregions, 3);
	ck_assert_uint_eq(ps.hdr->slot_size, 128);
	ck_assert_int_eq(presence_open(&r, name, 0), 0);
	ck_assert_uint_eq(r.hdr->capacity, 128);
	presence_close(&r);
	/* A segment of another version is refused. */
	ps.hdr->version++;
	ck_assert_int_eq(presence_open(&r, name, 0), -1);
	ps.hdr->version--;
	teardown();
	ck_assert_int_eq(presence_open(&r, name, 0), -1);
}
END_TEST

START_TEST(test_presence_add_lookup_remove)
{
	struct presence_conn out[8];

	setup_cap(2, 64);
	ck_assert_int_eq(add("alice", 0, 1), 0);
	ck_assert_int_eq(add("alice", 1, 2), 0);
	ck_assert_int_eq(add("bob", 0, 3), 0);
	ck_assert_int_eq(presence_lookup(&ps, "alice", out, 8), 2);
	ck_assert_int_eq(presence_lookup(&ps, "bob", out, 8), 1);
	ck_assert_str_eq(out[0].uid, "bob");
	ck_assert_uint_eq(out[0].conn_id, 3);
	ck_assert_int_eq(out[0].proto_version, 5);
	ck_assert_int_eq(presence_lookup(&ps, "carol", out, 8), 0);
	ck_assert_int_eq(presence_lookup(&ps, "alice", out, 1), 1);   /* max respected */
	uint32_t ra = presence_region_of(&ps, "alice");
	ck_assert_int_eq(presence_remove(&ps, ra, "alice", 0, 1), 1);
	ck_assert_int_eq(presence_remove(&ps, ra, "alice", 0, 1), 0);
	ck_assert_int_eq(presence_lookup(&ps, "alice", out, 8), 1);
	ck_assert_uint_eq(out[0].conn_id, 2);
	/* Bad uids: empty, and one that fills the field with no terminator. */
	struct presence_conn c = conn("", 0, 9);
	ck_assert_int_eq(presence_add(&ps, 0, &c), PRESENCE_EUID);
	memset(c.uid, 'x', sizeof c.uid);
	ck_assert_int_eq(presence_add(&ps, 0, &c), PRESENCE_EUID);
	ck_assert_uint_eq(presence_region(&ps, 0)->used + presence_region(&ps, 1)->used, 2);
	teardown();
}
END_TEST

/* Random adds and removes in a tiny table (long probe chains, wrap-around)
 * checked against a plain array model after every step. */
START_TEST(test_presence_model_random)
{
	enum { N = 48 };
	struct { char uid[16]; uint64_t id; int live; } model[N];
	struct presence_conn out[N];
	unsigned seed = 12345;

	setup_cap(1, 64);
	for (int i = 0; i < N; i++) {
		snprintf(model[i].uid, sizeof model[i].uid, "u%d", i % 17);
		model[i].id = i + 1;
		model[i].live = 0;
	}
	for (int step = 0; step < 20000; step++) {
		int k = rand_r(&seed) % N;
		if (model[k].live) {
			ck_assert_int_eq(presence_remove(&ps, 0, model[k].uid, 0, model[k].id), 1);
			model[k].live = 0;
		} else if (add(model[k].uid, 0, model[k].id) == 0)
			model[k].live = 1;
		else
			ck_assert_uint_ge(presence_region(&ps, 0)->used * 100 + 100, 64 * 90);
		for (int u = 0; u < 17; u++) {
			char uid[16];
			int want = 0, got;
			snprintf(uid, sizeof uid, "u%d", u);
			for (int i = 0; i < N; i++)
				want += model[i].live && strcmp(model[i].uid, uid) == 0;
			got = presence_lookup(&ps, uid, out, N);
			ck_assert_msg(got == want, "step %d %s: got %d want %d", step, uid, got, want);
		}
		/* The dense list: exactly the live connections, each once. */
		int live = 0, got = presence_region_conns(&ps, 0, out, N);
		for (int i = 0; i < N; i++) {
			int seen = 0;
			for (int j = 0; j < got; j++)
				seen += out[j].conn_id == model[i].id && strcmp(out[j].uid, model[i].uid) == 0;
			ck_assert_msg(seen == model[i].live, "step %d conn %d: listed %d times, live %d",
			    step, i, seen, model[i].live);
			live += model[i].live;
		}
		ck_assert_int_eq(got, live);
		ck_assert_uint_eq(presence_online(&ps), (unsigned)live);
	}
	if (presence_region(&ps, 0)->used > 1)
		ck_assert_int_eq(presence_region_conns(&ps, 0, out, 1), PRESENCE_ESPACE);
	teardown();
}
END_TEST

START_TEST(test_presence_full_table)
{
	char uid[16];
	int i, rc = 0;

	setup_cap(1, 100);
	for (i = 0; i < 200 && rc == 0; i++) {
		snprintf(uid, sizeof uid, "user%d", i);
		rc = add(uid, 0, i);
	}
	ck_assert_int_eq(rc, PRESENCE_EFULL);
	ck_assert_int_eq(i - 1, 90);              /* the fill limit */
	ck_assert_uint_eq(presence_region(&ps, 0)->used, 90);
	/* Removing one makes room for one. */
	ck_assert_int_eq(presence_remove(&ps, 0, "user0", 0, 0), 1);
	ck_assert_int_eq(add("late", 0, 999), 0);
	teardown();
}
END_TEST

START_TEST(test_presence_remove_broker)
{
	struct presence_conn out[64];
	char uid[16];
	int total = 0;

	setup_cap(1, 256);
	for (int i = 0; i < 150; i++) {
		snprintf(uid, sizeof uid, "u%d", i % 40);
		ck_assert_int_eq(add(uid, (uint16_t)(i % 3), i), 0);
	}
	ck_assert_int_eq(presence_remove_broker(&ps, 0, 1), 50);
	for (int u = 0; u < 40; u++) {
		snprintf(uid, sizeof uid, "u%d", u);
		int n = presence_lookup(&ps, uid, out, 64);
		for (int k = 0; k < n; k++)
			ck_assert_int_ne(out[k].broker_id, 1);
		total += n;
	}
	ck_assert_int_eq(total, 100);
	teardown();
}
END_TEST

/* Readers in other processes see every stable user with its exact
 * connections while the writer adds and removes others around them. */
START_TEST(test_presence_concurrent_readers)
{
	enum { STABLE = 20, READERS = 2 };
	pid_t readers[READERS];
	char uid[16];

	setup_cap(1, 512);
	for (int u = 0; u < STABLE; u++) {
		snprintf(uid, sizeof uid, "stable%d", u);
		ck_assert_int_eq(add(uid, 0, 1000 + u), 0);
		ck_assert_int_eq(add(uid, 1, 2000 + u), 0);
	}
	for (int r = 0; r < READERS; r++) {
		readers[r] = fork();
		if (readers[r] == 0) {
			struct presence rd;
			struct presence_conn out[8];
			if (presence_open(&rd, name, 0) < 0)
				_exit(2);
			uint64_t end = wkt_now_ms() + 1500;
			while (wkt_now_ms() < end)
				for (int u = 0; u < STABLE; u++) {
					char id[16];
					snprintf(id, sizeof id, "stable%d", u);
					int n = presence_lookup(&rd, id, out, 8);
					if (n == PRESENCE_EBUSY)
						continue;
					if (n != 2 || strcmp(out[0].uid, id) != 0)
						_exit(1);
				}
			_exit(0);
		}
	}
	/* The writer churns 300 other users for as long as the readers run. */
	unsigned seed = 7;
	int live[300] = { 0 };
	uint64_t end = wkt_now_ms() + 1500;
	while (wkt_now_ms() < end) {
		int k = rand_r(&seed) % 300;
		snprintf(uid, sizeof uid, "churn%d", k);
		if (live[k])
			live[k] = !presence_remove(&ps, 0, uid, 2, k);
		else
			live[k] = add(uid, 2, k) == 0;
	}
	for (int r = 0; r < READERS; r++) {
		int st;
		ck_assert_int_eq(waitpid(readers[r], &st, 0), readers[r]);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "reader %d saw a torn table", r);
	}
	teardown();
}
END_TEST

/* Readers of the dense list in other processes never miss a stable
 * connection and never see one twice while the writer adds and removes
 * others (removals move entries of the list). */
START_TEST(test_presence_dense_concurrent)
{
	enum { STABLE = 20, CHURN = 300 };
	pid_t reader;
	char uid[16];

	setup_cap(1, 1024);
	for (int u = 0; u < STABLE; u++) {
		snprintf(uid, sizeof uid, "stable%d", u);
		ck_assert_int_eq(add(uid, 0, 1000 + u), 0);
	}
	reader = fork();
	if (reader == 0) {
		struct presence rd;
		static struct presence_conn out[1024];
		if (presence_open(&rd, name, 0) < 0)
			_exit(2);
		uint64_t end = wkt_now_ms() + 1500;
		while (wkt_now_ms() < end) {
			int n = presence_region_conns(&rd, 0, out, 1024), seen[STABLE] = { 0 };
			if (n == PRESENCE_EBUSY)
				continue;
			if (n < 0)
				_exit(3);
			for (int k = 0; k < n; k++)
				if (strncmp(out[k].uid, "stable", 6) == 0)
					seen[out[k].conn_id - 1000]++;
			for (int u = 0; u < STABLE; u++)
				if (seen[u] != 1)
					_exit(1);
		}
		_exit(0);
	}
	unsigned seed = 9;
	int live[CHURN] = { 0 };
	uint64_t end = wkt_now_ms() + 1500;
	while (wkt_now_ms() < end) {
		int k = rand_r(&seed) % CHURN;
		snprintf(uid, sizeof uid, "churn%d", k);
		if (live[k])
			live[k] = !presence_remove(&ps, 0, uid, 2, k);
		else
			live[k] = add(uid, 2, k) == 0;
	}
	int st;
	ck_assert_int_eq(waitpid(reader, &st, 0), reader);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the dense reader exited %d",
	    WEXITSTATUS(st));
	teardown();
}
END_TEST

/* A writer that died inside a slot leaves it odd: readers do not hang, and
 * the master's clear makes the region usable again. */
START_TEST(test_presence_writer_killed_mid_update)
{
	struct presence_conn out[4];
	pid_t pid;
	int st;

	setup_cap(1, 64);
	ck_assert_int_eq(add("alice", 0, 1), 0);
	pid = fork();
	if (pid == 0) {
		struct presence w;
		if (presence_open(&w, name, 1) < 0)
			_exit(2);
		struct presence_slot *s = presence_slots(&w, 0);
		for (uint32_t i = 0; i < 64; i++)
			if (s[i].state == 1)
				__atomic_add_fetch(&s[i].seq, 1, __ATOMIC_RELEASE); /* begin, never end */
		raise(SIGKILL);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFSIGNALED(st));
	uint64_t t0 = wkt_now_ms();
	ck_assert_int_eq(presence_lookup(&ps, "alice", out, 4), 0);   /* skipped, not hung */
	ck_assert_uint_lt(wkt_now_ms() - t0, 1000);
	presence_region_clear(&ps, 0);
	ck_assert_uint_eq(presence_region(&ps, 0)->used, 0);
	ck_assert_int_eq(add("alice", 0, 2), 0);
	ck_assert_int_eq(presence_lookup(&ps, "alice", out, 4), 1);
	teardown();
}
END_TEST

/* A mailbox shard's death keeps its users visible: the rebuild keeps every
 * slot that reads consistently, once, drops the one it died inside, and
 * leaves a table whose lookups and dense list agree. */
START_TEST(test_presence_region_rebuild)
{
	struct presence_conn out[128];
	struct presence_slot *s;
	char uid[16];
	int torn = -1, dup = -1, total = 0;

	setup_cap(1, 256);
	for (int i = 0; i < 100; i++) {
		snprintf(uid, sizeof uid, "u%d", i);
		ck_assert_int_eq(add(uid, (uint16_t)(i % 2), (uint64_t)i + 1), 0);
	}
	s = presence_slots(&ps, 0);
	for (uint32_t i = 0; i < 256; i++) {
		if (s[i].state == 1 && torn < 0)
			torn = (int)i;
		else if (s[i].state == 1 && dup < 0)
			dup = (int)i;
	}
	for (uint32_t i = 0; i < 256; i++)
		if (s[i].state == 0) {           /* a shift that copied and died */
			uint32_t seq = s[i].seq;
			s[i] = s[dup];
			s[i].seq = seq;
			break;
		}
	s[torn].seq++;                      /* a write begun, never ended */
	snprintf(uid, sizeof uid, "%.15s", s[torn].uid);
	ck_assert_int_eq(presence_region_rebuild(&ps, 0), 99);
	ck_assert_uint_eq(presence_region(&ps, 0)->used, 99);
	ck_assert_int_eq(presence_lookup(&ps, uid, out, 4), 0);
	for (int i = 0; i < 100; i++) {
		char u[16];
		snprintf(u, sizeof u, "u%d", i);
		int n = presence_lookup(&ps, u, out, 4);
		ck_assert_int_eq(n, strcmp(u, uid) == 0 ? 0 : 1);
		if (n == 1) {
			ck_assert_uint_eq(out[0].conn_id, (uint64_t)i + 1);
			ck_assert_int_eq(out[0].broker_id, i % 2);
			ck_assert(presence_has(&ps, &out[0]));
		}
		total += n;
	}
	ck_assert_int_eq(total, 99);
	ck_assert_int_eq(presence_region_conns(&ps, 0, out, 128), 99);
	teardown();
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("presence");
	TCase *tc = tcase_create("presence");

	tcase_set_timeout(tc, 120);   /* 8 s alone; a loaded CI host is several times slower */
	tcase_add_test(tc, test_presence_segment_header_and_open);
	tcase_add_test(tc, test_presence_add_lookup_remove);
	tcase_add_test(tc, test_presence_model_random);
	tcase_add_test(tc, test_presence_full_table);
	tcase_add_test(tc, test_presence_remove_broker);
	tcase_add_test(tc, test_presence_concurrent_readers);
	tcase_add_test(tc, test_presence_dense_concurrent);
	tcase_add_test(tc, test_presence_writer_killed_mid_update);
	tcase_add_test(tc, test_presence_region_rebuild);
	suite_add_tcase(s, tc);
	return wkt_run_suite(s);
}
