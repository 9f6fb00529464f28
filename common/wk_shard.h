/* wk_shard.h - the shard map: which channel shard owns a channel, which
 * mailbox shard owns a user.  The only place that decides placement; data on
 * disk depends on it, so the function below must never change.  (A change of
 * shard counts is refused at start by wk-master, see wk_shard_layout_*.) */
#ifndef WK_SHARD_H
#define WK_SHARD_H
#include <stddef.h>
#include <stdint.h>

/* FNV-1a, 32 bits, over the bytes of the id. */
uint32_t wk_shard_hash(const void *key, size_t len);
/* Channel id (for person chats: the combined "a@b" id) -> shard in [0, nshards). */
int wk_shard_channel(const char *channel_id, size_t len, int nshards);
/* User id -> mailbox shard in [0, nshards). */
int wk_shard_uid(const char *uid, size_t len, int nshards);

/* The layout file in dataDir records the shard counts the data was written
 * with.  check: 0 if it matches (or was just created), -1 with a message in
 * `err` if the data was written with other counts. */
int wk_shard_layout_check(const char *data_dir, int nchannel, int nmailbox,
    char *err, size_t errlen);
/* The counts recorded in <data_dir>/LAYOUT: 0, or -1 if there is none. */
int wk_shard_layout_read(const char *data_dir, int *nchannel, int *nmailbox);

#endif
