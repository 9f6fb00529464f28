/* wk_log.c - the one logger: "<time> <role>/<n>: message", one line per
 * event.  Where it goes: the file <logger.dir>/wk.log when that key is set;
 * else stderr in the foreground; else syslog (ident "wk") when the syslog
 * socket exists, and stderr when it does not (a detached wk-master points
 * its stderr, which the children inherit, at <rootDir>/logs/wk.log then).
 * Lines are written with one write(2) (O_APPEND for the file) so lines of
 * several processes sharing a descriptor or a file do not interleave. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <paths.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include "wk_config.h"
#include "wk_alloc.h"
#include "wk_fs.h"
#include "wk_log.h"
#include "wk_time.h"

static char log_tag[48] = "wk";
static int log_foreground = 1;
static int log_min = WK_LOG_INFO;
static int log_fd = STDERR_FILENO;     /* where non-syslog lines go */
static int report_fd = -1;             /* wk-master's pipe while starting */

void wk_log_report_to(int fd) { report_fd = fd; }

int
wk_log_syslog_exists(void)
{
	struct stat st;

	return stat(_PATH_LOG, &st) == 0 && S_ISSOCK(st.st_mode);
}

void
wk_log_init(const char *role, int instance, int foreground)
{
	if (instance < 0)
		snprintf(log_tag, sizeof log_tag, "%s", role);
	else
		snprintf(log_tag, sizeof log_tag, "%s/%d", role, instance);
	/* Detached with no syslog socket, the lines go to stderr: syslog(3)
	 * would drop them. */
	log_foreground = foreground || !wk_log_syslog_exists();
	if (!log_foreground)
		openlog("wk", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

int
wk_log_configure(const struct wk_config *cfg)
{
	int lvl = (int)cfg->logger_level, fd;
	char *path;

	if (lvl == 0)
		lvl = strcmp(cfg->mode, "debug") == 0 ? WK_LOG_DEBUG : WK_LOG_INFO;
	log_min = lvl;
	if (*cfg->logger_dir == '\0')
		return 0;
	if (wk_mkdirs(cfg->logger_dir) < 0) {
		wk_log_warn("logger.dir %s", cfg->logger_dir);
		return -1;
	}
	path = wk_asprintf("%s/wk.log", cfg->logger_dir);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		wk_log_warn("open %s", path);
		free(path);
		return -1;
	}
	free(path);
	if (log_fd != STDERR_FILENO)
		close(log_fd);
	log_fd = fd;
	log_foreground = 1;     /* the file, never syslog */
	return 0;
}

void wk_log_set_level(int level) { log_min = level; }
int wk_log_level(void) { return log_min; }

void
wk_log_v(int level, int with_errno, const char *fmt, va_list ap)
{
	static const char *names[] = { "", "debug", "info", "warning", "error" };
	static const int prio[] = { LOG_INFO, LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR };
	char msg[1024], line[1200];
	int saved = errno, n;

	if (level < log_min)
		return;
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (with_errno) {
		size_t len = strlen(msg);
		snprintf(msg + len, sizeof msg - len, ": %s", strerror(saved));
	}
	if (report_fd >= 0 && level >= WK_LOG_WARN) {
		/* One line for wk-master: the cause it names if the start fails. */
		n = snprintf(line, sizeof line, "error %s", msg);
		if (n > (int)sizeof line - 2)
			n = sizeof line - 2;
		for (char *c = line; c < line + n; c++)
			if (*c == '\n')
				*c = ' ';
		line[n++] = '\n';
		if (write(report_fd, line, n) < 0) {
			/* the master reads the exit status anyway */
		}
	}
	if (!log_foreground) {
		syslog(prio[level], "%s: %s", log_tag, msg);
		errno = saved;
		return;
	}
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s: %s%s%s\n",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, ts.tv_nsec / 1000000, log_tag,
	    level >= WK_LOG_WARN ? names[level] : "", level >= WK_LOG_WARN ? ": " : "", msg);
	if (n > (int)sizeof line - 1)
		n = sizeof line - 1;
	if (write(log_fd, line, n) < 0) {
		/* nowhere left to report it */
	}
	errno = saved;
}

#define WK_LOG_FN(name, level, with_errno)          \
	void name(const char *fmt, ...)             \
	{                                           \
		va_list ap;                         \
		va_start(ap, fmt);                  \
		wk_log_v(level, with_errno, fmt, ap); \
		va_end(ap);                         \
	}
WK_LOG_FN(wk_log_debug, WK_LOG_DEBUG, 0)
WK_LOG_FN(wk_log_info, WK_LOG_INFO, 0)
WK_LOG_FN(wk_log_warn, WK_LOG_WARN, 1)
WK_LOG_FN(wk_log_warnx, WK_LOG_WARN, 0)
WK_LOG_FN(wk_log_error, WK_LOG_ERROR, 0)

/* The fatal ones log at error level, then exit 1 (STYLE.md: errors). */
#define WK_FATAL_FN(name, with_errno)                     \
	void name(const char *fmt, ...)                   \
	{                                                 \
		va_list ap;                               \
		va_start(ap, fmt);                        \
		wk_log_v(WK_LOG_ERROR, with_errno, fmt, ap); \
		va_end(ap);                               \
		exit(1);                                  \
	}
WK_FATAL_FN(wk_fatal, 1)
WK_FATAL_FN(wk_fatalx, 0)

int
wk_ratelimit_ok(struct wk_ratelimit *rl)
{
	uint64_t now = wk_now_ms();

	if (now - rl->window_start_ms >= 1000) {
		rl->window_start_ms = now;
		rl->in_window = 0;
	}
	if (rl->in_window < rl->burst) {
		rl->in_window++;
		return 1;
	}
	rl->suppressed++;
	return 0;
}

/* Log at `level` with printf arguments (used where the level is a variable). */
static void
log_at(int level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	wk_log_v(level, 0, fmt, ap);
	va_end(ap);
}

void
wk_log_limited(struct wk_ratelimit *rl, int level, const char *fmt, ...)
{
	va_list ap;
	char buf[900];

	if (!wk_ratelimit_ok(rl))
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (rl->suppressed) {
		log_at(level, "%s (%llu similar lines suppressed)", buf,
		    (unsigned long long)rl->suppressed);
		rl->suppressed = 0;
	} else
		log_at(level, "%s", buf);
}
