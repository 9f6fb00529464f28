/* channel.c - wk-channel: a channel shard (wk-channel(8)).
 *
 * Owns the channels with wk_shard_channel(id) == its instance: metadata,
 * members, lists, the message log and sequence numbers, in its own Berkeley
 * DB environment <dataDir>/channel-<n> (opened, checkpointed and closed by
 * the skeleton from the table below).  Messages handled: the built-in
 * STATUS_REQ and PING_REQ for now; APPEND and the channel routes come with
 * the messaging layer. */
#include "wk_proc.h"

static const char *const channel_databases[] = { "meta.db", NULL };

static const struct wk_proc_def channel_def = {
	.name = "wk-channel",
	.role = WK_ROLE_CHANNEL,
	.sharded = 1,
	.databases = channel_databases,
};

int
main(int argc, char **argv)
{
	return wk_proc_main(argc, argv, &channel_def);
}
