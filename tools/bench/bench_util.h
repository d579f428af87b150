/* SPDX-License-Identifier: MIT */
/*
 * bench_util.h - shared helpers of the benchmark programs: TSC reads and
 * calibration, CPU pinning, percentiles, pacing, result lines.
 *
 * Every benchmark prints its figures as lines
 *   RESULT <name> <value> <unit>
 * which tools/bench/report.py aggregates over repetitions.
 */
#ifndef HB_BENCH_UTIL_H
#define HB_BENCH_UTIL_H

#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

/* rdtsc fenced on both sides so the measured code cannot move across it. */
static inline uint64_t bench_tsc(void)
{
	uint64_t t;

	_mm_lfence();
	t = __rdtsc();
	_mm_lfence();
	return t;
}

static inline uint64_t bench_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t bench_real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* TSC ticks per ns, measured against CLOCK_MONOTONIC_RAW over ~100 ms. */
static inline double bench_tsc_per_ns(void)
{
	static double r;
	uint64_t n0, n1, t0, t1;

	if (r > 0)
		return r;
	n0 = bench_mono_ns();
	t0 = bench_tsc();
	do
		n1 = bench_mono_ns();
	while (n1 - n0 < 100000000u);
	t1 = bench_tsc();
	r = (double)(t1 - t0) / (double)(n1 - n0);
	return r;
}

static int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median cost of an empty fenced rdtsc pair, in ticks. */
static inline double bench_tsc_overhead(void)
{
	enum { N = 10001 };
	static double s[N];
	uint64_t t0, t1;
	int i;

	for (i = 0; i < N; i++) {
		t0 = bench_tsc();
		t1 = bench_tsc();
		s[i] = (double)(t1 - t0);
	}
	qsort(s, N, sizeof(s[0]), bench_cmp_double);
	return s[N / 2];
}

static inline int bench_pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

