/* broker_msg.c - messages on wk-broker (wk-broker(8)): SEND from a client
 * (send-ban, msgKey and decryption, the person-chat channel id) becomes a
 * CHANNEL_APPEND to the channel's shard; BROKER_SENDACK becomes the
 * client's SENDACK; BROKER_DELIVER (the stored message once, plus the
 * target connections) becomes one RECV per connection, encrypted with that
 * connection's key (a stream message in the connection's own stream form at
 * versions 2-4); RECVs of stored messages are sent again every
 * messageRetry.interval until RECVACK, at most messageRetry.maxCount times,
 * while the connection lives.  A RECVACK of a cmd message (SyncOnce) from
 * the user's master device, or any device with token auth off, is passed
 * to the user's mailbox shard, which removes it from the mailbox. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "broker.h"
#include "broker_rpc.h"
#include "wk_alloc.h"
#include "wk_channelid.h"
#include "wk_chevent.h"
#include "wk_chmsg.h"
#include "wk_log.h"
#include "wk_shard.h"
#include "wk_time.h"

#define RETRY_MAX_PENDING 512      /* per connection; the oldest is dropped past it */

/* A RECV sent and not yet acknowledged, kept as the encoded bytes: sent
 * again as it is, it needs neither the message nor a new encryption. */
struct retry {
	int64_t message_id;
	uint32_t seq;                /* cmd messages: the mailbox seq */
	int cmd;                     /* SyncOnce: the mailbox wants the RECVACK */
	uint64_t due_ms;
	uint32_t tries;
	size_t len;
	struct retry *next;
	uint8_t bytes[];             /* the RECV as sent */
};

static struct wk_ratelimit rl_msg = WK_RATELIMIT_INIT(10);

/* The client's SENDACK for its SEND client_seq. */
static void
send_sendack(struct broker_conn *c, uint8_t flags, uint32_t client_seq, int64_t message_id,
    uint32_t seq, uint8_t reason)
{
	struct wkproto_packet p = { .type = WKPROTO_SENDACK, .flags = flags };

	p.sendack.message_id = message_id;
	p.sendack.client_seq = client_seq;
	p.sendack.message_seq = seq;
	p.sendack.reason_code = reason;
	broker_conn_send(c, &p);
}

