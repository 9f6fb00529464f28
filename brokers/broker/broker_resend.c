/* broker_resend.c - in a cluster, a SEND that a channel shard's master took
 * with it when it died is passed on again (wk-cluster(7), wk-broker(8)).
 *
 * Each stored SEND with a client_msg_no waits here, a copy of what was
 * passed to the shard, until its SENDACK.  One waiting RESEND_MS or more,
 * whose shard answered nothing in that time (it is gone, not slow), goes
 * again every RESEND_MS, flagged WK_MSG_F_AGAIN: the copy here forwards it
 * to the new master, or refuses it at once (reason 15) when there is none;
 * the channel's de-duplication (sender, client_msg_no) stores it once.  A
 * SEND passed n times gets up to n SENDACKs: the first success is passed
 * to the client, a failure only once every pass failed (then none was
 * stored); the entry is kept KEEP_MS after that and later ones are
 * dropped, so the client and the send window see one.  Bounded: PEND_MAX entries, PEND_BYTES_MAX bytes; past
 * that a SEND is not kept (it is lost with a dying master, as before).
 * One host: nothing is kept. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "broker.h"
#include "wk_alloc.h"
#include "wk_buf.h"
#include "wk_chmsg.h"
#include "wk_cluster.h"
#include "wk_map.h"
#include "wk_time.h"
#include "wkproto.h"

#define RESEND_MS 1000
#define KEEP_MS 10000          /* a resent SEND's entry after its first SENDACK */
#define GIVE_UP_MS 15000       /* no SENDACK at all: as broker_window.c's lost */
#define PEND_MAX 65536
#define PEND_BYTES_MAX (64u << 20)
#define KEY_LEN 12             /* connection id, client_seq */

struct pend {
	struct pend *prev, *next;    /* in the order sent */
	uint64_t conn;
	uint32_t client_seq;
	int shard;
	uint64_t sent_ms, resend_ms;
	int asked, failed;           /* passes made; of their SENDACKs, failures */
	int acked;                   /* the client has its SENDACK */
	size_t len;
	uint8_t data[];              /* the CHANNEL_APPEND payload */
};

static struct {
	struct wk_map map;
	struct pend *head, *tail;
	size_t n, bytes;
	uint64_t resends, dups;
	uint64_t answered_ms[256];   /* when each channel shard last acknowledged */
} rs;

static void
key_of(uint8_t k[KEY_LEN], uint64_t conn, uint32_t client_seq)
{
	wk_be64_put(k, conn);
	wk_be32_put(k + 8, client_seq);
}

static void
unlink_free(struct pend *e)
{
	uint8_t k[KEY_LEN];

	key_of(k, e->conn, e->client_seq);
	wk_map_del(&rs.map, k, sizeof k);
	if (e->prev)
		e->prev->next = e->next;
	else
		rs.head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		rs.tail = e->prev;
	rs.n--;
	rs.bytes -= e->len;
	free(e);
}

void
broker_resend_keep(struct broker_conn *c, uint32_t client_seq, int shard,
    const struct wk_chmsg *m, const struct wk_wbuf *b)
{
	uint8_t k[KEY_LEN];
	struct pend *e;

	if (!wk_cluster_on(&broker.proc->cfg) || m->client_msg_no.len == 0 ||
	    (m->flags & WKPROTO_FLAG_NOPERSIST) || shard < 0 || shard >= 256 ||
	    rs.n >= PEND_MAX || rs.bytes + b->len > PEND_BYTES_MAX)
		return;
	key_of(k, c->id, client_seq);
	if (wk_map_get(&rs.map, k, sizeof k) != NULL)
		return;   /* a client_seq used again before its SENDACK: the first is kept */
	e = wk_malloc(sizeof *e + b->len);
	*e = (struct pend){ .conn = c->id, .client_seq = client_seq, .shard = shard,
	    .sent_ms = wk_now_ms(), .asked = 1, .len = b->len };
	memcpy(e->data, b->p, b->len);
	wk_map_set(&rs.map, k, sizeof k, e);
	e->prev = rs.tail;
	if (rs.tail)
		rs.tail->next = e;
	else
		rs.head = e;
	rs.tail = e;
	rs.n++;
	rs.bytes += e->len;
}

int
broker_resend_acked(uint64_t conn, uint32_t client_seq, unsigned shard, int ok)
{
	uint8_t k[KEY_LEN];
	struct pend *e;

	if (shard < 256)
		rs.answered_ms[shard] = wk_now_ms();
	if (rs.n == 0)
		return 0;
	key_of(k, conn, client_seq);
	if ((e = wk_map_get(&rs.map, k, sizeof k)) == NULL)
		return 0;
	if (e->acked || (!ok && e->asked > 1 && ++e->failed < e->asked)) {
		rs.dups++;
		return 1;        /* after the one passed on, or a failure while a pass may succeed */
	}
	if (e->asked > 1)
		e->acked = 1;    /* kept KEEP_MS for the other answers */
	else
		unlink_free(e);
	return 0;
}

void
broker_resend_tick(void)
{
	struct wk_proc *p = broker.proc;
	uint64_t now = wk_now_ms();
	struct pend *e, *next;

	for (e = rs.head; e; e = next) {
		next = e->next;
		if (e->acked || now - e->sent_ms >= GIVE_UP_MS) {
			if (now - e->sent_ms >= (e->acked ? KEEP_MS : GIVE_UP_MS))
				unlink_free(e);
			continue;
		}
		if (now - e->sent_ms < RESEND_MS)
			break;
		if (e->resend_ms > now || now - rs.answered_ms[e->shard] < RESEND_MS)
			continue;
		if (broker_conn_find(e->conn) == NULL) {
			unlink_free(e);      /* its connection is gone: no one to answer */
			continue;
		}
		zmsg_t *m = wk_proc_msg(p, WK_MSG_CHANNEL_APPEND, e->conn, 0);
		zframe_data(zmsg_first(m))[3] |= WK_MSG_F_AGAIN;   /* the header's flags */
		zmsg_addmem(m, e->data, e->len);
		e->resend_ms = now + RESEND_MS;
		if (wk_proc_send(p, WK_ROLE_CHANNEL, e->shard, &m) == 0) {
			e->asked++;
			rs.resends++;
		}
	}
}

int
broker_resend_status(char *buf, size_t len)
{
	return snprintf(buf, len, " resend_waiting=%zu resends=%llu resend_dups=%llu", rs.n,
	    (unsigned long long)rs.resends, (unsigned long long)rs.dups);
}
