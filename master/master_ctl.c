/* master_ctl.c - wk-master's control socket (<runDir>/master.sock) and the
 * client side used by wkctl (`wk-master -c status|stop|reload|ping`).
 *
 * One command line per connection:
 *   status  one "key=value ..." line for the master and one per child
 *   reload  "ok" or "error" followed by the config errors
 *   stop    "stopping"; the connection stays open until the tree is down
 *   ping    "pong"
 *   backup DIR  "ok DIR" or "error WHY", then a line per shard, once every
 *           process has copied its environment (master_backup.c)
 *
 * The socket is the only way into a running master (wkctl(8)); it is
 * local-only and carries no data, so it has no authentication beyond the
 * run directory's permissions.  A command is answered and the connection
 * closed, except `status` (answered when the children reply, at most
 * STATUS_WAIT_MS later) and `stop` (held open so the caller sees EOF only
 * once the tree is down and the files are removed).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "master.h"
#include "wk_alloc.h"
#include "wk_log.h"
#include "wk_msg.h"
#include "wk_time.h"

#define STATUS_WAIT_MS 1000   /* how long a status round waits for children */

struct master_ctl_client {
	int fd;
	char in[4200];               /* a command line; backup takes a path */
	size_t inlen;
	int waiting_status;
	int waiting_backup;
	int waiting_stop;
	struct master_ctl_client *next;
};

/* Unlink a control client from the master's list and close its socket. */
static void
client_close(struct master *m, struct master_ctl_client *cl)
{
	struct master_ctl_client **pp;

	for (pp = &m->clients; *pp; pp = &(*pp)->next)
		if (*pp == cl) {
			*pp = cl->next;
			break;
		}
	wk_loop_del(m->loop, cl->fd);
	close(cl->fd);
	free(cl);
}

/* Write all of buf (the socket is blocking for writes; replies are small). */
static void
client_write(struct master_ctl_client *cl, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(cl->fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= n;
	}
}

/* The `status` reply: the master's own line, then one per child.  A child
 * that answered this round contributes its own "status" pairs (its queues,
 * counters); one that did not (starting, in back-off, silent) gets the
 * master's view: state, pid and the next back-off delay. */
static void
write_status(struct master *m, struct master_ctl_client *cl)
{
	char line[1600];
	int n;

	n = snprintf(line, sizeof line, "state=%s restarts=0 role=master instance=0 pid=%d "
	    "uptime_ms=%llu reloads=%u reload_failures=%u children=%d ready=%d\n",
	    m->stopping ? "stopping" : "running", (int)getpid(),
	    (unsigned long long)(wk_now_ms() - m->started_ms), m->reloads,
	    m->reload_failures, m->nchildren, master_child_count(m, MASTER_CHILD_READY));
	client_write(cl, line, n);
	for (int i = 0; i < m->nchildren; i++) {
		struct master_child *c = &m->children[i];
		if (c->pid > 0 && c->status_round == m->status_round && c->status[0])
			n = snprintf(line, sizeof line, "state=%s restarts=%u %s\n",
			    master_state_name(c->state), c->restarts, c->status);
		else
			n = snprintf(line, sizeof line, "state=%s restarts=%u role=%s "
			    "instance=%d pid=%d next_delay_ms=%llu\n",
			    master_state_name(c->state), c->restarts, wk_role_name(c->role),
			    c->instance, (int)c->pid, (unsigned long long)c->delay_ms);
		client_write(cl, line, n < (int)sizeof line ? (size_t)n : sizeof line - 1);
	}
}

/* Answer the clients waiting for status once every asked child replied, or
 * when the round's time is up (force). */
void
master_ctl_status_reply(struct master *m, int force)
{
	struct master_ctl_client *cl, *next;
	int waiting = 0, missing = 0;

	for (cl = m->clients; cl; cl = cl->next)
		waiting += cl->waiting_status;
	if (!waiting)
		return;
	for (int i = 0; i < m->nchildren; i++) {
		struct master_child *c = &m->children[i];
		if (c->fd >= 0 && c->state == MASTER_CHILD_READY && c->status_round != m->status_round)
			missing++;
	}
	if (missing && !force && wk_now_ms() < m->status_deadline_ms)
		return;
	for (cl = m->clients; cl; cl = next) {
		next = cl->next;
		if (cl->waiting_status) {
			write_status(m, cl);
			client_close(m, cl);
		}
	}
}

