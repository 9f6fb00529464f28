/* wkconnbench.h - private to wkconnbench (wkconnbench.c): its options, the
 * failure table, what the controller and the workers say to each other,
 * the server's figures, and the rows of the report.  Nothing outside
 * bench/wkconnbench*.c includes it. */
#ifndef WKCONNBENCH_H
#define WKCONNBENCH_H
#include <signal.h>
#include <stdint.h>
#include "bench_hist.h"

#define MAX_STEPS	64
#define MAX_CYCLES	16
#define MAX_PROCS	128
#define MAX_FAILS	48
#define MAX_WORKERS	64
#define FD_RESERVE	64	/* descriptors a worker keeps for itself */

struct connbench_opt {
	const char	*host, *config, *master, *csv, *uid_prefix, *steps;
	int		 port, wsport, nsrc, inflight_max, version, keys, jobs;
	int		 hold_s, ping_s, timeout_s, settle_s, cycles, verbose;
	long		 n, nws;
};
extern struct connbench_opt connbench_opt;
extern volatile sig_atomic_t connbench_stop;	/* ^C or SIGTERM */

/* Failures, counted by cause. */
struct fail {
	char		 what[96];
	long		 n;
};
/* Add n failures of `what` to a table of *ntab causes (MAX_FAILS at most). */
void connbench_add_fail(struct fail *tab, int *ntab, const char *what, long n);

/*
 * What the controller and the workers say to each other, one datagram each
 * way per command.  A reply carries the worker's cumulative counts and the
 * handshake histogram of the phase.
 */
enum { CMD_RAMP = 1, CMD_HALT, CMD_STATS, CMD_HOLD, CMD_CLOSE };

struct cmd {
	int		 op, ws;
	long		 target, fail_limit;	/* CMD_RAMP: this worker's share */
};

struct report {
	int		 op, gave_up;
	long		 est_tcp, est_ws, inflight;
	uint64_t	 t_start, t_last;	/* the phase: start, last CONNACK */
	double		 cpu;
	long		 pings, pongs, missed, fail_total;
	int		 nfails;
	struct fail	 fails[MAX_FAILS];
	struct hist	 phase, pong;
};

/* wkconnbench_worker.c: worker `id` on its end `fd` of the command pair;
 * it runs until the controller goes away. */
void connbench_worker_run(int id, int fd);
/* Before the workers are forked: the addresses and keys they use.  0, or
 * the exit status after saying why not. */
int connbench_worker_init(void);

/* The workers' last replies, added up. */
struct merged {
	long		 est_tcp, est_ws, inflight, pings, pongs, missed, fail_total;
	uint64_t	 t_start, t_last;
	double		 cpu;
	int		 gave_up;
	struct hist	 phase, pong;
};

/*
 * The server (wkconnbench_server.c): its processes from `wk-master -c
 * status -r`, their memory from /proc/PID/smaps_rollup and CPU from
 * /proc/PID/stat.
 */
enum { R_BROKER, R_MAILBOX, R_OTHER, R_N };

struct sproc {
	char		 role[16];
	int		 instance, pid, restarts, ready;
	long		 connections, presence;	/* -1 when not reported */
	long		 rss, pss, pss_anon, pss_shmem;	/* KiB */
	double		 cpu;			/* seconds */
};

struct sample {
	int		 nproc;
	struct sproc	 p[MAX_PROCS];
	/* KiB.  own = Pss_Anon + Pss_Shmem: the heap (Berkeley DB regions are
	 * DB_PRIVATE, so on the heap too) and the presence table, without the
	 * file-backed pages (code), whose PSS moves with whatever else on the
	 * machine maps the same libraries. */
	long		 rss, pss, own, pss_shmem, role_own[R_N];
	double		 cpu, role_cpu[R_N];
	long		 connections, presence;
	int		 restarts;
};

/* Ask wk-master for its processes and measure them; -1 if it did not answer. */
int connbench_sample_server(struct sample *s);
/* Sample until the server counts `want` connections (and presence slots),
 * or settle_s passes; 0 if it agreed. */
int connbench_settle(struct sample *s, long want);

/*
 * The report (wkconnbench_report.c): a row per phase, then a summary.
 */
struct row {
	char		 phase[16];
	long		 conns, added;
	double		 secs, rate, p50, p99;	/* rate per s; latency in µs */
	double		 gen_cpu, srv_cpu, brk_cpu, mbx_cpu;	/* % of one core */
	struct sample	 s;
	long		 d_rss, d_pss, d_own;	/* KiB over the baseline */
	int		 agreed;
};

/* The whole run as the report needs it. */
struct run {
	struct row	 rows[MAX_STEPS + 4 + 2 * MAX_CYCLES];
	int		 nrows;
	int		 nworkers;
	struct sample	 base;		/* the server before the first connection */
	struct hist	 h_all;		/* handshakes of the "ramp" rows */
	struct merged	 last;		/* the last figures from the workers */
	struct merged	 held;		/* ... at the end of the hold */
	struct fail	 fails[MAX_FAILS];	/* every worker's, at the end */
	int		 nfails;
};

void connbench_print_header(void);
void connbench_print_row(const struct run *run, const struct row *r);
void connbench_print_summary(const struct run *run);
/* -o: the rows as CSV, for a plot. */
void connbench_write_csv(const struct run *run);

#endif