/* SEND: checks that need only this connection, then APPEND to the shard. */
int
broker_on_send(struct broker_conn *c, const struct wkproto_packet *pkt)
{
	const struct wkproto_send *s = &pkt->send;
	struct wk_proc *p = broker.proc;
	struct wk_chmsg m = { 0 };
	/* The APPEND is built in one buffer kept across SENDs (the loop is
	 * one thread), a small payload decrypted on the stack: no allocation
	 * per SEND. */
	static struct wk_wbuf b;
	char fake[2 * BROKER_UID_MAX + 2];
	uint8_t plainbuf[4096], *plain = NULL;
	ssize_t n;
	int rc, shard;

	if (c->user_flags & WK_USER_SEND_BAN) {
		send_sendack(c, pkt->flags, s->client_seq, 0, 0, WKPROTO_REASON_SEND_BAN);
		return 0;
	}
	if (s->channel_id.len == 0 || memchr(s->channel_id.p, '@', s->channel_id.len)) {
		send_sendack(c, pkt->flags, s->client_seq, 0, 0, WKPROTO_REASON_CHANNEL_ID_ERROR);
		return 0;
	}
	m.payload.p = s->payload.p;
	m.payload.len = s->payload.len;
	if (broker_conn_encrypts(c)) {
		/* The reference answers 9 for a bad msgKey too (not 8). */
		plain = WK_B64_DECODED_MAX(s->payload.len) + 1 <= sizeof plainbuf ? plainbuf :
		    wk_malloc(WK_B64_DECODED_MAX(s->payload.len) + 1);
		if (wk_crypto_verify_send(&c->crypto, s) < 0 ||
		    (n = wk_crypto_decrypt(&c->crypto, (const char *)s->payload.p,
		    s->payload.len, plain, WK_B64_DECODED_MAX(s->payload.len) + 1)) < 0) {
			if (plain != plainbuf)
				free(plain);
			wk_log_limited(&rl_msg, WK_LOG_INFO, "%s: SEND with a bad msgKey or payload",
			    c->uid);
			send_sendack(c, pkt->flags, s->client_seq, 0, 0,
			    WKPROTO_REASON_PAYLOAD_DECODE_ERROR);
			return 0;
		}
		m.payload.p = plain;
		m.payload.len = (size_t)n;
	}
	m.flags = pkt->flags & (WKPROTO_FLAG_REDDOT | WKPROTO_FLAG_SYNCONCE | WKPROTO_FLAG_NOPERSIST);
	m.setting = broker_setting_in(s->setting, c->proto_version);
	m.channel_type = s->channel_type;
	m.expire = s->expire;
	m.from_uid = wk_str_of(c->uid);
	m.client_msg_no = s->client_msg_no;
	m.topic = s->topic;
	m.stream_no = s->stream_no;
	m.channel_id = s->channel_id;
	if (s->channel_type == WKPROTO_CHANNEL_PERSON) {
		/* Stored under the two uids' combined id (semantics.md §2). */
		n = wk_channelid_person(c->uid, strlen(c->uid), s->channel_id.p, s->channel_id.len,
		    fake, sizeof fake);
		if (n < 0) {
			if (plain != plainbuf)
				free(plain);
			send_sendack(c, pkt->flags, s->client_seq, 0, 0, WKPROTO_REASON_CHANNEL_ID_ERROR);
			return 0;
		}
		m.channel_id = wk_str_n(fake, (size_t)n);
	} else if (s->channel_type == WKPROTO_CHANNEL_AGENT) {
		/* The sender's channel with that agent: "uid@agent" (semantics.md §5.1). */
		n = snprintf(fake, sizeof fake, "%s@%.*s", c->uid, (int)s->channel_id.len,
		    s->channel_id.p);
		if (n < 0 || (size_t)n >= sizeof fake) {
			if (plain != plainbuf)
				free(plain);
			send_sendack(c, pkt->flags, s->client_seq, 0, 0, WKPROTO_REASON_CHANNEL_ID_ERROR);
			return 0;
		}
		m.channel_id = wk_str_n(fake, (size_t)n);
	}
	shard = wk_shard_channel(m.channel_id.p, m.channel_id.len, p->cfg.processes_channel);
	b.len = 0;
	wk_put_u16(&b, (uint16_t)p->instance);
	wk_put_u64(&b, c->id);
	wk_put_u32(&b, s->client_seq);
	wk_chmsg_put(&b, &m);
	rc = wk_proc_send_buf(p, WK_ROLE_CHANNEL, shard, WK_MSG_CHANNEL_APPEND, c->id, &b);
	if (rc == 0)
		broker_resend_keep(c, s->client_seq, shard, &m, &b);
	if (plain != plainbuf)
		free(plain);
	if (rc < 0)   /* the shard's queue is full: refuse now, never lose silently */
		send_sendack(c, pkt->flags, s->client_seq, 0, 0, WKPROTO_REASON_SYSTEM_ERROR);
	else
		broker_conn_sent(c);
	return 0;
}

/* BROKER_SENDACK: the channel shard stored (or refused) a SEND. The
 * connection may be gone or replaced by now: the ack is then dropped. */
void
broker_on_sendack(struct wk_proc *p, const struct wk_msg_hdr *h, const struct wk_msgv *v)
{
	struct wk_rbuf r;
	uint64_t id, message_id;
	uint32_t client_seq, seq;
	uint8_t flags, reason;

	wk_rbuf_init(&r, v->p[0], v->len[0]);
	id = wk_get_u64(&r);
	client_seq = wk_get_u32(&r);
	flags = wk_get_u8(&r);
	message_id = wk_get_u64(&r);
	seq = wk_get_u32(&r);
	reason = wk_get_u8(&r);
	if (wk_rbuf_done(&r) < 0)
		wk_fatalx("BROKER_SENDACK from channel/%u: malformed payload", h->sender_instance);
	if (broker_resend_acked(id, client_seq, h->sender_instance,
	    reason == WKPROTO_REASON_SUCCESS))
		return;   /* the second answer to a SEND passed twice */
	struct broker_conn *c = broker_conn_find(id);
	if (c && c->state == BROKER_CS_READY)
		send_sendack(c, flags, client_seq, (int64_t)message_id, seq, reason);
	if (c)
		broker_conn_acked(c);
}

