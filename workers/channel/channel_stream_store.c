/* channel_stream_store.c - stream messages in streams.db (wk-channel(8)).
 *
 * Keys start with a kind byte; K below is u8 type, u16 length + the stored
 * channel id, u16 length + the client_msg_no:
 *   'S' K          the whole state of the stream (written at a checkpoint)
 *   'E' K u32 n    events appended since the last checkpoint, replayed
 *                  onto S when the stream is loaded
 *   'O' K          the stream has an open lane (loaded at start, so that its
 *                  timeout runs after a restart)
 *   'N' u8 type, u16 length + id, stream number  -> client_msg_no: the open
 *                  stream of a stream number (SENDs from versions 2-4)
 * Events are appended to E records, so that saving a piece costs the
 * piece, not the length of the text so far; the text is written whole only
 * at a checkpoint: when the stream ends, every STREAM_LOG_MAX records, and
 * after a failed commit.  When they are saved is channel_stream.c's choice
 * (a persisted event at once, deltas with the next tick).
 * State record S: u8 version 1, u64 message_id, u32 seq, u8 setting, u8
 * flags (1 completed, 2 end piece sent), str from_uid, str stream_no, u64
 * event_seq, u32 pieces, u16 lanes, each: str key, u8 status, u8
 * end_reason, u8 json, u64 last_seq, str error, blob snapshot, u8 has
 * projection [str event_id, str type, str visibility, u64 occurred_at, u8
 * has payload [blob payload]]; u32 seen, u64 each.  Event record E: u8
 * version 1, then events to its end, each: str event_id, str type, str
 * key, str visibility, u64 occurred_at, u8 has payload [blob payload JSON].
 */
#include <stdlib.h>
#include <string.h>
#include "channel_stream.h"
#include "wk_alloc.h"
#include "wk_db.h"
#include "wk_log.h"

#define STATE_VERSION 1
#define EVENT_VERSION 1
#define STREAM_LOG_MAX 4096          /* events between checkpoints */

/* The key of `kind` for (id, type, cmn), into b. */
static void
stream_key(struct wk_wbuf *b, char kind, const char *id, uint8_t type, const char *cmn)
{
	wk_wbuf_init(b);
	wk_put_u8(b, (uint8_t)kind);
	wk_put_u8(b, type);
	wk_put_str(b, id);
	if (cmn)
		wk_put_str(b, cmn);
}

/* streams.db of the shard. */
static DB *
db(struct wk_proc *p)
{
	return p->db[CHANNEL_DB_STREAMS];
}

/* A failed write: log, mark the transaction failed, -1. */
static int
failed(struct wk_proc *p, const struct channel_stream *s, const char *what, int rc)
{
	wk_log_warnx("stream %s/%u %s: %s: %s", s->id, s->type, s->cmn, what, db_strerror(rc));
	channel_txn_fail(p);
	return -1;
}

/* Write one key inside the iteration's transaction; a failure poisons the
 * transaction (failed()), so no half-saved stream is ever committed. */
static int
put(struct wk_proc *p, const struct channel_stream *s, const struct wk_wbuf *k, const void *v,
    size_t vlen, const char *what)
{
	DBT key = { .data = k->p, .size = (u_int32_t)k->len };
	DBT data = { .data = (void *)v, .size = (u_int32_t)vlen };
	DB_TXN *txn = channel_txn(p);
	int rc;

	if (txn == NULL)
		return failed(p, s, what, EINVAL);
	wk_db_writes++;
	if ((rc = db(p)->put(db(p), txn, &key, &data, 0)) != 0)
		return failed(p, s, what, rc);
	return 0;
}

/* Delete one key; a key already gone is not an error. */
static int
del(struct wk_proc *p, const struct channel_stream *s, const struct wk_wbuf *k, const char *what)
{
	DBT key = { .data = k->p, .size = (u_int32_t)k->len };
	DB_TXN *txn = channel_txn(p);
	int rc;

	if (txn == NULL)
		return failed(p, s, what, EINVAL);
	wk_db_writes++;
	rc = db(p)->del(db(p), txn, &key, 0);
	if (rc != 0 && rc != DB_NOTFOUND)
		return failed(p, s, what, rc);
	return 0;
}

