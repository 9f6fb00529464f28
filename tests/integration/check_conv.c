/* check_conv.c - recent conversations in read mode against the real tree:
 * /conversation/sync's shapes and unread arithmetic (own messages count as
 * read, setUnread/clearUnread only forward, setUnread beyond the last seq,
 * a deleted conversation that comes back with only its new messages), the
 * rows that membership, blacklists and a person chat's first message make,
 * last_msg_seqs / exclude_channel_types / paging, syncByChannels,
 * /conversation/channels, bad bodies; former members, live and
 * customer-service channels; and that one message to a group of
 * 10,000 costs exactly the database writes of one to a group of 2.
 * See wk-api(8), wk-mailbox(8), wk-channel(8). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "wk_channelid.h"
#include "wk_crypto.h"
#include "wktest.h"

static struct wkt_tree tree;

static void setup(void) { wkt_tree_start(&tree, "tokenAuthOn: false\n"); }
static void teardown(void) { wkt_tree_stop(&tree); }

static void
post_ok(const char *path, const char *body)
{
	wkt_post_ok(&tree, path, body);
}

/* A message from `from` to (to, type); its seq. */
static json_int_t
send_text(const char *from, const char *to, int type, const char *text)
{
	json_int_t seq = wkt_send_text(&tree, from, to, type, text, NULL, NULL, NULL);

	ck_assert(seq > 0);
	return seq;
}

/* /conversation/sync for uid with `extra` members ("" or ",\"k\":v..."). */
static json_t *
sync_conv(const char *uid, int msg_count, const char *extra)
{
	char body[1024];
	json_t *j;

	snprintf(body, sizeof body, "{\"uid\":\"%s\",\"msg_count\":%d%s}", uid, msg_count, extra);
	j = wkt_call(&tree, "POST", "/conversation/sync", body, 200);
	ck_assert_msg(json_is_array(j), "sync %s", body);
	return j;
}

/* The item for (id, type) in a sync answer, or NULL. */
static json_t *
find(json_t *list, const char *id, int type)
{
	size_t i;
	json_t *v;

	json_array_foreach(list, i, v)
		if (strcmp(json_string_value(json_object_get(v, "channel_id")), id) == 0 &&
		    json_integer_value(json_object_get(v, "channel_type")) == type)
			return v;
	return NULL;
}

static json_int_t
num(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	ck_assert_msg(json_is_integer(v), "%s is not an integer", k);
	return json_integer_value(v);
}

/* One conversation for uid with these figures; returns nothing. */
static void
expect_conv(const char *uid, const char *extra, const char *id, int type, json_int_t unread,
    json_int_t last, json_int_t readed, size_t nrecents)
{
	json_t *l = sync_conv(uid, 1, extra), *c = find(l, id, type), *r;
	char *s = json_dumps(l, JSON_COMPACT);

	ck_assert_msg(c != NULL, "%s: no %s/%d in %s", uid, id, type, s);
	ck_assert_msg(num(c, "unread") == unread && num(c, "last_msg_seq") == last &&
	    num(c, "readed_to_msg_seq") == readed, "%s: %s", uid, s);
	r = json_object_get(c, "recents");
	ck_assert_uint_eq(json_array_size(r), nrecents);
	if (nrecents)
		ck_assert_int_eq(num(json_array_get(r, 0), "message_seq"), last);
	free(s);
	json_decref(l);
}

static void
expect_none(const char *uid, const char *extra)
{
	json_t *l = sync_conv(uid, 1, extra);
	char *s = json_dumps(l, JSON_COMPACT);

	ck_assert_msg(json_array_size(l) == 0, "%s: %s", uid, s);
	free(s);
	json_decref(l);
}

/* Wait (polling, bounded) until uid's full sync has `n` conversations. */
static void
wait_convs(const char *uid, size_t n)
{
	uint64_t end = wkt_now_ms() + 10000;
	size_t got = 0;

	while (wkt_now_ms() < end) {
		json_t *l = sync_conv(uid, 1, "");
		got = json_array_size(l);
		json_decref(l);
		if (got == n)
			return;
		wkt_tick();
	}
	ck_abort_msg("%s: %zu conversations, want %zu", uid, got, n);
}

