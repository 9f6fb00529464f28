/* sdk_driver.c - the driver of the end-to-end tests with the official
 * WuKongIM JS SDK (wukongimjssdk 1.0.4 from npm, under Node.js; sdk_driver.h).
 *
 * Each simulated user is one `node sdk_client.mjs` process (the SDK is a
 * singleton) that prints JSON lines; the driver reads them with timeouts
 * into struct sdk: what the SDK's own status, message and CMD listeners
 * reported and the packets that crossed the socket.  The npm packages
 * (tests/e2e/package.json and package-lock.json, exact versions) are
 * installed with `npm ci` into <builddir>/tests/e2e/node_modules when
 * missing or stale, under a lock, since the check_sdk_* programs may run
 * at once.  No Node.js or npm is a failure with a message, not a skip:
 * scripts/bootstrap installs both.  Under `make distcheck`
 * (WK_E2E_DISTCHECK=1, set by its configure) the fresh build tree has no
 * node_modules: they come from npm's local cache (`npm ci --offline`), and
 * when that cannot provide them the tests skip (exit 77) with the reason,
 * since distcheck must not need the network.
 *
 * Environment: NODE, NPM (programs to use), WK_E2E_LOADER=import|loader
 * (force the loader flag; otherwise chosen by Node version), WK_E2E_VERBOSE
 * (print every client's lines and stderr when it stops). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <jansson.h>
#include "wktest.h"
#include "sdk_driver.h"

extern char **environ;

static char *node_bin, *npm_bin;
static const char *loader_flag;          /* --import or --experimental-loader */
static char *loader_file;                /* register.mjs or loader-hooks.mjs */
static char *e2e_dir, *modules_dir;       /* the scripts; the npm packages */
struct wkt_tree sdk_tree;

/* ---- one SDK client process ---- */

#define MAX_CLIENTS 8
static struct sdk *clients[MAX_CLIENTS];

static void
trace_add(struct sdk *c, const char *line)
{
	size_t n = strlen(line);

	c->trace = realloc(c->trace, c->trace_len + n + 2);
	memcpy(c->trace + c->trace_len, line, n);
	c->trace_len += n;
	c->trace[c->trace_len++] = '\n';
	c->trace[c->trace_len] = '\0';
}

static const char *
jstr(json_t *j, const char *key)
{
	const char *v = json_string_value(json_object_get(j, key));
	return v ? v : "";
}