/* Walk the keys starting with prefix: fn(key, data, arg) for each (a
 * non-zero return stops), deleting each if `delete`.  0, -1. */
static int
walk(struct wk_proc *p, const struct wk_wbuf *prefix, int delete,
    int (*fn)(const DBT *key, const DBT *data, void *arg), void *arg)
{
	DB_TXN *txn = channel_txn(p);
	DBT key = { .data = prefix->p, .size = (u_int32_t)prefix->len };
	DBT data = { 0 };
	DBC *cur;
	int rc;

	if (txn == NULL || db(p)->cursor(db(p), txn, &cur, 0) != 0)
		return -1;
	for (rc = wk_db_cget(cur, &key, &data, DB_SET_RANGE); rc == 0;
	    rc = wk_db_cget(cur, &key, &data, DB_NEXT)) {
		if (key.size < prefix->len || memcmp(key.data, prefix->p, prefix->len) != 0)
			break;
		if (fn && fn(&key, &data, arg) != 0)
			break;
		if (delete) {
			wk_db_writes++;
			if ((rc = cur->del(cur, 0)) != 0)
				break;
		}
	}
	cur->close(cur);
	wk_db_dbt_free(&key, &data);
	if (rc != 0 && rc != DB_NOTFOUND) {
		wk_log_warnx("streams.db walk: %s", db_strerror(rc));
		channel_txn_fail(p);
		return -1;
	}
	return 0;
}

/* An optional string, stored as "" when absent. */
static void
put_opt_str(struct wk_wbuf *b, const char *s)
{
	wk_put_str(b, s ? s : "");
}

/* An optional JSON payload: u8 present, then its text as a blob. */
static void
put_payload(struct wk_wbuf *b, const char *json, size_t n)
{
	wk_put_u8(b, json != NULL);
	if (json)
		wk_put_blob(b, json, n);
}

/* A stored string, malloc'd ("" when the record has none). */
static char *
get_dup(struct wk_rbuf *r)
{
	size_t n;
	const char *v = wk_get_strv(r, &n);

	return wk_strndup(v ? v : "", n);
}

/* The reverse of put_payload: the JSON text, or NULL. */
static char *
get_payload(struct wk_rbuf *r)
{
	size_t n;
	const void *v;

	if (!wk_get_u8(r))
		return NULL;
	v = wk_get_blob(r, &n);
	return wk_strndup(v ? v : "", n);
}

/* The S record of s (layout in the header comment). */
static void
state_encode(const struct channel_stream *s, struct wk_wbuf *b)
{
	uint16_t nlanes = 0;

	for (const struct channel_lane *l = s->lanes; l; l = l->next)
		nlanes++;
	wk_put_u8(b, STATE_VERSION);
	wk_put_u64(b, (uint64_t)s->message_id);
	wk_put_u32(b, s->seq);
	wk_put_u8(b, s->setting);
	wk_put_u8(b, (uint8_t)(s->completed | s->ended_old << 1));
	wk_put_str(b, s->from_uid);
	wk_put_str(b, s->stream_no);
	wk_put_u64(b, s->event_seq);
	wk_put_u32(b, s->pieces);
	wk_put_u16(b, nlanes);
	for (const struct channel_lane *l = s->lanes; l; l = l->next) {
		wk_put_str(b, l->key);
		wk_put_u8(b, l->status);
		wk_put_u8(b, l->end_reason);
		wk_put_u8(b, l->json);
		wk_put_u64(b, l->last_seq);
		put_opt_str(b, l->error);
		wk_put_blob(b, l->snap.p, l->snap.len);
		wk_put_u8(b, l->proj.event_id != NULL);
		if (l->proj.event_id) {
			wk_put_str(b, l->proj.event_id);
			put_opt_str(b, l->proj.type);
			put_opt_str(b, l->proj.visibility);
			wk_put_u64(b, (uint64_t)l->proj.occurred_at);
			put_payload(b, l->proj.payload, l->proj.payload ? strlen(l->proj.payload) : 0);
		}
	}
	wk_put_u32(b, (uint32_t)s->seen.n);
	for (size_t i = 0; i < s->seen.cap; i++)
		if (s->seen.v[i])
			wk_put_u64(b, s->seen.v[i]);
}

