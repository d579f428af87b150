/* SPDX-License-Identifier: MIT */
/*
 * rd_summary.c - the archive summary of hb_summary.h.
 */
#include "hb_summary.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define SUM_LIST_MAX 10000 /* ranges/states kept per producer */

struct sum_range {
	uint64_t from, to;
};

struct sum_gap {
	uint64_t from, to, n;
	char why[16];
};

/* Gaps written less than SUM_BURST_NS apart, merged: what an operator
 * reads first (priority shedding writes thousands of small gaps). */
#define SUM_BURST_NS 1000000000ull
#define SUM_LARGEST 5     /* largest gaps shown in text */
#define SUM_BURSTS_SHOWN 10 /* gap ranges shown in text */

struct sum_burst {
	uint64_t from, to; /* lowest and highest sequence number */
	uint64_t t0, t1;   /* times of its first and last gap record */
	uint64_t gaps, n;
	bool overflow, corrupt;
};

struct sum_state {
	uint64_t ts;
	char state[16];
	char why[64];
};

struct sum_prod {
	char *name, *host;
	uint32_t pid;
	uint64_t records, events, heartbeats, bus;
	uint64_t first, last, spanned; /* times of all but table records */
	bool seq_any;
	uint64_t seq_first, seq_next, dups;
	struct sum_range *holes;
	size_t nholes;
	struct sum_gap *gaps; /* the first SUM_LIST_MAX */
	size_t ngaps;
	uint64_t gaps_total;
	struct sum_burst *bursts; /* closed ones, the first SUM_LIST_MAX */
	size_t nbursts;
	uint64_t bursts_total;
	struct sum_burst cur; /* the open one (cur.gaps > 0) */
	struct sum_gap largest[SUM_LARGEST];
	size_t nlargest;
	uint64_t dropped, lost;
	struct sum_state *states;
	size_t nstates;
	uint64_t *tcount;
	char **tname;
	size_t ntypes;
	/* heartbeat gaps: longer than 1.5 intervals between two heartbeats */
	uint64_t hb_last, hb_max_gap, hb_late_n;
	uint32_t hb_interval_ms;
	struct sum_range *hb_late; /* from, to: times of the two heartbeats */
	size_t nhb_late;
};

struct sum_damage {
	char *file, *what;
	uint64_t off, len;
};

struct hb_sum {
	struct sum_prod **prods;
	size_t nprods;
	struct sum_damage *dmg;
	size_t ndmg;
	const char *last_file;
	uint64_t files, records, events, heartbeats, bus, first, last, spanned;
};

static void *grow(void *p, size_t n, size_t size)
{
	/* capacity 4, then doubled whenever n reaches a power of two */
	if (n && (n < 4 || (n & (n - 1))))
		return p;
	void *q = realloc(p, (n ? n * 2 : 4) * size);
	if (!q)
		abort();
	return q;
}

static char *dup_str(const char *s)
{
	char *d = strdup(s ? s : "");

	if (!d)
		abort();
	return d;
}

struct hb_sum *hb_sum_new(void)
{
	struct hb_sum *s = calloc(1, sizeof(*s));

	if (!s)
		abort();
	return s;
}

static struct sum_prod *sum_prod(struct hb_sum *s, const struct hb_rd_producer *cpr)
{
	struct hb_rd_producer *pr = (struct hb_rd_producer *)cpr;
	struct sum_prod *sp;

	if (!pr)
		return NULL;
	if (pr->user)
		return pr->user;
	for (size_t i = 0; i < s->nprods; i++) {
		sp = s->prods[i];
		if (sp->pid == pr->pid && strcmp(sp->name, pr->name) == 0 &&
		    strcmp(sp->host, pr->host) == 0)
			return pr->user = sp;
	}
	sp = calloc(1, sizeof(*sp));
	if (!sp)
		abort();
	sp->name = dup_str(pr->name);
	sp->host = dup_str(pr->host);
	sp->pid = pr->pid;
	s->prods = grow(s->prods, s->nprods, sizeof(*s->prods));
	s->prods[s->nprods++] = sp;
	return pr->user = sp;
}

static const char *str_of(const msgpack_object *o, char *buf, size_t len)
{
	size_t n;

	buf[0] = 0;
	if (!o || o->type != MSGPACK_OBJECT_STR)
		return buf;
	n = o->via.str.size < len - 1 ? o->via.str.size : len - 1;
	memcpy(buf, o->via.str.ptr, n);
	buf[n] = 0;
	return buf;
}

