/* channel_stream.c - stream messages in the shard that owns their channel
 * (wk-channel(8), semantics.md §13).
 *
 * An anchor is a stored message with setting WKPROTO_SETTING_STREAM (HTTP
 * /message/send is_stream=1, or a SEND with a stream number).  Events are
 * appended to it by client_msg_no from two places, into the same state:
 *   CHANNEL_MSG_EVENT  (POST /message/event) any event type;
 *   channel_stream_on_send  a SEND carrying the stream number of an open
 *                      stream (a client at versions 2-4): a text delta.
 * stream.delta accumulates text into its lane's snapshot; stream.snapshot
 * replaces it; stream.close, stream.error and stream.cancel end a lane;
 * stream.finish completes the message.  An event_id seen before is ignored
 * (the answer is the current state); a delta on an ended lane is refused.
 *
 * Delivery.  Every accepted event becomes one BROKER_EVENT (wk_chevent.h)
 * per broker holding an online recipient, which sends it as an EVENT at
 * version 5 and as a stream RECV at versions 2-4 (broker_event.c).  Events
 * queue in the order they were appended and leave from one socket per
 * broker, so each connection sees a stream's events in order whichever
 * wk-api connection or client they came through.  A delta leaves before
 * the iteration's commit (the reference keeps deltas in memory only; here
 * they are written in the same transaction, so a late reader gets them
 * too); everything from the first event that must wait for the commit
 * (a persisted event, or the first events of a stream new in this
 * iteration, whose anchor may be in the same commit) leaves after it.
 *
 * Memory: a stream with an open lane stays in memory; one whose lanes have
 * all ended is checkpointed (its whole state written once) and freed.  The
 * tick ends streams idle for stream.timeout with an error (end_reason 1).
 * Reads (/channel/messagesync, /message/eventsync) of a stream that is not
 * in memory load it from streams.db (channel_stream_store.c) for the call.
 * How one event changes one stream (lanes, snapshots, duplicates) is
 * channel_stream_state.c.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "channel_stream.h"
#include "wk_alloc.h"
#include "wk_channelid.h"
#include "wk_chevent.h"
#include "wk_chmsg.h"
#include "wk_fanout.h"
#include "wk_answer.h"
#include "wk_jw.h"
#include "wk_log.h"
#include "wk_time.h"

#define EVENT_BATCH 128                  /* events in one BROKER_EVENT at most */
#define SAVE_BATCH 64                    /* streams saved per iteration after a tick */

static const char *const status_names[] = { "open", "closed", "error", "cancelled" };

/* An event waiting to be delivered.  Its bytes are in ss.qbuf, named by
 * offset (the buffer moves as it grows): nothing is allocated per event
 * once the buffers have grown to an iteration's worth. */
struct queued {
	size_t frame, frame_len;     /* BROKER_EVENT frame 1 */
	size_t channel_id;           /* the stored channel id, NUL-terminated */
	uint8_t channel_type;
	uint16_t skip_broker;        /* the connection the event came from, if any */
	uint64_t skip_conn;
	int held;                    /* must wait for the iteration's commit */
};

static struct {
	struct wk_proc *p;
	zhashx_t *streams;           /* hkey -> struct channel_stream, the streams in memory */
	struct queued *q;            /* the queue: q[qhead..qn) wait, in order */
	size_t qhead, qn, qcap;
	struct wk_wbuf qbuf;         /* their frames and channel ids; emptied with the queue */
	struct wk_jw data, piece;    /* an event's EVENT data and stream RECV payload */
	struct wk_jw sent;           /* a SEND's piece as an HTTP delta's payload */
	struct wk_wbuf key;          /* a lookup's memory-table key */
	uint64_t iter;               /* iterations so far (flushes after a commit) */
	uint64_t watched;            /* iter + 1 of the last after_commit queued */
	int unsaved;                 /* deltas wait for the tick to be saved */
	char **to_save;              /* hkeys of the streams the tick found unsaved */
	size_t nto_save, next_save;
	uint64_t events, deltas, duplicates, refused, timeouts, delivered;
} ss;

static struct wk_ratelimit rl_stream = WK_RATELIMIT_INIT(5);

/* The short name the operations below use (channel_stream_state.c). */
static int
is_type(const struct channel_stream_event *e, const char *t)
{
	return channel_stream_event_is(e, t);
}

/* ---- the streams in memory ---- */

