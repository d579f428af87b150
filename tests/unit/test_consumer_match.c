/* SPDX-License-Identifier: MIT */
/* Consumer API: each handler sees exactly the records its kinds and globs
 * match, in order, and nothing else. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hb_consumer.h"

#define SEEN_MAX 64

struct seen {
	int n;
	uint64_t seq[SEEN_MAX];
};

static int record_seq(void *ctx, const struct hb_rd_record *rec)
{
	struct seen *s = ctx;

	assert_true(s->n < SEEN_MAX);
	s->seq[s->n++] = rec->seq;
	return 0;
}

static struct hb_rd_type t_order = {.name = "load.order"};
static struct hb_rd_type t_fill = {.name = "load.fill"};
static struct hb_rd_type t_other = {.name = "app.login"};
static struct hb_rd_producer p_load = {.p = 1, .name = "load-0"};
static struct hb_rd_producer p_app = {.p = 2, .name = "app"};

static struct hb_rd_record mk(enum hb_rd_kind kind, const struct hb_rd_producer *p,
			      const struct hb_rd_type *t, const char *bus_kind, uint64_t seq)
{
	struct hb_rd_record r;

	memset(&r, 0, sizeof(r));
	r.kind = kind;
	r.producer = p;
	r.type = t;
	r.bus_kind = bus_kind;
	r.seq = seq;
	r.ts_ns = 1000 + seq;
	return r;
}

/* seq numbers double as record identities in this stream */
static void feed(struct hb_consumer *c)
{
	struct hb_rd_record recs[] = {
		mk(HB_RD_HEADER, NULL, NULL, NULL, 0),
		mk(HB_RD_EVENT, &p_load, &t_order, NULL, 1),
		mk(HB_RD_EVENT, &p_load, &t_fill, NULL, 2),
		mk(HB_RD_HEARTBEAT, &p_load, NULL, NULL, 3),
		mk(HB_RD_EVENT, &p_app, &t_other, NULL, 4),
		mk(HB_RD_BUS, &p_load, NULL, "gap", 5),
		mk(HB_RD_BUS, &p_app, NULL, "state", 6),
		mk(HB_RD_HEARTBEAT, &p_app, NULL, NULL, 7),
		mk(HB_RD_EVENT, &p_app, &t_order, NULL, 8),
		mk(HB_RD_BUS, NULL, NULL, "collector", 9),
		mk(HB_RD_EVENT, &p_load, NULL, NULL, 10), /* unknown type id */
	};
	size_t i;

	for (i = 0; i < sizeof(recs) / sizeof(recs[0]); i++)
		hb_consumer_dispatch(c, &recs[i]);
}

static void assert_seen(const struct seen *s, const uint64_t *want, int n)
{
	int i;

	if (s->n != n) {
		for (i = 0; i < s->n; i++)
			fprintf(stderr, "seen[%d] = %llu\n", i, (unsigned long long)s->seq[i]);
	}
	assert_int_equal(s->n, n);
	for (i = 0; i < n; i++)
		assert_int_equal(s->seq[i], want[i]);
}

static void test_globs_select_exactly(void **state)
{
	struct seen load = {0}, all_ev = {0}, hb = {0}, bus_state = {0}, bus_all = {0},
		    app_any = {0}, fills = {0};
	struct hb_handler_spec app_spec = {
		.kinds = HB_ON_EVENT | HB_ON_HEARTBEAT | HB_ON_BUS,
		.producer = "app*",
		.fn = record_seq,
		.ctx = &app_any,
	};
	struct hb_handler_spec fill_spec = {
		.kinds = HB_ON_EVENT, .glob = "*.fill", .producer = "load-?", .fn = record_seq,
		.ctx = &fills};
	struct hb_handler_stats st;
	struct hb_consumer *c;

	(void)state;
	assert_int_equal(hb_consumer_new(&c, NULL), 0);
	assert_int_equal(hb_consumer_on_event(c, "load.*", record_seq, &load), 0);
	assert_int_equal(hb_consumer_on_event(c, NULL, record_seq, &all_ev), 1);
	assert_int_equal(hb_consumer_on_heartbeat(c, record_seq, &hb), 2);
	assert_int_equal(hb_consumer_on_bus(c, "state", record_seq, &bus_state), 3);
	assert_int_equal(hb_consumer_on_bus(c, "*", record_seq, &bus_all), 4);
	assert_int_equal(hb_consumer_add(c, &app_spec), 5);
	assert_int_equal(hb_consumer_add(c, &fill_spec), 6);
	assert_int_equal(hb_consumer_count(c), 7);
	feed(c);

	assert_seen(&load, (uint64_t[]){1, 2, 8}, 3);
	assert_seen(&all_ev, (uint64_t[]){1, 2, 4, 8, 10}, 5);
	assert_seen(&hb, (uint64_t[]){3, 7}, 2);
	assert_seen(&bus_state, (uint64_t[]){6}, 1);
	assert_seen(&bus_all, (uint64_t[]){5, 6, 9}, 3);
	assert_seen(&app_any, (uint64_t[]){4, 6, 7, 8}, 4);
	assert_seen(&fills, (uint64_t[]){2}, 1);

	assert_int_equal(hb_consumer_stats(c, 0, &st), 0);
	assert_string_equal(st.name, "load.*");
	assert_int_equal(st.calls, 3);
	assert_int_equal(st.failures, 0);
	assert_int_equal(st.skipped, 0);
	assert_int_equal(st.state, HB_BREAKER_CLOSED);
	assert_int_equal(hb_consumer_stats(c, 7, &st), -EINVAL);
	hb_consumer_free(c);
}

static void test_bad_specs_rejected(void **state)
{
	struct hb_handler_spec none = {.kinds = HB_ON_EVENT};
	struct hb_handler_spec nokind = {.fn = record_seq};
	struct hb_handler_spec badkind = {.kinds = 0x80, .fn = record_seq};
	struct hb_consumer *c;

	(void)state;
	assert_int_equal(hb_consumer_new(&c, NULL), 0);
	assert_int_equal(hb_consumer_add(c, &none), -EINVAL);
	assert_int_equal(hb_consumer_add(c, &nokind), -EINVAL);
	assert_int_equal(hb_consumer_add(c, &badkind), -EINVAL);
	assert_int_equal(hb_consumer_count(c), 0);
	hb_consumer_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_globs_select_exactly),
		cmocka_unit_test(test_bad_specs_rejected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
