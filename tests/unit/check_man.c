/* check_man.c - documentation tests: every configuration key of the schema
 * has an entry in wk.yaml(5) and the KEYS section lists no other key; every
 * man page of the tree exists and is an mdoc page (starts with .Dd); wk(7)
 * draws the source tree and lists every internal message type. */
#include <check.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wktest.h"
#include "wk_config.h"

static const char *const pages[] = {
	"man/wk.7", "man/wk-cluster.7", "man/wkproto.7", "man/wk.yaml.5", "man/wkctl.8",
	"man/wk-master.8", "man/wk-broker.8", "man/wk-api.8", "man/wk-channel.8",
	"man/wk-mailbox.8", "man/wk-hook.8", "man/wkbench.1",
};

/* The whole file at WK_TEST_SRCDIR/rel (malloc'd, NUL-terminated), or NULL. */
static char *
slurp(const char *rel)
{
	char path[4096], *buf;
	FILE *f;
	long n;

	snprintf(path, sizeof path, "%s/%s", WK_TEST_SRCDIR, rel);
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	buf[fread(buf, 1, (size_t)n, f)] = '\0';
	fclose(f);
	return buf;
}

/* 1 if `tok` occurs in s as a whole token (not inside a longer key or word). */
static int
has_token(const char *s, const char *tok)
{
	size_t n = strlen(tok);

	for (const char *p = strstr(s, tok); p != NULL; p = strstr(p + 1, tok)) {
		int before = p > s && (isalnum((unsigned char)p[-1]) || p[-1] == '_' || p[-1] == '.');
		int after = isalnum((unsigned char)p[n]) || p[n] == '_' ||
		    (p[n] == '.' && isalnum((unsigned char)p[n + 1]));
		if (!before && !after)
			return 1;
	}
	return 0;
}

/* 1 if the page has a line ".It Cm <key>" followed by a blank or the end of line. */
static int
has_entry(const char *s, const char *key)
{
	size_t n = strlen(key);

	for (const char *p = strstr(s, ".It Cm "); p != NULL; p = strstr(p + 1, ".It Cm ")) {
		if ((p == s || p[-1] == '\n') && strncmp(p + 7, key, n) == 0 &&
		    (p[7 + n] == ' ' || p[7 + n] == '\n'))
			return 1;
	}
	return 0;
}

START_TEST(test_man_every_key_documented)
{
	char *man = slurp("man/wk.yaml.5");

	ck_assert_msg(man != NULL, "man/wk.yaml.5 is missing");
	for (size_t i = 0; i < wk_config_nkeys; i++) {
		const char *k = wk_config_keys[i].path;
		ck_assert_msg(has_token(man, k), "wk.yaml(5) does not mention %s", k);
		ck_assert_msg(has_entry(man, k), "wk.yaml(5) has no \".It Cm %s\" entry", k);
	}
	free(man);
}
END_TEST

/* The KEYS section documents only keys of the schema (no stale entries). */
START_TEST(test_man_no_stale_keys)
{
	char *man = slurp("man/wk.yaml.5"), *sec, *end, *p;
	int n = 0;

	ck_assert_ptr_nonnull(man);
	sec = strstr(man, "\n.Sh KEYS\n");
	ck_assert_msg(sec != NULL, "wk.yaml(5) has no KEYS section");
	end = strstr(sec + 1, "\n.Sh ");
	if (end != NULL)
		*end = '\0';
	for (p = strstr(sec, "\n.It Cm "); p != NULL; p = strstr(p + 1, "\n.It Cm ")) {
		char key[256];
		size_t len = strcspn(p + 8, " \n");
		ck_assert_uint_lt(len, sizeof key);
		memcpy(key, p + 8, len);
		key[len] = '\0';
		ck_assert_msg(wk_config_find(key) != NULL, "wk.yaml(5) documents unknown key %s", key);
		ck_assert_msg(strcmp(wk_config_find(key)->path, key) == 0,
		    "wk.yaml(5) spells %s as %s", wk_config_find(key)->path, key);
		n++;
	}
	ck_assert_int_eq(n, (int)wk_config_nkeys);
	free(man);
}
END_TEST

START_TEST(test_man_pages_exist)
{
	char *s = slurp(pages[_i]), *p;

	ck_assert_msg(s != NULL, "%s is missing", pages[_i]);
	/* skip leading comment lines (.\") */
	for (p = s; strncmp(p, ".\\\"", 3) == 0 && strchr(p, '\n') != NULL; p = strchr(p, '\n') + 1)
		;
	ck_assert_msg(strncmp(p, ".Dd ", 4) == 0, "%s does not begin with a .Dd line", pages[_i]);
	free(s);
}
END_TEST

/* The one message list is drawn in wk(7): every row of wk_msgtypes.h has
 * an ".It Dv NAME Pq value" entry there, and wk(7) lists nothing else. */
static const struct { const char *name; int value; } msgtypes[] = {
#define X(name, value, desc) { #name, value },
#include "wk_msgtypes.h"
#undef X
};

START_TEST(test_man_every_msgtype_documented)
{
	char *man = slurp("man/wk.7"), entry[128];
	int n = 0;

	ck_assert_ptr_nonnull(man);
	for (size_t i = 0; i < sizeof msgtypes / sizeof msgtypes[0]; i++) {
		snprintf(entry, sizeof entry, "\n.It Dv %s Pq %d\n", msgtypes[i].name,
		    msgtypes[i].value);
		ck_assert_msg(strstr(man, entry) != NULL, "wk(7) has no entry for %s (%d)",
		    msgtypes[i].name, msgtypes[i].value);
	}
	for (const char *p = strstr(man, "\n.It Dv "); p; p = strstr(p + 1, "\n.It Dv "))
		if (strstr(p, " Pq ") != NULL && strstr(p, " Pq ") < strchr(p + 1, '\n'))
			n++;
	ck_assert_int_eq(n, (int)(sizeof msgtypes / sizeof msgtypes[0]));
	free(man);
}
END_TEST

/* wk(7)'s source tree names every process folder. */
START_TEST(test_man_tree_drawn)
{
	static const char *const dirs[] = {
		"common/", "shm/", "master/", "brokers/broker/", "brokers/api/",
		"workers/channel/", "workers/mailbox/", "workers/hook/",
	};
	char *man = slurp("man/wk.7"), *tree;

	ck_assert_ptr_nonnull(man);
	tree = strstr(man, ".Ss Source tree");
	ck_assert_msg(tree != NULL, "wk(7) has no Source tree");
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
		ck_assert_msg(strstr(tree, dirs[i]) != NULL, "wk(7)'s tree lacks %s", dirs[i]);
	free(man);
}
END_TEST

static Suite *
man_suite(void)
{
	Suite *s = suite_create("man");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_man_every_key_documented);
	tcase_add_test(tc, test_man_no_stale_keys);
	tcase_add_loop_test(tc, test_man_pages_exist, 0, sizeof pages / sizeof pages[0]);
	tcase_add_test(tc, test_man_every_msgtype_documented);
	tcase_add_test(tc, test_man_tree_drawn);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return wkt_run_suite(man_suite());
}
