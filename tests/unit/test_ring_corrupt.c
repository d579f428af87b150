/* SPDX-License-Identifier: MIT */
/* The consumer treats the ring as untrusted: corrupt headers and records
 * are rejected with a distinct error, the view does not move past them, and
 * nothing outside the data area is ever read. */
#include "test_ring_fixture.h"

static const struct hb_field i64_str[] = {{"n", HB_T_I64}, {"s", HB_T_STR}};

#define EV_LEN 64 /* 24 rec + 16 req/tags + 8 n + 8 len + "abc" padded to 8 */

/* A heap ring holding one valid event (n = 5, s = "abc") at offset 0. */
static struct hb_rec *ring_with_one_event(struct fx *f)
{
	struct hb_config cfg = fx_config("bad", 4);

	fx_open(f, FX_MEM, &cfg);
	hb_type_register(f->p, "bad.ev", i64_str, 2);
	assert_int_equal(hb_event(f->p, 0, HB_PRIO_NORMAL, 9, HB_I64(5), HB_STR("abc")), 0);
	assert_int_equal(atomic_load(&f->p->hdr->head), EV_LEN);
	return (struct hb_rec *)f->p->data;
}

static uint8_t *ev_tags(struct hb_rec *r)
{
	return (uint8_t *)(r + 1) + 8;
}

static uint64_t *ev_slot(struct hb_rec *r, unsigned i)
{
	return (uint64_t *)(r + 1) + 2 + i;
}

/* next fails, twice, and the view has not moved */
static void expect_rejected(struct fx *f)
{
	const struct hb_rec *r = NULL;
	uint64_t cursor = f->v.cursor;

	assert_int_equal(hb_ring_view_next(&f->v, &r), -EBADMSG);
	assert_true(f->v.cursor == cursor);
	assert_int_equal(hb_ring_view_next(&f->v, &r), -EBADMSG);
	assert_true(f->v.cursor == cursor);
	fx_close(f);
}

static void valid_event_is_accepted(void **state)
{
	struct hb_event_view ev;
	struct fx f;

	(void)state;
	ring_with_one_event(&f);
	const struct hb_rec *r = fx_next(&f);
	assert_non_null(r);
	assert_int_equal(hb_rec_check(r, EV_LEN), 0);
	assert_int_equal(hb_event_decode(r, &ev), 0);
	assert_int_equal(ev.nfields, 2);
	assert_memory_equal(ev.ptrs[1], "abc", 3);
	assert_true(f.v.cursor == EV_LEN);
	fx_close(&f);
}

static void rejects_len_not_multiple_of_8(void **state)
{
	struct fx f;

	(void)state;
	ring_with_one_event(&f)->len = EV_LEN - 4;
	expect_rejected(&f);
}

static void rejects_len_below_record_header(void **state)
{
	struct fx f;

	(void)state;
	ring_with_one_event(&f)->len = 16;
	expect_rejected(&f);
}

static void rejects_len_beyond_head(void **state)
{
	struct fx f;

	(void)state;
	ring_with_one_event(&f)->len = EV_LEN + 8;
	expect_rejected(&f);
}

static void rejects_zero_len(void **state)
{
	struct fx f;

	(void)state;
	ring_with_one_event(&f)->len = 0;
	expect_rejected(&f);
}

static void rejects_record_crossing_data_end(void **state)
{
	struct hb_config cfg = fx_config("bad", 4);
	struct hb_rec *r;
	struct fx f;

	(void)state;
	fx_open_at(&f, FX_MEM, &cfg, 4096 - 32);
	r = (struct hb_rec *)(f.p->data + 4096 - 32);
	memset(r, 0, 32);
	r->len = 64;
	r->kind = HB_REC_EVENT;
	atomic_store(&f.p->hdr->head, 4096 - 32 + 64);
	expect_rejected(&f);
}

