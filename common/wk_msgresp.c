/* wk_msgresp.c - MessageResp JSON (wk_msgresp.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "wk_alloc.h"
#include "wk_channelid.h"
#include "wk_crypto.h"
#include "wk_msgresp.h"

json_t *
wk_msgresp(const struct wk_chmsg *m)
{
	char idstr[32], *b64 = NULL;
	const char *peer = m->channel_id.p ? m->channel_id.p : "";
	const char *from = m->from_uid.p ? m->from_uid.p : "";
	size_t plen = m->channel_id.len, flen = m->from_uid.len;
	json_t *o;

	if (m->channel_type == WKPROTO_CHANNEL_PERSON)
		wk_channelid_person_peer(peer, plen, from, flen, &peer, &plen);
	if (flen == sizeof WK_SYSTEM_UID - 1 && memcmp(from, WK_SYSTEM_UID, flen) == 0)
		flen = 0;
	snprintf(idstr, sizeof idstr, "%lld", (long long)m->message_id);
	if (m->payload.len) {
		b64 = wk_malloc(WK_B64_ENCODED_LEN(m->payload.len) + 1);
		b64[wk_b64_encode(m->payload.p, m->payload.len, b64)] = '\0';
	}
	o = json_pack("{s:{s:i,s:i,s:i},s:i,s:I,s:s,s:s#,s:I,s:s#,s:s#,s:i,s:I,s:i,s:o}",
	    "header", "no_persist", (m->flags & WKPROTO_FLAG_NOPERSIST) != 0,
	    "red_dot", (m->flags & WKPROTO_FLAG_REDDOT) != 0,
	    "sync_once", (m->flags & WKPROTO_FLAG_SYNCONCE) != 0,
	    "setting", m->setting, "message_id", (json_int_t)m->message_id, "message_idstr", idstr,
	    "client_msg_no", m->client_msg_no.p ? m->client_msg_no.p : "", (size_t)m->client_msg_no.len,
	    "message_seq", (json_int_t)m->seq, "from_uid", from, flen,
	    "channel_id", peer, plen, "channel_type", m->channel_type, "expire", (json_int_t)m->expire,
	    "timestamp", m->timestamp, "payload", b64 ? json_string(b64) : json_null());
	if (m->topic.len)
		json_object_set_new(o, "topic", json_stringn(m->topic.p, m->topic.len));
	free(b64);
	return o;
}