/* Fill s from a state record: 0, or -1 if it is malformed. */
static int
state_decode(struct channel_stream *s, const void *p, size_t len)
{
	struct wk_rbuf r;
	uint16_t nlanes;
	uint32_t nseen;
	uint8_t flags;

	wk_rbuf_init(&r, p, len);
	if (wk_get_u8(&r) != STATE_VERSION)
		return -1;
	s->message_id = (int64_t)wk_get_u64(&r);
	s->seq = wk_get_u32(&r);
	s->setting = wk_get_u8(&r);
	flags = wk_get_u8(&r);
	s->completed = flags & 1;
	s->ended_old = (flags >> 1) & 1;
	free(s->from_uid);
	s->from_uid = get_dup(&r);
	free(s->stream_no);
	s->stream_no = get_dup(&r);
	s->event_seq = wk_get_u64(&r);
	s->pieces = wk_get_u32(&r);
	nlanes = wk_get_u16(&r);
	for (uint16_t i = 0; i < nlanes && !r.err; i++) {
		char *key = get_dup(&r);
		struct channel_lane *l = channel_stream_lane(s, key, 1);
		const void *snap;
		size_t n;

		free(key);
		l->status = wk_get_u8(&r);
		l->end_reason = wk_get_u8(&r);
		l->json = wk_get_u8(&r);
		l->last_seq = wk_get_u64(&r);
		l->error = get_dup(&r);
		if (l->error[0] == '\0')
			wk_free(&l->error);
		snap = wk_get_blob(&r, &n);
		if (snap)
			wk_put_mem(&l->snap, snap, n);
		if (wk_get_u8(&r)) {
			l->proj.event_id = get_dup(&r);
			l->proj.type = get_dup(&r);
			l->proj.visibility = get_dup(&r);
			l->proj.occurred_at = (int64_t)wk_get_u64(&r);
			l->proj.payload = get_payload(&r);
		}
	}
	nseen = wk_get_u32(&r);
	for (uint32_t i = 0; i < nseen && !r.err; i++)
		channel_seen_add(&s->seen, wk_get_u64(&r));
	return wk_rbuf_done(&r);
}

/* Buffer one event in s->log (one E record's worth); it reaches the
 * database at the next channel_stream_db_save(). */
void
channel_stream_log_add(struct channel_stream *s, const struct channel_stream_event *e)
{
	if (s->log.len == 0)
		wk_put_u8(&s->log, EVENT_VERSION);
	wk_put_str(&s->log, e->event_id);
	wk_put_str(&s->log, e->type);
	wk_put_str(&s->log, e->key);
	put_opt_str(&s->log, e->visibility);
	wk_put_u64(&s->log, (uint64_t)e->occurred_at);
	put_payload(&s->log, e->payload, e->payload_len);
}

/* Write the buffered events as the next E record.  Past STREAM_LOG_MAX
 * records a checkpoint is written instead, which bounds both the records a
 * load replays and the keys a stream holds. */
int
channel_stream_db_save(struct wk_proc *p, struct channel_stream *s)
{
	struct wk_wbuf k;
	int rc;

	if (s->log.len == 0)
		return 0;
	if (s->nlog >= STREAM_LOG_MAX)
		return channel_stream_db_checkpoint(p, s);
	stream_key(&k, 'E', s->id, s->type, s->cmn);
	wk_put_u32(&k, s->nlog++);
	rc = put(p, s, &k, s->log.p, s->log.len, "save events");
	wk_wbuf_free(&k);
	s->log.len = 0;
	return rc;
}

/* Replace the E records by a whole S record: the events are in the state
 * already, so they are deleted in the same transaction. */
