/* wk_rep.c - a shard's environment as a replication site (see wk_rep.h;
 * the measurements behind every choice: notes/cluster-repmgr.md). */
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "wk_log.h"
#include "wk_rep.h"

/* DB_EVENT_REP_PERM_FAILED is raised in the committing thread before its
 * commit returns; the manager's own threads raise it for records of their
 * own.  So the flag is the thread's, and set only around our commit. */
static __thread int rep_in_commit, rep_perm_failed;

/* The replication manager never sets TCP_NODELAY on its connections: a
 * small log record or acknowledgement then waits for Nagle and the delayed
 * ACK, ~44 ms a commit (23 commits/s, against 1,610 with it set).  When a
 * connection is made, every TCP socket of the process gets it: the
 * manager's, and ZeroMQ's (which sets it anyway). */
static void
rep_nodelay_all(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		int fd = atoi(de->d_name), type = 0, one = 1;
		socklen_t len = sizeof type;
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;

		if (de->d_name[0] == '.' || fd == dirfd(d) ||
		    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM ||
		    getsockname(fd, (struct sockaddr *)&ss, &sl) != 0 ||
		    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
			continue;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	}
	closedir(d);
}

static void
rep_set_role(struct wk_rep *r, int role)
{
	if (r->role != role) {
		r->role = role;
		r->role_changes++;
		wk_log_info("replication: %s", role == WK_REP_MASTER ? "master" : "client");
	}
}

/* The event callback: runs on the manager's threads (the PERM_FAILED of
 * our commit excepted), so it only records. */
static void
rep_event(DB_ENV *env, u_int32_t ev, void *info)
{
	struct wk_rep *r = env->app_private;

	switch (ev) {
	case DB_EVENT_REP_MASTER:
		rep_set_role(r, WK_REP_MASTER);
		break;
	case DB_EVENT_REP_CLIENT:
		rep_set_role(r, WK_REP_CLIENT);
		break;
	case DB_EVENT_REP_DUPMASTER:
		/* Two masters met (a partition healed, a stopped host resumed):
		 * this one must not serve on; the manager elects again. */
		rep_set_role(r, WK_REP_CLIENT);
		break;
	case DB_EVENT_REP_STARTUPDONE:
		r->synced = 1;
		break;
	case DB_EVENT_REP_PERM_FAILED:
		if (rep_in_commit)
			rep_perm_failed = 1;
		break;
	case DB_EVENT_REP_CONNECT_ESTD:
		r->connects++;
		rep_nodelay_all();
		break;
	case DB_EVENT_REP_LOCAL_SITE_REMOVED:
		/* Taken out of the group (its host retired): it serves nothing
		 * and must not join again by restarting. */
		r->removed = 1;
		rep_set_role(r, WK_REP_CLIENT);
		break;
	case DB_EVENT_REP_SITE_ADDED:
	case DB_EVENT_REP_SITE_REMOVED:
		r->membership_changes++;
		break;
	case DB_EVENT_REP_JOIN_FAILURE:
		wk_log_warnx("replication: could not join the group");
		break;
	case DB_EVENT_PANIC:
		wk_log_warnx("replication: Berkeley DB panic: %s", db_strerror(*(int *)info));
		break;
	default:
		break;
	}
}

static int
rep_site(DB_ENV *env, const struct wk_rep_site *s, int local, int join)
{
	DB_SITE *site;
	int rc;

	if ((rc = env->repmgr_site(env, s->host, s->port, &site, 0)) != 0) {
		wk_log_warnx("replication site %s:%u: %s", s->host, s->port, db_strerror(rc));
		return -1;
	}
	/* The founding hosts, every site listed in every config: DB_LEGACY
	 * lets them start in any order without one designated creator.  A
	 * host added later is not legacy: its first start asks a running
	 * site to add it to the group (the group's membership database, kept
	 * by the master; read on every later start, when these flags no longer
	 * count). */
	if (!(local && join))
		site->set_config(site, DB_LEGACY, 1);
	if (local)
		site->set_config(site, DB_LOCAL_SITE, 1);
	else {
		site->set_config(site, DB_BOOTSTRAP_HELPER, 1);
		site->set_config(site, DB_REPMGR_PEER, 1);
	}
	site->close(site);
	return 0;
}

