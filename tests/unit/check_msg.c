/* check_msg.c - the internal message header codec and dispatch validation. */
#include <check.h>
#include "wktest.h"
#include <stdlib.h>
#include <string.h>
#include "wk_dispatch.h"
#include "wk_msg.h"
#include "wk_msgid.h"
#include "wk_chmsg.h"
#include "wk_chevent.h"
#include "wk_time.h"

static int handled;
static void on_status(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *m) { handled++; }

static const struct wk_dispatch table[] = {
	{ WK_MSG_STATUS_REQ, 0, 0, WK_ROLE_ANY, on_status },
	{ WK_MSG_PING_REQ, 1, 2, WK_ROLE_BIT(WK_ROLE_BROKER) | WK_ROLE_BIT(WK_ROLE_CTL), on_status },
};

static struct wk_msg_hdr
hdr(int type, int role)
{
	return (struct wk_msg_hdr){ .version = WK_MSG_VERSION, .flags = 1, .type = (uint16_t)type,
	    .sender_role = (uint8_t)role, .sender_instance = 513,
	    .corr = 0x0102030405060708ull, .key = 0xdeadbeef };
}

START_TEST(test_msg_header_round_trip)
{
	struct wk_msg_hdr h = hdr(WK_MSG_PING_REP, WK_ROLE_MAILBOX), d;
	uint8_t buf[WK_MSG_HDR_SIZE];
	static const uint8_t want[WK_MSG_HDR_SIZE] = {
		0x57, 0x4b, WK_MSG_VERSION, 0x01, 0x00, WK_MSG_PING_REP, WK_ROLE_MAILBOX, 0,
		0x02, 0x01, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0xde, 0xad, 0xbe, 0xef,
	};

	wk_msg_hdr_encode(&h, buf);
	ck_assert_mem_eq(buf, want, sizeof want);
	ck_assert_int_eq(wk_msg_hdr_decode(buf, sizeof buf, &d), WK_MSG_OK);
	ck_assert_int_eq(d.type, h.type);
	ck_assert_int_eq(d.flags, 1);
	ck_assert_int_eq(d.sender_role, WK_ROLE_MAILBOX);
	ck_assert_int_eq(d.sender_instance, 513);
	ck_assert(d.corr == h.corr);
	ck_assert_uint_eq(d.key, 0xdeadbeef);
}
END_TEST

/* Malformed headers: each byte string and the error it must give. */
START_TEST(test_msg_header_malformed_table)
{
	struct wk_msg_hdr h = hdr(WK_MSG_STATUS_REQ, WK_ROLE_CTL), d;
	uint8_t good[WK_MSG_HDR_SIZE], buf[WK_MSG_HDR_SIZE + 8];
	struct { const char *name; int off, val; size_t len; int want; } cases[] = {
		{ "empty", -1, 0, 0, WK_MSG_ESHORT },
		{ "short by one", -1, 0, WK_MSG_HDR_SIZE - 1, WK_MSG_ESHORT },
		{ "long by one", -1, 0, WK_MSG_HDR_SIZE + 1, WK_MSG_ELONG },
		{ "bad magic", 0, 'X', WK_MSG_HDR_SIZE, WK_MSG_EMAGIC },
		{ "wrong version", 2, WK_MSG_VERSION + 1, WK_MSG_HDR_SIZE, WK_MSG_EVERSION },
		{ "type zero", 5, 0, WK_MSG_HDR_SIZE, WK_MSG_ETYPE },
		{ "type past the list", 5, WK_MSG_MAX, WK_MSG_HDR_SIZE, WK_MSG_ETYPE },
		{ "type high byte", 4, 0x80, WK_MSG_HDR_SIZE, WK_MSG_ETYPE },
		{ "unknown role", 6, WK_ROLE_COUNT, WK_MSG_HDR_SIZE, WK_MSG_EROLE },
	};

	wk_msg_hdr_encode(&h, good);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memset(buf, 0, sizeof buf);
		memcpy(buf, good, sizeof good);
		if (cases[i].off >= 0)
			buf[cases[i].off] = (uint8_t)cases[i].val;
		ck_assert_msg(wk_msg_hdr_decode(buf, cases[i].len, &d) == cases[i].want,
		    "%s: got %d", cases[i].name, wk_msg_hdr_decode(buf, cases[i].len, &d));
	}
}
END_TEST

