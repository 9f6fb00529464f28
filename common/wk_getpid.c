/* wk_getpid.c - getpid(2) answered from memory.
 *
 * libzmq checks getpid() on every signal between a socket and its I/O
 * thread (its guard against use after fork), and glibc stopped caching the
 * pid in 2.25: at 10,000 messages a second that was 13 system calls per
 * message across the brokers, the shards and their I/O threads
 * (bench/README.md).  This definition, linked into every wk program,
 * takes the place of libc's for libzmq too (the dynamic linker looks in the
 * executable first).  A fork resets it in the child (pthread_atfork); a
 * vfork or posix_spawn child shares the parent's memory and execs before
 * anything here asks. */
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

static pid_t wk_pid;

static void
pid_forget(void)
{
	__atomic_store_n(&wk_pid, 0, __ATOMIC_RELAXED);
}

__attribute__((constructor)) static void
pid_init(void)
{
	pthread_atfork(NULL, NULL, pid_forget);
}

pid_t
getpid(void)
{
	pid_t p = __atomic_load_n(&wk_pid, __ATOMIC_RELAXED);

	if (p == 0) {
		p = (pid_t)syscall(SYS_getpid);
		__atomic_store_n(&wk_pid, p, __ATOMIC_RELAXED);
	}
	return p;
}
