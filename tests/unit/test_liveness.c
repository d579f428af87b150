/* SPDX-License-Identifier: MIT */
/* Liveness state machine: transitions, their order, missed counts, latency. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "liveness.h"

#define MS 1000000ull
#define IV (1000 * MS)
#define T0 (1700000000ull * 1000000000ull)

static void hb_at(struct hb_liveness *l, uint64_t t)
{
	struct hb_live_change ch;

	hb_live_heartbeat(l, t, IV, t + 2 * MS, &ch);
}

static void test_first_heartbeat_makes_healthy(void **state)
{
	struct hb_liveness l;
	struct hb_live_change ch;

	(void)state;
	hb_live_init(&l, IV, T0);
	assert_int_equal(l.state, HB_LIVE_UNKNOWN);
	assert_int_equal(hb_live_heartbeat(&l, T0, IV, T0 + 3 * MS, &ch), 1);
	assert_int_equal(ch.from, HB_LIVE_UNKNOWN);
	assert_int_equal(ch.to, HB_LIVE_HEALTHY);
	assert_string_equal(ch.why, "heartbeat");
	assert_int_equal(l.latency_ns, 3 * MS);
	/* a second on-time heartbeat changes nothing */
	assert_int_equal(hb_live_heartbeat(&l, T0 + IV, IV, T0 + IV + MS, &ch), 0);
	assert_int_equal(l.heartbeats, 2);
	assert_int_equal(l.missed, 0);
}

static void test_silence_goes_late_then_dead(void **state)
{
	struct hb_liveness l;
	struct hb_live_change ch;

	(void)state;
	hb_live_init(&l, IV, T0);
	hb_at(&l, T0);
	assert_int_equal(hb_live_check(&l, T0 + 1400 * MS, 1, &ch), 0);
	assert_int_equal(hb_live_check(&l, T0 + 1500 * MS, 1, &ch), 0); /* not more than 1.5 */
	assert_int_equal(hb_live_check(&l, T0 + 1501 * MS, 1, &ch), 1);
	assert_int_equal(ch.from, HB_LIVE_HEALTHY);
	assert_int_equal(ch.to, HB_LIVE_LATE);
	assert_string_equal(ch.why, "late");
	assert_int_equal(hb_live_check(&l, T0 + 3000 * MS, 1, &ch), 0);
	assert_int_equal(hb_live_check(&l, T0 + 3001 * MS, 1, &ch), 1);
	assert_int_equal(ch.from, HB_LIVE_LATE);
	assert_int_equal(ch.to, HB_LIVE_DEAD);
	assert_string_equal(ch.why, "no-heartbeat");
	assert_int_equal(hb_live_check(&l, T0 + 9000 * MS, 1, &ch), 0);
	assert_int_equal(hb_live_missed_now(&l, T0 + 3001 * MS), 2);
}

static void test_late_always_recorded_before_dead(void **state)
{
	struct hb_liveness l;
	struct hb_live_change ch;

	(void)state;
	hb_live_init(&l, IV, T0);
	hb_at(&l, T0);
	/* a check long after: two steps, in order */
	assert_int_equal(hb_live_check(&l, T0 + 10000 * MS, 1, &ch), 1);
	assert_int_equal(ch.to, HB_LIVE_LATE);
	assert_int_equal(hb_live_check(&l, T0 + 10000 * MS, 1, &ch), 1);
	assert_int_equal(ch.to, HB_LIVE_DEAD);
	assert_int_equal(hb_live_check(&l, T0 + 10000 * MS, 1, &ch), 0);
}

static void test_heartbeats_resume_healthy(void **state)
{
	struct hb_liveness l;
	struct hb_live_change ch;

	(void)state;
	hb_live_init(&l, IV, T0);
	hb_at(&l, T0);
	while (hb_live_check(&l, T0 + 5000 * MS, 1, &ch))
		;
	assert_int_equal(l.state, HB_LIVE_DEAD);
	assert_int_equal(hb_live_heartbeat(&l, T0 + 5000 * MS, IV, T0 + 5001 * MS, &ch), 1);
	assert_int_equal(ch.from, HB_LIVE_DEAD);
	assert_int_equal(ch.to, HB_LIVE_HEALTHY);
	/* 5 intervals of silence: 4 heartbeats missed */
	assert_int_equal(l.missed, 4);
	assert_int_equal(l.transitions, 4); /* unknown->healthy->late->dead->healthy */
}

