/* api_user.c - the routes that need no channel: /route, /user/...
 * (wk-api(8)).  User ops go to the uid's mailbox shard; the system uid set
 * is kept whole by every mailbox shard, so that each can answer "is this a
 * system account" for any uid, and its changes go to all of them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "api.h"
#include "wk_cluster.h"
#include "wk_alloc.h"
#include "wk_chmsg.h"
#include "wk_log.h"
#include "wk_shard.h"


/* The port after the last ':' of a listen address, 0 if none (Go's ParseInt). */
static long
addr_port(const char *addr)
{
	const char *s = strrchr(addr, ':');
	char *end;
	long v;

	s = s ? s + 1 : addr;
	v = strtol(s, &end, 10);
	return *s && *end == '\0' ? v : 0;
}

/* A client-facing address: the configured one, or scheme://ip:port derived
 * from the listen address (scheme NULL: ip:port) as the reference does. */
static json_t *
external_addr(const char *configured, const char *listen, int with_scheme, const char *ip)
{
	char buf[512];

	if (!api_is_blank(configured))
		return json_string(configured);
	if (with_scheme)
		snprintf(buf, sizeof buf, "%.*s://%s:%ld", (int)strcspn(listen, ":"), listen, ip,
		    addr_port(listen));
	else
		snprintf(buf, sizeof buf, "%s:%ld", ip, addr_port(listen));
	return json_string(buf);
}

/* The host the client reached us by, when external.ip is not set: the
 * Host header without its port (a name or an address, "[v6]" kept), else
 * the local address of the accepted socket, else 127.0.0.1.  The reference
 * guesses its first intranet address instead, which a client elsewhere
 * cannot reach. */
static void
reached_host(struct api_req *r, char *out, size_t cap)
{
	const char *h = api_header(r, "Host"), *end;
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	int fd;

	if (h && *h && !api_is_blank(h)) {
		end = *h == '[' ? strchr(h, ']') : strrchr(h, ':');
		if (end && *end == ']')
			end++;
		if (end == NULL || end == h)
			end = h + strlen(h);
		if ((size_t)(end - h) < cap && strcspn(h, " \t/@") >= (size_t)(end - h)) {
			snprintf(out, cap, "%.*s", (int)(end - h), h);
			return;
		}
	}
	snprintf(out, cap, "127.0.0.1");
	if ((fd = api_conn_fd(r)) < 0 || getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return;
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, out, (socklen_t)cap);
	else if (ss.ss_family == AF_INET6 && cap > 2) {
		out[0] = '[';
		if (inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, out + 1,
		    (socklen_t)cap - 2) != NULL)
			strcat(out, "]");
		else
			snprintf(out, cap, "127.0.0.1");
	}
}

/* {"tcp_addr","ws_addr","wss_addr"} for /route and /route/batch; r NULL
 * (/varz): the external ones and "api_url" too. */
json_t *
api_route_addrs(struct wk_proc *p, struct api_req *r)
{
	const struct wk_config *c = &p->cfg;
	const char *q = r ? api_query(r, "intranet") : NULL, *ip;
	char host[256];
	json_t *o;

	if (q && atoi(q) == 1)
		return json_pack("{s:s,s:s,s:s}", "tcp_addr", c->intranet_tcpAddr,
		    "ws_addr", "", "wss_addr", "");
	if (!api_is_blank(c->external_ip))
		ip = c->external_ip;
	else if (r != NULL) {
		reached_host(r, host, sizeof host);
		ip = host;
	} else
		ip = "127.0.0.1";   /* /varz: no client to ask */
	o = json_pack("{s:o,s:o,s:o}",
	    "tcp_addr", external_addr(c->external_tcpAddr, c->addr, 0, ip),
	    "ws_addr", external_addr(c->external_wsAddr, c->wsAddr, 1, ip),
	    "wss_addr", api_is_blank(c->wssAddr) ? json_string(c->external_wssAddr) :
	    external_addr(c->external_wssAddr, c->wssAddr, 1, ip));
	if (r == NULL) {
		char url[512];
		snprintf(url, sizeof url, "http://%s:%ld", ip, addr_port(c->httpAddr));
		json_object_set_new(o, "api_url", json_string(api_is_blank(c->external_apiUrl) ?
		    url : c->external_apiUrl));
	}
	return o;
}

