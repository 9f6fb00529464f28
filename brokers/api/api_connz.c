/* api_connz.c - the client connections for the operator (wk-api(8)):
 * GET /connz (paging, sorting, uid filter), GET /varz?show=conn,
 * POST /conn/kick and /conn/remove, in the reference's shapes.
 *
 * Each broker owns its connections, so every broker is asked
 * (BROKER_CONN_LIST: its matching connections sorted, the first
 * offset+limit of them; BROKER_CONN_CLOSE: close it if it is yours) and
 * wk-api merges the answers in the same order (wk_connrow.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "api.h"
#include "wk_alloc.h"
#include "wk_connrow.h"
#include "wk_log.h"
#include "wk_time.h"
#include "wkproto.h"

#define CONNZ_DEFAULT_LIMIT 20
#define CONNZ_ROWS_MAX 100000        /* offset + limit asked of each broker at most */

/* The reference's sort values (connz.go), each also with "Desc". */
static const char *const sort_names[WK_CONN_SORT_COUNT] = {
	[WK_CONN_SORT_ID] = "id", [WK_CONN_SORT_IN_MSG] = "inMsg",
	[WK_CONN_SORT_OUT_MSG] = "outMsg", [WK_CONN_SORT_IN_MSG_BYTES] = "inMsgBytes",
	[WK_CONN_SORT_OUT_MSG_BYTES] = "outMsgBytes",
	[WK_CONN_SORT_PENDING_BYTES] = "pendingBytes", [WK_CONN_SORT_UPTIME] = "uptime",
	[WK_CONN_SORT_IDLE] = "idle", [WK_CONN_SORT_IN_PACKET] = "inPacket",
	[WK_CONN_SORT_OUT_PACKET] = "outPacket", [WK_CONN_SORT_IN_PACKET_BYTES] = "inPacketBytes",
	[WK_CONN_SORT_OUT_PACKET_BYTES] = "outPacketBytes",
	[WK_CONN_SORT_PROTO_VERSION] = "protoVersion",
};

/* What a listing asked for, kept across the round (r->ctx). */
struct connz {
	int varz;                    /* /varz?show=conn: the varz object around it */
	int sort, desc;
	long offset, limit;
};

/* A sort value: 0, or -1 when unknown (the reference then leaves the
 * order alone; here it is by id). */
static int
parse_sort(const char *s, int *sort, int *desc)
{
	size_t n = strlen(s);

	*sort = WK_CONN_SORT_ID;
	*desc = 0;
	if (n > 4 && strcmp(s + n - 4, "Desc") == 0) {
		*desc = 1;
		n -= 4;
	}
	for (int i = 0; i < WK_CONN_SORT_COUNT; i++)
		if (strlen(sort_names[i]) == n && strncmp(s, sort_names[i], n) == 0) {
			*sort = i;
			return 0;
		}
	*desc = 0;
	return -1;
}

/* A Go time.Time as encoding/json writes it (RFC 3339, nanoseconds with
 * trailing zeros cut, local zone, "Z" for UTC). */
static json_t *
go_time(int64_t sec, long nsec)
{
	char buf[96], frac[16] = "", zone[32];
	time_t t = (time_t)sec;
	struct tm tm;

	localtime_r(&t, &tm);
	if (nsec) {
		int n = snprintf(frac, sizeof frac, ".%09ld", nsec);
		while (n > 1 && frac[n - 1] == '0')
			frac[--n] = '\0';
	}
	if (tm.tm_gmtoff == 0)
		snprintf(zone, sizeof zone, "Z");
	else
		snprintf(zone, sizeof zone, "%c%02ld:%02ld", tm.tm_gmtoff < 0 ? '-' : '+',
		    labs(tm.tm_gmtoff) / 3600, labs(tm.tm_gmtoff) / 60 % 60);
	strftime(buf, sizeof buf - 48, "%Y-%m-%dT%H:%M:%S", &tm);
	strcat(buf, frac);
	strcat(buf, zone);
	return json_string(buf);
}

/* The reference's device text: "App(主)", "Web(从)"... */
static json_t *
device_name(uint8_t flag, uint8_t level)
{
	static const char *const names[] = { "App", "Web", "PC" };
	char buf[32];

	snprintf(buf, sizeof buf, "%s(%s)", flag < 3 ? names[flag] : "未知",
	    level == WKPROTO_DEVICE_LEVEL_SLAVE ? "从" : "主");
	return json_string(buf);
}

