/* check_sdk_chat.c - end-to-end tests with the official WuKongIM JS SDK
 * (sdk_driver.c) against the real tree over WebSocket, messaging between
 * SDKs: person chat both ways, a group's messages in seq order, and a
 * refused send's reason code, as the SDK's message and status listeners
 * report them. */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <jansson.h>
#include "wktest.h"
#include "sdk_driver.h"

/* (4) Person chat both ways between two SDKs: the text (not ASCII) arrives
 * exactly, from the sender, in the channel the SDK shows as the peer; each
 * sender gets SENDACK reason 1 with the channel's next seq, and the
 * receiver's message has the acknowledged id and the sender's clientMsgNo. */
START_TEST(test_sdk_person_chat_both_ways)
{
	const char *hello = "hi bob 你好 ✓", *reply = "hi A — 再见 ✓ ok";

	sdk_set_token("A-uid", "tok-a", 1, 0);
	sdk_set_token("B-uid", "tok-b", 1, 0);
	struct sdk *a = sdk_start("A", "A-uid", "tok-a", 1, 500, NULL);
	struct sdk *b = sdk_start("B", "B-uid", "tok-b", 1, 500, NULL);
	sdk_expect_status(a, 1, 1, 1, 15000);
	sdk_expect_status(b, 1, 1, 1, 15000);

	const struct sdk_sent *s = sdk_send(a, "B-uid", 1, hello);
	const struct sdk_ack *k = sdk_ack(a, s, 10000);
	ck_assert_msg(k->reason == 1 && k->seq == 1, "A's SENDACK: reason %d seq %lld%s",
	    k->reason, k->seq, sdk_why(a));
	const struct sdk_msg *m = sdk_recv(b, 1, 10000);
	sdk_check_msg(b, m, "A-uid", "A-uid", 1, hello, 1);
	ck_assert_msg(strcmp(m->id, k->id) == 0 && strcmp(m->client_msg_no, s->client_msg_no) == 0,
	    "B's message id %s clientMsgNo %s, A's ack id %s clientMsgNo %s%s%s", m->id,
	    m->client_msg_no, k->id, s->client_msg_no, sdk_why(a), sdk_why(b));

	s = sdk_send(b, "A-uid", 1, reply);
	k = sdk_ack(b, s, 10000);
	ck_assert_msg(k->reason == 1 && k->seq == 2, "B's SENDACK: reason %d seq %lld%s",
	    k->reason, k->seq, sdk_why(b));
	m = sdk_recv(a, 1, 10000);
	sdk_check_msg(a, m, "B-uid", "B-uid", 1, reply, 2);
	ck_assert_msg(strcmp(m->id, k->id) == 0 && strcmp(m->client_msg_no, s->client_msg_no) == 0,
	    "A's message id %s, B's ack id %s%s%s", m->id, k->id, sdk_why(a), sdk_why(b));
	/* Each got exactly the one message, and one SENDACK for its one send. */
	ck_assert_msg(a->nrecv == 1 && b->nrecv == 1 && a->nacks == 1 && b->nacks == 1,
	    "messages A %d B %d, acks A %d B %d%s%s", a->nrecv, b->nrecv, a->nacks, b->nacks,
	    sdk_why(a), sdk_why(b));
	ck_assert_msg(a->rx_multi == 0 && b->rx_multi == 0, "coalesced packets%s%s", sdk_why(a), sdk_why(b));
	sdk_stop(a);
	sdk_stop(b);
}
END_TEST

/* (5) A group of three with one member offline: five messages sent back to
 * back by one SDK reach the other online SDK, all of them, in order, with
 * seqs 1..5; the sender's SENDACKs carry the same seqs, reason 1. */
