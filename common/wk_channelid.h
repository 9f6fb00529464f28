/* wk_channelid.h - the person-chat ("fake") channel id of two uids and
 * its inverse (semantics.md §2, wkproto(7)).  Stable forever: stored data
 * is keyed by these ids. */
#ifndef WK_CHANNELID_H
#define WK_CHANNELID_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Bytes of a uid or channel id that wk stores, NUL excluded; a person
 * chat's stored "a@b" id is at most WK_STORED_ID_MAX. */
#define WK_ID_MAX 1024
#define WK_STORED_ID_MAX (2 * WK_ID_MAX + 2)

/* CRC-32/IEEE as zlib's crc32(0, p, n). */
uint32_t wk_crc32(const void *p, size_t n);

/* The person channel id of uids a and b: "x@y" where x is the uid with
 * the larger unsigned CRC-32 (on equal CRCs b comes first, as the
 * reference's expression gives).  Writes alen + blen + 1 bytes and a NUL
 * to out; returns the length without the NUL, or -1 if cap is too small. */
ssize_t wk_channelid_person(const char *a, size_t alen, const char *b,
    size_t blen, char *out, size_t cap);

/* The peer of uid in a person channel id "x@y": a view into id.  Returns
 * 0, or -1 if id is not exactly two parts around one '@' or uid is
 * neither part.  Self-chat "u@u" gives u. */
int wk_channelid_person_peer(const char *id, size_t len, const char *uid,
    size_t uidlen, const char **peer, size_t *peerlen);

#endif
