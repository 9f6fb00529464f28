/* shm_seg.h - create and map a POSIX shared-memory segment (shm/): the
 * part every segment shares, whatever its layout (presence.c and lastmsg.c
 * use it). */
#ifndef SHM_SEG_H
#define SHM_SEG_H
#include <stddef.h>

/* Create `name` (replacing a stale one left by a killed master) with
 * `size` zeroed bytes, mapped read-write: the mapping, or NULL. */
void *shm_seg_create(const char *name, size_t size);
/* Map an existing segment; *size its size: the mapping, or NULL. */
void *shm_seg_open(const char *name, int writable, size_t *size);

#endif
