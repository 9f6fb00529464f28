/* hookbench.c - the webhook benchmark's two halves (bench/README.md,
 * bench/hook.sh):
 *
 *   hookbench recv -p PORT -s STATS
 *     A webhook receiver on 127.0.0.1:PORT (wkrx.h): answers every
 *     POST 200, counts msg.notify items (MessageResp objects), msg.offline
 *     bodies and user.onlinestatus items (the first body of each kind
 *     parsed in full, the rest counted cheaply: it shares the machine with
 *     the tree), and rewrites STATS every 50 ms as one line
 *     "notify=N requests=R offline=O onlinestatus=U bytes=B bad=X first_ms=F
 *     last_ms=L" (CLOCK_MONOTONIC of the first and the last msg.notify item).
 *
 *   hookbench feed -r RUNDIR [-n EVENTS] [-b PER_BATCH] [-w WINDOW]
 *     Feeds wk-hook directly, as a producer would (HOOK_EVENT batches of
 *     msg.notify events: stored messages of 1,000 channels), keeping at most
 *     WINDOW batches not acknowledged; prints how fast wk-hook took them
 *     (made their JSON, committed, acknowledged).  It speaks as ctl/255 and binds that
 *     inbox for the HOOK_ACKs.
 *
 *   hookbench now
 *     CLOCK_MONOTONIC in ms, the clock of the other two, for the script.
 *
 * Not a test: it asserts nothing about time. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <czmq.h>
#include <jansson.h>
#include "wk_buf.h"
#include "wk_chmsg.h"
#include "wk_webhook.h"
#include "wk_msg.h"
#include "wk_shard.h"
#include "wk_time.h"
#include "wkrx.h"

#define FEED_INSTANCE 255             /* wk-hook takes instances 0-255 */

static void
die(const char *msg)
{
	fprintf(stderr, "hookbench: %s\n", msg);
	exit(1);
}

/* ---- recv ---- */

static struct {
	pthread_mutex_t mu;
	unsigned long long notify, requests, offline, onlinestatus, bytes, bad;
	uint64_t first_ms, last_ms;
} rx = { .mu = PTHREAD_MUTEX_INITIALIZER };

/* How many times needle occurs in text. */
static size_t
occurrences(const char *text, size_t len, const char *needle)
{
	size_t n = 0, nl = strlen(needle);

	for (const char *p = text; (p = memmem(p, len - (size_t)(p - text), needle, nl)) != NULL;
	    p += nl)
		n++;
	return n;
}

/* Count what came; every request is answered 200.  A receiver shares the
 * machine with the tree here, so it counts cheaply (a business server
 * would parse on a machine of its own): the first body of each kind is
 * parsed in full, the rest only checked for their shape and counted. */
static unsigned
on_request(void *arg, const char *method, const char *ev, const char *ctype, const char *text,
    size_t len)
{
	static int parsed[3];
	int k = strcmp(ev, "msg.notify") == 0 ? 0 : strcmp(ev, "msg.offline") == 0 ? 1 :
	    strcmp(ev, "user.onlinestatus") == 0 ? 2 : -1;
	size_t n = occurrences(text, len, "\"message_idstr\":");
	int shaped = len >= 2 && text[0] == (k == 1 ? '{' : '[') &&
	    text[len - 1] == (k == 1 ? '}' : ']');

	pthread_mutex_lock(&rx.mu);
	if (k >= 0 && !parsed[k]) {
		json_t *body = json_loadb(text, len, 0, NULL);
		shaped = shaped && body && (k == 1 ? json_is_object(body) : json_is_array(body)) &&
		    (k != 0 || json_array_size(body) == n);
		json_decref(body);
		parsed[k] = 1;
	}
	rx.requests++;
	rx.bytes += len;
	if (k == 0 && shaped) {
		rx.notify += n;
		rx.last_ms = wk_now_ms();
		if (rx.first_ms == 0)
			rx.first_ms = rx.last_ms;
	} else if (k == 1 && shaped && n == 1)
		rx.offline++;
	else if (k == 2 && shaped)
		rx.onlinestatus += occurrences(text, len, "\"") / 2;
	else
		rx.bad++;
	pthread_mutex_unlock(&rx.mu);
	return 200;
}

static volatile sig_atomic_t stop;
static void on_signal(int sig) { stop = 1; }

static int
recv_main(int argc, char **argv)
{
	const char *stats = NULL;
	struct wkrx *srv;
	int ch, port = 0;

	while ((ch = getopt(argc, argv, "p:s:")) != -1) {
		switch (ch) {
		case 'p': port = atoi(optarg); break;
		case 's': stats = optarg; break;
		default: die("usage: hookbench recv -p PORT -s STATS");
		}
	}
	if (port <= 0 || stats == NULL)
		die("usage: hookbench recv -p PORT -s STATS");
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	if ((srv = wkrx_start(port, on_request, NULL)) == NULL)
		die("cannot listen");
	while (!stop) {
		char tmp[4096];
		FILE *f;

		snprintf(tmp, sizeof tmp, "%s.tmp", stats);
		if ((f = fopen(tmp, "w")) != NULL) {
			pthread_mutex_lock(&rx.mu);
			fprintf(f, "notify=%llu requests=%llu offline=%llu onlinestatus=%llu bytes=%llu "
			    "bad=%llu first_ms=%llu last_ms=%llu\n", rx.notify, rx.requests, rx.offline,
			    rx.onlinestatus, rx.bytes, rx.bad, (unsigned long long)rx.first_ms,
			    (unsigned long long)rx.last_ms);
			pthread_mutex_unlock(&rx.mu);
			fclose(f);
			rename(tmp, stats);
		}
		usleep(50000);
	}
	wkrx_stop(&srv);
	return 0;
}

