/* wk_config.c - the wk.yaml loader: the schema table built from
 * wk_config_schema.h, the reference keys wk accepts and ignores, the order of
 * a load (built-in defaults, the file (wk_config_yaml.c), WK_* environment
 * overrides), derived values (absolute directories, "auto" counts) and
 * cross-key checks.  Values are parsed in wk_config_value.c, formatted and
 * compared for SIGHUP in wk_config_format.c.  See wk.yaml(5). */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "wk_alloc.h"
#include "wk_cluster.h"
#include "wk_config.h"
#include "wk_config_int.h"
#include "wk_proxyproto.h"

const struct wk_config_key wk_config_keys[] = {
#define X(path, kind, field, def, min, max, reload, help) \
	{ path, WK_CK_##kind, offsetof(struct wk_config, field), def, min, max, reload, help },
#include "wk_config_schema.h"
#undef X
};
const size_t wk_config_nkeys = sizeof wk_config_keys / sizeof wk_config_keys[0];

char *(*wk_config_getenv)(const char *name) = getenv;

/*
 * Keys of the reference server (WuKongIM v2.2) that wk accepts and ignores,
 * with a warning, so that a user's existing wk.yaml loads.  "x.*" stands for
 * the section x and everything under it.  Keys of the schema are matched
 * first: external.ip is ours, external.managerAddr falls into "external.*".
 */
static const char *const reference_keys[] = {
	"cluster.*", "manager.*", "demo.*", "jwt.*", "auth.*",
	"logger.lineNum", "logger.traceOn", "logger.traceMaxMsgCount",
	"pprofOn", "ginMode", "stress", "datasource.*",
	"external.managerAddr", "external.autoGetExternalIP", "external.*",
	"intranet.*",
	"conversation.syncInterval", "conversation.syncOnce", "conversation.cacheExpire",
	"conversation.bytesPerSave", "conversation.savePoolSize",
	"conversation.workerNum", "conversation.workerScanInterval",
	"messageRetry.workerCount", "webhook.grpcAddr",
	"channel.*", "tmpChannel.*", "userMsgQueueMaxSize", "oldV1Api",
	"migrateStartStep", "tag.expire", "plugin.*", "streamCache.*", "agent.*",
	"trace.*", "db.*", "eventPoolSize", "deliveryMsgPoolSize", "handlePoolSize",
	"goPool.*", "timingWheelTick", "timingWheelSize", "reactor.*",
	"coreReactor.*", "deliver.*", "deadlockCheck", "customerService.visitorsOn",
	"logger.loki.*", "violent", "monitor.*", "unitTest",
	/* Reference switches whose behaviour wk has fixed. */
	"disableCMDMessageSync",
};

/* Print one message, "FILE:LINE:COL: [warning: ]text" or "WK_NAME: text". */
void
wk_config_report(struct wk_config_loader *ld, const struct wk_config_where *w, int warning,
    const char *fmt, ...)
{
	va_list ap;

	if (w->env != NULL)
		fprintf(ld->err, "%s: ", w->env);
	else if (w->line > 0)
		fprintf(ld->err, "%s:%d:%d: ", ld->file ? ld->file : "(defaults)", w->line, w->col);
	else
		fprintf(ld->err, "%s: ", ld->file ? ld->file : "(defaults)");
	if (warning)
		fputs("warning: ", ld->err);
	va_start(ap, fmt);
	vfprintf(ld->err, fmt, ap);
	va_end(ap);
	fputc('\n', ld->err);
	if (!warning)
		ld->nerrors++;
}

/* Index of the schema key `path` (case-insensitive), or -1. */
int
wk_config_key_index(const char *path)
{
	for (size_t i = 0; i < wk_config_nkeys; i++)
		if (strcasecmp(wk_config_keys[i].path, path) == 0)
			return (int)i;
	return -1;
}

const struct wk_config_key *
wk_config_find(const char *path)
{
	int i = wk_config_key_index(path);
	return i < 0 ? NULL : &wk_config_keys[i];
}

/* 1 if some schema key lies under `path` (it is a section such as "webhook"). */
int
wk_config_is_section(const char *path)
{
	size_t n = strlen(path);

	for (size_t i = 0; i < wk_config_nkeys; i++)
		if (strncasecmp(wk_config_keys[i].path, path, n) == 0 &&
		    wk_config_keys[i].path[n] == '.')
			return 1;
	return 0;
}

/* 1 if `path` is a reference key named exactly, 2 if it lies in a reference section, else 0. */
int
wk_config_reference_match(const char *path)
{
	int found = 0;

	for (size_t i = 0; i < sizeof reference_keys / sizeof reference_keys[0]; i++) {
		const char *r = reference_keys[i];
		size_t n = strlen(r);
		if (n > 2 && strcmp(r + n - 2, ".*") == 0) {
			n -= 2;
			if (strncasecmp(r, path, n) == 0 && (path[n] == '\0' || path[n] == '.'))
				found = 2;
		} else if (strcasecmp(r, path) == 0)
			return 1;
	}
	return found;
}

/* Levenshtein distance of a and b, case-insensitive (keys are). */
static size_t
edit_distance(const char *a, const char *b)
{
	size_t n = strlen(b), prev[128], cur[128];

	if (n >= sizeof prev / sizeof prev[0])
		return (size_t)-1;
	for (size_t j = 0; j <= n; j++)
		prev[j] = j;
	for (size_t i = 1; a[i - 1]; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= n; j++) {
			size_t sub = prev[j - 1] + (tolower((unsigned char)a[i - 1]) !=
			    tolower((unsigned char)b[j - 1]));
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, (n + 1) * sizeof prev[0]);
	}
	return prev[n];
}

