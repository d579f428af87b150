/* SPDX-License-Identifier: MIT */
/* Time parsing and formatting of the reader helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "hb_reader.h"

#define T0 1795450385000000000ull /* 2026-11-23T16:13:05Z */
#define NOW (T0 + 123456789ull)

static uint64_t parse(const char *s)
{
	uint64_t ns = 0;

	assert_int_equal(hb_time_parse(s, NOW, &ns), 0);
	return ns;
}

static void test_time_parse_iso(void **state)
{
	(void)state;
	assert_true(parse("2026-11-23T16:13:05Z") == T0);
	assert_true(parse("2026-11-23 16:13:05") == T0);
	assert_true(parse("2026-11-23T16:13:05.5Z") == T0 + 500000000ull);
	assert_true(parse("2026-11-23T17:13:05+01:00") == T0);
	assert_true(parse("2026-11-23T16:13Z") == T0 - 5000000000ull);
	assert_true(parse("2026-11-23") == T0 - (16 * 3600 + 13 * 60 + 5) * 1000000000ull);
}

static void test_time_parse_relative(void **state)
{
	(void)state;
	assert_true(parse("now") == NOW);
	assert_true(parse("-10m") == NOW - 600000000000ull);
	assert_true(parse("-2h") == NOW - 7200000000000ull);
	assert_true(parse("-30s") == NOW - 30000000000ull);
	assert_true(parse("-30") == NOW - 30000000000ull);
	assert_true(parse("-1d") == NOW - 86400000000000ull);
	assert_true(parse("-250ms") == NOW - 250000000ull);
}

static void test_time_parse_epoch(void **state)
{
	(void)state;
	assert_true(parse("@1795450385") == T0);
	assert_true(parse("@1795450385.25") == T0 + 250000000ull);
}

static void test_time_parse_bad(void **state)
{
	static const char *const bad[] = {"",	    "yesterdayx", "2026-13-01", "2026-11-23T25:00:00",
					  "-10x",   "@",	  "@12abc",	"2026-11-23T16:13:05Zjunk",
					  "-",	    "10",	  "5 mins ago x",	"5 parsecs ago",
					  "25:00",  "17:60",	  "today 7",	"ago",
					  "1h 5",   "17:20x"};
	uint64_t ns;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(hb_time_parse(bad[i], NOW, &ns), -EINVAL);
}

#define MIN 60000000000ull
#define HOUR (60 * MIN)

static uint64_t parse_local(const char *s)
{
	uint64_t ns = 0;

	assert_int_equal(hb_time_parse_flags(s, NOW, 0, &ns), 0);
	return ns;
}

/* The forms people type, against a fixed clock (NOW, 16:13:05Z) in a fixed
 * zone (CET, UTC+1 in November, CEST UTC+2 in summer). */
