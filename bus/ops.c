/* SPDX-License-Identifier: MIT */
/* ops.c - liveness, process/host metrics, alerts and /metrics for the
 * collector (see ops.h). */
#include "ops.h"
#include "hbc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HBC_OPS_PUBLISH_NS 250000000ull

struct hbc_ops_prod {
	uint32_t p;
	const struct hb_ring_hdr *hdr;
	char name[HB_NAME_MAX];
	uint32_t pid;
	uint64_t start_ns;
	struct hbc_liveness live;
	struct hbc_procstat ps;
	int have_ps;
	uint64_t records;
	uint64_t last_hb_ns; /* heartbeat time of the newest values */
	uint32_t nmetrics;
	char mnames[HB_MAX_METRICS][HB_METRIC_NAME_MAX];
	uint32_t kinds[HB_MAX_METRICS];
	uint64_t vals[HB_MAX_METRICS][3];
	uint64_t evaluated_hb; /* last_hb_ns the rate rules saw */
	uint64_t ended_ns;     /* when it ended crashed or quarantined, else 0:
				* hdr is not read from then on */
	uint64_t dropped;      /* its ring's drop count when it ended */
};

/* Crashes of producers of one name since the collector started. */
struct hbc_ops_crashes {
	char name[HB_NAME_MAX];
	uint64_t n;
};

struct hbc_ops {
	char bus[HB_BUS_MAX];
	char *dir;
	struct hbc_alerts alerts;
	struct hbc_prom_server *srv;
	struct hbc_ops_prod *v;
	uint32_t n, cap;
	uint64_t host_every_ns, next_host_ns, next_pub_ns;
	struct hbc_hoststat host;
	int have_host;
	msgpack_packer *pk; /* for the alert callback */
	void (*note)(msgpack_packer *pk, uint64_t ts_ns);
	uint64_t start_ns;
	uint32_t last; /* index of the last producer found */
	uint64_t now_ns;
	uint64_t keep_crashed_ns;
	struct hbc_ops_crashes *crashes;
	uint32_t ncrashes;
};

int hbc_ops_option(struct hbc_ops_config *cfg, const char *opt, const char *arg, char *err,
		  size_t errlen)
{
	if (!strcmp(opt, "--metrics")) {
		cfg->metrics_addr = arg;
		return 1;
	}
	if (!strcmp(opt, "--alert"))
		return hbc_alerts_add(&cfg->alerts, arg, err, errlen) ?: 1;
	if (!strcmp(opt, "--alert-file"))
		return hbc_alerts_load(&cfg->alerts, arg, err, errlen) ?: 1;
	return 0;
}

int hbc_ops_create(struct hbc_ops **out, struct hbc_ops_config *cfg, char *err, size_t errlen)
{
	struct hbc_ops *o = calloc(1, sizeof(*o));
	int rc;

	if (!o)
		return -ENOMEM;
	snprintf(o->bus, sizeof(o->bus), "%s", cfg->bus ? cfg->bus : "default");
	o->dir = cfg->dir ? strdup(cfg->dir) : NULL;
	o->alerts = cfg->alerts;
	cfg->alerts = (struct hbc_alerts){0};
	o->start_ns = (uint64_t)time(NULL) * 1000000000u;
	o->host_every_ns = cfg->host_every_ns ? cfg->host_every_ns : 10000000000ull;
	o->note = cfg->note;
	o->keep_crashed_ns = cfg->keep_crashed_ns;
	if (cfg->metrics_addr) {
		rc = hbc_prom_server_start(&o->srv, cfg->metrics_addr, err, errlen);
		if (rc) {
			hbc_alerts_free(&o->alerts);
			free(o->dir);
			free(o);
			return rc;
		}
	}
	*out = o;
	return 0;
}

int hbc_ops_metrics_port(const struct hbc_ops *o)
{
	return o && o->srv ? hbc_prom_server_port(o->srv) : 0;
}

void hbc_ops_destroy(struct hbc_ops *o)
{
	if (!o)
		return;
	hbc_prom_server_stop(o->srv);
	hbc_alerts_free(&o->alerts);
	free(o->crashes);
	free(o->v);
	free(o->dir);
	free(o);
}

static struct hbc_ops_prod *hbc_ops_find(struct hbc_ops *o, uint32_t p)
{
	uint32_t i;

	/* records come in batches per ring: the last one found is likely */
	if (o->last < o->n && o->v[o->last].p == p)
		return &o->v[o->last];
	for (i = 0; i < o->n; i++)
		if (o->v[i].p == p) {
			o->last = i;
			return &o->v[i];
		}
	return NULL;
}

