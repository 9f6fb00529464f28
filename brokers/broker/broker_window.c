/* broker_window.c - backpressure on SENDs (wk-broker(8), limits.sendWindow,
 * limits.sendBacklog): every SEND passed to a channel shard counts against
 * its connection until the SENDACK comes back. */
#include "broker.h"
#include "wk_log.h"
#include "wk_time.h"

#define SENDACK_LOST_MS 15000   /* no SENDACK for this long: the SENDs were lost */

static struct wk_ratelimit rl_window = WK_RATELIMIT_INIT(5);

/* Backpressure.  Past limits.sendWindow SENDs without their SENDACK, or
 * when the broker's SENDs waiting pass limits.sendBacklog and c has at
 * least its share of them (the heaviest senders first), c is not read:
 * its SENDs wait in the kernel's buffers and then in the client, which
 * TCP slows down, while everyone else is served.  Reading resumes once
 * half of what c had waiting is acknowledged. */
void
broker_conn_sent(struct broker_conn *c)
{
	const struct wk_config *cfg = &broker.proc->cfg;

	if (c->unacked++ == 0) {
		broker.senders++;
		c->last_ack_ms = wk_now_ms();
	}
	broker.unacked++;
	if (c->paused)
		return;
	if (c->unacked >= (uint32_t)cfg->limits_sendWindow ||
	    (broker.unacked > (uint64_t)cfg->limits_sendBacklog &&
	    (uint64_t)c->unacked * broker.senders >= broker.unacked)) {
		c->paused = 1;
		c->pause_at = c->unacked;
		broker.npaused++;
		broker.st.send_pauses++;
		broker_conn_set_events(c);
	}
}

/* Read c again, and run what was read before the pause. */
static void
window_resume(struct broker_conn *c)
{
	c->paused = 0;
	broker.npaused--;
	broker_conn_set_events(c);
	broker_conn_input(c, NULL, 0);
}

void
broker_conn_acked(struct broker_conn *c)
{
	if (c->unacked == 0)
		return;
	broker.unacked--;
	if (--c->unacked == 0)
		broker.senders--;
	c->last_ack_ms = wk_now_ms();
	if (c->paused && c->unacked <= c->pause_at / 2)
		window_resume(c);
}

/* From the sweep: SENDs that had no SENDACK for SENDACK_LOST_MS were lost
 * with a channel shard that died holding them (the client resends them
 * after its own timeout); forgotten, so that they hold neither the
 * connection's window nor the broker's backlog for ever.  A SENDACK that
 * still comes finds unacked at 0 and changes nothing. */
void
broker_window_check(struct broker_conn *c, uint64_t now)
{
	if (now - c->last_ack_ms < SENDACK_LOST_MS)
		return;
	wk_log_limited(&rl_window, WK_LOG_INFO, "%s: %u SENDs without SENDACK for %d s: forgotten",
	    c->uid, c->unacked, SENDACK_LOST_MS / 1000);
	broker.unacked -= c->unacked;
	broker.senders--;
	c->unacked = 0;
	if (c->paused)
		window_resume(c);
}
