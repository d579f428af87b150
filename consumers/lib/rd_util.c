/* SPDX-License-Identifier: MIT */
/*
 * rd_util.c - small helpers shared by the tools: names of priorities, tags
 * and metric kinds, time parsing and formatting, msgpack object access.
 */
#include "rd_internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <msgpack/timestamp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "hb.h"
#include "hbs/dir.h"
#include "hbs/names.h"
#include "hbs/utf8.h"
#include "rd_fmt.h"

#define RD_NAME(lit) {lit, sizeof(lit) - 1}
const struct rd_name rd_prios[4] = {RD_NAME("low"), RD_NAME("normal"), RD_NAME("high"),
				    RD_NAME("urgent")};

const char *hb_prio_name(int prio)
{
	return prio >= 0 && prio <= 3 ? rd_prios[prio].s : "?";
}

int hb_prio_parse(const char *s)
{
	if (!s)
		return -EINVAL;
	for (int i = 0; i < 4; i++)
		if (strcasecmp(s, rd_prios[i].s) == 0)
			return i;
	if (s[0] >= '0' && s[0] <= '3' && s[1] == 0)
		return s[0] - '0';
	return -EINVAL;
}

const char *hb_tag_name(int tag)
{
	const char *n = tag >= 0 ? hbs_tag_name((unsigned)tag) : NULL;

	return n ? n : "?";
}

const char *hb_metric_kind_name(int kind)
{
	const char *n = kind >= 0 ? hbs_kind_name((unsigned)kind) : NULL;

	return n ? n : "?";
}

const msgpack_object *hb_rd_map_get(const msgpack_object *map, const char *key)
{
	size_t n = strlen(key);

	if (!map || map->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const msgpack_object *k = &map->via.map.ptr[i].key;
		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
		    memcmp(k->via.str.ptr, key, n) == 0)
			return &map->via.map.ptr[i].val;
	}
	return NULL;
}

