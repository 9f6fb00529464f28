/* sdk_driver.h - what the end-to-end tests with the official WuKongIM JS
 * SDK (check_sdk_*.c) share: Node.js and the npm packages made ready, a
 * tree per test (tokenAuthOn: true), and SDK clients, each one `node
 * sdk_client.mjs` process (the SDK is a singleton) that prints JSON lines
 * which the driver reads with timeouts into struct sdk. */
#ifndef SDK_DRIVER_H
#define SDK_DRIVER_H
#include <check.h>
#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>
#include "wktest.h"

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
	json_t *lines;                /* every JSON line, in order */
};

/* The tree of the running test (its HTTP API, its WebSocket port). */
extern struct wkt_tree sdk_tree;

/* A test program's main(): Node.js and the npm packages made ready, then a
 * suite `name` of one TCase whose tests add_tests adds, each with a fresh
 * tree and every client killed afterwards.  The exit status. */
int sdk_main(const char *name, void (*add_tests)(TCase *tc));

/* Node.js and the npm packages made ready (what sdk_main does first), for a
 * program with its own suite (check_console): 0, 77 (skip: distcheck
 * without the packages) or -1 after saying why; then the node program and
 * the node_modules directory. */
int sdk_prepare(void);
const char *sdk_node(void);
const char *sdk_modules(void);

/* Start a client of uid with token at device_flag, heartbeat every
 * heartbeat_ms; extra: one more sdk_client.mjs option, or NULL. */
struct sdk *sdk_start(const char *name, const char *uid, const char *token, int device_flag,
    int heartbeat_ms, const char *extra);
/* Start another script of tests/e2e (browser_ws.mjs...) the same way:
 * node <loader> <script> --modules=DIR args... (NULL-terminated). */
struct sdk *sdk_start_script(const char *name, const char *script, const char *const *args);
/* The last line c printed whose "ev" is ev, or NULL (borrowed). */
json_t *sdk_line(struct sdk *c, const char *ev);
/* The n-th (from 1) line whose "ev" is ev, waiting for it; fails the test
 * when it does not come (borrowed). */
json_t *sdk_wait_line(struct sdk *c, const char *ev, int n, int timeout_ms);
/* One command line to the client (sdk_client.mjs). */
void sdk_cmd(struct sdk *c, const char *cmd);
/* Ask the client for the SDK's connection state; the answer (borrowed). */
json_t *sdk_state(struct sdk *c);
/* A boolean of the last state answer. */
int sdk_state_bool(struct sdk *c, const char *key);
/* Wait until the client has reported n statuses; the n-th must be
 * (status, reason). */
void sdk_expect_status(struct sdk *c, int n, int status, int reason, int timeout_ms);
/* chatManager.send() of a text message; waits until the SDK has taken it
 * (the "sent" line): which one it is, for sdk_ack(). */
const struct sdk_sent *sdk_send(struct sdk *c, const char *channel, int type, const char *text);
/* The SENDACK the status listener reported for s, waiting for it. */
const struct sdk_ack *sdk_ack(struct sdk *c, const struct sdk_sent *s, int timeout_ms);
/* The n-th (from 1) message the message listener reported that is not the
 * SDK's local echo of its own send, waiting for it. */
const struct sdk_msg *sdk_recv(struct sdk *c, int n, int timeout_ms);
/* A message as the receiving SDK's listener shows it: assert its fields. */
void sdk_check_msg(struct sdk *c, const struct sdk_msg *m, const char *from, const char *channel,
    int type, const char *text, long long seq);
/* Stop the client cleanly ("exit"), check it had nothing to complain about,
 * free it. */
void sdk_stop(struct sdk *c);

/* Read whatever every live client printed, waiting up to timeout_ms for
 * the first byte. */
void sdk_pump(int timeout_ms);
/* Milliseconds left until end, at most 100 (one pump). */
int sdk_slice_ms(uint64_t end);
/* Wait until cond holds (re-evaluated after every batch of lines, at least
 * every 100 ms), at most ms; the value of cond at the end. */
#define SDK_WAIT_FOR(cond, ms) __extension__ ({                         \
	uint64_t end_ = wkt_now_ms() + (ms);                            \
	while (!(cond) && wkt_now_ms() < end_)                          \
		sdk_pump(sdk_slice_ms(end_));                           \
	(cond); })
/* What to print when an assertion about c fails: its lines and its stderr
 * (one of four buffers, so one message can show two clients). */
const char *sdk_why(struct sdk *c);

/* The HTTP API of sdk_tree. */
void sdk_set_token(const char *uid, const char *token, int device_flag, int level);
/* POST json to path; asserts status 200. */
void sdk_post(const char *path, const char *json);
int sdk_online(const char *uid, int device_flag);
int sdk_wait_online(const char *uid, int device_flag, int want, int timeout_ms);

#endif
