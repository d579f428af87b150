/* SPDX-License-Identifier: MIT */
/*
 * rd_fmt.h - number and time formatting for the reader's output (private):
 * integers two digits at a time, the ISO 8601 time with the date and time
 * of day cached per second, and a printf-free path for the doubles that
 * have a short decimal form.
 */
#ifndef HB_RD_FMT_H
#define HB_RD_FMT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

extern const char rd_digits2[200]; /* "00", "01", ... "99" */

/* The priority names of hb_prio_name with their lengths. */
struct rd_name {
	const char *s;
	uint8_t len;
};
extern const struct rd_name rd_prios[4];

static inline unsigned rd_fmt_ndigits(uint32_t v)
{
	unsigned n = 1;

	for (;;) {
		if (v < 10)
			return n;
		if (v < 100)
			return n + 1;
		if (v < 1000)
			return n + 2;
		if (v < 10000)
			return n + 3;
		v /= 10000;
		n += 4;
	}
}

static inline size_t rd_fmt_u32(char *p, uint32_t v)
{
	unsigned n = rd_fmt_ndigits(v), i = n;

	while (v >= 100) {
		unsigned d = (v % 100) * 2;
		v /= 100;
		memcpy(p + (i -= 2), rd_digits2 + d, 2);
	}
	if (v >= 10)
		memcpy(p + i - 2, rd_digits2 + v * 2, 2);
	else
		p[i - 1] = (char)('0' + v);
	return n;
}

/* v < 10^8 as exactly 8 digits */
static inline void rd_fmt_8(char *p, uint32_t v)
{
	uint32_t hi = v / 10000, lo = v % 10000;

	memcpy(p, rd_digits2 + hi / 100 * 2, 2);
	memcpy(p + 2, rd_digits2 + hi % 100 * 2, 2);
	memcpy(p + 4, rd_digits2 + lo / 100 * 2, 2);
	memcpy(p + 6, rd_digits2 + lo % 100 * 2, 2);
}

/* v in decimal at p (no NUL); returns its length (<= 20). */
static inline size_t rd_fmt_u64(char *p, uint64_t v)
{
	uint64_t hi;
	size_t n;

	if (v <= UINT32_MAX)
		return rd_fmt_u32(p, (uint32_t)v);
	hi = v / 100000000;
	if (hi <= UINT32_MAX) {
		n = rd_fmt_u32(p, (uint32_t)hi);
	} else {
		n = rd_fmt_u32(p, (uint32_t)(hi / 100000000));
		rd_fmt_8(p + n, (uint32_t)(hi % 100000000));
		n += 8;
	}
	rd_fmt_8(p + n, (uint32_t)(v % 100000000));
	return n + 8;
}

/* ns as "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ": exactly 30 bytes at p, no NUL. */
void rd_fmt_time(char *p, uint64_t ns);
/* The same in local time with the zone's UTC offset ("+01:00" instead of
 * "Z"; "Z" when the offset is 0): up to 35 bytes at p, the length returned. */
size_t rd_fmt_time_local(char *p, uint64_t ns);

/* d as hb_rd_fmt_double prints it, when d is 0 or has at most 15
 * significant digits in fixed notation (1e-4 <= |d| < 1e15) and that short
 * form reads back as d; else 0 (the caller uses printf). */
int rd_fmt_double_fast(char *buf, double d);

#endif
