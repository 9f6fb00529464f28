/* api_health.c - GET /health (wk-api(8)): 200 {"status":"ok"} while every
 * process of the tree answers wk-master's pings, else 503
 * {"status":"unhealthy","msg":"...","unhealthy":["channel/0: no answer for
 * 5200 ms", ...]}.
 *
 * It reads <runDir>/health, which wk-master rewrites every
 * supervisor.pingTimeout/4 (master_health.c); a file older than
 * pingTimeout means the master itself is stuck, which is unhealthy too.
 * wk-api started by hand, without a master, answers ok as before. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "api.h"
#include "wk_alloc.h"

static void
unhealthy(struct api_req *r, const char *msg, json_t *list)
{
	api_answer_json(r, 503, json_pack("{s:s,s:s,s:o}", "status", "unhealthy", "msg", msg,
	    "unhealthy", list ? list : json_array()));
}

void
api_route_health(struct wk_proc *p, struct api_req *r)
{
	char *path, line[400], state[16];
	unsigned long long at = 0, now;
	struct timespec ts;
	json_t *list;
	FILE *f;

	if (getenv("WK_MASTER_FD") == NULL) {
		api_answer_json(r, 200, json_pack("{s:s}", "status", "ok"));
		return;
	}
	path = wk_asprintf("%s/health", p->cfg.runDir);
	f = fopen(path, "r");
	free(path);
	if (f == NULL || fgets(line, sizeof line, f) == NULL ||
	    sscanf(line, "%15s %llu", state, &at) != 2) {
		if (f)
			fclose(f);
		unhealthy(r, "no health report from wk-master yet (starting)", NULL);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (unsigned long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (now > at + (unsigned long long)p->cfg.supervisor_pingTimeout) {
		fclose(f);
		unhealthy(r, "wk-master's health report is stale", NULL);
		return;
	}
	if (strcmp(state, "ok") == 0) {
		fclose(f);
		api_answer_json(r, 200, json_pack("{s:s}", "status", "ok"));
		return;
	}
	list = json_array();
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		json_array_append_new(list, json_string(line));
	}
	fclose(f);
	unhealthy(r, "a process of the tree does not answer", list);
}
