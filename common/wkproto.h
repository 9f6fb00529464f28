/* wkproto.h - the WKProto client protocol codec (WuKongIM v2 wire format,
 * protocol versions 1..5): stream splitter, zero-copy decoder and encoder
 * for all twelve packet types.  The wire format and wk's choices are in
 * wkproto(7).
 *
 * Decoding never copies: string fields and payloads are views into the
 * caller's buffer, valid while that buffer is.  Encoding writes into a
 * caller buffer.  Every function returns 0 (or a length) on success and a
 * negative enum wkproto_err on failure; wkproto_strerror() names it.
 * The codec depends on nothing but libc (the fuzzer links it alone). */
#ifndef WKPROTO_H
#define WKPROTO_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#define WKPROTO_VERSION_MIN	1
#define WKPROTO_VERSION_MAX	5	/* GoProto LatestVersion */
/* 1 if version is one this codec speaks. */
#define WKPROTO_VERSION_OK(v)	((v) >= WKPROTO_VERSION_MIN && (v) <= WKPROTO_VERSION_MAX)
#define WKPROTO_MAX_REMAINING	1048576	/* server cap on remaining length */
#define WKPROTO_VARINT_MAX	268435455u	/* 4-byte varint ceiling */
#define WKPROTO_STR_MAX		0x7fff	/* Go reads string lengths as int16 */
#define WKPROTO_HDR_MAX		5	/* type byte + 4 varint bytes */

/* Packet types (high nibble of byte 0).  0 and 13..15 are hard errors. */
enum wkproto_type {
	WKPROTO_RESERVED = 0,
	WKPROTO_CONNECT = 1,
	WKPROTO_CONNACK = 2,
	WKPROTO_SEND = 3,
	WKPROTO_SENDACK = 4,
	WKPROTO_RECV = 5,
	WKPROTO_RECVACK = 6,
	WKPROTO_PING = 7,
	WKPROTO_PONG = 8,
	WKPROTO_DISCONNECT = 9,
	WKPROTO_SUB = 10,
	WKPROTO_SUBACK = 11,
	WKPROTO_EVENT = 12,		/* protocol version >= 5 only */
};

/* Header flags (low nibble of byte 0). */
#define WKPROTO_FLAG_DUP		0x08
#define WKPROTO_FLAG_SYNCONCE		0x04
#define WKPROTO_FLAG_REDDOT		0x02
#define WKPROTO_FLAG_NOPERSIST		0x01
#define WKPROTO_FLAG_HAS_SERVER_VERSION	0x01	/* CONNACK only */

/* Setting byte of SEND, RECV and SUB. */
#define WKPROTO_SETTING_RECEIPT		0x80
#define WKPROTO_SETTING_SIGNAL		0x20
#define WKPROTO_SETTING_NOENCRYPT	0x10	/* ignored by the server */
#define WKPROTO_SETTING_TOPIC		0x08
#define WKPROTO_SETTING_STREAM_SDK	0x04	/* stream bit at v2, v3 (SDK 1.0.4 form) */
#define WKPROTO_SETTING_STREAM		0x02	/* stream bit at v4 (v2.2.5 form) */

/* Errors.  WKPROTO_ENEED is not an error for the splitter: read more. */
enum wkproto_err {
	WKPROTO_OK = 0,
	WKPROTO_ENEED = -1,	/* incomplete: need more bytes */
	WKPROTO_ETYPE = -2,	/* reserved or unknown packet type */
	WKPROTO_ELENGTH = -3,	/* varint over 4 bytes, over the cap, or body too big */
	WKPROTO_ETRUNC = -4,	/* a field runs past the end of the packet */
	WKPROTO_ETRAILING = -5,	/* bytes left after the last field */
	WKPROTO_ESTRING = -6,	/* string length >= 0x8000 */
	WKPROTO_EVERSION = -7,	/* version out of 1..5, or type not valid at it */
	WKPROTO_ENOSPC = -8,	/* encode buffer too small */
	WKPROTO_EINVAL = -9,	/* bad argument */
};

