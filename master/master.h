/* master.h - wk-master's private state (wk-master(8)), shared by its files:
 *   master.c        main, options, config load and reload, the loop
 *   master_child.c  the children: fork + exec, ready, reap, respawn with
 *                   back-off, ordered shutdown
 *   master_ctl.c    the control socket (wkctl, tests): status, reload, stop,
 *                   backup
 *   master_backup.c hot backups: each shard copies its own environment
 */
#ifndef MASTER_H
#define MASTER_H
#include <stdint.h>
#include <sys/types.h>
#include "lastmsg.h"
#include "presence.h"
#include "stats.h"
#include "wk_config.h"
#include "wk_loop.h"

enum master_child_state {
	MASTER_CHILD_STOPPED,    /* not running, not to be started (shutdown) */
	MASTER_CHILD_STARTING,   /* forked, "ready" not yet received */
	MASTER_CHILD_READY,
	MASTER_CHILD_BACKOFF,    /* died; respawn at respawn_at_ms */
	MASTER_CHILD_FAILED,     /* exited 2 (bad config): never respawned */
	MASTER_CHILD_STOPPING,   /* SIGTERM sent */
};

enum master_backup_state {
	MASTER_BACKUP_IDLE,
	MASTER_BACKUP_PENDING,       /* asked, no answer yet */
	MASTER_BACKUP_DONE,
	MASTER_BACKUP_NONE,          /* owns no environment */
	MASTER_BACKUP_FAILED,
};

struct master_child {
	int role;
	int instance;
	pid_t pid;
	int fd;                      /* master's end of the socketpair, -1 if none */
	enum master_child_state state;
	uint64_t started_ms;
	uint64_t ready_ms;           /* when "ready" came, 0 if not yet */
	uint64_t ping_out_ms;        /* oldest unanswered ping, 0 if none */
	uint64_t pong_ms;            /* last "pong" */
	char error[512];             /* its "error" lines before ready (why it failed) */
	uint64_t deadline_ms;        /* ready or stop deadline */
	uint64_t respawn_at_ms;
	uint64_t delay_ms;           /* the back-off that was applied last */
	uint32_t restarts;
	uint32_t crashes;            /* quick deaths in a row */
	char in[2048];
	size_t inlen;
	char status[1200];
	uint32_t status_round;       /* round the status line answers */
	enum master_backup_state backup;
	pid_t backup_pid;            /* the pid asked: a respawned child fails it */
	char backup_note[400];       /* "12 ms" or why it failed */
};

struct master_ctl_client;

struct master {
	struct wk_config cfg;
	char *config_path;
	int foreground;
	struct wk_loop *loop;
	struct master_child *children;
	int nchildren;
	struct presence presence;
	char shm_name[64];
	struct lastmsg lastmsg;      /* the channels' last messages (lastmsg.h) */
	char last_name[64];
	struct stats stats;          /* one row per child (stats.h) */
	char stats_name[64];
	char *pid_path, *ctl_path, *exec_dir;
	int pid_fd, ctl_fd, sig_fd;
	int ready_fd;                /* daemon start: tells the waiting parent */
	int tree_was_ready;
	int start_failed;            /* a child died during the first start: stop, exit 1 */
	char start_error[600];
	uint64_t next_ping_ms;
	int health_changed;          /* a child changed state: rewrite the health file now */
	char *health_path;           /* <runDir>/health, read by wk-api's /health */
	int stopping, stop_phase;
	uint64_t started_ms;
	uint32_t reloads, reload_failures;
	uint32_t status_round;
	uint64_t status_deadline_ms;
	struct master_ctl_client *clients;
	char *backup_dir;            /* the backup under way, NULL if none */
	uint64_t backup_began_ms, backup_deadline_ms;
};

/* master_child.c */
void master_children_init(struct master *m);
void master_spawn(struct master *m, struct master_child *c);
void master_reap(struct master *m);
void master_tick_children(struct master *m);
void master_begin_stop(struct master *m);
void master_signal_children(struct master *m, int sig);
int master_child_count(const struct master *m, enum master_child_state st);
const char *master_state_name(enum master_child_state st);

/* master_ctl.c */
int master_ctl_listen(struct master *m);
void master_ctl_close(struct master *m);
void master_ctl_status_reply(struct master *m, int force);
void master_ctl_stopped(struct master *m);
int master_ctl_client(const struct wk_config *cfg, const char *cmd, int raw);
int master_read_pid(const struct wk_config *cfg);
int master_ctl_presence(const struct wk_config *cfg, const char *uid);

/* master_backup.c */
int master_backup_start(struct master *m, const char *dir, char *err, size_t errlen);
void master_backup_on_line(struct master *m, struct master_child *c, const char *rest);
char *master_backup_poll(struct master *m);
void master_ctl_backup_reply(struct master *m);

/* master_health.c */
void master_health_tick(struct master *m);
void master_health_on_pong(struct master *m, struct master_child *c);
void master_health_remove(struct master *m);

/* master_setup.c */
int master_manager_token(struct master *m);
int master_adopt_layout(struct master *m, char *err, size_t errlen);
int master_log_file(struct master *m);
int master_fallback_config(struct wk_config *cfg, const char *path);
void master_log_addresses(const struct wk_config *cfg, FILE *out);
void master_sd_notify(const char *state);
int master_stats_create(struct master *m);

/* master.c */
int master_reload(struct master *m, char **errors);

#endif
