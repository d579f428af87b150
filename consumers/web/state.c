/* SPDX-License-Identifier: MIT */
/* state.c - the page's JSON from model snapshots, full and as deltas. */
#include "web.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct web_row {
	char ring[128];
	char *json;      /* as last sent */
	int seen;        /* in the current snapshot */
	uint64_t drops;  /* at the previous snapshot */
	uint32_t dn[WEB_SPARK];   /* drops per second, by second % WEB_SPARK */
	uint64_t dsec[WEB_SPARK]; /* the second each slot holds */
};

struct web_state {
	struct web_row *rows;
	uint32_t n, cap;
	pthread_mutex_t mu; /* guards rows (web_state_row runs in the server) */
};

int web_state_new(struct web_state **out)
{
	struct web_state *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	pthread_mutex_init(&w->mu, NULL);
	*out = w;
	return 0;
}

void web_state_free(struct web_state *w)
{
	uint32_t i;

	if (!w)
		return;
	for (i = 0; i < w->n; i++)
		free(w->rows[i].json);
	free(w->rows);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

static struct web_row *web_row_get(struct web_state *w, const char *ring)
{
	uint32_t i;

	for (i = 0; i < w->n; i++)
		if (!strcmp(w->rows[i].ring, ring))
			return &w->rows[i];
	if (w->n == w->cap) {
		uint32_t cap = w->cap ? w->cap * 2 : 16;
		struct web_row *nr = realloc(w->rows, cap * sizeof(*nr));

		if (!nr)
			return NULL;
		w->rows = nr;
		w->cap = cap;
	}
	memset(&w->rows[w->n], 0, sizeof(w->rows[0]));
	snprintf(w->rows[w->n].ring, sizeof(w->rows[0].ring), "%s", ring);
	return &w->rows[w->n++];
}

static void web_num(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, "%.6g", v);
	else
		fputs("null", f);
}

/* Drops per second, from the change of the drop count between snapshots. */
static void web_drops_note(struct web_row *wr, const struct top_row *r, uint64_t sec, int first)
{
	uint32_t b = (uint32_t)(sec % WEB_SPARK);

	if (wr->dsec[b] != sec)
		wr->dsec[b] = sec, wr->dn[b] = 0;
	if (!first && r->drops > wr->drops)
		wr->dn[b] += (uint32_t)(r->drops - wr->drops);
	wr->drops = r->drops;
}

static uint32_t web_events_at(const struct top_row *r, uint64_t sec)
{
	uint32_t b = (uint32_t)(sec % TOP_BUCKETS);

	return r->bucket_sec[b] == sec ? r->bucket_n[b] : 0;
}

static void web_row_series(FILE *f, const struct web_row *wr, const struct top_row *r,
			   uint64_t sec)
{
	uint64_t t;
	uint32_t i;

	/* complete seconds only: sec - WEB_SPARK .. sec - 1 */
	fputs(",\"spark\":[", f);
	for (i = 0, t = sec - WEB_SPARK; t < sec; t++, i++)
		fprintf(f, "%s%u", i ? "," : "", web_events_at(r, t));
	fputs("],\"dspark\":[", f);
	for (i = 0, t = sec - WEB_SPARK; t < sec; t++, i++) {
		uint32_t b = (uint32_t)(t % WEB_SPARK);

		fprintf(f, "%s%u", i ? "," : "", wr->dsec[b] == t ? wr->dn[b] : 0);
	}
	/* recent heartbeats, oldest first: [ms before last_hb_ns, latency in us
	 * or -1] (small numbers: this is most of a row) */
	fputs("],\"hb\":[", f);
	for (i = 0; i < r->hb_hist_n; i++) {
		const struct top_hb *h =
			&r->hb_hist[(r->hb_hist_at + TOP_HB_HIST - r->hb_hist_n + i) % TOP_HB_HIST];
		uint64_t before = r->last_hb_ns > h->ts_ns ? r->last_hb_ns - h->ts_ns : 0;

		fprintf(f, "%s[%llu,%lld]", i ? "," : "", (unsigned long long)(before / 1000000u),
			h->lat_ns < 0 ? -1LL : (long long)(h->lat_ns / 1000));
	}
	fputc(']', f);
}