static uint64_t u64_of(const msgpack_object *o)
{
	return o && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? o->via.u64 : 0;
}

/* The gap into the largest few, kept sorted by n (largest first). */
static void sum_largest(struct sum_prod *sp, const struct sum_gap *g)
{
	size_t i = sp->nlargest < SUM_LARGEST ? sp->nlargest++ : SUM_LARGEST;

	if (i == SUM_LARGEST && g->n <= sp->largest[SUM_LARGEST - 1].n)
		return;
	if (i == SUM_LARGEST)
		i--;
	for (; i && sp->largest[i - 1].n < g->n; i--)
		sp->largest[i] = sp->largest[i - 1];
	sp->largest[i] = *g;
}

/* The open burst into the list (its first SUM_LIST_MAX are kept). */
static void sum_burst_close(struct sum_prod *sp)
{
	if (!sp->cur.gaps)
		return;
	sp->bursts_total++;
	if (sp->nbursts < SUM_LIST_MAX) {
		sp->bursts = grow(sp->bursts, sp->nbursts, sizeof(*sp->bursts));
		sp->bursts[sp->nbursts++] = sp->cur;
	}
	sp->cur.gaps = 0;
}

/* The gap into the open burst, or one it opens. */
static void sum_burst(struct sum_prod *sp, const struct sum_gap *g, uint64_t ts)
{
	struct sum_burst *b = &sp->cur;

	if (b->gaps && ts > b->t1 + SUM_BURST_NS)
		sum_burst_close(sp);
	if (!b->gaps)
		*b = (struct sum_burst){.from = g->from, .to = g->to, .t0 = ts, .t1 = ts};
	b->from = g->from < b->from ? g->from : b->from;
	b->to = g->to > b->to ? g->to : b->to;
	b->t1 = ts > b->t1 ? ts : b->t1;
	b->gaps++;
	b->n += g->n;
	if (strcmp(g->why, "corrupt") == 0)
		b->corrupt = true;
	else
		b->overflow = true;
}

static void sum_gap(struct sum_prod *sp, const msgpack_object *m, uint64_t ts)
{
	struct sum_gap g = {.n = u64_of(hb_rd_map_get(m, "n"))};

	str_of(hb_rd_map_get(m, "why"), g.why, sizeof(g.why));
	g.from = u64_of(hb_rd_map_get(m, "from"));
	g.to = u64_of(hb_rd_map_get(m, "to"));
	if (strcmp(g.why, "corrupt") == 0)
		sp->lost += g.n;
	else
		sp->dropped += g.n;
	sp->gaps_total++;
	sum_largest(sp, &g);
	sum_burst(sp, &g, ts);
	if (sp->ngaps >= SUM_LIST_MAX)
		return;
	sp->gaps = grow(sp->gaps, sp->ngaps, sizeof(*sp->gaps));
	sp->gaps[sp->ngaps++] = g;
}

static void sum_state(struct sum_prod *sp, const struct hb_rd_record *rec)
{
	struct sum_state *st;

	if (sp->nstates >= SUM_LIST_MAX)
		return;
	sp->states = grow(sp->states, sp->nstates, sizeof(*sp->states));
	st = &sp->states[sp->nstates++];
	st->ts = rec->ts_ns;
	str_of(hb_rd_map_get(rec->obj, "state"), st->state, sizeof(st->state));
	str_of(hb_rd_map_get(rec->obj, "why"), st->why, sizeof(st->why));
}

static void sum_hole(struct sum_prod *sp, uint64_t from, uint64_t to)
{
	if (sp->nholes >= SUM_LIST_MAX)
		return;
	sp->holes = grow(sp->holes, sp->nholes, sizeof(*sp->holes));
	sp->holes[sp->nholes++] = (struct sum_range){from, to};
}

void hb_sum_seq(struct hb_sum *s, const struct hb_rd_record *rec)
{
	struct sum_prod *sp;

	if (rec->file != s->last_file) {
		s->last_file = rec->file;
		s->files++;
	}
	sp = sum_prod(s, rec->producer);
	if (!sp)
		return;
	if (rec->kind == HB_RD_EVENT || rec->kind == HB_RD_HEARTBEAT) {
		if (!sp->seq_any) {
			sp->seq_any = true;
			sp->seq_first = rec->seq;
		} else if (rec->seq > sp->seq_next) {
			sum_hole(sp, sp->seq_next, rec->seq - 1);
		} else if (rec->seq < sp->seq_next) {
			sp->dups++;
			return;
		}
		sp->seq_next = rec->seq + 1;
	} else if (rec->kind == HB_RD_BUS && strcmp(rec->bus_kind, "gap") == 0) {
		sum_gap(sp, rec->obj, rec->ts_ns);
	} else if (rec->kind == HB_RD_BUS && strcmp(rec->bus_kind, "state") == 0) {
		sum_state(sp, rec);
	}
}

