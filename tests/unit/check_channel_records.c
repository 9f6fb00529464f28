/* check_channel_records.c - wk-channel's versioned records: the message
 * record (channel_msgrec.c: version 1, version 2 after a revoke or an
 * edit) and the channel record (channel_store.c: version 1 read, version 2
 * written) round trip and refuse malformed input; a revoke rewrites the
 * record in place; retention deletes old messages a batch per step and
 * keeps where history starts (channel_retention.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "channel_store.h"
#include "wk_buf.h"
#include "wktest.h"

/* A version 1 message; with `v2`, revoked by "op" at version 7. */
static void
sample(struct wk_wbuf *b, int v2)
{
	struct channel_msg m = {
		.message_id = 42, .timestamp = 1700000000, .flags = 2, .setting = 0, .expire = 9,
		.from_uid = "u1", .from_uid_len = 2, .client_msg_no = "c1", .client_msg_no_len = 2,
		.payload = "hello", .payload_len = 5,
	};

	if (v2) {
		m.revoked = 1;
		m.extra_version = 7;
		m.edited_at = 0;
		m.revoker = "op";
		m.revoker_len = 2;
		m.payload_len = 0;
	}
	wk_wbuf_init(b);
	channel_msg_encode(b, &m);
}

START_TEST(test_channel_records_msg_roundtrip)
{
	struct channel_msg m;
	struct wk_wbuf b;

	sample(&b, 0);
	ck_assert_int_eq(b.p[0], 1);
	ck_assert_int_eq(channel_msg_decode(&m, 3, b.p, b.len), 0);
	ck_assert_int_eq(m.seq, 3);
	ck_assert_int_eq(m.message_id, 42);
	ck_assert_str_eq(m.from_uid, "u1");
	ck_assert_mem_eq(m.payload, "hello", 5);
	ck_assert_int_eq(m.extra_version, 0);
	ck_assert_int_eq(m.revoked, 0);
	wk_wbuf_free(&b);
	sample(&b, 1);
	ck_assert_int_eq(b.p[0], 2);
	ck_assert_int_eq(channel_msg_decode(&m, 3, b.p, b.len), 0);
	ck_assert_int_eq(m.revoked, 1);
	ck_assert_int_eq(m.extra_version, 7);
	ck_assert_str_eq(m.revoker, "op");
	ck_assert_uint_eq(m.payload_len, 0);
	ck_assert_str_eq(m.client_msg_no, "c1");
	wk_wbuf_free(&b);
}
END_TEST

/* Malformed message records: each a change to a valid record. */
static const struct {
	int v2;
	const char *what;
	int cut;                     /* bytes cut off the end (-1: one added) */
	int at;                      /* byte to set (-1: none) */
	int value;
} msg_bad[] = {
	{ 0, "empty", 1000, -1, 0 },
	{ 0, "version 0", 0, 0, 0 },
	{ 0, "version 3", 0, 0, 3 },
	{ 0, "version 255", 0, 0, 255 },
	{ 0, "v1 short by one", 1, -1, 0 },
	{ 0, "v1 without the payload", 9, -1, 0 },
	{ 0, "v1 trailing byte", -1, -1, 0 },
	{ 0, "v1 from_uid length huge", 0, 19, 0xff },
	{ 0, "v1 from_uid without its NUL", 0, 23, 'x' },
	{ 0, "v1 stream_no length huge", 0, 32, 0xff },
	{ 0, "v1 payload length huge", 0, 35, 0xff },
	{ 1, "v2 short by one", 1, -1, 0 },
	{ 1, "v2 without its tail", 12, -1, 0 },
	{ 1, "v2 trailing byte", -1, -1, 0 },
	{ 1, "v2 revoked 2", 0, 39, 2 },
	{ 1, "v2 revoker length huge", 0, 48, 0xff },
	{ 0, "v1 record marked v2", 0, -2, 0 },
};

START_TEST(test_channel_records_msg_malformed)
{
	for (size_t i = 0; i < sizeof msg_bad / sizeof msg_bad[0]; i++) {
		struct channel_msg m;
		struct wk_wbuf b;
		size_t len;

		sample(&b, msg_bad[i].v2);
		len = b.len;
		if (msg_bad[i].cut == -1) {
			wk_put_u8(&b, 0);
			len = b.len;
		} else
			len = (size_t)msg_bad[i].cut >= len ? 0 : len - (size_t)msg_bad[i].cut;
		if (msg_bad[i].at >= 0)
			b.p[msg_bad[i].at] = (uint8_t)msg_bad[i].value;
		if (msg_bad[i].at == -2)
			b.p[0] = 2;
		ck_assert_msg(channel_msg_decode(&m, 1, b.p, len) < 0, "%s decoded", msg_bad[i].what);
		wk_wbuf_free(&b);
	}
}
END_TEST

