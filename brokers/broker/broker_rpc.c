/* broker_rpc.c - the JSON-RPC codec of wk-broker (broker_rpc.h,
 * wk-broker(8)): WuKongEasySDK's text messages to WKProto packets and back,
 * in the shapes of the reference server's pkg/jsonrpc.  Everything is
 * validated: a wrong type, an out-of-range number or an unknown method is an
 * error with a JSON-RPC code, never a guess. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "broker_rpc.h"
#include "wk_alloc.h"
#include "wk_crypto.h"

static int
fail(struct broker_rpc_in *in, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(in->why, sizeof in->why, fmt, ap);
	va_end(ap);
	in->error = code;
	return -1;
}

/* Member k of o as a string: 1 found, 0 absent or null (when not
 * required), -1 wrong (in set). */
static int
get_str(struct broker_rpc_in *in, json_t *o, const char *k, int required, struct wk_str *out)
{
	json_t *v = json_object_get(o, k);

	if (v == NULL || json_is_null(v)) {
		if (required)
			return fail(in, BROKER_RPC_INVALID_PARAMS, "params.%s is required", k);
		return 0;
	}
	if (!json_is_string(v) || json_string_length(v) >= 0x8000)
		return fail(in, BROKER_RPC_INVALID_PARAMS, "params.%s must be a string under 32 KiB", k);
	*out = wk_str_n(json_string_value(v), json_string_length(v));
	return 1;
}

