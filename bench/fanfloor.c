/* fanfloor.c - the floor of a group fan-out on this machine: the system
 * calls wkbench scenario 3 makes wk-broker do, without wk.  Sender
 * threads (as many as the brokers) each own a share of N loopback TCP
 * connections and, R times a second, write one frame of the size of a
 * RECV to each of them; one receiver thread (as wkbench's one worker)
 * reads every frame, takes its latency from the time stamped in it and
 * answers with one RECVACK-sized write per read; the senders read the
 * acks.  A sender that falls behind writes every frame due to a
 * connection at once, as wk-broker does.  With -c each frame is a real
 * RECV sealed for its connection (AES-CBC payload and msgKey with a key of
 * the connection's own, then encoded): the work WKProto makes a broker do
 * per delivery, still without wk's processes, store or retries.  No encryption, no protocol, no store: what is left is the
 * kernel's TCP work per delivery and the wake-ups.  bench.sh runs it
 * beside scenario 3 at the same rates (bench/README.md).
 *
 *   fanfloor [-c] [-n conns] [-r msgs/s] [-t secs] [-b frame bytes] [-a ack bytes]
 *            [-w senders] [-o csv]
 * -o appends "bare|sealed,conns,msgs/s,delivered/s,p50 us,p99 us,p99.9 us,cores"
 * to csv.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include "bench_hist.h"
#include "wk_crypto.h"
#include "wk_time.h"
#include "wkproto.h"

#define SENDERS_MAX 16
#define FRAMES_MAX 64     /* frames in one write when behind */

static struct {
	int n, rate, secs, frame, ack, senders, seal;
	const char *csv;
} opt = { 5000, 20, 10, 280, 20, 2, 0, NULL };

static int *srv_fd, *cli_fd;            /* connection i: server end, client end */
static struct wk_crypto_session *sess;  /* -c: connection i's key */
static uint64_t t_start, t_end;         /* the measured window (µs, monotonic) */
static atomic_int stop;
static atomic_ullong short_writes;      /* frames the kernel would not take whole */
static struct hist lat;                 /* the receiver's only */
static uint64_t delivered;              /* in the window, the receiver's only */

static void
die(const char *what)
{
	perror(what);
	exit(1);
}

/* -c: frame = the due time (8 bytes), then a RECV of a 128-byte payload
 * sealed with connection i's key, as wk-broker's broker_recv_one makes
 * it.  Every field has a fixed length, so every frame has the same size.
 * Its size, or -1. */
static ssize_t
seal(int i, uint64_t ts, uint8_t *out, size_t cap)
{
	static const char payload[129] = "{\"type\":1,\"content\":\"fanfloor fanfloor fanfloor "
	    "fanfloor fanfloor fanfloor fanfloor fanfloor fanfloor fanfloor fanfloor fanfl\"}";
	struct wkproto_packet pkt = { .type = WKPROTO_RECV };
	struct wkproto_recv *rv = &pkt.recv;
	char sealed[256], key[WK_CRYPTO_MSGKEY_LEN];
	ssize_t n;

	rv->from_uid = wk_str_n("fanfloor-sender", 15);
	rv->channel_id = wk_str_n("fanfloor-group", 14);
	rv->channel_type = 2;
	rv->client_msg_no = wk_str_n("0f0f0f0f-0f0f-0f0f-0f0f-0f0f0f0f0f0f", 36);
	rv->message_id = (int64_t)(ts | (1ULL << 62));
	rv->message_seq = (uint32_t)(ts / 1000) | 0x80000000u;
	rv->timestamp = 0x40000000;
	if ((n = wk_crypto_encrypt(&sess[i], payload, 128, sealed, sizeof sealed)) < 0)
		return -1;
	rv->payload.p = (const uint8_t *)sealed;
	rv->payload.len = (size_t)n;
	if (wk_crypto_msgkey_recv(&sess[i], rv, key) < 0)
		return -1;
	rv->msg_key = wk_str_n(key, sizeof key);
	memcpy(out, &ts, sizeof ts);
	n = wkproto_encode(&pkt, WKPROTO_VERSION_MAX, out + 8, cap - 8);
	return n < 0 ? -1 : n + 8;
}

/* A sender: every 1/rate s, one frame stamped with the time to each of
 * its connections (i % senders == me); between ticks, read the acks. */