/* v2 with extra_version 0 (a version 2 record always has one). */
START_TEST(test_channel_records_msg_v2_without_version)
{
	struct channel_msg m;
	struct wk_wbuf b;

	sample(&b, 1);
	/* The tail: u8 revoked, u32 version, u32 edited_at, revoker (2 + 2 + 1). */
	memset(b.p + b.len - 5 - 8, 0, 4);
	ck_assert_int_lt(channel_msg_decode(&m, 1, b.p, b.len), 0);
	wk_wbuf_free(&b);
}
END_TEST

START_TEST(test_channel_records_record)
{
	struct channel_rec c = { 0 }, d;
	uint8_t v[CHANNEL_RECORD_SIZE_V2], old[CHANNEL_RECORD_SIZE_V1];

	c.num = 5;
	c.last_seq = 100;
	c.flags = 1;
	c.count[0] = 3;
	c.created_ms = 11;
	c.updated_ms = 12;
	c.first_seq = 40;
	c.ret_secs = 3600;
	c.ret_count = CHANNEL_RETENTION_DEFAULT;
	c.extra_version = 9;
	channel_record_encode(&c, v);
	ck_assert_int_eq(v[0], 2);
	ck_assert_int_eq(channel_record_decode(&d, v, sizeof v), 0);
	ck_assert_uint_eq(d.num, 5);
	ck_assert_uint_eq(d.last_seq, 100);
	ck_assert_uint_eq(d.first_seq, 40);
	ck_assert_uint_eq(d.ret_secs, 3600);
	ck_assert_uint_eq(d.ret_count, CHANNEL_RETENTION_DEFAULT);
	ck_assert_uint_eq(d.extra_version, 9);
	/* An older release's record: everything kept, the defaults. */
	memcpy(old, v, sizeof old);
	old[0] = 1;
	ck_assert_int_eq(channel_record_decode(&d, old, sizeof old), 0);
	ck_assert_uint_eq(d.last_seq, 100);
	ck_assert_uint_eq(d.first_seq, 0);
	ck_assert_uint_eq(d.ret_secs, CHANNEL_RETENTION_DEFAULT);
	ck_assert_uint_eq(d.ret_count, CHANNEL_RETENTION_DEFAULT);
	ck_assert_uint_eq(d.extra_version, 0);
	/* Malformed: sizes and versions that do not match, and a history
	 * start past the end. */
	ck_assert_int_lt(channel_record_decode(&d, v, 0), 0);
	ck_assert_int_lt(channel_record_decode(&d, v, sizeof v - 1), 0);
	ck_assert_int_lt(channel_record_decode(&d, old, sizeof old - 1), 0);
	ck_assert_int_lt(channel_record_decode(&d, v, sizeof old), 0);     /* v2 cut to v1's size */
	old[0] = 3;
	ck_assert_int_lt(channel_record_decode(&d, old, sizeof old), 0);
	v[0] = 1;
	ck_assert_int_lt(channel_record_decode(&d, v, sizeof v), 0);       /* v1 of v2's size */
	c.first_seq = 102;
	channel_record_encode(&c, v);
	ck_assert_int_lt(channel_record_decode(&d, v, sizeof v), 0);
	c.first_seq = 101;                                                 /* all deleted */
	channel_record_encode(&c, v);
	ck_assert_int_eq(channel_record_decode(&d, v, sizeof v), 0);
}
END_TEST

static struct wk_proc proc;
static char *dir;

static void
setup(void)
{
	dir = wkt_tmpdir();
	wkt_store_open(&proc, dir, channel_databases, channel_db_pagesize, "fsync");
	ck_assert_int_eq(channel_store_open(&proc), 0);
}

static void
teardown(void)
{
	channel_store_close(&proc);
	wkt_store_close(&proc);
	wkt_rm_rf(dir);
	free(dir);
}

static void
append(const char *id, int i)
{
	char payload[32];
	struct channel_msg m = {
		.message_id = i, .timestamp = 1700000000, .from_uid = "u", .from_uid_len = 1,
		.payload = payload,
	};

	m.payload_len = (size_t)snprintf(payload, sizeof payload, "body %d", i);
	ck_assert_int_eq(channel_msg_append(&proc, id, 2, &m), 0);
}

