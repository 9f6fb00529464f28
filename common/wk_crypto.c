/* wk_crypto.c - WKProto encryption: X25519 key agreement, AES key/IV
 * derivation, AES-128-CBC/PKCS#7 as base64 text, msgKey (see wk_crypto.h,
 * wkproto(7) ENCRYPTION).  Ciphers, digests and curves are OpenSSL EVP;
 * only base64 and decimal formatting are done here. */
#include <pthread.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include "wk_crypto.h"

/* Algorithms fetched once: implicit fetches on every init are slow. */
static pthread_once_t	 algs_once = PTHREAD_ONCE_INIT;
static EVP_MD		*alg_md5;
static EVP_CIPHER	*alg_aes;

/* pthread_once body: fetch MD5 and AES-128-CBC from the default provider. */
static void
algs_fetch(void)
{
	alg_md5 = EVP_MD_fetch(NULL, "MD5", NULL);
	alg_aes = EVP_CIPHER_fetch(NULL, "AES-128-CBC", NULL);
}

/* 0 once the algorithms are fetched; -1 if the OpenSSL provider lacks one. */
static int
algs(void)
{
	pthread_once(&algs_once, algs_fetch);
	return alg_md5 != NULL && alg_aes != NULL ? 0 : -1;
}

/*
 * Base64 and hex.
 */
static const char b64_enc[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Character -> 6-bit value; 0x80 marks anything outside the alphabet
 * (including '=', which the decoder handles at the end only). */
static const uint8_t b64_dec[256] = {
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x3e, 0x80, 0x80, 0x80, 0x3f,
	0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
	0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12,
	0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24,
	0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30,
	0x31, 0x32, 0x33, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80,
};

/* Standard padded base64 (RFC 4648) of n bytes; out needs
 * WK_B64_ENCODED_LEN(n) bytes, no NUL is written; returns the length. */
size_t
wk_b64_encode(const void *in, size_t n, char *out)
{
	const uint8_t *p = in;
	char *w = out;
	uint32_t v;

	for (; n >= 3; n -= 3, p += 3) {
		v = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
		w[0] = b64_enc[v >> 18];
		w[1] = b64_enc[(v >> 12) & 63];
		w[2] = b64_enc[(v >> 6) & 63];
		w[3] = b64_enc[v & 63];
		w += 4;
	}
	if (n > 0) {
		v = (uint32_t)p[0] << 16 | (n > 1 ? (uint32_t)p[1] << 8 : 0);
		w[0] = b64_enc[v >> 18];
		w[1] = b64_enc[(v >> 12) & 63];
		w[2] = n > 1 ? b64_enc[(v >> 6) & 63] : '=';
		w[3] = '=';
		w += 4;
	}
	return (size_t)(w - out);
}

/* Strict padded base64: the length must be a multiple of 4 and '=' may only
 * end the text; anything else is -1, as is output that would pass cap. */
ssize_t
wk_b64_decode(const char *in, size_t n, uint8_t *out, size_t cap)
{
	const uint8_t *p = (const uint8_t *)in;
	size_t pad = 0, len, i;
	uint8_t *w = out;
	unsigned a, b, c, d;

	if (n % 4 != 0)
		return -1;
	if (n == 0)
		return 0;
	if (p[n - 1] == '=')
		pad = p[n - 2] == '=' ? 2 : 1;
	len = n / 4 * 3 - pad;
	if (len > cap)
		return -1;
	/* All quads but the last have no padding. */
	for (i = 0; i + 4 < n; i += 4) {
		a = b64_dec[p[i]];
		b = b64_dec[p[i + 1]];
		c = b64_dec[p[i + 2]];
		d = b64_dec[p[i + 3]];
		if ((a | b | c | d) & 0x80)
			return -1;
		w[0] = (uint8_t)(a << 2 | b >> 4);
		w[1] = (uint8_t)(b << 4 | c >> 2);
		w[2] = (uint8_t)(c << 6 | d);
		w += 3;
	}
	a = b64_dec[p[i]];
	b = b64_dec[p[i + 1]];
	c = pad == 2 ? 0 : b64_dec[p[i + 2]];
	d = pad >= 1 ? 0 : b64_dec[p[i + 3]];
	if ((a | b | c | d) & 0x80)
		return -1;
	*w++ = (uint8_t)(a << 2 | b >> 4);
	if (pad < 2)
		*w++ = (uint8_t)(b << 4 | c >> 2);
	if (pad < 1)
		*w++ = (uint8_t)(c << 6 | d);
	return (ssize_t)(w - out);
}

/* Lower-case hex of n bytes into out (2n characters, no NUL). */
void
wk_hex(const void *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *p = in;

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
}

/* Constant-time comparison (CRYPTO_memcmp): a msgKey check must not leak
 * how many leading characters of a forged key were right. */
int
wk_crypto_is_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	return alen == blen && CRYPTO_memcmp(a, b, alen) == 0;
}

