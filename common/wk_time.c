/* wk_time.c - clocks. */
#include <time.h>
#include "wk_time.h"

uint64_t
wk_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t wk_now_us(void) { return wk_now_ns() / 1000u; }

uint64_t wk_now_ms(void) { return wk_now_us() / 1000u; }

int64_t
wk_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
