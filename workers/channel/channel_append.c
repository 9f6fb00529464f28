/* channel_append.c - CHANNEL_APPEND from the brokers (wk-channel(8)):
 * permission checks in the reference's order, de-duplication by (sender,
 * client_msg_no), the message id and seq, the append into the iteration's
 * transaction, and after the commit (never before) the SENDACK and the
 * fan-out (channel_fanout.c: one BROKER_DELIVER per broker holding a
 * recipient's connection, carrying the message once).
 * channel_append_api is the same path for wk-api's HTTP sends (system
 * device: only the channel's ban and disband are checked), answered through
 * a callback instead of a SENDACK.
 *
 * A person chat's recipient blacklist lives on the shard of (recipient, 1),
 * usually another shard, whose answers this shard caches (channel_person.c).
 * On a miss the append is parked, that shard is asked
 * (CHANNEL_PERSON_CHECK), and the answer resumes it.  Answers come back in
 * the order asked, and a recipient with an ask outstanding is not answered
 * from the cache, so one sender's messages keep their order.
 *
 * Past every check, with msg.before_send on, the append is parked again
 * until the receiver's verdict (channel_beforesend.c): refused, stored, or
 * stored with the payload it gave.
 *
 * System accounts (/user/systemuids_add) skip the sender checks and may be
 * written to by anyone; every channel shard keeps the set as the members of
 * the pseudo channel WK_SYSUID_CHANNEL/0.  With whitelistOffOfPerson false
 * the recipient's whitelist must hold the sender too (13). */
#include <stdlib.h>
#include <string.h>
#include "channel.h"
#include "wk_alloc.h"
#include "wk_buf.h"
#include "wk_channelid.h"
#include "wk_chmsg.h"
#include "wk_fanout.h"
#include "wk_log.h"
#include "wk_msgid.h"
#include "wk_shard.h"
#include "wk_time.h"
#include "wkproto.h"

static struct wk_ratelimit rl_store = WK_RATELIMIT_INIT(5);

static struct append {
	struct wk_msgid ids;
	uint64_t appended, refused, duplicates;
} ap;

/* An accepted append, waiting for the commit.  From a broker: SENDACK to
 * (broker, conn); from wk-api (done set): done is told instead. */
struct pending {
	channel_sent_fn *done;
	void *done_arg;
	char *to;                    /* wk-api's recipients (NUL-separated), or NULL */
	size_t to_len;
	uint8_t node;                /* the broker's host (cluster), 0 on one host */
	uint16_t broker;             /* the sender's WK_FANOUT_BROKER_ID, or UINT16_MAX */
	uint16_t ack_broker;         /* the broker the SENDACK goes to, on node */
	uint64_t conn;
	uint32_t client_seq;
	uint8_t flags;
	int dup;                     /* a repeat: acknowledge the original, deliver nothing */
	int handed;                  /* a cmd message: the mailboxes deliver it */
	int64_t message_id;
	uint32_t seq;
	uint8_t channel_type;
	uint64_t arrived_us;         /* when the append came in (stats: SENDACK latency) */
	char *channel_id;
	size_t channel_id_cap;       /* its room (kept while the record is spare) */
	struct wk_wbuf msg;          /* BROKER_DELIVER frame 1 */
	struct pending *next_fanout; /* waiting for channel_append_flush */
};

int
channel_append_open(struct wk_proc *p)
{
	wk_msgid_init(&ap.ids, p->instance);
	return channel_fanout_open(p);
}

void
channel_append_close(struct wk_proc *p)
{
	channel_fanout_close(p);
}

int
channel_append_status(struct wk_proc *p, char *buf, size_t len)
{
	int n = snprintf(buf, len, " appended=%llu refused=%llu duplicates=%llu",
	    (unsigned long long)ap.appended, (unsigned long long)ap.refused,
	    (unsigned long long)ap.duplicates);

	if (n > 0 && (size_t)n < len)
		n += channel_fanout_status(p, buf + n, len - n);
	return n;
}