/* The schema key or section nearest to the unknown `path`, if it is near
 * enough to be a misspelling (a third of its length, at least 2 edits);
 * NULL if none.  The result points into a static buffer. */
const char *
wk_config_suggest(const char *path)
{
	static char best[128];
	size_t bestd = (size_t)-1, limit = strlen(path) / 3;

	if (limit < 2)
		limit = 2;
	for (size_t i = 0; i < wk_config_nkeys; i++) {
		const char *k = wk_config_keys[i].path;
		/* The key itself and each section above it ("webhook" of
		 * "webhook.httpAddr"). */
		for (const char *dot = k;; dot++) {
			if (*dot == '.' || *dot == '\0') {
				char cand[128];
				size_t len = (size_t)(dot - k), d;
				if (len >= sizeof cand)
					break;
				memcpy(cand, k, len);
				cand[len] = '\0';
				if ((d = edit_distance(path, cand)) < bestd) {
					bestd = d;
					memcpy(best, cand, len + 1);
				}
			}
			if (*dot == '\0')
				break;
		}
	}
	return bestd <= limit && bestd > 0 ? best : NULL;
}

/* ---- environment, derived values, cross-key checks ---- */

static void
env_name(const struct wk_config_key *k, char *buf, size_t len)
{
	size_t i = 0;

	snprintf(buf, len, "WK_");
	for (const char *p = k->path; *p && 3 + i + 1 < len; p++, i++)
		buf[3 + i] = *p == '.' ? '_' : (char)toupper((unsigned char)*p);
	buf[3 + i] = '\0';
}

/* WK_<PATH> overrides the file; an empty variable counts as unset (as viper). */
static void
load_env(struct wk_config_loader *ld)
{
	for (size_t i = 0; i < wk_config_nkeys; i++) {
		const struct wk_config_key *k = &wk_config_keys[i];
		char name[128], why[512];
		const char *v;

		env_name(k, name, sizeof name);
		if ((v = wk_config_getenv(name)) == NULL || *v == '\0')
			continue;
		if (wk_config_set_value(ld->cfg, k, v, why, sizeof why) < 0) {
			struct wk_config_where w = { 0, 0, name };
			wk_config_report(ld, &w, 0, "%s", why);
			continue;
		}
		ld->cfg->origin[i] = WK_CO_ENV;
	}
}

/* Where to point a message about key ki: its key or value in the file, its variable. */
static struct wk_config_where
key_where(struct wk_config_loader *ld, int ki, int value, char *envbuf, size_t len)
{
	struct wk_config_where w = { 0, 0, NULL };

	if (ld->cfg->origin[ki] == WK_CO_ENV) {
		env_name(&wk_config_keys[ki], envbuf, len);
		w.env = envbuf;
	} else if (ld->cfg->origin[ki] == WK_CO_FILE) {
		w.line = value ? ld->pos[ki].vline : ld->pos[ki].kline;
		w.col = value ? ld->pos[ki].vcol : ld->pos[ki].kcol;
	}
	return w;
}

