/* config_fixture.h - what the wk.yaml loader's tests (check_config_*.c)
 * share: a fresh temporary directory and a clean WK_* environment per test,
 * and loading a text as ./wk.yaml with its messages captured. */
#ifndef CONFIG_FIXTURE_H
#define CONFIG_FIXTURE_H
#include "wk_config.h"

/* The checked fixture: chdir to a new temporary directory, unset every
 * WK_<KEY>; then remove the directory and unset them again. */
void ct_setup(void);
void ct_teardown(void);
/* Load `text` as ./wk.yaml (NULL: no file); *out gets the messages (malloc'd). */
int ct_load(const char *text, struct wk_config *cfg, char **out);
/* `rel` under the working directory, absolute (malloc'd). */
char *ct_cwd_join(const char *rel);
/* Online cores, as the loader counts them. */
int ct_ncores(void);
/* A wk_config_diff callback: appends "path " to the string arg. */
void ct_collect_paths(const struct wk_config_key *k, void *arg);

#endif
