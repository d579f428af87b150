/* SPDX-License-Identifier: MIT */
/*
 * reader.c - hb_reader: files, directories in name order, stdin, and
 * following a live archive directory across rotations (docs/FORMAT.md);
 * a followed fleet tree is rd_fleet.c's, through one reader per directory.
 *
 * Bytes are read in large chunks into one buffer; buf[pos, len) is not yet
 * decoded and base is the file offset of buf[0]. Damage handling: an object
 * that does not decode, or is not a valid record, starts a damaged region;
 * the reader then moves forward one byte at a time until a plausible record
 * decodes and reports the region (offset, length) through on_damage.
 * A file that ends inside an object is a truncated tail, unless the file
 * may still grow (follow mode), in which case the reader waits. An event
 * batch (format 2.0) is taken whole; its events are then handed out one
 * per call (rd_batch.c) before anything more is decoded or read, so the
 * batch's bytes stay where they are in the buffer meanwhile.
 */
#include "rd_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RD_PROBE 32 /* bytes rd_maybe_record may look at */

/* ---- names and damage ---------------------------------------------- */

/* A: pairs with the R in hb_reader_stop. */
static int rd_stopped(const struct hb_reader *r)
{
	return __atomic_load_n(&r->stop, __ATOMIC_ACQUIRE);
}

static const char *rd_name_keep(struct hb_reader *r, const char *name)
{
	if (r->nnames == r->capnames) {
		size_t cap = r->capnames ? r->capnames * 2 : 16;
		char **v = realloc(r->names, cap * sizeof(*v));
		if (!v)
			return NULL;
		r->names = v;
		r->capnames = cap;
	}
	char *s = strdup(name);
	if (s)
		r->names[r->nnames++] = s;
	return s;
}

void rd_damage(struct hb_reader *r, uint64_t off, uint64_t len, const char *what)
{
	r->damage++;
	if (r->o.on_damage)
		r->o.on_damage(r->o.ctx, r->name, off, len, what);
	else
		fprintf(stderr, "hb: %s: offset %llu: %s\n", r->name, (unsigned long long)off,
			what);
}

static void rd_bad_begin(struct hb_reader *r, const char *what)
{
	if (r->bad)
		return;
	r->bad = true;
	r->bad_start = r->base + r->pos;
	r->bad_what = what;
}

/* The damaged region ends here: a record decodes at pos (or the file ends). */
static void rd_bad_end(struct hb_reader *r)
{
	char what[160];
	uint64_t len = r->base + r->pos - r->bad_start;

	if (!r->bad)
		return;
	r->bad = false;
	if (r->pos < r->len)
		snprintf(what, sizeof(what), "%s, skipped %llu bytes", r->bad_what,
			 (unsigned long long)len);
	else if (strcmp(r->bad_what, "truncated record") == 0)
		snprintf(what, sizeof(what), "truncated record at end of file, %llu bytes ignored",
			 (unsigned long long)len);
	else
		snprintf(what, sizeof(what), "%s, %llu bytes to end of file ignored", r->bad_what,
			 (unsigned long long)len);
	rd_damage(r, r->bad_start, len, what);
}

/* ---- directories ----------------------------------------------------- */

static bool rd_is_archive_name(const char *n)
{
	size_t len = strlen(n);

	return len > 11 && strncmp(n, "hb-", 3) == 0 && strcmp(n + len - 8, ".msgpack") == 0;
}

static int rd_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *rd_join(const char *dir, const char *name)
{
	char *s;

	return asprintf(&s, "%s/%s", dir, name) < 0 ? NULL : s;
}

static int rd_queue_push(struct hb_reader *r, char *path)
{
	if (!path)
		return -ENOMEM;
	char **v = realloc(r->queue, (r->nqueue + 1) * sizeof(*v));
	if (!v) {
		free(path);
		return -ENOMEM;
	}
	r->queue = v;
	r->queue[r->nqueue++] = path;
	return 0;
}