/* A revoke rewrites the record: version 2, no payload, the rest kept. */
START_TEST(test_channel_records_replace)
{
	struct channel_msg m;
	struct wk_wbuf b;

	append("g", 1);
	append("g", 2);
	ck_assert_int_eq(channel_commit(&proc), 0);
	wk_wbuf_init(&b);
	ck_assert_int_eq(channel_msg_get(&proc, "g", 2, 1, &m, &b), 1);
	m.revoked = 1;
	m.extra_version = channel_extra_next(&proc, "g", 2);
	ck_assert_uint_eq(m.extra_version, 1);
	m.payload_len = 0;
	ck_assert_int_eq(channel_msg_replace(&proc, "g", 2, &m, 1), 0);
	ck_assert_int_eq(channel_commit(&proc), 0);
	ck_assert_int_eq(channel_msg_get(&proc, "g", 2, 1, &m, &b), 1);
	ck_assert_int_eq(m.revoked, 1);
	ck_assert_uint_eq(m.payload_len, 0);
	ck_assert_int_eq(m.message_id, 1);
	ck_assert_int_eq(channel_msg_get(&proc, "g", 2, 2, &m, &b), 1);
	ck_assert_int_eq(m.revoked, 0);
	ck_assert_uint_eq(channel_extra_next(&proc, "g", 2), 2);
	channel_commit(&proc);
	wk_wbuf_free(&b);
}
END_TEST

static int
count_fn(const struct channel_msg *m, void *arg)
{
	(void)m;
	(*(int *)arg)++;
	return 0;
}

/* Keep 3 of 10 with a batch of 2: four steps, never more than 2 a step. */
START_TEST(test_channel_records_retention_steps)
{
	uint32_t first;
	int n;

	proc.cfg.channel_retentionBatch = 2;
	proc.cfg.channel_retentionDays = 0;
	proc.cfg.channel_retentionCount = 0;
	for (int i = 1; i <= 10; i++)
		append("r", i);
	append("other", 1);
	ck_assert_int_eq(channel_retention_set(&proc, "r", 2, 0, 3, &first), 0);
	ck_assert_uint_eq(first, 0);
	ck_assert_int_eq(channel_commit(&proc), 0);
	for (int step = 1; step <= 5; step++) {
		channel_retention_step(&proc);
		ck_assert_int_eq(channel_commit(&proc), 0);
		n = 0;
		ck_assert_int_ge(channel_msg_range(&proc, "r", 2, 1, 0, 0, 0, count_fn, &n), 0);
		ck_assert_int_eq(n, step < 4 ? 10 - 2 * step : 3);
	}
	ck_assert_int_eq(channel_history_start(&proc, "r", 2, &first), 0);
	ck_assert_uint_eq(first, 8);
	ck_assert_int_eq(channel_history_start(&proc, "other", 2, &first), 0);
	ck_assert_uint_eq(first, 0);
	/* The default applies to a channel without its own; a channel's own
	 * 0 (no limit) wins over it. */
	append("other", 2);
	for (int i = 1; i <= 3; i++)
		append("keep", i);
	ck_assert_int_eq(channel_retention_set(&proc, "keep", 2, 0, 0, &first), 0);
	ck_assert_int_eq(channel_commit(&proc), 0);
	proc.cfg.channel_retentionCount = 1;
	for (int step = 0; step < 3; step++) {
		channel_retention_step(&proc);
		ck_assert_int_eq(channel_commit(&proc), 0);
	}
	n = 0;
	channel_msg_range(&proc, "other", 2, 1, 0, 0, 0, count_fn, &n);
	ck_assert_int_eq(n, 1);
	n = 0;
	channel_msg_range(&proc, "keep", 2, 1, 0, 0, 0, count_fn, &n);
	ck_assert_int_eq(n, 3);
	channel_commit(&proc);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("channel_records");
	TCase *tc = tcase_create("codec");
	TCase *st = tcase_create("store");

	tcase_add_test(tc, test_channel_records_msg_roundtrip);
	tcase_add_test(tc, test_channel_records_msg_malformed);
	tcase_add_test(tc, test_channel_records_msg_v2_without_version);
	tcase_add_test(tc, test_channel_records_record);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(st, setup, teardown);
	tcase_add_test(st, test_channel_records_replace);
	tcase_add_test(st, test_channel_records_retention_steps);
	suite_add_tcase(s, st);
	return wkt_run_suite(s);
}