/* "a/./b//c/" -> "a/b/c": drop empty and "." components ("..": left alone). */
static void
clean_path(char *p)
{
	char *r = p, *w = p;
	int abs = *p == '/';

	while (*r) {
		while (*r == '/')
			r++;
		if (r[0] == '.' && (r[1] == '/' || r[1] == '\0')) {
			r++;
			continue;
		}
		if (*r == '\0')
			break;
		if (w > p || abs)
			*w++ = '/';
		while (*r && *r != '/')
			*w++ = *r++;
	}
	if (w == p)
		*w++ = abs ? '/' : '.';
	*w = '\0';
}

/* An absolute, cleaned copy of `path`: ~/ is $HOME, relative is taken from `base`. */
static char *
abs_path(const char *base, const char *path)
{
	const char *home = wk_config_getenv("HOME");
	char *p;

	if (home != NULL && *home && (strcmp(path, "~") == 0 || strncmp(path, "~/", 2) == 0))
		p = wk_asprintf("%s/%s", home, path + 1);
	else if (*path == '/')
		p = wk_strdup(path);
	else
		p = wk_asprintf("%s/%s", base, path);
	clean_path(p);
	return p;
}

static void
resolve(struct wk_config_loader *ld)
{
	struct wk_config *cfg = ld->cfg;
	char *cwd = getcwd(NULL, 0), *p;
	long n;

	if (cwd == NULL) {
		struct wk_config_where w = { 0, 0, NULL };
		wk_config_report(ld, &w, 0, "cannot get the working directory: %s", strerror(errno));
		cwd = wk_strdup("/");
	}
	/* Relative paths are the config file's, so that wkctl finds the same
	 * tree from any directory; dataDir and runDir given as relative paths
	 * are too.  Without a file, the working directory. */
	if (ld->file != NULL && strrchr(ld->file, '/') != NULL) {
		char *dir = wk_strdup(ld->file);
		*strrchr(dir, '/') = '\0';
		p = abs_path(cwd, *dir ? dir : "/");
		free(dir);
		free(cwd);
		cwd = p;
	}
	p = abs_path(cwd, cfg->rootDir);
	free(cfg->rootDir);
	cfg->rootDir = p;
	p = *cfg->dataDir ? abs_path(cwd, cfg->dataDir) : wk_asprintf("%s/data", cfg->rootDir);
	free(cfg->dataDir);
	cfg->dataDir = p;
	p = *cfg->runDir ? abs_path(cwd, cfg->runDir) : wk_asprintf("%s/run", cfg->rootDir);
	free(cfg->runDir);
	cfg->runDir = p;
	if (*cfg->logger_dir) {
		p = abs_path(cfg->rootDir, cfg->logger_dir);
		free(cfg->logger_dir);
		cfg->logger_dir = p;
	}
	free(cwd);

	n = sysconf(_SC_NPROCESSORS_ONLN);
	cfg->ncores = n < 1 ? 1 : (int)n;
	for (size_t i = 0; i < wk_config_nkeys; i++) {
		const struct wk_config_key *k = &wk_config_keys[i];
		int64_t v, lo = 1, hi = INT32_MAX;
		if (k->kind != WK_CK_COUNT || *WK_CONFIG_FIELD(cfg, k, int) != WK_CONFIG_COUNT_AUTO)
			continue;
		cfg->count_auto[i] = 1;
		/* auto: clamped to the key's bounds rather than refused on a big
		 * machine.  perCore multiplies the shards only: a broker is busy
		 * with its sockets, and brokers beyond one per core only split
		 * every shard's batches further (bench/README.md: 4 per core was
		 * 19 % slower with them, 8 % without). */
		v = (int64_t)cfg->ncores;
		if (strcmp(k->path, "processes.broker") != 0)
			v *= cfg->processes_perCore;
		if (k->min != NULL)
			wk_config_parse_int(k->min, &lo);
		if (k->max != NULL)
			wk_config_parse_int(k->max, &hi);
		*WK_CONFIG_FIELD(cfg, k, int) = (int)(v < lo ? lo : v > hi ? hi : v);
	}
}

/* A cluster (cluster.node > 0, wk-cluster(7)): every host computes the same
 * address map from the same list, so the list must parse, hold this host,
 * give each host its own ports, and every host must run the same shards. */
