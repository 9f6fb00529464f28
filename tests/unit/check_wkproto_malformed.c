/* check_wkproto_malformed.c - the WKProto decoder and splitter
 * (common/wkproto.c) on what a client may send: the malformed-input table
 * per packet type (short, long, trailing bytes, wrong version, unknown
 * type, huge lengths) and the good packets it is built from, 1-byte
 * PING/PONG, and a multi-packet stream split at every point, byte by byte,
 * and with a bad type after good packets.  See wkproto(7). */
#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "wktest.h"
#include "wkproto.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * Malformed input, per packet type: each with the error it must give.
 */
struct bad_case {
	const char	*name;
	int		 version;
	uint32_t	 cap;		/* 0: default 1 MiB */
	const char	*hex;
	int		 err;
};

#define RVACK12	"17979cfe3d85cd7900000008"	/* a RECVACK body */
#define SACK17	"17979cfe3d85cd15000000010000000701"	/* a SENDACK body */
#define CONNACK_V5 "21520500000000000004d201002c65615978377434622b636d5045674d7333713351353642354f592f486872694d7945627369612b4670526f3d00104131623243336434453566364737683800000000000003e9"
#define CONNACK_V2 "204900000000000004d201002c65615978377434622b636d5045674d7333713351353642354f592f486872694d7945627369612b4670526f3d001041316232433364344535663647376838"
#define EVENT_V5 "c02a00046576743100135f5f5f546578744d65737361676553746172740000018bcfe56fd07b2278223a317d"
#define SEND_V2 "329001000000000100213031323334353637383961626364656630313233343536373839616263646566330003626f6201002065373033616438313733383563663762316534343263613666363930333063316853436f5448466439706339457553675051686245634b644367476b332f2b784b32433463702b2b656b52527a2b5948326c666b595138785530797656667348"
#define RECV_TOPIC "52560800000003626f620003626f6201000a626f626d73673030303117979cfe3d85cd79000000086553f10100046e6577737b22636f6e74656e74223a22686920616c69636520e4bda0e5a5bd222c2274797065223a317d"
#define SUB_SUB	"a01700000000056c69766531070000097b226b223a2276227d"

