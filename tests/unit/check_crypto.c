/* check_crypto.c - tests of WKProto encryption (common/wk_crypto.c): the
 * key agreement, AES key and IV, ciphertext and msgKey of
 * tests/vectors/crypto_example.json, msgKey verification and decryption
 * of every encrypted SEND and RECV vector, base64 against OpenSSL's, and
 * the rejection of bad keys, bad base64 and bad padding. */
#include <check.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include "wkproto.h"
#include "wk_crypto.h"
#include "wktest.h"

#define VECDIR	WK_TEST_SRCDIR "/tests/vectors/"
#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static const char aes_key[] = "0b5e04be2d748c15";
static const char aes_iv[] = "A1b2C3d4E5f6G7h8";

/* A member of a JSON object whose key starts with prefix (the crypto
 * example's keys carry explanations after the name). */
static const char *
jstr_prefix(json_t *obj, const char *prefix)
{
	const char *k;
	json_t *v;

	json_object_foreach(obj, k, v)
		if (strncmp(k, prefix, strlen(prefix)) == 0)
			return json_string_value(v);
	ck_abort_msg("no key %s", prefix);
	return NULL;
}

static void
hex_eq(const uint8_t *b, size_t n, const char *want)
{
	char h[256];

	ck_assert_uint_lt(2 * n, sizeof h);
	wk_hex(b, n, h);
	h[2 * n] = '\0';
	ck_assert_str_eq(h, want);
}

static void
session(struct wk_crypto_session *s)
{
	ck_assert_int_eq(wk_crypto_session_init(s, aes_key, aes_iv), 0);
}

/* crypto_example.json: key pairs, shared secret, AES key, ciphertext,
 * msgKeys, both directions. */
START_TEST(test_crypto_example_derivation)
{
	json_t *j = wkt_vec_load("crypto_example.json");
	json_t *cl = json_object_get(j, "client"), *sv = json_object_get(j, "server");
	json_t *dv = json_object_get(j, "derivation");
	struct wk_crypto_keypair c, s;
	uint8_t *priv, shared1[32], shared2[32], pub[32];
	char b64[64], key[16];
	size_t n;

	priv = wkt_unhex(jstr_prefix(cl, "private_key_hex"), &n);
	ck_assert_uint_eq(n, 32);
	ck_assert_int_eq(wk_crypto_keypair_from(&c, priv), 0);
	free(priv);
	hex_eq(c.pub, 32, jstr_prefix(cl, "public_key_hex"));
	/* The seed itself (as the SDK passes it) gives the same key. */
	ck_assert_int_eq(wk_crypto_keypair_from(&c, (const uint8_t *)
	    jstr_prefix(cl, "seed_ascii")), 0);
	hex_eq(c.pub, 32, jstr_prefix(cl, "public_key_hex"));
	b64[wk_b64_encode(c.pub, 32, b64)] = '\0';
	ck_assert_str_eq(b64, jstr_prefix(cl, "clientKey"));

	priv = wkt_unhex(jstr_prefix(sv, "private_key_hex"), &n);
	ck_assert_int_eq(wk_crypto_keypair_from(&s, priv), 0);
	free(priv);
	hex_eq(s.pub, 32, jstr_prefix(sv, "public_key_hex"));
	b64[wk_b64_encode(s.pub, 32, b64)] = '\0';
	ck_assert_str_eq(b64, jstr_prefix(sv, "serverKey"));

	/* The server decodes the clientKey and agrees with the client. */
	ck_assert_int_eq(wk_crypto_decode_key(jstr_prefix(cl, "clientKey"),
	    44, pub), 0);
	ck_assert(memcmp(pub, c.pub, 32) == 0);
	ck_assert_int_eq(wk_crypto_shared(s.priv, pub, shared1), 0);
	ck_assert_int_eq(wk_crypto_shared(c.priv, s.pub, shared2), 0);
	ck_assert(memcmp(shared1, shared2, 32) == 0);
	hex_eq(shared1, 32, jstr_prefix(dv, "shared_secret_hex"));
	b64[wk_b64_encode(shared1, 32, b64)] = '\0';
	ck_assert_str_eq(b64, jstr_prefix(dv, "base64(shared_secret)"));
	ck_assert_int_eq(wk_crypto_derive_key(shared1, key), 0);
	ck_assert(memcmp(key, jstr_prefix(dv, "aes_key"), 16) == 0);
	ck_assert_uint_eq(strlen(jstr_prefix(dv, "aes_key")), 16);
	ck_assert_str_eq(jstr_prefix(dv, "aes_iv"), aes_iv);
	json_decref(j);
}
END_TEST

