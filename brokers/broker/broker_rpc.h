/* broker_rpc.h - JSON-RPC over WebSocket text frames, as WuKongEasySDK
 * speaks it (wk-broker(8)): the codec between one text message and a
 * WKProto packet.  Pure (no broker state), so tests/unit/check_broker_rpc.c
 * runs it on its own. */
#ifndef BROKER_RPC_H
#define BROKER_RPC_H
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "wkproto.h"

#define BROKER_RPC_ID_MAX 64          /* request ids are strings shorter than this */

/* JSON-RPC 2.0 error codes used in error responses. */
enum {
	BROKER_RPC_PARSE_ERROR = -32700,
	BROKER_RPC_INVALID_REQUEST = -32600,
	BROKER_RPC_METHOD_NOT_FOUND = -32601,
	BROKER_RPC_INVALID_PARAMS = -32602,
	BROKER_RPC_SERVER_ERROR = -32000,
};

/* One decoded message: the packet's strings point into root, its payload
 * into payload; both live until broker_rpc_in_free. */
struct broker_rpc_in {
	json_t *root;
	char id[BROKER_RPC_ID_MAX];   /* "" for a notification */
	int has_id;
	uint8_t *payload;             /* SEND: the payload's bytes (malloc'd) */
	int error;                    /* on failure: BROKER_RPC_* */
	char why[128];                /* on failure: for the error response and the log */
};

/* Decode one text message: connect, send, recvack, ping and disconnect
 * become CONNECT, SEND, RECVACK, PING and DISCONNECT in *pkt.  A SEND's
 * payload is a base64 string (the SDK's form since 2025) or any other JSON
 * value (older SDKs), taken as its compact JSON text.  0, or -1 with
 * in->error and in->why set (and in->id when the id could be read).
 * Call broker_rpc_in_free either way. */
int broker_rpc_decode(const char *text, size_t len, size_t max_payload,
    struct wkproto_packet *pkt, struct broker_rpc_in *in);
void broker_rpc_in_free(struct broker_rpc_in *in);

/* pkt as a JSON-RPC text (malloc'd, NUL-terminated; *len its length):
 * CONNACK (a result, or an error when refused), SENDACK and PONG as the
 * response to request id; RECV, EVENT and DISCONNECT as notifications.
 * NULL for a packet type JSON-RPC has no form for. */
char *broker_rpc_encode(const struct wkproto_packet *pkt, const char *id, size_t *len);
/* An error response {"jsonrpc":"2.0","id":id,"error":{"code","message"}};
 * id "" is sent as null. */
char *broker_rpc_error(const char *id, int code, const char *message, size_t *len);

#endif
