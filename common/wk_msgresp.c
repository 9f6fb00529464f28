/* wk_msgresp.c - MessageResp JSON (wk_msgresp.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "wk_alloc.h"
#include "wk_channelid.h"
#include "wk_crypto.h"
#include "wk_jw.h"
#include "wk_msgresp.h"

int
wk_msgresp_names(const struct wk_chmsg *m, const char **from, size_t *from_len,
    const char **peer, size_t *peer_len)
{
	*from = m->from_uid.p ? m->from_uid.p : "";
	*from_len = m->from_uid.len;
	*peer = m->channel_id.p ? m->channel_id.p : "";
	*peer_len = m->channel_id.len;
	if (m->channel_type == WKPROTO_CHANNEL_PERSON)
		wk_channelid_person_peer(*peer, *peer_len, *from, *from_len, peer, peer_len);
	if (*from_len == sizeof WK_SYSTEM_UID - 1 && memcmp(*from, WK_SYSTEM_UID, *from_len) == 0)
		*from_len = 0;
	return wk_jw_is_utf8(*from, *from_len) && wk_jw_is_utf8(*peer, *peer_len) &&
	    (m->client_msg_no.len == 0 || wk_jw_is_utf8(m->client_msg_no.p, m->client_msg_no.len));
}

json_t *
wk_msgresp(const struct wk_chmsg *m)
{
	char idstr[32], *b64 = NULL;
	const char *peer, *from;
	size_t plen, flen;
	json_t *o;

	wk_msgresp_names(m, &from, &flen, &peer, &plen);
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

int
wk_msgresp_write(struct wk_jw *w, const struct wk_chmsg *m)
{
	const char *peer, *from;
	size_t plen, flen;
	char idstr[WK_JW_INT_MAX];

	if (!wk_msgresp_names(m, &from, &flen, &peer, &plen))
		return -1;   /* jansson refuses a string that is not UTF-8 */
	wk_jw_object(w);
	wk_jw_key(w, "header");
	wk_jw_object(w);
	wk_jw_kint(w, "no_persist", (m->flags & WKPROTO_FLAG_NOPERSIST) != 0);
	wk_jw_kint(w, "red_dot", (m->flags & WKPROTO_FLAG_REDDOT) != 0);
	wk_jw_kint(w, "sync_once", (m->flags & WKPROTO_FLAG_SYNCONCE) != 0);
	wk_jw_end(w, '}');
	wk_jw_kint(w, "setting", m->setting);
	wk_jw_kint(w, "message_id", m->message_id);
	wk_jw_kstr(w, "message_idstr", idstr, wk_jw_itoa(idstr, m->message_id));
	wk_jw_kstr(w, "client_msg_no", m->client_msg_no.p, m->client_msg_no.len);
	wk_jw_kint(w, "message_seq", m->seq);
	wk_jw_kstr(w, "from_uid", from, flen);
	wk_jw_kstr(w, "channel_id", peer, plen);
	wk_jw_kint(w, "channel_type", m->channel_type);
	wk_jw_kint(w, "expire", m->expire);
	wk_jw_kint(w, "timestamp", m->timestamp);
	wk_jw_key(w, "payload");
	if (m->payload.len)
		wk_jw_b64(w, m->payload.p, m->payload.len);
	else
		wk_jw_null(w);
	if (m->topic.len && wk_jw_is_utf8(m->topic.p, m->topic.len))
		wk_jw_kstr(w, "topic", m->topic.p, m->topic.len);
	wk_jw_end(w, '}');
	return 0;
}
