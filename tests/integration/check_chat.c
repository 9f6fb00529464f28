/* check_chat.c - messages end to end over real sockets: group and person
 * chat with encryption (payloads byte for byte, msgKey verified), contiguous
 * seqs, the sender's other devices, every refusal reason from the situation
 * that produces it, de-duplication by client_msg_no, RECV retry until
 * RECVACK, and seqs that survive kill -9 of the channel shards. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "wk_shard.h"
#include "wkclient.h"
#include "wktest.h"

static struct wkt_tree tree;

static void
setup(void)
{
	wkt_tree_start(&tree, "tokenAuthOn: false\nmessageRetry:\n  interval: 400ms\n  scanInterval: 100ms\n  maxCount: 2\n");
}

static void
setup_whitelist(void)
{
	wkt_tree_start(&tree, "tokenAuthOn: false\nwhitelistOffOfPerson: false\n");
}

static void teardown(void) { wkt_tree_stop(&tree); }

static void
post(const char *path, const char *json)
{
	json_decref(wkt_call(&tree, "POST", path, json, 200));
}

static struct wkc *
login(const char *uid, const char *device, int ws, int version)
{
	struct wkc *c = ws ? wkc_connect_ws("127.0.0.1", tree.ws_port) :
	    wkc_connect_tcp("127.0.0.1", tree.tcp_port);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(wkc_handshake(c, uid, "", version, 1, device, NULL), 1);
	return c;
}

/* Send and wait for the SENDACK: its reason; *seq set. */
static int
send_wait(struct wkc *c, const char *to, int type, const char *text, const char *cmn,
    uint32_t cseq, uint32_t *seq, int64_t *id)
{
	struct wkproto_packet p;

	ck_assert_int_eq(wkc_send_msg(c, to, type, text, cmn, cseq, 0), 0);
	ck_assert_int_eq(wkc_expect(c, WKPROTO_SENDACK, &p, 5000), 0);
	ck_assert_uint_eq(p.sendack.client_seq, cseq);
	if (seq)
		*seq = p.sendack.message_seq;
	if (id)
		*id = p.sendack.message_id;
	return p.sendack.reason_code;
}

/* The next RECV: payload decrypted into text, which must verify. */
static struct wkproto_packet
recv_msg(struct wkc *c, char *text, size_t cap)
{
	struct wkproto_packet p;

	ck_assert_int_eq(wkc_expect(c, WKPROTO_RECV, &p, 5000), 0);
	ck_assert_msg(wkc_open_recv(c, &p.recv, text, cap) >= 0, "RECV msgKey or payload bad");
	return p;
}

START_TEST(test_chat_group_end_to_end)
{
	struct wkc *a = login("ga", "a1", 0, 5), *a2 = login("ga", "a2", 1, 2);
	struct wkc *b = login("gb", "b1", 1, 4);
	char text[4096], want[256];
	struct wkproto_packet p;
	uint32_t seq;

	post("/channel", "{\"channel_id\":\"g1\",\"channel_type\":2,\"subscribers\":[\"ga\",\"gb\",\"gc\"]}");
	for (uint32_t i = 1; i <= 20; i++) {
		snprintf(want, sizeof want, "{\"content\":\"hello %u 你好\",\"type\":1}", i);
		ck_assert_int_eq(send_wait(a, "g1", 2, want, "", i, &seq, NULL), 1);
		ck_assert_uint_eq(seq, i);                       /* contiguous from 1 */
		p = recv_msg(b, text, sizeof text);
		ck_assert_str_eq(text, want);                    /* byte for byte */
		ck_assert_uint_eq(p.recv.message_seq, i);
		ck_assert_int_eq(p.recv.from_uid.len, 2);
		ck_assert_mem_eq(p.recv.channel_id.p, "g1", 2);
		ck_assert(p.flags & WKPROTO_FLAG_REDDOT);
		ck_assert_int_eq(wkc_recvack(b, &p), 0);
		/* The sender's other device gets it too, red dot cleared. */
		p = recv_msg(a2, text, sizeof text);
		ck_assert_str_eq(text, want);
		ck_assert(!(p.flags & WKPROTO_FLAG_REDDOT));
		ck_assert_int_eq(wkc_recvack(a2, &p), 0);
	}
	/* The sending connection itself gets no RECV. */
	ck_assert_int_eq(wkc_expect(a, WKPROTO_RECV, &p, 600), -1);
	ck_assert_int_eq(b->ws_multi, 0);
	wkc_close(a);
	wkc_close(a2);
	wkc_close(b);
}
END_TEST

