/* SPDX-License-Identifier: MIT */
/*
 * bench_load - hb load for the end-to-end figures: N producer threads, one
 * handle each ("bload-<i>"), each emitting hb's bench.order event (the
 * shape the peers use) at rate/N per second, for a time or a count.
 *
 *   bench_load [--bus B] [--producers N] [--rate R (total/s, 0 = flat out)]
 *              [--seconds S | --records N (per producer)] [--block]
 *              [--ring-kb K]
 *
 * Prints RESULT lines: load.attempted, load.dropped, load.seconds,
 * load.rate (attempted per second).
 */
#include "hb.h"
#include "bench_util.h"

#include <getopt.h>
#include <pthread.h>

static char syms[64][8];
static const char *bus = "bench";
static double rate_each, seconds = 1;
static uint64_t records;
static int blocking;
static unsigned ring_kb;

struct worker {
	pthread_t th;
	int idx;
	int rc;
	uint64_t attempted, dropped;
	struct hb_producer *p;
	int type;
};

static int worker_open(struct worker *w)
{
	static const struct hb_field fields[] = {
		{"n", HB_T_I64}, {"px", HB_T_F64}, {"sym", HB_T_STR}};
	char name[32];
	/* a handle per thread that is its ring (single_thread), so that
	 * p->dropped is that ring's drop count */
	struct hb_config cfg = {.bus = bus, .name = name, .single_thread = 1,
				.blocking = blocking, .ring_kb = ring_kb};
	int rc;

	snprintf(name, sizeof(name), "bload-%d", w->idx);
	rc = hb_open(&w->p, &cfg);
	if (rc < 0 || !w->p->enabled)
		return rc < 0 ? rc : -ENODEV;
	w->type = hb_type_register(w->p, "bench.order", fields, 3);
	return w->type < 0 ? w->type : 0;
}

static inline void emit(struct worker *w, uint64_t k)
{
	hb_event(w->p, w->type, HB_PRIO_NORMAL, k + 1, HB_I64(k), HB_F64((double)k * 0.25),
		 HB_STR(syms[k & 63]));
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct bench_pace pc = {.start_ns = bench_mono_ns(), .rate = rate_each};
	uint64_t k = 0, end = pc.start_ns + (uint64_t)(seconds * 1e9);

	while (records ? k < records : bench_mono_ns() < end) {
		uint64_t n = 256;

		if (rate_each > 0)
			n = bench_pace_due(&pc);
		if (records && n > records - k)
			n = records - k;
		if (n > 4096)
			n = 4096;
		for (uint64_t i = 0; i < n; i++, k++)
			emit(w, k);
		pc.sent = k;
		hb_tick(w->p);
	}
	w->attempted = k;
	w->dropped = w->p->dropped;
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"bus", 1, 0, 'b'},     {"producers", 1, 0, 'n'}, {"rate", 1, 0, 'r'},
		{"seconds", 1, 0, 'S'}, {"records", 1, 0, 'N'},   {"block", 0, 0, 'k'},
		{"ring-kb", 1, 0, 'K'}, {0, 0, 0, 0}};
	struct worker *w;
	uint64_t att = 0, drop = 0, t0, t;
	double rate = 0;
	int n = 1, c, i;

	for (i = 0; i < 64; i++)
		snprintf(syms[i], sizeof(syms[i]), "s%d", i);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'b': bus = optarg; break;
		case 'n': n = atoi(optarg); break;
		case 'r': rate = atof(optarg); break;
		case 'S': seconds = atof(optarg); break;
		case 'N': records = strtoull(optarg, NULL, 10); break;
		case 'k': blocking = 1; break;
		case 'K': ring_kb = (unsigned)atoi(optarg); break;
		default: return 2;
		}
	}
	if (n < 1 || n > 1024)
		return 2;
	rate_each = rate / n;
	w = calloc((size_t)n, sizeof(*w));
	for (i = 0; i < n; i++) {
		w[i].idx = i;
		if (worker_open(&w[i])) {
			fprintf(stderr, "bench_load: cannot open producer %d\n", i);
			return 1;
		}
	}
	t0 = bench_mono_ns();
	for (i = 0; i < n; i++)
		pthread_create(&w[i].th, NULL, worker_main, &w[i]);
	for (i = 0; i < n; i++) {
		pthread_join(w[i].th, NULL);
		att += w[i].attempted;
		drop += w[i].dropped;
	}
	t = bench_mono_ns() - t0;
	for (i = 0; i < n; i++)
		hb_close(w[i].p);
	bench_result("load.attempted", (double)att, "records");
	bench_result("load.dropped", (double)drop, "records");
	bench_result("load.seconds", (double)t / 1e9, "s");
	bench_result("load.rate", (double)att * 1e9 / (double)t, "records/s");
	return 0;
}