static void rejects_pad_crossing_data_end(void **state)
{
	struct hb_config cfg = fx_config("bad", 4);
	struct hb_rec *r;
	struct fx f;

	(void)state;
	fx_open_at(&f, FX_MEM, &cfg, 4096 - 16);
	r = (struct hb_rec *)(f.p->data + 4096 - 16);
	r->len = 24;
	r->kind = HB_REC_PAD;
	atomic_store(&f.p->hdr->head, 4096 - 16 + 24);
	expect_rejected(&f);
}

static void pad_records_are_skipped(void **state)
{
	struct hb_config cfg = fx_config("pad", 4);
	const struct hb_rec *r;
	struct fx f;

	fx_open_at(&f, *(const enum fx_kind *)*state, &cfg, 4096 - 16);
	hb_type_register(f.p, "pad.ev", i64_str, 2);
	assert_int_equal(hb_event(f.p, 0, HB_PRIO_NORMAL, 1, HB_I64(1), HB_STR("abc")), 0);
	assert_int_equal(f.p->data[4096 - 16 + 4], HB_REC_PAD);
	r = fx_next(&f);
	assert_non_null(r);
	assert_ptr_equal(r, f.v.data); /* the event starts the data area */
	assert_int_equal(r->seq, 0);
	assert_true(f.v.cursor == 4096 - 16 + 16 + EV_LEN);
	assert_null(fx_next(&f));
	fx_close(&f);
}

static void rejects_unknown_kind(void **state)
{
	struct fx f;

	(void)state;
	ring_with_one_event(&f)->kind = 3;
	expect_rejected(&f);
}

static void rejects_bad_priority(void **state)
{
	struct fx f;

	(void)state;
	ring_with_one_event(&f)->prio = 4;
	expect_rejected(&f);
}

static void rejects_unknown_tag(void **state)
{
	struct fx f;

	(void)state;
	ev_tags(ring_with_one_event(&f))[1] = HB_T_BYTES + 1;
	expect_rejected(&f);
}

static void rejects_tag_after_empty_slot(void **state)
{
	struct fx f;
	uint8_t *tags;

	(void)state;
	tags = ev_tags(ring_with_one_event(&f));
	tags[2] = HB_T_I64; /* tags: i64, str, i64 would overrun; make a hole */
	tags[1] = HB_T_NONE;
	expect_rejected(&f);
}

static void rejects_string_length_overrun(void **state)
{
	struct fx f;

	(void)state;
	*ev_slot(ring_with_one_event(&f), 1) = 9; /* 9 bytes do not fit in 8 */
	expect_rejected(&f);
}

static void rejects_fields_shorter_than_len(void **state)
{
	struct fx f;
	struct hb_rec *r;

	(void)state;
	r = ring_with_one_event(&f);
	*ev_slot(r, 1) = 0; /* the string now ends 8 bytes before len */
	expect_rejected(&f);
}

static void rejects_string_longer_than_str_max(void **state)
{
	uint32_t len = HB_EVENT_FIXED + 8 + 2048;
	struct hb_rec *r = calloc(1, len);

	(void)state;
	r->len = len;
	r->kind = HB_REC_EVENT;
	ev_tags(r)[0] = HB_T_BYTES;
	*ev_slot(r, 0) = 2048;
	assert_int_equal(hb_rec_check(r, len), -EBADMSG);
	*ev_slot(r, 0) = HB_STR_MAX;
	r->len = HB_EVENT_FIXED + 8 + HB_STR_MAX;
	assert_int_equal(hb_rec_check(r, len), 0);
	free(r);
}

static struct hb_rec *ring_with_heartbeat(struct fx *f)
{
	struct hb_config cfg = fx_config("bad", 4);

	fx_open(f, FX_MEM, &cfg);
	hb_metric_register(f->p, "c1", HB_METRIC_COUNTER);
	hb_metric_register(f->p, "c2", HB_METRIC_GAUGE);
	assert_int_equal(hb_heartbeat(f->p), 0);
	return (struct hb_rec *)f->p->data;
}

static void heartbeat_is_accepted(void **state)
{
	struct hb_event_view ev;
	struct fx f;

	(void)state;
	ring_with_heartbeat(&f);
	const struct hb_rec *r = fx_next(&f);
	assert_non_null(r);
	assert_int_equal(r->len, 24 + 32 + 2 * 24);
	assert_int_equal(hb_event_decode(r, &ev), -EBADMSG); /* not an event */
	fx_close(&f);
}