/* Take *pp (a link of c's list) out of it and return it; the tail
 * follows. */
static struct retry *
retry_unlink(struct broker_conn *c, struct retry **pp)
{
	struct retry *r = *pp;

	*pp = r->next;
	if (c->retry_last == r)
		c->retry_last = pp == &c->retry ? NULL :
		    (struct retry *)(void *)((char *)pp - offsetof(struct retry, next));
	return r;
}

/* Free r, already unlinked from c's list, and count it out. */
static void
retry_drop(struct broker_conn *c, struct retry *r)
{
	c->nretry--;
	broker.retry_count--;
	broker.retry_bytes -= r->len;
	free(r);
}

/* Remember a RECV until its RECVACK. */
static void
retry_add(struct broker_conn *c, const struct wk_chmsg *m, const uint8_t *bytes, size_t len)
{
	const struct wk_config *cfg = &broker.proc->cfg;
	int cmd = (m->flags & WKPROTO_FLAG_SYNCONCE) != 0;
	struct retry *r;

	/* A cmd message is remembered even without retries: its RECVACK matters. */
	if (cfg->messageRetry_maxCount <= 0 && !cmd)
		return;
	/* Bounded for the broker as a whole too (limits.outputTotalMax): past
	 * it a RECV is not kept, and a client that loses it gets it at its
	 * next sync (a cmd message stays in its mailbox until then). */
	if (broker.retry_bytes + len > (uint64_t)cfg->limits_outputTotalMax)
		return;
	if (c->nretry >= RETRY_MAX_PENDING) {
		/* The client is not acknowledging: it will sync; drop the oldest. */
		retry_drop(c, retry_unlink(c, &c->retry));
	}
	r = wk_malloc(sizeof *r + len);
	r->message_id = m->message_id;
	r->seq = m->seq;
	r->cmd = cmd;
	r->due_ms = wk_now_ms() + (uint64_t)cfg->messageRetry_interval;
	r->tries = 0;
	r->len = len;
	r->next = NULL;
	memcpy(r->bytes, bytes, len);
	/* Appended at the tail: the list stays in sending order, so the
	 * oldest is the head (dropped first past the bound). */
	*(c->retry_last ? &c->retry_last->next : &c->retry) = r;
	c->retry_last = r;
	c->nretry++;
	broker.retry_count++;
	broker.retry_bytes += len;
}

/* Forget every unacknowledged RECV of c (it is closing). */
void
broker_retry_free(struct broker_conn *c)
{
	while (c->retry)
		retry_drop(c, retry_unlink(c, &c->retry));
}

/* Send what is due again; called from the sweep. */
void
broker_retry_due(struct broker_conn *c, uint64_t now)
{
	const struct wk_config *cfg = &broker.proc->cfg;

	for (struct retry **pp = &c->retry; *pp;) {
		struct retry *r = *pp;
		if (r->due_ms > now) {
			pp = &r->next;
			continue;
		}
		/* Retries are over: the message stays stored, and the
		 * client gets it at its next sync. */
		if (r->tries >= (uint32_t)cfg->messageRetry_maxCount) {
			retry_drop(c, retry_unlink(c, pp));
			continue;
		}
		r->tries++;
		r->due_ms = now + (uint64_t)cfg->messageRetry_interval;
		broker.st.retries++;
		broker_conn_send_bytes(c, r->bytes, r->len);
		pp = &r->next;
	}
}