static void
sendack(struct wk_proc *p, uint8_t node, uint16_t broker, uint64_t conn, uint32_t client_seq,
    uint8_t flags, int64_t message_id, uint32_t seq, uint8_t reason)
{
	struct wk_wbuf b;

	wk_wbuf_init(&b);
	wk_put_u64(&b, conn);
	wk_put_u32(&b, client_seq);
	wk_put_u8(&b, flags);
	wk_put_u64(&b, (uint64_t)message_id);
	wk_put_u32(&b, seq);
	wk_put_u8(&b, reason);
	wk_proc_send_buf_to(p, node, WK_ROLE_BROKER, broker, WK_MSG_BROKER_SENDACK, conn, &b);
	wk_wbuf_free(&b);
}

/* The system uid, or a system account (every shard keeps the set). */
static int
is_system(struct wk_proc *p, const char *uid)
{
	return strcmp(uid, WK_SYSTEM_UID) == 0 ||
	    channel_list_has(p, WK_SYSUID_CHANNEL, 0, CHANNEL_MEMBERS, uid) == 1;
}

/* The checks of semantics.md §6, in its order; a reason code.  A message
 * from the system device (HTTP) is checked for the channel's ban and
 * disband only. */
static int
check_permissions(struct wk_proc *p, const char *id, uint8_t type, const char *from,
    int system_device)
{
	struct channel_info ci;
	int rc;

	if (type != WKPROTO_CHANNEL_INFO && type != WKPROTO_CHANNEL_CUSTOMER_SERVICE &&
	    type != WKPROTO_CHANNEL_VISITORS && type != WKPROTO_CHANNEL_AGENT) {
		if ((rc = channel_get(p, id, type, &ci)) < 0)
			return WKPROTO_REASON_SYSTEM_ERROR;
		if (rc == 1 && ci.ban)
			return WKPROTO_REASON_BAN;
		if (rc == 1 && ci.disband)
			return WKPROTO_REASON_DISBAND;
		if (system_device)
			return WKPROTO_REASON_SUCCESS;
		/* The reference stores a group's send_ban without enforcing it. */
		if (rc == 1 && ci.send_ban && type != WKPROTO_CHANNEL_PERSON)
			return WKPROTO_REASON_SEND_BAN;
	}
	if (system_device || is_system(p, from) || type == WKPROTO_CHANNEL_INFO ||
	    type == WKPROTO_CHANNEL_CUSTOMER_SERVICE || type == WKPROTO_CHANNEL_PERSON)
		return WKPROTO_REASON_SUCCESS;
	/* The visitor in its own channel, either party of an agent channel. */
	if ((type == WKPROTO_CHANNEL_VISITORS && strcmp(from, id) == 0) ||
	    (type == WKPROTO_CHANNEL_AGENT && channel_is_party(id, from)))
		return WKPROTO_REASON_SUCCESS;
	if ((rc = channel_list_has(p, id, type, CHANNEL_BLACKLIST, from)) != 0)
		return rc < 0 ? WKPROTO_REASON_SYSTEM_ERROR : WKPROTO_REASON_IN_BLACKLIST;
	if ((rc = channel_is_member(p, id, type, from)) != 1)
		return rc < 0 ? WKPROTO_REASON_SYSTEM_ERROR : WKPROTO_REASON_SUBSCRIBER_NOT_EXIST;
	long white = channel_list_count(p, id, type, CHANNEL_WHITELIST);
	if (white < 0)
		return WKPROTO_REASON_SYSTEM_ERROR;
	if (white > 0 && (rc = channel_list_has(p, id, type, CHANNEL_WHITELIST, from)) != 1)
		return rc < 0 ? WKPROTO_REASON_SYSTEM_ERROR : WKPROTO_REASON_NOT_IN_WHITELIST;
	return WKPROTO_REASON_SUCCESS;
}

