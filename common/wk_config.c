/* wk_config.c - the wk.yaml loader: the schema table built from
 * wk_config_schema.h, a walk of the YAML document that reports every error as
 * FILE:LINE:COL, WK_* environment overrides, derived values (absolute
 * directories, "auto" counts), cross-key checks, and format/diff for SIGHUP.
 * See wk.yaml(5). */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <yaml.h>

#include "wk_alloc.h"
#include "wk_config.h"

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
	"logger.dir", "logger.lineNum", "logger.traceOn", "logger.traceMaxMsgCount",
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
	/* Reference switches whose behaviour wk has fixed. */
	"disableJSONRPC", "disableCMDMessageSync",
};

#define FIELD(cfg, k, type) ((type *)(void *)((char *)(cfg) + (k)->offset))
#define COUNT_AUTO (-1)         /* a COUNT field before resolution */
#define MAX_FILE_SIZE (16 << 20)

/* One load in progress. */
struct loader {
	struct wk_config *cfg;
	const char *file;       /* as given, for messages */
	FILE *err;
	int nerrors;
	yaml_document_t *doc;
	struct {
		int kline, kcol;    /* the key in the file */
		int vline, vcol;    /* its value */
	} pos[WK_CONFIG_NKEYS];
};

/* Where a message points: a file position, a file, or an environment variable. */
struct where {
	int line, col;          /* 0 = no position */
	const char *env;
};

/* Print one message, "FILE:LINE:COL: [warning: ]text" or "WK_NAME: text". */
static void __attribute__((format(printf, 4, 5)))
report(struct loader *ld, const struct where *w, int warning, const char *fmt, ...)
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

static struct where
mark_where(yaml_mark_t m)
{
	struct where w = { (int)m.line + 1, (int)m.column + 1, NULL };
	return w;
}

static int
key_index(const char *path)
{
	for (size_t i = 0; i < wk_config_nkeys; i++)
		if (strcasecmp(wk_config_keys[i].path, path) == 0)
			return (int)i;
	return -1;
}

const struct wk_config_key *
wk_config_find(const char *path)
{
	int i = key_index(path);
	return i < 0 ? NULL : &wk_config_keys[i];
}

/* 1 if some schema key lies under `path` (it is a section such as "webhook"). */
static int
is_section(const char *path)
{
	size_t n = strlen(path);

	for (size_t i = 0; i < wk_config_nkeys; i++)
		if (strncasecmp(wk_config_keys[i].path, path, n) == 0 &&
		    wk_config_keys[i].path[n] == '.')
			return 1;
	return 0;
}

/* 1 if `path` is a reference key named exactly, 2 if it lies in a reference section, else 0. */
static int
reference_match(const char *path)
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

/* ---- value parsers ---- */