START_TEST(test_sdk_group_messages_in_order)
{
	char text[32];
	const struct sdk_sent *s[5];

	sdk_set_token("g-a", "tok-ga", 1, 0);
	sdk_set_token("g-b", "tok-gb", 1, 0);
	sdk_post("/channel", "{\"channel_id\":\"g-sdk\",\"channel_type\":2,"
	    "\"subscribers\":[\"g-a\",\"g-b\",\"g-c\"]}");
	struct sdk *a = sdk_start("g-a", "g-a", "tok-ga", 1, 500, NULL);
	struct sdk *b = sdk_start("g-b", "g-b", "tok-gb", 1, 500, NULL);
	sdk_expect_status(a, 1, 1, 1, 15000);
	sdk_expect_status(b, 1, 1, 1, 15000);
	ck_assert_int_eq(sdk_online("g-c", -1), 0);

	for (int i = 0; i < 5; i++) {
		snprintf(text, sizeof text, "group msg %d ✓", i + 1);
		s[i] = sdk_send(a, "g-sdk", 2, text);
	}
	for (int i = 0; i < 5; i++) {
		const struct sdk_ack *k = sdk_ack(a, s[i], 10000);
		ck_assert_msg(k->reason == 1 && k->seq == i + 1, "SENDACK %d: reason %d seq %lld%s",
		    i + 1, k->reason, k->seq, sdk_why(a));
	}
	for (int i = 0; i < 5; i++) {
		snprintf(text, sizeof text, "group msg %d ✓", i + 1);
		const struct sdk_msg *m = sdk_recv(b, i + 1, 10000);
		sdk_check_msg(b, m, "g-a", "g-sdk", 2, text, i + 1);
		ck_assert_msg(strcmp(m->client_msg_no, s[i]->client_msg_no) == 0,
		    "message %d: clientMsgNo %s, sent %s%s", i + 1, m->client_msg_no,
		    s[i]->client_msg_no, sdk_why(b));
	}
	/* The sender's own device is not sent its messages back. */
	ck_assert_msg(a->nrecv == 0, "the sender received %d messages%s", a->nrecv, sdk_why(a));
	ck_assert_msg(b->nrecv == 5, "g-b received %d messages%s", b->nrecv, sdk_why(b));
	sdk_stop(a);
	sdk_stop(b);
}
END_TEST

/* (6) A send the server refuses: a non-member writes to the group and the
 * SDK's status listener reports reason 3 (no seq); the members see nothing
 * of it, and a member's next message is seq 2 after the member's first. */
START_TEST(test_sdk_refused_send_reason)
{
	sdk_set_token("r-m", "tok-m", 1, 0);
	sdk_set_token("r-x", "tok-x", 1, 0);
	sdk_post("/channel", "{\"channel_id\":\"g-sdk\",\"channel_type\":2,"
	    "\"subscribers\":[\"r-m\",\"r-o\"]}");
	struct sdk *m = sdk_start("r-m", "r-m", "tok-m", 1, 500, NULL);
	struct sdk *x = sdk_start("r-x", "r-x", "tok-x", 1, 500, NULL);
	sdk_expect_status(m, 1, 1, 1, 15000);
	sdk_expect_status(x, 1, 1, 1, 15000);

	const struct sdk_ack *k = sdk_ack(m, sdk_send(m, "g-sdk", 2, "member 1"), 10000);
	ck_assert_msg(k->reason == 1 && k->seq == 1, "member SENDACK: reason %d seq %lld%s",
	    k->reason, k->seq, sdk_why(m));
	k = sdk_ack(x, sdk_send(x, "g-sdk", 2, "intruder"), 10000);
	ck_assert_msg(k->reason == 3 && k->seq == 0, "non-member SENDACK: reason %d seq %lld%s",
	    k->reason, k->seq, sdk_why(x));
	k = sdk_ack(m, sdk_send(m, "g-sdk", 2, "member 2"), 10000);
	ck_assert_msg(k->reason == 1 && k->seq == 2, "member SENDACK after the refusal: reason %d "
	    "seq %lld%s", k->reason, k->seq, sdk_why(m));
	/* Still connected: a refusal is not a disconnect. */
	ck_assert_msg(x->nstatus == 1 && x->ws_close == 0 && x->disconnects == 0,
	    "the refused SDK was disconnected%s", sdk_why(x));
	ck_assert_msg(m->nrecv == 0 && x->nrecv == 0, "messages delivered: member %d, non-member %d%s%s",
	    m->nrecv, x->nrecv, sdk_why(m), sdk_why(x));
	sdk_stop(m);
	sdk_stop(x);
}
END_TEST

static void
add_tests(TCase *tc)
{
	tcase_add_test(tc, test_sdk_person_chat_both_ways);
	tcase_add_test(tc, test_sdk_group_messages_in_order);
	tcase_add_test(tc, test_sdk_refused_send_reason);
}

int
main(void)
{
	return sdk_main("sdk_chat", add_tests);
}