/* Queues every archive file of dir in name order. */
static int rd_queue_dir(struct hb_reader *r, const char *dir)
{
	struct dirent **list;
	int n = scandir(dir, &list, NULL, alphasort), rc = 0;

	if (n < 0)
		return -errno;
	char **names = calloc((size_t)n + 1, sizeof(*names));
	size_t k = 0;
	for (int i = 0; i < n; i++) {
		if (names && rd_is_archive_name(list[i]->d_name))
			names[k++] = list[i]->d_name;
	}
	if (!names)
		rc = -ENOMEM;
	else
		qsort(names, k, sizeof(*names), rd_cmp);
	for (size_t i = 0; i < k && !rc; i++)
		rc = rd_queue_push(r, rd_join(dir, names[i]));
	free(names);
	if (!rc && !k) { /* no archive files: a fleet tree, dir/<host>/<bus>/? */
		char **paths = NULL;
		size_t np = 0;

		rc = rd_fleet_list(dir, &paths, &np);
		for (size_t i = 0; i < np; i++) {
			if (rc)
				free(paths[i]);
			else
				rc = rd_queue_push(r, paths[i]); /* frees it on failure */
		}
		free(paths);
	}
	for (int i = 0; i < n; i++)
		free(list[i]);
	free(list);
	return rc;
}

/* The smallest archive name in dir after `after` (NULL: any), or NULL. */
static char *rd_dir_next(const char *dir, const char *after)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char *best = NULL;

	if (!d)
		return NULL;
	while ((e = readdir(d))) {
		if (!rd_is_archive_name(e->d_name) || (after && strcmp(e->d_name, after) <= 0))
			continue;
		if (!best || strcmp(e->d_name, best) < 0) {
			free(best);
			best = strdup(e->d_name);
		}
	}
	closedir(d);
	return best;
}

/* ---- files --------------------------------------------------------- */

static int rd_file_open(struct hb_reader *r, const char *path, bool followed)
{
	r->is_stdin = strcmp(path, "-") == 0;
	r->name = rd_name_keep(r, path);
	if (!r->name)
		return -ENOMEM;
	r->fd = r->is_stdin ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0)
		return -errno;
	r->followed = followed;
	r->eof = false;
	r->pos = r->len = 0;
	r->base = 0;
	r->newer_since = 0;
	r->bad = false;
	free(r->end_next);
	r->end_next = NULL;
	rd_ptab_clear(&r->tab);
	return followed || r->is_stdin ? 0 : rd_seek_plan(r);
}

static void rd_file_close(struct hb_reader *r)
{
	if (r->fd > 0 || (r->fd == 0 && !r->is_stdin))
		close(r->fd);
	r->fd = -1;
	rd_seek_clear(r);
}

/* Opens the next input: 1 opened, 0 no more, -EAGAIN nothing yet (follow). */
static int rd_open_next(struct hb_reader *r)
{
	char *name, *path;
	int rc;

	while (r->iqueue < r->nqueue) {
		const char *p = r->queue[r->iqueue++];
		rc = rd_file_open(r, p, false);
		if (rc == 0)
			return 1;
		if (rc == -ENOMEM)
			return rc;
		rd_damage(r, 0, 0, strerror(-rc));
	}
	if (!r->dir)
		return 0;
	for (;;) {
		name = NULL;
		/* a successor is newer than what was read: an `end` naming the
		 * same or an older file (damage, or a crafted file) would loop */
		if (r->end_next && !strchr(r->end_next, '/') &&
		    (!r->dir_last || strcmp(r->end_next, r->dir_last) > 0)) {
			name = r->end_next;
			r->end_next = NULL;
		} else {
			free(r->end_next);
			r->end_next = NULL;
			name = rd_dir_next(r->dir, r->dir_last);
		}
		if (!name)
			return -EAGAIN;
		free(r->dir_last);
		r->dir_last = name;
		path = rd_join(r->dir, name);
		if (!path)
			return -ENOMEM;
		rc = rd_file_open(r, path, true);
		free(path);
		if (rc == 0)
			return 1;
		if (rc != -ENOENT) /* ENOENT: removed by retention meanwhile */
			rd_damage(r, 0, 0, strerror(-rc));
	}
}

/* Reads more bytes: > 0 read, 0 end of file for now, -errno. */
static ssize_t rd_fill(struct hb_reader *r)
{
	if (r->pos) {
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->base += r->pos;
		r->len -= r->pos;
		r->pos = 0;
	}
	if (r->len == r->cap) {
		char *b = r->cap < 4 * RD_OBJ_MAX ? realloc(r->buf, r->cap * 2) : NULL;
		if (!b)
			return -ENOMEM;
		r->buf = b;
		r->cap *= 2;
	}
	for (;;) {
		size_t room = r->cap - r->len;
		room = rd_seek_room(r, room < RD_READ_MAX ? room : RD_READ_MAX);
		ssize_t n = room ? read(r->fd, r->buf + r->len, room) : 0;
		if (n >= 0) {
			r->len += (size_t)n;
			return n;
		}
		if (errno != EINTR || rd_stopped(r))
			return -errno;
	}
}