/* A stream in memory with no anchor yet (find_anchor fills it); its birth
 * iteration decides whether its first events wait for the commit. */
struct channel_stream *
channel_stream_new(const char *id, uint8_t type, const char *cmn)
{
	struct channel_stream *s = wk_calloc(1, sizeof *s);

	s->hkey = channel_stream_hkey(id, type, cmn);
	s->id = wk_strdup(id);
	s->type = type;
	s->cmn = wk_strdup(cmn);
	s->stream_no = wk_strdup("");
	s->from_uid = wk_strdup("");
	s->setting = WKPROTO_SETTING_STREAM;
	s->born_iter = ss.iter;
	s->active_ms = wk_now_ms();
	return s;
}

/* A hash table made on first use. */
static zhashx_t *
table(zhashx_t **t)
{
	if (*t == NULL)
		*t = zhashx_new();
	return *t;
}

/* Ownership: ss.streams owns the streams; `numbers` only points at the
 * open ones that have a stream number (the same object, not a copy). */
static zhashx_t *numbers;    /* "type/len/id" + stream number -> the open stream */

/* Keep s in memory, by client_msg_no and, if it has one, by stream number
 * (the tables copy their keys). */
static void
mem_put(struct channel_stream *s)
{
	zhashx_insert(table(&ss.streams), s->hkey, s);
	if (s->stream_no[0])
		zhashx_update(table(&numbers), channel_stream_hkey_in(&ss.key, s->id, s->type,
		    s->stream_no), s);
}

/* Forget s and free it; the number index is cleared only if it still
 * names s (a newer stream may have taken the number). */
static void
mem_drop(struct channel_stream *s)
{
	if (s->stream_no[0]) {
		const char *k = channel_stream_hkey_in(&ss.key, s->id, s->type, s->stream_no);
		if (zhashx_lookup(table(&numbers), k) == s)
			zhashx_delete(numbers, k);
	}
	zhashx_delete(table(&ss.streams), s->hkey);
	channel_stream_free(s);
}

/* Fill s from its anchor message if it is stored: 1, 0 none, -1. */
static int
find_anchor(struct wk_proc *p, struct channel_stream *s)
{
	struct channel_msg m;
	struct wk_wbuf buf;
	int64_t mid;
	uint32_t seq;
	int rc = channel_msg_find_client_msg_no(p, s->id, s->type, NULL, s->cmn, &mid, &seq);

	if (rc != 1)
		return rc;
	wk_wbuf_init(&buf);
	if ((rc = channel_msg_get(p, s->id, s->type, seq, &m, &buf)) == 1) {
		s->message_id = mid;
		s->seq = seq;
		s->setting = m.setting | WKPROTO_SETTING_STREAM;
		free(s->from_uid);
		s->from_uid = wk_strndup(m.from_uid ? m.from_uid : "", m.from_uid_len);
		if (m.stream_no_len) {
			free(s->stream_no);
			s->stream_no = wk_strndup(m.stream_no, m.stream_no_len);
		}
	}
	wk_wbuf_free(&buf);
	return rc;
}

/* The stream of (id, type, cmn) -- cmn may also be an open stream's
 * number: 1 in memory, 2 loaded from streams.db (the caller owns it), 0
 * none, -1 error. */
static int
lookup(struct wk_proc *p, const char *id, uint8_t type, const char *cmn, struct channel_stream **out)
{
	const char *k = channel_stream_hkey_in(&ss.key, id, type, cmn);
	char *real;
	int rc;

	*out = zhashx_lookup(table(&ss.streams), k);
	if (*out == NULL)
		*out = zhashx_lookup(table(&numbers), k);
	if (*out)
		return 1;
	if ((rc = channel_stream_db_load(p, id, type, cmn, out)) != 0)
		return rc < 0 ? -1 : 2;
	if ((rc = channel_stream_db_find_no(p, id, type, cmn, &real)) != 1)
		return rc;
	rc = strcmp(real, cmn) == 0 ? 0 : lookup(p, id, type, real, out);
	free(real);
	return rc;
}

/* The stream of (id, type, cmn) in memory, made if need be (from its
 * anchor message if there is one: "no anchor required", as the reference).
 * NULL on a storage error. */