static void rejects_heartbeat_with_inconsistent_nmetrics(void **state)
{
	struct fx f;

	(void)state;
	((struct hb_rec_hb *)(ring_with_heartbeat(&f) + 1))->nmetrics = 3;
	expect_rejected(&f);
}

static void rejects_heartbeat_with_too_many_metrics(void **state)
{
	struct fx f;

	(void)state;
	((struct hb_rec_hb *)(ring_with_heartbeat(&f) + 1))->nmetrics = 1u << 30;
	expect_rejected(&f);
}

static void rejects_head_more_than_size_ahead(void **state)
{
	struct fx f;

	(void)state;
	ring_with_one_event(&f);
	atomic_store(&f.p->hdr->head, 4096 + 8);
	expect_rejected(&f);
}

static void rejects_head_moving_backwards(void **state)
{
	struct fx f;

	(void)state;
	ring_with_one_event(&f);
	assert_non_null(fx_next(&f));
	atomic_store(&f.p->hdr->head, EV_LEN - 8);
	expect_rejected(&f);
}

static void rejects_misaligned_tail(void **state)
{
	struct hb_config cfg = fx_config("bad", 4);
	const struct hb_rec *r;
	struct fx f;

	(void)state;
	fx_open(&f, FX_MEM, &cfg);
	atomic_store(&f.v.hdr->tail, 4);
	atomic_store(&f.v.hdr->head, 4 + 48);
	assert_int_equal(hb_ring_view_init(&f.v, f.mem, f.total), 0);
	assert_int_equal(hb_ring_view_next(&f.v, &r), -EBADMSG);
	assert_true(f.v.cursor == 4);
	atomic_store(&f.v.hdr->tail, 0); /* as the producer left it, for hb_close */
	atomic_store(&f.v.hdr->head, 0);
	fx_close(&f);
}

static void release_ignores_index_past_cursor(void **state)
{
	struct fx f;

	(void)state;
	ring_with_one_event(&f);
	hb_ring_view_release(&f.v, 8); /* nothing read yet */
	assert_int_equal(atomic_load(&f.p->hdr->tail), 0);
	assert_non_null(fx_next(&f));
	hb_ring_view_release(&f.v, EV_LEN);
	assert_int_equal(atomic_load(&f.p->hdr->tail), EV_LEN);
	assert_true(f.v.tail == EV_LEN);
	fx_close(&f);
}

/* A plausible record at d (up to room bytes): right shape most of the
 * time, with random damage. Returns its length field. */
static uint32_t plausible_record(uint8_t *d, uint32_t room, unsigned *seed)
{
	struct hb_rec *r = (struct hb_rec *)d;
	uint32_t len = 24, nf = (uint32_t)rand_r(seed) % 5;

	if (room < 64)
		return 0;
	memset(d, 0, 64);
	r->kind = (uint8_t)(rand_r(seed) % 3);
	r->prio = (uint8_t)(rand_r(seed) % 5);
	if (r->kind == HB_REC_EVENT) {
		len = HB_EVENT_FIXED;
		for (uint32_t i = 0; i < nf && len + 16 <= room; i++) {
			uint64_t l = (uint64_t)(rand_r(seed) % 9);

			ev_tags(r)[i] = (uint8_t)(1 + rand_r(seed) % 6);
			memcpy(d + len, &l, 8);
			len += 8;
			if (ev_tags(r)[i] >= HB_T_STR)
				len += (uint32_t)(l + 7) & ~7u;
		}
	} else if (r->kind == HB_REC_HEARTBEAT) {
		struct hb_rec_hb *b = (struct hb_rec_hb *)(r + 1);

		b->nmetrics = (uint32_t)rand_r(seed) % 3;
		len = 56 + b->nmetrics * 24;
	} else {
		len = 8 * (1 + (uint32_t)rand_r(seed) % 8);
	}
	if (rand_r(seed) % 4 == 0)
		len += 8 * (uint32_t)(rand_r(seed) % 3) - 8;
	if (rand_r(seed) % 8 == 0)
		d[rand_r(seed) % 64] = (uint8_t)rand_r(seed);
	r->len = len;
	return len;
}