static int
check(const struct wk_msg_hdr *h, int extra_frames, const struct wk_dispatch **e)
{
	zmsg_t *m = wk_msg_new(h);
	struct wk_msg_hdr d;
	int rc;

	for (int i = 0; i < extra_frames; i++)
		zmsg_addstr(m, "x");
	rc = wk_dispatch_check(table, 2, m, &d, e);
	if (rc == 0)
		ck_assert_int_eq((int)zmsg_size(m), extra_frames);  /* header popped */
	zmsg_destroy(&m);
	return rc;
}

START_TEST(test_msg_dispatch_validates_before_handler)
{
	const struct wk_dispatch *e = NULL;
	struct wk_msg_hdr h;

	h = hdr(WK_MSG_STATUS_REQ, WK_ROLE_API);
	ck_assert_int_eq(check(&h, 0, &e), 0);
	ck_assert_ptr_eq(e, &table[0]);
	ck_assert_int_eq(check(&h, 1, &e), WK_DISPATCH_EFRAMES);       /* long */
	h = hdr(WK_MSG_PING_REQ, WK_ROLE_BROKER);
	ck_assert_int_eq(check(&h, 0, &e), WK_DISPATCH_EFRAMES);       /* short */
	ck_assert_int_eq(check(&h, 2, &e), 0);
	ck_assert_int_eq(check(&h, 3, &e), WK_DISPATCH_EFRAMES);
	h = hdr(WK_MSG_PING_REQ, WK_ROLE_CHANNEL);
	ck_assert_int_eq(check(&h, 1, &e), WK_DISPATCH_ESENDER);       /* wrong sender */
	h = hdr(WK_MSG_STATUS_REP, WK_ROLE_API);
	ck_assert_int_eq(check(&h, 1, &e), WK_DISPATCH_ENOHANDLER);    /* not taken here */
	h = hdr(WK_MSG_STATUS_REQ, WK_ROLE_API);
	h.version++;
	ck_assert_int_eq(check(&h, 0, &e), WK_MSG_EVERSION);           /* wrong version */
	zmsg_t *empty = zmsg_new();
	struct wk_msg_hdr d;
	ck_assert_int_eq(wk_dispatch_check(table, 2, empty, &d, &e), WK_DISPATCH_EEMPTY);
	zmsg_destroy(&empty);
	ck_assert_int_eq(handled, 0);  /* validation never calls a handler */
}
END_TEST

START_TEST(test_msg_names)
{
	ck_assert_str_eq(wk_msg_type_name(WK_MSG_STATUS_REQ), "STATUS_REQ");
	ck_assert_str_eq(wk_msg_type_name(0), "UNKNOWN");
	ck_assert_str_eq(wk_msg_type_name(WK_MSG_MAX), "UNKNOWN");
	ck_assert_str_eq(wk_role_name(WK_ROLE_CHANNEL), "channel");
	ck_assert_int_eq(wk_role_from_name("mailbox"), WK_ROLE_MAILBOX);
	ck_assert_int_eq(wk_role_from_name("nope"), -1);
}
END_TEST

/* Message ids: increasing, carrying the node, and unique across nodes. */
START_TEST(test_msg_ids_increase_and_carry_the_node)
{
	struct wk_msgid a, b;
	int64_t prev = 0, id;

	wk_msgid_init(&a, 3);
	wk_msgid_init(&b, 4);
	for (int i = 0; i < 20000; i++) {
		id = wk_msgid_next(&a);
		ck_assert(id > prev);
		ck_assert_int_eq((int)((id >> 12) & 0x3ff), 3);
		ck_assert(wk_msgid_next(&b) != id);
		prev = id;
	}
	/* The time part is now, in the reference's epoch. */
	int64_t ms = (prev >> 22) + WK_MSGID_EPOCH_MS;
	ck_assert(ms >= wk_wall_ms() - 60000 && ms <= wk_wall_ms() + 60000);
	/* A clock step back does not repeat ids. */
	a.last_ms += 100000;
	ck_assert(wk_msgid_next(&a) > prev);
}
END_TEST

