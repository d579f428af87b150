/* SPDX-License-Identifier: MIT */
/*
 * hbs/dir.h - the archive directory every tool takes when none is given
 * (hb_default_dir in hb_reader.h states the rule), for the collector and
 * the reader alike. Header only, libc only (include/hbs/README.md).
 * Prefix hbs_.
 */
#ifndef HB_HBS_DIR_H
#define HB_HBS_DIR_H

#include <errno.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* As hb_default_dir: 0, -ENOENT (no home either), -ENAMETOOLONG. */
static inline int hbs_default_dir(const char *bus, char *out, size_t len)
{
	const char *dir = getenv("HB_DIR"), *state = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	struct passwd *pw;
	int n;

	if (!bus || !*bus)
		bus = getenv("HB_BUS");
	if (!bus || !*bus)
		bus = "default";
	if (dir && *dir)
		n = snprintf(out, len, "%s", dir);
	else if (state && *state)
		n = snprintf(out, len, "%s/hb/%s", state, bus);
	else {
		if (!home || !*home)
			home = (pw = getpwuid(getuid())) && pw->pw_dir && *pw->pw_dir ? pw->pw_dir : NULL;
		if (!home)
			return -ENOENT;
		n = snprintf(out, len, "%s/.local/state/hb/%s", home, bus);
	}
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

#endif
