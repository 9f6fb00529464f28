/* api_console.c - what the console (manager.addr) and the demo chat
 * (demo.addr) answer (wk-api(8), CONSOLE and DEMO CHAT).
 *
 * Both serve pages embedded in wk-api at build time (api_assets.c, made
 * by scripts/embed from brokers/api/console/ and brokers/api/demo/), so an
 * installed wk needs no files beside its binaries and a browser fetches
 * nothing from the network.
 *
 * The console's own routes are /manager/login (the reference's) and
 * /console/tree (api_console_tree.c); every route of the HTTP API is there
 * too, for a logged-in session (api_console_auth.c) instead of the manager
 * token, so the pages call /metrics, /connz, /channel/... same-origin.
 * A read-only session gets 403 from a route that changes something.  The
 * demo serves its pages and the open routes (/route: where the SDK
 * connects). */
#include <string.h>
#include <microhttpd.h>
#include "api.h"
#include "wk_alloc.h"

static const struct api_route console_routes[] = {
	{ "POST", "/manager/login", api_route_manager_login, 1, NULL },
	{ "GET", "/console/tree", api_route_console_tree, 0, NULL },
};

/* POST routes of the API that only read: a read-only session may call them. */
static const char *const read_posts[] = {
	"/channel/messagesync", "/messages", "/message", "/conversation/sync",
	"/conversation/syncByChannels", "/conversation/channels", "/user/onlinestatus",
	"/route/batch",
};

int
api_console_route_reads(const struct api_route *rt)
{
	if (strcmp(rt->method, "GET") == 0)
		return 1;
	for (size_t i = 0; i < sizeof read_posts / sizeof read_posts[0]; i++)
		if (strcmp(rt->path, read_posts[i]) == 0)
			return 1;
	return 0;
}

static const char *
content_type(const char *path)
{
	static const struct { const char *ext, *type; } types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".svg", "image/svg+xml" },
		{ ".txt", "text/plain; charset=utf-8" },
	};
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

/* Answer GET url with the embedded file <dir><url> (<dir>/index.html for
 * "/"): 1, or 0 if there is none.  Names are matched exactly against the
 * table, so no path leaves it. */
static int
serve_asset(struct api_req *r, const char *dir, const char *url)
{
	char name[256];
	size_t dl = strlen(dir), ul = strlen(url);

	if (url[0] != '/' || dl + ul + sizeof "index.html" > sizeof name)
		return 0;
	memcpy(name, dir, dl);
	memcpy(name + dl, url, ul + 1);
	if (url[ul - 1] == '/')
		memcpy(name + dl + ul, "index.html", sizeof "index.html");
	for (unsigned i = 0; i < api_nassets; i++)
		if (strcmp(api_assets[i].path, name) == 0) {
			char *body = wk_malloc(api_assets[i].len + 1);
			memcpy(body, api_assets[i].data, api_assets[i].len);
			api_answer(r, 200, content_type(name), body, api_assets[i].len);
			return 1;
		}
	return 0;
}

static const struct api_route *
console_route(const char *method, const char *url)
{
	for (size_t i = 0; i < sizeof console_routes / sizeof console_routes[0]; i++)
		if (strcmp(console_routes[i].path, url) == 0 &&
		    strcmp(console_routes[i].method, method) == 0)
			return &console_routes[i];
	return NULL;
}

static void
not_found(struct api_req *r)
{
	api_answer(r, MHD_HTTP_NOT_FOUND, "text/plain", wk_strdup("404 page not found"), 18);
}

void
api_console_headers(struct wk_proc *p, struct api_req *r, const char *method, const char *url)
{
	const struct api_route *rt;
	int is_get = strcmp(method, "GET") == 0;
	int s;

	if (r->lis->face == API_FACE_DEMO) {
		if (is_get && serve_asset(r, "demo", url))
			return;
		if ((rt = api_route_find(method, url)) != NULL && rt->open)
			r->route = rt;
		else
			not_found(r);
		return;
	}
	if (is_get && serve_asset(r, "console", url))
		return;
	rt = console_route(method, url);
	if (rt && rt->open) {
		r->route = rt;
		return;
	}
	/* The reference's words for a request without a valid session. */
	if ((s = api_console_session(p, r)) < 0) {
		api_answer_json(r, MHD_HTTP_UNAUTHORIZED, json_pack("{s:s}", "error",
		    "Authorization header is required"));
		return;
	}
	r->session_write = s;
	if (rt == NULL)
		rt = api_route_find(method, url);
	/* Read-only: only routes that read, and unknown ones only by GET. */
	if (!s && (rt ? !api_console_route_reads(rt) : !is_get)) {
		api_answer_error(r, MHD_HTTP_FORBIDDEN, "read-only user: this route changes data");
		return;
	}
	if (rt == NULL)
		not_found(r);
	else
		r->route = rt;
}