static void sum_type(struct sum_prod *sp, const struct hb_rd_record *rec)
{
	size_t id = (size_t)rec->type_id;

	if (rec->type_id < 0 || id >= 65536)
		return;
	if (id >= sp->ntypes) {
		size_t n = id + 1;
		sp->tcount = realloc(sp->tcount, n * sizeof(*sp->tcount));
		sp->tname = realloc(sp->tname, n * sizeof(*sp->tname));
		if (!sp->tcount || !sp->tname)
			abort();
		memset(sp->tcount + sp->ntypes, 0, (n - sp->ntypes) * sizeof(*sp->tcount));
		memset(sp->tname + sp->ntypes, 0, (n - sp->ntypes) * sizeof(*sp->tname));
		sp->ntypes = n;
	}
	if (!sp->tname[id]) {
		char tmp[24];
		snprintf(tmp, sizeof(tmp), "type#%zu", id);
		sp->tname[id] = dup_str(rec->type ? rec->type->name : tmp);
	}
	sp->tcount[id]++;
}

static void sum_heartbeat(struct sum_prod *sp, const struct hb_rd_record *rec)
{
	uint64_t gap;

	if (rec->interval_ms)
		sp->hb_interval_ms = rec->interval_ms;
	if (sp->hb_last && rec->ts_ns > sp->hb_last) {
		gap = rec->ts_ns - sp->hb_last;
		if (gap > sp->hb_max_gap)
			sp->hb_max_gap = gap;
		if (sp->hb_interval_ms && gap > (uint64_t)sp->hb_interval_ms * 1500000u) {
			sp->hb_late_n++;
			if (sp->nhb_late < SUM_LIST_MAX) {
				sp->hb_late = grow(sp->hb_late, sp->nhb_late, sizeof(*sp->hb_late));
				sp->hb_late[sp->nhb_late++] = (struct sum_range){sp->hb_last, rec->ts_ns};
			}
		}
	}
	if (rec->ts_ns > sp->hb_last)
		sp->hb_last = rec->ts_ns;
}

static void span_add(uint64_t *first, uint64_t *last, uint64_t n, uint64_t ts)
{
	if (n == 1 || ts < *first)
		*first = ts;
	if (n == 1 || ts > *last)
		*last = ts;
}

void hb_sum_add(struct hb_sum *s, const struct hb_rd_record *rec)
{
	struct sum_prod *sp = sum_prod(s, rec->producer);
	bool ev = rec->kind == HB_RD_EVENT, hb = rec->kind == HB_RD_HEARTBEAT;

	/* tables carry the time they were written, maybe long before: not
	 * part of the span (hbcat -o msgpack restates them in a window) */
	bool table = rec->kind == HB_RD_BUS &&
		     (!strcmp(rec->bus_kind, "producer") || !strcmp(rec->bus_kind, "types") ||
		      !strcmp(rec->bus_kind, "metrics"));

	s->records++;
	s->events += ev;
	s->heartbeats += hb;
	s->bus += !ev && !hb;
	if (!table)
		span_add(&s->first, &s->last, ++s->spanned, rec->ts_ns);
	if (!sp)
		return;
	sp->records++;
	sp->events += ev;
	sp->heartbeats += hb;
	sp->bus += !ev && !hb;
	if (!table)
		span_add(&sp->first, &sp->last, ++sp->spanned, rec->ts_ns);
	if (ev)
		sum_type(sp, rec);
	if (hb)
		sum_heartbeat(sp, rec);
}

void hb_sum_damage(struct hb_sum *s, const char *file, uint64_t off, uint64_t len,
		   const char *what)
{
	s->dmg = grow(s->dmg, s->ndmg, sizeof(*s->dmg));
	s->dmg[s->ndmg++] = (struct sum_damage){dup_str(file), dup_str(what), off, len};
}

/* ---- output -------------------------------------------------------------- */

