/* SPDX-License-Identifier: MIT */
/*
 * A producer thread writes millions of events of varying sizes into a small
 * ring while a consumer thread reads them. The consumer checks every
 * record's content against its sequence number, and that the sequence
 * numbers account for every attempt: consecutive in blocking mode, exact
 * gaps when dropping (committed + dropped == attempted). It reads in turns
 * through hb_ring_view_next and through hb_ring_view_copy (the collector's
 * path), so that both are raced against the producer.
 *
 * HB_STRESS_N overrides the number of events (default 2,000,000). Built
 * with -fsanitize=thread by `make tsan-ring`.
 */
#include "test_ring_fixture.h"

#include <pthread.h>
#include <sched.h>
#include <time.h>

static const struct hb_field t0[] = {{"n", HB_T_I64}, {"s", HB_T_STR}};
static const struct hb_field t1[] = {{"q", HB_T_U64}, {"ok", HB_T_BOOL}, {"px", HB_T_F64}};
static const struct hb_field t2[] = {{"n", HB_T_I64}, {"b", HB_T_BYTES}};

static uint64_t stress_n = 2000000;

static char byte_of(uint64_t n, unsigned i)
{
	return (char)(' ' + (n * 31 + i * 7) % 95);
}

static unsigned str_len(uint64_t n)
{
	return (unsigned)(n % 97);
}

static unsigned bytes_len(uint64_t n)
{
	return (unsigned)((n * 7) % 301);
}

/* Event n: fully determined by n. */
static int emit(struct hb_producer *p, uint64_t n)
{
	char buf[320];
	unsigned prio = (unsigned)(n % 4);

	switch (n % 3) {
	case 0:
		for (unsigned i = 0; i < str_len(n); i++)
			buf[i] = byte_of(n, i);
		buf[str_len(n)] = 0;
		return hb_event(p, 0, prio, n + 1, HB_I64(n), HB_STR(buf));
	case 1:
		return hb_event(p, 1, prio, n + 1, HB_U64(n * 3), HB_BOOL(n & 1), HB_F64(n * 0.5));
	default:
		for (unsigned i = 0; i < bytes_len(n); i++)
			buf[i] = byte_of(n, i);
		return hb_event(p, 2, prio, n + 1, HB_I64(n), HB_BYTES(buf, bytes_len(n)));
	}
}

static int check_bytes(const void *p, uint64_t len, uint64_t n)
{
	const char *s = p;

	for (unsigned i = 0; i < len; i++)
		if (s[i] != byte_of(n, i))
			return -1;
	return 0;
}

/* 0 when r is exactly event n. */
static int check(const struct hb_rec *r, uint64_t n)
{
	struct hb_event_view ev;
	double d;

	if (r->kind != HB_REC_EVENT || r->seq != n || r->type != n % 3 || r->prio != n % 4 ||
	    hb_event_decode(r, &ev) || ev.req != n + 1)
		return -1;
	switch (n % 3) {
	case 0:
		return ev.nfields == 2 && ev.tags[1] == HB_T_STR && ev.vals[0] == n &&
			       ev.vals[1] == str_len(n) && !check_bytes(ev.ptrs[1], ev.vals[1], n)
			       ? 0
			       : -1;
	case 1:
		memcpy(&d, &ev.vals[2], 8);
		return ev.nfields == 3 && ev.vals[0] == n * 3 && ev.vals[1] == (n & 1) &&
			       d == n * 0.5
			       ? 0
			       : -1;
	default:
		return ev.nfields == 2 && ev.tags[1] == HB_T_BYTES && ev.vals[0] == n &&
			       ev.vals[1] == bytes_len(n) && !check_bytes(ev.ptrs[1], ev.vals[1], n)
			       ? 0
			       : -1;
	}
}

struct stress {
	struct fx *f;
	_Atomic int done; /* producer finished: release after its last commit */
	/* consumer results */
	uint64_t seen, gaps, next_seq, bad, first_bad;
	int next_rc;
	uint64_t copy[HB_REC_COPY_MAX / 8];
};

