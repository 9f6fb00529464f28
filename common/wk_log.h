/* wk_log.h - logging with a role tag ("channel/3: ..."), stderr, a file or syslog, rate limits.
 * wk_log_warn appends strerror(errno), wk_log_warnx does not (BSD err/errx style).
 * wk_fatal[x] exit 1. */
#ifndef WK_LOG_H
#define WK_LOG_H
#include <stdarg.h>
#include <stdint.h>

enum wk_log_level { WK_LOG_DEBUG = 1, WK_LOG_INFO, WK_LOG_WARN, WK_LOG_ERROR };

/* Role tag for every line: role "channel", instance 3 -> "channel/3"; instance < 0 -> "master". */
void wk_log_init(const char *role, int instance, int foreground);
void wk_log_set_level(int level);
/* After the config is loaded: the level (logger.level, else by mode) and,
 * when logger.dir is set, the file <logger.dir>/wk.log.  0 or -1 (logged). */
struct wk_config;
int wk_log_configure(const struct wk_config *cfg);
/* Also send warnings and errors as "error <text>\n" lines to fd (the pipe to
 * wk-master until the process is ready: the cause of a failed start); -1 = off. */
void wk_log_report_to(int fd);
/* 1 if the syslog socket (/dev/log) exists. */
int wk_log_syslog_exists(void);
int wk_log_level(void);

void wk_log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void wk_log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void wk_log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void wk_log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void wk_log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void wk_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void wk_fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void wk_log_v(int level, int with_errno, const char *fmt, va_list ap);

/* A rate limit for one kind of message (per-client warnings): at most `burst`
 * lines per second; the lines dropped are counted and reported on the next one. */
struct wk_ratelimit {
	uint32_t burst;
	uint64_t window_start_ms;
	uint32_t in_window;
	uint64_t suppressed;
};
#define WK_RATELIMIT_INIT(burst) { (burst), 0, 0, 0 }
/* Returns 1 when a line may be logged now. */
int wk_ratelimit_ok(struct wk_ratelimit *rl);
void wk_log_limited(struct wk_ratelimit *rl, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
