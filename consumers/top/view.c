/* SPDX-License-Identifier: MIT */
/* view.c - hbtop's derived figures, sorting, filtering, text and JSON. */
#include "top.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#define RATE_WINDOW 3 /* seconds (complete ones, before the current) */

static const char *const top_state_names[TS_NSTATES] = {
	"unknown", "healthy", "late", "dead", "exited", "crashed", "backlogged", "quarantined"};
static const char *const top_col_names[TC_NCOLS] = {"name",   "pid",   "state", "age",
						     "uptime", "ev/s",  "drops", "fill",
						     "cpu",    "rss"};

const char *top_state_name(enum top_state s)
{
	return (unsigned)s < TS_NSTATES ? top_state_names[s] : "unknown";
}

const char *top_col_name(enum top_col c)
{
	return (unsigned)c < TC_NCOLS ? top_col_names[c] : "?";
}

static uint32_t top_bucket(const struct top_row *r, uint64_t sec)
{
	uint32_t b = (uint32_t)(sec % TOP_BUCKETS);

	return r->bucket_sec[b] == sec ? r->bucket_n[b] : 0;
}

double top_row_rate(const struct top_row *r, uint64_t now_ns)
{
	uint64_t now_s = now_ns / 1000000000u, n = 0;
	unsigned i;

	for (i = 1; i <= RATE_WINDOW; i++)
		n += top_bucket(r, now_s - i);
	return (double)n / RATE_WINDOW;
}

void top_row_spark(const struct top_row *r, uint64_t now_ns, double out[TOP_SPARK])
{
	uint64_t now_s = now_ns / 1000000000u;
	unsigned i;

	for (i = 0; i < TOP_SPARK; i++)
		out[i] = top_bucket(r, now_s - TOP_SPARK + i);
}

static double top_age_s(const struct top_row *r, uint64_t now)
{
	return r->last_hb_ns && now > r->last_hb_ns ? (double)(now - r->last_hb_ns) / 1e9 : -1;
}

int top_row_done(const struct top_row *r)
{
	return r->state == TS_EXITED || r->state == TS_CRASHED ||
	       ((r->state == TS_DEAD || r->state == TS_QUARANTINED) && !r->live);
}

/* When a finished producer's life ended: its newest heartbeat. */
static uint64_t top_row_end(const struct top_row *r, uint64_t now)
{
	return top_row_done(r) && r->last_hb_ns && r->last_hb_ns < now ? r->last_hb_ns : now;
}

static double top_uptime_s(const struct top_row *r, uint64_t now)
{
	uint64_t end = top_row_end(r, now);

	return r->start_ns && end > r->start_ns ? (double)(end - r->start_ns) / 1e9 : 0;
}

static double top_key(const struct top_row *r, enum top_col c, uint64_t now)
{
	switch (c) {
	case TC_PID: return r->pid;
	case TC_STATE: return r->state;
	case TC_AGE: return top_age_s(r, now);
	case TC_UPTIME: return top_uptime_s(r, now);
	case TC_RATE: return top_row_rate(r, now);
	case TC_DROPS: return (double)r->drops;
	case TC_FILL: return r->fill;
	case TC_CPU: return r->have_proc && !top_row_done(r) ? r->cpu_pct : -1;
	case TC_RSS: return r->have_proc && !top_row_done(r) ? (double)r->rss_bytes : -1;
	default: return 0;
	}
}

static const struct top_view *sort_v;
static uint64_t sort_now;

static int top_cmp(const void *a, const void *b)
{
	const struct top_row *x = a, *y = b;
	int c;

	if (sort_v->sort == TC_NAME) {
		c = strcmp(x->name, y->name);
	} else {
		double kx = top_key(x, sort_v->sort, sort_now), ky = top_key(y, sort_v->sort, sort_now);

		/* numbers sort largest first, names A to Z */
		c = kx < ky ? 1 : kx > ky ? -1 : 0;
	}
	if (!c)
		c = strcmp(x->name, y->name);
	if (!c)
		c = x->pid < y->pid ? -1 : x->pid > y->pid;
	return sort_v->reverse ? -c : c;
}

static int top_match(const char *pat, const char *s)
{
	if (strpbrk(pat, "*?["))
		return !fnmatch(pat, s, 0);
	return strstr(s, pat) != NULL;
}