/* The addresses uid connects to: in a cluster with cluster.routes, a host
 * that is up, by the uid (api_cluster.c); else this host's. */
static json_t *
route_for(struct wk_proc *p, struct api_req *r, const char *uid)
{
	const char *q = api_query(r, "intranet");
	int node = q && atoi(q) == 1 ? 0 : api_cluster_route_node(p, uid);
	json_t *o = node ? api_cluster_addrs(p, node) : NULL;

	return o ? o : api_route_addrs(p, r);
}

/* GET /route?uid=: where a client connects (every broker serves every
 * user; a cluster spreads users over its hosts). */
void
api_route_route(struct wk_proc *p, struct api_req *r)
{
	api_answer_json(r, 200, route_for(p, r, api_query(r, "uid")));
}

/* Body: an array of uids; answer [{"tcp_addr",..,"uids":[...]}]. */
void
api_route_route_batch(struct wk_proc *p, struct api_req *r)
{
	json_t *uids = json_loadb(r->body, r->len, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, NULL);
	json_t *one;
	size_t i;
	json_t *v;

	if (uids == NULL || !(json_is_array(uids) || json_is_null(uids)))
		goto bad;
	json_array_foreach(uids, i, v)
		if (!json_is_string(v))
			goto bad;
	if (api_cluster_route_node(p, "x") == 0) {
		one = route_for(p, r, NULL);
		json_object_set_new(one, "uids", uids);
		api_answer_json(r, 200, json_pack("[o]", one));
		return;
	}
	/* One entry per host, with the uids it takes. */
	json_t *out = json_array(), *per[WK_CLUSTER_MAX + 1] = { NULL };
	json_array_foreach(uids, i, v) {
		int node = api_cluster_route_node(p, json_string_value(v));
		if (per[node] == NULL) {
			per[node] = route_for(p, r, json_string_value(v));
			json_object_set_new(per[node], "uids", json_array());
			json_array_append_new(out, per[node]);
		}
		json_array_append(json_object_get(per[node], "uids"), v);
	}
	json_decref(uids);
	api_answer_json(r, 200, out);
	return;
bad:
	json_decref(uids);
	api_answer_error(r, 400, "数据格式有误！");
}

/* The shard's answer: u16 the body's status (19: the user is banned). */
static void
token_then(struct wk_proc *p, struct api_req *r)
{
	struct wk_rbuf rb;
	uint16_t status;

	api_op_read(r, 0, &rb);
	status = wk_get_u16(&rb);
	if (wk_rbuf_done(&rb) < 0)
		wk_fatalx("MAILBOX_USER_TOKEN: malformed answer");
	api_answer_json(r, 200, json_pack("{s:i}", "status", status));
}

/* Validate as the reference does; the user's mailbox shard checks the ban,
 * stores the token and kicks. */
