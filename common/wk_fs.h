/* wk_fs.h - small file-system helpers. */
#ifndef WK_FS_H
#define WK_FS_H

/* mkdir -p with mode 0755; 0 or -1 (errno set). */
int wk_mkdirs(const char *path);

#endif