static struct channel_stream *
stream_get(struct wk_proc *p, const char *id, uint8_t type, const char *cmn)
{
	struct channel_stream *s;
	int rc = lookup(p, id, type, cmn, &s);

	if (rc < 0)
		return NULL;
	if (rc == 1)
		return s;
	if (rc == 0) {
		s = channel_stream_new(id, type, cmn);
		if (find_anchor(p, s) < 0) {
			channel_stream_free(s);
			return NULL;
		}
	}
	s->born_iter = ss.iter;
	mem_put(s);
	return s;
}

/* After an event: a stream with no open lane is written whole and leaves
 * memory (`changed`: something was applied since it was loaded). */
static void
settle(struct wk_proc *p, struct channel_stream *s, int changed)
{
	if (channel_stream_is_open(s))
		return;
	if (changed)
		channel_stream_db_close(p, s);
	mem_drop(s);
}

/* ---- delivery ---- */

/* The channel id as its sender addressed it: a person chat's other uid. */
static void
addressed(const struct channel_stream *s, const char **id, size_t *len)
{
	*id = s->id;
	*len = strlen(s->id);
	if (s->type == WKPROTO_CHANNEL_PERSON)
		wk_channelid_person_peer(s->id, strlen(s->id), s->from_uid, strlen(s->from_uid), id,
		    len);
}

/* The EVENT data (semantics.md §13.1) into ss.data: the keys in the
 * order the reference writes them, the payload as the client's JSON. */
static void
event_data(const struct channel_stream *s, const struct channel_lane *l, const struct channel_stream_event *e)
{
	struct wk_jw *w = &ss.data;
	const char *aid;
	size_t alen;

	addressed(s, &aid, &alen);
	wk_jw_reset(w);
	wk_jw_object(w);
	wk_jw_key(w, "client_msg_no");
	wk_jw_str_lossy(w, s->cmn, strlen(s->cmn));
	wk_jw_key(w, "channel_id");
	wk_jw_str_lossy(w, aid, alen);
	wk_jw_kint(w, "channel_type", s->type);
	wk_jw_key(w, "from_uid");
	wk_jw_str_lossy(w, s->from_uid, strlen(s->from_uid));
	wk_jw_kint(w, "message_id", s->message_id);
	wk_jw_key(w, "event_key");
	wk_jw_str_lossy(w, l->key, strlen(l->key));
	wk_jw_kint(w, "msg_event_seq", (long long)l->last_seq);
	wk_jw_key(w, "stream_status");
	wk_jw_str(w, status_names[l->status], strlen(status_names[l->status]));
	if (e->visibility && e->visibility[0]) {
		wk_jw_key(w, "visibility");
		wk_jw_str_lossy(w, e->visibility, strlen(e->visibility));
	}
	if (e->payload) {
		wk_jw_key(w, "payload");
		wk_jw_raw(w, e->payload, e->payload_len);
	}
	wk_jw_end(w, '}');
}

/* The payload of a piece at versions 2-4 into ss.piece: a text message
 * (type 1) the npm SDK decodes, its content the delta (or the whole text
 * after a snapshot; "" at the end), with the event's names beside it. */
static void
piece_payload(const struct channel_lane *l, struct channel_stream_event *e)
{
	int text_delta = is_type(e, "stream.delta") && !l->json;
	int snapshot = is_type(e, "stream.snapshot") && !l->json;
	struct wk_jw *w = &ss.piece;
	const char *text = "";
	size_t n = 0;

	if (text_delta && (text = channel_stream_event_delta(e, &n)) == NULL)
		text = "", n = 0;
	else if (snapshot && l->snap.len)
		text = (const char *)l->snap.p, n = l->snap.len;
	wk_jw_reset(w);
	wk_jw_object(w);
	wk_jw_kint(w, "type", 1);
	wk_jw_key(w, "content");
	wk_jw_str_lossy(w, text, n);
	wk_jw_key(w, "event_id");
	wk_jw_str_lossy(w, e->event_id, strlen(e->event_id));
	wk_jw_kstr(w, "event_type", e->type, strlen(e->type));
	wk_jw_key(w, "event_key");
	wk_jw_str_lossy(w, l->key, strlen(l->key));
	if (e->payload && !text_delta && !snapshot) {
		wk_jw_key(w, "payload");
		wk_jw_raw(w, e->payload, e->payload_len);
	}
	wk_jw_end(w, '}');
}

