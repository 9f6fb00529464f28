/* check_channel_store.c - wk-channel's storage (workers/channel/channel_store.c)
 * against a real Berkeley DB environment in a temporary directory: seqs
 * without gaps, an abort rolls back seqs and records, range reads both ways
 * with limits, the client_msg_no index, members and lists, delete, the
 * after-commit queue, and everything surviving a close and reopen.  The
 * store only needs p->env and p->db[], so a bare struct wk_proc stands in
 * for the process skeleton. */
#include <check.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "channel.h"
#include "channel_store.h"
#include "wk_buf.h"
#include "wk_db.h"
#include "wktest.h"

static struct wk_proc proc;
static char *dir;
static const uint32_t *pagesize = channel_db_pagesize;   /* as wk-channel creates them */

static void
store_open(void)
{
	wkt_store_open(&proc, dir, channel_databases, pagesize, "fsync");
	ck_assert_int_eq(channel_store_open(&proc), 0);
}

static void
store_close(void)
{
	channel_store_close(&proc);
	wkt_store_close(&proc);
}

static void
setup(void)
{
	dir = wkt_tmpdir();
	store_open();
}

/* The same store with the list cache on (channel_mcache.c): room for
 * everything, or for so few uids that nearly every read evicts. */
static void
setup_cached(void)
{
	setup();
	channel_mcache_configure(1u << 20);
}

static void
setup_evicting(void)
{
	setup();
	channel_mcache_configure(2);
}

static void
teardown(void)
{
	store_close();
	wkt_rm_rf(dir);
	free(dir);
}

/* Append a message from `from` with client_msg_no `cmn` (NULL: none); its seq. */
static uint32_t
append(const char *id, uint8_t type, const char *from, const char *cmn, int64_t message_id)
{
	char payload[32];
	struct channel_msg m = {
		.message_id = message_id, .timestamp = 1700000000, .flags = 0x02, .setting = 0x08,
		.expire = 60, .from_uid = from, .from_uid_len = strlen(from),
		.client_msg_no = cmn, .client_msg_no_len = cmn ? strlen(cmn) : 0,
		.topic = "t", .topic_len = 1, .payload = payload,
	};

	m.payload_len = (size_t)snprintf(payload, sizeof payload, "body %lld", (long long)message_id);
	ck_assert_int_eq(channel_msg_append(&proc, id, type, &m), 0);
	return m.seq;
}

static uint32_t
last_seq(const char *id, uint8_t type)
{
	struct channel_info info;

	ck_assert_int_ge(channel_get(&proc, id, type, &info), 0);
	return info.last_seq;
}

START_TEST(test_channel_store_seq_no_gaps)
{
	for (uint32_t i = 1; i <= 50; i++) {
		ck_assert_uint_eq(append("g1", 2, "u1", NULL, i), i);
		if (i % 7 == 0)
			ck_assert_int_eq(channel_commit(&proc), 0);
	}
	/* Another channel has its own sequence. */
	ck_assert_uint_eq(append("g2", 2, "u1", NULL, 1000), 1);
	ck_assert_uint_eq(append("g1", 1, "u1", NULL, 1001), 1);
	ck_assert_int_eq(channel_commit(&proc), 0);
	ck_assert_uint_eq(last_seq("g1", 2), 50);
	store_close();
	store_open();
	ck_assert_uint_eq(last_seq("g1", 2), 50);
	ck_assert_uint_eq(append("g1", 2, "u1", NULL, 51), 51);
	ck_assert_int_eq(channel_commit(&proc), 0);
	for (uint32_t s = 1; s <= 51; s++) {
		struct channel_msg m;
		struct wk_wbuf b;

		wk_wbuf_init(&b);
		ck_assert_int_eq(channel_msg_get(&proc, "g1", 2, s, &m, &b), 1);
		ck_assert_uint_eq(m.seq, s);
		ck_assert_int_eq(m.message_id, s);
		wk_wbuf_free(&b);
	}
	channel_commit(&proc);
}
END_TEST

/* The last seq each user sent (senders.db, written once per sender per
 * commit): right inside the transaction, after the commit, after a
 * reopen (read from disk), after an abort (the kept seqs dropped), past
 * the number of senders kept per channel, and after the channel's rows
 * are deleted. */
static uint32_t
sent(const char *id, const char *uid)
{
	uint32_t seq = 99;

	ck_assert_int_eq(channel_msg_last_sent(&proc, id, 2, uid, &seq), 0);
	return seq;
}

/* Commit, then read what follows from disk only. */
static void
commit_reopen(void)
{
	ck_assert_int_eq(channel_commit(&proc), 0);
	store_close();
	store_open();
}

