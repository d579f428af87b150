/* SPDX-License-Identifier: MIT */
/* Type and metric registration, argument checks on the hot path, and
 * heartbeats carrying the metric snapshot. */
#include "test_ring_fixture.h"

#include <time.h>

static const struct hb_field order[] = {{"n", HB_T_I64}, {"px", HB_T_F64}, {"sym", HB_T_STR}};

static void type_registration_is_idempotent(void **state)
{
	struct hb_config cfg = fx_config("reg", 4);
	struct fx f;

	fx_open(&f, *(const enum fx_kind *)*state, &cfg);
	assert_int_equal(hb_type_register(f.p, "a.order", order, 3), 0);
	assert_int_equal(hb_type_register(f.p, "a.fill", order, 1), 1);
	assert_int_equal(hb_type_register(f.p, "a.order", order, 3), 0);
	assert_int_equal(hb_type_register(f.p, "a.fill", order, 1), 1);
	assert_int_equal(atomic_load(&f.v.hdr->ntypes), 2);
	assert_string_equal(f.v.hdr->types[0].name, "a.order");
	assert_int_equal(f.v.hdr->types[0].nfields, 3);
	assert_string_equal(f.v.hdr->types[0].fields[2], "sym");
	assert_int_equal(f.v.hdr->types[0].tags[1], HB_T_F64);
	assert_int_equal(f.v.hdr->types[0].tags[3], HB_T_NONE);
	fx_close(&f);
}

static void type_redefinition_is_eexist(void **state)
{
	static const struct hb_field renamed[] = {{"n", HB_T_I64}, {"price", HB_T_F64}};
	static const struct hb_field retagged[] = {{"n", HB_T_U64}};
	struct hb_config cfg = fx_config("reg", 4);
	struct fx f;

	fx_open(&f, *(const enum fx_kind *)*state, &cfg);
	assert_int_equal(hb_type_register(f.p, "a.order", order, 3), 0);
	assert_int_equal(hb_type_register(f.p, "a.order", order, 2), -EEXIST);
	assert_int_equal(hb_type_register(f.p, "a.order", renamed, 2), -EEXIST);
	assert_int_equal(hb_type_register(f.p, "a.order", retagged, 1), -EEXIST);
	assert_int_equal(hb_type_register(f.p, "a.order", NULL, 0), -EEXIST);
	assert_int_equal(atomic_load(&f.v.hdr->ntypes), 1);
	fx_close(&f);
}

static void type_registration_rejects_bad_definitions(void **state)
{
	static const struct hb_field bad_tag[] = {{"n", HB_T_NONE}};
	static const struct hb_field big_tag[] = {{"n", (enum hb_tag)7}};
	static const struct hb_field bad_field[] = {{"a/b", HB_T_I64}};
	struct hb_field nine[9];
	struct hb_config cfg = fx_config("reg", 4);
	struct fx f;

	fx_open(&f, *(const enum fx_kind *)*state, &cfg);
	for (int i = 0; i < 9; i++)
		nine[i] = (struct hb_field){"x", HB_T_I64};
	assert_int_equal(hb_type_register(f.p, "t", bad_tag, 1), -EINVAL);
	assert_int_equal(hb_type_register(f.p, "t", big_tag, 1), -EINVAL);
	assert_int_equal(hb_type_register(f.p, "t", bad_field, 1), -EINVAL);
	assert_int_equal(hb_type_register(f.p, "t", nine, 9), -EINVAL);
	assert_int_equal(hb_type_register(f.p, "t", NULL, 1), -EINVAL);
	assert_int_equal(hb_type_register(f.p, "bad/type", order, 1), -EINVAL);
	assert_int_equal(hb_type_register(f.p, "t", nine, 8), 0);
	fx_close(&f);
}

static void type_registration_is_enospc_past_max(void **state)
{
	struct hb_config cfg = fx_config("reg", 4);
	char name[16];
	struct fx f;

	fx_open(&f, *(const enum fx_kind *)*state, &cfg);
	for (int i = 0; i < HB_MAX_TYPES; i++) {
		snprintf(name, sizeof(name), "t%d", i);
		assert_int_equal(hb_type_register(f.p, name, order, 1), i);
	}
	assert_int_equal(hb_type_register(f.p, "one.more", order, 1), -ENOSPC);
	assert_int_equal(hb_type_register(f.p, "t7", order, 1), 7); /* existing: fine */
	assert_int_equal(atomic_load(&f.v.hdr->ntypes), HB_MAX_TYPES);
	fx_close(&f);
}

