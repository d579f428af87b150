/* SPDX-License-Identifier: MIT */
/*
 * rd_fleet.c - a fleet archive (docs/FORMAT.md, "Fleet archive"): the files
 * of FLEETDIR/<host>/<bus>/ of every host and bus, in the order of their
 * names (their creation times), so that a reader interleaves the hosts by
 * time and a bounded time-order merge on top has little left to do.
 *
 * Followed (HB_RD_FOLLOW), each <host>/<bus> directory has a reader of its
 * own that follows it across rotations and never waits (nowait); the
 * tree's reader takes the next record from the one furthest behind in
 * time, looks for new <host>/<bus> directories whenever all are caught up,
 * and only then waits, so the hosts stay close in time for the merge.
 */
#include "rd_internal.h"

#include <dirent.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct rd_fleet {
	char **paths;
	size_t n, cap;
};

/* A followed <host>/<bus> directory. */
struct rd_fleet_sub {
	struct hb_reader *r;
	char *dir;
	uint64_t ts; /* of the newest record it returned */
	bool idle;   /* caught up: nothing more until the next wait */
};

typedef int (*rd_fleet_fn)(void *ctx, const char *dir);

static int rd_fleet_name_ok(const char *n)
{
	return n[0] != '.' && !strchr(n, '/');
}

static int rd_fleet_push(struct rd_fleet *f, const char *dir, const char *name)
{
	char *p;

	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 64;
		char **v = realloc(f->paths, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		f->paths = v, f->cap = cap;
	}
	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return -ENOMEM;
	f->paths[f->n++] = p;
	return 0;
}

/* The archive files of one <host>/<bus> directory. */
static int rd_fleet_bus(void *ctx, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	if (!d)
		return 0; /* not a directory */
	while (!rc && (e = readdir(d))) {
		size_t len = strlen(e->d_name);

		if (len > 11 && !strncmp(e->d_name, "hb-", 3) && !strcmp(e->d_name + len - 8, ".msgpack"))
			rc = rd_fleet_push(ctx, dir, e->d_name);
	}
	closedir(d);
	return rc;
}

/* Calls fn(ctx, path) for every entry of dir but dot files. */
static int rd_fleet_each(const char *dir, rd_fleet_fn fn, void *ctx)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char *p;
	int rc = 0;

	if (!d)
		return -errno;
	while (!rc && (e = readdir(d))) {
		if (!rd_fleet_name_ok(e->d_name))
			continue;
		if (asprintf(&p, "%s/%s", dir, e->d_name) < 0)
			return closedir(d), -ENOMEM;
		rc = fn(ctx, p);
		free(p);
	}
	closedir(d);
	return rc;
}

/* fn(ctx, path) for every <host>/<bus> entry of a fleet tree. */
struct rd_fleet_walk {
	rd_fleet_fn fn;
	void *ctx;
};

static int rd_fleet_host(void *ctx, const char *dir)
{
	const struct rd_fleet_walk *w = ctx;
	int rc = rd_fleet_each(dir, w->fn, w->ctx);

	return rc == -ENOTDIR ? 0 : rc;
}

static int rd_fleet_walk(const char *dir, rd_fleet_fn fn, void *ctx)
{
	struct rd_fleet_walk w = {fn, ctx};

	return rd_fleet_each(dir, rd_fleet_host, &w);
}

