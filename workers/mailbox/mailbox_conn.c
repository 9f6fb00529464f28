/* mailbox_conn.c - wk-mailbox's connections: AUTH (token, ban, the manager
 * uid), the master/slave kick rules of wk-mailbox(8), the registry of the
 * connections of the users this shard owns, and their presence slots.
 *
 * The registry is private (it holds device ids, which the kick rules need
 * and the shared presence table does not); the presence table is the shared
 * view for routing.  Both change together, only here. */
#include <stdlib.h>
#include <string.h>
#include "mailbox.h"
#include "wk_alloc.h"
#include "wk_buf.h"
#include "wk_fanout.h"
#include "wk_log.h"
#include "wk_shard.h"
#include "wk_time.h"
#include "wkproto.h"

#define DEVICE_ID_MAX 128
/* The registry: a fixed table of chains by uid hash; every lookup is by
 * uid (kick rules, kicks, flags changes). */
#define NBUCKETS 65536
/* How long a kicked connection lives on after its DISCONNECT (the "2
 * seconds" of wk-mailbox(8)), so the client can read why. */
#define KICK_DELAY_MS 2000

struct mconn {
	char uid[PRESENCE_UID_MAX];
	char device_id[DEVICE_ID_MAX];
	uint8_t device_flag, device_level, proto_version;
	uint8_t node;              /* the broker's host (cluster), 0 on one host */
	uint16_t broker_id;
	uint64_t conn_id;          /* broker pid << 32 | counter */
	int64_t connected_at_ms;
	struct mconn *next;
};

static struct mconn *buckets[NBUCKETS];
static size_t nconns;
static struct wk_ratelimit rl_bad = WK_RATELIMIT_INIT(5);

/* The chain a uid's connections live in. */
static struct mconn **
bucket(const char *uid)
{
	return &buckets[wk_shard_hash(uid, strlen(uid)) % NBUCKETS];
}

/* How many connections of uid this shard holds (0 if offline). */
int
mailbox_conn_count(const char *uid)
{
	int n = 0;
	for (struct mconn *c = *bucket(uid); c; c = c->next)
		n += strcmp(c->uid, uid) == 0;
	return n;
}

struct auth {
	uint8_t node;              /* the broker's host: the sender's */
	uint16_t broker_id;
	uint64_t conn_id;
	uint8_t device_flag, proto_version, device_level;
	uint8_t user_flags;        /* BROKER_USER_* */
	char uid[PRESENCE_UID_MAX];
	char token[MAILBOX_TOKEN_MAX];
	char device_id[DEVICE_ID_MAX];
};

/* Parse MAILBOX_AUTH (and MAILBOX_CONN_RESTORE, which adds the level). */
/* Read MAILBOX_AUTH (or, with `restore`, MAILBOX_CONN_RESTORE, which also
 * carries the device level decided at the first AUTH): 0, or -1. */
static int
auth_parse(zmsg_t *msg, struct auth *a, int restore)
{
	zframe_t *f = zmsg_first(msg);
	struct wk_rbuf r;

	wk_rbuf_init(&r, zframe_data(f), zframe_size(f));
	a->broker_id = wk_get_u16(&r);
	a->conn_id = wk_get_u64(&r);
	a->device_flag = wk_get_u8(&r);
	a->proto_version = wk_get_u8(&r);
	wk_get_str(&r, a->uid, sizeof a->uid);
	wk_get_str(&r, a->token, sizeof a->token);
	wk_get_str(&r, a->device_id, sizeof a->device_id);
	a->device_level = restore ? wk_get_u8(&r) : 0;
	return wk_rbuf_done(&r);
}

/* Ask c's broker to end it: DISCONNECT first when `disconnect`, closed
 * after delay_ms.  The broker owns the socket; we only ask. */
static void
send_kick(struct wk_proc *p, const struct mconn *c, int disconnect, const char *text,
    uint32_t delay_ms)
{
	struct wk_wbuf b;

	wk_wbuf_init(&b);
	wk_put_u64(&b, c->conn_id);
	wk_put_u8(&b, WKPROTO_REASON_CONNECT_KICK);
	wk_put_u32(&b, delay_ms);
	wk_put_u8(&b, (uint8_t)disconnect);
	wk_put_str(&b, text);
	wk_proc_send_buf_to(p, c->node, WK_ROLE_BROKER, c->broker_id, WK_MSG_BROKER_KICK,
	    c->conn_id, &b);
	wk_wbuf_free(&b);
}

