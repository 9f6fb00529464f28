/* channel_stream_state.c - one stream message's state and how an event
 * changes it (wk-channel(8), semantics.md §13): lanes, their snapshots and
 * projections, the set of event ids seen.  Pure: no storage, no sockets;
 * channel_stream.c (the streams of the shard, their delivery and the HTTP
 * operations) and channel_stream_store.c (the replay of logged events on
 * load) both apply events through channel_stream_apply.
 */
#include <stdlib.h>
#include <string.h>
#include "channel_stream.h"
#include "wk_alloc.h"
#include "wk_chevent.h"
#include "wk_jw.h"
#include "wkproto.h"

#define STREAM_TEXT_MAX (1024 * 1024)   /* bytes of one lane's snapshot */


/* FNV-1a 64 of an event id (never 0: 0 marks an empty slot). */
uint64_t
channel_stream_id_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h ? h : 1;
}

static int
seen_has(const struct channel_seen *set, uint64_t h)
{
	if (set->cap == 0)
		return 0;
	for (size_t i = h & (set->cap - 1); set->v[i]; i = (i + 1) & (set->cap - 1))
		if (set->v[i] == h)
			return 1;
	return 0;
}

void
channel_seen_add(struct channel_seen *set, uint64_t h)
{
	if (seen_has(set, h))
		return;
	if ((set->n + 1) * 2 > set->cap) {
		struct channel_seen big = { wk_calloc(set->cap ? set->cap * 2 : 16, sizeof *big.v),
		    set->cap ? set->cap * 2 : 16, 0 };
		for (size_t i = 0; i < set->cap; i++)
			if (set->v[i])
				channel_seen_add(&big, set->v[i]);
		free(set->v);
		*set = big;
	}
	size_t i = h & (set->cap - 1);
	while (set->v[i])
		i = (i + 1) & (set->cap - 1);
	set->v[i] = h;
	set->n++;
}

const char *
channel_stream_hkey_in(struct wk_wbuf *b, const char *id, uint8_t type, const char *cmn)
{
	char num[WK_JW_INT_MAX];
	size_t idlen = strlen(id);

	b->len = 0;
	wk_put_mem(b, num, wk_jw_itoa(num, type));
	wk_put_u8(b, '/');
	wk_put_mem(b, num, wk_jw_itoa(num, (long long)idlen));
	wk_put_u8(b, '/');
	wk_put_mem(b, id, idlen);
	wk_put_mem(b, cmn, strlen(cmn) + 1);
	return (const char *)b->p;
}

char *
channel_stream_hkey(const char *id, uint8_t type, const char *cmn)
{
	struct wk_wbuf b;

	wk_wbuf_init(&b);
	channel_stream_hkey_in(&b, id, type, cmn);
	return (char *)b.p;
}

static void
proj_clear(struct channel_lane_proj *pj)
{
	free(pj->event_id);
	free(pj->type);
	free(pj->visibility);
	free(pj->payload);
	memset(pj, 0, sizeof *pj);
}

void
channel_stream_free(struct channel_stream *s)
{
	if (s == NULL)
		return;
	while (s->lanes) {
		struct channel_lane *l = s->lanes;
		s->lanes = l->next;
		free(l->key);
		free(l->error);
		wk_wbuf_free(&l->snap);
		proj_clear(&l->proj);
		free(l);
	}
	free(s->seen.v);
	wk_wbuf_free(&s->log);
	free(s->hkey);
	free(s->id);
	free(s->cmn);
	free(s->stream_no);
	free(s->from_uid);
	free(s);
}

struct channel_lane *
channel_stream_lane(struct channel_stream *s, const char *key, int create)
{
	struct channel_lane **pp;

	for (pp = &s->lanes; *pp; pp = &(*pp)->next)
		if (strcmp((*pp)->key, key) == 0)
			return *pp;
	if (!create)
		return NULL;
	*pp = wk_calloc(1, sizeof **pp);
	(*pp)->key = wk_strdup(key);
	wk_wbuf_init(&(*pp)->snap);
	return *pp;
}