/* Queue e's delivery: one BROKER_EVENT, to go before or after the commit. */
static void
enqueue(struct wk_proc *p, struct channel_stream *s, struct channel_stream_event *e,
    const struct channel_applied *a)
{
	struct queued *q;
	struct channel_lane *l = a->lane;

	/* A SEND's anchor has been stored since: its seq (it may change the
	 * stream's strings, so before they are used). */
	if (a->piece && s->seq == 0 && s->message_id)
		find_anchor(p, s);
	event_data(s, l, e);
	if (a->piece)
		piece_payload(l, e);
	struct wk_chevent ev = {
		.msg = {
			.message_id = s->message_id, .timestamp = (int32_t)(wk_wall_ms() / 1000),
			.channel_type = s->type, .setting = s->setting | WKPROTO_SETTING_STREAM,
			.channel_id = wk_str_of(s->id), .from_uid = wk_str_of(s->from_uid),
			.client_msg_no = wk_str_of(s->cmn),
			.stream_no = wk_str_of(s->stream_no[0] ? s->stream_no : s->cmn),
			.payload = { a->piece ? ss.piece.b.p : NULL, a->piece ? ss.piece.b.len : 0 },
		},
		.stream_seq = a->piece, .stream_flag = a->flag,
		.event_id = wk_str_of(e->event_id), .event_type = wk_str_of(e->type),
		.occurred_at = e->occurred_at ? e->occurred_at : wk_wall_ms(),
		.data = { ss.data.b.p, ss.data.b.len },
	};

	ev.msg.seq = s->seq;
	if (ss.qn == ss.qcap) {
		ss.qcap = ss.qcap ? 2 * ss.qcap : 256;
		ss.q = wk_realloc(ss.q, ss.qcap * sizeof *ss.q);
	}
	q = &ss.q[ss.qn++];
	q->channel_id = ss.qbuf.len;
	wk_put_mem(&ss.qbuf, s->id, strlen(s->id) + 1);
	q->frame = ss.qbuf.len;
	wk_chevent_put(&ss.qbuf, &ev);
	q->frame_len = ss.qbuf.len - q->frame;
	q->channel_type = s->type;
	q->skip_broker = e->conn ? e->broker : UINT16_MAX;
	q->skip_conn = e->conn ? e->conn : UINT64_MAX;
	q->held = !is_type(e, "stream.delta") || s->born_iter == ss.iter;
}

static void save(struct wk_proc *p, struct channel_stream *s);

/* Send the queued events: with after == 0 (before the commit) only those
 * not held for it, with after == 1 (after the commit) the rest.  Before the
 * commit it also writes the deltas the tick marked (SAVE_BATCH streams per
 * iteration), or every unsaved stream when the process is stopping. */
void
channel_stream_flush(struct wk_proc *p, int after)
{
	zmsg_t **batch = NULL;
	struct channel_stream *s;
	int n = 0;

	if (!after && p->stopping) {
		for (s = zhashx_first(table(&ss.streams)); s; s = zhashx_next(ss.streams))
			if (s->log.len)
				save(p, s);
	} else if (!after && ss.next_save < ss.nto_save) {
		/* The deltas of the streams the tick found, SAVE_BATCH streams per
		 * commit, so that no commit stalls the loop for long. */
		for (int k = 0; k < SAVE_BATCH && ss.next_save < ss.nto_save; k++) {
			char *h = ss.to_save[ss.next_save++];
			if ((s = zhashx_lookup(table(&ss.streams), h)) != NULL && s->log.len)
				save(p, s);
			free(h);
		}
	}
	while (ss.qhead < ss.qn && (after || !ss.q[ss.qhead].held)) {
		struct queued *q = &ss.q[ss.qhead++];
		if (batch == NULL)
			batch = wk_fanout_batch_new(p);
		/* Up to EVENT_BATCH events per message to a broker. */
		channel_fanout_add(p, batch, WK_MSG_BROKER_EVENT, ss.qbuf.p + q->frame, q->frame_len,
		    (const char *)ss.qbuf.p + q->channel_id, q->channel_type, NULL, 0, q->skip_broker,
		    q->skip_conn);
		if (++n % EVENT_BATCH == 0)
			channel_fanout_send(p, batch);
		ss.delivered++;
	}
	if (ss.qhead == ss.qn)
		ss.qhead = ss.qn = ss.qbuf.len = 0;      /* all sent: the buffers again from the start */
	if (batch) {
		channel_fanout_send(p, batch);
		free(batch);
	}
	if (after)
		ss.iter++;
}