/* One row as the reference's ConnInfo. */
static json_t *
conn_info(const struct wk_connrow *c, int64_t now_ms)
{
	char up[64], idle[64];
	json_t *o = json_object();

	api_uptime(up, sizeof up, now_ms > (int64_t)c->connected_ms ? now_ms - c->connected_ms : 0);
	/* The reference keeps activity in whole seconds. */
	api_uptime(idle, sizeof idle, now_ms / 1000 > (int64_t)c->last_ms / 1000 ?
	    (uint64_t)(now_ms / 1000 - (int64_t)c->last_ms / 1000) * 1000 : 0);
	json_object_set_new(o, "id", json_integer((json_int_t)c->id));
	json_object_set_new(o, "uid", json_string(c->uid));
	json_object_set_new(o, "ip", json_string(c->ip));
	json_object_set_new(o, "port", json_integer(c->port));
	json_object_set_new(o, "last_activity", go_time((int64_t)c->last_ms / 1000, 0));
	json_object_set_new(o, "uptime", json_string(up));
	json_object_set_new(o, "idle", json_string(idle));
	json_object_set_new(o, "pending_bytes", json_integer(c->pending));
	json_object_set_new(o, "in_msgs", json_integer((json_int_t)c->n[WK_CONN_IN_MSGS]));
	json_object_set_new(o, "out_msgs", json_integer((json_int_t)c->n[WK_CONN_OUT_MSGS]));
	json_object_set_new(o, "in_msg_bytes", json_integer((json_int_t)c->n[WK_CONN_IN_MSG_BYTES]));
	json_object_set_new(o, "out_msg_bytes", json_integer((json_int_t)c->n[WK_CONN_OUT_MSG_BYTES]));
	json_object_set_new(o, "in_packets", json_integer((json_int_t)c->n[WK_CONN_IN_PACKETS]));
	json_object_set_new(o, "out_packets", json_integer((json_int_t)c->n[WK_CONN_OUT_PACKETS]));
	json_object_set_new(o, "in_packet_bytes", json_integer((json_int_t)c->n[WK_CONN_IN_PACKET_BYTES]));
	json_object_set_new(o, "out_packet_bytes", json_integer((json_int_t)c->n[WK_CONN_OUT_PACKET_BYTES]));
	json_object_set_new(o, "device", device_name(c->device_flag, c->device_level));
	json_object_set_new(o, "device_id", json_string(c->device_id));
	json_object_set_new(o, "version", json_integer(c->version));
	json_object_set_new(o, "proxy_type_format", json_string("本地连接"));
	json_object_set_new(o, "leader_id", json_integer(1001));
	json_object_set_new(o, "node_id", json_integer(1001));
	return o;
}

static int merge_sort, merge_desc;

static int
merge_cmp(const void *a, const void *b)
{
	return wk_connrow_cmp(a, b, merge_sort, merge_desc);
}

/* Every broker answered: merge, page, answer. */
static void
connz_then(struct wk_proc *p, struct api_req *r)
{
	struct connz *q = r->ctx;
	struct wk_connrow *rows = NULL;
	size_t nrows = 0, cap = 0;
	uint64_t total = 0;
	struct timespec now;
	int64_t now_ms;
	json_t *list = json_array(), *o;

	for (int i = 0; i < r->nparts; i++) {
		struct wk_rbuf rb;
		uint32_t n;
		api_op_read(r, i, &rb);
		total += wk_get_u32(&rb);
		(void)wk_get_u32(&rb);          /* matched: the reference's total is all */
		n = wk_get_u32(&rb);
		for (uint32_t k = 0; k < n && !rb.err; k++) {
			if (nrows == cap) {
				cap = cap ? 2 * cap : 64;
				rows = wk_realloc(rows, cap * sizeof *rows);
			}
			wk_connrow_get(&rb, &rows[nrows++]);
		}
		if (wk_rbuf_done(&rb) < 0)
			api_op_malformed(r, i);
	}
	merge_sort = q->sort;
	merge_desc = q->desc;
	if (nrows > 1)
		qsort(rows, nrows, sizeof *rows, merge_cmp);
	clock_gettime(CLOCK_REALTIME, &now);
	now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	for (size_t i = (size_t)q->offset; i < nrows && i < (size_t)(q->offset + q->limit); i++)
		json_array_append_new(list, conn_info(&rows[i], now_ms));
	free(rows);
	if (q->varz) {
		o = api_varz(p);
		json_object_set_new(o, "conns", list);
	} else
		o = json_pack("{s:o,s:o,s:I,s:I,s:I}", "connections", list,
		    "now", go_time(now.tv_sec, now.tv_nsec), "total", (json_int_t)total,
		    "offset", (json_int_t)q->offset, "limit", (json_int_t)q->limit);
	api_answer_json(r, 200, o);
}