/* The recipients' online connections, one DELIVER per broker. */
static void
fanout(struct wk_proc *p, struct pending *pd)
{
	channel_fanout(p, WK_MSG_BROKER_DELIVER, pd->msg.p, pd->msg.len, pd->channel_id,
	    pd->channel_type, pd->to, pd->to_len, pd->broker, pd->conn);
}

/* Spare records, with the room of their channel id and frame: an append
 * in a steady stream allocates none. */
#define PENDING_SPARE 4096
#define PENDING_KEEP_BYTES 16384     /* a larger frame's room is not kept */
static struct pending *pending_spare;
static int pending_nspare;

/* A zeroed record for channel id `id` (its room reused when spare). */
static struct pending *
pending_new(struct wk_str id)
{
	struct pending *pd = pending_spare;

	if (pd == NULL)
		pd = wk_calloc(1, sizeof *pd);
	else {
		struct wk_wbuf msg = pd->msg;
		char *room = pd->channel_id;
		size_t cap = pd->channel_id_cap;

		pending_spare = pd->next_fanout;
		pending_nspare--;
		memset(pd, 0, sizeof *pd);
		pd->msg = msg;
		pd->msg.len = 0;
		pd->channel_id = room;
		pd->channel_id_cap = cap;
	}
	if ((size_t)id.len + 1 > pd->channel_id_cap) {
		pd->channel_id = wk_realloc(pd->channel_id, (size_t)id.len + 1);
		pd->channel_id_cap = (size_t)id.len + 1;
	}
	if (id.len)
		memcpy(pd->channel_id, id.p, id.len);
	pd->channel_id[id.len] = '\0';
	return pd;
}

static void
pending_free(struct pending *pd)
{
	wk_free(&pd->to);
	if (pending_nspare < PENDING_SPARE && pd->msg.cap <= PENDING_KEEP_BYTES &&
	    pd->channel_id_cap <= CHANNEL_ID_MAX + 1) {
		pd->next_fanout = pending_spare;
		pending_spare = pd;
		pending_nspare++;
		return;
	}
	wk_wbuf_free(&pd->msg);
	free(pd->channel_id);
	free(pd);
}

static struct pending *fanout_head, **fanout_tail = &fanout_head;

/* After the commit: durable, so acknowledge and deliver; or refuse all. */
static void
append_done(struct wk_proc *p, int rc, void *arg)
{
	struct pending *pd = arg;
	int reason = rc == 0 ? WKPROTO_REASON_SUCCESS : WKPROTO_REASON_SYSTEM_ERROR;
	uint32_t seq = rc == 0 ? pd->seq : 0;

	/* Counted before the answer leaves, so that whoever has the answer
	 * sees the message counted. */
	if (rc == 0 && !pd->dup)
		stats_add_typed(p->stats, STATS_MSGS_IN, pd->channel_type, 1);
	if (pd->done)
		pd->done(p, pd->done_arg, reason, pd->message_id, seq);
	else {
		stats_observe(p->stats, STATS_H_SENDACK, wk_now_us() - pd->arrived_us);
		sendack(p, pd->node, pd->ack_broker, pd->conn, pd->client_seq, pd->flags,
		    pd->message_id, seq, (uint8_t)reason);
	}
	if (rc == 0 && !pd->dup) {
		/* Every SENDACK of this commit goes out before any fan-out (and
		 * before the webhooks, cmd messages included): one large group's
		 * delivery must not hold back the others' acks. */
		pd->next_fanout = NULL;
		*fanout_tail = pd;
		fanout_tail = &pd->next_fanout;
		return;
	}
	pending_free(pd);
}

