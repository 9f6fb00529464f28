/* wkt_stream.c - what a test expects of a connection watching a stream
 * (wkt_stream.h): the next packet of a type, an EVENT (version 5), a
 * stream RECV in the connection's form (versions 2-4).  Failures abort
 * the test with what came instead; when nothing came, why() (if not NULL:
 * a log's tail, say) is appended. */
#include <check.h>
#include <jansson.h>
#include <string.h>
#include "wkt_stream.h"

struct wkproto_packet
wkt_next(struct wkc *c, int type, wkt_why_fn *why)
{
	struct wkproto_packet p;
	int rc = wkc_next(c, &p, 5000);

	if (rc != 0)
		ck_abort_msg("version %d: no packet (%d), want type %d%s", c->version, rc, type,
		    why ? why() : "");
	ck_assert_msg(p.type == type, "version %d: packet type %d, want %d (%.*s flag %d seq %u)",
	    c->version, p.type, type, p.type == WKPROTO_RECV ? p.recv.client_msg_no.len : 0,
	    p.recv.client_msg_no.p, p.recv.stream_flag, p.recv.stream_seq);
	return p;
}

json_t *
wkt_expect_event(struct wkc *c, const char *type, const char *id, wkt_why_fn *why)
{
	struct wkproto_packet p = wkt_next(c, WKPROTO_EVENT, why);
	json_t *d;

	ck_assert_msg(p.event.type.len == strlen(type) && memcmp(p.event.type.p, type,
	    strlen(type)) == 0, "EVENT type %.*s, want %s", p.event.type.len, p.event.type.p, type);
	ck_assert_msg(p.event.id.len == strlen(id) && memcmp(p.event.id.p, id, strlen(id)) == 0,
	    "EVENT id %.*s, want %s", p.event.id.len, p.event.id.p, id);
	ck_assert(p.event.timestamp > 0);
	d = json_loadb((const char *)p.event.data.p, p.event.data.len, 0, NULL);
	ck_assert_ptr_nonnull(d);
	return d;
}

struct wkproto_packet
wkt_expect_piece(struct wkc *c, int flag, uint32_t seq, const char *stream_no,
    const char *content, wkt_why_fn *why)
{
	struct wkproto_packet p = wkt_next(c, WKPROTO_RECV, why);
	char text[4096];
	json_t *j;

	ck_assert_msg(p.recv.setting & wkproto_stream_bit(c->version), "version %d: setting %#x",
	    c->version, p.recv.setting);
	ck_assert_int_eq(p.recv.stream_flag, flag);
	ck_assert_uint_eq(c->version < 4 ? p.recv.stream_seq : p.recv.stream_id, seq);
	ck_assert_int_eq(p.recv.stream_no.len, strlen(stream_no));
	ck_assert_mem_eq(p.recv.stream_no.p, stream_no, strlen(stream_no));
	ck_assert_msg(wkc_open_recv(c, &p.recv, text, sizeof text) >= 0, "RECV msgKey or payload");
	if (content) {
		j = json_loads(text, 0, NULL);
		ck_assert_msg(j && json_integer_value(json_object_get(j, "type")) == 1 &&
		    strcmp(json_string_value(json_object_get(j, "content")), content) == 0,
		    "version %d piece %u: %s, want content \"%s\"", c->version, seq, text, content);
		json_decref(j);
	}
	return p;
}
