/* SPDX-License-Identifier: MIT */
/* Liveness state machine: transitions, their order, missed counts, latency. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "liveness.h"

#define MS 1000000ull
#define IV (1000 * MS)
#define T0 (1700000000ull * 1000000000ull)

/* What the collector sees: a live process (its ring header telling no
 * heartbeat attempt), or a gone one. */
static const struct hbc_live_obs alive = {.pid_alive = 1}, gone = {.pid_alive = 0};

static void hb_at(struct hbc_liveness *l, uint64_t t)
{
	struct hbc_live_change ch;

	hbc_live_heartbeat(l, t, IV, t + 2 * MS, &ch);
}

static void test_first_heartbeat_makes_healthy(void **state)
{
	struct hbc_liveness l;
	struct hbc_live_change ch;

	(void)state;
	hbc_live_init(&l, IV, T0);
	assert_int_equal(l.state, HB_STATE_UNKNOWN);
	assert_int_equal(hbc_live_heartbeat(&l, T0, IV, T0 + 3 * MS, &ch), 1);
	assert_int_equal(ch.from, HB_STATE_UNKNOWN);
	assert_int_equal(ch.to, HB_STATE_HEALTHY);
	assert_string_equal(ch.why, "heartbeat");
	assert_int_equal(l.latency_ns, 3 * MS);
	/* a second on-time heartbeat changes nothing */
	assert_int_equal(hbc_live_heartbeat(&l, T0 + IV, IV, T0 + IV + MS, &ch), 0);
	assert_int_equal(l.heartbeats, 2);
	assert_int_equal(l.missed, 0);
}

static void test_silence_goes_late_then_dead(void **state)
{
	struct hbc_liveness l;
	struct hbc_live_change ch;

	(void)state;
	hbc_live_init(&l, IV, T0);
	hb_at(&l, T0);
	assert_int_equal(hbc_live_check(&l, T0 + 1400 * MS, &alive, &ch), 0);
	assert_int_equal(hbc_live_check(&l, T0 + 1500 * MS, &alive, &ch), 0); /* not more than 1.5 */
	assert_int_equal(hbc_live_check(&l, T0 + 1501 * MS, &alive, &ch), 1);
	assert_int_equal(ch.from, HB_STATE_HEALTHY);
	assert_int_equal(ch.to, HB_STATE_LATE);
	assert_string_equal(ch.why, "late");
	assert_int_equal(hbc_live_check(&l, T0 + 3000 * MS, &alive, &ch), 0);
	assert_int_equal(hbc_live_check(&l, T0 + 3001 * MS, &alive, &ch), 1);
	assert_int_equal(ch.from, HB_STATE_LATE);
	assert_int_equal(ch.to, HB_STATE_DEAD);
	assert_string_equal(ch.why, "no-heartbeat");
	assert_int_equal(hbc_live_check(&l, T0 + 9000 * MS, &alive, &ch), 0);
	assert_int_equal(hbc_live_missed_now(&l, T0 + 3001 * MS), 2);
}

static void test_late_always_recorded_before_dead(void **state)
{
	struct hbc_liveness l;
	struct hbc_live_change ch;

	(void)state;
	hbc_live_init(&l, IV, T0);
	hb_at(&l, T0);
	/* a check long after: two steps, in order */
	assert_int_equal(hbc_live_check(&l, T0 + 10000 * MS, &alive, &ch), 1);
	assert_int_equal(ch.to, HB_STATE_LATE);
	assert_int_equal(hbc_live_check(&l, T0 + 10000 * MS, &alive, &ch), 1);
	assert_int_equal(ch.to, HB_STATE_DEAD);
	assert_int_equal(hbc_live_check(&l, T0 + 10000 * MS, &alive, &ch), 0);
}

static void test_heartbeats_resume_healthy(void **state)
{
	struct hbc_liveness l;
	struct hbc_live_change ch;

	(void)state;
	hbc_live_init(&l, IV, T0);
	hb_at(&l, T0);
	while (hbc_live_check(&l, T0 + 5000 * MS, &alive, &ch))
		;
	assert_int_equal(l.state, HB_STATE_DEAD);
	assert_int_equal(hbc_live_heartbeat(&l, T0 + 5000 * MS, IV, T0 + 5001 * MS, &ch), 1);
	assert_int_equal(ch.from, HB_STATE_DEAD);
	assert_int_equal(ch.to, HB_STATE_HEALTHY);
	/* 5 intervals of silence: 4 heartbeats missed */
	assert_int_equal(l.missed, 4);
	assert_int_equal(l.transitions, 4); /* unknown->healthy->late->dead->healthy */
}

