/* wktest.c - integration test helpers (see wktest.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "wktest.h"

int
wkt_run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

uint64_t
wkt_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void wkt_tick(void) { poll(NULL, 0, 20); }

char *
wkt_tmpdir(void)
{
	char *d = strdup("/tmp/wkt-XXXXXX");
	if (mkdtemp(d) == NULL)
		abort();
	return d;
}

void
wkt_rm_rf(const char *dir)
{
	char *out = NULL;
	if (dir && strncmp(dir, "/tmp/wkt-", 9) == 0)
		wkt_run(&out, "rm -rf '%s'", dir);
	free(out);
}

void
wkt_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		abort();
	fputs(text, f);
	fclose(f);
}

char *
wkt_read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n + 1);
	n = (long)fread(buf, 1, n, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

char *
wkt_write_config(const char *dir, const char *extra)
{
	char *path, text[8192];

	if (asprintf(&path, "%s/wk.yaml", dir) < 0)
		abort();
	snprintf(text, sizeof text,
	    "rootDir: %s\n"
	    "logger:\n  level: 2\n"
	    "processes:\n  broker: 2\n  channel: 2\n  mailbox: 2\n"
	    "supervisor:\n  readyTimeout: 10s\n  stopTimeout: 5s\n  respawnDelay: 100ms\n"
	    "presence:\n  capacity: 1024\n"
	    "storage:\n  cacheSize: 4m\n"
	    "%s", dir, extra ? extra : "");
	wkt_write_file(path, text);
	return path;
}

char *
wkt_bin(const char *name)
{
	char *p;
	if (asprintf(&p, "%s/%s", WK_TEST_BUILDDIR, name) < 0)
		abort();
	return p;
}

pid_t
wkt_start_master(const char *config, const char *dir)
{
	char *bin = wkt_bin("wk-master"), log[512];
	pid_t pid;

	snprintf(log, sizeof log, "%s/master.log", dir);
	pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		dup2(fd, 2);
		dup2(fd, 1);
		execl(bin, bin, "-d", "-f", config, (char *)NULL);
		_exit(127);
	}
	free(bin);
	return pid;
}

int
wkt_run(char **out, const char *fmt, ...)
{
	char *cmd, *full;
	va_list ap;
	FILE *p;
	size_t len = 0, cap = 4096;
	int st;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		abort();
	va_end(ap);
	if (asprintf(&full, "%s 2>&1", cmd) < 0)
		abort();
	p = popen(full, "r");
	*out = malloc(cap);
	for (;;) {
		size_t n = fread(*out + len, 1, cap - len - 1, p);
		if (n == 0)
			break;
		len += n;
		if (cap - len < 1024)
			*out = realloc(*out, cap *= 2);
	}
	(*out)[len] = '\0';
	st = pclose(p);
	free(cmd);
	free(full);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void
parse_line(char *line, struct wkt_proc *p)
{
	char *tok, *save;

	memset(p, 0, sizeof *p);
	for (tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		if (sscanf(tok, "role=%15s", p->role) == 1 || sscanf(tok, "state=%15s", p->state) == 1 ||
		    sscanf(tok, "instance=%d", &p->instance) == 1 || sscanf(tok, "pid=%d", &p->pid) == 1 ||
		    sscanf(tok, "restarts=%u", &p->restarts) == 1 ||
		    sscanf(tok, "next_delay_ms=%llu", &p->next_delay_ms) == 1 ||
		    sscanf(tok, "reloads=%u", &p->reloads) == 1 ||
		    sscanf(tok, "reload_failures=%u", &p->reload_failures) == 1)
			continue;
	}
}

int
wkt_status(const char *run_dir, struct wkt_proc *out, int max)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[32768];
	size_t len = 0;
	int fd, n = 0;

	snprintf(sa.sun_path, sizeof sa.sun_path, "%s/master.sock", run_dir);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		close(fd);
		return -1;
	}
	if (write(fd, "status\n", 7) != 7) {
		close(fd);
		return -1;
	}
	for (;;) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		if (poll(&pfd, 1, 5000) != 1)
			break;
		ssize_t r = read(fd, buf + len, sizeof buf - 1 - len);
		if (r <= 0)
			break;
		len += r;
	}
	close(fd);
	buf[len] = '\0';
	for (char *save, *line = strtok_r(buf, "\n", &save); line && n < max;
	    line = strtok_r(NULL, "\n", &save))
		parse_line(line, &out[n++]);
	return n > 0 ? n : -1;
}

int
wkt_wait_ready(const char *run_dir, int n, int timeout_ms)
{
	uint64_t end = wkt_now_ms() + timeout_ms;
	struct wkt_proc v[64];

	while (wkt_now_ms() < end) {
		int got = wkt_status(run_dir, v, 64), ready = 0;
		for (int i = 1; i < got; i++)
			ready += strcmp(v[i].state, "ready") == 0;
		if (got == n && ready == n - 1)
			return 0;
		wkt_tick();
	}
	return -1;
}

int
wkt_wait_exit(pid_t pid, int timeout_ms, int *status)
{
	uint64_t end = wkt_now_ms() + timeout_ms;
	int st = 0;

	while (wkt_now_ms() < end) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid || (r < 0 && errno == ECHILD && kill(pid, 0) < 0)) {
			if (status)
				*status = st;
			return 0;
		}
		wkt_tick();
	}
	return -1;
}

struct wkt_proc *
wkt_find(struct wkt_proc *v, int n, const char *role, int instance)
{
	for (int i = 0; i < n; i++)
		if (strcmp(v[i].role, role) == 0 && v[i].instance == instance)
			return &v[i];
	return NULL;
}
