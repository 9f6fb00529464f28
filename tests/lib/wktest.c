/* wktest.c - integration test helpers (see wktest.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <curl/curl.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include <czmq.h>
#include "wk_buf.h"
#include "wk_crypto.h"
#include "wk_msg.h"
#include "wk_db.h"
#include "wk_proc.h"
#include "wk_txn.h"
#include "lastmsg.h"
#include "presence.h"
#include "stats.h"
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

/* Does the YAML text have the top-level section `name`? */
static int
has_section(const char *text, const char *name)
{
	size_t n = strlen(name);

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, name, n) == 0 && l[n] == ':')
			return 1;
	return 0;
}

char *
wkt_write_config(const char *dir, const char *extra)
{
	char *path, text[8192];

	if (asprintf(&path, "%s/wk.yaml", dir) < 0)
		abort();
	/* The console and the demo listen on fixed ports by default: off in
	 * tests (trees run side by side) unless extra configures them; a small
	 * cache unless extra has a storage section of its own. */
	snprintf(text, sizeof text,
	    "rootDir: %s\n"
	    "logger:\n  level: 2\n"
	    "processes:\n  broker: 2\n  channel: 2\n  mailbox: 2\n"
	    "supervisor:\n  readyTimeout: 10s\n  stopTimeout: 5s\n  respawnDelay: 100ms\n"
	    "presence:\n  capacity: 1024\n"
	    "%s%s%s%s", dir, has_section(extra, "storage") ? "" : "storage:\n  cacheSize: 4m\n",
	    has_section(extra, "manager") ? "" : "manager:\n  on: false\n",
	    has_section(extra, "demo") ? "" : "demo:\n  on: false\n", extra ? extra : "");
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

/* The master's status text (every process's line) into buf: its length,
 * or -1. */
static int
status_text(const char *run_dir, char *buf, size_t cap)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = 0;
	int fd;

	snprintf(sa.sun_path, sizeof sa.sun_path, "%s/master.sock", run_dir);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || write(fd, "status\n", 7) != 7) {
		close(fd);
		return -1;
	}
	for (;;) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		if (poll(&pfd, 1, 5000) != 1)
			break;
		ssize_t r = read(fd, buf + len, cap - 1 - len);
		if (r <= 0)
			break;
		len += r;
	}
	close(fd);
	buf[len] = '\0';
	return (int)len;
}

int
wkt_status(const char *run_dir, struct wkt_proc *out, int max)
{
	char buf[32768];
	int n = 0;

	if (status_text(run_dir, buf, sizeof buf) < 0)
		return -1;
	for (char *save, *line = strtok_r(buf, "\n", &save); line && n < max;
	    line = strtok_r(NULL, "\n", &save))
		parse_line(line, &out[n++]);
	return n > 0 ? n : -1;
}

/* The value of `key` in a status line ("k=v k2=v2 ..."): where it starts,
 * its length in *n; NULL if the line has no such key. */
static const char *
status_value(const char *line, const char *key, size_t *n)
{
	size_t kl = strlen(key);

	for (const char *p = line; (p = strstr(p, key)) != NULL; p += kl)
		if ((p == line || p[-1] == ' ') && p[kl] == '=') {
			*n = strcspn(p + kl + 1, " \n");
			return p + kl + 1;
		}
	return NULL;
}

/* Is the line that of role (and of instance, when it is >= 0)? */
static int
status_is(const char *line, const char *role, int instance)
{
	size_t n;
	const char *v = status_value(line, "role", &n);

	if (v == NULL || n != strlen(role) || strncmp(v, role, n) != 0)
		return 0;
	return instance < 0 || ((v = status_value(line, "instance", &n)) != NULL &&
	    atoi(v) == instance);
}

long long
wkt_status_sum(const char *run_dir, const char *role, const char *key)
{
	char buf[65536];
	long long sum = 0;

	if (status_text(run_dir, buf, sizeof buf) < 0)
		return -1;
	for (char *save, *line = strtok_r(buf, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save)) {
		size_t n;
		const char *v = status_value(line, key, &n);
		if (v && (role == NULL || status_is(line, role, -1)))
			sum += strtoll(v, NULL, 10);
	}
	return sum;
}

