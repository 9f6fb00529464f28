/* mailbox_webhook.c - user.onlinestatus, the webhook event of wk-mailbox
 * (wk-hook(8), semantics.md §12): one string
 * "uid-deviceFlag-online-connId-deviceOnlineCount-totalOnlineCount" per
 * authenticated connection that comes or goes, the counts after the
 * change; wk-hook posts them batched as a JSON array. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "mailbox.h"
#include "wk_fanout.h"
#include "wk_webhook.h"
#include "wk_shard.h"

void
mailbox_hook_onlinestatus(struct wk_proc *p, const char *uid, uint8_t device_flag,
    uint64_t conn_id, int online)
{
	struct presence_conn c[PRESENCE_CONNS_MAX];
	char item[PRESENCE_UID_MAX + 80], *text;
	int n, device = 0;
	json_t *s;

	if (!wk_webhook_on(p, WK_WEBHOOK_USER_ONLINESTATUS))
		return;
	/* Presence was written before this call: the counts after the change. */
	n = wk_fanout_lookup(mailbox_presence(), uid, c);
	for (int i = 0; i < n; i++)
		device += c[i].device_flag == device_flag;
	snprintf(item, sizeof item, "%s-%u-%d-%llu-%d-%d", uid, device_flag, online ? 1 : 0,
	    (unsigned long long)conn_id, device, n);
	s = json_string(item);
	text = json_dumps(s, JSON_ENCODE_ANY | JSON_COMPACT);
	if (text)
		wk_webhook_emit(p, WK_WEBHOOK_USER_ONLINESTATUS, wk_shard_hash(uid, strlen(uid)), text,
		    strlen(text));
	free(text);
	json_decref(s);
}
