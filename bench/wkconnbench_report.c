/* wkconnbench_report.c - wkconnbench's output: a row per phase (connections,
 * set-up rate, handshake or PONG latency, generator and server CPU, server
 * memory over the baseline, per connection and per kind of process), the
 * summary against the goals (bench/README.md), and the CSV for a plot. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "bench_hist.h"
#include "wkconnbench.h"

static double
per_conn(long kib, long n)
{
	return n > 0 ? (double)kib * 1024.0 / (double)n : 0;
}

void
connbench_print_header(void)
{
	printf("\n%-7s %6s %6s %6s %6s %6s %6s %4s %4s %4s %4s %7s %7s %6s %6s %6s %5s %5s %5s %6s\n",
	    "phase", "conns", "added", "secs", "rate/s", "p50ms", "p99ms", "gen%", "srv%",
	    "brk%", "mbx%", "RSS_MiB", "PSS_MiB", "RSS/c", "PSS/c", "own/c", "brk", "mbx", "oth",
	    "server");
}

void
connbench_print_row(const struct run *run, const struct row *r)
{
	printf("%-7s %6ld %6ld %6.2f %6.0f %6.2f %6.2f %4.0f %4.0f %4.0f %4.0f %7.1f %7.1f %6.0f %6.0f "
	    "%6.0f %5.0f %5.0f %5.0f %6ld%s\n", r->phase, r->conns, r->added, r->secs, r->rate,
	    r->p50 / 1000, r->p99 / 1000, r->gen_cpu, r->srv_cpu, r->brk_cpu, r->mbx_cpu,
	    r->s.rss / 1024.0, r->s.pss / 1024.0, per_conn(r->d_rss, r->conns),
	    per_conn(r->d_pss, r->conns), per_conn(r->d_own, r->conns),
	    per_conn(r->s.role_own[R_BROKER] - run->base.role_own[R_BROKER], r->conns),
	    per_conn(r->s.role_own[R_MAILBOX] - run->base.role_own[R_MAILBOX], r->conns),
	    per_conn(r->s.role_own[R_OTHER] - run->base.role_own[R_OTHER], r->conns),
	    r->s.connections, r->agreed ? "" : " (!)");
	if (connbench_opt.verbose)
		for (int i = 0; i < r->s.nproc; i++) {
			const struct sproc *p = &r->s.p[i];
			printf("        %-8s %2d pid %-7d RSS %8ld KiB  PSS %8ld KiB (anon %7ld, "
			    "shmem %6ld)  conns %ld presence %ld restarts %d\n", p->role,
			    p->instance, p->pid, p->rss, p->pss, p->pss_anon, p->pss_shmem,
			    p->connections, p->presence, p->restarts);
		}
	fflush(stdout);
}

/* The summary after the rows: the figures against the goals. */
void
connbench_print_summary(const struct run *run)
{
	const struct row *top = NULL, *idle = NULL, *pinged = NULL, *ws = NULL, *closed = NULL;
	const struct row *first = NULL;
	const struct row *closed1 = NULL, *again = NULL;
	int ncycles = 0;
	double ramp_secs = 0;
	long ramp_conns = 0;

	for (int i = 0; i < run->nrows; i++) {
		const struct row *r = &run->rows[i];
		if (strcmp(r->phase, "ramp") == 0) {
			ramp_secs += r->secs;
			ramp_conns += r->added;
			top = idle = r;
			if (first == NULL)
				first = r;
		} else if (strcmp(r->phase, "pinged") == 0)
			pinged = r;
		else if (strcmp(r->phase, "ws") == 0)
			ws = r;
		else if (strcmp(r->phase, "again") == 0) {
			again = r;
			ncycles++;
		} else if (strcmp(r->phase, "closed") == 0) {
			closed = r;
			if (closed1 == NULL)
				closed1 = r;
		}
	}
	printf("\nsummary (%s, protocol v%d, %s, %d worker process%s)\n", connbench_opt.host, connbench_opt.version,
	    connbench_opt.keys ? "client key pairs reused from a pool" :
	    "a fresh client X25519 key pair per connection", run->nworkers,
	    run->nworkers > 1 ? "es" : "");
	printf("  baseline server: %d processes, RSS %.1f MiB, PSS %.1f MiB\n", run->base.nproc,
	    run->base.rss / 1024.0, run->base.pss / 1024.0);
	if (top) {
		double pss_pc = per_conn(top->d_pss, top->conns);
		printf("  connections: %ld TCP up (server counts %ld, presence %ld)\n",
		    top->conns, top->s.connections, top->s.presence);
		printf("  set-up rate: %.0f/s overall (%ld in %.2f s of ramp, CONNECT..CONNACK "
		    "with X25519 on both ends)  [goal >= 5000/s: %s]\n",
		    ramp_secs > 0 ? ramp_conns / ramp_secs : 0, ramp_conns, ramp_secs,
		    ramp_secs > 0 && ramp_conns / ramp_secs >= 5000 ? "met" : "NOT met");
		printf("  handshake latency: p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms "
		    "(connect() to CONNACK, %d in flight at most)\n", hist_pct(&run->h_all, 0.5) / 1000,
		    hist_pct(&run->h_all, 0.99) / 1000, hist_pct(&run->h_all, 0.999) / 1000,
		    connbench_opt.inflight_max * run->nworkers);
		printf("  server memory per idle connection at %ld, over the baseline: PSS %.0f B, "
		    "RSS %.0f B, heap+shm PSS %.0f B  [goal <= 8192 B: %s]\n", top->conns, pss_pc,
		    per_conn(top->d_rss, top->conns), per_conn(top->d_own, top->conns),
		    pss_pc <= 8192 ? "met" : "NOT met");
		printf("    heap+shm PSS by process kind: broker %.0f B, mailbox %.0f B, "
		    "other %.0f B; of all, the presence table (shm) %.0f B\n",
		    per_conn(top->s.role_own[R_BROKER] - run->base.role_own[R_BROKER], top->conns),
		    per_conn(top->s.role_own[R_MAILBOX] - run->base.role_own[R_MAILBOX], top->conns),
		    per_conn(top->s.role_own[R_OTHER] - run->base.role_own[R_OTHER], top->conns),
		    per_conn(top->s.pss_shmem - run->base.pss_shmem, top->conns));
		if (first && first != top)
			printf("    marginal, from %ld to %ld connections (the slope of the curve): "
			    "PSS %.0f B, heap+shm %.0f B per connection\n", first->conns, top->conns,
			    per_conn(top->s.pss - first->s.pss, top->conns - first->conns),
			    per_conn(top->s.own - first->s.own, top->conns - first->conns));
		printf("    all-in (the whole server's PSS / connections): %.0f B; the baseline "
		    "holds %.1f MiB of shared memory (presence table, allocated by capacity)\n",
		    per_conn(top->s.pss, top->conns), run->base.pss_shmem / 1024.0);
	}
	if (pinged && idle)
		printf("  idle vs after PINGs: PSS %.0f -> %.0f B/conn, heap+shm %.0f -> %.0f; "
		    "%ld PINGs and %ld PONGs since the start, %ld unanswered at the next PING "
		    "during the hold; PONG p50 %.2f ms p99 %.2f ms (idle)\n",
		    per_conn(idle->d_pss, idle->conns), per_conn(pinged->d_pss, pinged->conns),
		    per_conn(idle->d_own, idle->conns), per_conn(pinged->d_own, pinged->conns),
		    run->held.pings, run->held.pongs, run->held.missed,
		    hist_pct(&run->held.pong, 0.5) / 1000, hist_pct(&run->held.pong, 0.99) / 1000);
	if (ws && ws->added > 0) {
		const struct row *before = pinged ? pinged : idle;
		printf("  TCP vs WebSocket, PSS per connection: %.0f vs %.0f B (heap+shm %.0f vs "
		    "%.0f B; %ld WebSocket connections added on top, %.0f/s, handshake p50 %.2f ms "
		    "p99 %.2f ms)\n",
		    before ? per_conn(before->d_pss, before->conns) : 0,
		    per_conn(ws->s.pss - (before ? before->s.pss : run->base.pss), ws->added),
		    before ? per_conn(before->d_own, before->conns) : 0,
		    per_conn(ws->s.own - (before ? before->s.own : run->base.own), ws->added),
		    ws->added, ws->rate, ws->p50 / 1000, ws->p99 / 1000);
	}
	if (closed)
		printf("  after closing all: server counts %ld connections, %ld presence slots; "
		    "%d restarts; heap+shm %.1f MiB over the baseline (%s)\n",
		    closed->s.connections, closed->s.presence, closed->s.restarts,
		    closed->d_own / 1024.0,
		    closed->s.connections == 0 && closed->s.presence == 0 ?
		    "all released" : "NOT all released");
	/* Freed memory that the allocator keeps is not a leak if reconnecting
	 * reuses it: compare with the peak before the first close. */
	if (again && closed1 && closed1 > run->rows)
		printf("  churn: heap+shm over the baseline %.1f MiB at the peak (%ld connections), "
		    "%.1f MiB after the first close, %.1f MiB with %ld connected again after %d "
		    "cycle%s, %.1f MiB after the last close\n", closed1[-1].d_own / 1024.0,
		    closed1[-1].conns, closed1->d_own / 1024.0, again->d_own / 1024.0, again->conns,
		    ncycles, ncycles > 1 ? "s" : "", closed->d_own / 1024.0);
	printf("  generator CPU: %.1f s in all (user+sys, every worker)\n", run->last.cpu);
	printf("  failures: %ld%s\n", run->last.fail_total, run->last.fail_total ? ", by cause:" : "");
	for (int i = 0; i < run->nfails; i++)
		printf("    %8ld  %s\n", run->fails[i].n, run->fails[i].what);
}

