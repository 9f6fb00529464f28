/* mailbox.c - wk-mailbox: a user shard (wk-mailbox(8)).
 *
 * Owns the users with wk_shard_uid(uid) == its instance: tokens and devices,
 * user flags, conversation rows, cmd mailboxes, in its own Berkeley DB
 * environment <dataDir>/mailbox-<n> (opened by the skeleton); and region <n>
 * of the presence segment, which only it writes.
 *
 * Messages handled: MAILBOX_AUTH, MAILBOX_CONN_RESTORE, MAILBOX_CONN_CLOSED,
 * MAILBOX_BROKER_HELLO from brokers (mailbox_conn.c); the API op rows
 * MAILBOX_USER_TOKEN ... MAILBOX_CMD_SYNCACK from wk-api (mailbox_api.c);
 * MAILBOX_CMD from the channel shards and MAILBOX_CMD_RECVACK from brokers
 * (mailbox_cmd.c).  Sends BROKER_MAILBOX_HELLO at start so the brokers
 * restore the connections of users it owns after a restart.  Everything a
 * loop iteration reads and writes is in one transaction (p->txn, wk_txn.h),
 * committed once in on_iteration; answers and acknowledgements wait for it. */
#include <unistd.h>
#include "mailbox.h"
#include "wk_buf.h"
#include "wk_log.h"
#include "wk_txn.h"

static struct lastmsg lastmsg;     /* read-only; hdr NULL without one */

static const char *const mailbox_databases[MAILBOX_DB_COUNT + 1] = {
	"users.db", "convs.db", "cmdbox.db", NULL,
};

#define FROM_BROKER WK_ROLE_BIT(WK_ROLE_BROKER)
#define FROM_API (WK_ROLE_BIT(WK_ROLE_API) | WK_ROLE_BIT(WK_ROLE_CTL))
static const struct wk_dispatch mailbox_dispatch[] = {
	{ WK_MSG_MAILBOX_AUTH, 1, 1, FROM_BROKER, mailbox_on_auth },
	{ WK_MSG_MAILBOX_CONN_RESTORE, 1, 1, FROM_BROKER, mailbox_on_conn_restore },
	{ WK_MSG_MAILBOX_CONN_CLOSED, 1, 1, FROM_BROKER, mailbox_on_conn_closed },
	{ WK_MSG_MAILBOX_BROKER_HELLO, 1, 1, FROM_BROKER, mailbox_on_broker_hello },
	{ WK_MSG_MAILBOX_USER_TOKEN, 1, 1, FROM_API, mailbox_on_op },
	{ WK_MSG_MAILBOX_DEVICE_QUIT, 1, 1, FROM_API, mailbox_on_op },
	{ WK_MSG_MAILBOX_USER_FLAGS, 1, 1, FROM_API, mailbox_on_op },
	{ WK_MSG_MAILBOX_SYSUID_ADD, 1, 1, FROM_API, mailbox_on_op },
	{ WK_MSG_MAILBOX_SYSUID_REMOVE, 1, 1, FROM_API, mailbox_on_op },
	{ WK_MSG_MAILBOX_SYSUID_LIST, 1, 1, FROM_API, mailbox_on_op },
	{ WK_MSG_MAILBOX_CONV_ROWS, 1, 1, FROM_API, mailbox_on_op },
	{ WK_MSG_MAILBOX_CONV_SET, 1, 1, FROM_API, mailbox_on_op },
	{ WK_MSG_MAILBOX_CONV_REMOVE, 1, 1, FROM_API, mailbox_on_op },
	{ WK_MSG_MAILBOX_CONV_DELETE, 1, 1, FROM_API, mailbox_on_op },
	{ WK_MSG_MAILBOX_CMD_SYNC, 1, 1, FROM_API, mailbox_on_op },
	{ WK_MSG_MAILBOX_CMD_SYNCACK, 1, 1, FROM_API, mailbox_on_op },
	{ WK_MSG_MAILBOX_CMD, 1, 1, WK_ROLE_BIT(WK_ROLE_CHANNEL), mailbox_on_cmd },
	{ WK_MSG_MAILBOX_CMD_RECVACK, 1, 1, FROM_BROKER, mailbox_on_cmd_recvack },
	{ WK_MSG_MAILBOX_PRESENCE, 1, 1, WK_ROLE_BIT(WK_ROLE_MAILBOX), mailbox_on_presence },
};
/* In a cluster a copy of the shard keeps its host's presence region. */
static const int mailbox_copy_types[] = { WK_MSG_MAILBOX_PRESENCE };