/* Holes in the sequence not covered by any gap record. */
static size_t sum_missing(const struct sum_prod *sp, struct sum_range *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < sp->nholes; i++) {
		uint64_t from = sp->holes[i].from, to = sp->holes[i].to;
		bool changed = true;
		while (from <= to && changed) {
			changed = false;
			for (size_t j = 0; j < sp->ngaps && from <= to; j++) {
				const struct sum_gap *g = &sp->gaps[j];
				if (g->from <= from && g->to >= from) {
					from = g->to + 1;
					changed = true;
				} else if (g->from <= to && g->to >= to) {
					to = g->from - 1;
					changed = true;
				}
			}
		}
		if (from <= to && n < max) /* a gap inside the hole splits it: kept whole */
			out[n++] = (struct sum_range){from, to};
	}
	return n;
}

static void put_time(FILE *f, uint64_t ns, int json)
{
	char b[32];

	if (json)
		fprintf(f, "\"%s\"", hb_time_format(ns, b, sizeof(b)));
	else
		fputs(hb_time_format(ns, b, sizeof(b)), f);
}

static double span_s(uint64_t first, uint64_t last)
{
	return (double)(last - first) / 1e9;
}

static double rate(uint64_t n, uint64_t first, uint64_t last)
{
	double s = span_s(first, last);

	return s > 0 ? (double)n / s : 0;
}

static void jstr(FILE *f, const char *s)
{
	hb_rd_print_json_str(f, s, strlen(s));
}

static void json_types(FILE *f, const struct sum_prod *sp)
{
	bool first = true;

	fputc('{', f);
	for (size_t t = 0; t < sp->ntypes; t++) {
		if (!sp->tname[t])
			continue;
		if (!first)
			fputc(',', f);
		first = false;
		jstr(f, sp->tname[t]);
		fprintf(f, ":%llu", (unsigned long long)sp->tcount[t]);
	}
	fputc('}', f);
}

static void json_prod(FILE *f, const struct sum_prod *sp, struct sum_range *miss, size_t nmiss)
{
	fputs("{\"name\":", f);
	jstr(f, sp->name);
	fprintf(f, ",\"pid\":%u,\"host\":", sp->pid);
	jstr(f, sp->host);
	fprintf(f, ",\"records\":%llu,\"events\":%llu,\"heartbeats\":%llu,\"bus\":%llu,\"first\":",
		(unsigned long long)sp->records, (unsigned long long)sp->events,
		(unsigned long long)sp->heartbeats, (unsigned long long)sp->bus);
	put_time(f, sp->first, 1);
	fputs(",\"last\":", f);
	put_time(f, sp->last, 1);
	fprintf(f, ",\"first_ns\":%llu,\"last_ns\":%llu,\"span_s\":%.9f,\"rate\":%.3f",
		(unsigned long long)sp->first, (unsigned long long)sp->last,
		span_s(sp->first, sp->last), rate(sp->records, sp->first, sp->last));
	fprintf(f, ",\"seq_first\":%llu,\"seq_last\":%llu,\"dropped\":%llu,\"lost\":%llu,"
		   "\"duplicates\":%llu,\"gaps\":[",
		(unsigned long long)sp->seq_first,
		(unsigned long long)(sp->seq_any ? sp->seq_next - 1 : 0),
		(unsigned long long)sp->dropped, (unsigned long long)sp->lost,
		(unsigned long long)sp->dups);
	for (size_t i = 0; i < sp->ngaps; i++)
		fprintf(f, "%s{\"from\":%llu,\"to\":%llu,\"n\":%llu,\"why\":\"%s\"}", i ? "," : "",
			(unsigned long long)sp->gaps[i].from, (unsigned long long)sp->gaps[i].to,
			(unsigned long long)sp->gaps[i].n, sp->gaps[i].why);
	fprintf(f, "],\"gap_count\":%llu,\"gap_ranges\":[", (unsigned long long)sp->gaps_total);
	for (size_t i = 0; i < sp->nbursts; i++) {
		const struct sum_burst *b = &sp->bursts[i];
		fprintf(f, "%s{\"from\":%llu,\"to\":%llu,\"gaps\":%llu,\"n\":%llu,\"why\":\"%s%s%s\","
			   "\"first_ns\":%llu,\"last_ns\":%llu}",
			i ? "," : "", (unsigned long long)b->from, (unsigned long long)b->to,
			(unsigned long long)b->gaps, (unsigned long long)b->n,
			b->overflow ? "overflow" : "", b->overflow && b->corrupt ? "+" : "",
			b->corrupt ? "corrupt" : "", (unsigned long long)b->t0,
			(unsigned long long)b->t1);
	}
	fputs("],\"largest_gaps\":[", f);
	for (size_t i = 0; i < sp->nlargest; i++)
		fprintf(f, "%s{\"from\":%llu,\"to\":%llu,\"n\":%llu,\"why\":\"%s\"}", i ? "," : "",
			(unsigned long long)sp->largest[i].from,
			(unsigned long long)sp->largest[i].to, (unsigned long long)sp->largest[i].n,
			sp->largest[i].why);
	fputs("],\"missing\":[", f);
	for (size_t i = 0; i < nmiss; i++)
		fprintf(f, "%s{\"from\":%llu,\"to\":%llu,\"n\":%llu}", i ? "," : "",
			(unsigned long long)miss[i].from, (unsigned long long)miss[i].to,
			(unsigned long long)(miss[i].to - miss[i].from + 1));
	fputs("],\"states\":[", f);
	for (size_t i = 0; i < sp->nstates; i++) {
		fputs(i ? ",{\"ts\":" : "{\"ts\":", f);
		put_time(f, sp->states[i].ts, 1);
		fprintf(f, ",\"ts_ns\":%llu,\"state\":", (unsigned long long)sp->states[i].ts);
		jstr(f, sp->states[i].state);
		fputs(",\"why\":", f);
		jstr(f, sp->states[i].why);
		fputc('}', f);
	}
	fprintf(f, "],\"heartbeat_interval_ms\":%u,\"heartbeat_max_gap_s\":%.9f,"
		   "\"heartbeat_late_gaps\":%llu,\"heartbeat_gaps\":[",
		sp->hb_interval_ms, (double)sp->hb_max_gap / 1e9, (unsigned long long)sp->hb_late_n);
	for (size_t i = 0; i < sp->nhb_late; i++) {
		fputs(i ? ",{\"from\":" : "{\"from\":", f);
		put_time(f, sp->hb_late[i].from, 1);
		fputs(",\"to\":", f);
		put_time(f, sp->hb_late[i].to, 1);
		fprintf(f, ",\"s\":%.9f}", span_s(sp->hb_late[i].from, sp->hb_late[i].to));
	}
	fputs("],\"types\":", f);
	json_types(f, sp);
	fputc('}', f);
}

