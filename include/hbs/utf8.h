/* SPDX-License-Identifier: MIT */
/*
 * hbs/utf8.h - well-formed UTF-8 (RFC 3629), for every side: the collector
 * checks str fields and escapes names with it, the reader prints with it.
 * Header only, libc only (include/hbs/README.md). Prefix hbs_.
 */
#ifndef HB_HBS_UTF8_H
#define HB_HBS_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length of the well-formed UTF-8 sequence at p (n bytes left), 0 if the
 * bytes there are not one (no overlongs, surrogates or > U+10FFFF). */
static inline size_t hbs_utf8_len(const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;
	if (n < len)
		return 0;
	cp = s[0] & (0x7f >> len);
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

/* 1 when the n bytes at p are well-formed UTF-8, else 0. */
static inline int hbs_utf8_valid(const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i = 0, u;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		u = hbs_utf8_len(s + i, n - i);
		if (!u)
			return 0;
		i += u;
	}
	return 1;
}

#endif
