/* wk_chmsg.h - a chat message as it travels between processes (APPEND from
 * a broker or wk-api to a channel shard, DELIVER from the shard to the
 * brokers).  One layout, written and read only here. */
#ifndef WK_CHMSG_H
#define WK_CHMSG_H
#include <stdint.h>
#include "wk_buf.h"
#include "wkproto.h"

/* The built-in system uid: the default sender of HTTP messages, shown as ""
 * in RECV; and the pseudo channel (type 0) whose members are, in every
 * channel shard, the system accounts of /user/systemuids_add. */
#define WK_SYSTEM_UID "____system"
#define WK_SYSUID_CHANNEL "____sysuids"

struct wk_chmsg {
	int64_t message_id;          /* 0 until the channel shard assigns it */
	uint32_t seq;                /* 0 until stored (and for no_persist) */
	int32_t timestamp;           /* seconds */
	uint8_t flags;               /* WKProto header flags: RedDot, SyncOnce, NoPersist */
	uint8_t setting;             /* WKProto setting byte */
	uint8_t channel_type;
	uint32_t expire;
	struct wk_str from_uid;
	struct wk_str channel_id;    /* person chats: the combined "a@b" id */
	struct wk_str client_msg_no;
	struct wk_str topic;
	struct wk_str stream_no;
	struct wk_bytes payload;     /* plaintext */
};

void wk_chmsg_put(struct wk_wbuf *b, const struct wk_chmsg *m);
/* Read one message; the strings and payload are views into r's buffer.
 * 0, or -1 if malformed. */
int wk_chmsg_get(struct wk_rbuf *r, struct wk_chmsg *m);

#endif
