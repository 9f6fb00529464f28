/* wkconnbench.c - connection benchmark for wk (bench/README.md): many
 * authenticated, idle WKProto connections with heartbeats, and what they
 * cost the server.  This file is the controller and main().
 *
 * The connections live in worker processes (wkconnbench_worker.c), each one
 * epoll loop: there are as many workers as the descriptor limit needs (-j
 * at least), since a process may not hold more than RLIMIT_NOFILE sockets
 * and without CAP_SYS_RESOURCE the hard limit cannot be raised.
 *
 * The controller tells the workers to ramp to each step over a
 * SOCK_SEQPACKET pair; when all have, and nothing is in flight, it waits
 * until the brokers count the same connections, then samples the server
 * (wkconnbench_server.c): RSS and PSS summed over wk-master and every
 * child, minus a baseline taken before the first connection.  Per step:
 * set-up rate, handshake latency p50/p99, server and generator CPU.  Then
 * it holds the connections with PINGs (-d), measures again (idle vs after
 * PINGs), adds -W WebSocket connections if asked (a TCP vs a WebSocket
 * connection, same server, same run), closes everything and checks the
 * server let go of them, and reconnects -x times (churn).
 *
 * Prints a table and a summary, and -o writes a CSV for a plot
 * (wkconnbench_report.c).  Not a test: it asserts nothing about time. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "bench_hist.h"
#include "wk_time.h"
#include "wkconnbench.h"
#include "wkproto.h"

struct connbench_opt connbench_opt = {
	.host = "127.0.0.1", .port = 5100, .n = 50000, .nsrc = 4,
	.inflight_max = 256, .version = 5, .hold_s = 60, .ping_s = 20,
	.timeout_s = 10, .settle_s = 10, .jobs = 1,
	.steps = "1000,5000,10000,20000,30000,40000,50000",
};
volatile sig_atomic_t connbench_stop;

/*
 * The controller: the workers.
 */
static struct worker {
	pid_t		 pid;
	int		 fd;
	struct report	 r;		/* the last reply */
} workers[MAX_WORKERS];
static int nworkers;

static void
on_signal(int sig)
{
	connbench_stop = 1;
}

static void
spawn_workers(void)
{
	for (int w = 0; w < nworkers; w++) {
		int sv[2], sz = (int)sizeof(struct report) * 4;

		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
			perror("wkconnbench: socketpair");
			exit(1);
		}
		setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
		setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
		fflush(stdout);
		switch (workers[w].pid = fork()) {
		case -1:
			perror("wkconnbench: fork");
			exit(1);
		case 0:
			close(sv[0]);
			for (int i = 0; i < w; i++)
				close(workers[i].fd);
			connbench_worker_run(w, sv[1]);
			_exit(0);
		}
		close(sv[1]);
		workers[w].fd = sv[0];
	}
}

/* This worker's share of a total. */
static long
share(long total, int w)
{
	return total * (w + 1) / nworkers - total * w / nworkers;
}

static void
send_all(int op, int ws, long target, long fail_limit)
{
	for (int w = 0; w < nworkers; w++) {
		struct cmd c = { op, ws, share(target, w), fail_limit / nworkers + 1 };
		if (send(workers[w].fd, &c, sizeof c, MSG_NOSIGNAL) != (ssize_t)sizeof c) {
			fprintf(stderr, "wkconnbench: worker %d is gone\n", w);
			exit(1);
		}
	}
}

/* Give every worker a command and wait for all the replies.  A ^C while
 * waiting for a ramp halts it (what is in flight still finishes). */
