/* wk_shard.c - the shard map (see wk_shard.h: a data directory's function
 * never changes).
 *
 * Placement is a hash modulo the shard count, and the counts are fixed
 * once data exists (LAYOUT below): no data ever moves between shards.  The
 * LAYOUT file names the hash too.  The first one, FNV-1a 32, mixes badly
 * in its low bits (the lowest is the parity of the bytes' low bits), so
 * with 2 shards every person chat "xs1@xr1" landed on shard 0; new data
 * directories use FNV-1a 64 through fmix64, old ones keep theirs. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "wk_shard.h"

static const char *const fn_names[] = {
	[WK_SHARD_FNV1A32] = "fnv1a32",
	[WK_SHARD_FNV1A64_FMIX64] = "fnv1a64-fmix64",
};
#define WK_SHARD_FN_NEW WK_SHARD_FNV1A64_FMIX64

static enum wk_shard_fn in_use = WK_SHARD_FN_NEW;

/* FNV-1a, 32 bits; frozen (wk_shard.h). */
uint32_t
wk_shard_hash(const void *key, size_t len)
{
	const uint8_t *p = key;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}

/* FNV-1a 64, then murmur3's fmix64; frozen (wk_shard.h). */
uint64_t
wk_shard_hash64(const void *key, size_t len)
{
	const uint8_t *p = key;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return wk_fmix64(h);
}

void wk_shard_use(enum wk_shard_fn fn) { in_use = fn; }
enum wk_shard_fn wk_shard_in_use(void) { return in_use; }
const char *wk_shard_fn_name(enum wk_shard_fn fn) { return fn_names[fn]; }

/* The channel shard of a stored channel id. */
int
wk_shard_channel(const char *channel_id, size_t len, int nshards)
{
	if (nshards <= 1)
		return 0;
	if (in_use == WK_SHARD_FNV1A32)
		return (int)(wk_shard_hash(channel_id, len) % (uint32_t)nshards);
	return (int)(wk_shard_hash64(channel_id, len) % (uint64_t)nshards);
}

/* The mailbox shard of a uid. */
int
wk_shard_uid(const char *uid, size_t len, int nshards)
{
	/* Same function, distinct name: callers say what they route. */
	return wk_shard_channel(uid, len, nshards);
}

/* "[hash=NAME ]channel=N mailbox=M": 0, or -1 if malformed or NAME is
 * unknown.  Without the field the data predates it: FNV-1a 32. */
static int
layout_parse(const char *text, int *nchannel, int *nmailbox, enum wk_shard_fn *fn)
{
	char name[32];
	int used = 0;
	enum wk_shard_fn f = WK_SHARD_FNV1A32;

	if (sscanf(text, "hash=%31s %n", name, &used) == 1 && used > 0) {
		size_t i;
		for (i = 0; i < sizeof fn_names / sizeof fn_names[0]; i++)
			if (strcmp(name, fn_names[i]) == 0)
				break;
		if (i == sizeof fn_names / sizeof fn_names[0])
			return -1;
		f = (enum wk_shard_fn)i;
		text += used;
	}
	if (sscanf(text, "channel=%d mailbox=%d", nchannel, nmailbox) != 2)
		return -1;
	if (fn != NULL)
		*fn = f;
	return 0;
}

/* <data_dir>/LAYOUT into have (NUL-terminated): 0, -1 with errno. */
static int
layout_slurp(const char *data_dir, char *have, size_t cap)
{
	char path[4096];
	int fd, n;

	snprintf(path, sizeof path, "%s/LAYOUT", data_dir);
	if ((fd = open(path, O_RDONLY)) < 0)
		return -1;
	n = (int)read(fd, have, cap - 1);
	close(fd);
	have[n > 0 ? n : 0] = '\0';
	have[strcspn(have, "\n")] = '\0';
	return 0;
}

/* The counts in <dataDir>/LAYOUT (wk-master adopts them for "auto"). */
int
wk_shard_layout_read(const char *data_dir, int *nchannel, int *nmailbox, enum wk_shard_fn *fn)
{
	char have[128];

	if (layout_slurp(data_dir, have, sizeof have) < 0)
		return -1;
	return layout_parse(have, nchannel, nmailbox, fn);
}

/* Every process: placement by the data's function. */
int
wk_shard_layout_load(const char *data_dir, char *err, size_t errlen)
{
	char have[128];
	int nch, nmb;
	enum wk_shard_fn fn;

	if (layout_slurp(data_dir, have, sizeof have) < 0) {
		if (errno != ENOENT) {
			snprintf(err, errlen, "%s/LAYOUT: %s", data_dir, strerror(errno));
			return -1;
		}
		wk_shard_use(WK_SHARD_FN_NEW);
		return 0;
	}
	if (layout_parse(have, &nch, &nmb, &fn) < 0) {
		snprintf(err, errlen, "%s/LAYOUT: cannot parse \"%s\"", data_dir, have);
		return -1;
	}
	wk_shard_use(fn);
	return 0;
}

/* wk-master, before it forks: create LAYOUT with the counts of the first
 * start and the new function, or refuse to start when the data was written
 * with other counts (its rows would be looked for on the wrong shards). */
int
wk_shard_layout_check(const char *data_dir, int nchannel, int nmailbox,
    enum wk_shard_fn *fn, char *err, size_t errlen)
{
	char path[4096], want[128], have[128];
	int fd, n, nch, nmb;

	snprintf(path, sizeof path, "%s/LAYOUT", data_dir);
	if (layout_slurp(data_dir, have, sizeof have) < 0) {
		if (errno != ENOENT) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
		n = snprintf(want, sizeof want, "hash=%s channel=%d mailbox=%d\n",
		    fn_names[WK_SHARD_FN_NEW], nchannel, nmailbox);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0 || write(fd, want, n) != n || fsync(fd) < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
		*fn = WK_SHARD_FN_NEW;
		return 0;
	}
	if (layout_parse(have, &nch, &nmb, fn) < 0) {
		snprintf(err, errlen, "%s: cannot parse \"%s\" (want "
		    "\"hash=NAME channel=N mailbox=M\", NAME one of fnv1a32, fnv1a64-fmix64)",
		    path, have);
		return -1;
	}
	if (nch != nchannel || nmb != nmailbox) {
		snprintf(err, errlen, "%s: data was written with \"channel=%d mailbox=%d\" but "
		    "the config asks for \"channel=%d mailbox=%d\"; shard counts cannot "
		    "change once data exists", path, nch, nmb, nchannel, nmailbox);
		return -1;
	}
	return 0;
}
