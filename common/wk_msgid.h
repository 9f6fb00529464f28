/* wk_msgid.h - 64-bit message ids, unique across channel shards: the
 * reference's snowflake layout (41 bits of milliseconds since 2010-11-04,
 * the Twitter epoch; 10 bits of node; 12 bits of sequence), with the channel
 * shard's instance as the node, so shards never collide. */
#ifndef WK_MSGID_H
#define WK_MSGID_H
#include <stdint.h>

#define WK_MSGID_EPOCH_MS 1288834974657LL

struct wk_msgid {
	int node;                    /* 0..1023 */
	int64_t last_ms;
	int seq;
};

void wk_msgid_init(struct wk_msgid *g, int node);
/* The next id: strictly increasing for this generator, even if the clock
 * steps back (then it keeps counting in the last millisecond it saw). */
int64_t wk_msgid_next(struct wk_msgid *g);

#endif
