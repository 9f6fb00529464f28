/* wk_msg.c - the internal message header codec and the type/role names.
 *
 * Every message between wk processes is a ZeroMQ multipart message whose
 * first frame is this fixed 24-byte header (layout in wk_msg.h) and whose
 * other frames are the payload of the type's row in wk_msgtypes.h.  The
 * header carries WK_MSG_VERSION, so processes of two builds with different
 * message lists never misread each other: the header is refused. */
#include <string.h>
#include "wk_buf.h"
#include "wk_msg.h"

/* Names indexed by type, from the one X-macro list; a NULL entry is a
 * number with no row, refused by the decoder as an unknown type. */
static const char *type_names[WK_MSG_MAX] = {
	[WK_MSG_NONE] = "NONE",
#define X(name, value, desc) [WK_MSG_##name] = #name,
#include "wk_msgtypes.h"
#undef X
};

/* Indexed by enum wk_role: the names of logs, ipc endpoints and binaries. */
static const char *role_names[WK_ROLE_COUNT] = {
	"master", "broker", "api", "channel", "mailbox", "hook", "ctl",
};

/* A type's name for logs ("UNKNOWN" for numbers without a row). */
const char *
wk_msg_type_name(int type)
{
	if (type <= 0 || type >= WK_MSG_MAX || type_names[type] == NULL)
		return "UNKNOWN";
	return type_names[type];
}

/* A role's name: "channel" in "channel-3.ipc", "wk-channel", "channel/3:". */
const char *
wk_role_name(int role)
{
	return role >= 0 && role < WK_ROLE_COUNT ? role_names[role] : "unknown";
}

/* The role of a name, or -1. */
int
wk_role_from_name(const char *name)
{
	for (int i = 0; i < WK_ROLE_COUNT; i++)
		if (strcmp(role_names[i], name) == 0)
			return i;
	return -1;
}

/* The text of a WK_MSG_E* code, for the fatal log line of a bad message. */
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
	out[7] = h->sender_node;
	wk_be16_put(out + 8, h->sender_instance);
	wk_be16_put(out + 10, 0);
	wk_be64_put(out + 12, h->corr);
	wk_be16_put(out + 20, (uint16_t)(h->key >> 16));
	wk_be16_put(out + 22, (uint16_t)h->key);
}

/* Decode and validate a header frame: exact size, magic, version, known
 * type and role.  The receiver's dispatch then checks frames and sender. */
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
	h->sender_node = b[7];
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

/* A new message holding only h's header frame; callers add the payload. */
zmsg_t *
wk_msg_new(const struct wk_msg_hdr *h)
{
	uint8_t buf[WK_MSG_HDR_SIZE];
	zmsg_t *m = zmsg_new();

	wk_msg_hdr_encode(h, buf);
	zmsg_addmem(m, buf, sizeof buf);
	return m;
}

/* BATCH payload: the messages one after another, each a u16 frame count
 * and then its frames as blobs (u32 length, bytes). */
void
wk_msg_batch_put(struct wk_wbuf *b, zmsg_t *m)
{
	wk_put_u16(b, (uint16_t)zmsg_size(m));
	for (zframe_t *f = zmsg_first(m); f; f = zmsg_next(m))
		wk_put_blob(b, zframe_data(f), zframe_size(f));
}

/* The same for a header and n payload frames, without a zmsg_t. */
void
wk_msg_batch_putv(struct wk_wbuf *b, const struct wk_msg_hdr *h, int n,
    const void *const *frames, const size_t *lens)
{
	uint8_t hdr[WK_MSG_HDR_SIZE];

	wk_msg_hdr_encode(h, hdr);
	wk_put_u16(b, (uint16_t)(n + 1));
	wk_put_blob(b, hdr, sizeof hdr);
	for (int i = 0; i < n; i++)
		wk_put_blob(b, frames[i], lens[i]);
}

/* The next message of a BATCH payload (a copy), or NULL at its end or
 * when it is malformed (r->err set: a count of zero frames or a frame
 * past the end). */
zmsg_t *
wk_msg_batch_next(struct wk_rbuf *r)
{
	if (r->err || r->off == r->len)
		return NULL;
	uint16_t n = wk_get_u16(r);
	if (n == 0)
		r->err = 1;
	if (r->err)
		return NULL;
	zmsg_t *m = zmsg_new();
	for (uint16_t i = 0; i < n; i++) {
		size_t len;
		const void *d = wk_get_blob(r, &len);
		if (r->err) {
			zmsg_destroy(&m);
			return NULL;
		}
		zmsg_addmem(m, d, len);
	}
	return m;
}

int
wk_msg_batch_view(struct wk_rbuf *r, struct wk_msgv *v)
{
	size_t start = r->off;

	if (r->err || r->off == r->len)
		return r->err ? -1 : 0;
	uint16_t n = wk_get_u16(r);
	if (n == 0)
		r->err = 1;
	if (r->err)
		return -1;
	if (n > WK_MSGV_MAX) {
		r->off = start;
		return 2;
	}
	v->n = n;
	for (uint16_t i = 0; i < n; i++) {
		v->p[i] = wk_get_blob(r, &v->len[i]);
		if (r->err)
			return -1;
	}
	return 1;
}