START_TEST(test_chat_person_channel_ids)
{
	struct wkc *a = login("pa", "a1", 0, 5), *a2 = login("pa", "a2", 0, 3);
	struct wkc *b = login("pb", "b1", 1, 2);
	char text[256];
	struct wkproto_packet p;
	uint32_t seq;

	ck_assert_int_eq(send_wait(a, "pb", 1, "{\"content\":\"hi\",\"type\":1}", "", 1, &seq, NULL), 1);
	ck_assert_uint_eq(seq, 1);
	p = recv_msg(b, text, sizeof text);
	ck_assert_int_eq(p.recv.channel_id.len, 2);
	ck_assert_mem_eq(p.recv.channel_id.p, "pa", 2);   /* the recipient sees the sender */
	p = recv_msg(a2, text, sizeof text);
	ck_assert_mem_eq(p.recv.channel_id.p, "pb", 2);   /* the sender's device sees the peer */
	/* The reply goes to the same stored channel: seq 2. */
	ck_assert_int_eq(send_wait(b, "pa", 1, "{\"content\":\"yo\",\"type\":1}", "", 1, &seq, NULL), 1);
	ck_assert_uint_eq(seq, 2);
	p = recv_msg(a, text, sizeof text);
	ck_assert_str_eq(text, "{\"content\":\"yo\",\"type\":1}");
	/* pb blacklists pa.  With two shards "pb@pa" lives on shard 0 and the
	 * lists of (pb, 1) on shard 1: the check is asked across shards; pb's
	 * replies check (pa, 1) on shard 0, locally.  pa is refused with 4. */
	post("/channel/blacklist_add", "{\"channel_id\":\"pb\",\"channel_type\":1,\"uids\":[\"pa\"]}");
	ck_assert_int_eq(send_wait(a, "pb", 1, "{}", "", 2, &seq, NULL), 4);
	ck_assert_int_eq(send_wait(b, "pa", 1, "{}", "", 2, &seq, NULL), 1);
	ck_assert_uint_eq(seq, 3);
	post("/channel/blacklist_remove", "{\"channel_id\":\"pb\",\"channel_type\":1,\"uids\":[\"pa\"]}");
	ck_assert_int_eq(send_wait(a, "pb", 1, "{}", "", 3, &seq, NULL), 1);
	ck_assert_uint_eq(seq, 4);
	wkc_close(a);
	wkc_close(a2);
	wkc_close(b);
}
END_TEST

