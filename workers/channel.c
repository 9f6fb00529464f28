/* channel.c - wk-channel: a channel shard (wk-channel(8)).
 *
 * Owns the channels with wk_shard_channel(id) == its instance: metadata,
 * members, lists, the message log and sequence numbers, in its own Berkeley
 * DB environment <dataDir>/channel-<n>.  Messages handled: the built-in
 * STATUS_REQ and PING_REQ for now; APPEND and the channel routes come with
 * the messaging layer. */
#include "wk_db.h"
#include "wk_log.h"
#include "wk_proc.h"

static struct channel {
	struct wk_db_env env;
	DB *meta;           /* shard facts: layout version, counters */
} channel;

static int
channel_on_start(struct wk_proc *p)
{
	if (wk_proc_db_open(p, &channel.env) < 0)
		return -1;
	return wk_db_open(&channel.env, "meta.db", &channel.meta);
}

static void
channel_on_tick(struct wk_proc *p)
{
	wk_db_checkpoint_due(&channel.env, p->cfg.storage_checkpointInterval);
}

static void
channel_on_stop(struct wk_proc *p)
{
	if (channel.meta)
		channel.meta->close(channel.meta, 0);
	channel.meta = NULL;
	wk_db_env_close(&channel.env);
}

static const struct wk_proc_def channel_def = {
	.name = "wk-channel",
	.role = WK_ROLE_CHANNEL,
	.sharded = 1,
	.on_start = channel_on_start,
	.on_tick = channel_on_tick,
	.tick_ms = 1000,
	.on_stop = channel_on_stop,
};

int
main(int argc, char **argv)
{
	return wk_proc_main(argc, argv, &channel_def);
}
