/* check_rep.c - common/wk_rep.c with three real sites: three processes,
 * each a Berkeley DB environment replicated by the replication manager over
 * TCP on 127.0.0.1.  Whichever site the election makes master appends
 * numbered records, and reports each commit wk_rep_commit calls durable
 * on a quorum.  The test kills that master with SIGKILL, waits for another
 * master to acknowledge writes, kills everyone, and then reads the new
 * master's files: every acknowledged record is there, with the value its
 * writer gave it, and the numbers run without a gap. */
#include <check.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "wk_db.h"
#include "wk_rep.h"
#include "wktest.h"

#define NSITES 3
#define MAXSEQ 200000
#define BEFORE 100          /* acknowledged records before the kill */
#define AFTER 100           /* acknowledged by the new master after it */

static void
be64(uint8_t k[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		k[i] = (uint8_t)v;
}

static uint64_t
unbe64(const uint8_t *k)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | k[i];
	return v;
}

/* The highest number in db, 0 if empty; -1 on an error. */
static int64_t
last_seq(DB_ENV *env, DB *db)
{
	DB_TXN *txn;
	DBC *c;
	DBT k = { 0 }, d = { 0 };
	int64_t seq = -1;
	int rc;

	if (env->txn_begin(env, NULL, &txn, 0) != 0)
		return -1;
	if (db->cursor(db, txn, &c, 0) == 0) {
		rc = wk_db_cget(c, &k, &d, DB_LAST);
		seq = rc == 0 && k.size == 8 ? (int64_t)unbe64(k.data) : rc == DB_NOTFOUND ? 0 : -1;
		c->close(c);
		wk_db_dbt_free(&k, &d);
	}
	txn->commit(txn, 0);
	return seq;
}

/* One site: as master, append record seq+1 = "<site>:<seq+1>" and report
 * "<site> A <seq>" when a quorum has it ("F" when not); as client, wait.
 * The handle stays open across role changes (closing one during a lockout
 * waits inside the library); only a rollback (DB_REP_HANDLE_DEAD) makes it
 * reopen. */
static void __attribute__((noreturn))
site_main(int i, const char *dir, const struct wk_rep_config *cfg, int out)
{
	struct wk_db_env e;
	struct wk_rep rep;
	DB *db = NULL;
	int64_t seq = -1;           /* -1: to be read again (a new mastership) */
	uint64_t changes = 0;
	struct timespec pace = { 0, 2000000 };

	if (wk_db_env_open_rep(&e, dir, "fsync", 8 << 20, &rep, cfg) < 0)
		_exit(2);
	for (;; nanosleep(&pace, NULL)) {
		DB_TXN *txn;
		uint8_t k[8];
		char v[32];
		int rc;

		if (rep.role_changes != changes) {
			changes = rep.role_changes;
			seq = -1;
		}
		if (rep.role != WK_REP_MASTER)
			continue;               /* a client has nothing to do */
		if (db == NULL && wk_db_open(&e, "log", &db) < 0)
			continue;               /* a lockout while the clients sync */
		if (seq < 0 && (seq = last_seq(e.env, db)) < 0)
			continue;
		be64(k, (uint64_t)seq + 1);
		snprintf(v, sizeof v, "%d:%lld", i, (long long)seq + 1);
		DBT key = { .data = k, .size = 8 }, data = { .data = v, .size = (u_int32_t)strlen(v) };
		if ((rc = e.env->txn_begin(e.env, NULL, &txn, 0)) == 0 &&
		    (rc = db->put(db, txn, &key, &data, 0)) != 0)
			txn->abort(txn);
		else if (rc == 0)
			rc = wk_rep_commit(txn);
		if (rc == 0 || rc == WK_REP_NOT_DURABLE) {
			seq++;
			dprintf(out, "%d %c %lld\n", i, rc == 0 ? 'A' : 'F', (long long)seq);
		} else if (rc == DB_REP_HANDLE_DEAD) {
			db->close(db, DB_NOSYNC);
			db = NULL;
			seq = -1;
		} else
			seq = -1;               /* lockout, deadlock: read it again */
	}
}

struct run {
	pid_t pid[NSITES];
	char *dir[NSITES];
	FILE *in;
	int8_t acked_by[MAXSEQ + 1];    /* -1: not acknowledged */
	int acks[NSITES];
};

/* Read the sites' reports until site `want` (or any site but `not`, when
 * want is -1) has `n` acknowledgements, or timeout_ms passes; the site. */
static int
wait_acks(struct run *r, int want, int not, int n, int timeout_ms)
{
	uint64_t end = wkt_now_ms() + (uint64_t)timeout_ms;
	char line[128];

	while (wkt_now_ms() < end) {
		struct pollfd pfd = { .fd = fileno(r->in), .events = POLLIN };
		if (poll(&pfd, 1, 200) <= 0 || fgets(line, sizeof line, r->in) == NULL)
			continue;
		int site;
		char kind;
		long long seq;
		if (sscanf(line, "%d %c %lld", &site, &kind, &seq) != 3 || site < 0 ||
		    site >= NSITES || seq < 1 || seq > MAXSEQ)
			ck_abort_msg("bad report: %s", line);
		if (kind != 'A')
			continue;
		ck_assert_msg(r->acked_by[seq] < 0, "record %lld acknowledged by sites %d and %d",
		    seq, r->acked_by[seq], site);
		r->acked_by[seq] = (int8_t)site;
		r->acks[site]++;
		if ((want < 0 ? site != not : site == want) && r->acks[site] >= n)
			return site;
	}
	return -1;
}