int
wkt_status_field(const char *run_dir, const char *role, int instance, const char *key,
    char *out, size_t len)
{
	char buf[65536];

	if (status_text(run_dir, buf, sizeof buf) < 0)
		return 0;
	for (char *save, *line = strtok_r(buf, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save)) {
		size_t n;
		const char *v;
		if (!status_is(line, role, instance))
			continue;
		if ((v = status_value(line, key, &n)) == NULL)
			return 0;
		snprintf(out, len, "%.*s", (int)n, v);
		return 1;
	}
	return 0;
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

char *
wkt_find_program(const char *env, const char *const *names)
{
	const char *e = getenv(env), *path = getenv("PATH");
	char *p;

	if (e && *e)
		return strchr(e, '/') ? strdup(e) : wkt_find_program("", (const char *const[]){ e, NULL });
	for (int i = 0; names[i]; i++) {
		char *dirs = strdup(path ? path : "/usr/bin:/bin"), *save, *d;
		for (d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
			if (asprintf(&p, "%s/%s", *d ? d : ".", names[i]) < 0)
				abort();
			if (access(p, X_OK) == 0) {
				free(dirs);
				return p;
			}
			free(p);
		}
		free(dirs);
	}
	return NULL;
}

void
wkt_store_open(struct wk_proc *p, const char *dir, const char *const *dbs,
    const uint32_t *pagesize, const char *sync)
{
	p->env = calloc(1, sizeof *p->env);
	ck_assert_ptr_nonnull(p->env);
	ck_assert_int_eq(wk_db_env_open(p->env, dir, sync, 8 << 20), 0);
	for (int i = 0; dbs[i]; i++)
		ck_assert_int_eq(wk_db_open(p->env, dbs[i], pagesize ? pagesize[i] : 0, &p->db[i]), 0);
	p->txn = wk_txn_new(p, 0);   /* the group commit, as the skeleton makes it */
}

void
wkt_store_close(struct wk_proc *p)
{
	wk_txn_destroy(&p->txn);
	for (int i = 0; i < WK_PROC_MAX_DBS; i++)
		if (p->db[i]) {
			p->db[i]->close(p->db[i], 0);
			p->db[i] = NULL;
		}
	wk_db_env_close(p->env);
	free(p->env);
	p->env = NULL;
}

int
wkt_free_port(void)
{
	static unsigned seed;

	/* Not port 0's pick: the kernel hands that out from the ephemeral range
	 * (32768-60999), where any process's next outgoing connection (a
	 * client, a replication site reconnecting) may take it before the tree
	 * binds it.  Below that range only another explicit choice can: a
	 * port is claimed with a file of its name, created exclusively, so no
	 * test running beside this one (make -j) nor a later case of this one
	 * takes it between the pick and the tree's bind; a claim older than
	 * ten minutes is a finished test's and is taken over. */
	if (seed == 0)
		seed = (unsigned)getpid() ^ (unsigned)wkt_now_ms();
	(void)mkdir("/tmp/wkt-ports", 01777);
	for (int tries = 0; tries < 1000; tries++) {
		int port = 10000 + (int)(rand_r(&seed) % 22000), fd, ok;
		struct sockaddr_in sa = { .sin_family = AF_INET,
		    .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons((uint16_t)port) };
		char claim[64];
		struct stat st;

		snprintf(claim, sizeof claim, "/tmp/wkt-ports/%d", port);
		if ((fd = open(claim, O_WRONLY | O_CREAT | O_EXCL, 0666)) < 0) {
			if (errno != EEXIST || stat(claim, &st) != 0 ||
			    time(NULL) - st.st_mtime < 600 || unlink(claim) != 0 ||
			    (fd = open(claim, O_WRONLY | O_CREAT | O_EXCL, 0666)) < 0)
				continue;
		}
		close(fd);
		if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
			continue;
		ok = bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
		close(fd);
		if (ok)
			return port;
	}
	abort();
}

/* Claim ports [base, base + n*128) for this process: one file per 128
 * ports under /tmp/wkt-ports, created exclusively, holding the claimer's
 * pid; a claim whose process is gone is taken over.  1, or 0 with nothing
 * claimed. */
static int
claim_chunks(int base, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		char claim[64], pid[16];
		int fd;

		snprintf(claim, sizeof claim, "/tmp/wkt-ports/chunk-%d", base + i * 128);
		if ((fd = open(claim, O_WRONLY | O_CREAT | O_EXCL, 0666)) < 0) {
			char *held = errno == EEXIST ? wkt_read_file(claim) : NULL;
			int owner = held ? atoi(held) : 0;
			free(held);
			if (owner <= 0 || (kill(owner, 0) == 0 || errno != ESRCH) || unlink(claim) != 0 ||
			    (fd = open(claim, O_WRONLY | O_CREAT | O_EXCL, 0666)) < 0)
				break;
		}
		snprintf(pid, sizeof pid, "%d\n", (int)getpid());
		if (write(fd, pid, strlen(pid)) != (ssize_t)strlen(pid)) {
			/* An empty claim is taken over: harmless. */
		}
		close(fd);
	}
	if (i == n)
		return 1;
	while (i-- > 0) {
		char claim[64];
		snprintf(claim, sizeof claim, "/tmp/wkt-ports/chunk-%d", base + i * 128);
		unlink(claim);
	}
	return 0;
}