START_TEST(test_crypto_example_send_and_recv)
{
	json_t *j = wkt_vec_load("crypto_example.json");
	json_t *se = json_object_get(j, "send_example");
	json_t *re = json_object_get(j, "recv_example");
	struct wk_crypto_session s;
	const char *pt, *wire, *vs;
	char out[512], mk[32];
	uint8_t plain[512];
	ssize_t n;

	session(&s);
	/* SEND: ciphertext, msgKey of the verify string. */
	pt = jstr_prefix(se, "payload_plaintext");
	wire = jstr_prefix(se, "payload_on_wire");
	n = wk_crypto_encrypt(&s, pt, strlen(pt), out, sizeof out);
	ck_assert_int_eq(n, (ssize_t)strlen(wire));
	ck_assert_int_eq(n, (ssize_t)WK_CRYPTO_SEALED_LEN(strlen(pt)));
	ck_assert(memcmp(out, wire, (size_t)n) == 0);
	vs = jstr_prefix(se, "verify_string");
	ck_assert_int_eq(wk_crypto_msgkey(&s, vs, strlen(vs), mk), 0);
	ck_assert(memcmp(mk, jstr_prefix(se, "msgKey"), 32) == 0);
	n = wk_crypto_decrypt(&s, wire, strlen(wire), plain, sizeof plain);
	ck_assert_int_eq(n, (ssize_t)strlen(pt));
	ck_assert(memcmp(plain, pt, (size_t)n) == 0);

	/* RECV: the same through the packet-level calls. */
	pt = jstr_prefix(re, "payload_plaintext");
	wire = jstr_prefix(re, "payload_on_wire");
	n = wk_crypto_encrypt(&s, pt, strlen(pt), out, sizeof out);
	ck_assert(n == (ssize_t)strlen(wire) && memcmp(out, wire, (size_t)n) == 0);
	vs = jstr_prefix(re, "verify_string");
	ck_assert_int_eq(wk_crypto_msgkey(&s, vs, strlen(vs), mk), 0);
	ck_assert(memcmp(mk, jstr_prefix(re, "msgKey"), 32) == 0);
	wk_crypto_session_clear(&s);
	json_decref(j);
}
END_TEST

/*
 * Every encrypted SEND vector verifies and decrypts.
 */
static void
check_send(struct wk_crypto_session *s, const char *hex, int version,
    const char *plaintext, const char *msgkey)
{
	struct wkproto_packet p;
	uint8_t *buf, plain[1024];
	char mk[32], bad[32];
	size_t len, used;
	ssize_t n;

	buf = wkt_unhex(hex, &len);
	ck_assert_int_eq(wkproto_decode(buf, len, version, &p, &used), 0);
	ck_assert_uint_eq(used, len);
	ck_assert_int_eq(wk_crypto_msgkey_send(s, &p.send, mk), 0);
	ck_assert(memcmp(mk, msgkey, 32) == 0);
	ck_assert_int_eq(wk_crypto_verify_send(s, &p.send), 0);
	n = wk_crypto_decrypt(s, (const char *)p.send.payload.p,
	    p.send.payload.len, plain, sizeof plain);
	ck_assert_int_eq(n, (ssize_t)strlen(plaintext));
	ck_assert(memcmp(plain, plaintext, (size_t)n) == 0);

	/* A changed msgKey, field or payload fails the check. */
	memcpy(bad, p.send.msg_key.p, 32);
	bad[0] ^= 1;
	p.send.msg_key.p = bad;
	ck_assert_int_eq(wk_crypto_verify_send(s, &p.send), -1);
	p.send.msg_key.len = 31;
	p.send.msg_key.p = msgkey;
	ck_assert_int_eq(wk_crypto_verify_send(s, &p.send), -1);
	p.send.msg_key.len = 32;
	ck_assert_int_eq(wk_crypto_verify_send(s, &p.send), 0);
	p.send.client_seq++;
	ck_assert_int_eq(wk_crypto_verify_send(s, &p.send), -1);
	p.send.client_seq--;
	p.send.payload.len--;
	ck_assert_int_eq(wk_crypto_verify_send(s, &p.send), -1);
	free(buf);
}

static const char *const send_files[] = {
	"c2s_send.json",
	"c2s_send_receipt_group.json",
	"c2s_send_via_chatManager_send.json",
	"c2s_head_send_v5.json",
};

