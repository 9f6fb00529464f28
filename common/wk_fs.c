/* wk_fs.c - small file-system helpers. */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include "wk_alloc.h"
#include "wk_fs.h"

int
wk_mkdirs(const char *path)
{
	char *p = wk_strdup(path);
	int rc = 0;

	for (char *s = p + 1; *s && rc == 0; s++)
		if (*s == '/') {
			*s = '\0';
			if (mkdir(p, 0755) < 0 && errno != EEXIST)
				rc = -1;
			*s = '/';
		}
	if (rc == 0 && mkdir(p, 0755) < 0 && errno != EEXIST)
		rc = -1;
	free(p);
	return rc;
}