int hb_rd_obj_time(const msgpack_object *o, uint64_t *ns)
{
	msgpack_timestamp ts;

	if (!msgpack_object_to_timestamp(o, &ts) || ts.tv_nsec >= 1000000000u)
		return -EINVAL;
	*ns = ts.tv_sec < 0 ? 0 : (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
	return 0;
}

/* ---- time formatting (parsing: rd_time.c) --------------------------- */

const char rd_digits2[200] = "0001020304050607080910111213141516171819"
			    "2021222324252627282930313233343536373839"
			    "4041424344454647484950515253545556575859"
			    "6061626364656667686970717273747576777879"
			    "8081828384858687888990919293949596979899";

static void rd_put2(char *p, unsigned v)
{
	memcpy(p, rd_digits2 + 2 * v, 2);
}

void rd_fmt_time(char *p, uint64_t ns)
{
	static __thread time_t last = -1;
	static __thread char prefix[20]; /* "YYYY-MM-DDTHH:MM:SS." */
	time_t sec = (time_t)(ns / 1000000000u);
	uint32_t frac = (uint32_t)(ns % 1000000000u);

	if (sec != last) {
		struct tm tm;
		gmtime_r(&sec, &tm);
		unsigned y = (unsigned)(tm.tm_year + 1900) % 10000;
		rd_put2(prefix, y / 100);
		rd_put2(prefix + 2, y % 100);
		prefix[4] = '-';
		rd_put2(prefix + 5, (unsigned)tm.tm_mon + 1);
		prefix[7] = '-';
		rd_put2(prefix + 8, (unsigned)tm.tm_mday);
		prefix[10] = 'T';
		rd_put2(prefix + 11, (unsigned)tm.tm_hour);
		prefix[13] = ':';
		rd_put2(prefix + 14, (unsigned)tm.tm_min);
		prefix[16] = ':';
		rd_put2(prefix + 17, (unsigned)tm.tm_sec);
		prefix[19] = '.';
		last = sec;
	}
	memcpy(p, prefix, 20);
	rd_fmt_8(p + 20, frac / 10); /* two halves of 4 digits, not a chain of 4 */
	p[28] = (char)('0' + frac % 10);
	p[29] = 'Z';
}

size_t rd_fmt_time_local(char *p, uint64_t ns)
{
	static __thread time_t last = -1;
	static __thread char prefix[20], zone[6]; /* "+HH:MM", or "Z" at offset 0 */
	static __thread size_t zlen;
	time_t sec = (time_t)(ns / 1000000000u);
	uint32_t frac = (uint32_t)(ns % 1000000000u);

	if (sec != last) {
		struct tm tm;
		char utc[30];
		localtime_r(&sec, &tm);
		rd_fmt_time(utc, (uint64_t)(sec + tm.tm_gmtoff) * 1000000000u);
		memcpy(prefix, utc, 20);
		long off = tm.tm_gmtoff < 0 ? -tm.tm_gmtoff : tm.tm_gmtoff;
		zone[0] = tm.tm_gmtoff < 0 ? '-' : '+';
		rd_put2(zone + 1, (unsigned)(off / 3600 % 100));
		zone[3] = ':';
		rd_put2(zone + 4, (unsigned)(off / 60 % 60));
		zlen = off ? 6 : 1;
		if (!off)
			zone[0] = 'Z';
		last = sec;
	}
	memcpy(p, prefix, 20);
	rd_fmt_8(p + 20, frac / 10);
	p[28] = (char)('0' + frac % 10);
	memcpy(p + 29, zone, 6);
	return 29 + zlen;
}

char *hb_time_format(uint64_t ns, char *buf, size_t len)
{
	if (len < 32) {
		if (len)
			buf[0] = 0;
		return buf;
	}
	rd_fmt_time(buf, ns);
	buf[30] = 0;
	return buf;
}

/* ---- doubles ------------------------------------------------------------ */

static const double rd_p10d[20] = {1e0,  1e1,  1e2,  1e3,  1e4,	 1e5,  1e6,
				   1e7,  1e8,  1e9,  1e10, 1e11, 1e12, 1e13,
				   1e14, 1e15, 1e16, 1e17, 1e18, 1e19};

/* printf's %.15g of a double that a decimal m / 10^k (m < 10^15, k minimal)
 * reads back as is exactly that decimal: the double is within half an ulp
 * (~1.1e-16 relative) of it, less than half the 15-digit spacing (5e-16),
 * so %.15g rounds back to it, and hb_rd_fmt_double stops at 15 digits.
 * m / 10^k is computed with both exact, so the division rounds like strtod
 * does. x = d * 10^k is then m within m * 2^-52 (two roundings), which is
 * less than 0.25, so rounding finds m, and less than x * 2^-51: an x
 * farther from every integer (tested with a margin of 2) rules k out
 * without the division. */
static bool rd_dec_at(double d, double x, unsigned k, uint64_t *m)
{
	*m = (uint64_t)(int64_t)(x + 0.5); /* x < 10^15 < 2^50: x + 0.5 is exact */
	double r = x - (double)(int64_t)*m;

	return r <= x * 0x1p-50 && r >= -x * 0x1p-50 && (double)(int64_t)*m / rd_p10d[k] == d;
}

/* d > 0 is M * 2^-e with M odd (or an integer, e = 0). When e < 20 and
 * m = d * 10^e = M * 5^e < 10^15, d is exactly the decimal m / 10^e (the
 * product is exact) and it is the shortest that reads back as d: m is odd,
 * so any other decimal of fewer places differs from d by at least 10^-e =
 * d / m, more than half an ulp of d as m < 2^53. Returns e, or -1. */
static int rd_dec_exact(double d, uint64_t *m)
{
	uint64_t bits, mant;
	int e;

	memcpy(&bits, &d, sizeof(bits));
	if (!(bits >> 52)) /* subnormal */
		return -1;
	mant = (bits & ((1ull << 52) - 1)) | 1ull << 52;
	e = 1075 - (int)(bits >> 52) - __builtin_ctzll(mant);
	if (e < 0)
		e = 0;
	if (e >= 20)
		return -1;
	double x = d * rd_p10d[e];
	if (!(x < 1e15))
		return -1;
	*m = (uint64_t)(int64_t)x;
	return e;
}

/* The shortest decimal m / 10^k (m < 10^15, k < 20) that reads back as d
 * (1e-4 <= d < 1e15): k, or -1 when there is none. Binary fractions such
 * as n * 0.25 are found without a loop. */
static int rd_dec_find(double d, uint64_t *m)
{
	int k = rd_dec_exact(d, m);

	if (k >= 0)
		return k;
	for (k = 0; k < 20; k++) {
		double x = d * rd_p10d[k];
		if (x >= 1e15)
			return -1;
		if (rd_dec_at(d, x, (unsigned)k, m))
			return k;
	}
	return -1;
}

/* k fraction digits of f < 10^k (one 0 when k is 0); writes up to 8 bytes
 * more than it returns. */
static size_t rd_fmt_frac(char *s, uint64_t f, unsigned k)
{
	static const uint32_t p10[9] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000,
					100000000};

	if (k <= 8) {
		rd_fmt_8(s, (uint32_t)f * p10[8 - k]);
		return k ? k : 1;
	}
	for (unsigned i = k; i-- > 0; f /= 10)
		s[i] = (char)('0' + f % 10);
	return k;
}

int rd_fmt_double_fast(char *buf, double d)
{
	char *s = buf;
	uint64_t m, ip, f, scale;
	int k;

	if (signbit(d)) {
		*s++ = '-';
		d = -d;
	}
	if (d == 0) {
		memcpy(s, "0.0", 3);
		return (int)(s + 3 - buf);
	}
	if (!(d >= 1e-4 && d < 1e15)) /* %g switches to exponents; NaN, Inf */
		return 0;
	k = rd_dec_find(d, &m);
	if (k < 0)
		return 0;
	/* floor(d) is m / 10^k: d is within 2^-53 relative of m / 10^k, which
	 * is at least 1/m > 2^-53 relative below the next integer */
	scale = (uint64_t)rd_p10d[k];
	ip = (uint64_t)d;
	f = m - ip * scale;
	if (f >= scale) { /* not reached; kept exact all the same */
		ip = m / scale;
		f = m % scale;
	}
	s += rd_fmt_u64(s, ip);
	*s++ = '.';
	s += rd_fmt_frac(s, f, (unsigned)k);
	return (int)(s - buf);
}

size_t hb_utf8_len(const void *p, size_t n)
{
	return hbs_utf8_len(p, n);
}

int hb_utf8_valid(const void *p, size_t n)
{
	return hbs_utf8_valid(p, n);
}

int hb_default_dir(const char *bus, char *out, size_t len)
{
	return hbs_default_dir(bus, out, len);
}
