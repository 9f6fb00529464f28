/* wk_msg.c - the internal message header codec and the type/role names. */
#include <string.h>
#include "wk_buf.h"
#include "wk_msg.h"

static const char *type_names[WK_MSG_MAX] = {
	[WK_MSG_NONE] = "NONE",
#define X(name, value, desc) [WK_MSG_##name] = #name,
#include "wk_msgtypes.h"
#undef X
};

static const char *role_names[WK_ROLE_COUNT] = {
	"master", "broker", "api", "channel", "mailbox", "hook", "ctl",
};

const char *
wk_msg_type_name(int type)
{
	if (type <= 0 || type >= WK_MSG_MAX || type_names[type] == NULL)
		return "UNKNOWN";
	return type_names[type];
}

const char *
wk_role_name(int role)
{
	return role >= 0 && role < WK_ROLE_COUNT ? role_names[role] : "unknown";
}

int
wk_role_from_name(const char *name)
{
	for (int i = 0; i < WK_ROLE_COUNT; i++)
		if (strcmp(role_names[i], name) == 0)
			return i;
	return -1;
}

const char *
wk_msg_strerror(int err)
{
	switch (err) {
	case WK_MSG_OK: return "ok";
	case WK_MSG_ESHORT: return "header frame too short";
	case WK_MSG_ELONG: return "header frame too long";
	case WK_MSG_EMAGIC: return "bad magic";
	case WK_MSG_EVERSION: return "internal message version mismatch";
	case WK_MSG_ETYPE: return "unknown message type";
	case WK_MSG_EROLE: return "unknown sender role";
	}
	return "unknown error";
}

/* The layout is in wk_msg.h. */
void
wk_msg_hdr_encode(const struct wk_msg_hdr *h, uint8_t out[WK_MSG_HDR_SIZE])
{
	wk_be16_put(out, WK_MSG_MAGIC);
	out[2] = h->version;
	out[3] = h->flags;
	wk_be16_put(out + 4, h->type);
	out[6] = h->sender_role;
	out[7] = 0;
	wk_be16_put(out + 8, h->sender_instance);
	wk_be16_put(out + 10, 0);
	wk_be64_put(out + 12, h->corr);
	wk_be16_put(out + 20, (uint16_t)(h->key >> 16));
	wk_be16_put(out + 22, (uint16_t)h->key);
}

int
wk_msg_hdr_decode(const uint8_t *b, size_t len, struct wk_msg_hdr *h)
{
	if (len < WK_MSG_HDR_SIZE)
		return WK_MSG_ESHORT;
	if (len > WK_MSG_HDR_SIZE)
		return WK_MSG_ELONG;
	if (wk_be16_get(b) != WK_MSG_MAGIC)
		return WK_MSG_EMAGIC;
	h->version = b[2];
	if (h->version != WK_MSG_VERSION)
		return WK_MSG_EVERSION;
	h->flags = b[3];
	h->type = wk_be16_get(b + 4);
	if (h->type == WK_MSG_NONE || h->type >= WK_MSG_MAX || type_names[h->type] == NULL)
		return WK_MSG_ETYPE;
	h->sender_role = b[6];
	if (h->sender_role >= WK_ROLE_COUNT)
		return WK_MSG_EROLE;
	h->sender_instance = wk_be16_get(b + 8);
	h->corr = wk_be64_get(b + 12);
	h->key = (uint32_t)wk_be16_get(b + 20) << 16 | wk_be16_get(b + 22);
	return WK_MSG_OK;
}

zmsg_t *
wk_msg_new(const struct wk_msg_hdr *h)
{
	uint8_t buf[WK_MSG_HDR_SIZE];
	zmsg_t *m = zmsg_new();

	wk_msg_hdr_encode(h, buf);
	zmsg_addmem(m, buf, sizeof buf);
	return m;
}
