/* channel_beforesend.c - the msg.before_send hook (wk-channel(8)): with
 * webhook.beforeSendUrl set, every message that passed the permission
 * checks is POSTed there before it is stored, and the answer decides:
 *   {"action":"allow"}                      store it as sent
 *   {"action":"reject","reason":N}          refuse it; the SENDACK (or the
 *                                           HTTP answer) carries reason N
 *                                           (2..255; 11 NotAllowSend if absent)
 *   {"action":"rewrite","payload":"<b64>"}  store and deliver this payload
 * Anything else - no answer within webhook.beforeSendTimeout, a status
 * other than 200, an answer that is not one of these - is "no verdict":
 * webhook.beforeSendFailOpen stores the message, otherwise it is refused
 * with 15 (SystemError).  Malformed answers are logged, rate-limited.
 *
 * The call is asynchronous (common/wk_http.c on the shard's own loop):
 * the message is parked, the loop goes on.  At most
 * webhook.beforeSendMaxInFlight calls wait at once; a message past that
 * gets "no verdict" without a call.  Verdicts are handed back per channel
 * in the order the messages came, so a slow answer holds back only later
 * messages of its own channel, never another channel's.
 *
 * Why here and not in the broker: client SENDs and wk-api's /message/send
 * both reach the channel shard, after the checks that would refuse the
 * message anyway, so one place asks for both, and nothing is asked about a
 * message that would not be stored.  With the url empty nothing here runs
 * and libcurl is never initialised. */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "channel.h"
#include "wk_alloc.h"
#include "wk_chmsg.h"
#include "wk_crypto.h"
#include "wk_http.h"
#include "wk_log.h"
#include "wk_msgresp.h"
#include "wk_time.h"
#include "wkproto.h"

#define BS_MAX_CONNS 256L            /* connections kept open to the receiver */
#define BS_MAX_ANSWER (1L << 20)     /* a longer answer is no verdict */

/* One message waiting for its verdict, in arrival order. */
struct call {
	struct call *next;
	char *key;                   /* channel type and id: the order is per key */
	int answered;
	int reason;                  /* the verdict: WKPROTO_REASON_SUCCESS stores */
	uint8_t *payload;            /* a rewrite's payload, or NULL */
	size_t payload_len;
	channel_verdict_fn *fn;
	void *arg;
};

static struct {
	struct call *head, **tail;
	size_t waiting;              /* calls not answered yet */
	uint64_t asked, allowed, rejected, rewritten, failed, overflow;
} bs = { .tail = &bs.head };

static struct wk_ratelimit rl_bad = WK_RATELIMIT_INIT(2);

int
channel_beforesend_is_on(const struct wk_proc *p)
{
	return p->cfg.webhook_beforeSendUrl[0] != '\0';
}

/* "No verdict": store, or refuse with 15, as configured. */
static int
no_verdict(const struct wk_proc *p)
{
	bs.failed++;
	return p->cfg.webhook_beforeSendFailOpen ? WKPROTO_REASON_SUCCESS :
	    WKPROTO_REASON_SYSTEM_ERROR;
}

/* Hand back every answered call with no unanswered one of its channel
 * before it.  At most maxInFlight calls wait, so the scan stays short. */
static void
release(struct wk_proc *p)
{
	struct call **pp = &bs.head, *c;

	while ((c = *pp) != NULL) {
		int blocked = 0;

		if (c->answered)
			for (struct call *e = bs.head; e != c && !blocked; e = e->next)
				blocked = !e->answered && strcmp(e->key, c->key) == 0;
		if (!c->answered || blocked) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		if (bs.tail == &c->next)
			bs.tail = pp;
		struct channel_verdict v = { c->reason, c->payload, c->payload_len };
		c->fn(p, c->arg, &v);
		free(c->payload);
		free(c->key);
		free(c);
	}
}

/* The verdict of an answer body: a reason code, with *payload set for a
 * rewrite; -1 when malformed (why). */
