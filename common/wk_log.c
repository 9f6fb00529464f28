/* wk_log.c - the one logger: "<time> <role>/<n>: message" on stderr in the
 * foreground, syslog (ident "wk") otherwise.  Lines are written with one
 * write(2) so lines of several processes sharing stderr do not interleave. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include "wk_log.h"
#include "wk_time.h"

static char log_tag[48] = "wk";
static int log_foreground = 1;
static int log_min = WK_LOG_INFO;

void
wk_log_init(const char *role, int instance, int foreground)
{
	if (instance < 0)
		snprintf(log_tag, sizeof log_tag, "%s", role);
	else
		snprintf(log_tag, sizeof log_tag, "%s/%d", role, instance);
	log_foreground = foreground;
	if (!foreground)
		openlog("wk", LOG_PID | LOG_NDELAY, LOG_DAEMON);
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
	if (write(STDERR_FILENO, line, n) < 0) {
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