/* After a failed commit the events of the iteration are in memory (and
 * were delivered) but not in streams.db: write those streams whole. */
static void
after_commit(struct wk_proc *p, int rc, void *arg)
{
	uint64_t iter = (uint64_t)(uintptr_t)arg;
	struct channel_stream *s;

	if (rc == 0)
		return;
	for (s = zhashx_first(table(&ss.streams)); s; s = zhashx_next(ss.streams))
		if (s->touched_iter == iter && channel_stream_db_checkpoint(p, s) == 0)
			channel_stream_db_mark_open(p, s);
}

/* Write s's unsaved events into the iteration's transaction. */
static void
save(struct wk_proc *p, struct channel_stream *s)
{
	s->touched_iter = ss.iter + 1;
	if (ss.watched != ss.iter + 1) {
		/* Once per iteration: how its commit went. */
		ss.watched = ss.iter + 1;
		channel_after_commit(p, after_commit, (void *)(uintptr_t)ss.watched);
	}
	channel_stream_db_save(p, s);
}

/* Apply e, log it, queue its delivery; the caller settles s. */
static enum channel_apply
append(struct wk_proc *p, struct channel_stream *s, struct channel_stream_event *e, struct channel_applied *a)
{
	int was_open = channel_stream_is_open(s);
	enum channel_apply rc = channel_stream_apply(s, e, a);

	if (!was_open && channel_stream_is_open(s))
		channel_stream_db_mark_open(p, s);
	if (rc != CHANNEL_APPLY_OK) {
		if (rc == CHANNEL_APPLY_DUP || rc == CHANNEL_APPLY_IGNORED)
			ss.duplicates++;
		else
			ss.refused++;
		return rc;
	}
	ss.events++;
	ss.deltas += is_type(e, "stream.delta");
	s->active_ms = wk_now_ms();
	channel_stream_log_add(s, e);
	if (is_type(e, "stream.delta"))
		ss.unsaved = 1;          /* saved with the next tick */
	else
		save(p, s);              /* in this iteration's commit */
	enqueue(p, s, e, a);
	return rc;
}

/* ---- the HTTP operations ---- */

/* CHANNEL_MSG_EVENT (wk_msgtypes.h): wk-api has validated the event and
 * normalised its type and key.  The payload is the client's JSON text
 * (data, as a message's payload is: checked, not parsed), and a text
 * delta's text comes beside it, so a piece is appended without a JSON
 * parser.  A delta on an ended lane is 400. */
int
channel_op_event(struct wk_proc *p, struct wk_rbuf *rb, struct wk_answer *a)
{
	char id[CHANNEL_ID_MAX + 1], from[CHANNEL_ID_MAX + 1], cmn[CHANNEL_ID_MAX + 1];
	char eid[CHANNEL_ID_MAX + 1], etype[CHANNEL_ID_MAX + 1], key[CHANNEL_ID_MAX + 1];
	char vis[CHANNEL_ID_MAX + 1];
	struct channel_stream_event e = { .event_id = eid, .type = etype, .key = key, .visibility = vis };
	struct channel_stream *s;
	struct channel_applied ap;
	int64_t mid;
	uint8_t type;
	enum channel_apply rc;

	channel_get_key(rb, id, &type);
	wk_get_str(rb, from, sizeof from);
	mid = (int64_t)wk_get_u64(rb);
	wk_get_str(rb, cmn, sizeof cmn);
	wk_get_str(rb, eid, sizeof eid);
	wk_get_str(rb, etype, sizeof etype);
	wk_get_str(rb, key, sizeof key);
	wk_get_str(rb, vis, sizeof vis);
	e.occurred_at = (int64_t)wk_get_u64(rb);
	e.payload = wk_get_blob(rb, &e.payload_len);
	if (e.payload_len == 0)
		e.payload = NULL;
	if (wk_get_u8(rb))
		e.delta = wk_get_blob(rb, &e.delta_len);
	/* Text copied into the EVENT as it is must be JSON (a tool's op may
	 * carry anything; wk-api's never fails this). */
	if (e.payload && !rb->err && !wk_jw_is_json(e.payload, e.payload_len))
		rb->err = 1;
	if (e.delta && !rb->err && !wk_jw_is_utf8(e.delta, e.delta_len))
		rb->err = 1;
	if (channel_op_decoded(p, rb, a) < 0)
		return -1;
	if ((s = stream_get(p, id, type, cmn)) == NULL) {
		channel_answer_storage_error(p, a);
		return 0;
	}
	if (s->from_uid[0] == '\0') {    /* no anchor: the request says */
		free(s->from_uid);
		s->from_uid = wk_strdup(from[0] ? from : WK_SYSTEM_UID);
	}
	if (s->message_id == 0)
		s->message_id = mid;
	/* A delta is answered now, as it is sent (the reference keeps deltas
	 * in memory only); it is saved with the next tick. */
	a->now = is_type(&e, "stream.delta");
	rc = append(p, s, &e, &ap);
	if (rc == CHANNEL_APPLY_ENDED || rc == APPLY_TOO_BIG)
		wk_answer_error(a, 400, rc == CHANNEL_APPLY_ENDED ? "stream already ended" :
		    "stream text too long");
	else {
		wk_put_str(&a->body, s->cmn);
		wk_put_str(&a->body, e.key);
		wk_put_str(&a->body, e.event_id);
		wk_put_u64(&a->body, ap.lane ? ap.lane->last_seq : 0);
		wk_put_u8(&a->body, ap.lane ? ap.lane->status : CHANNEL_LANE_OPEN);
		wk_put_str(&a->body, from[0] ? from : s->from_uid);
	}
	channel_stream_event_clear(&e);
	settle(p, s, rc == CHANNEL_APPLY_OK);
	return 0;
}