static const struct bad_case bad_cases[] = {
	/* framing */
	{ "empty", 2, 0, "", WKPROTO_ENEED },
	{ "header only", 2, 0, "62", WKPROTO_ENEED },
	{ "varint cut", 2, 0, "3290", WKPROTO_ENEED },
	{ "body short", 2, 0, "620c17979cfe3d85cd79000000", WKPROTO_ENEED },
	{ "type 0", 2, 0, "00", WKPROTO_ETYPE },
	{ "type 0 flags", 2, 0, "0f0100", WKPROTO_ETYPE },
	{ "type 13", 2, 0, "d0", WKPROTO_ETYPE },
	{ "type 14", 2, 0, "e00100", WKPROTO_ETYPE },
	{ "type 15", 2, 0, "ff", WKPROTO_ETYPE },
	{ "5-byte varint", 2, WKPROTO_VARINT_MAX, "32ffffffff01", WKPROTO_ELENGTH },
	{ "5-byte varint zero", 2, WKPROTO_VARINT_MAX, "3280808080", WKPROTO_ELENGTH },
	{ "4-byte max varint waits", 2, WKPROTO_VARINT_MAX, "32ffffff7f", WKPROTO_ENEED },
	{ "over 1 MiB", 2, 0, "32818040", WKPROTO_ELENGTH },
	{ "exactly 1 MiB waits", 2, 0, "32808040", WKPROTO_ENEED },
	{ "huge 3 bytes, early", 2, 0, "32ffffff", WKPROTO_ELENGTH },
	{ "huge 4 bytes", 2, 0, "32ffffff7f", WKPROTO_ELENGTH },
	{ "over small cap", 2, 100, "3265", WKPROTO_ELENGTH },
	{ "non-minimal varint", 2, 0, "628c00" RVACK12, WKPROTO_ELENGTH },
	{ "non-minimal zero", 2, 0, "6280000000", WKPROTO_ELENGTH },
	/* versions */
	{ "version 0", 0, 0, "620c" RVACK12, WKPROTO_EVERSION },
	{ "version 6", 6, 0, "620c" RVACK12, WKPROTO_EVERSION },
	{ "EVENT at v4", 4, 0, EVENT_V5, WKPROTO_EVERSION },
	{ "EVENT at v1", 1, 0, EVENT_V5, WKPROTO_EVERSION },
	/* CONNECT */
	{ "CONNECT empty body", 2, 0, "1000", WKPROTO_ETRUNC },
	{ "CONNECT short", 2, 0, "100402010000", WKPROTO_ETRUNC },
	{ "CONNECT trailing", 2, 0, "101302010000000000000000000000000000000000", WKPROTO_ETRAILING },
	{ "CONNECT uid 0x8000", 2, 0, "100602010000" "8000", WKPROTO_ESTRING },
	{ "CONNECT deviceID cut", 2, 0, "1006020100054142", WKPROTO_ETRUNC },
	/* CONNACK */
	{ "CONNACK v2 bytes at v4", 4, 0, CONNACK_V2, WKPROTO_ETRUNC },
	{ "CONNACK v5 bytes at v3", 3, 0, CONNACK_V5, WKPROTO_ETRAILING },
	{ "CONNACK trailing", 2, 0, "200e0000000000000000020000000000", WKPROTO_ETRAILING },
	{ "CONNACK short", 2, 0, "200c000000000000000002000000", WKPROTO_ETRUNC },
	/* SEND */
	{ "SEND v2 bytes at v3", 3, 0, SEND_V2, WKPROTO_ETRUNC },
	{ "SEND body 3 bytes", 2, 0, "3203000000", WKPROTO_ETRUNC },
	{ "SEND clientMsgNo 0x8000", 2, 0, "320700000000018000", WKPROTO_ESTRING },
	{ "SEND clientMsgNo 0xffff", 2, 0, "32070000000001ffff", WKPROTO_ESTRING },
	{ "SEND topic bit, no topic", 2, 0, "320c080000000100000000010000", WKPROTO_ETRUNC },
	{ "SEND stream bit v2, no streamNo", 2, 0, "320704000000010000", WKPROTO_ETRUNC },
	/* SENDACK */
	{ "SENDACK short", 2, 0, "4210" "17979cfe3d85cd150000000100000007", WKPROTO_ETRUNC },
	{ "SENDACK trailing", 2, 0, "4212" SACK17 "00", WKPROTO_ETRAILING },
	/* RECV */
	{ "RECV topic cut", 2, 0, "522c0800000003626f620003626f6201000a626f626d73673030303117979cfe3d85cd79000000086553f1010004", WKPROTO_ETRUNC },
	{ "RECV msgKey 0x8000", 2, 0, "5203008000", WKPROTO_ESTRING },
	{ "RECV v2 topic bytes at v3", 3, 0, RECV_TOPIC, WKPROTO_ETRUNC },
	/* RECVACK */
	{ "RECVACK short", 2, 0, "620b17979cfe3d85cd79000000", WKPROTO_ETRUNC },
	{ "RECVACK trailing", 2, 0, "620d" RVACK12 "00", WKPROTO_ETRAILING },
	{ "RECVACK empty", 2, 0, "6200", WKPROTO_ETRUNC },
	/* DISCONNECT */
	{ "DISCONNECT reason 0x8000", 2, 0, "90030c8000", WKPROTO_ESTRING },
	{ "DISCONNECT reason cut", 2, 0, "90040c000541", WKPROTO_ETRUNC },
	{ "DISCONNECT trailing", 2, 0, "90040c000000", WKPROTO_ETRAILING },
	{ "DISCONNECT no length", 2, 0, "90010c", WKPROTO_ETRUNC },
	/* SUB, SUBACK */
	{ "SUB trailing", 2, 0, "a018" "00000000056c69766531070000097b226b223a2276227d00", WKPROTO_ETRAILING },
	{ "SUB param cut", 2, 0, "a016" "00000000056c69766531070000097b226b223a2276227d", WKPROTO_ETRUNC },
	{ "SUBACK short", 2, 0, "b00b000000056c697665310700", WKPROTO_ETRUNC },
	{ "SUBACK trailing", 2, 0, "b00d000000056c6976653107000100", WKPROTO_ETRAILING },
	/* EVENT */
	{ "EVENT no timestamp", 5, 0, "c0080001410001420000", WKPROTO_ETRUNC },
	{ "EVENT type 0x8000", 5, 0, "c009000141800000000000", WKPROTO_ESTRING },
};