/* Random damage and random heads: next never crashes or reads outside the
 * data area (the heap block ends there; ASan checks), and every record it
 * returns lies inside the data area and passes hb_rec_check again. */
static void random_garbage_never_escapes_data_area(void **state)
{
	struct hb_config cfg = fx_config("fuzz", 4);
	unsigned seed = 12345, accepted = 0, rejected = 0;
	struct fx f;

	(void)state;
	fx_open(&f, FX_MEM, &cfg);
	for (int iter = 0; iter < 20000; iter++) {
		uint8_t *d = f.p->data;
		const struct hb_rec *r;
		uint64_t base = (uint64_t)(rand_r(&seed) % 4096) & ~7ull, pos = base;
		int rc;

		for (int i = 0; i < 4096; i += 4) {
			uint32_t x = (uint32_t)rand_r(&seed);

			memcpy(d + i, &x, 4);
		}
		for (int k = 0; k < 8; k++) {
			uint32_t room = 4096 - (uint32_t)(pos % 4096);
			uint32_t len = plausible_record(d + pos % 4096, room, &seed);

			if (!len || len > room)
				break;
			pos += len;
		}
		atomic_store(&f.p->hdr->tail, base);
		atomic_store(&f.p->hdr->head,
			     rand_r(&seed) % 2 ? pos : base + (uint64_t)(rand_r(&seed) % 5000));
		hb_ring_view_init(&f.v, f.mem, f.total);
		for (int k = 0; k < 16 && (rc = hb_ring_view_next(&f.v, &r)) == 1; k++) {
			const uint8_t *p = (const uint8_t *)r;

			assert_true(p >= f.v.data && p + r->len <= f.v.data + 4096);
			assert_int_equal(hb_rec_check(r, r->len), 0);
			if (r->kind == HB_REC_EVENT) {
				struct hb_event_view ev;

				assert_int_equal(hb_event_decode(r, &ev), 0);
			}
			accepted++;
		}
		rejected += rc < 0;
	}
	print_message("random records: %u accepted, %u walks stopped on a bad one\n", accepted,
		      rejected);
	assert_true(accepted > 1000 && rejected > 1000);
	atomic_store(&f.p->hdr->head, 0);
	atomic_store(&f.p->hdr->tail, 0);
	fx_close(&f);
}

/* ---- header checks --------------------------------------------------- */

static void header_checks(struct fx *f)
{
	struct hb_config cfg = fx_config("hdr", 4);

	fx_open(f, FX_MEM, &cfg);
	assert_int_equal(hb_ring_hdr_check(f->v.hdr, f->total), 0);
}

static void rejects_bad_magic(void **state)
{
	struct fx f;

	(void)state;
	header_checks(&f);
	atomic_store(&f.v.hdr->magic, 0x1234);
	assert_int_equal(hb_ring_hdr_check(f.v.hdr, f.total), -EPROTO);
	assert_int_equal(hb_ring_view_init(&f.v, f.mem, f.total), -EPROTO);
	free(f.mem);
}

static void rejects_newer_layout_version(void **state)
{
	struct fx f;

	(void)state;
	header_checks(&f);
	f.v.hdr->version = HB_RING_VERSION + 1;
	assert_int_equal(hb_ring_hdr_check(f.v.hdr, f.total), -EPROTONOSUPPORT);
	free(f.mem);
}

/* One check, one errno: a producer attaching to a ring of another layout
 * version is refused as the collector refuses it, -EPROTONOSUPPORT, and a
 * bad magic is -EPROTO for both. */
