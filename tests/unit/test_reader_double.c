/* SPDX-License-Identifier: MIT */
/* hb_rd_fmt_double prints what the reference does: the first of %.15g,
 * %.16g, %.17g that reads back as the same double, ".0" added to integral
 * finite values. Checked on special values and on random doubles of the
 * shapes archives carry (short decimals, integers, random bit patterns). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hb_reader.h"

static int ref_fmt(char *buf, double d)
{
	int n = 0;

	for (int prec = 15; prec <= 17; prec++) {
		n = snprintf(buf, 32, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	if (isfinite(d) && !strpbrk(buf, ".eE")) {
		memcpy(buf + n, ".0", 3);
		n += 2;
	}
	return n;
}

static void check(double d)
{
	char want[48], got[48];
	int nw = ref_fmt(want, d), ng = hb_rd_fmt_double(got, d);

	got[ng] = 0;
	if (nw != ng || strcmp(want, got)) {
		print_error("%.17g: want %s, got %s\n", d, want, got);
		fail();
	}
}

static uint64_t rnd_state = 88172645463325252ull;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static void test_double_special(void **state)
{
	static const double v[] = {
		0.0, 1e-4, 9.9999e-5, 1e15, 999999999999999.0, 999999999999999.9, 1e14,
		0.1, 0.2, 0.3, 1.0 / 3, 2.0 / 3, 5e-324, 1.7976931348623157e308,
		123456789012345.6, 0.30000000000000004, 1e-5, 0.00012, 12.5, 100.0, 1e21,
		4503599627370496.0, 9007199254740993.0, 2.5, 11.3, 9.56, 1e16, 0.5e-3,
	};
	char b[48];

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		check(v[i]);
		check(-v[i]);
	}
	b[hb_rd_fmt_double(b, -0.0)] = 0;
	assert_string_equal(b, "-0.0");
	b[hb_rd_fmt_double(b, 2.5)] = 0;
	assert_string_equal(b, "2.5");
	check(NAN);
	check(INFINITY);
	check(-INFINITY);
}

static void test_double_random(void **state)
{
	(void)state;
	for (int i = 0; i < 20000; i++) {
		uint64_t r = rnd();
		double d;
		memcpy(&d, &r, sizeof(d));
		check(d);
		check((double)(rnd() % 2000000000000000ull) * 0.25);
		check((double)(rnd() % 100000000) / 100.0);
		check((double)(rnd() % 1000000) * 0.1);
		check((double)(rnd() % 1000) / 1e7);
		check((float)((double)(rnd() % 100000) / 100.0));
		check(ldexp((double)(rnd() % (1ull << 53)), (int)(rnd() % 120) - 100));
		check((double)(rnd() % 1000000000000000ull) / pow(10, (double)(rnd() % 22)));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_double_special),
		cmocka_unit_test(test_double_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
