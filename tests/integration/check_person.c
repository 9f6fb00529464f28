/* check_person.c - the person-chat permission check across channel shards
 * (channel_person.c, wk(7) "Who owns a person chat"): the shard that stores
 * the chat caches the recipient's blacklist/whitelist answers, and the
 * owner's CHANGED makes the very next message see a list change; the order
 * of a sender's pipelined messages survives the asks; kill -9 of either
 * shard leaves the lists honoured.  The tree has two channel shards; the
 * uids are picked so that the sender and the recipient are on different
 * shards and the chat is stored away from the recipient's lists. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <jansson.h>
#include "wk_channelid.h"
#include "wk_shard.h"
#include "wkclient.h"
#include "wktest.h"

static struct wkt_tree tree;
static char ua[32], ub[32];      /* sender, recipient */
static int owner, chat_shard;    /* shard of ub's lists, shard of the chat */

static int
shard_of(const char *id)
{
	return wk_shard_channel(id, strlen(id), 2);
}

/* ua, ub: shard(ua) != shard(ub), the chat "x@y" on ua's shard. */
static void
pick_uids(void)
{
	char chat[80];

	for (int i = 0; i < 1000; i++) {
		snprintf(ua, sizeof ua, "psa%d", i);
		snprintf(ub, sizeof ub, "psb%d", i);
		ck_assert_int_gt(wk_channelid_person(ua, strlen(ua), ub, strlen(ub), chat, sizeof chat), 0);
		if (shard_of(ua) != shard_of(ub) && shard_of(chat) != shard_of(ub)) {
			owner = shard_of(ub);
			chat_shard = shard_of(chat);
			return;
		}
	}
	ck_abort_msg("no uid pair on different shards");
}

static void
setup(void)
{
	wkt_tree_start(&tree, "tokenAuthOn: false\n");
	pick_uids();
}

static void
setup_whitelist(void)
{
	wkt_tree_start(&tree, "tokenAuthOn: false\nwhitelistOffOfPerson: false\n");
	pick_uids();
}

static void teardown(void) { wkt_tree_stop(&tree); }

static struct wkc *
login(const char *uid)
{
	struct wkc *c = wkc_connect_tcp("127.0.0.1", tree.tcp_port);

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(wkc_handshake(c, uid, "", 5, 1, "d", NULL), 1);
	return c;
}

/* Send and wait for the SENDACK: its reason. */
static int
send_wait(struct wkc *c, const char *to, uint32_t cseq)
{
	struct wkproto_packet p;

	ck_assert_int_eq(wkc_send_msg(c, to, 1, "{}", "", cseq, 0), 0);
	ck_assert_int_eq(wkc_expect(c, WKPROTO_SENDACK, &p, 5000), 0);
	ck_assert_uint_eq(p.sendack.client_seq, cseq);
	return p.sendack.reason_code;
}

/* POST /channel/<op> on the person channel (uid, 1) with one uid. */
static void
list_op(const char *op, const char *uid, const char *who)
{
	char path[64], body[160];

	snprintf(path, sizeof path, "/channel/%s", op);
	snprintf(body, sizeof body, "{\"channel_id\":\"%s\",\"channel_type\":1,\"uids\":[\"%s\"]}",
	    uid, who);
	wkt_post_ok(&tree, path, body);
}

static long long
hits(void)
{
	return wkt_status_sum(tree.run, "channel", "person_hits");
}

/* A blacklist entry refuses the very next message, its removal accepts
 * the very next one; between changes the answers come from the cache. */
START_TEST(test_person_blacklist_next_message)
{
	struct wkc *a = login(ua), *b = login(ub);
	uint32_t cs = 1;

	ck_assert_int_eq(send_wait(a, ub, cs++), 1);   /* asked: a miss */
	long long h = hits();
	ck_assert_int_eq(send_wait(a, ub, cs++), 1);
	ck_assert_int_eq(send_wait(a, ub, cs++), 1);
	ck_assert_int_ge(hits(), h + 2);               /* no round trip */
	for (int round = 0; round < 3; round++) {
		list_op("blacklist_add", ub, ua);
		ck_assert_int_eq(send_wait(a, ub, cs++), 4);
		ck_assert_int_eq(send_wait(a, ub, cs++), 4);
		ck_assert_int_eq(send_wait(b, ua, cs++), 1);   /* the other way is not b's list */
		list_op("blacklist_remove", ub, ua);
		ck_assert_int_eq(send_wait(a, ub, cs++), 1);
	}
	/* Setting the list (clear, then add) is a change too. */
	list_op("blacklist_add", ub, ua);
	ck_assert_int_eq(send_wait(a, ub, cs++), 4);
	list_op("blacklist_set", ub, "psnobody");
	ck_assert_int_eq(send_wait(a, ub, cs++), 1);
	list_op("blacklist_set", ub, ua);
	ck_assert_int_eq(send_wait(a, ub, cs++), 4);
	wkc_close(a);
	wkc_close(b);
}
END_TEST

