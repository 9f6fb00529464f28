/* wk_config.h - wk.yaml: the schema table (wk_config_schema.h), the loader,
 * WK_* environment overrides.  See wk.yaml(5). */
#ifndef WK_CONFIG_H
#define WK_CONFIG_H
#include <stdint.h>
#include <stdio.h>

enum wk_config_kind {
	WK_CK_STR, WK_CK_BOOL, WK_CK_INT, WK_CK_DUR, WK_CK_SIZE, WK_CK_COUNT,
	WK_CK_ENUM, WK_CK_LIST,
};

/* Field types per kind: STR/ENUM char * (never NULL after load), BOOL int,
 * INT int64_t, DUR int64_t milliseconds, SIZE int64_t bytes,
 * COUNT int (resolved: "auto" becomes perCore x online cores), LIST struct wk_strlist. */
struct wk_strlist {
	char **v;
	int n;
};

#define WK_CT_STR char *
#define WK_CT_ENUM char *
#define WK_CT_BOOL int
#define WK_CT_INT int64_t
#define WK_CT_DUR int64_t
#define WK_CT_SIZE int64_t
#define WK_CT_COUNT int
#define WK_CT_LIST struct wk_strlist

/* Index of every key in wk_config_keys[]: WK_CKI_<field>, and their number. */
enum wk_config_index {
#define X(path, kind, field, def, min, max, reload, help) WK_CKI_##field,
#include "wk_config_schema.h"
#undef X
	WK_CONFIG_NKEYS
};

/* Where a key's value came from (struct wk_config.origin[WK_CKI_...]). */
enum wk_config_origin { WK_CO_DEFAULT, WK_CO_FILE, WK_CO_ENV };

struct wk_config {
#define X(path, kind, field, def, min, max, reload, help) WK_CT_##kind field;
#include "wk_config_schema.h"
#undef X
	char *path;         /* file loaded, or NULL for the embedded defaults */
	int ncores;         /* online cores when loaded */
	unsigned char origin[WK_CONFIG_NKEYS]; /* enum wk_config_origin per key */
	unsigned char count_auto[WK_CONFIG_NKEYS]; /* 1 for a COUNT key that was "auto" */
};

struct wk_config_key {
	const char *path;
	enum wk_config_kind kind;
	size_t offset;
	const char *def;
	const char *min;    /* ENUM: "a|b|c" */
	const char *max;
	int reloadable;
	const char *help;
};

extern const struct wk_config_key wk_config_keys[];
extern const size_t wk_config_nkeys;

/* Load `path` (NULL = embedded defaults only), then WK_* environment
 * overrides, then resolve derived values (dataDir, runDir as absolute paths;
 * COUNT "auto").  Every error is written to `err` as "FILE:LINE:COL: message"
 * (env errors as "WK_NAME: message"); returns 0, or -1 after all errors.
 * Warnings (reference keys wk accepts but does not use) go to `err` too,
 * as "FILE:LINE:COL: warning: ...", and do not fail the load.  `err` NULL =
 * stderr.  On failure *cfg is already freed (zeroed; wk_config_free is a no-op). */
int wk_config_load(struct wk_config *cfg, const char *path, FILE *err);
void wk_config_free(struct wk_config *cfg);

/* Lookup by dotted path, case-insensitive; NULL if unknown. */
const struct wk_config_key *wk_config_find(const char *path);

/* The value of a key formatted as text, as it would be written in wk.yaml. */
void wk_config_format(const struct wk_config *cfg, const struct wk_config_key *k,
    char *buf, size_t len);

/* Keys whose values differ between a and b: calls fn for each; returns the count. */
int wk_config_diff(const struct wk_config *a, const struct wk_config *b,
    void (*fn)(const struct wk_config_key *k, void *arg), void *arg);

/* The environment the loader reads (default getenv); tests may replace it. */
extern char *(*wk_config_getenv)(const char *name);

/* Value parsers used by the loader, for other readers of the same syntax.
 * Each returns 0, or -1 if `s` is not a value of that kind. */
int wk_config_parse_bool(const char *s, int *out);         /* true/false yes/no on/off 1/0 */
int wk_config_parse_duration(const char *s, int64_t *ms);  /* Go syntax plus d, whole ms */
int wk_config_parse_size(const char *s, int64_t *bytes);   /* 123, 64k, 16m, 1g (x1024) */

#endif
