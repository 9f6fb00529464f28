/* wkbench.c - message benchmark for wk (bench/README.md, wkbench(1)):
 * PERFORMANCE.md scenarios 1 (durable 1:1 throughput, pipelined), 2
 * (SENDACK and RECV latency at a fixed offered rate, open loop) and 3
 * (group fan-out); scenario 7 is scenario 1 against trees started with
 * processes.perCore 1, 2, 4 (bench/bench.sh).  This file is the
 * controller and main().
 *
 * Real clients (wkbench_worker.c): every connection does the X25519
 * handshake, every SEND is AES-encrypted with its msgKey, every RECV is
 * verified (msgKey), decrypted and acknowledged with RECVACK, over TCP or
 * WebSocket.  Users need no tokens (the tree runs with tokenAuthOn: false);
 * groups are made through the HTTP API (wkbench_http.c).
 *
 * Workers are forked because a process may hold no more than RLIMIT_NOFILE
 * sockets.  Counters and histograms live in a shared mapping, so the
 * controller prints a progress line every second and sums the histograms
 * at the end.
 *
 * Latency: SENDACK latency is SEND -> SENDACK on the sender; RECV latency
 * is SEND -> RECV at the receiver, from a send time carried inside the
 * encrypted payload (CLOCK_MONOTONIC, one clock for the machine).  In the
 * open-loop scenarios the send time is the time the message was due, not
 * when it went out, so a stall is counted in full (no coordinated
 * omission).  Not a test: it asserts nothing about time. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "bench_hist.h"
#include "wk_time.h"
#include "wkbench.h"

struct wkbench_opt wkbench_opt = {
	.host = "127.0.0.1", .http = "127.0.0.1:5001", .scenario = 1, .port = 5100,
	.depth = 16, .secs = 10, .warm = 2, .jobs = 0, .nsrc = 4, .payload = 128,
	.n = 100, .group = 10000, .rate = 0, .drain = 5, .verify = 1,
};
struct shared *wkbench_sh;

void
wkbench_die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "wkbench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

struct totals {
	long	 sent, acked, ack_bad, recvd, recv_bad, gap, dup, backlog;
};

static void
sum(int nw, struct totals *t)
{
	memset(t, 0, sizeof *t);
	for (int i = 0; i < nw; i++) {
		struct wstat *w = &wkbench_sh->w[i];
		t->sent += LOAD(w->sent);
		t->acked += LOAD(w->acked);
		t->ack_bad += LOAD(w->ack_bad);
		t->recvd += LOAD(w->recvd);
		t->recv_bad += LOAD(w->recv_bad);
		t->gap += LOAD(w->seq_gap);
		t->dup += LOAD(w->seq_dup);
		t->backlog += LOAD(w->backlog);
	}
}

static pid_t pids[MAX_WORKERS];
static int nworkers;

static void
check_workers(void)
{
	for (int i = 0; i < nworkers; i++)
		if (LOAD(wkbench_sh->w[i].failed)) {
			fprintf(stderr, "\nwkbench: worker %d: %s\n", i, wkbench_sh->w[i].why);
			for (int j = 0; j < nworkers; j++)
				kill(pids[j], SIGKILL);
			exit(1);
		}
}

static void
usage(void)
{
	fprintf(stderr, "usage: wkbench [-c] [-s 1|2|3] [-h host] [-p port] [-w wsport -W] [-H httphost:port]\n"
	    "\t[-n conns] [-d depth] [-r rate] [-g members] [-t secs] [-u warmup] [-j workers]\n"
	    "\t[-b payload] [-S srcaddrs] [-x prefix] [-o csv] [-l label] [-v every] [-D drain] [-U] [-R] [-q]\n");
	exit(2);
}

/* The figures of the run: rates over the measured `secs` between t0 and
 * t1, latencies, the totals after the drain (t2); -o appends a CSV line.
 * The exit status: 3 if anything was lost, refused or out of order. */
/* RECVs due for what was acknowledged (accepted): one per message, or one
 * per online member but the sender in scenario 3. */
