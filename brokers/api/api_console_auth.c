/* api_console_auth.c - console logins and sessions (wk-api(8), CONSOLE).
 *
 * Users come from auth.users as the reference writes them:
 *   "name:password:*"                   may read and change everything
 *   "name:password:[conn:rw,channel:r]" per resource; wk keeps one right
 *                                       per user: it may change things if
 *                                       any entry has w (or *), else it
 *                                       only reads
 * With none configured there is one read-only user guest:guest, as in the
 * reference.  managerUID logs in with the manager token (the configured
 * managerToken, else the one wk-master generated into <rootDir>/managerToken)
 * and may change everything; a request carrying that token as its `token`
 * header needs no login at all (the reference's middleware).
 *
 * POST /manager/login {"username","password"} answers the reference's
 * {"username","token","exp","permissions"}; the token is random (not the
 * reference's JWT: nothing else reads it) and is sent back as
 * "Authorization: Bearer <token>".  Sessions live in wk-api's memory for
 * CONSOLE_SESSION_S; a restart of wk-api logs everyone out.  auth.users is
 * read at each login, so a reload applies to the next login. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <openssl/rand.h>
#include "api.h"
#include "wk_alloc.h"
#include "wk_log.h"
#include "wk_time.h"

#define CONSOLE_SESSIONS 64            /* at most; a login past it ends the oldest */
#define CONSOLE_SESSION_S (12 * 3600)  /* a session's life */
#define CONSOLE_NAME_MAX 64

struct api_session {
	char token[65];                /* 64 hex digits; "" when the slot is free */
	char user[CONSOLE_NAME_MAX];
	int write;
	uint64_t expires_ms;           /* wk_now_ms() */
};

/* Failed logins by client address: LOGIN_FAILS_MAX failures within
 * LOGIN_WINDOW_MS and that address is refused (429, Retry-After) until the
 * window ends, whatever password it sends; a login that succeeds clears
 * its count.  A fixed table (the stalest entry reused): a flood from many
 * addresses can push entries out, never grow wk-api's memory. */
#define LOGIN_ADDRS 256
#define LOGIN_FAILS_MAX 5
#define LOGIN_WINDOW_MS 60000

struct login_fail {
	uint8_t addr[17];            /* family, then 4 or 16 address bytes; [0] 0: free */
	uint32_t fails;
	uint64_t since_ms;           /* the window's start: the first failure */
};

struct api_console {
	struct api_session s[CONSOLE_SESSIONS];
	struct login_fail f[LOGIN_ADDRS];
	uint64_t throttled;          /* logins refused for it */
};

static struct wk_ratelimit rl_login = WK_RATELIMIT_INIT(5);

/* One auth.users entry split into its name, password and right: 0, or -1
 * when it does not have the reference's shape. */
static int
user_parse(const char *e, char *name, char *pass, size_t len, int *write, const char **perms)
{
	const char *c1 = strchr(e, ':'), *p2;
	size_t el = strlen(e);

	if (c1 == NULL || c1 == e || (size_t)(c1 - e) >= len)
		return -1;
	if (el >= 2 && e[el - 1] == ']' && (p2 = strstr(c1 + 1, ":[")) != NULL) {
		/* [res:actions,...]: any w or * lets the user change things. */
		*write = 0;
		for (const char *a = p2 + 2; a < e + el - 1; a++)
			if (*a == ':')
				for (a++; a < e + el - 1 && *a != ','; a++)
					*write |= *a == 'w' || *a == '*';
		*perms = p2 + 1;
	} else {
		if ((p2 = strrchr(e, ':')) == c1 || strcmp(p2 + 1, "*") != 0)
			return -1;
		*write = 1;
		*perms = "*";
	}
	if ((size_t)(p2 - c1 - 1) >= len)
		return -1;
	memcpy(name, e, c1 - e);
	name[c1 - e] = '\0';
	memcpy(pass, c1 + 1, p2 - c1 - 1);
	pass[p2 - c1 - 1] = '\0';
	return 0;
}

