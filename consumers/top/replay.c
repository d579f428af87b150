/* SPDX-License-Identifier: MIT */
/* The replay clock of `hbtop --replay` (see replay.h). */
#include "replay.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#define TOP_REPLAY_SLICE_NS 100000000ull /* wake at least this often */

static uint64_t top_replay_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int top_replay_init(struct top_replay *r, double speed)
{
	pthread_condattr_t ca;

	memset(r, 0, sizeof(*r));
	r->speed = speed;
	pthread_mutex_init(&r->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cv, &ca);
	pthread_condattr_destroy(&ca);
	return 0;
}

void top_replay_destroy(struct top_replay *r)
{
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
}

/* Caller holds mu. */
static uint64_t top_replay_clock(const struct top_replay *r)
{
	if (r->paused)
		return r->held;
	return r->t0_rec + (uint64_t)((double)(top_replay_mono() - r->w0) * r->speed);
}

void top_replay_wait(struct top_replay *r, uint64_t ts)
{
	pthread_mutex_lock(&r->mu);
	if (!r->started) {
		r->started = 1;
		r->t0_rec = r->held = ts;
		r->w0 = top_replay_mono();
	}
	while (!r->stop && r->speed > 0 && top_replay_clock(r) < ts) {
		uint64_t d = TOP_REPLAY_SLICE_NS, at;
		struct timespec dl;

		if (!r->paused) {
			uint64_t left = (uint64_t)((double)(ts - top_replay_clock(r)) / r->speed);

			if (left < d)
				d = left + 1;
		}
		at = top_replay_mono() + d;
		dl.tv_sec = (time_t)(at / 1000000000u);
		dl.tv_nsec = (long)(at % 1000000000u);
		pthread_cond_timedwait(&r->cv, &r->mu, &dl);
	}
	pthread_mutex_unlock(&r->mu);
}

uint64_t top_replay_now(struct top_replay *r, uint64_t dflt)
{
	uint64_t now;

	pthread_mutex_lock(&r->mu);
	now = r->started && r->speed > 0 ? top_replay_clock(r) : dflt;
	pthread_mutex_unlock(&r->mu);
	return now;
}

void top_replay_pause(struct top_replay *r, int on)
{
	pthread_mutex_lock(&r->mu);
	if (on && !r->paused) {
		r->held = top_replay_clock(r);
		r->paused = 1;
	} else if (!on && r->paused) {
		r->paused = 0;
		r->t0_rec = r->held;
		r->w0 = top_replay_mono();
	}
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

void top_replay_step(struct top_replay *r, uint64_t ns)
{
	pthread_mutex_lock(&r->mu);
	if (r->paused)
		r->held += ns;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

void top_replay_stop(struct top_replay *r)
{
	pthread_mutex_lock(&r->mu);
	r->stop = 1;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}
