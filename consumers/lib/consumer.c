/* SPDX-License-Identifier: MIT */
/* Consumer API: handler registration, matching, statistics and breakers. */
#include "consumer_int.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HB_CONSUMER_FAIL_MAX 5
#define HB_CONSUMER_COOLDOWN_NS (30ull * 1000000000u)

static uint64_t hb_consumer_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int hb_consumer_new(struct hb_consumer **out, const struct hb_consumer_opts *opts)
{
	struct hb_consumer *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c)
		return -ENOMEM;
	if (opts)
		c->opts = *opts;
	if (!c->opts.fail_max)
		c->opts.fail_max = HB_CONSUMER_FAIL_MAX;
	if (!c->opts.cooldown_ns)
		c->opts.cooldown_ns = HB_CONSUMER_COOLDOWN_NS;
	*out = c;
	return 0;
}

void hb_consumer_free(struct hb_consumer *c)
{
	int i;

	if (!c)
		return;
	for (i = 0; i < c->n; i++) {
		free(c->h[i].glob);
		free(c->h[i].producer);
		free(c->h[i].name);
	}
	free(c->h);
	free(c);
}

static int hb_strdup_opt(const char *s, char **out)
{
	*out = NULL;
	if (!s)
		return 0;
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

int hb_consumer_add(struct hb_consumer *c, const struct hb_handler_spec *spec)
{
	struct hb_handler *h;

	if (!c || !spec || !spec->fn || !spec->kinds ||
	    (spec->kinds & ~(HB_ON_EVENT | HB_ON_HEARTBEAT | HB_ON_BUS)))
		return -EINVAL;
	if (c->n == c->cap) {
		int cap = c->cap ? c->cap * 2 : 8;
		struct hb_handler *nh = realloc(c->h, (size_t)cap * sizeof(*nh));

		if (!nh)
			return -ENOMEM;
		c->h = nh;
		c->cap = cap;
	}
	h = &c->h[c->n];
	memset(h, 0, sizeof(*h));
	h->spec = *spec;
	if (hb_strdup_opt(spec->glob, &h->glob) || hb_strdup_opt(spec->producer, &h->producer) ||
	    hb_strdup_opt(spec->name ? spec->name : spec->glob ? spec->glob : "*", &h->name)) {
		free(h->glob);
		free(h->producer);
		free(h->name);
		return -ENOMEM;
	}
	if (!h->spec.fail_max)
		h->spec.fail_max = c->opts.fail_max;
	if (!h->spec.cooldown_ns)
		h->spec.cooldown_ns = c->opts.cooldown_ns;
	h->st.name = h->name;
	return c->n++;
}

int hb_consumer_on_event(struct hb_consumer *c, const char *type_glob, hb_handler_fn fn,
			 void *ctx)
{
	struct hb_handler_spec s = {.kinds = HB_ON_EVENT, .glob = type_glob, .fn = fn, .ctx = ctx};

	return hb_consumer_add(c, &s);
}

int hb_consumer_on_heartbeat(struct hb_consumer *c, hb_handler_fn fn, void *ctx)
{
	struct hb_handler_spec s = {
		.kinds = HB_ON_HEARTBEAT, .name = "heartbeat", .fn = fn, .ctx = ctx};

	return hb_consumer_add(c, &s);
}

int hb_consumer_on_bus(struct hb_consumer *c, const char *kind_glob, hb_handler_fn fn, void *ctx)
{
	struct hb_handler_spec s = {.kinds = HB_ON_BUS, .glob = kind_glob, .fn = fn, .ctx = ctx};

	return hb_consumer_add(c, &s);
}

/* 1 when the handler takes records of this kind and its globs match
 * (events: type name; bus records: bus kind; all: producer name). */
static int hb_handler_matches(const struct hb_handler *h, const struct hb_rd_record *rec)
{
	const char *subject;

	switch (rec->kind) {
	case HB_RD_EVENT:
		if (!(h->spec.kinds & HB_ON_EVENT))
			return 0;
		subject = rec->type ? rec->type->name : "";
		break;
	case HB_RD_HEARTBEAT:
		if (!(h->spec.kinds & HB_ON_HEARTBEAT))
			return 0;
		subject = NULL;
		break;
	case HB_RD_BUS:
		if (!(h->spec.kinds & HB_ON_BUS))
			return 0;
		subject = rec->bus_kind ? rec->bus_kind : "";
		break;
	default:
		return 0;
	}
	if (h->glob && subject && fnmatch(h->glob, subject, 0))
		return 0;
	if (h->producer &&
	    fnmatch(h->producer, rec->producer && rec->producer->name ? rec->producer->name : "", 0))
		return 0;
	return 1;
}

static uint64_t hb_consumer_now(struct hb_consumer *c)
{
	if (c->opts.clock)
		return c->opts.clock(c->opts.clock_ctx);
	return c->newest_ts;
}

/* Breaker gate: 1 when the handler may be called now. */
static int hb_breaker_admit(struct hb_handler *h, uint64_t now)
{
	if (h->st.state != HB_BREAKER_OPEN)
		return 1;
	if (now < h->st.open_until_ns) {
		h->st.skipped++;
		return 0;
	}
	h->st.state = HB_BREAKER_HALF_OPEN; /* this call is the trial */
	return 1;
}

static void hb_breaker_record(struct hb_handler *h, int rc, uint64_t now)
{
	if (rc >= 0) {
		h->st.consecutive = 0;
		h->st.state = HB_BREAKER_CLOSED;
		return;
	}
	h->st.failures++;
	h->st.consecutive++;
	h->st.last_error = rc;
	if (h->st.state == HB_BREAKER_HALF_OPEN || h->st.consecutive >= h->spec.fail_max) {
		h->st.state = HB_BREAKER_OPEN;
		h->st.open_until_ns = now + h->spec.cooldown_ns;
		h->st.opened++;
	}
}

int hb_consumer_dispatch(struct hb_consumer *c, const struct hb_rd_record *rec)
{
	uint64_t now, t0;
	int i, rc, called = 0;

	if (rec->ts_ns > c->newest_ts)
		c->newest_ts = rec->ts_ns;
	now = hb_consumer_now(c);
	for (i = 0; i < c->n; i++) {
		struct hb_handler *h = &c->h[i];

		if (!hb_handler_matches(h, rec) || !hb_breaker_admit(h, now))
			continue;
		t0 = hb_consumer_mono_ns();
		rc = h->spec.fn(h->spec.ctx, rec);
		h->st.time_ns += hb_consumer_mono_ns() - t0;
		h->st.calls++;
		hb_breaker_record(h, rc, now);
		called++;
	}
	return called;
}

int hb_consumer_count(const struct hb_consumer *c)
{
	return c->n;
}

int hb_consumer_stats(const struct hb_consumer *c, int id, struct hb_handler_stats *out)
{
	if (!c || id < 0 || id >= c->n || !out)
		return -EINVAL;
	*out = c->h[id].st;
	return 0;
}

const char *hb_breaker_state_name(enum hb_breaker_state s)
{
	switch (s) {
	case HB_BREAKER_CLOSED:
		return "closed";
	case HB_BREAKER_OPEN:
		return "open";
	case HB_BREAKER_HALF_OPEN:
		return "half-open";
	}
	return "?";
}