static void text_gap(FILE *f, const char *what, const struct sum_gap *g)
{
	fprintf(f, "  %s %llu..%llu n=%llu %s\n", what, (unsigned long long)g->from,
		(unsigned long long)g->to, (unsigned long long)g->n, g->why);
}

/* Gaps as ranges of gaps less than a second apart and the largest few;
 * every one with all (--gaps). */
static void text_gaps(FILE *f, const struct sum_prod *sp, bool all)
{
	size_t shown = sp->nbursts < SUM_BURSTS_SHOWN || all ? sp->nbursts : SUM_BURSTS_SHOWN;

	if (!sp->gaps_total)
		return;
	fprintf(f, "  gap ranges %llu (gaps less than 1 s apart merged)\n",
		(unsigned long long)sp->bursts_total);
	for (size_t i = 0; i < shown; i++) {
		const struct sum_burst *b = &sp->bursts[i];
		fprintf(f, "  gaps %llu..%llu: %llu gap%s, %llu records %s%s%s, ",
			(unsigned long long)b->from, (unsigned long long)b->to,
			(unsigned long long)b->gaps, b->gaps == 1 ? "" : "s",
			(unsigned long long)b->n, b->overflow ? "overflow" : "",
			b->overflow && b->corrupt ? "+" : "", b->corrupt ? "corrupt" : "");
		put_time(f, b->t0, 0);
		fputs(" .. ", f);
		put_time(f, b->t1, 0);
		fprintf(f, " (%.3f s)\n", span_s(b->t0, b->t1));
	}
	if (sp->bursts_total > shown)
		fprintf(f, "  ... %llu more gap ranges\n",
			(unsigned long long)(sp->bursts_total - shown));
	for (size_t i = 0; i < sp->nlargest && !all; i++)
		text_gap(f, i ? "next" : "largest", &sp->largest[i]);
	if (!all && sp->gaps_total > sp->nlargest)
		fprintf(f, "  (every one of the %llu gaps: --gaps)\n",
			(unsigned long long)sp->gaps_total);
	for (size_t i = 0; i < sp->ngaps && all; i++)
		text_gap(f, "gap", &sp->gaps[i]);
	if (all && sp->gaps_total > sp->ngaps)
		fprintf(f, "  ... %llu more gaps not kept\n",
			(unsigned long long)(sp->gaps_total - sp->ngaps));
}