/* Each refusal from the situation that produces it. */
START_TEST(test_chat_refusals)
{
	struct wkc *m = login("rm", "d", 0, 5), *x = login("rx", "d", 0, 5);
	uint32_t seq;
	int64_t id;

	post("/channel", "{\"channel_id\":\"g2\",\"channel_type\":2,\"subscribers\":[\"rm\"]}");
	ck_assert_int_eq(send_wait(m, "g2", 2, "{}", "", 1, &seq, NULL), 1);
	/* Not a member: 3. */
	ck_assert_int_eq(send_wait(x, "g2", 2, "{}", "", 1, &seq, &id), 3);
	ck_assert_uint_eq(seq, 0);
	ck_assert(id != 0);   /* an id even when refused, as the reference */
	/* Blacklisted: 4. */
	post("/channel/blacklist_add", "{\"channel_id\":\"g2\",\"channel_type\":2,\"uids\":[\"rm\"]}");
	ck_assert_int_eq(send_wait(m, "g2", 2, "{}", "", 2, NULL, NULL), 4);
	post("/channel/blacklist_remove", "{\"channel_id\":\"g2\",\"channel_type\":2,\"uids\":[\"rm\"]}");
	/* A whitelist without the sender: 13. */
	post("/channel/subscriber_add", "{\"channel_id\":\"g2\",\"channel_type\":2,\"subscribers\":[\"rx\"]}");
	post("/channel/whitelist_add", "{\"channel_id\":\"g2\",\"channel_type\":2,\"uids\":[\"rx\"]}");
	ck_assert_int_eq(send_wait(m, "g2", 2, "{}", "", 3, NULL, NULL), 13);
	ck_assert_int_eq(send_wait(x, "g2", 2, "{}", "", 2, &seq, NULL), 1);
	ck_assert_uint_eq(seq, 2);                         /* refusals took no seq */
	/* Banned channel: 19; group send_ban: 25; disbanded: 24. */
	post("/channel/info", "{\"channel_id\":\"g2\",\"channel_type\":2,\"ban\":1}");
	ck_assert_int_eq(send_wait(x, "g2", 2, "{}", "", 3, NULL, NULL), 19);
	post("/channel/info", "{\"channel_id\":\"g2\",\"channel_type\":2,\"send_ban\":1}");
	ck_assert_int_eq(send_wait(x, "g2", 2, "{}", "", 4, NULL, NULL), 25);
	post("/channel/delete", "{\"channel_id\":\"g2\",\"channel_type\":2}");
	ck_assert_int_eq(send_wait(x, "g2", 2, "{}", "", 5, NULL, NULL), 24);
	/* A user send-banned while connected: 25 at once. */
	post("/channel/info", "{\"channel_id\":\"rx\",\"channel_type\":1,\"send_ban\":1}");
	uint64_t end = wkt_now_ms() + 5000;
	int r;
	uint32_t cs = 6;
	while ((r = send_wait(x, "rm", 1, "{}", "", cs++, NULL, NULL)) != 25 && wkt_now_ms() < end)
		;
	ck_assert_int_eq(r, 25);
	/* A wrong msgKey: 9. */
	struct wkproto_packet p = { .type = WKPROTO_SEND, .flags = WKPROTO_FLAG_REDDOT };
	p.send.client_seq = 99;
	p.send.client_msg_no = wk_str_of("bad");
	p.send.channel_id = wk_str_of("rx");
	p.send.channel_type = 1;
	p.send.msg_key = wk_str_of("00000000000000000000000000000000");
	p.send.payload = (struct wk_bytes){ (const uint8_t *)"AAAAAAAAAAAAAAAAAAAAAA==", 24 };
	ck_assert_int_eq(wkc_send(m, &p), 0);
	ck_assert_int_eq(wkc_expect(m, WKPROTO_SENDACK, &p, 5000), 0);
	ck_assert_int_eq(p.sendack.reason_code, 9);
	wkc_close(m);
	wkc_close(x);
}
END_TEST

/* System accounts skip the sender checks and anyone may write to them,
 * whatever their blacklist says; removing one ends that. */
START_TEST(test_chat_system_accounts)
{
	struct wkc *bot = login("bot", "d", 0, 5), *u = login("su", "d", 1, 5);
	uint32_t seq;

	post("/channel", "{\"channel_id\":\"g5\",\"channel_type\":2,\"subscribers\":[\"su\"]}");
	ck_assert_int_eq(send_wait(bot, "g5", 2, "{}", "", 1, NULL, NULL), 3);
	post("/channel/blacklist_add", "{\"channel_id\":\"bot\",\"channel_type\":1,\"uids\":[\"su\"]}");
	ck_assert_int_eq(send_wait(u, "bot", 1, "{}", "", 1, NULL, NULL), 4);
	post("/user/systemuids_add", "{\"uids\":[\"bot\"]}");
	ck_assert_int_eq(send_wait(bot, "g5", 2, "{}", "", 2, &seq, NULL), 1);   /* not a member */
	ck_assert_uint_eq(seq, 1);
	ck_assert_int_eq(send_wait(u, "bot", 1, "{}", "", 2, NULL, NULL), 1);    /* blacklisted */
	post("/user/systemuids_remove", "{\"uids\":[\"bot\"]}");
	ck_assert_int_eq(send_wait(bot, "g5", 2, "{}", "", 3, NULL, NULL), 3);
	wkc_close(bot);
	wkc_close(u);
}
END_TEST