static void test_stale_heartbeat_does_not_revive(void **state)
{
	struct hb_liveness l;
	struct hb_live_change ch;

	(void)state;
	hb_live_init(&l, IV, T0);
	hb_at(&l, T0);
	while (hb_live_check(&l, T0 + 5000 * MS, 1, &ch))
		;
	/* a heartbeat from T0 + 1 s drained only now is no proof of life */
	assert_int_equal(hb_live_heartbeat(&l, T0 + IV, IV, T0 + 5000 * MS, &ch), 0);
	assert_int_equal(l.state, HB_LIVE_DEAD);
	assert_true(l.latency_ns >= (int64_t)(3999 * MS));
}

static void test_pid_gone_is_dead(void **state)
{
	struct hb_liveness l;
	struct hb_live_change ch;

	(void)state;
	hb_live_init(&l, IV, T0);
	hb_at(&l, T0);
	assert_int_equal(hb_live_check(&l, T0 + 100 * MS, 0, &ch), 1);
	assert_int_equal(ch.from, HB_LIVE_HEALTHY);
	assert_int_equal(ch.to, HB_LIVE_DEAD);
	assert_string_equal(ch.why, "pid-gone");
	assert_int_equal(hb_live_check(&l, T0 + 200 * MS, 0, &ch), 0);
}

static void test_close_is_exited_and_final(void **state)
{
	struct hb_liveness l;
	struct hb_live_change ch;

	(void)state;
	hb_live_init(&l, IV, T0);
	hb_at(&l, T0);
	assert_int_equal(hb_live_close(&l, T0 + 10 * MS, &ch), 1);
	assert_int_equal(ch.to, HB_LIVE_EXITED);
	assert_string_equal(ch.why, "closed");
	assert_int_equal(hb_live_close(&l, T0 + 20 * MS, &ch), 0);
	assert_int_equal(hb_live_check(&l, T0 + 9000 * MS, 0, &ch), 0);
	assert_int_equal(hb_live_heartbeat(&l, T0 + 9000 * MS, IV, T0 + 9000 * MS, &ch), 0);
	assert_int_equal(l.state, HB_LIVE_EXITED);
	assert_string_equal(hb_live_state_name(l.state), "exited");
}

static void test_never_heard_goes_late(void **state)
{
	struct hb_liveness l;
	struct hb_live_change ch;

	(void)state;
	hb_live_init(&l, 200 * MS, T0);
	assert_int_equal(hb_live_check(&l, T0 + 250 * MS, 1, &ch), 0);
	assert_int_equal(hb_live_check(&l, T0 + 301 * MS, 1, &ch), 1);
	assert_int_equal(ch.from, HB_LIVE_UNKNOWN);
	assert_int_equal(ch.to, HB_LIVE_LATE);
}

static void test_interval_follows_heartbeats(void **state)
{
	struct hb_liveness l;
	struct hb_live_change ch;

	(void)state;
	hb_live_init(&l, IV, T0);
	hb_live_heartbeat(&l, T0, 100 * MS, T0, &ch);
	assert_int_equal(l.interval_ns, 100 * MS);
	assert_int_equal(hb_live_check(&l, T0 + 151 * MS, 1, &ch), 1);
	assert_int_equal(ch.to, HB_LIVE_LATE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_heartbeat_makes_healthy),
		cmocka_unit_test(test_silence_goes_late_then_dead),
		cmocka_unit_test(test_late_always_recorded_before_dead),
		cmocka_unit_test(test_heartbeats_resume_healthy),
		cmocka_unit_test(test_stale_heartbeat_does_not_revive),
		cmocka_unit_test(test_pid_gone_is_dead),
		cmocka_unit_test(test_close_is_exited_and_final),
		cmocka_unit_test(test_never_heard_goes_late),
		cmocka_unit_test(test_interval_follows_heartbeats),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