/* Answer the client waiting for the backup once it is over. */
void
master_ctl_backup_reply(struct master *m)
{
	struct master_ctl_client *cl, *next;
	char *text = master_backup_poll(m);

	if (text == NULL)
		return;
	for (cl = m->clients; cl; cl = next) {
		next = cl->next;
		if (cl->waiting_backup) {
			client_write(cl, text, strlen(text));
			client_close(m, cl);
		}
	}
	free(text);
}

/* Ask every ready child for a fresh status line; the round number tells
 * this round's answers from stale ones kept in c->status. */
static void
start_status_round(struct master *m)
{
	m->status_round++;
	m->status_deadline_ms = wk_now_ms() + STATUS_WAIT_MS;
	for (int i = 0; i < m->nchildren; i++) {
		struct master_child *c = &m->children[i];
		if (c->fd >= 0 && c->state == MASTER_CHILD_READY &&
		    write(c->fd, "status\n", 7) != 7)
			wk_log_warn("ask %s/%d for status", wk_role_name(c->role), c->instance);
	}
}

/* Run one command line from a control client (see the header for the
 * replies).  A reload runs synchronously: validating the file is quick and
 * the caller wants the errors in the reply. */
static void
client_command(struct master *m, struct master_ctl_client *cl, const char *cmd)
{
	char *errs = NULL;

	if (strcmp(cmd, "status") == 0) {
		cl->waiting_status = 1;
		start_status_round(m);
		master_ctl_status_reply(m, 0);
	} else if (strcmp(cmd, "ping") == 0) {
		client_write(cl, "pong\n", 5);
		client_close(m, cl);
	} else if (strcmp(cmd, "reload") == 0) {
		if (master_reload(m, &errs) == 0)
			client_write(cl, "ok\n", 3);
		else {
			client_write(cl, "error\n", 6);
			client_write(cl, errs, strlen(errs));
		}
		free(errs);
		client_close(m, cl);
	} else if (strncmp(cmd, "backup ", 7) == 0) {
		char err[600];
		if (master_backup_start(m, cmd + 7, err, sizeof err) < 0) {
			dprintf(cl->fd, "error %s\n", err);
			client_close(m, cl);
			return;
		}
		cl->waiting_backup = 1;
		master_ctl_backup_reply(m);   /* a tree of processes that own none */
	} else if (strcmp(cmd, "stop") == 0) {
		client_write(cl, "stopping\n", 9);
		cl->waiting_stop = 1;   /* closed when the master exits */
		master_begin_stop(m);
	} else {
		client_write(cl, "error unknown command\n", 22);
		client_close(m, cl);
	}
}

/* Read a control client's command line; a line longer than the buffer is
 * not a command of ours and closes the connection. */
static void
on_client(struct wk_loop *l, int fd, uint32_t ev, void *arg)
{
	struct master *m = arg;
	struct master_ctl_client *cl;
	ssize_t n;
	char *nl;

	for (cl = m->clients; cl && cl->fd != fd; cl = cl->next)
		;
	if (cl == NULL)
		return;
	n = read(fd, cl->in + cl->inlen, sizeof cl->in - 1 - cl->inlen);
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		client_close(m, cl);
		return;
	}
	cl->inlen += n;
	cl->in[cl->inlen] = '\0';
	if ((nl = strchr(cl->in, '\n')) != NULL) {
		*nl = '\0';
		wk_loop_del(l, fd);   /* one command per connection */
		client_command(m, cl, cl->in);
	} else if (cl->inlen == sizeof cl->in - 1)
		client_close(m, cl);
}

/* Accept a control connection; its command arrives on on_client. */
static void
on_accept(struct wk_loop *l, int fd, uint32_t ev, void *arg)
{
	struct master *m = arg;
	int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

	if (cfd < 0)
		return;
	struct master_ctl_client *cl = wk_calloc(1, sizeof *cl);
	cl->fd = cfd;
	cl->next = m->clients;
	m->clients = cl;
	wk_loop_add(l, cfd, EPOLLIN, on_client, m);
}

/* Fill a sockaddr_un; a runDir too long for sun_path fails cleanly. */
static int
ctl_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sa->sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa->sun_path, path);
	return 0;
}

/* Bind <runDir>/master.sock.  Only one master can get here: the pid-file
 * lock is held, so removing an old socket file is safe. */
