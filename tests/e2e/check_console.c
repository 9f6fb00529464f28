/* check_console.c - the console (manager.addr) and the demo chat
 * (demo.addr) in Debian's headless chromium driven by puppeteer-core
 * (tests/e2e/console_browser.mjs; wk-api(8), CONSOLE and DEMO CHAT).
 *
 * Each test starts a tree with the console or the demo on ports of its
 * own, runs one scenario of the browser script, and asserts on what the
 * pages showed: the process tree, a message rate that moves by exactly
 * the messages sent, a read-only user refused a change, a wrong password
 * refused, two demo tabs that chat through the official JS SDK.  Node.js
 * and the npm packages are made ready as for the SDK tests (sdk_driver.c);
 * no chromium is a failure that says how to install it. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include "wktest.h"
#include "sdk_driver.h"

#define CHROMIUM "/usr/bin/chromium"
#define USERS "auth:\n  users:\n    - \"admin:s3cret:*\"\n    - \"viewer:look:[conn:r,channel:r]\"\n"

static struct wkt_tree tree;
static int port;

/* A tree with the console (or the demo) on a port of its own. */
static void
start(const char *section, const char *extra)
{
	char text[1024];

	port = wkt_free_port();
	snprintf(text, sizeof text, "%s:\n  addr: 127.0.0.1:%d\n%s", section, port, extra);
	wkt_tree_start(&tree, text);
}

/* Run a scenario of console_browser.mjs against the tree's page: its RESULT
 * object (the test fails with the script's output when there is none). */
static json_t *
browse(const char *scenario, const char *args)
{
	char *out = NULL, *line;
	json_t *res;
	json_error_t e;

	wkt_run(&out, "CHROMIUM=%s '%s' '%s/tests/e2e/console_browser.mjs' --modules='%s' %s "
	    "'http://127.0.0.1:%d/' %s", CHROMIUM, sdk_node(), WK_TEST_SRCDIR, sdk_modules(),
	    scenario, port, args);
	line = out ? strstr(out, "RESULT ") : NULL;
	ck_assert_msg(line != NULL, "%s: no RESULT line:\n%s", scenario, out ? out : "");
	res = json_loads(line + 7, JSON_DISABLE_EOF_CHECK, &e);
	ck_assert_msg(res != NULL, "%s: RESULT does not parse (%s):\n%s", scenario, e.text, out);
	ck_assert_msg(json_is_true(json_object_get(res, "ok")), "%s failed:\n%s", scenario, out);
	ck_assert_msg(json_array_size(json_object_get(res, "console_errors")) == 0,
	    "%s: the page logged errors:\n%s", scenario, out);
	free(out);
	return res;
}

static int
has_str(json_t *a, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return 1;
	return 0;
}

/* Log in, see every process of the tree ready, send 20 messages: the
 * page's total moves by exactly 20 and its rate above 0. */
START_TEST(test_console_tree_and_rate)
{
	json_t *r, *roles, *states;
	size_t i;
	json_t *v;

	start("manager", USERS);
	r = browse("tree", "admin s3cret 20");
	roles = json_object_get(r, "roles");
	states = json_object_get(r, "states");
	for (i = 0; i < 6; i++) {
		const char *want = (const char *[]){ "master", "broker", "channel", "mailbox", "hook", "api" }[i];
		ck_assert_msg(has_str(roles, want), "no %s row in the tree", want);
	}
	ck_assert_int_eq(json_array_size(roles), WKT_NPROCS);
	json_array_foreach(states, i, v)
		ck_assert_msg(strcmp(json_string_value(v), "ready") == 0 ||
		    strcmp(json_string_value(v), "running") == 0, "process %zu is %s", i, json_string_value(v));
	ck_assert_int_eq(json_integer_value(json_object_get(r, "sent")), 20);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "total_after")) -
	    json_integer_value(json_object_get(r, "total_before")), 20);
	ck_assert_msg(json_number_value(json_object_get(r, "max_rate")) > 0, "the rate never moved");
	json_decref(r);
	wkt_tree_stop(&tree);
}
END_TEST

/* A read-only user sees the tree and reads, but adding members and
 * kicking a connection answer 403. */
START_TEST(test_console_readonly_refused)
{
	json_t *r;

	start("manager", USERS);
	r = browse("readonly", "viewer look");
	ck_assert_msg(strstr(json_string_value(json_object_get(r, "whoami")), "read only") != NULL,
	    "whoami: %s", json_string_value(json_object_get(r, "whoami")));
	ck_assert_msg(strncmp(json_string_value(json_object_get(r, "members_msg")), "403", 3) == 0,
	    "adding members: %s", json_string_value(json_object_get(r, "members_msg")));
	ck_assert_int_eq(json_integer_value(json_object_get(r, "kick_status")), 403);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "read_status")), 200);
	json_decref(r);
	wkt_tree_stop(&tree);
}
END_TEST

