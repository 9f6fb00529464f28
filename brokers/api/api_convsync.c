/* api_convsync.c - /conversation/sync and /conversation/syncByChannels
 * (wk-api(8), semantics.md §10.2), read mode.
 *
 * Round 1 asks the user's mailbox shard for all its rows
 * (MAILBOX_CONV_ROWS: read cursor, deleted-at, newest update first).  The
 * last-message table (lastmsg.h), which the channel shards keep, then
 * says each channel's last seq and time without asking them: a
 * conversation with nothing at or after its start seq is answered from
 * the row alone (sync leaves it out), so an incremental sync (version > 0)
 * costs what changed.  A user with more than conversation.userMaxCount
 * conversations keeps those with the newest messages (by the table's
 * time; a channel the table cannot tell is kept).  Round 2 asks each
 * channel shard concerned once, batched (CHANNEL_CONV_RECENTS), for the
 * newest messages of the conversations left; the answer is written as it
 * is produced (wk_jw.h), byte for byte what the jansson tree of the
 * earlier code printed.  A deleted conversation that comes back counts as
 * unread only what came after the deletion.
 */
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "wk_jw.h"
#include "wk_alloc.h"
#include "wk_channelid.h"
#include "wk_json.h"
#include "wk_log.h"
#include "wk_shard.h"
#include "wkproto.h"

#define PAGE_SIZE_DEFAULT 100
#define PAGE_SIZE_MAX 500
#define BYCHANNELS_MSG_COUNT 15
/* MAILBOX_CONV_ROWS's filter (wk_msgtypes.h). */
#define ROWS_FILTER_NONE 0
#define ROWS_FILTER_ANY 1            /* a message at or after the deleted-at */
#define ROWS_FILTER_UNREAD 2         /* ... and after the read position */

/* One conversation of the answer. */
struct item {
	const char *cid, *sid;       /* client id (a person chat's peer), stored id */
	size_t cid_len, sid_len;
	uint8_t type;
	uint32_t R, del;             /* the row's read position, deleted-at */
	uint64_t updated;            /* the row's updated_ms */
	uint64_t start;              /* the first seq wanted (0: the newest) */
	int known;                   /* LASTMSG_* */
	struct lastmsg_row lm;
	int ask;                     /* asked its channel shard */
	int shard;                   /* which (wk_shard_channel, computed once) */
	/* The shard's answer (round 2), decoded once: its first valid
	 * message (MessageResp's recents[0]) and where the rest begins. */
	uint32_t mine, nmsg;
	int has;
	uint32_t first_ix;
	struct api_msgv first;
	struct wk_rbuf after;
};

struct sync_ctx {
	char *uid;
	size_t uid_len;
	json_t *req;
	int64_t msg_count;
	int by_channels;
	int filtered;                /* the mailbox shard left out the rows without news */
	uint8_t *rows;               /* round 1's answer, copied: the ids point into it */
	char *ids;                   /* byChannels: the stored ids, NUL-separated */
	struct item *it;
	size_t n;
	uint32_t **part_items;       /* per part asked: its items, in the order asked */
	uint32_t *part_n;
	int nparts;
};

static void
ctx_free(void *arg)
{
	struct sync_ctx *c = arg;

	if (c == NULL)
		return;
	for (int i = 0; i < c->nparts; i++)
		free(c->part_items[i]);
	free(c->part_items);
	free(c->part_n);
	free(c->uid);
	free(c->rows);
	free(c->ids);
	free(c->it);
	json_decref(c->req);
	free(c);
}

static struct sync_ctx *
ctx_new(struct api_req *r, json_t *req)
{
	struct sync_ctx *c = wk_calloc(1, sizeof *c);

	r->ctx = c;
	r->ctx_free = ctx_free;
	c->req = req;
	return c;
}

void
api_conv_ask_rows(struct wk_proc *p, struct api_req *r, const char *uid, uint32_t max,
    uint8_t filter, uint32_t filter_max, api_then_fn *then)
{
	struct wk_wbuf b;

	wk_wbuf_init(&b);
	wk_put_str(&b, uid);
	wk_put_u32(&b, max);
	wk_put_u8(&b, filter);
	wk_put_u32(&b, filter_max);
	api_ask_op_owner(p, r, WK_ROLE_MAILBOX, uid, WK_MSG_MAILBOX_CONV_ROWS, &b, then);
	wk_wbuf_free(&b);
}

