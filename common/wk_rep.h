/* wk_rep.h - a shard's Berkeley DB environment as one site of a
 * replication group run by Berkeley DB's replication manager (issue 18;
 * what it does and why each setting: notes/cluster-repmgr.md).  The manager
 * elects the master among the sites; a commit on the master counts only
 * once a quorum of sites has it.  The building block of the cluster: a
 * single host never calls it and pays nothing for it. */
#ifndef WK_REP_H
#define WK_REP_H
#include <stdint.h>
#include <db.h>

#define WK_REP_MAX_PEERS 8

struct wk_rep_site {
	char host[64];
	unsigned port;
};

struct wk_rep_config {
	struct wk_rep_site self;
	struct wk_rep_site peer[WK_REP_MAX_PEERS];
	int npeers;
	int join;     /* a new site: join the running group (not DB_LEGACY) */
	int join_ms;  /* and retry a failed join for this long */
};

enum wk_rep_role { WK_REP_STARTING, WK_REP_CLIENT, WK_REP_MASTER };

/* Written by the replication manager's threads (its event callback), read
 * by the shard's loop. */
struct wk_rep {
	_Atomic int role;               /* enum wk_rep_role */
	_Atomic uint64_t role_changes;
	_Atomic int synced;             /* a client that has caught up with its master */
	_Atomic uint64_t connects;      /* connections made with other sites */
	_Atomic uint64_t membership_changes;  /* sites added to or removed from the group */
	_Atomic int removed;            /* this site was taken out of the group */
};


/* Before DB_ENV->open: this site and its peers, quorum acknowledgements,
 * the timeouts, the event callback.  0, or -1 logged. */
int wk_rep_configure(struct wk_rep *r, DB_ENV *env, const struct wk_rep_config *c);
/* After DB_ENV->open (with DB_INIT_REP and DB_THREAD): start the manager's
 * threads and call an election.  0, or -1 logged. */
int wk_rep_start(DB_ENV *env, const struct wk_rep_config *c);
/* Commit txn on the master.  0: committed and a quorum of sites has it (an
 * acknowledgement may be sent); WK_REP_NOT_DURABLE: committed here but
 * not acknowledged by a quorum in time (not to be acknowledged: a new
 * master may roll it back); else the Berkeley DB error (the transaction
 * is gone either way). */
#define WK_REP_NOT_DURABLE (-30000)
int wk_rep_commit(DB_TXN *txn);
/* The address of the site the replication manager takes for master now:
 * 0, or -1 when there is none (an election is running). */
int wk_rep_master_addr(DB_ENV *env, char *host, size_t hostlen, unsigned *port);
/* Take site s out of the group (any site may ask; a copy's request goes
 * to the master, which waits for acknowledgements): 1 removed, 0 not a
 * member (nothing to do), -1 failed (logged). */
int wk_rep_remove_site(DB_ENV *env, const struct wk_rep_site *s);
/* How many sites the group has (this one included), or -1. */
int wk_rep_sites(DB_ENV *env);
/* The sites the replication manager is connected with now, as host:port
 * (at most max): how many, or -1. */
int wk_rep_connected(DB_ENV *env, struct wk_rep_site *out, int max);

#endif
