/* api_metrics.c - GET /metrics and GET /varz (wk-api(8)): the tree's
 * statistics segment (stats.h) read without asking anyone.
 *
 * /metrics is the Prometheus text format (version 0.0.4): every value of
 * every process's row labelled {role, instance}, the messages per channel
 * type, the latency histograms (log2 buckets in microseconds, shown in
 * seconds), the restarts of each child, and the presence table's fill.
 * /varz is the reference's object, summed over the tree.  Both are admin
 * routes.  /varz?show=conn adds the busiest connections (api_connz.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "config.h"
#include "wk_log.h"
#include "wk_time.h"

#define PROM_CTYPE "text/plain; version=0.0.4; charset=utf-8"

static const char *
row_role(const struct stats_row *r)
{
	return wk_role_name(r->role);
}

/* A row whose process has started at least once. */
static int
row_live(const struct stats_row *r)
{
	return r->used && __atomic_load_n(&r->pid, __ATOMIC_ACQUIRE) != 0;
}

static void
family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP wk_%s %s\n# TYPE wk_%s %s\n", name, help, name, type);
}

static void
value(FILE *f, uint64_t v, uint32_t scale)
{
	if (scale <= 1)
		fprintf(f, "%llu\n", (unsigned long long)v);
	else
		fprintf(f, "%.6f\n", (double)v / scale);
}

/* The values of STATS_VALUES, one family each, a sample per process that
 * writes it. */
static void
write_values(FILE *f, const struct stats *st)
{
	for (int id = 0; id < STATS_NVALUES; id++) {
		const struct stats_info *in = stats_info(id);
		family(f, in->name, in->kind == STATS_COUNTER ? "counter" : "gauge", in->help);
		for (uint32_t i = 0; i < stats_nrows(st); i++) {
			const struct stats_row *r = stats_row_at(st, i);
			if (!row_live(r) || !stats_owned(id, row_role(r)))
				continue;
			fprintf(f, "wk_%s{role=\"%s\",instance=\"%u\"} ", in->name, row_role(r),
			    r->instance);
			value(f, stats_get(r, id), in->scale);
		}
	}
}

/* Messages in and out per channel type (the channel shards): types 1
 * and 2 always, the others once seen. */
static void
write_typed(FILE *f, const struct stats *st)
{
	static const char *const names[STATS_NTYPED][2] = {
		{ "messages_in_total", "messages stored (or delivered unstored), by channel type" },
		{ "messages_out_total", "connections a message was sent to, by channel type" },
	};

	for (int t = 0; t < STATS_NTYPED; t++) {
		family(f, names[t][0], "counter", names[t][1]);
		for (uint32_t i = 0; i < stats_nrows(st); i++) {
			const struct stats_row *r = stats_row_at(st, i);
			if (!row_live(r) || r->role != WK_ROLE_CHANNEL)
				continue;
			for (int ct = 0; ct < STATS_CHTYPES; ct++) {
				uint64_t v = stats_get_typed(r, t, ct);
				if (v == 0 && ct != 1 && ct != 2)
					continue;
				fprintf(f, "wk_%s{role=\"channel\",instance=\"%u\",channel_type=\"%d\"} %llu\n",
				    names[t][0], r->instance, ct, (unsigned long long)v);
			}
		}
	}
}

