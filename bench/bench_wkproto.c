/* bench_wkproto.c - figures for the WKProto codec and its crypto, one core:
 * decode+encode of SEND and RECV with 128-byte payloads (target >= 5M/s),
 * decrypt+verify of one SEND plus encrypt+sign of one RECV (target >=
 * 300k messages/s), and two comparisons made in the same run: base64 by
 * table vs OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock, and the per-session
 * streamed msgKey vs a naive one (build the string, fresh contexts).
 * Prints the median of several runs.  Not a test: it asserts nothing
 * about time.  Usage: bench_wkproto [runs] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/evp.h>
#include "wkproto.h"
#include "wk_crypto.h"

#define PAYLOAD	128

static volatile uint64_t sink;
static int runs = 7;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Run fn(iters) `runs` times; return the median rate in ops/s. */
static double
measure(void (*fn)(void *, long), void *arg, long iters)
{
	double rate[32], t;
	int i;

	fn(arg, iters / 10 + 1);	/* warm up */
	for (i = 0; i < runs; i++) {
		t = now();
		fn(arg, iters);
		rate[i] = iters / (now() - t);
	}
	qsort(rate, (size_t)runs, sizeof rate[0], cmp_double);
	return rate[runs / 2];
}

static void
report(const char *what, double rate, const char *unit)
{
	if (rate >= 1e6)
		printf("  %-46s %8.2f M%s/s  (%6.1f ns each)\n", what, rate / 1e6,
		    unit, 1e9 / rate);
	else
		printf("  %-46s %8.1f k%s/s  (%6.1f ns each)\n", what, rate / 1e3,
		    unit, 1e9 / rate);
}

/*
 * Codec.
 */
struct codec_arg {
	uint8_t		in[512];
	size_t		len;
	int		version;
};

static void
run_decode_encode(void *a, long n)
{
	struct codec_arg *c = a;
	struct wkproto_packet p;
	uint8_t out[512];
	size_t used;
	uint64_t acc = 0;

	for (long i = 0; i < n; i++) {
		if (wkproto_decode(c->in, c->len, c->version, &p, &used) != 0)
			abort();
		acc += (uint64_t)wkproto_encode(&p, c->version, out, sizeof out);
	}
	sink += acc;
}

static void
run_decode(void *a, long n)
{
	struct codec_arg *c = a;
	struct wkproto_packet p;
	size_t used;
	uint64_t acc = 0;

	for (long i = 0; i < n; i++) {
		if (wkproto_decode(c->in, c->len, c->version, &p, &used) != 0)
			abort();
		acc += used + p.type;
	}
	sink += acc;
}

/* A SEND and a RECV as a v5 client and server would write them. */
static void
make_packets(struct codec_arg *send, struct codec_arg *recv, int version)
{
	static uint8_t payload[256];
	struct wkproto_packet p;

	memset(payload, 'p', sizeof payload);
	memset(&p, 0, sizeof p);
	p.type = WKPROTO_SEND;
	p.flags = WKPROTO_FLAG_REDDOT;
	p.send.client_seq = 12345;
	p.send.client_msg_no = wk_str_of("c2bba94263dca0f5b6877f1af1b021a7_0_3");
	p.send.channel_id = wk_str_of("user456");
	p.send.channel_type = WKPROTO_CHANNEL_PERSON;
	p.send.msg_key = wk_str_of("2da5879a03bcb3c6fd20fd1e4497eb26");
	p.send.payload.p = payload;
	p.send.payload.len = PAYLOAD;
	send->version = recv->version = version;
	send->len = (size_t)wkproto_encode(&p, version, send->in, sizeof send->in);

	memset(&p, 0, sizeof p);
	p.type = WKPROTO_RECV;
	p.flags = WKPROTO_FLAG_REDDOT;
	p.recv.msg_key = wk_str_of("bf31e4c31c24125e6f58ad3997f7ebd7");
	p.recv.from_uid = wk_str_of("user123");
	p.recv.channel_id = wk_str_of("user123");
	p.recv.channel_type = WKPROTO_CHANNEL_PERSON;
	p.recv.client_msg_no = wk_str_of("c2bba94263dca0f5b6877f1af1b021a7_0_3");
	p.recv.message_id = 1700000000123456889;
	p.recv.message_seq = 8;
	p.recv.timestamp = 1700000001;
	p.recv.payload.p = payload;
	p.recv.payload.len = PAYLOAD;
	recv->len = (size_t)wkproto_encode(&p, version, recv->in, sizeof recv->in);
}

