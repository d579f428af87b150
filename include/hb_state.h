/* SPDX-License-Identifier: MIT */
/*
 * hb_state.h - the producer states of the bus, one vocabulary for every
 * side: the collector writes them in `state` records (docs/FORMAT.md) and
 * in hb_producer_state{state} on /metrics, hbtop, hbcat and hbreplay read
 * them back. Dependency-free, C and C++.
 *
 *   unknown      tracked, no heartbeat seen yet
 *   healthy      heartbeats arrive on time
 *   late         no heartbeat for more than 1.5 intervals
 *   dead         no heartbeat for more than 3 intervals, or its process is
 *                gone while its ring still holds records
 *   exited       closed its ring cleanly (final)
 *   crashed      its process is gone and its ring is drained (final)
 *   backlogged   heartbeats are missing from the archive but the producer
 *                is not to blame: it is still heartbeating (the ring header
 *                says so) while its heartbeats wait in the ring behind a
 *                collector that fell behind, or were dropped on a full ring
 *   quarantined  its ring failed validation (final)
 */
#ifndef HB_STATE_H
#define HB_STATE_H

#include <stddef.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

enum hb_state {
	HB_STATE_UNKNOWN = 0,
	HB_STATE_HEALTHY = 1,
	HB_STATE_LATE = 2,
	HB_STATE_DEAD = 3,
	HB_STATE_EXITED = 4,
	HB_STATE_CRASHED = 5,
	HB_STATE_BACKLOGGED = 6,
	HB_STATE_QUARANTINED = 7,
	HB_STATE_N
};

static inline const char *hb_state_name(enum hb_state s)
{
	static const char *const names[HB_STATE_N] = {
		"unknown", "healthy", "late",       "dead",
		"exited",  "crashed", "backlogged", "quarantined",
	};

	return (unsigned)s < HB_STATE_N ? names[s] : "unknown";
}

/* The state named by the n bytes at s; HB_STATE_UNKNOWN for any other. */
static inline enum hb_state hb_state_parse(const char *s, size_t n)
{
	unsigned i;

	for (i = 0; s && i < HB_STATE_N; i++) {
		const char *name = hb_state_name((enum hb_state)i);

		if (strlen(name) == n && !memcmp(name, s, n))
			return (enum hb_state)i;
	}
	return HB_STATE_UNKNOWN;
}

/* 1 for the states a producer never leaves (exited, crashed, quarantined). */
static inline int hb_state_final(enum hb_state s)
{
	return s == HB_STATE_EXITED || s == HB_STATE_CRASHED || s == HB_STATE_QUARANTINED;
}

/* 1 when the producer is to blame: dead or crashed (what "down" alerts
 * and rules fire on). */
static inline int hb_state_down(enum hb_state s)
{
	return s == HB_STATE_DEAD || s == HB_STATE_CRASHED;
}

#ifdef __cplusplus
}
#endif
#endif /* HB_STATE_H */
