/* SPDX-License-Identifier: MIT */
/* Records written by the producer come out of the consumer view byte for
 * byte, across offset wraparound and across wraparound of the free-running
 * 64-bit indices. */
#include "test_ring_fixture.h"

static const struct hb_field all_fields[] = {
	{"i", HB_T_I64}, {"u", HB_T_U64},  {"d", HB_T_F64},
	{"b", HB_T_BOOL}, {"s", HB_T_STR}, {"y", HB_T_BYTES},
};

static void check_event(const struct hb_rec *r, unsigned type, unsigned prio, uint64_t seq,
			struct hb_event_view *ev)
{
	assert_non_null(r);
	assert_int_equal(r->kind, HB_REC_EVENT);
	assert_int_equal(r->type, type);
	assert_int_equal(r->prio, prio);
	assert_int_equal(r->seq, seq);
	assert_int_equal(r->len % 8, 0);
	assert_int_equal(hb_event_decode(r, ev), 0);
}

static void records_round_trip_with_exact_content(void **state)
{
	struct hb_config cfg = fx_config("rt", 64);
	static const uint8_t blob[5] = {0, 1, 0xfe, 0xff, 7};
	struct hb_event_view ev;
	struct fx f;
	int t;

	fx_open(&f, *(const enum fx_kind *)*state, &cfg);
	t = hb_type_register(f.p, "rt.all", all_fields, 6);
	assert_int_equal(t, 0);
	assert_int_equal(hb_event(f.p, t, HB_PRIO_HIGH, 42, HB_I64(-5), HB_U64(UINT64_MAX),
				  HB_F64(-2.5), HB_BOOL(1), HB_STR("hello"), HB_BYTES(blob, 5)),
			 0);
	assert_int_equal(hb_event(f.p, t, HB_PRIO_LOW, 0, HB_I64(INT64_MIN), HB_U64(0),
				  HB_F64(1e300), HB_BOOL(0), HB_STR(""), HB_BYTES(blob, 0)),
			 0);

	check_event(fx_next(&f), t, HB_PRIO_HIGH, 0, &ev);
	assert_int_equal(ev.req, 42);
	assert_int_equal(ev.nfields, 6);
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(ev.tags[i], all_fields[i].tag);
	assert_int_equal((int64_t)ev.vals[0], -5);
	assert_true(ev.vals[1] == UINT64_MAX);
	double d;
	memcpy(&d, &ev.vals[2], 8);
	assert_true(d == -2.5);
	assert_int_equal(ev.vals[3], 1);
	assert_int_equal(ev.vals[4], 5);
	assert_memory_equal(ev.ptrs[4], "hello", 5);
	assert_int_equal(ev.vals[5], 5);
	assert_memory_equal(ev.ptrs[5], blob, 5);

	check_event(fx_next(&f), t, HB_PRIO_LOW, 1, &ev);
	assert_int_equal(ev.req, 0);
	assert_true((int64_t)ev.vals[0] == INT64_MIN);
	assert_int_equal(ev.vals[1], 0);
	memcpy(&d, &ev.vals[2], 8);
	assert_true(d == 1e300);
	assert_int_equal(ev.vals[3], 0);
	assert_int_equal(ev.vals[4], 0);
	assert_int_equal(ev.vals[5], 0);

	assert_null(fx_next(&f));
	assert_int_equal(atomic_load(&f.p->hdr->seq), 2);
	fx_close(&f);
}

static void events_without_fields_round_trip(void **state)
{
	struct hb_config cfg = fx_config("rt", 64);
	struct hb_event_view ev;
	struct fx f;
	int t;

	fx_open(&f, *(const enum fx_kind *)*state, &cfg);
	t = hb_type_register(f.p, "rt.none", NULL, 0);
	assert_int_equal(t, 0);
	assert_int_equal(hb_event_emit(f.p, t, HB_PRIO_URGENT, 7, NULL, 0), 0);
	check_event(fx_next(&f), t, HB_PRIO_URGENT, 0, &ev);
	assert_int_equal(ev.req, 7);
	assert_int_equal(ev.nfields, 0);
	fx_close(&f);
}

static void fill(char *buf, size_t n, unsigned salt)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)('a' + (i * 7 + salt) % 26);
	buf[n] = 0;
}

static void strings_up_to_str_max_round_trip(void **state)
{
	/* every length up to 17 (the short copies), then longer ones */
	static const unsigned lens[] = {0,  1,  2,  3,   4,   5,   6,   7,   8,   9,   10,
					11, 12, 13, 14, 15, 16, 17, 100, HB_STR_MAX - 1, HB_STR_MAX};
	static const struct hb_field f2[] = {{"s", HB_T_STR}, {"y", HB_T_BYTES}};
	struct hb_config cfg = fx_config("rt", 64);
	static char s[HB_STR_MAX + 1], y[HB_STR_MAX + 1];
	struct hb_event_view ev;
	struct fx f;
	int t;

	fx_open(&f, *(const enum fx_kind *)*state, &cfg);
	t = hb_type_register(f.p, "rt.str", f2, 2);
	for (unsigned i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		fill(s, lens[i], i);
		fill(y, lens[i], i + 1);
		assert_int_equal(hb_event(f.p, t, HB_PRIO_NORMAL, i, HB_STR(s), HB_BYTES(y, lens[i])),
				 0);
		check_event(fx_next(&f), t, HB_PRIO_NORMAL, i, &ev);
		assert_int_equal(ev.vals[0], lens[i]);
		assert_int_equal(ev.vals[1], lens[i]);
		assert_memory_equal(ev.ptrs[0], s, lens[i]);
		assert_memory_equal(ev.ptrs[1], y, lens[i]);
	}
	fx_close(&f);
}