static void
write_hists(FILE *f, const struct stats *st)
{
	static const struct { const char *name, *help; int role; } h[STATS_NHIST] = {
		[STATS_H_SENDACK] = { "sendack_latency_seconds",
		    "a SEND's arrival at its channel shard to its SENDACK (after the commit)",
		    WK_ROLE_CHANNEL },
		[STATS_H_COMMIT] = { "commit_latency_seconds", "one group commit (Berkeley DB)", -1 },
	};

	for (int k = 0; k < STATS_NHIST; k++) {
		family(f, h[k].name, "histogram", h[k].help);
		for (uint32_t i = 0; i < stats_nrows(st); i++) {
			const struct stats_row *r = stats_row_at(st, i);
			struct stats_hist_view hv;
			uint64_t cum = 0;
			if (!row_live(r) || (h[k].role >= 0 ? r->role != h[k].role :
			    !stats_owned(STATS_DB_COMMITS, row_role(r))))
				continue;
			stats_hist_read(r, k, &hv);
			for (int b = 0; b < STATS_HIST_BUCKETS; b++) {
				cum += hv.bucket[b];
				fprintf(f, "wk_%s_bucket{role=\"%s\",instance=\"%u\",le=\"%.6g\"} %llu\n",
				    h[k].name, row_role(r), r->instance, (double)(1ull << b) / 1e6,
				    (unsigned long long)cum);
			}
			fprintf(f, "wk_%s_bucket{role=\"%s\",instance=\"%u\",le=\"+Inf\"} %llu\n"
			    "wk_%s_sum{role=\"%s\",instance=\"%u\"} %.6f\n"
			    "wk_%s_count{role=\"%s\",instance=\"%u\"} %llu\n",
			    h[k].name, row_role(r), r->instance, (unsigned long long)hv.count,
			    h[k].name, row_role(r), r->instance, (double)hv.sum_us / 1e6,
			    h[k].name, row_role(r), r->instance, (unsigned long long)hv.count);
		}
	}
}

/* Per child: restarts (each process adds one to `starts` when it takes its
 * row) and when the current one started. */
static void
write_processes(FILE *f, const struct stats *st)
{
	family(f, "process_restarts_total", "counter", "times wk-master started this child again");
	for (uint32_t i = 0; i < stats_nrows(st); i++) {
		const struct stats_row *r = stats_row_at(st, i);
		if (row_live(r))
			fprintf(f, "wk_process_restarts_total{role=\"%s\",instance=\"%u\"} %llu\n",
			    row_role(r), r->instance, (unsigned long long)(r->starts - 1));
	}
	family(f, "process_start_time_seconds", "gauge", "when the child's current process started");
	for (uint32_t i = 0; i < stats_nrows(st); i++) {
		const struct stats_row *r = stats_row_at(st, i);
		if (row_live(r))
			fprintf(f, "wk_process_start_time_seconds{role=\"%s\",instance=\"%u\"} %.3f\n",
			    row_role(r), r->instance, (double)r->started_ms / 1000);
	}
}

void
api_route_metrics(struct wk_proc *p, struct api_req *r)
{
	struct api_state *st = api_state(p);
	char *body = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&body, &len);

	write_values(f, &st->stats);
	write_typed(f, &st->stats);
	write_hists(f, &st->stats);
	write_processes(f, &st->stats);
	family(f, "presence_online", "gauge", "connections in the presence table, all shards");
	fprintf(f, "wk_presence_online %llu\n", (unsigned long long)presence_online(&st->presence));
	family(f, "presence_capacity", "gauge", "slots of the presence table, all shards");
	fprintf(f, "wk_presence_capacity %llu\n", (unsigned long long)st->presence.hdr->capacity *
	    st->presence.hdr->nregions);
	fclose(f);
	api_answer(r, 200, PROM_CTYPE, body, len);
}

/* The sum of value id over the rows of role (-1: all). */
static uint64_t
sum(const struct stats *st, int role, int id)
{
	uint64_t v = 0;

	for (uint32_t i = 0; i < stats_nrows(st); i++) {
		const struct stats_row *r = stats_row_at(st, i);
		if (row_live(r) && (role < 0 || r->role == role))
			v += stats_get(r, id);
	}
	return v;
}

/* The reference's uptime text: 1y2d3h4m5s, leading zero units left out. */
void
api_uptime(char *out, size_t len, uint64_t ms)
{
	uint64_t s = ms / 1000, m = s / 60, h = m / 60, d = h / 24, y = d / 365;

	if (y)
		snprintf(out, len, "%lluy%llud%lluh%llum%llus", (unsigned long long)y,
		    (unsigned long long)(d % 365), (unsigned long long)(h % 24),
		    (unsigned long long)(m % 60), (unsigned long long)(s % 60));
	else if (d)
		snprintf(out, len, "%llud%lluh%llum%llus", (unsigned long long)d,
		    (unsigned long long)(h % 24), (unsigned long long)(m % 60),
		    (unsigned long long)(s % 60));
	else if (h)
		snprintf(out, len, "%lluh%llum%llus", (unsigned long long)h,
		    (unsigned long long)(m % 60), (unsigned long long)(s % 60));
	else if (m)
		snprintf(out, len, "%llum%llus", (unsigned long long)m, (unsigned long long)(s % 60));
	else
		snprintf(out, len, "%llus", (unsigned long long)s);
}