/* Sorts v and returns the q-quantile (0..1), nearest rank. */
static inline double bench_quantile(double *v, size_t n, double q, int sorted)
{
	size_t i;

	if (!n)
		return 0;
	if (!sorted)
		qsort(v, n, sizeof(*v), bench_cmp_double);
	i = (size_t)(q * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

static inline double bench_mean(const double *v, size_t n)
{
	double s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s += v[i];
	return n ? s / (double)n : 0;
}

static inline void bench_result(const char *name, double value, const char *unit)
{
	if (value == (double)(int64_t)value && value < 1e15 && value > -1e15)
		printf("RESULT %s %lld %s\n", name, (long long)value, unit);
	else
		printf("RESULT %s %.6g %s\n", name, value, unit);
	fflush(stdout);
}

/* Prints median, p99, p99.9 of v (ns) as name.p50/.p99/.p999. */
static inline void bench_result_dist(const char *name, double *v, size_t n)
{
	char buf[128];

	qsort(v, n, sizeof(*v), bench_cmp_double);
	snprintf(buf, sizeof(buf), "%s.p50", name);
	bench_result(buf, bench_quantile(v, n, 0.5, 1), "ns");
	snprintf(buf, sizeof(buf), "%s.p99", name);
	bench_result(buf, bench_quantile(v, n, 0.99, 1), "ns");
	snprintf(buf, sizeof(buf), "%s.p999", name);
	bench_result(buf, bench_quantile(v, n, 0.999, 1), "ns");
}

static inline void bench_sleep_ns(uint64_t ns)
{
	struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};

	nanosleep(&ts, NULL);
}

/*
 * Pacing for rate-limited producers: call bench_pace_due() in the loop; it
 * returns how many more events may be sent now to keep `rate` per second
 * since start, sleeping ~20 us when none are due.
 */
struct bench_pace {
	uint64_t start_ns;
	double rate;
	uint64_t sent;
};

static inline uint64_t bench_pace_due(struct bench_pace *p)
{
	for (;;) {
		uint64_t now = bench_mono_ns();
		uint64_t want = (uint64_t)((double)(now - p->start_ns) * p->rate / 1e9);

		if (want > p->sent)
			return want - p->sent;
		bench_sleep_ns(20000);
	}
}

/*
 * Per-call cost of OP, two ways, both reported in ns:
 *  - label.batch: batches of `batch` back-to-back calls timed with one TSC
 *    pair each (per-call = batch time / batch); distribution over batches;
 *  - label.single: one TSC pair around each call, minus the measured cost
 *    of an empty pair; distribution over calls. On CPUs whose TSC
 *    advances in coarse steps (AMD Zen: 10 ns) single samples are
 *    quantized; their mean (label.single.mean) is not.
 * WAIT runs outside the timed regions (before each batch and every 64
 * single calls): it lets the consumer catch up so the ring/queue/pipe is
 * never full while timing (the figures are the no-backpressure cost).
 */
struct bench_cost {
	unsigned batches;
	unsigned batch;
	unsigned singles;
	double ovh;   /* empty fenced TSC pair, ticks */
	double tpn;   /* TSC ticks per ns */
	double *buf;  /* batches + singles doubles */
};

/*
 * The same two timings for one of several threads (bench_hb --threads,
 * bench_lttng --threads): each thread times OP into arrays of its own,
 * bench_cost_merge prints every thread's samples as one distribution (per
 * call per thread).
 */
struct bench_tcost {
	unsigned batches, batch, singles;
	double tpn, ovh;
	double *batch_ns, *single_ns;
};

#define BENCH_TCOST(tc, WAIT, OP)                                                                  \
	do {                                                                                       \
		struct bench_tcost *t_ = (tc);                                                     \
		unsigned b_, i_;                                                                   \
		for (b_ = 0; b_ < t_->batches; b_++) {                                             \
			uint64_t t0_, t1_;                                                         \
			WAIT;                                                                      \
			t0_ = bench_tsc();                                                         \
			for (i_ = 0; i_ < t_->batch; i_++) {                                       \
				OP;                                                                \
			}                                                                          \
			t1_ = bench_tsc();                                                         \
			t_->batch_ns[b_] = ((double)(t1_ - t0_) - t_->ovh) / t_->batch / t_->tpn;  \
		}                                                                                  \
		for (b_ = 0; b_ < t_->singles; b_++) {                                             \
			uint64_t t0_, t1_;                                                         \
			if ((b_ & 63) == 0) {                                                      \
				WAIT;                                                              \
			}                                                                          \
			t0_ = bench_tsc();                                                         \
			OP;                                                                        \
			t1_ = bench_tsc();                                                         \
			t_->single_ns[b_] = ((double)(t1_ - t0_) - t_->ovh) / t_->tpn;             \
		}                                                                                  \
	} while (0)

static inline int bench_tcost_init(struct bench_tcost *tc, const struct bench_cost *bc)
{
	tc->batches = bc->batches;
	tc->batch = bc->batch;
	tc->singles = bc->singles;
	tc->tpn = bc->tpn;
	tc->ovh = bc->ovh;
	tc->batch_ns = calloc(tc->batches ? tc->batches : 1, sizeof(double));
	tc->single_ns = calloc(tc->singles ? tc->singles : 1, sizeof(double));
	return tc->batch_ns && tc->single_ns ? 0 : -ENOMEM;
}

/* LABEL.batch.* and LABEL.single.* over the n threads' samples; tc[i] is
 * at (char *)tc + i * stride (the field of a larger per-thread struct). */
static inline void bench_tcost_report(const char *label, const void *tc, size_t stride, unsigned n)
{
	const struct bench_tcost *t0 = tc;
	size_t nb = t0->batches, ns = t0->singles, i;
	double *all = calloc((nb > ns ? nb : ns) * n + 1, sizeof(double));
	char buf[160];

	if (!all)
		exit(1);
	for (i = 0; i < n; i++)
		memcpy(all + i * nb, ((const struct bench_tcost *)((const char *)tc + i * stride))->batch_ns,
		       nb * sizeof(double));
	snprintf(buf, sizeof(buf), "%s.batch", label);
	bench_result_dist(buf, all, nb * n);
	for (i = 0; i < n; i++)
		memcpy(all + i * ns, ((const struct bench_tcost *)((const char *)tc + i * stride))->single_ns,
		       ns * sizeof(double));
	snprintf(buf, sizeof(buf), "%s.single.mean", label);
	bench_result(buf, bench_mean(all, ns * n), "ns");
	snprintf(buf, sizeof(buf), "%s.single", label);
	bench_result_dist(buf, all, ns * n);
	free(all);
}

/* One thread's timings, reported at once (buf holds batches + singles). */
#define BENCH_COST(label, bc, WAIT, OP)                                                            \
	do {                                                                                       \
		struct bench_cost *c_ = (bc);                                                      \
		struct bench_tcost tc_ = {c_->batches, c_->batch, c_->singles, c_->tpn, c_->ovh,  \
					  c_->buf, c_->buf + c_->batches};                         \
		BENCH_TCOST(&tc_, WAIT, OP);                                                       \
		bench_tcost_report((label), &tc_, sizeof(tc_), 1);                                 \
	} while (0)

/* Fills bc from the command line's sizes; calibrates the TSC. */
static inline int bench_cost_init(struct bench_cost *bc, unsigned batches, unsigned batch,
				  unsigned singles)
{
	bc->batches = batches;
	bc->batch = batch;
	bc->singles = singles;
	bc->tpn = bench_tsc_per_ns();
	bc->ovh = bench_tsc_overhead();
	bc->buf = calloc((size_t)batches + singles + 1, sizeof(double));
	return bc->buf ? 0 : -ENOMEM;
}

#endif