static void text_prod(FILE *f, const struct sum_prod *sp, struct sum_range *miss, size_t nmiss,
		      bool all_gaps)
{
	fprintf(f, "producer %s pid %u host %s\n", sp->name, sp->pid, sp->host);
	fprintf(f, "  records %llu  events %llu  heartbeats %llu  bus %llu\n",
		(unsigned long long)sp->records, (unsigned long long)sp->events,
		(unsigned long long)sp->heartbeats, (unsigned long long)sp->bus);
	fputs("  first ", f);
	put_time(f, sp->first, 0);
	fputs("  last ", f);
	put_time(f, sp->last, 0);
	fprintf(f, "  span %.3f s  rate %.1f/s\n", span_s(sp->first, sp->last),
		rate(sp->records, sp->first, sp->last));
	if (sp->seq_any)
		fprintf(f, "  seq %llu..%llu", (unsigned long long)sp->seq_first,
			(unsigned long long)sp->seq_next - 1);
	else
		fputs("  seq none", f);
	fprintf(f, "  gaps %llu  dropped %llu  lost %llu  missing %zu  duplicates %llu\n",
		(unsigned long long)sp->gaps_total, (unsigned long long)sp->dropped, (unsigned long long)sp->lost, nmiss,
		(unsigned long long)sp->dups);
	text_gaps(f, sp, all_gaps);
	for (size_t i = 0; i < nmiss; i++)
		fprintf(f, "  missing %llu..%llu n=%llu\n", (unsigned long long)miss[i].from,
			(unsigned long long)miss[i].to,
			(unsigned long long)(miss[i].to - miss[i].from + 1));
	if (sp->heartbeats)
		fprintf(f, "  heartbeat interval %u ms  max gap %.3f s  late gaps %llu\n",
			sp->hb_interval_ms, (double)sp->hb_max_gap / 1e9,
			(unsigned long long)sp->hb_late_n);
	for (size_t i = 0; i < sp->nhb_late; i++) {
		fputs("  heartbeat gap ", f);
		put_time(f, sp->hb_late[i].from, 0);
		fputs(" .. ", f);
		put_time(f, sp->hb_late[i].to, 0);
		fprintf(f, " (%.3f s)\n", span_s(sp->hb_late[i].from, sp->hb_late[i].to));
	}
	for (size_t i = 0; i < sp->nstates; i++) {
		fputs("  state ", f);
		put_time(f, sp->states[i].ts, 0);
		fprintf(f, " %s%s%s\n", sp->states[i].state, *sp->states[i].why ? " why=" : "",
			sp->states[i].why);
	}
}

/* All types by name with their total counts (names sorted). */
struct sum_tc {
	const char *name;
	uint64_t n;
};

static int tc_cmp(const void *a, const void *b)
{
	return strcmp(((const struct sum_tc *)a)->name, ((const struct sum_tc *)b)->name);
}

static size_t sum_types(const struct hb_sum *s, struct sum_tc **out)
{
	size_t n = 0, k = 0;
	struct sum_tc *v;

	for (size_t i = 0; i < s->nprods; i++)
		n += s->prods[i]->ntypes;
	v = calloc(n + 1, sizeof(*v));
	if (!v)
		abort();
	for (size_t i = 0; i < s->nprods; i++)
		for (size_t t = 0; t < s->prods[i]->ntypes; t++)
			if (s->prods[i]->tname[t])
				v[k++] = (struct sum_tc){s->prods[i]->tname[t], s->prods[i]->tcount[t]};
	qsort(v, k, sizeof(*v), tc_cmp);
	n = 0;
	for (size_t i = 0; i < k; i++) {
		if (n && strcmp(v[n - 1].name, v[i].name) == 0)
			v[n - 1].n += v[i].n;
		else
			v[n++] = v[i];
	}
	*out = v;
	return n;
}