/* Member k of o as an integer in [min, max] (absent: left as it is). */
static int
get_int(struct broker_rpc_in *in, json_t *o, const char *k, int required, json_int_t min,
    json_int_t max, json_int_t *out)
{
	json_t *v = json_object_get(o, k);

	if (v == NULL || json_is_null(v)) {
		if (required)
			return fail(in, BROKER_RPC_INVALID_PARAMS, "params.%s is required", k);
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return fail(in, BROKER_RPC_INVALID_PARAMS, "params.%s must be an integer from %" JSON_INTEGER_FORMAT
		    " to %" JSON_INTEGER_FORMAT, k, min, max);
	*out = json_integer_value(v);
	return 1;
}

/* Boolean members of object k of o, each setting its bit in *bits. */
struct bit { const char *name; uint8_t bit; };

static int
get_bits(struct broker_rpc_in *in, json_t *o, const char *k, const struct bit *bits, uint8_t *out)
{
	json_t *v = json_object_get(o, k), *b;

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return fail(in, BROKER_RPC_INVALID_PARAMS, "params.%s must be an object", k);
	for (; bits->name; bits++) {
		b = json_object_get(v, bits->name);
		if (b && !json_is_boolean(b) && !json_is_null(b))
			return fail(in, BROKER_RPC_INVALID_PARAMS, "params.%s.%s must be a boolean", k,
			    bits->name);
		if (json_is_true(b))
			*out |= bits->bit;
	}
	return 1;
}

static const struct bit header_bits[] = {
	{ "noPersist", WKPROTO_FLAG_NOPERSIST }, { "redDot", WKPROTO_FLAG_REDDOT },
	{ "syncOnce", WKPROTO_FLAG_SYNCONCE }, { "dup", WKPROTO_FLAG_DUP }, { NULL, 0 },
};
/* The stream bit is the v4/v5 form: JSON-RPC connections are version 5. */
static const struct bit setting_bits[] = {
	{ "receipt", WKPROTO_SETTING_RECEIPT }, { "signal", WKPROTO_SETTING_SIGNAL },
	{ "stream", WKPROTO_SETTING_STREAM }, { "topic", WKPROTO_SETTING_TOPIC }, { NULL, 0 },
};

static int
decode_connect(struct broker_rpc_in *in, json_t *p, struct wkproto_packet *pkt)
{
	struct wkproto_connect *c = &pkt->connect;
	json_int_t flag = 0, version = 0, ts = 0;

	pkt->type = WKPROTO_CONNECT;
	if (get_str(in, p, "uid", 1, &c->uid) < 0 || get_str(in, p, "token", 0, &c->token) < 0 ||
	    get_str(in, p, "deviceId", 0, &c->device_id) < 0 ||
	    get_str(in, p, "clientKey", 0, &c->client_key) < 0 ||
	    get_int(in, p, "deviceFlag", 0, 0, 255, &flag) < 0 ||
	    get_int(in, p, "version", 0, 0, 255, &version) < 0 ||
	    get_int(in, p, "clientTimestamp", 0, INT64_MIN, INT64_MAX, &ts) < 0 ||
	    get_bits(in, p, "header", header_bits, &pkt->flags) < 0)
		return -1;
	if (c->uid.len == 0)
		return fail(in, BROKER_RPC_INVALID_PARAMS, "params.uid is empty");
	/* No version: the newest, as the reference does. */
	c->version = (uint8_t)(version ? version : WKPROTO_VERSION_MAX);
	c->device_flag = (uint8_t)flag;
	c->client_timestamp = ts;
	return 0;
}

/* A SEND's payload: base64 text, or any other JSON value as its text. */
static int
decode_payload(struct broker_rpc_in *in, json_t *p, size_t max, struct wk_bytes *out)
{
	json_t *v = json_object_get(p, "payload");
	ssize_t n;

	if (v == NULL || json_is_null(v))
		return fail(in, BROKER_RPC_INVALID_PARAMS, "params.payload is required");
	if (json_is_string(v)) {
		size_t len = json_string_length(v);
		in->payload = wk_malloc(WK_B64_DECODED_MAX(len) + 1);
		n = wk_b64_decode(json_string_value(v), len, in->payload, WK_B64_DECODED_MAX(len) + 1);
		if (n < 0)
			return fail(in, BROKER_RPC_INVALID_PARAMS, "params.payload is not base64");
	} else {
		char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		if (text == NULL)
			return fail(in, BROKER_RPC_INVALID_PARAMS, "params.payload cannot be encoded");
		in->payload = (uint8_t *)text;
		n = (ssize_t)strlen(text);
	}
	if ((size_t)n > max)
		return fail(in, BROKER_RPC_INVALID_PARAMS, "params.payload is over %zu bytes", max);
	*out = (struct wk_bytes){ in->payload, (size_t)n };
	return 0;
}

static int
decode_send(struct broker_rpc_in *in, json_t *p, size_t max, struct wkproto_packet *pkt)
{
	struct wkproto_send *s = &pkt->send;
	json_int_t type = 0, expire = 0;

	pkt->type = WKPROTO_SEND;
	if (get_str(in, p, "channelId", 1, &s->channel_id) < 0 ||
	    get_int(in, p, "channelType", 1, 1, 255, &type) < 0 ||
	    get_str(in, p, "clientMsgNo", 0, &s->client_msg_no) < 0 ||
	    get_str(in, p, "streamNo", 0, &s->stream_no) < 0 ||
	    get_str(in, p, "topic", 0, &s->topic) < 0 ||
	    get_int(in, p, "expire", 0, 0, UINT32_MAX, &expire) < 0 ||
	    get_bits(in, p, "header", header_bits, &pkt->flags) < 0 ||
	    get_bits(in, p, "setting", setting_bits, &s->setting) < 0 ||
	    decode_payload(in, p, max, &s->payload) < 0)
		return -1;
	s->channel_type = (uint8_t)type;
	s->expire = (uint32_t)expire;
	return 0;
}

static int
decode_recvack(struct broker_rpc_in *in, json_t *p, struct wkproto_packet *pkt)
{
	json_t *v = json_object_get(p, "messageId");
	json_int_t seq = 0;
	char *end;

	pkt->type = WKPROTO_RECVACK;
	/* The reference sends message ids as decimal strings. */
	if (json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) < 21) {
		long long id = strtoll(json_string_value(v), &end, 10);
		if (*end != '\0')
			return fail(in, BROKER_RPC_INVALID_PARAMS, "params.messageId is not a number");
		pkt->recvack.message_id = id;
	} else if (json_is_integer(v))
		pkt->recvack.message_id = json_integer_value(v);
	else
		return fail(in, BROKER_RPC_INVALID_PARAMS, "params.messageId must be a decimal string");
	if (get_int(in, p, "messageSeq", 1, 0, UINT32_MAX, &seq) < 0 ||
	    get_bits(in, p, "header", header_bits, &pkt->flags) < 0)
		return -1;
	pkt->recvack.message_seq = (uint32_t)seq;
	return 0;
}

int
broker_rpc_decode(const char *text, size_t len, size_t max_payload,
    struct wkproto_packet *pkt, struct broker_rpc_in *in)
{
	json_error_t je;
	json_t *v, *params;
	const char *method;