int
channel_stream_db_checkpoint(struct wk_proc *p, struct channel_stream *s)
{
	struct wk_wbuf k, v;
	int rc;

	stream_key(&k, 'E', s->id, s->type, s->cmn);
	rc = walk(p, &k, 1, NULL, NULL);
	wk_wbuf_free(&k);
	if (rc < 0)
		return -1;
	s->nlog = 0;
	s->log.len = 0;              /* the state has them */
	stream_key(&k, 'S', s->id, s->type, s->cmn);
	wk_wbuf_init(&v);
	state_encode(s, &v);
	rc = put(p, s, &k, v.p, v.len, "checkpoint");
	wk_wbuf_free(&k);
	wk_wbuf_free(&v);
	return rc;
}

/* The N key of a stream number. */
static void
number_key(struct wk_wbuf *k, const char *id, uint8_t type, const char *stream_no)
{
	stream_key(k, 'N', id, type, NULL);
	wk_put_mem(k, stream_no, strlen(stream_no));
}

/* Record that s has an open lane (O key), and its stream number's N key,
 * so a restart finds it (timeouts) and old-version SENDs find its cmn. */
int
channel_stream_db_mark_open(struct wk_proc *p, const struct channel_stream *s)
{
	struct wk_wbuf k;
	int rc;

	stream_key(&k, 'O', s->id, s->type, s->cmn);
	rc = put(p, s, &k, "", 0, "list open");
	wk_wbuf_free(&k);
	if (rc == 0 && s->stream_no[0]) {
		number_key(&k, s->id, s->type, s->stream_no);
		rc = put(p, s, &k, s->cmn, strlen(s->cmn), "stream number");
		wk_wbuf_free(&k);
	}
	return rc;
}

/* The stream ended: a final checkpoint, then drop its O and N keys.  The S
 * record stays: the anchor's answers (/message/eventsync) read it. */
int
channel_stream_db_close(struct wk_proc *p, struct channel_stream *s)
{
	struct wk_wbuf k;
	int rc;

	if (channel_stream_db_checkpoint(p, s) < 0)
		return -1;
	stream_key(&k, 'O', s->id, s->type, s->cmn);
	rc = del(p, s, &k, "unlist");
	wk_wbuf_free(&k);
	if (rc == 0 && s->stream_no[0]) {
		number_key(&k, s->id, s->type, s->stream_no);
		rc = del(p, s, &k, "stream number");
		wk_wbuf_free(&k);
	}
	return rc;
}

/* Replay one event of an event record. */
static void
replay_one(struct channel_stream *s, struct wk_rbuf *r)
{
	struct channel_stream_event e = { 0 };
	char *id, *type, *ekey, *vis, *payload;
	struct channel_applied a;

	e.event_id = id = get_dup(r);
	e.type = type = get_dup(r);
	e.key = ekey = get_dup(r);
	e.visibility = vis = get_dup(r);
	e.occurred_at = (int64_t)wk_get_u64(r);
	e.payload = payload = get_payload(r);
	e.payload_len = payload ? strlen(payload) : 0;
	if (!r->err)
		channel_stream_apply(s, &e, &a);
	channel_stream_event_clear(&e);
	free(payload);
	free(vis);
	free(ekey);
	free(type);
	free(id);
}

/* Replay the events of one record onto the stream being loaded. */
static int
replay(const DBT *key, const DBT *data, void *arg)
{
	struct channel_stream *s = arg;
	struct wk_rbuf r;

	wk_rbuf_init(&r, data->data, data->size);
	if (wk_get_u8(&r) != EVENT_VERSION)
		r.err = 1;
	while (r.off < r.len && !r.err)
		replay_one(s, &r);
	if (r.err)
		wk_log_warnx("stream %s/%u %s: a malformed event record", s->id, s->type, s->cmn);
	s->nlog++;
	return 0;
}

/* Load a stream: its S record (if any) with its E records replayed on top.
 * 1 and *out set, 0 if nothing is stored, -1 on a read error. */