/*
 * Key agreement.
 */
/* Copy an X25519 key's raw private and public halves into kp. */
static int
raw_keys(EVP_PKEY *pk, struct wk_crypto_keypair *kp)
{
	size_t plen = WK_CRYPTO_KEY_LEN, qlen = WK_CRYPTO_KEY_LEN;

	if (EVP_PKEY_get_raw_private_key(pk, kp->priv, &plen) != 1 ||
	    EVP_PKEY_get_raw_public_key(pk, kp->pub, &qlen) != 1 ||
	    plen != WK_CRYPTO_KEY_LEN || qlen != WK_CRYPTO_KEY_LEN)
		return -1;
	return 0;
}

/* A fresh X25519 key pair (the client's side: test client, wkbench). */
int
wk_crypto_keypair_new(struct wk_crypto_keypair *kp)
{
	EVP_PKEY *pk;
	int rc;

	if ((pk = EVP_PKEY_Q_keygen(NULL, NULL, "X25519")) == NULL)
		return -1;
	rc = raw_keys(pk, kp);
	EVP_PKEY_free(pk);
	return rc;
}

/* The key pair of a given private key (tests with fixed vectors). */
int
wk_crypto_keypair_from(struct wk_crypto_keypair *kp,
    const uint8_t priv[WK_CRYPTO_KEY_LEN])
{
	EVP_PKEY *pk;
	int rc;

	pk = EVP_PKEY_new_raw_private_key_ex(NULL, "X25519", NULL, priv,
	    WK_CRYPTO_KEY_LEN);
	if (pk == NULL)
		return -1;
	rc = raw_keys(pk, kp);
	EVP_PKEY_free(pk);
	return rc;
}

/* X25519 of an EVP private key and a raw peer key into out. */
static int
derive(EVP_PKEY *pk, const uint8_t peer[WK_CRYPTO_KEY_LEN], uint8_t out[WK_CRYPTO_KEY_LEN])
{
	EVP_PKEY *pp;
	EVP_PKEY_CTX *ctx = NULL;
	size_t len = WK_CRYPTO_KEY_LEN;
	int rc = -1;

	pp = EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, peer, WK_CRYPTO_KEY_LEN);
	if (pp == NULL)
		goto out;
	/* OpenSSL refuses an all-zero secret (a low-order peer key). */
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL)) == NULL ||
	    EVP_PKEY_derive_init(ctx) != 1 ||
	    EVP_PKEY_derive_set_peer(ctx, pp) != 1 ||
	    EVP_PKEY_derive(ctx, out, &len) != 1 || len != WK_CRYPTO_KEY_LEN)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		ERR_clear_error();
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pp);
	return rc;
}

/* The X25519 shared secret of our private key and the peer's public key. */
int
wk_crypto_shared(const uint8_t priv[WK_CRYPTO_KEY_LEN],
    const uint8_t peer[WK_CRYPTO_KEY_LEN], uint8_t out[WK_CRYPTO_KEY_LEN])
{
	EVP_PKEY *pk;
	int rc;

	pk = EVP_PKEY_new_raw_private_key_ex(NULL, "X25519", NULL, priv, WK_CRYPTO_KEY_LEN);
	if (pk == NULL) {
		ERR_clear_error();
		return -1;
	}
	rc = derive(pk, peer, out);
	EVP_PKEY_free(pk);
	return rc;
}

/* The server's half of CONNECT: a one-off key pair, its public half for
 * CONNACK and the shared secret with the client's key (wkproto(7)). */