START_TEST(test_channel_store_last_sent)
{
	char uid[16];

	for (int i = 1; i <= 5; i++)
		append("ls", 2, i % 2 ? "u1" : "u2", NULL, i);   /* u1: 1 3 5, u2: 2 4 */
	ck_assert_uint_eq(sent("ls", "u1"), 5);
	ck_assert_uint_eq(sent("ls", "u2"), 4);
	ck_assert_uint_eq(sent("ls", "u3"), 0);
	commit_reopen();
	ck_assert_uint_eq(sent("ls", "u1"), 5);
	ck_assert_uint_eq(sent("ls", "u2"), 4);
	channel_commit(&proc);
	/* Rolled back with the message. */
	append("ls", 2, "u1", NULL, 6);
	ck_assert_uint_eq(sent("ls", "u1"), 6);
	channel_abort(&proc);
	ck_assert_uint_eq(sent("ls", "u1"), 5);
	channel_commit(&proc);
	/* 40 senders in one transaction: more than are kept per channel. */
	for (int i = 0; i < 40; i++) {
		snprintf(uid, sizeof uid, "m%d", i);
		append("ls", 2, uid, NULL, 100 + i);
		append("ls", 2, uid, NULL, 200 + i);
	}
	commit_reopen();
	for (int i = 0; i < 40; i++) {
		snprintf(uid, sizeof uid, "m%d", i);
		ck_assert_uint_eq(sent("ls", uid), (uint32_t)(5 + 2 * i + 2));
	}
	ck_assert_uint_eq(sent("ls", "u1"), 5);
	/* Deleted with the channel, kept seqs of the open transaction too. */
	append("ls", 2, "u1", NULL, 300);
	ck_assert_int_eq(channel_delete(&proc, "ls", 2), 1);
	commit_reopen();
	ck_assert_uint_eq(sent("ls", "u1"), 0);
	ck_assert_uint_eq(sent("ls", "m0"), 0);
	channel_commit(&proc);
}
END_TEST

/* An append alone does not rewrite the channel's record (channels.db):
 * the stored last_seq stays what the channel's creation wrote, and a read
 * of the record from disk finds the last seq in messages.db.  Deleting
 * messages writes the record, so a channel whose messages are all gone
 * (retention, a delete) never gives a seq again. */
static uint32_t
stored_last_seq(const char *id, uint8_t type)
{
	uint8_t k[1 + 64], v[CHANNEL_RECORD_SIZE_V2];
	DB *db = proc.db[CHANNEL_DB_CHANNELS];
	struct channel_rec c = { 0 };
	size_t n = strlen(id);

	k[0] = type;
	memcpy(k + 1, id, n);
	DBT key = { .data = k, .size = (u_int32_t)(n + 1) };
	DBT data = { .data = v, .ulen = sizeof v, .flags = DB_DBT_USERMEM };
	ck_assert_int_eq(db->get(db, NULL, &key, &data, 0), 0);
	ck_assert_int_eq(channel_record_decode(&c, v, data.size), 0);
	return c.last_seq;
}

START_TEST(test_channel_store_record_not_rewritten)
{
	uint32_t first = 0;

	ck_assert_uint_eq(append("rw", 2, "u1", NULL, 1), 1);
	ck_assert_int_eq(channel_commit(&proc), 0);
	ck_assert_uint_eq(stored_last_seq("rw", 2), 1);     /* created: written */
	for (int i = 2; i <= 10; i++) {
		ck_assert_uint_eq(append("rw", 2, "u1", NULL, i), (uint32_t)i);
		ck_assert_int_eq(channel_commit(&proc), 0);
	}
	ck_assert_uint_eq(stored_last_seq("rw", 2), 1);     /* appends: not rewritten */
	ck_assert_uint_eq(last_seq("rw", 2), 10);
	commit_reopen();
	ck_assert_uint_eq(last_seq("rw", 2), 10);           /* found in messages.db */
	ck_assert_uint_eq(append("rw", 2, "u1", NULL, 11), 11);
	/* An abort: the cached seq goes back with the message. */
	ck_assert_uint_eq(append("rw", 2, "u1", NULL, 12), 12);
	channel_abort(&proc);
	ck_assert_uint_eq(last_seq("rw", 2), 10);
	ck_assert_uint_eq(append("rw", 2, "u1", NULL, 11), 11);
	ck_assert_int_eq(channel_commit(&proc), 0);
	/* Retention takes every message (all older than a second): the record
	 * is written with the last seq, and the next message gets 12. */
	proc.cfg.channel_retentionBatch = 1000;
	ck_assert_int_eq(channel_retention_set(&proc, "rw", 2, 1, 0, &first), 0);
	ck_assert_int_eq(channel_commit(&proc), 0);
	channel_retention_step(&proc);
	ck_assert_int_eq(channel_commit(&proc), 0);
	ck_assert_uint_eq(stored_last_seq("rw", 2), 11);
	commit_reopen();
	ck_assert_uint_eq(last_seq("rw", 2), 11);
	ck_assert_uint_eq(append("rw", 2, "u1", NULL, 12), 12);
	ck_assert_int_eq(channel_commit(&proc), 0);
	/* A delete takes them too, and keeps the record. */
	ck_assert_uint_eq(append("rw", 2, "u1", NULL, 13), 13);
	ck_assert_int_eq(channel_commit(&proc), 0);
	ck_assert_int_eq(channel_delete(&proc, "rw", 2), 1);
	commit_reopen();
	ck_assert_uint_eq(last_seq("rw", 2), 13);
	ck_assert_uint_eq(append("rw", 2, "u1", NULL, 14), 14);
	channel_commit(&proc);
}
END_TEST

