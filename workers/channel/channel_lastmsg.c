/* channel_lastmsg.c - this shard's region of the last-message table
 * (lastmsg.h, wk-channel(8)): rebuilt from channels.db and each channel's
 * newest message when the shard starts (after a kill -9 too), then one row
 * written per channel whose last seq moved, after each commit and before
 * anything of it is acknowledged (channel_store.c's end-of-transaction
 * hook calls channel_lastmsg_publish).  wk-api reads it for
 * /conversation/sync.  Without the table (no segment: a test that runs a
 * shard alone) nothing is published and readers ask the shard.
 */
#include <string.h>
#include "channel_store.h"
#include "lastmsg.h"
#include "wk_log.h"
#include "wk_shard.h"

static struct {
	struct lastmsg t;
	uint32_t region;
	int open;
	long refused;
} lm;

/* One record of the walk: its newest message into the region. */
static int
rebuild_one(struct wk_proc *p, const char *id, uint8_t type, uint64_t num, uint32_t last_seq,
    void *arg)
{
	struct wk_wbuf *buf = arg;
	struct lastmsg_row row = { .last_seq = last_seq };
	struct channel_msg m;

	if (last_seq == 0 || num == 0)
		return 0;
	/* A disbanded channel keeps its last seq without its messages. */
	if (channel_msg_get_num(p, num, last_seq, &m, buf) == 1) {
		row.message_id = m.message_id;
		row.timestamp = m.timestamp;
		row.from_hash = m.from_uid_len ? wk_shard_hash(m.from_uid, m.from_uid_len) : 0;
	}
	if (lastmsg_put(&lm.t, lm.region, id, strlen(id), type, &row) < 0)
		lm.refused++;
	return 0;
}

int
channel_lastmsg_open(struct wk_proc *p)
{
	struct wk_wbuf buf;
	int rc;

	if (lastmsg_attach(&lm.t, p->cfg.runDir, 1) < 0) {
		wk_log_warnx("no last-message table: /conversation/sync asks the shard");
		return -1;
	}
	if ((uint32_t)p->instance >= lm.t.hdr->nregions) {
		wk_log_warnx("last-message table: %u regions, shard %d", lm.t.hdr->nregions,
		    p->instance);
		lastmsg_close(&lm.t);
		return -1;
	}
	lm.region = (uint32_t)p->instance;
	lastmsg_rebuild(&lm.t, lm.region);
	wk_wbuf_init(&buf);
	rc = channel_store_records(p, rebuild_one, &buf);
	wk_wbuf_free(&buf);
	channel_commit(p);
	if (rc < 0) {
		/* The region stays odd: readers ask the shard. */
		lastmsg_close(&lm.t);
		return -1;
	}
	lastmsg_rebuilt(&lm.t, lm.region);
	lm.open = 1;
	if (lm.refused)
		wk_log_warnx("last-message table: %ld channels not held (conversation.lastMsgSlots)",
		    lm.refused);
	return 0;
}

void
channel_lastmsg_close(void)
{
	if (lm.open)
		lastmsg_close(&lm.t);
	lm.open = 0;
}

void
channel_lastmsg_publish(struct channel_rec *c)
{
	struct lastmsg_row row = { .last_seq = c->last_seq, .message_id = c->last_msg_id,
	    .timestamp = c->last_ts, .from_hash = c->last_from_hash };

	c->pub_seq = c->last_seq;
	if (lm.open && lastmsg_put(&lm.t, lm.region, c->id, strlen(c->id), c->type, &row) < 0)
		lm.refused++;
}