/*
 * Crypto: what the broker does per message.
 */
struct crypto_arg {
	struct wk_crypto_session sender, receiver;
	uint8_t		send_pkt[512];
	size_t		send_len;
	uint8_t		plain[PAYLOAD];
};

/* Server side of one message: decode the SEND, verify its msgKey, decrypt
 * it; encrypt the payload for a receiver, sign and encode the RECV. */
static void
run_broker_crypto(void *a, long n)
{
	struct crypto_arg *c = a;
	struct wkproto_packet p, r;
	uint8_t plain[256], out[512];
	char wire[256], mk[WK_CRYPTO_MSGKEY_LEN];
	size_t used;
	ssize_t pl, wl;
	uint64_t acc = 0;

	for (long i = 0; i < n; i++) {
		if (wkproto_decode(c->send_pkt, c->send_len, 5, &p, &used) != 0 ||
		    wk_crypto_verify_send(&c->sender, &p.send) != 0)
			abort();
		pl = wk_crypto_decrypt(&c->sender, (const char *)p.send.payload.p,
		    p.send.payload.len, plain, sizeof plain);
		if (pl != PAYLOAD)
			abort();
		memset(&r, 0, sizeof r);
		r.type = WKPROTO_RECV;
		r.flags = p.flags;
		r.recv.setting = p.send.setting;
		r.recv.from_uid = wk_str_of("user123");
		r.recv.channel_id = r.recv.from_uid;
		r.recv.channel_type = p.send.channel_type;
		r.recv.client_msg_no = p.send.client_msg_no;
		r.recv.message_id = 1700000000123456889 + i;
		r.recv.message_seq = (uint32_t)i;
		r.recv.timestamp = 1700000001;
		wl = wk_crypto_encrypt(&c->receiver, plain, (size_t)pl, wire,
		    sizeof wire);
		r.recv.payload.p = (const uint8_t *)wire;
		r.recv.payload.len = (size_t)wl;
		if (wl < 0 || wk_crypto_msgkey_recv(&c->receiver, &r.recv, mk) != 0)
			abort();
		r.recv.msg_key = wk_str_n(mk, sizeof mk);
		acc += (uint64_t)wkproto_encode(&r, 5, out, sizeof out);
	}
	sink += acc;
}

static void
run_verify_only(void *a, long n)
{
	struct crypto_arg *c = a;
	struct wkproto_packet p;
	size_t used;

	for (long i = 0; i < n; i++)
		if (wkproto_decode(c->send_pkt, c->send_len, 5, &p, &used) != 0 ||
		    wk_crypto_verify_send(&c->sender, &p.send) != 0)
			abort();
}

static void
run_decrypt_only(void *a, long n)
{
	struct crypto_arg *c = a;
	struct wkproto_packet p;
	uint8_t plain[256];
	size_t used;

	wkproto_decode(c->send_pkt, c->send_len, 5, &p, &used);
	for (long i = 0; i < n; i++)
		if (wk_crypto_decrypt(&c->sender, (const char *)p.send.payload.p,
		    p.send.payload.len, plain, sizeof plain) != PAYLOAD)
			abort();
}

static void
run_encrypt_only(void *a, long n)
{
	struct crypto_arg *c = a;
	char wire[256];
	uint64_t acc = 0;

	for (long i = 0; i < n; i++)
		acc += (uint64_t)wk_crypto_encrypt(&c->receiver, c->plain, PAYLOAD,
		    wire, sizeof wire);
	sink += acc;
}

