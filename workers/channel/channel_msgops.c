/* channel_msgops.c - a channel shard's message op rows (wk-channel(8)):
 * CHANNEL_MSG_SEND, _SENDBATCH, _SYNC, _SEARCH, _GET, _LAST, _MAX_SEQ,
 * dispatched by channel_api.c; their payloads are described in
 * wk_msgtypes.h.  The channel id is the stored one (a person chat's "a@b";
 * wk-api converts).  Messages are answered as records (wk_chmsg and the
 * stream state), from which wk-api makes the reference's MessageResp
 * (http-api.md §2); the answer to a send is its reason, id and seq, once
 * the commit made it durable.
 */
#include <stdlib.h>
#include <string.h>
#include "channel.h"
#include "wk_alloc.h"
#include "wk_answer.h"
#include "wk_chmsg.h"
#include "wkproto.h"

#define SYNC_LIMIT_MAX 10000     /* the reference caps a sync's limit here */

void
channel_msg_put(const char *id, uint8_t type, const struct channel_msg *m, struct wk_wbuf *b)
{
	struct wk_chmsg c = {
		.message_id = m->message_id, .seq = m->seq, .timestamp = m->timestamp,
		.flags = m->flags, .setting = m->setting, .channel_type = type, .expire = m->expire,
		.from_uid = wk_str_n(m->from_uid, m->from_uid_len),
		.channel_id = wk_str_n(id, strlen(id)),
		.client_msg_no = wk_str_n(m->client_msg_no, m->client_msg_no_len),
		.topic = wk_str_n(m->topic, m->topic_len),
		.stream_no = wk_str_n(m->stream_no, m->stream_no_len),
		.payload = { m->payload, m->payload_len },
	};

	wk_chmsg_put(b, &c);
	if (m->setting & WKPROTO_SETTING_STREAM)
		channel_stream_put(id, type, m->client_msg_no ? m->client_msg_no : "", b);
	else
		wk_put_u8(b, 0);
	/* Revoked or edited: what the message_extra of the answer shows. */
	wk_put_u8(b, m->extra_version != 0);
	if (m->extra_version == 0)
		return;
	wk_put_u8(b, m->revoked);
	wk_put_u32(b, m->extra_version);
	wk_put_u32(b, m->edited_at);
	wk_put_strn(b, m->revoker, m->revoker_len);
}

void
channel_msgs_init(struct channel_msgs *ms, const char *id, uint8_t type)
{
	memset(ms, 0, sizeof *ms);
	ms->id = id;
	ms->type = type;
	wk_wbuf_init(&ms->buf);
}

void
channel_msgs_free(struct channel_msgs *ms)
{
	wk_wbuf_free(&ms->buf);
	free(ms->off);
	free(ms->seq);
	ms->off = NULL;
	ms->seq = NULL;
	ms->n = ms->cap = 0;
}

int
channel_msgs_add(const struct channel_msg *m, void *arg)
{
	struct channel_msgs *ms = arg;

	if (ms->want_id != 0 && m->message_id != ms->want_id)
		return 0;
	if (ms->want_cmn && (m->client_msg_no_len != strlen(ms->want_cmn) ||
	    memcmp(m->client_msg_no, ms->want_cmn, m->client_msg_no_len) != 0))
		return ms->want_id != 0;     /* found by id, but not this one */
	if (ms->n == ms->cap) {
		ms->cap = ms->cap ? 2 * ms->cap : 16;
		ms->off = wk_realloc(ms->off, ms->cap * sizeof *ms->off);
		ms->seq = wk_realloc(ms->seq, ms->cap * sizeof *ms->seq);
	}
	ms->off[ms->n] = ms->buf.len;
	ms->seq[ms->n++] = m->seq;
	channel_msg_put(ms->id, ms->type, m, &ms->buf);
	return ms->want_id != 0;         /* a search by id stops at it */
}

void
channel_msgs_put(const struct channel_msgs *ms, int reverse, struct wk_wbuf *out)
{
	wk_put_u32(out, (uint32_t)ms->n);
	for (size_t k = 0; k < ms->n; k++) {
		size_t i = reverse ? ms->n - 1 - k : k;
		size_t end = i + 1 < ms->n ? ms->off[i + 1] : ms->buf.len;
		wk_put_mem(out, ms->buf.p + ms->off[i], end - ms->off[i]);
	}
}

/* The message with `seq`, if there is one: 0, or -1. */
static int
add_seq(struct wk_proc *p, struct channel_msgs *ms, uint32_t seq)
{
	return channel_msg_range(p, ms->id, ms->type, seq, seq, 1, 0, channel_msgs_add, ms) < 0 ?
	    -1 : 0;
}

static uint64_t id_walks;           /* lookups by id that fell back to the walk */