/* messages.db and clientmsgno.db are created with 16 KB pages; a data
 * directory made with 4 KB pages keeps them, and its messages read and
 * append as before. */
static uint32_t
page_size(int db)
{
	uint32_t n = 0;

	ck_assert_int_eq(proc.db[db]->get_pagesize(proc.db[db], &n), 0);
	return n;
}

START_TEST(test_channel_store_page_sizes)
{
	ck_assert_uint_eq(page_size(CHANNEL_DB_MESSAGES), 16384);
	ck_assert_uint_eq(page_size(CHANNEL_DB_CLIENTMSGNO), 16384);
	/* An older data directory: the same files made with the default. */
	store_close();
	wkt_rm_rf(dir);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	pagesize = NULL;
	store_open();
	uint32_t old = page_size(CHANNEL_DB_MESSAGES);
	ck_assert_uint_lt(old, 16384);
	for (int i = 1; i <= 300; i++)
		ck_assert_uint_eq(append("pg", 2, "u1", NULL, i), (uint32_t)i);
	ck_assert_int_eq(channel_commit(&proc), 0);
	store_close();
	pagesize = channel_db_pagesize;
	store_open();
	ck_assert_uint_eq(page_size(CHANNEL_DB_MESSAGES), old);
	ck_assert_uint_eq(append("pg", 2, "u1", NULL, 301), 301);
	ck_assert_int_eq(channel_commit(&proc), 0);
	for (uint32_t s = 1; s <= 301; s += 50) {
		struct channel_msg m;
		struct wk_wbuf b;

		wk_wbuf_init(&b);
		ck_assert_int_eq(channel_msg_get(&proc, "pg", 2, s, &m, &b), 1);
		ck_assert_int_eq(m.message_id, s);
		wk_wbuf_free(&b);
	}
	channel_commit(&proc);
}
END_TEST

START_TEST(test_channel_store_abort_rolls_back)
{
	int64_t id;
	uint32_t seq;

	for (int i = 1; i <= 3; i++)
		append("g1", 2, "u1", NULL, i);
	ck_assert_int_eq(channel_commit(&proc), 0);
	ck_assert_uint_eq(append("g1", 2, "u1", "c4", 4), 4);
	ck_assert_uint_eq(append("g1", 2, "u1", NULL, 5), 5);
	ck_assert_uint_eq(append("new", 2, "u1", NULL, 6), 1);
	channel_abort(&proc);
	ck_assert_uint_eq(last_seq("g1", 2), 3);
	ck_assert_uint_eq(append("g1", 2, "u1", NULL, 44), 4);
	ck_assert_int_eq(channel_msg_find_client_msg_no(&proc, "g1", 2, "u1", "c4", &id, &seq), 0);
	/* A failed write poisons the transaction: the commit aborts it. */
	ck_assert_int_eq(channel_commit(&proc), 0);
	ck_assert_uint_eq(append("g1", 2, "u1", NULL, 55), 5);
	channel_txn_fail(&proc);
	ck_assert_int_eq(channel_commit(&proc), -1);
	ck_assert_uint_eq(last_seq("g1", 2), 4);
	ck_assert_uint_eq(append("g1", 2, "u1", NULL, 555), 5);
	ck_assert_int_eq(channel_commit(&proc), 0);
	/* The channel created in the aborted transaction does not exist. */
	struct channel_info info;
	ck_assert_int_eq(channel_get(&proc, "new", 2, &info), 0);
	ck_assert_uint_eq(append("new", 2, "u1", NULL, 7), 1);
	channel_commit(&proc);
	store_close();
	store_open();
	ck_assert_uint_eq(last_seq("g1", 2), 5);
	ck_assert_uint_eq(last_seq("new", 2), 1);
	channel_commit(&proc);
}
END_TEST

struct collect {
	uint32_t seqs[64];
	int n, stop_at;
	const char *id;
};

static int
collect(const struct channel_msg *m, void *arg)
{
	struct collect *c = arg;

	c->seqs[c->n++] = m->seq;
	ck_assert_int_eq(m->message_id, 100 + m->seq);
	return c->stop_at && c->n == c->stop_at;
}

/* Walk and compare the seqs with the expected list (terminated by 0). */
static void
expect_range(uint32_t lo, uint32_t hi, uint32_t limit, int reverse, int stop_at,
    const uint32_t *want)
{
	struct collect c = { .stop_at = stop_at };
	int n = 0;

	while (want[n])
		n++;
	ck_assert_int_eq(channel_msg_range(&proc, "g1", 2, lo, hi, limit, reverse, collect, &c), n);
	ck_assert_int_eq(c.n, n);
	for (int i = 0; i < n; i++)
		ck_assert_uint_eq(c.seqs[i], want[i]);
}

