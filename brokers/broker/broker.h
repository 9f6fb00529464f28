/* broker.h - wk-broker's private state, shared by its files:
 *   broker.c       main, dispatch table, listeners, messages from shards
 *   broker_conn.c  a client connection: bytes in, WKProto packets, CONNECT
 *                  and AUTH, PING, kicks, output buffer, timeouts
 *   broker_msg.c   SEND to CHANNEL_APPEND, SENDACK, DELIVER to RECV, RECV
 *                  retry, cmd RECVACK to the mailbox
 *   broker_event.c stream events (BROKER_EVENT) as EVENT or stream RECV
 *   broker_ws.c    the WebSocket layer (HTTP upgrade, wslay framing)
 *   broker_rpc_conn.c  JSON-RPC connections (WuKongEasySDK) on WebSocket;
 *                  broker_rpc.c is their codec
 *   broker_tls.c   TLS for wssAddr (OpenSSL)
 *   broker_admin.c the connections for the operator (/connz, /conn/kick)
 *   broker_proxy.c the PROXY protocol header on listeners that want one
 *   broker_window.c backpressure: the send window and backlog per connection
 */
#ifndef BROKER_H
#define BROKER_H
#include <stdint.h>
#include <openssl/ssl.h>
#include <wslay/wslay.h>
#include "presence.h"
#include "wk_crypto.h"
#include "wk_proc.h"
#include "wk_proxyproto.h"
#include "wkproto.h"

#define BROKER_NODE_ID 1001   /* CONNACK nodeId: the reference's single-node default */
#define BROKER_UID_MAX PRESENCE_UID_MAX
#define BROKER_DEVICE_ID_MAX 128

enum broker_conn_kind { BROKER_CONN_TCP, BROKER_CONN_WS, BROKER_CONN_WSS };

/* What a WebSocket connection speaks, chosen by its first message. */
enum broker_ws_mode { BROKER_WS_UNSET, BROKER_WS_BINARY, BROKER_WS_JSONRPC };

enum broker_conn_state {
	BROKER_CS_PROXY,        /* reading the PROXY protocol header (proxyProtocol.*) */
	BROKER_CS_TLS,          /* TLS handshake (wss) */
	BROKER_CS_WS_UPGRADE,   /* reading the HTTP upgrade request (ws, wss) */
	BROKER_CS_CONNECT,      /* waiting for the CONNECT packet */
	BROKER_CS_AUTH,         /* AUTH sent to the mailbox shard, waiting for the reply */
	BROKER_CS_READY,        /* authenticated */
	BROKER_CS_CLOSING,      /* flushing the last output, then close */
};

/* Per connection, as the reference's /connz counts: messages are SENDs
 * in and RECVs out, packets every WKProto packet. */
struct broker_conn_stats {
	uint64_t in_msgs, out_msgs, in_msg_bytes, out_msg_bytes;
	uint64_t in_packets, out_packets, in_packet_bytes, out_packet_bytes;
};

struct broker_conn {
	int fd;
	uint64_t id;                 /* pid << 32 | generation << 24 | fd */
	uint8_t kind, state;
	uint8_t proto_version;       /* min(client, 5) once CONNECT was read */
	uint8_t device_flag, device_level;
	uint8_t dirty;               /* on the flush list */
	uint8_t want_write;          /* EPOLLOUT registered */
	uint8_t registered;          /* the mailbox shard has it in presence */
	uint8_t user_flags;          /* WK_USER_SEND_BAN */
	uint8_t half_closed;         /* our WS Close is out, FIN sent: waiting for theirs */
	uint8_t ws_mode;             /* enum broker_ws_mode */
	uint8_t paused;              /* not read: too many SENDs unacknowledged */
	uint32_t unacked;            /* SENDs passed to a channel shard, no SENDACK yet */
	uint32_t pause_at;           /* unacked when it was paused */
	uint64_t last_ack_ms;        /* the last SENDACK (or the first SEND waiting) */
	char uid[BROKER_UID_MAX];
	char device_id[BROKER_DEVICE_ID_MAX];
	uint8_t client_key[WK_CRYPTO_KEY_LEN];
	int64_t client_ts;
	uint8_t client_version;
	struct wk_crypto_session crypto;
	uint8_t *in;                 /* inbound WKProto byte stream */
	size_t inlen, incap;
	uint8_t *out;                /* encoded, not yet written (TCP/TLS bytes) */
	size_t outoff, outlen, outcap; /* those bytes: out[outoff .. outoff + outlen) */
	uint64_t accepted_ms, last_in_ms, close_at_ms;
	struct sockaddr_storage peer; /* the client (from the PROXY header if any): /connz */
	char addr[56];               /* the same as "ip:port", for log lines */
	SSL *ssl;
	wslay_event_context_ptr ws;
	uint8_t *ws_pre;             /* bytes read past the upgrade request */
	size_t ws_prelen, ws_preoff;
	struct broker_conn *next_dirty;
	struct broker_rpc_conn *rpc; /* JSON-RPC request ids (broker_rpc_conn.c) */
	struct retry *retry;         /* RECVs waiting for RECVACK, oldest first */
	struct retry *retry_last;    /* its tail: a fan-out appends without a walk */
	uint32_t nretry;
	struct broker_conn_stats cs; /* what /connz shows */
};