/* A row of round 1's answer (0), or -1 at its end. */
struct row {
	const char *id;
	size_t len;
	uint8_t type;
	uint32_t readed_to, deleted_at;
	uint64_t updated;
};

static int
row_next(struct wk_rbuf *rb, uint32_t *left, struct row *w)
{
	if (*left == 0 || rb->err)
		return -1;
	(*left)--;
	w->id = wk_get_strv(rb, &w->len);
	w->type = wk_get_u8(rb);
	w->readed_to = wk_get_u32(rb);
	w->deleted_at = wk_get_u32(rb);
	w->updated = wk_get_u64(rb);
	return rb->err ? -1 : 0;
}

/* Round 1's answer, copied into c->rows: a reader over it. */
static uint32_t
rows_read(struct api_req *r, struct sync_ctx *c, struct wk_rbuf *rb)
{
	struct wk_rbuf src;

	api_op_read(r, 0, &src);
	c->rows = wk_malloc(src.len + 1);
	memcpy(c->rows, src.p, src.len);
	wk_rbuf_init(rb, c->rows, src.len);
	c->filtered = wk_get_u8(rb) == 1;
	return wk_get_u32(rb);
}

/* last_msg_seqs "id:type:seq|...": "type:id" -> seq (bad items skipped). */
static zhashx_t *
parse_seqs(const char *s)
{
	zhashx_t *m;
	char *copy, *save = NULL, *item;

	if (s == NULL || *s == '\0')
		return NULL;
	m = zhashx_new();
	zhashx_set_destructor(m, (zhashx_destructor_fn *)zstr_free);
	copy = wk_strdup(s);
	for (item = strtok_r(copy, "|", &save); item; item = strtok_r(NULL, "|", &save)) {
		char *c2 = strrchr(item, ':'), *c1, *end, key[API_STORED_ID_MAX + 8];
		if (c2 == NULL)
			continue;
		*c2 = '\0';
		if ((c1 = strrchr(item, ':')) == NULL)
			continue;
		*c1 = '\0';
		long long seq = strtoll(c2 + 1, &end, 10);
		if (*end || end == c2 + 1)
			continue;
		long type = strtol(c1 + 1, &end, 10);
		if (*end || end == c1 + 1 || type < 0 || type > 255)
			continue;
		snprintf(key, sizeof key, "%ld:%s", type, item);
		zhashx_update(m, key, wk_asprintf("%lld", seq));
	}
	free(copy);
	return m;
}

static long long
client_seq(zhashx_t *seqs, const char *id, size_t len, int type, int *present)
{
	char key[API_STORED_ID_MAX + 8];
	const char *v;

	*present = 0;
	if (seqs == NULL)
		return 0;
	snprintf(key, sizeof key, "%d:%.*s", type, (int)len, id);
	if ((v = zhashx_lookup(seqs, key)) == NULL)
		return 0;
	*present = 1;
	return strtoll(v, NULL, 10);
}

static int
type_excluded(json_t *types, int type)
{
	size_t i;
	json_t *v;

	json_array_foreach(types, i, v)
		if (json_integer_value(v) == type)
			return 1;
	return 0;
}

/* The id a client knows a stored channel by (a person chat's peer); NULL
 * if uid is not one of its parties. */
static const char *
client_id(const struct sync_ctx *c, const char *sid, size_t sid_len, int type, size_t *len)
{
	const char *peer = sid;

	*len = sid_len;
	if (type == WKPROTO_CHANNEL_PERSON &&
	    wk_channelid_person_peer(sid, sid_len, c->uid, c->uid_len, &peer, len) < 0)
		return NULL;
	return peer;
}

static void
table_lookup(struct wk_proc *p, struct item *it)
{
	const struct lastmsg *t = &api_state(p)->lastmsg;

	it->known = t->hdr ? lastmsg_get(t, it->sid, it->sid_len, it->type, &it->lm) :
	    LASTMSG_UNKNOWN;
}

/* The cap's order: newest last message first (its time, then its message
 * id); a channel the table cannot tell counts as newest, one without
 * messages as oldest; ties keep the rows' order (newest update first). */
static int64_t
cap_key(const struct item *it)
{
	return it->known == LASTMSG_HIT ? it->lm.timestamp :
	    it->known == LASTMSG_UNKNOWN ? INT64_MAX : -1;
}

static const struct item *cap_items;