START_TEST(test_channel_store_range)
{
	/* Neighbours on both sides, so a walk that leaves its channel shows. */
	append("a", 2, "u", NULL, 1);
	for (int i = 1; i <= 20; i++)
		append("g1", 2, "u1", NULL, 100 + i);
	append("z", 2, "u", NULL, 1);
	ck_assert_int_eq(channel_commit(&proc), 0);

	expect_range(5, 10, 0, 0, 0, (const uint32_t[]){ 5, 6, 7, 8, 9, 10, 0 });
	expect_range(0, 0, 3, 0, 0, (const uint32_t[]){ 1, 2, 3, 0 });
	expect_range(18, 0, 0, 0, 0, (const uint32_t[]){ 18, 19, 20, 0 });
	expect_range(0, 0, 3, 1, 0, (const uint32_t[]){ 20, 19, 18, 0 });
	expect_range(5, 8, 0, 1, 0, (const uint32_t[]){ 8, 7, 6, 5, 0 });
	expect_range(0, 2, 0, 1, 0, (const uint32_t[]){ 2, 1, 0 });
	expect_range(19, 500, 0, 1, 0, (const uint32_t[]){ 20, 19, 0 });
	expect_range(1, 20, 0, 0, 2, (const uint32_t[]){ 1, 2, 0 });
	expect_range(21, 30, 0, 0, 0, (const uint32_t[]){ 0 });
	expect_range(9, 8, 0, 1, 0, (const uint32_t[]){ 0 });
	struct collect c = { 0 };
	ck_assert_int_eq(channel_msg_range(&proc, "none", 2, 0, 0, 0, 0, collect, &c), 0);
	ck_assert_int_eq(channel_msg_range(&proc, "g1", 3, 0, 0, 0, 1, collect, &c), 0);
	channel_commit(&proc);
}
END_TEST

START_TEST(test_channel_store_message_fields)
{
	static const char payload[] = { 'a', 0, 'b', (char)0xff };
	struct channel_msg m = {
		.message_id = INT64_MAX, .timestamp = -5, .flags = 0x0d, .setting = 0x82,
		.expire = 4000000000u, .from_uid = "sender", .from_uid_len = 6,
		.client_msg_no = "uuid-1", .client_msg_no_len = 6, .stream_no = "s9",
		.stream_no_len = 2, .payload = payload, .payload_len = sizeof payload,
	}, got;
	struct wk_wbuf b;

	ck_assert_int_eq(channel_msg_append(&proc, "u2@u1", 1, &m), 0);
	ck_assert_int_eq(channel_commit(&proc), 0);
	wk_wbuf_init(&b);
	ck_assert_int_eq(channel_msg_get(&proc, "u2@u1", 1, 1, &got, &b), 1);
	ck_assert_int_eq(got.message_id, INT64_MAX);
	ck_assert_int_eq(got.timestamp, -5);
	ck_assert_uint_eq(got.flags, 0x0d);
	ck_assert_uint_eq(got.setting, 0x82);
	ck_assert_uint_eq(got.expire, 4000000000u);
	ck_assert_str_eq(got.from_uid, "sender");
	ck_assert_str_eq(got.client_msg_no, "uuid-1");
	ck_assert_str_eq(got.topic, "");
	ck_assert_uint_eq(got.topic_len, 0);
	ck_assert_str_eq(got.stream_no, "s9");
	ck_assert_uint_eq(got.payload_len, sizeof payload);
	ck_assert_mem_eq(got.payload, payload, sizeof payload);
	ck_assert_int_eq(channel_msg_get(&proc, "u2@u1", 1, 2, &got, &b), 0);
	ck_assert_int_eq(channel_msg_get(&proc, "u2@u1", 1, 0, &got, &b), 0);
	ck_assert_int_eq(channel_msg_get(&proc, "nobody", 1, 1, &got, &b), 0);
	wk_wbuf_free(&b);
	channel_commit(&proc);
}
END_TEST

