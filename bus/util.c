/* SPDX-License-Identifier: MIT */
/* util.c - option parsing, logging and clocks shared by hbcollect's modules. */
#include "hbc.h"
#include "hbs/dir.h"
#include "hbs/utf8.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int hbc_verbosity = 1;
const char *hbc_prog = "hbcollect";

void hbc_log(int level, const char *fmt, ...)
{
	char line[1024], out[4 * sizeof(line)];
	va_list ap;

	if (level > hbc_verbosity && level > 0)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* names from /dev/shm and ring headers end up here: one line, no
	 * terminal controls, valid UTF-8 */
	hbc_str_escape(out, sizeof(out), line, strlen(line));
	fprintf(stderr, "%s: %s\n", hbc_prog, out);
}

/* Bytes of the UTF-8 character at s (n left) that pass as they are: a
 * printable ASCII character but '\\', or a well-formed sequence that is
 * not a C1 control (U+0080-U+009F, c2 80-c2 9f); 0 when it is escaped. */
static size_t hbc_str_keep(const unsigned char *s, size_t n)
{
	size_t u;

	if (s[0] < 0x80)
		return s[0] >= 0x20 && s[0] < 0x7f && s[0] != '\\';
	u = hbs_utf8_len(s, n);
	return u == 2 && s[0] == 0xc2 && s[1] < 0xa0 ? 0 : u;
}

int hbc_str_clean(const char *src, size_t n)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0, u;

	while (i < n) {
		u = hbc_str_keep(s + i, n - i);
		if (!u)
			return 0;
		i += u;
	}
	return 1;
}

size_t hbc_str_escape(char *dst, size_t cap, const char *src, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0, o = 0, u;

	if (!cap)
		return 0;
	while (i < n) {
		u = hbc_str_keep(s + i, n - i);
		if (u) {
			if (o + u >= cap)
				break;
			memcpy(dst + o, s + i, u);
			o += u;
			i += u;
			continue;
		}
		if (o + 4 >= cap)
			break;
		dst[o++] = '\\';
		if (s[i] == '\\') {
			dst[o++] = '\\';
		} else {
			dst[o++] = 'x';
			dst[o++] = hex[s[i] >> 4];
			dst[o++] = hex[s[i] & 15];
		}
		i++;
	}
	dst[o] = 0;
	return o;
}

static int hbc_parse_number(const char *s, uint64_t *v, char **end)
{
	unsigned long long n;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	n = strtoull(s, end, 10);
	if (errno)
		return -EINVAL;
	*v = n;
	return 0;
}

static int hbc_mul(uint64_t v, uint64_t m, uint64_t *out)
{
	if (m && v > UINT64_MAX / m)
		return -EINVAL;
	*out = v * m;
	return 0;
}

int hbc_parse_size(const char *s, uint64_t *out)
{
	uint64_t v, m = 1;
	char *end;

	if (hbc_parse_number(s, &v, &end))
		return -EINVAL;
	if (*end == 'k' || *end == 'K')
		m = 1024, end++;
	else if (*end == 'M' || *end == 'm')
		m = 1024 * 1024, end++;
	else if (*end == 'G' || *end == 'g')
		m = 1024ull * 1024 * 1024, end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end)
		return -EINVAL;
	return hbc_mul(v, m, out);
}

int hbc_parse_duration(const char *s, uint64_t *out_ns)
{
	uint64_t v, m;
	char *end;

	if (hbc_parse_number(s, &v, &end))
		return -EINVAL;
	if (!*end || !strcmp(end, "s"))
		m = 1000000000ull;
	else if (!strcmp(end, "ms"))
		m = 1000000ull;
	else if (!strcmp(end, "m"))
		m = 60000000000ull;
	else if (!strcmp(end, "h"))
		m = 3600000000000ull;
	else if (!strcmp(end, "d"))
		m = 86400000000000ull;
	else
		return -EINVAL;
	return hbc_mul(v, m, out_ns);
}

static uint64_t hbc_clock(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t hbc_now_ns(void)
{
	return hbc_clock(CLOCK_REALTIME);
}

uint64_t hbc_mono_ns(void)
{
	return hbc_clock(CLOCK_MONOTONIC);
}

int hbc_mkdir_p(const char *path, unsigned mode)
{
	char buf[4096];
	size_t n = strlen(path), i;

	if (n == 0 || n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != 0)
			continue;
		buf[i] = 0;
		if (mkdir(buf, (mode_t)mode) < 0 && errno != EEXIST)
			return -errno;
		if (i < n)
			buf[i] = '/';
	}
	return 0;
}

int hbc_default_dir(char *dir, size_t len, const char *bus)
{
	int rc = hbs_default_dir(bus, dir, len);

	if (rc == -ENOENT)
		fprintf(stderr, "%s: no archive directory: $HOME is not set and the user has no home "
			"directory; give --dir or set HB_DIR\n", hbc_prog);
	else if (rc)
		fprintf(stderr, "%s: the default archive directory is too long; give --dir\n", hbc_prog);
	return rc ? 2 : 0;
}

int hbc_fsync_parse(const char *s, enum hbc_fsync *mode)
{
	if (!strcmp(s, "never"))
		*mode = HBC_FSYNC_NEVER;
	else if (!strcmp(s, "interval"))
		*mode = HBC_FSYNC_INTERVAL;
	else if (!strcmp(s, "always"))
		*mode = HBC_FSYNC_ALWAYS;
	else
		return -EINVAL;
	return 0;
}
