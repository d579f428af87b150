/* SPDX-License-Identifier: MIT */
/* The reader's hand-written formatting against plain references:
 * hb_rd_fmt_double prints the first of %.15g, %.16g, %.17g that reads back
 * as the same double, ".0" added to integral finite values (special values
 * and random doubles of the shapes archives carry: short decimals,
 * integers, random bit patterns); hb_rd_print_json_str escapes '"', '\\'
 * and control characters only (random strings of every length);
 * hb_rd_format_text/json give what hb_rd_print_text/json print, and the
 * length needed when the buffer is too small. */
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
		check(ldexp((double)(rnd() % 100000), -(int)(rnd() % 30)));
		check(ldexp((double)(rnd() % (1ull << 50)), -(int)(rnd() % 60)));
		check((double)(rnd() % 1000000000000000ull) / pow(10, (double)(rnd() % 22)));
	}
}

static void ref_json_str(FILE *f, const unsigned char *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			fprintf(f, "\\%c", s[i]);
		else if (s[i] == '\n')
			fputs("\\n", f);
		else if (s[i] == '\t')
			fputs("\\t", f);
		else if (s[i] == '\r')
			fputs("\\r", f);
		else if (s[i] < 0x20)
			fprintf(f, "\\u%04x", s[i]);
		else if (s[i] < 0x80)
			fputc(s[i], f);
		else if (hb_utf8_len(s + i, n - i)) { /* well-formed UTF-8 as it is */
			size_t u = hb_utf8_len(s + i, n - i);

			fwrite(s + i, 1, u, f);
			i += u - 1;
		} else {
			fputs("\\ufffd", f); /* a byte that is not UTF-8 */
		}
	}
	fputc('"', f);
}

static void test_utf8_sequences(void **state)
{
	(void)state;
	assert_int_equal(hb_utf8_len("\xc3\xa9", 2), 2);             /* e acute */
	assert_int_equal(hb_utf8_len("\xe2\x82\xac", 3), 3);         /* euro sign */
	assert_int_equal(hb_utf8_len("\xf0\x9f\x98\x80", 4), 4);     /* U+1F600 */
	assert_int_equal(hb_utf8_len("\xc3\xa9", 1), 0);             /* cut short */
	assert_int_equal(hb_utf8_len("\xc0\x80", 2), 0);             /* overlong NUL */
	assert_int_equal(hb_utf8_len("\xe0\x80\xaf", 3), 0);         /* overlong '/' */
	assert_int_equal(hb_utf8_len("\xed\xa0\x80", 3), 0);         /* surrogate */
	assert_int_equal(hb_utf8_len("\xf4\x90\x80\x80", 4), 0);     /* above U+10FFFF */
	assert_int_equal(hb_utf8_len("\x80", 1), 0);                 /* lone continuation */
	assert_int_equal(hb_utf8_len("\xff", 1), 0);
	assert_true(hb_utf8_valid("plain caf\xc3\xa9", 11));
	assert_false(hb_utf8_valid("bad \xff", 5));
}

static void test_json_str_random(void **state)
{
	static const unsigned char alpha[] = {'a', 'Z', '0', ' ', '"', '\\', '\n', '\t', '\r', 0,
					      0x1f, 0x7f, 0x80, 0xc3, 0xa9, 0xff, '!', '#', '[', ']'};
	unsigned char s[80];
	char *want, *got;
	size_t nwant, ngot;

	(void)state;
	for (int i = 0; i < 20000; i++) {
		size_t n = rnd() % sizeof(s);
		unsigned clean = (unsigned)(rnd() % 4); /* mostly plain text */
		for (size_t j = 0; j < n; j++)
			s[j] = clean ? (unsigned char)('a' + rnd() % 26)
				     : alpha[rnd() % sizeof(alpha)];
		if (clean == 1 && n)
			s[rnd() % n] = alpha[rnd() % sizeof(alpha)];
		FILE *fw = open_memstream(&want, &nwant), *fg = open_memstream(&got, &ngot);
		assert_non_null(fw);
		assert_non_null(fg);
		ref_json_str(fw, s, n);
		hb_rd_print_json_str(fg, (const char *)s, n);
		fclose(fw);
		fclose(fg);
		assert_int_equal(nwant, ngot);
		assert_memory_equal(want, got, nwant);
		free(want);
		free(got);
	}
}

/* An event [1, p, seq, ts, type, prio, req, n, px, sym] with a long sym. */
static void check_format(const char *sym)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_zone zone;
	msgpack_object obj;
	struct hb_rd_record rec = {0};
	size_t off = 0;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 10);
	msgpack_pack_uint64(&pk, 1);
	msgpack_pack_uint64(&pk, 3);
	msgpack_pack_uint64(&pk, 5);
	msgpack_pack_ext_with_body(&pk, "\x6a\xf0\xf6\x1f\x00\x00\x00\x00", 8, -1);
	msgpack_pack_uint64(&pk, 0);
	msgpack_pack_uint64(&pk, 1);
	msgpack_pack_uint64(&pk, 42);
	msgpack_pack_int64(&pk, -5);
	msgpack_pack_double(&pk, 2.5);
	msgpack_pack_str_with_body(&pk, sym, strlen(sym));
	msgpack_zone_init(&zone, 4096);
	assert_int_equal(msgpack_unpack(sb.data, sb.size, &off, &zone, &obj), MSGPACK_UNPACK_SUCCESS);
	rec.kind = HB_RD_EVENT;
	rec.obj = &obj;
	rec.seq = 5;
	rec.ts_ns = 1795450385123456789ull;
	rec.type_id = 0;
	rec.prio = 1;
	rec.has_req = 1;
	rec.req = 42;
	rec.nvals = 3;
	rec.vals = obj.via.array.ptr + 7;
	for (int json = 0; json < 2; json++) {
		char *want, *got = malloc(1 << 16);
		size_t nwant, n;
		FILE *f = open_memstream(&want, &nwant);
		assert_non_null(f);
		if (json)
			hb_rd_print_json(f, &rec);
		else
			hb_rd_print_text(f, &rec, 0);
		fclose(f);
		n = json ? hb_rd_format_json(got, 1 << 16, &rec) : hb_rd_format_text(got, 1 << 16, &rec, 0);
		assert_int_equal(n, nwant);
		assert_memory_equal(got, want, n);
		n = json ? hb_rd_format_json(got, 256, &rec) : hb_rd_format_text(got, 256, &rec, 0);
		assert_int_equal(n, nwant);
		if (n <= 256)
			assert_memory_equal(got, want, n);
		/* room for exactly the record: all of it, whatever its long parts */
		for (size_t room = nwant; room <= nwant + 1; room++) {
			size_t cap = room < 256 ? 256 : room;
			memset(got, 0, 1 << 16);
			n = json ? hb_rd_format_json(got, cap, &rec) : hb_rd_format_text(got, cap, &rec, 0);
			assert_int_equal(n, nwant);
			assert_memory_equal(got, want, n);
		}
		free(want);
		free(got);
	}
	msgpack_zone_destroy(&zone);
	msgpack_sbuffer_destroy(&sb);
}

static void test_format_buffer(void **state)
{
	char big[3000];

	(void)state;
	check_format("s5");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	big[100] = '"';
	check_format(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_double_special),
		cmocka_unit_test(test_double_random),
		cmocka_unit_test(test_utf8_sequences),
		cmocka_unit_test(test_json_str_random),
		cmocka_unit_test(test_format_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