START_TEST(test_channel_store_client_msg_no)
{
	int64_t id = 0;
	uint32_t seq = 0;

	append("g1", 2, "u1", "c1", 11);
	append("g1", 2, "u2", "c1", 12);
	append("g1", 2, "u1", "c2", 13);
	append("g1", 2, "u1", NULL, 14);
	append("g2", 2, "u1", "c9", 15);
	/* Visible inside the transaction that wrote it (de-duplication). */
	ck_assert_int_eq(channel_msg_find_client_msg_no(&proc, "g2", 2, "u1", "c9", &id, &seq), 1);
	ck_assert_int_eq(channel_commit(&proc), 0);
	ck_assert_int_eq(channel_msg_find_client_msg_no(&proc, "g1", 2, "u1", "c1", &id, &seq), 1);
	ck_assert_int_eq(id, 11);
	ck_assert_uint_eq(seq, 1);
	ck_assert_int_eq(channel_msg_find_client_msg_no(&proc, "g1", 2, "u2", "c1", &id, &seq), 1);
	ck_assert_int_eq(id, 12);
	ck_assert_uint_eq(seq, 2);
	ck_assert_int_eq(channel_msg_find_client_msg_no(&proc, "g1", 2, NULL, "c1", &id, &seq), 1);
	ck_assert_int_eq(id, 12);
	ck_assert_int_eq(channel_msg_find_client_msg_no(&proc, "g1", 2, NULL, "c2", &id, &seq), 1);
	ck_assert_uint_eq(seq, 3);
	/* A prefix of another number, another sender, another channel. */
	ck_assert_int_eq(channel_msg_find_client_msg_no(&proc, "g1", 2, NULL, "c", &id, &seq), 0);
	ck_assert_int_eq(channel_msg_find_client_msg_no(&proc, "g1", 2, "u3", "c1", &id, &seq), 0);
	ck_assert_int_eq(channel_msg_find_client_msg_no(&proc, "g1", 2, "u1", "c9", &id, &seq), 0);
	ck_assert_int_eq(channel_msg_find_client_msg_no(&proc, "g9", 2, "u1", "c1", &id, &seq), 0);
	ck_assert_int_eq(channel_msg_find_client_msg_no(&proc, "g1", 2, "u1", "", &id, &seq), 0);
	channel_commit(&proc);
}
END_TEST

struct names {
	char buf[256];
};

static int
name_append(const char *uid, size_t len, void *arg)
{
	struct names *n = arg;

	ck_assert_uint_eq(strlen(uid), len);
	strcat(n->buf, uid);
	strcat(n->buf, ",");
	return 0;
}

/* Sort the comma-terminated names of buf in place: a cached member set
 * is walked in no particular order. */
static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *
sorted(char *buf)
{
	char copy[256], *v[32], *tok, *save;
	int n = 0;

	snprintf(copy, sizeof copy, "%s", buf);
	for (tok = strtok_r(copy, ",", &save); tok && n < 32; tok = strtok_r(NULL, ",", &save))
		v[n++] = tok;
	qsort(v, (size_t)n, sizeof v[0], cmp_str);
	buf[0] = '\0';
	for (int i = 0; i < n; i++) {
		strcat(buf, v[i]);
		strcat(buf, ",");
	}
	return buf;
}

static int
entry_check(const struct channel_entry *e, void *arg)
{
	int *count = arg;

	ck_assert_uint_gt(e->id, 0);
	ck_assert_uint_gt(e->created_ms, 1600000000000ull);
	ck_assert_uint_eq(e->created_ms, e->updated_ms);
	return ++*count == 2 ? 7 : 0;
}

START_TEST(test_channel_store_members_and_lists)
{
	struct names n = { "" };
	struct channel_info info;
	int count = 0;

	ck_assert_int_eq(channel_list_add(&proc, "g1", 2, CHANNEL_MEMBERS, "u2"), 1);
	ck_assert_int_eq(channel_list_add(&proc, "g1", 2, CHANNEL_MEMBERS, "u1"), 1);
	ck_assert_int_eq(channel_list_add(&proc, "g1", 2, CHANNEL_MEMBERS, "u10"), 1);
	ck_assert_int_eq(channel_list_add(&proc, "g1", 2, CHANNEL_MEMBERS, "u1"), 0);
	ck_assert_int_eq(channel_list_add(&proc, "g1", 2, CHANNEL_BLACKLIST, "u3"), 1);
	ck_assert_int_eq(channel_list_add(&proc, "g1", 2, CHANNEL_WHITELIST, "u1"), 1);
	ck_assert_int_eq(channel_list_add(&proc, "g11", 2, CHANNEL_MEMBERS, "x"), 1);
	ck_assert_int_eq(channel_commit(&proc), 0);

	ck_assert_int_eq(channel_is_member(&proc, "g1", 2, "u1"), 1);
	ck_assert_int_eq(channel_is_member(&proc, "g1", 2, "u3"), 0);
	ck_assert_int_eq(channel_is_member(&proc, "g1", 3, "u1"), 0);
	ck_assert_int_eq(channel_is_member(&proc, "nope", 2, "u1"), 0);
	ck_assert_int_eq(channel_member_count(&proc, "g1", 2), 3);
	ck_assert_int_eq(channel_list_has(&proc, "g1", 2, CHANNEL_BLACKLIST, "u3"), 1);
	ck_assert_int_eq(channel_list_has(&proc, "g1", 2, CHANNEL_BLACKLIST, "u1"), 0);
	ck_assert_int_eq(channel_list_count(&proc, "g1", 2, CHANNEL_WHITELIST), 1);
	ck_assert_int_eq(channel_list_count(&proc, "nope", 2, CHANNEL_WHITELIST), 0);
	ck_assert_int_eq(channel_members_foreach(&proc, "g1", 2, name_append, &n), 0);
	ck_assert_str_eq(sorted(n.buf), "u1,u10,u2,");
	ck_assert_int_eq(channel_list_foreach(&proc, "g1", 2, CHANNEL_MEMBERS, entry_check, &count), 7);
	ck_assert_int_eq(count, 2);
	/* Creating the channel through a list left its flags clear. */
	ck_assert_int_eq(channel_get(&proc, "g1", 2, &info), 1);
	ck_assert_int_eq(info.ban | info.disband | info.send_ban | info.large, 0);
	ck_assert_uint_eq(info.nmembers, 3);
	ck_assert_uint_eq(info.nblacklist, 1);

	ck_assert_int_eq(channel_list_remove(&proc, "g1", 2, CHANNEL_MEMBERS, "u10"), 1);
	ck_assert_int_eq(channel_list_remove(&proc, "g1", 2, CHANNEL_MEMBERS, "u10"), 0);
	ck_assert_int_eq(channel_list_remove(&proc, "nope", 2, CHANNEL_MEMBERS, "u10"), 0);
	ck_assert_int_eq(channel_list_clear(&proc, "g1", 2, CHANNEL_BLACKLIST), 0);
	ck_assert_int_eq(channel_commit(&proc), 0);
	store_close();
	store_open();
	n.buf[0] = '\0';
	ck_assert_int_eq(channel_members_foreach(&proc, "g1", 2, name_append, &n), 0);
	ck_assert_str_eq(sorted(n.buf), "u1,u2,");
	ck_assert_int_eq(channel_list_count(&proc, "g1", 2, CHANNEL_BLACKLIST), 0);
	ck_assert_int_eq(channel_list_has(&proc, "g1", 2, CHANNEL_BLACKLIST, "u3"), 0);
	ck_assert_int_eq(channel_list_has(&proc, "g1", 2, CHANNEL_WHITELIST, "u1"), 1);
	ck_assert_int_eq(channel_member_count(&proc, "g11", 2), 1);
	/* An abort takes back list changes and counts. */
	ck_assert_int_eq(channel_list_add(&proc, "g1", 2, CHANNEL_MEMBERS, "u9"), 1);
	ck_assert_int_eq(channel_list_clear(&proc, "g1", 2, CHANNEL_WHITELIST), 0);
	channel_abort(&proc);
	ck_assert_int_eq(channel_member_count(&proc, "g1", 2), 2);
	ck_assert_int_eq(channel_is_member(&proc, "g1", 2, "u9"), 0);
	ck_assert_int_eq(channel_list_has(&proc, "g1", 2, CHANNEL_WHITELIST, "u1"), 1);
	channel_commit(&proc);
}
END_TEST

