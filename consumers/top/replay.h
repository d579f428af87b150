/* SPDX-License-Identifier: MIT */
/*
 * replay.h - the replay clock of `hbtop --replay`: archive records are
 * folded into the model when a clock running at `speed` times wall time
 * reaches their timestamp; the clock can be paused and stepped.
 */
#ifndef HB_TOP_REPLAY_H
#define HB_TOP_REPLAY_H

#include <pthread.h>
#include <stdint.h>

struct top_replay {
	pthread_mutex_t mu;
	pthread_cond_t cv; /* signalled on pause, step, stop */
	double speed;      /* > 0; 0 = as fast as possible */
	int started, paused, stop;
	uint64_t t0_rec;   /* record time at wall time w0 */
	uint64_t w0;       /* CLOCK_MONOTONIC ns */
	uint64_t held;     /* record time while paused */
};

int top_replay_init(struct top_replay *r, double speed);
void top_replay_destroy(struct top_replay *r);
/* Blocks until the clock reaches ts (starting it at the first call), or
 * until stopped. */
void top_replay_wait(struct top_replay *r, uint64_t ts);
/* The clock in record time; dflt before the first record. */
uint64_t top_replay_now(struct top_replay *r, uint64_t dflt);
void top_replay_pause(struct top_replay *r, int on);
/* While paused: moves the clock ns forward. */
void top_replay_step(struct top_replay *r, uint64_t ns);
void top_replay_stop(struct top_replay *r);

#endif
