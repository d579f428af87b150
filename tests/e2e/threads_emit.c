/* SPDX-License-Identifier: MIT */
/*
 * threads_emit.c - 8 threads share one process-wide handle: each tags
 * itself "wI" and emits N events "thr.ev" (t = I, n = 0..N-1), bumping the
 * counter "thr.count" once per event. Threads 0-3 run to the end and exit
 * while 4-7 wait half-way until the main thread has joined them (and slept
 * SETTLE_MS, for the collector to see them exit); then 4-7 finish. The
 * main thread heartbeats while 4-7 wait (the counter's total is then 6N)
 * and at the end, and closes. Lossless (blocking) rings.
 *
 *   threads_emit N SETTLE_MS
 */
#include <hb.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define NT 8
#define EARLY 4

static struct hb_producer *p;
static int type, counter;
static uint64_t nev;
static pthread_barrier_t half, resume;

static int run(uint64_t t, uint64_t from, uint64_t to)
{
	for (uint64_t n = from; n < to; n++) {
		if (hb_event(p, (unsigned)type, HB_PRIO_NORMAL, n + 1, HB_U64(t), HB_U64(n)) ||
		    hb_counter_add(p, (unsigned)counter, 1) || hb_tick(p) < 0)
			return -1;
	}
	return 0;
}

static void *work(void *arg)
{
	uint64_t t = (uint64_t)(uintptr_t)arg;
	char tag[8];
	int rc;

	snprintf(tag, sizeof(tag), "w%d", (int)t);
	hb_thread_tag_set(tag);
	rc = run(t, 0, nev / 2);
	if (t >= EARLY) {
		pthread_barrier_wait(&half);
		pthread_barrier_wait(&resume);
	}
	if (!rc)
		rc = run(t, nev / 2, nev);
	return (void *)(intptr_t)rc;
}

int main(int argc, char **argv)
{
	static const struct hb_field f[] = {{"t", HB_T_U64}, {"n", HB_T_U64}};
	struct hb_config cfg = {.name = "thr", .ring_kb = 2048, .blocking = 1};
	struct timespec settle = {0, 0};
	pthread_t th[NT];
	void *rc;
	int bad = 0;

	if (argc != 3)
		return 2;
	nev = strtoull(argv[1], NULL, 10) & ~1ull;
	settle.tv_sec = atoi(argv[2]) / 1000;
	settle.tv_nsec = (atoi(argv[2]) % 1000) * 1000000L;
	if (hb_open(&p, &cfg) || (type = hb_type_register(p, "thr.ev", f, 2)) < 0 ||
	    (counter = hb_metric_register(p, "thr.count", HB_METRIC_COUNTER)) < 0)
		return 1;
	pthread_barrier_init(&half, NULL, NT - EARLY + 1);
	pthread_barrier_init(&resume, NULL, NT - EARLY + 1);
	for (int i = 0; i < NT; i++)
		pthread_create(&th[i], NULL, work, (void *)(uintptr_t)i);
	pthread_barrier_wait(&half);
	for (int i = 0; i < EARLY; i++) {
		pthread_join(th[i], &rc);
		bad |= rc != NULL;
	}
	/* 4 threads done, 4 half-way: the total is 6N, from live and exited */
	bad |= hb_heartbeat(p) != 0;
	nanosleep(&settle, NULL);
	pthread_barrier_wait(&resume);
	for (int i = EARLY; i < NT; i++) {
		pthread_join(th[i], &rc);
		bad |= rc != NULL;
	}
	bad |= hb_heartbeat(p) != 0;
	hb_close(p);
	return bad;
}
