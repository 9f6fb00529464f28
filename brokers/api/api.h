/* api.h - wk-api's private interfaces between its files (wk-api(8)).
 *   api.c         main, dispatch table (API_ANSWER), the requests waiting on
 *                 shards: correlation ids, scatter/gather, the timeout
 *   api_http.c    libmicrohttpd inside the skeleton's loop: listener, request
 *                 bodies, manager token, CORS, answers
 *   api_routes.c  the route table
 *   api_json.c    reading a request body as Go's encoding/json would
 *   api_user.c    /health, /route, /user/...
 *   api_channel.c the /channel routes
 *   api_message.c the message routes
 *   api_msgresp.c messages of the channel shards' answers as MessageResp JSON
 *   api_conv.c    conversations (cursor routes, membership rows) and the cmd mailbox
 *   api_convsync.c /conversation/sync and syncByChannels (the last-message table)
 *   api_stream.c  the stream message routes (/message/event, /message/eventsync)
 *   api_metrics.c /metrics and /varz: the statistics segment (stats.h)
 *   api_connz.c   /connz, /conn/kick, /conn/remove: asked of the brokers
 */
#ifndef API_H
#define API_H
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "lastmsg.h"
#include "presence.h"
#include "stats.h"
#include "wk_chmsg.h"
#include "wk_buf.h"
#include "wk_proc.h"

#define API_BODY_MAX (1024 * 1024)   /* a larger request body is answered 413 */
#define API_JSON "application/json; charset=utf-8"
#define API_SHARD_TIMEOUT_MS 5000    /* a shard silent this long: 500 "timeout" */
#define API_RESEND_MS 1000           /* in a cluster: a resendable part asked again, every */
#define API_TICK_MS 100              /* how often waiting requests are checked */
#define API_CHANNEL_ID_MAX 1024      /* longest channel id or uid wk-channel stores (bytes) */
#define API_TOKEN_MAX 512            /* a token this long or longer is refused (wk-mailbox keeps 511) */
#define API_GO_INT_MIN INT64_MIN         /* Go's int on 64-bit platforms */
#define API_GO_INT_MAX INT64_MAX

struct MHD_Connection;
struct MHD_Daemon;
struct api_req;

struct api_route {
	const char *method;
	const char *path;
	void (*fn)(struct wk_proc *p, struct api_req *r);
	int open;                    /* 1: no manager token ever (/health, /route) */
	const char *why;             /* api_route_unsupported: why wk does not have it */
};

/* One shard's API_ANSWER to a part of a request: the op's binary answer
 * (its row in wk_msgtypes.h), without the status. */
struct api_part {
	unsigned status;             /* 0: no answer yet */
	uint8_t *data;
	size_t len;
	/* What was asked, kept when the request may be asked again. */
	int role, shard, type;
	uint8_t *req;
	size_t req_len;
	int asked, failed;           /* passes made; of their answers, failures */
};

struct api_req;
struct wk_proc;
/* Every part of a round answered 200; r->ops[0..nparts) holds the answers
 * in the order asked.  It answers r, or asks another round of shards. */
typedef void api_then_fn(struct wk_proc *p, struct api_req *r);

/* One HTTP request, from its headers until libmicrohttpd is done with it. */
struct api_req {
	struct MHD_Connection *conn;
	struct api_listener *lis;    /* the listener it came in on */
	int session_write;           /* console: the session may change things */
	const struct api_route *route;
	char *path;                  /* the URL's path (routes with * segments read it) */
	char *body;                  /* the request body, NUL-terminated */
	size_t len, cap;
	int too_big;                 /* the body passed API_BODY_MAX */
	int started;                 /* the handler ran */
	int suspended;
	/* The answer, once known. */
	int answered;
	unsigned status;
	char *resp;                  /* malloc'd; handed to libmicrohttpd */
	size_t resp_len;
	const char *ctype;           /* NULL: no Content-Type (empty bodies) */
	int cors;                    /* add the CORS headers */
	unsigned retry_after;        /* > 0: a Retry-After header, in seconds */
	/* Waiting on shards. */
	uint64_t corr;               /* 0 until the first part is sent */
	int waiting;                 /* answers still expected */
	struct api_part *ops;        /* the answers by part */
	int ops_n, ops_cap;          /* parts holding answers; allocated */
	int nparts;                  /* parts asked in this round */
	api_then_fn *then;           /* what to do with them */
	void *ctx;                   /* the route's state across rounds */
	void (*ctx_free)(void *ctx); /* how to free it when r goes away */
	uint64_t deadline_ms;
	/* In a cluster, a master may die with the request: asked again every
	 * API_RESEND_MS until answered if the route says that is safe (a stored
	 * message: its client_msg_no makes a second ask find the first). */
	int resendable;
	uint64_t resend_ms;          /* when to ask again */
	struct api_req *prev, *next; /* pending list, oldest first */
	struct api_req *hnext;       /* corr hash chain */
};