START_TEST(test_crypto_send_vectors_verify)
{
	json_t *j = wkt_vec_load(send_files[_i]);
	json_t *go = json_object_get(j, "decoded_and_verified_by_go");
	struct wk_crypto_session s;

	session(&s);
	ck_assert(json_is_true(json_object_get(go, "msgKey_valid")));
	check_send(&s, json_string_value(json_object_get(j, "hex")),
	    (int)json_integer_value(json_object_get(j, "proto_version")),
	    json_string_value(json_object_get(go, "decrypted_payload")),
	    json_string_value(json_object_get(go, "msgKey")));
	wk_crypto_session_clear(&s);
	json_decref(j);
}
END_TEST

START_TEST(test_crypto_batched_sends_verify)
{
	json_t *j = wkt_vec_load("c2s_head_send_batched_ws_message.json");
	json_t *pk, *go = json_object_get(j, "decoded_and_verified_by_go");
	struct wk_crypto_session s;
	size_t i;

	session(&s);
	json_array_foreach(json_object_get(j, "packets"), i, pk) {
		json_t *g = json_array_get(go, i);

		check_send(&s, json_string_value(json_object_get(pk, "hex")), 5,
		    json_string_value(json_object_get(g, "decrypted_payload")),
		    json_string_value(json_object_get(g, "msgKey")));
	}
	ck_assert_uint_eq(i, 2);
	wk_crypto_session_clear(&s);
	json_decref(j);
}
END_TEST

/* Encrypted RECV vectors: sealing the plaintext gives the same payload
 * and msgKey, and the packet verifies and decrypts (as a client would). */
static const char *const recv_files[] = {
	"s2c_recv_v2_encrypted.json",
	"s2c_recv_v5_encrypted.json",
};

START_TEST(test_crypto_recv_vectors_seal)
{
	json_t *j = wkt_vec_load(recv_files[_i]), *in = json_object_get(j, "input");
	struct wk_crypto_session s;
	struct wkproto_packet p;
	const char *pt = json_string_value(json_object_get(in,
	    "payload_plaintext"));
	char wire[512], mk[32];
	uint8_t *buf, plain[512];
	size_t len, used;
	ssize_t n;

	session(&s);
	buf = wkt_unhex(json_string_value(json_object_get(j, "hex")), &len);
	ck_assert_int_eq(wkproto_decode(buf, len,
	    (int)json_integer_value(json_object_get(j, "proto_version")), &p,
	    &used), 0);
	ck_assert_int_eq(wk_crypto_verify_recv(&s, &p.recv), 0);
	n = wk_crypto_decrypt(&s, (const char *)p.recv.payload.p,
	    p.recv.payload.len, plain, sizeof plain);
	ck_assert(n == (ssize_t)strlen(pt) && memcmp(plain, pt, (size_t)n) == 0);

	/* Seal as the server does: encrypt, then sign. */
	n = wk_crypto_encrypt(&s, pt, strlen(pt), wire, sizeof wire);
	ck_assert_int_eq(n, (ssize_t)p.recv.payload.len);
	ck_assert(memcmp(wire, p.recv.payload.p, (size_t)n) == 0);
	p.recv.payload.p = (const uint8_t *)wire;
	ck_assert_int_eq(wk_crypto_msgkey_recv(&s, &p.recv, mk), 0);
	ck_assert(memcmp(mk, json_string_value(json_object_get(in, "msgKey")),
	    32) == 0);
	p.recv.timestamp++;
	ck_assert_int_eq(wk_crypto_verify_recv(&s, &p.recv), -1);
	free(buf);
	wk_crypto_session_clear(&s);
	json_decref(j);
}
END_TEST

/*
 * Keys.
 */