/* A repeated client_msg_no is stored once; a RECV not acknowledged comes
 * again, with the same id, until RECVACK. */
START_TEST(test_chat_dedup_and_retry)
{
	struct wkc *a = login("da", "d", 0, 5), *b = login("db", "d", 1, 5);
	struct wkproto_packet p;
	char text[256];
	uint32_t s1, s2;
	int64_t i1, i2;

	ck_assert_int_eq(send_wait(a, "db", 1, "{\"n\":1}", "same-no", 1, &s1, &i1), 1);
	ck_assert_int_eq(send_wait(a, "db", 1, "{\"n\":1}", "same-no", 2, &s2, &i2), 1);
	ck_assert_uint_eq(s1, s2);
	ck_assert(i1 == i2);
	p = recv_msg(b, text, sizeof text);
	int64_t first = p.recv.message_id;
	ck_assert(first == i1);
	/* No ack: the same RECV again (interval 400ms), then ack stops it. */
	p = recv_msg(b, text, sizeof text);
	ck_assert(p.recv.message_id == first);
	ck_assert_str_eq(text, "{\"n\":1}");
	ck_assert_int_eq(wkc_recvack(b, &p), 0);
	ck_assert_int_eq(wkc_expect(b, WKPROTO_RECV, &p, 1200), -1);
	ck_assert_int_eq(send_wait(a, "db", 1, "{\"n\":2}", "other-no", 3, &s2, NULL), 1);
	ck_assert_uint_eq(s2, s1 + 1);
	wkc_close(a);
	wkc_close(b);
}
END_TEST

/* The retry list keeps its order and its tail through acks in any
 * position: the tail acked, then a new RECV appended, then the head
 * acked; only the two unacked come again, oldest first. */
START_TEST(test_chat_retry_any_order)
{
	struct wkc *a = login("ra", "d", 0, 5), *b = login("rb", "d", 1, 5);
	struct wkproto_packet p[4], q;
	char text[256], body[32], no[16];

	for (int i = 0; i < 3; i++) {
		snprintf(body, sizeof body, "{\"n\":%d}", i);
		snprintf(no, sizeof no, "ro-%d", i);
		ck_assert_int_eq(send_wait(a, "rb", 1, body, no, (uint32_t)i + 1, NULL, NULL), 1);
		p[i] = recv_msg(b, text, sizeof text);
		ck_assert_str_eq(text, body);
	}
	ck_assert_int_eq(wkc_recvack(b, &p[2]), 0);     /* the tail */
	ck_assert_int_eq(send_wait(a, "rb", 1, "{\"n\":3}", "ro-3", 4, NULL, NULL), 1);
	p[3] = recv_msg(b, text, sizeof text);
	ck_assert_str_eq(text, "{\"n\":3}");
	ck_assert_int_eq(wkc_recvack(b, &p[0]), 0);     /* the head */
	q = recv_msg(b, text, sizeof text);
	ck_assert(q.recv.message_id == p[1].recv.message_id);
	ck_assert_int_eq(wkc_recvack(b, &q), 0);
	q = recv_msg(b, text, sizeof text);
	ck_assert(q.recv.message_id == p[3].recv.message_id);
	ck_assert_int_eq(wkc_recvack(b, &q), 0);
	ck_assert_int_eq(wkc_expect(b, WKPROTO_RECV, &q, 1200), -1);
	wkc_close(a);
	wkc_close(b);
}
END_TEST

/* Acknowledged messages survive kill -9 of the channel shards: the seq
 * goes on from where it was, no gap, nothing twice. */
