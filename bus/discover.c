/* SPDX-License-Identifier: MIT */
/*
 * discover.c - finding rings of a bus in the shm directory: inotify
 * (IN_CREATE, IN_MOVED_TO) on a nonblocking descriptor polled by the loop,
 * plus a full rescan at start and every second in case inotify missed
 * something (queue overflow, no inotify).
 */
#include "hbc.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

int hbc_disc_init(struct hbc_disc *d, const char *dir, const char *bus)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->dir, sizeof(d->dir), "%s", dir);
	snprintf(d->prefix, sizeof(d->prefix), "hb.%s.", bus);
	d->scan_every_ns = 1000000000ull;
	d->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (d->ifd >= 0 && inotify_add_watch(d->ifd, dir, IN_CREATE | IN_MOVED_TO) < 0) {
		hbc_warn("inotify on %s: %s; finding rings by rescans only", dir, strerror(errno));
		close(d->ifd);
		d->ifd = -1;
	}
	return 0;
}

void hbc_disc_close(struct hbc_disc *d)
{
	if (d->ifd >= 0)
		close(d->ifd);
	d->ifd = -1;
}

static int hbc_disc_match(const struct hbc_disc *d, const char *name)
{
	return !strncmp(name, d->prefix, strlen(d->prefix)) && strlen(name) < 200;
}

static void hbc_disc_inotify(struct hbc_disc *d, void (*found)(void *, const char *), void *ctx,
			     int *overflow)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	while ((n = read(d->ifd, buf, sizeof(buf))) > 0) {
		char *p = buf;

		while (p < buf + n) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			if (ev->mask & IN_Q_OVERFLOW)
				*overflow = 1;
			else if (ev->len && hbc_disc_match(d, ev->name))
				found(ctx, ev->name);
			p += sizeof(*ev) + ev->len;
		}
	}
}

static void hbc_disc_rescan(struct hbc_disc *d, void (*found)(void *, const char *), void *ctx)
{
	struct dirent *de;
	DIR *dir = opendir(d->dir);

	if (!dir)
		return;
	while ((de = readdir(dir)))
		if (hbc_disc_match(d, de->d_name))
			found(ctx, de->d_name);
	closedir(dir);
}

void hbc_disc_poll(struct hbc_disc *d, uint64_t now_mono, int force,
		   void (*found)(void *ctx, const char *name), void *ctx)
{
	int overflow = 0;

	if (d->ifd >= 0)
		hbc_disc_inotify(d, found, ctx, &overflow);
	if (force || overflow || now_mono >= d->next_scan_ns) {
		d->next_scan_ns = now_mono + d->scan_every_ns;
		hbc_disc_rescan(d, found, ctx);
	}
}