int
wkt_free_port_block(const char *const *addrs, int naddrs, int count)
{
	/* Bases every 128 ports in 2048..9999, below wkt_free_port's range;
	 * claims by chunks of 128, so that blocks of any size never overlap. */
	const int lo = 2048, hi = 10000, chunks = (count + 127) / 128;
	int nbases = (hi - chunks * 128 - lo) / 128 + 1, first;

	if (nbases < 1)
		return -1;
	first = (int)(((unsigned)getpid() ^ (unsigned)wkt_now_ms()) % (unsigned)nbases);
	(void)mkdir("/tmp/wkt-ports", 01777);
	for (int k = 0; k < nbases; k++) {
		int base = lo + ((first + k) % nbases) * 128, ok = 1;

		if (!claim_chunks(base, chunks))
			continue;
		/* SO_REUSEADDR as the listeners (ZeroMQ, the replication
		 * manager) set it: a port left in TIME_WAIT is free to them. */
		for (int a = 0; ok && a < naddrs; a++)
			for (int port = base; ok && port < base + count; port++) {
				struct sockaddr_in sa = { .sin_family = AF_INET,
				    .sin_port = htons((uint16_t)port) };
				int one = 1, s = socket(AF_INET, SOCK_STREAM, 0);
				ok = s >= 0 && inet_pton(AF_INET, addrs[a], &sa.sin_addr) == 1 &&
				    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
				    bind(s, (struct sockaddr *)&sa, sizeof sa) == 0;
				if (s >= 0)
					close(s);
			}
		if (ok)
			return base;
		for (int i = 0; i < chunks; i++) {
			char claim[64];
			snprintf(claim, sizeof claim, "/tmp/wkt-ports/chunk-%d", base + i * 128);
			unlink(claim);
		}
	}
	return -1;
}

struct http_body {
	char *p;
	size_t len;
};

static size_t
http_write(char *data, size_t size, size_t n, void *arg)
{
	struct http_body *b = arg;

	b->p = realloc(b->p, b->len + size * n + 1);
	memcpy(b->p + b->len, data, size * n);
	b->len += size * n;
	b->p[b->len] = '\0';
	return size * n;
}

long
wkt_http(const char *method, const char *url, const char *json, char **body,
    const char *const *headers)
{
	return wkt_http_ms(method, url, json, body, headers, 10000);
}

long
wkt_http_ms(const char *method, const char *url, const char *json, char **body,
    const char *const *headers, long timeout_ms)
{
	struct http_body b = { calloc(1, 1), 0 };
	struct curl_slist *hl = NULL;
	CURL *h = curl_easy_init();
	long status = -1;

	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, http_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	if (json) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, json);
		hl = curl_slist_append(hl, "Content-Type: application/json");
	}
	for (int i = 0; headers && headers[i]; i++)
		hl = curl_slist_append(hl, headers[i]);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hl);
	curl_easy_cleanup(h);
	if (body)
		*body = b.p;
	else
		free(b.p);
	return status;
}

/* The processes whose arguments hold "-f config", in /proc (a zombie's
 * are empty: it is gone), wk-master first; how many (at most max). */