int
wk_crypto_agree(const uint8_t peer[WK_CRYPTO_KEY_LEN], uint8_t pub[WK_CRYPTO_KEY_LEN],
    uint8_t shared[WK_CRYPTO_KEY_LEN])
{
	size_t len = WK_CRYPTO_KEY_LEN;
	EVP_PKEY *pk;
	int rc = -1;

	/* The generated key is used as it is: importing its raw private half
	 * again would cost one more scalar multiplication per connection. */
	if ((pk = EVP_PKEY_Q_keygen(NULL, NULL, "X25519")) == NULL)
		return -1;
	if (EVP_PKEY_get_raw_public_key(pk, pub, &len) == 1 && len == WK_CRYPTO_KEY_LEN)
		rc = derive(pk, peer, shared);
	EVP_PKEY_free(pk);
	return rc;
}

/* The client's base64 public key from CONNECT; anything but 32 bytes is -1. */
int
wk_crypto_decode_key(const char *b64, size_t len,
    uint8_t out[WK_CRYPTO_KEY_LEN])
{
	uint8_t buf[WK_B64_DECODED_MAX(WK_CRYPTO_KEY_B64_LEN)];

	/* 32 bytes are exactly 44 characters with one '='. */
	if (len != WK_CRYPTO_KEY_B64_LEN ||
	    wk_b64_decode(b64, len, buf, sizeof buf) != WK_CRYPTO_KEY_LEN)
		return -1;
	memcpy(out, buf, WK_CRYPTO_KEY_LEN);
	return 0;
}

/* The AES key as the reference makes it: the first 16 hex characters of
 * MD5(base64(shared)), used as 16 ASCII bytes (wkproto(7) ENCRYPTION). */
int
wk_crypto_derive_key(const uint8_t shared[WK_CRYPTO_KEY_LEN],
    char aes_key[WK_CRYPTO_AES_LEN])
{
	char b64[WK_CRYPTO_KEY_B64_LEN], hex[32];
	unsigned char md[16];
	unsigned int mdlen = 0;

	if (algs() != 0)
		return -1;
	wk_b64_encode(shared, WK_CRYPTO_KEY_LEN, b64);
	if (EVP_Digest(b64, sizeof b64, md, &mdlen, alg_md5, NULL) != 1 ||
	    mdlen != sizeof md)
		return -1;
	wk_hex(md, sizeof md, hex);
	memcpy(aes_key, hex, WK_CRYPTO_AES_LEN);
	return 0;
}

/* The 16-character alphanumeric salt sent in CONNACK; it is also the IV. */
int
wk_crypto_salt(char salt[WK_CRYPTO_SALT_LEN])
{
	static const char alnum[] =
	    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
	uint8_t r[32];
	size_t n = 0;

	/* Rejection sampling: 248 = 4 * 62, so b % 62 is uniform below it. */
	while (n < WK_CRYPTO_SALT_LEN) {
		if (RAND_bytes(r, sizeof r) != 1)
			return -1;
		for (size_t i = 0; i < sizeof r && n < WK_CRYPTO_SALT_LEN; i++)
			if (r[i] < 248)
				salt[n++] = alnum[r[i] % 62];
	}
	return 0;
}

/*
 * Sessions.
 */
/* Set up a connection's cipher contexts once; every message then only
 * re-initialises them with the same key and IV (the protocol uses one IV
 * for the whole connection), which is far cheaper than a new context. */
