/* fuzz_wkproto.c - libFuzzer target for the WKProto codec (common/
 * wkproto.c alone).  The first input byte picks the protocol version
 * (low 3 bits: 0..7, so invalid versions are fed too) and, with bit 7, a
 * small remaining-length cap; the rest is a connection's inbound stream.
 * Every frame the splitter returns is decoded at that version and at
 * 1..5, and every packet that decodes must re-encode to the same bytes
 * (CONNACK, PING and PONG keep only the header flags they can carry).
 * Built by `make tests/fuzz/fuzz_wkproto`; `make fuzz` runs it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "wkproto.h"

#define CHECK(x)	do { if (!(x)) __builtin_trap(); } while (0)

static uint8_t out[WKPROTO_HDR_MAX + (1 << 20) + 16];

/* A view must lie inside the frame's body. */
static void
in_body(const struct wkproto_frame *f, const void *p, size_t len)
{
	const uint8_t *q = p;

	if (len == 0)
		return;
	CHECK(q >= f->body && q + len <= f->body + f->body_len);
}

static void
check_views(const struct wkproto_frame *f, const struct wkproto_packet *p)
{
	switch (p->type) {
	case WKPROTO_SEND:
		in_body(f, p->send.client_msg_no.p, p->send.client_msg_no.len);
		in_body(f, p->send.channel_id.p, p->send.channel_id.len);
		in_body(f, p->send.msg_key.p, p->send.msg_key.len);
		in_body(f, p->send.payload.p, p->send.payload.len);
		break;
	case WKPROTO_RECV:
		in_body(f, p->recv.from_uid.p, p->recv.from_uid.len);
		in_body(f, p->recv.topic.p, p->recv.topic.len);
		in_body(f, p->recv.payload.p, p->recv.payload.len);
		break;
	case WKPROTO_EVENT:
		in_body(f, p->event.data.p, p->event.data.len);
		break;
	default:
		break;
	}
}

/* Decode a frame at a version; if it decodes, it must re-encode exactly. */
static void
roundtrip(const uint8_t *pkt, const struct wkproto_frame *f, int version)
{
	struct wkproto_packet p;
	uint8_t first;
	ssize_t n;
	int rc;

	rc = wkproto_decode_frame(f, version, &p);
	if (rc != 0) {
		CHECK(rc < WKPROTO_ENEED && rc >= WKPROTO_EINVAL);
		CHECK(rc != WKPROTO_EVERSION ||
		    !wkproto_type_valid(f->type, version));
		return;
	}
	CHECK(wkproto_type_valid(p.type, version));
	check_views(f, &p);
	n = wkproto_encoded_size(&p, version);
	CHECK(n == (ssize_t)f->total);
	n = wkproto_encode(&p, version, out, sizeof out);
	CHECK(n == (ssize_t)f->total);
	first = pkt[0];
	if (p.type == WKPROTO_CONNACK)
		first &= 0xf1;
	else if (p.type == WKPROTO_PING || p.type == WKPROTO_PONG)
		first &= 0xf0;
	CHECK(out[0] == first);
	CHECK(memcmp(out + 1, pkt + 1, f->total - 1) == 0);
	/* One byte less room is refused. */
	CHECK(wkproto_encode(&p, version, out, f->total - 1) == WKPROTO_ENOSPC);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wkproto_frame f, g;
	struct wkproto_packet p;
	uint32_t cap;
	size_t used;
	int version, rc;

	if (size < 1)
		return 0;
	version = data[0] & 7;
	cap = (data[0] & 0x80) ? 64 : 0;
	data++;
	size--;
	while (size > 0) {
		rc = wkproto_split(data, size, cap, &f);
		if (rc == WKPROTO_ENEED)
			break;
		if (rc != 0) {
			CHECK(rc == WKPROTO_ETYPE || rc == WKPROTO_ELENGTH);
			break;
		}
		CHECK(f.total <= size && f.total >= 1);
		CHECK(f.total == (size_t)f.hdr_len + f.body_len);
		CHECK(f.body_len <= (cap ? cap : WKPROTO_MAX_REMAINING));
		/* Any shorter prefix only asks for more. */
		if (f.total > 1) {
			CHECK(wkproto_split(data, f.total - 1, cap, &g) ==
			    WKPROTO_ENEED);
			CHECK(wkproto_split(data, f.hdr_len, cap, &g) ==
			    (f.body_len ? WKPROTO_ENEED : 0));
		}
		roundtrip(data, &f, version);
		for (int v = WKPROTO_VERSION_MIN; v <= WKPROTO_VERSION_MAX; v++)
			roundtrip(data, &f, v);
		/* The one-call form agrees with split + decode_frame. */
		if (cap == 0 && wkproto_decode(data, size, 5, &p, &used) == 0)
			CHECK(used == f.total);
		data += f.total;
		size -= f.total;
	}
	return 0;
}