/* With no auth.users the reference's read-only guest:guest logs in. */
START_TEST(test_console_guest_default)
{
	json_t *r;

	start("manager", "");
	r = browse("readonly", "guest guest");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "kick_status")), 403);
	json_decref(r);
	wkt_tree_stop(&tree);
}
END_TEST

/* A wrong password: the reference's words, the console stays closed, and
 * its routes answer 401 without a session. */
START_TEST(test_console_wrong_password)
{
	json_t *r;

	start("manager", USERS);
	r = browse("badlogin", "admin wrong");
	ck_assert_msg(strstr(json_string_value(json_object_get(r, "error")), "用户名或密码错误") != NULL,
	    "error shown: %s", json_string_value(json_object_get(r, "error")));
	ck_assert(json_is_true(json_object_get(r, "app_hidden")));
	ck_assert_int_eq(json_integer_value(json_object_get(r, "tree_status")), 401);
	json_decref(r);
	wkt_tree_stop(&tree);
}
END_TEST

/* POST /manager/login n times with password pw: the last status (and
 * its body in *last, if asked). */
static long
logins(int n, const char *pw, char **last)
{
	char url[64], body[128], *resp = NULL;
	long st = -1;

	snprintf(url, sizeof url, "http://127.0.0.1:%d/manager/login", port);
	snprintf(body, sizeof body, "{\"username\":\"admin\",\"password\":\"%s\"}", pw);
	for (int i = 0; i < n; i++) {
		free(resp);
		resp = NULL;
		st = wkt_http("POST", url, body, &resp, NULL);
	}
	if (last)
		*last = resp;
	else
		free(resp);
	return st;
}

/* Guessing passwords: five failures from one address and its logins are
 * refused (429, the right password too) for the rest of the minute; a
 * success before that clears the count. */
START_TEST(test_console_login_throttled)
{
	char *resp = NULL;

	start("manager", USERS);
	ck_assert_int_eq(logins(4, "wrong", NULL), 400);
	ck_assert_int_eq(logins(1, "s3cret", NULL), 200);      /* clears the four */
	ck_assert_int_eq(logins(4, "wrong", NULL), 400);
	ck_assert_int_eq(logins(1, "s3cret", NULL), 200);
	ck_assert_int_eq(logins(5, "wrong", NULL), 400);       /* the fifth failure */
	ck_assert_int_eq(logins(1, "s3cret", &resp), 429);
	ck_assert_msg(resp && strstr(resp, "too many failed logins"), "429 body: %s", resp);
	free(resp);
	ck_assert_int_eq(logins(1, "wrong", NULL), 429);
	/* The API port is not the console's: its clients are not throttled. */
	json_decref(wkt_call(&tree, "GET", "/health", NULL, 200));
	wkt_tree_stop(&tree);
}
END_TEST

/* Two demo tabs, alice and bob (tokens set by the app server, as with
 * tokenAuthOn), chat both ways through the official JS SDK. */
START_TEST(test_demo_two_tabs_chat)
{
	json_t *r;

	start("demo", "");
	wkt_set_token(&tree, "alice", "tok-a", 1, 0);
	wkt_set_token(&tree, "bob", "tok-b", 1, 0);
	r = browse("demo", "alice tok-a bob tok-b");
	ck_assert(has_str(json_object_get(r, "log_b"), "alice: hello from alice"));
	ck_assert(has_str(json_object_get(r, "log_a"), "bob: hello back from bob"));
	json_decref(r);
	wkt_tree_stop(&tree);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("console");
	TCase *tc = tcase_create("browser");
	int rc;

	if (access(CHROMIUM, X_OK) != 0) {
		fprintf(stderr, "check_console: FAIL: no %s; scripts/bootstrap installs it "
		    "(Debian package chromium), or: apt-get install chromium\n", CHROMIUM);
		return 1;
	}
	if ((rc = sdk_prepare()) != 0)
		return rc < 0 ? 1 : rc;
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_console_tree_and_rate);
	tcase_add_test(tc, test_console_readonly_refused);
	tcase_add_test(tc, test_console_guest_default);
	tcase_add_test(tc, test_console_wrong_password);
	tcase_add_test(tc, test_console_login_throttled);
	tcase_add_test(tc, test_demo_two_tabs_chat);
	suite_add_tcase(s, tc);
	return wkt_run_suite(s);
}
