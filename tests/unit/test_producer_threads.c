/* SPDX-License-Identifier: MIT */
/*
 * One process-wide handle from hb_open, used by 8 threads at once: every
 * thread's records land in a ring of its own (tagged with the thread's
 * tag, its tid, the process's pid), complete and in order; a counter
 * bumped from every thread reads as its total in the heartbeats; threads
 * that exit while others still run close their rings with a final
 * heartbeat; a type registered while threads run reaches their rings.
 * Built with -fsanitize=thread by tools/test.sh's TSan step too.
 *
 * HB_THREADS_N overrides the events per thread (default 200,000).
 */
#include "test_ring_fixture.h"

#include <pthread.h>
#include <sys/syscall.h>

#define NTHREADS 8
#define EARLY 4 /* threads 0..EARLY-1 finish and exit while the others wait */

static uint64_t events_n = 200000;

struct worker {
	struct hb_producer *p;
	int idx, type, late_type, counter;
	pthread_barrier_t *half;   /* the late threads wait here mid-run */
	pthread_barrier_t *resume; /* ... until the early ones are joined */
	int rc_bad;                /* calls that did not return 0 */
	pid_t tid;
	char shm_name[128];
};

static void emit_range(struct worker *w, unsigned type, uint64_t from, uint64_t to)
{
	for (uint64_t n = from; n < to; n++) {
		if (hb_event(w->p, type, HB_PRIO_NORMAL, n, HB_U64((uint64_t)w->idx), HB_U64(n)))
			w->rc_bad++;
		if (hb_counter_add(w->p, (unsigned)w->counter, 1))
			w->rc_bad++;
		if ((n & 1023) == 0 && hb_tick(w->p) < 0)
			w->rc_bad++;
	}
}

static void *work(void *arg)
{
	struct worker *w = arg;
	char tag[16];

	snprintf(tag, sizeof(tag), "w%d", w->idx);
	assert_int_equal(hb_thread_tag_set(tag), 0);
	w->tid = (pid_t)syscall(SYS_gettid);
	emit_range(w, (unsigned)w->type, 0, events_n / 2);
	snprintf(w->shm_name, sizeof(w->shm_name), "%s", hb__ring_of(w->p)->shm_name);
	if (w->idx >= EARLY) {
		pthread_barrier_wait(w->half);
		pthread_barrier_wait(w->resume); /* main joined the early ones */
		emit_range(w, (unsigned)*(volatile int *)&w->late_type, events_n / 2, events_n);
	} else {
		emit_range(w, (unsigned)w->type, events_n / 2, events_n);
	}
	return NULL; /* the thread's exit closes its ring */
}

struct seen {
	uint64_t events, heartbeats, last_total;
	uint32_t last_status;
	int bad;
};

/* Reads a closed ring from the start and checks every record of worker w
 * (or of the main thread when w is NULL: type ids 0 or 1, field t = 99). */