START_TEST(test_conv_group_unread_arithmetic)
{
	json_t *l, *c, *m;
	char want[64];

	post_ok("/channel", "{\"channel_id\":\"g1\",\"channel_type\":2,\"subscribers\":[\"ua\",\"ub\",\"uc\"]}");
	expect_none("ub", "");
	send_text("ua", "g1", 2, "m1");
	send_text("ua", "g1", 2, "m2");
	send_text("ua", "g1", 2, "m3");
	/* The whole item, field by field. */
	l = sync_conv("ub", 1, "");
	ck_assert_uint_eq(json_array_size(l), 1);
	c = json_array_get(l, 0);
	ck_assert_uint_eq(json_object_size(c), 10);
	ck_assert_str_eq(json_string_value(json_object_get(c, "channel_id")), "g1");
	ck_assert_int_eq(num(c, "channel_type"), 2);
	ck_assert_int_eq(num(c, "unread"), 3);
	ck_assert_int_eq(num(c, "last_msg_seq"), 3);
	ck_assert_int_eq(num(c, "readed_to_msg_seq"), 0);
	ck_assert_int_eq(num(c, "offset_msg_seq"), 0);
	m = json_array_get(json_object_get(c, "recents"), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(c, "recents")), 1);
	ck_assert_int_eq(num(m, "message_seq"), 3);
	ck_assert_str_eq(json_string_value(json_object_get(m, "from_uid")), "ua");
	ck_assert_str_eq(json_string_value(json_object_get(m, "payload")), "bTM=");
	ck_assert_int_eq(num(c, "timestamp"), num(m, "timestamp"));
	ck_assert_int_eq(num(c, "version"), num(m, "timestamp") * 1000000000LL);
	ck_assert_str_eq(json_string_value(json_object_get(c, "last_client_msg_no")),
	    json_string_value(json_object_get(m, "client_msg_no")));
	json_decref(l);
	/* msg_count 3: the newest three, newest first. */
	l = sync_conv("ub", 3, "");
	c = json_object_get(json_array_get(l, 0), "recents");
	ck_assert_uint_eq(json_array_size(c), 3);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(num(json_array_get(c, i), "message_seq"), 3 - i);
	json_decref(l);
	/* The sender has read what it sent. */
	expect_conv("ua", "", "g1", 2, 0, 3, 3, 1);
	/* ub writes 4, ua writes 5: what ub sent counts as read for ub. */
	send_text("ub", "g1", 2, "m4");
	send_text("ua", "g1", 2, "m5");
	expect_conv("ub", "", "g1", 2, 1, 5, 4, 1);
	/* setUnread only moves forward; beyond the last it leaves one. */
	expect_conv("uc", "", "g1", 2, 5, 5, 0, 1);
	post_ok("/conversations/setUnread", "{\"uid\":\"uc\",\"channel_id\":\"g1\",\"channel_type\":2,\"unread\":2}");
	expect_conv("uc", "", "g1", 2, 2, 5, 3, 1);
	post_ok("/conversations/setUnread", "{\"uid\":\"uc\",\"channel_id\":\"g1\",\"channel_type\":2,\"unread\":100}");
	expect_conv("uc", "", "g1", 2, 1, 5, 4, 1);
	post_ok("/conversations/setUnread", "{\"uid\":\"uc\",\"channel_id\":\"g1\",\"channel_type\":2,\"unread\":3}");
	expect_conv("uc", "", "g1", 2, 1, 5, 4, 1);
	post_ok("/conversations/clearUnread", "{\"uid\":\"uc\",\"channel_id\":\"g1\",\"channel_type\":2,\"message_seq\":0}");
	expect_conv("uc", "", "g1", 2, 0, 5, 5, 1);
	/* Incremental (version > 0 or only_unread): nothing after the read position. */
	expect_none("uc", ",\"version\":1");
	expect_none("uc", ",\"only_unread\":1");
	expect_conv("ub", ",\"only_unread\":1", "g1", 2, 1, 5, 4, 1);
	/* msg_count 0: nothing at all (the reference's quirk, kept). */
	l = sync_conv("ub", 0, "");
	ck_assert_uint_eq(json_array_size(l), 0);
	json_decref(l);
	snprintf(want, sizeof want, "[{\"channel_id\":\"g1\",\"channel_type\":2}]");
	wkt_expect(&tree, "POST", "/conversation/channels", "{\"uid\":\"ub\"}", 200, want);
}
END_TEST

