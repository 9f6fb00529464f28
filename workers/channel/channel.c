/* channel.c - wk-channel: a channel shard (wk-channel(8)).
 *
 * Owns the channels with wk_shard_channel(id) == its instance: metadata,
 * members, lists, the message log and sequence numbers, in its own Berkeley
 * DB environment <dataDir>/channel-<n> (opened, checkpointed and closed by
 * the skeleton from channel_databases, see channel_store.c).
 *
 * Messages handled: the HTTP API op rows CHANNEL_UPSERT ...
 * CHANNEL_RETENTION and CHANNEL_MSG_IMPORT from wk-api (channel_api.c,
 * channel_msgops.c, channel_edit.c, channel_retention.c, channel_conv.c,
 * channel_stream.c, channel_import.c), CHANNEL_APPEND from the brokers
 * (channel_append.c), CHANNEL_CMD_ACK from the mailbox shards
 * (channel_cmd.c), CHANNEL_PERSON_CHECK, _CHECK_REP, _CHANGED and _FLUSH
 * from the other channel shards (channel_person.c, channel_append.c), and
 * the built-in
 * STATUS_REQ and PING_REQ.  Every write of a loop iteration goes into one
 * transaction, committed once in on_iteration; replies wait for it.
 */
#include "channel.h"

#define FROM_API (WK_ROLE_BIT(WK_ROLE_API) | WK_ROLE_BIT(WK_ROLE_CTL))

/* One row per message type: { type, min frames, max frames, senders, handler }. */
static const struct wk_dispatch channel_dispatch[] = {
	/* The HTTP API ops (channel_api.c): one frame, the payload of the row. */
	{ WK_MSG_CHANNEL_UPSERT, 1, 1, FROM_API, channel_on_op },
	{ WK_MSG_CHANNEL_INFO, 1, 1, FROM_API, channel_on_op },
	{ WK_MSG_CHANNEL_DELETE, 1, 1, FROM_API, channel_on_op },
	{ WK_MSG_CHANNEL_LIST, 1, 1, FROM_API, channel_on_op },
	{ WK_MSG_CHANNEL_LIST_GET, 1, 1, FROM_API, channel_on_op },
	{ WK_MSG_CHANNEL_GET, 1, 1, FROM_API, channel_on_op },
	{ WK_MSG_CHANNEL_MSG_SEND, 1, 1, FROM_API, channel_on_op },
	{ WK_MSG_CHANNEL_MSG_SENDBATCH, 1, 1, FROM_API, channel_on_op },
	{ WK_MSG_CHANNEL_MSG_SYNC, 1, 1, FROM_API, channel_on_op },
	{ WK_MSG_CHANNEL_MSG_SEARCH, 1, 1, FROM_API, channel_on_op },
	{ WK_MSG_CHANNEL_MSG_GET, 1, 1, FROM_API, channel_on_op },
	{ WK_MSG_CHANNEL_MSG_LAST, 1, 1, FROM_API, channel_on_op },
	{ WK_MSG_CHANNEL_MSG_MAX_SEQ, 1, 1, FROM_API, channel_on_op },
	{ WK_MSG_CHANNEL_CONV_RECENTS, 1, 1, FROM_API, channel_on_op },
	{ WK_MSG_CHANNEL_MSG_EVENT, 1, 1, FROM_API, channel_on_op },
	{ WK_MSG_CHANNEL_MSG_EVENTSYNC, 1, 1, FROM_API, channel_on_op },
	{ WK_MSG_CHANNEL_MSG_REVOKE, 1, 1, FROM_API, channel_on_op },
	{ WK_MSG_CHANNEL_MSG_EDIT, 1, 1, FROM_API, channel_on_op },
	{ WK_MSG_CHANNEL_RETENTION, 1, 1, FROM_API, channel_on_op },
	{ WK_MSG_CHANNEL_MSG_IMPORT, 1, 1, FROM_API, channel_on_op },
	{ WK_MSG_CHANNEL_APPEND, 1, 1, WK_ROLE_BIT(WK_ROLE_BROKER), NULL },
	{ WK_MSG_CHANNEL_PERSON_CHECK, 1, 1, WK_ROLE_BIT(WK_ROLE_CHANNEL), channel_on_person_check },
	{ WK_MSG_CHANNEL_PERSON_CHECK_REP, 1, 1, WK_ROLE_BIT(WK_ROLE_CHANNEL), channel_on_person_check_rep },
	{ WK_MSG_CHANNEL_PERSON_CHANGED, 1, 1, WK_ROLE_BIT(WK_ROLE_CHANNEL), channel_on_person_changed },
	{ WK_MSG_CHANNEL_PERSON_FLUSH, 1, 1, WK_ROLE_BIT(WK_ROLE_CHANNEL), channel_on_person_flush },
	{ WK_MSG_CHANNEL_CMD_ACK, 1, 1, WK_ROLE_BIT(WK_ROLE_MAILBOX), channel_on_cmd_ack },
};