START_TEST(test_chat_seq_survives_channel_kill9)
{
	struct wkc *a = login("ka", "d", 0, 5);
	uint32_t seq = 0;

	for (uint32_t i = 1; i <= 10; i++) {
		ck_assert_int_eq(send_wait(a, "kb", 1, "{}", "", i, &seq, NULL), 1);
		ck_assert_uint_eq(seq, i);
	}
	for (int s = 0; s < 2; s++)
		kill(wkt_tree_pid(&tree, "channel", s), SIGKILL);
	ck_assert_int_eq(wkt_wait_ready(tree.run, WKT_NPROCS, 15000), 0);
	/* Until the shard is back a send may be refused; never acknowledged wrongly. */
	uint32_t cs = 11;
	int r;
	uint64_t end = wkt_now_ms() + 10000;
	while ((r = send_wait(a, "kb", 1, "{}", "", cs++, &seq, NULL)) != 1 && wkt_now_ms() < end)
		ck_assert_int_eq(r, 15);
	ck_assert_int_eq(r, 1);
	ck_assert_uint_eq(seq, 11);
	wkc_close(a);
}
END_TEST

/* A client that keeps sending while the channel's shard is killed: every
 * SENDACK with reason 1 names a message that is stored under that seq; the
 * stored seqs have no gap and no client_msg_no twice.  (Sends caught inside
 * the dead shard get no SENDACK: a client re-sends those, and dedup keeps
 * them single.) */
START_TEST(test_chat_sending_through_channel_kill9)
{
	enum { N = 400 };
	struct wkc *a = login("ta", "d", 0, 5);
	static struct { int acked; uint32_t seq; int64_t id; } ack[N + 1];
	struct wkproto_packet p;
	char cmn[32], text[64], url[256], body[256], *resp;
	int sent = 0, got = 0, killed = 0, ok = 0;

	post("/channel", "{\"channel_id\":\"g3\",\"channel_type\":2,\"subscribers\":[\"ta\"]}");
	uint64_t end = wkt_now_ms() + 60000;
	while ((sent < N || got < sent) && wkt_now_ms() < end) {
		for (int burst = 0; burst < 10 && sent < N; burst++) {
			sent++;
			snprintf(cmn, sizeof cmn, "k-%d", sent);
			snprintf(text, sizeof text, "{\"n\":%d}", sent);
			ck_assert_int_eq(wkc_send_msg(a, "g3", 2, text, cmn, (uint32_t)sent, 0), 0);
		}
		if (!killed && got >= 100) {
			for (int sh = 0; sh < 2; sh++)
				kill(wkt_tree_pid(&tree, "channel", sh), SIGKILL);
			killed = 1;
		}
		int rc = wkc_expect(a, WKPROTO_SENDACK, &p, sent < N ? 20 : 3000);
		if (rc == -1 && sent >= N)
			break;   /* quiet: the rest were lost with the shard */
		if (rc == 0 && p.sendack.client_seq >= 1 && p.sendack.client_seq <= N) {
			ck_assert_msg(!ack[p.sendack.client_seq].acked, "two SENDACKs for %u",
			    p.sendack.client_seq);
			ack[p.sendack.client_seq].acked = p.sendack.reason_code;
			ack[p.sendack.client_seq].seq = p.sendack.message_seq;
			ack[p.sendack.client_seq].id = p.sendack.message_id;
			got++;
		}
	}
	ck_assert(killed);
	ck_assert_int_eq(wkt_wait_ready(tree.run, WKT_NPROCS, 15000), 0);
	/* What is stored, oldest first. */
	snprintf(url, sizeof url, "%s/channel/messagesync", tree.http);
	snprintf(body, sizeof body, "{\"login_uid\":\"ta\",\"channel_id\":\"g3\",\"channel_type\":2,"
	    "\"start_message_seq\":1,\"end_message_seq\":0,\"limit\":10000,\"pull_mode\":1}");
	ck_assert_int_eq(wkt_http("POST", url, body, &resp, NULL), 200);
	json_t *j = json_loads(resp, 0, NULL), *msgs = json_object_get(j, "messages"), *m;
	size_t i;
	static char seen[N + 1];
	ck_assert_msg(json_is_array(msgs), "%s", resp);
	json_array_foreach(msgs, i, m) {
		uint32_t seq = (uint32_t)json_integer_value(json_object_get(m, "message_seq"));
		const char *no = json_string_value(json_object_get(m, "client_msg_no"));
		int n = no ? atoi(no + 2) : 0;
		ck_assert_uint_eq(seq, i + 1);                       /* no gap */
		ck_assert_msg(n >= 1 && n <= N && !seen[n], "client_msg_no %s twice", no);
		seen[n] = 1;
		if (ack[n].acked == 1) {
			ck_assert_uint_eq(ack[n].seq, seq);              /* acked = stored there */
			ck_assert(json_integer_value(json_object_get(m, "message_id")) == ack[n].id);
		}
	}
	for (int n = 1; n <= N; n++) {
		if (ack[n].acked == 1) {
			ck_assert_msg(seen[n], "message %d acknowledged but not stored", n);
			ok++;
		} else if (ack[n].acked)
			ck_assert_int_eq(ack[n].acked, 15);              /* refused, never "stored" */
	}
	ck_assert_int_ge(ok, 100);
	json_decref(j);
	free(resp);
	wkc_close(a);
}
END_TEST

