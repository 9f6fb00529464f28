/* api_auth.c - who may use wk-api's admin routes (wk-api(8)).
 *
 * Every route but the open ones (/health, /route, /route/batch: load
 * balancers and SDKs) is an admin route:
 *   - managerToken set: the header `token` must equal it, from any client
 *     (the reference's behaviour);
 *   - else, managerTokenOn (the default): clients on loopback need nothing
 *     (a local app server keeps working unchanged), others must send the
 *     token wk-master generated into <rootDir>/managerToken;
 *   - managerTokenOn false: open to all (wk-master warns at every start).
 * Tokens are compared in constant time. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include "api.h"
#include "wk_alloc.h"
#include "wk_log.h"

/* A token of only white space counts as unset, as in wk.yaml. */
static int
token_blank(const char *t)
{
	return t[strspn(t, " \t\r\n")] == '\0';
}

/* Read <rootDir>/managerToken into st->admin_token; quiet when `quiet`. */
static void
load_token(struct wk_proc *p, int quiet)
{
	static struct wk_ratelimit rl = WK_RATELIMIT_INIT(1);
	struct api_state *st = api_state(p);
	char *path = wk_asprintf("%s/managerToken", p->cfg.rootDir), buf[256];
	FILE *f = fopen(path, "r");

	if (f != NULL && fgets(buf, sizeof buf, f) != NULL) {
		buf[strcspn(buf, "\r\n")] = '\0';
		if (!token_blank(buf))
			st->admin_token = wk_strdup(buf);
	}
	if (f)
		fclose(f);
	/* Without it, non-loopback admin requests are all refused (fail closed). */
	if (st->admin_token == NULL && !quiet)
		wk_log_limited(&rl, WK_LOG_WARN, "%s is missing or empty: admin routes "
		    "answer 401 to every client not on loopback", path);
	free(path);
}

/* managerToken may be set or cleared by a reload; managerTokenOn may not. */
void
api_auth_start(struct wk_proc *p)
{
	if (p->cfg.managerTokenOn)
		load_token(p, !token_blank(p->cfg.managerToken));
}

/* At stop: forget the generated token. */
void
api_auth_stop(struct wk_proc *p)
{
	wk_free(&api_state(p)->admin_token);
}

/* Is the HTTP client on this host: 127/8, ::1, a v4-mapped 127/8, or a
 * unix socket.  Only the socket's peer address counts, no forwarded-for
 * header, so a proxy on this host makes all its clients local. */
static int
client_is_loopback(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	if (sa == NULL)
		return 0;
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return sa->sa_family == AF_UNIX;
}

/* Constant-time token comparison: a timing difference must not reveal how
 * much of a guessed token was right. */
int
api_auth_equal(const char *got, const char *want)
{
	size_t n = strlen(want);

	return got != NULL && strlen(got) == n && CRYPTO_memcmp(got, want, n) == 0;
}

int
api_auth_ok(struct wk_proc *p, struct api_req *r)
{
	struct api_state *st = api_state(p);
	const char *tok = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "token");

	if (!token_blank(p->cfg.managerToken))
		return api_auth_equal(tok, p->cfg.managerToken);
	if (!p->cfg.managerTokenOn || client_is_loopback(r->conn))
		return 1;
	if (st->admin_token == NULL)
		load_token(p, 0);
	return st->admin_token != NULL && api_auth_equal(tok, st->admin_token);
}

const char *
api_auth_secret(struct wk_proc *p)
{
	struct api_state *st = api_state(p);

	if (!token_blank(p->cfg.managerToken))
		return p->cfg.managerToken;
	if (!p->cfg.managerTokenOn)
		return NULL;
	if (st->admin_token == NULL)
		load_token(p, 0);
	return st->admin_token;
}