START_TEST(test_msg_chmsg_round_trip_and_truncation)
{
	struct wk_chmsg m = { .message_id = 123456789012345LL, .seq = 7, .timestamp = 1700000001,
	    .flags = WKPROTO_FLAG_REDDOT, .setting = 0x88, .channel_type = 2, .expire = 30 }, d;
	struct wk_wbuf b;
	struct wk_rbuf r;

	m.from_uid = wk_str_of("alice");
	m.channel_id = wk_str_of("g1");
	m.client_msg_no = wk_str_of("cmn-1");
	m.topic = wk_str_of("t");
	m.stream_no = wk_str_of("");
	m.payload = (struct wk_bytes){ (const uint8_t *)"{\"a\":1}", 7 };
	wk_wbuf_init(&b);
	wk_chmsg_put(&b, &m);
	wk_rbuf_init(&r, b.p, b.len);
	ck_assert_int_eq(wk_chmsg_get(&r, &d), 0);
	ck_assert_int_eq(wk_rbuf_done(&r), 0);
	ck_assert(d.message_id == m.message_id);
	ck_assert_uint_eq(d.seq, 7);
	ck_assert_int_eq(d.timestamp, 1700000001);
	ck_assert_int_eq(d.setting, 0x88);
	ck_assert_int_eq(d.channel_type, 2);
	ck_assert_uint_eq(d.expire, 30);
	ck_assert_int_eq(d.from_uid.len, 5);
	ck_assert_mem_eq(d.from_uid.p, "alice", 5);
	ck_assert_mem_eq(d.client_msg_no.p, "cmn-1", 5);
	ck_assert_uint_eq(d.payload.len, 7);
	ck_assert_mem_eq(d.payload.p, "{\"a\":1}", 7);
	/* Every truncation is an error, never a read past the end. */
	for (size_t n = 0; n < b.len; n++) {
		wk_rbuf_init(&r, b.p, n);
		ck_assert_msg(wk_chmsg_get(&r, &d) < 0 || wk_rbuf_done(&r) < 0, "len %zu", n);
	}
	wk_wbuf_free(&b);
}
END_TEST

/* A stream event (BROKER_EVENT): round trip, then the malformed ones:
 * every truncation, a byte too many, a stream flag out of range, a length
 * that runs past the end. */
START_TEST(test_msg_chevent_round_trip_and_malformed)
{
	struct wk_chevent e = { .stream_seq = 9, .stream_flag = WK_STREAM_END, .occurred_at = -5 }, d;
	struct wk_wbuf b;
	struct wk_rbuf r;
	uint8_t *bad;

	e.msg.message_id = 42;
	e.msg.seq = 3;
	e.msg.setting = WKPROTO_SETTING_STREAM;
	e.msg.channel_type = 1;
	e.msg.channel_id = wk_str_of("a@b");
	e.msg.from_uid = wk_str_of("b");
	e.msg.client_msg_no = wk_str_of("r1");
	e.msg.stream_no = wk_str_of("n1");
	e.msg.payload = (struct wk_bytes){ (const uint8_t *)"{\"type\":1}", 10 };
	e.event_id = wk_str_of("ev-1");
	e.event_type = wk_str_of("stream.close");
	e.data = (struct wk_bytes){ (const uint8_t *)"{}", 2 };
	wk_wbuf_init(&b);
	wk_chevent_put(&b, &e);
	wk_rbuf_init(&r, b.p, b.len);
	ck_assert_int_eq(wk_chevent_get(&r, &d), 0);
	ck_assert_int_eq(wk_rbuf_done(&r), 0);
	ck_assert(d.msg.message_id == 42 && d.msg.seq == 3 && d.stream_seq == 9);
	ck_assert_int_eq(d.stream_flag, WK_STREAM_END);
	ck_assert(d.occurred_at == -5);
	ck_assert_int_eq(d.msg.stream_no.len, 2);
	ck_assert_mem_eq(d.msg.stream_no.p, "n1", 2);
	ck_assert_int_eq(d.event_type.len, 12);
	ck_assert_mem_eq(d.event_type.p, "stream.close", 12);
	ck_assert_uint_eq(d.data.len, 2);
	ck_assert_uint_eq(d.msg.payload.len, 10);
	for (size_t n = 0; n < b.len; n++) {
		wk_rbuf_init(&r, b.p, n);
		ck_assert_msg(wk_chevent_get(&r, &d) < 0 || wk_rbuf_done(&r) < 0, "len %zu", n);
	}
	bad = malloc(b.len + 1);
	memcpy(bad, b.p, b.len);
	bad[b.len] = 0;
	wk_rbuf_init(&r, bad, b.len + 1);                 /* trailing byte */
	ck_assert(wk_chevent_get(&r, &d) < 0 || wk_rbuf_done(&r) < 0);
	e.stream_flag = 3;                                 /* no such flag */
	b.len = 0;
	wk_chevent_put(&b, &e);
	wk_rbuf_init(&r, b.p, b.len);
	ck_assert_int_lt(wk_chevent_get(&r, &d), 0);
	e.stream_flag = WK_STREAM_ING;
	b.len = 0;
	wk_chevent_put(&b, &e);
	memcpy(bad, b.p, b.len);
	memset(bad + b.len - 6, 0xff, 4);                  /* data's length: huge */
	wk_rbuf_init(&r, bad, b.len);
	ck_assert_int_lt(wk_chevent_get(&r, &d), 0);
	free(bad);
	wk_wbuf_free(&b);
}
END_TEST