int
wk_rep_configure(struct wk_rep *r, DB_ENV *env, const struct wk_rep_config *c)
{
	r->role = WK_REP_STARTING;
	r->role_changes = 0;
	r->synced = 0;
	r->connects = 0;
	r->removed = 0;
	env->app_private = r;
	env->set_event_notify(env, rep_event);
	if (rep_site(env, &c->self, 1, c->join) < 0)
		return -1;
	for (int i = 0; i < c->npeers && i < WK_REP_MAX_PEERS; i++)
		if (rep_site(env, &c->peer[i], 0, c->join) < 0)
			return -1;
	env->repmgr_set_ack_policy(env, DB_REPMGR_ACKS_QUORUM);
	/* A joining host is never elected: hosts that do not list it yet
	 * could not find a master there.  It becomes electable when started
	 * again without cluster.join, once every host lists it. */
	env->rep_set_priority(env, c->join ? 0 : 100);
	/* Heartbeats find a master that hangs (the default has none: a stopped
	 * master is never replaced); a dead one is noticed by its connections
	 * breaking, an election follows in ~0.2 s.  An election retried every
	 * second, not every ten, also starts a fresh group in ~1.5 s. */
	env->rep_set_timeout(env, DB_REP_HEARTBEAT_SEND, 500000);
	env->rep_set_timeout(env, DB_REP_HEARTBEAT_MONITOR, 2000000);
	env->rep_set_timeout(env, DB_REP_ELECTION_RETRY, 1000000);
	env->rep_set_timeout(env, DB_REP_CONNECTION_RETRY, 1000000);
	/* During a lockout (a client syncing) calls fail at once with
	 * DB_REP_LOCKOUT instead of sleeping in steps inside the library. */
	env->rep_set_config(env, DB_REP_CONF_NOWAIT, 1);
	return 0;
}

int
wk_rep_start(DB_ENV *env, const struct wk_rep_config *c)
{
	int rc, waited = 0;

	/* A joining site fails while no master answers, too few copies
	 * acknowledge it (DB_REP_UNAVAIL) or a helper's connection breaks
	 * (ECONNRESET): Berkeley DB says pause and retry.  Within the time the
	 * supervisor waits for readiness, as a failed start stops the tree. */
	while ((rc = env->repmgr_start(env, 3, DB_REP_ELECTION)) != 0 && rc != DB_REP_IGNORE &&
	    c->join && waited < c->join_ms) {
		if (waited == 0)
			wk_log_info("replication: joining the group: %s; retrying", db_strerror(rc));
		usleep(250 * 1000);
		waited += 250;
	}
	if (rc != 0 && rc != DB_REP_IGNORE) {
		wk_log_warnx("replication start: %s", db_strerror(rc));
		return -1;
	}
	return 0;
}

int
wk_rep_commit(DB_TXN *txn)
{
	int rc;

	rep_in_commit = 1;
	rep_perm_failed = 0;
	rc = txn->commit(txn, 0);
	rep_in_commit = 0;
	if (rc == 0 && rep_perm_failed)
		return WK_REP_NOT_DURABLE;
	return rc;
}

int
wk_rep_master_addr(DB_ENV *env, char *host, size_t hostlen, unsigned *port)
{
	DB_REP_STAT *st;
	DB_SITE *site;
	const char *h;
	u_int port16;
	int eid, rc;

	if (env->rep_stat(env, &st, 0) != 0)
		return -1;
	eid = st->st_master;
	free(st);
	if (eid == DB_EID_INVALID || env->repmgr_site_by_eid(env, eid, &site) != 0)
		return -1;
	rc = site->get_address(site, &h, &port16);
	if (rc == 0) {
		snprintf(host, hostlen, "%s", h);
		*port = port16;
	}
	site->close(site);
	return rc == 0 ? 0 : -1;
}

int
wk_rep_remove_site(DB_ENV *env, const struct wk_rep_site *s)
{
	DB_REPMGR_SITE *list;
	DB_SITE *site;
	u_int count;
	int member = 0, rc;

	if (env->repmgr_site_list(env, &count, &list) != 0)
		return -1;
	for (u_int i = 0; i < count; i++)
		member |= list[i].port == s->port && strcmp(list[i].host, s->host) == 0;
	free(list);
	if (!member)
		return 0;
	if ((rc = env->repmgr_site(env, s->host, s->port, &site, 0)) != 0 ||
	    (rc = site->remove(site)) != 0) {   /* the handle is gone either way */
		wk_log_warnx("replication: remove site %s:%u: %s", s->host, s->port, db_strerror(rc));
		return -1;
	}
	wk_log_info("replication: site %s:%u removed from the group", s->host, s->port);
	return 1;
}

int
wk_rep_sites(DB_ENV *env)
{
	DB_REPMGR_SITE *list;
	u_int count;

	if (env->repmgr_site_list(env, &count, &list) != 0)
		return -1;
	free(list);
	return (int)count + 1;
}

int
wk_rep_connected(DB_ENV *env, struct wk_rep_site *out, int max)
{
	DB_REPMGR_SITE *list;
	u_int count;
	int n = 0;

	if (env->repmgr_site_list(env, &count, &list) != 0)
		return -1;
	for (u_int i = 0; i < count && n < max; i++)
		if (list[i].status == DB_REPMGR_CONNECTED) {
			snprintf(out[n].host, sizeof out[n].host, "%s", list[i].host);
			out[n++].port = list[i].port;
		}
	free(list);
	return n;
}