START_TEST(test_crypto_client_key_rejected)
{
	struct {
		const char *b64;
		int ok;
	} cases[] = {
		{ "hlF7wMOf6Ha3ZGy1407gPa9xzLrWdFDBapcK2MvAPn4=", 0 },
		/* 31 bytes */
		{ "hlF7wMOf6Ha3ZGy1407gPa9xzLrWdFDBapcK2MvAPg==", -1 },
		/* 33 bytes */
		{ "hlF7wMOf6Ha3ZGy1407gPa9xzLrWdFDBapcK2MvAPn4A", -1 },
		/* 30 and 48 bytes */
		{ "hlF7wMOf6Ha3ZGy1407gPa9xzLrWdFDBapcK2MvA", -1 },
		{ "hlF7wMOf6Ha3ZGy1407gPa9xzLrWdFDBapcK2MvAPn4hlF7wMOf6Ha3ZGy14", -1 },
		/* bad base64 of the right length */
		{ "hlF7wMOf6Ha3ZGy1407gPa9xzLrWdFDBapcK2MvAPn*=", -1 },
		{ "hlF7wMOf6Ha3ZGy1407gPa9xzLrWd-DBapcK2MvAPn4=", -1 },
		{ "hlF7wMOf6Ha3ZGy1407gPa9xzLrWdFDBapcK2MvAPn4 ", -1 },
		{ "hlF7wMOf6Ha3ZGy1407gPa9x=LrWdFDBapcK2MvAPn4=", -1 },
		{ "hlF7wMOf6Ha3ZGy1407gPa9xzLrWdFDBapcK2MvAP===", -1 },
		/* unpadded */
		{ "hlF7wMOf6Ha3ZGy1407gPa9xzLrWdFDBapcK2MvAPn4", -1 },
		{ "", -1 },
	};
	uint8_t out[32];

	for (size_t i = 0; i < NELEM(cases); i++)
		ck_assert_msg(wk_crypto_decode_key(cases[i].b64,
		    strlen(cases[i].b64), out) == cases[i].ok, "case %zu", i);
}
END_TEST

START_TEST(test_crypto_random_keys_agree)
{
	struct wk_crypto_keypair a, b;
	uint8_t s1[32], s2[32], zero[32] = { 0 };
	char salt[16], salt2[16];

	ck_assert_int_eq(wk_crypto_keypair_new(&a), 0);
	ck_assert_int_eq(wk_crypto_keypair_new(&b), 0);
	ck_assert(memcmp(a.pub, b.pub, 32) != 0);
	ck_assert_int_eq(wk_crypto_shared(a.priv, b.pub, s1), 0);
	ck_assert_int_eq(wk_crypto_shared(b.priv, a.pub, s2), 0);
	ck_assert(memcmp(s1, s2, 32) == 0);
	/* A low-order peer key (here 0) gives no secret. */
	ck_assert_int_eq(wk_crypto_shared(a.priv, zero, s1), -1);

	ck_assert_int_eq(wk_crypto_salt(salt), 0);
	ck_assert_int_eq(wk_crypto_salt(salt2), 0);
	ck_assert(memcmp(salt, salt2, 16) != 0);
	for (int i = 0; i < 16; i++)
		ck_assert(strchr("0123456789abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ", salt[i]) != NULL &&
		    salt[i] != '\0');
}
END_TEST

/*
 * Base64.
 */
START_TEST(test_crypto_base64_matches_openssl)
{
	uint8_t in[300], dec[300];
	char mine[512], theirs[512];

	static const struct { const char *in, *out; } rfc[] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
	};
	for (size_t i = 0; i < NELEM(rfc); i++) {
		size_t n = wk_b64_encode(rfc[i].in, strlen(rfc[i].in), mine);

		ck_assert(n == strlen(rfc[i].out) && memcmp(mine, rfc[i].out, n) == 0);
		ck_assert_int_eq(wk_b64_decode(rfc[i].out, n, dec, sizeof dec),
		    (ssize_t)strlen(rfc[i].in));
		ck_assert(memcmp(dec, rfc[i].in, strlen(rfc[i].in)) == 0);
	}
	for (size_t len = 0; len <= sizeof in; len++) {
		size_t n;
		int m;

		ck_assert_int_eq(RAND_bytes(in, (int)len + 1 > (int)sizeof in ?
		    (int)sizeof in : (int)len + 1), 1);
		n = wk_b64_encode(in, len, mine);
		m = EVP_EncodeBlock((unsigned char *)theirs, in, (int)len);
		ck_assert_uint_eq(n, (size_t)m);
		ck_assert_uint_eq(n, WK_B64_ENCODED_LEN(len));
		ck_assert(memcmp(mine, theirs, n) == 0);
		ck_assert_int_eq(wk_b64_decode(mine, n, dec, len), (ssize_t)len);
		ck_assert(memcmp(dec, in, len) == 0);
		/* One byte short of room is refused. */
		if (len > 0)
			ck_assert_int_eq(wk_b64_decode(mine, n, dec, len - 1), -1);
	}
}
END_TEST