/* Deliver what the last commit made durable (after its SENDACKs). */
void
channel_append_flush(struct wk_proc *p)
{
	while (fanout_head) {
		struct pending *pd = fanout_head;
		fanout_head = pd->next_fanout;
		if (fanout_head == NULL)
			fanout_tail = &fanout_head;
		if (!pd->handed)
			fanout(p, pd);
		/* webhooks: msg.notify, msg.offline (channel_webhook.c) */
		channel_hook_frame(p, pd->msg.p, pd->msg.len, pd->to, pd->to_len);
		pending_free(pd);
	}
}

/* A string view as a NUL-terminated copy on the stack's behalf. */
static char *
dupstr(struct wk_str s)
{
	return wk_strndup(s.p ? s.p : "", s.len);
}

/* s as a C string: in buf when it fits (every uid and channel id does),
 * else a copy that tmp_free frees. */
static char *
tmp_str(struct wk_str s, char *buf, size_t cap)
{
	if (s.len >= cap)
		return dupstr(s);
	if (s.len)
		memcpy(buf, s.p, s.len);
	buf[s.len] = '\0';
	return buf;
}

static void
tmp_free(char *s, const char *buf)
{
	if (s != buf)
		free(s);
}

/* A parsed append, with its own copy of the bytes its views point into. */
struct req {
	uint8_t node;                /* the broker's host (cluster), 0 on one host */
	uint16_t broker;
	uint64_t conn;
	uint32_t client_seq;
	channel_sent_fn *done;       /* from wk-api: told instead of a SENDACK */
	void *done_arg;
	const char *to;              /* from wk-api: the recipients, or NULL */
	size_t to_len;
	struct wk_chmsg m;
	zframe_t *frame;             /* owns the bytes */
	char *to_own;                /* owns `to` (once parked) */
	uint8_t *payload;            /* owns a rewritten payload */
	int64_t message_id;          /* while msg.before_send decides */
	uint64_t corr;               /* while parked */
	uint64_t arrived_us;
	uint64_t deadline_ms;
	char *peer;                  /* while parked: the recipient asked about */
	struct req *next;
};

static struct req *parked_head, **parked_tail = &parked_head;
static uint64_t next_corr = 1;

#define PARK_TIMEOUT_MS 5000

/* pd is a message stored before: its SENDACK carries the first one's ids
 * (set by the caller), nothing is delivered. */
static void
duplicate(struct wk_proc *p, struct pending *pd)
{
	pd->dup = 1;
	ap.duplicates++;
	stats_add(p->stats, STATS_APPEND_DUPLICATES, 1);
}