/* Kick every connection of uid (device_flag -1: all devices); how many. */
int
mailbox_kick(struct wk_proc *p, const char *uid, int device_flag, const char *text,
    uint32_t delay_ms)
{
	int n = 0;

	for (struct mconn *c = *bucket(uid); c; c = c->next)
		if (strcmp(c->uid, uid) == 0 && (device_flag < 0 || c->device_flag == device_flag)) {
			send_kick(p, c, 1, text, delay_ms);
			n++;
		}
	return n;
}

/* Register a connection and write its presence slot; a reason code. */
/* Register an authenticated connection: presence slot first (it can fail
 * when the region is full, and then nothing is registered), then the
 * private entry.  A restore of a connection we have is a no-op. */
static int
conn_add(struct wk_proc *p, const struct auth *a)
{
	struct presence_conn pc = {
		.device_flag = a->device_flag, .device_level = a->device_level,
		.proto_version = a->proto_version,
		.broker_id = WK_FANOUT_BROKER_ID(a->node, a->broker_id),
		.conn_id = a->conn_id, .connected_at_ms = wk_wall_ms(),
	};
	struct mconn **bp = bucket(a->uid), *c;
	int rc;

	for (c = *bp; c; c = c->next)
		if (c->conn_id == a->conn_id && c->broker_id == a->broker_id && c->node == a->node)
			return WKPROTO_REASON_SUCCESS;   /* a restore of a known one */
	snprintf(pc.uid, sizeof pc.uid, "%s", a->uid);
	/* A restore of a slot kept over our restart: now confirmed. */
	rc = presence_has(mailbox_presence(), &pc) ? 0 : mailbox_presence_add(p, &pc);
	if (rc < 0) {
		wk_log_limited(&rl_bad, WK_LOG_WARN, "auth %s: presence: %s", a->uid,
		    rc == PRESENCE_EFULL ? "table full (raise presence.capacity)" : "bad uid");
		return WKPROTO_REASON_SYSTEM_ERROR;
	}
	c = wk_calloc(1, sizeof *c);
	memcpy(c->uid, a->uid, sizeof c->uid);
	memcpy(c->device_id, a->device_id, sizeof c->device_id);
	c->device_flag = a->device_flag;
	c->device_level = a->device_level;
	c->proto_version = a->proto_version;
	c->node = a->node;
	c->broker_id = a->broker_id;
	c->conn_id = a->conn_id;
	c->connected_at_ms = pc.connected_at_ms;
	c->next = *bp;
	*bp = c;
	nconns++;
	return WKPROTO_REASON_SUCCESS;
}

/* Unlink the connections for which drop() is true. */
/* Remove the connections of one chain that `drop` selects: presence slot,
 * private entry, and the user.onlinestatus webhook (offline). */
static int
conn_remove_if(struct wk_proc *p, struct mconn **bp,
    int (*drop)(const struct mconn *, const void *), const void *arg)
{
	int n = 0;

	while (*bp) {
		struct mconn *c = *bp;
		if (!drop(c, arg)) {
			bp = &c->next;
			continue;
		}
		*bp = c->next;
		mailbox_presence_remove(p, c->uid, WK_FANOUT_BROKER_ID(c->node, c->broker_id),
		    c->conn_id);
		/* webhook user.onlinestatus (mailbox_webhook.c) */
		mailbox_hook_onlinestatus(p, c->uid, c->device_flag, c->conn_id, 0);
		free(c);
		nconns--;
		n++;
	}
	return n;
}

/* The kick rules (same uid and device flag only): a master login sends
 * DISCONNECT to the other devices and closes them; any login closes an older
 * connection of the same device id, silently. */
/* The kick rules of wk-mailbox(8), same uid and device flag only: the same
 * device id is closed silently (a reconnect), and a master login closes the
 * other devices with "login in other device". */
static void
apply_kick_rules(struct wk_proc *p, const struct auth *a)
{
	for (struct mconn *c = *bucket(a->uid); c; c = c->next) {
		if (strcmp(c->uid, a->uid) != 0 || c->device_flag != a->device_flag)
			continue;
		if (strcmp(c->device_id, a->device_id) == 0)
			send_kick(p, c, 0, "", KICK_DELAY_MS);
		else if (a->device_level == WKPROTO_DEVICE_LEVEL_MASTER)
			send_kick(p, c, 1, "login in other device", KICK_DELAY_MS);
	}
}

/* Is this uid acceptable at all (the reference closes on these)? */
/* Refused uids: blank ones and those with '@', '#' or '&' ('@' joins the
 * two uids of a person chat's stored id). */
static int
uid_is_valid(const char *uid)
{
	return uid[0] != '\0' && strpbrk(uid, "@#&") == NULL && uid[strspn(uid, " \t")] != '\0';
}