struct broker_stats {
	uint64_t accepted, closed, refused, auth_ok, auth_fail, kicked;
	uint64_t bytes_in, bytes_out, packets_in, packets_out;
	uint64_t proto_errors, slow_clients, timeouts;
	uint64_t sends, delivered, retries;
	uint64_t events, pieces;      /* stream events sent as EVENT / as stream RECV */
	uint64_t send_pauses;         /* connections paused by the send window or backlog */
};

struct broker {
	struct wk_proc *proc;
	struct broker_conn **conns;         /* indexed by fd */
	int nconns_cap;
	int nconns;
	uint64_t unacked;            /* SENDs of every connection waiting for SENDACK */
	uint32_t senders;            /* connections with one or more of them */
	uint32_t npaused;
	uint8_t *gen;                /* per fd, the generation of the last conn */
	/* Connections with output to flush, oldest first: a SENDACK queued
	 * before a large fan-out is written before the fan-out's RECVs. */
	struct broker_conn *dirty, *dirty_tail;
	int ndirty;
	int listen_fd[3];            /* by enum broker_conn_kind, -1 when off */
	SSL_CTX *tls;
	uint8_t proxy_on[3];         /* by enum broker_conn_kind: proxyProtocol.* */
	struct wk_cidr *proxy_nets;  /* proxyProtocol.allowFrom */
	size_t nproxy_nets;
	struct presence presence;
	struct broker_stats st;
	uint64_t retry_count, retry_bytes;  /* RECVs waiting for RECVACK, all connections */
	uint64_t out_bytes;          /* unsent output, all connections (limits.outputTotalMax) */
};

extern struct broker broker;

/* broker_conn.c */
void broker_accept(struct wk_loop *l, int fd, uint32_t ev, void *arg);
struct broker_conn *broker_conn_find(uint64_t id);

/* ---- broker_resend.c: SENDs passed again in a cluster ---- */
struct wk_chmsg;
struct wk_wbuf;
/* Keep a copy of the CHANNEL_APPEND b of c's SEND client_seq (a cluster,
 * a stored message with a client_msg_no) until its SENDACK. */
void broker_resend_keep(struct broker_conn *c, uint32_t client_seq, int shard,
    const struct wk_chmsg *m, const struct wk_wbuf *b);
/* A SENDACK (ok: reason 1) from channel shard `shard`: 1 if it is not for
 * the client (a SEND passed more than once: one after the answer passed
 * on, or a failure while another pass may succeed), else 0. */
int broker_resend_acked(uint64_t conn, uint32_t client_seq, unsigned shard, int ok);
/* Pass again what waited too long for a shard that answers nothing. */
void broker_resend_tick(void);
int broker_resend_status(char *buf, size_t len);
void broker_conn_close(struct broker_conn *c, const char *why);
/* Refuse c: a Close frame with ws_code on WebSocket, then close it once
 * its output (CONNACK, the Close) is written. */
void broker_conn_refuse(struct broker_conn *c, uint16_t ws_code, const char *why);
/* Tell the user's mailbox shard that connection id is gone. */
void broker_notify_closed(uint64_t id, const char *uid);
void broker_conn_on_auth(struct broker_conn *c, int reason, uint8_t level, uint8_t user_flags);
void broker_conn_kick(struct broker_conn *c, uint8_t reason, const char *text, int disconnect,
    uint32_t delay_ms);
/* Encode one packet for c and queue it (one WebSocket message on ws/wss). */
int broker_conn_send(struct broker_conn *c, const struct wkproto_packet *pkt);
void broker_flush_all(void);
/* Before a fan-out to many connections: write what is already queued, so
 * earlier small outputs (SENDACKs) do not wait behind the fan-out. */
void broker_flush_before_fanout(size_t targets);
void broker_sweep(void);
/* Bytes arrived for c's WKProto stream (from the socket or a WS message). */
void broker_conn_input(struct broker_conn *c, const uint8_t *p, size_t n);
/* A SEND of c went to its channel shard / its SENDACK came back: the
 * send window (limits.sendWindow) and the broker's backlog
 * (limits.sendBacklog) pause and resume reading c (broker_window.c). */
void broker_conn_sent(struct broker_conn *c);
void broker_conn_acked(struct broker_conn *c);
/* The sweep: forget SENDs whose SENDACK is long overdue (broker_window.c). */
void broker_window_check(struct broker_conn *c, uint64_t now);
/* Set what epoll watches on c from its state (paused, output waiting). */
void broker_conn_set_events(struct broker_conn *c);
/* Read from the client: bytes read, 0 if it would block, -1 on EOF or error. */
ssize_t broker_read(struct broker_conn *c, void *buf, size_t len);
/* Queue raw bytes for the socket (TCP, or framed WS output from wslay). */
int broker_conn_queue(struct broker_conn *c, const uint8_t *p, size_t n);
void broker_conn_restore_to(int mailbox);
/* broker.c: MAILBOX_BROKER_HELLO (our instance and pid) to one mailbox
 * shard, or to all with -1. */