/* A cmd message was received by a device that speaks for the user. */
static void
cmd_acked(struct broker_conn *c, const struct retry *r)
{
	struct wk_proc *p = broker.proc;
	size_t n = strlen(c->uid);
	struct wk_wbuf b;

	/* With token auth on, only the master device's RECVACK removes a cmd
	 * message from the mailbox. */
	if (p->cfg.tokenAuthOn && c->device_level != WKPROTO_DEVICE_LEVEL_MASTER)
		return;
	wk_wbuf_init(&b);
	wk_put_strn(&b, c->uid, n);
	wk_put_u64(&b, (uint64_t)r->message_id);
	wk_put_u32(&b, r->seq);
	wk_proc_send_buf(p, WK_ROLE_MAILBOX, wk_shard_uid(c->uid, n, p->cfg.processes_mailbox),
	    WK_MSG_MAILBOX_CMD_RECVACK, 0, &b);
	wk_wbuf_free(&b);
}

/* RECVACK: stop resending that message; a cmd message's RECVACK goes on to
 * the mailbox. One unknown to us (retried away, or a piece) is ignored. */
void
broker_on_recvack(struct broker_conn *c, const struct wkproto_recvack *a)
{
	for (struct retry **pp = &c->retry; *pp; pp = &(*pp)->next)
		if ((*pp)->message_id == a->message_id) {
			struct retry *r = retry_unlink(c, pp);
			if (r->cmd)
				cmd_acked(c, r);
			retry_drop(c, r);
			return;
		}
}

/* A SEND's setting as stored: at versions 2-4 the stream bit of the
 * connection's form (0x04 at v2-3, 0x02 at v4) becomes WKPROTO_SETTING_STREAM
 * and the other form's bit is dropped, so that one stored message reaches
 * every version in its own form (broker_recv_one). */
uint8_t
broker_setting_in(uint8_t setting, int version)
{
	uint8_t sb = wkproto_stream_bit(version);

	if (sb == 0)
		return setting;
	return (uint8_t)((setting & ~(WKPROTO_SETTING_STREAM | WKPROTO_SETTING_STREAM_SDK)) |
	    (setting & sb ? WKPROTO_SETTING_STREAM : 0));
}

/* One RECV of stored message m (or of a stream piece) to c, in c's
 * protocol version and encrypted with c's key. A stored, persisted message
 * is kept for resending until its RECVACK; pieces are not retried. */
