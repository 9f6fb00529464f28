/* wk_proc_send.c - the skeleton's sending side (wk_proc.h, wk(7)): a PUSH
 * socket per peer made on first use, and the batch waiting for each: what
 * one loop iteration sends a peer leaves as one BATCH message when the
 * skeleton flushes (after the inbox is drained, after the producers), so
 * a hop costs one ZeroMQ message and one wake-up per iteration.  Queues
 * are bounded in bytes (limits.internalQueue). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "wk_alloc.h"
#include "wk_buf.h"
#include "wk_cluster.h"
#include "wk_log.h"
#include "wk_proc.h"

#define BATCH_FLUSH 65536  /* a peer's batch is sent once it would pass this (bytes) */
#define BATCH_ALONE 16384  /* a message this large is sent by itself */
#define BATCH_WAIT_MAX (16 * BATCH_FLUSH) /* bytes that may wait for a full peer */

/* ZeroMQ's queue per peer, in messages: limits.internalQueue bytes of
 * batches of at most BATCH_FLUSH bytes. */
int
wk_proc_queue_msgs(const struct wk_proc *p)
{
	int64_t n = (int64_t)p->cfg.limits_internalQueue / BATCH_FLUSH;
	return n < 16 ? 16 : n > 1000000 ? 1000000 : (int)n;
}

/* The header of a message of `type` from this process. */
static struct wk_msg_hdr
proc_hdr(const struct wk_proc *p, int type, uint64_t corr, uint32_t key)
{
	return (struct wk_msg_hdr){
		.version = WK_MSG_VERSION, .type = (uint16_t)type,
		.sender_role = (uint8_t)p->def->role, .sender_instance = (uint16_t)p->instance,
		.sender_node = (uint8_t)p->node, .corr = corr, .key = key,
	};
}

/* A message with only its header frame, from this process: the caller
 * appends the payload frames. */
zmsg_t *
wk_proc_msg(struct wk_proc *p, int type, uint64_t corr, uint32_t key)
{
	struct wk_msg_hdr h = proc_hdr(p, type, corr, key);
	return wk_msg_new(&h);
}

/* A PUSH socket to another process and the BATCH payload waiting for it. */
struct wk_proc_peer {
	zsock_t *sock;
	struct wk_wbuf out;          /* messages one after another (wk_msg_batch_put) */
	uint32_t n;                  /* how many */
	int dirty;                   /* on p->dirty */
	int full;                    /* the last flush found its queue full */
	int direct;                  /* a tool (ctl): never batched */
	int remote;                  /* on another host: always batched (a new
	                              * connection's first send would fail) */
};

/* A PUSH socket connected to ep, bounded like every internal queue
 * (limits.internalQueue, in batches of at most BATCH_FLUSH bytes): a full
 * peer is reported as WK_EAGAIN, never waited for.  To another host
 * (remote) ZMQ_IMMEDIATE: nothing queues for a host that is not
 * connected, so a dead host's messages wait in our batch, where the
 * cluster routing can take them back (wk_proc_take_waiting). */
static struct wk_proc_peer *
peer_new(struct wk_proc *p, char *ep, int direct, int remote)
{
	zsock_t *s = zsock_new(ZMQ_PUSH);

	zsock_set_sndhwm(s, wk_proc_queue_msgs(p));
	zsock_set_sndtimeo(s, 0);
	zsock_set_linger(s, 1000);
	if (remote)
		zsock_set_immediate(s, 1);
	if (ep == NULL || zsock_connect(s, "%s", ep) < 0) {
		wk_log_warnx("connect %s failed", ep ? ep : "(no endpoint)");
		zsock_destroy(&s);
		free(ep);
		return NULL;
	}
	free(ep);
	struct wk_proc_peer *pp = wk_calloc(1, sizeof *pp);
	pp->sock = s;
	pp->direct = direct;
	pp->remote = remote;
	wk_wbuf_init(&pp->out);
	p->dirty = wk_realloc(p->dirty, (size_t)(++p->npeer_all) * sizeof *p->dirty);
	return pp;
}