/* A group channel on channel shard `shard` (of 2): its id into id. */
static void
channel_on_shard(int shard, const char *prefix, char *id, size_t cap)
{
	for (int i = 0;; i++) {
		int n = snprintf(id, cap, "%s%d", prefix, i);
		if (wk_shard_channel(id, (size_t)n, 2) == shard)
			return;
	}
}

/* No head-of-line blocking between shards: with one channel shard frozen
 * (SIGSTOP) and SENDs to it queued behind the broker, SENDs to a channel of
 * the other shard, from the same connection and from another, still get
 * their SENDACK and their RECV, within a bounded wait.  Once the shard
 * thaws, the queued SENDs are acknowledged and delivered too. */
START_TEST(test_chat_frozen_shard_no_hol)
{
	enum { NFROZEN = 50, NLIVE = 40, WAIT_MS = 5000 };
	struct wkc *s1 = login("hs1", "d", 0, 5), *s2 = login("hs2", "d", 1, 5);
	struct wkc *r = login("hr", "d", 0, 5);
	char live[32], frozen[32], body[256], text[64];
	int acks = 0, recvs = 0, refused = 0, frozen_acks = 0, stray = 0, pid;
	static char got[NLIVE + 1];
	struct wkproto_packet p;
	uint64_t t0, end, took;

	channel_on_shard(0, "hl", live, sizeof live);
	channel_on_shard(1, "hf", frozen, sizeof frozen);
	for (int k = 0; k < 2; k++) {
		snprintf(body, sizeof body, "{\"channel_id\":\"%s\",\"channel_type\":2,"
		    "\"subscribers\":[\"hs1\",\"hs2\",\"hr\"]}", k ? frozen : live);
		post("/channel", body);
	}
	/* Both channels work before the freeze. */
	ck_assert_int_eq(send_wait(s1, frozen, 2, "{}", "", 1, NULL, NULL), 1);
	ck_assert_int_eq(send_wait(s1, live, 2, "{}", "", 2, NULL, NULL), 1);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(wkc_expect(r, WKPROTO_RECV, &p, WAIT_MS), 0);
		ck_assert_int_eq(wkc_recvack(r, &p), 0);
	}

	pid = wkt_tree_pid(&tree, "channel", 1);
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(kill(pid, SIGSTOP), 0);
	/* Nothing below asserts until SIGCONT: a failing test must not leave
	 * the shard stopped for the teardown. */
	for (int i = 0; i < NFROZEN; i++)
		wkc_send_msg(s1, frozen, 2, "{\"f\":1}", "", (uint32_t)(100 + i), 0);
	t0 = wkt_now_ms();
	for (int i = 1; i <= NLIVE; i++) {
		snprintf(text, sizeof text, "{\"n\":%d}", i);
		wkc_send_msg(i % 2 ? s1 : s2, live, 2, text, "", (uint32_t)(1000 + i), 0);
	}
	end = t0 + WAIT_MS;
	while ((acks < NLIVE || recvs < NLIVE) && wkt_now_ms() < end) {
		for (int k = 0; k < 2; k++) {
			struct wkc *s = k ? s2 : s1;
			while (wkc_expect(s, WKPROTO_SENDACK, &p, 1) == 0) {
				if (p.sendack.client_seq > 1000) {
					acks++;
					refused += p.sendack.reason_code != 1;
				} else
					frozen_acks++;
			}
		}
		while (wkc_expect(r, WKPROTO_RECV, &p, 10) == 0) {
			char plain[64];
			int n = -1;
			if (wkc_open_recv(r, &p.recv, plain, sizeof plain) >= 0 &&
			    p.recv.channel_id.len == strlen(live) &&
			    memcmp(p.recv.channel_id.p, live, strlen(live)) == 0 &&
			    sscanf(plain, "{\"n\":%d}", &n) == 1 && n >= 1 && n <= NLIVE) {
				recvs += !got[n];
				got[n] = 1;
			} else
				stray++;
			wkc_recvack(r, &p);
		}
	}
	took = wkt_now_ms() - t0;
	kill(pid, SIGCONT);
	fprintf(stderr, "frozen channel/1: %d of %d live SENDACKs, %d of %d RECVs in %llu ms\n",
	    acks, NLIVE, recvs, NLIVE, (unsigned long long)took);
	ck_assert_int_eq(acks, NLIVE);
	ck_assert_int_eq(refused, 0);
	ck_assert_int_eq(recvs, NLIVE);
	ck_assert_int_eq(frozen_acks, 0);            /* the frozen shard really was */
	ck_assert_int_eq(stray, 0);
	/* Thawed: the queued SENDs are stored and acknowledged. */
	end = wkt_now_ms() + 10000;
	while (frozen_acks < NFROZEN && wkt_now_ms() < end)
		if (wkc_expect(s1, WKPROTO_SENDACK, &p, 500) == 0) {
			ck_assert_int_eq(p.sendack.reason_code, 1);
			frozen_acks++;
		}
	ck_assert_int_eq(frozen_acks, NFROZEN);
	wkc_close(s1);
	wkc_close(s2);
	wkc_close(r);
}
END_TEST