/* CHANNEL_MSG_EVENTSYNC: the projected state of each lane whose last
 * persisted event is newer than from_seq, oldest first (http-api.md
 * §2.29). */
int
channel_op_eventsync(struct wk_proc *p, struct wk_rbuf *rb, struct wk_answer *a)
{
	char id[CHANNEL_ID_MAX + 1], cmn[CHANNEL_ID_MAX + 1], key[CHANNEL_ID_MAX + 1];
	uint64_t from;
	uint32_t limit;
	uint8_t type;
	int priv, n = 0, rc;
	struct channel_lane **v = NULL;
	struct channel_stream *s;

	channel_get_key(rb, id, &type);
	wk_get_str(rb, cmn, sizeof cmn);
	wk_get_str(rb, key, sizeof key);
	from = wk_get_u64(rb);
	limit = wk_get_u32(rb);
	priv = wk_get_u8(rb) == 1;
	if (channel_op_decoded(p, rb, a) < 0)
		return -1;
	if ((rc = lookup(p, id, type, cmn, &s)) < 0) {
		channel_answer_storage_error(p, a);
		return 0;
	}
	if (rc > 0)
		v = channel_lanes_since(s, from, key, priv, &n);
	if ((uint32_t)n < limit)
		limit = (uint32_t)n;
	wk_put_u8(&a->body, (uint32_t)n > limit);
	wk_put_u64(&a->body, limit > 0 ? v[limit - 1]->last_seq : from);
	wk_put_u32(&a->body, limit);
	for (uint32_t i = 0; i < limit; i++)
		channel_lane_proj_put(v[i], &a->body);
	free(v);
	if (rc == 2)
		channel_stream_free(s);
	return 0;
}

/* ---- MessageResp ---- */

/* The stream fields of a message's answer (api_msgresp.c reads them): u8 0
 * when the anchor has no stream state, else 1 and the state. */
void
channel_stream_put(const char *id, uint8_t type, const char *cmn, struct wk_wbuf *b)
{
	struct channel_stream *s;
	int rc = lookup(ss.p, id, type, cmn, &s);

	if (rc <= 0) {
		wk_put_u8(b, 0);     /* no events: no stream fields, as the reference */
		return;
	}
	wk_put_u8(b, 1);
	channel_stream_state_put(s, b);
	if (rc == 2)
		channel_stream_free(s);
}

/* ---- SENDs with a stream number (versions 2-4) ---- */

/* A piece's text: the "content" of a JSON payload, else the payload if it
 * is UTF-8 text, else nothing.  *n bytes at the result: a view into the
 * payload when content has no escape (a piece of the npm SDK's form is
 * taken without a parser), else *hold's string, freed by the caller. */