int
channel_stream_db_load(struct wk_proc *p, const char *id, uint8_t type, const char *cmn,
    struct channel_stream **out)
{
	struct wk_wbuf k;
	DBT key, data = { .flags = DB_DBT_MALLOC };
	DB_TXN *txn = channel_txn(p);
	struct channel_stream *s;
	int rc;

	*out = NULL;
	if (txn == NULL)
		return -1;
	s = channel_stream_new(id, type, cmn);
	stream_key(&k, 'S', id, type, cmn);
	key = (DBT){ .data = k.p, .size = (u_int32_t)k.len };
	rc = db(p)->get(db(p), txn, &key, &data, 0);
	wk_wbuf_free(&k);
	if (rc == 0 && state_decode(s, data.data, data.size) < 0) {
		wk_log_warnx("stream %s/%u %s: a malformed state record", id, type, cmn);
		rc = -1;
	} else if (rc != 0 && rc != DB_NOTFOUND) {
		wk_log_warnx("stream %s/%u %s: get: %s", id, type, cmn, db_strerror(rc));
		rc = -1;
	}
	free(data.data);
	if (rc == -1) {
		channel_stream_free(s);
		return -1;
	}
	stream_key(&k, 'E', id, type, cmn);
	if (walk(p, &k, 0, replay, s) < 0) {
		wk_wbuf_free(&k);
		channel_stream_free(s);
		return -1;
	}
	wk_wbuf_free(&k);
	if (rc == DB_NOTFOUND && s->nlog == 0) {
		channel_stream_free(s);
		return 0;
	}
	*out = s;
	return 1;
}

/* The client_msg_no of an open stream number (N key): 1 and *cmn
 * (malloc'd), 0 if none is open, -1 on error. */
int
channel_stream_db_find_no(struct wk_proc *p, const char *id, uint8_t type, const char *stream_no,
    char **cmn)
{
	struct wk_wbuf k;
	DBT key, data = { .flags = DB_DBT_MALLOC };
	DB_TXN *txn = channel_txn(p);
	int rc;

	*cmn = NULL;
	if (txn == NULL)
		return -1;
	number_key(&k, id, type, stream_no);
	key = (DBT){ .data = k.p, .size = (u_int32_t)k.len };
	rc = db(p)->get(db(p), txn, &key, &data, 0);
	wk_wbuf_free(&k);
	if (rc == DB_NOTFOUND)
		return 0;
	if (rc != 0) {
		wk_log_warnx("stream number %s/%u %s: get: %s", id, type, stream_no, db_strerror(rc));
		return -1;
	}
	*cmn = wk_strndup(data.data, data.size);
	free(data.data);
	return 1;
}

/* The arguments of channel_stream_db_foreach_open() for open_one(). */
struct open_walk {
	struct wk_proc *p;
	void (*fn)(struct wk_proc *p, const char *id, uint8_t type, const char *cmn, void *arg);
	void *arg;
};

/* One O key: u8 'O', u8 type, str id, str cmn. */
static int
open_one(const DBT *key, const DBT *data, void *arg)
{
	struct open_walk *w = arg;
	struct wk_rbuf r;
	char *id, *cmn;
	uint8_t type;

	wk_rbuf_init(&r, key->data, key->size);
	wk_get_u8(&r);
	type = wk_get_u8(&r);
	id = get_dup(&r);
	cmn = get_dup(&r);
	if (wk_rbuf_done(&r) == 0)
		w->fn(w->p, id, type, cmn, w->arg);
	free(id);
	free(cmn);
	return 0;
}

/* At start: fn for every stream listed open, so their timeouts run again
 * after a restart. */
int
channel_stream_db_foreach_open(struct wk_proc *p,
    void (*fn)(struct wk_proc *p, const char *id, uint8_t type, const char *cmn, void *arg),
    void *arg)
{
	struct open_walk w = { p, fn, arg };
	struct wk_wbuf k;
	int rc;

	wk_wbuf_init(&k);
	wk_put_u8(&k, 'O');
	rc = walk(p, &k, 0, open_one, &w);
	wk_wbuf_free(&k);
	return rc;
}
