/* wk_config_yaml.c - the YAML side of the wk.yaml loader: read the file,
 * parse it with libyaml and walk the document, setting each schema key and
 * reporting every unknown key, duplicate, wrong node type or bad value as
 * FILE:LINE:COL (reference keys wk ignores are warnings).  See wk.yaml(5). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "wk_alloc.h"
#include "wk_config.h"
#include "wk_config_int.h"

#define MAX_FILE_SIZE (16 << 20)

/* Where a libyaml mark points, 1-based. */
static struct wk_config_where
mark_where(yaml_mark_t m)
{
	struct wk_config_where w = { (int)m.line + 1, (int)m.column + 1, NULL };
	return w;
}

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
set_from_node(struct wk_config_loader *ld, int ki, yaml_node_t *kn, yaml_node_t *v, const char *name)
{
	const struct wk_config_key *k = &wk_config_keys[ki];
	struct wk_config *cfg = ld->cfg;
	struct wk_config_where kw = mark_where(kn->start_mark), vw = mark_where(v->start_mark);
	char why[512];

	if (cfg->origin[ki] == WK_CO_FILE) {
		wk_config_report(ld, &kw, 0, "duplicate key '%s' (first at line %d)", name, ld->pos[ki].kline);
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
			wk_config_report(ld, &vw, 0, "%s: expected a sequence, got a mapping", name);
			return;
		}
		if (v->type == YAML_SCALAR_NODE) {
			if (!is_null(v))
				wk_strlist_split(&l, scalar(v));
		} else {
			for (yaml_node_item_t *it = v->data.sequence.items.start;
			    it < v->data.sequence.items.top; it++) {
				yaml_node_t *e = yaml_document_get_node(ld->doc, *it);
				if (e->type != YAML_SCALAR_NODE) {
					struct wk_config_where ew = mark_where(e->start_mark);
					wk_config_report(ld, &ew, 0, "%s: expected a scalar list item, got %s",
					    name, node_kind(e));
					continue;
				}
				wk_strlist_add(&l, scalar(e), strlen(scalar(e)));
			}
		}
		wk_strlist_free(WK_CONFIG_FIELD(cfg, k, struct wk_strlist));
		*WK_CONFIG_FIELD(cfg, k, struct wk_strlist) = l;
		return;
	}
	if (v->type != YAML_SCALAR_NODE) {
		wk_config_report(ld, &vw, 0, "%s: expected a scalar value, got %s", name, node_kind(v));
		return;
	}
	if (wk_config_set_value(cfg, k, is_null(v) ? "" : scalar(v), why, sizeof why) < 0)
		wk_config_report(ld, &vw, 0, "%s: %s", name, why);
}

static void walk_map(struct wk_config_loader *ld, yaml_node_t *map, const char *prefix, int ignored);

/* One key of a mapping: a schema key, a section, a reference key, or an error. */
static void
walk_pair(struct wk_config_loader *ld, yaml_node_t *kn, yaml_node_t *v, const char *name, int ignored)
{
	struct wk_config_where kw = mark_where(kn->start_mark), vw = mark_where(v->start_mark);
	const char *hint;
	int ki, ref;

	if (ignored) {
		if (v->type == YAML_MAPPING_NODE)
			walk_map(ld, v, name, 1);
		else
			wk_config_report(ld, &kw, 1, "%s is a WuKongIM key that wk does not use; ignored", name);
		return;
	}
	if ((ki = wk_config_key_index(name)) >= 0) {
		set_from_node(ld, ki, kn, v, name);
		return;
	}
	if (wk_config_is_section(name)) {
		if (v->type == YAML_MAPPING_NODE)
			walk_map(ld, v, name, 0);
		else if (!is_null(v))
			wk_config_report(ld, &vw, 0, "%s: expected a mapping (a section), got %s",
			    name, node_kind(v));
		return;
	}
	if ((ref = wk_config_reference_match(name)) != 0) {
		if (ref == 2 && v->type == YAML_MAPPING_NODE)
			walk_map(ld, v, name, 1);
		else
			wk_config_report(ld, &kw, 1, "%s is a WuKongIM key that wk does not use; ignored", name);
		return;
	}
	if ((hint = wk_config_suggest(name)) != NULL)
		wk_config_report(ld, &kw, 0, "unknown key '%s'; did you mean '%s'?", name, hint);
	else
		wk_config_report(ld, &kw, 0, "unknown key '%s'", name);
}

/* Every key of a mapping, in document order; `prefix` is the section path. */
static void
walk_map(struct wk_config_loader *ld, yaml_node_t *map, const char *prefix, int ignored)
{
	yaml_node_pair_t *start = map->data.mapping.pairs.start;

	for (yaml_node_pair_t *p = start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(ld->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(ld->doc, p->value);
		struct wk_config_where kw = mark_where(kn->start_mark);
		yaml_node_pair_t *q;
		char *name;

		if (kn->type != YAML_SCALAR_NODE) {
			wk_config_report(ld, &kw, 0, "expected a key name, got %s", node_kind(kn));
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
			wk_config_report(ld, &kw, 0, "duplicate key '%s' (first at line %d)", name,
			    (int)qk->start_mark.line + 1);
		} else
			walk_pair(ld, kn, v, name, ignored);
		free(name);
	}
}

/* Line and column of a byte offset (libyaml reader errors give only that). */
static struct wk_config_where
offset_where(const char *buf, size_t off)
{
	struct wk_config_where w = { 1, 1, NULL };

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
report_yaml_error(struct wk_config_loader *ld, const yaml_parser_t *p, const char *buf)
{
	struct wk_config_where w;

	if (p->error == YAML_MEMORY_ERROR) {
		w = (struct wk_config_where){ 0, 0, NULL };
		wk_config_report(ld, &w, 0, "out of memory");
		return;
	}
	if (p->error == YAML_READER_ERROR) {
		w = offset_where(buf, p->problem_offset);
		wk_config_report(ld, &w, 0, "%s", p->problem ? p->problem : "cannot read");
		return;
	}
	w = mark_where(p->problem_mark);
	if (p->context != NULL)
		wk_config_report(ld, &w, 0, "%s (%s at line %d)", p->problem ? p->problem : "syntax error",
		    p->context, (int)p->context_mark.line + 1);
	else
		wk_config_report(ld, &w, 0, "%s", p->problem ? p->problem : "syntax error");
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

/* Parse the file, walk its one document, refuse a second one. */
void
wk_config_load_file(struct wk_config_loader *ld, const char *path)
{
	yaml_parser_t parser;
	yaml_document_t doc, next;
	yaml_node_t *root;
	size_t len = 0;
	char *buf;

	if ((buf = slurp(path, &len)) == NULL) {
		struct wk_config_where w = { 0, 0, NULL };
		wk_config_report(ld, &w, 0, "%s", strerror(errno));
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
		struct wk_config_where w = mark_where(root->start_mark);
		wk_config_report(ld, &w, 0, "expected a mapping of keys at the top level, got %s",
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
				struct wk_config_where w = mark_where(r2->start_mark);
				wk_config_report(ld, &w, 0, "only one YAML document is allowed");
			}
			yaml_document_delete(&next);
		}
	}
	yaml_document_delete(&doc);
out:
	yaml_parser_delete(&parser);
	free(buf);
}
