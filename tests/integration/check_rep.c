/* check_rep.c - common/wk_rep.c with three real sites: three processes,
 * each a Berkeley DB environment replicated by the replication manager over
 * TCP on 127.0.0.1.  Whichever site the election makes master appends
 * numbered records, and reports each commit wk_rep_commit calls durable
 * on a quorum.  The test kills that master with SIGKILL, waits for another
 * master to acknowledge writes, starts the killed site again and waits for
 * it to catch up as a client, kills everyone, and then reads the files of
 * the new master and of the site that came back: every acknowledged record
 * is there, with the value its writer gave it, and the numbers run without
 * a gap. */
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

/* The highest number in db, 0 if empty; a negative Berkeley DB error
 * (DB_REP_HANDLE_DEAD after a rollback: the handle must be reopened). */
static int64_t
last_seq(DB_ENV *env, DB *db)
{
	DB_TXN *txn;
	DBC *c;
	DBT k = { 0 }, d = { 0 };
	int64_t seq;
	int rc;

	if ((rc = env->txn_begin(env, NULL, &txn, 0)) != 0)
		return rc < 0 ? rc : -1;
	if ((rc = db->cursor(db, txn, &c, 0)) == 0) {
		rc = wk_db_cget(c, &k, &d, DB_LAST);
		c->close(c);
	}
	seq = rc == 0 && k.size == 8 ? (int64_t)unbe64(k.data) : rc == DB_NOTFOUND ? 0 :
	    rc < 0 ? rc : -1;
	wk_db_dbt_free(&k, &d);
	txn->commit(txn, 0);
	return seq;
}

/* The "log" database in a transaction begun first (a lockout fails the
 * begin, leaving no handle to close); created only by a master. */
static DB *
open_log(DB_ENV *env, int create)
{
	DB_TXN *txn;
	DB *db = NULL;

	if (env->txn_begin(env, NULL, &txn, 0) != 0)
		return NULL;
	if (db_create(&db, env, 0) != 0 ||
	    db->open(db, txn, "log", NULL, DB_BTREE, create ? DB_CREATE : 0, 0644) != 0) {
		txn->abort(txn);
		if (db)
			db->close(db, DB_NOSYNC);
		return NULL;
	}
	if (txn->commit(txn, 0) != 0) {
		db->close(db, DB_NOSYNC);
		return NULL;
	}
	return db;
}

/* One site: as master, append record seq+1 = "<site>:<seq+1>" and report
 * "<site> A <seq>" when a quorum has it ("F" when not); as client, report
 * "<site> C <seq>", the highest record it holds, every 50 ms.  The handle
 * stays open across role changes (closing one during a lockout waits
 * inside the library); only a rollback (DB_REP_HANDLE_DEAD) reopens it. */
