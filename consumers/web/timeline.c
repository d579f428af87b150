/* SPDX-License-Identifier: MIT */
/*
 * timeline.c - an archive as a timeline (see web.h): event counts per time
 * bucket for each event type and each producer, and marks on the time
 * axis. Two passes with the reader API: the time span, then the counts.
 *
 * Marks: "crash" (a crashed state record), "state" (any other state
 * change), "hb-gap" (consecutive heartbeats of a producer more than 1.5
 * intervals apart: t..t2), "drop" (a gap record: records the producer
 * dropped or lost), "alert" (fired or cleared), "collector" (start, stop).
 */
#include "web.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WEB_TL_MARKS 4000 /* marks kept; the JSON says how many were left out */

struct web_series {
	char name[160];
	uint32_t *n; /* per bucket */
	uint64_t total;
};

struct web_mark {
	uint64_t t, t2;
	uint64_t n;   /* drop: records lost */
	char why[24]; /* drop: the gap records' reason */
	const struct hb_rd_producer *p;
	char kind[12];
	char who[96];
	char text[128];
};

/* What the second pass remembers of a producer (hb_rd_producer.user). */
struct web_tl_prod {
	uint32_t series;
	uint64_t last_hb;
};

struct web_tl {
	uint64_t t0, t1, res;
	uint32_t nb;
	struct web_series *types, *prods;
	uint32_t ntypes, nprods;
	struct web_mark *marks;
	uint32_t nmarks;
	uint64_t marks_left_out;
	struct web_tl_prod **owned;
	uint32_t nowned;
};

/* Runs fn on every record of the archive; stops at fn's first error. */
static int web_tl_each(const char *const *paths, size_t n,
		       int (*fn)(struct web_tl *tl, const struct hb_rd_record *rec), struct web_tl *tl)
{
	struct hb_reader_opts ro = {0};
	struct hb_rd_record rec;
	struct hb_reader *rd;
	int rc;

	rc = hb_reader_open(&rd, paths, n, &ro);
	if (rc)
		return rc;
	while ((rc = hb_reader_next(rd, &rec)) == 1)
		if ((rc = fn(tl, &rec)) < 0)
			break;
	hb_reader_close(rd);
	return rc < 0 ? rc : 0;
}

static int web_tl_span(struct web_tl *tl, const struct hb_rd_record *rec)
{
	if (rec->kind == HB_RD_HEADER || !rec->ts_ns)
		return 0;
	if (rec->ts_ns < tl->t0)
		tl->t0 = rec->ts_ns;
	if (rec->ts_ns > tl->t1)
		tl->t1 = rec->ts_ns;
	return 0;
}

/* The series named name in *tab (added when new); UINT32_MAX on ENOMEM. */
static uint32_t web_series_of(struct web_tl *tl, struct web_series **tab, uint32_t *n,
			      const char *name)
{
	struct web_series *nt;
	uint32_t i;

	for (i = 0; i < *n; i++)
		if (!strcmp((*tab)[i].name, name))
			return i;
	nt = realloc(*tab, (*n + 1) * sizeof(*nt));
	if (!nt)
		return UINT32_MAX;
	*tab = nt;
	memset(&nt[*n], 0, sizeof(nt[0]));
	snprintf(nt[*n].name, sizeof(nt[0].name), "%s", name);
	nt[*n].n = calloc(tl->nb, sizeof(uint32_t));
	if (!nt[*n].n)
		return UINT32_MAX;
	return (*n)++;
}

/* A new mark, or NULL when there are too many (counted as left out). */
static struct web_mark *web_tl_mark(struct web_tl *tl, uint64_t t, uint64_t t2,
				    const char *kind, const struct hb_rd_producer *p,
				    const char *text)
{
	struct web_mark *m;

	if (tl->nmarks == WEB_TL_MARKS) {
		tl->marks_left_out++;
		return NULL;
	}
	m = &tl->marks[tl->nmarks++];
	m->t = t, m->t2 = t2;
	m->p = p;
	m->n = 0;
	m->why[0] = 0;
	snprintf(m->kind, sizeof(m->kind), "%s", kind);
	if (p)
		snprintf(m->who, sizeof(m->who), "%s (pid %u)", p->name, p->pid);
	else
		m->who[0] = 0;
	snprintf(m->text, sizeof(m->text), "%s", text);
	return m;
}

static int web_tl_str(const msgpack_object *o, char *out, size_t len)
{
	if (!o || o->type != MSGPACK_OBJECT_STR)
		return snprintf(out, len, "?"), -1;
	snprintf(out, len, "%.*s", (int)o->via.str.size, o->via.str.ptr);
	return 0;
}