int
channel_stream_is_open(const struct channel_stream *s)
{
	if (s->completed)
		return 0;
	for (const struct channel_lane *l = s->lanes; l; l = l->next)
		if (l->status == CHANNEL_LANE_OPEN)
			return 1;
	return 0;
}

void
channel_stream_snap_set(struct channel_lane *l, const char *p, size_t n, int json)
{
	l->snap.len = 0;
	wk_put_mem(&l->snap, p, n);
	l->json = (uint8_t)json;
}

/* A JSON value as compact text into the lane's snapshot. */
static void
snap_set_json(struct channel_lane *l, json_t *v)
{
	char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	channel_stream_snap_set(l, t ? t : "null", t ? strlen(t) : 4, 1);
	free(t);
}

/* The snapshot as the reference stores it in a terminal event's payload:
 * {"kind":"text","text":...} or the JSON value that replaced the text. */
json_t *
channel_stream_snap_json(const struct channel_lane *l)
{
	if (l->json)
		return json_loadb((const char *)l->snap.p, l->snap.len, JSON_DECODE_ANY, NULL);
	return json_pack("{s:s,s:s#}", "kind", "text", "text", l->snap.len ? (char *)l->snap.p : "",
	    l->snap.len);
}

int
channel_stream_event_is(const struct channel_stream_event *e, const char *t)
{
	return strcmp(e->type, t) == 0;
}

json_t *
channel_stream_event_json(struct channel_stream_event *e)
{
	if (e->json == NULL && e->payload)
		e->json = json_loadb(e->payload, e->payload_len, JSON_DECODE_ANY, NULL);
	return e->json;
}

const char *
channel_stream_event_delta(struct channel_stream_event *e, size_t *n)
{
	json_t *j, *d;
	const char *kind;

	if (e->delta) {
		*n = e->delta_len;
		return e->delta;
	}
	j = channel_stream_event_json(e);
	d = json_object_get(j, "delta");
	kind = json_string_value(json_object_get(j, "kind"));
	if (!json_is_string(d) || (kind != NULL && strcmp(kind, "text") != 0))
		return NULL;
	*n = json_string_length(d);
	return json_string_value(d);
}

void
channel_stream_event_clear(struct channel_stream_event *e)
{
	json_decref(e->json);
	e->json = NULL;
}

/* A terminal type's status; CHANNEL_LANE_OPEN for the others. */
static int
terminal_status(const struct channel_stream_event *e)
{
	if (channel_stream_event_is(e, "stream.close") || channel_stream_event_is(e, "stream.finish"))
		return CHANNEL_LANE_CLOSED;
	if (channel_stream_event_is(e, "stream.error"))
		return CHANNEL_LANE_ERROR;
	if (channel_stream_event_is(e, "stream.cancel"))
		return CHANNEL_LANE_CANCELLED;
	return CHANNEL_LANE_OPEN;
}

/* The error text of a stream.error payload: its "error" or "message". */
static char *
error_text(json_t *payload)
{
	const char *t = json_string_value(json_object_get(payload, "error"));

	if (t == NULL)
		t = json_string_value(json_object_get(payload, "message"));
	return wk_strdup(t ? t : "");
}

/* A delta: text appended, any other payload replaces the snapshot (its
 * text is compact JSON already: copied, not parsed). */
static enum channel_apply
apply_delta(struct channel_lane *l, struct channel_stream_event *e)
{
	size_t n;
	const char *d = channel_stream_event_delta(e, &n);

	if (d) {
		if (l->json)
			l->snap.len = 0;
		if (l->snap.len + n > STREAM_TEXT_MAX)
			return APPLY_TOO_BIG;
		wk_put_mem(&l->snap, d, n);
		l->json = 0;
	} else if (e->payload)
		channel_stream_snap_set(l, e->payload, e->payload_len, 1);
	return CHANNEL_APPLY_OK;
}