static void ring_check(const char *shm, const struct worker *w, int counter, struct seen *s)
{
	struct hb_ring_view v;
	const struct hb_rec *r;
	uint64_t seq = 0, n = 0;
	int rc;

	memset(s, 0, sizeof(*s));
	assert_int_equal(hb_ring_view_attach(&v, shm), 0);
	assert_int_equal(atomic_load(&v.hdr->state), HB_RING_CLOSED);
	assert_int_equal(v.hdr->pid, (uint32_t)getpid());
	assert_int_equal(atomic_load(&v.hdr->dropped), 0);
	assert_string_equal(v.hdr->name, "thr");
	/* the late type reached the rings alive when it was registered */
	assert_int_equal(atomic_load(&v.hdr->ntypes), w && w->idx < EARLY ? 1 : 2);
	if (w) {
		char tag[16];

		snprintf(tag, sizeof(tag), "w%d", w->idx);
		assert_string_equal(v.hdr->thread, tag);
		assert_int_equal(v.hdr->tid, (uint32_t)w->tid);
	}
	while ((rc = hb_ring_view_next(&v, &r)) == 1) {
		struct hb_event_view ev;

		assert_int_equal(r->seq, seq);
		seq++;
		if (r->kind == HB_REC_HEARTBEAT) {
			const struct hb_rec_hb *b = (const void *)(r + 1);
			const uint64_t *m = (const void *)(b + 1);

			assert_int_equal(b->nmetrics, 1);
			assert_true(m[0] >= s->last_total); /* a total never goes back */
			s->last_total = m[0];
			s->last_status = b->status;
			s->heartbeats++;
			continue;
		}
		assert_int_equal(hb_event_decode(r, &ev), 0);
		if (!w) {
			s->events++;
			continue;
		}
		/* first half the early type, second half (late threads) the late one */
		assert_int_equal(r->type, w->idx >= EARLY && n >= events_n / 2 ? w->late_type : w->type);
		assert_int_equal(ev.nfields, 2);
		assert_int_equal(ev.vals[0], (uint64_t)w->idx);
		assert_int_equal(ev.vals[1], n);
		assert_int_equal(ev.req, n);
		n++;
		s->events++;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(seq, atomic_load(&v.hdr->seq)); /* every attempt is here */
	(void)counter;
	hb_ring_view_detach(&v);
	shm_unlink(shm);
}

static void eight_threads_share_one_handle(void **state)
{
	static const struct hb_field f[] = {{"t", HB_T_U64}, {"n", HB_T_U64}};
	struct hb_config cfg = fx_config("thr", 16384);
	struct worker w[NTHREADS];
	pthread_t th[NTHREADS];
	pthread_barrier_t half, resume;
	struct hb_producer *p;
	struct seen s;
	uint64_t max_total = 0;
	char main_shm[128];
	int type, late, counter;

	(void)state;
	cfg.single_thread = 0;
	cfg.hwm_pct = 100;
	cfg.interval_ms = 1; /* heartbeats (and their totals) while threads run */
	assert_int_equal(hb_open(&p, &cfg), 0);
	assert_true(p->id != 0);
	assert_int_equal(type = hb_type_register(p, "thr.ev", f, 2), 0);
	assert_int_equal(counter = hb_metric_register(p, "thr.count", HB_METRIC_COUNTER), 0);
	assert_int_equal(fx_shm_count(fx_bus), 0); /* no thread has called yet */
	pthread_barrier_init(&half, NULL, NTHREADS - EARLY + 1);
	pthread_barrier_init(&resume, NULL, NTHREADS - EARLY + 1);
	for (int i = 0; i < NTHREADS; i++) {
		w[i] = (struct worker){.p = p, .idx = i, .type = type, .late_type = -1,
				       .counter = counter, .half = &half, .resume = &resume};
		assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
	}
	pthread_barrier_wait(&half);
	for (int i = 0; i < EARLY; i++)
		pthread_join(th[i], NULL);
	/* registered while the late threads live: it reaches their rings */
	assert_int_equal(late = hb_type_register(p, "thr.late", f, 2), 1);
	for (int i = EARLY; i < NTHREADS; i++)
		w[i].late_type = late;
	pthread_barrier_wait(&resume);
	for (int i = EARLY; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&half);
	pthread_barrier_destroy(&resume);

	for (int i = 0; i < NTHREADS; i++) {
		assert_int_equal(w[i].rc_bad, 0);
		ring_check(w[i].shm_name, &w[i], counter, &s);
		assert_int_equal(s.events, events_n);
		assert_true(s.heartbeats >= 2); /* the first tick and the exit's */
		assert_int_equal(s.last_status, HB_STATUS_STOPPING);
		assert_true(s.last_total >= events_n);
		if (s.last_total > max_total)
			max_total = s.last_total;
	}
	/* the last thread to exit saw every other one's bumps */
	assert_int_equal(max_total, NTHREADS * events_n);

	/* the main thread: a ring of its own, and the total in its heartbeat */
	assert_int_equal(hb_counter_add(p, (unsigned)counter, 5), 0);
	assert_int_equal(hb_event(p, (unsigned)type, HB_PRIO_HIGH, 1, HB_U64(99), HB_U64(0)), 0);
	assert_int_equal(hb_heartbeat(p), 0);
	snprintf(main_shm, sizeof(main_shm), "%s", hb__ring_of(p)->shm_name);
	assert_int_equal(fx_shm_count(fx_bus), 1);
	hb_close(p);
	ring_check(main_shm, NULL, counter, &s);
	assert_int_equal(s.events, 1);
	assert_int_equal(s.heartbeats, 2);
	assert_int_equal(s.last_total, NTHREADS * events_n + 5);
	assert_int_equal(s.last_status, HB_STATUS_STOPPING);
}

struct bump {
	struct hb_producer *p;
	int c, g;
};

static void *bump_and_exit(void *arg)
{
	struct bump *b = arg;

	assert_int_equal(hb_counter_add(b->p, (unsigned)b->c, 7), 0);
	assert_int_equal(hb_gauge_set(b->p, (unsigned)b->g, 4.0), 0);
	return NULL;
}

/* Gauges and health flags are one value per process, the last set wins,
 * whichever thread set it; what a thread that exited counted stays in the
 * totals. */
static void gauges_are_per_process_counters_per_thread(void **state)
{
	struct hb_config cfg = fx_config("thr", 64);
	struct hb_producer *p;
	struct hb_ring_view v;
	const struct hb_rec *r = NULL, *last = NULL;
	struct bump b;
	pthread_t th;
	double gv;
	char shm[128];

	(void)state;
	fx_shm_cleanup();
	cfg.single_thread = 0;
	assert_int_equal(hb_open(&p, &cfg), 0);
	assert_int_equal(b.c = hb_metric_register(p, "c", HB_METRIC_COUNTER), 0);
	assert_int_equal(b.g = hb_metric_register(p, "g", HB_METRIC_GAUGE), 1);
	assert_int_equal(hb_gauge_set(p, (unsigned)b.g, 2.5), 0);
	assert_int_equal(fx_shm_count(fx_bus), 0); /* a gauge needs no ring */
	b.p = p;
	assert_int_equal(pthread_create(&th, NULL, bump_and_exit, &b), 0);
	pthread_join(th, NULL);
	assert_int_equal(hb_counter_add(p, (unsigned)b.c, 3), 0);
	assert_int_equal(hb_heartbeat(p), 0);
	snprintf(shm, sizeof(shm), "%s", hb__ring_of(p)->shm_name);
	assert_int_equal(hb_ring_view_attach(&v, shm), 0);
	while (hb_ring_view_next(&v, &r) == 1)
		last = r;
	assert_non_null(last);
	assert_int_equal(last->kind, HB_REC_HEARTBEAT);
	const struct hb_rec_hb *hb = (const void *)(last + 1);
	const uint64_t *m = (const void *)(hb + 1);

	assert_int_equal(hb->nmetrics, 2);
	assert_int_equal(m[0], 10); /* 7 from the exited thread, 3 from this one */
	memcpy(&gv, &m[3], sizeof(gv));
	assert_true(gv == 4.0);
	hb_ring_view_detach(&v);
	hb_close(p);
	fx_shm_cleanup();
}

struct tagged {
	struct hb_producer *p;
	const char *setname; /* pthread_setname_np first, or NULL */
	pid_t tid;
	char tag[32];
};

static void *tag_probe(void *arg)
{
	struct tagged *t = arg;

	if (t->setname)
		pthread_setname_np(pthread_self(), t->setname);
	t->tid = (pid_t)syscall(SYS_gettid);
	assert_int_equal(hb_heartbeat(t->p), 0);
	snprintf(t->tag, sizeof(t->tag), "%s", hb__ring_of(t->p)->hdr->thread);
	return NULL;
}

/* Without hb_thread_tag_set: the opening thread's ring carries cfg.thread,
 * a named thread's its name, an unnamed one "tid" and its tid. */
static void thread_tags_default_to_the_thread_name(void **state)
{
	struct hb_config cfg = fx_config("thr", 64);
	struct tagged named = {.setname = "io-worker"}, unnamed = {0};
	struct hb_producer *p;
	pthread_t th;
	char want[32];

	(void)state;
	fx_shm_cleanup();
	cfg.single_thread = 0;
	cfg.thread = "main-loop";
	assert_int_equal(hb_open(&p, &cfg), 0);
	assert_int_equal(hb_heartbeat(p), 0);
	assert_string_equal(hb__ring_of(p)->hdr->thread, "main-loop");
	named.p = unnamed.p = p;
	assert_int_equal(pthread_create(&th, NULL, tag_probe, &named), 0);
	pthread_join(th, NULL);
	assert_string_equal(named.tag, "io-worker");
	assert_int_equal(pthread_create(&th, NULL, tag_probe, &unnamed), 0);
	pthread_join(th, NULL);
	snprintf(want, sizeof(want), "tid%d", (int)unnamed.tid);
	assert_string_equal(unnamed.tag, want);
	assert_int_equal(hb_thread_tag_set("this-one-is-far-too-long-for-a-tag"), -EINVAL);
	hb_close(p);
	fx_shm_cleanup();
}

int main(void)
{
	const char *n = getenv("HB_THREADS_N");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(eight_threads_share_one_handle),
		cmocka_unit_test(gauges_are_per_process_counters_per_thread),
		cmocka_unit_test(thread_tags_default_to_the_thread_name),
	};

	if (n && *n)
		events_n = strtoull(n, NULL, 10) & ~1ull;
	return FX_RUN("producer_threads", tests);
}
