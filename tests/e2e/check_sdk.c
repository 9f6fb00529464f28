/* check_sdk.c - end-to-end tests with the official WuKongIM JS SDK
 * (wukongimjssdk 1.0.4 from npm, under Node.js) against the real tree over
 * WebSocket: token auth and heartbeats, a wrong token, and the two kinds of
 * kick (a second master login, and POST /user/token with device_level 1);
 * messaging: person chat both ways, a group's messages in seq order, and a
 * refused send's reason code, as the SDK's message and status listeners
 * report them; a stream message in pieces, as the SDK's version-2 stream
 * RECVs (never an EVENT).
 *
 * Each simulated user is one `node sdk_client.mjs` process (the SDK is a
 * singleton) that prints JSON lines; this program reads them with timeouts
 * and asserts on what the SDK's own status listener reported and on the
 * packets that crossed the socket.  The npm packages (tests/e2e/package.json
 * and package-lock.json, exact versions) are installed with `npm ci` into
 * <builddir>/tests/e2e/node_modules when missing or stale.  No Node.js or
 * npm is a failure with a message, not a skip: scripts/bootstrap installs
 * both.
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
#include "wk_crypto.h"
#include "wktest.h"

extern char **environ;

static char *node_bin, *npm_bin;
static const char *loader_flag;          /* --import or --experimental-loader */
static char *loader_file;                /* register.mjs or loader-hooks.mjs */
static char *client_script, *modules_dir;
static struct wkt_tree tree;

/* ---- one SDK client process ---- */

#define MAX_STATUS 32
#define MAX_MSGS 32

/* One line from the SDK's message listener ("message"), its status
 * listener ("sendack"), or a resolved chatManager.send() ("sent"). */
struct sdk_msg {
	int send;                     /* the SDK's local echo of its own send */
	char from[64], channel[64], text[256], id[32], client_msg_no[64];
	int channel_type, content_type;
	long long seq, client_seq;
	char stream_no[64];           /* a stream RECV's stream fields */
	int stream_flag;
	long long stream_seq;
};
struct sdk_ack {
	long long client_seq, seq;
	int reason;
	char id[32];
};
struct sdk_sent {
	long long client_seq;
	char client_msg_no[64];
};

struct sdk {
	char name[32];
	pid_t pid;
	int in, out;                  /* its stdin (commands), its stdout (events) */
	char buf[65536];
	size_t len;
	char *trace;                  /* every line it printed, for failure messages */
	size_t trace_len;
	char errlog[600];             /* its stderr */
	int eof, exit_status, reaped;
	int loaded, errors, bad_lines;
	int nstatus, status[MAX_STATUS], reason[MAX_STATUS];
	int ws_new, ws_open, ws_close;
	int pings, pongs, bad_pongs;  /* PINGs the SDK wrote; PONGs the server sent */
	int rx_multi;                 /* server WS messages not holding exactly one packet */
	int rx_events;                /* EVENT packets (type 12) the server sent */
	int connacks, disconnects;
	char disconnect_hex[160];
	int nstate, disconnected;
	json_t *state;                /* the last "state" answer */
	int nmsgs, nrecv;             /* message listener calls; those not local echoes */
	struct sdk_msg msgs[MAX_MSGS];
	int nacks;
	struct sdk_ack acks[MAX_MSGS];
	int nsent, send_errors;
	struct sdk_sent sent[MAX_MSGS];
	int ncmds;                    /* CMD listener calls */
	char cmds[MAX_MSGS][64], cmd_channels[MAX_MSGS][64];
};

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
static void
pump(int timeout_ms)
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
static int
slice_ms(uint64_t end)
{
	uint64_t now = wkt_now_ms();
	return now >= end ? 0 : end - now > 100 ? 100 : (int)(end - now);
}

/* Wait until cond holds (re-evaluated after every batch of lines, at least
 * every 100 ms), at most ms; the value of cond at the end. */
#define WAIT_FOR(cond, ms) __extension__ ({                             \
	uint64_t end_ = wkt_now_ms() + (ms);                            \
	while (!(cond) && wkt_now_ms() < end_)                          \
		pump(slice_ms(end_));                                   \
	(cond); })

/* What to print when an assertion about c fails: its lines and its stderr
 * (one of four buffers, so one message can show two clients). */
static const char *
why(struct sdk *c)
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