START_TEST(test_channel_store_info)
{
	struct channel_info info = { .id = "g1", .type = 2, .ban = 1, .large = 1, .last_seq = 99 };

	ck_assert_int_eq(channel_get(&proc, "g1", 2, &info), 0);
	ck_assert_str_eq(info.id, "g1");
	info.ban = 1;
	info.large = 1;
	info.last_seq = 99;
	ck_assert_int_eq(channel_put(&proc, &info), 0);
	ck_assert_int_eq(channel_commit(&proc), 0);
	store_close();
	store_open();
	ck_assert_int_eq(channel_get(&proc, "g1", 2, &info), 1);
	ck_assert_int_eq(info.ban, 1);
	ck_assert_int_eq(info.large, 1);
	ck_assert_int_eq(info.disband, 0);
	ck_assert_uint_eq(info.last_seq, 0);
	ck_assert_uint_gt(info.created_ms, 0);
	/* Every flag is overwritten. */
	info.ban = 0;
	info.send_ban = 1;
	info.allow_stranger = 1;
	ck_assert_int_eq(channel_put(&proc, &info), 0);
	ck_assert_int_eq(channel_get(&proc, "g1", 2, &info), 1);
	ck_assert_int_eq(info.ban, 0);
	ck_assert_int_eq(info.send_ban, 1);
	ck_assert_int_eq(info.allow_stranger, 1);
	ck_assert_int_eq(info.large, 1);
	/* An id too long is refused. */
	memset(info.id, 'x', CHANNEL_ID_MAX);
	info.id[CHANNEL_ID_MAX] = '\0';
	ck_assert_int_eq(channel_put(&proc, &info), 0);
	ck_assert_int_eq(channel_get(&proc, "g1", 2, &info), 1);
	char *big = malloc(70001);
	memset(big, 'x', 70000);
	big[CHANNEL_ID_MAX + 1] = '\0';
	ck_assert_int_eq(channel_get(&proc, big, 2, &info), -1);
	ck_assert_int_eq(channel_commit(&proc), 0);
	/* A write that fails marks the transaction: it is aborted, with what
	 * was written before it. */
	info.large = 0;
	ck_assert_int_eq(channel_put(&proc, &info), 0);
	ck_assert_int_eq(channel_list_add(&proc, "g1", 2, CHANNEL_MEMBERS, big), -1);
	ck_assert_int_eq(channel_commit(&proc), -1);
	struct channel_msg m = { .from_uid = big, .from_uid_len = 70000 };
	ck_assert_int_eq(channel_msg_append(&proc, "g1", 2, &m), -1);
	ck_assert_int_eq(channel_txn_open(), 1);
	ck_assert_int_eq(channel_commit(&proc), -1);
	ck_assert_int_eq(channel_get(&proc, "g1", 2, &info), 1);
	ck_assert_int_eq(info.large, 1);
	ck_assert_uint_eq(info.last_seq, 0);
	free(big);
	channel_abort(&proc);
}
END_TEST