/* Whether s ends with suffix (a visitor uid: customerService.visitorsSuffix). */
static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return m > 0 && n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Decide the AUTH: a reason code, and the device level on success. */
/* Decide a CONNECT: the manager uid needs managerToken; with tokenAuthOn
 * other users (visitors excepted) need the token stored by
 * /user/token for their device flag; then the ban.  A WKProto reason. */
static int
auth_decide(struct wk_proc *p, struct auth *a)
{
	const struct wk_config *cfg = &p->cfg;
	char stored[MAILBOX_TOKEN_MAX];
	uint8_t level = 0;

	if (!uid_is_valid(a->uid))
		return WKPROTO_REASON_AUTH_FAIL;
	a->device_level = WKPROTO_DEVICE_LEVEL_SLAVE;
	if (strcmp(a->uid, cfg->managerUID) == 0) {
		if (cfg->managerToken[0] && strcmp(a->token, cfg->managerToken) != 0)
			return WKPROTO_REASON_AUTH_FAIL;
	} else if (cfg->tokenAuthOn && !ends_with(a->uid, cfg->customerService_visitorsSuffix)) {
		if (a->token[0] == '\0' ||
		    mailbox_user_token(p, a->uid, a->device_flag, stored, &level) != 1 ||
		    strcmp(stored, a->token) != 0)
			return WKPROTO_REASON_AUTH_FAIL;
		a->device_level = level;
	}
	if (mailbox_user_is_banned(p, a->uid))
		return WKPROTO_REASON_BAN;
	a->user_flags = mailbox_user_is_send_banned(p, a->uid) ? WK_USER_SEND_BAN : 0;
	return WKPROTO_REASON_SUCCESS;
}

/* BROKER_AUTH_REP: the verdict, the device level and the user's flags. */
static void
reply_auth(struct wk_proc *p, const struct wk_msg_hdr *h, const struct auth *a, int reason)
{
	struct wk_wbuf b;
	zmsg_t *m = zmsg_new();

	wk_wbuf_init(&b);
	wk_put_u64(&b, a->conn_id);
	wk_put_u8(&b, (uint8_t)reason);
	wk_put_u8(&b, a->device_level);
	wk_put_str(&b, a->uid);
	wk_put_u8(&b, a->user_flags);
	zmsg_addmem(m, b.p, b.len);
	wk_wbuf_free(&b);
	wk_proc_reply(p, h, WK_MSG_BROKER_AUTH_REP, &m);
}

/* MAILBOX_AUTH: decide, apply the kick rules to the user's other
 * connections before registering the new one, then answer the broker. */
void
mailbox_on_auth(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg)
{
	struct auth a;
	int reason;

	a.node = h->sender_node;
	if (auth_parse(msg, &a, 0) < 0) {
		/* An internal peer sent garbage: a bug there, not a client error. */
		wk_fatalx("MAILBOX_AUTH from broker/%u: malformed payload", h->sender_instance);
	}
	reason = auth_decide(p, &a);
	if (reason == WKPROTO_REASON_SUCCESS) {
		apply_kick_rules(p, &a);
		reason = conn_add(p, &a);
		/* webhook user.onlinestatus (mailbox_webhook.c) */
		if (reason == WKPROTO_REASON_SUCCESS)
			mailbox_hook_onlinestatus(p, a.uid, a.device_flag, a.conn_id, 1);
	}
	if (reason != WKPROTO_REASON_SUCCESS)
		wk_log_limited(&rl_bad, WK_LOG_INFO, "auth %s (device flag %u) refused: reason %d",
		    a.uid, a.device_flag, reason);
	reply_auth(p, h, &a, reason);
}

/* MAILBOX_CONN_RESTORE: a broker re-announces a connection after this
 * shard restarted (its presence region was cleared); no new AUTH. */
void
mailbox_on_conn_restore(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg)
{
	struct auth a;

	a.node = h->sender_node;
	if (auth_parse(msg, &a, 1) < 0)
		wk_fatalx("MAILBOX_CONN_RESTORE from broker/%u: malformed payload", h->sender_instance);
	conn_add(p, &a);
}

struct match_conn { const char *uid; uint8_t node; uint16_t broker; uint64_t conn; };

/* conn_remove_if selector: one connection (broker, conn id, uid). */
static int
is_conn(const struct mconn *c, const void *arg)
{
	const struct match_conn *m = arg;
	return c->conn_id == m->conn && c->broker_id == m->broker && c->node == m->node &&
	    strcmp(c->uid, m->uid) == 0;
}

