/* SPDX-License-Identifier: MIT */
/* Consumer API circuit breaker: N failures in a row open it, matching
 * records are skipped (counted) during the cooldown, a successful trial
 * afterwards closes it, a failed trial opens it again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "hb_consumer.h"

#define SEC 1000000000ull

struct flaky {
	int fail; /* 1: return -EIO */
	int calls;
};

static int flaky_fn(void *ctx, const struct hb_rd_record *rec)
{
	struct flaky *f = ctx;

	(void)rec;
	f->calls++;
	return f->fail ? -EIO : 0;
}

static uint64_t fake_now;

static uint64_t fake_clock(void *ctx)
{
	(void)ctx;
	return fake_now;
}

static struct hb_rd_type t_x = {.name = "x"};
static struct hb_rd_producer prod = {.p = 1, .name = "p"};

static void send_rec(struct hb_consumer *c, uint64_t ts)
{
	struct hb_rd_record r;

	memset(&r, 0, sizeof(r));
	r.kind = HB_RD_EVENT;
	r.producer = &prod;
	r.type = &t_x;
	r.ts_ns = ts;
	hb_consumer_dispatch(c, &r);
}

static struct hb_handler_stats stats(struct hb_consumer *c, int id)
{
	struct hb_handler_stats st;

	assert_int_equal(hb_consumer_stats(c, id, &st), 0);
	return st;
}

static void test_breaker_opens_skips_closes(void **state)
{
	struct hb_consumer_opts o = {
		.fail_max = 3, .cooldown_ns = 10 * SEC, .clock = fake_clock};
	struct flaky f = {.fail = 1}, ok = {0};
	struct hb_handler_stats st;
	struct hb_consumer *c;
	int id, i;

	(void)state;
	fake_now = 100 * SEC;
	assert_int_equal(hb_consumer_new(&c, &o), 0);
	id = hb_consumer_on_event(c, "*", flaky_fn, &f);
	assert_int_equal(hb_consumer_on_event(c, "x", flaky_fn, &ok), 1);

	/* two failures: still closed */
	send_rec(c, 0);
	send_rec(c, 0);
	st = stats(c, id);
	assert_int_equal(st.state, HB_BREAKER_CLOSED);
	assert_int_equal(st.consecutive, 2);
	/* third failure opens it */
	send_rec(c, 0);
	st = stats(c, id);
	assert_int_equal(st.state, HB_BREAKER_OPEN);
	assert_int_equal(st.failures, 3);
	assert_int_equal(st.opened, 1);
	assert_int_equal(st.last_error, -EIO);
	assert_int_equal(st.open_until_ns, 110 * SEC);

	/* during the cooldown: skipped and counted, never called */
	for (i = 0; i < 5; i++) {
		fake_now += SEC;
		send_rec(c, 0);
	}
	st = stats(c, id);
	assert_int_equal(f.calls, 3);
	assert_int_equal(st.calls, 3);
	assert_int_equal(st.skipped, 5);
	assert_int_equal(st.state, HB_BREAKER_OPEN);
	/* the healthy handler saw every record */
	assert_int_equal(ok.calls, 8);
	assert_int_equal(stats(c, 1).skipped, 0);

	/* after the cooldown, a failed trial re-opens for another cooldown */
	fake_now = 110 * SEC;
	send_rec(c, 0);
	st = stats(c, id);
	assert_int_equal(f.calls, 4);
	assert_int_equal(st.state, HB_BREAKER_OPEN);
	assert_int_equal(st.opened, 2);
	assert_int_equal(st.open_until_ns, 120 * SEC);
	fake_now = 119 * SEC;
	send_rec(c, 0);
	assert_int_equal(stats(c, id).skipped, 6);

	/* a successful trial closes it and resets the run of failures */
	f.fail = 0;
	fake_now = 120 * SEC;
	send_rec(c, 0);
	st = stats(c, id);
	assert_int_equal(st.state, HB_BREAKER_CLOSED);
	assert_int_equal(st.consecutive, 0);
	assert_int_equal(st.failures, 4);
	assert_int_equal(st.calls, 5);
	send_rec(c, 0);
	assert_int_equal(stats(c, id).calls, 6);
	assert_int_equal(stats(c, id).skipped, 6);
	assert_string_equal(hb_breaker_state_name(st.state), "closed");
	hb_consumer_free(c);
}

static void test_success_resets_the_run(void **state)
{
	struct hb_consumer_opts o = {.fail_max = 2, .cooldown_ns = SEC, .clock = fake_clock};
	struct flaky f = {0};
	struct hb_consumer *c;
	int i;

	(void)state;
	assert_int_equal(hb_consumer_new(&c, &o), 0);
	hb_consumer_on_event(c, NULL, flaky_fn, &f);
	for (i = 0; i < 10; i++) {
		f.fail = i % 2; /* never two failures in a row */
		send_rec(c, 0);
	}
	assert_int_equal(stats(c, 0).state, HB_BREAKER_CLOSED);
	assert_int_equal(stats(c, 0).failures, 5);
	assert_int_equal(stats(c, 0).opened, 0);
	hb_consumer_free(c);
}

/* Without an injected clock the cooldown runs on record timestamps. */
static void test_cooldown_on_record_time(void **state)
{
	struct hb_consumer_opts o = {.fail_max = 1, .cooldown_ns = 5 * SEC};
	struct flaky f = {.fail = 1};
	struct hb_consumer *c;

	(void)state;
	assert_int_equal(hb_consumer_new(&c, &o), 0);
	hb_consumer_on_event(c, "x", flaky_fn, &f);
	send_rec(c, 1000 * SEC);
	assert_int_equal(stats(c, 0).state, HB_BREAKER_OPEN);
	send_rec(c, 1004 * SEC);
	send_rec(c, 1002 * SEC); /* older record: time does not go back */
	assert_int_equal(stats(c, 0).skipped, 2);
	f.fail = 0;
	send_rec(c, 1005 * SEC);
	assert_int_equal(stats(c, 0).state, HB_BREAKER_CLOSED);
	assert_int_equal(f.calls, 2);
	hb_consumer_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_breaker_opens_skips_closes),
		cmocka_unit_test(test_success_resets_the_run),
		cmocka_unit_test(test_cooldown_on_record_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
