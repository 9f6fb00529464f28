/* check_mailbox_ops.c - the mailbox shards' binary API op rows
 * (wk_msgtypes.h 100-111) spoken directly, as a tool does: the
 * malformed-input table (short, trailing bytes, huge lengths and counts,
 * values out of range) is answered 400 and harms nothing; well-formed rows
 * are answered as wk-api expects them.  See wk-mailbox(8). */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "wk_buf.h"
#include "wk_msg.h"
#include "wktest.h"

static struct wkt_tree tree;
static struct wkt_shard_link *shard_link;

static void
setup(void)
{
	wkt_tree_start(&tree, "tokenAuthOn: false\n");
	shard_link = wkt_shard_link_new(&tree);
}

static void
teardown(void)
{
	wkt_shard_link_destroy(&shard_link);
	wkt_tree_stop(&tree);
}

/* Ask mailbox/0; the status, and the answer in *a (freed by the caller). */
static int
ask(int type, const struct wk_wbuf *b, uint8_t **a, size_t *len)
{
	return wkt_shard_ask(shard_link, "mailbox", 0, type, b->p, b->len, a, len);
}

/* One malformed payload: how it is built, as a list of steps. */
struct bad {
	const char *what;
	int type;
	void (*build)(struct wk_wbuf *b);
};

static void b_empty(struct wk_wbuf *b) { (void)b; }
static void b_token_trailing(struct wk_wbuf *b)
{
	wk_put_str(b, "u1");
	wk_put_str(b, "t");
	wk_put_u8(b, 0);
	wk_put_u8(b, 1);
	wk_put_u8(b, 0xee);             /* one byte too many */
}
static void b_token_short(struct wk_wbuf *b)
{
	wk_put_str(b, "u1");
	wk_put_str(b, "t");
	wk_put_u8(b, 0);                /* device_level missing */
}
static void b_token_huge_str(struct wk_wbuf *b)
{
	wk_put_u16(b, 0xffff);          /* a uid of 65535 bytes, 2 present */
	wk_put_mem(b, "u1", 2);
}
static void b_token_long_token(struct wk_wbuf *b)
{
	char t[600];

	memset(t, 'x', sizeof t - 1);
	t[sizeof t - 1] = '\0';
	wk_put_str(b, "u1");
	wk_put_str(b, t);               /* more than the shard keeps */
	wk_put_u8(b, 0);
	wk_put_u8(b, 1);
}
static void b_rows_bad_filter(struct wk_wbuf *b)
{
	wk_put_str(b, "u1");
	wk_put_u32(b, 0);
	wk_put_u8(b, 3);                /* filters are 0, 1, 2 */
	wk_put_u32(b, 1000);
}
static void b_rows_old_layout(struct wk_wbuf *b)
{
	wk_put_str(b, "u1");
	wk_put_u32(b, 0);               /* version 14: no filter */
}
static void b_uid_too_long(struct wk_wbuf *b)
{
	char u[1100];

	memset(u, 'u', sizeof u - 1);
	u[sizeof u - 1] = '\0';
	wk_put_str(b, u);
}
static void b_list_huge_count(struct wk_wbuf *b)
{
	wk_put_u32(b, 0xffffffffu);     /* four billion uids, none present */
	wk_put_str(b, "u1");
}
static void b_conv_bad_mode(struct wk_wbuf *b)
{
	wk_put_str(b, "g1");
	wk_put_u8(b, 2);
	wk_put_u32(b, 5);
	wk_put_u8(b, 7);                /* modes are 0, 1, 2 */
	wk_put_u32(b, 1);
	wk_put_str(b, "u1");
}
static void b_quit_short(struct wk_wbuf *b)
{
	wk_put_str(b, "u1");
	wk_put_u32(b, 1);               /* device_flag is a u64 */
}
static void b_list_nonempty(struct wk_wbuf *b) { wk_put_u8(b, 1); }

static const struct bad bads[] = {
	{ "empty token", WK_MSG_MAILBOX_USER_TOKEN, b_empty },
	{ "token + trailing byte", WK_MSG_MAILBOX_USER_TOKEN, b_token_trailing },
	{ "token short", WK_MSG_MAILBOX_USER_TOKEN, b_token_short },
	{ "token huge uid length", WK_MSG_MAILBOX_USER_TOKEN, b_token_huge_str },
	{ "token too long", WK_MSG_MAILBOX_USER_TOKEN, b_token_long_token },
	{ "rows uid too long", WK_MSG_MAILBOX_CONV_ROWS, b_uid_too_long },
	{ "rows bad filter", WK_MSG_MAILBOX_CONV_ROWS, b_rows_bad_filter },
	{ "rows without filter", WK_MSG_MAILBOX_CONV_ROWS, b_rows_old_layout },
	{ "sysuid_add huge count", WK_MSG_MAILBOX_SYSUID_ADD, b_list_huge_count },
	{ "conv.set bad mode", WK_MSG_MAILBOX_CONV_SET, b_conv_bad_mode },
	{ "device_quit short", WK_MSG_MAILBOX_DEVICE_QUIT, b_quit_short },
	{ "sysuid_list with a payload", WK_MSG_MAILBOX_SYSUID_LIST, b_list_nonempty },
	{ "cmd.sync empty", WK_MSG_MAILBOX_CMD_SYNC, b_empty },
	{ "cmd.syncack empty", WK_MSG_MAILBOX_CMD_SYNCACK, b_empty },
	{ "conv.delete empty", WK_MSG_MAILBOX_CONV_DELETE, b_empty },
	{ "user.flags short", WK_MSG_MAILBOX_USER_FLAGS, b_quit_short },
};