/* from sends text to (id, type); `to` receives it, shown as channel `seen`. */
static void
relay(struct wkc *from, struct wkc *to, const char *id, int type, const char *text,
    uint32_t cseq, const char *seen)
{
	char got[256];
	struct wkproto_packet p;

	ck_assert_int_eq(send_wait(from, id, type, text, "", cseq, NULL, NULL), 1);
	p = recv_msg(to, got, sizeof got);
	ck_assert_str_eq(got, text);
	ck_assert_uint_eq(p.recv.channel_id.len, strlen(seen));
	ck_assert_mem_eq(p.recv.channel_id.p, seen, strlen(seen));
	ck_assert_int_eq(wkc_recvack(to, &p), 0);
}

/* semantics.md §6, §8.2: a customer-service channel "visitor|..." reaches
 * its visitor and its agents (members) and anyone may send there; a
 * visitors channel reaches the visitor it is named after, who may always
 * send, and its members; an agent channel "a@b" reaches and admits its two
 * parties only. */
START_TEST(test_chat_service_channel_types)
{
	struct wkc *v = login("vis1", "d", 0, 5), *ag = login("agent1", "d", 1, 5);
	struct wkc *x = login("stranger", "d", 0, 5);
	struct wkproto_packet p;
	long long seq;
	char text[64];

	post("/channel/subscriber_add", "{\"channel_id\":\"vis1|shop\",\"channel_type\":3,"
	    "\"subscribers\":[\"agent1\"]}");
	relay(v, ag, "vis1|shop", 3, "{\"q\":1}", 1, "vis1|shop");
	relay(ag, v, "vis1|shop", 3, "{\"a\":1}", 1, "vis1|shop");
	/* Public for sending: a stranger's message reaches both. */
	relay(x, v, "vis1|shop", 3, "{\"s\":1}", 1, "vis1|shop");
	ck_assert_int_eq(wkc_expect(ag, WKPROTO_RECV, &p, 5000), 0);

	/* Visitors channel: the visitor sends without being a member. */
	post("/channel/subscriber_add", "{\"channel_id\":\"vis1\",\"channel_type\":10,"
	    "\"subscribers\":[\"agent1\"]}");
	relay(v, ag, "vis1", 10, "{\"v\":1}", 2, "vis1");
	relay(ag, v, "vis1", 10, "{\"v\":2}", 2, "vis1");
	ck_assert_int_eq(send_wait(x, "vis1", 10, "{}", "", 2, NULL, NULL), 3);

	/* Agent channel: a SEND to the agent is stored under "sender@agent" and
	 * reaches the two parties, nobody else, each seeing the other as the
	 * channel; the id is the client's to make, never an "a@b" of its
	 * choosing. */
	relay(v, ag, "agent1", 11, "{\"g\":1}", 3, "vis1");
	ck_assert_int_eq(send_wait(x, "vis1@agent1", 11, "{}", "", 3, NULL, NULL), 16);
	ck_assert_int_eq(wkc_expect(v, WKPROTO_RECV, &p, 300), -1);
	ck_assert_int_eq(wkc_expect(x, WKPROTO_RECV, &p, 300), -1);
	/* Over HTTP the same: from_uid and the agent make "vis1@agent1". */
	seq = wkt_send_text(&tree, "vis1", "agent1", 11, "by-http", NULL, NULL, NULL);
	ck_assert_int_eq(seq, 2);
	/* (Earlier copies not read above come first.) */
	do
		p = recv_msg(ag, text, sizeof text);
	while (strcmp(text, "by-http") != 0);
	ck_assert_uint_eq(p.recv.channel_id.len, 4);
	ck_assert_mem_eq(p.recv.channel_id.p, "vis1", 4);
	ck_assert_int_eq(p.recv.message_seq, 2);
	do
		p = recv_msg(v, text, sizeof text);
	while (strcmp(text, "by-http") != 0);
	ck_assert_uint_eq(p.recv.channel_id.len, 6);
	ck_assert_mem_eq(p.recv.channel_id.p, "agent1", 6);
	ck_assert_int_eq(wkc_expect(x, WKPROTO_RECV, &p, 300), -1);
	wkc_close(v);
	wkc_close(ag);
	wkc_close(x);
}
END_TEST

