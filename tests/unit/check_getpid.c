/* check_getpid.c - common/wk_getpid.c: the pid answered from memory is the
 * kernel's, in the parent and in a forked child (the cache is reset by the
 * fork), and the definition is the one every library of the program gets
 * (dlsym in the global scope, the way libzmq's call is bound, finds the
 * program's, not libc's). */
#include <check.h>
#include <dlfcn.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "wktest.h"

START_TEST(test_getpid_is_the_kernels)
{
	ck_assert_int_eq(getpid(), (pid_t)syscall(SYS_getpid));
	ck_assert_int_eq(getpid(), (pid_t)syscall(SYS_getpid));
}
END_TEST

START_TEST(test_getpid_after_fork)
{
	pid_t parent = getpid(), child;
	int st;

	if ((child = fork()) == 0)
		_exit(getpid() == (pid_t)syscall(SYS_getpid) && getpid() != parent ? 0 : 1);
	ck_assert_int_gt(child, 0);
	ck_assert_int_eq(waitpid(child, &st, 0), child);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0);
	ck_assert_int_eq(getpid(), parent);
}
END_TEST

START_TEST(test_getpid_interposes_libc)
{
	Dl_info info;
	void *f = dlsym(RTLD_DEFAULT, "getpid");

	ck_assert_ptr_eq(f, (void *)getpid);
	ck_assert(dladdr(f, &info) != 0);
	ck_assert_msg(strstr(info.dli_fname, "libc") == NULL, "getpid from %s", info.dli_fname);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("getpid");
	TCase *tc = tcase_create("getpid");

	tcase_add_test(tc, test_getpid_is_the_kernels);
	tcase_add_test(tc, test_getpid_after_fork);
	tcase_add_test(tc, test_getpid_interposes_libc);
	suite_add_tcase(s, tc);
	return wkt_run_suite(s);
}