/* Ask every broker for its first offset+limit connections in q's order. */
static void
connz_ask(struct wk_proc *p, struct api_req *r, struct connz *q, const char *uid)
{
	struct wk_wbuf b;
	long max = q->offset + q->limit;

	r->ctx = q;
	r->ctx_free = free;
	wk_wbuf_init(&b);
	wk_put_str(&b, uid);
	wk_put_u8(&b, (uint8_t)q->sort);
	wk_put_u8(&b, (uint8_t)q->desc);
	wk_put_u32(&b, (uint32_t)(max > CONNZ_ROWS_MAX ? CONNZ_ROWS_MAX : max));
	for (int i = 0; i < p->cfg.processes_broker; i++)
		if (api_ask_op(p, r, WK_ROLE_BROKER, i, WK_MSG_BROKER_CONN_LIST, &b, connz_then) < 0)
			break;
	wk_wbuf_free(&b);
}

/* A query integer as Go's strconv.ParseInt with its error ignored: 0
 * when absent or bad. */
static long
query_long(struct api_req *r, const char *name)
{
	const char *s = api_query(r, name);
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return 0;
	v = strtol(s, &end, 10);
	return *end ? 0 : v;
}

/* GET /connz?sort=&offset=&limit=&uid= */
void
api_route_connz(struct wk_proc *p, struct api_req *r)
{
	struct connz *q = wk_calloc(1, sizeof *q);
	const char *uid = api_query_str(r, "uid"), *sort = api_query_str(r, "sort");

	q->offset = query_long(r, "offset");
	q->limit = query_long(r, "limit");
	if (q->limit <= 0)
		q->limit = CONNZ_DEFAULT_LIMIT;
	if (q->offset < 0)
		q->offset = 0;
	if (q->offset > CONNZ_ROWS_MAX)
		q->offset = CONNZ_ROWS_MAX;
	if (q->limit > CONNZ_ROWS_MAX)
		q->limit = CONNZ_ROWS_MAX;
	if (*sort)
		parse_sort(sort, &q->sort, &q->desc);
	if (api_check_len(r, "uid", uid) < 0) {
		free(q);
		return;
	}
	connz_ask(p, r, q, api_is_blank(uid) ? "" : uid);
}

/* GET /varz?show=conn&conn_limit= */
void
api_route_varz(struct wk_proc *p, struct api_req *r)
{
	struct connz *q;

	if (strcmp(api_query_str(r, "show"), "conn") != 0) {
		api_answer_json(r, 200, api_varz(p));
		return;
	}
	q = wk_calloc(1, sizeof *q);
	q->varz = 1;
	q->sort = WK_CONN_SORT_IN_MSG;
	q->desc = 1;
	q->limit = query_long(r, "conn_limit");
	if (q->limit <= 0 || q->limit > CONNZ_ROWS_MAX)
		q->limit = q->limit <= 0 ? CONNZ_DEFAULT_LIMIT : CONNZ_ROWS_MAX;
	connz_ask(p, r, q, "");
}

/* /conn/kick and /conn/remove: {"uid","conn_id","node_id","op_node_id"};
 * every broker is told, the one that has it closes it; OK either way. */
static void
conn_close(struct wk_proc *p, struct api_req *r, int kick)
{
	struct api_in in = { r, NULL, "struct { Uid string; ConnID int64; NodeId uint64; OpNodeId uint64 }" };
	const char *uid;
	json_int_t id, node;

	if ((in.o = api_body_json(r, JSON_OBJECT, in.type)) == NULL)
		return;
	if (api_in_str(&in, "uid", &uid) == 0 &&
	    api_in_int(&in, "conn_id", "int64", API_GO_INT_MIN, API_GO_INT_MAX, &id) == 0 &&
	    api_in_int(&in, "node_id", "uint64", 0, API_GO_INT_MAX, &node) == 0 &&
	    api_in_int(&in, "op_node_id", "uint64", 0, API_GO_INT_MAX, &node) == 0 &&
	    api_check_len(r, "uid", uid) == 0) {
		if (id == 0)
			api_answer_error(r, 400, "conn_id is 0");
		else {
			struct wk_wbuf b;
			wk_wbuf_init(&b);
			wk_put_u64(&b, (uint64_t)id);
			wk_put_str(&b, uid);
			wk_put_u8(&b, (uint8_t)kick);
			for (int i = 0; i < p->cfg.processes_broker; i++)
				if (api_ask_op(p, r, WK_ROLE_BROKER, i, WK_MSG_BROKER_CONN_CLOSE, &b,
				    api_then_ok) < 0)
					break;
			wk_wbuf_free(&b);
		}
	}
	json_decref(in.o);
}

void
api_route_conn_kick(struct wk_proc *p, struct api_req *r)
{
	conn_close(p, r, 1);
}

void
api_route_conn_remove(struct wk_proc *p, struct api_req *r)
{
	conn_close(p, r, 0);
}
