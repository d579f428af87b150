/* SPDX-License-Identifier: MIT */
/*
 * rd_time.c - the times people type (hbcat --since/--until, hbreplay):
 * ISO 8601, @epoch, relative ("-10m", "5 min ago", "1h"), day words
 * ("today", "yesterday", "tomorrow", each optionally with a clock time)
 * and a clock time of today ("17:20"). Times without a zone are local
 * time (the TZ environment variable) unless HB_TIME_UTC is given.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "hb_reader.h"

#define NS 1000000000ull

static int rd_digits(const char **s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*s)[i]))
			return -EINVAL;
		v = v * 10 + ((*s)[i] - '0');
	}
	*s += n;
	*out = v;
	return 0;
}

/* ".123" -> ns; advances s. */
static uint64_t rd_frac(const char **s)
{
	uint64_t ns = 0, scale = 100000000;

	if (**s != '.' && **s != ',')
		return 0;
	for ((*s)++; isdigit((unsigned char)**s); (*s)++) {
		ns += (uint64_t)(**s - '0') * scale;
		scale /= 10;
	}
	return ns;
}

/* A broken-down time as ns: local time (DST as the zone has it then) or
 * UTC minus the offset off (seconds east). */
static int rd_tm_ns(struct tm *tm, bool local, long off, uint64_t frac, uint64_t *out)
{
	time_t t;

	if (local) {
		tm->tm_isdst = -1;
		t = mktime(tm);
	} else {
		t = timegm(tm) - off;
	}
	if (t < 0)
		return -EINVAL;
	*out = (uint64_t)t * NS + frac;
	return 0;
}

/* "HH:MM[:SS[.frac]]" (H may be one digit) into tm; advances s. */
static int rd_clock_parse(const char **s, struct tm *tm, uint64_t *frac)
{
	int h, mi, sec = 0;

	if (isdigit((unsigned char)(*s)[0]) && (*s)[1] == ':') {
		h = (*s)[0] - '0';
		(*s)++;
	} else if (rd_digits(s, 2, &h)) {
		return -EINVAL;
	}
	if (*(*s)++ != ':' || rd_digits(s, 2, &mi))
		return -EINVAL;
	*frac = 0;
	if (**s == ':') {
		(*s)++;
		if (rd_digits(s, 2, &sec))
			return -EINVAL;
		*frac = rd_frac(s);
	}
	if (h > 23 || mi > 59 || sec > 60)
		return -EINVAL;
	tm->tm_hour = h;
	tm->tm_min = mi;
	tm->tm_sec = sec;
	return 0;
}

/* "Z", "+01:00", "-0530" or nothing: the offset in seconds east; *zone
 * says whether one was there. Advances s. */
static int rd_zone_parse(const char **s, long *off, bool *zone)
{
	int oh, om;

	*off = 0;
	*zone = true;
	if (**s == 'Z' || **s == 'z') {
		(*s)++;
		return 0;
	}
	if (**s != '+' && **s != '-') {
		*zone = false;
		return 0;
	}
	int sign = *(*s)++ == '-' ? -1 : 1;
	if (rd_digits(s, 2, &oh))
		return -EINVAL;
	if (**s == ':')
		(*s)++;
	if (rd_digits(s, 2, &om) || oh > 23 || om > 59)
		return -EINVAL;
	*off = sign * (oh * 3600L + om * 60L);
	return 0;
}

static int rd_iso_parse(const char *s, bool local, uint64_t *out)
{
	struct tm tm = {0};
	int y, mo, d;
	long off;
	bool zone;
	uint64_t ns = 0;

	if (rd_digits(&s, 4, &y) || *s++ != '-' || rd_digits(&s, 2, &mo) || *s++ != '-' ||
	    rd_digits(&s, 2, &d))
		return -EINVAL;
	if (*s == 'T' || *s == 't' || *s == ' ') {
		s++;
		if (rd_clock_parse(&s, &tm, &ns))
			return -EINVAL;
	}
	if (rd_zone_parse(&s, &off, &zone) || *s || mo < 1 || mo > 12 || d < 1 || d > 31)
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	return rd_tm_ns(&tm, local && !zone, off, ns, out);
}

struct rd_unit {
	const char *name;
	double ns;
};

static const struct rd_unit rd_units[] = {
	{"ns", 1},	   {"nsec", 1},	       {"us", 1e3},	    {"usec", 1e3},
	{"ms", 1e6},	   {"msec", 1e6},      {"s", 1e9},	    {"sec", 1e9},
	{"secs", 1e9},	   {"second", 1e9},    {"seconds", 1e9},    {"m", 60e9},
	{"min", 60e9},	   {"mins", 60e9},     {"minute", 60e9},    {"minutes", 60e9},
	{"h", 3600e9},	   {"hr", 3600e9},     {"hrs", 3600e9},	    {"hour", 3600e9},
	{"hours", 3600e9}, {"d", 86400e9},     {"day", 86400e9},    {"days", 86400e9},
	{"w", 604800e9},   {"week", 604800e9}, {"weeks", 604800e9},
};

