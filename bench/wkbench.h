/* wkbench.h - private to wkbench (wkbench.c, wkbench(1)): its options, the
 * phases of a run, and the counters and histograms the workers keep in a
 * mapping shared with the controller.  Nothing outside bench/wkbench*.c
 * includes it. */
#ifndef WKBENCH_H
#define WKBENCH_H
#include <netinet/in.h>
#include <stdint.h>
#include "bench_hist.h"

#define MAX_WORKERS	64
#define FD_RESERVE	64
#define CONNS_PER_WORKER_MAX	18000
#define RING		4096	/* send times kept per sender (power of two) */

struct wkbench_opt {
	const char	*host, *http, *prefix, *csv, *label;
	int		 scenario, port, wsport, ws, depth, secs, warm, jobs, nsrc;
	int		 payload, quiet, users, drain, verify, cmd, random_cmn;
	long		 n, group, rate;
};
extern struct wkbench_opt wkbench_opt;

/* Print "wkbench: ..." and exit 1. */
void wkbench_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * Shared between the controller and the workers (MAP_SHARED): the phase
 * the controller sets, what each worker counts.
 */
enum { PH_SETUP, PH_WARM, PH_MEASURE, PH_DRAIN, PH_DONE };

struct wstat {
	int		 ready, failed, exited;
	char		 why[160];
	long		 sent, acked, ack_bad, recvd, recv_bad, seq_gap, seq_dup;
	long		 disconnects, backlog;
	uint64_t	 win_max;	/* largest SENDACK latency since the last progress line */
	double		 worst_p99;	/* the largest SENDACK p99 of one whole second measured */
	int		 worst_sec;	/* which second of the measurement (from 1) */
	double		 cpu;
	struct hist	 h_ack, h_recv;
};

struct shared {
	int		 phase;
	struct wstat	 w[MAX_WORKERS];
};
extern struct shared *wkbench_sh;

#define LOAD(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define STORE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define INC(x, v)	__atomic_store_n(&(x), (x) + (v), __ATOMIC_RELAXED)

/* wkbench_worker.c: worker `id` of `nworkers`, its share of `total`
 * connections to dst; it exits when the phase is PH_DONE. */
void wkbench_worker(int id, int nworkers, long total, const struct sockaddr_in *dst)
    __attribute__((noreturn));

/* wkbench_http.c: scenario 3's group, and -U's user tokens, through the
 * HTTP API. */
void wkbench_make_group(void);
void wkbench_make_users(long total);

#endif