static void producer_attach_checks_as_consumer(void **state)
{
	struct hb_config cfg = fx_config("hdr", 4);
	struct hb_producer p;
	struct fx f;

	(void)state;
	header_checks(&f);
	assert_int_equal(hb_producer_attach(&p, f.mem, &cfg), 0);
	f.v.hdr->version = HB_RING_VERSION + 1;
	assert_int_equal(hb_producer_attach(&p, f.mem, &cfg), -EPROTONOSUPPORT);
	assert_int_equal(hb_ring_view_init(&f.v, f.mem, f.total), -EPROTONOSUPPORT);
	f.v.hdr->version = HB_RING_VERSION;
	atomic_store(&f.v.hdr->magic, 0x1234);
	assert_int_equal(hb_producer_attach(&p, f.mem, &cfg), -EPROTO);
	free(f.mem);
}

static void rejects_bad_sizes(void **state)
{
	struct fx f;

	(void)state;
	header_checks(&f);
	assert_int_equal(hb_ring_hdr_check(f.v.hdr, f.total - 8), -EINVAL);
	assert_int_equal(hb_ring_hdr_check(f.v.hdr, 100), -EINVAL);
	f.v.hdr->data_size = 6144;
	assert_int_equal(hb_ring_hdr_check(f.v.hdr, f.total), -EINVAL);
	f.v.hdr->data_size = 2048;
	assert_int_equal(hb_ring_hdr_check(f.v.hdr, f.total), -EINVAL);
	f.v.hdr->data_size = 4096;
	f.v.hdr->hdr_size += 4096;
	assert_int_equal(hb_ring_hdr_check(f.v.hdr, f.total), -EINVAL);
	free(f.mem);
}

static void rejects_unterminated_names(void **state)
{
	struct fx f;

	(void)state;
	header_checks(&f);
	memset(f.v.hdr->name, 'x', sizeof(f.v.hdr->name));
	assert_int_equal(hb_ring_hdr_check(f.v.hdr, f.total), -EINVAL);
	free(f.mem);
}

static void attach_rejects_bad_or_missing_names(void **state)
{
	struct hb_ring_view v;

	(void)state;
	assert_int_equal(hb_ring_view_attach(&v, "hb.x/y"), -EINVAL);
	assert_int_equal(hb_ring_view_attach(&v, ""), -EINVAL);
	assert_int_equal(hb_ring_view_attach(&v, "hb.no-such-bus.x.1.0"), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_event_is_accepted),
		cmocka_unit_test(rejects_len_not_multiple_of_8),
		cmocka_unit_test(rejects_len_below_record_header),
		cmocka_unit_test(rejects_len_beyond_head),
		cmocka_unit_test(rejects_zero_len),
		cmocka_unit_test(rejects_record_crossing_data_end),
		cmocka_unit_test(rejects_pad_crossing_data_end),
		FX_BOTH(pad_records_are_skipped),
		cmocka_unit_test(rejects_unknown_kind),
		cmocka_unit_test(rejects_bad_priority),
		cmocka_unit_test(rejects_unknown_tag),
		cmocka_unit_test(rejects_tag_after_empty_slot),
		cmocka_unit_test(rejects_string_length_overrun),
		cmocka_unit_test(rejects_fields_shorter_than_len),
		cmocka_unit_test(rejects_string_longer_than_str_max),
		cmocka_unit_test(heartbeat_is_accepted),
		cmocka_unit_test(rejects_heartbeat_with_inconsistent_nmetrics),
		cmocka_unit_test(rejects_heartbeat_with_too_many_metrics),
		cmocka_unit_test(rejects_head_more_than_size_ahead),
		cmocka_unit_test(rejects_head_moving_backwards),
		cmocka_unit_test(rejects_misaligned_tail),
		cmocka_unit_test(release_ignores_index_past_cursor),
		cmocka_unit_test(random_garbage_never_escapes_data_area),
		cmocka_unit_test(rejects_bad_magic),
		cmocka_unit_test(rejects_newer_layout_version),
		cmocka_unit_test(producer_attach_checks_as_consumer),
		cmocka_unit_test(rejects_bad_sizes),
		cmocka_unit_test(rejects_unterminated_names),
		cmocka_unit_test(attach_rejects_bad_or_missing_names),
	};
	return FX_RUN("ring_corrupt", tests);
}
