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
#include <czmq.h>
#include "channel_store.h"
#include "wk_alloc.h"

#define SENDCACHE_MAX 262144

static struct {
	zhashx_t *seqs;              /* "num-hex/uid" -> seq + 1 */
	uint64_t hits, misses, purges;
} sc;

/* The key into k (sized CHANNEL_ID_MAX + 18): "%016llx/" then the uid. */
static const char *
key(char *k, uint64_t num, const char *uid, size_t len)
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 15; i >= 0; i--, num >>= 4)
		k[i] = hex[num & 15];
	k[16] = '/';
	memcpy(k + 17, uid, len);
	k[17 + len] = '\0';
	return k;
}

int
channel_sendcache_get(uint64_t num, const char *uid, size_t len, uint32_t *seq)
{
	char k[CHANNEL_ID_MAX + 18];
	void *v;

	if (sc.seqs == NULL || len > CHANNEL_ID_MAX ||
	    (v = zhashx_lookup(sc.seqs, key(k, num, uid, len))) == NULL) {
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
	char k[CHANNEL_ID_MAX + 18];

	if (len > CHANNEL_ID_MAX)
		return;
	if (sc.seqs == NULL)
		sc.seqs = zhashx_new();
	if (zhashx_size(sc.seqs) >= SENDCACHE_MAX) {
		zhashx_purge(sc.seqs);
		sc.purges++;
	}
	zhashx_update(sc.seqs, key(k, num, uid, len), (void *)((uintptr_t)seq + 1));
}

void
channel_sendcache_clear(void)
{
	if (sc.seqs)
		zhashx_purge(sc.seqs);
}

int
channel_sendcache_status(char *buf, size_t len)
{
	return snprintf(buf, len, " sendcache_entries=%zu sendcache_hits=%llu"
	    " sendcache_misses=%llu sendcache_purges=%llu",
	    sc.seqs ? zhashx_size(sc.seqs) : 0, (unsigned long long)sc.hits,
	    (unsigned long long)sc.misses, (unsigned long long)sc.purges);
}

void
channel_sendcache_close(void)
{
	zhashx_destroy(&sc.seqs);
}