static int
tree_pids(const char *config, pid_t *out, int max)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	if (d == NULL || config == NULL) {
		if (d)
			closedir(d);
		return 0;
	}
	while ((e = readdir(d)) != NULL && n < max) {
		char path[300], args[4096];
		pid_t pid = (pid_t)atoi(e->d_name);
		ssize_t len;
		int fd, match = 0;

		if (pid <= 0 || pid == getpid())
			continue;
		snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		len = read(fd, args, sizeof args - 1);
		close(fd);
		if (len <= 0)
			continue;
		args[len] = '\0';
		for (char *a = args; a < args + len; a += strlen(a) + 1)
			if (strcmp(a, "-f") == 0 && a + 3 < args + len && strcmp(a + 3, config) == 0)
				match = 1;
		if (!match)
			continue;
		const char *slash = strrchr(args, '/');
		if (strcmp(slash ? slash + 1 : args, "wk-master") == 0 && n > 0) {
			out[n++] = out[0];       /* the master goes first */
			out[0] = pid;
		} else
			out[n++] = pid;
	}
	closedir(d);
	return n;
}

/* Remove the tree's shared-memory segments (a master that exited has
 * removed them already; one killed with SIGKILL leaves ~16 MB each). */
static void
tree_unlink_segments(const char *run)
{
	char name[64];

	presence_name(run, name, sizeof name);
	presence_unlink(name);
	lastmsg_name(run, name, sizeof name);
	lastmsg_unlink(name);
	stats_name(run, name, sizeof name);
	stats_unlink(name);
}

/* If the test process dies on a failed assertion (Check's fork mode then
 * skips the teardown), stop the tree anyway: a child that waits for the end
 * of a pipe only the test process holds.  It leaves the process group,
 * which Check kills after each test. */
static void
start_watchdog(struct wkt_tree *t)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		abort();
	t->watchdog = fork();
	if (t->watchdog == 0) {
		char c;
		setpgid(0, 0);
		close(p[1]);
		for (int fd = 3; fd < 256; fd++)
			if (fd != p[0])
				close(fd);
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		/* The tree may have been restarted since: its pid file names the
		 * master of now.  A test may have stopped it (SIGSTOP): it runs
		 * again first.  What is left after the master's stop (children of
		 * a master killed, by the test or by Check with the test's
		 * process group) is killed. */
		char path[512], *pidtext;
		pid_t master = t->master, left[256];
		int n = tree_pids(t->config, left, 256);
		for (int i = n - 1; i >= 0; i--)
			kill(left[i], SIGCONT);
		snprintf(path, sizeof path, "%s/wk-master.pid", t->run);
		if ((pidtext = wkt_read_file(path)) != NULL && atoi(pidtext) > 0)
			master = atoi(pidtext);
		if (master > 0 && kill(master, 0) == 0) {
			kill(master, SIGTERM);
			for (int i = 0; i < 1000 && kill(master, 0) == 0; i++)
				poll(NULL, 0, 20);
		}
		n = tree_pids(t->config, left, 256);
		for (int i = 0; i < n; i++)
			kill(left[i], SIGKILL);
		tree_unlink_segments(t->run);
		if (getenv("WKT_KEEP")) {   /* as wkt_tree_stop: to read master.log */
			fprintf(stderr, "wktest: kept %s\n", t->dir);
			_exit(0);
		}
		if (strncmp(t->dir, "/tmp/wkt-", 9) == 0)
			execlp("rm", "rm", "-rf", t->dir, (char *)NULL);
		_exit(0);
	}
	close(p[0]);
	t->watchdog_fd = p[1];
}

void
wkt_tree_prepare(struct wkt_tree *t, const char *extra)
{
	char text[4096];

	memset(t, 0, sizeof *t);
	t->dir = wkt_tmpdir();
	t->tcp_port = wkt_free_port();
	t->ws_port = wkt_free_port();
	t->http_port = wkt_free_port();
	snprintf(t->http, sizeof t->http, "http://127.0.0.1:%d", t->http_port);
	snprintf(text, sizeof text, "addr: tcp://127.0.0.1:%d\nwsAddr: ws://127.0.0.1:%d\n"
	    "httpAddr: 127.0.0.1:%d\n%s", t->tcp_port, t->ws_port, t->http_port, extra ? extra : "");
	t->config = wkt_write_config(t->dir, text);
	if (asprintf(&t->run, "%s/run", t->dir) < 0)
		abort();
}

