/* SPDX-License-Identifier: MIT */
/* Consumer API: running the handlers over archives through the reader. */
#include "consumer_int.h"

#include <errno.h>

int hb_consumer_run(struct hb_consumer *c, const char *const *paths, size_t npaths,
		    unsigned flags)
{
	struct hb_reader_opts o = c->opts.reader;
	struct hb_rd_record rec;
	struct hb_reader *r;
	int rc;

	o.flags |= flags;
	c->stop = 0;
	rc = hb_reader_open(&r, paths, npaths, &o);
	if (rc < 0)
		return rc;
	atomic_store(&c->active, r);
	while (!c->stop && (rc = hb_reader_next(r, &rec)) > 0)
		hb_consumer_dispatch(c, &rec);
	atomic_store(&c->active, NULL);
	c->damage = hb_reader_damage_count(r);
	hb_reader_close(r);
	return rc < 0 ? rc : 0;
}

void hb_consumer_stop(struct hb_consumer *c)
{
	struct hb_reader *r;

	c->stop = 1;
	r = atomic_load(&c->active);
	if (r)
		hb_reader_stop(r);
}

uint64_t hb_consumer_damage_count(const struct hb_consumer *c)
{
	return c->damage;
}
