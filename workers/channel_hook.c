/* channel_hook.c - the webhook events of wk-channel (wk-hook(8),
 * semantics.md §12): msg.notify for every stored message (cmd messages
 * included), msg.offline for the recipients of a message (no_persist and
 * cmd ones included) who have no master device online, the sender and the
 * system uid left out.  Raised once the message is durable (a no_persist
 * one: once accepted), after the SENDACKs of its commit, and handed to
 * wk-hook without waiting (wk_hook.h).  With webhook.httpAddr empty,
 * nothing here builds anything.
 *
 * Bodies as the reference's: msg.notify items are MessageResp
 * (wk_msgresp.h); msg.offline is one object, MessageResp's fields with
 * from_uid as sent (the system uid is not blanked), then to_uids, and
 * above channel.subscriberCompressOfCount recipients compress "gzip" and
 * compress_to_uids (base64 of the gzip'd JSON array; to_uids is then
 * empty), then source_id.  The reference cuts its gzip stream short (it
 * reads the buffer before closing the writer); wk sends a whole one.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <jansson.h>
#include "channel.h"
#include "presence.h"
#include "wk_alloc.h"
#include "wk_buf.h"
#include "wk_chmsg.h"
#include "wk_crypto.h"
#include "wk_hook.h"
#include "wk_log.h"
#include "wk_msgresp.h"
#include "wk_shard.h"
#include "wkproto.h"

#define MAX_CONNS 64                 /* connections looked at per recipient */

static struct presence presence;     /* mapped on first use */
static struct wk_ratelimit rl_hook = WK_RATELIMIT_INIT(2);

/* Hand over a JSON value as the event's text. */
static void
emit(struct wk_proc *p, int ev, uint32_t key, json_t *o)
{
	char *text = json_dumps(o, JSON_COMPACT);

	if (text)
		wk_hook_emit(p, ev, key, text, strlen(text));
	free(text);
	json_decref(o);
}

/* The recipients without a master device online. */
struct offline {
	const struct wk_chmsg *m;
	json_t *uids;
	struct presence_conn c[MAX_CONNS];
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
		for (int tries = 0; tries < 3 && (n = presence_lookup(&presence, u, o->c, MAX_CONNS)) ==
		    PRESENCE_EBUSY; tries++)
			;
		for (int i = 0; i < n; i++)
			if (o->c[i].device_level == WKPROTO_DEVICE_LEVEL_MASTER)
				return 0;
	}
	json_array_append_new(o->uids, json_stringn(uid, len));
	return 0;
}

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

/* msg.offline: the recipients of m with no master device online. */
static void
hook_offline(struct wk_proc *p, const struct wk_chmsg *m, const char *id, const char *to,
    size_t to_len, uint32_t key)
{
	struct offline *o;
	int64_t limit = p->cfg.channel_subscriberCompressOfCount;
	json_t *body;

	if (m->channel_type == WKPROTO_CHANNEL_AGENT)
		return;   /* the reference raises none for agent channels */
	if (presence.hdr == NULL && presence_attach(&presence, p->cfg.runDir, 0) < 0) {
		wk_log_limited(&rl_hook, WK_LOG_WARN, "msg.offline: no presence table");
		return;
	}
	o = wk_calloc(1, sizeof *o);
	o->m = m;
	o->uids = json_array();
	if (channel_recipients_foreach(p, to, to_len, id, m->channel_type, offline_uid, o) < 0)
		wk_log_limited(&rl_hook, WK_LOG_WARN, "msg.offline %s/%u: recipients unreadable",
		    id, m->channel_type);
	if (json_array_size(o->uids) == 0) {
		json_decref(o->uids);
		free(o);
		return;
	}
	body = wk_msgresp(m);
	json_object_set_new(body, "from_uid", json_stringn(m->from_uid.p ? m->from_uid.p : "",
	    m->from_uid.len));
	if (limit > 0 && json_array_size(o->uids) > (size_t)limit) {
		char *list = json_dumps(o->uids, JSON_COMPACT), *z = list ? gzip_b64(list, strlen(list)) : NULL;
		if (z) {
			json_array_clear(o->uids);
			json_object_set_new(body, "to_uids", o->uids);
			json_object_set_new(body, "compress", json_string("gzip"));
			json_object_set_new(body, "compress_to_uids", json_string(z));
			o->uids = NULL;
		}
		free(list);
		free(z);
	}
	if (o->uids)
		json_object_set_new(body, "to_uids", o->uids);
	json_object_set_new(body, "source_id", json_integer(WK_HOOK_SOURCE_ID));
	emit(p, WK_HOOK_MSG_OFFLINE, key, body);
	free(o);
}

void
channel_hook_message(struct wk_proc *p, const struct wk_chmsg *m, const char *to, size_t to_len)
{
	int notify = m->seq != 0 && !(m->flags & WKPROTO_FLAG_NOPERSIST) &&
	    wk_hook_on(p, WK_HOOK_MSG_NOTIFY);
	int offline = wk_hook_on(p, WK_HOOK_MSG_OFFLINE);
	uint32_t key = wk_shard_hash(m->channel_id.p, m->channel_id.len);

	if (notify)
		emit(p, WK_HOOK_MSG_NOTIFY, key, wk_msgresp(m));
	if (offline && m->channel_id.len <= CHANNEL_ID_MAX) {
		char id[CHANNEL_ID_MAX + 1];
		memcpy(id, m->channel_id.p, m->channel_id.len);
		id[m->channel_id.len] = '\0';
		hook_offline(p, m, id, to, to_len, key);
	}
}

void
channel_hook_frame(struct wk_proc *p, const void *frame, size_t len, const char *to, size_t to_len)
{
	struct wk_chmsg m;
	struct wk_rbuf r;

	if (!wk_hook_on(p, WK_HOOK_MSG_NOTIFY) && !wk_hook_on(p, WK_HOOK_MSG_OFFLINE))
		return;
	wk_rbuf_init(&r, frame, len);
	if (wk_chmsg_get(&r, &m) == 0)
		channel_hook_message(p, &m, to, to_len);
}