START_TEST(test_wkproto_malformed_table)
{
	const struct bad_case *c = &bad_cases[_i];
	struct wkproto_frame f;
	struct wkproto_packet p;
	uint8_t *buf;
	size_t len;
	int rc;

	buf = wkt_unhex(c->hex, &len);
	rc = wkproto_split(buf, len, c->cap, &f);
	if (rc == 0)
		rc = wkproto_decode_frame(&f, c->version, &p);
	ck_assert_msg(rc == c->err, "%s: got %s, want %s", c->name,
	    wkproto_strerror(rc), wkproto_strerror(c->err));
	free(buf);
}
END_TEST

/* The good packets the malformed table is built from do decode. */
START_TEST(test_wkproto_malformed_bases_are_good)
{
	static const struct { const char *hex; int v; } good[] = {
		{ CONNACK_V5, 5 }, { CONNACK_V5, 4 }, { CONNACK_V2, 2 },
		{ CONNACK_V2, 3 }, { EVENT_V5, 5 }, { SEND_V2, 2 },
		{ SEND_V2, 1 }, { RECV_TOPIC, 2 }, { SUB_SUB, 2 },
		{ "620c" RVACK12, 1 }, { "4211" SACK17, 5 },
		{ "c00e000141000142000000000000000a", 5 },
		{ "90030c0000", 2 },
	};
	struct wkproto_packet p;
	uint8_t *buf;
	size_t len, used;

	for (size_t i = 0; i < NELEM(good); i++) {
		buf = wkt_unhex(good[i].hex, &len);
		ck_assert_int_eq(wkproto_decode(buf, len, good[i].v, &p, &used), 0);
		ck_assert_uint_eq(used, len);
		free(buf);
	}
}
END_TEST

/* Any byte with high nibble 7 or 8 is a whole 1-byte packet. */
START_TEST(test_wkproto_ping_pong_one_byte)
{
	struct wkproto_packet p;
	uint8_t b[2], out[4];
	size_t used;

	for (unsigned x = 0x70; x <= 0x8f; x++) {
		b[0] = (uint8_t)x;
		b[1] = 0x10;	/* the next packet's first byte */
		ck_assert_int_eq(wkproto_decode(b, 2, 2, &p, &used), 0);
		ck_assert_uint_eq(used, 1);
		ck_assert_int_eq(p.type, x >> 4);
		ck_assert_int_eq(p.flags, x & 15);
		/* Encoded always with flags 0. */
		ck_assert_int_eq(wkproto_encode(&p, 2, out, sizeof out), 1);
		ck_assert_int_eq(out[0], x & 0xf0);
	}
}
END_TEST

/*
 * The splitter over every split point of a multi-packet stream.
 */
struct conn {
	uint8_t	buf[1024];
	size_t	len;
	size_t	npkt;
	size_t	ends[16];	/* stream offset where each packet ended */
	size_t	pos;		/* stream offset of buf[0] */
};

/* Append bytes and take out every complete packet. */
static void
conn_feed(struct conn *c, const uint8_t *p, size_t n)
{
	struct wkproto_frame f;
	struct wkproto_packet pk;
	int rc;

	ck_assert_uint_le(c->len + n, sizeof c->buf);
	memcpy(c->buf + c->len, p, n);
	c->len += n;
	while ((rc = wkproto_split(c->buf, c->len, 0, &f)) == 0) {
		ck_assert_int_eq(wkproto_decode_frame(&f, 2, &pk), 0);
		ck_assert_int_eq(pk.type, f.type);
		ck_assert_uint_lt(c->npkt, NELEM(c->ends));
		c->pos += f.total;
		c->ends[c->npkt++] = c->pos;
		memmove(c->buf, c->buf + f.total, c->len - f.total);
		c->len -= f.total;
	}
	ck_assert_int_eq(rc, WKPROTO_ENEED);
}