/* The next record, in turns of 1000 from the ring itself and copied. */
static int consume_next(struct stress *s, const struct hb_rec **r)
{
	if ((s->seen / 1000) & 1)
		return hb_ring_view_copy(&s->f->v, s->copy, sizeof(s->copy), r);
	return hb_ring_view_next(&s->f->v, r);
}

static void *consume(void *arg)
{
	struct stress *s = arg;
	struct timespec nap = {0, 20000};
	unsigned idle = 0;

	for (;;) {
		const struct hb_rec *r;
		int rc, got = 0;
		/* read done before the ring: once we see it, head is final */
		int done = atomic_load_explicit(&s->done, memory_order_acquire);

		while ((rc = consume_next(s, &r)) == 1) {
			if (r->seq < s->next_seq || check(r, r->seq)) {
				if (!s->bad++)
					s->first_bad = s->next_seq;
			}
			s->gaps += r->seq - s->next_seq;
			s->next_seq = r->seq + 1;
			s->seen++;
			got++;
		}
		if (rc < 0) {
			s->next_rc = rc;
			return NULL;
		}
		hb_ring_view_release(&s->f->v, s->f->v.cursor);
		if (done && !got)
			return NULL;
		if (!got && ++idle % 16)
			sched_yield();
		else if (!got)
			nanosleep(&nap, NULL); /* now and then, let the ring fill up */
	}
}

static void run(enum fx_kind kind, int blocking)
{
	struct hb_config cfg = fx_config("stress", 16);
	uint64_t ok = 0, nobufs = 0, dropped;
	struct stress s = {0};
	pthread_t th;
	struct fx f;

	cfg.blocking = blocking;
	fx_open(&f, kind, &cfg);
	assert_int_equal(hb_type_register(f.p, "st.a", t0, 2), 0);
	assert_int_equal(hb_type_register(f.p, "st.b", t1, 3), 1);
	assert_int_equal(hb_type_register(f.p, "st.c", t2, 2), 2);
	s.f = &f;
	assert_int_equal(pthread_create(&th, NULL, consume, &s), 0);
	for (uint64_t n = 0; n < stress_n; n++) {
		int rc = emit(f.p, n);

		if (rc == 0)
			ok++;
		else if (rc != -ENOBUFS)
			fail_msg("emit %llu: %d", (unsigned long long)n, rc);
		else if (++nobufs % 16 == 0)
			sched_yield(); /* give the consumer a chance: mix drops and commits */
	}
	/* R: every commit above is visible to whoever sees done (pairs with
	 * the consumer's acquire load of done) */
	atomic_store_explicit(&s.done, 1, memory_order_release);
	pthread_join(th, NULL);

	dropped = atomic_load(&f.p->hdr->dropped);
	print_message("%s: attempted %llu committed %llu dropped %llu\n",
		      blocking ? "blocking" : "dropping", (unsigned long long)stress_n,
		      (unsigned long long)s.seen, (unsigned long long)dropped);
	assert_int_equal(s.next_rc, 0);
	if (s.bad)
		fail_msg("%llu bad records, first near seq %llu", (unsigned long long)s.bad,
			 (unsigned long long)s.first_bad);
	assert_int_equal(atomic_load(&f.p->hdr->seq), stress_n);
	assert_int_equal(s.seen, ok);
	assert_int_equal(dropped, nobufs);
	assert_int_equal(s.seen + dropped, stress_n);
	/* every drop shows up as a gap, or after the last committed record */
	assert_int_equal(s.gaps + (stress_n - s.next_seq), dropped);
	if (blocking) {
		assert_int_equal(dropped, 0);
		assert_int_equal(s.gaps, 0);
	}
	fx_close(&f);
}

static void blocking_stress_delivers_every_record_in_order(void **state)
{
	run(*(const enum fx_kind *)*state, 1);
}

static void dropping_stress_accounts_for_every_attempt(void **state)
{
	run(*(const enum fx_kind *)*state, 0);
}

int main(void)
{
	const char *n = getenv("HB_STRESS_N");
	const struct CMUnitTest tests[] = {
		FX_BOTH(blocking_stress_delivers_every_record_in_order),
		FX_BOTH(dropping_stress_accounts_for_every_attempt),
	};

	if (n && *n)
		stress_n = strtoull(n, NULL, 10);
	return FX_RUN("ring_stress", tests);
}