/* The first message at or after seq: its id and seq. */
struct first_at {
	int64_t id;
	uint32_t seq;
};

static int
first_at(const struct channel_msg *m, void *arg)
{
	struct first_at *f = arg;

	f->id = m->message_id;
	f->seq = m->seq;
	return 1;
}

/* The message with this id.  There is no index by id: ids are handed out
 * in the order messages are appended, so they grow with seq, and a binary
 * search finds one in O(log n) reads.  Should that ever not hold (a clock
 * set back across a restart), a miss falls back to the walk from the newest,
 * which is always right.  0, or -1. */
static int
add_id(struct wk_proc *p, struct channel_msgs *ms, int64_t message_id)
{
	struct channel_info ci;
	uint32_t lo = 1, hi;
	int rc = channel_get(p, ms->id, ms->type, &ci);

	if (rc <= 0)
		return rc;
	for (hi = ci.last_seq; lo <= hi && hi > 0;) {
		uint32_t mid = lo + (hi - lo) / 2;
		struct first_at f = { 0, 0 };
		long n = channel_msg_range(p, ms->id, ms->type, mid, hi, 1, 0, first_at, &f);
		if (n < 0)
			return -1;
		if (n == 0 || f.id > message_id)
			hi = mid - 1;        /* nothing in [mid, hi], or past it */
		else if (f.id < message_id)
			lo = f.seq + 1;
		else
			return add_seq(p, ms, f.seq);
	}
	ms->want_id = message_id;
	id_walks++;
	rc = channel_msg_range(p, ms->id, ms->type, 1, 0, 0, 1, channel_msgs_add, ms) < 0 ? -1 : 0;
	ms->want_id = 0;
	return rc;
}

int
channel_api_status(struct wk_proc *p, char *buf, size_t len)
{
	(void)p;
	return snprintf(buf, len, " msgid_walks=%llu", (unsigned long long)id_walks);
}

/* The newest message with this client_msg_no: 0, or -1. */
static int
add_client_msg_no(struct wk_proc *p, struct channel_msgs *ms, const char *cmn)
{
	int64_t mid;
	uint32_t seq;
	int rc = channel_msg_find_client_msg_no(p, ms->id, ms->type, NULL, cmn, &mid, &seq);

	return rc < 0 ? -1 : rc == 0 ? 0 : add_seq(p, ms, seq);
}

/* CHANNEL_MSG_SYNC: http-api.md §2.20's selection, answered ascending. */
int
channel_op_msg_sync(struct wk_proc *p, struct wk_rbuf *rb, struct wk_answer *a)
{
	char id[CHANNEL_ID_MAX + 1];
	uint8_t type, mode;
	int64_t start, end, limit;
	uint32_t s32, e32, lo = 0, hi = 0, first = 0;
	int reverse = 0, none = 0, more;
	struct channel_msgs ms;
	long n = 0;

	channel_get_key(rb, id, &type);
	start = (int64_t)wk_get_u64(rb);
	end = (int64_t)wk_get_u64(rb);
	limit = (int64_t)wk_get_u64(rb);
	mode = wk_get_u8(rb);
	if (channel_op_decoded(p, rb, a) < 0)
		return -1;
	s32 = start <= 0 ? 0 : start > UINT32_MAX ? UINT32_MAX : (uint32_t)start;
	e32 = end <= 0 ? 0 : end > UINT32_MAX ? UINT32_MAX : (uint32_t)end;
	if (limit > SYNC_LIMIT_MAX)
		limit = SYNC_LIMIT_MAX;
	channel_msgs_init(&ms, id, type);
	if (start == 0 && end == 0) {
		lo = 1;                              /* the newest `limit` */
		reverse = 1;
	} else if (mode == 1) {                      /* up: [start, end) */
		lo = s32 ? s32 : 1;
		hi = e32 ? e32 - 1 : 0;
		none = e32 && hi < lo;
	} else if (end <= start) {                   /* down: (end, start], the newest */
		lo = e32 + 1;
		hi = s32;
		reverse = 1;
	} else
		none = 1;
	if (channel_history_start(p, id, type, &first) < 0)
		n = -1;
	else if (limit > 0 && !none)
		n = channel_msg_range(p, id, type, lo, hi, (uint32_t)limit, reverse, channel_msgs_add,
		    &ms);
	if (n < 0) {
		channel_answer_storage_error(p, a);
		channel_msgs_free(&ms);
		return 0;
	}
	more = (int64_t)ms.n >= limit;
	if (ms.n > 0 && end != 0) {
		/* The boundary message: the oldest going down, the newest going up
		 * (collected newest first when reverse). */
		size_t b = (mode == 0) == (reverse == 0) ? 0 : ms.n - 1;
		if ((int64_t)ms.seq[b] == end)
			more = 0;
	}
	wk_put_u8(&a->body, (uint8_t)more);
	channel_msgs_put(&ms, reverse, &a->body);
	wk_put_u32(&a->body, first);
	channel_msgs_free(&ms);
	return 0;
}