void hbc_ops_attach(struct hbc_ops *o, uint32_t p, const struct hb_ring_hdr *hdr, uint64_t now_ns)
{
	struct hbc_ops_prod *x = hbc_ops_find(o, p);

	if (!x) {
		if (o->n == o->cap) {
			uint32_t cap = o->cap ? o->cap * 2 : 16;
			struct hbc_ops_prod *nv = realloc(o->v, cap * sizeof(*nv));

			if (!nv)
				return;
			o->v = nv;
			o->cap = cap;
		}
		x = &o->v[o->n++];
	}
	memset(x, 0, sizeof(*x));
	x->p = p;
	x->hdr = hdr;
	memcpy(x->name, hdr->name, sizeof(x->name) - 1);
	x->pid = hdr->pid;
	x->start_ns = hdr->start_ns;
	hbc_live_init(&x->live, hdr->interval_ns, now_ns);
	hbc_procstat_init(&x->ps, (int)hdr->pid);
}

/* Copies the metric table (names from shared memory, bounded). */
static void hbc_ops_metric_defs(struct hbc_ops_prod *x, uint32_t n)
{
	uint32_t i;

	for (i = x->nmetrics; i < n; i++) {
		memcpy(x->mnames[i], x->hdr->metric_defs[i].name, HB_METRIC_NAME_MAX - 1);
		x->mnames[i][HB_METRIC_NAME_MAX - 1] = 0;
		x->kinds[i] = x->hdr->metric_defs[i].kind;
	}
	x->nmetrics = n;
}

int hbc_ops_heartbeat(struct hbc_ops *o, uint32_t p, uint64_t hb_ns, uint64_t interval_ns,
		     uint64_t now_ns, const uint64_t *slots, uint32_t nmetrics,
		     struct hbc_live_change *ch)
{
	struct hbc_ops_prod *x = hbc_ops_find(o, p);

	if (!x)
		return 0;
	if (nmetrics > HB_MAX_METRICS)
		nmetrics = HB_MAX_METRICS;
	if (nmetrics > x->nmetrics)
		hbc_ops_metric_defs(x, nmetrics);
	if (slots && nmetrics)
		memcpy(x->vals, slots, nmetrics * 3 * sizeof(uint64_t));
	if (hb_ns > x->last_hb_ns)
		x->last_hb_ns = hb_ns;
	x->have_ps = hbc_procstat_sample(&x->ps, hbc_mono_now_ns()) == 0;
	return hbc_live_heartbeat(&x->live, hb_ns, interval_ns, now_ns, ch);
}

int hbc_ops_has_proc(struct hbc_ops *o, uint32_t p)
{
	struct hbc_ops_prod *x = hbc_ops_find(o, p);

	return x && x->have_ps;
}

int hbc_ops_pack_proc(struct hbc_ops *o, uint32_t p, msgpack_packer *pk)
{
	struct hbc_ops_prod *x = hbc_ops_find(o, p);

	if (!x || !x->have_ps)
		return -ENOENT;
	return hbc_procstat_pack(&x->ps, pk);
}

void hbc_ops_records(struct hbc_ops *o, uint32_t p, uint64_t n)
{
	struct hbc_ops_prod *x = hbc_ops_find(o, p);

	if (x)
		x->records += n;
}

int hbc_ops_check(struct hbc_ops *o, uint32_t p, const struct hbc_live_obs *obs, uint64_t now_ns,
		 struct hbc_live_change *ch)
{
	struct hbc_ops_prod *x = hbc_ops_find(o, p);

	return x ? hbc_live_check(&x->live, now_ns, obs, ch) : 0;
}

static void hbc_ops_pack_ts(msgpack_packer *pk, uint64_t ns)
{
	msgpack_timestamp t = {.tv_sec = (int64_t)(ns / 1000000000u),
			       .tv_nsec = (uint32_t)(ns % 1000000000u)};

	msgpack_pack_timestamp(pk, &t);
}

/* Opens the map of a bus record with its k and ts (hbc_map_close ends it). */
static void hbc_ops_bus_open(struct hbc_ops *o, struct hbc_map *m, msgpack_packer *pk,
			     const char *k)
{
	if (o->note)
		o->note(pk, o->now_ns);
	hbc_map_open(m, pk);
	hbc_map_key(m, "k");
	hbc_pack_str(pk, k);
	hbc_map_key(m, "ts");
	hbc_ops_pack_ts(pk, o->now_ns);
}