	memset(in, 0, sizeof *in);
	memset(pkt, 0, sizeof *pkt);
	in->root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	if (in->root == NULL)
		return fail(in, BROKER_RPC_PARSE_ERROR, "not JSON: %s", je.text);
	if (!json_is_object(in->root))
		return fail(in, BROKER_RPC_INVALID_REQUEST, "not a JSON object");
	v = json_object_get(in->root, "id");
	if (v && !json_is_null(v)) {
		if (!json_is_string(v) || json_string_length(v) >= BROKER_RPC_ID_MAX)
			return fail(in, BROKER_RPC_INVALID_REQUEST, "id must be a string under %d bytes",
			    BROKER_RPC_ID_MAX);
		memcpy(in->id, json_string_value(v), json_string_length(v) + 1);
		in->has_id = 1;
	}
	v = json_object_get(in->root, "jsonrpc");
	if (v && (!json_is_string(v) || strcmp(json_string_value(v), "2.0") != 0))
		return fail(in, BROKER_RPC_INVALID_REQUEST, "jsonrpc must be \"2.0\"");
	if (json_object_get(in->root, "result") || json_object_get(in->root, "error"))
		return fail(in, BROKER_RPC_INVALID_REQUEST, "the server takes no responses");
	method = json_string_value(json_object_get(in->root, "method"));
	if (method == NULL)
		return fail(in, BROKER_RPC_INVALID_REQUEST, "method must be a string");
	params = json_object_get(in->root, "params");
	if (params && !json_is_object(params) && !json_is_null(params))
		return fail(in, BROKER_RPC_INVALID_PARAMS, "params must be an object");
	if (params == NULL || json_is_null(params))
		params = NULL;
	if (strcmp(method, "ping") == 0) {
		pkt->type = WKPROTO_PING;
		return 0;
	}
	if (strcmp(method, "disconnect") == 0) {
		pkt->type = WKPROTO_DISCONNECT;
		return 0;
	}
	if (strcmp(method, "connect") != 0 && strcmp(method, "send") != 0 &&
	    strcmp(method, "recvack") != 0)
		return fail(in, BROKER_RPC_METHOD_NOT_FOUND, "method %.40s is not supported", method);
	if (params == NULL)
		return fail(in, BROKER_RPC_INVALID_PARAMS, "%s needs params", method);
	if (strcmp(method, "recvack") == 0)
		return decode_recvack(in, params, pkt);
	/* connect and send are requests: their answer names the id. */
	if (!in->has_id)
		return fail(in, BROKER_RPC_INVALID_REQUEST, "%s needs an id", method);
	if (strcmp(method, "connect") == 0)
		return decode_connect(in, params, pkt);
	return decode_send(in, params, max_payload, pkt);
}

void
broker_rpc_in_free(struct broker_rpc_in *in)
{
	json_decref(in->root);
	free(in->payload);
	in->root = NULL;
	in->payload = NULL;
}

/* ---- encoding ---- */

/* A string member; bytes that are not UTF-8 (a binary client may store
 * them) become "" rather than invalid JSON. */
static json_t *
jstrn(const char *p, size_t n)
{
	json_t *v = json_stringn(p ? p : "", n);

	return v ? v : json_string("");
}

static json_t *
jstr(struct wk_str s)
{
	return jstrn(s.p, s.len);
}

/* Set k to v unless v is NULL (an empty optional member is left out). */
static void
set(json_t *o, const char *k, json_t *v)
{
	if (v)
		json_object_set_new(o, k, v);
}

static json_t *
bits_object(uint8_t value, const struct bit *bits)
{
	json_t *o;

	if (value == 0)
		return NULL;   /* the reference leaves an empty header out */
	o = json_object();
	for (; bits->name; bits++)
		if (value & bits->bit)
			json_object_set_new(o, bits->name, json_true());
	return o;
}

static json_t *
message_id(int64_t id)
{
	char buf[24];

	snprintf(buf, sizeof buf, "%" PRId64, id);
	return json_string(buf);
}

static json_t *
base64(struct wk_bytes b)
{
	char *text = wk_malloc(WK_B64_ENCODED_LEN(b.len) + 1);
	size_t n = wk_b64_encode(b.p, b.len, text);
	json_t *s = json_stringn(text, n);

	free(text);
	return s;
}

/* What a CONNECT refusal says, for the SDK's error message. */
static const char *
reason_text(int reason)
{
	switch (reason) {
	case WKPROTO_REASON_AUTH_FAIL: return "authentication failed";
	case WKPROTO_REASON_BAN: return "banned";
	case WKPROTO_REASON_CLIENT_KEY_IS_EMPTY: return "bad client key";
	case WKPROTO_REASON_SYSTEM_ERROR: return "system error";
	default: return "refused";
	}
}

static char *
dump(json_t *o, size_t *len)
{
	char *text = json_dumps(o, JSON_COMPACT);

	json_decref(o);
	if (text == NULL)
		return NULL;
	*len = strlen(text);
	return text;
}

static json_t *
envelope(const char *id)
{
	json_t *o = json_object();

	json_object_set_new(o, "jsonrpc", json_string("2.0"));
	json_object_set_new(o, "id", id && id[0] ? json_string(id) : json_null());
	return o;
}