START_TEST(test_rep_quorum_survives_master_kill)
{
	static struct run r;
	struct wk_rep_config cfg[NSITES];
	unsigned port[NSITES];
	int fds[2], master, next;
	char *base = wkt_tmpdir();

	memset(&r, 0, sizeof r);
	memset(r.acked_by, -1, sizeof r.acked_by);
	for (int i = 0; i < NSITES; i++)
		port[i] = (unsigned)wkt_free_port();
	for (int i = 0; i < NSITES; i++) {
		memset(&cfg[i], 0, sizeof cfg[i]);
		snprintf(cfg[i].self.host, sizeof cfg[i].self.host, "127.0.0.1");
		cfg[i].self.port = port[i];
		for (int j = 0; j < NSITES; j++)
			if (j != i) {
				struct wk_rep_site *s = &cfg[i].peer[cfg[i].npeers++];
				snprintf(s->host, sizeof s->host, "127.0.0.1");
				s->port = port[j];
			}
		ck_assert(asprintf(&r.dir[i], "%s/site-%d", base, i) > 0);
	}
	ck_assert_int_eq(pipe(fds), 0);
	for (int i = 0; i < NSITES; i++) {
		if ((r.pid[i] = fork()) == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);   /* a failed test leaves no site */
			close(fds[0]);
			site_main(i, r.dir[i], &cfg[i], fds[1]);
		}
		ck_assert_int_gt(r.pid[i], 0);
	}
	close(fds[1]);
	r.in = fdopen(fds[0], "r");

	/* An elected master acknowledges; then it dies without warning. */
	master = wait_acks(&r, -1, -1, BEFORE, 30000);
	ck_assert_msg(master >= 0, "no site acknowledged %d writes in 30 s", BEFORE);
	kill(r.pid[master], SIGKILL);
	uint64_t t_kill = wkt_now_ms();
	waitpid(r.pid[master], NULL, 0);
	r.pid[master] = 0;
	int before = r.acks[master];

	/* Another site is elected and acknowledges in its turn. */
	next = wait_acks(&r, -1, master, 1, 30000);
	ck_assert_msg(next >= 0, "no new master acknowledged within 30 s of the kill");
	fprintf(stderr, "rep: site %d acknowledged %d, killed; site %d acknowledged its first %llu ms later\n",
	    master, before, next, (unsigned long long)(wkt_now_ms() - t_kill));
	ck_assert_int_eq(wait_acks(&r, next, -1, AFTER, 30000), next);
	for (int i = 0; i < NSITES; i++)
		if (r.pid[i] > 0) {
			kill(r.pid[i], SIGKILL);
			waitpid(r.pid[i], NULL, 0);
		}
	/* Reports written before the kills and not yet read. */
	wait_acks(&r, -2, -1, MAXSEQ, 300);
	fclose(r.in);

	/* The new master's files, opened alone (recovery, no replication). */
	struct wk_db_env e;
	DB *db;
	DBC *c;
	DBT k = { 0 }, d = { 0 };
	int64_t expect = 1, acked_seen = 0, acked_total = 0;

	for (int s = 1; s <= MAXSEQ; s++)
		acked_total += r.acked_by[s] >= 0;
	ck_assert_int_eq(wk_db_env_open(&e, r.dir[next], "fsync", 8 << 20), 0);
	ck_assert_int_eq(wk_db_open(&e, "log", &db), 0);
	ck_assert_int_eq(db->cursor(db, NULL, &c, 0), 0);
	while (wk_db_cget(c, &k, &d, DB_NEXT) == 0) {
		ck_assert_int_eq(k.size, 8);
		int64_t seq = (int64_t)unbe64(k.data);
		ck_assert_int_eq(seq, expect++);      /* no gap */
		if (seq <= MAXSEQ && r.acked_by[seq] >= 0) {
			char want[32];
			snprintf(want, sizeof want, "%d:%lld", r.acked_by[seq], (long long)seq);
			ck_assert_msg(d.size == strlen(want) && memcmp(d.data, want, d.size) == 0,
			    "record %lld is %.*s, acknowledged as %s", (long long)seq, (int)d.size,
			    (char *)d.data, want);
			acked_seen++;
		}
	}
	c->close(c);
	wk_db_dbt_free(&k, &d);
	db->close(db, 0);
	wk_db_env_close(&e);
	fprintf(stderr, "rep: %lld acknowledged, %lld found on the new master, %lld records\n",
	    (long long)acked_total, (long long)acked_seen, (long long)(expect - 1));
	ck_assert_int_ge(acked_total, BEFORE + AFTER);
	ck_assert_int_eq(acked_seen, acked_total);
	wkt_rm_rf(base);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("rep");
	TCase *tc = tcase_create("rep");

	tcase_set_timeout(tc, 150);
	tcase_add_test(tc, test_rep_quorum_survives_master_kill);
	suite_add_tcase(s, tc);
	return wkt_run_suite(s);
}