/* The peer (role, instance), its socket connected on first use. */
static struct wk_proc_peer *
peer(struct wk_proc *p, int role, int instance)
{
	if (role < 0 || role >= WK_ROLE_COUNT || instance < 0 || instance > 65535)
		return NULL;
	if (instance >= p->npeers[role]) {
		int n = instance + 1;
		p->peers[role] = wk_realloc(p->peers[role], n * sizeof *p->peers[role]);
		memset(p->peers[role] + p->npeers[role], 0,
		    (n - p->npeers[role]) * sizeof *p->peers[role]);
		p->npeers[role] = n;
	}
	if (p->peers[role][instance] == NULL)
		p->peers[role][instance] = peer_new(p, wk_proc_endpoint(&p->cfg, role, instance),
		    role == WK_ROLE_CTL, 0);
	return p->peers[role][instance];
}

/* Index of (node, role, instance) in p->remote. */
#define REMOTE_SLOTS (WK_CLUSTER_MAX * WK_ROLE_COUNT * 256)
#define REMOTE_INDEX(node, role, instance) \
	((((node) - 1) * WK_ROLE_COUNT + (role)) * 256 + (instance))

/* The peer (role, instance) on host `node`: this host's own through ipc. */
static struct wk_proc_peer *
peer_at(struct wk_proc *p, int node, int role, int instance)
{
	if (node == 0 || node == p->node)
		return peer(p, role, instance);
	if (node < 0 || node > WK_CLUSTER_MAX || role <= WK_ROLE_MASTER || role >= WK_ROLE_CTL ||
	    instance < 0 || instance > 255)
		return NULL;
	if (p->remote == NULL)
		p->remote = wk_calloc(REMOTE_SLOTS, sizeof *p->remote);
	struct wk_proc_peer **slot = &p->remote[REMOTE_INDEX(node, role, instance)];
	/* A host taken out gets no socket (and nothing sent): checked when
	 * the socket would be made, not on every send. */
	if (*slot == NULL && wk_cluster_member(&p->cfg, node))
		*slot = peer_new(p, wk_cluster_endpoint(&p->cfg, node, role, instance), 0, 1);
	return *slot;
}

/* The loop wakes (timers run before the iteration, which flushes) to try
 * a full peer again. */
static void
proc_on_flush_retry(struct wk_loop *l, uint64_t id, void *arg)
{
	((struct wk_proc *)arg)->flush_retry = 0;
}

/* Send pp's waiting messages as one BATCH.  0 (sent or nothing waiting),
 * WK_EAGAIN (the peer's queue is full: kept for the next try) or -1 (an
 * error: the messages are counted in send_drops and dropped). */
static int
peer_flush(struct wk_proc *p, struct wk_proc_peer *pp)
{
	if (pp->n == 0)
		return 0;
	zmsg_t *m = wk_proc_msg(p, WK_MSG_BATCH, 0, 0);
	zmsg_addmem(m, pp->out.p, pp->out.len);
	if (zmsg_send(&m, pp->sock) < 0) {
		int again = errno == EAGAIN;
		zmsg_destroy(&m);
		if (again) {
			pp->full = 1;
			return WK_EAGAIN;
		}
		p->send_drops += pp->n;
	}
	pp->full = 0;
	pp->n = 0;
	pp->out.len = 0;
	if (pp->out.cap > 4 * BATCH_FLUSH) {   /* after a backlog: give the room back */
		wk_wbuf_free(&pp->out);
		wk_wbuf_init(&pp->out);
	}
	return 0;
}

/* Send every waiting batch; a peer that is full keeps its batch, and a
 * timer wakes the loop to try again. */
void
wk_proc_flush(struct wk_proc *p)
{
	int kept = 0, local = 0;

	for (int i = 0; i < p->ndirty; i++) {
		struct wk_proc_peer *pp = p->dirty[i];
		if (peer_flush(p, pp) == WK_EAGAIN) {
			p->dirty[kept++] = pp;
			local += !pp->remote;
		} else
			pp->dirty = 0;
	}
	p->ndirty = kept;
	/* Another host that is not connected (down, or not up yet) is tried
	 * every 50 ms, not every millisecond: it may stay away for long. */
	if (kept && !p->flush_retry && p->loop) {
		p->flush_retry = 1;
		wk_loop_timer(p->loop, local ? 1 : 50, 0, proc_on_flush_retry, p);
	}
}

/* Room for len more bytes in pp's batch: a batch that would pass
 * BATCH_FLUSH is sent first (unless the peer was full: the flush at the
 * end of the iteration, or its retry timer, tries again, not every send);
 * 0, or WK_EAGAIN, counted in send_drops, when BATCH_WAIT_MAX bytes
 * already wait for a full peer. */