static uint64_t rd_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* At the end of a followed file: true when it is finished (an end record,
 * or a newer file exists and this one has not grown for a while). A newer
 * file must also have been seen for a moment: the collector creates the
 * successor just before it appends end, and an idle file is old already. */
static bool rd_follow_done(struct hb_reader *r)
{
	struct stat st;
	char *newer;
	uint64_t mtime, now;

	if (r->end_next)
		return true;
	newer = rd_dir_next(r->dir, r->dir_last);
	if (!newer)
		return false;
	free(newer);
	now = rd_now_ns();
	if (!r->newer_since)
		r->newer_since = now;
	if (fstat(r->fd, &st) || (uint64_t)st.st_size > r->base + r->len)
		return false;
	mtime = (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec;
	return now > mtime + RD_STALE_NS && now > r->newer_since + RD_NEWER_NS;
}

void rd_wait(struct hb_reader *r)
{
	struct pollfd pfd[2] = {{.fd = r->wake_fd, .events = POLLIN},
				{.fd = r->ino_fd, .events = POLLIN}};
	char buf[4096];

	if (r->o.on_idle)
		r->o.on_idle(r->o.ctx);
	if (r->ino_fd >= 0 && r->ino_wd < 0)
		r->ino_wd = inotify_add_watch(r->ino_fd, r->dir,
					      IN_CREATE | IN_MOVED_TO | IN_MODIFY | IN_CLOSE_WRITE);
	if (rd_stopped(r))
		return;
	if (poll(pfd, r->ino_wd >= 0 ? 2 : 1, (int)r->o.poll_ms) > 0 && (pfd[1].revents & POLLIN))
		while (read(r->ino_fd, buf, sizeof(buf)) > 0)
			;
}

/* ---- decoding at the read position ------------------------------------ */

/* The object of n bytes at the read position decoded (rc 1: a record in
 * rec, 0: a valid object to skip): ends a damaged region and moves on. */
static int rd_took(struct hb_reader *r, struct hb_rd_record *rec, const uint8_t *p, size_t n,
		   int rc)
{
	rd_bad_end(r);
	r->pos += n;
	if (rc == 0)
		return 2;
	rec->raw = (const char *)p;
	rec->raw_len = n;
	rec->file = r->name;
	rec->offset = r->base + (uint64_t)(r->pos - n);
	return 1;
}

/* 1 a record in rec, 2 progress (skipped bytes), 0 more bytes needed. */
static int rd_step(struct hb_reader *r, struct hb_rd_record *rec)
{
	const uint8_t *p = (const uint8_t *)r->buf + r->pos;
	size_t avail = r->len - r->pos;
	long n;
	int rc;

	if (!avail)
		return 0;
	if (r->bad && !rd_maybe_record(p, avail)) {
		if (avail < RD_PROBE && !r->eof)
			return 0;
		r->pos++;
		return 2;
	}
	n = rd_decode_fast(r, p, avail, rec);
	if (n > 0)
		return rd_took(r, rec, p, (size_t)n, 1);
	n = rd_batch_open(r, p, avail);
	if (n > 0 && (r->o.flags & HB_RD_BATCHES)) /* whole */
		return rd_took(r, rec, p, (size_t)n, rd_batch_whole(r, rec));
	if (n > 0) /* its events come from r->batch, first at the next step */
		return rd_took(r, rec, p, (size_t)n, 0);
	if (n == 0 && !r->eof)
		return 0;
	n = rd_mp_size(p, avail);
	if (n == 0 && !r->eof)
		return 0;
	if (n > 0) {
		rc = rd_decode(r, (const char *)p, (size_t)n, rec);
		if (rc >= 0)
			return rd_took(r, rec, p, (size_t)n, rc);
	}
	rd_bad_begin(r, n == 0 ? "truncated record" : n < 0 ? "undecodable data" : "invalid record");
	r->pos++;
	return 2;
}

int hb_reader_next(struct hb_reader *r, struct hb_rd_record *rec)
{
	int rc;

	for (;;) {
		if (rd_stopped(r))
			return 0;
		if (r->batch.left)
			return rd_batch_next(r, rec);
		if (r->fleet)
			return rd_fleet_next(r, rec);
		if (r->fd < 0) {
			rc = rd_open_next(r);
			if (rc == -EAGAIN) {
				if (!r->dir_last && rd_fleet_follow(r))
					continue;
				if (r->nowait)
					return rc;
				rd_wait(r);
				continue;
			}
			if (rc <= 0)
				return rc;
		}
		rc = rd_step(r, rec);
		if (rc == 1)
			return 1;
		if (rc == 2)
			continue;
		if (!r->eof) {
			ssize_t n = rd_fill(r);
			if (n > 0)
				continue;
			if (n < 0) {
				if (rd_stopped(r))
					return 0;
				rd_damage(r, r->base + r->len, 0, strerror((int)-n));
				r->eof = true;
			} else if (!r->followed || rd_follow_done(r)) {
				r->eof = true;
			} else if (r->nowait) {
				return -EAGAIN;
			} else {
				rd_wait(r);
			}
			continue;
		}
		rd_bad_end(r);
		rd_file_close(r);
	}
}

/* ---- open / close ------------------------------------------------------ */

static int rd_add_path(struct hb_reader *r, const char *path, bool follow)
{
	struct stat st;

	if (strcmp(path, "-") == 0)
		return rd_queue_push(r, strdup(path));
	if (stat(path, &st)) {
		if (errno != ENOENT || !follow)
			return -errno;
		st.st_mode = S_IFDIR; /* follow: wait for the directory */
	}
	if (!S_ISDIR(st.st_mode)) {
		if (!follow)
			return rd_queue_push(r, strdup(path));
		/* a file in the followed directory: start there */
		char *slash = strrchr(path, '/');
		r->dir = slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
		if (slash == path) {
			free(r->dir);
			r->dir = strdup("/");
		}
		r->end_next = strdup(slash ? slash + 1 : path);
		return r->dir && r->end_next ? 0 : -ENOMEM;
	}
	if (!follow)
		return rd_queue_dir(r, path);
	r->dir = strdup(path);
	return r->dir ? 0 : -ENOMEM;
}

int hb_reader_open(struct hb_reader **out, const char *const *paths, size_t npaths,
		   const struct hb_reader_opts *opts)
{
	struct hb_reader *r = calloc(1, sizeof(*r));
	int rc = -ENOMEM;

	*out = NULL;
	if (!r)
		return -ENOMEM;
	r->fd = r->wake_fd = r->ino_fd = r->ino_wd = -1;
	if (opts)
		r->o = *opts;
	if (r->o.flags & ~(HB_RD_FOLLOW | HB_RD_BATCHES)) {
		rc = -EINVAL;
		goto err;
	}
	if (!r->o.poll_ms)
		r->o.poll_ms = 50;
	r->follow = r->o.flags & HB_RD_FOLLOW;
	r->cap = RD_BUF_INIT;
	r->buf = malloc(r->cap);
	if (!r->buf || !msgpack_zone_init(&r->zone, 64 * 1024))
		goto err;
	r->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->wake_fd < 0) {
		rc = -errno;
		goto err;
	}
	for (size_t i = 0; i < npaths; i++) {
		rc = rd_add_path(r, paths[i], r->follow && i + 1 == npaths);
		if (rc)
			goto err;
	}
	if (r->dir)
		r->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	*out = r;
	return 0;
err:
	hb_reader_close(r);
	return rc;
}

