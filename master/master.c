/* master.c - wk-master: the supervisor of the wk process tree (wk-master(8)).
 *
 * It takes the pid-file lock, creates the presence and last-message
 * segments (the shards fill them), forks and execs
 * every child the config names (it never creates a ZeroMQ context or opens
 * Berkeley DB itself), waits for each child's "ready", reaps and respawns
 * with back-off, stops the tree in order on SIGTERM and reloads on SIGHUP
 * after validating the new file.  `-c CMD` is the client side for wkctl.
 *
 * Messages: none over ZeroMQ.  The master speaks only lines on a socketpair
 * with each child (fd 3, WK_MASTER_FD: "ready", "status", "ping"/"pong",
 * "error"; master_child.c, master_health.c) and lines on the control socket
 * <runDir>/master.sock (master_ctl.c).  It stays out of the data path so a
 * crashed shard never takes the supervisor with it.
 *
 * Files: master.c (main, signals, reload, daemonize), master_child.c
 * (spawn, reap, back-off, ordered stop), master_ctl.c (control socket and
 * its client), master_health.c (ping rounds, <runDir>/health),
 * master_setup.c (manager token, layout, log file, sd_notify). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>
#include "config.h"
#include "master.h"
#include "wk_alloc.h"
#include "wk_fs.h"
#include "wk_log.h"
#include "wk_msg.h"
#include "wk_shard.h"
#include "wk_time.h"

#define TICK_MS 50

/* Print the options; status 0 for -h/--help (stdout), 2 for bad usage. */
static void
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: wk-master [-dhnv] [-f config] [-c status|stop|reload|ping|pid|datadir|presence [uid]|\n"
	    "       'backup DIR'] [-r]\n"
	    "  -f config  wk.yaml to load (default: the embedded defaults)\n"
	    "  -d         stay in the foreground, log to stderr\n"
	    "  -n         check the configuration and exit (2 if bad)\n"
	    "  -c cmd     talk to the running master (wkctl uses this); -r raw status\n"
	    "  -v         print the version;  -h  this help\n"
	    "See wk-master(8) and wkctl(8).\n");
	exit(status);
}

/* Size of a config field of this kind, for moving reloadable values. */
static size_t
kind_size(enum wk_config_kind k)
{
	switch (k) {
	case WK_CK_STR: case WK_CK_ENUM: return sizeof(char *);
	case WK_CK_BOOL: return sizeof(int);
	case WK_CK_COUNT: return sizeof(int);
	case WK_CK_LIST: return sizeof(struct wk_strlist);
	default: return sizeof(int64_t);
	}
}

/* wk_config_diff callback: a changed key that is not reloadable is logged,
 * not applied; the children keep the value they were started with until
 * the next restart (wk.yaml(5) marks each key's reloadability). */
static void
warn_restart_needed(const struct wk_config_key *k, void *arg)
{
	if (!k->reloadable)
		wk_log_warnx("reload: %s changed; it takes effect at the next restart", k->path);
}

/* Validate the config file again; on success take its reloadable values and
 * pass SIGHUP on to the children (each re-reads the file).  A bad file keeps
 * the running config.  *errors gets the loader's messages (malloc'd). */
int
master_reload(struct master *m, char **errors)
{
	struct wk_config next = { 0 };
	size_t len = 0;
	FILE *ef = open_memstream(errors, &len);

	if (wk_config_load(&next, m->config_path, ef) < 0) {
		fclose(ef);
		m->reload_failures++;
		wk_log_error("reload: %s has errors; keeping the running configuration:\n%s",
		    m->config_path ? m->config_path : "(defaults)", *errors);
		wk_config_free(&next);
		return -1;
	}
	fclose(ef);
	wk_config_diff(&m->cfg, &next, warn_restart_needed, NULL);
	/* Swap the reloadable fields in; the rest stays as the tree was built. */
	for (size_t i = 0; i < wk_config_nkeys; i++) {
		const struct wk_config_key *k = &wk_config_keys[i];
		char tmp[sizeof(struct wk_strlist) + sizeof(int64_t)];
		char *a = (char *)&m->cfg + k->offset, *b = (char *)&next + k->offset;
		if (!k->reloadable)
			continue;
		memcpy(tmp, a, kind_size(k->kind));
		memcpy(a, b, kind_size(k->kind));
		memcpy(b, tmp, kind_size(k->kind));
	}
	wk_config_free(&next);
	m->reloads++;
	/* Children that exited on the old bad config get another chance. */
	for (int i = 0; i < m->nchildren; i++)
		if (m->children[i].state == MASTER_CHILD_FAILED) {
			m->children[i].state = MASTER_CHILD_BACKOFF;
			m->children[i].respawn_at_ms = wk_now_ms();
		}
	master_signal_children(m, SIGHUP);
	master_sd_notify("READY=1");
	wk_log_info("reloaded %s", m->config_path ? m->config_path : "(defaults)");
	return 0;
}