static void metric_registration_is_idempotent(void **state)
{
	struct hb_config cfg = fx_config("reg", 4);
	struct fx f;

	fx_open(&f, *(const enum fx_kind *)*state, &cfg);
	assert_int_equal(hb_metric_register(f.p, "reqs", HB_METRIC_COUNTER), 0);
	assert_int_equal(hb_metric_register(f.p, "temp", HB_METRIC_GAUGE), 1);
	assert_int_equal(hb_metric_register(f.p, "reqs", HB_METRIC_COUNTER), 0);
	assert_int_equal(hb_metric_register(f.p, "reqs", HB_METRIC_GAUGE), -EEXIST);
	assert_int_equal(hb_metric_register(f.p, "x", (enum hb_metric_kind)0), -EINVAL);
	assert_int_equal(hb_metric_register(f.p, "x", (enum hb_metric_kind)5), -EINVAL);
	assert_int_equal(hb_metric_register(f.p, "a b", HB_METRIC_COUNTER), -EINVAL);
	assert_int_equal(atomic_load(&f.v.hdr->nmetrics), 2);
	assert_string_equal(f.v.hdr->metric_defs[1].name, "temp");
	assert_int_equal(f.v.hdr->metric_defs[1].kind, HB_METRIC_GAUGE);
	fx_close(&f);
}

static void metric_registration_is_enospc_past_max(void **state)
{
	struct hb_config cfg = fx_config("reg", 4);
	char name[16];
	struct fx f;

	fx_open(&f, *(const enum fx_kind *)*state, &cfg);
	for (int i = 0; i < HB_MAX_METRICS; i++) {
		snprintf(name, sizeof(name), "m%d", i);
		assert_int_equal(hb_metric_register(f.p, name, HB_METRIC_COUNTER), i);
	}
	assert_int_equal(hb_metric_register(f.p, "one.more", HB_METRIC_COUNTER), -ENOSPC);
	/* a full snapshot still fits a 4 KiB ring */
	assert_int_equal(hb_heartbeat(f.p), 0);
	const struct hb_rec *r = fx_next(&f);
	assert_non_null(r);
	assert_int_equal(r->len, 56 + HB_MAX_METRICS * 24);
	fx_close(&f);
}

static void hot_path_rejects_bad_arguments(void **state)
{
	struct hb_config cfg = fx_config("args", 4);
	struct fx f;

	fx_open(&f, *(const enum fx_kind *)*state, &cfg);
	assert_int_equal(hb_event(f.p, 0, HB_PRIO_LOW, 0, HB_I64(1)), -EINVAL); /* no type yet */
	hb_type_register(f.p, "t", order, 3);
	assert_int_equal(hb_event(f.p, 1, HB_PRIO_LOW, 0, HB_I64(1)), -EINVAL);
	assert_int_equal(hb_event(f.p, 0, 4, 0, HB_I64(1)), -EINVAL);
	assert_int_equal(hb_event(f.p, 0, HB_PRIO_LOW, 0, HB_I64(1), HB_I64(2), HB_I64(3),
				  HB_I64(4), HB_I64(5), HB_I64(6), HB_I64(7), HB_I64(8), HB_I64(9)),
			 -EINVAL);
	assert_int_equal(hb_counter_add(f.p, 0, 1), -EINVAL); /* no metric yet */
	assert_int_equal(hb_gauge_set(f.p, 0, 1), -EINVAL);
	assert_int_equal(atomic_load(&f.v.hdr->seq), 0); /* nothing was attempted */
	assert_null(fx_next(&f));
	fx_close(&f);
}

static uint64_t dbits(double d)
{
	uint64_t u;

	memcpy(&u, &d, 8);
	return u;
}