static void test_stale_heartbeat_does_not_revive(void **state)
{
	struct hbc_liveness l;
	struct hbc_live_change ch;

	(void)state;
	hbc_live_init(&l, IV, T0);
	hb_at(&l, T0);
	while (hbc_live_check(&l, T0 + 5000 * MS, &alive, &ch))
		;
	/* a heartbeat from T0 + 1 s drained only now is no proof of life */
	assert_int_equal(hbc_live_heartbeat(&l, T0 + IV, IV, T0 + 5000 * MS, &ch), 0);
	assert_int_equal(l.state, HB_STATE_DEAD);
	assert_true(l.latency_ns >= (int64_t)(3999 * MS));
}

/* A first heartbeat drained long after it was written (the collector was
 * stopped or behind) is a backlog, not a late or dead producer; if nothing
 * newer comes, the checks still age it to late, then dead. */
static void test_stale_first_heartbeat_is_backlogged(void **state)
{
	struct hbc_liveness l;
	struct hbc_live_change ch;

	(void)state;
	hbc_live_init(&l, IV, T0);
	assert_int_equal(hbc_live_heartbeat(&l, T0, IV, T0 + 5000 * MS, &ch), 1);
	assert_int_equal(ch.from, HB_STATE_UNKNOWN);
	assert_int_equal(ch.to, HB_STATE_BACKLOGGED);
	assert_string_equal(ch.why, "stale-heartbeat");
	assert_int_equal(hbc_live_check(&l, T0 + 5001 * MS, &alive, &ch), 1);
	assert_int_equal(ch.to, HB_STATE_LATE);
	assert_int_equal(hbc_live_check(&l, T0 + 5002 * MS, &alive, &ch), 1);
	assert_int_equal(ch.to, HB_STATE_DEAD);
}

static void test_pid_gone_is_dead(void **state)
{
	struct hbc_liveness l;
	struct hbc_live_change ch;

	(void)state;
	hbc_live_init(&l, IV, T0);
	hb_at(&l, T0);
	assert_int_equal(hbc_live_check(&l, T0 + 100 * MS, &gone, &ch), 1);
	assert_int_equal(ch.from, HB_STATE_HEALTHY);
	assert_int_equal(ch.to, HB_STATE_DEAD);
	assert_string_equal(ch.why, "pid-gone");
	assert_int_equal(hbc_live_check(&l, T0 + 200 * MS, &gone, &ch), 0);
}

static void test_close_is_exited_and_final(void **state)
{
	struct hbc_liveness l;
	struct hbc_live_change ch;

	(void)state;
	hbc_live_init(&l, IV, T0);
	hb_at(&l, T0);
	assert_int_equal(hbc_live_close(&l, T0 + 10 * MS, &ch), 1);
	assert_int_equal(ch.to, HB_STATE_EXITED);
	assert_string_equal(ch.why, "closed");
	assert_int_equal(hbc_live_close(&l, T0 + 20 * MS, &ch), 0);
	assert_int_equal(hbc_live_check(&l, T0 + 9000 * MS, &gone, &ch), 0);
	assert_int_equal(hbc_live_heartbeat(&l, T0 + 9000 * MS, IV, T0 + 9000 * MS, &ch), 0);
	assert_int_equal(l.state, HB_STATE_EXITED);
	assert_string_equal(hb_state_name(l.state), "exited");
}

static void test_never_heard_goes_late(void **state)
{
	struct hbc_liveness l;
	struct hbc_live_change ch;

	(void)state;
	hbc_live_init(&l, 200 * MS, T0);
	assert_int_equal(hbc_live_check(&l, T0 + 250 * MS, &alive, &ch), 0);
	assert_int_equal(hbc_live_check(&l, T0 + 301 * MS, &alive, &ch), 1);
	assert_int_equal(ch.from, HB_STATE_UNKNOWN);
	assert_int_equal(ch.to, HB_STATE_LATE);
}

static void test_interval_follows_heartbeats(void **state)
{
	struct hbc_liveness l;
	struct hbc_live_change ch;

	(void)state;
	hbc_live_init(&l, IV, T0);
	hbc_live_heartbeat(&l, T0, 100 * MS, T0, &ch);
	assert_int_equal(l.interval_ns, 100 * MS);
	assert_int_equal(hbc_live_check(&l, T0 + 151 * MS, &alive, &ch), 1);
	assert_int_equal(ch.to, HB_STATE_LATE);
}

/* The producer's own heartbeats are fresh (ring header) while the
 * archive's newest is old: it is backlogged, never late or dead; once its
 * attempts stop too, it goes late then dead as usual. */
