/* channel_retention.c - retention (wk-channel(8)): a channel keeps its
 * messages for an age and/or up to a count, its own (POST
 * /channel/retention, CHANNEL_RETENTION) or the configured default
 * (channel.retentionDays, channel.retentionCount); older ones are deleted
 * from messages.db, with their client_msg_no rows, in the background; each
 * record is overwritten with zeros before it is deleted, so the page does
 * not keep its bytes in its free space.
 *
 * The deletion never stalls the shard's loop: each step (the 500 ms tick)
 * deletes at most channel.retentionBatch messages and looks at most
 * STEP_CHANNELS channel records, in the iteration's transaction like any
 * write, and the next step resumes at the channel where this one stopped,
 * wrapping around channels.db.  A channel's record keeps the oldest seq
 * it still has (first_seq), which /channel/messagesync reports as
 * history_start_seq.  A message goes by age when its timestamp is older
 * than the age; the walk from the oldest stops at the first message that
 * stays, so one with a clock set back waits for its newer predecessor.
 * Uses the store's internals (channel_store.h), as the store files do.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "channel_store.h"
#include "wk_buf.h"
#include "wk_db.h"
#include "wk_log.h"
#include "wk_time.h"

#define STEP_CHANNELS 256            /* channel records looked at per step */
#define DAY_SECS 86400u

static struct {
	uint8_t resume[1 + CHANNEL_ID_MAX];   /* channels.db key to start the next step at */
	size_t resume_len;                    /* 0: from the first */
	uint64_t deleted, steps;
	uint64_t step_max_us;                 /* the longest step (not its commit) */
} rs;

int
channel_history_start(struct wk_proc *p, const char *id, uint8_t type, uint32_t *first)
{
	struct channel_rec *c = channel_rec_get(p, id, type, 0);

	*first = 0;
	if (c == NULL)
		return -1;
	if (c->num != 0 && c->first_seq > 1)
		*first = c->first_seq;
	return 0;
}

int
channel_retention_set(struct wk_proc *p, const char *id, uint8_t type, uint32_t secs,
    uint32_t count, uint32_t *first)
{
	struct channel_rec *c = channel_rec_get(p, id, type, 1);

	if (c == NULL)
		return channel_store_op_failed(p);
	c->ret_secs = secs;
	c->ret_count = count;
	c->updated_ms = (uint64_t)wk_wall_ms();
	*first = c->first_seq > 1 ? c->first_seq : 0;
	return 0;
}

/* Delete the client_msg_no row of message m of channel num if it names m. */
static int
drop_cmn(struct wk_proc *p, uint64_t num, const struct channel_msg *m)
{
	DB *db = p->db[CHANNEL_DB_CLIENTMSGNO];
	struct wk_wbuf k;
	uint8_t b[CHANNEL_NUM_SIZE], v[12];
	int rc;

	if (m->client_msg_no_len == 0)
		return 0;
	wk_wbuf_init(&k);
	wk_be64_put(b, num);
	wk_put_mem(&k, b, CHANNEL_NUM_SIZE);
	wk_put_strn(&k, m->client_msg_no, m->client_msg_no_len);
	wk_put_mem(&k, m->from_uid, m->from_uid_len);
	DBT key = { .data = k.p, .size = (u_int32_t)k.len };
	DBT data = { .data = v, .ulen = sizeof v, .flags = DB_DBT_USERMEM };
	rc = db->get(db, channel_txn(p), &key, &data, 0);
	if (rc == 0 && data.size == 12 && wk_be32_get(v + 8) == m->seq) {
		wk_db_writes++;
		rc = db->del(db, channel_txn(p), &key, 0);
	} else if (rc == DB_NOTFOUND || (rc == 0 && data.size == 12))
		rc = 0;              /* none, or a newer message took the client_msg_no */
	wk_wbuf_free(&k);
	return rc;
}

/* Delete channel c's messages past its retention, at most *budget of
 * them: 0 (*budget lowered), or -1 (the transaction is marked failed). */
