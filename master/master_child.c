/* master_child.c - wk-master's children: spawn after fork + exec, reap,
 * respawn with back-off and a crash-loop throttle, ordered shutdown.
 * Lines from a child: "ready", "status ...", "pong", and before it is ready
 * "error <text>" (its warnings: the cause named if the start fails).
 *
 * Ownership: only this file changes a child's state (enum
 * master_child_state in master.h); master_ctl.c and master_health.c read
 * it.  A child's fd 3 is its end of a socketpair: the child exits when it
 * reads EOF there, so a master killed with SIGKILL leaves no orphans. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "master.h"
#include "wk_alloc.h"
#include "wk_log.h"
#include "wk_msg.h"
#include "wk_time.h"

static const char *
state_names[] = { "stopped", "starting", "ready", "backoff", "failed", "stopping" };

const char *master_state_name(enum master_child_state st) { return state_names[st]; }

/* The shutdown order: brokers stop accepting first, then the shards commit
 * and exit, then the webhook queue drains what they raised. */
static const int stop_phase_of_role[WK_ROLE_COUNT] = {
	[WK_ROLE_BROKER] = 0, [WK_ROLE_API] = 0,
	[WK_ROLE_CHANNEL] = 1, [WK_ROLE_MAILBOX] = 1,
	[WK_ROLE_HOOK] = 2,
};
#define STOP_PHASES 3

/* Append count stopped children of one role, instances 0..count-1.  The
 * array is built once at start; reload never changes the shard counts. */
static void
add_children(struct master *m, int role, int count)
{
	m->children = wk_realloc(m->children, (m->nchildren + count) * sizeof *m->children);
	for (int i = 0; i < count; i++) {
		struct master_child *c = &m->children[m->nchildren++];
		memset(c, 0, sizeof *c);
		c->role = role;
		c->instance = i;
		c->fd = -1;
	}
}

/* Start order: state owners first, so the processes facing clients find
 * their peers' inboxes bound (ZeroMQ would queue anyway). */
void
master_children_init(struct master *m)
{
	add_children(m, WK_ROLE_HOOK, 1);
	add_children(m, WK_ROLE_MAILBOX, m->cfg.processes_mailbox);
	add_children(m, WK_ROLE_CHANNEL, m->cfg.processes_channel);
	add_children(m, WK_ROLE_API, 1);
	add_children(m, WK_ROLE_BROKER, m->cfg.processes_broker);
}

/* How many children are in state st (status lines, "tree ready" test). */
int
master_child_count(const struct master *m, enum master_child_state st)
{
	int n = 0;
	for (int i = 0; i < m->nchildren; i++)
		n += m->children[i].state == st;
	return n;
}

/* Forget a child's socketpair end and any partial line read from it. */
static void
close_child_fd(struct master *m, struct master_child *c)
{
	if (c->fd >= 0) {
		wk_loop_del(m->loop, c->fd);
		close(c->fd);
		c->fd = -1;
	}
	c->inlen = 0;
}

/* Lines from a child: "ready" and "status <pairs>". */
static void
on_child_fd(struct wk_loop *l, int fd, uint32_t ev, void *arg)
{
	struct master *m = arg;
	struct master_child *c = NULL;
	ssize_t n;
	char *nl;

	for (int i = 0; i < m->nchildren; i++)
		if (m->children[i].fd == fd)
			c = &m->children[i];
	if (c == NULL) {
		wk_loop_del(l, fd);
		return;
	}
	n = read(fd, c->in + c->inlen, sizeof c->in - c->inlen - 1);
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		close_child_fd(m, c);   /* exiting; SIGCHLD will tell the rest */
		return;
	}
	c->inlen += n;
	c->in[c->inlen] = '\0';
	while ((nl = strchr(c->in, '\n')) != NULL) {
		*nl = '\0';
		if (strcmp(c->in, "pong") == 0)
			master_health_on_pong(m, c);
		else if (strncmp(c->in, "error ", 6) == 0) {
			/* All of them, in order, as far as they fit: the
			 * specific cause usually precedes "start failed". */
			size_t have = strlen(c->error);
			snprintf(c->error + have, sizeof c->error - have, "%s%s", have ? "; " : "", c->in + 6);
		} else if (strcmp(c->in, "ready") == 0 && c->state == MASTER_CHILD_STARTING) {
			c->state = MASTER_CHILD_READY;
			c->ready_ms = wk_now_ms();
			c->ping_out_ms = 0;
			m->health_changed = 1;
			master_tick_children(m);    /* the tree may be ready now */
			wk_log_debug("%s/%d ready (pid %d)", wk_role_name(c->role), c->instance, (int)c->pid);
		} else if (strncmp(c->in, "backup ", 7) == 0) {
			master_backup_on_line(m, c, c->in + 7);
		} else if (strncmp(c->in, "status ", 7) == 0) {
			snprintf(c->status, sizeof c->status, "%s", c->in + 7);
			c->status_round = m->status_round;
		}
		memmove(c->in, nl + 1, c->inlen - (nl + 1 - c->in) + 1);
		c->inlen -= nl + 1 - c->in;
	}
	if (c->inlen == sizeof c->in - 1)
		c->inlen = 0;   /* a child never sends such a line; drop it */
	master_ctl_status_reply(m, 0);
	master_ctl_backup_reply(m);
}

