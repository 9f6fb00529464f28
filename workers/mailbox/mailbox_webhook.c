/* mailbox_webhook.c - user.onlinestatus, the webhook event of wk-mailbox
 * (wk-hook(8), semantics.md §12): one string
 * "uid-deviceFlag-online-connId-deviceOnlineCount-totalOnlineCount" per
 * authenticated connection that comes or goes, the counts after the
 * change.  The facts travel binary (wk_webhook.h); wk-hook makes the string
 * and posts them batched as a JSON array. */
#include <string.h>
#include "mailbox.h"
#include "wk_fanout.h"
#include "wk_webhook.h"
#include "wk_shard.h"

void
mailbox_hook_onlinestatus(struct wk_proc *p, const char *uid, uint8_t device_flag,
    uint64_t conn_id, int online)
{
	struct presence_conn c[PRESENCE_CONNS_MAX];
	struct wk_wbuf b;
	int n, device = 0;

	if (!wk_webhook_on(p, WK_WEBHOOK_USER_ONLINESTATUS))
		return;
	/* Presence was written before this call: the counts after the change. */
	n = wk_fanout_lookup(mailbox_presence(), uid, c);
	for (int i = 0; i < n; i++)
		device += c[i].device_flag == device_flag;
	wk_wbuf_init(&b);
	wk_put_str(&b, uid);
	wk_put_u8(&b, device_flag);
	wk_put_u8(&b, online ? 1 : 0);
	wk_put_u64(&b, conn_id);
	wk_put_u32(&b, (uint32_t)device);
	wk_put_u32(&b, (uint32_t)n);
	wk_webhook_emit(p, WK_WEBHOOK_USER_ONLINESTATUS, wk_shard_hash(uid, strlen(uid)), b.p, b.len);
	wk_wbuf_free(&b);
}