static struct sdk *
sdk_start(const char *name, const char *uid, const char *token, int device_flag,
    int heartbeat_ms, const char *extra)
{
	struct sdk *c = calloc(1, sizeof *c);
	int in[2], out[2], err, slot = -1;
	char addr[96], a_uid[160], a_token[160], a_flag[32], a_hb[48], *a_mod;
	posix_spawn_file_actions_t fa;
	char *argv[16];
	int argc = 0;

	for (int i = 0; i < MAX_CLIENTS; i++)
		if (clients[i] == NULL) {
			slot = i;
			break;
		}
	ck_assert_int_ge(slot, 0);
	snprintf(c->name, sizeof c->name, "%s", name);
	snprintf(c->errlog, sizeof c->errlog, "%s/sdk-%s.stderr", tree.dir, name);
	ck_assert_int_eq(pipe2(in, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	err = open(c->errlog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	ck_assert_int_ge(err, 0);
	snprintf(addr, sizeof addr, "--addr=ws://127.0.0.1:%d", tree.ws_port);
	snprintf(a_uid, sizeof a_uid, "--uid=%s", uid);
	snprintf(a_token, sizeof a_token, "--token=%s", token);
	snprintf(a_flag, sizeof a_flag, "--device-flag=%d", device_flag);
	snprintf(a_hb, sizeof a_hb, "--heartbeat=%d", heartbeat_ms);
	if (asprintf(&a_mod, "--modules=%s", modules_dir) < 0)
		abort();
	argv[argc++] = node_bin;
	argv[argc++] = (char *)loader_flag;
	argv[argc++] = loader_file;
	argv[argc++] = client_script;
	argv[argc++] = addr;
	argv[argc++] = a_uid;
	argv[argc++] = a_token;
	argv[argc++] = a_flag;
	argv[argc++] = a_hb;
	argv[argc++] = a_mod;
	if (extra)
		argv[argc++] = (char *)extra;
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
	c->in = in[1];
	c->out = out[0];
	fcntl(c->out, F_SETFL, O_NONBLOCK);
	clients[slot] = c;
	return c;
}

static void
sdk_cmd(struct sdk *c, const char *cmd)
{
	char line[1024];
	int n = snprintf(line, sizeof line, "%s\n", cmd);

	ck_assert_int_lt(n, (int)sizeof line);
	ck_assert_msg(write(c->in, line, n) == n, "client %s: cannot send %s: %s%s", c->name, cmd,
	    strerror(errno), why(c));
}

/* Ask the client for the SDK's connection state; the answer (borrowed). */
static json_t *
sdk_state(struct sdk *c)
{
	int before = c->nstate;

	sdk_cmd(c, "state");
	ck_assert_msg(WAIT_FOR(c->nstate > before, 5000), "no state answer%s", why(c));
	return c->state;
}

static int
state_bool(struct sdk *c, const char *key)
{
	json_t *v = json_object_get(c->state, key);
	ck_assert_msg(json_is_boolean(v), "state without %s%s", key, why(c));
	return json_is_true(v);
}

/* Wait until the client has reported n statuses; the n-th must be
 * (status, reason). */
static void
expect_status(struct sdk *c, int n, int status, int reason, int timeout_ms)
{
	ck_assert_msg(WAIT_FOR(c->nstatus >= n || c->eof, timeout_ms) && c->nstatus >= n,
	    "client %s: no status #%d (want %d/%d) within %d ms%s", c->name, n, status, reason,
	    timeout_ms, why(c));
	ck_assert_msg(c->status[n - 1] == status && c->reason[n - 1] == reason,
	    "client %s: status #%d is %d reason %d, want %d reason %d%s", c->name, n,
	    c->status[n - 1], c->reason[n - 1], status, reason, why(c));
}

/* chatManager.send() of a text message; waits until the SDK has taken it
 * (the "sent" line): which one it is, for sdk_ack(). */
static const struct sdk_sent *
sdk_send(struct sdk *c, const char *channel, int type, const char *text)
{
	char cmd[900];
	int before = c->nsent, errs = c->send_errors;

	snprintf(cmd, sizeof cmd, "send %s %d %s", channel, type, text);
	sdk_cmd(c, cmd);
	ck_assert_msg(WAIT_FOR(c->nsent > before || c->send_errors > errs || c->eof, 5000) &&
	    c->nsent > before, "client %s: send to %s/%d not taken%s", c->name, channel, type, why(c));
	return &c->sent[before];
}

/* The SENDACK the status listener reported for s, waiting for it. */
static const struct sdk_ack *
sdk_ack(struct sdk *c, const struct sdk_sent *s, int timeout_ms)
{
	const struct sdk_ack *found = NULL;

#define FIND_ACK() __extension__ ({                                     \
	for (int i = 0; i < c->nacks && !found; i++)                    \
		if (c->acks[i].client_seq == s->client_seq)             \
			found = &c->acks[i];                            \
	found != NULL; })
	ck_assert_msg(WAIT_FOR(FIND_ACK() || c->eof, timeout_ms) && found,
	    "client %s: no SENDACK for clientSeq %lld within %d ms%s", c->name, s->client_seq,
	    timeout_ms, why(c));
#undef FIND_ACK
	return found;
}

/* The n-th (from 1) message the message listener reported that is not the
 * SDK's local echo of its own send, waiting for it. */
static const struct sdk_msg *
sdk_recv(struct sdk *c, int n, int timeout_ms)
{
	ck_assert_msg(WAIT_FOR(c->nrecv >= n || c->eof, timeout_ms) && c->nrecv >= n,
	    "client %s: %d messages received, want %d within %d ms%s", c->name, c->nrecv, n,
	    timeout_ms, why(c));
	for (int i = 0, k = 0; i < c->nmsgs; i++)
		if (!c->msgs[i].send && ++k == n)
			return &c->msgs[i];
	ck_abort_msg("message %d not recorded%s", n, why(c));
	return NULL;
}

/* Stop the client cleanly ("exit"), check it had nothing to complain about,
 * free it. */
static void
sdk_stop(struct sdk *c)
{
	sdk_cmd(c, "exit");
	if (!WAIT_FOR(c->eof, 5000)) {
		kill(c->pid, SIGKILL);
		ck_abort_msg("client %s did not exit%s", c->name, why(c));
	}
	if (!c->reaped)
		waitpid(c->pid, &c->exit_status, 0);
	ck_assert_msg(WIFEXITED(c->exit_status) && WEXITSTATUS(c->exit_status) == 0,
	    "client %s exit status %#x%s", c->name, c->exit_status, why(c));
	ck_assert_msg(c->errors == 0 && c->bad_lines == 0,
	    "client %s: %d errors, %d lines not JSON%s", c->name, c->errors, c->bad_lines, why(c));
	if (getenv("WK_E2E_VERBOSE"))
		fprintf(stderr, "%s", why(c));
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (clients[i] == c)
			clients[i] = NULL;
	close(c->in);
	close(c->out);
	json_decref(c->state);
	free(c->trace);
	free(c);
}

/* ---- HTTP ---- */

static void
set_token(const char *uid, const char *token, int device_flag, int level)
{
	wkt_set_token(&tree, uid, token, device_flag, level);
}

static void
post(const char *path, const char *json)
{
	char url[256], *resp = NULL;
	long st;

	snprintf(url, sizeof url, "%s%s", tree.http, path);
	st = wkt_http("POST", url, json, &resp, NULL);
	ck_assert_msg(st == 200, "POST %s %s: %ld %s", path, json, st, resp ? resp : "");
	free(resp);
}

static int
online(const char *uid, int device_flag)
{
	return wkt_online_count(&tree, uid, device_flag);
}

static int
wait_online(const char *uid, int device_flag, int want, int timeout_ms)
{
	return wkt_wait_online(&tree, uid, device_flag, want, timeout_ms);
}

/* ---- fixtures ---- */

static void
setup(void)
{
	wkt_tree_start(&tree, "tokenAuthOn: true\n");
}

static void
teardown(void)
{
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (clients[i]) {
			kill(clients[i]->pid, SIGKILL);
			waitpid(clients[i]->pid, NULL, 0);
			clients[i] = NULL;
		}
	wkt_tree_stop(&tree);
}

/* ---- tests ---- */

/* (1) A stored token, then the SDK connects over WebSocket: (1,1), and it
 * stays connected through several heartbeats (every PING answered by a PONG,
 * no other status), listed by /user/onlinestatus; gone once it leaves. */
START_TEST(test_sdk_connects_and_heartbeats)
{
	set_token("alice", "tok-alice", 1, 0);
	struct sdk *a = sdk_start("alice", "alice", "tok-alice", 1, 500, NULL);

	expect_status(a, 1, 1, 1, 15000);
	ck_assert_msg(a->connacks == 1, "CONNACKs: %d%s", a->connacks, why(a));
	ck_assert_int_eq(wait_online("alice", 1, 1, 5000), 1);
	ck_assert_msg(WAIT_FOR(a->pongs >= 4 || a->eof, 10000) && a->pongs >= 4,
	    "%d PINGs sent, %d PONGs received in 10 s%s", a->pings, a->pongs, why(a));
	ck_assert_msg(a->pongs <= a->pings, "more PONGs than PINGs%s", why(a));
	ck_assert_msg(a->bad_pongs == 0, "PONG not the single byte 0x80%s", why(a));
	ck_assert_msg(a->rx_multi == 0, "a WS message not holding exactly one packet%s", why(a));
	ck_assert_msg(a->nstatus == 1 && a->ws_new == 1 && a->ws_close == 0,
	    "the connection did not stay up%s", why(a));
	sdk_state(a);
	ck_assert_msg(state_bool(a, "connected"), "SDK not connected%s", why(a));
	ck_assert_msg(json_integer_value(json_object_get(a->state, "pingRetryCount")) <= 1,
	    "PINGs unanswered%s", why(a));
	ck_assert_int_eq(online("alice", 1), 1);
	ck_assert_int_eq(online("alice", 0), 0);
	/* The SDK closes the socket; the server takes it out of presence. */
	sdk_cmd(a, "disconnect");
	ck_assert_msg(WAIT_FOR(a->ws_close == 1, 5000), "socket not closed%s", why(a));
	ck_assert_int_eq(wait_online("alice", 1, 0, 5000), 0);
	sdk_stop(a);
}
END_TEST

/* (2) A wrong token and a uid without any token: the SDK reports (3,2),
 * the server closes the socket, and the SDK does not come back (its
 * reconnect delay is 3 s; we watch for 4.5 s).  The right token then works. */
START_TEST(test_sdk_wrong_token_fails_without_reconnect)
{
	set_token("bob", "right", 1, 0);
	struct sdk *b = sdk_start("bob", "bob", "wrong", 1, 500, NULL);
	struct sdk *n = sdk_start("nobody", "nobody", "anything", 1, 500, NULL);

	expect_status(b, 1, 3, 2, 15000);
	expect_status(n, 1, 3, 2, 15000);
	ck_assert_msg(b->connacks == 1 && n->connacks == 1, "CONNACK count%s%s", why(b), why(n));
	ck_assert_msg(WAIT_FOR(b->ws_close >= 1 && n->ws_close >= 1, 5000),
	    "server kept the failed connection open%s%s", why(b), why(n));
	ck_assert_msg(!WAIT_FOR(b->ws_new > 1 || n->ws_new > 1, 4500),
	    "the SDK reconnected after ConnectFail%s%s", why(b), why(n));
	sdk_state(b);
	ck_assert_msg(!state_bool(b, "needReconnect") && !state_bool(b, "connected"),
	    "SDK still wants to reconnect%s", why(b));
	/* (3,2), then (0,0) when the socket closed: nothing else. */
	ck_assert_msg(b->nstatus <= 2 && (b->nstatus == 1 || b->status[1] == 0), "statuses%s", why(b));
	ck_assert_int_eq(online("bob", 1), 0);
	ck_assert_int_eq(online("nobody", 1), 0);
	sdk_stop(b);
	sdk_stop(n);

	struct sdk *ok = sdk_start("bob-right", "bob", "right", 1, 500, NULL);
	expect_status(ok, 1, 1, 1, 15000);
	ck_assert_int_eq(wait_online("bob", 1, 1, 5000), 1);
	sdk_stop(ok);
}
END_TEST

/* (3a) Master device: a second SDK with the same uid and device flag logs
 * in; the first gets DISCONNECT and reports (4,12), the server closes its
 * socket and the SDK stays down; the second stays connected.  A runs with
 * the default-like long heartbeat so only the kick decides what it does. */
START_TEST(test_sdk_second_master_login_kicks_first)
{
	set_token("carol", "tok-carol", 1, 1);
	struct sdk *a = sdk_start("carol-a", "carol", "tok-carol", 1, 60000, NULL);
	expect_status(a, 1, 1, 1, 15000);
	ck_assert_int_eq(wait_online("carol", 1, 1, 5000), 1);

	struct sdk *b = sdk_start("carol-b", "carol", "tok-carol", 1, 500, NULL);
	expect_status(b, 1, 1, 1, 15000);
	expect_status(a, 2, 4, 12, 10000);
	ck_assert_msg(a->disconnects == 1 && strncmp(a->disconnect_hex, "90", 2) == 0,
	    "no DISCONNECT packet%s", why(a));
	ck_assert_msg(WAIT_FOR(a->ws_close >= 1, 15000), "kicked socket never closed%s", why(a));
	int pongs = b->pongs;
	ck_assert_msg(!WAIT_FOR(a->ws_new > 1, 4500), "kicked SDK reconnected%s", why(a));
	sdk_state(a);
	ck_assert_msg(!state_bool(a, "needReconnect"), "kicked SDK wants to reconnect%s", why(a));
	/* B was not disturbed: still answered, one status only. */
	ck_assert_msg(WAIT_FOR(b->pongs >= pongs + 2, 5000), "B lost its PONGs%s", why(b));
	ck_assert_msg(b->nstatus == 1 && b->ws_close == 0 && b->ws_new == 1, "B disturbed%s", why(b));
	ck_assert_int_eq(wait_online("carol", 1, 1, 5000), 1);
	sdk_stop(a);
	sdk_stop(b);
}
END_TEST

/* (3b) POST /user/token again for a connected uid: device_level 0 leaves
 * the connection alone, device_level 1 kicks it with (4,12).  This client
 * does what an application does on a kick: disconnect(). */
START_TEST(test_sdk_master_token_update_kicks)
{
	set_token("dave", "t1", 1, 1);
	struct sdk *a = sdk_start("dave", "dave", "t1", 1, 500, "--on-kick=disconnect");
	expect_status(a, 1, 1, 1, 15000);
	ck_assert_int_eq(wait_online("dave", 1, 1, 5000), 1);

	set_token("dave", "t2", 1, 0);
	int pongs = a->pongs;
	ck_assert_msg(WAIT_FOR(a->pongs >= pongs + 2, 5000), "no PONGs after the slave update%s", why(a));
	ck_assert_msg(a->nstatus == 1 && a->disconnects == 0, "a slave token update kicked%s", why(a));

	set_token("dave", "t3", 1, 1);
	expect_status(a, 2, 4, 12, 10000);
	ck_assert_msg(a->disconnects == 1 && strncmp(a->disconnect_hex, "90", 2) == 0,
	    "no DISCONNECT packet%s", why(a));
	ck_assert_int_eq(wait_online("dave", 1, 0, 5000), 0);
	sdk_stop(a);
	/* The new token is the one that works now. */
	struct sdk *b = sdk_start("dave-t3", "dave", "t3", 1, 500, NULL);
	expect_status(b, 1, 1, 1, 15000);
	sdk_stop(b);
}
END_TEST

/* A message as the receiving SDK's listener shows it. */
static void
check_msg(struct sdk *c, const struct sdk_msg *m, const char *from, const char *channel,
    int type, const char *text, long long seq)
{
	ck_assert_msg(strcmp(m->text, text) == 0 && strcmp(m->from, from) == 0 &&
	    strcmp(m->channel, channel) == 0 && m->channel_type == type && m->seq == seq &&
	    m->content_type == 1 && m->id[0] != '\0' && strcmp(m->id, "0") != 0,
	    "client %s: got \"%s\" from %s in %s/%d seq %lld type %d id %s, want \"%s\" from %s "
	    "in %s/%d seq %lld%s", c->name, m->text, m->from, m->channel, m->channel_type, m->seq,
	    m->content_type, m->id, text, from, channel, type, seq, why(c));
}

/* (4) Person chat both ways between two SDKs: the text (not ASCII) arrives
 * exactly, from the sender, in the channel the SDK shows as the peer; each
 * sender gets SENDACK reason 1 with the channel's next seq, and the
 * receiver's message has the acknowledged id and the sender's clientMsgNo. */
START_TEST(test_sdk_person_chat_both_ways)
{
	const char *hello = "hi bob 你好 ✓", *reply = "hi A — 再见 ✓ ok";

	set_token("A-uid", "tok-a", 1, 0);
	set_token("B-uid", "tok-b", 1, 0);
	struct sdk *a = sdk_start("A", "A-uid", "tok-a", 1, 500, NULL);
	struct sdk *b = sdk_start("B", "B-uid", "tok-b", 1, 500, NULL);
	expect_status(a, 1, 1, 1, 15000);
	expect_status(b, 1, 1, 1, 15000);

	const struct sdk_sent *s = sdk_send(a, "B-uid", 1, hello);
	const struct sdk_ack *k = sdk_ack(a, s, 10000);
	ck_assert_msg(k->reason == 1 && k->seq == 1, "A's SENDACK: reason %d seq %lld%s",
	    k->reason, k->seq, why(a));
	const struct sdk_msg *m = sdk_recv(b, 1, 10000);
	check_msg(b, m, "A-uid", "A-uid", 1, hello, 1);
	ck_assert_msg(strcmp(m->id, k->id) == 0 && strcmp(m->client_msg_no, s->client_msg_no) == 0,
	    "B's message id %s clientMsgNo %s, A's ack id %s clientMsgNo %s%s%s", m->id,
	    m->client_msg_no, k->id, s->client_msg_no, why(a), why(b));

	s = sdk_send(b, "A-uid", 1, reply);
	k = sdk_ack(b, s, 10000);
	ck_assert_msg(k->reason == 1 && k->seq == 2, "B's SENDACK: reason %d seq %lld%s",
	    k->reason, k->seq, why(b));
	m = sdk_recv(a, 1, 10000);
	check_msg(a, m, "B-uid", "B-uid", 1, reply, 2);
	ck_assert_msg(strcmp(m->id, k->id) == 0 && strcmp(m->client_msg_no, s->client_msg_no) == 0,
	    "A's message id %s, B's ack id %s%s%s", m->id, k->id, why(a), why(b));
	/* Each got exactly the one message, and one SENDACK for its one send. */
	ck_assert_msg(a->nrecv == 1 && b->nrecv == 1 && a->nacks == 1 && b->nacks == 1,
	    "messages A %d B %d, acks A %d B %d%s%s", a->nrecv, b->nrecv, a->nacks, b->nacks,
	    why(a), why(b));
	ck_assert_msg(a->rx_multi == 0 && b->rx_multi == 0, "coalesced packets%s%s", why(a), why(b));
	sdk_stop(a);
	sdk_stop(b);
}
END_TEST

/* (5) A group of three with one member offline: five messages sent back to
 * back by one SDK reach the other online SDK, all of them, in order, with
 * seqs 1..5; the sender's SENDACKs carry the same seqs, reason 1. */
START_TEST(test_sdk_group_messages_in_order)
{
	char text[32];
	const struct sdk_sent *s[5];

	set_token("g-a", "tok-ga", 1, 0);
	set_token("g-b", "tok-gb", 1, 0);
	post("/channel", "{\"channel_id\":\"g-sdk\",\"channel_type\":2,"
	    "\"subscribers\":[\"g-a\",\"g-b\",\"g-c\"]}");
	struct sdk *a = sdk_start("g-a", "g-a", "tok-ga", 1, 500, NULL);
	struct sdk *b = sdk_start("g-b", "g-b", "tok-gb", 1, 500, NULL);
	expect_status(a, 1, 1, 1, 15000);
	expect_status(b, 1, 1, 1, 15000);
	ck_assert_int_eq(online("g-c", -1), 0);

	for (int i = 0; i < 5; i++) {
		snprintf(text, sizeof text, "group msg %d ✓", i + 1);
		s[i] = sdk_send(a, "g-sdk", 2, text);
	}
	for (int i = 0; i < 5; i++) {
		const struct sdk_ack *k = sdk_ack(a, s[i], 10000);
		ck_assert_msg(k->reason == 1 && k->seq == i + 1, "SENDACK %d: reason %d seq %lld%s",
		    i + 1, k->reason, k->seq, why(a));
	}
	for (int i = 0; i < 5; i++) {
		snprintf(text, sizeof text, "group msg %d ✓", i + 1);
		const struct sdk_msg *m = sdk_recv(b, i + 1, 10000);
		check_msg(b, m, "g-a", "g-sdk", 2, text, i + 1);
		ck_assert_msg(strcmp(m->client_msg_no, s[i]->client_msg_no) == 0,
		    "message %d: clientMsgNo %s, sent %s%s", i + 1, m->client_msg_no,
		    s[i]->client_msg_no, why(b));
	}
	/* The sender's own device is not sent its messages back. */
	ck_assert_msg(a->nrecv == 0, "the sender received %d messages%s", a->nrecv, why(a));
	ck_assert_msg(b->nrecv == 5, "g-b received %d messages%s", b->nrecv, why(b));
	sdk_stop(a);
	sdk_stop(b);
}
END_TEST

/* (6) A send the server refuses: a non-member writes to the group and the
 * SDK's status listener reports reason 3 (no seq); the members see nothing
 * of it, and a member's next message is seq 2 after the member's first. */
START_TEST(test_sdk_refused_send_reason)
{
	set_token("r-m", "tok-m", 1, 0);
	set_token("r-x", "tok-x", 1, 0);
	post("/channel", "{\"channel_id\":\"g-sdk\",\"channel_type\":2,"
	    "\"subscribers\":[\"r-m\",\"r-o\"]}");
	struct sdk *m = sdk_start("r-m", "r-m", "tok-m", 1, 500, NULL);
	struct sdk *x = sdk_start("r-x", "r-x", "tok-x", 1, 500, NULL);
	expect_status(m, 1, 1, 1, 15000);
	expect_status(x, 1, 1, 1, 15000);

	const struct sdk_ack *k = sdk_ack(m, sdk_send(m, "g-sdk", 2, "member 1"), 10000);
	ck_assert_msg(k->reason == 1 && k->seq == 1, "member SENDACK: reason %d seq %lld%s",
	    k->reason, k->seq, why(m));
	k = sdk_ack(x, sdk_send(x, "g-sdk", 2, "intruder"), 10000);
	ck_assert_msg(k->reason == 3 && k->seq == 0, "non-member SENDACK: reason %d seq %lld%s",
	    k->reason, k->seq, why(x));
	k = sdk_ack(m, sdk_send(m, "g-sdk", 2, "member 2"), 10000);
	ck_assert_msg(k->reason == 1 && k->seq == 2, "member SENDACK after the refusal: reason %d "
	    "seq %lld%s", k->reason, k->seq, why(m));
	/* Still connected: a refusal is not a disconnect. */
	ck_assert_msg(x->nstatus == 1 && x->ws_close == 0 && x->disconnects == 0,
	    "the refused SDK was disconnected%s", why(x));
	ck_assert_msg(m->nrecv == 0 && x->nrecv == 0, "messages delivered: member %d, non-member %d%s%s",
	    m->nrecv, x->nrecv, why(m), why(x));
	sdk_stop(m);
	sdk_stop(x);
}
END_TEST

/* /message/sync for uid: the answer, parsed. */
static json_t *
cmd_sync(const char *uid)
{
	char body[128];

	snprintf(body, sizeof body, "{\"uid\":\"%s\",\"limit\":100}", uid);
	return wkt_call(&tree, "POST", "/message/sync", body, 200);
}

/* (7) The pattern cmd messages exist for: a business server bans a group
 * and sends a cmd message so that every member re-fetches the channel.
 * The online member's SDK gets it through its CMD listener, and its
 * RECVACK empties the mailbox; the offline member gets it from
 * /message/sync after reconnecting, exactly once, although a thousand chat
 * messages were sent to the group in between. */
START_TEST(test_sdk_cmd_channel_update)
{
	static const char cmd[] = "{\"type\":99,\"cmd\":\"channelUpdate\","
	    "\"param\":{\"channel_id\":\"g-cmd\",\"channel_type\":2}}";
	char b64[256], body[512];
	json_t *l;
	uint64_t end;

	set_token("c-on", "tok-on", 1, 1);
	set_token("c-off", "tok-off", 1, 1);
	post("/channel", "{\"channel_id\":\"g-cmd\",\"channel_type\":2,"
	    "\"subscribers\":[\"c-on\",\"c-off\"]}");
	struct sdk *on = sdk_start("c-on", "c-on", "tok-on", 1, 500, NULL);
	expect_status(on, 1, 1, 1, 15000);
	post("/channel/info", "{\"channel_id\":\"g-cmd\",\"channel_type\":2,\"ban\":1}");
	b64[wk_b64_encode(cmd, strlen(cmd), b64)] = '\0';
	snprintf(body, sizeof body, "{\"channel_id\":\"g-cmd\",\"channel_type\":2,"
	    "\"header\":{\"sync_once\":1},\"payload\":\"%s\"}", b64);
	post("/message/send", body);
	ck_assert_msg(WAIT_FOR(on->ncmds >= 1, 10000) && strcmp(on->cmds[0], "channelUpdate") == 0 &&
	    strcmp(on->cmd_channels[0], "g-cmd") == 0, "CMD listener: %d calls%s", on->ncmds, why(on));
	ck_assert_msg(on->nrecv == 0, "the cmd message reached the message listener%s", why(on));
	/* The SDK's RECVACK (a master device) acknowledged it in the mailbox. */
	for (end = wkt_now_ms() + 10000;; pump(50)) {
		l = cmd_sync("c-on");
		size_t n = json_array_size(l);
		json_decref(l);
		if (n == 0)
			break;
		ck_assert_msg(wkt_now_ms() < end, "c-on's mailbox still holds %zu%s", n, why(on));
	}
	sdk_stop(on);
	/* A thousand chat messages later, the offline member connects. */
	post("/channel/info", "{\"channel_id\":\"g-cmd\",\"channel_type\":2,\"ban\":0}");
	for (int i = 0; i < 1000; i++) {
		char chat[64], p64[128];
		snprintf(chat, sizeof chat, "{\"type\":1,\"content\":\"chat %d\"}", i);
		p64[wk_b64_encode(chat, strlen(chat), p64)] = '\0';
		snprintf(body, sizeof body, "{\"from_uid\":\"c-on\",\"channel_id\":\"g-cmd\","
		    "\"channel_type\":2,\"payload\":\"%s\"}", p64);
		post("/message/send", body);
	}
	struct sdk *off = sdk_start("c-off", "c-off", "tok-off", 1, 500, NULL);
	expect_status(off, 1, 1, 1, 15000);
	l = cmd_sync("c-off");
	ck_assert_msg(json_array_size(l) == 1, "c-off: %zu cmd messages", json_array_size(l));
	json_t *m = json_array_get(l, 0);
	const char *pl = json_string_value(json_object_get(m, "payload"));
	ck_assert_ptr_nonnull(pl);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(m, "header"), "sync_once")), 1);
	ck_assert_str_eq(json_string_value(json_object_get(m, "channel_id")), "g-cmd");
	char text[256];
	ssize_t tn = wk_b64_decode(pl, strlen(pl), (uint8_t *)text, sizeof text - 1);
	ck_assert(tn > 0);
	text[tn] = '\0';
	ck_assert_str_eq(text, cmd);
	snprintf(body, sizeof body, "{\"uid\":\"c-off\",\"last_message_seq\":%lld}",
	    (long long)json_integer_value(json_object_get(m, "message_seq")));
	json_decref(l);
	post("/message/syncack", body);
	l = cmd_sync("c-off");
	ck_assert_uint_eq(json_array_size(l), 0);
	json_decref(l);
	/* Nothing came to it as a RECV after connecting: it was offline. */
	pump(300);
	ck_assert_msg(off->ncmds == 0, "c-off got %d cmd RECVs%s", off->ncmds, why(off));
	sdk_stop(off);
}
END_TEST

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

