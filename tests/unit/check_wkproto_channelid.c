/* check_wkproto_channelid.c - the person channel id of WKProto
 * (common/wk_channelid.c): the id of every pair in both orders, the peer
 * taken back out of an id, zlib's CRC-32, and ids that are not a pair's. */
#include <check.h>
#include <stddef.h>
#include <string.h>
#include "wktest.h"
#include "wk_channelid.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * Person channel ids.
 */
static const struct {
	const char *a, *b, *id;
} person_ids[] = {
	{ "u1", "u2", "u2@u1" },
	{ "u2", "u1", "u2@u1" },
	{ "alice", "bob", "bob@alice" },
	{ "bob", "alice", "bob@alice" },
	{ "user123", "user456", "user456@user123" },
	{ "user456", "user123", "user456@user123" },
	{ "u", "u", "u@u" },
};

START_TEST(test_wkproto_channelid_person)
{
	char out[64];
	const char *peer;
	size_t plen;
	const char *a = person_ids[_i].a, *b = person_ids[_i].b;
	const char *id = person_ids[_i].id;

	ck_assert_int_eq(wk_channelid_person(a, strlen(a), b, strlen(b), out,
	    sizeof out), (ssize_t)strlen(id));
	ck_assert_str_eq(out, id);
	ck_assert_int_eq(wk_channelid_person_peer(id, strlen(id), a, strlen(a),
	    &peer, &plen), 0);
	ck_assert(plen == strlen(b) && memcmp(peer, b, plen) == 0);
	ck_assert_int_eq(wk_channelid_person_peer(id, strlen(id), b, strlen(b),
	    &peer, &plen), 0);
	ck_assert(plen == strlen(a) && memcmp(peer, a, plen) == 0);
	/* Too small a buffer is refused. */
	ck_assert_int_eq(wk_channelid_person(a, strlen(a), b, strlen(b), out,
	    strlen(id)), -1);
}
END_TEST

START_TEST(test_wkproto_channelid_crc_and_bad_ids)
{
	const char *peer;
	size_t plen;

	/* zlib.crc32 values. */
	ck_assert_uint_eq(wk_crc32("", 0), 0);
	ck_assert_uint_eq(wk_crc32("alice", 5), 0x278ebc47);
	ck_assert_uint_eq(wk_crc32("bob", 3), 0xf5cbb140);
	ck_assert_uint_eq(wk_crc32("123456789", 9), 0xcbf43926);
	ck_assert_int_eq(wk_channelid_person_peer("a@b", 3, "c", 1, &peer,
	    &plen), -1);
	ck_assert_int_eq(wk_channelid_person_peer("a@b@c", 5, "a", 1, &peer,
	    &plen), -1);
	ck_assert_int_eq(wk_channelid_person_peer("ab", 2, "a", 1, &peer,
	    &plen), -1);
	ck_assert_int_eq(wk_channelid_person_peer("ab@", 3, "ab", 2, &peer,
	    &plen), 0);
	ck_assert_uint_eq(plen, 0);
}
END_TEST

static Suite *
wkproto_channelid_suite(void)
{
	Suite *s = suite_create("wkproto_channelid");
	TCase *tc;

	tc = tcase_create("channelid");
	tcase_add_loop_test(tc, test_wkproto_channelid_person, 0, NELEM(person_ids));
	tcase_add_test(tc, test_wkproto_channelid_crc_and_bad_ids);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return wkt_run_suite(wkproto_channelid_suite());
}