/* The naive msgKey: format the string, new contexts, one-shot calls. */
static void
run_msgkey_naive(void *a, long n)
{
	struct crypto_arg *c = a;
	struct wkproto_packet p;
	char vs[1024], b64[2048];
	uint8_t ct[1024], md[16];
	size_t used;
	int len, l1, l2, bl;
	unsigned mdl;

	wkproto_decode(c->send_pkt, c->send_len, 5, &p, &used);
	for (long i = 0; i < n; i++) {
		EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();

		len = snprintf(vs, sizeof vs, "%u%.*s%.*s%u%.*s",
		    p.send.client_seq, p.send.client_msg_no.len,
		    p.send.client_msg_no.p, p.send.channel_id.len,
		    p.send.channel_id.p, p.send.channel_type,
		    (int)p.send.payload.len, (const char *)p.send.payload.p);
		EVP_EncryptInit_ex(x, EVP_aes_128_cbc(), NULL,
		    (const uint8_t *)"0b5e04be2d748c15",
		    (const uint8_t *)"A1b2C3d4E5f6G7h8");
		EVP_EncryptUpdate(x, ct, &l1, (uint8_t *)vs, len);
		EVP_EncryptFinal_ex(x, ct + l1, &l2);
		bl = EVP_EncodeBlock((unsigned char *)b64, ct, l1 + l2);
		EVP_Digest(b64, (size_t)bl, md, &mdl, EVP_md5(), NULL);
		EVP_CIPHER_CTX_free(x);
		sink += md[0];
	}
}

/*
 * Base64: table vs OpenSSL.
 */
struct b64_arg {
	uint8_t	bin[144];	/* the ciphertext of a 128-byte payload */
	char	txt[WK_B64_ENCODED_LEN(144) + 1];
};

static void
run_b64_enc_table(void *a, long n)
{
	struct b64_arg *b = a;
	char out[256];

	for (long i = 0; i < n; i++)
		sink += wk_b64_encode(b->bin, sizeof b->bin, out) + (uint8_t)out[7];
}

static void
run_b64_enc_evp(void *a, long n)
{
	struct b64_arg *b = a;
	char out[256];

	for (long i = 0; i < n; i++)
		sink += (uint64_t)EVP_EncodeBlock((unsigned char *)out, b->bin,
		    sizeof b->bin) + (uint8_t)out[7];
}

static void
run_b64_dec_table(void *a, long n)
{
	struct b64_arg *b = a;
	uint8_t out[256];

	for (long i = 0; i < n; i++)
		sink += (uint64_t)wk_b64_decode(b->txt, sizeof b->txt - 1, out,
		    sizeof out) + out[5];
}

static void
run_b64_dec_evp(void *a, long n)
{
	struct b64_arg *b = a;
	uint8_t out[256];

	/* EVP_DecodeBlock does not strip padding; callers must. */
	for (long i = 0; i < n; i++)
		sink += (uint64_t)EVP_DecodeBlock(out,
		    (const unsigned char *)b->txt, sizeof b->txt - 1) + out[5];
}

static void
cpu_name(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256], *c;

	snprintf(buf, len, "unknown CPU");
	if (f == NULL)
		return;
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, "model name", 10) == 0 &&
		    (c = strchr(line, ':')) != NULL) {
			snprintf(buf, len, "%s", c + 2);
			buf[strcspn(buf, "\n")] = '\0';
			break;
		}
	fclose(f);
}

