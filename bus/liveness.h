/* SPDX-License-Identifier: MIT */
/*
 * liveness.h - per-producer liveness from heartbeats.
 *
 * Pure logic: every call takes the current wall-clock time (ns), so the
 * state machine runs the same on a real clock and in unit tests.
 *
 *   healthy --(no heartbeat for > 1.5 intervals)--> late
 *   late    --(no heartbeat for > 3 intervals)----> dead
 *   any     --(pid gone, ring not closed)---------> dead   (why "pid-gone")
 *   any     --(ring closed cleanly)---------------> exited (final)
 *   any     --(process gone, ring drained)--------> crashed (final)
 *   late/dead --(a fresh heartbeat)---------------> healthy
 *   healthy/late/dead --(heartbeats missing, but the producer's own
 *            latest heartbeat is fresh)-----------> backlogged
 *   backlogged --(that goes stale too)------------> late -> dead
 *
 * The states and their names are hb_state.h's. "Since the last heartbeat"
 * is measured from the heartbeat's own wall-clock time, so a heartbeat that
 * waited in a ring while the collector was away does not count as fresh.
 * The producer writes the time of every heartbeat it emits into its ring
 * header, dropped or not: when that is fresh but the archive's newest is
 * not, the heartbeats are behind the collector's drain or were lost to a
 * full ring, and the producer is backlogged, not late.
 */
#ifndef HB_BUS_LIVENESS_H
#define HB_BUS_LIVENESS_H

#include <stdint.h>

#include "hb_state.h"

struct hbc_liveness {
	enum hb_state state;
	uint64_t interval_ns;  /* heartbeat interval, from the latest heartbeat */
	uint64_t last_hb_ns;   /* wall-clock time of the newest heartbeat */
	uint64_t last_rx_ns;   /* when the collector received it */
	uint64_t since_ns;     /* when the current state was entered */
	uint64_t heartbeats;   /* heartbeats seen */
	uint64_t missed;       /* heartbeats that did not arrive in time, total */
	int64_t latency_ns;    /* receive time - heartbeat time, newest */
	int64_t latency_max_ns;
	uint64_t transitions;
};

/* A state change the caller should record (as a `state` bus record). */
struct hbc_live_change {
	enum hb_state from, to;
	/* "heartbeat", "stale-heartbeat" (to backlogged), "late", "no-heartbeat", "pid-gone",
	 * "backlog", "closed", or what hbc_live_finish was given */
	const char *why;
};

/* What the collector sees of a producer at a periodic check. */
struct hbc_live_obs {
	int pid_alive;        /* 0 when its process is known to be gone */
	uint64_t hb_attempt_ns; /* the producer's latest heartbeat time from its
				 * ring header, written or dropped; 0 unknown */
};

/* Starts tracking a producer first seen at now_ns (state unknown; it
 * counts from now as if a heartbeat had just been due). */
void hbc_live_init(struct hbc_liveness *l, uint64_t interval_ns, uint64_t now_ns);

/* A heartbeat emitted at hb_ns (wall clock) with interval interval_ns was
 * received at now_ns. Returns 1 and fills *ch on a state change, else 0. */
int hbc_live_heartbeat(struct hbc_liveness *l, uint64_t hb_ns, uint64_t interval_ns,
		      uint64_t now_ns, struct hbc_live_change *ch);

/* Periodic check at now_ns of what o says. Returns 1 and fills *ch on a
 * state change, else 0. Aging moves one step per call (healthy -> late ->
 * dead): call it until it returns 0 to record every step. A ring marked
 * closed is not checked at all (its producer is exiting). */
int hbc_live_check(struct hbc_liveness *l, uint64_t now_ns, const struct hbc_live_obs *o,
		  struct hbc_live_change *ch);

/* The producer closed its ring cleanly. Returns 1 and fills *ch unless it
 * was already exited. */
int hbc_live_close(struct hbc_liveness *l, uint64_t now_ns, struct hbc_live_change *ch);
/* The producer ends in final state `to` (crashed, quarantined) for why. */
int hbc_live_finish(struct hbc_liveness *l, enum hb_state to, const char *why, uint64_t now_ns,
		   struct hbc_live_change *ch);

/* Heartbeats missed right now (whole intervals past the due time of the
 * next one), 0 when on time. */
uint64_t hbc_live_missed_now(const struct hbc_liveness *l, uint64_t now_ns);

/* Nanoseconds since the newest heartbeat (or since tracking began). */
uint64_t hbc_live_age_ns(const struct hbc_liveness *l, uint64_t now_ns);

#endif