static int top_type_match(const char *pat, const char *types)
{
	char buf[sizeof(((struct top_row *)0)->types)], *save = NULL, *t;

	snprintf(buf, sizeof(buf), "%s", types);
	for (t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if (top_match(pat, t))
			return 1;
	return 0;
}

/* A finished row hidden (hide_done) or expired (expire_ns after its end). */
static int top_row_gone(const struct top_view *v, const struct top_row *r, uint64_t now)
{
	if (!top_row_done(r))
		return 0;
	return v->hide_done || (v->expire_ns && now - top_row_end(r, now) > v->expire_ns);
}

uint32_t top_view_apply(const struct top_view *v, struct top_snap *s)
{
	uint32_t i, n = 0;
	uint64_t events = 0, drops = 0;
	double rate = 0;

	for (i = 0; i < s->nrows; i++) {
		const struct top_row *r = &s->rows[i];

		if (v->filter[0] && !top_match(v->filter, r->name))
			continue;
		if (v->tfilter[0] && !top_type_match(v->tfilter, r->types))
			continue;
		if (v->hfilter[0] && !top_match(v->hfilter, r->host))
			continue;
		if (top_row_gone(v, r, s->now_ns))
			continue;
		events += r->events;
		drops += r->drops;
		rate += top_row_rate(r, s->now_ns);
		if (n != i)
			s->rows[n] = *r;
		n++;
	}
	if (n != s->nrows) { /* the totals of the rows shown, as the counts are */
		s->events = events;
		s->drops = drops;
		s->events_per_s = rate;
	}
	s->nrows = n;
	sort_v = v;
	sort_now = s->now_ns;
	qsort(s->rows, n, sizeof(*s->rows), top_cmp);
	return n;
}

static int top_metric_chosen(const struct top_view *v, const char *name)
{
	int i;

	if (!v->ncounters)
		return 1;
	for (i = 0; i < v->ncounters; i++)
		if (!fnmatch(v->counters[i], name, 0))
			return 1;
	return 0;
}

static double top_gauge(const struct top_metric *m)
{
	union {
		uint64_t u;
		double d;
	} g = {.u = m->a};

	return g.d;
}

static double top_metric_rate(const struct top_row *r, const struct top_metric *m)
{
	double dt = r->prev_hb_ns && r->last_hb_ns > r->prev_hb_ns
			    ? (double)(r->last_hb_ns - r->prev_hb_ns) / 1e9
			    : 0;

	return dt > 0 && m->have_prev && m->a >= m->pa ? (double)(m->a - m->pa) / dt : 0;
}

/* The METRICS column: chosen counters with delta and rate, timings avg/max,
 * gauges, health flags. */
/* ns as a short time with a unit: 640ns, 12.3us, 1.25ms, 2.5s. */
void top_fmt_ns(double ns, char *out, size_t len)
{
	static const char *const unit[] = {"ns", "us", "ms", "s"};
	int u = 0;

	while (u < 3 && ns >= 1000) {
		ns /= 1000;
		u++;
	}
	snprintf(out, len, ns < 10 && u ? "%.2f%s" : ns < 100 && u ? "%.1f%s" : "%.0f%s", ns,
		 unit[u]);
}

/* The METRICS column: alerts first (so they show on a narrow screen),
 * then chosen counters with delta and rate, timings avg/max, gauges,
 * health flags. */
void top_metrics_text(const struct top_view *v, const struct top_row *r, char *out, size_t len)
{
	size_t off = 0;
	uint32_t i;

	out[0] = 0;
	if (r->nalerts && len > 8) {
		snprintf(out, len, "ALERT:");
		off = strlen(out);
		for (i = 0; i < r->nalerts && off + 1 < len; i++) {
			snprintf(out + off, len - off, "%s%s", i ? "," : "", r->alerts[i]);
			off = strlen(out);
		}
		if (off + 1 < len)
			out[off++] = ' ', out[off] = 0;
	}
	for (i = 0; i < r->nmetrics && off + 1 < len; i++) {
		char avg[16], max[16];
		const struct top_metric *m = &r->m[i];
		int n = 0;

		if (!top_metric_chosen(v, m->name))
			continue;
		if (m->kind == HB_METRIC_COUNTER)
			n = snprintf(out + off, len - off, "%s=%llu(+%llu,%.1f/s) ", m->name,
				     (unsigned long long)m->a,
				     (unsigned long long)(m->have_prev && m->a >= m->pa ? m->a - m->pa : 0),
				     top_metric_rate(r, m));
		else if (m->kind == HB_METRIC_GAUGE)
			n = snprintf(out + off, len - off, "%s=%g ", m->name, top_gauge(m));
		else if (m->kind == HB_METRIC_TIMING) {
			top_fmt_ns(m->a ? (double)m->b / (double)m->a : 0, avg, sizeof(avg));
			top_fmt_ns((double)m->c, max, sizeof(max));
			n = snprintf(out + off, len - off, "%s=avg %s max %s ", m->name, avg, max);
		}
		else if (m->kind == HB_METRIC_HEALTH)
			n = snprintf(out + off, len - off, "%s:%s ", m->name,
				     m->health[0] ? m->health : "?");
		if (n < 0)
			break;
		off += (size_t)n;
		if (off >= len)
			off = len - 1;
	}
}

void top_fmt_dur(double s, char *out, size_t len)
{
	if (s < 0)
		snprintf(out, len, "-");
	else if (s < 60)
		snprintf(out, len, "%.1fs", s);
	else if (s < 3600)
		snprintf(out, len, "%dm%02ds", (int)s / 60, (int)s % 60);
	else if (s < 86400)
		snprintf(out, len, "%dh%02dm", (int)s / 3600, (int)s % 3600 / 60);
	else
		snprintf(out, len, "%dd%02dh", (int)s / 86400, (int)s % 86400 / 3600);
}

void top_fmt_bytes(double b, char *out, size_t len)
{
	const char *u = "BKMGT";

	while (b >= 1024 && u[1])
		b /= 1024, u++;
	snprintf(out, len, b < 10 && *u != 'B' ? "%.1f%c" : "%.0f%c", b, *u);
}

void top_spark_text(const struct top_row *r, uint64_t now, int utf8, char *out, size_t len)
{
	static const char *const blocks[] = {"\u2581", "\u2582", "\u2583", "\u2584",
					     "\u2585", "\u2586", "\u2587", "\u2588"};
	static const char ascii[] = " .:-=+*#";
	double v[TOP_SPARK], max = 0;
	size_t off = 0;
	unsigned i;

	top_row_spark(r, now, v);
	for (i = 0; i < TOP_SPARK; i++)
		if (v[i] > max)
			max = v[i];
	for (i = 0; i < TOP_SPARK && off + 4 < len; i++) {
		int k = max > 0 ? (int)(v[i] / max * 7.0 + 0.5) : 0;

		if (utf8) {
			memcpy(out + off, blocks[k], 3);
			off += 3;
		} else {
			out[off++] = v[i] > 0 && k == 0 ? '.' : ascii[k];
		}
	}
	out[off] = 0;
}

void top_counts(const struct top_snap *s, unsigned by[TS_NSTATES])
{
	uint32_t i;

	memset(by, 0, sizeof(unsigned) * TS_NSTATES);
	for (i = 0; i < s->nrows; i++)
		by[s->rows[i].state < TS_NSTATES ? s->rows[i].state : 0]++;
}

void top_header_text(const struct top_snap *s, char *l1, size_t n1, char *l2, size_t n2)
{
	unsigned by[TS_NSTATES];
	char ts[40];

	top_counts(s, by);
	hb_time_format(s->now_ns, ts, sizeof(ts));
	ts[19] = 0; /* seconds are enough */
	if (s->fleet)
		snprintf(l1, n1, "hbtop %sZ  fleet archive %s (as recorded)", ts, s->dir);
	else if (s->coll_running < 0)
		snprintf(l1, n1, "hbtop %sZ  archive %s (offline)", ts, s->dir);
	else
		snprintf(l1, n1, "hbtop %sZ  archive %s  collector %s%.0u%s", ts, s->dir,
			 s->coll_running ? "running (pid " : "not running",
			 s->coll_running ? s->coll_pid : 0, s->coll_running ? ")" : "");
	snprintf(l2, n2,
		 "producers %u: %u healthy, %u late, %u backlogged, %u dead, %u crashed, %u exited, "
		 "%u unknown  "
		 "events %llu  events/s %.1f  drops %llu%s%s",
		 s->nrows, by[TS_HEALTHY], by[TS_LATE], by[TS_BACKLOGGED],
		 by[TS_DEAD] + by[TS_QUARANTINED], by[TS_CRASHED], by[TS_EXITED], by[TS_UNKNOWN],
		 (unsigned long long)s->events, s->events_per_s, (unsigned long long)s->drops,
		 s->err[0] ? "  ! " : "", s->err);
}

#define TOP_COLS_FMT "%-16.16s %7s %-8s %7s %8s %9s %9s %8s %5s %5s %6s %-16s %s\n"

void top_row_fields(const struct top_row *r, uint64_t now, char f[10][32])
{
	int proc = r->have_proc && !top_row_done(r); /* a process that is gone has none */
	double cpu = proc ? r->cpu_pct : -1;

	snprintf(f[0], 32, "%u", r->pid);
	top_fmt_dur(top_age_s(r, now), f[1], 32);
	top_fmt_dur(top_uptime_s(r, now), f[2], 32);
	snprintf(f[3], 32, "%.1f", top_row_rate(r, now));
	snprintf(f[4], 32, "%llu", (unsigned long long)r->events);
	snprintf(f[5], 32, "%llu", (unsigned long long)r->drops);
	if (r->fill >= 0)
		snprintf(f[6], 32, "%.0f", r->fill * 100);
	else
		snprintf(f[6], 32, "-");
	if (cpu >= 0)
		snprintf(f[7], 32, "%.0f", cpu);
	else
		snprintf(f[7], 32, "-");
	if (proc)
		top_fmt_bytes((double)r->rss_bytes, f[8], 32);
	else
		snprintf(f[8], 32, "-");
	snprintf(f[9], 32, "%llu", (unsigned long long)r->heartbeats);
}

void top_print_text(FILE *f, const struct top_view *v, const struct top_snap *s, int iter)
{
	char l1[768], l2[512], fld[10][32], met[1024], spark[64];
	uint32_t i;

	top_header_text(s, l1, sizeof(l1), l2, sizeof(l2));
	if (iter > 0)
		fputc('\n', f);
	fprintf(f, "%s\n%s\n\n", l1, l2);
	if (s->by_host)
		fprintf(f, TOP_HOST_FMT, "HOST");
	fprintf(f, TOP_COLS_FMT, "NAME", "PID", "STATE", "HB-AGE", "UPTIME", "EV/S", "EVENTS",
		"DROPS", "FILL%", "CPU%", "RSS", "RATE", "METRICS");
	for (i = 0; i < s->nrows; i++) {
		const struct top_row *r = &s->rows[i];

		top_row_fields(r, s->now_ns, fld);
		top_metrics_text(v, r, met, sizeof(met));
		top_spark_text(r, s->now_ns, v->utf8, spark, sizeof(spark));
		if (s->by_host)
			fprintf(f, TOP_HOST_FMT, r->host);
		fprintf(f, TOP_COLS_FMT, r->name, fld[0], top_state_name(r->state), fld[1], fld[2],
			fld[3], fld[4], fld[5], fld[6], fld[7], fld[8], spark, met);
	}
	fflush(f);
}

static void top_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void top_json_metrics(FILE *f, const struct top_view *v, const struct top_row *r)
{
	uint32_t i;
	int first = 1;

	fputc('{', f);
	for (i = 0; i < r->nmetrics; i++) {
		const struct top_metric *m = &r->m[i];

		if (!top_metric_chosen(v, m->name))
			continue;
		fputs(first ? "" : ",", f);
		first = 0;
		top_json_str(f, m->name);
		if (m->kind == HB_METRIC_COUNTER)
			fprintf(f, ":{\"kind\":\"counter\",\"value\":%llu,\"delta\":%llu,\"rate\":%.17g}",
				(unsigned long long)m->a,
				(unsigned long long)(m->have_prev && m->a >= m->pa ? m->a - m->pa : 0),
				top_metric_rate(r, m));
		else if (m->kind == HB_METRIC_GAUGE)
			fprintf(f, ":{\"kind\":\"gauge\",\"value\":%.17g}", top_gauge(m));
		else if (m->kind == HB_METRIC_TIMING)
			fprintf(f, ":{\"kind\":\"timing\",\"count\":%llu,\"sum_ns\":%llu,\"max_ns\":%llu}",
				(unsigned long long)m->a, (unsigned long long)m->b,
				(unsigned long long)m->c);
		else {
			fputs(":{\"kind\":\"health\",\"value\":", f);
			top_json_str(f, m->health);
			fputc('}', f);
		}
	}
	fputc('}', f);
}

static void top_json_row(FILE *f, const struct top_view *v, const struct top_row *r,
			 uint64_t now)
{
	double spark[TOP_SPARK];
	uint32_t i;

	fputs("{\"name\":", f);
	top_json_str(f, r->name);
	fputs(",\"host\":", f);
	top_json_str(f, r->host);
	fprintf(f, ",\"pid\":%u,\"ring\":", r->pid);
	top_json_str(f, r->ring);
	fprintf(f, ",\"state\":\"%s\",\"live\":%s,\"status\":", top_state_name(r->state),
		r->live ? "true" : "false");
	top_json_str(f, r->status);
	fprintf(f, ",\"hb_age_s\":");
	if (r->last_hb_ns)
		fprintf(f, "%.3f", top_age_s(r, now));
	else
		fputs("null", f);
	fprintf(f, ",\"uptime_s\":%.3f,\"interval_ms\":%u,\"records\":%llu,\"events\":%llu,"
		   "\"heartbeats\":%llu,\"drops\":%llu,\"gap_n\":%llu,\"events_per_s\":%.17g,",
		top_uptime_s(r, now), r->interval_ms, (unsigned long long)r->records,
		(unsigned long long)r->events, (unsigned long long)r->heartbeats,
		(unsigned long long)r->drops, (unsigned long long)r->gaps_n, top_row_rate(r, now));
	fputs("\"fill_pct\":", f);
	if (r->fill >= 0)
		fprintf(f, "%.17g", r->fill * 100);
	else
		fputs("null", f);
	fputs(",\"proc\":", f);
	if (r->have_proc)
		fprintf(f, "{\"cpu_pct\":%.17g,\"rss_bytes\":%llu,\"threads\":%lld,\"fds\":%lld}",
			r->cpu_pct, (unsigned long long)r->rss_bytes, (long long)r->threads,
			(long long)r->fds);
	else
		fputs("null", f);
	fputs(",\"metrics\":", f);
	top_json_metrics(f, v, r);
	fputs(",\"alerts\":[", f);
	for (i = 0; i < r->nalerts; i++) {
		fputs(i ? "," : "", f);
		top_json_str(f, r->alerts[i]);
	}
	fputs("],\"spark\":[", f);
	top_row_spark(r, now, spark);
	for (i = 0; i < TOP_SPARK; i++)
		fprintf(f, "%s%.0f", i ? "," : "", spark[i]);
	fputs("]}", f);
}

void top_print_json(FILE *f, const struct top_view *v, const struct top_snap *s)
{
	unsigned by[TS_NSTATES];
	char ts[40];
	uint32_t i;
	int k;

	top_counts(s, by);
	fprintf(f, "{\"ts\":\"%s\",\"ts_ns\":%llu,\"archive\":",
		hb_time_format(s->now_ns, ts, sizeof(ts)), (unsigned long long)s->now_ns);
	top_json_str(f, s->dir);
	fprintf(f, ",\"fleet\":%s", s->fleet ? "true" : "false");
	fputs(",\"collector\":{\"running\":", f);
	fputs(s->coll_running < 0 ? "null" : s->coll_running ? "true" : "false", f);
	fprintf(f, ",\"pid\":%u},\"totals\":{\"producers\":%u,\"records\":%llu,\"events\":%llu,"
		   "\"events_per_s\":%.17g,\"drops\":%llu,\"by_state\":{",
		s->coll_pid, s->nrows, (unsigned long long)s->records, (unsigned long long)s->events,
		s->events_per_s, (unsigned long long)s->drops);
	for (k = 0; k < TS_NSTATES; k++)
		fprintf(f, "%s\"%s\":%u", k ? "," : "", top_state_names[k], by[k]);
	fputs("}},\"producers\":[", f);
	for (i = 0; i < s->nrows; i++) {
		fputs(i ? "," : "", f);
		top_json_row(f, v, &s->rows[i], s->now_ns);
	}
	fputs("]}\n", f);
	fflush(f);
}

void top_print_json_str(FILE *f, const char *s)
{
	top_json_str(f, s);
}

void top_print_json_metrics(FILE *f, const struct top_view *v, const struct top_row *r)
{
	top_json_metrics(f, v, r);
}