/* A persisted event: the lane's projection, status and snapshot. */
static void
apply_persisted(struct channel_stream *s, struct channel_lane *l, struct channel_stream_event *e)
{
	int status = terminal_status(e);
	json_t *json = channel_stream_event_json(e);
	json_t *payload = json ? json_incref(json) : NULL;

	l->last_seq = ++s->event_seq;
	if (channel_stream_event_is(e, "stream.snapshot")) {
		json_t *t = json_object_get(json, "text");
		if (json_is_string(t))
			channel_stream_snap_set(l, json_string_value(t), json_string_length(t), 0);
		else if (json)
			snap_set_json(l, json);
	}
	if (status != CHANNEL_LANE_OPEN) {
		l->status = (uint8_t)status;
		l->end_reason = status == CHANNEL_LANE_ERROR ? (e->timeout ? CHANNEL_END_TIMEOUT : CHANNEL_END_ERROR) :
		    status == CHANNEL_LANE_CANCELLED ? CHANNEL_END_CANCELLED : CHANNEL_END_OK;
		if (status == CHANNEL_LANE_ERROR) {
			free(l->error);
			l->error = error_text(json);
		}
		if (channel_stream_event_is(e, "stream.finish"))
			s->completed = 1;
		if (l->snap.len) {
			/* The reference keeps the accumulated snapshot with the end. */
			if (!json_is_object(payload)) {
				json_decref(payload);
				payload = json_object();
			} else {
				json_t *c = json_deep_copy(payload);
				json_decref(payload);
				payload = c;
			}
			json_object_set_new(payload, "snapshot", channel_stream_snap_json(l));
		}
	}
	proj_clear(&l->proj);
	l->proj.event_id = wk_strdup(e->event_id);
	l->proj.type = wk_strdup(e->type);
	l->proj.visibility = wk_strdup(e->visibility ? e->visibility : "");
	l->proj.occurred_at = e->occurred_at;
	l->proj.payload = payload ? json_dumps(payload, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	json_decref(payload);
}

/* Whether e goes to versions 2-4 as a piece: the main lane's text and ends,
 * and stream.finish, until the first end. */
static void
apply_piece(struct channel_stream *s, const struct channel_lane *l, const struct channel_stream_event *e,
    struct channel_applied *out)
{
	int main_lane = strcmp(l->key, CHANNEL_STREAM_KEY_DEFAULT) == 0 ||
	    strcmp(l->key, CHANNEL_STREAM_KEY_FINISH) == 0;

	out->piece = 0;
	if (s->ended_old || !main_lane || (!channel_stream_event_is(e, "stream.delta") &&
	    !channel_stream_event_is(e, "stream.snapshot") && terminal_status(e) == CHANNEL_LANE_OPEN))
		return;
	out->piece = ++s->pieces;
	out->flag = terminal_status(e) != CHANNEL_LANE_OPEN ? WK_STREAM_END : WK_STREAM_ING;
	if (out->flag == WK_STREAM_END)
		s->ended_old = 1;
}

enum channel_apply
channel_stream_apply(struct channel_stream *s, struct channel_stream_event *e, struct channel_applied *out)
{
	uint64_t h = channel_stream_id_hash(e->event_id);
	int delta = channel_stream_event_is(e, "stream.delta");
	struct channel_lane *l = channel_stream_lane(s, e->key, 0);
	enum channel_apply rc;

	memset(out, 0, sizeof *out);
	out->lane = l;
	if (seen_has(&s->seen, h))
		return CHANNEL_APPLY_DUP;
	if (delta && ((l && l->status != CHANNEL_LANE_OPEN) || s->completed))
		return CHANNEL_APPLY_ENDED;
	if (!delta && ((l && l->status != CHANNEL_LANE_OPEN) || s->completed))
		return CHANNEL_APPLY_IGNORED;      /* the reference ignores them once terminal */
	out->lane = l = channel_stream_lane(s, e->key, 1);
	if (delta) {
		if ((rc = apply_delta(l, e)) != CHANNEL_APPLY_OK)
			return rc;
	} else
		apply_persisted(s, l, e);
	channel_seen_add(&s->seen, h);
	apply_piece(s, l, e, out);
	return CHANNEL_APPLY_OK;
}

/* ---- what the HTTP operations answer of a stream ---- */

/* qsort by a lane's last event seq: eventsync answers lanes in event order. */
static int
by_seq(const void *a, const void *b)
{
	const struct channel_lane *x = *(const struct channel_lane *const *)a, *y = *(const struct channel_lane *const *)b;

	return x->last_seq < y->last_seq ? -1 : x->last_seq > y->last_seq;
}

/* Visibilities shown by eventsync only when the caller asks for private
 * events (priv); other lanes are always shown. */
static int
is_private(const char *vis)
{
	return vis && (strcmp(vis, "private") == 0 || strcmp(vis, "restricted") == 0);
}

/* A lane's last persisted event, as CHANNEL_MSG_EVENTSYNC answers it. */
void
channel_lane_proj_put(const struct channel_lane *l, struct wk_wbuf *b)
{
	wk_put_u64(b, l->last_seq);
	wk_put_str(b, l->proj.event_id);
	wk_put_str(b, l->key);
	wk_put_str(b, l->proj.type);
	wk_put_str(b, l->proj.visibility ? l->proj.visibility : "");
	wk_put_u64(b, (uint64_t)l->proj.occurred_at);
	wk_put_blob(b, l->proj.payload, l->proj.payload ? strlen(l->proj.payload) : 0);
}

/* The lanes of s whose last persisted event is newer than from (only
 * lane `key` unless it is ""; private ones only when priv), oldest event
 * first: what CHANNEL_MSG_EVENTSYNC answers.  *n lanes, malloc'd array. */
struct channel_lane **
channel_lanes_since(const struct channel_stream *s, uint64_t from, const char *key, int priv,
    int *n)
{
	struct channel_lane **v;
	int k = 0;

	for (struct channel_lane *l = s->lanes; l; l = l->next)
		k++;
	v = wk_calloc((size_t)k + 1, sizeof *v);
	k = 0;
	for (struct channel_lane *l = s->lanes; l; l = l->next)
		if (l->proj.event_id && l->last_seq > from &&
		    (key[0] == '\0' || strcmp(key, l->key) == 0) &&
		    (priv || !is_private(l->proj.visibility)))
			v[k++] = l;
	qsort(v, (size_t)k, sizeof *v, by_seq);
	*n = k;
	return v;
}

/* A stream's state as a message's answer carries it (api_msgresp.c reads
 * it): str client_msg_no, u8 completed, u64 event seq, u32 n lanes, each
 * {str key, u8 status, u64 last seq, u8 end reason, u8 snapshot is JSON,
 * blob snapshot, str error}. */
void
channel_stream_state_put(const struct channel_stream *s, struct wk_wbuf *b)
{
	uint32_t n = 0;

	for (struct channel_lane *l = s->lanes; l; l = l->next)
		n++;
	wk_put_str(b, s->cmn);
	wk_put_u8(b, s->completed);
	wk_put_u64(b, s->event_seq);
	wk_put_u32(b, n);
	for (struct channel_lane *l = s->lanes; l; l = l->next) {
		wk_put_str(b, l->key);
		wk_put_u8(b, l->status);
		wk_put_u64(b, l->last_seq);
		wk_put_u8(b, l->end_reason);
		wk_put_u8(b, l->json);
		wk_put_blob(b, l->snap.p, l->snap.len);
		wk_put_str(b, l->error ? l->error : "");
	}
}
