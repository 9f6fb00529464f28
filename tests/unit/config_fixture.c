/* config_fixture.c - what the wk.yaml loader's tests share
 * (config_fixture.h). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wktest.h"
#include "wk_config.h"
#include "config_fixture.h"

static char *tmpdir;
static char *oldcwd;

/* Unset every WK_<KEY> so the caller's environment cannot leak into a test. */
static void
clear_env(void)
{
	for (size_t i = 0; i < wk_config_nkeys; i++) {
		char name[128], *p;
		snprintf(name, sizeof name, "WK_%s", wk_config_keys[i].path);
		for (p = name; *p; p++)
			*p = *p == '.' ? '_' : (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
		unsetenv(name);
	}
}

void
ct_setup(void)
{
	tmpdir = wkt_tmpdir();
	oldcwd = getcwd(NULL, 0);
	ck_assert_int_eq(chdir(tmpdir), 0);
	clear_env();
	wk_config_getenv = getenv;
}

void
ct_teardown(void)
{
	if (oldcwd != NULL && chdir(oldcwd) == 0)
		wkt_rm_rf(tmpdir);
	free(oldcwd);
	oldcwd = NULL;
	free(tmpdir);
	tmpdir = NULL;
	clear_env();
}

/* Load `text` as ./wk.yaml (NULL: no file); *out gets the messages. */
int
ct_load(const char *text, struct wk_config *cfg, char **out)
{
	size_t len = 0;
	FILE *ef;
	int rc;

	*out = NULL;
	ef = open_memstream(out, &len);
	ck_assert_ptr_nonnull(ef);
	if (text != NULL)
		wkt_write_file("wk.yaml", text);
	rc = wk_config_load(cfg, text ? "wk.yaml" : NULL, ef);
	fclose(ef);
	return rc;
}

char *
ct_cwd_join(const char *rel)
{
	char *cwd = getcwd(NULL, 0), *p;

	ck_assert_ptr_nonnull(cwd);
	ck_assert_int_ne(asprintf(&p, "%s/%s", cwd, rel), -1);
	free(cwd);
	return p;
}

int
ct_ncores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : (int)n;
}

void
ct_collect_paths(const struct wk_config_key *k, void *arg)
{
	char *s = arg;

	strcat(s, k->path);
	strcat(s, " ");
}
