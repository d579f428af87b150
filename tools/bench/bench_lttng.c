/* SPDX-License-Identifier: MIT */
/*
 * bench_lttng - the LTTng-UST peer: one tracepoint with hb's bench.order
 * record shape (hb_bench_tp.h), run under an active session that
 * tools/bench.sh sets up (discard mode, 8 x 4 MiB sub-buffers).
 *
 *   bench_lttng --cost [--batches N] [--batch N] [--singles N] [--pace R]
 *       per-call cost like bench_hb; between batches the caller is paced
 *       to R events/s (default 1000000) so the consumer daemon keeps up.
 *   bench_lttng --cost --threads N [--cpu C] ...
 *       the same from N threads at once, all on core C (default 0), each
 *       paced to R/N; every thread's samples merged as lttngN.event
 *       (per call per thread), beside bench_hb --threads.
 *   bench_lttng --rate R --seconds S     emit at R events/s (0 = flat out)
 *   bench_lttng --count N                emit N events flat out
 */
#include "bench_util.h"
#include "hb_bench_tp.h"

#include <getopt.h>
#include <pthread.h>

static char syms[64][8];

#define EMIT(k)                                                                                    \
	lttng_ust_tracepoint(hb_bench, order, 1, (uint64_t)(k) + 1, (int64_t)(k),                 \
			     (double)(k) * 0.25, syms[(k) & 63])

static void pace(struct bench_pace *p, uint64_t emitted)
{
	p->sent = emitted;
	while (bench_pace_due(p) < 256)
		bench_sleep_ns(20000);
}

static int run_cost(unsigned batches, unsigned batch, unsigned singles, double rate)
{
	struct bench_pace pc = {.start_ns = bench_mono_ns(), .rate = rate};
	struct bench_cost bc;
	uint64_t k = 0;

	if (bench_cost_init(&bc, batches, batch, singles))
		return 1;
	for (unsigned i = 0; i < 100000; i++, k++) {
		if ((i & 255) == 0)
			pace(&pc, k);
		EMIT(k);
	}
	BENCH_COST("lttng.event", &bc, pace(&pc, k), { EMIT(k); k++; });
	bench_result("lttng.cost.events", (double)k, "events");
	return 0;
}

struct lt_thread {
	struct bench_tcost c; /* first: bench_tcost_report's stride */
	double rate;
	int cpu;
};

static void *lt_thread_main(void *arg)
{
	struct lt_thread *t = arg;
	struct bench_pace pc = {.start_ns = bench_mono_ns(), .rate = t->rate};
	uint64_t k = 0;

	bench_pin(t->cpu);
	for (unsigned i = 0; i < 100000; i++, k++) {
		if ((i & 255) == 0)
			pace(&pc, k);
		EMIT(k);
	}
	BENCH_TCOST(&t->c, pace(&pc, k), { EMIT(k); k++; });
	return NULL;
}

static int run_cost_threads(unsigned n, int cpu, unsigned batches, unsigned batch,
			    unsigned singles, double rate)
{
	struct lt_thread t[16];
	pthread_t th[16];
	struct bench_cost bc;
	char label[32];

	if (n < 1 || n > 16 || bench_cost_init(&bc, batches, batch, singles))
		return 2;
	for (unsigned i = 0; i < n; i++) {
		t[i] = (struct lt_thread){.rate = rate / n, .cpu = cpu};
		if (bench_tcost_init(&t[i].c, &bc))
			return 1;
		pthread_create(&th[i], NULL, lt_thread_main, &t[i]);
	}
	for (unsigned i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	snprintf(label, sizeof(label), "lttng%u.event", n);
	bench_tcost_report(label, &t[0].c, sizeof(t[0]), n);
	return 0;
}

static int run_rate(double rate, double seconds, uint64_t count)
{
	struct bench_pace pc = {.start_ns = bench_mono_ns(), .rate = rate};
	uint64_t k = 0, end = pc.start_ns + (uint64_t)(seconds * 1e9), t;

	if (count) {
		for (k = 0; k < count; k++)
			EMIT(k);
	} else if (rate <= 0) {
		do {
			for (unsigned i = 0; i < 1024; i++, k++)
				EMIT(k);
		} while (bench_mono_ns() < end);
	} else {
		while (bench_mono_ns() < end) {
			uint64_t due = bench_pace_due(&pc);

			if (due > 4096)
				due = 4096;
			for (uint64_t i = 0; i < due; i++, k++)
				EMIT(k);
			pc.sent = k;
		}
	}
	t = bench_mono_ns() - pc.start_ns;
	bench_result("lttng.load.attempted", (double)k, "events");
	bench_result("lttng.load.seconds", (double)t / 1e9, "s");
	bench_result("lttng.load.rate", (double)k * 1e9 / (double)t, "events/s");
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"cost", 0, 0, 'x'},    {"batches", 1, 0, 'n'}, {"batch", 1, 0, 'B'},
		{"singles", 1, 0, 's'}, {"pace", 1, 0, 'P'},    {"rate", 1, 0, 'r'},
		{"seconds", 1, 0, 'S'}, {"count", 1, 0, 'N'},   {"threads", 1, 0, 'T'},
		{"cpu", 1, 0, 'c'},     {0, 0, 0, 0}};
	unsigned batches = 2000, batch = 256, singles = 200000;
	double pace_rate = 1e6, rate = 0, seconds = 1;
	uint64_t count = 0;
	int cost = 0, c, i, cpu = 0;
	unsigned threads = 0;

	for (i = 0; i < 64; i++)
		snprintf(syms[i], sizeof(syms[i]), "s%d", i);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'x': cost = 1; break;
		case 'n': batches = (unsigned)atoi(optarg); break;
		case 'B': batch = (unsigned)atoi(optarg); break;
		case 's': singles = (unsigned)atoi(optarg); break;
		case 'P': pace_rate = atof(optarg); break;
		case 'r': rate = atof(optarg); break;
		case 'S': seconds = atof(optarg); break;
		case 'N': count = strtoull(optarg, NULL, 10); break;
		case 'T': threads = (unsigned)atoi(optarg); break;
		case 'c': cpu = atoi(optarg); break;
		default: return 2;
		}
	}
	if (cost && threads)
		return run_cost_threads(threads, cpu, batches, batch, singles, pace_rate);
	if (cost)
		return run_cost(batches, batch, singles, pace_rate);
	return run_rate(rate, seconds, count);
}