static const char *
piece_text(const struct wk_chmsg *m, json_t **hold, size_t *n)
{
	const char *p = (const char *)m->payload.p, *v;
	size_t len = m->payload.len, vn;
	int rc = wk_jw_member(p, len, "content", &v, &vn);
	json_t *j, *t;

	*hold = NULL;
	if (rc == 1 && v[0] == '"' && memchr(v, '\\', vn) == NULL) {
		*n = vn - 2;
		return v + 1;
	}
	if (rc == 0 || (rc == 1 && v[0] != '"') || (rc == -1 && wk_jw_is_utf8(p, len))) {
		*n = len;                    /* JSON is UTF-8 */
		return p;
	}
	if (rc == 1 || rc == -2) {     /* an escape: jansson unescapes */
		j = json_loadb(p, len, 0, NULL);
		t = json_incref(json_object_get(j, "content"));
		json_decref(j);
		if (json_is_string(t)) {
			*hold = t;
			*n = json_string_length(t);
			return json_string_value(t);
		}
		json_decref(t);
		*n = len;
		return p;
	}
	*n = 0;
	return "";
}

/* A SEND with a stream number (versions 2-4): a new number opens a stream
 * anchored on this message; the number of an open stream appends the
 * SEND's text as a delta to it.  The ids the client is acknowledged with
 * are the anchor's (*anchor_id, *anchor_seq). */
int
channel_stream_on_send(struct wk_proc *p, const char *id, const struct wk_chmsg *m,
    uint16_t broker, uint64_t conn, int64_t message_id, int64_t *anchor_id, uint32_t *anchor_seq)
{
	char *no = wk_strndup(m->stream_no.p, m->stream_no.len);
	char *cmn = wk_strndup(m->client_msg_no.p, m->client_msg_no.len);
	struct channel_stream *s = NULL, *old;
	struct channel_applied a;
	struct channel_lane *l;
	json_t *hold;
	size_t tlen;
	const char *text = piece_text(m, &hold, &tlen);
	int rc = lookup(p, id, m->channel_type, no, &s), piece;

	if (rc == 2) {
		s->born_iter = ss.iter;
		mem_put(s);
	}
	piece = rc > 0 && (l = channel_stream_lane(s, CHANNEL_STREAM_KEY_DEFAULT, 0)) && l->status == CHANNEL_LANE_OPEN &&
	    !s->completed;
	if (piece) {
		struct channel_stream_event e = { .event_id = cmn[0] ? cmn : no, .type = "stream.delta",
		    .key = CHANNEL_STREAM_KEY_DEFAULT, .broker = broker, .conn = conn,
		    .delta = text, .delta_len = tlen };
		/* The payload an HTTP delta would carry: {"kind":"text","delta":...}. */
		struct wk_jw *w = &ss.sent;
		wk_jw_reset(w);
		wk_jw_object(w);
		wk_jw_kstr(w, "kind", "text", 4);
		wk_jw_kstr(w, "delta", e.delta, e.delta_len);
		wk_jw_end(w, '}');
		e.payload = (const char *)w->b.p;
		e.payload_len = w->b.len;
		append(p, s, &e, &a);
		channel_stream_event_clear(&e);
		*anchor_id = s->message_id;
		*anchor_seq = s->seq;
		settle(p, s, 1);
	} else {
		/* The anchor of a new stream: its text is the first piece. */
		if (rc == 2)
			mem_drop(s);
		s = channel_stream_new(id, m->channel_type, cmn[0] ? cmn : no);
		free(s->stream_no);
		s->stream_no = wk_strdup(no);
		free(s->from_uid);
		s->from_uid = wk_strndup(m->from_uid.p, m->from_uid.len);
		s->message_id = message_id;
		s->setting = m->setting | WKPROTO_SETTING_STREAM;
		l = channel_stream_lane(s, CHANNEL_STREAM_KEY_DEFAULT, 1);
		channel_stream_snap_set(l, text, tlen, 0);
		if (cmn[0])
			channel_seen_add(&s->seen, channel_stream_id_hash(cmn));
		if ((old = zhashx_lookup(table(&ss.streams), s->hkey)) != NULL)
			mem_drop(old);      /* a client_msg_no used again: the new one wins */
		mem_put(s);
		channel_stream_db_checkpoint(p, s);
		channel_stream_db_mark_open(p, s);
	}
	json_decref(hold);
	free(cmn);
	free(no);
	return piece;
}

/* ---- the timeout, start and stop ---- */