static void __attribute__((noreturn))
site_main(int i, const char *dir, const struct wk_rep_config *cfg, int out)
{
	struct wk_db_env e;
	struct wk_rep rep;
	DB *db = NULL;
	int64_t seq = -1;           /* -1: to be read again (a new mastership) */
	uint64_t changes = 0, tick = 0;
	struct timespec pace = { 0, 2000000 };

	if (wk_db_env_open_rep(&e, dir, "fsync", 8 << 20, &rep, cfg) < 0)
		_exit(2);
	for (;; nanosleep(&pace, NULL), tick++) {
		DB_TXN *txn;
		uint8_t k[8];
		char v[32];
		int rc, master = rep.role == WK_REP_MASTER;

		if (rep.role_changes != changes) {
			changes = rep.role_changes;
			seq = -1;
		}
		if (!master && tick % 25 != 0)
			continue;
		if (db == NULL && (db = open_log(e.env, master)) == NULL)
			continue;               /* a lockout, or no records yet */
		int64_t held = seq >= 0 && master ? seq : last_seq(e.env, db);
		if (held == DB_REP_HANDLE_DEAD) {
			db->close(db, DB_NOSYNC);   /* rolled back under it: reopen */
			db = NULL;
		}
		if (!master && held >= 0)
			dprintf(out, "%d C %lld\n", i, (long long)held);
		if (!master || (seq = held) < 0)
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
	int64_t held[NSITES];           /* a client's highest record, reported */
	int64_t last_acked;
	int last_site;                  /* the site of the last acknowledgement */
};

/* Read one report, waiting until `end` at most: the site of an
 * acknowledgement, else -1.  Every report is recorded in r; a record
 * acknowledged by two sites fails the test here. */
static int
read_report(struct run *r, uint64_t end)
{
	struct pollfd pfd = { .fd = fileno(r->in), .events = POLLIN };
	uint64_t now = wkt_now_ms();
	char line[128];
	long long seq;
	char kind;
	int site;

	if (now >= end || poll(&pfd, 1, (int)(end - now)) <= 0 ||
	    fgets(line, sizeof line, r->in) == NULL)
		return -1;
	if (sscanf(line, "%d %c %lld", &site, &kind, &seq) != 3 || site < 0 ||
	    site >= NSITES || seq < 0 || seq > MAXSEQ)
		ck_abort_msg("bad report: %s", line);
	if (kind == 'C' && seq > r->held[site])
		r->held[site] = seq;
	if (kind != 'A')
		return -1;
	if (seq > r->last_acked)
		r->last_acked = seq;
	r->last_site = site;
	ck_assert_msg(r->acked_by[seq] < 0, "record %lld acknowledged by sites %d and %d",
	    seq, r->acked_by[seq], site);
	r->acked_by[seq] = (int8_t)site;
	r->acks[site]++;
	return site;
}

/* Read the reports for ms milliseconds. */
static void
read_for(struct run *r, int ms)
{
	uint64_t end = wkt_now_ms() + (uint64_t)ms;

	while (wkt_now_ms() < end)
		read_report(r, end);
}

/* Read the reports until site `want` (or any site but `not`, when want is
 * -1) has `n` acknowledgements, or timeout_ms passes; the site, or -1. */
static int
wait_acks(struct run *r, int want, int not, int n, int timeout_ms)
{
	uint64_t end = wkt_now_ms() + (uint64_t)timeout_ms;

	while (wkt_now_ms() < end) {
		int site = read_report(r, end);
		if (site >= 0 && (want < 0 ? site != not : site == want) && r->acks[site] >= n)
			return site;
	}
	return -1;
}

/* Read the reports for up to timeout_ms until client `site` holds record
 * `want`; 1 if it does. */
static int
wait_held(struct run *r, int site, int64_t want, int timeout_ms)
{
	uint64_t end = wkt_now_ms() + (uint64_t)timeout_ms;

	while (r->held[site] < want && wkt_now_ms() < end)
		read_report(r, end);
	return r->held[site] >= want;
}

/* A site's files opened alone (recovery, no replication): the records run
 * 1, 2, ... without a gap, and each acknowledged one up to `upto` is there
 * with its writer's value.  The acknowledged records found. */
static int64_t
verify_site(struct run *r, const char *dir, int64_t upto)
{
	struct wk_db_env e;
	DB *db;
	DBC *c;
	DBT k = { 0 }, d = { 0 };
	int64_t expect = 1, seen = 0;

	ck_assert_int_eq(wk_db_env_open(&e, dir, "fsync", 8 << 20), 0);
	ck_assert_int_eq(wk_db_open(&e, "log", 0, &db), 0);
	ck_assert_int_eq(db->cursor(db, NULL, &c, 0), 0);
	while (wk_db_cget(c, &k, &d, DB_NEXT) == 0) {
		ck_assert_int_eq(k.size, 8);
		int64_t seq = (int64_t)unbe64(k.data);
		ck_assert_int_eq(seq, expect++);      /* no gap */
		if (seq <= upto && r->acked_by[seq] >= 0) {
			char want[32];
			snprintf(want, sizeof want, "%d:%lld", r->acked_by[seq], (long long)seq);
			ck_assert_msg(d.size == strlen(want) && memcmp(d.data, want, d.size) == 0,
			    "%s: record %lld is %.*s, acknowledged as %s", dir, (long long)seq,
			    (int)d.size, (char *)d.data, want);
			seen++;
		}
	}
	c->close(c);
	wk_db_dbt_free(&k, &d);
	db->close(db, 0);
	wk_db_env_close(&e);
	return seen;
}

static pid_t
start_site(int i, const char *dir, const struct wk_rep_config *cfg, int rfd, int wfd)
{
	pid_t pid = fork();

	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);   /* a failed test leaves no site */
		close(rfd);
		site_main(i, dir, cfg, wfd);
	}
	ck_assert_int_gt(pid, 0);
	return pid;
}

