/* wkconnbench_server.c - what wkconnbench measures of the server: its
 * processes from `wk-master -c status -r`, their memory (RSS, PSS and its
 * anonymous and shared parts, /proc/PID/smaps_rollup) and CPU time
 * (/proc/PID/stat), summed per kind of process. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "wk_time.h"
#include "wkconnbench.h"

static int
role_of(const char *r)
{
	return strcmp(r, "broker") == 0 ? R_BROKER : strcmp(r, "mailbox") == 0 ? R_MAILBOX :
	    R_OTHER;
}

static void
read_mem(struct sproc *p)
{
	char path[64], line[256];
	FILE *f;
	long v;

	p->rss = p->pss = p->pss_anon = p->pss_shmem = 0;
	snprintf(path, sizeof path, "/proc/%d/smaps_rollup", p->pid);
	if ((f = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof line, f)) {
		if (sscanf(line, "Rss: %ld kB", &v) == 1)
			p->rss = v;
		else if (sscanf(line, "Pss: %ld kB", &v) == 1)
			p->pss = v;
		else if (sscanf(line, "Pss_Anon: %ld kB", &v) == 1)
			p->pss_anon = v;
		else if (sscanf(line, "Pss_Shmem: %ld kB", &v) == 1)
			p->pss_shmem = v;
	}
	fclose(f);
}

static void
read_cpu(struct sproc *p)
{
	char path[64], buf[1024], *s;
	unsigned long ut, st;
	FILE *f;
	size_t n;

	p->cpu = 0;
	snprintf(path, sizeof path, "/proc/%d/stat", p->pid);
	if ((f = fopen(path, "r")) == NULL)
		return;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* Fields after the command name (which may hold spaces): state is 3rd. */
	if ((s = strrchr(buf, ')')) == NULL ||
	    sscanf(s + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return;
	p->cpu = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Ask wk-master for its processes and measure them; -1 if it did not answer.
 * /proc is read after the status command has exited, so its own pages
 * (it maps the same libraries) do not skew the PSS of the server's. */
int
connbench_sample_server(struct sample *s)
{
	char cmd[1024], line[2048];
	FILE *f;

	memset(s, 0, sizeof *s);
	snprintf(cmd, sizeof cmd, "'%s' -c status -r -f '%s' 2>/dev/null", connbench_opt.master, connbench_opt.config);
	if ((f = popen(cmd, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f) && s->nproc < MAX_PROCS) {
		struct sproc *p = &s->p[s->nproc];
		char state[32] = "";
		memset(p, 0, sizeof *p);
		p->connections = p->presence = -1;
		for (char *save, *t = strtok_r(line, " \n", &save); t; t = strtok_r(NULL, " \n", &save)) {
			sscanf(t, "role=%15s", p->role);
			sscanf(t, "instance=%d", &p->instance);
			sscanf(t, "pid=%d", &p->pid);
			sscanf(t, "restarts=%d", &p->restarts);
			sscanf(t, "connections=%ld", &p->connections);
			sscanf(t, "presence_used=%ld", &p->presence);
			sscanf(t, "state=%31s", state);
		}
		p->ready = strcmp(state, "ready") == 0 || strcmp(state, "running") == 0;
		if (p->pid > 0)
			s->nproc++;
	}
	pclose(f);
	for (int i = 0; i < s->nproc; i++) {
		struct sproc *p = &s->p[i];
		int r = role_of(p->role);
		read_mem(p);
		read_cpu(p);
		s->rss += p->rss;
		s->pss += p->pss;
		s->own += p->pss_anon + p->pss_shmem;
		s->pss_shmem += p->pss_shmem;
		s->role_own[r] += p->pss_anon + p->pss_shmem;
		s->cpu += p->cpu;
		s->role_cpu[r] += p->cpu;
		s->connections += p->connections > 0 ? p->connections : 0;
		s->presence += p->presence > 0 ? p->presence : 0;
		s->restarts += p->restarts;
	}
	return s->nproc > 0 ? 0 : -1;
}

/* Sample until the server counts `want` connections (and presence slots),
 * or settle_s passes; 0 if it agreed. */
int
connbench_settle(struct sample *s, long want)
{
	uint64_t end = wk_now_us() + (uint64_t)connbench_opt.settle_s * 1000000;

	for (;;) {
		if (connbench_sample_server(s) < 0) {
			fprintf(stderr, "wkconnbench: wk-master -c status -f %s: no answer\n",
			    connbench_opt.config);
			return -1;
		}
		if (s->connections == want && s->presence == want)
			return 0;
		if (connbench_stop || wk_now_us() >= end)
			return -1;
		usleep(200000);
	}
}
