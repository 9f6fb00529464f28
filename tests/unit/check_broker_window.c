/* check_broker_window.c - wk-broker's backpressure (broker_window.c) with
 * its neighbours stubbed: pause at the window, resume at half of it, the
 * backlog pausing only connections with at least their share, SENDs whose
 * SENDACK never comes forgotten after SENDACK_LOST_MS, and the counts
 * back to zero. */
#include <check.h>
#include <string.h>
#include "broker.h"
#include "wktest.h"

struct broker broker;
static struct wk_proc proc;
static int events_set, inputs;

/* The stubs: what broker_conn.c would do. */
void broker_conn_set_events(struct broker_conn *c) { events_set++; }
void broker_conn_input(struct broker_conn *c, const uint8_t *p, size_t n) { inputs++; }

static void
setup(void)
{
	memset(&broker, 0, sizeof broker);
	memset(&proc, 0, sizeof proc);
	proc.cfg.limits_sendWindow = 8;
	proc.cfg.limits_sendBacklog = 1000;
	broker.proc = &proc;
	events_set = inputs = 0;
}

START_TEST(test_window_pauses_and_resumes_at_half)
{
	struct broker_conn c = { 0 };

	for (int i = 0; i < 7; i++)
		broker_conn_sent(&c);
	ck_assert_int_eq(c.paused, 0);
	broker_conn_sent(&c);                      /* the 8th: at the window */
	ck_assert_int_eq(c.paused, 1);
	ck_assert_uint_eq(broker.npaused, 1);
	ck_assert_uint_eq(broker.st.send_pauses, 1);
	ck_assert_int_eq(events_set, 1);
	for (int i = 0; i < 3; i++)
		broker_conn_acked(&c);
	ck_assert_int_eq(c.paused, 1);             /* 5 waiting: more than half */
	broker_conn_acked(&c);
	ck_assert_int_eq(c.paused, 0);             /* 4: half */
	ck_assert_int_eq(inputs, 1);               /* what was read before runs */
	ck_assert_uint_eq(broker.npaused, 0);
	for (int i = 0; i < 4; i++)
		broker_conn_acked(&c);
	broker_conn_acked(&c);                     /* one too many: ignored */
	ck_assert_uint_eq(c.unacked, 0);
	ck_assert_uint_eq(broker.unacked, 0);
	ck_assert_uint_eq(broker.senders, 0);
}
END_TEST

START_TEST(test_backlog_pauses_the_heaviest)
{
	struct broker_conn light = { 0 }, heavy = { 0 };

	proc.cfg.limits_sendWindow = 1000;
	proc.cfg.limits_sendBacklog = 6;
	broker_conn_sent(&light);
	for (int i = 0; i < 5; i++)
		broker_conn_sent(&heavy);
	ck_assert_int_eq(heavy.paused, 0);         /* 6 waiting: not past the backlog */
	broker_conn_sent(&light);                  /* 7: light has 2 of 7, below its share */
	ck_assert_int_eq(light.paused, 0);
	broker_conn_sent(&heavy);                  /* 8: heavy has 6, above its share */
	ck_assert_int_eq(heavy.paused, 1);
	ck_assert_int_eq(light.paused, 0);
}
END_TEST

START_TEST(test_lost_sends_forgotten)
{
	struct broker_conn c = { 0 };
	uint64_t t0;

	for (int i = 0; i < 8; i++)
		broker_conn_sent(&c);
	ck_assert_int_eq(c.paused, 1);
	t0 = c.last_ack_ms;
	broker_window_check(&c, t0 + 1000);        /* overdue, not lost yet */
	ck_assert_int_eq(c.paused, 1);
	ck_assert_uint_eq(c.unacked, 8);
	broker_window_check(&c, t0 + 60000);
	ck_assert_int_eq(c.paused, 0);
	ck_assert_uint_eq(c.unacked, 0);
	ck_assert_uint_eq(broker.unacked, 0);
	ck_assert_uint_eq(broker.senders, 0);
	ck_assert_uint_eq(broker.npaused, 0);
	broker_conn_acked(&c);                     /* a late SENDACK changes nothing */
	ck_assert_uint_eq(broker.unacked, 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("broker_window");
	TCase *tc = tcase_create("window");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_window_pauses_and_resumes_at_half);
	tcase_add_test(tc, test_backlog_pauses_the_heaviest);
	tcase_add_test(tc, test_lost_sends_forgotten);
	suite_add_tcase(s, tc);
	return wkt_run_suite(s);
}