void broker_send_hello(struct wk_proc *p, int mailbox);

/* Queue one already encoded packet (as broker_conn_send does after encoding). */
int broker_conn_send_bytes(struct broker_conn *c, const uint8_t *p, size_t n);
/* One decoded packet from c (CONNECT first, then the rest): 0, or -1
 * after refusing c. */
int broker_conn_packet(struct broker_conn *c, const struct wkproto_packet *pkt);
/* Whether c's payloads are encrypted: not with disableEncryption, not on
 * JSON-RPC connections. */
static inline int
broker_conn_encrypts(const struct broker_conn *c)
{
	return !broker.proc->cfg.disableEncryption && c->ws_mode != BROKER_WS_JSONRPC;
}

/* broker_msg.c */
int broker_on_send(struct broker_conn *c, const struct wkproto_packet *pkt);
/* A piece of a stream (broker_event.c): its streamSeq/streamId and flag. */
struct broker_piece {
	uint32_t seq;
	uint8_t flag;                /* enum wk_stream_flag */
};
struct wk_chmsg;
/* One RECV of m for connection c, encrypted with its key.  At versions 2-4
 * a stream message (setting WKPROTO_SETTING_STREAM, or a piece) carries the
 * stream fields of the connection's form; the anchor itself is the start.
 * Stored messages that are not pieces wait for RECVACK (messageRetry). */
void broker_recv_one(struct broker_conn *c, const struct wk_chmsg *m, const struct broker_piece *piece);
/* A SEND's setting as it is stored (the stream bit of every form folded into
 * WKPROTO_SETTING_STREAM). */
uint8_t broker_setting_in(uint8_t setting, int version);
void broker_on_recvack(struct broker_conn *c, const struct wkproto_recvack *a);
/* View handlers (wk_dispatch.h): the hot answers, read in place. */
void broker_on_sendack(struct wk_proc *p, const struct wk_msg_hdr *h, const struct wk_msgv *v);
void broker_on_deliver(struct wk_proc *p, const struct wk_msg_hdr *h, const struct wk_msgv *v);
void broker_on_user_flags(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg);
void broker_retry_due(struct broker_conn *c, uint64_t now);
void broker_retry_free(struct broker_conn *c);

/* broker_admin.c */
/* BROKER_CONN_LIST, BROKER_CONN_CLOSE: wk-api's connection routes. */
void broker_on_admin(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg);

/* broker_event.c */
/* BROKER_EVENT: an EVENT at version 5, a stream RECV at versions 2-4. */
void broker_on_event(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg);

/* broker_ws.c */
int broker_ws_start(struct broker_conn *c);
/* Feed socket bytes in BROKER_CS_WS_UPGRADE or BROKER_CS_READY..: returns -1 to close. */
int broker_ws_on_readable(struct broker_conn *c);
int broker_ws_send_packet(struct broker_conn *c, const uint8_t *p, size_t n);
/* Queue a Close frame (code: WSLAY_CODE_*) unless one was sent. */
void broker_ws_close(struct broker_conn *c, uint16_t code, const char *reason);
void broker_ws_free(struct broker_conn *c);

/* broker_rpc_conn.c */
/* A text message from a JSON-RPC connection. */
void broker_rpc_input(struct broker_conn *c, const uint8_t *p, size_t n);
/* pkt as JSON-RPC text to c: 0, or -1. */
int broker_rpc_send(struct broker_conn *c, const struct wkproto_packet *pkt);
void broker_rpc_free(struct broker_conn *c);

/* broker_proxy.c */
int broker_proxy_init(const struct wk_config *cfg);
/* Whether a connection from sa (addr, for the log) may use a PROXY listener. */
int broker_proxy_allowed(const struct sockaddr *sa, const char *addr);
/* Read c's PROXY header: 1 read (c->addr is the client's), 0 incomplete,
 * -1 close (malformed, too long, EOF). */
int broker_proxy_read(struct broker_conn *c);

/* broker_tls.c */
int broker_tls_init(const struct wk_config *cfg);
int broker_tls_start(struct broker_conn *c);
/* Drive the handshake: 1 done, 0 in progress, -1 failed. */
int broker_tls_handshake(struct broker_conn *c);
/* read/write through TLS or the plain socket: like read(2)/write(2), with
 * errno EAGAIN when it would block. */
ssize_t broker_io_read(struct broker_conn *c, void *buf, size_t n);
ssize_t broker_io_write(struct broker_conn *c, const void *buf, size_t n);
void broker_tls_free(struct broker_conn *c);

#endif
