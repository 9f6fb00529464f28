/* wk_crypto.h - WKProto encryption (wkproto(7), ENCRYPTION): X25519 key
 * agreement, the AES key/IV derivation, AES-128-CBC/PKCS#7 payloads as
 * base64 text, and the SEND/RECV msgKey.  OpenSSL libcrypto (EVP) only.
 *
 * A connection owns one struct wk_crypto_session: it holds the key, the
 * IV and reusable cipher and digest contexts, so nothing is allocated per
 * message.  A session is not thread-safe; one thread per session. */
#ifndef WK_CRYPTO_H
#define WK_CRYPTO_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "wkproto.h"

#define WK_CRYPTO_KEY_LEN	32	/* X25519 public, private and shared */
#define WK_CRYPTO_KEY_B64_LEN	44	/* base64 of a 32-byte key */
#define WK_CRYPTO_AES_LEN	16	/* AES-128 key and IV (ASCII) */
#define WK_CRYPTO_SALT_LEN	16
#define WK_CRYPTO_MSGKEY_LEN	32	/* lowercase hex MD5 */

struct wk_crypto_keypair {
	uint8_t	priv[WK_CRYPTO_KEY_LEN];
	uint8_t	pub[WK_CRYPTO_KEY_LEN];
};

/* Opaque to users; the fields are here so a session can be embedded. */
struct wk_crypto_session {
	uint8_t			 key[WK_CRYPTO_AES_LEN];
	uint8_t			 iv[WK_CRYPTO_AES_LEN];
	struct evp_cipher_ctx_st *enc;	/* EVP_CIPHER_CTX, keyed once */
	struct evp_cipher_ctx_st *dec;
	struct evp_md_ctx_st	*md;	/* EVP_MD_CTX for MD5 */
};

/*
 * Base64, standard alphabet with padding (what the wire carries).
 */
/* Length of the base64 text for n bytes. */
#define WK_B64_ENCODED_LEN(n)	((((size_t)(n) + 2) / 3) * 4)
/* Upper bound of the bytes decoded from n characters. */
#define WK_B64_DECODED_MAX(n)	(((size_t)(n) / 4) * 3)
/* Encode n bytes; writes WK_B64_ENCODED_LEN(n) chars (no NUL), returns it. */
size_t wk_b64_encode(const void *in, size_t n, char *out);
/* Decode strictly: length a multiple of 4, '=' only as 1 or 2 final pad
 * characters, no whitespace.  Returns the byte count or -1. */
ssize_t wk_b64_decode(const char *in, size_t n, uint8_t *out, size_t cap);

/*
 * Key agreement.
 */
/* A fresh random X25519 key pair. */
int wk_crypto_keypair_new(struct wk_crypto_keypair *kp);
/* The key pair of a given private key (clients, tests). */
int wk_crypto_keypair_from(struct wk_crypto_keypair *kp,
    const uint8_t priv[WK_CRYPTO_KEY_LEN]);
/* X25519(priv, peer); -1 also for a low-order peer key (zero secret). */
int wk_crypto_shared(const uint8_t priv[WK_CRYPTO_KEY_LEN],
    const uint8_t peer[WK_CRYPTO_KEY_LEN], uint8_t out[WK_CRYPTO_KEY_LEN]);
/* The server's side in one step: a fresh key pair, its public half in pub
 * and X25519(new private, peer) in shared; -1 also for a low-order peer. */
int wk_crypto_agree(const uint8_t peer[WK_CRYPTO_KEY_LEN], uint8_t pub[WK_CRYPTO_KEY_LEN],
    uint8_t shared[WK_CRYPTO_KEY_LEN]);
/* Decode CONNECT.clientKey (or CONNACK.serverKey): -1 unless it is valid
 * base64 of exactly 32 bytes. */
int wk_crypto_decode_key(const char *b64, size_t len,
    uint8_t out[WK_CRYPTO_KEY_LEN]);
/* aesKey = first 16 chars of lowercase hex MD5(base64(shared)). */
int wk_crypto_derive_key(const uint8_t shared[WK_CRYPTO_KEY_LEN],
    char aes_key[WK_CRYPTO_AES_LEN]);
/* A random salt (the IV) of 16 chars from [0-9a-zA-Z]. */
int wk_crypto_salt(char salt[WK_CRYPTO_SALT_LEN]);

/*
 * Sessions.
 */
/* Set up a session with the 16-byte ASCII key and IV; 0 or -1. */
int wk_crypto_session_init(struct wk_crypto_session *s,
    const char key[WK_CRYPTO_AES_LEN], const char iv[WK_CRYPTO_AES_LEN]);
/* Free the contexts and wipe the key; safe on a zeroed or cleared session. */
void wk_crypto_session_clear(struct wk_crypto_session *s);

/* Length of the base64 ciphertext of n plaintext bytes. */
#define WK_CRYPTO_SEALED_LEN(n)	WK_B64_ENCODED_LEN(((size_t)(n) / 16 + 1) * 16)
/* Encrypt n bytes to base64 text in out (cap >= WK_CRYPTO_SEALED_LEN(n));
 * returns the text length or -1. */
ssize_t wk_crypto_encrypt(struct wk_crypto_session *s, const void *in,
    size_t n, char *out, size_t cap);
/* Decrypt base64 text to out (cap >= WK_B64_DECODED_MAX(n) is always
 * enough); returns the plaintext length or -1 (bad base64, bad length,
 * bad padding). */
ssize_t wk_crypto_decrypt(struct wk_crypto_session *s, const char *in,
    size_t n, uint8_t *out, size_t cap);

/* msgKey of an arbitrary verify string. */
int wk_crypto_msgkey(struct wk_crypto_session *s, const void *verify,
    size_t n, char out[WK_CRYPTO_MSGKEY_LEN]);
/* msgKey of a SEND: clientSeq clientMsgNo channelID channelType payload. */
int wk_crypto_msgkey_send(struct wk_crypto_session *s,
    const struct wkproto_send *p, char out[WK_CRYPTO_MSGKEY_LEN]);
/* msgKey of a RECV: messageID messageSeq clientMsgNo timestamp fromUID
 * channelID channelType payload. */
int wk_crypto_msgkey_recv(struct wk_crypto_session *s,
    const struct wkproto_recv *p, char out[WK_CRYPTO_MSGKEY_LEN]);
/* 0 if the SEND's msgKey is right (constant-time compare), else -1. */
int wk_crypto_verify_send(struct wk_crypto_session *s,
    const struct wkproto_send *p);
/* 0 if the RECV's msgKey is right, else -1 (clients). */
int wk_crypto_verify_recv(struct wk_crypto_session *s,
    const struct wkproto_recv *p);

/* 1 if two byte strings are equal (constant time in the content; the
 * lengths are not secret and are compared first), else 0. */
int wk_crypto_is_equal(const void *a, size_t alen, const void *b, size_t blen);
/* Lowercase hex of n bytes into out (2n chars, no NUL). */
void wk_hex(const void *in, size_t n, char *out);

#endif
