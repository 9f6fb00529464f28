/* wk_loop.h - the event loop of every wk process: epoll for descriptors, a
 * heap of timers, and a callback that runs once per iteration before the loop
 * sleeps (Redis's beforeSleep: commit, then acknowledge, then fan out). */
#ifndef WK_LOOP_H
#define WK_LOOP_H
#include <stdint.h>
#include <sys/epoll.h>

struct wk_loop;
typedef void (*wk_io_fn)(struct wk_loop *l, int fd, uint32_t events, void *arg);
typedef void (*wk_timer_fn)(struct wk_loop *l, uint64_t id, void *arg);
typedef void (*wk_iter_fn)(struct wk_loop *l, void *arg);

struct wk_loop *wk_loop_new(void);
void wk_loop_destroy(struct wk_loop **l);

/* Watch fd for events (EPOLLIN, EPOLLOUT, ...); one callback per fd. */
int wk_loop_add(struct wk_loop *l, int fd, uint32_t events, wk_io_fn fn, void *arg);
int wk_loop_mod(struct wk_loop *l, int fd, uint32_t events);
int wk_loop_del(struct wk_loop *l, int fd);

/* A timer firing after delay_ms, then every interval_ms if non-zero.
 * Returns its id (never 0). */
uint64_t wk_loop_timer(struct wk_loop *l, uint64_t delay_ms, uint64_t interval_ms,
    wk_timer_fn fn, void *arg);
void wk_loop_timer_cancel(struct wk_loop *l, uint64_t id);

/* The callback run once per iteration, after the events, before sleeping. */
void wk_loop_set_iteration(struct wk_loop *l, wk_iter_fn fn, void *arg);
/* Turn at most once per ms (0: as events come): for a process nobody waits
 * for, so that a stream of small messages wakes it that often, not per
 * message. */
void wk_loop_set_min_interval(struct wk_loop *l, int ms);
/* Do not sleep in the next wait (more work is ready, e.g. a ZeroMQ socket
 * still readable after a bounded batch). */
void wk_loop_pending(struct wk_loop *l);

/* One iteration: wait (at most max_wait_ms, -1 = until a timer), run the
 * callbacks, the timers, then the iteration callback. */
int wk_loop_once(struct wk_loop *l, int max_wait_ms);
void wk_loop_run(struct wk_loop *l);
void wk_loop_stop(struct wk_loop *l);
int wk_loop_stopped(const struct wk_loop *l);

#endif