/* MAILBOX_CONN_CLOSED: the broker closed a connection of our user. */
void
mailbox_on_conn_closed(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg)
{
	zframe_t *f = zmsg_first(msg);
	struct wk_rbuf r;
	char uid[PRESENCE_UID_MAX];
	struct match_conn m;

	wk_rbuf_init(&r, zframe_data(f), zframe_size(f));
	m.broker = wk_get_u16(&r);
	m.conn = wk_get_u64(&r);
	wk_get_str(&r, uid, sizeof uid);
	if (wk_rbuf_done(&r) < 0)
		wk_fatalx("MAILBOX_CONN_CLOSED from broker/%u: malformed payload", h->sender_instance);
	m.uid = uid;
	m.node = h->sender_node;
	conn_remove_if(p, bucket(uid), is_conn, &m);
	/* Not registered: a slot kept over our restart, not re-asserted yet. */
	mailbox_presence_remove(p, uid, WK_FANOUT_BROKER_ID(m.node, m.broker), m.conn);
}

struct match_broker { uint8_t node; uint16_t broker; uint32_t pid; };

/* conn_remove_if selector: a connection of broker `broker` made by an
 * earlier process (conn ids carry the broker's pid in the high half). */
static int
is_stale(const struct mconn *c, const void *arg)
{
	const struct match_broker *m = arg;
	return c->broker_id == m->broker && c->node == m->node &&
	    (uint32_t)(c->conn_id >> 32) != m->pid;
}

/* presence_remove_if selector: a slot of broker `broker` kept over this
 * shard's restart that the broker did not re-assert (not registered). */
static int
is_unconfirmed(const struct presence_conn *pc, void *arg)
{
	const struct match_broker *m = arg;

	if (pc->broker_id != WK_FANOUT_BROKER_ID(m->node, m->broker))
		return 0;
	for (struct mconn *c = *bucket(pc->uid); c; c = c->next)
		if (c->conn_id == pc->conn_id && c->broker_id == pc->broker_id && c->node == m->node)
			return 0;
	return 1;
}

/* MAILBOX_BROKER_HELLO: a broker (re)started, or finished re-asserting its
 * connections after our restart (it sends the hello after its
 * MAILBOX_CONN_RESTOREs).  Either way every connection of it that it did
 * not name is gone without CONN_CLOSED: those of an earlier life of the
 * broker, and the slots kept over our restart that it did not re-assert. */
void
mailbox_on_broker_hello(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg)
{
	zframe_t *f = zmsg_first(msg);
	struct wk_rbuf r;
	struct match_broker m;
	int n = 0, kept;

	wk_rbuf_init(&r, zframe_data(f), zframe_size(f));
	m.node = h->sender_node;
	m.broker = wk_get_u16(&r);
	m.pid = wk_get_u32(&r);
	if (wk_rbuf_done(&r) < 0)
		wk_fatalx("MAILBOX_BROKER_HELLO from broker/%u: malformed payload", h->sender_instance);
	for (size_t i = 0; i < NBUCKETS; i++)
		if (buckets[i])
			n += conn_remove_if(p, &buckets[i], is_stale, &m);
	if (n)
		wk_log_info("broker/%u restarted: dropped %d of its old connections", m.broker, n);
	kept = mailbox_presence_remove_if(p, is_unconfirmed, &m);
	if (kept)
		wk_log_info("broker/%u: dropped %d connections it did not re-assert", m.broker, kept);
}

/* conn_remove_if selector: a connection held on host *node. */
static int
is_on_node(const struct mconn *c, const void *arg)
{
	return c->node == *(const int *)arg;
}

int
mailbox_conn_drop_node(struct wk_proc *p, int node)
{
	int n = 0;

	for (size_t i = 0; i < NBUCKETS; i++)
		if (buckets[i])
			n += conn_remove_if(p, &buckets[i], is_on_node, &node);
	return n;
}

/* A user's send ban changed: tell the broker of each of their connections,
 * which checks SEND against it without asking us. */
void
mailbox_conn_flags_changed(struct wk_proc *p, const char *uid, int send_ban)
{
	for (struct mconn *c = *bucket(uid); c; c = c->next) {
		struct wk_wbuf b;
		if (strcmp(c->uid, uid) != 0)
			continue;
		wk_wbuf_init(&b);
		wk_put_u64(&b, c->conn_id);
		wk_put_u8(&b, send_ban ? WK_USER_SEND_BAN : 0);
		wk_proc_send_buf_to(p, c->node, WK_ROLE_BROKER, c->broker_id,
		    WK_MSG_BROKER_USER_FLAGS, c->conn_id, &b);
		wk_wbuf_free(&b);
	}
}