/* whitelistOffOfPerson: false: a person chat needs the sender on the
 * recipient's whitelist, asked across shards (pa -> pb) and locally
 * (pb -> pa), as the blacklist is. */
START_TEST(test_chat_person_whitelist_required)
{
	struct wkc *a = login("pa", "d", 0, 5), *b = login("pb", "d", 1, 5);

	ck_assert_int_eq(send_wait(a, "pb", 1, "{}", "", 1, NULL, NULL), 13);
	ck_assert_int_eq(send_wait(b, "pa", 1, "{}", "", 1, NULL, NULL), 13);
	post("/channel/whitelist_add", "{\"channel_id\":\"pb\",\"channel_type\":1,\"uids\":[\"pa\"]}");
	ck_assert_int_eq(send_wait(a, "pb", 1, "{}", "", 2, NULL, NULL), 1);
	ck_assert_int_eq(send_wait(b, "pa", 1, "{}", "", 2, NULL, NULL), 13);
	post("/channel/whitelist_add", "{\"channel_id\":\"pa\",\"channel_type\":1,\"uids\":[\"pb\"]}");
	ck_assert_int_eq(send_wait(b, "pa", 1, "{}", "", 3, NULL, NULL), 1);
	wkc_close(a);
	wkc_close(b);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("chat");
	TCase *tc = tcase_create("chat");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_chat_group_end_to_end);
	tcase_add_test(tc, test_chat_person_channel_ids);
	tcase_add_test(tc, test_chat_refusals);
	tcase_add_test(tc, test_chat_system_accounts);
	tcase_add_test(tc, test_chat_dedup_and_retry);
	tcase_add_test(tc, test_chat_retry_any_order);
	tcase_add_test(tc, test_chat_seq_survives_channel_kill9);
	tcase_add_test(tc, test_chat_sending_through_channel_kill9);
	tcase_add_test(tc, test_chat_frozen_shard_no_hol);
	tcase_add_test(tc, test_chat_service_channel_types);
	suite_add_tcase(s, tc);
	TCase *wl = tcase_create("whitelist");
	tcase_set_timeout(wl, 60);
	tcase_add_checked_fixture(wl, setup_whitelist, teardown);
	tcase_add_test(wl, test_chat_person_whitelist_required);
	suite_add_tcase(s, wl);
	return wkt_run_suite(s);
}