START_TEST(test_conv_person_delete_revive)
{
	char fake[64], want[128];
	json_t *l, *r;

	send_text("pa", "pb", 1, "hello");
	/* The first message makes both rows (handed over to the mailboxes). */
	wait_convs("pb", 1);
	wait_convs("pa", 1);
	expect_conv("pb", "", "pa", 1, 1, 1, 0, 1);
	expect_conv("pa", "", "pb", 1, 0, 1, 1, 1);
	wk_channelid_person("pa", 2, "pb", 2, fake, sizeof fake);
	snprintf(want, sizeof want, "[{\"channel_id\":\"%s\",\"channel_type\":1}]", fake);
	wkt_expect(&tree, "POST", "/conversation/channels", "{\"uid\":\"pb\"}", 200, want);
	send_text("pa", "pb", 1, "two");
	expect_conv("pb", "", "pa", 1, 2, 2, 0, 1);
	/* Deleted: gone from the sync until something newer arrives ... */
	post_ok("/conversations/delete", "{\"uid\":\"pb\",\"channel_id\":\"pa\",\"channel_type\":1}");
	expect_none("pb", "");
	expect_conv("pa", "", "pb", 1, 0, 2, 2, 1);
	/* ... and then back with only the new message, one unread. */
	send_text("pa", "pb", 1, "three");
	l = sync_conv("pb", 10, "");
	ck_assert_uint_eq(json_array_size(l), 1);
	r = json_object_get(json_array_get(l, 0), "recents");
	ck_assert_uint_eq(json_array_size(r), 1);
	ck_assert_int_eq(num(json_array_get(r, 0), "message_seq"), 3);
	ck_assert_int_eq(num(json_array_get(l, 0), "unread"), 1);
	json_decref(l);
	/* Deleting a conversation that has no row is still OK. */
	post_ok("/conversations/delete", "{\"uid\":\"nobody\",\"channel_id\":\"pa\",\"channel_type\":1}");
	/* A system message does not make a conversation with the system. */
	send_text("", "pc", 1, "from the system");
	expect_none("pc", "");
}
END_TEST