void
api_route_user_token(struct wk_proc *p, struct api_req *r)
{
	struct api_in in = { r, NULL, "UpdateTokenReq" };
	const char *uid, *token;
	json_int_t flag, level;

	if ((in.o = api_body_json(r, JSON_OBJECT, "api.UpdateTokenReq")) == NULL)
		return;
	if (api_in_str(&in, "uid", &uid) < 0 || api_in_str(&in, "token", &token) < 0 ||
	    api_in_int(&in, "device_flag", "wkproto.DeviceFlag", 0, 255, &flag) < 0 ||
	    api_in_int(&in, "device_level", "wkproto.DeviceLevel", 0, 255, &level) < 0)
		goto out;
	if (*uid == '\0')
		api_answer_error(r, 400, "uid不能为空！");
	else if (*token == '\0')
		api_answer_error(r, 400, "token不能为空！");
	else if (strpbrk(uid, "@#&") != NULL)
		api_answer_error(r, 400, "uid不能包含特殊字符！");
	else if (strcmp(uid, WK_SYSTEM_UID) == 0)
		api_answer_error(r, 400, "系统账号不允许更新token！");
	else if (strlen(token) >= API_TOKEN_MAX)
		api_answer_error(r, 400, "token is longer than 511 bytes");
	else if (api_check_len(r, "uid", uid) == 0) {
		struct wk_wbuf b;
		wk_wbuf_init(&b);
		wk_put_str(&b, uid);
		wk_put_str(&b, token);
		wk_put_u8(&b, (uint8_t)flag);
		wk_put_u8(&b, (uint8_t)level);
		api_ask_op_owner(p, r, WK_ROLE_MAILBOX, uid, WK_MSG_MAILBOX_USER_TOKEN, &b,
		    token_then);
		wk_wbuf_free(&b);
	}
out:
	json_decref(in.o);
}

/* No validation in the reference either: the shard clears and kicks. */
void
api_route_user_device_quit(struct wk_proc *p, struct api_req *r)
{
	struct api_in in = { r, NULL, "struct { UID string; DeviceFlag int }" };
	const char *uid;
	json_int_t flag;

	if ((in.o = api_body_json(r, JSON_OBJECT, in.type)) == NULL)
		return;
	if (api_in_str(&in, "uid", &uid) == 0 &&
	    api_in_int(&in, "device_flag", "int", API_GO_INT_MIN, API_GO_INT_MAX, &flag) == 0 &&
	    api_check_len(r, "uid", uid) == 0) {
		struct wk_wbuf b;
		wk_wbuf_init(&b);
		wk_put_str(&b, uid);
		wk_put_u64(&b, (uint64_t)flag);
		api_ask_op_owner(p, r, WK_ROLE_MAILBOX, uid, WK_MSG_MAILBOX_DEVICE_QUIT, &b,
		    api_then_ok);
		wk_wbuf_free(&b);
	}
	json_decref(in.o);
}

/* Body: an array of uids; one entry per live connection, read from the
 * presence table (no shard is asked). */
void
api_route_user_onlinestatus(struct wk_proc *p, struct api_req *r)
{
	static struct wk_ratelimit rl = WK_RATELIMIT_INIT(5);
	struct presence_conn conns[256];
	json_t *uids, *out, *v;
	size_t i;
	int n;

	if ((uids = api_body_json(r, JSON_ARRAY, "[]string")) == NULL)
		return;
	if (api_all_strings(r, uids, NULL, NULL) < 0)
		goto done;
	if (json_array_size(uids) == 0) {
		api_answer_ok(r);
		goto done;
	}
	out = json_array();
	json_array_foreach(uids, i, v) {
		n = PRESENCE_EBUSY;
		for (int attempt = 0; attempt < 3 && n == PRESENCE_EBUSY; attempt++)
			n = presence_lookup(&api_state(p)->presence, json_string_value(v), conns,
			    (int)(sizeof conns / sizeof conns[0]));
		if (n == PRESENCE_EBUSY)
			wk_log_limited(&rl, WK_LOG_WARN, "onlinestatus %s: presence busy",
			    json_string_value(v));
		for (int k = 0; k < n; k++)
			json_array_append_new(out, json_pack("{s:s,s:i,s:i}", "uid", conns[k].uid,
			    "device_flag", conns[k].device_flag, "online", 1));
	}
	api_answer_json(r, 200, out);
done:
	json_decref(uids);
}

/* /user/systemuids_add and _remove, round 2: the channel shards keep
 * their own copy (the members of the pseudo channel WK_SYSUID_CHANNEL/0)
 * for their permission checks; the answer waits for every shard of both
 * kinds. */
