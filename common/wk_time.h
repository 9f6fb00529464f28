/* wk_time.h - clocks: monotonic milliseconds for timers, wall clock for the wire. */
#ifndef WK_TIME_H
#define WK_TIME_H
#include <stdint.h>

uint64_t wk_now_ms(void);      /* CLOCK_MONOTONIC, ms */
uint64_t wk_now_us(void);      /* CLOCK_MONOTONIC, us */
uint64_t wk_now_ns(void);      /* CLOCK_MONOTONIC, ns (benchmarks) */
int64_t wk_wall_ms(void);      /* CLOCK_REALTIME, ms since the epoch */

#endif
