/* wk_loop.c - epoll event loop with a timer heap and a per-iteration callback. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "wk_alloc.h"
#include "wk_log.h"
#include "wk_loop.h"
#include "wk_time.h"

/* One per descriptor, indexed by fd (descriptors are small integers): the
 * lookup on each event is an array index, not a search. */
struct io {
	wk_io_fn fn;
	void *arg;
	int active;
};

/* A timer: `when` is absolute (wk_now_ms); a repeating one has an
 * interval. Ids start at 1 and are never reused, so that 0 can mean "no
 * timer" to callers and cancelling a timer that already ran is harmless. */
struct timer {
	uint64_t when, interval, id;
	wk_timer_fn fn;
	void *arg;
};

struct wk_loop {
	int epfd;
	struct io *io;         /* indexed by fd */
	int nio;
	struct timer *heap;    /* min-heap on `when` */
	int ntimers, captimers;
	uint64_t next_id;
	wk_iter_fn iter;
	void *iter_arg;
	int pending, stopped;
	uint64_t min_us, last_us;   /* wk_loop_set_min_interval */
};

struct wk_loop *
wk_loop_new(void)
{
	struct wk_loop *l = wk_calloc(1, sizeof *l);

	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		wk_fatal("epoll_create1");
	l->next_id = 1;
	return l;
}

void
wk_loop_destroy(struct wk_loop **lp)
{
	struct wk_loop *l = *lp;

	if (l == NULL)
		return;
	close(l->epfd);
	free(l->io);
	free(l->heap);
	free(l);
	*lp = NULL;
}

/* Watch fd for events; the table grows (doubling) to cover fd. */
int
wk_loop_add(struct wk_loop *l, int fd, uint32_t events, wk_io_fn fn, void *arg)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	if (fd >= l->nio) {
		int n = l->nio ? l->nio : 64;
		while (n <= fd)
			n *= 2;
		l->io = wk_realloc(l->io, n * sizeof *l->io);
		memset(l->io + l->nio, 0, (n - l->nio) * sizeof *l->io);
		l->nio = n;
	}
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -1;
	l->io[fd] = (struct io){ fn, arg, 1 };
	return 0;
}

int
wk_loop_mod(struct wk_loop *l, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev);
}

/* Stop watching fd. The slot is only marked inactive: a callback of the
 * current epoll batch may still name fd, and must then be skipped. */
int
wk_loop_del(struct wk_loop *l, int fd)
{
	if (fd < 0 || fd >= l->nio || !l->io[fd].active)
		return -1;
	l->io[fd].active = 0;
	return epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
}

static void
heap_swap(struct wk_loop *l, int a, int b)
{
	struct timer t = l->heap[a];
	l->heap[a] = l->heap[b];
	l->heap[b] = t;
}

/* Move entry i up while it is due before its parent. */
static void
heap_up(struct wk_loop *l, int i)
{
	while (i > 0 && l->heap[(i - 1) / 2].when > l->heap[i].when) {
		heap_swap(l, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

/* Move entry i down while a child is due before it. */
static void
heap_down(struct wk_loop *l, int i)
{
	for (;;) {
		int m = i, c = 2 * i + 1;
		if (c < l->ntimers && l->heap[c].when < l->heap[m].when)
			m = c;
		if (c + 1 < l->ntimers && l->heap[c + 1].when < l->heap[m].when)
			m = c + 1;
		if (m == i)
			return;
		heap_swap(l, i, m);
		i = m;
	}
}

/* Remove entry i: the last entry takes its place and is moved either way. */
static void
heap_remove(struct wk_loop *l, int i)
{
	l->heap[i] = l->heap[--l->ntimers];
	if (i < l->ntimers) {
		heap_down(l, i);
		heap_up(l, i);
	}
}

/* A timer firing in delay_ms, then every interval_ms if non-zero; its id. */
uint64_t
wk_loop_timer(struct wk_loop *l, uint64_t delay_ms, uint64_t interval_ms,
    wk_timer_fn fn, void *arg)
{
	if (l->ntimers == l->captimers) {
		l->captimers = l->captimers ? l->captimers * 2 : 16;
		l->heap = wk_realloc(l->heap, l->captimers * sizeof *l->heap);
	}
	l->heap[l->ntimers] = (struct timer){ wk_now_ms() + delay_ms, interval_ms,
	    l->next_id, fn, arg };
	heap_up(l, l->ntimers++);
	return l->next_id++;
}

/* Cancel timer id. A linear search: a process holds a handful of timers. */
void
wk_loop_timer_cancel(struct wk_loop *l, uint64_t id)
{
	for (int i = 0; i < l->ntimers; i++)
		if (l->heap[i].id == id) {
			heap_remove(l, i);
			return;
		}
}

void wk_loop_set_iteration(struct wk_loop *l, wk_iter_fn fn, void *arg) { l->iter = fn; l->iter_arg = arg; }
void wk_loop_pending(struct wk_loop *l) { l->pending = 1; }
void wk_loop_set_min_interval(struct wk_loop *l, int ms) { l->min_us = ms > 0 ? (uint64_t)ms * 1000 : 0; }
void wk_loop_stop(struct wk_loop *l) { l->stopped = 1; }
int wk_loop_stopped(const struct wk_loop *l) { return l->stopped; }

/* Run every timer that is due; a repeating timer is re-armed from now. */
static void
run_timers(struct wk_loop *l)
{
	uint64_t now = wk_now_ms();

	while (l->ntimers > 0 && l->heap[0].when <= now) {
		struct timer t = l->heap[0];
		if (t.interval) {
			l->heap[0].when = now + t.interval;
			heap_down(l, 0);
		} else
			heap_remove(l, 0);
		t.fn(l, t.id, t.arg);
	}
}

/* One iteration: wait for events (no longer than the next timer, not at
 * all if someone asked for another turn with wk_loop_pending), run the
 * ready descriptors, the due timers, then the per-iteration callback. The
 * callback runs every iteration, after everything that came in, which is
 * where the skeleton batches its commit. */
int
wk_loop_once(struct wk_loop *l, int max_wait_ms)
{
	struct epoll_event evs[256];
	int timeout = max_wait_ms, n;

	/* A loop with a minimum interval sleeps out the rest of it first, so
	 * that what arrives meanwhile is taken in one turn (unless a turn was
	 * asked for: there is work waiting). */
	if (l->min_us && !l->pending) {
		uint64_t now = wk_now_us();
		if (now < l->last_us + l->min_us)
			usleep((useconds_t)(l->last_us + l->min_us - now));
	}
	if (l->ntimers > 0) {
		uint64_t now = wk_now_ms();
		int due = l->heap[0].when <= now ? 0 : (int)(l->heap[0].when - now);
		if (timeout < 0 || due < timeout)
			timeout = due;
	}
	if (l->pending)
		timeout = 0;
	l->pending = 0;
	n = epoll_wait(l->epfd, evs, 256, timeout);
	if (n < 0 && errno != EINTR)
		wk_fatal("epoll_wait");
	for (int i = 0; i < n; i++) {
		int fd = evs[i].data.fd;
		/* A callback may have closed a later fd of this batch. */
		if (fd < l->nio && l->io[fd].active)
			l->io[fd].fn(l, fd, evs[i].events, l->io[fd].arg);
	}
	run_timers(l);
	if (l->iter)
		l->iter(l, l->iter_arg);
	if (l->min_us)
		l->last_us = wk_now_us();
	return n < 0 ? 0 : n;
}

/* Iterate until wk_loop_stop. */
void
wk_loop_run(struct wk_loop *l)
{
	while (!l->stopped)
		wk_loop_once(l, -1);
}