static void
on_line(struct sdk *c, char *line)
{
	json_t *j = json_loads(line, 0, NULL);
	const char *ev;

	trace_add(c, line);
	if (j == NULL || (ev = json_string_value(json_object_get(j, "ev"))) == NULL) {
		c->bad_lines++;
		json_decref(j);
		return;
	}
	int type = (int)json_integer_value(json_object_get(j, "type"));
	json_array_append(c->lines, j);
	if (strcmp(ev, "loaded") == 0)
		c->loaded = 1;
	else if (strcmp(ev, "error") == 0)
		c->errors++;
	else if (strcmp(ev, "status") == 0 && c->nstatus < MAX_STATUS) {
		c->status[c->nstatus] = (int)json_integer_value(json_object_get(j, "status"));
		c->reason[c->nstatus++] = (int)json_integer_value(json_object_get(j, "reason"));
	} else if (strcmp(ev, "ws_new") == 0)
		c->ws_new++;
	else if (strcmp(ev, "ws_open") == 0)
		c->ws_open++;
	else if (strcmp(ev, "ws_close") == 0)
		c->ws_close++;
	else if (strcmp(ev, "tx") == 0 && type == 7)
		c->pings++;
	else if (strcmp(ev, "rx") == 0) {
		const char *hex = json_string_value(json_object_get(j, "hex"));
		if (json_integer_value(json_object_get(j, "packets")) != 1)
			c->rx_multi++;
		if (type == 8) {
			c->pongs++;
			if (json_integer_value(json_object_get(j, "len")) != 1 || !hex || strcmp(hex, "80"))
				c->bad_pongs++;
		} else if (type == 2)
			c->connacks++;
		else if (type == 12)
			c->rx_events++;
		else if (type == 9) {
			c->disconnects++;
			snprintf(c->disconnect_hex, sizeof c->disconnect_hex, "%s", hex ? hex : "");
		}
	} else if (strcmp(ev, "state") == 0) {
		json_decref(c->state);
		c->state = json_incref(j);
		c->nstate++;
	} else if (strcmp(ev, "disconnected") == 0)
		c->disconnected++;
	else if (strcmp(ev, "message") == 0 && c->nmsgs < MAX_MSGS) {
		struct sdk_msg *m = &c->msgs[c->nmsgs++];
		m->send = json_is_true(json_object_get(j, "send"));
		snprintf(m->from, sizeof m->from, "%s", jstr(j, "fromUID"));
		snprintf(m->channel, sizeof m->channel, "%s", jstr(j, "channelID"));
		snprintf(m->text, sizeof m->text, "%s", jstr(j, "text"));
		snprintf(m->id, sizeof m->id, "%s", jstr(j, "messageID"));
		snprintf(m->client_msg_no, sizeof m->client_msg_no, "%s", jstr(j, "clientMsgNo"));
		m->channel_type = (int)json_integer_value(json_object_get(j, "channelType"));
		m->content_type = (int)json_integer_value(json_object_get(j, "contentType"));
		m->seq = json_integer_value(json_object_get(j, "messageSeq"));
		m->client_seq = json_integer_value(json_object_get(j, "clientSeq"));
		snprintf(m->stream_no, sizeof m->stream_no, "%s", jstr(j, "streamNo"));
		m->stream_flag = (int)json_integer_value(json_object_get(j, "streamFlag"));
		m->stream_seq = json_integer_value(json_object_get(j, "streamSeq"));
		if (!m->send)
			c->nrecv++;
	} else if (strcmp(ev, "sendack") == 0 && c->nacks < MAX_MSGS) {
		struct sdk_ack *a = &c->acks[c->nacks++];
		a->client_seq = json_integer_value(json_object_get(j, "clientSeq"));
		a->seq = json_integer_value(json_object_get(j, "messageSeq"));
		a->reason = (int)json_integer_value(json_object_get(j, "reason"));
		snprintf(a->id, sizeof a->id, "%s", jstr(j, "messageID"));
	} else if (strcmp(ev, "sent") == 0 && c->nsent < MAX_MSGS) {
		struct sdk_sent *x = &c->sent[c->nsent++];
		x->client_seq = json_integer_value(json_object_get(j, "clientSeq"));
		snprintf(x->client_msg_no, sizeof x->client_msg_no, "%s", jstr(j, "clientMsgNo"));
	} else if (strcmp(ev, "send_error") == 0)
		c->send_errors++;
	else if (strcmp(ev, "cmd") == 0 && c->ncmds < MAX_MSGS) {
		snprintf(c->cmds[c->ncmds], sizeof c->cmds[0], "%s", jstr(j, "cmd"));
		snprintf(c->cmd_channels[c->ncmds++], sizeof c->cmd_channels[0], "%s",
		    jstr(j, "channelID"));
	}
	json_decref(j);
}