void
wkt_tree_launch(struct wkt_tree *t)
{
	t->master = wkt_start_master(t->config, t->dir);
	if (t->watchdog == 0)
		start_watchdog(t);
	if (wkt_wait_ready(t->run, WKT_NPROCS, 20000) < 0) {
		char path[512], *log;
		snprintf(path, sizeof path, "%s/master.log", t->dir);
		log = wkt_read_file(path);
		ck_abort_msg("tree not ready; master.log:\n%s", log ? log : "(none)");
	}
}

void
wkt_tree_start(struct wkt_tree *t, const char *extra)
{
	wkt_tree_prepare(t, extra);
	wkt_tree_launch(t);
}

void
wkt_tree_halt(struct wkt_tree *t)
{
	ck_assert_int_gt(t->master, 0);       /* kill(0, ...) would signal the test */
	kill(t->master, SIGTERM);
	ck_assert_int_eq(wkt_wait_exit(t->master, 20000, NULL), 0);
	t->master = 0;
}

void
wkt_tree_stop(struct wkt_tree *t)
{
	if (t->master > 0) {
		wkt_tree_signal(t, SIGCONT);      /* a tree a test stopped */
		kill(t->master, SIGTERM);
		wkt_wait_exit(t->master, 20000, NULL);
	}
	/* A master killed with SIGKILL and not started again (a test that
	 * failed half-way) leaves its shared-memory segments behind, ~16 MB
	 * of /dev/shm each time; one that exited has removed them already.
	 * Its children, if a test killed it alone, are killed here. */
	if (t->run) {
		pid_t left[256];
		int n = tree_pids(t->config, left, 256);
		for (int i = 0; i < n; i++)
			kill(left[i], SIGKILL);
		tree_unlink_segments(t->run);
	}
	if (getenv("WKT_KEEP"))   /* to read master.log after a failure */
		fprintf(stderr, "wktest: kept %s\n", t->dir);
	else
		wkt_rm_rf(t->dir);
	if (t->watchdog > 0) {
		close(t->watchdog_fd);
		waitpid(t->watchdog, NULL, 0);
	}
	free(t->dir);
	free(t->config);
	free(t->run);
	memset(t, 0, sizeof *t);
}

int
wkt_tree_pid(struct wkt_tree *t, const char *role, int instance)
{
	struct wkt_proc v[64], *p;
	int n = wkt_status(t->run, v, 64);

	p = n > 0 ? wkt_find(v, n, role, instance) : NULL;
	return p ? p->pid : -1;
}

int
wkt_tree_pids(const struct wkt_tree *t, pid_t *out, int max)
{
	return tree_pids(t->config, out, max);
}

int
wkt_tree_signal(const struct wkt_tree *t, int sig)
{
	pid_t pids[256];
	int n = tree_pids(t->config, pids, 256);

	if (sig == SIGCONT)
		for (int i = n - 1; i >= 0; i--)
			kill(pids[i], sig);
	else
		for (int i = 0; i < n; i++)
			kill(pids[i], sig);
	return n;
}