int
wk_crypto_session_init(struct wk_crypto_session *s,
    const char key[WK_CRYPTO_AES_LEN], const char iv[WK_CRYPTO_AES_LEN])
{
	memset(s, 0, sizeof *s);
	if (algs() != 0)
		return -1;
	memcpy(s->key, key, WK_CRYPTO_AES_LEN);
	memcpy(s->iv, iv, WK_CRYPTO_AES_LEN);
	if ((s->enc = EVP_CIPHER_CTX_new()) == NULL ||
	    (s->dec = EVP_CIPHER_CTX_new()) == NULL ||
	    (s->md = EVP_MD_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex2(s->enc, alg_aes, s->key, s->iv, NULL) != 1 ||
	    EVP_DecryptInit_ex2(s->dec, alg_aes, s->key, s->iv, NULL) != 1) {
		wk_crypto_session_clear(s);
		return -1;
	}
	return 0;
}

/* Free the contexts and wipe the key material from memory. */
void
wk_crypto_session_clear(struct wk_crypto_session *s)
{
	EVP_CIPHER_CTX_free(s->enc);
	EVP_CIPHER_CTX_free(s->dec);
	EVP_MD_CTX_free(s->md);
	OPENSSL_cleanse(s, sizeof *s);
	s->enc = s->dec = NULL;
	s->md = NULL;
}

/* Encrypt chunks of a multiple of 48 bytes (AES blocks that base64 without
 * padding), so the text can be produced piece by piece on the stack. */
#define CHUNK	768

/* AES-128-CBC/PKCS#7 of in, written as base64 text into out (cap at least
 * WK_CRYPTO_SEALED_LEN(n)); the text length, or -1. */
ssize_t
wk_crypto_encrypt(struct wk_crypto_session *s, const void *in, size_t n,
    char *out, size_t cap)
{
	const uint8_t *p = in;
	uint8_t ct[CHUNK + 16];
	char *w = out;
	int l, l2;

	if (cap < WK_CRYPTO_SEALED_LEN(n) ||
	    EVP_EncryptInit_ex2(s->enc, NULL, NULL, s->iv, NULL) != 1)
		return -1;
	for (; n > CHUNK; n -= CHUNK, p += CHUNK) {
		if (EVP_EncryptUpdate(s->enc, ct, &l, p, CHUNK) != 1)
			return -1;
		w += wk_b64_encode(ct, (size_t)l, w);
	}
	if (EVP_EncryptUpdate(s->enc, ct, &l, p, (int)n) != 1 ||
	    EVP_EncryptFinal_ex(s->enc, ct + l, &l2) != 1)
		return -1;
	w += wk_b64_encode(ct, (size_t)(l + l2), w);
	return w - out;
}

/* The reverse: base64 text to plaintext in out; -1 on bad base64, a length
 * that is not whole blocks, or bad padding (a wrong key shows up here). */
ssize_t
wk_crypto_decrypt(struct wk_crypto_session *s, const char *in, size_t n,
    uint8_t *out, size_t cap)
{
	ssize_t len;
	int l, l2;

	/* Decode into out, then decrypt in place (EVP allows in == out). */
	if (n > INT32_MAX || (len = wk_b64_decode(in, n, out, cap)) <= 0 ||
	    len % 16 != 0)
		return -1;
	if (EVP_DecryptInit_ex2(s->dec, NULL, NULL, s->iv, NULL) != 1 ||
	    EVP_DecryptUpdate(s->dec, out, &l, out, (int)len) != 1 ||
	    EVP_DecryptFinal_ex(s->dec, out + l, &l2) != 1) {
		ERR_clear_error();
		return -1;
	}
	return l + l2;
}

/*
 * msgKey = hex(MD5(base64(AES(verify)))).  The verify string is never
 * built: its pieces go through a small plaintext buffer into the cipher,
 * whose output is base64-encoded three bytes at a time into the digest.
 */
struct mk {
	struct wk_crypto_session *s;
	size_t	 ptn;		/* plaintext bytes buffered */
	size_t	 ctn;		/* ciphertext bytes held back (< 3) */
	int	 err;
	uint8_t	 pt[CHUNK];
	uint8_t	 ct[3 + CHUNK + 16];
	char	 b64[WK_B64_ENCODED_LEN(3 + CHUNK + 16)];
};

/* Push the buffered plaintext through AES, base64 and MD5. */
static void
mk_flush(struct mk *m, int final)
{
	size_t whole, nb;
	int l = 0, l2 = 0;

	if (m->err)
		return;
	if (EVP_EncryptUpdate(m->s->enc, m->ct + m->ctn, &l, m->pt,
	    (int)m->ptn) != 1 || (final &&
	    EVP_EncryptFinal_ex(m->s->enc, m->ct + m->ctn + l, &l2) != 1)) {
		m->err = 1;
		return;
	}
	m->ptn = 0;
	m->ctn += (size_t)(l + l2);
	whole = final ? m->ctn : m->ctn - m->ctn % 3;
	nb = wk_b64_encode(m->ct, whole, m->b64);
	if (EVP_DigestUpdate(m->s->md, m->b64, nb) != 1)
		m->err = 1;
	memmove(m->ct, m->ct + whole, m->ctn - whole);
	m->ctn -= whole;
}

/* Append plaintext, pushing full buffers through the cipher. */
static void
mk_put(struct mk *m, const void *data, size_t n)
{
	const uint8_t *p = data;
	size_t k;

	while (n > 0) {
		k = sizeof m->pt - m->ptn;
		if (k > n)
			k = n;
		memcpy(m->pt + m->ptn, p, k);
		m->ptn += k;
		p += k;
		n -= k;
		if (m->ptn == sizeof m->pt)
			mk_flush(m, 0);
	}
}

/* Decimal, as Go's %d prints it. */
static void
mk_int(struct mk *m, int64_t v)
{
	char buf[24], *e = buf + sizeof buf, *q = e;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do {
		*--q = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--q = '-';
	mk_put(m, q, (size_t)(e - q));
}

/* A string field, as its bytes (the verify string has no separators). */
static void
mk_str(struct mk *m, struct wk_str s)
{
	mk_put(m, s.p, s.len);
}

/* Restart the session's cipher (same key and IV) and a fresh MD5. */
static int
mk_begin(struct mk *m, struct wk_crypto_session *s)
{
	m->s = s;
	m->ptn = m->ctn = 0;
	m->err = 0;
	if (EVP_EncryptInit_ex2(s->enc, NULL, NULL, s->iv, NULL) != 1 ||
	    EVP_DigestInit_ex2(s->md, alg_md5, NULL) != 1)
		return -1;
	return 0;
}

/* Pad and flush the last block, finish MD5, write its 32 hex characters. */
static int
mk_end(struct mk *m, char out[WK_CRYPTO_MSGKEY_LEN])
{
	unsigned char md[16];
	unsigned int mdlen = 0;

	mk_flush(m, 1);
	if (m->err || EVP_DigestFinal_ex(m->s->md, md, &mdlen) != 1 ||
	    mdlen != sizeof md)
		return -1;
	wk_hex(md, sizeof md, out);
	return 0;
}

/* msgKey of an already built verify string (tests, vectors). */
int
wk_crypto_msgkey(struct wk_crypto_session *s, const void *verify, size_t n,
    char out[WK_CRYPTO_MSGKEY_LEN])
{
	struct mk m;

	if (mk_begin(&m, s) != 0)
		return -1;
	mk_put(&m, verify, n);
	return mk_end(&m, out);
}

/* msgKey of a SEND: client seq, client msg no, channel id, channel type,
 * payload (as base64 text, as on the wire; wkproto(7)). */
int
wk_crypto_msgkey_send(struct wk_crypto_session *s,
    const struct wkproto_send *p, char out[WK_CRYPTO_MSGKEY_LEN])
{
	struct mk m;

	if (mk_begin(&m, s) != 0)
		return -1;
	mk_int(&m, p->client_seq);
	mk_str(&m, p->client_msg_no);
	mk_str(&m, p->channel_id);
	mk_int(&m, p->channel_type);
	mk_put(&m, p->payload.p, p->payload.len);
	return mk_end(&m, out);
}

/* msgKey of a RECV: message id, seq, client msg no, timestamp, from uid,
 * channel id, channel type, payload (base64 text as on the wire). */
int
wk_crypto_msgkey_recv(struct wk_crypto_session *s,
    const struct wkproto_recv *p, char out[WK_CRYPTO_MSGKEY_LEN])
{
	struct mk m;

	if (mk_begin(&m, s) != 0)
		return -1;
	mk_int(&m, p->message_id);
	mk_int(&m, p->message_seq);
	mk_str(&m, p->client_msg_no);
	mk_int(&m, p->timestamp);
	mk_str(&m, p->from_uid);
	mk_str(&m, p->channel_id);
	mk_int(&m, p->channel_type);
	mk_put(&m, p->payload.p, p->payload.len);
	return mk_end(&m, out);
}

/* 0 if a SEND's msg_key matches its fields (compared in constant time);
 * the broker answers a mismatch with SENDACK reason 9 (wkproto(7)). */
int
wk_crypto_verify_send(struct wk_crypto_session *s,
    const struct wkproto_send *p)
{
	char key[WK_CRYPTO_MSGKEY_LEN];

	if (wk_crypto_msgkey_send(s, p, key) != 0)
		return -1;
	return wk_crypto_is_equal(key, sizeof key, p->msg_key.p,
	    p->msg_key.len) ? 0 : -1;
}

/* The same check on a RECV (the test client and wkbench verify theirs). */
int
wk_crypto_verify_recv(struct wk_crypto_session *s,
    const struct wkproto_recv *p)
{
	char key[WK_CRYPTO_MSGKEY_LEN];

	if (wk_crypto_msgkey_recv(s, p, key) != 0)
		return -1;
	return wk_crypto_is_equal(key, sizeof key, p->msg_key.p,
	    p->msg_key.len) ? 0 : -1;
}