START_TEST(test_crypto_base64_rejects)
{
	static const char *const bad[] = {
		"Zg=", "Zg", "Z===", "====", "Zg==Zg==", "Zm9v\n", "Zm 9v",
		"Zm9v====", "Zm=v", "=m9v", "Zm9\x80", "Zm9v-_AA", "Zg=A",
	};
	uint8_t out[64];

	for (size_t i = 0; i < NELEM(bad); i++)
		ck_assert_msg(wk_b64_decode(bad[i], strlen(bad[i]), out,
		    sizeof out) == -1, "accepted %s", bad[i]);
}
END_TEST

/*
 * Ciphertext edge cases.
 */
START_TEST(test_crypto_decrypt_rejects)
{
	struct wk_crypto_session s;
	uint8_t out[256];
	char ct[64];
	size_t n;

	session(&s);
	/* Not base64; empty; 15 bytes; 16 bytes of bad padding. */
	ck_assert_int_eq(wk_crypto_decrypt(&s, "not base64!", 11, out,
	    sizeof out), -1);
	ck_assert_int_eq(wk_crypto_decrypt(&s, "", 0, out, sizeof out), -1);
	n = wk_b64_encode("0123456789abcde", 15, ct);
	ck_assert_int_eq(wk_crypto_decrypt(&s, ct, n, out, sizeof out), -1);
	n = wk_b64_encode("0123456789abcdef", 16, ct);
	ck_assert_int_eq(wk_crypto_decrypt(&s, ct, n, out, sizeof out), -1);
	/* A good ciphertext still decrypts after the failures. */
	n = (size_t)wk_crypto_encrypt(&s, "hello", 5, ct, sizeof ct);
	ck_assert_int_eq(wk_crypto_decrypt(&s, ct, n, out, sizeof out), 5);
	ck_assert(memcmp(out, "hello", 5) == 0);
	/* Too small an output buffer. */
	ck_assert_int_eq(wk_crypto_decrypt(&s, ct, n, out, 8), -1);
	ck_assert_int_eq(wk_crypto_encrypt(&s, "hello", 5, ct, 23), -1);
	wk_crypto_session_clear(&s);
	wk_crypto_session_clear(&s);
}
END_TEST

/* Reference msgKey with plain one-shot EVP calls and a built string. */
static void
ref_msgkey(const uint8_t *vs, size_t n, char out[32])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	uint8_t *ct = malloc(n + 32), md[16];
	char *b64 = malloc((n + 32) * 2);
	int l1, l2, bl;
	unsigned mdl;

	ck_assert_int_eq(EVP_EncryptInit_ex(c, EVP_aes_128_cbc(), NULL,
	    (const uint8_t *)aes_key, (const uint8_t *)aes_iv), 1);
	ck_assert_int_eq(EVP_EncryptUpdate(c, ct, &l1, vs, (int)n), 1);
	ck_assert_int_eq(EVP_EncryptFinal_ex(c, ct + l1, &l2), 1);
	bl = EVP_EncodeBlock((unsigned char *)b64, ct, l1 + l2);
	ck_assert_int_eq(EVP_Digest(b64, (size_t)bl, md, &mdl, EVP_md5(), NULL), 1);
	wk_hex(md, 16, out);
	EVP_CIPHER_CTX_free(c);
	free(ct);
	free(b64);
}

/* Long inputs cross the internal chunking; results match one-shot EVP. */
START_TEST(test_crypto_long_inputs_match_reference)
{
	static const size_t lens[] = { 0, 1, 15, 16, 47, 48, 767, 768, 769,
	    1535, 1536, 1537, 5000, 70000 };
	struct wk_crypto_session s;
	uint8_t *in = malloc(70000), *dec = malloc(100000);
	char *out = malloc(100000), *ref = malloc(100000), mk[32], rk[32];

	session(&s);
	ck_assert_int_eq(RAND_bytes(in, 70000), 1);
	for (size_t i = 0; i < NELEM(lens); i++) {
		EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
		uint8_t *ct = malloc(lens[i] + 32);
		int l1, l2, bl;
		ssize_t n;

		n = wk_crypto_encrypt(&s, in, lens[i], out, 100000);
		ck_assert_int_eq(n, (ssize_t)WK_CRYPTO_SEALED_LEN(lens[i]));
		EVP_EncryptInit_ex(c, EVP_aes_128_cbc(), NULL,
		    (const uint8_t *)aes_key, (const uint8_t *)aes_iv);
		EVP_EncryptUpdate(c, ct, &l1, in, (int)lens[i]);
		EVP_EncryptFinal_ex(c, ct + l1, &l2);
		bl = EVP_EncodeBlock((unsigned char *)ref, ct, l1 + l2);
		ck_assert_int_eq(n, bl);
		ck_assert(memcmp(out, ref, (size_t)n) == 0);
		ck_assert_int_eq(wk_crypto_decrypt(&s, out, (size_t)n, dec,
		    100000), (ssize_t)lens[i]);
		ck_assert(memcmp(dec, in, lens[i]) == 0);

		ck_assert_int_eq(wk_crypto_msgkey(&s, in, lens[i], mk), 0);
		ref_msgkey(in, lens[i], rk);
		ck_assert(memcmp(mk, rk, 32) == 0);
		EVP_CIPHER_CTX_free(c);
		free(ct);
	}
	wk_crypto_session_clear(&s);
	free(in);
	free(dec);
	free(out);
	free(ref);
}
END_TEST

