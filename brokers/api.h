/* api.h - wk-api's private interfaces between its files (wk-api(8)).
 *   api.c         main, dispatch table (API_REP), the requests waiting on
 *                 shards: correlation ids, scatter/gather, the timeout
 *   api_http.c    libmicrohttpd inside the skeleton's loop: listener, request
 *                 bodies, manager token, CORS, answers
 *   api_routes.c  the route table, request validation, the handlers
 */
#ifndef API_H
#define API_H
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "presence.h"
#include "wk_proc.h"

#define API_BODY_MAX (1024 * 1024)   /* a larger request body is answered 413 */
#define API_SHARD_TIMEOUT_MS 5000    /* a shard silent this long: 500 "timeout" */
#define API_TICK_MS 100              /* how often waiting requests are checked */
#define API_CHANNEL_ID_MAX 1024      /* longest channel id or uid wk-channel stores (bytes) */

struct MHD_Connection;
struct MHD_Daemon;
struct api_req;

struct api_route {
	const char *method;
	const char *path;
	void (*fn)(struct wk_proc *p, struct api_req *r);
};

/* How the replies of a request sent to several shards become one answer. */
enum api_gather {
	API_GATHER_ALL,      /* the first reply that is not HTTP 200 wins, else the last */
	API_GATHER_UNION,    /* 200 replies are arrays of strings: their union, in order */
};

/* One HTTP request, from its headers until libmicrohttpd is done with it. */
struct api_req {
	struct MHD_Connection *conn;
	const struct api_route *route;
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
	/* Waiting on shards. */
	uint64_t corr;               /* 0 until the first part is sent */
	int waiting;                 /* replies still expected */
	enum api_gather gather;
	unsigned rep_status;
	char *rep_body;              /* API_GATHER_ALL: the reply kept */
	size_t rep_len;
	json_t *rep_union;           /* API_GATHER_UNION: the array so far */
	uint64_t deadline_ms;
	struct api_req *prev, *next; /* pending list, oldest first */
	struct api_req *hnext;       /* corr hash chain */
};

#define API_NBUCKETS 1024

struct api_state {
	struct MHD_Daemon *mhd;
	int mhd_fd;                  /* libmicrohttpd's epoll descriptor */
	uint64_t mhd_timer;          /* wk_loop timer id for MHD_get_timeout, 0 none */
	uint64_t mhd_timer_at;       /* when it fires */
	int mhd_dirty;               /* run libmicrohttpd before the loop sleeps */
	struct presence presence;
	uint64_t next_corr;
	struct api_req *head, *tail; /* waiting on shards, by deadline */
	struct api_req *buckets[API_NBUCKETS];
	size_t npending;
	uint64_t requests, timeouts;
};

static inline struct api_state *api_state(struct wk_proc *p) { return p->state; }

/* ---- api.c ---- */
/* Send one part of r (op, JSON body; body is not consumed) to mailbox
 * shard `shard` with routing key `key`; r is answered when every part has
 * replied.  0, or -1 after answering r with 500. */
int api_ask(struct wk_proc *p, struct api_req *r, int shard, uint32_t key, const char *op,
    const json_t *body, enum api_gather gather);
/* The same to shard `shard` of `role` (WK_ROLE_MAILBOX or WK_ROLE_CHANNEL). */
int api_ask_role(struct wk_proc *p, struct api_req *r, int role, int shard, uint32_t key,
    const char *op, const json_t *body, enum api_gather gather);
/* Forget r if it waits on shards (its connection is going away). */
void api_pending_drop(struct wk_proc *p, struct api_req *r);
/* Answer every waiting request with 500 (shutdown). */
void api_pending_abort(struct wk_proc *p, const char *msg);

/* ---- api_http.c ---- */
int api_http_start(struct wk_proc *p);
void api_http_stop(struct wk_proc *p);
/* Run libmicrohttpd if something is due (once per loop iteration). */
void api_http_iteration(struct wk_proc *p);
/* r has its answer: wake its suspended connection. */
void api_http_resume(struct wk_proc *p, struct api_req *r);
/* A query argument of the request, or NULL. */
const char *api_query(struct api_req *r, const char *name);
/* Set the answer; body is malloc'd and taken over (NULL for none). */
void api_answer(struct api_req *r, unsigned status, const char *ctype, char *body, size_t len);
/* Answer with a JSON value (reference taken over), compact. */
void api_answer_json(struct api_req *r, unsigned status, json_t *body);
/* {"msg":msg,"status":status} with HTTP status `status`. */
void api_answer_error(struct api_req *r, unsigned status, const char *msg);
/* 200 {"status":200}. */
void api_answer_ok(struct api_req *r);

/* ---- api_routes.c ---- */
/* The route for (method, path), or NULL. */
const struct api_route *api_route_find(const char *method, const char *path);

#endif
