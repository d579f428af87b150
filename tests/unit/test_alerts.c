/* SPDX-License-Identifier: MIT */
/* Alert rules: parsing, firing and clearing with hysteresis, per producer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alerts.h"

#define SEC 1000000000ull

struct log {
	int n;
	struct {
		char name[64];
		uint32_t p;
		int fired;
		double value;
		char why[16];
	} ev[16];
};

static void on_alert(void *ctx, const struct hbc_alert_event *ev)
{
	struct log *l = ctx;

	if (l->n >= 16)
		return;
	snprintf(l->ev[l->n].name, sizeof(l->ev[0].name), "%s", ev->rule->name);
	l->ev[l->n].p = ev->p;
	l->ev[l->n].fired = ev->fired;
	l->ev[l->n].value = ev->value;
	snprintf(l->ev[l->n].why, sizeof(l->ev[0].why), "%s", ev->why ? ev->why : "");
	l->n++;
}

static void test_parse_good(void **state)
{
	struct hbc_alert_rule r;
	char err[128];

	(void)state;
	assert_int_equal(hbc_alert_parse("errors rate app.errors > 5", &r, err, sizeof(err)), 0);
	assert_string_equal(r.name, "errors");
	assert_int_equal(r.kind, HBC_ALERT_RATE);
	assert_string_equal(r.metric, "app.errors");
	assert_true(r.fire == 5 && r.clear == 4);
	assert_string_equal(r.producer, "*");
	assert_string_equal(r.text, "rate app.errors > 5");
	assert_int_equal(hbc_alert_parse("full fill > 90% clear 50% producer gw-*", &r, err,
					sizeof(err)),
			 0);
	assert_int_equal(r.kind, HBC_ALERT_FILL);
	assert_true(r.fire == 0.9 && r.clear == 0.5);
	assert_string_equal(r.producer, "gw-*");
	assert_int_equal(hbc_alert_parse("  down state dead\n", &r, err, sizeof(err)), 0);
	assert_int_equal(r.kind, HBC_ALERT_STATE);
	assert_int_equal(r.state, HB_STATE_DEAD);
	assert_string_equal(r.text, "state dead");
}

static void test_parse_bad(void **state)
{
	struct hbc_alert_rule r;
	char err[128];

	(void)state;
	assert_int_equal(hbc_alert_parse("", &r, err, sizeof(err)), -EINVAL);
	assert_int_equal(hbc_alert_parse("x rate m < 5", &r, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "expected '>' after the metric");
	assert_int_equal(hbc_alert_parse("x fill > 150%", &r, err, sizeof(err)), -EINVAL);
	assert_int_equal(hbc_alert_parse("x state sleepy", &r, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "state must be late or dead, not 'sleepy'");
	assert_int_equal(hbc_alert_parse("x rate m > 5 clear 9", &r, err, sizeof(err)), -EINVAL);
	assert_int_equal(hbc_alert_parse("x rate m > 5 bogus 1", &r, err, sizeof(err)), -EINVAL);
	assert_int_equal(hbc_alert_parse("x rate m > 5 clear", &r, err, sizeof(err)), -EINVAL);
	assert_int_equal(hbc_alert_parse("b/d fill > 5%", &r, err, sizeof(err)), -EINVAL);
	assert_int_equal(hbc_alert_parse("x frobnicate", &r, err, sizeof(err)), -EINVAL);
}

static void test_rate_fires_and_clears_with_hysteresis(void **state)
{
	struct hbc_alerts a = {0};
	struct log log = {0};
	char err[128];
	const char *names[] = {"app.errors", "app.reqs"};
	uint64_t vals[2] = {0, 0};
	struct hbc_alert_input in = {.p = 1, .producer = "gw", .fill = -1,
				    .state = HB_STATE_HEALTHY, .ncounters = 2,
				    .counter_names = names, .counters = vals};
	/* errors per second at each 1 s heartbeat */
	const uint64_t per_s[] = {0, 3, 10, 6, 4, 4, 9};
	const int expect_n[] = {0, 0, 1, 1, 2, 2, 3};
	unsigned i;

	(void)state;
	assert_int_equal(hbc_alerts_add(&a, "errors rate app.errors > 5", err, sizeof(err)), 0);
	for (i = 0; i < sizeof(per_s) / sizeof(per_s[0]); i++) {
		vals[0] += per_s[i];
		in.ts_ns = (i + 1) * SEC;
		hbc_alerts_eval(&a, &in, on_alert, &log);
		assert_int_equal(log.n, expect_n[i]);
	}
	assert_int_equal(log.ev[0].fired, 1);
	assert_true(log.ev[0].value == 10);
	assert_int_equal(log.ev[1].fired, 0); /* 6 is above the clear level 4 */
	assert_true(log.ev[1].value == 4);
	assert_string_equal(log.ev[1].why, "below");
	assert_int_equal(log.ev[2].fired, 1);
	assert_int_equal(hbc_alerts_active(&a, 0, 0), 1);
	hbc_alerts_free(&a);
}

static void test_instances_are_per_producer(void **state)
{
	struct hbc_alerts a = {0};
	struct log log = {0};
	char err[128];
	struct hbc_alert_input in = {.fill = 0.95, .state = HB_STATE_HEALTHY};

	(void)state;
	assert_int_equal(hbc_alerts_add(&a, "full fill > 80% producer gw-*", err, sizeof(err)), 0);
	in.p = 1, in.producer = "gw-1";
	hbc_alerts_eval(&a, &in, on_alert, &log);
	in.p = 2, in.producer = "db-1";
	hbc_alerts_eval(&a, &in, on_alert, &log);
	in.p = 3, in.producer = "gw-2", in.fill = 0.5;
	hbc_alerts_eval(&a, &in, on_alert, &log);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.ev[0].p, 1);
	assert_int_equal(hbc_alerts_active(&a, 1, 1), 1);
	assert_int_equal(hbc_alerts_active(&a, 1, 3), 0);
	/* producer 1 goes away: its alert clears as gone */
	hbc_alerts_forget(&a, 1, "gw-1", on_alert, &log);
	assert_int_equal(log.n, 2);
	assert_int_equal(log.ev[1].fired, 0);
	assert_string_equal(log.ev[1].why, "gone");
	assert_int_equal(hbc_alerts_active(&a, 0, 0), 0);
	hbc_alerts_free(&a);
}