/* Check name and password: the user's right (0 read, 1 write) and its
 * permissions as the reference shows them, or -1. */
static int
user_check(struct wk_proc *p, const char *name, const char *pass, const char **perms)
{
	const struct wk_strlist *u = &p->cfg.auth_users;
	char n[CONSOLE_NAME_MAX], pw[256];
	const char *pm;
	int write, found = -1;

	if (strcmp(name, p->cfg.managerUID) == 0) {
		const char *secret = api_auth_secret(p);
		*perms = "*";
		return secret && api_auth_equal(pass, secret) ? 1 : -1;
	}
	if (u->n == 0) {
		*perms = "[*:r]";
		return strcmp(name, "guest") == 0 && api_auth_equal(pass, "guest") ? 0 : -1;
	}
	for (int i = 0; i < u->n; i++) {
		if (user_parse(u->v[i], n, pw, sizeof pw, &write, &pm) < 0) {
			wk_log_limited(&rl_login, WK_LOG_WARN, "auth.users entry %d is not "
			    "name:password:* nor name:password:[resource:rw,...]: ignored", i + 1);
			continue;
		}
		if (strcmp(n, name) == 0 && api_auth_equal(pass, pw) && found < 0) {
			found = write;
			*perms = pm;
		}
	}
	return found;
}

static struct api_console *
console(struct wk_proc *p)
{
	struct api_state *st = api_state(p);

	if (st->console == NULL)
		st->console = wk_calloc(1, sizeof *st->console);
	return st->console;
}

/* A new session for user: its slot (a free or expired one, else the one
 * that expires first). */
static struct api_session *
session_new(struct wk_proc *p, const char *user, int write)
{
	struct api_console *c = console(p);
	struct api_session *s = &c->s[0];
	unsigned char rnd[32];
	uint64_t now = wk_now_ms();

	for (int i = 0; i < CONSOLE_SESSIONS; i++) {
		if (c->s[i].token[0] == '\0' || c->s[i].expires_ms <= now) {
			s = &c->s[i];
			break;
		}
		if (c->s[i].expires_ms < s->expires_ms)
			s = &c->s[i];
	}
	if (RAND_bytes(rnd, sizeof rnd) != 1)
		wk_fatalx("RAND_bytes failed");
	for (size_t i = 0; i < sizeof rnd; i++)
		snprintf(s->token + 2 * i, 3, "%02x", rnd[i]);
	snprintf(s->user, sizeof s->user, "%s", user);
	s->write = write;
	s->expires_ms = now + CONSOLE_SESSION_S * 1000ULL;
	return s;
}

int
api_console_session(struct wk_proc *p, struct api_req *r)
{
	const char *h = api_header(r, "Authorization"), *tok = api_header(r, "token");
	const char *secret;
	struct api_console *c = api_state(p)->console;
	uint64_t now = wk_now_ms();

	if (tok && *tok && (secret = api_auth_secret(p)) != NULL && api_auth_equal(tok, secret))
		return 1;
	if (h == NULL || c == NULL)
		return -1;
	if (strncmp(h, "Bearer ", 7) == 0)
		h += 7;
	for (int i = 0; i < CONSOLE_SESSIONS; i++)
		if (c->s[i].token[0] && c->s[i].expires_ms > now && api_auth_equal(h, c->s[i].token))
			return c->s[i].write;
	return -1;
}