/* The rows above without a handler: read in place (wk_dispatch.h). */
static const struct wk_dispatch_view channel_views[] = {
	{ WK_MSG_CHANNEL_APPEND, channel_on_append },
};

static int
channel_on_start(struct wk_proc *p)
{
	channel_mcache_configure((uint64_t)p->cfg.channel_memberCacheMax);
	if (channel_store_open(p) < 0)
		return -1;
	channel_lastmsg_open(p);     /* without it, wk-api asks the shard */
	if (channel_cmd_open(p) < 0 || channel_notify_open(p) < 0 || channel_stream_open(p) < 0 ||
	    channel_person_open(p) < 0)
		return -1;
	return channel_append_open(p);
}

/* Group commit: one commit for everything the iteration wrote; the work
 * queued with channel_after_commit (replies) runs with its outcome.
 * Stream deltas leave before it, stream events that wait for it after the
 * messages it made durable (their anchors among them). */
static void
channel_on_iteration(struct wk_proc *p)
{
	channel_stream_flush(p, 0);
	channel_commit(p);
	channel_append_flush(p);
	channel_cmd_flush(p);
	channel_stream_flush(p, 1);
	channel_hook_offline_step(p);
}

static void
channel_on_tick(struct wk_proc *p)
{
	channel_append_tick(p);
	channel_cmd_tick(p);
	channel_stream_tick(p);
	channel_retention_step(p);
}

static int
channel_on_status(struct wk_proc *p, char *buf, size_t len)
{
	int n = channel_append_status(p, buf, len);

	if (n > 0 && (size_t)n < len)
		n += channel_cmd_status(p, buf + n, len - n);
	if (n > 0 && (size_t)n < len)
		n += channel_stream_status(p, buf + n, len - n);
	if (n > 0 && (size_t)n < len)
		n += channel_api_status(p, buf + n, len - n);
	if (n > 0 && (size_t)n < len)
		n += channel_person_status(p, buf + n, len - n);
	if (n > 0 && (size_t)n < len)
		n += channel_mcache_status(buf + n, len - n);
	if (n > 0 && (size_t)n < len)
		n += channel_sendcache_status(buf + n, len - n);
	if (n > 0 && (size_t)n < len)
		n += channel_hook_status(buf + n, len - n);
	if (n > 0 && (size_t)n < len)
		n += channel_retention_status(buf + n, len - n);
	if (n > 0 && (size_t)n < len)
		n += channel_notify_status(buf + n, len - n);
	if (n > 0 && (size_t)n < len)
		n += channel_beforesend_status(buf + n, len - n);
	return n;
}

static void
channel_on_stop(struct wk_proc *p)
{
	channel_stream_flush(p, 0);
	channel_commit(p);
	channel_append_flush(p);
	channel_stream_flush(p, 1);
	channel_hook_offline_drain(p);
	channel_commit(p);           /* the read transaction the drain opened */
	channel_stream_close(p);
	channel_store_close(p);
	channel_lastmsg_close();
	channel_mcache_close();
	channel_sendcache_close();
	channel_append_close(p);
	channel_beforesend_close();
	channel_cmd_close(p);
	channel_person_close(p);
}

static const struct wk_proc_def channel_def = {
	.name = "wk-channel",
	.role = WK_ROLE_CHANNEL,
	.sharded = 1,
	.dispatch = channel_dispatch,
	.ndispatch = sizeof channel_dispatch / sizeof channel_dispatch[0],
	.views = channel_views,
	.nviews = sizeof channel_views / sizeof channel_views[0],
	.on_start = channel_on_start,
	.on_iteration = channel_on_iteration,
	.on_stop = channel_on_stop,
	.on_status = channel_on_status,
	.on_tick = channel_on_tick,
	.tick_ms = 500,
	.databases = channel_databases,
	.db_pagesize = channel_db_pagesize,
	.on_refused = channel_on_refused,
};

int
main(int argc, char **argv)
{
	return wk_proc_main(argc, argv, &channel_def);
}