START_TEST(test_channel_store_delete)
{
	struct channel_info info;
	struct channel_msg m;
	struct wk_wbuf b;
	int64_t id;
	uint32_t seq;

	for (int i = 1; i <= 5; i++)
		append("g1", 2, "u1", "c", 100 + i);
	channel_list_add(&proc, "g1", 2, CHANNEL_MEMBERS, "u1");
	channel_list_add(&proc, "g1", 2, CHANNEL_BLACKLIST, "u2");
	channel_list_add(&proc, "g1", 2, CHANNEL_WHITELIST, "u3");
	channel_list_add(&proc, "g2", 2, CHANNEL_MEMBERS, "u1");
	append("g2", 2, "u1", "c", 1);
	ck_assert_int_eq(channel_commit(&proc), 0);

	ck_assert_int_eq(channel_delete(&proc, "g1", 2), 1);
	ck_assert_int_eq(channel_delete(&proc, "never", 2), 0);
	ck_assert_int_eq(channel_commit(&proc), 0);
	store_close();
	store_open();
	ck_assert_int_eq(channel_get(&proc, "g1", 2, &info), 1);
	ck_assert_int_eq(info.disband, 1);
	ck_assert_uint_eq(info.last_seq, 5);
	ck_assert_uint_eq(info.nmembers + info.nblacklist + info.nwhitelist, 0);
	ck_assert_int_eq(channel_get(&proc, "never", 2, &info), 0);
	ck_assert_int_eq(channel_is_member(&proc, "g1", 2, "u1"), 0);
	ck_assert_int_eq(channel_list_has(&proc, "g1", 2, CHANNEL_BLACKLIST, "u2"), 0);
	ck_assert_int_eq(channel_list_has(&proc, "g1", 2, CHANNEL_WHITELIST, "u3"), 0);
	struct collect c = { 0 };
	ck_assert_int_eq(channel_msg_range(&proc, "g1", 2, 0, 0, 0, 0, collect, &c), 0);
	wk_wbuf_init(&b);
	ck_assert_int_eq(channel_msg_get(&proc, "g1", 2, 3, &m, &b), 0);
	wk_wbuf_free(&b);
	ck_assert_int_eq(channel_msg_find_client_msg_no(&proc, "g1", 2, "u1", "c", &id, &seq), 0);
	/* The neighbour is untouched; seqs are never reused. */
	ck_assert_int_eq(channel_is_member(&proc, "g2", 2, "u1"), 1);
	ck_assert_int_eq(channel_msg_find_client_msg_no(&proc, "g2", 2, "u1", "c", &id, &seq), 1);
	ck_assert_uint_eq(append("g1", 2, "u1", NULL, 106), 6);
	channel_commit(&proc);
}
END_TEST

/* A channel bigger than one transaction's share of locks is deleted whole. */
START_TEST(test_channel_store_delete_large)
{
	char payload[600];
	struct channel_info info;

	memset(payload, 'p', sizeof payload);
	for (int i = 1; i <= 20000; i++) {
		struct channel_msg m = { .message_id = i, .from_uid = "u1", .from_uid_len = 2,
		    .payload = payload, .payload_len = sizeof payload };
		char cmn[16];
		m.client_msg_no = cmn;
		m.client_msg_no_len = (size_t)snprintf(cmn, sizeof cmn, "c%d", i);
		ck_assert_int_eq(channel_msg_append(&proc, "big", 2, &m), 0);
		if (i % 2000 == 0)
			ck_assert_int_eq(channel_commit(&proc), 0);
	}
	for (int i = 0; i < 5000; i++) {
		char uid[16];
		snprintf(uid, sizeof uid, "m%d", i);
		ck_assert_int_eq(channel_list_add(&proc, "big", 2, CHANNEL_MEMBERS, uid), 1);
	}
	ck_assert_int_eq(channel_commit(&proc), 0);
	ck_assert_int_eq(channel_delete(&proc, "big", 2), 1);
	ck_assert_int_eq(channel_commit(&proc), 0);
	ck_assert_int_eq(channel_get(&proc, "big", 2, &info), 1);
	ck_assert_uint_eq(info.last_seq, 20000);
	ck_assert_uint_eq(info.nmembers, 0);
	channel_commit(&proc);
}
END_TEST

static char order[16];

static void
done_mark(struct wk_proc *p, int rc, void *arg)
{
	size_t n = strlen(order);

	order[n] = (char)(intptr_t)arg;
	order[n + 1] = rc == 0 ? '+' : '-';
	order[n + 2] = '\0';
	/* Work queued from here belongs to the next transaction. */
	if ((char)(intptr_t)arg == 'b')
		ck_assert_int_eq(channel_after_commit(p, done_mark, (void *)(intptr_t)'c'), 0);
}

