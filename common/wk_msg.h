/* wk_msg.h - internal messages between wk processes.
 *
 * Every internal message is a multipart ZeroMQ message: frame 0 is the fixed
 * header below (24 bytes, big-endian on the wire), frames 1..n are payload:
 *   0 magic u16 | 2 version u8 | 3 flags u8 | 4 type u16 | 6 role u8 | 7 node u8 |
 *   8 instance u16 | 10 zero u16 | 12 corr u64 | 20 key u32
 * The codec here is the only place that knows the header's byte layout.
 */
#ifndef WK_MSG_H
#define WK_MSG_H
#include <stddef.h>
#include <stdint.h>
#include <czmq.h>

#define WK_MSG_MAGIC 0x574b /* "WK" */
#include "wk_msgtypes.h"

enum wk_msg_type {
	WK_MSG_NONE = 0,
#define X(name, value, desc) WK_MSG_##name = value,
#include "wk_msgtypes.h"
#undef X
	WK_MSG_MAX
};

/* Process roles.  A role's bit in a mask is 1 << role. */
enum wk_role {
	WK_ROLE_MASTER = 0,
	WK_ROLE_BROKER,
	WK_ROLE_API,
	WK_ROLE_CHANNEL,
	WK_ROLE_MAILBOX,
	WK_ROLE_HOOK,
	WK_ROLE_CTL,     /* tools and tests speaking to a process */
	WK_ROLE_COUNT
};
#define WK_ROLE_BIT(r) (1u << (r))
#define WK_ROLE_ANY ((1u << WK_ROLE_COUNT) - 1)

#define WK_MSG_HDR_SIZE 24
#define WK_MSG_F_REPLY 0x01 /* this message answers the request with the same corr id */
/* A copy of a replicated shard passed this on to the master's host
 * (wk-cluster(7)): it is never passed on again, so a request that meets a
 * second copy (the master moved meanwhile) is dropped, not bounced. */
#define WK_MSG_F_FORWARDED 0x02
/* A request passed again by its sender (wk-api, wk-broker: its master may
 * have died with the first pass): a copy that knows no master refuses it at
 * once instead of holding it, so that every pass the sender made is
 * answered before the last refusal, and a refusal means none was stored. */
#define WK_MSG_F_AGAIN 0x04

struct wk_msg_hdr {
	uint8_t version;       /* WK_MSG_VERSION */
	uint8_t flags;         /* WK_MSG_F_* */
	uint16_t type;         /* enum wk_msg_type */
	uint8_t sender_role;   /* enum wk_role */
	uint16_t sender_instance;
	uint8_t sender_node;   /* the sender's host in a cluster (cluster.node), 0 on one host */
	uint64_t corr;         /* correlation id: a reply echoes its request's */
	uint32_t key;          /* routing key: the shard hash of a channel or uid */
};

enum wk_msg_err {
	WK_MSG_OK = 0,
	WK_MSG_ESHORT = -1,    /* header frame shorter than WK_MSG_HDR_SIZE */
	WK_MSG_ELONG = -2,     /* header frame longer than WK_MSG_HDR_SIZE */
	WK_MSG_EMAGIC = -3,
	WK_MSG_EVERSION = -4,
	WK_MSG_ETYPE = -5,     /* no such type */
	WK_MSG_EROLE = -6,     /* sender role out of range */
};

const char *wk_msg_type_name(int type);
const char *wk_role_name(int role);
int wk_role_from_name(const char *name);       /* -1 if unknown */
const char *wk_msg_strerror(int err);

/* Header codec: encode into exactly WK_MSG_HDR_SIZE bytes; decode returns a wk_msg_err. */
void wk_msg_hdr_encode(const struct wk_msg_hdr *h, uint8_t out[WK_MSG_HDR_SIZE]);
int wk_msg_hdr_decode(const uint8_t *buf, size_t len, struct wk_msg_hdr *h);

/* A new zmsg_t whose first frame is the header. */
zmsg_t *wk_msg_new(const struct wk_msg_hdr *h);

/* BATCH (many messages to one peer in one ZeroMQ message, wk_proc_send.c):
 * append a message's frames to a batch payload, or a header and n payload
 * frames given as pointers; read the next message back (a new zmsg_t), NULL at the
 * end or, with r->err set, on a malformed payload. */
struct wk_wbuf;
struct wk_rbuf;
void wk_msg_batch_put(struct wk_wbuf *b, zmsg_t *m);
void wk_msg_batch_putv(struct wk_wbuf *b, const struct wk_msg_hdr *h, int n,
    const void *const *frames, const size_t *lens);
zmsg_t *wk_msg_batch_next(struct wk_rbuf *r);

/* A message read in place: its frames as views into the bytes it came in
 * (a BATCH, or a zmsg_t's frames), valid while those are. */
#define WK_MSGV_MAX 8
struct wk_msgv {
	int n;
	const uint8_t *p[WK_MSGV_MAX];
	size_t len[WK_MSGV_MAX];
};
/* The next message of a BATCH as views, nothing copied: 1; 0 at the end;
 * -1 malformed (r->err set); 2 when it has more than WK_MSGV_MAX frames,
 * r left at its start for wk_msg_batch_next. */
int wk_msg_batch_view(struct wk_rbuf *r, struct wk_msgv *v);

#endif
