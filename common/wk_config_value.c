/* wk_config_value.c - the value syntax of wk.yaml: booleans, Go durations
 * (plus d), sizes with k/m/g, bounded integers, "auto" counts, enums and
 * lists, each checked against its schema key's bounds and stored in the
 * struct wk_config field.  Used for the file, the WK_* environment and the
 * built-in defaults alike.  See wk.yaml(5). */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "wk_alloc.h"
#include "wk_config.h"
#include "wk_config_int.h"

/* Strict decimal integer with an optional sign. */
int
wk_config_parse_int(const char *s, int64_t *out)
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
	default: return wk_config_parse_int(s, out);
	}
}

/* Why s is not a number of that kind, in the words a user of wk.yaml needs. */
static void
number_syntax_error(enum wk_config_kind kind, const char *s, char *why, size_t len)
{
	switch (kind) {
	case WK_CK_DUR:
		if (all_digits(s))
			snprintf(why, len, "expected a duration like 500ms, 30s, 5m, "
			    "got \"%.60s\" (add a unit: %.20sms, %.20ss, %.20sm)", s, s, s, s);
		else
			snprintf(why, len, "expected a duration like 500ms, 30s, 5m, "
			    "got \"%.60s\"", s);
		break;
	case WK_CK_SIZE:
		snprintf(why, len, "expected a size like 512k, 64m, 1g, got \"%.60s\"", s);
		break;
	case WK_CK_COUNT:
		snprintf(why, len, "expected an integer or auto, got \"%.60s\"", s);
		break;
	default:
		snprintf(why, len, "expected an integer, got \"%.60s\"", s);
		break;
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

void
wk_strlist_free(struct wk_strlist *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void
wk_strlist_add(struct wk_strlist *l, const char *s, size_t n)
{
	l->v = wk_realloc(l->v, sizeof *l->v * (size_t)(l->n + 1));
	l->v[l->n++] = wk_strndup(s, n);
}

/* A list written as one string: words separated by white space (env, viper). */
void
wk_strlist_split(struct wk_strlist *l, const char *s)
{
	while (*s) {
		size_t n;
		while (isspace((unsigned char)*s))
			s++;
		for (n = 0; s[n] && !isspace((unsigned char)s[n]); n++)
			;
		if (n > 0)
			wk_strlist_add(l, s, n);
		s += n;
	}
}

/*
 * Parse text `s` as the value of key k and store it in cfg.  Returns 0, or -1
 * with the reason in why (cfg unchanged).  LIST values arrive here only as a
 * single string (space-separated words); YAML sequences are read in
 * wk_config_yaml.c.
 */
int
wk_config_set_value(struct wk_config *cfg, const struct wk_config_key *k, const char *s,
    char *why, size_t len)
{
	int64_t v;
	int b;

	switch (k->kind) {
	case WK_CK_STR:
		free(*WK_CONFIG_FIELD(cfg, k, char *));
		*WK_CONFIG_FIELD(cfg, k, char *) = wk_strdup(s);
		return 0;
	case WK_CK_BOOL:
		if (wk_config_parse_bool(s, &b) < 0) {
			snprintf(why, len, "expected a boolean (true/false, yes/no, on/off, 1/0), "
			    "got \"%.60s\"", s);
			return -1;
		}
		*WK_CONFIG_FIELD(cfg, k, int) = b;
		return 0;
	case WK_CK_INT:
	case WK_CK_DUR:
	case WK_CK_SIZE:
	case WK_CK_COUNT:
		if (k->kind == WK_CK_COUNT && strcasecmp(s, "auto") == 0) {
			*WK_CONFIG_FIELD(cfg, k, int) = WK_CONFIG_COUNT_AUTO;
			return 0;
		}
		if (parse_number(k->kind, s, &v) < 0) {
			number_syntax_error(k->kind, s, why, len);
			return -1;
		}
		if (check_range(k, v, s, why, len) < 0)
			return -1;
		if (k->kind == WK_CK_COUNT)
			*WK_CONFIG_FIELD(cfg, k, int) = (int)v;
		else
			*WK_CONFIG_FIELD(cfg, k, int64_t) = v;
		return 0;
	case WK_CK_ENUM: {
		const char *w = k->min;
		while (*w) {
			size_t n = strcspn(w, "|");
			if (n == strlen(s) && strncasecmp(w, s, n) == 0) {
				free(*WK_CONFIG_FIELD(cfg, k, char *));
				*WK_CONFIG_FIELD(cfg, k, char *) = wk_strndup(w, n);
				for (char *p = *WK_CONFIG_FIELD(cfg, k, char *); *p; p++)
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
		wk_strlist_free(WK_CONFIG_FIELD(cfg, k, struct wk_strlist));
		wk_strlist_split(WK_CONFIG_FIELD(cfg, k, struct wk_strlist), s);
		return 0;
	}
	return -1;
}
