/* bench_hist.h - what the benchmark programs share: a latency histogram
 * (exact below 64 µs, then 32 buckets per power of two, about 3 %) and the
 * CPU time of a process.  Clocks are common/wk_time.h's. */
#ifndef BENCH_HIST_H
#define BENCH_HIST_H
#include <stdint.h>

#define H_SUB	32
#define H_N	(64 + 40 * H_SUB)

struct hist {
	uint64_t	 b[H_N];
	uint64_t	 n;
};

void hist_add(struct hist *h, uint64_t v);
void hist_merge(struct hist *to, const struct hist *from);
/* The p-quantile (0..1) in the unit added (µs), 0 when empty. */
double hist_pct(const struct hist *h, double p);
/* The largest value seen (its bucket's start), 0 when empty. */
double hist_max(const struct hist *h);
/* User + system CPU seconds of getrusage(who): RUSAGE_SELF or RUSAGE_CHILDREN. */
double cpu_seconds(int who);

#endif