/* CHANNEL_MSG_SEARCH's lists, walked once to check that they decode
 * (ms NULL) and once to look the messages up: 0, or -1 (storage). */
static int
search_walk(struct wk_proc *p, struct wk_rbuf *rb, struct channel_msgs *ms)
{
	uint32_t n = wk_get_u32(rb), i;
	size_t len;
	int rc = 0;

	for (i = 0; i < n && !rb->err; i++) {
		uint32_t seq = wk_get_u32(rb);
		if (ms && rc == 0)
			rc = add_seq(p, ms, seq);
	}
	n = wk_get_u32(rb);
	for (i = 0; i < n && !rb->err; i++) {
		int64_t mid = (int64_t)wk_get_u64(rb);
		if (ms && rc == 0)
			rc = add_id(p, ms, mid);
	}
	n = wk_get_u32(rb);
	for (i = 0; i < n && !rb->err; i++) {
		const char *s = wk_get_strv(rb, &len);
		if (ms && rc == 0) {
			char *cmn = wk_strndup(s, len);
			rc = add_client_msg_no(p, ms, cmn);
			free(cmn);
		}
	}
	return rc;
}

/* CHANNEL_MSG_SEARCH: by seqs, then ids, then client_msg_nos; missing skipped. */
int
channel_op_msg_search(struct wk_proc *p, struct wk_rbuf *rb, struct wk_answer *a)
{
	char id[CHANNEL_ID_MAX + 1];
	struct channel_msgs ms;
	struct wk_rbuf lists;
	uint8_t type;

	channel_get_key(rb, id, &type);
	lists = *rb;
	search_walk(p, rb, NULL);
	if (channel_op_decoded(p, rb, a) < 0)
		return -1;
	channel_msgs_init(&ms, id, type);
	if (search_walk(p, &lists, &ms) < 0)
		channel_answer_storage_error(p, a);
	else
		channel_msgs_put(&ms, 0, &a->body);
	channel_msgs_free(&ms);
	return 0;
}

/* u8 found, then the message: the answer of MSG_GET and MSG_LAST. */
static void
answer_one(struct wk_proc *p, struct wk_answer *a, struct channel_msgs *ms, int rc)
{
	if (rc < 0)
		channel_answer_storage_error(p, a);
	else {
		wk_put_u8(&a->body, ms->n > 0);
		if (ms->n > 0)
			wk_put_mem(&a->body, ms->buf.p, ms->n > 1 ? ms->off[1] : ms->buf.len);
	}
	channel_msgs_free(ms);
}

/* CHANNEL_MSG_GET: by message_id if given, else by client_msg_no; both
 * given: the message must match both. */
int
channel_op_msg_get(struct wk_proc *p, struct wk_rbuf *rb, struct wk_answer *a)
{
	char id[CHANNEL_ID_MAX + 1], *cmn;
	struct channel_msgs ms;
	int64_t mid;
	uint8_t type;
	size_t len;
	const char *s;
	int rc = 0;

	channel_get_key(rb, id, &type);
	mid = (int64_t)wk_get_u64(rb);
	s = wk_get_strv(rb, &len);
	if (channel_op_decoded(p, rb, a) < 0)
		return -1;
	cmn = wk_strndup(s, len);
	channel_msgs_init(&ms, id, type);
	if (mid != 0) {
		ms.want_cmn = *cmn ? cmn : NULL;
		rc = add_id(p, &ms, mid);
	} else if (*cmn)
		rc = add_client_msg_no(p, &ms, cmn);
	answer_one(p, a, &ms, rc);
	free(cmn);
	return 0;
}

/* CHANNEL_MSG_LAST: the newest message, if any. */
int
channel_op_msg_last(struct wk_proc *p, struct wk_rbuf *rb, struct wk_answer *a)
{
	char id[CHANNEL_ID_MAX + 1];
	struct channel_msgs ms;
	uint8_t type;

	channel_get_key(rb, id, &type);
	if (channel_op_decoded(p, rb, a) < 0)
		return -1;
	channel_msgs_init(&ms, id, type);
	answer_one(p, a, &ms, channel_msg_range(p, id, type, 1, 0, 1, 1, channel_msgs_add, &ms) < 0 ?
	    -1 : 0);
	return 0;
}

