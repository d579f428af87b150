/* SPDX-License-Identifier: MIT */
/* prom_render.c - the Prometheus text exposition of a snapshot (prom.h).
 * Samples of one family are written together, families in a fixed order. */
#include "prom.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hb.h"
#include "hbs/names.h"

struct hbc_sbuf {
	char *p;
	size_t len, cap;
	int oom;
};

static void hbc_sbuf_printf(struct hbc_sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = 1;
			return;
		}
		if (b->p && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap ? b->cap * 2 : 16384;
		char *np;

		while (cap < b->len + (size_t)n + 1)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
}

void hbc_prom_label_escape(const char *v, char *out, size_t outlen)
{
	size_t o = 0;

	if (!outlen)
		return;
	for (; v && *v && o + 2 < outlen; v++) {
		if (*v == '\\' || *v == '"') {
			out[o++] = '\\';
			out[o++] = *v;
		} else if (*v == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else {
			out[o++] = *v;
		}
	}
	out[o] = 0;
}

static void hbc_family(struct hbc_sbuf *b, const char *name, const char *type, const char *help)
{
	hbc_sbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Prometheus floats: integers print exactly, the rest with %.17g. */
static void hbc_value(struct hbc_sbuf *b, double v)
{
	if (v != v)
		hbc_sbuf_printf(b, " NaN\n");
	else if (isinf(v))
		hbc_sbuf_printf(b, v > 0 ? " +Inf\n" : " -Inf\n");
	else
		hbc_sbuf_printf(b, " %.17g\n", v);
}

struct hbc_render {
	struct hbc_sbuf b;
	const struct hbc_prom_snapshot *s;
	char (*lbl)[256]; /* per producer: producer="..",pid=".." */
};

/* Producer labels; a name and pid seen twice get "#N" appended so every
 * series stays unique. */
static void hbc_labels_make(struct hbc_render *r)
{
	uint32_t i, j, dup;
	char esc[200], name[160];

	for (i = 0; i < r->s->nproducers; i++) {
		const struct hbc_prom_producer *p = &r->s->producers[i];

		for (j = 0, dup = 0; j < i; j++)
			if (r->s->producers[j].pid == p->pid && !strcmp(r->s->producers[j].name, p->name))
				dup++;
		if (dup)
			snprintf(name, sizeof(name), "%s#%u", p->name, dup);
		else
			snprintf(name, sizeof(name), "%s", p->name ? p->name : "");
		hbc_prom_label_escape(name, esc, sizeof(esc));
		snprintf(r->lbl[i], sizeof(r->lbl[i]), "producer=\"%s\",pid=\"%u\"", esc, p->pid);
	}
}

typedef double (*hbc_prod_fn)(const struct hbc_prom_producer *p, uint64_t now, int *skip);

static void hbc_per_producer(struct hbc_render *r, const char *name, const char *type,
			    const char *help, hbc_prod_fn fn)
{
	uint32_t i;

	hbc_family(&r->b, name, type, help);
	for (i = 0; i < r->s->nproducers; i++) {
		int skip = 0;
		double v = fn(&r->s->producers[i], r->s->now_ns, &skip);

		if (skip)
			continue;
		hbc_sbuf_printf(&r->b, "%s{%s}", name, r->lbl[i]);
		hbc_value(&r->b, v);
	}
}

static double f_up(const struct hbc_prom_producer *p, uint64_t now, int *skip)
{
	(void)now, (void)skip;
	return p->state == HB_STATE_HEALTHY || p->state == HB_STATE_LATE ||
	       p->state == HB_STATE_BACKLOGGED;
}

static double f_last_hb(const struct hbc_prom_producer *p, uint64_t now, int *skip)
{
	(void)now;
	*skip = !p->last_hb_ns;
	return (double)p->last_hb_ns / 1e9;
}

static double f_hb_age(const struct hbc_prom_producer *p, uint64_t now, int *skip)
{
	*skip = !p->last_hb_ns;
	return now > p->last_hb_ns ? (double)(now - p->last_hb_ns) / 1e9 : 0;
}

static double f_interval(const struct hbc_prom_producer *p, uint64_t now, int *skip)
{
	(void)now, (void)skip;
	return (double)p->interval_ns / 1e9;
}

static double f_start(const struct hbc_prom_producer *p, uint64_t now, int *skip)
{
	(void)now, (void)skip;
	return (double)p->start_ns / 1e9;
}

static double f_missed(const struct hbc_prom_producer *p, uint64_t now, int *skip)
{
	(void)now, (void)skip;
	return (double)p->missed;
}

static double f_latency(const struct hbc_prom_producer *p, uint64_t now, int *skip)
{
	(void)now;
	*skip = !p->last_hb_ns;
	return (double)p->hb_latency_ns / 1e9;
}

static double f_records(const struct hbc_prom_producer *p, uint64_t now, int *skip)
{
	(void)now, (void)skip;
	return (double)p->records;
}

static double f_dropped(const struct hbc_prom_producer *p, uint64_t now, int *skip)
{
	(void)now, (void)skip;
	return (double)p->dropped;
}

static double f_fill(const struct hbc_prom_producer *p, uint64_t now, int *skip)
{
	(void)now;
	*skip = p->fill < 0;
	return p->fill;
}

static double f_cpu(const struct hbc_prom_producer *p, uint64_t now, int *skip)
{
	(void)now;
	*skip = !p->proc || p->proc->cpu_pct < 0;
	return p->proc ? p->proc->cpu_pct / 100.0 : 0;
}

static double f_rss(const struct hbc_prom_producer *p, uint64_t now, int *skip)
{
	(void)now;
	*skip = !p->proc || !p->proc->have_prev;
	return p->proc ? (double)p->proc->rss_bytes : 0;
}

static double f_threads(const struct hbc_prom_producer *p, uint64_t now, int *skip)
{
	(void)now;
	*skip = !p->proc || !p->proc->have_prev;
	return p->proc ? (double)p->proc->threads : 0;
}

static double f_fds(const struct hbc_prom_producer *p, uint64_t now, int *skip)
{
	(void)now;
	*skip = !p->proc || p->proc->fds < 0;
	return p->proc ? (double)p->proc->fds : 0;
}

static void hbc_render_states(struct hbc_render *r)
{
	uint32_t i;
	int st;

	hbc_family(&r->b, "hb_producer_state", "gauge",
		  "Liveness state of the producer: 1 for the current state.");
	for (i = 0; i < r->s->nproducers; i++)
		for (st = HB_STATE_UNKNOWN; st < HB_STATE_N; st++)
			hbc_sbuf_printf(&r->b, "hb_producer_state{%s,state=\"%s\"} %d\n", r->lbl[i],
				       hb_state_name((enum hb_state)st),
				       r->s->producers[i].state == (enum hb_state)st);
}

/* One family over every producer's metrics of one kind. */
static void hbc_render_metric_kind(struct hbc_render *r, uint32_t kind, const char *name,
				  const char *type, const char *help, int part)
{
	char esc[200];
	uint32_t i, j;

	hbc_family(&r->b, name, type, help);
	for (i = 0; i < r->s->nproducers; i++) {
		const struct hbc_prom_producer *p = &r->s->producers[i];

		for (j = 0; j < p->nmetrics; j++) {
			const struct hbc_prom_metric *m = &p->metrics[j];
			union {
				uint64_t u;
				double d;
			} g = {.u = m->a};

			if (m->kind != kind)
				continue;
			hbc_prom_label_escape(m->name, esc, sizeof(esc));
			if (kind == HB_METRIC_COUNTER) {
				hbc_sbuf_printf(&r->b, "%s{%s,metric=\"%s\"}", name, r->lbl[i], esc);
				hbc_value(&r->b, (double)m->a);
			} else if (kind == HB_METRIC_GAUGE) {
				hbc_sbuf_printf(&r->b, "%s{%s,metric=\"%s\"}", name, r->lbl[i], esc);
				hbc_value(&r->b, g.d);
			} else if (part == 0) { /* timing summary: count and sum */
				hbc_sbuf_printf(&r->b, "%s_count{%s,metric=\"%s\"}", name, r->lbl[i], esc);
				hbc_value(&r->b, (double)m->a);
				hbc_sbuf_printf(&r->b, "%s_sum{%s,metric=\"%s\"}", name, r->lbl[i], esc);
				hbc_value(&r->b, (double)m->b / 1e9);
			} else { /* timing max */
				hbc_sbuf_printf(&r->b, "%s{%s,metric=\"%s\"}", name, r->lbl[i], esc);
				hbc_value(&r->b, (double)m->c / 1e9);
			}
		}
	}
}

static void hbc_render_health(struct hbc_render *r)
{
	char esc[200];
	uint32_t i, j;

	hbc_family(&r->b, "hb_component_health", "gauge",
		  "Component health flag reported in heartbeats: 1 for the current value.");
	for (i = 0; i < r->s->nproducers; i++) {
		const struct hbc_prom_producer *p = &r->s->producers[i];

		for (j = 0; j < p->nmetrics; j++) {
			const struct hbc_prom_metric *m = &p->metrics[j];

			if (m->kind != HB_METRIC_HEALTH)
				continue;
			hbc_prom_label_escape(m->name, esc, sizeof(esc));
			hbc_sbuf_printf(&r->b, "hb_component_health{%s,metric=\"%s\",health=\"%s\"} 1\n",
				       r->lbl[i], esc, hbs_or_unknown(hbs_health_name(m->a)));
		}
	}
}

static void hbc_render_alerts(struct hbc_render *r)
{
	char e1[200], e2[200];
	uint32_t i;

	hbc_family(&r->b, "hb_alert_active", "gauge",
		  "Alert rules of the collector currently firing, per producer.");
	for (i = 0; i < r->s->nalerts; i++) {
		const struct hbc_prom_alert *a = &r->s->alerts[i];

		hbc_prom_label_escape(a->name, e1, sizeof(e1));
		hbc_prom_label_escape(a->producer, e2, sizeof(e2));
		hbc_sbuf_printf(&r->b, "hb_alert_active{alert=\"%s\",producer=\"%s\",pid=\"%u\"} 1\n",
			       e1, e2, a->pid);
	}
}

static void hbc_render_crashes(struct hbc_render *r)
{
	char esc[200];
	uint32_t i;

	hbc_family(&r->b, "hb_producer_crashes_total", "counter",
		  "Producers of this name whose process died without closing its ring, "
		  "since the collector started.");
	for (i = 0; i < r->s->ncrashes; i++) {
		hbc_prom_label_escape(r->s->crashes[i].producer, esc, sizeof(esc));
		hbc_sbuf_printf(&r->b, "hb_producer_crashes_total{producer=\"%s\"} %llu\n", esc,
			       (unsigned long long)r->s->crashes[i].n);
	}
}

static void hbc_one(struct hbc_render *r, const char *name, const char *type, const char *help,
		   double v)
{
	hbc_family(&r->b, name, type, help);
	hbc_sbuf_printf(&r->b, "%s", name);
	hbc_value(&r->b, v);
}

static void hbc_render_host(struct hbc_render *r, const struct hbc_hoststat *h)
{
	hbc_one(r, "hb_host_load1", "gauge", "Host load average over 1 minute.", h->load1);
	hbc_one(r, "hb_host_load5", "gauge", "Host load average over 5 minutes.", h->load5);
	hbc_one(r, "hb_host_load15", "gauge", "Host load average over 15 minutes.", h->load15);
	hbc_one(r, "hb_host_cpus", "gauge", "Online CPUs of the host.", (double)h->ncpu);
	hbc_one(r, "hb_host_memory_total_bytes", "gauge", "Host memory.",
	       (double)h->mem_total_bytes);
	hbc_one(r, "hb_host_memory_used_bytes", "gauge", "Host memory in use (total - available).",
	       (double)h->mem_used_bytes);
	hbc_one(r, "hb_host_archive_disk_total_bytes", "gauge",
	       "Size of the file system holding the archive.", (double)h->disk_total_bytes);
	hbc_one(r, "hb_host_archive_disk_used_bytes", "gauge",
	       "Used bytes of the file system holding the archive.", (double)h->disk_used_bytes);
}

static void hbc_render_collector(struct hbc_render *r, const struct hbc_prom_collector *c)
{
	hbc_one(r, "hb_collector_start_time_seconds", "gauge", "When the collector started.",
	       (double)c->start_ns / 1e9);
	hbc_one(r, "hb_collector_records_total", "counter", "Records written to the archive.",
	       (double)c->records);
	hbc_one(r, "hb_collector_bytes_total", "counter", "Bytes written to the archive.",
	       (double)c->bytes);
	hbc_family(&r->b, "hb_collector_write_latency_seconds", "summary",
		  "Archive write latency, submission to completion.");
	hbc_sbuf_printf(&r->b, "hb_collector_write_latency_seconds_count %llu\n",
		       (unsigned long long)c->writes);
	hbc_sbuf_printf(&r->b, "hb_collector_write_latency_seconds_sum");
	hbc_value(&r->b, (double)c->write_ns_sum / 1e9);
	hbc_one(r, "hb_collector_write_latency_seconds_max", "gauge",
	       "Longest archive write so far.", (double)c->write_ns_max / 1e9);
	hbc_one(r, "hb_collector_backlog_bytes", "gauge", "Bytes waiting in the rings.",
	       (double)c->backlog_bytes);
	hbc_one(r, "hb_collector_files_total", "counter", "Archive files created.",
	       (double)c->files);
	hbc_one(r, "hb_collector_write_failing", "gauge",
	       "1 while archive writes fail (records wait in the rings).", (double)c->write_failing);
}

static void hbc_render_producers(struct hbc_render *r)
{
	hbc_per_producer(r, "hb_producer_up", "gauge",
			"1 when the producer is healthy, late or backlogged; 0 when dead, "
			"crashed, exited, quarantined or unknown.",
			f_up);
	hbc_render_states(r);
	hbc_render_crashes(r);
	hbc_per_producer(r, "hb_producer_start_time_seconds", "gauge",
			"When the producer opened its ring.", f_start);
	hbc_per_producer(r, "hb_last_heartbeat_timestamp_seconds", "gauge",
			"Wall-clock time of the newest heartbeat.", f_last_hb);
	hbc_per_producer(r, "hb_heartbeat_age_seconds", "gauge",
			"Seconds since the newest heartbeat.", f_hb_age);
	hbc_per_producer(r, "hb_heartbeat_interval_seconds", "gauge",
			"Configured heartbeat interval.", f_interval);
	hbc_per_producer(r, "hb_heartbeats_missed_total", "counter",
			"Heartbeats that did not arrive in time.", f_missed);
	hbc_per_producer(r, "hb_heartbeat_latency_seconds", "gauge",
			"Collector receive time minus heartbeat time, newest heartbeat.", f_latency);
	hbc_per_producer(r, "hb_records_total", "counter", "Records of the producer persisted.",
			f_records);
	hbc_per_producer(r, "hb_records_dropped_total", "counter",
			"Records the producer dropped (ring full or shed).", f_dropped);
	hbc_per_producer(r, "hb_ring_fill_ratio", "gauge", "Used fraction of the producer's ring.",
			f_fill);
}

static void hbc_render_metrics(struct hbc_render *r)
{
	hbc_render_metric_kind(r, HB_METRIC_COUNTER, "hb_metric_total", "counter",
			      "Producer counter from its heartbeats.", 0);
	hbc_render_metric_kind(r, HB_METRIC_GAUGE, "hb_metric_value", "gauge",
			      "Producer gauge from its heartbeats.", 0);
	hbc_render_metric_kind(r, HB_METRIC_TIMING, "hb_timing_seconds", "summary",
			      "Producer timing from its heartbeats: count and sum.", 0);
	hbc_render_metric_kind(r, HB_METRIC_TIMING, "hb_timing_seconds_max", "gauge",
			      "Producer timing from its heartbeats: maximum.", 1);
	hbc_render_health(r);
}

static void hbc_render_process(struct hbc_render *r)
{
	hbc_per_producer(r, "hb_process_cpu_usage_ratio", "gauge",
			"CPU used by the producer's process between two heartbeats (1 = one core).",
			f_cpu);
	hbc_per_producer(r, "hb_process_resident_memory_bytes", "gauge",
			"Resident memory of the producer's process.", f_rss);
	hbc_per_producer(r, "hb_process_threads", "gauge", "Threads of the producer's process.",
			f_threads);
	hbc_per_producer(r, "hb_process_open_fds", "gauge",
			"Open file descriptors of the producer's process.", f_fds);
}

int hbc_prom_render(const struct hbc_prom_snapshot *s, char **text, size_t *len)
{
	struct hbc_render r = {.s = s};

	r.lbl = calloc(s->nproducers ? s->nproducers : 1, sizeof(*r.lbl));
	if (!r.lbl)
		return -ENOMEM;
	hbc_labels_make(&r);
	hbc_render_producers(&r);
	hbc_render_metrics(&r);
	hbc_render_process(&r);
	hbc_render_alerts(&r);
	if (s->host)
		hbc_render_host(&r, s->host);
	if (s->collector)
		hbc_render_collector(&r, s->collector);
	hbc_family(&r.b, "hb_producers", "gauge", "Producers the collector tracks.");
	hbc_sbuf_printf(&r.b, "hb_producers %u\n", s->nproducers);
	free(r.lbl);
	if (r.b.oom) {
		free(r.b.p);
		return -ENOMEM;
	}
	*text = r.b.p;
	*len = r.b.len;
	return 0;
}

int hbc_prom_render_plain(const struct hbc_prom_family *f, size_t n, char **text, size_t *len)
{
	struct hbc_render r = {0};
	size_t i;

	for (i = 0; i < n; i++) {
		hbc_family(&r.b, f[i].name, f[i].type, f[i].help);
		if (f[i].absent)
			continue;
		hbc_sbuf_printf(&r.b, "%s%s%s%s", f[i].name, f[i].labels ? "{" : "",
			       f[i].labels ? f[i].labels : "", f[i].labels ? "}" : "");
		hbc_value(&r.b, f[i].v);
	}
	if (r.b.oom || !r.b.p) {
		free(r.b.p);
		return -ENOMEM;
	}
	*text = r.b.p;
	*len = r.b.len;
	return 0;
}