static int
parse_answer(const char *body, size_t len, uint8_t **payload, size_t *plen, const char **why)
{
	json_t *j = json_loadb(body ? body : "", len, 0, NULL), *v;
	const char *action;
	int rc = -1;

	*why = "not a JSON object";
	if (!json_is_object(j))
		goto out;
	*why = "no action allow, reject or rewrite";
	action = json_string_value(json_object_get(j, "action"));
	if (action == NULL)
		goto out;
	if (strcmp(action, "allow") == 0)
		rc = WKPROTO_REASON_SUCCESS;
	else if (strcmp(action, "reject") == 0) {
		v = json_object_get(j, "reason");
		*why = "reject: reason not an integer in 2..255";
		if (v == NULL)
			rc = WKPROTO_REASON_NOT_ALLOW_SEND;
		else if (json_is_integer(v) && json_integer_value(v) >= 2 &&
		    json_integer_value(v) <= 255)
			rc = (int)json_integer_value(v);
	} else if (strcmp(action, "rewrite") == 0) {
		const char *s = json_string_value(json_object_get(j, "payload"));
		size_t n = s ? strlen(s) : 0;
		uint8_t *out = wk_malloc(WK_B64_DECODED_MAX(n) + 1);
		ssize_t got = s ? wk_b64_decode(s, n, out, WK_B64_DECODED_MAX(n) + 1) : -1;

		*why = "rewrite: payload not base64";
		if (got <= 0) {
			if (got == 0)
				*why = "rewrite: empty payload";
			free(out);
		} else {
			*payload = out;
			*plen = (size_t)got;
			rc = WKPROTO_REASON_SUCCESS;
		}
	}
out:
	json_decref(j);
	return rc;
}

/* The receiver answered (status 0: it did not). */
static void
on_answer(struct wk_proc *p, void *arg, long status, const char *body, size_t len)
{
	struct call *c = arg;
	const char *why = NULL;
	int rc = -1;

	bs.waiting--;
	c->answered = 1;
	if (status == 200)
		rc = parse_answer(body, len, &c->payload, &c->payload_len, &why);
	else
		why = status ? "error status" : "no answer";
	if (rc < 0) {
		wk_log_limited(&rl_bad, WK_LOG_WARN, "msg.before_send %s: %s (status %ld), %s",
		    c->key, why, status, p->cfg.webhook_beforeSendFailOpen ? "stored" : "refused");
		rc = no_verdict(p);
	} else if (rc != WKPROTO_REASON_SUCCESS)
		bs.rejected++;
	else if (c->payload)
		bs.rewritten++;
	else
		bs.allowed++;
	c->reason = rc;
	release(p);
}

/* Ask about m (message_id drawn for it).  fn(p, arg, verdict) runs later
 * from the loop, or before this returns when nothing can be asked; either
 * way m's bytes need only live until fn. */
void
channel_beforesend_ask(struct wk_proc *p, const struct wk_chmsg *m, channel_verdict_fn *fn,
    void *arg)
{
	struct call *c = wk_calloc(1, sizeof *c);
	size_t klen = m->channel_id.len + 8;

	c->key = wk_malloc(klen);
	snprintf(c->key, klen, "%u/%.*s", m->channel_type, (int)m->channel_id.len,
	    m->channel_id.p);
	c->fn = fn;
	c->arg = arg;
	*bs.tail = c;
	bs.tail = &c->next;
	bs.asked++;
	if (!wk_http_is_open() && wk_http_open(p, BS_MAX_CONNS, BS_MAX_ANSWER) < 0)
		wk_log_limited(&rl_bad, WK_LOG_WARN, "msg.before_send: cannot start libcurl");
	if (!wk_http_is_open() || bs.waiting >= (size_t)p->cfg.webhook_beforeSendMaxInFlight) {
		if (wk_http_is_open()) {
			bs.overflow++;
			wk_log_limited(&rl_bad, WK_LOG_WARN, "msg.before_send %s: %zu calls in flight",
			    c->key, bs.waiting);
		}
		c->answered = 1;
		c->reason = no_verdict(p);
		release(p);
		return;
	}
	/* The message as the reference's webhooks show it (wk_msgresp), not
	 * stored yet: message_seq 0. */
	json_t *j = wk_msgresp(m);
	char *body = json_dumps(j, JSON_COMPACT);

	json_decref(j);
	bs.waiting++;
	wk_http_post(p, p->cfg.webhook_beforeSendUrl, body, strlen(body),
	    (long)p->cfg.webhook_beforeSendTimeout, on_answer, c);
}

void
channel_beforesend_close(void)
{
	wk_http_close();             /* calls in flight are abandoned with the process */
}

int
channel_beforesend_status(char *buf, size_t len)
{
	if (bs.asked == 0)
		return 0;
	return snprintf(buf, len, " before_send=%llu bs_allowed=%llu bs_rejected=%llu "
	    "bs_rewritten=%llu bs_failed=%llu bs_overflow=%llu bs_waiting=%zu",
	    (unsigned long long)bs.asked, (unsigned long long)bs.allowed,
	    (unsigned long long)bs.rejected, (unsigned long long)bs.rewritten,
	    (unsigned long long)bs.failed, (unsigned long long)bs.overflow, bs.waiting);
}