/* Pipelined sends, the first of which must ask the owner: the SENDACKs
 * carry ascending seqs in the order sent (the later ones wait behind the
 * ask instead of being answered from a cache filled meanwhile). */
START_TEST(test_person_pipelined_order)
{
	struct wkc *a = login(ua), *c = login("psc");
	struct wkproto_packet p;
	uint32_t last = 0;

	/* Another sender fills the cache for ub while ua's ask is out. */
	ck_assert_int_eq(wkc_send_msg(c, ub, 1, "{}", "", 1, 0), 0);
	for (uint32_t i = 1; i <= 30; i++)
		ck_assert_int_eq(wkc_send_msg(a, ub, 1, "{}", "", i, 0), 0);
	for (uint32_t i = 1; i <= 30; i++) {
		ck_assert_int_eq(wkc_expect(a, WKPROTO_SENDACK, &p, 5000), 0);
		ck_assert_uint_eq(p.sendack.client_seq, i);
		ck_assert_int_eq(p.sendack.reason_code, 1);
		ck_assert_uint_gt(p.sendack.message_seq, last);
		last = p.sendack.message_seq;
	}
	ck_assert_int_eq(wkc_expect(c, WKPROTO_SENDACK, &p, 5000), 0);
	wkc_close(a);
	wkc_close(c);
}
END_TEST

/* Send until the tree answers something other than 15 (a shard that is
 * restarting); that reason. */
static int
send_settled(struct wkc *c, const char *to, uint32_t *cs)
{
	uint64_t end = wkt_now_ms() + 10000;
	int r;

	while ((r = send_wait(c, to, (*cs)++)) == 15 && wkt_now_ms() < end)
		;
	return r;
}

/* kill -9 of the shard that owns ub's lists, then of the shard that stores
 * the chat (and holds the cache): the blacklist is honoured throughout, and
 * a change made through the restarted owner reaches the cache. */
START_TEST(test_person_kill9_owner_and_chat_shard)
{
	struct wkc *a = login(ua);
	uint32_t cs = 1;

	list_op("blacklist_add", ub, ua);
	ck_assert_int_eq(send_wait(a, ub, cs++), 4);
	ck_assert_int_eq(send_wait(a, ub, cs++), 4);   /* from the cache */
	wkt_tree_kill9(&tree, "channel", owner);
	ck_assert_int_eq(send_settled(a, ub, &cs), 4);
	ck_assert_int_eq(wkt_wait_ready(tree.run, WKT_NPROCS, 15000), 0);
	ck_assert_int_eq(send_settled(a, ub, &cs), 4);
	list_op("blacklist_remove", ub, ua);
	ck_assert_int_eq(send_settled(a, ub, &cs), 1);
	list_op("blacklist_add", ub, ua);
	ck_assert_int_eq(send_settled(a, ub, &cs), 4);
	wkt_tree_kill9(&tree, "channel", chat_shard);
	ck_assert_int_eq(wkt_wait_ready(tree.run, WKT_NPROCS, 15000), 0);
	ck_assert_int_eq(send_settled(a, ub, &cs), 4);  /* an empty cache asks again */
	list_op("blacklist_remove", ub, ua);
	ck_assert_int_eq(send_settled(a, ub, &cs), 1);
	wkc_close(a);
}
END_TEST

/* whitelistOffOfPerson: false: the recipient's whitelist must hold the
 * sender; adding and removing take effect at the very next message. */
START_TEST(test_person_whitelist_next_message)
{
	struct wkc *a = login(ua);
	uint32_t cs = 1;

	ck_assert_int_eq(send_wait(a, ub, cs++), 13);
	ck_assert_int_eq(send_wait(a, ub, cs++), 13);
	for (int round = 0; round < 2; round++) {
		list_op("whitelist_add", ub, ua);
		ck_assert_int_eq(send_wait(a, ub, cs++), 1);
		ck_assert_int_eq(send_wait(a, ub, cs++), 1);
		list_op("whitelist_remove", ub, ua);
		ck_assert_int_eq(send_wait(a, ub, cs++), 13);
	}
	/* A blacklist entry wins over the whitelist. */
	list_op("whitelist_add", ub, ua);
	ck_assert_int_eq(send_wait(a, ub, cs++), 1);
	list_op("blacklist_add", ub, ua);
	ck_assert_int_eq(send_wait(a, ub, cs++), 4);
	wkc_close(a);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("person");
	TCase *tc = tcase_create("person");
	TCase *wl = tcase_create("whitelist");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_person_blacklist_next_message);
	tcase_add_test(tc, test_person_pipelined_order);
	tcase_add_test(tc, test_person_kill9_owner_and_chat_shard);
	suite_add_tcase(s, tc);
	tcase_set_timeout(wl, 60);
	tcase_add_checked_fixture(wl, setup_whitelist, teardown);
	tcase_add_test(wl, test_person_whitelist_next_message);
	suite_add_tcase(s, wl);
	return wkt_run_suite(s);
}
