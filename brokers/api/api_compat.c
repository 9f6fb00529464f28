/* api_compat.c - the reference's routes that wk answers without doing
 * their work (wk-api(8), "Reference routes"): the documentation routes as
 * the reference answers them in release mode, and the "not supported"
 * answer, in the reference's error envelope, for routes of its cluster,
 * plugins, manager console and tag cache.  A business server that calls
 * one gets a 400 with a reason it can log, not a 404 it may take for a
 * wrong address.
 */
#include <stdio.h>
#include <stdlib.h>
#include "api.h"
#include "wk_alloc.h"

void
api_route_unsupported(struct wk_proc *p, struct api_req *r)
{
	char *msg = wk_asprintf("not supported: %s", r->route->why);

	(void)p;
	api_answer_error(r, 400, msg);
	free(msg);
}

/* The reference serves Swagger only in debug mode; wk has none to serve. */
void
api_route_docs(struct wk_proc *p, struct api_req *r)
{
	api_answer_json(r, 403, json_pack("{s:s,s:s,s:s,s:s}",
	    "error", "Documentation endpoints are disabled in release mode",
	    "message", "API documentation is only available in development mode for security reasons",
	    "mode", p->cfg.mode,
	    "suggestion", "To access documentation, run the server in debug mode or check the static documentation files"));
}

void
api_route_docs_health(struct wk_proc *p, struct api_req *r)
{
	api_answer_json(r, 200, json_pack("{s:s,s:s,s:s,s:s}", "status", "disabled",
	    "service", "docs", "mode", p->cfg.mode,
	    "description", "Documentation service is disabled in release mode"));
}
