/* SPDX-License-Identifier: MIT */
/* hbsink and event batches (fleet messages 2.0): a batch none of which
 * the fleet archive holds is written as it came; of one it holds in part,
 * exactly the events it lacks are written, as batches that read back as
 * the same events (seq, time, values); a bad batch refuses its message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sink.h"
#include "test_reader_fixture.h"

#define HOST "h1"
#define BUS "b1"
#define DT 100 /* ns between events: event seq is at FX_T0 + DT * (seq + 1) */

struct msg {
	struct fx f;
};

static void msg_begin(struct msg *m, unsigned nobj)
{
	fx_init(&m->f);
	msgpack_pack_map(&m->f.pk, 6);
	fx_kv_str(&m->f, "k", "ship");
	fx_kv_str(&m->f, "magic", "hb-ship");
	fx_str(&m->f, "version");
	msgpack_pack_array(&m->f.pk, 2);
	msgpack_pack_int(&m->f.pk, 2);
	msgpack_pack_int(&m->f.pk, 0);
	fx_kv_str(&m->f, "host", HOST);
	fx_kv_str(&m->f, "bus", BUS);
	fx_kv_u64(&m->f, "n", nobj);
	fx_producer(&m->f, "shipped");
}

/* A batch of the events lo..hi at their times (DT apart) */
static void msg_batch(struct msg *m, uint64_t lo, uint64_t hi)
{
	fx_batch(&m->f, lo, FX_T0 + DT * lo, (size_t)(hi - lo + 1));
	for (uint64_t s = lo; s <= hi; s++)
		fx_batch_one(&m->f, DT, s, (int64_t)s * 10);
}

static int msg_apply(struct sink *s, struct msg *m, const char **why)
{
	int rc = sink_apply(s, m->f.sb.data, m->f.sb.size, why);

	fx_free(&m->f);
	return rc;
}

/* A message of one batch lo..hi applied: 0 or what sink_apply said. */
static int apply_batch(struct sink *s, uint64_t lo, uint64_t hi)
{
	struct msg m;
	const char *why = NULL;

	msg_begin(&m, 1);
	msg_batch(&m, lo, hi);
	return msg_apply(s, &m, &why);
}

static struct sink *sink_make(const char *dir)
{
	struct sink_cfg cfg = {.fsync = HBC_FSYNC_NEVER};
	struct sink *s;

	snprintf(cfg.dir, sizeof(cfg.dir), "%s", dir);
	assert_int_equal(sink_open(&s, &cfg), 0);
	return s;
}

/* The fleet tree holds the events 0..n-1 (n <= 64) once each, each at its
 * time with its value, and no damage. */
static void check_events(const char *dir, uint64_t n)
{
	struct fx_damage d = {0};
	struct hb_reader *r;
	struct hb_rd_record rec;
	int seen[64] = {0};
	uint64_t got = 0;

	assert_int_equal(fx_open(&r, dir, 0, &d), 0);
	while (hb_reader_next(r, &rec) == 1) {
		if (rec.kind != HB_RD_EVENT)
			continue;
		assert_true(rec.seq < n);
		assert_int_equal(seen[rec.seq]++, 0);
		assert_true(rec.ts_ns == FX_T0 + DT * (rec.seq + 1));
		assert_int_equal(rec.vals[0].via.i64, (int64_t)rec.seq * 10);
		got++;
	}
	assert_int_equal(got, n);
	assert_int_equal(d.n, 0);
	hb_reader_close(r);
}

static void batches_held_in_part_write_only_what_is_missing(void **state)
{
	char *dir = fx_tmpdir();
	struct sink *s = sink_make(dir);
	struct sink_stats st;

	(void)state;
	assert_int_equal(apply_batch(s, 0, 9), 0);   /* new: written whole */
	assert_int_equal(apply_batch(s, 5, 14), 0);  /* 10..14 new */
	assert_int_equal(apply_batch(s, 3, 7), 0);   /* all held */
	assert_int_equal(apply_batch(s, 16, 18), 0); /* leaves 15 out */
	assert_int_equal(apply_batch(s, 13, 19), 0); /* 15 and 19 new */
	assert_int_equal(sink_flush(s, 1), 0);
	sink_stats(s, &st);
	assert_int_equal(st.records, 20);
	assert_int_equal(st.dups, 5 + 5 + 5);
	sink_close(s);
	check_events(dir, 20);
	fx_rmdir(dir);
}

/* What the sink learns of a tree at its start counts every event of its
 * batches as held. */
static void a_restarted_sink_holds_the_batches_it_wrote(void **state)
{
	char *dir = fx_tmpdir();
	struct sink *s = sink_make(dir);
	struct sink_stats st;

	(void)state;
	assert_int_equal(apply_batch(s, 0, 9), 0);
	assert_int_equal(sink_flush(s, 1), 0);
	sink_close(s);
	s = sink_make(dir);
	assert_int_equal(apply_batch(s, 2, 12), 0);
	assert_int_equal(sink_flush(s, 1), 0);
	sink_stats(s, &st);
	assert_int_equal(st.records, 3);
	assert_int_equal(st.dups, 8);
	sink_close(s);
	check_events(dir, 13);
	fx_rmdir(dir);
}

/* A message whose body holds a bad batch after a good one: refused whole,
 * its reason given, nothing of it written; the sink goes on. */
static void a_bad_batch_refuses_its_whole_message(void **state)
{
	static const struct {
		int kind;
		const char *why;
	} bad[] = {{0, "bad event batch"}, {1, "bad event batch"}, {2, "another producer"}};
	char *dir = fx_tmpdir();
	struct sink *s = sink_make(dir);
	struct sink_stats st;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct msg m;
		const char *why = NULL;

		msg_begin(&m, 2);
		msg_batch(&m, 0, 4);
		if (bad[i].kind == 0) { /* an event that is not an array */
			fx_batch(&m.f, 5, FX_T0, 2);
			fx_batch_one(&m.f, DT, 5, 50);
			msgpack_pack_int(&m.f.pk, 7);
		} else if (bad[i].kind == 1) { /* cut: one event of two */
			fx_batch(&m.f, 5, FX_T0, 2);
			fx_batch_one(&m.f, DT, 5, 50);
		} else { /* producer 8 in a message of producer 7 */
			msgpack_pack_array(&m.f.pk, 5);
			msgpack_pack_int(&m.f.pk, 3);
			msgpack_pack_int(&m.f.pk, FX_P + 1);
			msgpack_pack_int(&m.f.pk, 5);
			fx_ts(&m.f, FX_T0);
			fx_batch_one(&m.f, DT, 5, 50);
		}
		assert_int_equal(msg_apply(s, &m, &why), -EPROTO);
		assert_non_null(why);
		assert_non_null(strstr(why, bad[i].why));
	}
	assert_int_equal(apply_batch(s, 0, 2), 0);
	assert_int_equal(sink_flush(s, 1), 0);
	sink_stats(s, &st);
	assert_int_equal(st.records, 3);
	sink_close(s);
	check_events(dir, 3);
	fx_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(batches_held_in_part_write_only_what_is_missing),
		cmocka_unit_test(a_restarted_sink_holds_the_batches_it_wrote),
		cmocka_unit_test(a_bad_batch_refuses_its_whole_message),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