/* Fork and exec wk-<role> with its end of a socketpair as fd 3.  A fork or
 * socketpair failure is treated as a crash: back-off, then another try.
 * Until the child writes "ready" it is STARTING and counts against
 * supervisor.readyTimeout. */
void
master_spawn(struct master *m, struct master_child *c)
{
	char inst[16], path[4096];
	int sv[2];
	pid_t pid;

	snprintf(path, sizeof path, "%s/wk-%s", m->exec_dir, wk_role_name(c->role));
	snprintf(inst, sizeof inst, "%d", c->instance);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		wk_log_warn("socketpair for %s/%d", wk_role_name(c->role), c->instance);
		c->state = MASTER_CHILD_BACKOFF;
		c->respawn_at_ms = wk_now_ms() + 1000;
		return;
	}
	pid = fork();
	if (pid < 0) {
		wk_log_warn("fork %s", path);
		close(sv[0]);
		close(sv[1]);
		c->state = MASTER_CHILD_BACKOFF;
		c->respawn_at_ms = wk_now_ms() + 1000;
		return;
	}
	if (pid == 0) {
		sigset_t all;
		const char *argv[8];
		int a = 0;

		/* Own process group: a terminal's ^C reaches the master only,
		 * which then stops the tree in order. */
		setpgid(0, 0);
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (dup2(sv[1], 3) < 0)
			_exit(127);
		setenv("WK_MASTER_FD", "3", 1);
		argv[a++] = path;
		if (c->role == WK_ROLE_BROKER || c->role == WK_ROLE_CHANNEL ||
		    c->role == WK_ROLE_MAILBOX) {
			argv[a++] = "-i";
			argv[a++] = inst;
		}
		if (m->config_path) {
			argv[a++] = "-f";
			argv[a++] = m->config_path;
		}
		if (m->foreground)
			argv[a++] = "-d";
		argv[a] = NULL;
		execv(path, (char *const *)argv);
		fprintf(stderr, "wk-master: exec %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	close(sv[1]);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	c->pid = pid;
	c->fd = sv[0];
	c->inlen = 0;
	c->state = MASTER_CHILD_STARTING;
	m->health_changed = 1;
	c->started_ms = wk_now_ms();
	c->ready_ms = 0;
	c->ping_out_ms = 0;
	c->error[0] = '\0';
	c->deadline_ms = c->started_ms + (uint64_t)m->cfg.supervisor_readyTimeout;
	c->status[0] = '\0';
	wk_loop_add(m->loop, c->fd, EPOLLIN, on_child_fd, m);
	wk_log_debug("started %s/%d (pid %d)", wk_role_name(c->role), c->instance, (int)pid);
}

/* The child with this pid, or NULL. */
static struct master_child *
child_by_pid(struct master *m, pid_t pid)
{
	for (int i = 0; i < m->nchildren; i++)
		if (m->children[i].pid == pid)
			return &m->children[i];
	return NULL;
}

/* A child died: decide between respawn (with back-off), failed, or stopped. */
static void
child_exited(struct master *m, struct master_child *c, int status)
{
	uint64_t now = wk_now_ms(), up = now - c->started_ms;
	pid_t pid = c->pid;
	char how[64];

	if (WIFSIGNALED(status))
		snprintf(how, sizeof how, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(how, sizeof how, "exited %d", WEXITSTATUS(status));
	close_child_fd(m, c);
	c->pid = 0;
	m->health_changed = 1;
	/* Its users stay visible while it restarts: only what it may have
	 * torn in dying is dropped; the brokers re-assert the rest. */
	if (c->role == WK_ROLE_MAILBOX && m->presence.hdr)
		presence_region_rebuild(&m->presence, c->instance);
	if (m->stopping) {
		c->state = MASTER_CHILD_STOPPED;
		wk_log_debug("%s/%d %s", wk_role_name(c->role), c->instance, how);
		return;
	}
	/* The first start fails as a whole: nothing is left running, and
	 * the cause goes to the waiting wkctl (wk-master(8)). */
	if (!m->tree_was_ready) {
		c->state = MASTER_CHILD_STOPPED;
		if (!m->start_failed) {
			m->start_failed = 1;
			snprintf(m->start_error, sizeof m->start_error, "%s/%d %s%s%s",
			    wk_role_name(c->role), c->instance, how, c->error[0] ? ": " : "",
			    c->error);
			wk_log_error("start failed: %s; stopping the tree", m->start_error);
		}
		master_begin_stop(m);
		return;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 2) {
		c->state = MASTER_CHILD_FAILED;
		wk_log_error("%s/%d %s (configuration error); not restarting it",
		    wk_role_name(c->role), c->instance, how);
		return;
	}
	/* Crash-loop throttle: a child that was ready and served for
	 * stableAfter comes back after respawnDelay; each death before that
	 * (not ready, or ready only briefly) doubles the delay. */
	int served = c->ready_ms && now - c->ready_ms >= (uint64_t)m->cfg.supervisor_stableAfter;
	c->crashes = served ? 1 : c->crashes + 1;
	c->delay_ms = (uint64_t)m->cfg.supervisor_respawnDelay;
	for (uint32_t i = 1; i < c->crashes && c->delay_ms < (uint64_t)m->cfg.supervisor_respawnDelayMax; i++)
		c->delay_ms = c->delay_ms ? c->delay_ms * 2 : 100;
	if (c->delay_ms > (uint64_t)m->cfg.supervisor_respawnDelayMax)
		c->delay_ms = (uint64_t)m->cfg.supervisor_respawnDelayMax;
	c->state = MASTER_CHILD_BACKOFF;
	c->respawn_at_ms = now + c->delay_ms;
	wk_log_warnx("%s/%d (pid %d) %s after %llums; restarting in %llums",
	    wk_role_name(c->role), c->instance, (int)pid, how, (unsigned long long)up,
	    (unsigned long long)c->delay_ms);
}

/* Reap every exited child (SIGCHLD coalesces, so loop until none left). */
void
master_reap(struct master *m)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct master_child *c = child_by_pid(m, pid);
		if (c)
			child_exited(m, c, status);
	}
}