int
master_ctl_listen(struct master *m)
{
	struct sockaddr_un sa;

	if (ctl_addr(m->ctl_path, &sa) < 0)
		return -1;
	m->ctl_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (m->ctl_fd < 0)
		return -1;
	unlink(m->ctl_path);   /* a stale socket of a master that was killed */
	if (bind(m->ctl_fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(m->ctl_fd, 16) < 0)
		return -1;
	return wk_loop_add(m->loop, m->ctl_fd, EPOLLIN, on_accept, m);
}

/* Close every client (a waiting `stop` returns now) and remove the socket. */
void
master_ctl_close(struct master *m)
{
	while (m->clients)
		client_close(m, m->clients);   /* a waiting "stop" sees EOF now */
	if (m->ctl_fd >= 0) {
		close(m->ctl_fd);
		unlink(m->ctl_path);
		m->ctl_fd = -1;
	}
}

/* The pid in the pid file, or 0. */
int
master_read_pid(const struct wk_config *cfg)
{
	char *path = wk_asprintf("%s/wk-master.pid", cfg->runDir);
	FILE *f = fopen(path, "r");
	int pid = 0;

	free(path);
	if (f == NULL)
		return 0;
	if (fscanf(f, "%d", &pid) != 1)
		pid = 0;
	fclose(f);
	return pid;
}

/* The value of key in a status line ("" if absent). */
static void
status_field(const char *line, const char *key, char *out, size_t len)
{
	size_t kl = strlen(key);

	out[0] = '\0';
	for (const char *t = line; (t = strstr(t, key)) != NULL; t += kl)
		if ((t == line || t[-1] == ' ') && t[kl] == '=') {
			snprintf(out, len, "%.*s", (int)strcspn(t + kl + 1, " \n"), t + kl + 1);
			return;
		}
}

/* `wkctl cluster`: this host's view of the cluster from the status lines:
 * every replicated shard's copy here, its master, and the lag. */
static void
print_cluster(const struct wk_config *cfg, char *buf)
{
	char *lines[1024], up[16] = "", shard[64];
	int n = 0;

	if (cfg->cluster_node == 0) {
		printf("one host: no cluster (cluster.node is 0, wk-cluster(7))\n");
		return;
	}
	for (char *line = strtok(buf, "\n"); line && n < 1024; line = strtok(NULL, "\n"))
		lines[n++] = line;
	for (int i = 0; i < n; i++)
		if (strstr(lines[i], "role=api ") != NULL)
			status_field(lines[i], "hosts_up", up, sizeof up);
	printf("node %lld of %d:", (long long)cfg->cluster_node, cfg->cluster_nodes.n);
	for (int i = 0; i < cfg->cluster_nodes.n; i++)
		printf(" %d=%s%s", i + 1, cfg->cluster_nodes.v[i] + (cfg->cluster_nodes.v[i][0] == '-'),
		    cfg->cluster_nodes.v[i][0] == '-' ? "(taken out)" : "");
	printf("; hosts answering wk-api: %s\n", up[0] ? up : "?");
	printf("%-10s %-8s %6s %6s %10s  %s\n", "SHARD", "HERE", "MASTER", "SYNCED", "LAG(B)",
	    "COPIES (node:lag bytes, - silent)");
	for (int i = 0; i < n; i++) {
		char role[32], inst[16], rep[16], master[8], synced[8], lag[32], copies[256];

		status_field(lines[i], "rep", rep, sizeof rep);
		if (rep[0] == '\0')
			continue;
		status_field(lines[i], "role", role, sizeof role);
		status_field(lines[i], "instance", inst, sizeof inst);
		status_field(lines[i], "rep_master", master, sizeof master);
		status_field(lines[i], "rep_synced", synced, sizeof synced);
		status_field(lines[i], "rep_lag", lag, sizeof lag);
		status_field(lines[i], "rep_copies", copies, sizeof copies);
		snprintf(shard, sizeof shard, "%s/%s", role, inst);
		printf("%-10s %-8s %6s %6s %10s  %s\n", shard, rep,
		    strcmp(master, "0") == 0 ? "?" : master, synced, lag[0] ? lag : "-", copies);
	}
}

/* The client: send cmd, print the reply.  Exit codes as wkctl(8):
 * 0 ok, 1 not running or the command failed, 3 timed out. */
int
master_ctl_client(const struct wk_config *cfg, const char *cmd, int raw)
{
	struct sockaddr_un sa;
	char *path = wk_asprintf("%s/master.sock", cfg->runDir);
	char buf[65536];
	size_t len = 0;
	int fd, rc = 0, master_pid = 0;
	uint64_t deadline = wk_now_ms() +
	    (strcmp(cmd, "stop") == 0 ? 3 * (uint64_t)cfg->supervisor_stopTimeout + 5000 :
	    strncmp(cmd, "backup ", 7) == 0 ? 31 * 60 * 1000 : 10000);

	if (ctl_addr(path, &sa) < 0 || (fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0) {
		free(path);
		return 1;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		fprintf(stderr, "wk-master: not running (%s: %s)\n", path, strerror(errno));
		free(path);
		close(fd);
		return 1;
	}
	free(path);
	if (strcmp(cmd, "stop") == 0)
		master_pid = master_read_pid(cfg);
	dprintf(fd, "%s\n", strcmp(cmd, "cluster") == 0 ? "status" : cmd);
	for (;;) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		int64_t left = (int64_t)(deadline - wk_now_ms());
		if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
			fprintf(stderr, "wk-master: no answer to %s in time\n", cmd);
			close(fd);
			return 3;
		}
		ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || len + n >= sizeof buf - 1) {
			if (n > 0)
				len += n;
			break;
		}
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	/* The socket closes just before the master exits: wait for the exit. */
	while (master_pid > 0 && kill(master_pid, 0) == 0 && wk_now_ms() < deadline)
		poll(NULL, 0, 10);
	if (strcmp(cmd, "cluster") == 0)
		print_cluster(cfg, buf);
	else if (strcmp(cmd, "status") == 0 && !raw) {
		/* A table: the first six fields, then the rest as they came. */
		printf("%-8s %4s %8s %-9s %10s %8s  %s\n", "ROLE", "INST", "PID", "STATE",
		    "UPTIME", "RESTARTS", "DETAILS");
		for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
			char role[32] = "?", state[32] = "?", rest[1600] = "";
			int inst = 0, pid = 0;
			unsigned restarts = 0;
			unsigned long long up = 0;
			char *tok, *save;
			for (tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
				if (sscanf(tok, "role=%31s", role) == 1 || sscanf(tok, "state=%31s", state) == 1 ||
				    sscanf(tok, "instance=%d", &inst) == 1 || sscanf(tok, "pid=%d", &pid) == 1 ||
				    sscanf(tok, "restarts=%u", &restarts) == 1 || sscanf(tok, "uptime_ms=%llu", &up) == 1)
					continue;
				strncat(rest, tok, sizeof rest - strlen(rest) - 2);
				strcat(rest, " ");
			}
			printf("%-8s %4d %8d %-9s %9.1fs %8u  %s\n", role, inst, pid, state,
			    up / 1000.0, restarts, rest);
		}
	} else
		fputs(buf, stdout);
	if (strcmp(cmd, "reload") == 0 && strncmp(buf, "ok", 2) != 0)
		rc = 1;
	if (strncmp(buf, "error", 5) == 0)
		rc = 1;
	if (strncmp(cmd, "backup ", 7) == 0 && strncmp(buf, "ok ", 3) != 0)
		rc = 1;
	return rc;
}

