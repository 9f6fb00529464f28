/* check_fanout.c - a message to a large group costs what its online
 * recipients cost (wk-channel(8): the member cache, the smaller side;
 * wk.yaml(5): msg.offline of a large group in batches), against the real
 * tree and a webhook receiver on loopback.  A group of 100,000 members
 * (made with /channel/subscriber_add in batches of 10,000), six of them and
 * one stranger online: a message reaches exactly the online members;
 * msg.offline, in several bodies, lists every offline member exactly once;
 * a removed member neither receives nor may send, an added one receives the
 * very next message; blacklist and send_ban hold; after kill -9 of the
 * channel shards (the cache rebuilt from disk) all of it still holds. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "wkclient.h"
#include "wkrx.h"
#include "wktest.h"

#define MEMBERS 100000
#define BATCH 10000
#define ONLINE 6                     /* m0 (the sender) .. m5 */

static struct wkt_tree tree;

/* msg.offline bodies as they came: message id, then its uids as member
 * numbers (a uid that is not "m<N>" is -1). */
static struct {
	pthread_mutex_t mu;
	struct body { int64_t id; int32_t *uids; size_t n; } *v;
	size_t n, cap;
} rx = { .mu = PTHREAD_MUTEX_INITIALIZER };

static unsigned
rx_record(void *arg, const char *method, const char *event, const char *ctype, const char *body,
    size_t len)
{
	json_t *j, *uids, *u;
	struct body b;
	size_t i;

	(void)arg, (void)method, (void)ctype;
	if (strcmp(event, "msg.offline") != 0 || (j = json_loadb(body, len, 0, NULL)) == NULL)
		return 200;
	b.id = json_integer_value(json_object_get(j, "message_id"));
	uids = json_object_get(j, "to_uids");
	b.n = json_array_size(uids);
	b.uids = malloc((b.n + 1) * sizeof *b.uids);
	json_array_foreach(uids, i, u) {
		const char *s = json_string_value(u);
		b.uids[i] = s && s[0] == 'm' ? atoi(s + 1) : -1;
	}
	json_decref(j);
	pthread_mutex_lock(&rx.mu);
	if (rx.n == rx.cap) {
		rx.cap = rx.cap ? rx.cap * 2 : 64;
		rx.v = realloc(rx.v, rx.cap * sizeof *rx.v);
	}
	rx.v[rx.n++] = b;
	pthread_mutex_unlock(&rx.mu);
	return 200;
}

static struct wkrx *srv;

static void
setup(void)
{
	char cfg[512];

	srv = wkrx_start(0, rx_record, NULL);
	ck_assert_ptr_nonnull(srv);
	snprintf(cfg, sizeof cfg, "tokenAuthOn: true\nwebhook:\n"
	    "  httpAddr: http://127.0.0.1:%d/wkhook\n  msgNotifyEventPushInterval: 50ms\n"
	    "  focusEvents: [msg.offline]\nchannel:\n  offlineBatch: 5000\n"
	    "  offlineLargeGroup: 1000\n", wkrx_port(srv));
	wkt_tree_start(&tree, cfg);
}

static void
teardown(void)
{
	wkt_tree_stop(&tree);
	wkrx_stop(&srv);
	for (size_t i = 0; i < rx.n; i++)
		free(rx.v[i].uids);
	free(rx.v);
}

static void
post(const char *path, const char *json)
{
	json_decref(wkt_call(&tree, "POST", path, json, 200));
}

static struct wkc *
login(const char *uid)
{
	struct wkc *c;

	/* A master device: only those count as online for msg.offline. */
	wkt_set_token(&tree, uid, "t", 1, 1);
	c = wkc_connect_tcp("127.0.0.1", tree.tcp_port);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(wkc_handshake(c, uid, "t", 5, 1, uid, NULL), 1);
	return c;
}

static uint32_t cseq;

/* Send text to the group: the SENDACK's reason; *id its message id. */
static int
send_wait(struct wkc *c, const char *text, int64_t *id)
{
	struct wkproto_packet p;

	ck_assert_int_eq(wkc_send_msg(c, "big", 2, text, "", ++cseq, 0), 0);
	ck_assert_int_eq(wkc_expect(c, WKPROTO_SENDACK, &p, 10000), 0);
	if (id)
		*id = p.sendack.message_id;
	return p.sendack.reason_code;
}

/* from sends text; each of `to` (NULL-terminated) gets it, none of `not`. */
static int64_t
deliver(struct wkc *from, const char *text, struct wkc **to, struct wkc **not)
{
	struct wkproto_packet p;
	char got[256];
	int64_t id;

	ck_assert_int_eq(send_wait(from, text, &id), 1);
	for (; *to; to++) {
		ck_assert_int_eq(wkc_expect(*to, WKPROTO_RECV, &p, 10000), 0);
		ck_assert_int_ge(wkc_open_recv(*to, &p.recv, got, sizeof got), 0);
		ck_assert_str_eq(got, text);
		ck_assert(p.recv.message_id == id);
		wkc_recvack(*to, &p);
	}
	for (; not && *not; not++)
		ck_assert_msg(wkc_expect(*not, WKPROTO_RECV, &p, 300) < 0, "a non-recipient got %s",
		    text);
	return id;
}

/* Wait until the msg.offline bodies of message id list `want` uids; then
 * every member but the online ones (online[k] set) is there exactly once. */