int
main(int argc, char **argv)
{
	static struct codec_arg send5, recv5, send2, recv2;
	static struct crypto_arg ca;
	static struct b64_arg ba;
	struct wkproto_packet p;
	char cpu[128], wire[256], mk[WK_CRYPTO_MSGKEY_LEN];
	double r1, r2;

	if (argc > 1)
		runs = atoi(argv[1]);
	if (runs < 1 || runs > 31)
		runs = 7;
	cpu_name(cpu, sizeof cpu);
	printf("bench_wkproto: %s; one core; median of %d runs\n", cpu, runs);

	make_packets(&send5, &recv5, 5);
	make_packets(&send2, &recv2, 2);
	printf("codec (%d-byte payload; SEND %zu B, RECV %zu B at v5):\n",
	    PAYLOAD, send5.len, recv5.len);
	report("SEND decode", measure(run_decode, &send5, 5000000), "pkt");
	report("SEND decode+encode v5", measure(run_decode_encode, &send5,
	    5000000), "pkt");
	report("SEND decode+encode v2", measure(run_decode_encode, &send2,
	    5000000), "pkt");
	report("RECV decode", measure(run_decode, &recv5, 5000000), "pkt");
	report("RECV decode+encode v5", measure(run_decode_encode, &recv5,
	    5000000), "pkt");
	report("RECV decode+encode v2", measure(run_decode_encode, &recv2,
	    5000000), "pkt");

	/* A SEND encrypted and signed as the SDK would, with the example key. */
	if (wk_crypto_session_init(&ca.sender, "0b5e04be2d748c15",
	    "A1b2C3d4E5f6G7h8") != 0 ||
	    wk_crypto_session_init(&ca.receiver, "0123456789abcdef",
	    "ZYXWVUTSRQPONMLK") != 0)
		return 1;
	memset(ca.plain, 'x', sizeof ca.plain);
	memcpy(ca.plain, "{\"content\":\"", 12);
	memset(&p, 0, sizeof p);
	p.type = WKPROTO_SEND;
	p.flags = WKPROTO_FLAG_REDDOT;
	p.send.client_seq = 1;
	p.send.client_msg_no = wk_str_of("0123456789abcdef0123456789abcdef3");
	p.send.channel_id = wk_str_of("user456");
	p.send.channel_type = 1;
	p.send.payload.p = (const uint8_t *)wire;
	p.send.payload.len = (size_t)wk_crypto_encrypt(&ca.sender, ca.plain,
	    PAYLOAD, wire, sizeof wire);
	wk_crypto_msgkey_send(&ca.sender, &p.send, mk);
	p.send.msg_key = wk_str_n(mk, sizeof mk);
	ca.send_len = (size_t)wkproto_encode(&p, 5, ca.send_pkt,
	    sizeof ca.send_pkt);

	printf("crypto (%d-byte plaintext, %zu-char base64 on the wire):\n",
	    PAYLOAD, p.send.payload.len);
	report("SEND decode+verify+decrypt, RECV encrypt+sign",
	    measure(run_broker_crypto, &ca, 300000), "msg");
	report("  SEND decode+verify msgKey", measure(run_verify_only, &ca,
	    300000), "msg");
	report("  SEND decrypt", measure(run_decrypt_only, &ca, 500000), "msg");
	report("  RECV encrypt", measure(run_encrypt_only, &ca, 500000), "msg");
	r1 = measure(run_verify_only, &ca, 300000);
	r2 = measure(run_msgkey_naive, &ca, 100000);
	printf("compare: msgKey streamed, reused contexts vs naive "
	    "(snprintf, new ctx, implicit fetch)\n");
	report("  streamed (wk_crypto_verify_send, incl. decode)", r1, "op");
	report("  naive", r2, "op");
	printf("  ratio: %.2fx\n", r1 / r2);

	memcpy(ba.bin, wire, sizeof ba.bin);
	wk_b64_encode(ba.bin, sizeof ba.bin, ba.txt);
	printf("compare: base64 of 144 bytes (192 chars), table vs OpenSSL\n");
	r1 = measure(run_b64_enc_table, &ba, 5000000);
	r2 = measure(run_b64_enc_evp, &ba, 5000000);
	report("  encode, table", r1, "op");
	report("  encode, EVP_EncodeBlock", r2, "op");
	printf("  ratio: %.2fx\n", r1 / r2);
	r1 = measure(run_b64_dec_table, &ba, 5000000);
	r2 = measure(run_b64_dec_evp, &ba, 5000000);
	report("  decode, table (strict)", r1, "op");
	report("  decode, EVP_DecodeBlock", r2, "op");
	printf("  ratio: %.2fx\n", r1 / r2);

	wk_crypto_session_clear(&ca.sender);
	wk_crypto_session_clear(&ca.receiver);
	return 0;
}
