/* SPDX-License-Identifier: MIT */
/* What happens when the ring fills up: exact drop counts and sequence gaps,
 * priority shedding above the high-water mark, and the lossless blocking
 * mode. */
#include "test_ring_fixture.h"

#include <pthread.h>
#include <time.h>

static const struct hb_field one_i64[] = {{"n", HB_T_I64}};

#define EV_LEN 48 /* 24 rec + 16 req/tags + 8 slot */

static void check_n(const struct hb_rec *r, unsigned prio, uint64_t seq)
{
	struct hb_event_view ev;

	assert_non_null(r);
	assert_int_equal(r->kind, HB_REC_EVENT);
	assert_int_equal(r->len, EV_LEN);
	assert_int_equal(r->prio, prio);
	assert_int_equal(r->seq, seq);
	assert_int_equal(hb_event_decode(r, &ev), 0);
	assert_int_equal(ev.vals[0], seq);
	assert_int_equal(ev.req, seq + 1);
}

static void full_ring_drops_with_exact_count_and_seq_gap(void **state)
{
	struct hb_config cfg = fx_config("full", 4);
	uint64_t n = 0;
	struct fx f;
	int t;

	cfg.hwm_pct = 100; /* no shedding: only a full ring drops */
	fx_open(&f, *(const enum fx_kind *)*state, &cfg);
	t = hb_type_register(f.p, "full.ev", one_i64, 1);
	/* 4096 / 48 = 85 events fit; the 86th would need a pad and more room */
	for (; n < 100; n++)
		assert_int_equal(hb_event(f.p, t, HB_PRIO_NORMAL, n + 1, HB_I64(n)),
				 n < 85 ? 0 : -ENOBUFS);
	assert_int_equal(atomic_load(&f.p->hdr->dropped), 15);
	assert_int_equal(atomic_load(&f.p->hdr->seq), 100);
	assert_int_equal(atomic_load(&f.p->hdr->head), 85 * EV_LEN);
	for (uint64_t i = 0; i < 85; i++)
		check_n(fx_next(&f), HB_PRIO_NORMAL, i);
	assert_null(fx_next(&f));
	hb_ring_view_release(&f.v, f.v.cursor);

	/* room again: the next events carry seq 100.., so 85..99 is the gap */
	for (; n < 110; n++)
		assert_int_equal(hb_event(f.p, t, HB_PRIO_NORMAL, n + 1, HB_I64(n)), 0);
	for (uint64_t i = 100; i < 110; i++)
		check_n(fx_next(&f), HB_PRIO_NORMAL, i);
	assert_null(fx_next(&f));
	assert_int_equal(atomic_load(&f.p->hdr->dropped), 15);
	assert_int_equal(atomic_load(&f.p->hdr->seq), 110);
	fx_close(&f);
}

static void priority_shedding_keeps_high_urgent_and_heartbeats(void **state)
{
	struct hb_config cfg = fx_config("shed", 4); /* high-water mark 75% = 3072 */
	const struct hb_rec *r;
	uint64_t n = 0;
	struct fx f;
	int t;

	fx_open(&f, *(const enum fx_kind *)*state, &cfg);
	t = hb_type_register(f.p, "shed.ev", one_i64, 1);
	for (; n < 80; n++) /* 3072 / 48 = 64 normal events fit under the mark */
		assert_int_equal(hb_event(f.p, t, HB_PRIO_NORMAL, n + 1, HB_I64(n)),
				 n < 64 ? 0 : -ENOBUFS);
	for (; n < 85; n++)
		assert_int_equal(hb_event(f.p, t, HB_PRIO_LOW, n + 1, HB_I64(n)), -ENOBUFS);
	for (; n < 90; n++)
		assert_int_equal(hb_event(f.p, t, HB_PRIO_HIGH, n + 1, HB_I64(n)), 0);
	for (; n < 95; n++)
		assert_int_equal(hb_event(f.p, t, HB_PRIO_URGENT, n + 1, HB_I64(n)), 0);
	assert_int_equal(hb_heartbeat(f.p), 0);
	assert_int_equal(atomic_load(&f.p->hdr->dropped), 21);
	assert_int_equal(atomic_load(&f.p->hdr->seq), 96);

	for (uint64_t i = 0; i < 64; i++)
		check_n(fx_next(&f), HB_PRIO_NORMAL, i);
	for (uint64_t i = 85; i < 95; i++)
		check_n(fx_next(&f), i < 90 ? HB_PRIO_HIGH : HB_PRIO_URGENT, i);
	r = fx_next(&f);
	assert_non_null(r);
	assert_int_equal(r->kind, HB_REC_HEARTBEAT);
	assert_int_equal(r->seq, 95);
	assert_null(fx_next(&f));
	fx_close(&f);
}