void
connbench_write_csv(const struct run *run)
{
	FILE *f;

	if (connbench_opt.csv == NULL)
		return;
	if ((f = fopen(connbench_opt.csv, "w")) == NULL) {
		fprintf(stderr, "wkconnbench: %s: %s\n", connbench_opt.csv, strerror(errno));
		return;
	}
	/* The first four columns are the plot; the rest say more. */
	fprintf(f, "connections,server_rss_kib,server_pss_kib,per_conn_bytes,"
	    "per_conn_rss_bytes,per_conn_heap_shm_bytes,phase,setup_rate,p50_us,p99_us,"
	    "heap_shm_kib,broker_heap_shm_kib,mailbox_heap_shm_kib,other_heap_shm_kib\n");
	fprintf(f, "0,%ld,%ld,0,0,0,baseline,0,0,0,%ld,%ld,%ld,%ld\n", run->base.rss,
	    run->base.pss, run->base.own, run->base.role_own[R_BROKER],
	    run->base.role_own[R_MAILBOX], run->base.role_own[R_OTHER]);
	for (int i = 0; i < run->nrows; i++) {
		const struct row *r = &run->rows[i];
		fprintf(f, "%ld,%ld,%ld,%.0f,%.0f,%.0f,%s,%.0f,%.0f,%.0f,%ld,%ld,%ld,%ld\n",
		    r->conns, r->s.rss, r->s.pss, per_conn(r->d_pss, r->conns),
		    per_conn(r->d_rss, r->conns), per_conn(r->d_own, r->conns), r->phase, r->rate,
		    r->p50, r->p99, r->s.own, r->s.role_own[R_BROKER], r->s.role_own[R_MAILBOX],
		    r->s.role_own[R_OTHER]);
	}
	fclose(f);
}