/* Malformed BATCH payloads, for both readers. */
static const struct {
	const char *name;
	uint8_t bytes[12];
	size_t len;
} batch_bad[] = {
	{ "zero frames", { 0, 0 }, 2 },
	{ "frame length past the end", { 0, 1, 0, 0, 0, 9, 'a', 'b' }, 8 },
	{ "huge frame length", { 0, 1, 0xff, 0xff, 0xff, 0xff, 'a' }, 7 },
	{ "count without frames", { 0, 2, 0, 0, 0, 1, 'a' }, 7 },
	{ "one byte", { 1 }, 1 },
};

/* BATCH payloads: messages round-trip in order with their frames; then
 * the malformed ones: every truncation (never a read past the end), a
 * count of zero frames, a frame length past the end. */
START_TEST(test_msg_batch_round_trip_and_malformed)
{
	struct wk_msg_hdr h = hdr(WK_MSG_PING_REQ, WK_ROLE_BROKER), d;
	struct wk_wbuf b;
	struct wk_rbuf r;
	zmsg_t *m = wk_msg_new(&h), *got;

	zmsg_addstr(m, "first");
	zmsg_addmem(m, "", 0);                    /* an empty frame survives */
	wk_wbuf_init(&b);
	wk_msg_batch_put(&b, m);
	h.corr = 99;
	const void *second = "second";
	size_t second_len = 6;
	wk_msg_batch_putv(&b, &h, 1, &second, &second_len);
	size_t whole = b.len;

	wk_rbuf_init(&r, b.p, b.len);
	got = wk_msg_batch_next(&r);
	ck_assert_ptr_nonnull(got);
	ck_assert_int_eq((int)zmsg_size(got), 3);
	ck_assert_int_eq(wk_msg_hdr_decode(zframe_data(zmsg_first(got)), WK_MSG_HDR_SIZE, &d), 0);
	ck_assert_uint_eq(d.corr, 0x0102030405060708ull);
	ck_assert(zframe_streq(zmsg_next(got), "first"));
	ck_assert_uint_eq(zframe_size(zmsg_next(got)), 0);
	zmsg_destroy(&got);
	got = wk_msg_batch_next(&r);
	ck_assert_ptr_nonnull(got);
	ck_assert_int_eq((int)zmsg_size(got), 2);
	ck_assert_int_eq(wk_msg_hdr_decode(zframe_data(zmsg_first(got)), WK_MSG_HDR_SIZE, &d), 0);
	ck_assert_uint_eq(d.corr, 99);
	ck_assert(zframe_streq(zmsg_last(got), "second"));
	zmsg_destroy(&got);
	ck_assert_ptr_null(wk_msg_batch_next(&r));   /* the end, not an error */
	ck_assert_int_eq(r.err, 0);

	/* Every cut inside a message is an error; a cut between two is a
	 * shorter batch. */
	size_t first_len = whole - (2 + 4 + WK_MSG_HDR_SIZE + 4 + 6);
	for (size_t n = 1; n < whole; n++) {
		int msgs = 0;
		wk_rbuf_init(&r, b.p, n);
		while ((got = wk_msg_batch_next(&r)) != NULL) {
			msgs++;
			zmsg_destroy(&got);
		}
		if (n == first_len)
			ck_assert_msg(r.err == 0 && msgs == 1, "cut %zu between messages", n);
		else
			ck_assert_msg(r.err != 0 && msgs == (n > first_len), "cut %zu", n);
	}
	for (size_t i = 0; i < sizeof batch_bad / sizeof batch_bad[0]; i++) {
		wk_rbuf_init(&r, batch_bad[i].bytes, batch_bad[i].len);
		got = wk_msg_batch_next(&r);
		ck_assert_msg(got == NULL && r.err != 0, "%s", batch_bad[i].name);
	}
	zmsg_destroy(&m);
	wk_wbuf_free(&b);
}
END_TEST