static double rd_unit_ns(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof(rd_units) / sizeof(rd_units[0]); i++)
		if (strlen(rd_units[i].name) == n && strncasecmp(rd_units[i].name, s, n) == 0)
			return rd_units[i].ns;
	return 0;
}

/* "10m", "1h 30min", "5 min" -> ns; a lone number without a unit is
 * seconds when bare_ok. */
static int rd_dur_parse(const char *s, bool bare_ok, uint64_t *out)
{
	double total = 0;
	int parts = 0;

	while (*s) {
		char *end;
		double v, unit;
		size_t n;

		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		errno = 0;
		v = strtod(s, &end);
		if (errno || end == s)
			return -EINVAL;
		for (s = end; *s == ' '; s++)
			;
		for (n = 0; isalpha((unsigned char)s[n]); n++)
			;
		unit = n ? rd_unit_ns(s, n) : 0;
		if (n && !unit)
			return -EINVAL;
		if (!n && (parts || *s || !bare_ok))
			return -EINVAL;
		total += v * (n ? unit : 1e9);
		parts++;
		for (s += n; *s == ' '; s++)
			;
	}
	if (!parts || total >= 1.8e19)
		return -EINVAL;
	*out = (uint64_t)total;
	return 0;
}

static int rd_epoch_parse(const char *p, uint64_t *out)
{
	char *end;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	errno = 0;
	unsigned long long sec = strtoull(p, &end, 10);
	p = end;
	uint64_t ns = rd_frac(&p);
	if (errno || *p || sec > 18000000000ull)
		return -EINVAL;
	*out = sec * NS + ns;
	return 0;
}

/* "today", "yesterday", "tomorrow" (at 00:00 or at the clock time after a
 * space), or a clock time of today. */
static int rd_day_parse(const char *s, uint64_t now_ns, bool local, uint64_t *out)
{
	static const char *const words[] = {"yesterday", "today", "tomorrow"};
	time_t now = (time_t)(now_ns / NS);
	struct tm tm;
	uint64_t frac = 0;
	int shift = 0;
	size_t n = 0;

	for (int i = 0; i < 3 && !n; i++) {
		size_t w = strlen(words[i]);
		if (strncasecmp(s, words[i], w) == 0 && (!s[w] || s[w] == ' ')) {
			n = w;
			shift = i - 1;
		}
	}
	if (local)
		localtime_r(&now, &tm);
	else
		gmtime_r(&now, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_mday += shift;
	for (s += n; *s == ' '; s++)
		;
	if (*s && (rd_clock_parse(&s, &tm, &frac) || *s))
		return -EINVAL;
	return rd_tm_ns(&tm, local, 0, frac, out);
}

static bool rd_suffix(const char *s, size_t len, const char *suf, size_t *stem)
{
	size_t n = strlen(suf);

	if (len <= n || strcasecmp(s + len - n, suf) != 0)
		return false;
	*stem = len - n;
	return true;
}

static int rd_rel(uint64_t now_ns, uint64_t d, bool back, uint64_t *out)
{
	*out = back ? (d > now_ns ? 0 : now_ns - d) : now_ns + d;
	return 0;
}

int hb_time_parse_flags(const char *s, uint64_t now_ns, unsigned flags, uint64_t *out_ns)
{
	bool local = !(flags & HB_TIME_UTC);
	char buf[80];
	size_t len, stem;
	uint64_t d;

	if (!s)
		return -EINVAL;
	while (*s == ' ')
		s++;
	len = strlen(s);
	while (len && s[len - 1] == ' ')
		len--;
	if (!len || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = 0;
	if (strcasecmp(buf, "now") == 0)
		return rd_rel(now_ns, 0, false, out_ns);
	if (rd_suffix(buf, len, " ago", &stem) || rd_suffix(buf, len, " left", &stem)) {
		bool back = buf[stem + 1] == 'a' || buf[stem + 1] == 'A';
		buf[stem] = 0;
		return rd_dur_parse(buf, false, &d) ? -EINVAL : rd_rel(now_ns, d, back, out_ns);
	}
	if (buf[0] == '-' || buf[0] == '+')
		return rd_dur_parse(buf + 1, true, &d) ? -EINVAL
						       : rd_rel(now_ns, d, buf[0] == '-', out_ns);
	if (buf[0] == '@')
		return rd_epoch_parse(buf + 1, out_ns);
	if (isalpha((unsigned char)buf[0]) || strchr(buf, ':') == buf + 1 ||
	    strchr(buf, ':') == buf + 2)
		return rd_day_parse(buf, now_ns, local, out_ns);
	if (len >= 10 && buf[4] == '-')
		return rd_iso_parse(buf, local, out_ns);
	return rd_dur_parse(buf, false, &d) ? -EINVAL : rd_rel(now_ns, d, true, out_ns);
}

int hb_time_parse(const char *s, uint64_t now_ns, uint64_t *out_ns)
{
	return hb_time_parse_flags(s, now_ns, HB_TIME_UTC, out_ns);
}