/* The client's address as a key (family byte, then the address). */
static void
login_addr(struct api_req *r, uint8_t key[17])
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	memset(key, 0, 17);
	if (sa && sa->sa_family == AF_INET) {
		key[0] = 4;
		memcpy(key + 1, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa && sa->sa_family == AF_INET6) {
		key[0] = 6;
		memcpy(key + 1, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	} else
		key[0] = 1;              /* unknown: all such clients share one entry */
}

/* The entry of key: found, or (add) the free or stalest one taken over. */
static struct login_fail *
login_entry(struct api_console *c, const uint8_t key[17], int add, uint64_t now)
{
	struct login_fail *old = &c->f[0];

	for (int i = 0; i < LOGIN_ADDRS; i++) {
		struct login_fail *f = &c->f[i];
		if (f->addr[0] && memcmp(f->addr, key, 17) == 0)
			return f;
		if (!f->addr[0] || (old->addr[0] && f->since_ms < old->since_ms))
			old = f;
	}
	if (!add)
		return NULL;
	memcpy(old->addr, key, 17);
	old->fails = 0;
	old->since_ms = now;
	return old;
}

/* Seconds until key may try again, or 0. */
static unsigned
login_blocked(struct api_console *c, const uint8_t key[17], uint64_t now)
{
	struct login_fail *f = login_entry(c, key, 0, now);

	if (f == NULL || f->fails < LOGIN_FAILS_MAX || now - f->since_ms >= LOGIN_WINDOW_MS)
		return 0;
	return (unsigned)((f->since_ms + LOGIN_WINDOW_MS - now + 999) / 1000);
}

static void
login_failed(struct api_console *c, const uint8_t key[17], uint64_t now)
{
	struct login_fail *f = login_entry(c, key, 1, now);

	if (now - f->since_ms >= LOGIN_WINDOW_MS) {   /* a new window */
		f->fails = 0;
		f->since_ms = now;
	}
	f->fails++;
}

/* POST /manager/login: the reference's checks and words (400 each); an
 * address that failed too often is refused before its password is looked
 * at (429). */
void
api_route_manager_login(struct wk_proc *p, struct api_req *r)
{
	json_t *o = api_body_json(r, JSON_OBJECT, "struct { Username string; Password string }");
	struct api_in in = { r, o, "struct { Username string; Password string }" };
	const char *name, *pass, *perms = "";
	struct api_session *s;
	struct api_console *c = console(p);
	uint64_t now = wk_now_ms();
	uint8_t key[17];
	unsigned wait;
	int write;

	if (o == NULL)
		return;
	login_addr(r, key);
	if ((wait = login_blocked(c, key, now)) > 0) {
		char msg[96];
		c->throttled++;
		wk_log_limited(&rl_login, WK_LOG_WARN, "console: logins from an address refused for "
		    "%u s after %d failures (%llu refused so far)", wait, LOGIN_FAILS_MAX,
		    (unsigned long long)c->throttled);
		snprintf(msg, sizeof msg, "too many failed logins: retry in %u s", wait);
		api_answer_retry_after(r, 429, msg, wait);
		goto out;
	}
	if (api_in_str(&in, "username", &name) < 0 || api_in_str(&in, "password", &pass) < 0)
		goto out;
	if (api_is_blank(pass)) {
		api_answer_error(r, 400, "密码不能为空");
		goto out;
	}
	if (api_is_blank(name)) {
		api_answer_error(r, 400, "用户名不能为空");
		goto out;
	}
	if (strlen(name) >= CONSOLE_NAME_MAX || (write = user_check(p, name, pass, &perms)) < 0) {
		wk_log_limited(&rl_login, WK_LOG_INFO, "console: login of \"%.64s\" refused", name);
		login_failed(c, key, now);
		api_answer_error(r, 400, "用户名或密码错误");
		goto out;
	}
	struct login_fail *f = login_entry(c, key, 0, now);
	if (f)
		memset(f, 0, sizeof *f);
	s = session_new(p, name, write);
	wk_log_info("console: %s logged in (%s)", name, write ? "read and write" : "read only");
	api_answer_json(r, 200, json_pack("{s:s,s:s,s:I,s:s}", "username", name, "token", s->token,
	    "exp", (json_int_t)time(NULL) + CONSOLE_SESSION_S, "permissions", perms));
out:
	json_decref(o);
}

void
api_console_stop(struct wk_proc *p)
{
	struct api_state *st = api_state(p);

	if (st->console)
		memset(st->console, 0, sizeof *st->console);
	wk_free(&st->console);
}