/* Past the permission checks: dedup, id, append; acknowledged after the commit. */
static void
accept_append(struct wk_proc *p, struct req *q, int64_t message_id)
{
	struct wk_chmsg *m = &q->m;
	char cmnb[128], fromb[CHANNEL_ID_MAX + 1];
	char *cmn = tmp_str(m->client_msg_no, cmnb, sizeof cmnb);
	char *from = tmp_str(m->from_uid, fromb, sizeof fromb);
	struct pending *pd = pending_new(m->channel_id);

	pd->done = q->done;
	pd->done_arg = q->done_arg;
	if (q->to) {
		pd->to = wk_malloc(q->to_len);
		memcpy(pd->to, q->to, q->to_len);
		pd->to_len = q->to_len;
	}
	pd->node = q->node;
	/* As the presence table names it: the sender's connection is skipped
	 * in the fan-out whatever host holds it (wk-cluster(7)). */
	pd->broker = q->conn == UINT64_MAX ? UINT16_MAX : WK_FANOUT_BROKER_ID(q->node, q->broker);
	pd->ack_broker = q->broker;
	pd->conn = q->conn;
	pd->client_seq = q->client_seq;
	pd->flags = m->flags;
	pd->channel_type = m->channel_type;
	pd->arrived_us = q->arrived_us;
	/* A stored cmd message lives in the channel's cmd twin, with its own
	 * seqs, and goes to the recipients' mailboxes (channel_cmd.c). */
	int cmd = (m->flags & WKPROTO_FLAG_SYNCONCE) && !(m->flags & WKPROTO_FLAG_NOPERSIST);
	char *twin = cmd ? channel_cmd_twin(pd->channel_id) : NULL;
	const char *store_id = twin ? twin : pd->channel_id;

	pd->handed = cmd;
	/* The same message again (an SDK re-sending after a reconnect): the
	 * original id and seq, nothing stored twice.  A stored message without
	 * a stream number finds it in its own append (one search where a
	 * lookup before it made two); a stream's SEND is looked up first, as
	 * its pieces are not appended. */
	int once = cmn[0] && !(m->flags & WKPROTO_FLAG_NOPERSIST) && m->stream_no.len == 0, rc = 0;
	struct channel_msg cm = { 0 };

	if (!once && cmn[0] && !(m->flags & WKPROTO_FLAG_NOPERSIST) &&
	    channel_msg_find_client_msg_no(p, store_id, m->channel_type, from, cmn,
	    &pd->message_id, &pd->seq) == 1)
		duplicate(p, pd);
	else if (m->stream_no.len && !cmd && !(m->flags & WKPROTO_FLAG_NOPERSIST) &&
	    channel_stream_on_send(p, pd->channel_id, m, pd->broker, pd->conn, message_id,
	    &pd->message_id, &pd->seq) == 1) {
		pd->dup = 1;   /* a piece of an open stream: its anchor's SENDACK, sent as an event */
	} else {
		cm = (struct channel_msg){
			.message_id = message_id, .timestamp = (int32_t)(wk_wall_ms() / 1000),
			.flags = m->flags, .setting = m->setting, .expire = m->expire,
			.from_uid = m->from_uid.p, .from_uid_len = m->from_uid.len,
			.client_msg_no = m->client_msg_no.p, .client_msg_no_len = m->client_msg_no.len,
			.topic = m->topic.p, .topic_len = m->topic.len,
			.stream_no = m->stream_no.p, .stream_no_len = m->stream_no.len,
			.payload = m->payload.p, .payload_len = m->payload.len,
		};
		/* no_persist: delivered, not stored, seq 0. */
		if (!(m->flags & WKPROTO_FLAG_NOPERSIST) &&
		    (rc = once ? channel_msg_append_once(p, store_id, m->channel_type, &cm,
		    &pd->message_id, &pd->seq) : channel_msg_append(p, store_id, m->channel_type,
		    &cm)) < 0)
			wk_log_limited(&rl_store, WK_LOG_WARN, "append %s/%u: store failed",
			    store_id, m->channel_type);
	}
	if (rc == 1)
		duplicate(p, pd);
	else if (!pd->dup) {
		pd->message_id = message_id;
		pd->seq = cm.seq;
		m->message_id = message_id;
		m->seq = cm.seq;
		m->timestamp = cm.timestamp;
		pd->msg.len = 0;
		wk_chmsg_put(&pd->msg, m);
		channel_notify_keep(p, m, pd->msg.p, pd->msg.len);
		ap.appended++;
		if (cmd && cm.seq > 0)
			channel_cmd_handover(p, m, pd->to, pd->to_len, pd->broker, pd->conn);
		else if (cm.seq == 1 && (m->channel_type == WKPROTO_CHANNEL_PERSON ||
		    m->channel_type == WKPROTO_CHANNEL_CUSTOMER_SERVICE) && p->cfg.conversation_on)
			channel_cmd_conv_first(p, pd->channel_id, m->channel_type, m->from_uid.p,
			    m->from_uid.len);
	}
	free(twin);
	/* A failed store marked the transaction failed: append_done refuses. */
	if (channel_after_commit(p, append_done, pd) < 0)
		append_done(p, -1, pd);
	tmp_free(from, fromb);
	tmp_free(cmn, cmnb);
}