void hb_reader_stop(struct hb_reader *r)
{
	uint64_t one = 1;

	/* R: pairs with the A in rd_stopped (another thread, or a signal
	 * handler: the flag is a lock-free int) */
	__atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
	if (write(r->wake_fd, &one, sizeof(one)) < 0) {
		/* the flag alone stops the reader within poll_ms */
	}
}

uint64_t hb_reader_damage_count(const struct hb_reader *r)
{
	return r->damage + rd_fleet_damage(r);
}

void hb_reader_close(struct hb_reader *r)
{
	if (!r)
		return;
	rd_fleet_close(r);
	rd_file_close(r);
	if (r->wake_fd >= 0)
		close(r->wake_fd);
	if (r->ino_fd >= 0)
		close(r->ino_fd);
	for (size_t i = 0; i < r->nqueue; i++)
		free(r->queue[i]);
	free(r->queue);
	for (size_t i = 0; i < r->nall; i++)
		rd_producer_free(r->all[i]);
	free(r->all);
	for (size_t i = 0; i < r->nnames; i++)
		free(r->names[i]);
	free(r->names);
	rd_ptab_free(&r->tab);
	rd_batch_free(r);
	if (r->buf)
		msgpack_zone_destroy(&r->zone);
	free(r->buf);
	free(r->dir);
	free(r->dir_last);
	free(r->end_next);
	free(r);
}
