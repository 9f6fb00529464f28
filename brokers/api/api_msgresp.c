/* api_msgresp.c - the messages of a channel shard's answers as the
 * reference's MessageResp JSON (wk-api(8), http-api.md §2).
 *
 * The channel shards answer facts (wk_msgtypes.h, the channel op rows): a
 * message is its wk_chmsg record, then, for a stream anchor with events,
 * its stream state.  The JSON is made here, once, at the HTTP edge:
 * wk_msgresp for the message, then the stream fields the reference adds
 * to it (event_meta, event_sync_hint, stream_data, end, end_reason, error,
 * in that order).
 */
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "wk_jw.h"
#include "wk_alloc.h"
#include "wk_channelid.h"
#include "wk_crypto.h"
#include "wk_log.h"
#include "wk_msgresp.h"

#define STREAM_KEY_DEFAULT "main"    /* the lane whose text is stream_data */

/* A lane's status byte as the reference spells it; the index is the byte
 * the channel shard writes (channel_stream.h), so the order is fixed. */
static const char *const lane_status[] = { "open", "closed", "error", "cancelled" };

/* One lane of a stream state. */
struct lane {
	const char *key, *error;
	size_t key_len, error_len;
	uint8_t status, end_reason, json;
	uint64_t last_seq;
	const void *snap;
	size_t snap_len;
};

/* Read one lane of a stream state; a status byte we have no name for marks
 * the buffer bad (the shard and wk-api are built together, so it is a bug). */
static void
lane_get(struct wk_rbuf *rb, struct lane *l)
{
	l->key = wk_get_strv(rb, &l->key_len);
	l->status = wk_get_u8(rb);
	l->last_seq = wk_get_u64(rb);
	l->end_reason = wk_get_u8(rb);
	l->json = wk_get_u8(rb);
	l->snap = wk_get_blob(rb, &l->snap_len);
	l->error = wk_get_strv(rb, &l->error_len);
	if (l->status >= sizeof lane_status / sizeof lane_status[0])
		rb->err = 1;
}

/* A lane's snapshot: its JSON value, or a text one as {"kind","text"}. */
static json_t *
lane_snapshot(const struct lane *l)
{
	if (l->json)
		return json_loadb(l->snap, l->snap_len, JSON_DECODE_ANY, NULL);
	return json_pack("{s:s,s:s#}", "kind", "text", "text", l->snap_len ? l->snap : "",
	    l->snap_len);
}

/* The stream fields of o from the stream state at rb: 0, or -1. */
static int
stream_fields(struct wk_rbuf *rb, json_t *o)
{
	const char *cmn;
	size_t cmn_len;
	uint8_t completed;
	uint64_t event_seq;
	uint32_t n, nopen = 0;
	struct lane l, main_lane = { 0 };
	int has_main = 0;
	json_t *events = json_array(), *e;

	cmn = wk_get_strv(rb, &cmn_len);
	completed = wk_get_u8(rb);
	event_seq = wk_get_u64(rb);
	n = wk_get_u32(rb);
	for (uint32_t i = 0; i < n && !rb->err; i++) {
		lane_get(rb, &l);
		if (rb->err)
			break;
		e = json_pack("{s:s#,s:s,s:I,s:i}", "event_key", l.key, l.key_len,
		    "status", lane_status[l.status], "last_msg_event_seq", (json_int_t)l.last_seq,
		    "end_reason", l.end_reason);
		if (l.snap_len)
			json_object_set_new(e, "snapshot", lane_snapshot(&l));
		if (l.error_len)
			json_object_set_new(e, "error", json_stringn(l.error, l.error_len));
		json_array_append_new(events, e);
		nopen += l.status == 0;
		if (!has_main && l.key_len == strlen(STREAM_KEY_DEFAULT) &&
		    memcmp(l.key, STREAM_KEY_DEFAULT, l.key_len) == 0) {
			main_lane = l;
			has_main = 1;
		}
	}
	if (rb->err) {
		json_decref(events);
		return -1;
	}
	json_object_set_new(o, "event_meta", json_pack("{s:b,s:b,s:I,s:I,s:i,s:i,s:o}",
	    "has_events", n > 0, "completed", completed, "event_version", (json_int_t)event_seq,
	    "last_msg_event_seq", (json_int_t)event_seq, "event_count", (int)n,
	    "open_event_count", (int)nopen, "events", events));
	json_object_set_new(o, "event_sync_hint", json_pack("{s:s#,s:i}", "client_msg_no", cmn,
	    cmn_len, "from_msg_event_seq", 0));
	if (!has_main)
		return 0;
	if (!main_lane.json && main_lane.snap_len) {
		char *b64 = wk_malloc(WK_B64_ENCODED_LEN(main_lane.snap_len) + 1);
		b64[wk_b64_encode(main_lane.snap, main_lane.snap_len, b64)] = '\0';
		json_object_set_new(o, "stream_data", json_string(b64));
		free(b64);
	}
	if (main_lane.status != 0 || completed) {
		json_object_set_new(o, "end", json_integer(1));
		if (main_lane.end_reason)
			json_object_set_new(o, "end_reason", json_integer(main_lane.end_reason));
		if (main_lane.error_len)
			json_object_set_new(o, "error", json_stringn(main_lane.error,
			    main_lane.error_len));
	}
	return 0;
}

/* What a revoke or an edit left (wk_msgtypes.h): u8 revoked, u32
 * extra_version, u32 edited_at, str revoker. */
