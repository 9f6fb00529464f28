/* bench_hist.c - the benchmarks' latency histogram and CPU time (bench_hist.h). */
#include <sys/resource.h>
#include "bench_hist.h"

static int
hist_bucket(uint64_t v)
{
	int e;

	if (v < 64)
		return (int)v;
	e = 63 - __builtin_clzll(v);
	if (e >= 6 + 40)
		return H_N - 1;
	return 64 + (e - 6) * H_SUB + (int)((v >> (e - 5)) & (H_SUB - 1));
}

static uint64_t
hist_value(int i)
{
	int e, s;

	if (i < 64)
		return (uint64_t)i;
	e = (i - 64) / H_SUB + 6;
	s = (i - 64) % H_SUB;
	return ((uint64_t)(H_SUB + s)) << (e - 5);
}

void
hist_add(struct hist *h, uint64_t v)
{
	h->b[hist_bucket(v)]++;
	h->n++;
}

void
hist_merge(struct hist *to, const struct hist *from)
{
	for (int i = 0; i < H_N; i++)
		to->b[i] += from->b[i];
	to->n += from->n;
}

/* The p-quantile in µs (the upper edge of its bucket's start), 0 if empty. */
double
hist_pct(const struct hist *h, double p)
{
	uint64_t want, seen = 0;

	if (h->n == 0)
		return 0;
	want = (uint64_t)(p * (double)h->n);
	if (want >= h->n)
		want = h->n - 1;
	for (int i = 0; i < H_N; i++) {
		seen += h->b[i];
		if (seen > want)
			return (double)hist_value(i);
	}
	return 0;
}

double
hist_max(const struct hist *h)
{
	for (int i = H_N - 1; i >= 0; i--)
		if (h->b[i])
			return (double)hist_value(i);
	return 0;
}

double
cpu_seconds(int who)
{
	struct rusage ru;

	getrusage(who, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}
