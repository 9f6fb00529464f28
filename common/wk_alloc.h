/* wk_alloc.h - allocation helpers that never return NULL (they exit 1 instead). */
#ifndef WK_ALLOC_H
#define WK_ALLOC_H
#include <stddef.h>

void *wk_malloc(size_t n);
void *wk_calloc(size_t nmemb, size_t size);
void *wk_realloc(void *p, size_t n);
char *wk_strdup(const char *s);
char *wk_strndup(const char *s, size_t n);
char *wk_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Make *buf (capacity *cap) hold at least `need` bytes: doubles from 512. */
void wk_grow(void *buf, size_t *cap, size_t need);
/* Free *pp and set it to NULL (the _destroy(&p) idiom). */
void wk_free(void *pp);

#endif