#define API_NBUCKETS 1024

/* What a listener serves: the HTTP API (httpAddr), the console
 * (manager.addr: its pages, /manager/login, the API for a logged-in
 * session) or the demo chat (demo.addr: its pages and /route). */
enum api_face { API_FACE_API, API_FACE_CONSOLE, API_FACE_DEMO, API_NFACES };

/* One libmicrohttpd daemon and its place in the skeleton's loop. */
struct api_listener {
	struct wk_proc *p;
	enum api_face face;
	const char *addr;            /* the configured address (for logs) */
	struct MHD_Daemon *mhd;      /* NULL: not serving */
	int mhd_fd;                  /* libmicrohttpd's epoll descriptor */
	uint64_t mhd_timer;          /* wk_loop timer id for MHD_get_timeout, 0 none */
	uint64_t mhd_timer_at;       /* when it fires */
	int mhd_dirty;               /* run libmicrohttpd before the loop sleeps */
};

struct api_console;

struct api_state {
	struct api_listener lis[API_NFACES];
	struct api_console *console; /* sessions (api_console_auth.c) */
	struct presence presence;
	struct lastmsg lastmsg;      /* hdr NULL: none, every conversation asks its shard */
	struct stats stats;          /* hdr NULL: none (wk-api run by hand) */
	uint64_t next_corr;
	struct api_req *head, *tail; /* waiting on shards, by deadline */
	struct api_req *buckets[API_NBUCKETS];
	size_t npending;
	uint64_t requests, timeouts, resends;
	/* When each shard (role, instance < 256) last answered anything: one
	 * that answers is slow, not gone, and is not asked twice. */
	uint64_t answered_ms[WK_ROLE_COUNT][256];
	char *admin_token;           /* the generated token (api_auth.c), or NULL */
};

static inline struct api_state *api_state(struct wk_proc *p) { return p->state; }

/* ---- api.c ---- */
/* Send op row `type` (payload req, not consumed) to shard `shard` of role
 * as part of r; when every part of the round has answered, the first
 * error answers r, else then(p, r) reads r->ops[0..nparts) (api_op_read)
 * and answers r or asks another round: it reads what it needs of the
 * answers first, since asking the next round frees them.  0, or -1 after answering r 500. */
int api_ask_op(struct wk_proc *p, struct api_req *r, int role, int shard, int type,
    const struct wk_wbuf *req, api_then_fn *then);
/* The same to the shard of `role` owning key (a uid or a channel id). */
int api_ask_op_owner(struct wk_proc *p, struct api_req *r, int role, const char *key, int type,
    const struct wk_wbuf *req, api_then_fn *then);
/* A JSON array of strings as a list (u32 n, then n strings). */
void api_put_strs(struct wk_wbuf *b, json_t *strs);
/* A reader over the answer of part i. */
void api_op_read(const struct api_req *r, int i, struct wk_rbuf *rb);
/* The answer of part i when it is one u32 (a seq). */
uint32_t api_op_u32(const struct api_req *r, int i);
/* Free the answers of r's last round. */
void api_ops_free(struct api_req *r);
/* A then for ops whose answer is empty: 200 {"status":200}. */
void api_then_ok(struct wk_proc *p, struct api_req *r);
/* Keep o (reference taken over) as r's state across rounds (r->ctx): what
 * a then needs of the request. */
void api_ctx_keep(struct api_req *r, json_t *o);
/* The key that starts a channel op row: str channel_id, u8 channel_type. */
void api_put_key(struct wk_wbuf *w, const char *id, json_int_t type);
/* Forget r if it waits on shards (its connection is going away). */
void api_pending_drop(struct wk_proc *p, struct api_req *r);
/* Answer every waiting request with 500 (shutdown). */
void api_pending_abort(struct wk_proc *p, const char *msg);

/* ---- api_auth.c ---- */
/* At start: the generated manager token, when it applies. */
void api_auth_start(struct wk_proc *p);
void api_auth_stop(struct wk_proc *p);
/* 1 if r may use a route that is not open: the configured managerToken from
 * anyone, else the generated one from clients not on loopback. */
int api_auth_ok(struct wk_proc *p, struct api_req *r);
/* The secret a request may carry as its `token` header: the configured
 * managerToken, else the generated one; NULL when there is none. */