/* Pass a signal to every live child (SIGHUP after a successful reload). */
void
master_signal_children(struct master *m, int sig)
{
	for (int i = 0; i < m->nchildren; i++)
		if (m->children[i].pid > 0)
			kill(m->children[i].pid, sig);
}

/* Send SIGTERM to the children of the current stop phase; move to the next
 * phase once they are gone.  Returns 1 when every phase is done. */
static int
stop_step(struct master *m)
{
	uint64_t now = wk_now_ms();

	while (m->stop_phase < STOP_PHASES) {
		int alive = 0;
		for (int i = 0; i < m->nchildren; i++) {
			struct master_child *c = &m->children[i];
			if (stop_phase_of_role[c->role] != m->stop_phase)
				continue;
			if (c->pid > 0 && c->state != MASTER_CHILD_STOPPING) {
				kill(c->pid, SIGTERM);
				c->state = MASTER_CHILD_STOPPING;
				c->deadline_ms = now + (uint64_t)m->cfg.supervisor_stopTimeout;
			} else if (c->pid > 0 && now >= c->deadline_ms) {
				wk_log_warnx("%s/%d did not stop in time; killing it",
				    wk_role_name(c->role), c->instance);
				kill(c->pid, SIGKILL);
				c->deadline_ms = now + 60000;
			} else if (c->pid <= 0)
				c->state = MASTER_CHILD_STOPPED;
			alive += c->pid > 0;
		}
		if (alive)
			return 0;
		m->stop_phase++;
	}
	return 1;
}

/* Start the ordered stop (SIGTERM, `wkctl stop`, or a failed first start);
 * stop_step() walks the phases on each tick and reap until all are gone. */
void
master_begin_stop(struct master *m)
{
	if (m->stopping)
		return;
	wk_log_info("stopping the process tree");
	master_sd_notify("STOPPING=1");
	m->stopping = 1;
	m->stop_phase = 0;
	for (int i = 0; i < m->nchildren; i++)
		if (m->children[i].pid <= 0)
			m->children[i].state = MASTER_CHILD_STOPPED;
	if (stop_step(m))
		wk_loop_stop(m->loop);
}

/* Called on every master tick and after reaping. */
void
master_tick_children(struct master *m)
{
	uint64_t now = wk_now_ms();

	if (m->stopping) {
		if (stop_step(m))
			wk_loop_stop(m->loop);
		return;
	}
	for (int i = 0; i < m->nchildren; i++) {
		struct master_child *c = &m->children[i];
		if (c->state == MASTER_CHILD_BACKOFF && now >= c->respawn_at_ms) {
			c->restarts++;
			master_spawn(m, c);
		} else if (c->state == MASTER_CHILD_STARTING && now >= c->deadline_ms) {
			wk_log_warnx("%s/%d (pid %d) not ready after %llums; killing it",
			    wk_role_name(c->role), c->instance, (int)c->pid,
			    (unsigned long long)m->cfg.supervisor_readyTimeout);
			kill(c->pid, SIGKILL);
			c->deadline_ms = now + 60000;
		}
	}
	if (!m->tree_was_ready && master_child_count(m, MASTER_CHILD_READY) == m->nchildren) {
		m->tree_was_ready = 1;
		wk_log_info("all %d processes ready", m->nchildren);
		master_log_addresses(&m->cfg, NULL);
		m->health_changed = 1;
		master_health_tick(m);      /* /health is right when wkctl start returns */
		master_sd_notify("READY=1");
		if (m->ready_fd >= 0) {
			if (write(m->ready_fd, "ready\n", 6) != 6)
				wk_log_warn("write to the starting wkctl");
			close(m->ready_fd);
			m->ready_fd = -1;
		}
	}
	master_health_tick(m);
}