/* The /varz object without "conns" (the reference's Varz, summed over the
 * tree: see wk-api(8) for what each field counts here). */
json_t *
api_varz(struct wk_proc *p)
{
	const struct stats *st = &api_state(p)->stats;
	const struct wk_config *c = &p->cfg;
	int64_t now = wk_wall_ms(), created = st->hdr ? st->hdr->created_ms : now;
	uint64_t cpu_us = sum(st, -1, STATS_CPU_US), online = presence_online(&api_state(p)->presence);
	int nproc = 0;
	char up[64];

	for (uint32_t i = 0; i < stats_nrows(st); i++)
		nproc += row_live(stats_row_at(st, i));
	api_uptime(up, sizeof up, (uint64_t)(now - created));
	json_t *addrs = api_route_addrs(p, NULL), *o = json_object();
	json_object_set_new(o, "server_id", json_string("1001"));
	json_object_set_new(o, "server_name", json_string("wk"));
	json_object_set_new(o, "version", json_string(PACKAGE_VERSION));
	json_object_set_new(o, "connections", json_integer((json_int_t)sum(st, WK_ROLE_BROKER, STATS_CONNECTIONS)));
	json_object_set_new(o, "user_handler_count", json_integer((json_int_t)online));
	json_object_set_new(o, "user_handler_conn_count", json_integer((json_int_t)online));
	json_object_set_new(o, "uptime", json_string(up));
	json_object_set_new(o, "goroutine", json_integer(nproc));
	json_object_set_new(o, "mem", json_integer((json_int_t)sum(st, -1, STATS_RSS_BYTES)));
	json_object_set_new(o, "cpu", json_real(now > created ?
	    (double)cpu_us / 1000.0 / (double)(now - created) * 100.0 : 0.0));
	json_object_set_new(o, "in_msgs", json_integer((json_int_t)sum(st, WK_ROLE_BROKER, STATS_PACKETS_IN)));
	json_object_set_new(o, "out_msgs", json_integer((json_int_t)sum(st, WK_ROLE_BROKER, STATS_PACKETS_OUT)));
	json_object_set_new(o, "in_bytes", json_integer((json_int_t)sum(st, WK_ROLE_BROKER, STATS_BYTES_IN)));
	json_object_set_new(o, "out_bytes", json_integer((json_int_t)sum(st, WK_ROLE_BROKER, STATS_BYTES_OUT)));
	json_object_set_new(o, "slow_clients", json_integer((json_int_t)sum(st, WK_ROLE_BROKER, STATS_SLOW_CLIENTS)));
	json_object_set_new(o, "retry_queue", json_integer((json_int_t)sum(st, WK_ROLE_BROKER, STATS_RETRY_QUEUE)));
	json_object_set(o, "tcp_addr", json_object_get(addrs, "tcp_addr"));
	json_object_set(o, "ws_addr", json_object_get(addrs, "ws_addr"));
	json_object_set(o, "wss_addr", json_object_get(addrs, "wss_addr"));
	json_object_set_new(o, "manager_addr", json_string(""));
	json_object_set_new(o, "manager_on", json_integer(0));
	json_object_set_new(o, "commit", json_string(""));
	json_object_set_new(o, "commit_date", json_string(""));
	json_object_set_new(o, "tree_state", json_string(""));
	json_object_set(o, "api_url", json_object_get(addrs, "api_url"));
	json_object_set_new(o, "manager_uid", json_string(c->managerUID));
	json_object_set_new(o, "manager_token_on",
	    json_integer(!api_is_blank(c->managerToken) || c->managerTokenOn));
	json_object_set_new(o, "conversation_cache_count", json_integer(0));
	json_decref(addrs);
	return o;
}