static void
validate_cluster(struct wk_config_loader *ld)
{
	static const int counts[] = { WK_CKI_processes_channel, WK_CKI_processes_mailbox };
	struct wk_config *cfg = ld->cfg;
	const struct wk_strlist *nodes = &cfg->cluster_nodes;
	struct wk_config_where w;
	char env[128], host[WK_CLUSTER_MAX][64];
	unsigned port[WK_CLUSTER_MAX];

	if (cfg->cluster_node == 0)
		return;
	w = key_where(ld, WK_CKI_cluster_nodes, 1, env, sizeof env);
	if (nodes->n > WK_CLUSTER_MAX)
		wk_config_report(ld, &w, 0, "cluster.nodes: %d hosts; at most %d", nodes->n,
		    WK_CLUSTER_MAX);
	for (int i = 0; i < nodes->n && i < WK_CLUSTER_MAX; i++) {
		int rc = wk_cluster_parse_node(nodes->v[i], host[i], sizeof host[i], &port[i]);
		if (rc == 1 && i + 1 == cfg->cluster_node) {
			wk_config_report(ld, &w, 0, "cluster.nodes: \"%.60s\", this host (cluster.node "
			    "%lld), is marked taken out", nodes->v[i], (long long)cfg->cluster_node);
		}
		if (rc < 0) {
			wk_config_report(ld, &w, 0, "cluster.nodes: \"%.60s\" is not host:port (host: an "
			    "IPv4 address or a name, at most 63 characters; port: 1 to %d)",
			    nodes->v[i], 65535 - WK_CLUSTER_PORTS);
			port[i] = 0;
			continue;
		}
		/* Two trees on one machine (a test, a demo) must not share a port. */
		for (int j = 0; j < i; j++)
			if (port[j] != 0 && strcasecmp(host[i], host[j]) == 0 &&
			    (port[i] > port[j] ? port[i] - port[j] : port[j] - port[i]) < WK_CLUSTER_PORTS)
				wk_config_report(ld, &w, 0, "cluster.nodes: \"%.60s\" and \"%.60s\" share "
				    "ports (a host uses %d from its base)", nodes->v[j], nodes->v[i],
				    WK_CLUSTER_PORTS);
	}
	if (cfg->cluster_node > nodes->n) {
		w = key_where(ld, WK_CKI_cluster_node, 1, env, sizeof env);
		wk_config_report(ld, &w, 0, "cluster.node: %lld is past the end of cluster.nodes "
		    "(%d hosts)", (long long)cfg->cluster_node, nodes->n);
	}
	if (cfg->cluster_routes.n && cfg->cluster_routes.n != nodes->n) {
		w = key_where(ld, WK_CKI_cluster_routes, 1, env, sizeof env);
		wk_config_report(ld, &w, 0, "cluster.routes: %d entries for %d hosts (one per host of "
		    "cluster.nodes, in its order)", cfg->cluster_routes.n, nodes->n);
	}
	for (int i = 0; i < cfg->cluster_routes.n; i++) {
		struct wk_cluster_route r;
		if (wk_cluster_parse_route(cfg->cluster_routes.v[i], &r) < 0) {
			w = key_where(ld, WK_CKI_cluster_routes, 1, env, sizeof env);
			wk_config_report(ld, &w, 0, "cluster.routes: \"%.60s\" is not \"host:port "
			    "ws://host:port [wss://host:port]\"", cfg->cluster_routes.v[i]);
		}
	}
	/* auto follows each host's cores; a shard's copies need the same count. */
	for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
		if (!cfg->count_auto[counts[i]])
			continue;
		w = key_where(ld, counts[i], 1, env, sizeof env);
		wk_config_report(ld, &w, 0, "%s: must be a number, not auto, in a cluster "
		    "(cluster.node > 0): every host needs the same shard count",
		    wk_config_keys[counts[i]].path);
	}
}

