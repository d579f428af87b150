/* SPDX-License-Identifier: MIT */
/*
 * bench_hb - cost of the hb producer hot path.
 *
 *   bench_hb [--bus B] [--drain thread|external] [--batches N] [--batch N]
 *            [--singles N] [--cpu C] [--drain-cpu C]
 *       per-call cost of hb_event (3 fields: i64, f64, short str) and of
 *       hb_tick (not due), batch and single-call timings (bench_util.h),
 *       and of the clock read that each event makes (hb_clock_raw alone).
 *       --drain thread: a consumer thread on --drain-cpu drains the ring
 *       in batches through bus/ring.h; --drain external: hbcollect does.
 *       --ring-kb K: ring size (default 1024, hb's default).
 *       --label L: prefix of the figures' names (default "hb").
 *   bench_hb --threads N [--shared] [--cpu C] [--drain-cpu C] [--batches N] ...
 *       the event call from N threads at once, all pinned to --cpu (so the
 *       figures are the call's cost, not the 2 cores' contention), one
 *       drain thread on --drain-cpu reading every ring: --shared, one
 *       process-wide handle from hb_open (each thread finds its ring through
 *       the thread cache); without, a single-thread handle per thread.
 *       Per call per thread: every thread's batches and single calls merged
 *       into LABEL.event.batch/.single (default label hbpN or hbsN).
 *   bench_hb --steady N [--shared] [--ring-kb K (default 65536)]
 *       producer only: opens, registers, emits N events and N ticks and
 *       prints how many allocations the loop made (malloc is interposed
 *       below). Run under strace -c -f with N and 10*N to count syscalls.
 */
#include "hb.h"
#include "bench_util.h"
#include "ring.h"

#include <getopt.h>
#include <sys/mman.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

/* ---- allocation counter: every malloc-family call in the process ------ */

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static _Atomic unsigned long bench_allocs;

void *malloc(size_t n)
{
	atomic_fetch_add_explicit(&bench_allocs, 1, memory_order_relaxed);
	return __libc_malloc(n);
}