const struct lastmsg *mailbox_lastmsg(void) { return lastmsg.hdr ? &lastmsg : NULL; }

/* The iteration's transaction ended: what memory holds of it follows. */
static void
mailbox_txn_ended(struct wk_proc *p, int rc)
{
	mailbox_users_txn_ended(p, rc);
	mailbox_cmd_txn_ended(p, rc);
	if (rc < 0)
		mailbox_convcache_clear();   /* it may hold what was not committed */
}

static int
mailbox_on_start(struct wk_proc *p)
{
	static const struct wk_txn_hooks hooks = { NULL, mailbox_txn_ended };
	struct wk_wbuf b;

	if (mailbox_presence_open(p) < 0)
		return -1;
	/* conv.rows' filter reads it; without it every row is answered. */
	if (lastmsg_attach(&lastmsg, p->cfg.runDir, 0) < 0)
		wk_log_warnx("no last-message table: conv.rows answers every row");
	wk_txn_set_hooks(p->txn, &hooks);
	wk_wbuf_init(&b);
	wk_put_u16(&b, (uint16_t)p->instance);
	wk_proc_broadcast_hosts(p, WK_ROLE_BROKER, p->cfg.processes_broker,
	    WK_MSG_BROKER_MAILBOX_HELLO, &b);
	wk_wbuf_free(&b);
	return mailbox_presence_start(p);
}

/* Group commit: one commit for everything the iteration read and wrote;
 * the API replies queued after it leave with its outcome, then the
 * hand-overs are acknowledged and delivered. */
static void
mailbox_on_iteration(struct wk_proc *p)
{
	wk_txn_commit(p->txn);
	mailbox_cmd_flush(p);
}

/* Once a second: a step of the bound on cmd mailboxes (its writes are
 * committed at the end of the iteration like any other). */
static void
mailbox_on_tick(struct wk_proc *p)
{
	mailbox_cmd_bound_step(p);
	mailbox_presence_tick(p);
}

static void
mailbox_on_stop(struct wk_proc *p)
{
	mailbox_on_iteration(p);
	mailbox_presence_close();
	if (lastmsg.hdr)
		lastmsg_close(&lastmsg);
	mailbox_convcache_close();
}

static int
mailbox_on_status(struct wk_proc *p, char *buf, size_t len)
{
	struct presence *ps = mailbox_presence();
	struct presence_region *r = presence_region(ps, p->instance);
	int n = snprintf(buf, len, " presence_used=%u presence_capacity=%u presence_churn=%llu",
	    r->used, ps->hdr->capacity, (unsigned long long)r->churn);

	if (n > 0 && (size_t)n < len)
		n += mailbox_cmd_status(p, buf + n, len - n);
	if (n > 0 && (size_t)n < len)
		n += mailbox_convcache_status(buf + n, len - n);
	return n;
}

/* Presence fill of this shard's region, for the statistics row. */
static void
mailbox_on_stats(struct wk_proc *p, struct stats_row *row)
{
	struct presence *ps = mailbox_presence();

	stats_set(row, STATS_PRESENCE_USED, presence_region(ps, p->instance)->used);
	stats_set(row, STATS_PRESENCE_CAPACITY, ps->hdr->capacity);
}

static const struct wk_proc_def mailbox_def = {
	.name = "wk-mailbox",
	.role = WK_ROLE_MAILBOX,
	.sharded = 1,
	.dispatch = mailbox_dispatch,
	.ndispatch = sizeof mailbox_dispatch / sizeof mailbox_dispatch[0],
	.copy_types = mailbox_copy_types,
	.ncopy_types = sizeof mailbox_copy_types / sizeof mailbox_copy_types[0],
	.on_start = mailbox_on_start,
	.on_iteration = mailbox_on_iteration,
	.on_stop = mailbox_on_stop,
	.tick_ms = 1000,
	.on_tick = mailbox_on_tick,
	.on_status = mailbox_on_status,
	.on_stats = mailbox_on_stats,
	.databases = mailbox_databases,
};

int
main(int argc, char **argv)
{
	return wk_proc_main(argc, argv, &mailbox_def);
}