/* Checks that involve more than one key or the reference's address syntax. */
static void
validate(struct wk_config_loader *ld)
{
	static const struct { int ki; const char *scheme; } schemes[] = {
		{ WK_CKI_addr, "tcp://" }, { WK_CKI_wsAddr, "ws://" }, { WK_CKI_wssAddr, "wss://" },
	};
	struct wk_config *cfg = ld->cfg;
	struct wk_config_where w;
	char env[128];

	for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
		const char *v = *WK_CONFIG_FIELD(cfg, &wk_config_keys[schemes[i].ki], char *);
		if (*v == '\0' || strncmp(v, schemes[i].scheme, strlen(schemes[i].scheme)) == 0)
			continue;
		w = key_where(ld, schemes[i].ki, 1, env, sizeof env);
		wk_config_report(ld, &w, 0, "%s: must start with %s, got \"%.60s\"",
		    wk_config_keys[schemes[i].ki].path, schemes[i].scheme, v);
	}
	if (*cfg->wssAddr && (!*cfg->wssConfig_certFile || !*cfg->wssConfig_keyFile)) {
		w = key_where(ld, WK_CKI_wssAddr, 0, env, sizeof env);
		wk_config_report(ld, &w, 0, "wssAddr: needs %s",
		    !*cfg->wssConfig_certFile && !*cfg->wssConfig_keyFile ?
		    "wssConfig.certFile and wssConfig.keyFile" :
		    !*cfg->wssConfig_certFile ? "wssConfig.certFile" : "wssConfig.keyFile");
	}
	for (int i = 0; i < cfg->proxyProtocol_allowFrom.n; i++) {
		struct wk_cidr net;
		if (wk_cidr_parse(cfg->proxyProtocol_allowFrom.v[i], &net) < 0) {
			w = key_where(ld, WK_CKI_proxyProtocol_allowFrom, 1, env, sizeof env);
			wk_config_report(ld, &w, 0, "proxyProtocol.allowFrom: \"%.60s\" is not a network "
			    "(10.0.0.0/8, 2001:db8::/32, or one address, no host bits past the prefix)",
			    cfg->proxyProtocol_allowFrom.v[i]);
		}
	}
	if ((cfg->proxyProtocol_addr || cfg->proxyProtocol_wsAddr || cfg->proxyProtocol_wssAddr) &&
	    cfg->proxyProtocol_allowFrom.n == 0) {
		int ki = cfg->proxyProtocol_addr ? WK_CKI_proxyProtocol_addr : cfg->proxyProtocol_wsAddr ?
		    WK_CKI_proxyProtocol_wsAddr : WK_CKI_proxyProtocol_wssAddr;
		w = key_where(ld, ki, 1, env, sizeof env);
		wk_config_report(ld, &w, 0, "%s: needs proxyProtocol.allowFrom, the networks of the "
		    "load balancers", wk_config_keys[ki].path);
	}
	if (cfg->supervisor_respawnDelay > cfg->supervisor_respawnDelayMax) {
		int ki = cfg->origin[WK_CKI_supervisor_respawnDelay] != WK_CO_DEFAULT ?
		    WK_CKI_supervisor_respawnDelay : WK_CKI_supervisor_respawnDelayMax;
		w = key_where(ld, ki, 1, env, sizeof env);
		wk_config_report(ld, &w, 0, "supervisor.respawnDelay must not be more than "
		    "supervisor.respawnDelayMax");
	}
	validate_cluster(ld);
}

int
wk_config_load(struct wk_config *cfg, const char *path, FILE *err)
{
	struct wk_config_loader ld;

	memset(cfg, 0, sizeof *cfg);
	memset(&ld, 0, sizeof ld);
	ld.cfg = cfg;
	ld.file = path;
	ld.err = err != NULL ? err : stderr;

	for (size_t i = 0; i < wk_config_nkeys; i++) {
		const struct wk_config_key *k = &wk_config_keys[i];
		char why[512];
		if (wk_config_set_value(cfg, k, k->def, why, sizeof why) < 0) {
			struct wk_config_where w = { 0, 0, NULL };
			wk_config_report(&ld, &w, 0, "built-in default of %s: %s", k->path, why);
		}
		/* STR/ENUM are never NULL, even if a default were bad */
		if ((k->kind == WK_CK_STR || k->kind == WK_CK_ENUM) && !*WK_CONFIG_FIELD(cfg, k, char *))
			*WK_CONFIG_FIELD(cfg, k, char *) = wk_strdup("");
	}
	if (path != NULL) {
		cfg->path = wk_strdup(path);
		wk_config_load_file(&ld, path);
	}
	load_env(&ld);
	resolve(&ld);
	validate(&ld);
	if (ld.nerrors > 0) {
		wk_config_free(cfg);
		return -1;
	}
	return 0;
}

void
wk_config_free(struct wk_config *cfg)
{
	for (size_t i = 0; i < wk_config_nkeys; i++) {
		const struct wk_config_key *k = &wk_config_keys[i];
		if (k->kind == WK_CK_STR || k->kind == WK_CK_ENUM)
			free(*WK_CONFIG_FIELD(cfg, k, char *));
		else if (k->kind == WK_CK_LIST)
			wk_strlist_free(WK_CONFIG_FIELD(cfg, k, struct wk_strlist));
	}
	free(cfg->path);
	memset(cfg, 0, sizeof *cfg);
}