START_TEST(test_channel_store_after_commit)
{
	ck_assert_int_eq(channel_txn_open(), 0);
	ck_assert_int_eq(channel_commit(&proc), 0);
	ck_assert_int_eq(channel_after_commit(&proc, done_mark, (void *)(intptr_t)'a'), 0);
	ck_assert_int_eq(channel_txn_open(), 1);
	ck_assert_int_eq(channel_after_commit(&proc, done_mark, (void *)(intptr_t)'b'), 0);
	ck_assert_int_eq(channel_commit(&proc), 0);
	ck_assert_str_eq(order, "a+b+");
	ck_assert_int_eq(channel_txn_open(), 1);
	channel_abort(&proc);
	ck_assert_str_eq(order, "a+b+c-");
	ck_assert_int_eq(channel_txn_open(), 0);
}
END_TEST

/* A set built or changed in a transaction that aborts is not kept: the
 * next read sees what was committed, and the next message's check too. */
START_TEST(test_channel_store_cache_abort)
{
	char uid[32];

	for (int i = 0; i < 100; i++) {
		snprintf(uid, sizeof uid, "m%d", i);
		ck_assert_int_eq(channel_list_add(&proc, "big", 2, CHANNEL_MEMBERS, uid), 1);
	}
	ck_assert_int_eq(channel_commit(&proc), 0);
	ck_assert_int_eq(channel_is_member(&proc, "big", 2, "m5"), 1);   /* built */
	ck_assert_int_eq(channel_list_add(&proc, "big", 2, CHANNEL_MEMBERS, "new"), 1);
	ck_assert_int_eq(channel_list_remove(&proc, "big", 2, CHANNEL_MEMBERS, "m7"), 1);
	ck_assert_int_eq(channel_is_member(&proc, "big", 2, "new"), 1);
	ck_assert_int_eq(channel_is_member(&proc, "big", 2, "m7"), 0);
	channel_abort(&proc);
	ck_assert_int_eq(channel_is_member(&proc, "big", 2, "new"), 0);
	ck_assert_int_eq(channel_is_member(&proc, "big", 2, "m7"), 1);
	/* Built inside a transaction holding an uncommitted add, then aborted. */
	ck_assert_int_eq(channel_list_add(&proc, "fresh", 2, CHANNEL_MEMBERS, "a"), 1);
	ck_assert_int_eq(channel_is_member(&proc, "fresh", 2, "a"), 1);
	channel_abort(&proc);
	ck_assert_int_eq(channel_is_member(&proc, "fresh", 2, "a"), 0);
	/* Committed: kept, and a clear empties it. */
	ck_assert_int_eq(channel_list_remove(&proc, "big", 2, CHANNEL_MEMBERS, "m9"), 1);
	ck_assert_int_eq(channel_commit(&proc), 0);
	ck_assert_int_eq(channel_is_member(&proc, "big", 2, "m9"), 0);
	ck_assert_int_eq(channel_member_count(&proc, "big", 2), 99);
	ck_assert_int_eq(channel_list_clear(&proc, "big", 2, CHANNEL_MEMBERS), 0);
	ck_assert_int_eq(channel_is_member(&proc, "big", 2, "m1"), 0);
	ck_assert_int_eq(channel_commit(&proc), 0);
	ck_assert_int_eq(channel_is_member(&proc, "big", 2, "m1"), 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("channel_store");
	TCase *tc = tcase_create("channel_store");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_channel_store_seq_no_gaps);
	tcase_add_test(tc, test_channel_store_abort_rolls_back);
	tcase_add_test(tc, test_channel_store_last_sent);
	tcase_add_test(tc, test_channel_store_page_sizes);
	tcase_add_test(tc, test_channel_store_record_not_rewritten);
	tcase_add_test(tc, test_channel_store_range);
	tcase_add_test(tc, test_channel_store_message_fields);
	tcase_add_test(tc, test_channel_store_client_msg_no);
	tcase_add_test(tc, test_channel_store_members_and_lists);
	tcase_add_test(tc, test_channel_store_info);
	tcase_add_test(tc, test_channel_store_delete);
	tcase_add_test(tc, test_channel_store_delete_large);
	tcase_add_test(tc, test_channel_store_after_commit);
	suite_add_tcase(s, tc);
	/* The list tests again with the list cache on. */
	struct { const char *name; void (*setup)(void); } cached[] = {
		{ "cached", setup_cached }, { "evicting", setup_evicting },
	};
	for (size_t i = 0; i < sizeof cached / sizeof cached[0]; i++) {
		tc = tcase_create(cached[i].name);
		tcase_add_checked_fixture(tc, cached[i].setup, teardown);
		tcase_set_timeout(tc, 60);
		tcase_add_test(tc, test_channel_store_members_and_lists);
		tcase_add_test(tc, test_channel_store_info);
		tcase_add_test(tc, test_channel_store_delete);
		tcase_add_test(tc, test_channel_store_delete_large);
		tcase_add_test(tc, test_channel_store_cache_abort);
		suite_add_tcase(s, tc);
	}
	return wkt_run_suite(s);
}
