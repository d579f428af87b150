/* SPDX-License-Identifier: MIT */
/* Time parsing and formatting of the reader helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>

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
	static const char *const bad[] = {"", "yesterday", "2026-13-01", "2026-11-23T25:00:00",
					  "-10x", "@", "@12abc", "2026-11-23T16:13:05Zjunk",
					  "-", "10m"};
	uint64_t ns;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(hb_time_parse(bad[i], NOW, &ns), -EINVAL);
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