static long
deliveries_due(const struct totals *t)
{
	long ok = t->acked - t->ack_bad;

	return wkbench_opt.scenario == 3 ? ok * (wkbench_opt.n - 1) : ok;
}

static int
report(const struct totals *t0, const struct totals *t1, const struct totals *t2, double secs,
    double srvcpu, double run_secs)
{
	const struct wkbench_opt *o = &wkbench_opt;
	struct hist ha, hr;

	memset(&ha, 0, sizeof ha);
	memset(&hr, 0, sizeof hr);
	for (int i = 0; i < nworkers; i++) {
		hist_merge(&ha, &wkbench_sh->w[i].h_ack);
		hist_merge(&hr, &wkbench_sh->w[i].h_recv);
	}
	double acks = (t1->acked - t0->acked) / secs, recvs = (t1->recvd - t0->recvd) / secs;
	double sends = (t1->sent - t0->sent) / secs;
	/* Acknowledged but not delivered after the drain.  In scenario 3 a
	 * RECV may come before its SENDACK, so compare with what was sent
	 * when everything sent was acknowledged. */
	long expect = deliveries_due(t2);
	long lost = expect > t2->recvd ? expect - t2->recvd : 0;

	printf("measured %.2f s: sent %.0f/s, SENDACK %.0f/s, RECV %.0f/s%s\n", secs, sends, acks,
	    recvs, o->scenario == 3 ? " (deliveries)" : "");
	printf("SENDACK latency us: p50 %.0f  p99 %.0f  p99.9 %.0f  max %.0f  (n=%llu)\n",
	    hist_pct(&ha, .5), hist_pct(&ha, .99), hist_pct(&ha, .999), hist_max(&ha),
	    (unsigned long long)ha.n);
	double worst = 0;
	int worst_sec = 0;
	for (int i = 0; i < nworkers; i++)
		if (wkbench_sh->w[i].worst_p99 > worst) {
			worst = wkbench_sh->w[i].worst_p99;
			worst_sec = wkbench_sh->w[i].worst_sec;
		}
	printf("SENDACK worst second: p99 %.0f us (second %d of the measurement%s)\n", worst,
	    worst_sec, nworkers > 1 ? ", the worst worker's" : "");
	printf("RECV latency us:    p50 %.0f  p99 %.0f  p99.9 %.0f  max %.0f  (n=%llu)\n",
	    hist_pct(&hr, .5), hist_pct(&hr, .99), hist_pct(&hr, .999), hist_max(&hr),
	    (unsigned long long)hr.n);
	printf("totals: sent %ld, acked %ld (refused %ld), received %ld (bad msgKey/payload %ld), "
	    "not acknowledged after %d s drain %ld, acknowledged but not delivered %ld, "
	    "seq gaps %ld, seq dups %ld, skipped (backlog) %ld\n",
	    t2->sent, t2->acked, t2->ack_bad, t2->recvd, t2->recv_bad, o->drain,
	    t2->sent - t2->acked, lost, t2->gap, t2->dup, t2->backlog);
	printf("generator CPU: %.0f%% of one core over the run\n", 100.0 * srvcpu / run_secs);
	if (o->csv) {
		FILE *f = fopen(o->csv, "a");
		if (f == NULL)
			wkbench_die("%s: %s", o->csv, strerror(errno));
		/* label,scenario,conns,depth,rate,sent/s,acks/s,recvs/s,ack p50,p99,p999,recv p50,p99,p999,lost,gaps,dups,refused,
		 * worst second's ack p99 */
		fprintf(f, "%s,%d,%ld,%d,%ld,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%ld,%ld,%ld,%ld,%.0f\n",
		    o->label ? o->label : "-", o->scenario, o->n, o->depth, o->rate, sends, acks,
		    recvs,
		    hist_pct(&ha, .5), hist_pct(&ha, .99), hist_pct(&ha, .999),
		    hist_pct(&hr, .5), hist_pct(&hr, .99), hist_pct(&hr, .999),
		    lost, t2->gap, t2->dup, t2->ack_bad, worst);
		fclose(f);
	}
	return lost != 0 || t2->sent != t2->acked || t2->gap || t2->recv_bad || t2->ack_bad ? 3 : 0;
}