static void
on_readable(struct sdk *c)
{
	for (;;) {
		ssize_t r = read(c->out, c->buf + c->len, sizeof c->buf - 1 - c->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return;              /* EAGAIN */
		if (r == 0) {
			c->eof = 1;
			break;
		}
		c->len += r;
		c->buf[c->len] = '\0';
		char *nl, *p = c->buf;
		while ((nl = strchr(p, '\n')) != NULL) {
			*nl = '\0';
			on_line(c, p);
			p = nl + 1;
		}
		c->len -= p - c->buf;
		memmove(c->buf, p, c->len);
		if (c->len == sizeof c->buf - 1) {   /* a line longer than the buffer */
			c->buf[c->len] = '\0';
			on_line(c, c->buf);
			c->len = 0;
		}
	}
	if (c->eof && !c->reaped && waitpid(c->pid, &c->exit_status, 0) == c->pid)
		c->reaped = 1;
}

/* Read whatever every live client printed, waiting up to timeout_ms for
 * the first byte. */
void
sdk_pump(int timeout_ms)
{
	struct pollfd pfd[MAX_CLIENTS];
	struct sdk *who[MAX_CLIENTS];
	int n = 0;

	for (int i = 0; i < MAX_CLIENTS; i++)
		if (clients[i] && !clients[i]->eof) {
			pfd[n] = (struct pollfd){ clients[i]->out, POLLIN, 0 };
			who[n++] = clients[i];
		}
	if (n == 0) {
		poll(NULL, 0, timeout_ms < 20 ? timeout_ms : 20);
		return;
	}
	if (poll(pfd, n, timeout_ms < 0 ? 0 : timeout_ms) <= 0)
		return;
	for (int i = 0; i < n; i++)
		if (pfd[i].revents)
			on_readable(who[i]);
}

/* Milliseconds left until end, at most 100 (one pump). */
int
sdk_slice_ms(uint64_t end)
{
	uint64_t now = wkt_now_ms();
	return now >= end ? 0 : end - now > 100 ? 100 : (int)(end - now);
}

/* What to print when an assertion about c fails: its lines and its stderr
 * (one of four buffers, so one message can show two clients). */
const char *
sdk_why(struct sdk *c)
{
	static char bufs[4][12000];
	static int next;
	char *msg = bufs[next++ % 4];
	char *err = wkt_read_file(c->errlog);
	const char *t = c->trace ? c->trace : "";
	size_t tl = strlen(t), el = err ? strlen(err) : 0;

	snprintf(msg, sizeof bufs[0], "\n--- client %s (pid %d) stdout%s:\n%s--- stderr%s:\n%s",
	    c->name, (int)c->pid, tl > 8000 ? " (tail)" : "", tl > 8000 ? t + tl - 8000 : t,
	    el > 2500 ? " (tail)" : "", err ? (el > 2500 ? err + el - 2500 : err) : "(none)\n");
	free(err);
	return msg;
}

struct sdk *
sdk_start_script(const char *name, const char *script, const char *const *args)
{
	struct sdk *c = calloc(1, sizeof *c);
	int in[2], out[2], err, slot = -1;
	char *a_mod, *path;
	posix_spawn_file_actions_t fa;
	char *argv[24];
	int argc = 0;

	for (int i = 0; i < MAX_CLIENTS; i++)
		if (clients[i] == NULL) {
			slot = i;
			break;
		}
	ck_assert_int_ge(slot, 0);
	snprintf(c->name, sizeof c->name, "%s", name);
	snprintf(c->errlog, sizeof c->errlog, "%s/sdk-%s.stderr", sdk_tree.dir, name);
	c->lines = json_array();
	ck_assert_int_eq(pipe2(in, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	err = open(c->errlog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	ck_assert_int_ge(err, 0);
	if (asprintf(&a_mod, "--modules=%s", modules_dir) < 0 ||
	    asprintf(&path, "%s/%s", e2e_dir, script) < 0)
		abort();
	argv[argc++] = node_bin;
	argv[argc++] = (char *)loader_flag;
	argv[argc++] = loader_file;
	argv[argc++] = path;
	argv[argc++] = a_mod;
	for (int i = 0; args && args[i] && argc < 23; i++)
		argv[argc++] = (char *)args[i];
	argv[argc] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err, 2);
	int rc = posix_spawn(&c->pid, node_bin, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	ck_assert_msg(rc == 0, "posix_spawn %s: %s", node_bin, strerror(rc));
	close(in[0]);
	close(out[1]);
	close(err);
	free(a_mod);
	free(path);
	c->in = in[1];
	c->out = out[0];
	fcntl(c->out, F_SETFL, O_NONBLOCK);
	clients[slot] = c;
	return c;
}

struct sdk *
sdk_start(const char *name, const char *uid, const char *token, int device_flag,
    int heartbeat_ms, const char *extra)
{
	char addr[96], a_uid[160], a_token[160], a_flag[32], a_hb[48];

	snprintf(addr, sizeof addr, "--addr=ws://127.0.0.1:%d", sdk_tree.ws_port);
	snprintf(a_uid, sizeof a_uid, "--uid=%s", uid);
	snprintf(a_token, sizeof a_token, "--token=%s", token);
	snprintf(a_flag, sizeof a_flag, "--device-flag=%d", device_flag);
	snprintf(a_hb, sizeof a_hb, "--heartbeat=%d", heartbeat_ms);
	return sdk_start_script(name, "sdk_client.mjs",
	    (const char *const[]){ addr, a_uid, a_token, a_flag, a_hb, extra, NULL });
}

/* The n-th (from 1) line c printed whose "ev" is ev, or NULL. */
static json_t *
nth_line(struct sdk *c, const char *ev, int n)
{
	for (size_t i = 0; i < json_array_size(c->lines); i++) {
		json_t *j = json_array_get(c->lines, i);
		if (strcmp(json_string_value(json_object_get(j, "ev")), ev) == 0 && --n == 0)
			return j;
	}
	return NULL;
}

json_t *
sdk_wait_line(struct sdk *c, const char *ev, int n, int timeout_ms)
{
	json_t *j = NULL;

	ck_assert_msg(SDK_WAIT_FOR((j = nth_line(c, ev, n)) != NULL || c->eof, timeout_ms) &&
	    (j = nth_line(c, ev, n)) != NULL, "client %s: no \"%s\" line #%d within %d ms%s",
	    c->name, ev, n, timeout_ms, sdk_why(c));
	return j;
}

/* The last line c printed whose "ev" is ev, or NULL (borrowed). */
json_t *
sdk_line(struct sdk *c, const char *ev)
{
	for (size_t i = json_array_size(c->lines); i-- > 0;) {
		json_t *j = json_array_get(c->lines, i);
		if (strcmp(json_string_value(json_object_get(j, "ev")), ev) == 0)
			return j;
	}
	return NULL;
}

void
sdk_cmd(struct sdk *c, const char *cmd)
{
	char line[1024];
	int n = snprintf(line, sizeof line, "%s\n", cmd);

	ck_assert_int_lt(n, (int)sizeof line);
	ck_assert_msg(write(c->in, line, n) == n, "client %s: cannot send %s: %s%s", c->name, cmd,
	    strerror(errno), sdk_why(c));
}

/* Ask the client for the SDK's connection state; the answer (borrowed). */
json_t *
sdk_state(struct sdk *c)
{
	int before = c->nstate;

	sdk_cmd(c, "state");
	ck_assert_msg(SDK_WAIT_FOR(c->nstate > before, 5000), "no state answer%s", sdk_why(c));
	return c->state;
}

int
sdk_state_bool(struct sdk *c, const char *key)
{
	json_t *v = json_object_get(c->state, key);
	ck_assert_msg(json_is_boolean(v), "state without %s%s", key, sdk_why(c));
	return json_is_true(v);
}

/* Wait until the client has reported n statuses; the n-th must be
 * (status, reason). */
void
sdk_expect_status(struct sdk *c, int n, int status, int reason, int timeout_ms)
{
	ck_assert_msg(SDK_WAIT_FOR(c->nstatus >= n || c->eof, timeout_ms) && c->nstatus >= n,
	    "client %s: no status #%d (want %d/%d) within %d ms%s", c->name, n, status, reason,
	    timeout_ms, sdk_why(c));
	ck_assert_msg(c->status[n - 1] == status && c->reason[n - 1] == reason,
	    "client %s: status #%d is %d reason %d, want %d reason %d%s", c->name, n,
	    c->status[n - 1], c->reason[n - 1], status, reason, sdk_why(c));
}

/* chatManager.send() of a text message; waits until the SDK has taken it
 * (the "sent" line): which one it is, for sdk_ack(). */
const struct sdk_sent *
sdk_send(struct sdk *c, const char *channel, int type, const char *text)
{
	char cmd[900];
	int before = c->nsent, errs = c->send_errors;

	snprintf(cmd, sizeof cmd, "send %s %d %s", channel, type, text);
	sdk_cmd(c, cmd);
	ck_assert_msg(SDK_WAIT_FOR(c->nsent > before || c->send_errors > errs || c->eof, 5000) &&
	    c->nsent > before, "client %s: send to %s/%d not taken%s", c->name, channel, type, sdk_why(c));
	return &c->sent[before];
}

/* The SENDACK the status listener reported for s, waiting for it. */
const struct sdk_ack *
sdk_ack(struct sdk *c, const struct sdk_sent *s, int timeout_ms)
{
	const struct sdk_ack *found = NULL;

#define FIND_ACK() __extension__ ({                                     \
	for (int i = 0; i < c->nacks && !found; i++)                    \
		if (c->acks[i].client_seq == s->client_seq)             \
			found = &c->acks[i];                            \
	found != NULL; })
	ck_assert_msg(SDK_WAIT_FOR(FIND_ACK() || c->eof, timeout_ms) && found,
	    "client %s: no SENDACK for clientSeq %lld within %d ms%s", c->name, s->client_seq,
	    timeout_ms, sdk_why(c));
#undef FIND_ACK
	return found;
}

/* The n-th (from 1) message the message listener reported that is not the
 * SDK's local echo of its own send, waiting for it. */
const struct sdk_msg *
sdk_recv(struct sdk *c, int n, int timeout_ms)
{
	ck_assert_msg(SDK_WAIT_FOR(c->nrecv >= n || c->eof, timeout_ms) && c->nrecv >= n,
	    "client %s: %d messages received, want %d within %d ms%s", c->name, c->nrecv, n,
	    timeout_ms, sdk_why(c));
	for (int i = 0, k = 0; i < c->nmsgs; i++)
		if (!c->msgs[i].send && ++k == n)
			return &c->msgs[i];
	ck_abort_msg("message %d not recorded%s", n, sdk_why(c));
	return NULL;
}

/* Stop the client cleanly ("exit"), check it had nothing to complain about,
 * free it. */
void
sdk_stop(struct sdk *c)
{
	sdk_cmd(c, "exit");
	if (!SDK_WAIT_FOR(c->eof, 5000)) {
		kill(c->pid, SIGKILL);
		ck_abort_msg("client %s did not exit%s", c->name, sdk_why(c));
	}
	if (!c->reaped)
		waitpid(c->pid, &c->exit_status, 0);
	ck_assert_msg(WIFEXITED(c->exit_status) && WEXITSTATUS(c->exit_status) == 0,
	    "client %s exit status %#x%s", c->name, c->exit_status, sdk_why(c));
	ck_assert_msg(c->errors == 0 && c->bad_lines == 0,
	    "client %s: %d errors, %d lines not JSON%s", c->name, c->errors, c->bad_lines, sdk_why(c));
	if (getenv("WK_E2E_VERBOSE"))
		fprintf(stderr, "%s", sdk_why(c));
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (clients[i] == c)
			clients[i] = NULL;
	close(c->in);
	close(c->out);
	json_decref(c->state);
	json_decref(c->lines);
	free(c->trace);
	free(c);
}

/* ---- HTTP, on sdk_tree ---- */

void
sdk_set_token(const char *uid, const char *token, int device_flag, int level)
{
	wkt_set_token(&sdk_tree, uid, token, device_flag, level);
}

void
sdk_post(const char *path, const char *json)
{
	char url[256], *resp = NULL;
	long st;

	snprintf(url, sizeof url, "%s%s", sdk_tree.http, path);
	st = wkt_http("POST", url, json, &resp, NULL);
	ck_assert_msg(st == 200, "POST %s %s: %ld %s", path, json, st, resp ? resp : "");
	free(resp);
}

int
sdk_online(const char *uid, int device_flag)
{
	return wkt_online_count(&sdk_tree, uid, device_flag);
}

int
sdk_wait_online(const char *uid, int device_flag, int want, int timeout_ms)
{
	return wkt_wait_online(&sdk_tree, uid, device_flag, want, timeout_ms);
}

/* ---- fixtures ---- */

static void
sdk_setup(void)
{
	wkt_tree_start(&sdk_tree, "tokenAuthOn: true\n");
}

static void
sdk_teardown(void)
{
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (clients[i]) {
			kill(clients[i]->pid, SIGKILL);
			waitpid(clients[i]->pid, NULL, 0);
			clients[i] = NULL;
		}
	wkt_tree_stop(&sdk_tree);
}

/* A message as the receiving SDK's listener shows it. */
void
sdk_check_msg(struct sdk *c, const struct sdk_msg *m, const char *from, const char *channel,
    int type, const char *text, long long seq)
{
	ck_assert_msg(strcmp(m->text, text) == 0 && strcmp(m->from, from) == 0 &&
	    strcmp(m->channel, channel) == 0 && m->channel_type == type && m->seq == seq &&
	    m->content_type == 1 && m->id[0] != '\0' && strcmp(m->id, "0") != 0,
	    "client %s: got \"%s\" from %s in %s/%d seq %lld type %d id %s, want \"%s\" from %s "
	    "in %s/%d seq %lld%s", c->name, m->text, m->from, m->channel, m->channel_type, m->seq,
	    m->content_type, m->id, text, from, channel, type, seq, sdk_why(c));
}

/* ---- set-up: Node.js, the loader flag, the npm packages ---- */

static int
same_file_text(const char *a, const char *b)
{
	char *x = wkt_read_file(a), *y = wkt_read_file(b);
	int same = x && y && strcmp(x, y) == 0;
	free(x);
	free(y);
	return same;
}

static int
copy_file(const char *from, const char *to)
{
	char *text = wkt_read_file(from), *tmp;
	FILE *f;
	int rc = -1;

	if (text == NULL)
		return -1;
	if (asprintf(&tmp, "%s.tmp", to) < 0)
		abort();
	if ((f = fopen(tmp, "w")) != NULL) {
		int bad = fputs(text, f) < 0;
		if (fclose(f) == 0 && !bad)
			rc = rename(tmp, to);
	}
	free(tmp);
	free(text);
	return rc;
}

#define FAIL(...) do { fprintf(stderr, "check_sdk: FAIL: " __VA_ARGS__); return -1; } while (0)

int
sdk_prepare(void)
{
	const char *src = getenv("WK_SRCDIR"), *build = getenv("WK_BUILDDIR");
	char e2e_src[4096], e2e_build[4096], path[4200], lock[4200], stamp[4200], *out = NULL;
	int major = 0, minor = 0, patch = 0, lockfd;

	src = src && *src ? src : WK_TEST_SRCDIR;
	build = build && *build ? build : WK_TEST_BUILDDIR;
	snprintf(e2e_src, sizeof e2e_src, "%s/tests/e2e", src);
	snprintf(e2e_build, sizeof e2e_build, "%s/tests/e2e", build);

	node_bin = wkt_find_program("NODE", (const char *const[]){ "node", "nodejs", NULL });
	npm_bin = wkt_find_program("NPM", (const char *const[]){ "npm", NULL });
	if (node_bin == NULL || npm_bin == NULL)
		FAIL("%s not found in PATH.  These tests run the official JS SDK under Node.js 18+; "
		    "scripts/bootstrap installs it (Debian packages nodejs npm), or: apt-get install "
		    "nodejs npm.  (Or set NODE=/path/to/node NPM=/path/to/npm.)\n",
		    node_bin ? "npm" : npm_bin ? "node" : "node and npm");
	if (wkt_run(&out, "'%s' --version", node_bin) != 0 ||
	    sscanf(out, "v%d.%d.%d", &major, &minor, &patch) < 2)
		FAIL("'%s --version' failed: %s\n", node_bin, out);
	free(out);
	if (major < 18)
		FAIL("%s is Node.js %d.%d; the SDK tests need Node.js 18 or newer\n", node_bin, major, minor);
	/* module.register() (for --import register.mjs) exists from 20.6 and was
	 * backported to 18.19; older Node has only --experimental-loader, which
	 * takes the same hooks.  WK_E2E_LOADER=import|loader forces one. */
	const char *force = getenv("WK_E2E_LOADER");
	int use_register = force && *force ? strcmp(force, "import") == 0 :
	    major > 20 || (major == 20 && minor >= 6) || (major == 18 && minor >= 19);
	loader_flag = use_register ? "--import" : "--experimental-loader";
	if (asprintf(&loader_file, "%s/%s", e2e_src, use_register ? "register.mjs" : "loader-hooks.mjs") < 0 ||
	    (e2e_dir = strdup(e2e_src)) == NULL ||
	    asprintf(&modules_dir, "%s/node_modules", e2e_build) < 0)
		abort();
	fprintf(stderr, "check_sdk: %s v%d.%d.%d, %s %s\n", node_bin, major, minor, patch,
	    loader_flag, loader_file);

	/* package.json and package-lock.json next to node_modules in the build
	 * tree; `npm ci` when the lock file differs from the one installed. */
	if (wkt_run(&out, "mkdir -p '%s'", e2e_build) != 0)
		FAIL("mkdir %s: %s\n", e2e_build, out);
	free(out);
	snprintf(path, sizeof path, "%s/.npm-install.lock", e2e_build);
	lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lockfd < 0 || flock(lockfd, LOCK_EX) < 0)
		FAIL("%s: %s\n", path, strerror(errno));
	if (strcmp(e2e_src, e2e_build) != 0) {
		for (int i = 0; i < 2; i++) {
			const char *f = i ? "package-lock.json" : "package.json";
			char from[4200], to[4200];
			snprintf(from, sizeof from, "%s/%s", e2e_src, f);
			snprintf(to, sizeof to, "%s/%s", e2e_build, f);
			if (!same_file_text(from, to) && copy_file(from, to) < 0)
				FAIL("cannot copy %s to %s\n", from, to);
		}
	}
	snprintf(lock, sizeof lock, "%s/package-lock.json", e2e_build);
	snprintf(stamp, sizeof stamp, "%s/node_modules/.wk-installed-lock.json", e2e_build);
	snprintf(path, sizeof path, "%s/node_modules/wukongimjssdk/lib/index.js", e2e_build);
	if (!same_file_text(lock, stamp) || access(path, R_OK) != 0) {
		const char *dc = getenv("WK_E2E_DISTCHECK");
		int offline = dc && strcmp(dc, "1") == 0;
		fprintf(stderr, "check_sdk: npm ci%s in %s\n", offline ? " --offline" : "", e2e_build);
		uint64_t t0 = wkt_now_ms();
		int ci = wkt_run(&out, "cd '%s' && '%s' ci --no-audit --no-fund --loglevel=error%s",
		    e2e_build, npm_bin, offline ? " --offline" : "");
		if (ci != 0 && offline) {
			fprintf(stderr, "check_sdk: SKIP: make distcheck builds without the network and "
			    "npm's cache lacks the SDK's packages (npm ci --offline failed); run "
			    "`make check` in a tree that has them:\n%s\n", out);
			return 77;
		}
		if (ci != 0)
			FAIL("npm ci in %s failed (the npm registry must be reachable):\n%s\n", e2e_build, out);
		free(out);
		if (access(path, R_OK) != 0 || copy_file(lock, stamp) < 0)
			FAIL("npm ci did not install wukongimjssdk into %s/node_modules\n", e2e_build);
		fprintf(stderr, "check_sdk: npm ci took %llu ms\n", (unsigned long long)(wkt_now_ms() - t0));
	}
	flock(lockfd, LOCK_UN);
	close(lockfd);
	return 0;
}

const char *
sdk_node(void)
{
	return node_bin;
}

const char *
sdk_modules(void)
{
	return modules_dir;
}

int
sdk_main(const char *name, void (*add_tests)(TCase *tc))
{
	Suite *s = suite_create(name);
	TCase *tc = tcase_create("jssdk");

	signal(SIGPIPE, SIG_IGN);
	int rc = sdk_prepare();
	if (rc != 0)
		return rc < 0 ? 1 : rc;   /* 77: skipped (distcheck, no packages) */
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, sdk_setup, sdk_teardown);
	add_tests(tc);
	suite_add_tcase(s, tc);
	return wkt_run_suite(s);
}