/* The same payloads read in place (wk_msg_batch_view): the same frames,
 * pointing into the batch; a message of more than WK_MSGV_MAX frames is
 * left for wk_msg_batch_next (2, nothing consumed); every cut and every
 * malformed payload of the table above is an error, never a read past
 * the end. */
START_TEST(test_msg_batch_view)
{
	struct wk_msg_hdr h = hdr(WK_MSG_PING_REQ, WK_ROLE_BROKER), d;
	struct wk_wbuf b;
	struct wk_rbuf r;
	struct wk_msgv v;
	zmsg_t *m = wk_msg_new(&h), *big = wk_msg_new(&h), *got;

	zmsg_addstr(m, "first");
	zmsg_addmem(m, "", 0);
	for (int i = 0; i < WK_MSGV_MAX; i++)
		zmsg_addstr(big, "x");
	wk_wbuf_init(&b);
	wk_msg_batch_put(&b, m);
	wk_msg_batch_put(&b, big);
	const void *third[2] = { "third", "" };
	size_t third_len[2] = { 5, 0 };
	wk_msg_batch_putv(&b, &h, 2, third, third_len);

	wk_rbuf_init(&r, b.p, b.len);
	ck_assert_int_eq(wk_msg_batch_view(&r, &v), 1);
	ck_assert_int_eq(v.n, 3);
	ck_assert(v.p[0] >= b.p && v.p[2] <= b.p + b.len);   /* in place */
	ck_assert_int_eq(wk_msg_hdr_decode(v.p[0], v.len[0], &d), 0);
	ck_assert_uint_eq(v.len[1], 5);
	ck_assert(memcmp(v.p[1], "first", 5) == 0);
	ck_assert_uint_eq(v.len[2], 0);
	size_t at = r.off;
	ck_assert_int_eq(wk_msg_batch_view(&r, &v), 2);      /* 1 + WK_MSGV_MAX frames */
	ck_assert_uint_eq(r.off, at);
	got = wk_msg_batch_next(&r);
	ck_assert_ptr_nonnull(got);
	ck_assert_int_eq((int)zmsg_size(got), 1 + WK_MSGV_MAX);
	zmsg_destroy(&got);
	ck_assert_int_eq(wk_msg_batch_view(&r, &v), 1);
	ck_assert_int_eq(v.n, 3);
	ck_assert(v.len[1] == 5 && memcmp(v.p[1], "third", 5) == 0 && v.len[2] == 0);
	ck_assert_int_eq(wk_msg_batch_view(&r, &v), 0);      /* the end, not an error */
	ck_assert_int_eq(r.err, 0);

	size_t first_len = 2 + 4 + WK_MSG_HDR_SIZE + 4 + 5 + 4;
	for (size_t n = 1; n < first_len; n++) {
		wk_rbuf_init(&r, b.p, n);
		ck_assert_msg(wk_msg_batch_view(&r, &v) == -1 && r.err != 0, "cut %zu", n);
	}
	for (size_t i = 0; i < sizeof batch_bad / sizeof batch_bad[0]; i++) {
		wk_rbuf_init(&r, batch_bad[i].bytes, batch_bad[i].len);
		ck_assert_msg(wk_msg_batch_view(&r, &v) == -1 && r.err != 0, "%s", batch_bad[i].name);
	}
	zmsg_destroy(&m);
	zmsg_destroy(&big);
	wk_wbuf_free(&b);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("msg");
	TCase *tc = tcase_create("msg");

	zsys_handler_set(NULL);
	tcase_add_test(tc, test_msg_header_round_trip);
	tcase_add_test(tc, test_msg_header_malformed_table);
	tcase_add_test(tc, test_msg_dispatch_validates_before_handler);
	tcase_add_test(tc, test_msg_names);
	tcase_add_test(tc, test_msg_ids_increase_and_carry_the_node);
	tcase_add_test(tc, test_msg_chmsg_round_trip_and_truncation);
	tcase_add_test(tc, test_msg_chevent_round_trip_and_malformed);
	tcase_add_test(tc, test_msg_batch_round_trip_and_malformed);
	tcase_add_test(tc, test_msg_batch_view);
	suite_add_tcase(s, tc);
	return wkt_run_suite(s);
}