static void high_priority_fills_ring_to_the_end(void **state)
{
	struct hb_config cfg = fx_config("shed", 4);
	uint64_t n = 0;
	struct fx f;
	int t;

	fx_open(&f, *(const enum fx_kind *)*state, &cfg);
	t = hb_type_register(f.p, "shed.ev", one_i64, 1);
	for (; n < 100; n++)
		assert_int_equal(hb_event(f.p, t, HB_PRIO_HIGH, n + 1, HB_I64(n)),
				 n < 85 ? 0 : -ENOBUFS);
	assert_int_equal(hb_event(f.p, t, HB_PRIO_LOW, n + 1, HB_I64(n)), -ENOBUFS);
	assert_int_equal(atomic_load(&f.p->hdr->dropped), 16);
	assert_int_equal(fx_drain(&f), 85);
	fx_close(&f);
}

/* ---- blocking mode: a consumer thread frees space ------------------- */

#define BLOCK_N 20000

struct consumer {
	struct fx *f;
	uint64_t seen;
	uint64_t bad; /* records whose seq or content is wrong */
};

static void *consume(void *arg)
{
	struct consumer *c = arg;
	struct timespec nap = {0, 50000};

	while (c->seen < BLOCK_N) {
		const struct hb_rec *r;
		struct hb_event_view ev;
		int rc, got = 0;

		while ((rc = hb_ring_view_next(&c->f->v, &r)) == 1) {
			if (r->seq != c->seen || hb_event_decode(r, &ev) || ev.vals[0] != c->seen ||
			    r->prio != c->seen % 4)
				c->bad++;
			c->seen++;
			got++;
		}
		if (rc < 0) {
			c->bad++;
			break;
		}
		hb_ring_view_release(&c->f->v, c->f->v.cursor);
		if (!got)
			nanosleep(&nap, NULL); /* let the producer hit a full ring */
	}
	return NULL;
}

static void blocking_mode_loses_nothing(void **state)
{
	struct hb_config cfg = fx_config("block", 4);
	struct consumer c = {0};
	pthread_t th;
	struct fx f;
	int t;

	cfg.blocking = 1;
	fx_open(&f, *(const enum fx_kind *)*state, &cfg);
	assert_true(f.v.hdr->flags & HB_RING_F_BLOCKING);
	t = hb_type_register(f.p, "block.ev", one_i64, 1);
	c.f = &f;
	assert_int_equal(pthread_create(&th, NULL, consume, &c), 0);
	for (uint64_t n = 0; n < BLOCK_N; n++)
		assert_int_equal(hb_event(f.p, t, (unsigned)(n % 4), n + 1, HB_I64(n)), 0);
	pthread_join(th, NULL);
	assert_int_equal(c.bad, 0);
	assert_int_equal(c.seen, BLOCK_N);
	assert_int_equal(atomic_load(&f.p->hdr->dropped), 0);
	assert_int_equal(atomic_load(&f.p->hdr->seq), BLOCK_N);
	fx_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_BOTH(full_ring_drops_with_exact_count_and_seq_gap),
		FX_BOTH(priority_shedding_keeps_high_urgent_and_heartbeats),
		FX_BOTH(high_priority_fills_ring_to_the_end),
		FX_BOTH(blocking_mode_loses_nothing),
	};
	return FX_RUN("ring_full", tests);
}