static json_t *
notification(const char *method, json_t *params)
{
	json_t *o = json_object();

	json_object_set_new(o, "jsonrpc", json_string("2.0"));
	json_object_set_new(o, "method", json_string(method));
	json_object_set_new(o, "params", params);
	return o;
}

char *
broker_rpc_error(const char *id, int code, const char *message, size_t *len)
{
	json_t *o = envelope(id);

	json_object_set_new(o, "error", json_pack("{s:i,s:s}", "code", code, "message", message));
	return dump(o, len);
}

static json_t *
recv_params(const struct wkproto_packet *pkt)
{
	const struct wkproto_recv *r = &pkt->recv;
	json_t *o = json_object();

	set(o, "header", bits_object(pkt->flags, header_bits));
	set(o, "setting", bits_object(r->setting, setting_bits));
	if (r->expire)
		json_object_set_new(o, "expire", json_integer(r->expire));
	json_object_set_new(o, "messageId", message_id(r->message_id));
	json_object_set_new(o, "messageSeq", json_integer(r->message_seq));
	if (r->client_msg_no.len)
		json_object_set_new(o, "clientMsgNo", jstr(r->client_msg_no));
	if (r->stream_no.len) {
		/* The reference sends the stream number as streamId too. */
		json_object_set_new(o, "streamNo", jstr(r->stream_no));
		json_object_set_new(o, "streamId", jstr(r->stream_no));
		if (r->stream_flag)
			json_object_set_new(o, "streamFlag", json_integer(r->stream_flag));
	}
	json_object_set_new(o, "timestamp", json_integer(r->timestamp));
	json_object_set_new(o, "channelId", jstr(r->channel_id));
	json_object_set_new(o, "channelType", json_integer(r->channel_type));
	if (r->topic.len)
		json_object_set_new(o, "topic", jstr(r->topic));
	json_object_set_new(o, "fromUid", jstr(r->from_uid));
	json_object_set_new(o, "payload", base64(r->payload));
	return o;
}

char *
broker_rpc_encode(const struct wkproto_packet *pkt, const char *id, size_t *len)
{
	json_t *o, *res;

	switch (pkt->type) {
	case WKPROTO_CONNACK:
		if (pkt->connack.reason_code != WKPROTO_REASON_SUCCESS)
			return broker_rpc_error(id, pkt->connack.reason_code,
			    reason_text(pkt->connack.reason_code), len);
		res = json_object();
		if (pkt->connack.server_key.len)
			json_object_set_new(res, "serverKey", jstr(pkt->connack.server_key));
		if (pkt->connack.salt.len)
			json_object_set_new(res, "salt", jstr(pkt->connack.salt));
		json_object_set_new(res, "timeDiff", json_integer(pkt->connack.time_diff));
		json_object_set_new(res, "reasonCode", json_integer(pkt->connack.reason_code));
		json_object_set_new(res, "serverVersion", json_integer(WKPROTO_VERSION_MAX));
		json_object_set_new(res, "nodeId", json_integer((json_int_t)pkt->connack.node_id));
		break;
	case WKPROTO_SENDACK:
		res = json_object();
		set(res, "header", bits_object(pkt->flags, header_bits));
		json_object_set_new(res, "messageId", message_id(pkt->sendack.message_id));
		json_object_set_new(res, "messageSeq", json_integer(pkt->sendack.message_seq));
		json_object_set_new(res, "reasonCode", json_integer(pkt->sendack.reason_code));
		break;
	case WKPROTO_PONG:
		if (id == NULL || id[0] == '\0')   /* a ping sent as a notification */
			return dump(json_pack("{s:s,s:s}", "jsonrpc", "2.0", "method", "pong"), len);
		res = json_null();
		break;
	case WKPROTO_RECV:
		return dump(notification("recv", recv_params(pkt)), len);
	case WKPROTO_EVENT:
		res = json_object();
		set(res, "header", bits_object(pkt->flags, header_bits));
		json_object_set_new(res, "id", jstr(pkt->event.id));
		json_object_set_new(res, "type", jstr(pkt->event.type));
		json_object_set_new(res, "timestamp", json_integer(pkt->event.timestamp));
		json_object_set_new(res, "data", jstrn((const char *)pkt->event.data.p,
		    pkt->event.data.len));
		return dump(notification("event", res), len);
	case WKPROTO_DISCONNECT:
		return dump(notification("disconnect", json_pack("{s:i,s:o}", "reasonCode",
		    pkt->disconnect.reason_code, "reason", jstr(pkt->disconnect.reason))), len);
	default:
		return NULL;
	}
	o = envelope(id);
	json_object_set_new(o, "result", res);
	return dump(o, len);
}
