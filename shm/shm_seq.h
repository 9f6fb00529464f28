/* shm_seq.h - the sequence-lock primitives of the shared-memory tables
 * (presence, lastmsg): one writer per row makes the row's seq odd, writes,
 * makes it even again (release); readers copy the row between two reads of
 * an even, unchanged seq (acquire) and never block the writer. */
#ifndef SHM_SEQ_H
#define SHM_SEQ_H
#include <stdint.h>

/* A row still odd after this many reads belongs to a writer that died
 * inside it: the reader gives up on that row. */
#define SHM_SEQ_READ_RETRIES 64

static inline uint32_t shm_load_acq(const uint32_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void shm_store_rel(uint32_t *p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

#endif