struct extra {
	uint8_t revoked;
	uint32_t version, edited_at;
	const char *revoker;
	size_t revoker_len;
};

static void
extra_get(struct wk_rbuf *rb, struct extra *x)
{
	x->revoked = wk_get_u8(rb);
	x->version = wk_get_u32(rb);
	x->edited_at = wk_get_u32(rb);
	x->revoker = wk_get_strv(rb, &x->revoker_len);
}

/* The fields the JS SDK reads of a revoked or edited message (jssdk.md,
 * wk-api(8)): "revoke", and "message_extra" with the edit version, the
 * revoker, edited_at and, for an edit, the new content as JSON in
 * content_edit (when the payload is JSON; the payload itself is the new
 * content too). */
static void
extra_fields(struct wk_rbuf *rb, const struct wk_chmsg *m, json_t *o)
{
	struct extra x;
	char idstr[32];
	json_t *e, *edit;

	extra_get(rb, &x);
	if (rb->err)
		return;
	snprintf(idstr, sizeof idstr, "%lld", (long long)m->message_id);
	e = json_pack("{s:I,s:s,s:I,s:i,s:I,s:I}", "message_id", (json_int_t)m->message_id,
	    "message_id_str", idstr, "message_seq", (json_int_t)m->seq, "revoke", x.revoked,
	    "extra_version", (json_int_t)x.version, "edited_at", (json_int_t)x.edited_at);
	if (x.revoker_len && wk_jw_is_utf8(x.revoker, x.revoker_len))
		json_object_set_new(e, "revoker", json_stringn(x.revoker, x.revoker_len));
	if (!x.revoked && x.edited_at && m->payload.len &&
	    (edit = json_loadb((const char *)m->payload.p, m->payload.len, 0, NULL)) != NULL)
		json_object_set_new(e, "content_edit", edit);
	json_object_set_new(o, "revoke", json_integer(x.revoked));
	json_object_set_new(o, "message_extra", e);
}

/* One message of a shard's answer as a MessageResp object: the record,
 * then a byte (1: a stream state follows), then a byte (1: what a revoke
 * or an edit left follows).  NULL if the bytes are bad. */
json_t *
api_msg_get(struct wk_rbuf *rb)
{
	struct wk_chmsg m;
	json_t *o;

	if (wk_chmsg_get(rb, &m) < 0)
		return NULL;
	o = wk_msgresp(&m);
	if (wk_get_u8(rb) == 1 && stream_fields(rb, o) < 0)
		rb->err = 1;
	if (!rb->err && wk_get_u8(rb) == 1)
		extra_fields(rb, &m, o);
	if (rb->err) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Step over a stream state (as stream_fields reads it). */
static void
stream_skip(struct wk_rbuf *rb)
{
	struct lane l;
	size_t n;
	uint32_t k;

	wk_get_strv(rb, &n);
	wk_get_u8(rb);
	wk_get_u64(rb);
	k = wk_get_u32(rb);
	for (uint32_t i = 0; i < k && !rb->err; i++)
		lane_get(rb, &l);
}

/* The fast path for lists of messages: read one message into v without
 * building a jansson tree, keeping where it started (v->at) so a stream
 * anchor can still be printed the slow way.  v->valid says whether jansson
 * would have accepted the strings; a message it would refuse is skipped by
 * the caller, so both paths answer the same list. */
int
api_msgv_get(struct wk_rbuf *rb, struct api_msgv *v)
{
	const char *peer;
	size_t peer_len;

	v->at = *rb;
	if (wk_chmsg_get(rb, &v->m) < 0)
		return -1;
	if ((v->has_stream = wk_get_u8(rb) == 1))
		stream_skip(rb);
	if ((v->has_extra = wk_get_u8(rb) == 1)) {
		struct extra x;
		extra_get(rb, &x);
	}
	if (rb->err)
		return -1;
	v->valid = wk_msgresp_names(&v->m, &v->from, &v->from_len, &peer, &peer_len);
	return 0;
}

/* Write v as MessageResp with the streaming writer, field for field in the
 * order wk_msgresp() builds them, so the bytes match the jansson path. */
void
api_msgv_write(struct wk_jw *w, const struct api_msgv *v)
{
	if (v->has_stream || v->has_extra) {
		/* Rare (a stream anchor with events, a message revoked or
		 * edited): the tree, printed. */
		struct wk_rbuf rb = v->at;
		json_t *o = api_msg_get(&rb);
		char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
		if (text)
			wk_jw_raw(w, text, strlen(text));
		free(text);
		json_decref(o);
		return;
	}
	wk_msgresp_write(w, &v->m);
}

/* A u32 count, then that many messages, as a JSON array; NULL if bad.
 * A message jansson refuses (strings not UTF-8) is left out. */
json_t *
api_msgs_get(struct wk_rbuf *rb)
{
	uint32_t n = wk_get_u32(rb);
	json_t *a = json_array(), *o;

	for (uint32_t i = 0; i < n && !rb->err; i++)
		if ((o = api_msg_get(rb)) != NULL)
			json_array_append_new(a, o);
	if (rb->err) {
		json_decref(a);
		return NULL;
	}
	return a;
}

/* A shard's answer that does not decode is a bug in a peer we built, not a
 * client's mistake: fatal, as STYLE.md asks of internal peers. */
void
api_op_malformed(const struct api_req *r, int i)
{
	wk_fatalx("API_ANSWER to %s %s (part %d): malformed", r->route->method, r->route->path, i);
}
