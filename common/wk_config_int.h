/* wk_config_int.h - private to the wk.yaml loader (wk_config*.c): one load in
 * progress, where a message points, and the helpers the loader's files share.
 * Nothing outside common/wk_config*.c includes it.  See wk.yaml(5). */
#ifndef WK_CONFIG_INT_H
#define WK_CONFIG_INT_H
#include <stdint.h>
#include <stdio.h>

#include "wk_config.h"

/* The field of key k in cfg, as a pointer to type. */
#define WK_CONFIG_FIELD(cfg, k, type) ((type *)(void *)((char *)(cfg) + (k)->offset))
#define WK_CONFIG_COUNT_AUTO (-1)   /* a COUNT field before resolution */

struct yaml_document_s;

/* One load in progress. */
struct wk_config_loader {
	struct wk_config *cfg;
	const char *file;       /* as given, for messages */
	FILE *err;
	int nerrors;
	struct yaml_document_s *doc;   /* during the YAML walk */
	struct {
		int kline, kcol;    /* the key in the file */
		int vline, vcol;    /* its value */
	} pos[WK_CONFIG_NKEYS];
};

/* Where a message points: a file position, a file, or an environment variable. */
struct wk_config_where {
	int line, col;          /* 0 = no position */
	const char *env;
};

/* wk_config.c: messages and the schema lookups. */
void wk_config_report(struct wk_config_loader *ld, const struct wk_config_where *w,
    int warning, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int wk_config_key_index(const char *path);
int wk_config_is_section(const char *path);
int wk_config_reference_match(const char *path);
/* The schema key or section an unknown key is probably a misspelling of, or NULL. */
const char *wk_config_suggest(const char *path);

/* wk_config_value.c: text to a typed field. */
int wk_config_parse_int(const char *s, int64_t *out);
int wk_config_set_value(struct wk_config *cfg, const struct wk_config_key *k, const char *s,
    char *why, size_t len);
void wk_strlist_free(struct wk_strlist *l);
void wk_strlist_add(struct wk_strlist *l, const char *s, size_t n);
void wk_strlist_split(struct wk_strlist *l, const char *s);

/* wk_config_yaml.c: read `path` and set every key it names. */
void wk_config_load_file(struct wk_config_loader *ld, const char *path);

#endif