void
broker_recv_one(struct broker_conn *c, const struct wk_chmsg *m, const struct broker_piece *piece)
{
	struct wkproto_packet pkt = { .type = WKPROTO_RECV };
	struct wkproto_recv *rv = &pkt.recv;
	char msgkey[WK_CRYPTO_MSGKEY_LEN], stackbuf[4096], *sealed = stackbuf;
	uint8_t out[8192], *buf = out;
	size_t cap = WK_CRYPTO_SEALED_LEN(m->payload.len);
	ssize_t n;
	int own = m->from_uid.len == strlen(c->uid) &&
	    memcmp(m->from_uid.p, c->uid, m->from_uid.len) == 0;

	pkt.flags = m->flags;
	if (own)
		pkt.flags &= (uint8_t)~WKPROTO_FLAG_REDDOT;   /* the sender's other devices */
	rv->setting = m->setting;
	if (wkproto_stream_bit(c->proto_version)) {
		/* Versions 2-4: a stream message in the connection's own form. */
		rv->setting &= (uint8_t)~(WKPROTO_SETTING_STREAM | WKPROTO_SETTING_STREAM_SDK);
		if (piece || (m->setting & WKPROTO_SETTING_STREAM)) {
			rv->setting |= wkproto_stream_bit(c->proto_version);
			rv->stream_no = m->stream_no.len ? m->stream_no : m->client_msg_no;
			rv->stream_flag = piece ? piece->flag : WK_STREAM_START;
			rv->stream_seq = piece ? piece->seq : 0;
			rv->stream_id = rv->stream_seq;
		}
	}
	rv->from_uid = m->from_uid;
	/* A message from the system uid shows no sender. */
	if (m->from_uid.len == sizeof WK_SYSTEM_UID - 1 && memcmp(m->from_uid.p, WK_SYSTEM_UID, m->from_uid.len) == 0)
		rv->from_uid = wk_str_n("", 0);
	rv->channel_id = m->channel_id;
	rv->channel_type = m->channel_type;
	if (m->channel_type == WKPROTO_CHANNEL_PERSON || m->channel_type == WKPROTO_CHANNEL_AGENT) {
		/* The receiver sees the other party as the channel (semantics
		 * §8.2): in an agent channel "uid@agent" the user sees the agent
		 * and the agent the user, never the stored id. */
		const char *peer;
		size_t plen;
		if (wk_channelid_person_peer(m->channel_id.p, m->channel_id.len, c->uid,
		    strlen(c->uid), &peer, &plen) == 0)
			rv->channel_id = wk_str_n(peer, plen);
		else if (m->channel_type == WKPROTO_CHANNEL_PERSON)
			return;
	}
	rv->expire = m->expire;
	rv->client_msg_no = m->client_msg_no;
	rv->message_id = m->message_id;
	rv->message_seq = m->seq;
	rv->timestamp = m->timestamp;
	rv->topic = m->topic;
	rv->payload = m->payload;
	if (broker_conn_encrypts(c)) {
		if (cap > sizeof stackbuf)
			sealed = wk_malloc(cap);
		n = wk_crypto_encrypt(&c->crypto, m->payload.p, m->payload.len, sealed, cap);
		if (n < 0)
			goto out;
		rv->payload.p = (const uint8_t *)sealed;
		rv->payload.len = (size_t)n;
		if (wk_crypto_msgkey_recv(&c->crypto, rv, msgkey) < 0)
			goto out;
		rv->msg_key = wk_str_n(msgkey, sizeof msgkey);
	}
	if (c->ws_mode == BROKER_WS_JSONRPC) {
		/* A "recv" notification; resent as it is until its recvack. */
		size_t len = 0;
		buf = (uint8_t *)broker_rpc_encode(&pkt, NULL, &len);
		n = buf ? (ssize_t)len : -1;
	} else if ((n = wkproto_encoded_size(&pkt, c->proto_version)) >= 0) {
		if ((size_t)n > sizeof out)
			buf = wk_malloc((size_t)n);
		n = wkproto_encode(&pkt, c->proto_version, buf, (size_t)n);
	}
	if (n > 0 && broker_conn_send_bytes(c, buf, (size_t)n) == 0) {
		broker.st.delivered++;
		c->cs.out_msgs++;
		c->cs.out_msg_bytes += (uint64_t)n;
		if (!(m->flags & WKPROTO_FLAG_NOPERSIST) && piece == NULL)
			retry_add(c, m, buf, (size_t)n);
	}
	if (buf != out)
		free(buf);   /* free(NULL) when the JSON-RPC encoding failed */
out:
	if (sealed != stackbuf)
		free(sealed);
}

/* BROKER_DELIVER: the message once, then a frame of u64 connection ids;
 * one RECV per live, authenticated connection. A connection that closed
 * since the presence lookup is skipped. */
void
broker_on_deliver(struct wk_proc *p, const struct wk_msg_hdr *h, const struct wk_msgv *v)
{
	struct wk_rbuf r, t;
	struct wk_chmsg m;

	wk_rbuf_init(&r, v->p[0], v->len[0]);
	if (wk_chmsg_get(&r, &m) < 0 || wk_rbuf_done(&r) < 0 || v->len[1] % 8 != 0)
		wk_fatalx("BROKER_DELIVER from %s/%u: malformed payload", wk_role_name(h->sender_role),
		    h->sender_instance);
	wk_rbuf_init(&t, v->p[1], v->len[1]);
	broker_flush_before_fanout(v->len[1] / 8);
	while (t.off < t.len) {
		struct broker_conn *c = broker_conn_find(wk_get_u64(&t));
		if (c && c->state == BROKER_CS_READY)
			broker_recv_one(c, &m, NULL);
	}
}