static int
peer_room(struct wk_proc *p, struct wk_proc_peer *pp, size_t len)
{
	if (pp->n && !pp->full && pp->out.len + len > BATCH_FLUSH)
		peer_flush(p, pp);
	if (pp->n && pp->out.len + len > BATCH_WAIT_MAX) {
		p->send_drops++;
		return WK_EAGAIN;
	}
	if (!pp->dirty) {
		pp->dirty = 1;
		p->dirty[p->ndirty++] = pp;
	}
	return 0;
}

/* A message that does not wait for a batch: to a tool, or one so large
 * that copying it into a batch costs more than its own send.  What waits
 * for the peer goes first, so order holds. */
static int
peer_send_now(struct wk_proc *p, struct wk_proc_peer *pp, zmsg_t **msg)
{
	if (pp->full || peer_flush(p, pp) == WK_EAGAIN || zmsg_send(msg, pp->sock) < 0) {
		zmsg_destroy(msg);
		p->send_drops++;
		return WK_EAGAIN;
	}
	p->msgs_out++;
	return 0;
}

/* Send msg (always consumed) to (role, instance). Never blocks: a peer
 * that is not taking messages, with BATCH_WAIT_MAX bytes waiting for it,
 * gives WK_EAGAIN, and the caller chooses (retry, drop, answer busy);
 * every failed send counts in send_drops. */
static int
peer_send(struct wk_proc *p, struct wk_proc_peer *pp, zmsg_t **msg)
{
	size_t len = 2;

	if (pp == NULL) {
		zmsg_destroy(msg);
		return -1;
	}
	for (zframe_t *f = zmsg_first(*msg); f; f = zmsg_next(*msg))
		len += 4 + zframe_size(f);
	if (pp->direct || (len >= BATCH_ALONE && !pp->remote))
		return peer_send_now(p, pp, msg);
	if (peer_room(p, pp, len) < 0) {
		zmsg_destroy(msg);
		return WK_EAGAIN;
	}
	wk_msg_batch_put(&pp->out, *msg);
	pp->n++;
	zmsg_destroy(msg);
	p->msgs_out++;
	return 0;
}

/* Send a message whose n payload frames are given as pointers (copied;
 * they stay the caller's): straight into the peer's batch, no zmsg_t
 * made. */
static int
peer_send_frames(struct wk_proc *p, struct wk_proc_peer *pp, int type, uint64_t corr, int n,
    const void *const *frames, const size_t *lens)
{
	size_t len = 2 + 4 + WK_MSG_HDR_SIZE;

	if (pp == NULL)
		return -1;
	for (int i = 0; i < n; i++)
		len += 4 + lens[i];
	if (pp->direct || (len >= BATCH_ALONE && !pp->remote)) {
		zmsg_t *m = wk_proc_msg(p, type, corr, 0);
		for (int i = 0; i < n; i++)
			zmsg_addmem(m, frames[i], lens[i]);
		return peer_send_now(p, pp, &m);
	}
	if (peer_room(p, pp, len) < 0)
		return WK_EAGAIN;
	struct wk_msg_hdr h = proc_hdr(p, type, corr, 0);
	wk_msg_batch_putv(&pp->out, &h, n, frames, lens);
	pp->n++;
	p->msgs_out++;
	return 0;
}

/* One payload frame, b. */
static int
peer_send_buf(struct wk_proc *p, struct wk_proc_peer *pp, int type, uint64_t corr,
    const struct wk_wbuf *b)
{
	const void *f = b->p;

	return peer_send_frames(p, pp, type, corr, 1, &f, &b->len);
}

int
wk_proc_send(struct wk_proc *p, int role, int instance, zmsg_t **msg)
{
	return peer_send(p, peer(p, role, instance), msg);
}

int
wk_proc_send_to(struct wk_proc *p, int node, int role, int instance, zmsg_t **msg)
{
	return peer_send(p, peer_at(p, node, role, instance), msg);
}

int
wk_proc_send_buf(struct wk_proc *p, int role, int instance, int type, uint64_t corr,
    const struct wk_wbuf *b)
{
	return peer_send_buf(p, peer(p, role, instance), type, corr, b);
}