/* CHANNEL_MSG_MAX_SEQ: the channel's last seq, 0 for an unknown channel. */
int
channel_op_msg_max_seq(struct wk_proc *p, struct wk_rbuf *rb, struct wk_answer *a)
{
	struct channel_info info;
	int rc = channel_op_record(p, rb, a, &info);

	if (rc >= 0)
		wk_put_u32(&a->body, rc == 1 ? info.last_seq : 0);
	return rc == -2 ? -1 : 0;
}

/* The outcome of a send (after the commit, or at once for a refusal),
 * answered here: with msg.before_send on it comes iterations later. */
static void
send_done(struct wk_proc *p, void *arg, int reason, int64_t message_id, uint32_t seq)
{
	struct wk_answer *a = arg;

	if (a == NULL)
		return;                  /* sendbatch: wk-api made the answer */
	a->body.len = 0;
	wk_put_u8(&a->body, (uint8_t)reason);
	wk_put_u64(&a->body, (uint64_t)message_id);
	wk_put_u32(&a->body, seq);
	wk_answer_send(p, 0, a);
}

/* CHANNEL_MSG_SEND: answered by send_done (1). */
int
channel_op_msg_send(struct wk_proc *p, struct wk_rbuf *rb, struct wk_answer *a)
{
	struct wk_rbuf to_rb;
	struct wk_wbuf to;
	struct wk_chmsg m;
	size_t n;
	uint32_t nto;
	const char *s;

	memset(&m, 0, sizeof m);
	s = wk_get_strv(rb, &n);
	m.channel_id = wk_str_n(s, n);
	m.channel_type = wk_get_u8(rb);
	s = wk_get_strv(rb, &n);
	m.from_uid = wk_str_n(s, n);
	s = wk_get_strv(rb, &n);
	m.client_msg_no = wk_str_n(s, n);
	m.flags = wk_get_u8(rb);
	m.expire = wk_get_u32(rb);
	m.setting = wk_get_u8(rb);
	m.payload.p = wk_get_blob(rb, &m.payload.len);
	channel_get_uids(rb, &to_rb);
	if (m.channel_id.len > CHANNEL_ID_MAX && !rb->err)
		rb->err = 1;
	if (channel_op_decoded(p, rb, a) < 0)
		return -1;
	/* The recipients, if given, as channel_append_api takes them. */
	wk_wbuf_init(&to);
	nto = wk_get_u32(&to_rb);
	for (uint32_t i = 0; i < nto; i++) {
		s = wk_get_strv(&to_rb, &n);
		wk_put_mem(&to, s, n);
		wk_put_u8(&to, 0);
	}
	channel_append_api(p, &m, nto ? (const char *)to.p : NULL, to.len, send_done, a);
	wk_wbuf_free(&to);
	return 1;
}

/* CHANNEL_MSG_SENDBATCH: one person message per stored id, each with its
 * own client_msg_no; answered (empty) once committed. */
int
channel_op_msg_sendbatch(struct wk_proc *p, struct wk_rbuf *rb, struct wk_answer *a)
{
	struct wk_rbuf to;
	struct wk_chmsg m;
	size_t n;
	uint32_t nto, i;
	const char *s;

	memset(&m, 0, sizeof m);
	s = wk_get_strv(rb, &n);
	m.from_uid = wk_str_n(s, n);
	m.flags = wk_get_u8(rb);
	m.payload.p = wk_get_blob(rb, &m.payload.len);
	m.channel_type = WKPROTO_CHANNEL_PERSON;
	to = *rb;
	nto = wk_get_u32(rb);
	for (i = 0; i < nto && !rb->err; i++) {
		wk_get_strv(rb, &n);
		if (n > CHANNEL_ID_MAX)
			rb->err = 1;
		wk_get_strv(rb, &n);
	}
	if (channel_op_decoded(p, rb, a) < 0)
		return -1;
	wk_get_u32(&to);
	for (i = 0; i < nto; i++) {
		s = wk_get_strv(&to, &n);
		m.channel_id = wk_str_n(s, n);
		s = wk_get_strv(&to, &n);
		m.client_msg_no = wk_str_n(s, n);
		channel_append_api(p, &m, NULL, 0, send_done, NULL);
	}
	return 0;
}

int
channel_msg_locate(struct wk_proc *p, const char *id, uint8_t type, int64_t message_id,
    const char *client_msg_no, uint32_t *seq)
{
	struct channel_msgs ms;
	int rc;

	channel_msgs_init(&ms, id, type);
	if (message_id != 0) {
		ms.want_cmn = client_msg_no && *client_msg_no ? client_msg_no : NULL;
		rc = add_id(p, &ms, message_id);
	} else
		rc = client_msg_no && *client_msg_no ? add_client_msg_no(p, &ms, client_msg_no) : 0;
	if (rc == 0 && ms.n > 0) {
		*seq = ms.seq[0];
		rc = 1;
	}
	channel_msgs_free(&ms);
	return rc;
}