START_TEST(test_mailbox_ops_malformed)
{
	const struct bad *t = &bads[_i];
	int pid = wkt_tree_pid(&tree, "mailbox", 0);
	struct wk_wbuf b;
	struct wk_rbuf rb;
	uint8_t *a;
	size_t len;
	char msg[64];

	wk_wbuf_init(&b);
	t->build(&b);
	ck_assert_msg(ask(t->type, &b, &a, &len) == 400, "%s: not 400", t->what);
	wk_rbuf_init(&rb, a, len);
	wk_get_str(&rb, msg, sizeof msg);
	ck_assert_str_eq(msg, "malformed payload");
	free(a);
	/* The shard still serves, and is the same process. */
	b.len = 0;
	ck_assert_int_eq(ask(WK_MSG_MAILBOX_SYSUID_LIST, &b, &a, &len), 200);
	free(a);
	ck_assert_int_eq(wkt_tree_pid(&tree, "mailbox", 0), pid);
	wk_wbuf_free(&b);
}
END_TEST

/* Well-formed rows: a token stored and the user's conversation rows read
 * back in the layout wk-api decodes. */
START_TEST(test_mailbox_ops_answers)
{
	struct wk_wbuf b;
	struct wk_rbuf rb;
	uint8_t *a;
	size_t len, n;
	const char *id;

	wk_wbuf_init(&b);
	wk_put_str(&b, "u1");
	wk_put_str(&b, "secret");
	wk_put_u8(&b, 1);
	wk_put_u8(&b, 0);
	ck_assert_int_eq(ask(WK_MSG_MAILBOX_USER_TOKEN, &b, &a, &len), 200);
	ck_assert_uint_eq(len, 2);
	ck_assert_uint_eq(wk_be16_get(a), 200);
	free(a);
	/* conv.set reset of g1/2 at 7 for u1, then the rows. */
	b.len = 0;
	wk_put_str(&b, "g1");
	wk_put_u8(&b, 2);
	wk_put_u32(&b, 7);
	wk_put_u8(&b, 0);
	wk_put_u32(&b, 1);
	wk_put_str(&b, "u1");
	ck_assert_int_eq(ask(WK_MSG_MAILBOX_CONV_SET, &b, &a, &len), 200);
	ck_assert_uint_eq(len, 0);
	free(a);
	b.len = 0;
	wk_put_str(&b, "u1");
	wk_put_u32(&b, 0);              /* every row */
	wk_put_u8(&b, 0);               /* no filter */
	wk_put_u32(&b, 0);
	ck_assert_int_eq(ask(WK_MSG_MAILBOX_CONV_ROWS, &b, &a, &len), 200);
	wk_rbuf_init(&rb, a, len);
	ck_assert_uint_eq(wk_get_u8(&rb), 0);    /* not filtered */
	ck_assert_uint_eq(wk_get_u32(&rb), 1);
	id = wk_get_strv(&rb, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(memcmp(id, "g1", 2), 0);
	ck_assert_uint_eq(wk_get_u8(&rb), 2);
	ck_assert_uint_eq(wk_get_u32(&rb), 7);   /* readed_to */
	ck_assert_uint_eq(wk_get_u32(&rb), 0);   /* deleted_at */
	ck_assert_uint_gt(wk_get_u64(&rb), 0);   /* updated_ms */
	ck_assert_int_eq(wk_rbuf_done(&rb), 0);
	free(a);
	/* Filtered (from memory now): g1 has no message, so no row; a uid
	 * with more rows than filter_max gets them all, unfiltered. */
	for (int k = 0; k < 2; k++) {
		b.len = 0;
		wk_put_str(&b, "u1");
		wk_put_u32(&b, 0);
		wk_put_u8(&b, 1);
		wk_put_u32(&b, k == 0 ? 1000 : 0);
		ck_assert_int_eq(ask(WK_MSG_MAILBOX_CONV_ROWS, &b, &a, &len), 200);
		wk_rbuf_init(&rb, a, len);
		ck_assert_uint_eq(wk_get_u8(&rb), k == 0);
		ck_assert_uint_eq(wk_get_u32(&rb), k == 0 ? 0 : 1);
		free(a);
	}
	wk_wbuf_free(&b);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("mailbox_ops");
	TCase *tc = tcase_create("ops");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_mailbox_ops_malformed, 0, (int)(sizeof bads / sizeof bads[0]));
	tcase_add_test(tc, test_mailbox_ops_answers);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return wkt_run_suite(suite());
}
