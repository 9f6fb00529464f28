/* wktest.h - helpers for the integration tests: temporary trees, starting
 * the real binaries from the build tree, waiting on conditions (never on a
 * fixed sleep), reading wk-master's status. */
#ifndef WKTEST_H
#define WKTEST_H
#include <stdint.h>
#include <sys/types.h>
#include <check.h>

/* Run a Check suite with the default fork mode; the exit status for main(). */
int wkt_run_suite(Suite *s);

struct wkt_proc {
	char role[16];
	int instance;
	int pid;
	char state[16];
	unsigned restarts;
	unsigned long long next_delay_ms;
	unsigned reloads, reload_failures;
};

/* A new directory under /tmp (short: ipc paths must fit in sun_path). */
char *wkt_tmpdir(void);
void wkt_rm_rf(const char *dir);
/* Write <dir>/wk.yaml: rootDir = dir, small process counts, then `extra`. */
char *wkt_write_config(const char *dir, const char *extra);
void wkt_write_file(const char *path, const char *text);
/* Path of a program in the build tree. */
char *wkt_bin(const char *name);
/* Start wk-master -d -f config; its stderr goes to <dir>/master.log. */
pid_t wkt_start_master(const char *config, const char *dir);
/* Run a command, capture stdout+stderr into *out (malloc'd); exit status. */
int wkt_run(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Query <runDir>/master.sock; returns the number of processes (master first) or -1. */
int wkt_status(const char *run_dir, struct wkt_proc *out, int max);
/* The sum of a counter ("db_writes") over the status lines of every
 * process of `role` (NULL: all); -1 if the master did not answer. */
long long wkt_status_sum(const char *run_dir, const char *role, const char *key);
/* One key of role/instance's status line ("rep", "rep_master" ...): its
 * value copied into out (NUL-terminated, cut to len); 1 found, 0 when the
 * master did not answer, the process is not listed or its line (a process
 * that did not answer this round) lacks the key. */
int wkt_status_field(const char *run_dir, const char *role, int instance, const char *key,
    char *out, size_t len);
/* Wait until `n` processes (master included) report ready; 0 or -1 on timeout. */
int wkt_wait_ready(const char *run_dir, int n, int timeout_ms);
/* Wait until pid has exited (reaping it if it is our child); 0 or -1. */
int wkt_wait_exit(pid_t pid, int timeout_ms, int *status);
/* Find role/instance in a status listing; NULL if absent. */
struct wkt_proc *wkt_find(struct wkt_proc *v, int n, const char *role, int instance);
/* Sleep a short poll interval (between condition checks). */
void wkt_tick(void);
uint64_t wkt_now_ms(void);
/* Contents of a file (malloc'd, NUL-terminated) or NULL. */
char *wkt_read_file(const char *path);

/* A whole tree from the build directory on its own ports and directory. */
struct wkt_tree {
	char *dir, *config, *run;
	pid_t master;
	int tcp_port, ws_port, http_port;
	char http[64];               /* "http://127.0.0.1:PORT" */
	pid_t watchdog;              /* stops the tree if the test process dies */
	int watchdog_fd;
};
#define WKT_NPROCS 9             /* master, hook, 2 mailbox, 2 channel, api, 2 broker */
/* Start it (config: wkt_write_config + ports + extra) and wait until every
 * process is ready; aborts the test with master.log on failure. */
void wkt_tree_start(struct wkt_tree *t, const char *extra);
/* The same in two steps, for a test that prepares the directory (a
 * restored backup, an old LAYOUT) before the first start: prepare makes the
 * directory, ports and config; launch starts the master and waits (again
 * after halt: the same directory, config and ports).  halt: SIGTERM the
 * master and wait for a clean exit (fails the test otherwise). */
void wkt_tree_prepare(struct wkt_tree *t, const char *extra);
void wkt_tree_launch(struct wkt_tree *t);
void wkt_tree_halt(struct wkt_tree *t);
/* SIGTERM the master, wait for it, remove the directory (kept, and named
 * on stderr, when WKT_KEEP is set). */
void wkt_tree_stop(struct wkt_tree *t);
/* The pid of role/instance in the tree, or -1. */
int wkt_tree_pid(struct wkt_tree *t, const char *role, int instance);

/* kill -9 role/instance and wait until it is back and the tree ready again;
 * fails the test otherwise. */
void wkt_tree_kill9(struct wkt_tree *t, const char *role, int instance);

/* The whole tree as a host would be lost or frozen (the cluster tests).
 * pids: every process whose arguments name the tree's config ("-f
 * config"), found in /proc, wk-master first: children whose master is gone
 * are found too; how many.  signal: sig to each of them, the children
 * first for SIGCONT (the master, woken last, finds them running), the
 * master first otherwise; how many.  kill_all: SIGKILL to each, wk-master
 * first, and wait until all are gone (fails the test otherwise); then
 * t->master is 0 and wkt_tree_launch starts the tree again on the same
 * directory, config and ports. */
int wkt_tree_pids(const struct wkt_tree *t, pid_t *out, int max);
int wkt_tree_signal(const struct wkt_tree *t, int sig);
void wkt_tree_kill_all(struct wkt_tree *t);

/* A golden vector from tests/vectors (parsed JSON; fails the test if bad). */
struct json_t;
struct json_t *wkt_vec_load(const char *name);
/* Hex to bytes in a malloc'd buffer; *len is set. */
uint8_t *wkt_unhex(const char *hex, size_t *len);

/* A program: $env if set (a path, or a name looked up in PATH), else the
 * first of names found in PATH; malloc'd, or NULL. */
char *wkt_find_program(const char *env, const char *const *names);
/* A process's databases without the process, for the unit tests of a
 * shard's storage: open dir as p->env (storage.sync `sync`) and the
 * NULL-terminated databases as p->db[i] (created with the page sizes in
 * `pagesize`, NULL: the default), and its group commit p->txn, as the
 * skeleton does; close them all.  Failures fail the test. */
struct wk_proc;
void wkt_store_open(struct wk_proc *p, const char *dir, const char *const *dbs,
    const uint32_t *pagesize, const char *sync);
void wkt_store_close(struct wk_proc *p);

/* A TCP port below the ephemeral range that was free a moment ago and
 * that this process has not given out lately. */
int wkt_free_port(void);
/* The first of `count` consecutive TCP ports that were free a moment ago
 * on every one of the naddrs IPv4 addresses (a cluster's internal ports:
 * cluster.nodes), in 2048..9999, below wkt_free_port's range; claimed for
 * this process while it lives (files under /tmp/wkt-ports), so that tests
 * running side by side get blocks apart.  -1 if no block is free. */
int wkt_free_port_block(const char *const *addrs, int naddrs, int count);
/* An HTTP request with libcurl: the status, or -1; *body gets the response
 * body (malloc'd).  Extra headers as "Name: value", NULL-terminated.
 * wkt_http waits 10 s at most, wkt_http_ms timeout_ms. */
long wkt_http(const char *method, const char *url, const char *json, char **body,
    const char *const *headers);
long wkt_http_ms(const char *method, const char *url, const char *json, char **body,
    const char *const *headers, long timeout_ms);

/* An HTTP call to the tree's API: fails the test unless the status is
 * `status` and the body is JSON; returns the parsed body (json_decref it). */
struct json_t *wkt_call(const struct wkt_tree *t, const char *method, const char *path,
    const char *body, long status);
/* The same, and the body must equal `want` as JSON. */
void wkt_expect(const struct wkt_tree *t, const char *method, const char *path,
    const char *body, long status, const char *want);
/* POST path; the answer must be exactly {"status":200}. */
void wkt_post_ok(const struct wkt_tree *t, const char *path, const char *body);
/* POST /message/send of `text` (base64'd here) from `from` to (to, type),
 * with `header` (JSON; NULL: {"red_dot":1}) and `extra` members appended to
 * the body (",\"k\":v"; NULL: none); fails the test unless it was accepted
 * (status 200, reason_code 1).  Its message_seq; its message_id in *id if
 * id is not NULL. */
long long wkt_send_text(const struct wkt_tree *t, const char *from, const char *to, int type,
    const char *text, const char *header, const char *extra, int64_t *id);
/* 400 with exactly {"msg":msg,"status":400}. */
void wkt_expect_400(const struct wkt_tree *t, const char *method, const char *path,
    const char *body, const char *msg);

/* POST /user/token; fails the test unless the answer is {"status":200}. */
void wkt_set_token(const struct wkt_tree *t, const char *uid, const char *token,
    int device_flag, int device_level);
/* /user/onlinestatus for uid: how many connections (of device_flag, or any
 * when it is -1), -1 on error; and waiting until it is `want`. */
int wkt_online_count(const struct wkt_tree *t, const char *uid, int device_flag);
int wkt_wait_online(const struct wkt_tree *t, const char *uid, int device_flag, int want,
    int timeout_ms);

/* Speak to one shard of the tree directly, as a tool (WK_ROLE_CTL): send
 * op row `type` with `payload` to role/instance ("mailbox", 0) and wait for
 * its API_ANSWER (5 s, else the test fails).  The HTTP status is returned;
 * *answer (malloc'd, may be NULL) and *len get the rest of the frame. */
struct wkt_shard_link;
struct wkt_shard_link *wkt_shard_link_new(const struct wkt_tree *t);
void wkt_shard_link_destroy(struct wkt_shard_link **l);
int wkt_shard_ask(struct wkt_shard_link *l, const char *role, int instance, int type,
    const void *payload, size_t plen, uint8_t **answer, size_t *len);

#endif