START_TEST(test_conv_membership_and_options)
{
	json_t *l;
	char body[512];

	post_ok("/channel", "{\"channel_id\":\"g2\",\"channel_type\":2,\"subscribers\":[\"oa\",\"ob\"]}");
	send_text("oa", "g2", 2, "x1");
	send_text("oa", "g2", 2, "x2");
	/* A member added later reads from the channel's last seq then. */
	post_ok("/channel/subscriber_add", "{\"channel_id\":\"g2\",\"channel_type\":2,\"subscribers\":[\"oc\"]}");
	expect_conv("oc", "", "g2", 2, 0, 2, 2, 1);
	expect_none("oc", ",\"version\":1");
	send_text("oa", "g2", 2, "x3");
	expect_conv("oc", ",\"version\":1", "g2", 2, 1, 3, 2, 1);
	/* Removed or blacklisted: no conversation; taken off the blacklist: back. */
	post_ok("/channel/subscriber_remove", "{\"channel_id\":\"g2\",\"channel_type\":2,\"subscribers\":[\"oc\"]}");
	expect_none("oc", "");
	post_ok("/channel/blacklist_add", "{\"channel_id\":\"g2\",\"channel_type\":2,\"uids\":[\"ob\"]}");
	expect_none("ob", "");
	post_ok("/channel/blacklist_remove", "{\"channel_id\":\"g2\",\"channel_type\":2,\"uids\":[\"ob\"]}");
	expect_conv("ob", "", "g2", 2, 0, 3, 3, 1);
	/* Three groups for od; last_msg_seqs, exclude_channel_types, paging. */
	post_ok("/channel", "{\"channel_id\":\"g3\",\"channel_type\":2,\"subscribers\":[\"od\"]}");
	post_ok("/channel", "{\"channel_id\":\"g4\",\"channel_type\":5,\"subscribers\":[\"od\"]}");
	post_ok("/channel/subscriber_add", "{\"channel_id\":\"g2\",\"channel_type\":2,\"subscribers\":[\"od\"]}");
	send_text("oa", "g2", 2, "x4");
	send_text("oa", "g3", 2, "y1");
	send_text("oa", "g3", 2, "y2");
	send_text("oa", "g4", 5, "z1");
	l = sync_conv("od", 1, "");
	ck_assert_uint_eq(json_array_size(l), 3);
	json_decref(l);
	/* The client has g3 up to 2 and g2 up to 3: only g2 (4) and g4 are new. */
	l = sync_conv("od", 1, ",\"last_msg_seqs\":\"g3:2:2|g2:2:3|bad|x:y:z\"");
	ck_assert_uint_eq(json_array_size(l), 2);
	ck_assert_ptr_nonnull(find(l, "g2", 2));
	ck_assert_ptr_nonnull(find(l, "g4", 5));
	json_decref(l);
	l = sync_conv("od", 1, ",\"exclude_channel_types\":[5]");
	ck_assert_uint_eq(json_array_size(l), 2);
	ck_assert_ptr_null(find(l, "g4", 5));
	json_decref(l);
	/* Excluded types still come when the client names them. */
	l = sync_conv("od", 1, ",\"exclude_channel_types\":[5],\"last_msg_seqs\":\"g4:5:0\"");
	ck_assert_ptr_nonnull(find(l, "g4", 5));
	json_decref(l);
	l = sync_conv("od", 1, ",\"page\":1,\"page_size\":2");
	ck_assert_uint_eq(json_array_size(l), 2);
	json_decref(l);
	l = sync_conv("od", 1, ",\"page\":2,\"page_size\":2");
	ck_assert_uint_eq(json_array_size(l), 1);
	json_decref(l);
	l = sync_conv("od", 1, ",\"page\":3,\"page_size\":2");
	ck_assert_uint_eq(json_array_size(l), 0);
	json_decref(l);
	/* syncByChannels: every channel asked, with or without messages. */
	snprintf(body, sizeof body, "{\"uid\":\"od\",\"channels\":[{\"channel_id\":\"g3\","
	    "\"channel_type\":2},{\"channel_id\":\"empty\",\"channel_type\":2}],\"msg_count\":5}");
	l = wkt_call(&tree, "POST", "/conversation/syncByChannels", body, 200);
	ck_assert_uint_eq(json_array_size(l), 2);
	ck_assert_uint_eq(json_array_size(json_object_get(json_array_get(l, 0), "recents")), 2);
	ck_assert_int_eq(num(json_array_get(l, 0), "unread"), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(l, 1), "channel_id")), "empty");
	ck_assert_int_eq(num(json_array_get(l, 1), "last_msg_seq"), 0);
	json_decref(l);
	/* Bad bodies. */
	wkt_expect_400(&tree, "POST", "/conversation/sync", "{\"msg_count\":1}", "uid不能为空！");
	wkt_expect_400(&tree, "POST", "/conversation/sync", "{\"uid\":\"od\",\"msg_count\":\"1\"}",
	    "json: cannot unmarshal string into Go struct field syncUserConversationReq.msg_count of type int64");
	wkt_expect_400(&tree, "POST", "/conversations/setUnread", "{\"uid\":\"od\",\"channel_id\":\"g2\"}",
	    "channel_type不能为0！");
	wkt_expect_400(&tree, "POST", "/conversations/delete", "{\"uid\":\"\",\"channel_id\":\"g2\",\"channel_type\":2}",
	    "uid不能为空！");
	wkt_expect_400(&tree, "POST", "/conversation/channels", "[1]",
	    "json: cannot unmarshal array into Go value of type api.conversationChannelReq");
}
END_TEST

/* Members taken off all at once (a reset, remove_all) keep no view of the
 * group; a live channel has no conversations; a customer-service channel's
 * first message makes rows for its visitor and its agents. */