/* {k: "alert", ts, p, name, event, rule, value, threshold[, why]} */
static void hbc_ops_on_alert(void *ctx, const struct hbc_alert_event *ev)
{
	struct hbc_ops *o = ctx;
	msgpack_packer *pk = o->pk;
	struct hbc_map m;

	if (!pk)
		return;
	hbc_ops_bus_open(o, &m, pk, "alert");
	hbc_map_key(&m, "p");
	msgpack_pack_uint32(pk, ev->p);
	hbc_map_key(&m, "name");
	hbc_pack_str(pk, ev->rule->name);
	hbc_map_key(&m, "event");
	hbc_pack_str(pk, ev->fired ? "fired" : "cleared");
	hbc_map_key(&m, "rule");
	hbc_pack_str(pk, ev->rule->text);
	hbc_map_key(&m, "value");
	msgpack_pack_double(pk, ev->value);
	hbc_map_key(&m, "threshold");
	msgpack_pack_double(pk, ev->threshold);
	if (ev->why) {
		hbc_map_key(&m, "why");
		hbc_pack_str(pk, ev->why);
	}
	hbc_map_close(&m);
}

static void hbc_ops_crash_count(struct hbc_ops *o, const char *name)
{
	struct hbc_ops_crashes *nc;
	uint32_t i;

	for (i = 0; i < o->ncrashes; i++)
		if (!strcmp(o->crashes[i].name, name)) {
			o->crashes[i].n++;
			return;
		}
	nc = realloc(o->crashes, (o->ncrashes + 1) * sizeof(*nc));
	if (!nc)
		return;
	o->crashes = nc;
	snprintf(nc[o->ncrashes].name, sizeof(nc->name), "%s", name);
	nc[o->ncrashes++].n = 1;
}

/* Forgets x: its active alerts clear into o->pk (why "gone"). */
static void hbc_ops_forget(struct hbc_ops *o, struct hbc_ops_prod *x)
{
	hbc_alerts_forget(&o->alerts, x->p, x->name, hbc_ops_on_alert, o);
	*x = o->v[--o->n];
}

static void hbc_ops_eval_state(struct hbc_ops *o, struct hbc_ops_prod *x, enum hb_state st)
{
	struct hbc_alert_input in = {.p = x->p, .producer = x->name, .fill = -1, .state = st};

	hbc_alerts_eval(&o->alerts, &in, hbc_ops_on_alert, o);
}

void hbc_ops_detach(struct hbc_ops *o, uint32_t p, enum hb_state final, msgpack_packer *pk,
		   uint64_t now_ns)
{
	struct hbc_ops_prod *x = hbc_ops_find(o, p);

	if (!x)
		return;
	o->pk = pk;
	o->now_ns = now_ns;
	if (final == HB_STATE_CRASHED)
		hbc_ops_crash_count(o, x->name);
	hbc_live_finish(&x->live, final, "final", now_ns, NULL);
	/* state alerts see the final state: a clean exit clears them as
	 * "exited", a crash keeps them firing (or fires them now) */
	hbc_ops_eval_state(o, x, final);
	if (final == HB_STATE_EXITED || !o->keep_crashed_ns) {
		hbc_ops_forget(o, x);
	} else {
		x->dropped = atomic_load_explicit(&x->hdr->dropped, memory_order_relaxed);
		x->ended_ns = now_ns ? now_ns : 1;
		x->hdr = NULL; /* the ring is unmapped once its last records are written */
		x->have_ps = 0;
	}
	o->pk = NULL;
}

/* Producers kept past their time are forgotten (pk: room for records). */
static void hbc_ops_expire(struct hbc_ops *o)
{
	uint32_t i = 0;

	while (i < o->n) {
		struct hbc_ops_prod *x = &o->v[i];

		if (x->ended_ns && o->now_ns - x->ended_ns >= o->keep_crashed_ns)
			hbc_ops_forget(o, x);
		else
			i++;
	}
}

static double hbc_ops_fill(const struct hb_ring_hdr *h)
{
	uint64_t head, tail;

	if (!h)
		return -1; /* ended: the ring is no longer read */
	head = atomic_load_explicit(&h->head, memory_order_relaxed);
	tail = atomic_load_explicit(&h->tail, memory_order_relaxed);
	if (head < tail || head - tail > h->data_size || !h->data_size)
		return -1;
	return (double)(head - tail) / h->data_size;
}

static void hbc_ops_eval(struct hbc_ops *o, struct hbc_ops_prod *x)
{
	const char *names[HB_MAX_METRICS];
	uint64_t vals[HB_MAX_METRICS];
	struct hbc_alert_input in = {.p = x->p, .producer = x->name, .ts_ns = x->last_hb_ns,
				    .fill = hbc_ops_fill(x->hdr), .state = x->live.state,
				    .counter_names = names, .counters = vals};
	uint32_t i;

	if (x->ended_ns) { /* ended: only its final state counts */
		hbc_ops_eval_state(o, x, x->live.state);
		return;
	}
	for (i = 0; i < x->nmetrics; i++) {
		if (x->kinds[i] != HB_METRIC_COUNTER)
			continue;
		names[in.ncounters] = x->mnames[i];
		vals[in.ncounters++] = x->vals[i][0];
	}
	hbc_alerts_eval(&o->alerts, &in, hbc_ops_on_alert, o);
}