void
wkt_tree_kill_all(struct wkt_tree *t)
{
	pid_t pids[256];
	uint64_t end = wkt_now_ms() + 10000;
	int n;

	/* The master first, so that it restarts nothing; then every child,
	 * and again whatever a later scan still finds (a child the master
	 * forked between the scan and its death). */
	n = wkt_tree_pids(t, pids, 256);
	ck_assert_msg(n > 0, "no process of the tree %s", t->dir);
	for (int i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
	if (t->master > 0)
		ck_assert_int_eq(wkt_wait_exit(t->master, 10000, NULL), 0);
	while ((n = wkt_tree_pids(t, pids, 256)) > 0 && wkt_now_ms() < end) {
		for (int i = 0; i < n; i++)
			kill(pids[i], SIGKILL);
		wkt_tick();
	}
	ck_assert_msg(n == 0, "%d processes of %s outlived SIGKILL", n, t->dir);
	t->master = 0;
}

int
wkt_online_count(const struct wkt_tree *t, const char *uid, int device_flag)
{
	char url[128], body[256], *resp;
	json_t *j, *e;
	size_t i;
	int n = -1;

	snprintf(url, sizeof url, "%s/user/onlinestatus", t->http);
	snprintf(body, sizeof body, "[\"%s\"]", uid);
	if (wkt_http("POST", url, body, &resp, NULL) == 200 &&
	    (j = json_loads(resp, 0, NULL)) != NULL) {
		if (json_is_array(j)) {
			n = 0;
			json_array_foreach(j, i, e)
				n += device_flag < 0 ||
				    json_integer_value(json_object_get(e, "device_flag")) == device_flag;
		}
		json_decref(j);
	}
	free(resp);
	return n;
}

int
wkt_wait_online(const struct wkt_tree *t, const char *uid, int device_flag, int want,
    int timeout_ms)
{
	uint64_t end = wkt_now_ms() + timeout_ms;
	int n;

	while ((n = wkt_online_count(t, uid, device_flag)) != want && wkt_now_ms() < end)
		wkt_tick();
	return n;
}

void
wkt_set_token(const struct wkt_tree *t, const char *uid, const char *token,
    int device_flag, int device_level)
{
	char url[128], body[512], *resp;
	long st;

	snprintf(url, sizeof url, "%s/user/token", t->http);
	snprintf(body, sizeof body, "{\"uid\":\"%s\",\"token\":\"%s\",\"device_flag\":%d,"
	    "\"device_level\":%d}", uid, token, device_flag, device_level);
	st = wkt_http("POST", url, body, &resp, NULL);
	ck_assert_msg(st == 200 && strstr(resp, "200"), "POST /user/token %s: %ld %s", body, st, resp);
	free(resp);
}

void
wkt_tree_kill9(struct wkt_tree *t, const char *role, int instance)
{
	int before = wkt_tree_pid(t, role, instance);
	uint64_t end = wkt_now_ms() + 15000;

	ck_assert_int_eq(kill(before, SIGKILL), 0);
	while ((wkt_tree_pid(t, role, instance) == before ||
	    wkt_wait_ready(t->run, WKT_NPROCS, 100) < 0) && wkt_now_ms() < end)
		wkt_tick();
	ck_assert_msg(wkt_tree_pid(t, role, instance) != before, "%s/%d not respawned",
	    role, instance);
	ck_assert_int_eq(wkt_wait_ready(t->run, WKT_NPROCS, 100), 0);
}

json_t *
wkt_vec_load(const char *name)
{
	char path[1024];
	json_error_t jerr;
	json_t *j;

	snprintf(path, sizeof path, "%s/tests/vectors/%s", WK_TEST_SRCDIR, name);
	j = json_load_file(path, 0, &jerr);
	ck_assert_msg(j != NULL, "%s: %s", path, jerr.text);
	return j;
}

uint8_t *
wkt_unhex(const char *hex, size_t *len)
{
	size_t n = strlen(hex) / 2;
	uint8_t *b = malloc(n + 1);

	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(strlen(hex) % 2, 0);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		ck_assert_int_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
		b[i] = (uint8_t)v;
	}
	*len = n;
	return b;
}

json_t *
wkt_call(const struct wkt_tree *t, const char *method, const char *path, const char *body,
    long status)
{
	char url[1024], *got = NULL;
	json_t *j;
	long st;

	snprintf(url, sizeof url, "%s%s", t->http, path);
	st = wkt_http(method, url, body, &got, NULL);
	ck_assert_msg(st == status, "%s %s %s: status %ld, want %ld (%s)", method, path,
	    body ? body : "", st, status, got);
	j = json_loads(got ? got : "", JSON_DECODE_ANY, NULL);
	ck_assert_msg(j != NULL, "%s %s: not JSON: %s", method, path, got);
	free(got);
	return j;
}

void
wkt_expect(const struct wkt_tree *t, const char *method, const char *path, const char *body,
    long status, const char *want)
{
	json_t *g = wkt_call(t, method, path, body, status), *w;
	char *text;

	w = json_loads(want, JSON_DECODE_ANY, NULL);
	ck_assert_msg(w != NULL, "bad expectation %s", want);
	text = json_dumps(g, JSON_COMPACT | JSON_ENCODE_ANY);
	ck_assert_msg(json_equal(g, w), "%s %s %s: body %s, want %s", method, path,
	    body ? body : "", text, want);
	free(text);
	json_decref(g);
	json_decref(w);
}

void
wkt_post_ok(const struct wkt_tree *t, const char *path, const char *body)
{
	wkt_expect(t, "POST", path, body, 200, "{\"status\":200}");
}

