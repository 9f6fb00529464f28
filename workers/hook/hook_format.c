/* hook_format.c - the JSON of each event, made from what the producers
 * handed over (wk-hook(8), wk_webhook.h) when it is posted, as the reference
 * shapes it (semantics.md §12):
 *   msg.notify         one MessageResp (wk_msgresp.h), an item of the array
 *                      wk-hook posts;
 *   msg.offline        the whole body: MessageResp's fields with from_uid as
 *                      sent (the system uid is not blanked), then to_uids,
 *                      and above channel.subscriberCompressOfCount
 *                      recipients "compress":"gzip" and compress_to_uids
 *                      (base64 of the gzip'd JSON array; to_uids is then
 *                      empty), then source_id.  The reference cuts its gzip
 *                      stream short (it reads the buffer before closing the
 *                      writer); wk sends a whole one;
 *   user.onlinestatus  the item as the producer made it (a JSON string).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <jansson.h>
#include "hook.h"
#include "presence.h"
#include "wk_alloc.h"
#include "wk_buf.h"
#include "wk_chmsg.h"
#include "wk_crypto.h"
#include "wk_jw.h"
#include "wk_msgresp.h"

/* base64(gzip(text)), malloc'd; NULL on failure. */
static char *
gzip_b64(const char *text, size_t len)
{
	z_stream z = { 0 };
	uLong cap;
	uint8_t *gz;
	char *out = NULL;

	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	cap = deflateBound(&z, (uLong)len);
	gz = wk_malloc(cap);
	z.next_in = (Bytef *)text;
	z.avail_in = (uInt)len;
	z.next_out = gz;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) == Z_STREAM_END) {
		out = wk_malloc(WK_B64_ENCODED_LEN(z.total_out) + 1);
		out[wk_b64_encode(gz, z.total_out, out)] = '\0';
	}
	deflateEnd(&z);
	free(gz);
	return out;
}

/* to_uids, or above the limit compress and compress_to_uids. */
static void
set_uids(json_t *body, json_t *uids, int64_t limit)
{
	if (limit > 0 && json_array_size(uids) > (size_t)limit) {
		char *list = json_dumps(uids, JSON_COMPACT);
		char *z = list ? gzip_b64(list, strlen(list)) : NULL;
		free(list);
		if (z) {
			json_array_clear(uids);
			json_object_set_new(body, "to_uids", uids);
			json_object_set_new(body, "compress", json_string("gzip"));
			json_object_set_new(body, "compress_to_uids", json_string(z));
			free(z);
			return;
		}
	}
	json_object_set_new(body, "to_uids", uids);
}

/* The body of a msg.offline: the message's fields, then the rest of r
 * (u32 n, n uids). */
static json_t *
offline_body(const struct wk_proc *p, const struct wk_chmsg *m, struct wk_rbuf *r)
{
	json_t *body = wk_msgresp(m), *uids = json_array();
	uint32_t n = wk_get_u32(r);

	for (uint32_t i = 0; i < n && !r->err; i++) {
		size_t len;
		const char *uid = wk_get_strv(r, &len);
		json_array_append_new(uids, json_stringn(uid, len));
	}
	json_object_set_new(body, "from_uid", json_stringn(m->from_uid.p ? m->from_uid.p : "",
	    m->from_uid.len));
	set_uids(body, uids, p->cfg.channel_subscriberCompressOfCount);
	json_object_set_new(body, "source_id", json_integer(WK_WEBHOOK_SOURCE_ID));
	return body;
}

/* Put o's JSON text (dumped with flags) to out, and drop o: 0, or -1 if
 * o is NULL or does not dump. */
static int
put_json(struct wk_wbuf *out, json_t *o, size_t flags)
{
	char *text = json_dumps(o, flags);

	json_decref(o);
	if (text == NULL)
		return -1;
	wk_put_mem(out, text, strlen(text));
	free(text);
	return 0;
}

/* user.onlinestatus: the item, a JSON string
 * "uid-deviceFlag-online-connId-deviceOnlineCount-totalOnlineCount", put
 * to out (NULL: only check).  A queue written before the facts were binary
 * holds the JSON text itself (it starts with a quote): taken as it is. */
static int
onlinestatus_item(const void *data, size_t len, struct wk_wbuf *out)
{
	char uid[PRESENCE_UID_MAX], item[PRESENCE_UID_MAX + 80];
	struct wk_rbuf r;
	uint8_t flag, online;
	uint64_t conn;
	uint32_t device, total;

	if (len > 0 && *(const char *)data == '"') {
		if (out)
			wk_put_mem(out, data, len);
		return 0;
	}
	wk_rbuf_init(&r, data, len);
	wk_get_str(&r, uid, sizeof uid);
	flag = wk_get_u8(&r);
	online = wk_get_u8(&r);
	conn = wk_get_u64(&r);
	device = wk_get_u32(&r);
	total = wk_get_u32(&r);
	if (wk_rbuf_done(&r) < 0)
		return -1;
	if (out == NULL)
		return 0;
	snprintf(item, sizeof item, "%s-%u-%u-%llu-%u-%u", uid, flag, online,
	    (unsigned long long)conn, device, total);
	return put_json(out, json_string(item), JSON_ENCODE_ANY | JSON_COMPACT);
}

int
hook_format_check(int ev, const void *data, size_t len)
{
	struct wk_chmsg m;
	struct wk_rbuf r;

	if (ev == WK_WEBHOOK_USER_ONLINESTATUS)
		return onlinestatus_item(data, len, NULL);
	wk_rbuf_init(&r, data, len);
	if (wk_chmsg_get(&r, &m) < 0)
		return -1;
	if (ev == WK_WEBHOOK_MSG_OFFLINE) {
		uint32_t n = wk_get_u32(&r);
		size_t ulen;
		for (uint32_t i = 0; i < n && !r.err; i++)
			wk_get_strv(&r, &ulen);
	}
	return wk_rbuf_done(&r);
}

int
hook_format(const struct wk_proc *p, int ev, const void *data, size_t len, struct wk_wbuf *out)
{
	struct wk_chmsg m;
	struct wk_rbuf r;
	json_t *o;

	if (ev == WK_WEBHOOK_USER_ONLINESTATUS)
		return onlinestatus_item(data, len, out);
	wk_rbuf_init(&r, data, len);
	if (wk_chmsg_get(&r, &m) < 0)
		return -1;
	if (ev == WK_WEBHOOK_MSG_NOTIFY || ev == WK_WEBHOOK_AGENT_NOTIFY) {
		/* The usual event: written straight, no tree (wk_msgresp_write). */
		static struct wk_jw w;
		if (wk_rbuf_done(&r) < 0)
			return -1;
		wk_jw_reset(&w);
		if (wk_msgresp_write(&w, &m) < 0)
			return -1;
		wk_put_mem(out, w.b.p, w.b.len);
		return 0;
	}
	o = ev == WK_WEBHOOK_MSG_OFFLINE ? offline_body(p, &m, &r) : wk_msgresp(&m);
	if (wk_rbuf_done(&r) < 0) {
		json_decref(o);
		return -1;
	}
	return put_json(out, o, JSON_COMPACT);
}