static const char *rd_fleet_base(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

static int rd_fleet_cmp(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	int c = strcmp(rd_fleet_base(x), rd_fleet_base(y));

	return c ? c : strcmp(x, y);
}

int rd_fleet_list(const char *dir, char ***paths, size_t *n)
{
	struct rd_fleet f = {0};
	int rc = rd_fleet_walk(dir, rd_fleet_bus, &f);

	if (rc) {
		for (size_t i = 0; i < f.n; i++)
			free(f.paths[i]);
		free(f.paths);
		return rc;
	}
	if (f.n)
		qsort(f.paths, f.n, sizeof(*f.paths), rd_fleet_cmp);
	*paths = f.paths;
	*n = f.n;
	return 0;
}

/* ---- following a fleet tree ---------------------------------------------- */

int rd_fleet_follow(struct hb_reader *r)
{
	char **paths = NULL;
	size_t n = 0;

	if (r->nowait || rd_fleet_list(r->dir, &paths, &n))
		return 0;
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	if (n)
		r->fleet = true;
	return r->fleet;
}

/* Follows dir when it is a directory not followed yet. */
static int rd_fleet_sub_add(void *ctx, const char *dir)
{
	struct hb_reader *r = ctx;
	struct hb_reader_opts o = r->o;
	struct rd_fleet_sub *v, *s;
	struct stat st;
	int rc;

	if (stat(dir, &st) || !S_ISDIR(st.st_mode))
		return 0;
	for (size_t i = 0; i < r->nsubs; i++)
		if (!strcmp(r->subs[i].dir, dir))
			return 0;
	v = realloc(r->subs, (r->nsubs + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	r->subs = v;
	s = &v[r->nsubs];
	memset(s, 0, sizeof(*s));
	o.flags = HB_RD_FOLLOW | (r->o.flags & HB_RD_BATCHES);
	o.on_idle = NULL;
	rc = hb_reader_open(&s->r, &dir, 1, &o);
	if (rc)
		return rc;
	s->r->nowait = true;
	if (s->r->ino_fd >= 0) { /* it never waits: the tree's reader watches */
		close(s->r->ino_fd);
		s->r->ino_fd = -1;
	}
	s->dir = strdup(dir);
	if (!s->dir) {
		hb_reader_close(s->r);
		return -ENOMEM;
	}
	r->nsubs++;
	if (r->ino_fd >= 0)
		inotify_add_watch(r->ino_fd, dir, IN_CREATE | IN_MOVED_TO | IN_MODIFY | IN_CLOSE_WRITE);
	return 0;
}

/* The sub-reader furthest behind in time that is not caught up, or NULL. */
static struct rd_fleet_sub *rd_fleet_pick(struct hb_reader *r)
{
	struct rd_fleet_sub *best = NULL;

	for (size_t i = 0; i < r->nsubs; i++) {
		struct rd_fleet_sub *s = &r->subs[i];

		if (!s->idle && (!best || s->ts < best->ts))
			best = s;
	}
	return best;
}

int rd_fleet_next(struct hb_reader *r, struct hb_rd_record *rec)
{
	struct rd_fleet_sub *s;
	size_t n;
	int rc;

	for (;;) {
		if (__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE))
			return 0;
		s = rd_fleet_pick(r);
		if (!s) { /* every one caught up: new directories, else wait */
			n = r->nsubs;
			rc = rd_fleet_walk(r->dir, rd_fleet_sub_add, r);
			if (rc == -ENOMEM)
				return rc;
			if (r->nsubs > n)
				continue;
			rd_wait(r);
			for (size_t i = 0; i < r->nsubs; i++)
				r->subs[i].idle = false;
			continue;
		}
		rc = hb_reader_next(s->r, rec);
		if (rc == 1) {
			if (rec->ts_ns > s->ts)
				s->ts = rec->ts_ns;
			return 1;
		}
		if (rc < 0 && rc != -EAGAIN)
			return rc;
		s->idle = true;
	}
}

uint64_t rd_fleet_damage(const struct hb_reader *r)
{
	uint64_t n = 0;

	for (size_t i = 0; i < r->nsubs; i++)
		n += hb_reader_damage_count(r->subs[i].r);
	return n;
}

void rd_fleet_close(struct hb_reader *r)
{
	for (size_t i = 0; i < r->nsubs; i++) {
		hb_reader_close(r->subs[i].r);
		free(r->subs[i].dir);
	}
	free(r->subs);
	r->subs = NULL;
	r->nsubs = 0;
}