const char *api_auth_secret(struct wk_proc *p);
/* Constant-time comparison of a received secret with the expected one. */
int api_auth_equal(const char *got, const char *want);
/* ---- api_routes.c ---- */
/* 1 if some route at path is open (a pre-flight for it needs no token). */
int api_route_is_open(const char *path);

/* ---- api_assets.c (made by scripts/embed): the console's and the demo's files ---- */
struct api_asset {
	const char *path;            /* "console/index.html" */
	const unsigned char *data;
	unsigned len;
};
extern const struct api_asset api_assets[];
extern const unsigned api_nassets;

/* ---- api_console.c, api_console_auth.c, api_console_tree.c: the console and the demo ---- */
/* Decide a console or demo request at its headers: answer it (a page,
 * 401, 403, 404) or set r->route. */
void api_console_headers(struct wk_proc *p, struct api_req *r, const char *method,
    const char *url);
/* The session of r's Authorization header (or the managerToken): -1 none,
 * 0 read-only, 1 may change things. */
int api_console_session(struct wk_proc *p, struct api_req *r);
/* 1 if a read-only session may call the API route (it changes nothing). */
int api_console_route_reads(const struct api_route *rt);
void api_route_manager_login(struct wk_proc *p, struct api_req *r);
void api_route_console_tree(struct wk_proc *p, struct api_req *r);
void api_console_stop(struct wk_proc *p);

/* ---- api_http.c ---- */
int api_http_start(struct wk_proc *p);
void api_http_stop(struct wk_proc *p);
/* Run libmicrohttpd if something is due (once per loop iteration). */
void api_http_iteration(struct wk_proc *p);
/* r has its answer: wake its suspended connection. */
void api_http_resume(struct wk_proc *p, struct api_req *r);
/* A query argument of the request, or NULL. */
const char *api_query(struct api_req *r, const char *name);
/* The socket of r's connection, or -1. */
int api_conn_fd(struct api_req *r);
/* A request header (case-insensitive name), NULL if absent. */
const char *api_header(struct api_req *r, const char *name);
/* Set the answer; body is malloc'd and taken over (NULL for none). */
void api_answer(struct api_req *r, unsigned status, const char *ctype, char *body, size_t len);
/* Answer with a JSON value (reference taken over), compact. */
void api_answer_json(struct api_req *r, unsigned status, json_t *body);
/* {"msg":msg,"status":status} with HTTP status `status`. */
void api_answer_error(struct api_req *r, unsigned status, const char *msg);
/* The same with a Retry-After of secs seconds (429, 503). */
void api_answer_retry_after(struct api_req *r, unsigned status, const char *msg, unsigned secs);
/* 200 {"status":200}. */
void api_answer_ok(struct api_req *r);

/* ---- api_routes.c ---- */
/* The route for (method, path), or NULL; a * segment of a route's path
 * matches any one non-empty segment. */
const struct api_route *api_route_find(const char *method, const char *path);

/* Reading a request body the way Go's encoding/json reads it into the
 * reference's struct `type` (api_routes.c): each returns -1 after
 * answering 400 in Go's words. */
struct api_in {
	struct api_req *r;
	json_t *o;
	const char *type;
};
/* The reference's answer to a body it cannot read into its struct. */
#define API_BAD_DATA "数据格式有误！"
/* A query argument: channel_type (0 if absent or bad), a string ("" if absent). */
json_int_t api_query_type(struct api_req *r);
const char *api_query_str(struct api_req *r, const char *name);
/* The body as a JSON value of kind want (null: empty); NULL after 400. */
json_t *api_body_json(struct api_req *r, json_type want, const char *gotype);
/* A member: exact key first, then case-insensitive. */
json_t *api_in_get(const struct api_in *in, const char *key);
int api_in_str(struct api_in *in, const char *key, const char **out);
int api_in_int(struct api_in *in, const char *key, const char *gotype, json_int_t min, json_int_t max,
    json_int_t *out);
int api_in_strs(struct api_in *in, const char *key, json_t **out);
/* 0 if every item of a is a string, else -1 after answering 400. */
int api_all_strings(struct api_req *r, json_t *a, const char *type, const char *field);
int api_bad_type(struct api_req *r, const json_t *v, const char *type, const char *field,
    const char *gotype);
int api_is_blank(const char *s);
/* A uid or channel id longer than wk-channel stores: 400. */
int api_check_len(struct api_req *r, const char *what, const char *s);
/* Characters the reference refuses in a channel id. */
int api_has_special(const char *id);
/* The stored id of (id, type) as uid sees it: a person chat's "a@b". */
#define API_STORED_ID_MAX (2 * API_CHANNEL_ID_MAX + 2)
int api_stored_id(const char *uid, const char *id, json_int_t type, char *out);
/* The same for a message from `from`: also an agent channel's "from@agent". */
int api_send_id(const char *from, const char *id, json_int_t type, char *out);

