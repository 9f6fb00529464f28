/* channel_sendcache.c - the last seq each user sent to each channel, in
 * memory (wk-channel(8)): /conversation/sync asks it for every
 * conversation (what the user sent counts as read), and senders.db would
 * be read each time.
 *
 * A cached answer ("never sent" included) for (channel number, uid); the
 * shard's own appends write it through (channel_log.c, in the iteration's
 * transaction), a failed commit or a channel deleted drops everything.
 * Channel numbers are never reused, so an entry cannot outlive its
 * channel's meaning.  Bounded: at SENDCACHE_MAX entries it is emptied and
 * refills from senders.db (cheaper than an LRU list for entries of a few
 * dozen bytes, and a sync of the hot users brings the hot entries back).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "channel_store.h"
#include "wk_alloc.h"
#include "wk_map.h"

#define SENDCACHE_MAX 262144

static struct {
	struct wk_map seqs;          /* num (8 bytes) then uid -> seq + 1 */
	uint64_t hits, misses, purges;
} sc;

/* The key into k (sized CHANNEL_ID_MAX + 8): the number's bytes, then
 * the uid; its length. */
static size_t
key(char *k, uint64_t num, const char *uid, size_t len)
{
	memcpy(k, &num, sizeof num);
	memcpy(k + sizeof num, uid, len);
	return sizeof num + len;
}

int
channel_sendcache_get(uint64_t num, const char *uid, size_t len, uint32_t *seq)
{
	char k[CHANNEL_ID_MAX + 8];
	void *v;

	if (len > CHANNEL_ID_MAX || (v = wk_map_get(&sc.seqs, k, key(k, num, uid, len))) == NULL) {
		sc.misses++;
		return 0;
	}
	sc.hits++;
	*seq = (uint32_t)((uintptr_t)v - 1);
	return 1;
}

void
channel_sendcache_put(uint64_t num, const char *uid, size_t len, uint32_t seq)
{
	char k[CHANNEL_ID_MAX + 8];

	if (len > CHANNEL_ID_MAX)
		return;
	if (wk_map_size(&sc.seqs) >= SENDCACHE_MAX) {
		wk_map_clear(&sc.seqs, NULL);
		sc.purges++;
	}
	wk_map_set(&sc.seqs, k, key(k, num, uid, len), (void *)((uintptr_t)seq + 1));
}

void
channel_sendcache_clear(void)
{
	wk_map_clear(&sc.seqs, NULL);
}

int
channel_sendcache_status(char *buf, size_t len)
{
	return snprintf(buf, len, " sendcache_entries=%zu sendcache_hits=%llu"
	    " sendcache_misses=%llu sendcache_purges=%llu",
	    wk_map_size(&sc.seqs), (unsigned long long)sc.hits,
	    (unsigned long long)sc.misses, (unsigned long long)sc.purges);
}

void
channel_sendcache_close(void)
{
	wk_map_free(&sc.seqs, NULL);
}
