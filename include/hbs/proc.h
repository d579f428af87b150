/* SPDX-License-Identifier: MIT */
/*
 * hbs/proc.h - /proc/PID/stat read and split once for every side: the
 * producer notes its own start time (field 22) in its ring header, the
 * collector compares it to tell a reused pid, and samples CPU, threads and
 * RSS from the same line. Header only, libc only
 * (include/hbs/README.md). Prefix hbs_.
 */
#ifndef HB_HBS_PROC_H
#define HB_HBS_PROC_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* Fields of /proc/PID/stat as proc(5) numbers them. */
#define HBS_STAT_STATE 3
#define HBS_STAT_UTIME 14
#define HBS_STAT_STIME 15
#define HBS_STAT_THREADS 20
#define HBS_STAT_START 22 /* clock ticks since boot */
#define HBS_STAT_RSS 24   /* pages */

/* Reads a small /proc file into buf (len bytes, NUL terminated, with one
 * read: /proc files are made whole at that read): its length or -errno. */
static inline ssize_t hbs_proc_read(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return n;
}

/* Reads /proc/PID/stat (pid 0: /proc/self/stat) as hbs_proc_read does
 * (-ENOENT: no such process). */
static inline ssize_t hbs_proc_stat_read(uint32_t pid, char *buf, size_t len)
{
	char path[64];

	if (pid)
		snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/stat");
	return hbs_proc_read(path, buf, len);
}

/* Field n (>= 3) of a stat line: the text where it starts, NULL when the
 * line has none. Counted from the last ')' (the comm, field 2, may hold
 * spaces and parentheses). */
static inline const char *hbs_proc_stat_field(const char *line, unsigned n)
{
	const char *p = strrchr(line, ')');
	unsigned field = 2;

	if (!p || n < 3)
		return NULL;
	for (; *p; p++)
		if (*p == ' ' && ++field == n)
			return p + 1;
	return NULL;
}

/* Field n as a number (0 when it is missing or not one). */
static inline uint64_t hbs_proc_stat_u64(const char *line, unsigned n)
{
	const char *f = hbs_proc_stat_field(line, n);

	return f ? strtoull(f, NULL, 10) : 0;
}

#endif
