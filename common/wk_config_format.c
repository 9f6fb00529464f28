/* wk_config_format.c - a loaded wk.yaml written back: each value as text in
 * the syntax the loader reads (shortest exact duration, k/m/g sizes, quoted
 * strings where needed), and the keys that differ between two loads, which
 * the master reports on SIGHUP.  See wk.yaml(5). */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "wk_config.h"
#include "wk_config_int.h"

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
		append_scalar(buf, len, *WK_CONFIG_FIELD(cfg, k, char *const) ? *WK_CONFIG_FIELD(cfg, k, char *const) : "");
		break;
	case WK_CK_BOOL:
		snprintf(buf, len, "%s", *WK_CONFIG_FIELD(cfg, k, const int) ? "true" : "false");
		break;
	case WK_CK_INT:
		snprintf(buf, len, "%" PRId64, *WK_CONFIG_FIELD(cfg, k, const int64_t));
		break;
	case WK_CK_DUR:
		format_duration(*WK_CONFIG_FIELD(cfg, k, const int64_t), buf, len);
		break;
	case WK_CK_SIZE:
		v = *WK_CONFIG_FIELD(cfg, k, const int64_t);
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
		if (*WK_CONFIG_FIELD(cfg, k, const int) == WK_CONFIG_COUNT_AUTO)
			snprintf(buf, len, "auto");
		else
			snprintf(buf, len, "%d", *WK_CONFIG_FIELD(cfg, k, const int));
		break;
	case WK_CK_LIST:
		l = WK_CONFIG_FIELD(cfg, k, const struct wk_strlist);
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
			same = str_eq(*WK_CONFIG_FIELD(a, k, char *const), *WK_CONFIG_FIELD(b, k, char *const));
			break;
		case WK_CK_BOOL:
		case WK_CK_COUNT:
			same = *WK_CONFIG_FIELD(a, k, const int) == *WK_CONFIG_FIELD(b, k, const int);
			break;
		case WK_CK_INT:
		case WK_CK_DUR:
		case WK_CK_SIZE:
			same = *WK_CONFIG_FIELD(a, k, const int64_t) == *WK_CONFIG_FIELD(b, k, const int64_t);
			break;
		case WK_CK_LIST:
			la = WK_CONFIG_FIELD(a, k, const struct wk_strlist);
			lb = WK_CONFIG_FIELD(b, k, const struct wk_strlist);
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