int
main(int argc, char **argv)
{
	struct wkbench_opt *o = &wkbench_opt;
	struct sockaddr_in dst;
	struct rlimit rl;
	long total, per;
	int ch;
	char prefix[32];
	struct totals t0, t1, t2, prev;
	uint64_t tm0, tm1;
	double srvcpu = 0;

	while ((ch = getopt(argc, argv, "s:h:p:w:WH:n:d:r:g:t:u:j:b:S:x:o:l:URqD:v:c")) != -1) {
		switch (ch) {
		case 's': o->scenario = atoi(optarg); break;
		case 'h': o->host = optarg; break;
		case 'p': o->port = atoi(optarg); break;
		case 'w': o->wsport = atoi(optarg); break;
		case 'W': o->ws = 1; break;
		case 'H': o->http = optarg; break;
		case 'n': o->n = atol(optarg); break;
		case 'd': o->depth = atoi(optarg); break;
		case 'r': o->rate = atol(optarg); break;
		case 'g': o->group = atol(optarg); break;
		case 't': o->secs = atoi(optarg); break;
		case 'u': o->warm = atoi(optarg); break;
		case 'j': o->jobs = atoi(optarg); break;
		case 'b': o->payload = atoi(optarg); break;
		case 'S': o->nsrc = atoi(optarg); break;
		case 'x': o->prefix = optarg; break;
		case 'o': o->csv = optarg; break;
		case 'l': o->label = optarg; break;
		case 'U': o->users = 1; break;
		case 'R': o->random_cmn = 1; break;
		case 'q': o->quiet = 1; break;
		case 'D': o->drain = atoi(optarg); break;
		case 'v': o->verify = atoi(optarg); break;
		case 'c': o->cmd = 1; break;
		default: usage();
		}
	}
	if (o->scenario < 1 || o->scenario > 3 || o->n < 1 || o->depth < 1 || o->depth >= RING / 2 ||
	    o->secs < 1 || o->verify < 1 || o->payload < 40 || o->payload > 3000 || (o->ws && o->wsport == 0))
		usage();
	if (o->scenario == 2 && o->rate <= 0)
		o->rate = 20000;
	if (o->scenario == 3 && o->rate <= 0)
		o->rate = 100;
	if (o->scenario == 3 && o->group < o->n)
		o->group = o->n;
	if (o->prefix == NULL) {
		snprintf(prefix, sizeof prefix, "wb%x_", (unsigned)(getpid() ^ (unsigned)time(NULL)) & 0xfffff);
		o->prefix = prefix;
	}
	/* -n: pairs (1, 2) or online members, the sender among them (3). */
	total = o->scenario == 3 ? o->n : 2 * o->n;
	getrlimit(RLIMIT_NOFILE, &rl);
	per = (long)rl.rlim_cur - FD_RESERVE;
	if (per > CONNS_PER_WORKER_MAX)
		per = CONNS_PER_WORKER_MAX;
	nworkers = (int)((total + per - 1) / per);
	if (o->jobs > nworkers)
		nworkers = o->jobs;
	if (nworkers > MAX_WORKERS)
		wkbench_die("%ld connections need more than %d workers", total, MAX_WORKERS);
	if (o->scenario != 3 && nworkers > o->n)
		nworkers = (int)o->n;
	memset(&dst, 0, sizeof dst);
	dst.sin_family = AF_INET;
	dst.sin_port = htons((uint16_t)(o->ws ? o->wsport : o->port));
	if (inet_pton(AF_INET, o->host, &dst.sin_addr) != 1)
		wkbench_die("-h %s: want an IPv4 address", o->host);
	wkbench_sh = mmap(NULL, sizeof *wkbench_sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (wkbench_sh == MAP_FAILED)
		wkbench_die("mmap: %s", strerror(errno));
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("wkbench: scenario %d, %s, %ld connections in %d worker(s), payload %d B, ", o->scenario,
	    o->ws ? "WebSocket" : "TCP", total, nworkers, o->payload);
	if (o->scenario == 1)
		printf("%ld pairs, closed loop, depth %d per sender\n", o->n, o->depth);
	else if (o->scenario == 2)
		printf("%ld pairs, open loop at %ld msgs/s\n", o->n, o->rate);
	else
		printf("group of %ld, %ld online (1 sender), open loop at %ld msgs/s = %ld deliveries/s offered\n",
		    o->group, o->n, o->rate, o->rate * (o->n - 1));
	if (o->users)
		wkbench_make_users(o->scenario == 3 ? o->group : total);
	if (o->scenario == 3)
		wkbench_make_group();
	fflush(stdout);
	uint64_t ts = wk_now_us();
	for (int i = 0; i < nworkers; i++) {
		if ((pids[i] = fork()) < 0)
			wkbench_die("fork: %s", strerror(errno));
		if (pids[i] == 0)
			wkbench_worker(i, nworkers, total, &dst);
	}
	for (;;) {
		int ready = 0;
		check_workers();
		for (int i = 0; i < nworkers; i++)
			ready += LOAD(wkbench_sh->w[i].ready);
		if (ready == nworkers)
			break;
		usleep(10000);
	}
	printf("connected and authenticated %ld in %.2f s\n", total, (double)(wk_now_us() - ts) / 1e6);
	STORE(wkbench_sh->phase, PH_WARM);
	uint64_t tstart = wk_now_us(), tlast = tstart;
	int phase = PH_WARM;
	memset(&prev, 0, sizeof prev);
	memset(&t0, 0, sizeof t0);
	tm0 = tm1 = tstart;
	srvcpu = cpu_seconds(RUSAGE_CHILDREN);
	for (;;) {
		usleep(100000);
		check_workers();
		uint64_t now = wk_now_us();
		double el = (double)(now - tstart) / 1e6;
		if (phase == PH_WARM && el >= o->warm) {
			sum(nworkers, &t0);
			tm0 = now;
			phase = PH_MEASURE;
			STORE(wkbench_sh->phase, phase);
		} else if (phase == PH_MEASURE && el >= o->warm + o->secs) {
			sum(nworkers, &t1);
			tm1 = now;
			phase = PH_DRAIN;
			STORE(wkbench_sh->phase, phase);
		} else if (phase == PH_DRAIN) {
			struct totals d;
			sum(nworkers, &d);
			if ((d.acked == d.sent - d.backlog * 0 && d.recvd >= deliveries_due(&d)) ||
			    el >= o->warm + o->secs + o->drain)
				break;
		}
		if (now - tlast >= 1000000 && !o->quiet) {
			struct totals c;
			double dt = (double)(now - tlast) / 1e6;
			uint64_t wmax = 0;
			sum(nworkers, &c);
			for (int i = 0; i < nworkers; i++) {
				uint64_t m = LOAD(wkbench_sh->w[i].win_max);
				if (m > wmax)
					wmax = m;
				STORE(wkbench_sh->w[i].win_max, 0);
			}
			fprintf(stderr, "%5.1fs %-7s sent %8.0f/s  acked %8.0f/s  recv %8.0f/s  in flight %ld"
			    "  ack max %.1f ms\n",
			    el, phase == PH_WARM ? "warmup" : phase == PH_MEASURE ? "measure" : "drain",
			    (c.sent - prev.sent) / dt, (c.acked - prev.acked) / dt,
			    (c.recvd - prev.recvd) / dt, c.sent - c.acked, (double)wmax / 1000);
			prev = c;
			tlast = now;
		}
	}
	STORE(wkbench_sh->phase, PH_DONE);
	for (int i = 0; i < nworkers; i++) {
		int st;
		waitpid(pids[i], &st, 0);
	}
	check_workers();
	srvcpu = cpu_seconds(RUSAGE_CHILDREN) - srvcpu;
	sum(nworkers, &t2);

	return report(&t0, &t1, &t2, (double)(tm1 - tm0) / 1e6, srvcpu,
	    (double)(wk_now_us() - tstart) / 1e6);
}