/* Negative and extreme integers print as Go's %d does. */
START_TEST(test_crypto_recv_msgkey_integers)
{
	struct wk_crypto_session s;
	struct wkproto_recv r;
	char mk[32], rk[32], vs[256];
	int n;

	session(&s);
	memset(&r, 0, sizeof r);
	r.message_id = INT64_MIN;
	r.message_seq = UINT32_MAX;
	r.client_msg_no = wk_str_of("c");
	r.timestamp = INT32_MIN;
	r.from_uid = wk_str_of("f");
	r.channel_id = wk_str_of("g");
	r.channel_type = 255;
	r.payload.p = (const uint8_t *)"P";
	r.payload.len = 1;
	n = snprintf(vs, sizeof vs, "%lld%u%s%d%s%s%d%s",
	    (long long)INT64_MIN, UINT32_MAX, "c", INT32_MIN, "f", "g", 255, "P");
	ck_assert_int_eq(wk_crypto_msgkey_recv(&s, &r, mk), 0);
	ref_msgkey((const uint8_t *)vs, (size_t)n, rk);
	ck_assert(memcmp(mk, rk, 32) == 0);
	wk_crypto_session_clear(&s);
}
END_TEST

START_TEST(test_crypto_is_equal)
{
	ck_assert(wk_crypto_is_equal("abc", 3, "abc", 3));
	ck_assert(!wk_crypto_is_equal("abc", 3, "abd", 3));
	ck_assert(!wk_crypto_is_equal("abc", 3, "ab", 2));
	ck_assert(wk_crypto_is_equal("", 0, "", 0));
}
END_TEST

/* The server's one-step agreement gives the secret the client derives. */
START_TEST(test_crypto_agree_matches_client)
{
	struct wk_crypto_keypair client;
	uint8_t pub[32], s1[32], s2[32], zero[32] = { 0 };

	for (int i = 0; i < 20; i++) {
		ck_assert_int_eq(wk_crypto_keypair_new(&client), 0);
		ck_assert_int_eq(wk_crypto_agree(client.pub, pub, s1), 0);
		ck_assert_int_eq(wk_crypto_shared(client.priv, pub, s2), 0);
		ck_assert_mem_eq(s1, s2, 32);
	}
	/* A low-order client key (all zero) is refused, not agreed on. */
	ck_assert_int_eq(wk_crypto_agree(zero, pub, s1), -1);
}
END_TEST

static Suite *
crypto_suite(void)
{
	Suite *s = suite_create("crypto");
	TCase *tc = tcase_create("vectors");

	tcase_add_test(tc, test_crypto_example_derivation);
	tcase_add_test(tc, test_crypto_example_send_and_recv);
	tcase_add_loop_test(tc, test_crypto_send_vectors_verify, 0,
	    NELEM(send_files));
	tcase_add_test(tc, test_crypto_batched_sends_verify);
	tcase_add_loop_test(tc, test_crypto_recv_vectors_seal, 0,
	    NELEM(recv_files));
	suite_add_tcase(s, tc);

	tc = tcase_create("primitives");
	tcase_add_test(tc, test_crypto_client_key_rejected);
	tcase_add_test(tc, test_crypto_random_keys_agree);
	tcase_add_test(tc, test_crypto_base64_matches_openssl);
	tcase_add_test(tc, test_crypto_base64_rejects);
	tcase_add_test(tc, test_crypto_decrypt_rejects);
	tcase_add_test(tc, test_crypto_long_inputs_match_reference);
	tcase_add_test(tc, test_crypto_recv_msgkey_integers);
	tcase_add_test(tc, test_crypto_is_equal);
	tcase_add_test(tc, test_crypto_agree_matches_client);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return wkt_run_suite(crypto_suite());
}