/* Strict decimal integer with an optional sign. */
static int
parse_int(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (*s == '\0' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

static int
all_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

int
wk_config_parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

/*
 * Go's time.ParseDuration syntax ("1h30m", "1.5s", "500ms", "0") plus the
 * unit d (24h), which the reference server cannot parse.  No sign: wk has no
 * use for negative durations.  The result must be a whole number of ms.
 */
int
wk_config_parse_duration(const char *s, int64_t *ms)
{
	static const struct { const char *name; int64_t ns; } units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "\xc2\xb5s", 1000 }, { "\xce\xbcs", 1000 },
		{ "ms", 1000000 }, { "s", 1000000000LL }, { "m", 60000000000LL },
		{ "h", 3600000000000LL }, { "d", 86400000000000LL },
	};
	int64_t total = 0;

	if (strcmp(s, "0") == 0) {
		*ms = 0;
		return 0;
	}
	if (*s == '\0')
		return -1;
	while (*s) {
		int64_t whole = 0, unit = 0, part;
		const char *frac = NULL, *u;
		size_t ulen, nfrac = 0, ndig = 0;

		for (; isdigit((unsigned char)*s); s++, ndig++) {
			if (whole > (INT64_MAX - 9) / 10)
				return -1;
			whole = whole * 10 + (*s - '0');
		}
		if (*s == '.') {
			frac = ++s;
			for (; isdigit((unsigned char)*s); s++)
				nfrac++;
		}
		if (ndig + nfrac == 0)
			return -1;
		for (u = s; *s && !isdigit((unsigned char)*s) && *s != '.'; s++)
			;
		ulen = (size_t)(s - u);
		for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
			if (strlen(units[i].name) == ulen && strncmp(units[i].name, u, ulen) == 0)
				unit = units[i].ns;
		if (unit == 0)
			return -1;
		/* leave room for the fraction, which adds less than one unit */
		if (whole > (INT64_MAX - (frac != NULL ? unit : 0)) / unit)
			return -1;
		part = whole * unit;
		/* Fraction digits: each adds digit * unit / 10^i (ns precision, as Go). */
		for (size_t i = 0, scale = 10; frac != NULL && i < nfrac; i++) {
			part += (frac[i] - '0') * (unit / (int64_t)scale);
			if (scale < 1000000000000000000ULL)
				scale *= 10;
			else
				break;
		}
		if (total > INT64_MAX - part)
			return -1;
		total += part;
	}
	if (total % 1000000 != 0)
		return -1;
	*ms = total / 1000000;
	return 0;
}

