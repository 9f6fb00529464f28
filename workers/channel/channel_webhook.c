/* channel_webhook.c - the webhook events of wk-channel (wk-hook(8),
 * semantics.md §12): msg.notify for every stored message (cmd messages
 * included), msg.offline for the recipients of a message (no_persist and
 * cmd ones included) who have no master device online, the sender and the
 * system uid left out.  Raised once the message is durable (a no_persist
 * one: once accepted), after the SENDACKs of its commit, and handed to
 * wk-hook without waiting (wk_webhook.h).  With webhook.httpAddr empty,
 * nothing here does anything.
 *
 * Only the facts are gathered here, on the message path: the message as
 * it is already encoded for the brokers, and for msg.offline who is
 * offline now (from the presence table).  wk-hook makes the JSON bodies
 * (hook_format.c), off the message path.
 */
#include <string.h>
#include "channel.h"
#include "wk_fanout.h"
#include "wk_buf.h"
#include "wk_chmsg.h"
#include "wk_webhook.h"
#include "wk_log.h"
#include "wk_shard.h"
#include "wkproto.h"

static struct wk_ratelimit rl_hook = WK_RATELIMIT_INIT(2);

/* The recipients without a master device online, appended to out. */
struct offline {
	const struct wk_chmsg *m;
	struct wk_wbuf *out;
	uint32_t n;
	struct presence_conn c[PRESENCE_CONNS_MAX];
};

static int
is_uid(const char *uid, size_t len, const char *want, size_t wlen)
{
	return len == wlen && memcmp(uid, want, len) == 0;
}

static int
offline_uid(const char *uid, size_t len, void *arg)
{
	struct offline *o = arg;
	char u[PRESENCE_UID_MAX];
	int n = 0;

	if (len == 0 || is_uid(uid, len, o->m->from_uid.p, o->m->from_uid.len) ||
	    is_uid(uid, len, WK_SYSTEM_UID, sizeof WK_SYSTEM_UID - 1))
		return 0;
	if (len < sizeof u) {        /* a longer uid can not be online */
		memcpy(u, uid, len);
		u[len] = '\0';
		n = wk_fanout_lookup(channel_presence(), u, o->c);
		for (int i = 0; i < n; i++)
			if (o->c[i].device_level == WKPROTO_DEVICE_LEVEL_MASTER)
				return 0;
	}
	wk_put_strn(o->out, uid, len);
	o->n++;
	return 0;
}

/* msg.offline: the message, then u32 n and the n uids of its recipients
 * with no master device online; nothing if there are none. */
static void
hook_offline(struct wk_proc *p, const struct wk_chmsg *m, const void *frame, size_t len,
    const char *to, size_t to_len, uint32_t key)
{
	struct offline o = { .m = m };
	char id[CHANNEL_ID_MAX + 1];
	struct wk_wbuf b;
	size_t at;

	if (m->channel_type == WKPROTO_CHANNEL_AGENT || m->channel_id.len > CHANNEL_ID_MAX)
		return;   /* the reference raises none for agent channels */
	memcpy(id, m->channel_id.p, m->channel_id.len);
	id[m->channel_id.len] = '\0';
	wk_wbuf_init(&b);
	wk_put_mem(&b, frame, len);
	at = b.len;
	wk_put_u32(&b, 0);           /* n, set below */
	o.out = &b;
	if (channel_recipients_foreach(p, to, to_len, id, m->channel_type, offline_uid, &o) < 0)
		wk_log_limited(&rl_hook, WK_LOG_WARN, "msg.offline %s/%u: recipients unreadable",
		    id, m->channel_type);
	if (o.n) {
		wk_be32_put(b.p + at, o.n);
		wk_webhook_emit(p, WK_WEBHOOK_MSG_OFFLINE, key, b.p, b.len);
	}
	wk_wbuf_free(&b);
}

void
channel_hook_frame(struct wk_proc *p, const void *frame, size_t len, const char *to, size_t to_len)
{
	int notify = wk_webhook_on(p, WK_WEBHOOK_MSG_NOTIFY), offline = wk_webhook_on(p, WK_WEBHOOK_MSG_OFFLINE);
	struct wk_chmsg m;
	struct wk_rbuf r;
	uint32_t key;

	if (!notify && !offline)
		return;
	wk_rbuf_init(&r, frame, len);
	if (wk_chmsg_get(&r, &m) < 0)
		return;
	key = wk_shard_hash(m.channel_id.p, m.channel_id.len);
	if (notify && m.seq != 0 && !(m.flags & WKPROTO_FLAG_NOPERSIST))
		wk_webhook_emit(p, WK_WEBHOOK_MSG_NOTIFY, key, frame, len);
	if (offline)
		hook_offline(p, &m, frame, len, to, to_len, key);
}

void
channel_hook_message(struct wk_proc *p, const struct wk_chmsg *m, const char *to, size_t to_len)
{
	struct wk_wbuf b;

	if (!wk_webhook_on(p, WK_WEBHOOK_MSG_NOTIFY) && !wk_webhook_on(p, WK_WEBHOOK_MSG_OFFLINE))
		return;
	wk_wbuf_init(&b);
	wk_chmsg_put(&b, m);
	channel_hook_frame(p, b.p, b.len, to, to_len);
	wk_wbuf_free(&b);
}