static void heartbeat_carries_metric_snapshot(void **state)
{
	struct hb_config cfg = fx_config("hb", 4);
	const struct hb_rec_hb *b;
	const struct hb_rec *r;
	const uint64_t *m;
	int c, g, t, h;
	struct fx f;

	fx_open(&f, *(const enum fx_kind *)*state, &cfg);
	c = hb_metric_register(f.p, "reqs", HB_METRIC_COUNTER);
	g = hb_metric_register(f.p, "temp", HB_METRIC_GAUGE);
	t = hb_metric_register(f.p, "lat", HB_METRIC_TIMING);
	h = hb_metric_register(f.p, "db", HB_METRIC_HEALTH);
	assert_int_equal(hb_counter_add(f.p, c, 5), 0);
	assert_int_equal(hb_counter_add(f.p, c, 7), 0);
	assert_int_equal(hb_gauge_set(f.p, g, 21.5), 0);
	assert_int_equal(hb_timing_add(f.p, t, 100), 0);
	assert_int_equal(hb_timing_add(f.p, t, 300), 0);
	assert_int_equal(hb_timing_add(f.p, t, 200), 0);
	assert_int_equal(hb_health_set(f.p, h, HB_HEALTH_DEGRADED), 0);
	assert_int_equal(hb_heartbeat(f.p), 0);

	r = fx_next(&f);
	assert_non_null(r);
	assert_int_equal(r->kind, HB_REC_HEARTBEAT);
	assert_int_equal(r->prio, HB_PRIO_URGENT);
	assert_int_equal(r->seq, 0);
	assert_int_equal(r->len, 56 + 4 * 24);
	b = (const struct hb_rec_hb *)(r + 1);
	assert_int_equal(b->count, 1);
	assert_int_equal(b->status, HB_STATUS_STARTING);
	assert_int_equal(b->interval_ns, 3600ull * 1000000000ull);
	assert_int_equal(b->nmetrics, 4);
	assert_true(b->rt_ns > 0);
	assert_true(atomic_load(&f.v.hdr->last_hb_ns) == b->rt_ns);
	m = (const uint64_t *)(b + 1);
	assert_int_equal(m[0], 12);
	assert_true(m[3] == dbits(21.5));
	assert_int_equal(m[6], 3);
	assert_int_equal(m[7], 600);
	assert_int_equal(m[8], 300);
	assert_int_equal(m[9], HB_HEALTH_DEGRADED);
	fx_close(&f);
}

static void tick_emits_first_heartbeat_then_waits_for_interval(void **state)
{
	struct hb_config cfg = fx_config("tick", 4);
	const struct hb_rec_hb *b;
	const struct hb_rec *r;
	struct fx f;

	fx_open(&f, *(const enum fx_kind *)*state, &cfg); /* interval: 1 hour */
	assert_int_equal(hb_tick(f.p), 1);
	assert_int_equal(hb_tick(f.p), 0);
	assert_int_equal(hb_tick(f.p), 0);
	assert_int_equal(hb_heartbeat(f.p), 0); /* explicit: always */
	hb_status_set(f.p, HB_STATUS_DEGRADED);
	assert_int_equal(atomic_load(&f.v.hdr->hb_status), HB_STATUS_DEGRADED);
	assert_int_equal(hb_heartbeat(f.p), 0);

	r = fx_next(&f);
	b = (const struct hb_rec_hb *)(r + 1);
	assert_int_equal(b->count, 1);
	assert_int_equal(b->status, HB_STATUS_STARTING);
	r = fx_next(&f);
	b = (const struct hb_rec_hb *)(r + 1);
	assert_int_equal(b->count, 2);
	assert_int_equal(b->status, HB_STATUS_OK);
	r = fx_next(&f);
	b = (const struct hb_rec_hb *)(r + 1);
	assert_int_equal(r->seq, 2);
	assert_int_equal(b->count, 3);
	assert_int_equal(b->status, HB_STATUS_DEGRADED);
	assert_null(fx_next(&f));
	fx_close(&f);
}

static void tick_fires_again_after_interval(void **state)
{
	struct hb_config cfg = fx_config("tick", 4);
	struct timespec nap = {0, 30 * 1000000};
	struct fx f;

	cfg.interval_ms = 10;
	fx_open(&f, *(const enum fx_kind *)*state, &cfg);
	assert_int_equal(hb_tick(f.p), 1);
	nanosleep(&nap, NULL); /* 30 ms > 10 ms: due for sure */
	assert_int_equal(hb_tick(f.p), 1);
	assert_int_equal(fx_drain(&f), 2);
	fx_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_BOTH(type_registration_is_idempotent),
		FX_BOTH(type_redefinition_is_eexist),
		FX_BOTH(type_registration_rejects_bad_definitions),
		FX_BOTH(type_registration_is_enospc_past_max),
		FX_BOTH(metric_registration_is_idempotent),
		FX_BOTH(metric_registration_is_enospc_past_max),
		FX_BOTH(hot_path_rejects_bad_arguments),
		FX_BOTH(heartbeat_carries_metric_snapshot),
		FX_BOTH(tick_emits_first_heartbeat_then_waits_for_interval),
		FX_BOTH(tick_fires_again_after_interval),
	};
	return FX_RUN("producer_register", tests);
}