static void
refuse(struct wk_proc *p, const struct req *q, int64_t message_id, int reason)
{
	ap.refused++;
	stats_add(p->stats, STATS_APPEND_REFUSED, 1);
	if (q->done)
		q->done(p, q->done_arg, reason, message_id, 0);
	else
		sendack(p, q->node, q->broker, q->conn, q->client_seq, q->m.flags, message_id, 0,
		    (uint8_t)reason);
}

static void
req_free(struct req *q)
{
	zframe_destroy(&q->frame);
	free(q->peer);
	free(q->to_own);
	free(q->payload);
	free(q);
}

/* A copy of a request whose bytes live only during the call, owning them. */
static struct req *
req_own(const struct req *q)
{
	struct req *c = wk_malloc(sizeof *c);
	struct wk_wbuf b;
	struct wk_rbuf r;

	*c = *q;
	wk_wbuf_init(&b);
	wk_chmsg_put(&b, &q->m);
	c->frame = zframe_new(b.p, b.len);
	wk_wbuf_free(&b);
	wk_rbuf_init(&r, zframe_data(c->frame), zframe_size(c->frame));
	if (wk_chmsg_get(&r, &c->m) < 0)
		wk_fatalx("append: a message re-read from its own encoding is malformed");
	if (q->to) {
		c->to_own = wk_malloc(q->to_len);
		memcpy(c->to_own, q->to, q->to_len);
		c->to = c->to_own;
	}
	return c;
}

/* msg.before_send decided: refuse, or store (maybe its new payload). */
static void
on_verdict(struct wk_proc *p, void *arg, const struct channel_verdict *v)
{
	struct req *q = arg;

	if (v->reason != WKPROTO_REASON_SUCCESS)
		refuse(p, q, q->message_id, v->reason);
	else {
		if (v->payload) {
			q->payload = wk_malloc(v->payload_len);
			memcpy(q->payload, v->payload, v->payload_len);
			q->m.payload.p = q->payload;
			q->m.payload.len = v->payload_len;
		}
		accept_append(p, q, q->message_id);
	}
	req_free(q);
}

/* Past every check: accept, or first ask msg.before_send (q parked until
 * its verdict).  q is taken. */
static void
admit(struct wk_proc *p, struct req *q, int64_t message_id)
{
	if (!channel_beforesend_is_on(p)) {
		accept_append(p, q, message_id);
		req_free(q);
		return;
	}
	q->message_id = message_id;
	q->m.message_id = message_id;
	q->m.timestamp = (int32_t)(wk_wall_ms() / 1000);
	channel_beforesend_ask(p, &q->m, on_verdict, q);
}

/* Ask the shard of (to, 1) whether `from` is on to's blacklist. */
static void
park(struct wk_proc *p, struct req *q, const char *to, int shard)
{
	struct wk_wbuf b;

	q->corr = next_corr++;
	q->deadline_ms = wk_now_ms() + PARK_TIMEOUT_MS;
	q->peer = wk_strdup(to);
	channel_person_asked(to);
	q->next = NULL;
	*parked_tail = q;
	parked_tail = &q->next;
	wk_wbuf_init(&b);
	wk_put_u64(&b, q->corr);
	wk_put_str(&b, to);
	wk_put_strn(&b, q->m.from_uid.p, q->m.from_uid.len);
	wk_put_u8(&b, !p->cfg.whitelistOffOfPerson);
	wk_proc_send_buf(p, WK_ROLE_CHANNEL, shard, WK_MSG_CHANNEL_PERSON_CHECK, q->corr, &b);
	wk_wbuf_free(&b);
}