void *calloc(size_t a, size_t b)
{
	atomic_fetch_add_explicit(&bench_allocs, 1, memory_order_relaxed);
	return __libc_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
	atomic_fetch_add_explicit(&bench_allocs, 1, memory_order_relaxed);
	return __libc_realloc(p, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
	atomic_fetch_add_explicit(&bench_allocs, 1, memory_order_relaxed);
	*out = __libc_memalign(align, n);
	return *out ? 0 : ENOMEM;
}

void *aligned_alloc(size_t align, size_t n)
{
	atomic_fetch_add_explicit(&bench_allocs, 1, memory_order_relaxed);
	return __libc_memalign(align, n);
}

void free(void *p)
{
	__libc_free(p);
}

/* ---- draining consumer thread ----------------------------------------- */

struct drain {
	struct hb_ring_view v;
	int cpu;
	atomic_int stop;
	uint64_t records;
};

/* Drains one batch like the collector, through bus/ring.h: the view loads
 * head only when it has caught up (A1, pairs with the producer's R1), every
 * record is validated and walked, tail is released once per batch (R2,
 * pairs with the producer's A2). Returns the records drained. */
static unsigned drain_batch(struct hb_ring_view *v)
{
	const struct hb_rec *r;
	unsigned n = 0;
	int rc;

	while ((rc = hb_ring_view_next(v, &r)) == 1 && ++n < 4096)
		;
	if (rc < 0) {
		fprintf(stderr, "bench_hb: corrupt ring: %s\n", strerror(-rc));
		exit(1);
	}
	if (n)
		hb_ring_view_release(v, v->cursor);
	return n;
}

/* Drains batch after batch; sleeps 20 us when empty. */
static void *drain_main(void *arg)
{
	struct drain *d = arg;

	bench_pin(d->cpu);
	while (!atomic_load_explicit(&d->stop, memory_order_relaxed)) {
		unsigned n = drain_batch(&d->v);

		d->records += n;
		if (!n)
			bench_sleep_ns(20000);
	}
	return NULL;
}

/* ---- the benchmark ----------------------------------------------------- */

static char syms[64][8];
static const char *label = "hb";

static void wait_room(struct hb_producer *p)
{
	uint64_t t0 = 0;
	unsigned spins = 0;

	while (atomic_load_explicit(&p->hdr->head, memory_order_relaxed) -
		       atomic_load_explicit(&p->hdr->tail, memory_order_acquire) >
	       p->size / 4) {
		if (++spins % 1024 == 0) {
			if (!t0)
				t0 = bench_mono_ns();
			else if (bench_mono_ns() - t0 > 5000000000u) {
				fprintf(stderr, "bench_hb: ring not drained for 5 s: is a consumer running?\n");
				exit(1);
			}
			bench_sleep_ns(10000);
		}
	}
}

static int shared_handle; /* --shared: the process-wide handle */

static int open_producer(struct hb_producer **p, const char *bus, unsigned ring_kb, int *type)
{
	static const struct hb_field fields[] = {
		{"n", HB_T_I64}, {"px", HB_T_F64}, {"sym", HB_T_STR}};
	struct hb_config cfg = {.bus = bus, .name = "bench-hb", .ring_kb = ring_kb,
				.single_thread = !shared_handle};
	int rc = hb_open(p, &cfg);

	if (rc < 0 || !(*p)->enabled) {
		fprintf(stderr, "bench_hb: hb_open: %s\n", strerror(-rc));
		return rc < 0 ? rc : -ENODEV;
	}
	*type = hb_type_register(*p, "bench.order", fields, 3);
	return *type < 0 ? *type : 0;
}

#define EMIT(p, type, k)                                                                           \
	hb_event((p), (type), HB_PRIO_NORMAL, (k) + 1, HB_I64(k), HB_F64((double)(k) * 0.25),     \
		 HB_STR(syms[(k) & 63]))

static int run_steady(const char *bus, unsigned long n, unsigned ring_kb)
{
	struct hb_producer *p;
	unsigned long a0, a1, i;
	int type, rc;
	uint64_t k = 0;

	rc = open_producer(&p, bus, ring_kb, &type);
	if (rc)
		return 1;
	EMIT(p, type, k);
	hb_tick(p);
	a0 = atomic_load(&bench_allocs);
	for (i = 0; i < n; i++, k++) {
		EMIT(p, type, k);
		hb_tick(p);
	}
	a1 = atomic_load(&bench_allocs);
	bench_result(shared_handle ? "hbp.steady.allocs" : "hb.steady.allocs", (double)(a1 - a0),
		     "allocs");
	bench_result(shared_handle ? "hbp.steady.dropped" : "hb.steady.dropped",
		     (double)hb__ring_of(p)->dropped, "records");
	hb_close(p);
	return 0;
}

static int run_cost(const char *bus, unsigned ring_kb, int external, int cpu, int drain_cpu, unsigned batches,
		    unsigned batch, unsigned singles)
{
	struct drain d = {.cpu = drain_cpu};
	struct bench_cost bc;
	struct hb_producer *p;
	pthread_t th;
	uint64_t k = 0, drop0, warm, i;
	int type, rc;
	char name[64];

	bench_pin(cpu);
	if (bench_cost_init(&bc, batches, batch, singles))
		return 1;
	rc = open_producer(&p, bus, ring_kb ? ring_kb : 1024, &type);
	if (rc)
		return 1;
	if (!external) {
		if (hb_ring_view_init(&d.v, p->hdr, HB_RING_HDR_SIZE + p->size)) {
			fprintf(stderr, "bench_hb: hb_ring_view_init failed\n");
			return 1;
		}
		pthread_create(&th, NULL, drain_main, &d);
	}
	/* warm up: two laps of the ring (pages and lines in their steady
	 * state), branches trained, first heartbeat emitted */
	warm = 2 * (uint64_t)p->size / 72;
	for (i = 0; i < (warm > 200000 ? warm : 200000); i++, k++) {
		if ((i & 255) == 0)
			wait_room(p);
		EMIT(p, type, k);
		hb_tick(p);
	}
	drop0 = p->dropped;
	snprintf(name, sizeof(name), "%s.event", label);
	BENCH_COST(name, &bc, wait_room(p), (EMIT(p, type, k), k++));
	snprintf(name, sizeof(name), "%s.tick", label);
	BENCH_COST(name, &bc, (void)0, hb_tick(p));
	/* the floor under both: the clock read of every event and tick */
	snprintf(name, sizeof(name), "%s.clock", label);
	BENCH_COST(name, &bc, (void)0, (void)hb_clock_raw(p));
	snprintf(name, sizeof(name), "%s.cost.dropped", label);
	bench_result(name, (double)(p->dropped - drop0), "records");
	bench_result("bench.tsc_ghz", bc.tpn, "GHz");
	bench_result("bench.tsc_overhead", bc.ovh / bc.tpn, "ns");
	wait_room(p);
	if (!external) {
		atomic_store(&d.stop, 1);
		pthread_join(th, NULL);
	}
	hb_close(p);
	return 0;
}

/* ---- N threads --------------------------------------------------------- */

#define BENCH_MAX_THREADS 16

struct tw {
	struct bench_tcost c;     /* first: bench_tcost_report's stride */
	struct hb_producer *p;    /* the handle this thread calls */
	struct hb_producer *ring; /* the ring its records go to */
	int type, cpu;
	pthread_barrier_t *ready;
	char shm[128];
};

/* Times the event call like BENCH_COST, into the thread's own arrays. */
static void *tw_main(void *arg)
{
	struct tw *w = arg;
	uint64_t k = 0, i;

	bench_pin(w->cpu);
	EMIT(w->p, w->type, k); /* the thread's first call makes its ring */
	k++;
	w->ring = hb__ring_of(w->p);
	pthread_barrier_wait(w->ready); /* main attaches the drain's views */
	pthread_barrier_wait(w->ready);
	for (i = 0; i < 200000; i++, k++) {
		if ((i & 255) == 0)
			wait_room(w->ring);
		EMIT(w->p, w->type, k);
	}
	BENCH_TCOST(&w->c, wait_room(w->ring), (EMIT(w->p, w->type, k), k++));
	return NULL;
}

struct mdrain {
	struct hb_ring_view v[BENCH_MAX_THREADS];
	unsigned n;
	int cpu;
	atomic_int stop;
};

/* One drain thread for every ring, a batch of each in turn. */
static void *mdrain_main(void *arg)
{
	struct mdrain *d = arg;

	bench_pin(d->cpu);
	while (!atomic_load_explicit(&d->stop, memory_order_relaxed)) {
		unsigned total = 0;

		for (unsigned i = 0; i < d->n; i++)
			total += drain_batch(&d->v[i]);
		if (!total)
			bench_sleep_ns(20000);
	}
	return NULL;
}

static int run_threads(const char *bus, unsigned n, int cpu, int drain_cpu, unsigned batches,
		       unsigned batch, unsigned singles)
{
	struct hb_producer *shared = NULL;
	struct mdrain d = {.n = n, .cpu = drain_cpu};
	struct tw w[BENCH_MAX_THREADS];
	pthread_t th[BENCH_MAX_THREADS], dt;
	pthread_barrier_t ready;
	struct bench_cost bc;
	uint64_t dropped = 0;
	int type = 0;
	char name[96];

	if (n < 1 || n > BENCH_MAX_THREADS || bench_cost_init(&bc, batches, batch, singles))
		return 2;
	if (!label || !strcmp(label, "hb")) {
		static char def[16];

		snprintf(def, sizeof(def), "%s%u", shared_handle ? "hbp" : "hbs", n);
		label = def;
	}
	if (shared_handle && open_producer(&shared, bus, 1024, &type))
		return 1;
	pthread_barrier_init(&ready, NULL, n + 1);
	for (unsigned i = 0; i < n; i++) {
		w[i] = (struct tw){.p = shared, .type = type, .cpu = cpu, .ready = &ready};
		if (bench_tcost_init(&w[i].c, &bc) ||
		    (!shared_handle && open_producer(&w[i].p, bus, 1024, &w[i].type)))
			return 1;
		pthread_create(&th[i], NULL, tw_main, &w[i]);
	}
	pthread_barrier_wait(&ready);
	/* the drain maps each ring itself: a thread's exit unmaps its ring in
	 * the thread's view of it (and closes it) */
	for (unsigned i = 0; i < n; i++) {
		snprintf(w[i].shm, sizeof(w[i].shm), "%s", w[i].ring->shm_name);
		if (hb_ring_view_attach(&d.v[i], w[i].shm)) {
			fprintf(stderr, "bench_hb: cannot attach %s\n", w[i].shm);
			return 1;
		}
	}
	pthread_create(&dt, NULL, mdrain_main, &d);
	pthread_barrier_wait(&ready);
	for (unsigned i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	atomic_store(&d.stop, 1);
	pthread_join(dt, NULL);
	for (unsigned i = 0; i < n; i++) {
		dropped += hb__load_relaxed(&d.v[i].hdr->dropped);
		hb_ring_view_detach(&d.v[i]);
	}
	snprintf(name, sizeof(name), "%s.event.dropped", label);
	bench_result(name, (double)dropped, "records");
	snprintf(name, sizeof(name), "%s.event", label);
	bench_tcost_report(name, &w[0].c, sizeof(w[0]), n);
	/* closed (by the threads' exits or here); no collector removes them */
	for (unsigned i = 0; i < n; i++) {
		if (!shared_handle)
			hb_close(w[i].p);
		shm_unlink(w[i].shm);
	}
	if (shared_handle)
		hb_close(shared);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"bus", 1, 0, 'b'},     {"drain", 1, 0, 'd'},   {"batches", 1, 0, 'n'},
		{"batch", 1, 0, 'B'},   {"singles", 1, 0, 's'}, {"cpu", 1, 0, 'c'},
		{"drain-cpu", 1, 0, 'C'}, {"steady", 1, 0, 'S'}, {"ring-kb", 1, 0, 'r'},
		{"label", 1, 0, 'L'},   {"threads", 1, 0, 'T'}, {"shared", 0, 0, 'P'},
		{0, 0, 0, 0}};
	const char *bus = "bench";
	unsigned batches = 20000, batch = 256, singles = 1000000, ring_kb = 0;
	unsigned long steady = 0;
	unsigned threads = 0;
	int external = 0, cpu = 0, drain_cpu = 1, c, i;

	for (i = 0; i < 64; i++)
		snprintf(syms[i], sizeof(syms[i]), "s%d", i);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'b': bus = optarg; break;
		case 'd': external = !strcmp(optarg, "external"); break;
		case 'n': batches = (unsigned)atoi(optarg); break;
		case 'B': batch = (unsigned)atoi(optarg); break;
		case 's': singles = (unsigned)atoi(optarg); break;
		case 'c': cpu = atoi(optarg); break;
		case 'C': drain_cpu = atoi(optarg); break;
		case 'S': steady = strtoul(optarg, NULL, 10); break;
		case 'r': ring_kb = (unsigned)atoi(optarg); break;
		case 'L': label = optarg; break;
		case 'T': threads = (unsigned)atoi(optarg); break;
		case 'P': shared_handle = 1; break;
		default: return 2;
		}
	}
	if (steady)
		return run_steady(bus, steady, ring_kb ? ring_kb : 65536);
	if (threads)
		return run_threads(bus, threads, cpu, drain_cpu, batches, batch, singles);
	return run_cost(bus, ring_kb, external, cpu, drain_cpu, batches, batch, singles);
}