/* Three sites on free ports of 127.0.0.1, each listing the other two,
 * started; their reports come on fds[0] (r->in).  The base directory. */
static char *
group_start(struct run *r, struct wk_rep_config cfg[NSITES], int fds[2])
{
	unsigned port[NSITES];
	char *base = wkt_tmpdir();

	memset(r, 0, sizeof *r);
	memset(r->acked_by, -1, sizeof r->acked_by);
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
		ck_assert(asprintf(&r->dir[i], "%s/site-%d", base, i) > 0);
	}
	ck_assert_int_eq(pipe(fds), 0);
	/* Unbuffered: a line stdio had read ahead would hide from poll. */
	r->in = fdopen(fds[0], "r");
	setvbuf(r->in, NULL, _IONBF, 0);
	for (int i = 0; i < NSITES; i++)
		r->pid[i] = start_site(i, r->dir[i], &cfg[i], fds[0], fds[1]);
	return base;
}

/* Kill every site, read what they reported before dying. */
static void
group_kill(struct run *r, int fds[2])
{
	for (int i = 0; i < NSITES; i++) {
		kill(r->pid[i], SIGKILL);
		waitpid(r->pid[i], NULL, 0);
	}
	close(fds[1]);
	read_for(r, 300);
	fclose(r->in);
}

static int64_t
count_acked(const struct run *r, int64_t upto)
{
	int64_t n = 0;

	for (int64_t s = 1; s <= upto && s <= MAXSEQ; s++)
		n += r->acked_by[s] >= 0;
	return n;
}

/* The site the election made master, once it has acknowledged BEFORE. */
static int
first_master(struct run *r)
{
	int m = wait_acks(r, -1, -1, BEFORE, 30000);

	ck_assert_msg(m >= 0, "no site acknowledged %d writes in 30 s", BEFORE);
	return m;
}

/* Signal the master (SIGKILL: and reap it) and wait for another site to
 * acknowledge a write: that site; *ms, how long it took. */
static int
replaced(struct run *r, int master, int sig, uint64_t *ms)
{
	uint64_t t0 = wkt_now_ms();
	int next;

	kill(r->pid[master], sig);
	if (sig == SIGKILL)
		waitpid(r->pid[master], NULL, 0);
	next = wait_acks(r, -1, master, 1, 30000);
	ck_assert_msg(next >= 0, "no new master acknowledged within 30 s of signal %d", sig);
	*ms = wkt_now_ms() - t0;
	return next;
}

