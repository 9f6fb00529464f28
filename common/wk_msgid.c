/* wk_msgid.c - snowflake message ids (wk_msgid.h). */
#include "wk_msgid.h"
#include "wk_time.h"

void
wk_msgid_init(struct wk_msgid *g, int node)
{
	g->node = node & 0x3ff;
	g->last_ms = 0;
	g->seq = 0;
}

int64_t
wk_msgid_next(struct wk_msgid *g)
{
	int64_t now = wk_wall_ms() - WK_MSGID_EPOCH_MS;

	if (now <= g->last_ms) {
		/* Same millisecond (or the clock went back): next sequence; when
		 * it runs out, borrow the next millisecond. */
		if (++g->seq > 0xfff) {
			g->seq = 0;
			g->last_ms++;
		}
	} else {
		g->last_ms = now;
		g->seq = 0;
	}
	return g->last_ms << 22 | (int64_t)g->node << 12 | g->seq;
}
