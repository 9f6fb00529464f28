/* wk_alloc.c - allocation helpers: out of memory is fatal, so callers never check.
 *
 * Helpers never return NULL (STYLE.md): a process that dies is restarted
 * by wk-master, and what it acknowledged was committed before.  A size of
 * 0 is asked as 1, so a NULL from the C library always means out of memory. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "wk_alloc.h"
#include "wk_log.h"

/* The one place that turns a NULL from the C library into an exit. */
static void *
check(void *p)
{
	if (p == NULL)
		wk_fatalx("out of memory");
	return p;
}

void *wk_malloc(size_t n) { return check(malloc(n ? n : 1)); }
void *wk_calloc(size_t nmemb, size_t size) { return check(calloc(nmemb ? nmemb : 1, size ? size : 1)); }
void *wk_realloc(void *p, size_t n) { return check(realloc(p, n ? n : 1)); }
char *wk_strdup(const char *s) { return check(strdup(s)); }
char *wk_strndup(const char *s, size_t n) { return check(strndup(s, n)); }

/* printf into a new string of the right size. */
char *
wk_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return check(s);
}

/* free(*pp) and clear the pointer, so a second free is harmless. */
void
wk_free(void *pp)
{
	void **p = pp;

	free(*p);
	*p = NULL;
}

/* Make *buf hold at least need bytes, doubling from 512 (amortised O(1)
 * appends); *cap is updated.  The contents are kept. */
void
wk_grow(void *buf, size_t *cap, size_t need)
{
	void **p = buf;
	size_t n = *cap ? *cap : 512;

	if (need <= *cap)
		return;
	while (n < need)
		n *= 2;
	*p = wk_realloc(*p, n);
	*cap = n;
}