static int
prepare(void)
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
	    asprintf(&client_script, "%s/sdk_client.mjs", e2e_src) < 0 ||
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
		fprintf(stderr, "check_sdk: npm ci in %s\n", e2e_build);
		uint64_t t0 = wkt_now_ms();
		if (wkt_run(&out, "cd '%s' && '%s' ci --no-audit --no-fund --loglevel=error",
		    e2e_build, npm_bin) != 0)
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

/* (8) A stream message (an AI reply in pieces) to a user of the SDK, which
 * speaks protocol version 2: an anchor from /message/send is_stream, text
 * deltas from /message/event, then its end.  The SDK's message listener
 * sees the anchor as the stream's start (streamNo, flag 0), each piece in
 * order (flag 1, streamSeq 1, 2, ...) with its text, then the end (flag 2);
 * the server never sent it an EVENT packet (which it cannot decode), so it
 * stayed on its one connection without an error. */
START_TEST(test_sdk_stream)
{
	static const char *const pieces[] = { "Stre", "aming ", "reply ✓" };
	char body[512], *p;
	json_t *j;

	set_token("s-user", "tok-s", 1, 0);
	struct sdk *u = sdk_start("s-user", "s-user", "tok-s", 1, 500, NULL);
	expect_status(u, 1, 1, 1, 15000);
	p = malloc(WK_B64_ENCODED_LEN(64) + 1);
	p[wk_b64_encode("{\"type\":1,\"content\":\"\"}", 23, p)] = '\0';
	snprintf(body, sizeof body, "{\"from_uid\":\"s-bot\",\"channel_id\":\"s-user\","
	    "\"channel_type\":1,\"payload\":\"%s\",\"client_msg_no\":\"ai-1\",\"is_stream\":1}", p);
	free(p);
	post("/message/send", body);
	for (int i = 0; i < 3; i++) {
		snprintf(body, sizeof body, "{\"from_uid\":\"s-bot\",\"channel_id\":\"s-user\","
		    "\"channel_type\":1,\"client_msg_no\":\"ai-1\",\"event_id\":\"d%d\","
		    "\"event_type\":\"stream.delta\",\"payload\":{\"kind\":\"text\",\"delta\":\"%s\"}}",
		    i, pieces[i]);
		post("/message/event", body);
	}
	post("/message/event", "{\"from_uid\":\"s-bot\",\"channel_id\":\"s-user\",\"channel_type\":1,"
	    "\"client_msg_no\":\"ai-1\",\"event_id\":\"end\",\"event_type\":\"stream.close\"}");
	for (int n = 1; n <= 5; n++) {
		const struct sdk_msg *m = sdk_recv(u, n, 10000);
		const char *want = n == 1 || n == 5 ? "" : pieces[n - 2];
		int flag = n == 1 ? 0 : n == 5 ? 2 : 1;
		ck_assert_msg(strcmp(m->stream_no, "ai-1") == 0 && m->stream_flag == flag &&
		    m->stream_seq == n - 1 && strcmp(m->text, want) == 0 &&
		    strcmp(m->client_msg_no, "ai-1") == 0 && strcmp(m->from, "s-bot") == 0 &&
		    strcmp(m->channel, "s-bot") == 0 && m->seq == 1,
		    "message %d: stream %s flag %d seq %lld text \"%s\", want flag %d seq %d \"%s\"%s",
		    n, m->stream_no, m->stream_flag, m->stream_seq, m->text, flag, n - 1, want, why(u));
	}
	ck_assert_msg(u->rx_events == 0, "the SDK was sent %d EVENT packets%s", u->rx_events, why(u));
	ck_assert_msg(u->nstatus == 1 && u->ws_new == 1 && u->ws_close == 0 && u->rx_multi == 0,
	    "the SDK did not stay on its connection%s", why(u));
	/* It can read the whole text afterwards, as a client that reconnects. */
	j = wkt_call(&tree, "POST", "/channel/messagesync", "{\"login_uid\":\"s-user\","
	    "\"channel_id\":\"s-bot\",\"channel_type\":1,\"limit\":5}", 200);
	p = malloc(64);
	p[wk_b64_encode("Streaming reply \xe2\x9c\x93", 19, p)] = '\0';
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(j,
	    "messages"), 0), "stream_data")), p);
	free(p);
	json_decref(j);
	sdk_stop(u);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("sdk");
	TCase *tc = tcase_create("jssdk");

	signal(SIGPIPE, SIG_IGN);
	if (prepare() < 0)
		return 1;
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_sdk_connects_and_heartbeats);
	tcase_add_test(tc, test_sdk_wrong_token_fails_without_reconnect);
	tcase_add_test(tc, test_sdk_second_master_login_kicks_first);
	tcase_add_test(tc, test_sdk_master_token_update_kicks);
	tcase_add_test(tc, test_sdk_person_chat_both_ways);
	tcase_add_test(tc, test_sdk_group_messages_in_order);
	tcase_add_test(tc, test_sdk_refused_send_reason);
	tcase_add_test(tc, test_sdk_cmd_channel_update);
	tcase_add_test(tc, test_sdk_stream);
	suite_add_tcase(s, tc);
	return wkt_run_suite(s);
}
