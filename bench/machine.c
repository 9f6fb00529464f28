/* machine.c - what state the machine is in, printed beside the figures of
 * a benchmark run: the same build has given twice the throughput on one
 * day as on another on this kind of shared VM, so a figure means little
 * without these.  Each measure is a limit wk's message path leans on:
 *   - a loopback TCP round trip between two processes on two vCPUs (a
 *     wake-up across cores, the cost of every hand-off) and on one;
 *   - fdatasync after a 1 KB append (the group commit);
 *   - a dependent load at a random place in 64 MB (cache misses: Berkeley
 *     DB's pages, the kernel's socket buffers);
 *   - a loop of adds (the core's own speed).
 *
 *   machine [-d dir] [-o csv]
 * -o appends "pingpong2 us,pingpong1 us,fdatasync us,memory ns,adds ns" to csv.
 */
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "wk_time.h"

#define ROUNDS 20000
#define SYNCS 1000
#define CHASE_BYTES (64u << 20)
#define CHASE_STEPS 4000000

static uint64_t lat[ROUNDS];

static void
die(const char *what)
{
	perror(what);
	exit(1);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void
pin(int cpu)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	sched_setaffinity(0, sizeof s, &s);   /* one vCPU: both on it, harmless */
}

/* Median of n samples (ns), sorted in place. */
static double
median(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof *v, cmp_u64);
	return (double)v[n / 2];
}

/* One byte back and forth ROUNDS times, this process on vCPU 0 and the
 * echo on vCPU `other`: the median round trip in µs. */
static double
pingpong(int other)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1, s;
	char b = 'x';
	pid_t child;

	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 1) < 0 ||
	    getsockname(l, (struct sockaddr *)&a, &al) < 0)
		die("listen");
	if ((child = fork()) == 0) {
		int c = socket(AF_INET, SOCK_STREAM, 0);
		pin(other);
		if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof a) < 0)
			_exit(1);
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		while (read(c, &b, 1) == 1 && write(c, &b, 1) == 1)
			;
		_exit(0);
	}
	pin(0);
	if (child < 0 || (s = accept(l, NULL, NULL)) < 0)
		die("accept");
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	for (int i = 0; i < ROUNDS; i++) {
		uint64_t t = wk_now_ns();
		if (write(s, &b, 1) != 1 || read(s, &b, 1) != 1)
			die("ping-pong");
		lat[i] = wk_now_ns() - t;
	}
	close(s);
	close(l);
	waitpid(child, NULL, 0);
	return median(lat, ROUNDS) / 1e3;
}

/* fdatasync after each 1 KB append to a new file: the median in µs. */
static double
datasync(const char *dir)
{
	char path[4096], buf[1024];
	int fd;

	snprintf(path, sizeof path, "%s/machine.%d", dir, (int)getpid());
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644)) < 0)
		die(path);
	memset(buf, 'w', sizeof buf);
	for (int i = 0; i < SYNCS; i++) {
		if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf)
			die("write");
		uint64_t t = wk_now_ns();
		if (fdatasync(fd) < 0)
			die("fdatasync");
		lat[i] = wk_now_ns() - t;
	}
	close(fd);
	unlink(path);
	return median(lat, SYNCS) / 1e3;
}

/* A random cycle through 64 MB of cache lines, followed for CHASE_STEPS
 * dependent loads: ns per load. */
static double
chase(void)
{
	size_t n = CHASE_BYTES / 64, *next = aligned_alloc(64, CHASE_BYTES);
	size_t *order = malloc(n * sizeof *order), at = 0;

	if (next == NULL || order == NULL)
		die("malloc");
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	srandom(1);
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = (size_t)random() % (i + 1), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (size_t i = 0; i < n; i++)
		next[order[i] * 8] = order[(i + 1) % n] * 8;
	free(order);
	uint64_t t = wk_now_ns();
	for (int i = 0; i < CHASE_STEPS; i++)
		at = next[at];
	t = wk_now_ns() - t;
	free(next);
	return at == (size_t)-1 ? 0 : (double)t / CHASE_STEPS;
}

/* ns per add of a dependent chain the compiler cannot fold. */
static double
adds(void)
{
	volatile uint64_t x = 0;
	uint64_t t = wk_now_ns();

	for (uint64_t i = 0; i < 100000000; i++)
		x += i;
	return (double)(wk_now_ns() - t) / 1e8;
}

int
main(int argc, char **argv)
{
	const char *dir = ".", *csv = NULL;
	int c;

	while ((c = getopt(argc, argv, "d:o:")) != -1) {
		if (c == 'd')
			dir = optarg;
		else if (c == 'o')
			csv = optarg;
		else {
			fprintf(stderr, "usage: machine [-d dir] [-o csv]\n");
			return 2;
		}
	}
	double pp2 = pingpong(1), pp1 = pingpong(0), fs = datasync(dir), mem = chase(),
	    add = adds();
	printf("machine: loopback round trip across vCPUs p50 %.1f us, on one vCPU %.1f us;"
	    " fdatasync after 1 KB p50 %.0f us; random load in 64 MB %.1f ns; add %.2f ns\n",
	    pp2, pp1, fs, mem, add);
	if (csv) {
		FILE *f = fopen(csv, "a");
		if (f == NULL)
			die(csv);
		fprintf(f, "%.1f,%.1f,%.0f,%.1f,%.2f\n", pp2, pp1, fs, mem, add);
		fclose(f);
	}
	return 0;
}