/* The tick: mark streams with unsaved deltas for saving (spread over the
 * next iterations), and end every open lane of a stream idle for
 * stream.timeout with stream.error "timeout" (end_reason 1). */
void
channel_stream_tick(struct wk_proc *p)
{
	uint64_t now = wk_now_ms(), idle = (uint64_t)p->cfg.stream_timeout;
	struct channel_stream **late = NULL, *s;
	size_t n = 0, cap = 0;

	if (ss.unsaved && ss.next_save == ss.nto_save) {
		size_t have = 0;
		ss.nto_save = ss.next_save = 0;
		for (s = zhashx_first(table(&ss.streams)); s; s = zhashx_next(ss.streams))
			if (s->log.len) {
				wk_grow(&ss.to_save, &have, (ss.nto_save + 1) * sizeof *ss.to_save);
				ss.to_save[ss.nto_save++] = wk_strdup(s->hkey);
			}
		ss.unsaved = 0;
	}
	for (s = zhashx_first(table(&ss.streams)); s; s = zhashx_next(ss.streams))
		if (channel_stream_is_open(s) && s->active_ms + idle <= now) {
			wk_grow(&late, &cap, (n + 1) * sizeof *late);
			late[n++] = s;
		}
	for (size_t i = 0; i < n; i++) {
		s = late[i];
		for (struct channel_lane *l = s->lanes; l; l = l->next) {
			char id[64];
			struct channel_applied a;
			static const char timeout[] = "{\"error\":\"timeout\"}";
			struct channel_stream_event e = { .event_id = id, .type = "stream.error", .key = l->key,
			    .payload = timeout, .payload_len = sizeof timeout - 1, .timeout = 1 };
			if (l->status != CHANNEL_LANE_OPEN)
				continue;
			snprintf(id, sizeof id, "wk-timeout-%llu", (unsigned long long)s->event_seq + 1);
			append(p, s, &e, &a);
			channel_stream_event_clear(&e);
		}
		wk_log_limited(&rl_stream, WK_LOG_INFO, "stream %s/%u %s: no event for %lld ms, ended",
		    s->id, s->type, s->cmn, (long long)idle);
		ss.timeouts++;
		settle(p, s, 1);
	}
	free(late);
}

/* channel_stream_db_foreach_open callback: load one open stream. */
static void
load_open(struct wk_proc *p, const char *id, uint8_t type, const char *cmn, void *arg)
{
	struct channel_stream *s;

	if (channel_stream_db_load(p, id, type, cmn, &s) == 1)
		mem_put(s);
}

/* At start: load the streams streams.db lists open, so their timeouts run. */
int
channel_stream_open(struct wk_proc *p)
{
	ss.p = p;
	if (p->db[CHANNEL_DB_STREAMS] == NULL)
		return -1;
	return channel_stream_db_foreach_open(p, load_open, NULL);
}

/* At stop: free the queue and the streams; the open ones stay listed in
 * streams.db and are loaded again at the next start. */
void
channel_stream_close(struct wk_proc *p)
{
	struct channel_stream *s;

	wk_free(&ss.q);
	ss.qhead = ss.qn = ss.qcap = 0;
	wk_wbuf_free(&ss.qbuf);
	wk_jw_free(&ss.data);
	wk_jw_free(&ss.piece);
	wk_jw_free(&ss.sent);
	wk_wbuf_free(&ss.key);
	while (ss.next_save < ss.nto_save)
		free(ss.to_save[ss.next_save++]);
	wk_free(&ss.to_save);
	ss.nto_save = ss.next_save = 0;
	while (ss.streams && (s = zhashx_first(ss.streams)) != NULL)
		mem_drop(s);
	zhashx_destroy(&ss.streams);
	zhashx_destroy(&numbers);
}

/* Stream counters for `wkctl status` (wk-channel(8)). */
int
channel_stream_status(struct wk_proc *p, char *buf, size_t len)
{
	return snprintf(buf, len, " streams=%zu stream_events=%llu stream_deltas=%llu "
	    "stream_duplicates=%llu stream_refused=%llu stream_timeouts=%llu stream_delivered=%llu",
	    ss.streams ? zhashx_size(ss.streams) : 0, (unsigned long long)ss.events,
	    (unsigned long long)ss.deltas, (unsigned long long)ss.duplicates,
	    (unsigned long long)ss.refused, (unsigned long long)ss.timeouts,
	    (unsigned long long)ss.delivered);
}
