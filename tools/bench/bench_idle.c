/* SPDX-License-Identifier: MIT */
/*
 * bench_idle - N idle producers attached to a bus: N handles ("bidle-<i>")
 * in one process, no events, one thread calling hb_tick on each every
 * 100 ms (heartbeat interval 1 s), for --seconds.
 *
 *   bench_idle [--bus B] [--producers N (default 64)] [--seconds S]
 */
#include "hb.h"
#include "bench_util.h"

#include <getopt.h>

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"bus", 1, 0, 'b'}, {"producers", 1, 0, 'n'}, {"seconds", 1, 0, 'S'}, {0, 0, 0, 0}};
	struct hb_producer **p;
	const char *bus = "bench";
	double seconds = 10;
	uint64_t end;
	int n = 64, c, i;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'b': bus = optarg; break;
		case 'n': n = atoi(optarg); break;
		case 'S': seconds = atof(optarg); break;
		default: return 2;
		}
	}
	if (n < 1 || n > 4096)
		return 2;
	p = calloc((size_t)n, sizeof(*p));
	for (i = 0; i < n; i++) {
		char name[32];
		struct hb_config cfg = {.bus = bus, .name = name,
					.interval_ms = 1000, .ring_kb = 64};

		snprintf(name, sizeof(name), "bidle-%d", i);
		if (hb_open(&p[i], &cfg) < 0 || !p[i]->enabled) {
			fprintf(stderr, "bench_idle: cannot open producer %d\n", i);
			return 1;
		}
	}
	printf("bench_idle: %d producers attached\n", n);
	fflush(stdout);
	end = bench_mono_ns() + (uint64_t)(seconds * 1e9);
	while (bench_mono_ns() < end) {
		for (i = 0; i < n; i++)
			hb_tick(p[i]);
		bench_sleep_ns(100000000u);
	}
	for (i = 0; i < n; i++)
		hb_close(p[i]);
	return 0;
}