static void
command(int op, int ws, long target, long fail_limit)
{
	static struct report r;
	int got = 0, halted = 0, seen[MAX_WORKERS] = { 0 };

	send_all(op, ws, target, fail_limit);
	while (got < nworkers) {
		struct pollfd pf[MAX_WORKERS];
		int n;

		if (connbench_stop && op == CMD_RAMP && !halted) {
			send_all(CMD_HALT, ws, 0, 0);
			halted = 1;
		}
		for (int w = 0; w < nworkers; w++)
			pf[w] = (struct pollfd){ workers[w].fd, POLLIN, 0 };
		if ((n = poll(pf, (nfds_t)nworkers, 500)) <= 0)
			continue;
		for (int w = 0; w < nworkers; w++) {
			if (!(pf[w].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t len = recv(workers[w].fd, &r, sizeof r, 0);
			if (len <= 0) {
				fprintf(stderr, "wkconnbench: worker %d died\n", w);
				exit(1);
			}
			if (len == (ssize_t)sizeof r && r.op == op && !seen[w]) {
				workers[w].r = r;
				seen[w] = 1;
				got++;
			}
		}
	}
}

static void
merge(struct merged *m)
{
	memset(m, 0, sizeof *m);
	for (int w = 0; w < nworkers; w++) {
		const struct report *r = &workers[w].r;
		m->est_tcp += r->est_tcp;
		m->est_ws += r->est_ws;
		m->inflight += r->inflight;
		m->pings += r->pings;
		m->pongs += r->pongs;
		m->missed += r->missed;
		m->fail_total += r->fail_total;
		m->cpu += r->cpu;
		m->gave_up |= r->gave_up;
		if (w == 0 || r->t_start < m->t_start)
			m->t_start = r->t_start;
		if (r->t_last > m->t_last)
			m->t_last = r->t_last;
		hist_merge(&m->phase, &r->phase);
		hist_merge(&m->pong, &r->pong);
	}
	m->cpu += cpu_seconds(RUSAGE_SELF);
}

/* Fresh figures from every worker (their CPU, above all). */
static void
stats(struct merged *m)
{
	command(CMD_STATS, 0, 0, 0);
	merge(m);
}


/* Sleep, waking for ^C. */
static void
nap(uint64_t us)
{
	uint64_t end = wk_now_us() + us;

	while (!connbench_stop && wk_now_us() < end)
		usleep(100000);
}


/*
 * The phases, a row of the report each.
 */
static struct run run;

/* Close a row: the server settled and sampled, deltas, CPU shares from
 * the figures at its start (s0, m0) over `secs`, or, if t0 is not 0, over
 * the time from t0 until the server had settled (which is then the row's
 * time too). */
static void
finish_row(struct row *r, const struct sample *s0, const struct merged *m0, double secs,
    uint64_t t0, long want)
{
	double wall;

	stats(&run.last);
	r->agreed = connbench_settle(&r->s, want) == 0;
	if (t0)
		secs = r->secs = (double)(wk_now_us() - t0) / 1e6;
	wall = secs > 0 ? secs : 1;
	r->d_rss = r->s.rss - run.base.rss;
	r->d_pss = r->s.pss - run.base.pss;
	r->d_own = r->s.own - run.base.own;
	r->gen_cpu = 100 * (run.last.cpu - m0->cpu) / wall;
	if (s0->nproc > 0 && r->s.nproc > 0) {
		r->srv_cpu = 100 * (r->s.cpu - s0->cpu) / wall;
		r->brk_cpu = 100 * (r->s.role_cpu[R_BROKER] - s0->role_cpu[R_BROKER]) / wall;
		r->mbx_cpu = 100 * (r->s.role_cpu[R_MAILBOX] - s0->role_cpu[R_MAILBOX]) / wall;
	}
	connbench_print_row(&run, r);
	run.nrows++;
}

/* Ramp the workers to `target` connections of a kind; the phase's row. */
static void
ramp_to(const char *phase, long target, int ws, long fail_limit)
{
	struct row *r = &run.rows[run.nrows];
	struct sample s0;
	struct merged m0, m;
	long start_est;

	snprintf(r->phase, sizeof r->phase, "%s", phase);
	connbench_sample_server(&s0);
	stats(&m0);
	start_est = ws ? m0.est_ws : m0.est_tcp;
	command(CMD_RAMP, ws, target, fail_limit);
	merge(&m);
	r->conns = m.est_tcp + m.est_ws;
	r->added = (ws ? m.est_ws : m.est_tcp) - start_est;
	r->secs = (double)(m.t_last - m.t_start) / 1e6;
	r->rate = r->secs > 0 ? (double)r->added / r->secs : 0;
	r->p50 = hist_pct(&m.phase, 0.50);
	r->p99 = hist_pct(&m.phase, 0.99);
	if (strcmp(phase, "ramp") == 0)
		hist_merge(&run.h_all, &m.phase);
	if (m.gave_up) {
		fprintf(stderr, "wkconnbench: too many failures (%ld): giving up\n", m.fail_total);
		connbench_stop = 1;
	}
	finish_row(r, &s0, &m0, r->secs, 0, r->conns);
}

/* Hold the connections for hold_s with PINGs; the row after it. */
static void
hold(void)
{
	struct row *r = &run.rows[run.nrows];
	struct sample s0;
	struct merged m0;
	uint64_t t0;

	connbench_sample_server(&s0);
	command(CMD_HOLD, 0, 0, 0);
	merge(&m0);
	t0 = wk_now_us();
	nap((uint64_t)connbench_opt.hold_s * 1000000);	/* a ^C cuts it short */
	stats(&run.last);
	run.held = run.last;
	snprintf(r->phase, sizeof r->phase, "pinged");
	r->conns = run.last.est_tcp + run.last.est_ws;
	r->secs = (double)(wk_now_us() - t0) / 1e6;
	r->p50 = hist_pct(&run.last.pong, 0.5);	/* PONG latency in this row */
	r->p99 = hist_pct(&run.last.pong, 0.99);
	finish_row(r, &s0, &m0, r->secs, 0, r->conns);
}

/* Close every connection; the server must let go of all of them. */
static void
close_all(void)
{
	struct row *r = &run.rows[run.nrows];
	struct sample s0;
	struct merged m0;
	uint64_t t0;

	connbench_sample_server(&s0);
	stats(&m0);
	t0 = wk_now_us();
	command(CMD_CLOSE, 0, 0, 0);
	snprintf(r->phase, sizeof r->phase, "closed");
	r->conns = 0;
	finish_row(r, &s0, &m0, 0, t0, 0);	/* secs: until the server let go */
}


/*
 * Setup.
 */
/* Raise the descriptor limit towards `need` (the hard limit too, with
 * CAP_SYS_RESOURCE); what it is now. */
static long
raise_nofile(long need)
{
	struct rlimit rl;

	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur >= (rlim_t)need)
		return (long)rl.rlim_cur;
	if (rl.rlim_max < (rlim_t)need) {
		struct rlimit hard = { (rlim_t)need, (rlim_t)need };
		if (setrlimit(RLIMIT_NOFILE, &hard) == 0)
			return need;
	}
	rl.rlim_cur = rl.rlim_max < (rlim_t)need ? rl.rlim_max : (rlim_t)need;
	setrlimit(RLIMIT_NOFILE, &rl);
	getrlimit(RLIMIT_NOFILE, &rl);
	return (long)rl.rlim_cur;
}

/* Steps: "a,b,c", absolute counts; -n is always the last. */
static int
parse_steps(long *v)
{
	int n = 0;

	for (const char *p = connbench_opt.steps; *p && n < MAX_STEPS - 1; ) {
		char *end;
		long x = strtol(p, &end, 10);
		if (end == p)
			break;
		if (x > 0 && x < connbench_opt.n && (n == 0 || x > v[n - 1]))
			v[n++] = x;
		p = *end == ',' ? end + 1 : end;
	}
	v[n++] = connbench_opt.n;
	return n;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: wkconnbench -m config [-h host] [-p port] [-n conns] [-r steps]\n"
	    "           [-s srcaddrs] [-c inflight] [-j workers] [-d hold_s] [-i ping_s]\n"
	    "           [-v version] [-k keys] [-w wsport -W wsconns] [-T timeout_s]\n"
	    "           [-S settle_s] [-M wk-master] [-u uidprefix] [-o csv] [-x cycles] [-V]\n"
	    "  -r  report at these counts: \"1000,5000,...\" (-n is always the last)\n"
	    "  -c  handshakes in flight at most, per worker process\n"
	    "  -j  worker processes at least (more if RLIMIT_NOFILE needs them)\n"
	    "  -s  bind client sockets to 127.0.0.(2+i), i < srcaddrs (0: no bind)\n"
	    "  -k  0: a fresh X25519 key pair per connection; N: reuse N key pairs\n"
	    "  -W  after the TCP ramp and hold, add this many WebSocket connections\n"
	    "  -x  then this many times: reconnect all -n at once, close (churn)\n"
	    "  -V  per-process figures at every row\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static char master_default[4096], prefix[32];
	struct connbench_opt *o = &connbench_opt;
	long steps[MAX_STEPS], nofile, per_worker, fail_limit;
	int nsteps, ch, rc;

	while ((ch = getopt(argc, argv, "h:p:n:r:s:c:j:m:d:i:v:k:w:W:T:S:M:u:o:x:V")) != -1) {
		switch (ch) {
		case 'h': o->host = optarg; break;
		case 'p': o->port = atoi(optarg); break;
		case 'n': o->n = atol(optarg); break;
		case 'r': o->steps = optarg; break;
		case 's': o->nsrc = atoi(optarg); break;
		case 'c': o->inflight_max = atoi(optarg); break;
		case 'j': o->jobs = atoi(optarg); break;
		case 'm': o->config = optarg; break;
		case 'd': o->hold_s = atoi(optarg); break;
		case 'i': o->ping_s = atoi(optarg); break;
		case 'v': o->version = atoi(optarg); break;
		case 'k': o->keys = atoi(optarg); break;
		case 'w': o->wsport = atoi(optarg); break;
		case 'W': o->nws = atol(optarg); break;
		case 'T': o->timeout_s = atoi(optarg); break;
		case 'S': o->settle_s = atoi(optarg); break;
		case 'M': o->master = optarg; break;
		case 'u': o->uid_prefix = optarg; break;
		case 'o': o->csv = optarg; break;
		case 'x': o->cycles = atoi(optarg); break;
		case 'V': o->verbose = 1; break;
		default: usage();
		}
	}
	if (argc != optind || o->config == NULL || o->n < 1 || o->inflight_max < 1 ||
	    o->version < WKPROTO_VERSION_MIN || o->version > 255 || o->nsrc < 0 || o->nsrc > 250 ||
	    o->keys < 0 || o->timeout_s < 1 || o->cycles < 0 || o->cycles > MAX_CYCLES ||
	    o->jobs < 1 || o->jobs > MAX_WORKERS || o->nws < 0 || (o->nws > 0 && o->wsport <= 0))
		usage();
	if (o->master == NULL) {
		/* The build tree: bench/wkconnbench next to ../wk-master. */
		const char *slash = strrchr(argv[0], '/');
		snprintf(master_default, sizeof master_default, "%.*s../wk-master",
		    slash ? (int)(slash - argv[0] + 1) : 0, argv[0]);
		o->master = access(master_default, X_OK) == 0 ? master_default : "wk-master";
	}
	if (o->uid_prefix == NULL) {
		snprintf(prefix, sizeof prefix, "cb%d_", (int)getpid());
		o->uid_prefix = prefix;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	nsteps = parse_steps(steps);

	/* Enough workers that none needs more descriptors than it may have. */
	nofile = raise_nofile(o->n + o->nws + FD_RESERVE);
	per_worker = nofile - FD_RESERVE;
	if (per_worker < 16) {
		fprintf(stderr, "wkconnbench: RLIMIT_NOFILE is only %ld\n", nofile);
		return 1;
	}
	nworkers = (int)((o->n + o->nws + per_worker - 1) / per_worker);
	if (nworkers < o->jobs)
		nworkers = o->jobs;
	if (nworkers > MAX_WORKERS) {
		fprintf(stderr, "wkconnbench: %ld connections need %d workers at RLIMIT_NOFILE "
		    "%ld; at most %d\n", o->n + o->nws, nworkers, nofile, MAX_WORKERS);
		return 1;
	}

	if ((rc = connbench_worker_init()) != 0)
		return rc;
	if (connbench_settle(&run.base, 0) < 0 && run.base.nproc == 0)
		return 1;
	printf("wkconnbench: %ld connections to %s:%d from %d source addresses, %d worker "
	    "process%s (RLIMIT_NOFILE %ld), %d handshakes in flight at most each, protocol v%d, "
	    "%s; server: %d processes, baseline RSS %.1f MiB PSS %.1f MiB\n", o->n, o->host,
	    o->port, o->nsrc ? o->nsrc : 1, nworkers, nworkers > 1 ? "es" : "", nofile,
	    o->inflight_max, o->version, o->keys ? "client keys from a pool" :
	    "a fresh client key pair each", run.base.nproc, run.base.rss / 1024.0,
	    run.base.pss / 1024.0);
	spawn_workers();
	connbench_print_header();

	fail_limit = o->n / 10 > 1000 ? o->n / 10 : 1000;
	for (int i = 0; i < nsteps && !connbench_stop; i++)
		ramp_to("ramp", steps[i], 0, fail_limit);
	if (!connbench_stop && o->hold_s > 0)
		hold();
	if (!connbench_stop && o->nws > 0)
		ramp_to("ws", o->nws, 1, fail_limit + o->nws / 10);
	connbench_stop = 0;	/* even after a ^C: close, and see the server let go */
	close_all();
	for (int i = 0; i < o->cycles && !connbench_stop; i++) {
		ramp_to("again", o->n, 0, fail_limit);
		close_all();
	}
	run.nworkers = nworkers;
	for (int w = 0; w < nworkers; w++)
		for (int i = 0; i < workers[w].r.nfails; i++)
			connbench_add_fail(run.fails, &run.nfails, workers[w].r.fails[i].what,
			    workers[w].r.fails[i].n);
	connbench_print_summary(&run);
	connbench_write_csv(&run);
	for (int w = 0; w < nworkers; w++)
		close(workers[w].fd);	/* the workers exit on EOF */
	for (int w = 0; w < nworkers; w++)
		waitpid(workers[w].pid, NULL, 0);
	return 0;
}