START_TEST(test_rep_quorum_survives_master_kill)
{
	static struct run r;
	struct wk_rep_config cfg[NSITES];
	int fds[2], master, next;
	char *base = group_start(&r, cfg, fds);

	/* An elected master acknowledges; then it dies without warning. */
	master = first_master(&r);
	/* Another site is elected and acknowledges in its turn. */
	uint64_t ms;
	next = replaced(&r, master, SIGKILL, &ms);
	fprintf(stderr, "rep: site %d acknowledged %d, killed; site %d acknowledged its first %llu ms later\n",
	    master, r.acks[master], next, (unsigned long long)ms);
	ck_assert_int_eq(wait_acks(&r, next, -1, AFTER, 30000), next);

	/* The killed site comes back, as a client, and catches up. */
	int64_t target = r.last_acked;
	uint64_t t_back = wkt_now_ms();
	r.held[master] = -1;
	r.pid[master] = start_site(master, r.dir[master], &cfg[master], fds[0], fds[1]);
	ck_assert_msg(wait_held(&r, master, target, 30000), "site %d came back holding %lld, not %lld",
	    master, (long long)r.held[master], (long long)target);
	fprintf(stderr, "rep: site %d back, holding record %lld (the last acknowledged when it "
	    "started) %llu ms after\n", master, (long long)target,
	    (unsigned long long)(wkt_now_ms() - t_back));
	/* And the group goes on with it. */
	ck_assert_int_eq(wait_acks(&r, next, -1, r.acks[next] + 50, 30000), next);

	group_kill(&r, fds);

	int64_t acked = count_acked(&r, MAXSEQ), upto = count_acked(&r, target);
	int64_t on_next = verify_site(&r, r.dir[next], MAXSEQ);
	int64_t on_back = verify_site(&r, r.dir[master], target);
	fprintf(stderr, "rep: %lld acknowledged; %lld on the new master; %lld of the %lld up to "
	    "record %lld on the site that came back\n", (long long)acked, (long long)on_next,
	    (long long)on_back, (long long)upto, (long long)target);
	ck_assert_int_ge(acked, BEFORE + AFTER + 50);
	ck_assert_int_eq(on_next, acked);
	ck_assert_int_eq(on_back, upto);
	wkt_rm_rf(base);
}
END_TEST

/* A master stopped (SIGSTOP) past the heartbeat timeout is replaced; when
 * it runs again it must not acknowledge anything: a record acknowledged by
 * two sites fails the test as it is read (wait_acks), and the last master's
 * files hold every acknowledged record. */
START_TEST(test_rep_stopped_master_never_acknowledges_twice)
{
	static struct run r;
	struct wk_rep_config cfg[NSITES];
	int fds[2], master, next;
	char *base = group_start(&r, cfg, fds);

	master = first_master(&r);
	uint64_t ms;
	next = replaced(&r, master, SIGSTOP, &ms);
	fprintf(stderr, "rep: site %d stopped after %d acknowledgements; site %d acknowledged "
	    "%llu ms later\n", master, r.acks[master], next, (unsigned long long)ms);
	ck_assert_int_eq(wait_acks(&r, next, -1, 50, 30000), next);

	/* Both run again: whoever ends up master goes on acknowledging. */
	int64_t resumed = r.last_acked;
	kill(r.pid[master], SIGCONT);
	int total = r.acks[0] + r.acks[1] + r.acks[2];
	uint64_t end = wkt_now_ms() + 30000;
	while (r.acks[0] + r.acks[1] + r.acks[2] < total + 100 && wkt_now_ms() < end)
		read_report(&r, end);
	ck_assert_int_ge(r.acks[0] + r.acks[1] + r.acks[2], total + 100);
	int last = r.last_site;
	group_kill(&r, fds);

	int64_t acked = count_acked(&r, MAXSEQ), on_last = verify_site(&r, r.dir[last], MAXSEQ);
	fprintf(stderr, "rep: after the stopped site ran again (record %lld), site %d was master "
	    "last; %lld acknowledged, %lld on it\n", (long long)resumed, last, (long long)acked,
	    (long long)on_last);
	ck_assert_int_eq(on_last, acked);
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
	tcase_add_test(tc, test_rep_stopped_master_never_acknowledges_twice);
	suite_add_tcase(s, tc);
	return wkt_run_suite(s);
}