static void *
sender(void *arg)
{
	int me = (int)(intptr_t)arg, ep = epoll_create1(0);
	uint8_t *frame = calloc(FRAMES_MAX, (size_t)opt.frame), buf[65536];
	uint64_t tick = wk_now_us(), step = 1000000 / (uint64_t)opt.rate;
	struct epoll_event evs[256];

	if (ep < 0 || frame == NULL)
		die("sender");
	for (int i = me; i < opt.n; i += opt.senders) {
		struct epoll_event e = { .events = EPOLLIN, .data.fd = srv_fd[i] };
		if (epoll_ctl(ep, EPOLL_CTL_ADD, srv_fd[i], &e) < 0)
			die("epoll_ctl");
	}
	while (!atomic_load(&stop)) {
		uint64_t now = wk_now_us();
		if (now >= tick) {
			/* Behind: every frame due goes in one write per
			 * connection, each stamped with the time it was due
			 * (the lateness counts), as wk-broker coalesces a
			 * connection's frames. */
			size_t due = (size_t)((now - tick) / step) + 1, len;
			if (due > FRAMES_MAX)
				due = FRAMES_MAX;
			len = due * (size_t)opt.frame;
			for (size_t k = 0; !opt.seal && k < due; k++) {
				uint64_t ts = tick + k * step;
				memcpy(frame + k * (size_t)opt.frame, &ts, sizeof ts);
			}
			for (int i = me; i < opt.n; i += opt.senders) {
				for (size_t k = 0; opt.seal && k < due; k++)
					if (seal(i, tick + k * step, frame + k * (size_t)opt.frame,
					    (size_t)opt.frame) != opt.frame)
						die("seal");
				if (write(srv_fd[i], frame, len) != (ssize_t)len)
					atomic_fetch_add(&short_writes, 1);
			}
			tick += due * step;
			continue;
		}
		int k = epoll_wait(ep, evs, 256, (int)((tick - now + 999) / 1000));
		for (int j = 0; j < k; j++)
			while (read(evs[j].data.fd, buf, sizeof buf) == (ssize_t)sizeof buf)
				;
	}
	free(frame);
	close(ep);
	return NULL;
}

/* The receiver: every whole frame counted and timed when its last byte
 * came, one ack write per read.  A read may end anywhere in a frame, its
 * stamp included: each connection keeps the bytes it has of both. */
static void *
receiver(void *arg)
{
	int ep = epoll_create1(0);
	uint32_t *have = calloc((size_t)opt.n, sizeof *have);   /* bytes of the frame so far */
	uint64_t *stamp = calloc((size_t)opt.n, sizeof *stamp); /* its first 8 */
	uint8_t *ackb = calloc(1, 65536), buf[65536];
	struct epoll_event evs[256];

	(void)arg;
	if (ep < 0 || have == NULL || stamp == NULL || ackb == NULL)
		die("receiver");
	for (int i = 0; i < opt.n; i++) {
		struct epoll_event e = { .events = EPOLLIN, .data.u32 = (uint32_t)i };
		if (epoll_ctl(ep, EPOLL_CTL_ADD, cli_fd[i], &e) < 0)
			die("epoll_ctl");
	}
	while (!atomic_load(&stop)) {
		int k = epoll_wait(ep, evs, 256, 100);
		for (int j = 0; j < k; j++) {
			uint32_t i = evs[j].data.u32;
			ssize_t r = read(cli_fd[i], buf, sizeof buf);
			size_t off = 0, frames = 0;
			if (r <= 0)
				continue;
			uint64_t now = wk_now_us();
			while (off < (size_t)r) {
				size_t take = (size_t)opt.frame - have[i];
				if (take > (size_t)r - off)
					take = (size_t)r - off;
				if (have[i] < sizeof *stamp)
					memcpy((uint8_t *)&stamp[i] + have[i], buf + off,
					    take < sizeof *stamp - have[i] ? take : sizeof *stamp - have[i]);
				have[i] += (uint32_t)take;
				off += take;
				if (have[i] < (uint32_t)opt.frame)
					break;
				have[i] = 0;
				frames++;
				if (stamp[i] >= t_start && stamp[i] < t_end) {
					hist_add(&lat, now - stamp[i]);
					delivered++;
				}
			}
			if (frames > 0 && write(cli_fd[i], ackb, frames * (size_t)opt.ack) < 0 &&
			    errno != EAGAIN)
				die("ack write");
		}
	}
	free(stamp);
	free(have);
	free(ackb);
	close(ep);
	return NULL;
}