int
wk_proc_send_buf_to(struct wk_proc *p, int node, int role, int instance, int type,
    uint64_t corr, const struct wk_wbuf *b)
{
	return peer_send_buf(p, peer_at(p, node, role, instance), type, corr, b);
}

int
wk_proc_send_frames_to(struct wk_proc *p, int node, int role, int instance, int type,
    uint64_t corr, int n, const void *const *frames, const size_t *lens)
{
	return peer_send_frames(p, peer_at(p, node, role, instance), type, corr, n, frames, lens);
}

/* The header is kept: the master's reply goes to the original sender. */
int
wk_proc_forward(struct wk_proc *p, int node, zmsg_t **msg)
{
	zframe_t *f = zmsg_first(*msg);

	zframe_data(f)[3] |= WK_MSG_F_FORWARDED;  /* flags byte of the header */
	return wk_proc_send_to(p, node, p->def->role, p->instance, msg);
}

uint32_t
wk_proc_take_waiting(struct wk_proc *p, int node, int role, int instance, struct wk_wbuf *out)
{
	struct wk_proc_peer *pp = peer_at(p, node, role, instance);
	uint32_t n;

	out->len = 0;
	if (pp == NULL || pp->n == 0)
		return 0;
	wk_put_mem(out, pp->out.p, pp->out.len);
	n = pp->n;
	pp->n = 0;
	pp->out.len = 0;
	pp->full = 0;
	return n;
}

/* The same message to instances 0..count-1 of role; a failed send to one
 * does not stop the others. */
void
wk_proc_broadcast(struct wk_proc *p, int role, int count, int type, const struct wk_wbuf *b)
{
	for (int i = 0; i < count; i++)
		wk_proc_send_buf(p, role, i, type, 0, b);
}

void
wk_proc_broadcast_hosts(struct wk_proc *p, int role, int count, int type,
    const struct wk_wbuf *b)
{
	int hosts = wk_cluster_count(&p->cfg);

	for (int node = hosts ? 1 : 0; node <= hosts; node++)
		for (int i = 0; i < count && (node == 0 || wk_cluster_member(&p->cfg, node)); i++)
			wk_proc_send_buf_to(p, node, role, i, type, 0, b);
}

/* Answer request req: its corr and key are echoed and the reply flag is
 * set, so that the requester can match it; payload's frames are moved, not
 * copied. */
int
wk_proc_reply(struct wk_proc *p, const struct wk_msg_hdr *req, int type, zmsg_t **payload)
{
	zmsg_t *m = wk_proc_msg(p, type, req->corr, req->key);
	zframe_t *f = zmsg_first(m);

	zframe_data(f)[3] |= WK_MSG_F_REPLY;  /* flags byte of the header */
	if (payload && *payload) {
		while ((f = zmsg_pop(*payload)) != NULL)
			zmsg_append(m, &f);
		zmsg_destroy(payload);
	}
	return wk_proc_send_to(p, req->sender_node, req->sender_role, req->sender_instance, &m);
}

size_t
wk_proc_waiting_bytes(const struct wk_proc *p, int *full)
{
	size_t n = 0;

	*full = 0;
	for (int i = 0; i < p->ndirty; i++) {
		n += p->dirty[i]->out.len;
		*full += p->dirty[i]->full;
	}
	return n;
}

/* At exit: every socket (linger sends what ZeroMQ still holds) and batch. */
void
wk_proc_peers_free(struct wk_proc *p)
{
	for (int r = 0; r < WK_ROLE_COUNT; r++) {
		for (int i = 0; i < p->npeers[r]; i++) {
			struct wk_proc_peer *pp = p->peers[r][i];
			if (pp == NULL)
				continue;
			zsock_destroy(&pp->sock);
			wk_wbuf_free(&pp->out);
			free(pp);
		}
		free(p->peers[r]);
		p->peers[r] = NULL;
		p->npeers[r] = 0;
	}
	for (int i = 0; p->remote && i < REMOTE_SLOTS; i++) {
		struct wk_proc_peer *pp = p->remote[i];
		if (pp == NULL)
			continue;
		zsock_destroy(&pp->sock);
		wk_wbuf_free(&pp->out);
		free(pp);
	}
	wk_free(&p->remote);
	free(p->dirty);
	p->dirty = NULL;
	p->ndirty = 0;
}
