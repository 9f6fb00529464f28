/* wk_shard.h - the shard map: which channel shard owns a channel, which
 * mailbox shard owns a user.  The only place that decides placement; data on
 * disk depends on it, so a data directory keeps the function it was written
 * with: <dataDir>/LAYOUT names it and the shard counts (a change of counts
 * is refused at start by wk-master, see wk_shard_layout_*). */
#ifndef WK_SHARD_H
#define WK_SHARD_H
#include <stddef.h>
#include <stdint.h>

/* murmur3's fmix64: every bit of h reaches every bit of the result. */
static inline uint64_t
wk_fmix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

/* The placement functions a LAYOUT can name.  Never renumber or change one:
 * data on disk depends on them. */
enum wk_shard_fn {
	WK_SHARD_FNV1A32,            /* "fnv1a32": data directories before 2026-12 */
	WK_SHARD_FNV1A64_FMIX64,     /* "fnv1a64-fmix64": every new data directory */
};

/* FNV-1a, 32 bits, over the bytes of the id.  Placement of old data
 * directories, and the hash of in-memory tables (poor low bits: mix it
 * before taking a power-of-two modulus). */
uint32_t wk_shard_hash(const void *key, size_t len);
/* FNV-1a, 64 bits, through murmur3's fmix64 finaliser: every output bit
 * depends on every input bit, so a modulus spreads any key set. */
uint64_t wk_shard_hash64(const void *key, size_t len);

/* The function placement uses in this process: set once at start from the
 * data directory (wk_shard_layout_load / _check); the default is that of
 * new data directories. */
void wk_shard_use(enum wk_shard_fn fn);
enum wk_shard_fn wk_shard_in_use(void);
const char *wk_shard_fn_name(enum wk_shard_fn fn);

/* Channel id (for person chats: the combined "a@b" id) -> shard in [0, nshards). */
int wk_shard_channel(const char *channel_id, size_t len, int nshards);
/* User id -> mailbox shard in [0, nshards). */
int wk_shard_uid(const char *uid, size_t len, int nshards);

/* wk-master, before it forks: create <data_dir>/LAYOUT for new data (with
 * the function of new data directories), or check the counts against it.
 * 0 with *fn set to the data's function, or -1 with a message in `err` if
 * the data was written with other counts or names an unknown function. */
int wk_shard_layout_check(const char *data_dir, int nchannel, int nmailbox,
    enum wk_shard_fn *fn, char *err, size_t errlen);
/* The counts and function recorded in <data_dir>/LAYOUT (fn may be NULL):
 * 0, or -1 if there is none or it cannot be parsed. */
int wk_shard_layout_read(const char *data_dir, int *nchannel, int *nmailbox,
    enum wk_shard_fn *fn);
/* Every process at start: use the function <data_dir>/LAYOUT names (none
 * yet: that of new data).  -1 with a message in `err` if it is unreadable. */
int wk_shard_layout_load(const char *data_dir, char *err, size_t errlen);

#endif