/* Signals arrive through a signalfd, so they are handled in the loop and
 * never interrupt a half-done state change.  SIGCHLD reaps and may respawn;
 * SIGHUP reloads; SIGTERM and SIGINT (anything else in the mask) start the
 * ordered stop. */
static void
on_signal(struct wk_loop *l, int fd, uint32_t ev, void *arg)
{
	struct master *m = arg;
	struct signalfd_siginfo si;
	char *errs = NULL;

	while (read(fd, &si, sizeof si) == sizeof si) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			master_reap(m);
			master_tick_children(m);
			break;
		case SIGHUP:
			master_reload(m, &errs);
			free(errs);
			errs = NULL;
			break;
		default:
			master_begin_stop(m);
		}
	}
}

/* Every TICK_MS: respawn children whose back-off ran out, kill children
 * past readyTimeout, advance the stop phases and answer a `status` whose
 * round has waited long enough. */
static void
on_tick(struct wk_loop *l, uint64_t id, void *arg)
{
	struct master *m = arg;

	master_tick_children(m);
	master_ctl_status_reply(m, 0);
	master_ctl_backup_reply(m);
}

/* The directory holding the daemons: WK_EXEC_DIR, else next to this binary
 * (the build tree), else the installed libexec directory. */
static char *
find_exec_dir(void)
{
	char self[PATH_MAX], probe[PATH_MAX + 16];
	const char *env = getenv("WK_EXEC_DIR");
	ssize_t n;

	if (env && *env)
		return wk_strdup(env);
	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		self[n] = '\0';
		*strrchr(self, '/') = '\0';
		snprintf(probe, sizeof probe, "%s/wk-broker", self);
		if (access(probe, X_OK) == 0)
			return wk_strdup(self);
	}
	return wk_strdup(WK_LIBEXECDIR "/wk");
}