static void hbc_ops_host_record(struct hbc_ops *o, msgpack_packer *pk)
{
	struct hbc_map m;

	if (hbc_hoststat_read(&o->host, o->dir))
		return;
	o->have_host = 1;
	hbc_ops_bus_open(o, &m, pk, "host");
	m.n += hbc_hoststat_pack(&o->host, pk);
	hbc_map_close(&m);
}

static void hbc_ops_publish(struct hbc_ops *o, const struct hbc_prom_collector *cs)
{
	struct hbc_prom_producer *pp = calloc(o->n ? o->n : 1, sizeof(*pp));
	struct hbc_prom_metric *pm = calloc((size_t)(o->n ? o->n : 1) * HB_MAX_METRICS, sizeof(*pm));
	struct hbc_prom_alert *pa = calloc(o->alerts.ninst ? o->alerts.ninst : 1, sizeof(*pa));
	struct hbc_prom_crashes *pc = calloc(o->ncrashes ? o->ncrashes : 1, sizeof(*pc));
	struct hbc_prom_snapshot s = {.now_ns = o->now_ns, .bus = o->bus, .producers = pp,
				     .collector = cs, .alerts = pa, .crashes = pc,
				     .host = o->have_host ? &o->host : NULL};
	char *text;
	size_t len, i;
	uint32_t k, j;

	if (!pp || !pm || !pa || !pc)
		goto out;
	for (k = 0; k < o->n; k++) {
		struct hbc_ops_prod *x = &o->v[k];
		struct hbc_prom_metric *m = pm + (size_t)k * HB_MAX_METRICS;

		for (j = 0; j < x->nmetrics; j++)
			m[j] = (struct hbc_prom_metric){.name = x->mnames[j], .kind = x->kinds[j],
						       .a = x->vals[j][0], .b = x->vals[j][1],
						       .c = x->vals[j][2]};
		pp[k] = (struct hbc_prom_producer){
			.name = x->name, .pid = x->pid, .state = x->live.state,
			.start_ns = x->start_ns, .interval_ns = x->live.interval_ns,
			.last_hb_ns = x->live.heartbeats ? x->live.last_hb_ns : 0,
			.missed = x->live.missed + hbc_live_missed_now(&x->live, o->now_ns),
			.hb_latency_ns = x->live.latency_ns, .records = x->records,
			.dropped = x->hdr ? atomic_load_explicit(&x->hdr->dropped, memory_order_relaxed)
					  : x->dropped,
			.fill = hbc_ops_fill(x->hdr), .proc = x->have_ps ? &x->ps : NULL,
			.nmetrics = x->nmetrics, .metrics = m};
	}
	s.nproducers = o->n;
	for (k = 0; k < o->ncrashes; k++)
		pc[k] = (struct hbc_prom_crashes){.producer = o->crashes[k].name,
						 .n = o->crashes[k].n};
	s.ncrashes = o->ncrashes;
	for (i = 0; i < o->alerts.ninst; i++) {
		const struct hbc_alert_inst *it = &o->alerts.inst[i];
		struct hbc_ops_prod *x = hbc_ops_find(o, it->p);

		if (it->active && x)
			pa[s.nalerts++] = (struct hbc_prom_alert){
				.name = o->alerts.rules[it->rule].name, .producer = x->name,
				.pid = x->pid};
	}
	if (hbc_prom_render(&s, &text, &len) == 0)
		hbc_prom_server_publish(o->srv, text, len);
out:
	free(pp);
	free(pm);
	free(pa);
	free(pc);
}

void hbc_ops_tick(struct hbc_ops *o, uint64_t now_ns, const struct hbc_prom_collector *csin,
		 msgpack_packer *pk)
{
	struct hbc_prom_collector cs0 = {0}, *cs = &cs0;
	uint32_t i;

	if (csin)
		cs0 = *csin;
	if (!cs0.start_ns)
		cs0.start_ns = o->start_ns;

	o->now_ns = now_ns;
	if (pk) {
		o->pk = pk;
		for (i = 0; i < o->n && o->alerts.nrules; i++)
			hbc_ops_eval(o, &o->v[i]);
		hbc_ops_expire(o);
		o->pk = NULL;
		if (now_ns >= o->next_host_ns) {
			o->next_host_ns = now_ns + o->host_every_ns;
			hbc_ops_host_record(o, pk);
		}
	}
	if (o->srv && now_ns >= o->next_pub_ns) {
		o->next_pub_ns = now_ns + HBC_OPS_PUBLISH_NS;
		if (!o->have_host)
			o->have_host = hbc_hoststat_read(&o->host, o->dir) == 0;
		hbc_ops_publish(o, cs);
	}
}