/* Reason codes (GoProto v1.2.3 order); see wkproto(7) for which wk sends. */
enum wkproto_reason {
	WKPROTO_REASON_UNKNOWN = 0,
	WKPROTO_REASON_SUCCESS = 1,
	WKPROTO_REASON_AUTH_FAIL = 2,
	WKPROTO_REASON_SUBSCRIBER_NOT_EXIST = 3,
	WKPROTO_REASON_IN_BLACKLIST = 4,
	WKPROTO_REASON_CHANNEL_NOT_EXIST = 5,
	WKPROTO_REASON_USER_NOT_ON_NODE = 6,
	WKPROTO_REASON_SENDER_OFFLINE = 7,
	WKPROTO_REASON_MSGKEY_ERROR = 8,
	WKPROTO_REASON_PAYLOAD_DECODE_ERROR = 9,
	WKPROTO_REASON_FORWARD_SEND_PACKET_ERROR = 10,
	WKPROTO_REASON_NOT_ALLOW_SEND = 11,
	WKPROTO_REASON_CONNECT_KICK = 12,
	WKPROTO_REASON_NOT_IN_WHITELIST = 13,
	WKPROTO_REASON_QUERY_TOKEN_ERROR = 14,
	WKPROTO_REASON_SYSTEM_ERROR = 15,
	WKPROTO_REASON_CHANNEL_ID_ERROR = 16,
	WKPROTO_REASON_NODE_MATCH_ERROR = 17,
	WKPROTO_REASON_NODE_NOT_MATCH = 18,
	WKPROTO_REASON_BAN = 19,
	WKPROTO_REASON_NOT_SUPPORT_HEADER = 20,
	WKPROTO_REASON_CLIENT_KEY_IS_EMPTY = 21,
	WKPROTO_REASON_RATE_LIMIT = 22,
	WKPROTO_REASON_NOT_SUPPORT_CHANNEL_TYPE = 23,
	WKPROTO_REASON_DISBAND = 24,
	WKPROTO_REASON_SEND_BAN = 25,
};

/* Device flags (CONNECT.deviceFlag) and levels (token records). */
enum wkproto_device_flag {
	WKPROTO_DEVICE_APP = 0,
	WKPROTO_DEVICE_WEB = 1,
	WKPROTO_DEVICE_PC = 2,
	WKPROTO_DEVICE_SYSTEM = 99,
};
enum wkproto_device_level {
	WKPROTO_DEVICE_LEVEL_SLAVE = 0,
	WKPROTO_DEVICE_LEVEL_MASTER = 1,
};

/* Channel types. */
enum wkproto_channel_type {
	WKPROTO_CHANNEL_PERSON = 1,
	WKPROTO_CHANNEL_GROUP = 2,
	WKPROTO_CHANNEL_CUSTOMER_SERVICE = 3,
	WKPROTO_CHANNEL_COMMUNITY = 4,
	WKPROTO_CHANNEL_COMMUNITY_TOPIC = 5,
	WKPROTO_CHANNEL_INFO = 6,
	WKPROTO_CHANNEL_DATA = 7,
	WKPROTO_CHANNEL_TEMP = 8,
	WKPROTO_CHANNEL_LIVE = 9,
	WKPROTO_CHANNEL_VISITORS = 10,
	WKPROTO_CHANNEL_AGENT = 11,
	WKPROTO_CHANNEL_AGENT_GROUP = 12,
};

/* A string field: a view, not NUL-terminated.  len < 0x8000 on the wire. */
struct wk_str {
	const char	*p;
	uint16_t	 len;
};

/* Make a wk_str for encoding.  A length over 0xffff is clamped to 0xffff,
 * which the encoder refuses (like any length >= 0x8000). */
static inline struct wk_str
wk_str_n(const char *s, size_t n)
{
	return (struct wk_str){ s, (uint16_t)(n > 0xffff ? 0xffff : n) };
}

static inline struct wk_str
wk_str_of(const char *s)
{
	return wk_str_n(s, strlen(s));
}

/* A "rest of packet" field (SEND/RECV payload, EVENT data): a view. */
struct wk_bytes {
	const uint8_t	*p;
	size_t		 len;
};

struct wkproto_connect {
	uint8_t		version;	/* the client's protocol version */
	uint8_t		device_flag;
	struct wk_str	device_id;
	struct wk_str	uid;
	struct wk_str	token;
	int64_t		client_timestamp;	/* ms */
	struct wk_str	client_key;	/* base64 X25519 public key */
};

struct wkproto_connack {
	uint8_t		server_version;	/* iff flags & HAS_SERVER_VERSION */
	int64_t		time_diff;
	uint8_t		reason_code;
	struct wk_str	server_key;
	struct wk_str	salt;
	uint64_t	node_id;	/* v >= 4 */
};

/* Stream fields are on the wire only for 2 <= v < 5 and only when the
 * setting has the stream bit of that version (wkproto_stream_bit()). */
struct wkproto_send {
	uint8_t		setting;
	uint32_t	client_seq;
	struct wk_str	client_msg_no;
	struct wk_str	stream_no;	/* [stream] */
	struct wk_str	channel_id;
	uint8_t		channel_type;
	uint32_t	expire;		/* v >= 3 */
	struct wk_str	msg_key;
	struct wk_str	topic;		/* [setting & TOPIC] */
	struct wk_bytes	payload;
};

struct wkproto_sendack {
	int64_t		message_id;
	uint32_t	client_seq;
	uint32_t	message_seq;
	uint8_t		reason_code;
};