/* ---- api_user.c: /health, /route, /user/... ---- */
void api_route_health(struct wk_proc *p, struct api_req *r);
void api_route_route(struct wk_proc *p, struct api_req *r);
void api_route_route_batch(struct wk_proc *p, struct api_req *r);
void api_route_user_token(struct wk_proc *p, struct api_req *r);
void api_route_user_device_quit(struct wk_proc *p, struct api_req *r);
void api_route_user_onlinestatus(struct wk_proc *p, struct api_req *r);
void api_route_sysuids_add(struct wk_proc *p, struct api_req *r);
void api_route_sysuids_remove(struct wk_proc *p, struct api_req *r);
void api_route_sysuids(struct wk_proc *p, struct api_req *r);
/* The client-facing addresses as /route answers them (r NULL: the external
 * ones and api_url, for /varz). */
json_t *api_route_addrs(struct wk_proc *p, struct api_req *r);

/* ---- api_cluster.c: /route across the hosts of a cluster ---- */
void api_cluster_tick(struct wk_proc *p);
void api_on_ping_rep(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg);
/* The host uid is sent to (one that is up), or 0: this host's own
 * addresses (one host, or no cluster.routes). */
int api_cluster_route_node(const struct wk_proc *p, const char *uid);
/* {"tcp_addr","ws_addr","wss_addr"} of node from cluster.routes. */
json_t *api_cluster_addrs(const struct wk_proc *p, int node);
int api_cluster_status(const struct wk_proc *p, char *buf, size_t len);

/* ---- api_metrics.c, api_connz.c: the operator's routes ---- */
void api_route_metrics(struct wk_proc *p, struct api_req *r);
void api_route_varz(struct wk_proc *p, struct api_req *r);
void api_route_connz(struct wk_proc *p, struct api_req *r);
void api_route_conn_kick(struct wk_proc *p, struct api_req *r);
void api_route_conn_remove(struct wk_proc *p, struct api_req *r);
/* The /varz object without its "conns". */
json_t *api_varz(struct wk_proc *p);
/* The reference's uptime text ("1h2m3s") of ms. */
void api_uptime(char *out, size_t len, uint64_t ms);

/* ---- api_channel.c: the /channel routes ---- */
void api_route_channel(struct wk_proc *p, struct api_req *r);
void api_route_channel_info(struct wk_proc *p, struct api_req *r);
void api_route_channel_delete(struct wk_proc *p, struct api_req *r);
void api_route_subscriber_add(struct wk_proc *p, struct api_req *r);
void api_route_subscriber_remove(struct wk_proc *p, struct api_req *r);
void api_route_subscriber_remove_all(struct wk_proc *p, struct api_req *r);
void api_route_list(struct wk_proc *p, struct api_req *r);
void api_route_whitelist_get(struct wk_proc *p, struct api_req *r);

/* ---- api_message.c: the message routes ---- */
void api_route_message_send(struct wk_proc *p, struct api_req *r);
void api_route_message_sendbatch(struct wk_proc *p, struct api_req *r);
void api_route_channel_messagesync(struct wk_proc *p, struct api_req *r);
void api_route_messages(struct wk_proc *p, struct api_req *r);
void api_route_message(struct wk_proc *p, struct api_req *r);
void api_route_message_byclientmsgno(struct wk_proc *p, struct api_req *r);
void api_route_max_message_seq(struct wk_proc *p, struct api_req *r);
void api_route_last_message(struct wk_proc *p, struct api_req *r);
/* A payload member ([]byte: base64 text, checked as Go decodes it); ""
 * when absent or null.  -1 after answering 400. */
int api_in_payload(struct api_in *in, const char **out);
/* The bytes of a payload api_in_payload accepted, as a blob. */
void api_put_payload(struct wk_wbuf *w, const char *b64);

/* ---- api_msgops.c: revoke, edit, retention (beyond the reference) ---- */
void api_route_message_revoke(struct wk_proc *p, struct api_req *r);
void api_route_message_edit(struct wk_proc *p, struct api_req *r);
void api_route_channel_retention(struct wk_proc *p, struct api_req *r);