static void test_time_parse_typed(void **state)
{
	const uint64_t midnight_utc = T0 - (16 * 3600 + 13 * 60 + 5) * 1000000000ull;
	const uint64_t midnight_cet = midnight_utc - HOUR; /* 2026-11-22T23:00:00Z */

	(void)state;
	setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
	tzset();
	assert_true(parse_local("5 min ago") == NOW - 5 * MIN);
	assert_true(parse_local("5min ago") == NOW - 5 * MIN);
	assert_true(parse_local("  5 MINUTES AGO ") == NOW - 5 * MIN);
	assert_true(parse_local("-5min") == NOW - 5 * MIN);
	assert_true(parse_local("1h") == NOW - HOUR);
	assert_true(parse_local("10m") == NOW - 10 * MIN);
	assert_true(parse_local("1h 30min ago") == NOW - 90 * MIN);
	assert_true(parse_local("1h30m ago") == NOW - 90 * MIN);
	assert_true(parse_local("2 days left") == NOW + 2 * 24 * HOUR);
	assert_true(parse_local("+1w") == NOW + 7 * 24 * HOUR);
	assert_true(parse_local("NOW") == NOW);
	assert_true(parse_local("today") == midnight_cet);
	assert_true(parse_local("Today") == midnight_cet);
	assert_true(parse_local("yesterday") == midnight_cet - 24 * HOUR);
	assert_true(parse_local("tomorrow") == midnight_cet + 24 * HOUR);
	assert_true(parse_local("17:20") == midnight_cet + 17 * HOUR + 20 * MIN);
	assert_true(parse_local("7:05") == midnight_cet + 7 * HOUR + 5 * MIN);
	assert_true(parse_local("17:20:30.5") ==
		    midnight_cet + 17 * HOUR + 20 * MIN + 30500000000ull);
	assert_true(parse_local("yesterday 17:20") ==
		    midnight_cet - 24 * HOUR + 17 * HOUR + 20 * MIN);
	assert_true(parse_local("00:00") == midnight_cet);
	/* without a zone: local time, DST as it is on that day */
	assert_true(parse_local("2026-11-23 17:13:05") == T0);
	assert_true(parse_local("2026-11-23T17:13:05") == T0);
	assert_true(parse_local("2026-11-23") == midnight_cet);
	assert_true(parse_local("2026-07-01 12:00") == 1782900000000000000ull);
	/* with a zone, the zone wins */
	assert_true(parse_local("2026-11-23T16:13:05Z") == T0);
	assert_true(parse_local("2026-11-23T18:13:05+02:00") == T0);
	/* HB_TIME_UTC reads the same words in UTC */
	uint64_t ns;
	assert_int_equal(hb_time_parse_flags("17:20", NOW, HB_TIME_UTC, &ns), 0);
	assert_true(ns == midnight_utc + 17 * HOUR + 20 * MIN);
	assert_int_equal(hb_time_parse_flags("today", NOW, HB_TIME_UTC, &ns), 0);
	assert_true(ns == midnight_utc);
	unsetenv("TZ");
	tzset();
}

/* Text output shows local time with the offset unless told UTC. */
static void test_time_text_local(void **state)
{
	struct hb_rd_producer pr = {.name = (char *)"app", .pid = 7};
	msgpack_object obj = {.type = MSGPACK_OBJECT_NIL};
	struct hb_rd_record rec = {.kind = HB_RD_HEARTBEAT, .producer = &pr, .seq = 1,
				   .ts_ns = T0 + 5, .status = "ok", .obj = &obj};
	char buf[256];
	size_t n;

	(void)state;
	setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
	tzset();
	n = hb_rd_format_text(buf, sizeof(buf), &rec, HB_RD_TEXT_LOCAL);
	buf[n] = 0;
	assert_string_equal(buf, "2026-11-23T17:13:05.000000005+01:00 app[7] #1 HEARTBEAT ok count=0\n");
	n = hb_rd_format_text(buf, sizeof(buf), &rec, 0);
	buf[n] = 0;
	assert_string_equal(buf, "2026-11-23T16:13:05.000000005Z app[7] #1 HEARTBEAT ok count=0\n");
	unsetenv("TZ");
	tzset();
}

static void test_time_format(void **state)
{
	char buf[32];

	(void)state;
	assert_string_equal(hb_time_format(T0 + 123456789, buf, sizeof(buf)),
			    "2026-11-23T16:13:05.123456789Z");
	assert_string_equal(hb_time_format(0, buf, sizeof(buf)), "1970-01-01T00:00:00.000000000Z");
}

static void test_prio_parse(void **state)
{
	(void)state;
	assert_int_equal(hb_prio_parse("low"), 0);
	assert_int_equal(hb_prio_parse("urgent"), 3);
	assert_int_equal(hb_prio_parse("2"), 2);
	assert_int_equal(hb_prio_parse("HIGH"), 2);
	assert_int_equal(hb_prio_parse("Urgent"), 3);
	assert_int_equal(hb_prio_parse("4"), -EINVAL);
	assert_int_equal(hb_prio_parse("foo"), -EINVAL);
	assert_string_equal(hb_prio_name(1), "normal");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_parse_iso),	 cmocka_unit_test(test_time_parse_relative),
		cmocka_unit_test(test_time_parse_epoch), cmocka_unit_test(test_time_parse_bad),
		cmocka_unit_test(test_time_format),	 cmocka_unit_test(test_prio_parse),
		cmocka_unit_test(test_time_parse_typed), cmocka_unit_test(test_time_text_local),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