/* The person-chat recipient check: a reason code, or -1 when parked. */
static int
check_person(struct wk_proc *p, struct req *q)
{
	const char *peer;
	size_t plen;
	char to[CHANNEL_ID_MAX + 1], fromb[CHANNEL_ID_MAX + 1], *from;
	int shard, rc;

	if (wk_channelid_person_peer(q->m.channel_id.p, q->m.channel_id.len, q->m.from_uid.p,
	    q->m.from_uid.len, &peer, &plen) < 0 || plen > CHANNEL_ID_MAX)
		return WKPROTO_REASON_CHANNEL_ID_ERROR;
	memcpy(to, peer, plen);
	to[plen] = '\0';
	if (is_system(p, to))
		return WKPROTO_REASON_SUCCESS;   /* anyone may write to a system account */
	shard = wk_shard_channel(to, plen, p->cfg.processes_channel);
	from = tmp_str(q->m.from_uid, fromb, sizeof fromb);
	if (shard == p->instance)
		rc = channel_person_lists(p, to, from, !p->cfg.whitelistOffOfPerson);
	else if ((rc = channel_person_cached(p, to, from, !p->cfg.whitelistOffOfPerson)) == 0) {
		park(p, req_own(q), to, shard);   /* q's bytes live only during the call */
		rc = -1;
	}
	tmp_free(from, fromb);
	return rc;
}

/* CHANNEL_APPEND's payload (len bytes at f) into q (views into f), from
 * h's host: 0, or -1 if malformed. */
static int
append_read(const struct wk_msg_hdr *h, const void *f, size_t len, struct req *q)
{
	struct wk_rbuf r;

	wk_rbuf_init(&r, f, len);
	q->node = h->sender_node;
	q->broker = wk_get_u16(&r);
	q->conn = wk_get_u64(&r);
	q->client_seq = wk_get_u32(&r);
	return wk_chmsg_get(&r, &q->m) < 0 || wk_rbuf_done(&r) < 0 ? -1 : 0;
}

/* The checks decided for q, whose bytes live only during the call:
 * refused, or accepted (copied first when msg.before_send is to decide). */
static void
settle(struct wk_proc *p, struct req *q, int64_t message_id, int reason)
{
	if (reason != WKPROTO_REASON_SUCCESS)
		refuse(p, q, message_id, reason);
	else if (channel_beforesend_is_on(p))
		admit(p, req_own(q), message_id);
	else
		accept_append(p, q, message_id);
}

/* A view handler (wk_dispatch.h): the request lives on the stack and
 * points into the batch; only an append that waits (a person check, or
 * msg.before_send) is copied (req_own). */
void
channel_on_append(struct wk_proc *p, const struct wk_msg_hdr *h, const struct wk_msgv *v)
{
	struct req q = { 0 };
	char idb[CHANNEL_ID_MAX + 1], fromb[CHANNEL_ID_MAX + 1];
	int reason;

	q.arrived_us = wk_now_us();
	if (append_read(h, v->p[0], v->len[0], &q) < 0)
		wk_fatalx("CHANNEL_APPEND from %s/%u: malformed payload",
		    wk_role_name(h->sender_role), h->sender_instance);
	char *id = tmp_str(q.m.channel_id, idb, sizeof idb);
	char *from = tmp_str(q.m.from_uid, fromb, sizeof fromb);
	int64_t message_id = wk_msgid_next(&ap.ids);

	if (q.m.channel_id.len == 0 || q.m.channel_id.len > CHANNEL_ID_MAX)
		reason = WKPROTO_REASON_CHANNEL_ID_ERROR;
	else
		reason = check_permissions(p, id, q.m.channel_type, from, 0);
	if (reason == WKPROTO_REASON_SUCCESS && q.m.channel_type == WKPROTO_CHANNEL_PERSON &&
	    !is_system(p, from))
		reason = check_person(p, &q);
	tmp_free(id, idb);
	tmp_free(from, fromb);
	if (reason < 0)
		return;   /* parked (a copy) until the other shard answers */
	settle(p, &q, message_id, reason);
}

/* In a cluster, a SEND this copy could not get to a master (wk_proc_def's
 * on_refused): not stored, so the sender's connection gets its SENDACK
 * with the system-error reason at once; the client may send it again. */