static void web_row_write(FILE *f, const struct web_row *wr, const struct top_row *r,
			  uint64_t now)
{
	static const struct top_view all; /* every metric, as hbtop's default */
	uint32_t i;

	fputs("{\"ring\":", f);
	top_print_json_str(f, r->ring);
	fputs(",\"name\":", f);
	top_print_json_str(f, r->name);
	fputs(",\"host\":", f);
	top_print_json_str(f, r->host);
	fprintf(f, ",\"pid\":%u,\"state\":\"%s\",\"why\":", r->pid, top_state_name(r->state));
	top_print_json_str(f, r->why);
	fprintf(f, ",\"live\":%s,\"status\":", r->live ? "true" : "false");
	top_print_json_str(f, r->status);
	fprintf(f, ",\"start_ns\":%llu,\"last_hb_ns\":%llu,\"interval_ms\":%u,\"records\":%llu,"
		   "\"events\":%llu,\"heartbeats\":%llu,\"drops\":%llu,\"gap_n\":%llu,"
		   "\"missed\":%llu,\"events_per_s\":",
		(unsigned long long)r->start_ns, (unsigned long long)r->last_hb_ns, r->interval_ms,
		(unsigned long long)r->records, (unsigned long long)r->events,
		(unsigned long long)r->heartbeats, (unsigned long long)r->drops,
		(unsigned long long)r->gaps_n, (unsigned long long)r->missed);
	web_num(f, top_row_rate(r, now));
	fputs(",\"fill\":", f);
	web_num(f, r->fill >= 0 ? r->fill : NAN);
	fputs(",\"proc\":", f);
	if (r->have_proc) {
		fputs("{\"cpu_pct\":", f);
		web_num(f, r->cpu_pct >= 0 ? r->cpu_pct : NAN);
		fprintf(f, ",\"rss_bytes\":%llu,\"threads\":%lld,\"fds\":%lld}",
			(unsigned long long)r->rss_bytes, (long long)r->threads, (long long)r->fds);
	} else {
		fputs("null", f);
	}
	fputs(",\"types\":", f);
	top_print_json_str(f, r->types);
	fputs(",\"metrics\":", f);
	top_print_json_metrics(f, &all, r);
	fputs(",\"alerts\":[", f);
	for (i = 0; i < r->nalerts; i++) {
		fputs(i ? "," : "", f);
		top_print_json_str(f, r->alerts[i]);
	}
	fputc(']', f);
	web_row_series(f, wr, r, now / 1000000000u);
	fputc('}', f);
}

static char *web_row_json(const struct web_row *wr, const struct top_row *r, uint64_t now)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	web_row_write(f, wr, r, now);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void web_global_write(FILE *f, const struct top_snap *s, const char *mode,
			     unsigned clients)
{
	unsigned by[TS_NSTATES];
	uint64_t missed = 0;
	uint32_t i, j, na = 0;
	int k;

	top_counts(s, by);
	fprintf(f, "\"g\":{\"mode\":\"%s\",\"now_ns\":%llu,\"archive\":", mode,
		(unsigned long long)s->now_ns);
	top_print_json_str(f, s->dir);
	fputs(",\"err\":", f);
	top_print_json_str(f, s->err);
	fprintf(f, ",\"caught_up\":%s,\"damage\":%llu,\"collector\":{\"running\":%s,\"pid\":%u},",
		s->caught_up ? "true" : "false", (unsigned long long)s->damage,
		s->coll_running < 0 ? "null" : s->coll_running ? "true" : "false", s->coll_pid);
	for (i = 0; i < s->nrows; i++)
		missed += s->rows[i].missed;
	fprintf(f, "\"totals\":{\"producers\":%u,\"records\":%llu,\"events\":%llu,"
		   "\"drops\":%llu,\"missed\":%llu,\"events_per_s\":",
		s->nrows, (unsigned long long)s->records, (unsigned long long)s->events,
		(unsigned long long)s->drops, (unsigned long long)missed);
	web_num(f, s->events_per_s);
	fputs(",\"by_state\":{", f);
	for (k = 0; k < TS_NSTATES; k++)
		fprintf(f, "%s\"%s\":%u", k ? "," : "", top_state_name((enum top_state)k), by[k]);
	fputs("}},\"alerts\":[", f);
	for (i = 0; i < s->nrows; i++)
		for (j = 0; j < s->rows[i].nalerts; j++) {
			fputs(na++ ? "," : "", f);
			fputs("{\"ring\":", f);
			top_print_json_str(f, s->rows[i].ring);
			fputs(",\"producer\":", f);
			top_print_json_str(f, s->rows[i].name);
			fputs(",\"name\":", f);
			top_print_json_str(f, s->rows[i].alerts[j]);
			fputc('}', f);
		}
	fprintf(f, "],\"web\":{\"clients\":%u}}", clients);
}