static void
sysuids_then_mailboxes(struct wk_proc *p, struct api_req *r)
{
	json_t *c = r->ctx;
	struct wk_wbuf w;

	wk_wbuf_init(&w);
	api_put_key(&w, WK_SYSUID_CHANNEL, 0);
	wk_put_u8(&w, 'm');
	wk_put_u8(&w, json_is_true(json_object_get(c, "add")) ? WK_CHANNEL_LIST_ADD :
	    WK_CHANNEL_LIST_REMOVE);
	api_put_strs(&w, json_object_get(c, "uids"));
	for (int sh = 0; sh < p->cfg.processes_channel; sh++)
		if (api_ask_op(p, r, WK_ROLE_CHANNEL, sh, WK_MSG_CHANNEL_LIST, &w, api_then_ok) < 0)
			break;               /* r was answered 500 */
	wk_wbuf_free(&w);
}

/* Round 1: every mailbox shard (each keeps the whole set). */
static void
sysuids_change(struct wk_proc *p, struct api_req *r, int type)
{
	struct api_in in = { r, NULL, "struct { UIDs []string }" };
	json_t *uids, *keep, *v;
	struct wk_wbuf b;
	size_t i;

	if ((in.o = api_body_json(r, JSON_OBJECT, in.type)) == NULL)
		return;
	if (api_in_strs(&in, "uids", &uids) == 0) {
		keep = json_array();
		json_array_foreach(uids, i, v)
			if (json_string_length(v) > 0)
				json_array_append(keep, v);
		if (json_array_size(keep) == 0)
			api_answer_ok(r);
		else {
			api_ctx_keep(r, json_pack("{s:O,s:b}", "uids", keep, "add",
			    type == WK_MSG_MAILBOX_SYSUID_ADD));
			wk_wbuf_init(&b);
			api_put_strs(&b, keep);
			for (int sh = 0; sh < p->cfg.processes_mailbox; sh++)
				if (api_ask_op(p, r, WK_ROLE_MAILBOX, sh, type, &b,
				    sysuids_then_mailboxes) < 0)
					break;
			wk_wbuf_free(&b);
		}
		json_decref(keep);
	}
	json_decref(in.o);
}

/* POST /user/systemuids_add: the uids join the set on every shard. */
void
api_route_sysuids_add(struct wk_proc *p, struct api_req *r)
{
	sysuids_change(p, r, WK_MSG_MAILBOX_SYSUID_ADD);
}

/* POST /user/systemuids_remove: the uids leave the set on every shard. */
void
api_route_sysuids_remove(struct wk_proc *p, struct api_req *r)
{
	sysuids_change(p, r, WK_MSG_MAILBOX_SYSUID_REMOVE);
}

/* Every mailbox shard keeps the whole set: their union, in order. */
static void
sysuids_then(struct wk_proc *p, struct api_req *r)
{
	json_t *out = json_array(), *seen = json_object();
	struct wk_rbuf rb;
	char **uids;
	uint32_t n;

	for (int i = 0; i < r->nparts; i++) {
		api_op_read(r, i, &rb);
		uids = wk_get_strs(&rb, &n);
		if (wk_rbuf_done(&rb) < 0)
			wk_fatalx("MAILBOX_SYSUID_LIST: malformed answer");
		for (uint32_t k = 0; k < n; k++)
			if (json_object_get(seen, uids[k]) == NULL) {
				json_object_set_new(seen, uids[k], json_true());
				json_array_append_new(out, json_string(uids[k]));
			}
		wk_strs_free(&uids);
	}
	json_decref(seen);
	api_answer_json(r, 200, out);
}

/* GET /user/systemuids: ask every mailbox shard for its set. */
void
api_route_sysuids(struct wk_proc *p, struct api_req *r)
{
	struct wk_wbuf b;

	wk_wbuf_init(&b);
	for (int sh = 0; sh < p->cfg.processes_mailbox; sh++)
		if (api_ask_op(p, r, WK_ROLE_MAILBOX, sh, WK_MSG_MAILBOX_SYSUID_LIST, &b,
		    sysuids_then) < 0)
			break;
	wk_wbuf_free(&b);
}