static void test_state_rule(void **state)
{
	struct hbc_alerts a = {0};
	struct log log = {0};
	char err[128];
	struct hbc_alert_input in = {.p = 7, .producer = "x", .fill = -1};
	const enum hb_state seq[] = {HB_STATE_HEALTHY, HB_STATE_LATE, HB_STATE_DEAD,
					  HB_STATE_HEALTHY, HB_STATE_LATE, HB_STATE_EXITED};
	unsigned i;

	(void)state;
	assert_int_equal(hbc_alerts_add(&a, "slow state late", err, sizeof(err)), 0);
	assert_int_equal(hbc_alerts_add(&a, "down state dead", err, sizeof(err)), 0);
	for (i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		in.state = seq[i];
		hbc_alerts_eval(&a, &in, on_alert, &log);
	}
	/* slow fires, down fires, slow+down clear (healthy), slow fires, clears (exited) */
	assert_int_equal(log.n, 6);
	assert_string_equal(log.ev[0].name, "slow");
	assert_int_equal(log.ev[0].fired, 1);
	assert_string_equal(log.ev[1].name, "down");
	assert_int_equal(log.ev[1].fired, 1);
	assert_int_equal(log.ev[2].fired, 0);
	assert_string_equal(log.ev[2].why, "healthy");
	assert_int_equal(log.ev[3].fired, 0);
	assert_string_equal(log.ev[4].name, "slow");
	assert_int_equal(log.ev[4].fired, 1);
	assert_string_equal(log.ev[5].why, "exited");
	hbc_alerts_free(&a);
}

/* A '#' that starts a word starts a comment, in --alert and in files; a
 * '#' inside a word (a glob) is kept. */
static void test_trailing_comment_is_ignored(void **state)
{
	struct hbc_alert_rule r;
	char err[128];

	(void)state;
	assert_int_equal(hbc_alert_parse("ring_full fill > 90%   # clears at 72%", &r, err,
					sizeof(err)), 0);
	assert_int_equal(r.kind, HBC_ALERT_FILL);
	assert_string_equal(r.text, "fill > 90%");
	assert_int_equal(hbc_alert_parse("down state dead producer gw#1\t#tab", &r, err,
					sizeof(err)), 0);
	assert_string_equal(r.producer, "gw#1");
	assert_string_equal(r.text, "state dead producer gw#1");
	assert_int_equal(hbc_alert_parse("# nothing", &r, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "empty rule");
}

/* A crash keeps a state rule firing (or fires it); backlogged clears it
 * and says so. */
static void test_state_rule_crashed_and_backlogged(void **state)
{
	struct hbc_alerts a = {0};
	struct log log = {0};
	char err[128];
	struct hbc_alert_input in = {.p = 7, .producer = "x", .fill = -1};
	const enum hb_state seq[] = {HB_STATE_HEALTHY, HB_STATE_DEAD, HB_STATE_CRASHED};

	(void)state;
	assert_int_equal(hbc_alerts_add(&a, "down state dead", err, sizeof(err)), 0);
	for (unsigned i = 0; i < 3; i++) {
		in.state = seq[i];
		hbc_alerts_eval(&a, &in, on_alert, &log);
	}
	assert_int_equal(log.n, 1); /* fired at dead, still active when crashed */
	assert_int_equal(log.ev[0].fired, 1);
	assert_int_equal(hbc_alerts_active(&a, 1, 7), 1);
	in.p = 8; /* crashed before any check saw it dead: fires at once */
	hbc_alerts_eval(&a, &in, on_alert, &log);
	assert_int_equal(log.n, 2);
	assert_int_equal(log.ev[1].fired, 1);
	in.p = 7;
	in.state = HB_STATE_BACKLOGGED; /* (not reachable from crashed; the rule alone) */
	hbc_alerts_eval(&a, &in, on_alert, &log);
	assert_int_equal(log.n, 3);
	assert_int_equal(log.ev[2].fired, 0);
	assert_string_equal(log.ev[2].why, "backlogged");
	hbc_alerts_free(&a);
}

static void test_load_file(void **state)
{
	char path[] = "/tmp/hb-alerts-XXXXXX", err[256];
	struct hbc_alerts a = {0};
	FILE *f;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("# rules\n\nerrors rate app.errors > 5\n  down state dead   # dead or crashed\n"
	      "   # indented comment\n",
	      f);
	fclose(f);
	assert_int_equal(hbc_alerts_load(&a, path, err, sizeof(err)), 0);
	assert_int_equal(a.nrules, 2);
	assert_string_equal(a.rules[1].text, "state dead"); /* the comment is not part of it */
	f = fopen(path, "a");
	fputs("oops fill > x\n", f);
	fclose(f);
	assert_int_equal(hbc_alerts_load(&a, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":6: bad percentage 'x'"));
	unlink(path);
	hbc_alerts_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_rate_fires_and_clears_with_hysteresis),
		cmocka_unit_test(test_instances_are_per_producer),
		cmocka_unit_test(test_state_rule),
		cmocka_unit_test(test_trailing_comment_is_ignored),
		cmocka_unit_test(test_state_rule_crashed_and_backlogged),
		cmocka_unit_test(test_load_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
