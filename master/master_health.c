/* master_health.c - wk-master pings its children and publishes their health
 * (wk-master(8), wk-api(8)).
 *
 * Every supervisor.pingTimeout/4 the master writes "ping\n" on each ready
 * child's socketpair; the child's loop answers "pong\n" (wk_proc.c), so a
 * child that is stopped, stuck in a long call or spinning stays silent.  A
 * child with a ping unanswered for longer than supervisor.pingTimeout, or one
 * not ready (starting, restarting, failed) once the tree was ready, is
 * unhealthy.  The verdict is written at each round to <runDir>/health:
 *
 *   ok <unix ms>                or   unhealthy <unix ms>
 *                                    channel/0: no answer for 5200 ms
 *                                    ...
 *
 * by rename(2), so a reader never sees half a file.  wk-api's /health reads
 * it and also counts a file older than pingTimeout as unhealthy (the master
 * itself is not answering).  A file rather than a message: wk-api needs no
 * round trip and the master no ZeroMQ. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "master.h"
#include "wk_alloc.h"
#include "wk_log.h"
#include "wk_msg.h"
#include "wk_time.h"

static uint64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
master_health_on_pong(struct master *m, struct master_child *c)
{
	c->ping_out_ms = 0;
	c->pong_ms = wk_now_ms();
}

/* Why c is unhealthy into buf, or 0 if it is healthy. */
static int
child_problem(struct master *m, struct master_child *c, uint64_t now, char *buf, size_t len)
{
	const char *role = wk_role_name(c->role);

	if (c->state == MASTER_CHILD_READY) {
		if (c->ping_out_ms && now - c->ping_out_ms > (uint64_t)m->cfg.supervisor_pingTimeout)
			return snprintf(buf, len, "%s/%d: no answer for %llu ms", role, c->instance,
			    (unsigned long long)(now - c->ping_out_ms));
		return 0;
	}
	return snprintf(buf, len, "%s/%d: %s", role, c->instance, master_state_name(c->state));
}

static void
write_health(struct master *m, uint64_t now)
{
	char *tmp = wk_asprintf("%s.tmp", m->health_path), line[300];
	FILE *f = fopen(tmp, "w");
	int bad = 0;

	if (f == NULL) {
		wk_log_warn("fopen %s", tmp);
		free(tmp);
		return;
	}
	for (int i = 0; i < m->nchildren; i++)
		bad += child_problem(m, &m->children[i], now, line, sizeof line) > 0;
	fprintf(f, "%s %llu\n", bad ? "unhealthy" : "ok", (unsigned long long)wall_ms());
	for (int i = 0; i < m->nchildren && bad; i++)
		if (child_problem(m, &m->children[i], now, line, sizeof line) > 0)
			fprintf(f, "%s\n", line);
	if (fclose(f) != 0 || rename(tmp, m->health_path) < 0)
		wk_log_warn("write %s", m->health_path);
	free(tmp);
}

/* From the master's tick: a ping round and the health file, when due. */
void
master_health_tick(struct master *m)
{
	uint64_t now = wk_now_ms(), interval = (uint64_t)m->cfg.supervisor_pingTimeout / 4;

	if (m->stopping || (now < m->next_ping_ms && !m->health_changed))
		return;
	m->health_changed = 0;
	m->next_ping_ms = now + (interval < 25 ? 25 : interval);
	for (int i = 0; i < m->nchildren; i++) {
		struct master_child *c = &m->children[i];
		if (c->fd < 0 || c->state != MASTER_CHILD_READY)
			continue;
		/* Non-blocking: a stopped child's buffer may fill; the first
		 * unanswered ping is what counts. */
		if (write(c->fd, "ping\n", 5) == 5 && c->ping_out_ms == 0)
			c->ping_out_ms = now;
	}
	if (m->tree_was_ready)
		write_health(m, now);
}

void
master_health_remove(struct master *m)
{
	if (m->health_path)
		unlink(m->health_path);
}