/* ---- api_conv.c, api_convsync.c: conversations ---- */
/* A cmd twin ("<id>____cmd"): never a conversation of its own. */
int api_conv_is_cmd(const char *id, size_t n);
/* Round 1 of the conversation routes: the uid's rows (MAILBOX_CONV_ROWS),
 * at most max of them, newest update first (0: all); filter (0 none, 1
 * rows whose channel has a message, 2 a message after the read position;
 * wk_msgtypes.h) applies to a uid with at most filter_max rows. */
void api_conv_ask_rows(struct wk_proc *p, struct api_req *r, const char *uid, uint32_t max,
    uint8_t filter, uint32_t filter_max, api_then_fn *then);

/* ---- api_msgresp.c: messages in the channel shards' answers ---- */
/* One message (wk_chmsg, then its stream state, then what a revoke or an
 * edit left) as MessageResp; NULL and
 * rb->err if it does not decode. */
json_t *api_msg_get(struct wk_rbuf *rb);
/* u32 n, then n messages: a JSON array; NULL if it does not decode. */
json_t *api_msgs_get(struct wk_rbuf *rb);
/* One message of an answer, decoded without copying (its strings point
 * into the answer): what the MessageResp shows of it, and whether
 * wk_msgresp would make one (valid: its strings are UTF-8). */
struct wk_jw;
struct api_msgv {
	struct wk_chmsg m;
	const char *from;            /* from_uid as MessageResp shows it */
	size_t from_len;
	int valid, has_stream, has_extra;
	struct wk_rbuf at;           /* where it starts in the answer */
};
/* 0, or -1 (rb->err). */
int api_msgv_get(struct wk_rbuf *rb, struct api_msgv *v);
/* The MessageResp of v (a valid one), as api_msg_get and json_dumps. */
void api_msgv_write(struct wk_jw *w, const struct api_msgv *v);
/* A shard's answer to part i of r that does not decode: a bug there, fatal
 * as any bad internal message. */
void api_op_malformed(const struct api_req *r, int i) __attribute__((noreturn));

/* ---- api_compat.c: the reference's routes wk answers without doing ---- */
#define API_WHY_MANAGER "wk serves its console on manager.addr, not on the HTTP API (wk-api(8), CONSOLE)"
#define API_WHY_MIGRATE "wk has no WuKongIM v1 migration"
#define API_WHY_TAG "wk has no receiver-tag cache: members are read where they are stored"
#define API_WHY_PLUGIN "wk has no plugin system"
#define API_WHY_METRICS "the manager console's chart data; GET /metrics has the figures"
#define API_WHY_CLUSTER "wk runs on one host; it has no cluster to administer"
/* 400 {"msg":"not supported: <why>","status":400}, the reference's error
 * envelope, for the routes marked with a why. */
void api_route_unsupported(struct wk_proc *p, struct api_req *r);
/* /docs...: the reference's answers in release mode. */
void api_route_docs(struct wk_proc *p, struct api_req *r);
void api_route_docs_health(struct wk_proc *p, struct api_req *r);
void api_route_tmp_subscriber_set(struct wk_proc *p, struct api_req *r);
void api_route_conversation_sync_messages(struct wk_proc *p, struct api_req *r);
/* ---- api_import.c: what wkctl import reads and writes ---- */
void api_route_cluster_channels(struct wk_proc *p, struct api_req *r);
void api_route_cluster_list(struct wk_proc *p, struct api_req *r);
void api_route_message_import(struct wk_proc *p, struct api_req *r);

/* ---- api_stream.c: stream message routes ---- */
void api_route_message_event(struct wk_proc *p, struct api_req *r);
void api_route_message_eventsync(struct wk_proc *p, struct api_req *r);

/* ---- api_conv.c: conversations and cmd mailbox routes ---- */
void api_route_conversation_sync(struct wk_proc *p, struct api_req *r);
void api_route_conversation_sync_by_channels(struct wk_proc *p, struct api_req *r);
void api_route_conversation_channels(struct wk_proc *p, struct api_req *r);
void api_route_conversations_set_unread(struct wk_proc *p, struct api_req *r);
void api_route_conversations_clear_unread(struct wk_proc *p, struct api_req *r);
void api_route_conversations_delete(struct wk_proc *p, struct api_req *r);
void api_route_message_sync(struct wk_proc *p, struct api_req *r);
void api_route_message_syncack(struct wk_proc *p, struct api_req *r);
/* A membership change: op row `type` (payload req) to the shard of
 * channel (sid, ctype), then, once it answered 200, the members'
 * conversation rows: mode "reset" (read position at the channel's last
 * seq), "missing" (the same, only where there is no row) or "remove". */
void api_conv_members(struct wk_proc *p, struct api_req *r, int type, const struct wk_wbuf *req,
    const char *sid, json_int_t ctype, json_t *uids, const char *mode);

#endif