int
wk_config_parse_size(const char *s, int64_t *bytes)
{
	int64_t v = 0, mult = 1;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		if (v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	switch (tolower((unsigned char)*s)) {
	case '\0': break;
	case 'k': mult = 1LL << 10; s++; break;
	case 'm': mult = 1LL << 20; s++; break;
	case 'g': mult = 1LL << 30; s++; break;
	default: return -1;
	}
	if (*s != '\0' || v > INT64_MAX / mult)
		return -1;
	*bytes = v * mult;
	return 0;
}

/* A number of a kind with bounds (INT, DUR, SIZE, COUNT), for range checks. */
static int
parse_number(enum wk_config_kind kind, const char *s, int64_t *out)
{
	switch (kind) {
	case WK_CK_DUR: return wk_config_parse_duration(s, out);
	case WK_CK_SIZE: return wk_config_parse_size(s, out);
	default: return parse_int(s, out);
	}
}

/* 0 if v is within the key's bounds, else -1 with the reason in why. */
static int
check_range(const struct wk_config_key *k, int64_t v, const char *s, char *why, size_t len)
{
	int64_t lo = INT64_MIN, hi = INT64_MAX;

	if (k->min != NULL && parse_number(k->kind, k->min, &lo) < 0)
		lo = INT64_MIN;
	if (k->max != NULL && parse_number(k->kind, k->max, &hi) < 0)
		hi = INT64_MAX;
	if (v >= lo && v <= hi)
		return 0;
	if (k->min != NULL && k->max != NULL)
		snprintf(why, len, "must be between %s and %s, got \"%.60s\"", k->min, k->max, s);
	else if (k->min != NULL)
		snprintf(why, len, "must be at least %s, got \"%.60s\"", k->min, s);
	else
		snprintf(why, len, "must be at most %s, got \"%.60s\"", k->max, s);
	return -1;
}

static void
strlist_free(struct wk_strlist *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void
strlist_add(struct wk_strlist *l, const char *s, size_t n)
{
	l->v = wk_realloc(l->v, sizeof *l->v * (size_t)(l->n + 1));
	l->v[l->n++] = wk_strndup(s, n);
}

/* A list written as one string: words separated by white space (env, viper). */
static void
strlist_split(struct wk_strlist *l, const char *s)
{
	while (*s) {
		size_t n;
		while (isspace((unsigned char)*s))
			s++;
		for (n = 0; s[n] && !isspace((unsigned char)s[n]); n++)
			;
		if (n > 0)
			strlist_add(l, s, n);
		s += n;
	}
}

/*
 * Parse text `s` as the value of key k and store it in cfg.  Returns 0, or -1
 * with the reason in why (cfg unchanged).  LIST values arrive here only as a
 * single string (space-separated words); sequences go through set_list.
 */
static int
set_value(struct wk_config *cfg, const struct wk_config_key *k, const char *s,
    char *why, size_t len)
{
	int64_t v;
	int b;

	switch (k->kind) {
	case WK_CK_STR:
		free(*FIELD(cfg, k, char *));
		*FIELD(cfg, k, char *) = wk_strdup(s);
		return 0;
	case WK_CK_BOOL:
		if (wk_config_parse_bool(s, &b) < 0) {
			snprintf(why, len, "expected a boolean (true/false, yes/no, on/off, 1/0), "
			    "got \"%.60s\"", s);
			return -1;
		}
		*FIELD(cfg, k, int) = b;
		return 0;
	case WK_CK_INT:
		if (parse_int(s, &v) < 0) {
			snprintf(why, len, "expected an integer, got \"%.60s\"", s);
			return -1;
		}
		if (check_range(k, v, s, why, len) < 0)
			return -1;
		*FIELD(cfg, k, int64_t) = v;
		return 0;
	case WK_CK_DUR:
		if (wk_config_parse_duration(s, &v) < 0) {
			if (all_digits(s))
				snprintf(why, len, "expected a duration like 500ms, 30s, 5m, "
				    "got \"%.60s\" (add a unit: %.20sms, %.20ss, %.20sm)", s, s, s, s);
			else
				snprintf(why, len, "expected a duration like 500ms, 30s, 5m, "
				    "got \"%.60s\"", s);
			return -1;
		}
		if (check_range(k, v, s, why, len) < 0)
			return -1;
		*FIELD(cfg, k, int64_t) = v;
		return 0;
	case WK_CK_SIZE:
		if (wk_config_parse_size(s, &v) < 0) {
			snprintf(why, len, "expected a size like 512k, 64m, 1g, got \"%.60s\"", s);
			return -1;
		}
		if (check_range(k, v, s, why, len) < 0)
			return -1;
		*FIELD(cfg, k, int64_t) = v;
		return 0;
	case WK_CK_COUNT:
		if (strcasecmp(s, "auto") == 0) {
			*FIELD(cfg, k, int) = COUNT_AUTO;
			return 0;
		}
		if (parse_int(s, &v) < 0) {
			snprintf(why, len, "expected an integer or auto, got \"%.60s\"", s);
			return -1;
		}
		if (check_range(k, v, s, why, len) < 0)
			return -1;
		*FIELD(cfg, k, int) = (int)v;
		return 0;
	case WK_CK_ENUM: {
		const char *w = k->min;
		while (*w) {
			size_t n = strcspn(w, "|");
			if (n == strlen(s) && strncasecmp(w, s, n) == 0) {
				free(*FIELD(cfg, k, char *));
				*FIELD(cfg, k, char *) = wk_strndup(w, n);
				for (char *p = *FIELD(cfg, k, char *); *p; p++)
					*p = (char)tolower((unsigned char)*p);
				return 0;
			}
			w += n + (w[n] == '|');
		}
		snprintf(why, len, "must be one of ");
		for (w = k->min; *w; ) {
			size_t n = strcspn(w, "|"), l = strlen(why);
			snprintf(why + l, len - l, "%s%.*s", w == k->min ? "" : ", ", (int)n, w);
			w += n + (w[n] == '|');
		}
		snprintf(why + strlen(why), len - strlen(why), ", got \"%.60s\"", s);
		return -1;
	}
	case WK_CK_LIST:
		strlist_free(FIELD(cfg, k, struct wk_strlist));
		strlist_split(FIELD(cfg, k, struct wk_strlist), s);
		return 0;
	}
	return -1;
}

/* ---- the YAML walk ---- */

static const char *
scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/* A plain empty, ~ or null scalar: YAML's "no value". */
static int
is_null(const yaml_node_t *n)
{
	const char *s = scalar(n);

	return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (*s == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	    strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0);
}

static const char *
node_kind(const yaml_node_t *n)
{
	return n->type == YAML_MAPPING_NODE ? "a mapping" :
	    n->type == YAML_SEQUENCE_NODE ? "a sequence" : "a scalar";
}

/* Set schema key ki from the value node v (key node kn, written as `name`). */
static void
set_from_node(struct loader *ld, int ki, yaml_node_t *kn, yaml_node_t *v, const char *name)
{
	const struct wk_config_key *k = &wk_config_keys[ki];
	struct wk_config *cfg = ld->cfg;
	struct where kw = mark_where(kn->start_mark), vw = mark_where(v->start_mark);
	char why[512];

	if (cfg->origin[ki] == WK_CO_FILE) {
		report(ld, &kw, 0, "duplicate key '%s' (first at line %d)", name, ld->pos[ki].kline);
		return;
	}
	cfg->origin[ki] = WK_CO_FILE;
	ld->pos[ki].kline = kw.line;
	ld->pos[ki].kcol = kw.col;
	ld->pos[ki].vline = vw.line;
	ld->pos[ki].vcol = vw.col;

	if (k->kind == WK_CK_LIST) {
		struct wk_strlist l = { NULL, 0 };
		if (v->type == YAML_MAPPING_NODE) {
			report(ld, &vw, 0, "%s: expected a sequence, got a mapping", name);
			return;
		}
		if (v->type == YAML_SCALAR_NODE) {
			if (!is_null(v))
				strlist_split(&l, scalar(v));
		} else {
			for (yaml_node_item_t *it = v->data.sequence.items.start;
			    it < v->data.sequence.items.top; it++) {
				yaml_node_t *e = yaml_document_get_node(ld->doc, *it);
				if (e->type != YAML_SCALAR_NODE) {
					struct where ew = mark_where(e->start_mark);
					report(ld, &ew, 0, "%s: expected a scalar list item, got %s",
					    name, node_kind(e));
					continue;
				}
				strlist_add(&l, scalar(e), strlen(scalar(e)));
			}
		}
		strlist_free(FIELD(cfg, k, struct wk_strlist));
		*FIELD(cfg, k, struct wk_strlist) = l;
		return;
	}
	if (v->type != YAML_SCALAR_NODE) {
		report(ld, &vw, 0, "%s: expected a scalar value, got %s", name, node_kind(v));
		return;
	}
	if (set_value(cfg, k, is_null(v) ? "" : scalar(v), why, sizeof why) < 0)
		report(ld, &vw, 0, "%s: %s", name, why);
}

static void walk_map(struct loader *ld, yaml_node_t *map, const char *prefix, int ignored);

/* One key of a mapping: a schema key, a section, a reference key, or an error. */
static void
walk_pair(struct loader *ld, yaml_node_t *kn, yaml_node_t *v, const char *name, int ignored)
{
	struct where kw = mark_where(kn->start_mark), vw = mark_where(v->start_mark);
	int ki, ref;

	if (ignored) {
		if (v->type == YAML_MAPPING_NODE)
			walk_map(ld, v, name, 1);
		else
			report(ld, &kw, 1, "%s is a WuKongIM key that wk does not use; ignored", name);
		return;
	}
	if ((ki = key_index(name)) >= 0) {
		set_from_node(ld, ki, kn, v, name);
		return;
	}
	if (is_section(name)) {
		if (v->type == YAML_MAPPING_NODE)
			walk_map(ld, v, name, 0);
		else if (!is_null(v))
			report(ld, &vw, 0, "%s: expected a mapping (a section), got %s",
			    name, node_kind(v));
		return;
	}
	if ((ref = reference_match(name)) != 0) {
		if (ref == 2 && v->type == YAML_MAPPING_NODE)
			walk_map(ld, v, name, 1);
		else
			report(ld, &kw, 1, "%s is a WuKongIM key that wk does not use; ignored", name);
		return;
	}
	report(ld, &kw, 0, "unknown key '%s'", name);
}

/* Every key of a mapping, in document order; `prefix` is the section path. */
static void
walk_map(struct loader *ld, yaml_node_t *map, const char *prefix, int ignored)
{
	yaml_node_pair_t *start = map->data.mapping.pairs.start;

	for (yaml_node_pair_t *p = start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(ld->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(ld->doc, p->value);
		struct where kw = mark_where(kn->start_mark);
		yaml_node_pair_t *q;
		char *name;

		if (kn->type != YAML_SCALAR_NODE) {
			report(ld, &kw, 0, "expected a key name, got %s", node_kind(kn));
			continue;
		}
		name = prefix ? wk_asprintf("%s.%s", prefix, scalar(kn)) : wk_strdup(scalar(kn));
		for (q = start; q < p; q++) {
			yaml_node_t *qk = yaml_document_get_node(ld->doc, q->key);
			if (qk->type == YAML_SCALAR_NODE && strcasecmp(scalar(qk), scalar(kn)) == 0)
				break;
		}
		if (q < p) {
			yaml_node_t *qk = yaml_document_get_node(ld->doc, q->key);
			report(ld, &kw, 0, "duplicate key '%s' (first at line %d)", name,
			    (int)qk->start_mark.line + 1);
		} else
			walk_pair(ld, kn, v, name, ignored);
		free(name);
	}
}

/* Line and column of a byte offset (libyaml reader errors give only that). */
static struct where
offset_where(const char *buf, size_t off)
{
	struct where w = { 1, 1, NULL };

	for (size_t i = 0; i < off; i++) {
		if (buf[i] == '\n') {
			w.line++;
			w.col = 1;
		} else if (((unsigned char)buf[i] & 0xc0) != 0x80)
			w.col++;
	}
	return w;
}

static void
report_yaml_error(struct loader *ld, const yaml_parser_t *p, const char *buf)
{
	struct where w;

	if (p->error == YAML_MEMORY_ERROR) {
		w = (struct where){ 0, 0, NULL };
		report(ld, &w, 0, "out of memory");
		return;
	}
	if (p->error == YAML_READER_ERROR) {
		w = offset_where(buf, p->problem_offset);
		report(ld, &w, 0, "%s", p->problem ? p->problem : "cannot read");
		return;
	}
	w = mark_where(p->problem_mark);
	if (p->context != NULL)
		report(ld, &w, 0, "%s (%s at line %d)", p->problem ? p->problem : "syntax error",
		    p->context, (int)p->context_mark.line + 1);
	else
		report(ld, &w, 0, "%s", p->problem ? p->problem : "syntax error");
}

/* Read a whole file; NULL with errno set on failure. */
static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;

	if (f == NULL)
		return NULL;
	for (;;) {
		size_t r;
		if (n + 4096 > cap) {
			cap = cap ? cap * 2 : 8192;
			if (cap > MAX_FILE_SIZE + 8192) {
				free(buf);
				fclose(f);
				errno = EFBIG;
				return NULL;
			}
			buf = wk_realloc(buf, cap);
		}
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		int e = errno;
		free(buf);
		fclose(f);
		errno = e;
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static void
load_file(struct loader *ld, const char *path)
{
	yaml_parser_t parser;
	yaml_document_t doc, next;
	yaml_node_t *root;
	size_t len = 0;
	char *buf;

	if ((buf = slurp(path, &len)) == NULL) {
		struct where w = { 0, 0, NULL };
		report(ld, &w, 0, "%s", strerror(errno));
		return;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		report_yaml_error(ld, &parser, buf);
		goto out;
	}
	ld->doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (root != NULL && root->type == YAML_MAPPING_NODE)
		walk_map(ld, root, NULL, 0);
	else if (root != NULL && !is_null(root)) {
		struct where w = mark_where(root->start_mark);
		report(ld, &w, 0, "expected a mapping of keys at the top level, got %s",
		    node_kind(root));
	}
	ld->doc = NULL;
	if (root != NULL) {
		/* A second document would be ignored silently by most readers: refuse it. */
		if (!yaml_parser_load(&parser, &next))
			report_yaml_error(ld, &parser, buf);
		else {
			yaml_node_t *r2 = yaml_document_get_root_node(&next);
			if (r2 != NULL) {
				struct where w = mark_where(r2->start_mark);
				report(ld, &w, 0, "only one YAML document is allowed");
			}
			yaml_document_delete(&next);
		}
	}
	yaml_document_delete(&doc);
out:
	yaml_parser_delete(&parser);
	free(buf);
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
load_env(struct loader *ld)
{
	for (size_t i = 0; i < wk_config_nkeys; i++) {
		const struct wk_config_key *k = &wk_config_keys[i];
		char name[128], why[512];
		const char *v;

		env_name(k, name, sizeof name);
		if ((v = wk_config_getenv(name)) == NULL || *v == '\0')
			continue;
		if (set_value(ld->cfg, k, v, why, sizeof why) < 0) {
			struct where w = { 0, 0, name };
			report(ld, &w, 0, "%s", why);
			continue;
		}
		ld->cfg->origin[i] = WK_CO_ENV;
	}
}

/* Where to point a message about key ki: its key or value in the file, its variable. */
static struct where
key_where(struct loader *ld, int ki, int value, char *envbuf, size_t len)
{
	struct where w = { 0, 0, NULL };

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
resolve(struct loader *ld)
{
	struct wk_config *cfg = ld->cfg;
	char *cwd = getcwd(NULL, 0), *p;
	long n;

	if (cwd == NULL) {
		struct where w = { 0, 0, NULL };
		report(ld, &w, 0, "cannot get the working directory: %s", strerror(errno));
		cwd = wk_strdup("/");
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
	free(cwd);

	n = sysconf(_SC_NPROCESSORS_ONLN);
	cfg->ncores = n < 1 ? 1 : (int)n;
	for (size_t i = 0; i < wk_config_nkeys; i++) {
		const struct wk_config_key *k = &wk_config_keys[i];
		int64_t v, lo = 1, hi = INT32_MAX;
		if (k->kind != WK_CK_COUNT || *FIELD(cfg, k, int) != COUNT_AUTO)
			continue;
		/* auto: clamped to the key's bounds rather than refused on a big machine */
		v = cfg->processes_perCore * (int64_t)cfg->ncores;
		if (k->min != NULL)
			parse_int(k->min, &lo);
		if (k->max != NULL)
			parse_int(k->max, &hi);
		*FIELD(cfg, k, int) = (int)(v < lo ? lo : v > hi ? hi : v);
	}
}

/* Checks that involve more than one key or the reference's address syntax. */
static void
validate(struct loader *ld)
{
	static const struct { int ki; const char *scheme; } schemes[] = {
		{ WK_CKI_addr, "tcp://" }, { WK_CKI_wsAddr, "ws://" }, { WK_CKI_wssAddr, "wss://" },
	};
	struct wk_config *cfg = ld->cfg;
	struct where w;
	char env[128];

	for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
		const char *v = *FIELD(cfg, &wk_config_keys[schemes[i].ki], char *);
		if (*v == '\0' || strncmp(v, schemes[i].scheme, strlen(schemes[i].scheme)) == 0)
			continue;
		w = key_where(ld, schemes[i].ki, 1, env, sizeof env);
		report(ld, &w, 0, "%s: must start with %s, got \"%.60s\"",
		    wk_config_keys[schemes[i].ki].path, schemes[i].scheme, v);
	}
	if (*cfg->wssAddr && (!*cfg->wssConfig_certFile || !*cfg->wssConfig_keyFile)) {
		w = key_where(ld, WK_CKI_wssAddr, 0, env, sizeof env);
		report(ld, &w, 0, "wssAddr: needs %s",
		    !*cfg->wssConfig_certFile && !*cfg->wssConfig_keyFile ?
		    "wssConfig.certFile and wssConfig.keyFile" :
		    !*cfg->wssConfig_certFile ? "wssConfig.certFile" : "wssConfig.keyFile");
	}
	if (cfg->supervisor_respawnDelay > cfg->supervisor_respawnDelayMax) {
		int ki = cfg->origin[WK_CKI_supervisor_respawnDelay] != WK_CO_DEFAULT ?
		    WK_CKI_supervisor_respawnDelay : WK_CKI_supervisor_respawnDelayMax;
		w = key_where(ld, ki, 1, env, sizeof env);
		report(ld, &w, 0, "supervisor.respawnDelay must not be more than "
		    "supervisor.respawnDelayMax");
	}
}

int
wk_config_load(struct wk_config *cfg, const char *path, FILE *err)
{
	struct loader ld;

	memset(cfg, 0, sizeof *cfg);
	memset(&ld, 0, sizeof ld);
	ld.cfg = cfg;
	ld.file = path;
	ld.err = err != NULL ? err : stderr;

	for (size_t i = 0; i < wk_config_nkeys; i++) {
		const struct wk_config_key *k = &wk_config_keys[i];
		char why[512];
		if (set_value(cfg, k, k->def, why, sizeof why) < 0) {
			struct where w = { 0, 0, NULL };
			report(&ld, &w, 0, "built-in default of %s: %s", k->path, why);
		}
		/* STR/ENUM are never NULL, even if a default were bad */
		if ((k->kind == WK_CK_STR || k->kind == WK_CK_ENUM) && !*FIELD(cfg, k, char *))
			*FIELD(cfg, k, char *) = wk_strdup("");
	}
	if (path != NULL) {
		cfg->path = wk_strdup(path);
		load_file(&ld, path);
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
			free(*FIELD(cfg, k, char *));
		else if (k->kind == WK_CK_LIST)
			strlist_free(FIELD(cfg, k, struct wk_strlist));
	}
	free(cfg->path);
	memset(cfg, 0, sizeof *cfg);
}

/* ---- format and diff ---- */

/* 1 if s can be written as a plain YAML scalar and read back as the same string. */
static int
plain_ok(const char *s)
{
	static const char *const words[] = {
		"true", "false", "yes", "no", "on", "off", "y", "n", "null", "auto",
	};
	char *end;

	if (*s == '\0' || !(isalnum((unsigned char)*s) || *s == '/' || *s == '_' || *s == '.'))
		return 0;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && strchr("/_.:@+=-", *p) == NULL)
			return 0;
	if (s[strlen(s) - 1] == ':')
		return 0;
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (strcasecmp(s, words[i]) == 0)
			return 0;
	(void)strtod(s, &end);
	return *end != '\0';
}

/* Append s to buf (size len, NUL-terminated) as a YAML scalar. */
static void
append_scalar(char *buf, size_t len, const char *s)
{
	size_t n = strlen(buf);

	if (plain_ok(s)) {
		snprintf(buf + n, len - n, "%s", s);
		return;
	}
	snprintf(buf + n, len - n, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		n = strlen(buf);
		if (*p == '"' || *p == '\\')
			snprintf(buf + n, len - n, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			snprintf(buf + n, len - n, "\\x%02x", *p);
		else
			snprintf(buf + n, len - n, "%c", *p);
	}
	n = strlen(buf);
	snprintf(buf + n, len - n, "\"");
}

/* Milliseconds as the shortest exact Go duration: 180000 -> 3m, 5400000 -> 1h30m. */
static void
format_duration(int64_t ms, char *buf, size_t len)
{
	static const struct { const char *u; int64_t ms; } units[] = {
		{ "h", 3600000 }, { "m", 60000 }, { "s", 1000 }, { "ms", 1 },
	};
	size_t n = 0;

	if (ms == 0) {
		snprintf(buf, len, "0s");
		return;
	}
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (ms / units[i].ms == 0)
			continue;
		snprintf(buf + n, len - n, "%" PRId64 "%s", ms / units[i].ms, units[i].u);
		n = strlen(buf);
		ms %= units[i].ms;
	}
}

void
wk_config_format(const struct wk_config *cfg, const struct wk_config_key *k,
    char *buf, size_t len)
{
	const struct wk_strlist *l;
	int64_t v;

	if (len == 0)
		return;
	buf[0] = '\0';
	switch (k->kind) {
	case WK_CK_STR:
	case WK_CK_ENUM:
		append_scalar(buf, len, *FIELD(cfg, k, char *const) ? *FIELD(cfg, k, char *const) : "");
		break;
	case WK_CK_BOOL:
		snprintf(buf, len, "%s", *FIELD(cfg, k, const int) ? "true" : "false");
		break;
	case WK_CK_INT:
		snprintf(buf, len, "%" PRId64, *FIELD(cfg, k, const int64_t));
		break;
	case WK_CK_DUR:
		format_duration(*FIELD(cfg, k, const int64_t), buf, len);
		break;
	case WK_CK_SIZE:
		v = *FIELD(cfg, k, const int64_t);
		if (v != 0 && v % (1LL << 30) == 0)
			snprintf(buf, len, "%" PRId64 "g", v >> 30);
		else if (v != 0 && v % (1LL << 20) == 0)
			snprintf(buf, len, "%" PRId64 "m", v >> 20);
		else if (v != 0 && v % (1LL << 10) == 0)
			snprintf(buf, len, "%" PRId64 "k", v >> 10);
		else
			snprintf(buf, len, "%" PRId64, v);
		break;
	case WK_CK_COUNT:
		if (*FIELD(cfg, k, const int) == COUNT_AUTO)
			snprintf(buf, len, "auto");
		else
			snprintf(buf, len, "%d", *FIELD(cfg, k, const int));
		break;
	case WK_CK_LIST:
		l = FIELD(cfg, k, const struct wk_strlist);
		snprintf(buf, len, "[");
		for (int i = 0; i < l->n; i++) {
			if (i > 0)
				snprintf(buf + strlen(buf), len - strlen(buf), ", ");
			append_scalar(buf, len, l->v[i]);
		}
		snprintf(buf + strlen(buf), len - strlen(buf), "]");
		break;
	}
}

static int
str_eq(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

int
wk_config_diff(const struct wk_config *a, const struct wk_config *b,
    void (*fn)(const struct wk_config_key *k, void *arg), void *arg)
{
	int n = 0;

	for (size_t i = 0; i < wk_config_nkeys; i++) {
		const struct wk_config_key *k = &wk_config_keys[i];
		const struct wk_strlist *la, *lb;
		int same = 1;

		switch (k->kind) {
		case WK_CK_STR:
		case WK_CK_ENUM:
			same = str_eq(*FIELD(a, k, char *const), *FIELD(b, k, char *const));
			break;
		case WK_CK_BOOL:
		case WK_CK_COUNT:
			same = *FIELD(a, k, const int) == *FIELD(b, k, const int);
			break;
		case WK_CK_INT:
		case WK_CK_DUR:
		case WK_CK_SIZE:
			same = *FIELD(a, k, const int64_t) == *FIELD(b, k, const int64_t);
			break;
		case WK_CK_LIST:
			la = FIELD(a, k, const struct wk_strlist);
			lb = FIELD(b, k, const struct wk_strlist);
			same = la->n == lb->n;
			for (int j = 0; same && j < la->n; j++)
				same = strcmp(la->v[j], lb->v[j]) == 0;
			break;
		}
		if (!same) {
			n++;
			if (fn != NULL)
				fn(k, arg);
		}
	}
	return n;
}