/* `wkctl presence [UID]`: read the segment directly (readers never lock):
 * the devices of one user, or each region's fill and churn. */
int
master_ctl_presence(const struct wk_config *cfg, const char *uid)
{
	struct presence ps;

	if (presence_attach(&ps, cfg->runDir, 0) < 0) {
		fprintf(stderr, "wk-master: no presence segment for %s: is wk running?\n", cfg->runDir);
		return 1;
	}
	if (uid) {
		struct presence_conn c[PRESENCE_CONNS_MAX];
		int n = presence_lookup(&ps, uid, c, PRESENCE_CONNS_MAX);
		if (n < 0) {
			fprintf(stderr, "wk-master: the table is busy; try again\n");
			presence_close(&ps);
			return 3;
		}
		printf("%-20s %6s %18s %6s %5s %5s %s\n", "UID", "BROKER", "CONN", "DEVICE",
		    "LEVEL", "PROTO", "CONNECTED_AT_MS");
		for (int i = 0; i < n; i++)
			printf("%-20s %6u %18llx %6u %5s %5u %lld\n", c[i].uid, c[i].broker_id,
			    (unsigned long long)c[i].conn_id, c[i].device_flag,
			    c[i].device_level ? "master" : "slave", c[i].proto_version,
			    (long long)c[i].connected_at_ms);
		presence_close(&ps);
		return n > 0 ? 0 : 1;
	}
	printf("%-7s %10s %10s %6s %12s %8s\n", "REGION", "USED", "CAPACITY", "FILL", "CHURN", "WRITER");
	for (uint32_t r = 0; r < ps.hdr->nregions; r++) {
		struct presence_region *reg = presence_region(&ps, r);
		printf("%-7u %10u %10u %5.1f%% %12llu %8d\n", r, reg->used, ps.hdr->capacity,
		    100.0 * reg->used / ps.hdr->capacity, (unsigned long long)reg->churn,
		    reg->writer_pid);
	}
	presence_close(&ps);
	return 0;
}