static void print_json(struct hb_sum *s, FILE *f, struct sum_range *miss)
{
	struct sum_tc *tc;
	size_t ntc = sum_types(s, &tc);
	bool first = true;

	fprintf(f, "{\"files\":%llu,\"records\":%llu,\"events\":%llu,\"heartbeats\":%llu,"
		   "\"bus\":%llu,\"first\":",
		(unsigned long long)s->files, (unsigned long long)s->records,
		(unsigned long long)s->events, (unsigned long long)s->heartbeats,
		(unsigned long long)s->bus);
	put_time(f, s->first, 1);
	fputs(",\"last\":", f);
	put_time(f, s->last, 1);
	fprintf(f, ",\"first_ns\":%llu,\"last_ns\":%llu,\"producers\":[",
		(unsigned long long)s->first, (unsigned long long)s->last);
	for (size_t i = 0; i < s->nprods; i++) {
		if (!s->prods[i]->records)
			continue;
		if (!first)
			fputc(',', f);
		first = false;
		json_prod(f, s->prods[i], miss, sum_missing(s->prods[i], miss, SUM_LIST_MAX));
	}
	fputs("],\"types\":{", f);
	for (size_t i = 0; i < ntc; i++) {
		if (i)
			fputc(',', f);
		jstr(f, tc[i].name);
		fprintf(f, ":%llu", (unsigned long long)tc[i].n);
	}
	fputs("},\"damage\":[", f);
	for (size_t i = 0; i < s->ndmg; i++) {
		fputs(i ? ",{\"file\":" : "{\"file\":", f);
		jstr(f, s->dmg[i].file);
		fprintf(f, ",\"offset\":%llu,\"length\":%llu,\"what\":",
			(unsigned long long)s->dmg[i].off, (unsigned long long)s->dmg[i].len);
		jstr(f, s->dmg[i].what);
		fputc('}', f);
	}
	fputs("]}\n", f);
	free(tc);
}

static void print_text(struct hb_sum *s, FILE *f, struct sum_range *miss, bool all_gaps)
{
	struct sum_tc *tc;
	size_t ntc = sum_types(s, &tc);

	fprintf(f, "files %llu  records %llu  events %llu  heartbeats %llu  bus %llu\n",
		(unsigned long long)s->files, (unsigned long long)s->records,
		(unsigned long long)s->events, (unsigned long long)s->heartbeats,
		(unsigned long long)s->bus);
	if (s->records) {
		fputs("first ", f);
		put_time(f, s->first, 0);
		fputs("  last ", f);
		put_time(f, s->last, 0);
		fprintf(f, "  span %.3f s\n", span_s(s->first, s->last));
	}
	for (size_t i = 0; i < s->nprods; i++)
		if (s->prods[i]->records)
			text_prod(f, s->prods[i], miss,
				  sum_missing(s->prods[i], miss, SUM_LIST_MAX), all_gaps);
	if (ntc)
		fputs("types\n", f);
	for (size_t i = 0; i < ntc; i++)
		fprintf(f, "  %s %llu\n", tc[i].name, (unsigned long long)tc[i].n);
	if (s->ndmg)
		fputs("damage\n", f);
	for (size_t i = 0; i < s->ndmg; i++)
		fprintf(f, "  %s offset %llu length %llu: %s\n", s->dmg[i].file,
			(unsigned long long)s->dmg[i].off, (unsigned long long)s->dmg[i].len,
			s->dmg[i].what);
	free(tc);
}

void hb_sum_print(struct hb_sum *s, FILE *f, int flags)
{
	struct sum_range *miss = malloc(SUM_LIST_MAX * sizeof(*miss));

	if (!miss)
		abort();
	for (size_t i = 0; i < s->nprods; i++)
		sum_burst_close(s->prods[i]);
	if (flags & HB_SUM_JSON)
		print_json(s, f, miss);
	else
		print_text(s, f, miss, flags & HB_SUM_ALL_GAPS);
	free(miss);
}

void hb_sum_free(struct hb_sum *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nprods; i++) {
		struct sum_prod *sp = s->prods[i];
		for (size_t t = 0; t < sp->ntypes; t++)
			free(sp->tname[t]);
		free(sp->tname);
		free(sp->tcount);
		free(sp->holes);
		free(sp->gaps);
		free(sp->bursts);
		free(sp->states);
		free(sp->hb_late);
		free(sp->name);
		free(sp->host);
		free(sp);
	}
	for (size_t i = 0; i < s->ndmg; i++) {
		free(s->dmg[i].file);
		free(s->dmg[i].what);
	}
	free(s->dmg);
	free(s->prods);
	free(s);
}