/* N connected pairs over 127.0.0.1, both ends non-blocking, no Nagle. */
static void
connect_all(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 4096) < 0 ||
	    getsockname(l, (struct sockaddr *)&a, &al) < 0)
		die("listen");
	srv_fd = calloc((size_t)opt.n, sizeof *srv_fd);
	cli_fd = calloc((size_t)opt.n, sizeof *cli_fd);
	for (int i = 0; i < opt.n; i++) {
		if ((cli_fd[i] = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
		    connect(cli_fd[i], (struct sockaddr *)&a, sizeof a) < 0 ||
		    (srv_fd[i] = accept(l, NULL, NULL)) < 0)
			die("connect");
		int fd[2] = { cli_fd[i], srv_fd[i] };
		for (int k = 0; k < 2; k++)
			if (setsockopt(fd[k], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0 ||
			    fcntl(fd[k], F_SETFL, O_NONBLOCK) < 0)
				die("socket options");
	}
	close(l);
}

int
main(int argc, char **argv)
{
	pthread_t th[SENDERS_MAX + 1];
	double cpu0, cpu1;
	int c;

	while ((c = getopt(argc, argv, "cn:r:t:b:a:w:o:")) != -1) {
		int v = optarg ? atoi(optarg) : 0;
		switch (c) {
		case 'c': opt.seal = 1; break;
		case 'n': opt.n = v; break;
		case 'r': opt.rate = v; break;
		case 't': opt.secs = v; break;
		case 'b': opt.frame = v; break;
		case 'a': opt.ack = v; break;
		case 'w': opt.senders = v; break;
		case 'o': opt.csv = optarg; break;
		default:
			fprintf(stderr, "usage: fanfloor [-c] [-n conns] [-r msgs/s] [-t secs] [-b frame bytes]"
			    " [-a ack bytes] [-w senders] [-o csv]\n");
			return 2;
		}
	}
	if (opt.n < 1 || opt.rate < 1 || opt.rate > 100000 || opt.secs < 1 || opt.frame < 8 ||
	    opt.frame > 65536 || opt.ack < 1 || opt.ack > 64 || opt.senders < 1 ||
	    opt.senders > SENDERS_MAX) {
		fprintf(stderr, "fanfloor: an option is out of range\n");
		return 2;
	}
	if (opt.seal) {
		/* A key per connection; the frame is what seal() makes. */
		uint8_t probe[1024];
		sess = calloc((size_t)opt.n, sizeof *sess);
		for (int i = 0; sess && i < opt.n; i++) {
			char key[WK_CRYPTO_AES_LEN], iv[WK_CRYPTO_AES_LEN];
			for (int k = 0; k < WK_CRYPTO_AES_LEN; k++) {
				key[k] = (char)('a' + (i + k) % 26);
				iv[k] = (char)('A' + (i * 7 + k) % 26);
			}
			if (wk_crypto_session_init(&sess[i], key, iv) < 0)
				die("wk_crypto_session_init");
		}
		if (sess == NULL || (opt.frame = (int)seal(0, 0, probe, sizeof probe)) < 0)
			die("seal");
	}
	struct rlimit rl = { .rlim_cur = (rlim_t)opt.n * 2 + 64, .rlim_max = (rlim_t)opt.n * 2 + 64 };
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("setrlimit (more descriptors)");
	connect_all();
	/* One second to settle, then the measured window. */
	t_start = wk_now_us() + 1000000;
	t_end = t_start + (uint64_t)opt.secs * 1000000;
	for (int i = 0; i < opt.senders; i++)
		if (pthread_create(&th[i], NULL, sender, (void *)(intptr_t)i) != 0)
			die("pthread_create");
	if (pthread_create(&th[opt.senders], NULL, receiver, NULL) != 0)
		die("pthread_create");
	usleep((useconds_t)(t_start - wk_now_us()));
	cpu0 = cpu_seconds(RUSAGE_SELF);
	usleep((useconds_t)(t_end - wk_now_us()));
	cpu1 = cpu_seconds(RUSAGE_SELF);
	usleep(500000);    /* the window's last frames arrive */
	atomic_store(&stop, 1);
	for (int i = 0; i <= opt.senders; i++)
		pthread_join(th[i], NULL);
	printf("fanfloor: %d connections, %d senders, %d msgs/s = %d deliveries/s offered, frame %d B%s,"
	    " ack %d B\n", opt.n, opt.senders, opt.rate, opt.n * opt.rate, opt.frame,
	    opt.seal ? " (a sealed RECV)" : "", opt.ack);
	printf("measured %d s: delivered %.0f/s, CPU %.2f cores (%.1f us per delivery),"
	    " short writes %llu\n", opt.secs, (double)delivered / opt.secs,
	    (cpu1 - cpu0) / opt.secs, delivered ? (cpu1 - cpu0) * 1e6 / (double)delivered : 0.0,
	    (unsigned long long)atomic_load(&short_writes));
	printf("delivery latency us: p50 %.0f  p99 %.0f  p99.9 %.0f  max %.0f  (n=%llu)\n",
	    hist_pct(&lat, 0.50), hist_pct(&lat, 0.99), hist_pct(&lat, 0.999), hist_max(&lat),
	    (unsigned long long)lat.n);
	if (opt.csv) {
		FILE *f = fopen(opt.csv, "a");
		if (f == NULL)
			die(opt.csv);
		fprintf(f, "%s,%d,%d,%.0f,%.0f,%.0f,%.0f,%.2f\n", opt.seal ? "sealed" : "bare", opt.n,
		    opt.rate,
		    (double)delivered / opt.secs, hist_pct(&lat, 0.50), hist_pct(&lat, 0.99),
		    hist_pct(&lat, 0.999), (cpu1 - cpu0) / opt.secs);
		fclose(f);
	}
	return 0;
}