static void
check_offline(int64_t id, const unsigned char *online, long want)
{
	static unsigned char seen[MEMBERS];
	uint64_t end = wkt_now_ms() + 40000;
	long total = 0, bodies = 0;

	while (wkt_now_ms() < end) {
		total = bodies = 0;
		pthread_mutex_lock(&rx.mu);
		for (size_t i = 0; i < rx.n; i++)
			if (rx.v[i].id == id) {
				total += (long)rx.v[i].n;
				bodies++;
			}
		pthread_mutex_unlock(&rx.mu);
		if (total >= want)
			break;
		wkt_tick();
	}
	ck_assert_int_eq(total, want);
	ck_assert_int_ge(bodies, want / 5000);   /* at most channel.offlineBatch a body */
	memset(seen, 0, sizeof seen);
	pthread_mutex_lock(&rx.mu);
	for (size_t i = 0; i < rx.n; i++)
		for (size_t k = 0; rx.v[i].id == id && k < rx.v[i].n; k++) {
			int32_t u = rx.v[i].uids[k];
			ck_assert_msg(u >= 0 && u < MEMBERS, "msg.offline lists a non-member");
			ck_assert_msg(!online[u], "msg.offline lists m%d, online", u);
			ck_assert_msg(!seen[u], "msg.offline lists m%d twice", u);
			seen[u] = 1;
		}
	pthread_mutex_unlock(&rx.mu);
}

START_TEST(test_fanout_large_group)
{
	static char body[BATCH * 12 + 128];
	struct wkc *m[ONLINE], *x;
	unsigned char online[MEMBERS] = { 0 };
	char uid[16];
	uint64_t t0 = wkt_now_ms();

	post("/channel", "{\"channel_id\":\"big\",\"channel_type\":2}");
	for (int b = 0; b < MEMBERS / BATCH; b++) {
		size_t at = (size_t)snprintf(body, sizeof body,
		    "{\"channel_id\":\"big\",\"channel_type\":2,\"subscribers\":[");
		for (int i = b * BATCH; i < (b + 1) * BATCH; i++)
			at += (size_t)snprintf(body + at, sizeof body - at, "%s\"m%d\"",
			    i == b * BATCH ? "" : ",", i);
		snprintf(body + at, sizeof body - at, "]}");
		post("/channel/subscriber_add", body);
	}
	fprintf(stderr, "check_fanout: %d members added in %llu ms\n", MEMBERS,
	    (unsigned long long)(wkt_now_ms() - t0));
	for (int i = 0; i < ONLINE; i++) {
		snprintf(uid, sizeof uid, "m%d", i);
		m[i] = login(uid);
		online[i] = 1;
	}
	x = login("x1");

	/* Exactly the online members; the offline ones in msg.offline batches. */
	struct wkc *to1[] = { m[1], m[2], m[3], m[4], m[5], NULL }, *not1[] = { x, NULL };
	int64_t id1 = deliver(m[0], "hello 1", to1, not1);

	/* A removed member: not a recipient of the very next message, may not send. */
	post("/channel/subscriber_remove",
	    "{\"channel_id\":\"big\",\"channel_type\":2,\"subscribers\":[\"m5\"]}");
	struct wkc *to2[] = { m[1], m[2], m[3], m[4], NULL }, *not2[] = { m[5], x, NULL };
	deliver(m[0], "hello 2", to2, not2);
	ck_assert_int_eq(send_wait(m[5], "refused", NULL), 3);
	/* An added one: a recipient of the very next message. */
	post("/channel/subscriber_add",
	    "{\"channel_id\":\"big\",\"channel_type\":2,\"subscribers\":[\"x1\"]}");
	struct wkc *to3[] = { m[1], m[2], m[3], m[4], x, NULL }, *not3[] = { m[5], NULL };
	deliver(m[0], "hello 3", to3, not3);
	/* Blacklist, then off it again. */
	post("/channel/blacklist_add", "{\"channel_id\":\"big\",\"channel_type\":2,\"uids\":[\"m2\"]}");
	ck_assert_int_eq(send_wait(m[2], "refused", NULL), 4);
	post("/channel/blacklist_remove",
	    "{\"channel_id\":\"big\",\"channel_type\":2,\"uids\":[\"m2\"]}");
	struct wkc *to4[] = { m[0], m[1], m[3], m[4], x, NULL };
	deliver(m[2], "hello 4", to4, not3);
	/* send_ban, then lifted. */
	post("/channel/info", "{\"channel_id\":\"big\",\"channel_type\":2,\"send_ban\":1}");
	ck_assert_int_eq(send_wait(m[1], "refused", NULL), 25);
	post("/channel/info", "{\"channel_id\":\"big\",\"channel_type\":2,\"send_ban\":0}");

	/* The messages took the online side, the checks the cached sets. */
	ck_assert_int_ge(wkt_status_sum(tree.run, "channel", "fanout_online_side"), 4);
	ck_assert_int_ge(wkt_status_sum(tree.run, "channel", "member_cache"), MEMBERS - 1);

	/* kill -9 of the channel shards: the cache is rebuilt, nothing lost. */
	wkt_tree_kill9(&tree, "channel", 0);
	wkt_tree_kill9(&tree, "channel", 1);
	deliver(m[0], "hello 5", to3, not3);
	ck_assert_int_eq(send_wait(m[5], "refused", NULL), 3);

	/* msg.offline of the first message: everyone but the six online. */
	check_offline(id1, online, MEMBERS - ONLINE);
	for (int i = 0; i < ONLINE; i++)
		wkc_close(m[i]);
	wkc_close(x);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("fanout");
	TCase *tc = tcase_create("fanout");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_fanout_large_group);
	suite_add_tcase(s, tc);
	return wkt_run_suite(s);
}