static const char stream_hex[] =
    /* CONNECT */
    "106f020100216665646362613938373635343332313066656463626139383736353433323130570005616c696365000b616c6963652d746f6b656e0000018bcfe56800002c686c4637774d4f66364861335a47793134303767506139787a4c7257644644426170634b324d7641506e343d"
    SEND_V2
    "70"			/* PING */
    "620c" RVACK12		/* RECVACK */
    "7f"			/* PING with stray flags */
    "a01700000000056c69766531070000097b226b223a2276227d";	/* SUB */
static const size_t stream_ends[] = { 113, 260, 261, 275, 276, 301 };

START_TEST(test_wkproto_split_every_point)
{
	struct conn c;
	uint8_t *s;
	size_t len;

	s = wkt_unhex(stream_hex, &len);
	ck_assert_uint_eq(len, stream_ends[NELEM(stream_ends) - 1]);
	for (size_t cut = 0; cut <= len; cut++) {
		memset(&c, 0, sizeof c);
		conn_feed(&c, s, cut);
		conn_feed(&c, s + cut, len - cut);
		ck_assert_uint_eq(c.npkt, NELEM(stream_ends));
		ck_assert(memcmp(c.ends, stream_ends, sizeof stream_ends) == 0);
		ck_assert_uint_eq(c.len, 0);
	}
	/* Three pieces: every pair of cut points. */
	for (size_t a = 0; a <= len; a += 7)
		for (size_t b = a; b <= len; b += 5) {
			memset(&c, 0, sizeof c);
			conn_feed(&c, s, a);
			conn_feed(&c, s + a, b - a);
			conn_feed(&c, s + b, len - b);
			ck_assert_uint_eq(c.npkt, NELEM(stream_ends));
			ck_assert(memcmp(c.ends, stream_ends,
			    sizeof stream_ends) == 0);
		}
	free(s);
}
END_TEST

START_TEST(test_wkproto_split_byte_by_byte)
{
	struct conn c;
	uint8_t *s;
	size_t len;

	s = wkt_unhex(stream_hex, &len);
	memset(&c, 0, sizeof c);
	for (size_t i = 0; i < len; i++)
		conn_feed(&c, s + i, 1);
	ck_assert_uint_eq(c.npkt, NELEM(stream_ends));
	ck_assert(memcmp(c.ends, stream_ends, sizeof stream_ends) == 0);
	ck_assert_uint_eq(c.len, 0);
	free(s);
}
END_TEST

/* A bad type after good packets is reported once the good ones are out,
 * and never turns into waiting for more. */
START_TEST(test_wkproto_split_error_not_hang)
{
	static const char *const bad[] = { "00", "d0", "e1", "f0", "32ffffff" };
	struct wkproto_frame f;
	uint8_t *b;
	size_t len;

	for (size_t i = 0; i < NELEM(bad); i++) {
		char hex[64];

		snprintf(hex, sizeof hex, "70620c%s%s", RVACK12, bad[i]);
		b = wkt_unhex(hex, &len);
		ck_assert_int_eq(wkproto_split(b, len, 0, &f), 0);
		ck_assert_uint_eq(f.total, 1);
		ck_assert_int_eq(wkproto_split(b + 1, len - 1, 0, &f), 0);
		ck_assert_uint_eq(f.total, 14);
		ck_assert_int_lt(wkproto_split(b + 15, len - 15, 0, &f),
		    WKPROTO_ENEED);
		free(b);
	}
}
END_TEST

static Suite *
wkproto_malformed_suite(void)
{
	Suite *s = suite_create("wkproto_malformed");
	TCase *tc;

	tc = tcase_create("malformed");
	tcase_add_loop_test(tc, test_wkproto_malformed_table, 0, NELEM(bad_cases));
	tcase_add_test(tc, test_wkproto_malformed_bases_are_good);
	tcase_add_test(tc, test_wkproto_ping_pong_one_byte);
	suite_add_tcase(s, tc);
	tc = tcase_create("split");
	tcase_add_test(tc, test_wkproto_split_every_point);
	tcase_add_test(tc, test_wkproto_split_byte_by_byte);
	tcase_add_test(tc, test_wkproto_split_error_not_hang);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return wkt_run_suite(wkproto_malformed_suite());
}