/* ---- feed ---- */

/* A batch of per_batch msg.notify events: stored messages as a channel
 * shard hands them over (wk_chmsg), 120-byte payloads, 1,000 channels;
 * message ids from *next_id: channel g<(id-1) % 1000>, seq (id-1) / 1000 + 1. */
static zmsg_t *
feed_msg(uint64_t epoch, uint64_t seq, int per_batch, uint64_t *next_id)
{
	static const char payload[] = "{\"type\":1,\"content\":\"a message of a typical size, "
	    "about a hundred and twenty bytes of JSON in all, for the benchmark\"}";
	struct wk_msg_hdr h = { .version = WK_MSG_VERSION, .type = WK_MSG_HOOK_EVENT,
	    .sender_role = WK_ROLE_CTL, .sender_instance = FEED_INSTANCE, .corr = seq };
	zmsg_t *m = wk_msg_new(&h);
	struct wk_wbuf b, msg;
	char chan[32], from[32], cmn[32];

	wk_wbuf_init(&b);
	wk_wbuf_init(&msg);
	wk_put_u64(&b, epoch);
	wk_put_u64(&b, seq);
	for (int i = 0; i < per_batch; i++) {
		uint64_t id = (*next_id)++;
		struct wk_chmsg cm = {
			.message_id = (int64_t)id, .seq = (uint32_t)((id - 1) / 1000 + 1),
			.timestamp = (int32_t)(wk_wall_ms() / 1000), .flags = WKPROTO_FLAG_REDDOT,
			.channel_type = WKPROTO_CHANNEL_GROUP,
			.payload = { (const uint8_t *)payload, sizeof payload - 1 },
		};
		snprintf(chan, sizeof chan, "g%llu", (unsigned long long)((id - 1) % 1000));
		snprintf(from, sizeof from, "u%llu", (unsigned long long)(id % 977));
		snprintf(cmn, sizeof cmn, "bench%llu", (unsigned long long)id);
		cm.channel_id = wk_str_n(chan, strlen(chan));
		cm.from_uid = wk_str_n(from, strlen(from));
		cm.client_msg_no = wk_str_n(cmn, strlen(cmn));
		msg.len = 0;
		wk_chmsg_put(&msg, &cm);
		wk_put_u8(&b, WK_WEBHOOK_MSG_NOTIFY);
		wk_put_u32(&b, wk_shard_hash(chan, strlen(chan)));
		wk_put_blob(&b, msg.p, msg.len);
	}
	zmsg_addmem(m, b.p, b.len);
	wk_wbuf_free(&b);
	wk_wbuf_free(&msg);
	return m;
}

static int
feed_main(int argc, char **argv)
{
	const char *run = NULL;
	long events = 500000;
	int ch, per_batch = 100, window = 32;
	uint64_t epoch = (uint64_t)wk_wall_ms(), seq = 0, acked = 0, next_id = 1, t0, t1;
	zsock_t *push, *pull;

	while ((ch = getopt(argc, argv, "r:n:b:w:")) != -1) {
		switch (ch) {
		case 'r': run = optarg; break;
		case 'n': events = atol(optarg); break;
		case 'b': per_batch = atoi(optarg); break;
		case 'w': window = atoi(optarg); break;
		default: die("usage: hookbench feed -r RUNDIR [-n events] [-b per batch] [-w window]");
		}
	}
	if (run == NULL || per_batch < 1 || window < 1)
		die("usage: hookbench feed -r RUNDIR [-n events] [-b per batch] [-w window]");
	zsys_handler_set(NULL);
	pull = zsock_new_pull(NULL);
	if (zsock_bind(pull, "ipc://%s/ctl-%d.ipc", run, FEED_INSTANCE) < 0)
		die("cannot bind the ack inbox");
	push = zsock_new_push(NULL);
	zsock_set_sndhwm(push, 100000);
	if (zsock_connect(push, "ipc://%s/hook-0.ipc", run) < 0)
		die("cannot connect to wk-hook");
	t0 = wk_now_ms();
	while ((long)(acked * (uint64_t)per_batch) < events) {
		while (seq - acked < (uint64_t)window && (long)(seq * (uint64_t)per_batch) < events) {
			zmsg_t *m = feed_msg(epoch, ++seq, per_batch, &next_id);
			if (zmsg_send(&m, push) < 0)
				die("send to wk-hook failed");
		}
		zmsg_t *a = zmsg_recv(pull);   /* a HOOK_ACK: u64 epoch, u64 seq */
		if (a == NULL)
			die("interrupted");
		zframe_t *f = zmsg_last(a);
		if (zmsg_size(a) == 2 && zframe_size(f) == 16 && wk_be64_get(zframe_data(f)) == epoch)
			acked = wk_be64_get(zframe_data(f) + 8);
		zmsg_destroy(&a);
	}
	t1 = wk_now_ms();
	printf("feed: %ld msg.notify events in %llu batches of %d, window %d: taken in %.2f s, "
	    "%.0f events/s (committed and acknowledged)\n", events,
	    (unsigned long long)seq, per_batch, window, (double)(t1 - t0) / 1000,
	    (double)events * 1000 / (double)(t1 - t0 ? t1 - t0 : 1));
	printf("feed_start_ms=%llu feed_end_ms=%llu\n", (unsigned long long)t0,
	    (unsigned long long)t1);
	zsock_destroy(&push);
	zsock_destroy(&pull);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "recv") == 0)
		return recv_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "feed") == 0)
		return feed_main(argc - 1, argv + 1);
	if (argc == 2 && strcmp(argv[1], "now") == 0) {
		printf("%llu\n", (unsigned long long)wk_now_ms());
		return 0;
	}
	die("usage: hookbench recv|feed|now ...");
	return 2;
}
