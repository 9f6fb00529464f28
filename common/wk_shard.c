/* wk_shard.c - the shard map (see wk_shard.h: stable forever).
 *
 * Placement is the hash modulo the shard count, and the counts are fixed
 * once data exists (LAYOUT below): no data ever moves between shards.  The
 * LAYOUT file names the hash too, so data placed by another function
 * would be refused. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "wk_shard.h"

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

/* The channel shard of a stored channel id. */
int
wk_shard_channel(const char *channel_id, size_t len, int nshards)
{
	return nshards <= 1 ? 0 : (int)(wk_shard_hash(channel_id, len) % (uint32_t)nshards);
}

/* The mailbox shard of a uid. */
int
wk_shard_uid(const char *uid, size_t len, int nshards)
{
	/* Same function, distinct name: callers say what they route. */
	return wk_shard_channel(uid, len, nshards);
}

/* The counts in <dataDir>/LAYOUT (wk-master adopts them for "auto"). */
int
wk_shard_layout_read(const char *data_dir, int *nchannel, int *nmailbox)
{
	char path[4096], have[128];
	int fd, n;

	snprintf(path, sizeof path, "%s/LAYOUT", data_dir);
	if ((fd = open(path, O_RDONLY)) < 0)
		return -1;
	n = (int)read(fd, have, sizeof have - 1);
	close(fd);
	have[n > 0 ? n : 0] = '\0';
	return sscanf(have, "hash=fnv1a32 channel=%d mailbox=%d", nchannel, nmailbox) == 2 ? 0 : -1;
}

/* wk-master, before it forks: create LAYOUT with the counts of the first
 * start, or refuse to start when the data was written with other counts
 * (its rows would be looked for on the wrong shards). */
int
wk_shard_layout_check(const char *data_dir, int nchannel, int nmailbox,
    char *err, size_t errlen)
{
	char path[4096], want[128], have[128];
	int fd, n;

	snprintf(path, sizeof path, "%s/LAYOUT", data_dir);
	n = snprintf(want, sizeof want, "hash=fnv1a32 channel=%d mailbox=%d\n",
	    nchannel, nmailbox);
	fd = open(path, O_RDONLY);
	if (fd < 0 && errno == ENOENT) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0 || write(fd, want, n) != n || fsync(fd) < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
		return 0;
	}
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	n = (int)read(fd, have, sizeof have - 1);
	close(fd);
	have[n > 0 ? n : 0] = '\0';
	if (strcmp(have, want) != 0) {
		have[strcspn(have, "\n")] = '\0';
		want[strcspn(want, "\n")] = '\0';
		snprintf(err, errlen, "%s: data was written with \"%s\" but the "
		    "config asks for \"%s\"; shard counts cannot change once data exists",
		    path, have, want);
		return -1;
	}
	return 0;
}
