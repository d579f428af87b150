/* SPDX-License-Identifier: MIT */
/*
 * rd_fleet.c - a fleet archive (docs/FORMAT.md, "Fleet archive"): the files
 * of FLEETDIR/<host>/<bus>/ of every host and bus, in the order of their
 * names (their creation times), so that a reader interleaves the hosts by
 * time and a bounded time-order merge on top has little left to do.
 */
#include "rd_internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rd_fleet {
	char **paths;
	size_t n, cap;
};

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
static int rd_fleet_bus(struct rd_fleet *f, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	if (!d)
		return 0; /* not a directory */
	while (!rc && (e = readdir(d))) {
		size_t len = strlen(e->d_name);

		if (len > 11 && !strncmp(e->d_name, "hb-", 3) && !strcmp(e->d_name + len - 8, ".msgpack"))
			rc = rd_fleet_push(f, dir, e->d_name);
	}
	closedir(d);
	return rc;
}

/* Calls fn(f, path) for every subdirectory of dir. */
static int rd_fleet_each(struct rd_fleet *f, const char *dir,
			 int (*fn)(struct rd_fleet *f, const char *dir))
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
			rc = -ENOMEM;
		else
			rc = fn(f, p);
		free(p);
	}
	closedir(d);
	return rc;
}

static int rd_fleet_host(struct rd_fleet *f, const char *dir)
{
	int rc = rd_fleet_each(f, dir, rd_fleet_bus);

	return rc == -ENOTDIR ? 0 : rc;
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
	int rc = rd_fleet_each(&f, dir, rd_fleet_host);

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