static void test_fresh_attempts_make_backlogged_not_late(void **state)
{
	struct hbc_liveness l;
	struct hbc_live_change ch;
	struct hbc_live_obs o = {.pid_alive = 1};

	(void)state;
	hbc_live_init(&l, IV, T0);
	hb_at(&l, T0);
	o.hb_attempt_ns = T0 + 4000 * MS;
	assert_int_equal(hbc_live_check(&l, T0 + 4100 * MS, &o, &ch), 1);
	assert_int_equal(ch.from, HB_STATE_HEALTHY);
	assert_int_equal(ch.to, HB_STATE_BACKLOGGED);
	assert_string_equal(ch.why, "backlog");
	assert_string_equal(hb_state_name(ch.to), "backlogged");
	assert_int_equal(hbc_live_check(&l, T0 + 5000 * MS, &o, &ch), 0);
	/* a heartbeat drained late (old) proves nothing; a fresh one heals */
	assert_int_equal(hbc_live_heartbeat(&l, T0 + 1000 * MS, IV, T0 + 5100 * MS, &ch), 0);
	assert_int_equal(l.state, HB_STATE_BACKLOGGED);
	assert_int_equal(hbc_live_heartbeat(&l, T0 + 5000 * MS, IV, T0 + 5200 * MS, &ch), 1);
	assert_int_equal(ch.to, HB_STATE_HEALTHY);
	/* attempts stale as well: the producer is to blame after all */
	hbc_live_init(&l, IV, T0);
	hb_at(&l, T0);
	o.hb_attempt_ns = T0 + 2000 * MS;
	assert_int_equal(hbc_live_check(&l, T0 + 2100 * MS, &o, &ch), 1);
	assert_int_equal(ch.to, HB_STATE_BACKLOGGED);
	assert_int_equal(hbc_live_check(&l, T0 + 5000 * MS, &o, &ch), 1);
	assert_int_equal(ch.to, HB_STATE_LATE);
	assert_int_equal(hbc_live_check(&l, T0 + 5000 * MS, &o, &ch), 1);
	assert_int_equal(ch.to, HB_STATE_DEAD);
	/* an attempt no newer than the archive's heartbeat tells nothing */
	hbc_live_init(&l, IV, T0);
	hb_at(&l, T0);
	o.hb_attempt_ns = T0;
	assert_int_equal(hbc_live_check(&l, T0 + 1600 * MS, &o, &ch), 1);
	assert_int_equal(ch.to, HB_STATE_LATE);
}

/* A crashed producer is final: no heartbeat or check moves it. */
static void test_crashed_is_final(void **state)
{
	struct hbc_liveness l;
	struct hbc_live_change ch;

	(void)state;
	hbc_live_init(&l, IV, T0);
	hb_at(&l, T0);
	assert_int_equal(hbc_live_check(&l, T0 + 10 * MS, &gone, &ch), 1);
	assert_int_equal(hbc_live_finish(&l, HB_STATE_CRASHED, "pid-gone", T0 + 20 * MS, &ch), 1);
	assert_int_equal(ch.from, HB_STATE_DEAD);
	assert_int_equal(ch.to, HB_STATE_CRASHED);
	assert_int_equal(hbc_live_check(&l, T0 + 9000 * MS, &alive, &ch), 0);
	assert_int_equal(hbc_live_heartbeat(&l, T0 + 9000 * MS, IV, T0 + 9000 * MS, &ch), 0);
	assert_int_equal(hbc_live_close(&l, T0 + 9000 * MS, &ch), 0);
	assert_int_equal(l.state, HB_STATE_CRASHED);
}

/* Every name of the vocabulary parses back to its state. */
static void test_state_names_round_trip(void **state)
{
	unsigned i;

	(void)state;
	for (i = 0; i < HB_STATE_N; i++) {
		const char *n = hb_state_name((enum hb_state)i);

		assert_int_equal(hb_state_parse(n, strlen(n)), i);
	}
	assert_int_equal(hb_state_parse("dea", 3), HB_STATE_UNKNOWN);
	assert_int_equal(hb_state_parse("deadly", 6), HB_STATE_UNKNOWN);
	assert_string_equal(hb_state_name(HB_STATE_N), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_heartbeat_makes_healthy),
		cmocka_unit_test(test_fresh_attempts_make_backlogged_not_late),
		cmocka_unit_test(test_crashed_is_final),
		cmocka_unit_test(test_state_names_round_trip),
		cmocka_unit_test(test_silence_goes_late_then_dead),
		cmocka_unit_test(test_late_always_recorded_before_dead),
		cmocka_unit_test(test_heartbeats_resume_healthy),
		cmocka_unit_test(test_stale_heartbeat_does_not_revive),
		cmocka_unit_test(test_stale_first_heartbeat_is_backlogged),
		cmocka_unit_test(test_pid_gone_is_dead),
		cmocka_unit_test(test_close_is_exited_and_final),
		cmocka_unit_test(test_never_heard_goes_late),
		cmocka_unit_test(test_interval_follows_heartbeats),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