void
channel_on_refused(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg)
{
	zframe_t *f = zmsg_first(msg);
	struct req q = { 0 };

	if (h->type == WK_MSG_CHANNEL_APPEND && f != NULL &&
	    append_read(h, zframe_data(f), zframe_size(f), &q) == 0)
		refuse(p, &q, 0, WKPROTO_REASON_SYSTEM_ERROR);
}

/* An HTTP send (POST /message/send): the sender is on the system device,
 * so only the channel's ban and disband are checked (no person-chat
 * blacklist either, semantics.md §5.2), and no connection is skipped in the
 * fan-out.  m's views and `to` need only live during the call. */
void
channel_append_api(struct wk_proc *p, const struct wk_chmsg *m, const char *to, size_t to_len,
    channel_sent_fn *done, void *arg)
{
	struct req q = { .broker = UINT16_MAX, .conn = UINT64_MAX, .done = done, .done_arg = arg,
	    .to = to, .to_len = to_len, .m = *m };
	int64_t message_id = wk_msgid_next(&ap.ids);
	char idb[CHANNEL_ID_MAX + 1], fromb[CHANNEL_ID_MAX + 1];
	char *id = tmp_str(m->channel_id, idb, sizeof idb);
	char *from = tmp_str(m->from_uid, fromb, sizeof fromb);
	int reason = WKPROTO_REASON_CHANNEL_ID_ERROR;

	/* A cmd message from the business server goes even to a banned or
	 * disbanded channel: telling the members that it changed is what it
	 * is for (ban the group, then "channelUpdate"). */
	if (m->channel_id.len > 0 && m->channel_id.len <= CHANNEL_ID_MAX)
		reason = (m->flags & WKPROTO_FLAG_SYNCONCE) ? WKPROTO_REASON_SUCCESS :
		    check_permissions(p, id, m->channel_type, from, 1);
	settle(p, &q, message_id, reason);
	tmp_free(id, idb);
	tmp_free(from, fromb);
}

/* The answer: resume the parked append (they come back in the order asked). */
void
channel_on_person_check_rep(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg)
{
	zframe_t *f = zmsg_first(msg);
	struct wk_rbuf r;
	struct req **pp, *q;
	uint64_t corr;
	uint8_t reason;

	wk_rbuf_init(&r, zframe_data(f), zframe_size(f));
	corr = wk_get_u64(&r);
	reason = wk_get_u8(&r);
	if (wk_rbuf_done(&r) < 0)
		wk_fatalx("CHANNEL_PERSON_CHECK_REP from channel/%u: malformed payload",
		    h->sender_instance);
	for (pp = &parked_head; *pp && (*pp)->corr != corr; pp = &(*pp)->next)
		;
	if ((q = *pp) == NULL)
		return;   /* timed out already */
	*pp = q->next;
	if (parked_tail == &q->next)
		parked_tail = pp;
	char *from = dupstr(q->m.from_uid);
	channel_person_answered(q->peer, from, !p->cfg.whitelistOffOfPerson, reason);
	free(from);
	if (reason == WKPROTO_REASON_SUCCESS) {
		admit(p, q, wk_msgid_next(&ap.ids));
		return;
	}
	refuse(p, q, wk_msgid_next(&ap.ids), reason);
	req_free(q);
}

/* Appends whose check was not answered in time are refused (15). */
void
channel_append_tick(struct wk_proc *p)
{
	uint64_t now = wk_now_ms();

	while (parked_head && parked_head->deadline_ms <= now) {
		struct req *q = parked_head;
		parked_head = q->next;
		if (parked_head == NULL)
			parked_tail = &parked_head;
		channel_person_answered(q->peer, "", 0, -1);
		refuse(p, q, wk_msgid_next(&ap.ids), WKPROTO_REASON_SYSTEM_ERROR);
		req_free(q);
	}
}