/* Refreshes every row's JSON; marks which changed in chg (nrows). */
static int web_rows_refresh(struct web_state *w, const struct top_snap *s, uint32_t *idx,
			    int *chg)
{
	uint64_t sec = s->now_ns / 1000000000u;
	uint32_t i;

	for (i = 0; i < w->n; i++)
		w->rows[i].seen = 0;
	for (i = 0; i < s->nrows; i++) {
		const struct top_row *r = &s->rows[i];
		uint32_t before = w->n;
		struct web_row *wr = web_row_get(w, r->ring);
		char *js;

		if (!wr)
			return -ENOMEM;
		web_drops_note(wr, r, sec, w->n != before);
		js = web_row_json(wr, r, s->now_ns);
		if (!js)
			return -ENOMEM;
		chg[i] = !wr->json || strcmp(wr->json, js);
		free(wr->json);
		wr->json = js;
		wr->seen = 1;
		idx[i] = (uint32_t)(wr - w->rows);
	}
	return 0;
}

static char *web_msg_build(struct web_state *w, const struct top_snap *s, const char *mode,
			   unsigned clients, const uint32_t *idx, const int *chg, int full,
			   size_t *len)
{
	char *buf = NULL;
	uint32_t i, n = 0;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		return NULL;
	fprintf(f, "{\"full\":%s,", full ? "true" : "false");
	web_global_write(f, s, mode, clients);
	fputs(",\"rows\":[", f);
	for (i = 0; i < s->nrows; i++)
		if (full || chg[i]) {
			fputs(n++ ? "," : "", f);
			fputs(w->rows[idx[i]].json, f);
		}
	fputs("],\"gone\":[", f);
	for (i = 0, n = 0; !full && i < w->n; i++)
		if (!w->rows[i].seen) {
			fputs(n++ ? "," : "", f);
			top_print_json_str(f, w->rows[i].ring);
		}
	fputs("]}", f);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Drops the rows gone from the snapshot, keeping the order of the others;
 * idx (nidx entries) follows the moves. */
static void web_rows_prune(struct web_state *w, uint32_t *idx, uint32_t nidx)
{
	uint32_t i, j, k, n = 0;

	for (i = 0; i < w->n; i++) {
		if (!w->rows[i].seen) {
			free(w->rows[i].json);
			continue;
		}
		j = n++;
		if (j == i)
			continue;
		w->rows[j] = w->rows[i];
		for (k = 0; k < nidx; k++)
			if (idx[k] == i)
				idx[k] = j;
	}
	w->n = n;
}

int web_state_update(struct web_state *w, const struct top_snap *s, const char *mode,
		     unsigned clients, char **full, size_t *flen, char **delta, size_t *dlen)
{
	uint32_t *idx = calloc(s->nrows + 1, sizeof(*idx));
	int *chg = calloc(s->nrows + 1, sizeof(*chg));
	int rc = -ENOMEM;

	*full = *delta = NULL;
	pthread_mutex_lock(&w->mu);
	if (!idx || !chg || web_rows_refresh(w, s, idx, chg))
		goto out;
	*delta = web_msg_build(w, s, mode, clients, idx, chg, 0, dlen);
	web_rows_prune(w, idx, s->nrows);
	*full = web_msg_build(w, s, mode, clients, idx, chg, 1, flen);
	rc = *full && *delta ? 0 : -ENOMEM;
out:
	pthread_mutex_unlock(&w->mu);
	if (rc) {
		free(*full), free(*delta);
		*full = *delta = NULL;
	}
	free(idx);
	free(chg);
	return rc;
}

char *web_state_row(struct web_state *w, const char *ring)
{
	char *js = NULL;
	uint32_t i;

	pthread_mutex_lock(&w->mu);
	for (i = 0; i < w->n; i++)
		if (!strcmp(w->rows[i].ring, ring) && w->rows[i].json)
			js = strdup(w->rows[i].json);
	pthread_mutex_unlock(&w->mu);
	return js;
}
