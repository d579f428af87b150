/* SPDX-License-Identifier: MIT */
/*
 * ticker - a small producer for demos and tests: heartbeats at an
 * interval, events at a rate, counters, a gauge and a timing.
 *
 *   ticker [--name N] [--interval-ms MS] [--rate R] [--count N]
 *          [--seconds S] [--stall-after S]
 *
 * --count N: emit exactly N events, then keep heartbeating until --seconds
 * (or SIGTERM). --stall-after S: stop calling hb_tick after S seconds (the
 * process stays alive, so only the missing heartbeats tell). SIGUSR1
 * stalls at once. SIGTERM/SIGINT: hb_close and exit 0.
 */
#include <hb.h>

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop, stall;

static void on_sig(int sig)
{
	if (sig == SIGUSR1)
		stall = 1;
	else
		stop = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"name", 1, 0, 'n'},    {"interval-ms", 1, 0, 'i'}, {"rate", 1, 0, 'r'},
		{"count", 1, 0, 'c'},   {"seconds", 1, 0, 's'},     {"stall-after", 1, 0, 'S'},
		{"help", 0, 0, 'h'},    {0, 0, 0, 0},
	};
	struct hb_config cfg = {.name = "ticker", .interval_ms = 200};
	const struct hb_field fields[] = {{"n", HB_T_I64}, {"ok", HB_T_BOOL}};
	double rate = 100, seconds = 0, stall_after = 0, t0, next;
	long long count = -1, sent = 0;
	struct hb_producer *p;
	int ch, type, m_sent, m_err, m_depth, m_work;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'n': cfg.name = optarg; break;
		case 'i': cfg.interval_ms = (unsigned)atoi(optarg); break;
		case 'r': rate = atof(optarg); break;
		case 'c': count = atoll(optarg); break;
		case 's': seconds = atof(optarg); break;
		case 'S': stall_after = atof(optarg); break;
		case 'h':
			puts("usage: ticker [--name N] [--interval-ms MS] [--rate R] [--count N] "
			     "[--seconds S] [--stall-after S]");
			return 0;
		default: return 2;
		}
	}
	signal(SIGTERM, on_sig);
	signal(SIGINT, on_sig);
	signal(SIGUSR1, on_sig);
	if (hb_open(&p, &cfg)) {
		fprintf(stderr, "ticker: cannot open the bus\n");
		return 1;
	}
	type = hb_type_register(p, "tick.work", fields, 2);
	m_sent = hb_metric_register(p, "tick.sent", HB_METRIC_COUNTER);
	m_err = hb_metric_register(p, "tick.errors", HB_METRIC_COUNTER);
	m_depth = hb_metric_register(p, "tick.depth", HB_METRIC_GAUGE);
	m_work = hb_metric_register(p, "tick.work", HB_METRIC_TIMING);
	printf("ticker: %s pid %d\n", cfg.name, (int)getpid());
	fflush(stdout);
	t0 = next = now_s();
	while (!stop && (seconds <= 0 || now_s() - t0 < seconds)) {
		double t = now_s();

		if (stall_after > 0 && t - t0 >= stall_after)
			stall = 1;
		if (!stall)
			hb_tick(p);
		if (rate > 0 && (count < 0 || sent < count) && t >= next) {
			uint64_t s = (uint64_t)(t * 1e9);

			hb_event(p, (unsigned)type, HB_PRIO_NORMAL, 0, HB_I64(sent), HB_BOOL(sent % 2));
			hb_counter_add(p, (unsigned)m_sent, 1);
			if (sent % 10 == 0)
				hb_counter_add(p, (unsigned)m_err, 1);
			hb_gauge_set(p, (unsigned)m_depth, (double)(sent % 7));
			hb_timing_add(p, (unsigned)m_work, (uint64_t)(now_s() * 1e9) - s + 1000);
			sent++;
			next += 1.0 / rate;
			continue;
		}
		usleep(2000);
	}
	hb_close(p);
	printf("ticker: %s sent %lld\n", cfg.name, sent);
	return 0;
}