static uint64_t web_tl_uint(const msgpack_object *o)
{
	return o && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? o->via.u64 : 0;
}

/* A gap record as a drop mark; the gaps of one producer for one reason
 * within one bucket (a burst of drops) add up into one mark. */
static void web_tl_drop(struct web_tl *tl, const struct hb_rd_record *rec)
{
	struct web_mark *m = tl->nmarks ? &tl->marks[tl->nmarks - 1] : NULL;
	char why[24];

	web_tl_str(hb_rd_map_get(rec->obj, "why"), why, sizeof(why));
	if (!m || strcmp(m->kind, "drop") || m->p != rec->producer || strcmp(m->why, why) ||
	    rec->ts_ns - m->t >= tl->res) {
		m = web_tl_mark(tl, rec->ts_ns, 0, "drop", rec->producer, "");
		if (!m)
			return;
		snprintf(m->why, sizeof(m->why), "%s", why);
	}
	m->n += web_tl_uint(hb_rd_map_get(rec->obj, "n"));
	snprintf(m->text, sizeof(m->text), "%llu records lost (%s)", (unsigned long long)m->n,
		 m->why);
}

static void web_tl_bus(struct web_tl *tl, const struct hb_rd_record *rec)
{
	const msgpack_object *o = rec->obj;
	char a[48], b[48], text[128];

	if (!strcmp(rec->bus_kind, "state")) {
		web_tl_str(hb_rd_map_get(o, "state"), a, sizeof(a));
		web_tl_str(hb_rd_map_get(o, "why"), b, sizeof(b));
		snprintf(text, sizeof(text), "%s (%s)", a, b);
		web_tl_mark(tl, rec->ts_ns, 0, strcmp(a, "crashed") ? "state" : "crash",
			    rec->producer, text);
	} else if (!strcmp(rec->bus_kind, "gap")) {
		web_tl_drop(tl, rec);
	} else if (!strcmp(rec->bus_kind, "alert")) {
		web_tl_str(hb_rd_map_get(o, "name"), a, sizeof(a));
		web_tl_str(hb_rd_map_get(o, "event"), b, sizeof(b));
		snprintf(text, sizeof(text), "%s %s", a, b);
		web_tl_mark(tl, rec->ts_ns, 0, "alert", rec->producer, text);
	} else if (!strcmp(rec->bus_kind, "collector")) {
		web_tl_str(hb_rd_map_get(o, "event"), a, sizeof(a));
		snprintf(text, sizeof(text), "collector %s (pid %llu)", a,
			 (unsigned long long)web_tl_uint(hb_rd_map_get(o, "pid")));
		web_tl_mark(tl, rec->ts_ns, 0, "collector", NULL, text);
	}
}

static struct web_tl_prod *web_tl_prod(struct web_tl *tl, const struct hb_rd_producer *p)
{
	struct hb_rd_producer *mp = (struct hb_rd_producer *)p;
	struct web_tl_prod *tp, **no;
	char name[160];

	if (p->user)
		return p->user;
	snprintf(name, sizeof(name), "%s (pid %u)", p->name, p->pid);
	tp = calloc(1, sizeof(*tp));
	no = realloc(tl->owned, (tl->nowned + 1) * sizeof(*no));
	if (!tp || !no) {
		free(tp);
		if (no)
			tl->owned = no;
		return NULL;
	}
	tl->owned = no;
	tl->owned[tl->nowned++] = tp;
	tp->series = web_series_of(tl, &tl->prods, &tl->nprods, name);
	if (tp->series == UINT32_MAX)
		return NULL;
	mp->user = tp;
	return tp;
}

static uint32_t web_tl_bucket(const struct web_tl *tl, uint64_t ts)
{
	uint64_t b = ts > tl->t0 ? (ts - tl->t0) / tl->res : 0;

	return b < tl->nb ? (uint32_t)b : tl->nb - 1;
}