struct wkproto_recv {
	uint8_t		setting;
	struct wk_str	msg_key;
	struct wk_str	from_uid;
	struct wk_str	channel_id;
	uint8_t		channel_type;
	uint32_t	expire;		/* v >= 3 */
	struct wk_str	client_msg_no;
	/* [stream] v2, v3: stream_no, stream_seq, stream_flag;
	 *          v4:     stream_flag, stream_no, stream_id */
	uint8_t		stream_flag;
	struct wk_str	stream_no;
	uint32_t	stream_seq;
	uint64_t	stream_id;
	int64_t		message_id;
	uint32_t	message_seq;
	int32_t		timestamp;	/* seconds */
	struct wk_str	topic;		/* [setting & TOPIC] */
	struct wk_bytes	payload;
};

struct wkproto_recvack {
	int64_t		message_id;
	uint32_t	message_seq;
};

struct wkproto_disconnect {
	uint8_t		reason_code;
	struct wk_str	reason;
};

struct wkproto_sub {
	uint8_t		setting;
	struct wk_str	sub_no;
	struct wk_str	channel_id;
	uint8_t		channel_type;
	uint8_t		action;		/* 0 subscribe, 1 unsubscribe */
	struct wk_str	param;
};

struct wkproto_suback {
	struct wk_str	sub_no;
	struct wk_str	channel_id;
	uint8_t		channel_type;
	uint8_t		action;
	uint8_t		reason_code;
};

struct wkproto_event {
	struct wk_str	id;
	struct wk_str	type;
	int64_t		timestamp;
	struct wk_bytes	data;
};

/* One packet: type, header flags (low nibble) and the body by type.
 * PING and PONG have no body. */
struct wkproto_packet {
	uint8_t		type;		/* enum wkproto_type */
	uint8_t		flags;		/* WKPROTO_FLAG_* */
	union {
		struct wkproto_connect		connect;
		struct wkproto_connack		connack;
		struct wkproto_send		send;
		struct wkproto_sendack		sendack;
		struct wkproto_recv		recv;
		struct wkproto_recvack		recvack;
		struct wkproto_disconnect	disconnect;
		struct wkproto_sub		sub;
		struct wkproto_suback		suback;
		struct wkproto_event		event;
	};
};

/* The extent of one complete packet found by the splitter. */
struct wkproto_frame {
	uint8_t		 type;
	uint8_t		 flags;
	uint8_t		 hdr_len;	/* 1 for PING/PONG, else 2..5 */
	uint32_t	 body_len;	/* remaining length */
	const uint8_t	*body;
	size_t		 total;		/* hdr_len + body_len: bytes to consume */
};

/* Name of an error ("need more bytes", ...); never NULL. */
const char *wkproto_strerror(int err);
/* Name of a packet type ("SEND"), "RESERVED" or "UNKNOWN". */
const char *wkproto_type_name(int type);
/* Whether a packet type exists at a protocol version (EVENT needs v >= 5). */
int wkproto_type_valid(int type, int version);
/* The setting bit that carries stream fields at a version: 0x04 at v2, v3,
 * 0x02 at v4, 0 otherwise (v1 and v5 have no stream fields). */
uint8_t wkproto_stream_bit(int version);

/* Find the next complete packet at the start of buf.  max_remaining caps
 * the remaining length (0 means WKPROTO_MAX_REMAINING).  Returns 0 and
 * fills *f, WKPROTO_ENEED if more bytes are needed, or a hard error
 * (ETYPE, ELENGTH) which the caller must treat as fatal for the stream:
 * no input makes it wait forever. */
int wkproto_split(const uint8_t *buf, size_t len, uint32_t max_remaining,
    struct wkproto_frame *f);

/* Decode the body of a frame found by wkproto_split at a protocol
 * version.  The body must be consumed exactly. */
int wkproto_decode_frame(const struct wkproto_frame *f, int version,
    struct wkproto_packet *out);

/* Split and decode the first packet of buf with the default cap; on
 * success *consumed is the packet's length.  Returns ENEED if incomplete. */
int wkproto_decode(const uint8_t *buf, size_t len, int version,
    struct wkproto_packet *out, size_t *consumed);

/* Bytes needed to encode p at version (header included), or a negative
 * error: ESTRING for a string >= 0x8000 (or a NULL view with a length),
 * EVERSION for a version outside 1..5 or EVENT below v5 (the way to refuse
 * EVENT to old clients), ELENGTH if the body exceeds the 4-byte varint,
 * ETYPE for type 0 or > 12, EINVAL for p == NULL.  Only fields that are on
 * the wire at that version and setting are looked at. */
ssize_t wkproto_encoded_size(const struct wkproto_packet *p, int version);

/* Encode p at version into buf; returns the length written or a negative
 * error (ENOSPC if cap is too small; nothing useful is in buf then).
 * Flags: CONNACK writes only HAS_SERVER_VERSION, PING/PONG write none. */
ssize_t wkproto_encode(const struct wkproto_packet *p, int version,
    uint8_t *buf, size_t cap);

#endif