long long
wkt_send_text(const struct wkt_tree *t, const char *from, const char *to, int type,
    const char *text, const char *header, const char *extra, int64_t *id)
{
	char p[1024], body[4096];
	json_t *j, *d;
	long long seq;

	ck_assert(strlen(text) <= 700);
	p[wk_b64_encode(text, strlen(text), p)] = '\0';
	snprintf(body, sizeof body, "{\"from_uid\":\"%s\",\"channel_id\":\"%s\",\"channel_type\":%d,"
	    "\"payload\":\"%s\",\"header\":%s%s}", from, to, type, p,
	    header ? header : "{\"red_dot\":1}", extra ? extra : "");
	j = wkt_call(t, "POST", "/message/send", body, 200);
	d = json_object_get(j, "data");
	ck_assert_msg(json_integer_value(json_object_get(j, "status")) == 200 &&
	    json_integer_value(json_object_get(d, "reason_code")) == 1, "send %s", body);
	seq = json_integer_value(json_object_get(d, "message_seq"));
	if (id)
		*id = json_integer_value(json_object_get(d, "message_id"));
	json_decref(j);
	return seq;
}

void
wkt_expect_400(const struct wkt_tree *t, const char *method, const char *path,
    const char *body, const char *msg)
{
	json_t *w = json_pack("{s:s,s:i}", "msg", msg, "status", 400);
	char *want = json_dumps(w, JSON_COMPACT);

	wkt_expect(t, method, path, body, 400, want);
	free(want);
	json_decref(w);
}

/* A tool's inbox in the tree's run directory and the corr of its last ask.
 * One per test process: a reply sent to an inbox just closed and bound
 * again can be lost. */
struct wkt_shard_link {
	char run[512];
	zsock_t *inbox;
	int instance;
	uint64_t corr;
};

struct wkt_shard_link *
wkt_shard_link_new(const struct wkt_tree *t)
{
	struct wkt_shard_link *l = calloc(1, sizeof *l);

	ck_assert_ptr_nonnull(l);
	snprintf(l->run, sizeof l->run, "%s", t->run);
	l->instance = (int)(getpid() & 0x7fff);
	l->inbox = zsock_new_pull(NULL);
	ck_assert_int_eq(zsock_bind(l->inbox, "ipc://%s/ctl-%d.ipc", l->run, l->instance), 0);
	zsock_set_rcvtimeo(l->inbox, 5000);
	return l;
}

void
wkt_shard_link_destroy(struct wkt_shard_link **l)
{
	if (*l == NULL)
		return;
	zsock_destroy(&(*l)->inbox);
	free(*l);
	*l = NULL;
}

int
wkt_shard_ask(struct wkt_shard_link *l, const char *role, int instance, int type,
    const void *payload, size_t plen, uint8_t **answer, size_t *len)
{
	struct wk_msg_hdr h = { .version = WK_MSG_VERSION, .type = (uint16_t)type,
	    .sender_role = WK_ROLE_CTL, .sender_instance = (uint16_t)l->instance,
	    .corr = ++l->corr }, rh;
	zsock_t *out = zsock_new_push(NULL);
	zmsg_t *m = wk_msg_new(&h), *rep;
	zframe_t *f;
	int status;

	ck_assert_int_eq(zsock_connect(out, "ipc://%s/%s-%d.ipc", l->run, role, instance), 0);
	zmsg_addmem(m, payload, plen);
	ck_assert_int_eq(zmsg_send(&m, out), 0);
	rep = zmsg_recv(l->inbox);
	zsock_destroy(&out);
	ck_assert_msg(rep != NULL && zmsg_size(rep) == 2, "no answer to %s from %s/%d",
	    wk_msg_type_name(type), role, instance);
	f = zmsg_first(rep);
	ck_assert_int_eq(wk_msg_hdr_decode(zframe_data(f), zframe_size(f), &rh), 0);
	ck_assert_uint_eq(rh.corr, l->corr);
	ck_assert_int_eq(rh.type, WK_MSG_API_ANSWER);
	f = zmsg_next(rep);
	ck_assert_uint_ge(zframe_size(f), 2);
	status = wk_be16_get(zframe_data(f));
	*len = zframe_size(f) - 2;
	*answer = malloc(*len + 1);
	memcpy(*answer, zframe_data(f) + 2, *len);
	(*answer)[*len] = 0;
	zmsg_destroy(&rep);
	return status;
}