/* Take the pid-file lock; it is held for the master's life. */
static int
lock_pid_file(struct master *m)
{
	char buf[32] = "";

	m->pid_fd = open(m->pid_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (m->pid_fd < 0) {
		fprintf(stderr, "wk-master: %s: %s\n", m->pid_path, strerror(errno));
		return -1;
	}
	if (flock(m->pid_fd, LOCK_EX | LOCK_NB) < 0) {
		if (read(m->pid_fd, buf, sizeof buf - 1) < 0)
			buf[0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		fprintf(stderr, "wk-master: already running (pid %s, %s)\n", buf, m->pid_path);
		return -1;
	}
	return 0;
}

/* Written after daemonize() so the file names the detached master, not the
 * process wkctl started; the lock taken before stays with the open fd. */
static void
write_pid(struct master *m)
{
	char buf[32];
	int n = snprintf(buf, sizeof buf, "%d\n", (int)getpid());

	if (ftruncate(m->pid_fd, 0) < 0 || pwrite(m->pid_fd, buf, n, 0) != n)
		wk_log_warn("write %s", m->pid_path);
}

/* Detach; the first process waits until the tree is ready (exit 0) or not
 * (exit 1), so `wkctl start` can report the outcome. */
static void
daemonize(struct master *m)
{
	int pfd[2];
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		wk_fatal("pipe");
	pid = fork();
	if (pid < 0)
		wk_fatal("fork");
	if (pid > 0) {
		char buf[800] = "";
		struct pollfd p = { pfd[0], POLLIN, 0 };
		close(pfd[1]);
		/* The master stops the tree itself when a child fails to start
		 * (readyTimeout at most); this bound is only a backstop. */
		int timeout = (int)m->cfg.supervisor_readyTimeout * 2 + 5000;
		if (poll(&p, 1, timeout) == 1 && read(pfd[0], buf, sizeof buf - 1) > 0 &&
		    strncmp(buf, "ready", 5) == 0) {
			printf("wk started (pid %d, config %s, data %s)\n", master_read_pid(&m->cfg),
			    m->config_path ? m->config_path : "(defaults)", m->cfg.dataDir);
			master_log_addresses(&m->cfg, stdout);
			fflush(stdout);
			_exit(0);
		}
		buf[strcspn(buf, "\n")] = '\0';
		if (strncmp(buf, "failed ", 7) == 0)
			fprintf(stderr, "wk-master: start failed: %s; nothing is left running\n",
			    buf + 7);
		else {
			int mpid = master_read_pid(&m->cfg);
			if (mpid > 0)
				kill(mpid, SIGTERM);
			fprintf(stderr, "wk-master: the process tree did not become ready; "
			    "stopping it; see the log\n");
		}
		_exit(1);
	}
	close(pfd[0]);
	setsid();
	if ((pid = fork()) != 0)
		_exit(pid < 0);
	if (chdir("/") < 0)
		wk_fatal("chdir /");
	int devnull = open("/dev/null", O_RDWR);
	dup2(devnull, 0);
	dup2(devnull, 1);
	dup2(devnull, 2);
	if (devnull > 2)
		close(devnull);
	m->ready_fd = pfd[1];
}

/* After the loop: remove what the tree leaves behind (shared-memory
 * segments, ipc endpoints, health file, pid file), the control socket last. */
static void
cleanup(struct master *m)
{
	char path[PATH_MAX];

	if (m->presence.hdr) {
		presence_close(&m->presence);
		presence_unlink(m->shm_name);
	}
	if (m->lastmsg.hdr) {
		lastmsg_close(&m->lastmsg);
		lastmsg_unlink(m->last_name);
	}
	if (m->stats.hdr) {
		stats_close(&m->stats);
		stats_unlink(m->stats_name);
	}
	/* ZeroMQ removes its ipc files on a clean close; a killed child leaves them. */
	for (int i = 0; i < m->nchildren; i++) {
		snprintf(path, sizeof path, "%s/%s-%d.ipc", m->cfg.runDir,
		    wk_role_name(m->children[i].role), m->children[i].instance);
		unlink(path);
	}
	master_health_remove(m);
	unlink(m->pid_path);
	/* Last: a waiting `wk-master -c stop` sees EOF when all is clean. */
	master_ctl_close(m);
	close(m->pid_fd);
}

/* Order matters: config before the pid lock (so -n and -c need no lock),
 * lock before daemonize (a second master fails in the foreground where the
 * user sees it), signals blocked before any fork (children unblock them),
 * segments created before the first child attaches to them. */
/* -c apiurl: where this tree's HTTP API answers on this host (httpAddr,
 * a wildcard host as 127.0.0.1); -c apitoken: the configured managerToken,
 * or nothing (the generated one is not needed from loopback).  For wkctl
 * import. */
static int
master_print_api(const struct wk_config *cfg, const char *what)
{
	const char *colon = strrchr(cfg->httpAddr, ':');

	if (strcmp(what, "apitoken") == 0) {
		printf("%s\n", cfg->managerToken);
		return 0;
	}
	if (colon == NULL)
		return 2;
	int wild = colon == cfg->httpAddr || strncmp(cfg->httpAddr, "0.0.0.0:", 8) == 0 ||
	    strncmp(cfg->httpAddr, "[::]:", 5) == 0;
	printf("http://%.*s%s\n", wild ? 9 : (int)(colon - cfg->httpAddr),
	    wild ? "127.0.0.1" : cfg->httpAddr, colon);
	return 0;
}

int
main(int argc, char **argv)
{
	struct master master = { .pid_fd = -1, .ctl_fd = -1, .ready_fd = -1 }, *m = &master;
	const char *cmd = NULL;
	int ch, check_only = 0, raw = 0;
	char err[1024], abspath[PATH_MAX];
	sigset_t mask;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0)
			usage(0);
	while ((ch = getopt(argc, argv, "c:df:hnrv")) != -1) {
		switch (ch) {
		case 'h': usage(0); break;
		case 'c': cmd = optarg; break;
		case 'd': m->foreground = 1; break;
		case 'f':
			if (realpath(optarg, abspath) == NULL) {
				fprintf(stderr, "wk-master: %s: %s\n", optarg, strerror(errno));
				return 2;
			}
			m->config_path = wk_strdup(abspath);
			break;
		case 'n': check_only = 1; break;
		case 'r': raw = 1; break;
		case 'v': printf("wk-master %s\n", PACKAGE_VERSION); return 0;
		default: usage(2);
		}
	}
	/* One operand, only for -c presence: the uid. */
	if (optind != argc && !(cmd && strcmp(cmd, "presence") == 0 && optind + 1 == argc))
		usage(2);
	wk_log_init("master", -1, 1);
	if (wk_config_load(&m->cfg, m->config_path, stderr) < 0) {
		/* A running tree stays reachable for status, stop, pid and
		 * presence; start, reload and -n report the errors above. */
		if (cmd == NULL || strcmp(cmd, "reload") == 0 ||
		    master_fallback_config(&m->cfg, m->config_path) < 0)
			return 2;
		fprintf(stderr, "wk-master: using the rootDir/runDir lines of %s to reach the "
		    "running tree\n", m->config_path);
	}
	if (check_only) {
		printf("%s: configuration ok\n", m->config_path ? m->config_path : "(defaults)");
		return 0;
	}
	if (cmd) {
		if (strcmp(cmd, "pid") == 0) {
			int pid = master_read_pid(&m->cfg);
			if (pid <= 0 || kill(pid, 0) < 0)
				return 1;
			printf("%d\n", pid);
			return 0;
		}
		if (strcmp(cmd, "datadir") == 0) {
			printf("%s\n", m->cfg.dataDir);   /* for wkctl restore */
			return 0;
		}
		if (strcmp(cmd, "apiurl") == 0 || strcmp(cmd, "apitoken") == 0)
			return master_print_api(&m->cfg, cmd);   /* for wkctl import */
		if (strcmp(cmd, "presence") == 0)
			return master_ctl_presence(&m->cfg, optind < argc ? argv[optind] : NULL);
		return master_ctl_client(&m->cfg, cmd, raw);
	}
	if (wk_mkdirs(m->cfg.runDir) < 0 || wk_mkdirs(m->cfg.dataDir) < 0) {
		fprintf(stderr, "wk-master: cannot create %s or %s: %s\n", m->cfg.runDir,
		    m->cfg.dataDir, strerror(errno));
		return 1;
	}
	if (master_adopt_layout(m, err, sizeof err) < 0) {
		fprintf(stderr, "wk-master: %s\n", err);
		return 2;
	}
	m->pid_path = wk_asprintf("%s/wk-master.pid", m->cfg.runDir);
	m->ctl_path = wk_asprintf("%s/master.sock", m->cfg.runDir);
	m->health_path = wk_asprintf("%s/health", m->cfg.runDir);
	m->exec_dir = find_exec_dir();
	if (lock_pid_file(m) < 0)
		return 1;
	if (!m->foreground)
		daemonize(m);
	master_log_file(m);
	wk_log_init("master", -1, m->foreground);
	wk_log_configure(&m->cfg);
	write_pid(m);
	master_manager_token(m);
	m->started_ms = wk_now_ms();

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	m->loop = wk_loop_new();
	m->sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	wk_loop_add(m->loop, m->sig_fd, EPOLLIN, on_signal, m);

	presence_name(m->cfg.runDir, m->shm_name, sizeof m->shm_name);
	if (presence_create(&m->presence, m->shm_name, (uint32_t)m->cfg.processes_mailbox,
	    (uint32_t)m->cfg.presence_capacity) < 0)
		wk_fatalx("cannot create the presence segment %s", m->shm_name);
	/* Empty: each channel shard rebuilds its region from its database. */
	lastmsg_name(m->cfg.runDir, m->last_name, sizeof m->last_name);
	if (lastmsg_create(&m->lastmsg, m->last_name, (uint32_t)m->cfg.processes_channel,
	    (uint32_t)m->cfg.conversation_lastMsgSlots) < 0)
		wk_fatalx("cannot create the last-message segment %s", m->last_name);
	if (master_ctl_listen(m) < 0)
		wk_fatal("control socket %s", m->ctl_path);

	master_children_init(m);
	if (master_stats_create(m) < 0)
		wk_fatalx("cannot create the statistics segment %s", m->stats_name);
	wk_log_info("starting %d processes (wk %s, config %s, data %s)", m->nchildren,
	    PACKAGE_VERSION, m->config_path ? m->config_path : "(defaults)", m->cfg.dataDir);
	for (int i = 0; i < m->nchildren; i++)
		master_spawn(m, &m->children[i]);
	wk_loop_timer(m->loop, TICK_MS, TICK_MS, on_tick, m);

	wk_loop_run(m->loop);

	cleanup(m);
	if (m->start_failed) {
		/* The waiting `wkctl start` prints the cause. */
		if (m->ready_fd >= 0) {
			char line[700];
			int n = snprintf(line, sizeof line, "failed %s\n", m->start_error);
			if (write(m->ready_fd, line, n) != n)
				wk_log_warn("write to the starting wkctl");
		}
		wk_log_error("stopped: start failed: %s", m->start_error);
		return 1;
	}
	wk_log_info("stopped");
	wk_loop_destroy(&m->loop);
	wk_config_free(&m->cfg);
	return 0;
}