START_TEST(test_conv_former_members_live_service)
{
	post_ok("/channel", "{\"channel_id\":\"g5\",\"channel_type\":2,\"subscribers\":[\"fa\",\"fb\",\"fc\"]}");
	send_text("fa", "g5", 2, "before");
	expect_conv("fb", "", "g5", 2, 1, 1, 0, 1);
	post_ok("/channel/subscriber_add", "{\"channel_id\":\"g5\",\"channel_type\":2,\"reset\":1,"
	    "\"subscribers\":[\"fa\"]}");
	send_text("fa", "g5", 2, "after the reset");
	expect_none("fb", "");
	expect_none("fc", "");
	expect_conv("fa", "", "g5", 2, 0, 2, 2, 1);
	post_ok("/channel/subscriber_remove_all", "{\"channel_id\":\"g5\",\"channel_type\":2}");
	send_text("", "g5", 2, "after remove_all");
	expect_none("fa", "");
	/* Back in: only what comes after. */
	post_ok("/channel/subscriber_add", "{\"channel_id\":\"g5\",\"channel_type\":2,\"subscribers\":[\"fb\"]}");
	expect_conv("fb", "", "g5", 2, 0, 3, 3, 1);

	post_ok("/channel", "{\"channel_id\":\"live1\",\"channel_type\":9,\"subscribers\":[\"la\"]}");
	send_text("", "live1", 9, "on air");
	expect_none("la", "");

	post_ok("/channel/subscriber_add", "{\"channel_id\":\"vz|desk\",\"channel_type\":3,"
	    "\"subscribers\":[\"cs1\"]}");
	send_text("vz", "vz|desk", 3, "help");
	wait_convs("vz", 1);
	expect_conv("vz", "", "vz|desk", 3, 0, 1, 1, 1);
	expect_conv("cs1", "", "vz|desk", 3, 1, 1, 0, 1);
}
END_TEST

/* Database writes of the whole tree for one message to `group`. */
static long long
writes_for_one_message(const char *group)
{
	long long before = wkt_status_sum(tree.run, NULL, "db_writes"), after;

	ck_assert(before >= 0);
	send_text("w0", group, 2, "one");
	after = wkt_status_sum(tree.run, NULL, "db_writes");
	return after - before;
}

START_TEST(test_conv_write_cost_independent_of_group_size)
{
	size_t cap = 10000 * 12 + 256;
	char *body = malloc(cap);
	size_t n;
	long long small, large;
	json_t *l;

	post_ok("/channel", "{\"channel_id\":\"small\",\"channel_type\":2,\"subscribers\":[\"w0\",\"w1\"]}");
	n = (size_t)snprintf(body, cap, "{\"channel_id\":\"large\",\"channel_type\":2,\"subscribers\":[\"w0\"");
	for (int i = 1; i < 10000; i++)
		n += (size_t)snprintf(body + n, cap - n, ",\"w%d\"", i);
	snprintf(body + n, cap - n, "]}");
	post_ok("/channel", body);
	free(body);
	/* Warm both channels (first-message work is not per message). */
	send_text("w0", "small", 2, "warm");
	send_text("w0", "large", 2, "warm");
	small = writes_for_one_message("small");
	large = writes_for_one_message("large");
	ck_assert_msg(small > 0 && small == large, "writes: 2 members %lld, 10000 members %lld",
	    small, large);
	/* And the large group's members see it. */
	expect_conv("w9999", "", "large", 2, 2, 2, 0, 1);
	l = sync_conv("w1", 1, "");
	ck_assert_uint_eq(json_array_size(l), 2);
	json_decref(l);
}
END_TEST

static Suite *
conv_suite(void)
{
	Suite *s = suite_create("conv");
	TCase *tc = tcase_create("conv");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_conv_group_unread_arithmetic);
	tcase_add_test(tc, test_conv_person_delete_revive);
	tcase_add_test(tc, test_conv_membership_and_options);
	tcase_add_test(tc, test_conv_former_members_live_service);
	tcase_add_test(tc, test_conv_write_cost_independent_of_group_size);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return wkt_run_suite(conv_suite());
}