static void strings_past_str_max_are_truncated(void **state)
{
	static const unsigned lens[] = {HB_STR_MAX + 1, HB_STR_MAX + 7, 5000};
	static const struct hb_field f2[] = {{"s", HB_T_STR}, {"y", HB_T_BYTES}};
	struct hb_config cfg = fx_config("rt", 64);
	static char s[5001], y[5001];
	struct hb_event_view ev;
	struct fx f;
	int t;

	fx_open(&f, *(const enum fx_kind *)*state, &cfg);
	t = hb_type_register(f.p, "rt.str", f2, 2);
	for (unsigned i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		fill(s, lens[i], i);
		fill(y, lens[i], i + 3);
		assert_int_equal(hb_event(f.p, t, HB_PRIO_NORMAL, i, HB_STR(s), HB_BYTES(y, lens[i])),
				 0);
		check_event(fx_next(&f), t, HB_PRIO_NORMAL, i, &ev);
		assert_int_equal(ev.vals[0], HB_STR_MAX);
		assert_int_equal(ev.vals[1], HB_STR_MAX);
		assert_memory_equal(ev.ptrs[0], s, HB_STR_MAX);
		assert_memory_equal(ev.ptrs[1], y, HB_STR_MAX);
	}
	fx_close(&f);
}

/* Event n carries a string of n % 61 characters: sizes 48 to 112 bytes. */
static int emit_n(struct hb_producer *p, int t, uint64_t n)
{
	char s[64];

	fill(s, n % 61, (unsigned)n);
	return hb_event(p, t, (unsigned)(n % 4), n + 1, HB_U64(n), HB_STR(s));
}

static void check_n(const struct hb_rec *r, int t, uint64_t n)
{
	struct hb_event_view ev;
	char s[64];

	fill(s, n % 61, (unsigned)n);
	check_event(r, t, (unsigned)(n % 4), n, &ev);
	assert_int_equal(ev.req, n + 1);
	assert_int_equal(ev.vals[0], n);
	assert_int_equal(ev.vals[1], n % 61);
	assert_memory_equal(ev.ptrs[1], s, n % 61);
}

/* Writes batches of events and reads them back until laps laps of the
 * data area are done. Returns how many times the read offset went back to
 * the start of the data area; *pad_bytes gets the bytes skipped as pads. */
static unsigned run_laps(struct fx *f, int t, unsigned laps, uint64_t *pad_bytes)
{
	uint64_t start = f->v.cursor, n = 0, next = 0, rec_bytes = 0;
	uint32_t last_off = 0;
	unsigned wraps = 0;
	while (f->v.cursor - start < (uint64_t)laps * f->v.size) {
		unsigned batch = 1 + (unsigned)(n % 23);

		for (unsigned i = 0; i < batch; i++, n++)
			assert_int_equal(emit_n(f->p, t, n), 0);
		for (const struct hb_rec *r; (r = fx_next(f)); next++) {
			uint32_t off = (uint32_t)((const uint8_t *)r - f->v.data);

			if (off < last_off)
				wraps++;
			last_off = off;
			rec_bytes += r->len;
			check_n(r, t, next);
		}
		assert_int_equal(next, n);
		hb_ring_view_release(&f->v, f->v.cursor);
	}
	assert_int_equal(atomic_load(&f->p->hdr->dropped), 0);
	*pad_bytes = f->v.cursor - start - rec_bytes;
	return wraps;
}

static void index_wraps_around_small_ring_with_pads(void **state)
{
	static const struct hb_field fs[] = {{"n", HB_T_U64}, {"s", HB_T_STR}};
	struct hb_config cfg = fx_config("lap", 4);
	uint64_t pad;
	struct fx f;
	int t;

	fx_open(&f, *(const enum fx_kind *)*state, &cfg);
	assert_int_equal(f.v.size, 4096);
	t = hb_type_register(f.p, "lap.ev", fs, 2);
	assert_true(run_laps(&f, t, 300, &pad) >= 299);
	assert_true(pad > 0 && pad % 8 == 0);
	assert_true(atomic_load(&f.p->hdr->head) >= 300u * 4096);
	fx_close(&f);
}

static void free_running_indices_wrap_past_uint64_max(void **state)
{
	static const struct hb_field fs[] = {{"n", HB_T_U64}, {"s", HB_T_STR}};
	struct hb_config cfg = fx_config("u64", 4);
	uint64_t start = (UINT64_MAX - 100) & ~7ull; /* records are 8-aligned */
	uint64_t pad;
	struct fx f;
	int t;

	fx_open_at(&f, *(const enum fx_kind *)*state, &cfg, start);
	assert_true(f.v.cursor == start);
	t = hb_type_register(f.p, "u64.ev", fs, 2);
	assert_true(run_laps(&f, t, 20, &pad) >= 19);
	assert_true(pad > 0);
	/* the indices went past 2^64 and came back around through zero */
	assert_true(atomic_load(&f.p->hdr->head) < start);
	assert_true(atomic_load(&f.p->hdr->tail) < start);
	assert_true(atomic_load(&f.p->hdr->head) >= 19u * 4096);
	fx_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_BOTH(records_round_trip_with_exact_content),
		FX_BOTH(events_without_fields_round_trip),
		FX_BOTH(strings_up_to_str_max_round_trip),
		FX_BOTH(strings_past_str_max_are_truncated),
		FX_BOTH(index_wraps_around_small_ring_with_pads),
		FX_BOTH(free_running_indices_wrap_past_uint64_max),
	};
	return FX_RUN("ring_roundtrip", tests);
}
