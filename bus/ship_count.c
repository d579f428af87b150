/* SPDX-License-Identifier: MIT */
/*
 * ship_count.c - how far behind hbship is (ship.h): a second reader of the
 * archive, in a thread of its own, follows it from the position hbship
 * started from and counts the records hbship ships (hbf_rec_shipped), so
 * the records not yet acknowledged are known exactly whether or not the
 * shipper itself reads (while NATS is down it reads nothing).
 *
 * Per archive object with such records it keeps a mark: the number of
 * records counted before it, the time of its first one, its file and
 * offset. The shipper commits whole objects, so the mark of the first
 * record not acknowledged gives the oldest unshipped record's time and the
 * archive bytes from it on. Past SHIP_MARKS_MAX marks every other one
 * after the oldest is dropped: the oldest figures then stay right for the
 * first object and err on the old side by at most a dropped span after it.
 */
#include "ship.h"
#include "hbc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SHIP_MARKS_MAX (1u << 18)

struct ship_mark {
	uint64_t before; /* records counted before this object */
	uint64_t ts_ns;  /* its first shipped record's time */
	const char *file; /* the reader's name of its file (stable until close) */
	uint64_t off;
};

struct ship_count {
	struct hb_reader *rd;
	pthread_t thr;
	char origin_file[64]; /* "" when counting from the oldest file */
	uint64_t origin_off;

	pthread_mutex_t mu; /* guards what follows; the thread appends, ship_count_lag pops */
	uint64_t n;         /* records counted */
	struct ship_mark *m;
	size_t lo, hi, cap; /* marks m[lo..hi) */
	const char *last_file;
	uint64_t last_off;
};

static const char *ship_count_base(const char *path)
{
	const char *sl = strrchr(path, '/');

	return sl ? sl + 1 : path;
}

/* Keeps the first mark and every other one after it. */
static void ship_count_thin(struct ship_count *c)
{
	size_t i, o = c->lo + 1;

	for (i = c->lo + 2; i < c->hi; i += 2)
		c->m[o++] = c->m[i];
	c->hi = o;
}

static void ship_count_mark(struct ship_count *c, const struct hb_rd_record *rec)
{
	if (c->hi - c->lo >= SHIP_MARKS_MAX)
		ship_count_thin(c);
	if (c->hi == c->cap && c->lo) {
		memmove(c->m, c->m + c->lo, (c->hi - c->lo) * sizeof(*c->m));
		c->hi -= c->lo;
		c->lo = 0;
	}
	if (c->hi == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 1024;
		struct ship_mark *m = realloc(c->m, cap * sizeof(*m));

		if (!m) /* no mark: the previous one stands for this object too */
			return;
		c->m = m;
		c->cap = cap;
	}
	c->m[c->hi++] = (struct ship_mark){c->n, rec->ts_ns, rec->file, rec->offset};
}

static void *ship_count_main(void *arg)
{
	struct ship_count *c = arg;
	struct hb_rd_record rec;
	int skipping = c->origin_file[0] != 0, rc;

	while ((rc = hb_reader_next(c->rd, &rec)) > 0) {
		if (skipping) {
			int cmp = strcmp(ship_count_base(rec.file), c->origin_file);

			if (cmp < 0 || (cmp == 0 && rec.offset <= c->origin_off))
				continue;
			skipping = 0;
		}
		if (!hbf_rec_shipped(&rec))
			continue;
		pthread_mutex_lock(&c->mu);
		if (rec.file != c->last_file || rec.offset != c->last_off || c->hi == c->lo) {
			ship_count_mark(c, &rec);
			c->last_file = rec.file;
			c->last_off = rec.offset;
		}
		c->n += rec.kind == HB_RD_BATCH ? rec.nevents : 1;
		pthread_mutex_unlock(&c->mu);
	}
	if (rc < 0)
		hbf_warn("counting the archive's records: %s (the lag shown stops there)",
			 strerror(-rc));
	return NULL;
}

static void ship_count_quiet_damage(void *ctx, const char *file, uint64_t off, uint64_t len,
				    const char *what)
{
	(void)ctx, (void)file, (void)off, (void)len, (void)what; /* the shipper reports it */
}

int ship_count_start(struct ship_count **out, const char *dir, const char *pos_file,
		     uint64_t pos_off)
{
	struct hb_reader_opts ro = {.flags = HB_RD_FOLLOW | HB_RD_BATCHES, .poll_ms = 20,
				    .on_damage = ship_count_quiet_damage};
	char path[4096 + HBC_FNAME_MAX + 2];
	const char *paths[1] = {path};
	struct ship_count *c = calloc(1, sizeof(*c));
	int rc;

	if (!c)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s", dir);
	if (pos_file && *pos_file) {
		snprintf(c->origin_file, sizeof(c->origin_file), "%s", pos_file);
		c->origin_off = pos_off;
		snprintf(path, sizeof(path), "%s/%s", dir, pos_file);
	}
	pthread_mutex_init(&c->mu, NULL);
	rc = hb_reader_open(&c->rd, paths, 1, &ro);
	if (!rc)
		rc = -pthread_create(&c->thr, NULL, ship_count_main, c);
	if (rc) {
		hb_reader_close(c->rd);
		pthread_mutex_destroy(&c->mu);
		free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void ship_count_lag(struct ship_count *c, uint64_t acked, struct ship_lag *out)
{
	memset(out, 0, sizeof(*out));
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	/* drop the marks of objects acknowledged whole */
	while (c->hi - c->lo > 1 && c->m[c->lo + 1].before <= acked)
		c->lo++;
	if (c->n > acked && c->hi > c->lo) {
		const struct ship_mark *m = &c->m[c->lo];

		out->records = c->n - acked;
		out->ts_ns = m->ts_ns;
		snprintf(out->file, sizeof(out->file), "%s", ship_count_base(m->file));
		out->off = m->off;
	}
	pthread_mutex_unlock(&c->mu);
}

void ship_count_stop(struct ship_count *c)
{
	if (!c)
		return;
	hb_reader_stop(c->rd);
	pthread_join(c->thr, NULL);
	hb_reader_close(c->rd);
	pthread_mutex_destroy(&c->mu);
	free(c->m);
	free(c);
}