static int
trim(struct wk_proc *p, struct channel_rec *c, uint32_t secs, uint32_t count, size_t *budget)
{
	uint8_t k[CHANNEL_NUM_SIZE + 4];
	DBT key = { .data = k, .size = sizeof k }, data = { 0 };
	uint32_t cut = count && c->last_seq > count ? c->last_seq - count : 0, seq, next = 0;
	int64_t before = secs ? wk_wall_ms() / 1000 - (int64_t)secs : INT64_MIN;
	struct channel_msg m;
	DBC *cur;
	int rc;

	if ((cur = channel_store_cursor(p, CHANNEL_DB_MESSAGES)) == NULL)
		return channel_store_op_failed(p);
	wk_be64_put(k, c->num);
	wk_be32_put(k + CHANNEL_NUM_SIZE, c->first_seq > 1 ? c->first_seq : 1);
	for (rc = wk_db_cget(cur, &key, &data, DB_SET_RANGE); rc == 0 && *budget > 0;
	    rc = wk_db_cget(cur, &key, &data, DB_NEXT)) {
		if (key.size != sizeof k || memcmp(key.data, k, CHANNEL_NUM_SIZE) != 0) {
			rc = DB_NOTFOUND;
			break;
		}
		seq = wk_be32_get((uint8_t *)key.data + CHANNEL_NUM_SIZE);
		if (channel_msg_decode(&m, seq, data.data, data.size) < 0) {
			wk_log_warnx("channel %s/%u: message %u: bad record", c->id, c->type, seq);
			rc = EINVAL;
			break;
		}
		if (seq > cut && (int64_t)m.timestamp >= before)
			break;           /* the oldest message that stays */
		if ((rc = drop_cmn(p, c->num, &m)) != 0 ||
		    (rc = channel_msg_scrub_current(cur, data.size)) != 0)
			break;
		wk_db_writes++;
		if ((rc = cur->del(cur, 0)) != 0)
			break;
		if (c->newest_seq == seq)
			channel_rec_newest_set(c, 0, NULL, 0);
		next = seq + 1;
		(*budget)--;
		rs.deleted++;
	}
	cur->close(cur);
	wk_db_dbt_free(&key, &data);
	if (rc != 0 && rc != DB_NOTFOUND)
		return channel_store_write_failed("retention", c->id, c->type, rc);
	if (next) {
		c = channel_rec_get(p, c->id, c->type, 1);   /* dirty: first_seq is written */
		c->first_seq = next;
	}
	return 0;
}

/* Up to STEP_CHANNELS channels.db keys from the resume point into keys
 * (each a u8 type then the id, NUL-terminated); how many, -1 on error.
 * At the end of channels.db the resume point goes back to the start. */
static int
next_channels(struct wk_proc *p, char (*ids)[CHANNEL_ID_MAX + 1], uint8_t *types)
{
	DBC *cur = channel_store_cursor(p, CHANNEL_DB_CHANNELS);
	DBT key = { .data = rs.resume, .size = (u_int32_t)rs.resume_len };
	DBT data = { .flags = DB_DBT_PARTIAL };
	int n = 0, rc;

	if (cur == NULL)
		return -1;
	rc = wk_db_cget(cur, &key, &data, rs.resume_len ? DB_SET_RANGE : DB_FIRST);
	for (; rc == 0 && n < STEP_CHANNELS; rc = wk_db_cget(cur, &key, &data, DB_NEXT)) {
		if (key.size < 1 || key.size > 1 + CHANNEL_ID_MAX)
			continue;
		types[n] = ((const uint8_t *)key.data)[0];
		memcpy(ids[n], (const char *)key.data + 1, key.size - 1);
		ids[n][key.size - 1] = '\0';
		n++;
	}
	if (rc == 0) {                   /* the next step starts at this one */
		memcpy(rs.resume, key.data, key.size);
		rs.resume_len = key.size;
	} else
		rs.resume_len = 0;
	cur->close(cur);
	wk_db_dbt_free(&key, &data);
	if (rc != 0 && rc != DB_NOTFOUND) {
		wk_log_warnx("retention: channels.db walk: %s", db_strerror(rc));
		return -1;
	}
	return n;
}

/* The resume point: back to channel (type, id), its trim not done. */
static void
resume_at(const char *id, uint8_t type)
{
	size_t n = strlen(id);

	rs.resume[0] = type;
	memcpy(rs.resume + 1, id, n);
	rs.resume_len = n + 1;
}

static void
step(struct wk_proc *p)
{
	static char ids[STEP_CHANNELS][CHANNEL_ID_MAX + 1];
	static uint8_t types[STEP_CHANNELS];
	uint32_t dsecs = (uint32_t)p->cfg.channel_retentionDays * DAY_SECS;
	uint32_t dcount = (uint32_t)p->cfg.channel_retentionCount;
	size_t budget = (size_t)p->cfg.channel_retentionBatch;
	int n = next_channels(p, ids, types);

	rs.steps++;
	for (int i = 0; i < n; i++) {
		struct channel_rec *c = channel_rec_get(p, ids[i], types[i], 0);
		uint32_t secs, count;

		if (c == NULL)
			return;
		secs = c->ret_secs == CHANNEL_RETENTION_DEFAULT ? dsecs : c->ret_secs;
		count = c->ret_count == CHANNEL_RETENTION_DEFAULT ? dcount : c->ret_count;
		if (c->num == 0 || (secs == 0 && count == 0))
			continue;
		if (trim(p, c, secs, count, &budget) < 0)
			return;
		if (budget == 0) {
			resume_at(ids[i], types[i]);   /* it may have more to go */
			return;
		}
	}
}

void
channel_retention_step(struct wk_proc *p)
{
	uint64_t t0 = wk_now_us(), us;

	step(p);
	if ((us = wk_now_us() - t0) > rs.step_max_us)
		rs.step_max_us = us;
}

int
channel_retention_status(char *buf, size_t len)
{
	return snprintf(buf, len, " retention_deleted=%llu retention_steps=%llu"
	    " retention_step_max_us=%llu", (unsigned long long)rs.deleted,
	    (unsigned long long)rs.steps, (unsigned long long)rs.step_max_us);
}