static int web_tl_fold(struct web_tl *tl, const struct hb_rd_record *rec)
{
	struct web_tl_prod *tp;
	uint32_t s;

	if (rec->kind == HB_RD_BUS && rec->bus_kind) {
		web_tl_bus(tl, rec);
		return 0;
	}
	if (!rec->producer || (rec->kind != HB_RD_EVENT && rec->kind != HB_RD_HEARTBEAT))
		return 0;
	tp = web_tl_prod(tl, rec->producer);
	if (!tp)
		return -ENOMEM;
	if (rec->kind == HB_RD_HEARTBEAT) {
		uint64_t iv = (uint64_t)rec->interval_ms * 1000000u;

		if (tp->last_hb && iv && rec->ts_ns > tp->last_hb &&
		    (rec->ts_ns - tp->last_hb) * 2 > 3 * iv)
			web_tl_mark(tl, tp->last_hb, rec->ts_ns, "hb-gap", rec->producer,
				    "no heartbeat");
		if (rec->ts_ns > tp->last_hb)
			tp->last_hb = rec->ts_ns;
		return 0;
	}
	s = web_series_of(tl, &tl->types, &tl->ntypes, rec->type ? rec->type->name : "?");
	if (s == UINT32_MAX)
		return -ENOMEM;
	tl->types[s].n[web_tl_bucket(tl, rec->ts_ns)]++;
	tl->types[s].total++;
	tl->prods[tp->series].n[web_tl_bucket(tl, rec->ts_ns)]++;
	tl->prods[tp->series].total++;
	return 0;
}

static void web_tl_series_write(FILE *f, const char *key, const struct web_series *t,
				uint32_t n, uint32_t nb)
{
	uint32_t i, b;

	fprintf(f, ",\"%s\":[", key);
	for (i = 0; i < n; i++) {
		fputs(i ? ",{\"name\":" : "{\"name\":", f);
		top_print_json_str(f, t[i].name);
		fprintf(f, ",\"total\":%llu,\"n\":[", (unsigned long long)t[i].total);
		for (b = 0; b < nb; b++)
			fprintf(f, "%s%u", b ? "," : "", t[i].n[b]);
		fputs("]}", f);
	}
	fputc(']', f);
}

static void web_tl_write(FILE *f, const struct web_tl *tl)
{
	uint32_t i;

	fprintf(f, "{\"t0_ns\":%llu,\"t1_ns\":%llu,\"res_ns\":%llu,\"nb\":%u",
		(unsigned long long)tl->t0, (unsigned long long)tl->t1,
		(unsigned long long)tl->res, tl->nb);
	web_tl_series_write(f, "types", tl->types, tl->ntypes, tl->nb);
	web_tl_series_write(f, "producers", tl->prods, tl->nprods, tl->nb);
	fputs(",\"marks\":[", f);
	for (i = 0; i < tl->nmarks; i++) {
		const struct web_mark *m = &tl->marks[i];

		fprintf(f, "%s{\"t\":%llu,\"t2\":%llu,\"kind\":\"%s\",\"who\":", i ? "," : "",
			(unsigned long long)m->t, (unsigned long long)m->t2, m->kind);
		top_print_json_str(f, m->who);
		fputs(",\"text\":", f);
		top_print_json_str(f, m->text);
		fputc('}', f);
	}
	fprintf(f, "],\"marks_left_out\":%llu}", (unsigned long long)tl->marks_left_out);
}

static void web_tl_free(struct web_tl *tl)
{
	uint32_t i;

	for (i = 0; i < tl->ntypes; i++)
		free(tl->types[i].n);
	for (i = 0; i < tl->nprods; i++)
		free(tl->prods[i].n);
	for (i = 0; i < tl->nowned; i++)
		free(tl->owned[i]);
	free(tl->types);
	free(tl->prods);
	free(tl->owned);
	free(tl->marks);
}

int web_timeline_build(const char *const *paths, size_t npaths, unsigned max_buckets,
		       char **out, size_t *len)
{
	struct web_tl tl = {0};
	FILE *f;
	int rc;

	*out = NULL;
	tl.t0 = UINT64_MAX;
	rc = web_tl_each(paths, npaths, web_tl_span, &tl);
	if (rc)
		return rc;
	if (tl.t0 > tl.t1)
		tl.t0 = tl.t1 = 0;
	/* whole milliseconds, at least 10 ms, at most max_buckets of them */
	tl.res = (tl.t1 - tl.t0) / (max_buckets ? max_buckets : 1) + 1;
	tl.res = (tl.res + 999999) / 1000000 * 1000000;
	if (tl.res < 10000000)
		tl.res = 10000000;
	tl.nb = (uint32_t)((tl.t1 - tl.t0) / tl.res + 1);
	tl.marks = calloc(WEB_TL_MARKS, sizeof(*tl.marks));
	rc = tl.marks ? web_tl_each(paths, npaths, web_tl_fold, &tl) : -ENOMEM;
	if (!rc) {
		f = open_memstream(out, len);
		if (!f)
			rc = -ENOMEM;
		else {
			web_tl_write(f, &tl);
			if (fclose(f))
				rc = -ENOMEM;
		}
	}
	web_tl_free(&tl);
	return rc;
}