static int
by_cap_key(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int64_t kx = cap_key(&cap_items[x]), ky = cap_key(&cap_items[y]);
	/* The same second: the later message id (they grow with time). */
	int64_t ix = cap_items[x].lm.message_id, iy = cap_items[y].lm.message_id;

	if (kx != ky)
		return kx > ky ? -1 : 1;
	if (ix != iy)
		return ix > iy ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* More conversations than conversation.userMaxCount: keep the newest. */
static void
apply_cap(struct sync_ctx *c, size_t max)
{
	uint32_t *ix;
	uint8_t *keep;
	size_t k = 0;

	if (c->n <= max)
		return;
	ix = wk_malloc(c->n * sizeof *ix);
	keep = wk_calloc(c->n, 1);
	for (size_t i = 0; i < c->n; i++)
		ix[i] = (uint32_t)i;
	cap_items = c->it;
	qsort(ix, c->n, sizeof *ix, by_cap_key);
	for (size_t i = 0; i < max; i++)
		keep[ix[i]] = 1;
	for (size_t i = 0; i < c->n; i++)
		if (keep[i])
			c->it[k++] = c->it[i];
	c->n = k;
	free(ix);
	free(keep);
}

/* page > 0: only that page of the conversations. */
static void
apply_page(struct sync_ctx *c, long long page, long long size)
{
	size_t from, to;

	if (page <= 0)
		return;
	if (size <= 0)
		size = PAGE_SIZE_DEFAULT;
	if (size > PAGE_SIZE_MAX)
		size = PAGE_SIZE_MAX;
	from = (size_t)((page - 1) * size);
	to = from + (size_t)size;
	if (from >= c->n) {
		c->n = 0;
		return;
	}
	if (to > c->n)
		to = c->n;
	memmove(c->it, c->it + from, (to - from) * sizeof *c->it);
	c->n = to - from;
}

static void write_answer(struct api_req *r, struct sync_ctx *c);
static void sync_then_recents(struct wk_proc *p, struct api_req *r);

/* Round 2: the items the table cannot answer, one CHANNEL_CONV_RECENTS
 * per channel shard. */
static void
ask_recents(struct wk_proc *p, struct api_req *r, struct sync_ctx *c)
{
	int n = p->cfg.processes_channel;
	struct wk_wbuf *per = wk_calloc((size_t)n, sizeof *per);
	uint32_t *count = wk_calloc((size_t)n, sizeof *count);
	uint32_t msg_count = c->msg_count > UINT32_MAX ? UINT32_MAX : (uint32_t)c->msg_count;
	int failed = 0;

	c->part_items = wk_calloc((size_t)n, sizeof *c->part_items);
	c->part_n = wk_calloc((size_t)n, sizeof *c->part_n);
	for (size_t i = 0; i < c->n; i++) {
		struct item *it = &c->it[i];
		uint64_t first = it->start > 0 ? it->start : 1;
		/* Nothing at or after the start seq: no recents, no need to ask. */
		it->ask = it->known == LASTMSG_UNKNOWN ||
		    (it->known == LASTMSG_HIT && first <= it->lm.last_seq);
		if (!it->ask)
			continue;
		int s = it->shard = wk_shard_channel(it->sid, it->sid_len, n);
		wk_put_strn(&per[s], it->sid, it->sid_len);
		wk_put_u8(&per[s], it->type);
		wk_put_u64(&per[s], it->start);
		count[s]++;
	}
	for (int s = 0; s < n; s++) {
		struct wk_wbuf w;
		if (count[s] == 0 || failed)
			continue;
		uint32_t *ix = wk_malloc(count[s] * sizeof *ix), k = 0;
		for (size_t i = 0; i < c->n; i++)
			if (c->it[i].ask && c->it[i].shard == s)
				ix[k++] = (uint32_t)i;
		c->part_items[c->nparts] = ix;
		c->part_n[c->nparts++] = count[s];
		wk_wbuf_init(&w);
		wk_put_str(&w, c->uid);
		wk_put_u32(&w, msg_count);
		wk_put_u32(&w, count[s]);
		wk_put_mem(&w, per[s].p, per[s].len);
		failed = api_ask_op(p, r, WK_ROLE_CHANNEL, s, WK_MSG_CHANNEL_CONV_RECENTS, &w,
		    sync_then_recents) < 0;   /* answered 500: ask no more */
		wk_wbuf_free(&w);
	}
	for (int s = 0; s < n; s++)
		wk_wbuf_free(&per[s]);
	free(per);
	free(count);
	if (c->nparts == 0 && !r->answered)
		write_answer(r, c);
}

/* Round 2 is in: each item's part of the answers, then the answer. */
static void
sync_then_recents(struct wk_proc *p, struct api_req *r)
{
	struct sync_ctx *c = r->ctx;
	struct api_msgv v;
	struct wk_rbuf rb;

	(void)p;
	for (int k = 0; k < r->nparts && k < c->nparts; k++) {
		api_op_read(r, k, &rb);
		if (wk_get_u32(&rb) != c->part_n[k])
			api_op_malformed(r, k);
		for (uint32_t j = 0; j < c->part_n[k]; j++) {
			struct item *it = &c->it[c->part_items[k][j]];
			wk_get_u32(&rb);             /* the channel's last seq */
			it->mine = wk_get_u32(&rb);
			it->nmsg = wk_get_u32(&rb);
			for (uint32_t m = 0; m < it->nmsg && !rb.err; m++)
				if (api_msgv_get(&rb, &v) == 0 && v.valid && !it->has) {
					it->has = 1;
					it->first_ix = m;
					it->first = v;
					it->after = rb;
				}
		}
		if (wk_rbuf_done(&rb) < 0)
			api_op_malformed(r, k);
	}
	/* The answers stay in r->ops until r is answered. */
	write_answer(r, c);
}

/* One conversation from its row and its channel's answer (§10.2 step 8). */
static void
write_item(struct wk_jw *w, const struct sync_ctx *c, const struct item *it)
{
	const struct api_msgv *last = &it->first;
	struct api_msgv v;
	int has = it->ask && it->has;
	long long R = it->R, U = it->mine, unread = 0, ls = 0, readed;
	struct wk_rbuf rb;

	if (!has && !c->by_channels)
		return;
	/* What was deleted is not unread (the reference counts it). */
	if (!c->by_channels && it->del > R)
		R = it->del;
	readed = R;
	if (has) {
		ls = last->m.seq;
		if (ls > R)
			unread = ls - R;
		/* What the user sent counts as read. */
		if (U > R && ls >= R && ls - U < unread) {
			unread = ls - U;
			readed = U;
		}
		if (last->from_len == c->uid_len && memcmp(last->from, c->uid, c->uid_len) == 0) {
			unread = 0;
			readed = ls;
		}
	}
	wk_jw_object(w);
	wk_jw_kstr(w, "channel_id", it->cid, it->cid_len);
	wk_jw_kint(w, "channel_type", it->type);
	wk_jw_kint(w, "unread", unread);
	wk_jw_kint(w, "timestamp", has ? last->m.timestamp : 0);
	wk_jw_kint(w, "last_msg_seq", ls);
	if (has)
		wk_jw_kstr(w, "last_client_msg_no", last->m.client_msg_no.p,
		    last->m.client_msg_no.len);
	else
		wk_jw_kstr(w, "last_client_msg_no", "", 0);
	wk_jw_kint(w, "offset_msg_seq", 0);
	wk_jw_kint(w, "readed_to_msg_seq", readed);
	wk_jw_kint(w, "version", has ? (long long)last->m.timestamp * 1000000000LL :
	    (long long)it->updated * 1000000LL);
	wk_jw_key(w, "recents");
	wk_jw_array(w);
	/* The messages before the first valid one are not shown either. */
	if (has) {
		api_msgv_write(w, last);
		rb = it->after;
		for (uint32_t m = it->first_ix + 1; m < it->nmsg; m++)
			if (api_msgv_get(&rb, &v) == 0 && v.valid)
				api_msgv_write(w, &v);
	}
	wk_jw_end(w, ']');
	wk_jw_end(w, '}');
}

static void
write_answer(struct api_req *r, struct sync_ctx *c)
{
	struct wk_jw w;
	size_t len;
	char *text;

	wk_jw_init(&w);
	/* ~600 bytes a conversation with one recent (measured): one allocation. */
	wk_jw_reserve(&w, 64 + c->n * (c->msg_count > 1 ? 1200 : 640));
	wk_jw_array(&w);
	for (size_t i = 0; i < c->n; i++)
		write_item(&w, c, &c->it[i]);
	wk_jw_end(&w, ']');
	text = wk_jw_take(&w, &len);
	wk_jw_free(&w);
	api_answer(r, 200, API_JSON, text, len);
}

/* Round 1 is in (the rows): which conversations, from which seq. */
static void
sync_then_rows(struct wk_proc *p, struct api_req *r)
{
	struct sync_ctx *c = r->ctx;
	json_int_t version = wk_jint(c->req, "version"), page = wk_jint(c->req, "page");
	int only_unread = wk_jint(c->req, "only_unread") == 1, present;
	json_t *excluded = json_object_get(c->req, "exclude_channel_types");
	zhashx_t *seqs = parse_seqs(wk_jstr(c->req, "last_msg_seqs"));
	struct wk_rbuf rb;
	uint32_t left = rows_read(r, c, &rb);
	struct row w;
	size_t len;
	const char *cid;

	c->it = wk_calloc(left ? left : 1, sizeof *c->it);
	while (row_next(&rb, &left, &w) == 0) {
		if (api_conv_is_cmd(w.id, w.len) ||
		    (cid = client_id(c, w.id, w.len, w.type, &len)) == NULL)
			continue;
		if (w.type == WKPROTO_CHANNEL_PERSON && len == sizeof WK_SYSTEM_UID - 1 &&
		    memcmp(cid, WK_SYSTEM_UID, len) == 0)
			continue;
		long long k = client_seq(seqs, cid, len, w.type, &present);
		if (!present && type_excluded(excluded, w.type))
			continue;
		struct item *it = &c->it[c->n++];
		*it = (struct item){ .cid = cid, .cid_len = len, .sid = w.id, .sid_len = w.len,
		    .type = w.type, .R = w.readed_to, .del = w.deleted_at, .updated = w.updated };
		long long start = k != 0 ? k + 1 : version > 0 || only_unread ? (long long)w.readed_to + 1 : 0;
		if (w.deleted_at > 0 && w.deleted_at >= start)
			start = (long long)w.deleted_at + 1;
		it->start = start > 0 ? (uint64_t)start : 0;
		/* Filtered: the mailbox shard read the table for this row and
		 * found news (or could not tell); seqs only grow, so the shard
		 * is asked without reading it again.  (The cap, which needs the
		 * table's times, has nothing to cut: the shard filters only a
		 * uid with at most userMaxCount rows.) */
		if (c->filtered)
			it->known = LASTMSG_UNKNOWN;
		else
			table_lookup(p, it);
	}
	zhashx_destroy(&seqs);
	if (rb.err)
		wk_fatalx("MAILBOX_CONV_ROWS: malformed answer");
	apply_cap(c, (size_t)p->cfg.conversation_userMaxCount);
	apply_page(c, page, wk_jint(c->req, "page_size"));
	ask_recents(p, r, c);
}

/* POST /conversation/sync (§10.2). */
void
api_route_conversation_sync(struct wk_proc *p, struct api_req *r)
{
	struct api_in in = { r, NULL, "syncUserConversationReq" };
	const char *uid, *seqs;
	json_int_t v, n;
	json_t *ex;
	struct sync_ctx *c;
	uint8_t filter = ROWS_FILTER_NONE;

	if ((in.o = api_body_json(r, JSON_OBJECT, "api.syncUserConversationReq")) == NULL)
		return;
	c = ctx_new(r, in.o);
	if (api_in_str(&in, "uid", &uid) < 0 || api_in_str(&in, "last_msg_seqs", &seqs) < 0 ||
	    api_in_int(&in, "version", "int64", API_GO_INT_MIN, API_GO_INT_MAX, &v) < 0 ||
	    api_in_int(&in, "msg_count", "int64", API_GO_INT_MIN, API_GO_INT_MAX, &n) < 0 ||
	    api_in_int(&in, "only_unread", "uint8", 0, 255, &v) < 0 ||
	    api_in_int(&in, "page", "int", API_GO_INT_MIN, API_GO_INT_MAX, &v) < 0 ||
	    api_in_int(&in, "page_size", "int", API_GO_INT_MIN, API_GO_INT_MAX, &v) < 0)
		return;
	c->msg_count = n;
	ex = api_in_get(&in, "exclude_channel_types");
	if (ex && !json_is_null(ex) && !json_is_array(ex)) {
		api_bad_type(r, ex, in.type, "exclude_channel_types", "[]uint8");
		return;
	}
	if (api_is_blank(uid)) {
		api_answer_error(r, 400, "uid不能为空！");
		return;
	}
	/* QUIRK kept: no recent messages asked, no conversations answered. */
	if (c->msg_count <= 0 || api_check_len(r, "uid", uid) < 0) {
		if (!r->answered)
			api_answer_json(r, 200, json_array());
		return;
	}
	c->uid = wk_strdup(uid);
	c->uid_len = strlen(uid);
	/* All the rows: the cap is applied here, once the last messages are
	 * known.  The mailbox shard leaves out the rows this route would
	 * leave out (nothing at or after their start, by the same table)
	 * unless a page, the client's last_msg_seqs or the cap needs them. */
	if (wk_jint(c->req, "page") <= 0 && (seqs == NULL || *seqs == '\0'))
		filter = wk_jint(c->req, "version") > 0 || wk_jint(c->req, "only_unread") == 1 ?
		    ROWS_FILTER_UNREAD : ROWS_FILTER_ANY;
	api_conv_ask_rows(p, r, uid, 0, filter,
	    (uint32_t)p->cfg.conversation_userMaxCount, sync_then_rows);
}

/* syncByChannels: every requested channel, from its newest messages. */
static void
by_channels_then_rows(struct wk_proc *p, struct api_req *r)
{
	struct sync_ctx *c = r->ctx;
	json_t *chs = json_object_get(c->req, "channels"), *ch;
	struct wk_rbuf rb, rows;
	uint32_t nrows = rows_read(r, c, &rb), left;
	size_t i, len, off = 0;
	struct row w;
	const char *cid;

	c->it = wk_calloc(json_array_size(chs) + 1, sizeof *c->it);
	c->ids = wk_malloc((json_array_size(chs) + 1) * API_STORED_ID_MAX);
	json_array_foreach(chs, i, ch) {
		char *sid = c->ids + off;
		json_int_t type = wk_jint(ch, "channel_type");
		uint32_t R = 0;
		if (api_stored_id(c->uid, wk_jstr(ch, "channel_id"), type, sid) < 0 ||
		    (cid = client_id(c, sid, strlen(sid), (int)type, &len)) == NULL)
			continue;
		off += strlen(sid) + 1;
		/* The row of the channel, if any (the last one wins, as before). */
		rows = rb;
		left = nrows;
		while (row_next(&rows, &left, &w) == 0)
			if (w.type == type && w.len == strlen(sid) && memcmp(w.id, sid, w.len) == 0)
				R = w.readed_to;
		struct item *it = &c->it[c->n++];
		*it = (struct item){ .cid = cid, .cid_len = len, .sid = sid, .sid_len = strlen(sid),
		    .type = (uint8_t)type, .R = R };
		table_lookup(p, it);
	}
	ask_recents(p, r, c);
}

void
api_route_conversation_sync_by_channels(struct wk_proc *p, struct api_req *r)
{
	struct api_in in = { r, NULL, "syncUserConversationByChannelsReq" };
	const char *uid;
	json_t *chs, *ch;
	json_int_t n;
	struct sync_ctx *c;
	size_t i;

	if ((in.o = api_body_json(r, JSON_OBJECT, "api.syncUserConversationByChannelsReq")) == NULL)
		return;
	c = ctx_new(r, in.o);
	c->by_channels = 1;
	if (api_in_str(&in, "uid", &uid) < 0 ||
	    api_in_int(&in, "msg_count", "int64", API_GO_INT_MIN, API_GO_INT_MAX, &n) < 0)
		return;
	c->msg_count = n;
	chs = api_in_get(&in, "channels");
	if (chs && !json_is_null(chs) && !json_is_array(chs)) {
		api_bad_type(r, chs, in.type, "channels", "[]api.channelReq");
		return;
	}
	json_array_foreach(chs, i, ch)
		if (!json_is_object(ch) || !json_is_string(json_object_get(ch, "channel_id")) ||
		    !json_is_integer(json_object_get(ch, "channel_type"))) {
			api_answer_error(r, 400, "channels: channel_id and channel_type are required");
			return;
		}
	if (api_is_blank(uid)) {
		api_answer_error(r, 400, "uid不能为空！");
		return;
	}
	if (json_array_size(chs) == 0) {
		api_answer_error(r, 400, "channels cannot be empty");   /* the reference's words */
		return;
	}
	if (api_check_len(r, "uid", uid) < 0)
		return;
	if (c->msg_count <= 0)
		c->msg_count = BYCHANNELS_MSG_COUNT;
	json_object_set_new(c->req, "channels", chs ? json_incref(chs) : json_array());
	c->uid = wk_strdup(uid);
	c->uid_len = strlen(uid);
	api_conv_ask_rows(p, r, uid, 0, ROWS_FILTER_NONE, 0, by_channels_then_rows);
}
