/* SPDX-License-Identifier: MIT */
/* liveness.c - the per-producer liveness state machine (see liveness.h). */
#include "liveness.h"

#include <stddef.h>

void hbc_live_init(struct hbc_liveness *l, uint64_t interval_ns, uint64_t now_ns)
{
	*l = (struct hbc_liveness){0};
	l->state = HB_STATE_UNKNOWN;
	l->interval_ns = interval_ns ? interval_ns : 1000000000u;
	l->since_ns = now_ns;
}

static int hbc_live_move(struct hbc_liveness *l, enum hb_state to, const char *why,
			uint64_t now_ns, struct hbc_live_change *ch)
{
	if (l->state == to || hb_state_final(l->state))
		return 0;
	if (ch)
		*ch = (struct hbc_live_change){.from = l->state, .to = to, .why = why};
	l->state = to;
	l->since_ns = now_ns;
	l->transitions++;
	return 1;
}

uint64_t hbc_live_age_ns(const struct hbc_liveness *l, uint64_t now_ns)
{
	uint64_t ref = l->heartbeats ? l->last_hb_ns : l->since_ns;

	return now_ns > ref ? now_ns - ref : 0;
}

/* Whole intervals missed in a silence of gap ns: a gap of about one
 * interval misses none, about two intervals misses one, and so on. */
static uint64_t hbc_live_missed_in(uint64_t gap, uint64_t interval)
{
	uint64_t n;

	if (gap * 2 <= interval * 3)
		return 0;
	n = (gap + interval / 2) / interval;
	return n > 0 ? n - 1 : 0;
}

uint64_t hbc_live_missed_now(const struct hbc_liveness *l, uint64_t now_ns)
{
	if (hb_state_final(l->state) || l->state == HB_STATE_BACKLOGGED)
		return 0;
	return hbc_live_missed_in(hbc_live_age_ns(l, now_ns), l->interval_ns);
}

/* The state the age of the newest heartbeat calls for. */
static enum hb_state hbc_live_by_age(const struct hbc_liveness *l, uint64_t now_ns)
{
	uint64_t age = hbc_live_age_ns(l, now_ns), iv = l->interval_ns;

	if (age > 3 * iv)
		return HB_STATE_DEAD;
	if (age * 2 > 3 * iv)
		return HB_STATE_LATE;
	return l->heartbeats ? HB_STATE_HEALTHY : HB_STATE_UNKNOWN;
}

int hbc_live_heartbeat(struct hbc_liveness *l, uint64_t hb_ns, uint64_t interval_ns,
		      uint64_t now_ns, struct hbc_live_change *ch)
{
	enum hb_state want;
	int64_t lat = (int64_t)(now_ns - hb_ns);

	if (hb_state_final(l->state))
		return 0;
	if (interval_ns)
		l->interval_ns = interval_ns;
	if (l->heartbeats && hb_ns > l->last_hb_ns)
		l->missed += hbc_live_missed_in(hb_ns - l->last_hb_ns, l->interval_ns);
	if (!l->heartbeats || hb_ns > l->last_hb_ns)
		l->last_hb_ns = hb_ns;
	l->heartbeats++;
	l->last_rx_ns = now_ns;
	l->latency_ns = lat;
	if (lat > l->latency_max_ns)
		l->latency_max_ns = lat;
	want = hbc_live_by_age(l, now_ns);
	if (want == HB_STATE_HEALTHY)
		return hbc_live_move(l, want, "heartbeat", now_ns, ch);
	/* An old heartbeat drained late proves nothing about now and never
	 * revives a producer. The first one heard sat in the ring while the
	 * collector was behind: that is a backlog, not the producer's fault;
	 * the checks age it to late and dead if nothing newer comes. */
	if (l->state != HB_STATE_UNKNOWN)
		return 0;
	return hbc_live_move(l, HB_STATE_BACKLOGGED, "stale-heartbeat", now_ns, ch);
}

/* Whether the producer's own latest heartbeat (ring header) is newer
 * than the archive's and on time: its heartbeats are missing for a reason
 * that is not the producer's. */
static int hbc_live_attempt_fresh(const struct hbc_liveness *l, uint64_t now_ns, uint64_t at)
{
	if (!at || (l->heartbeats && at <= l->last_hb_ns))
		return 0;
	return now_ns <= at || (now_ns - at) * 2 <= 3 * l->interval_ns;
}

int hbc_live_check(struct hbc_liveness *l, uint64_t now_ns, const struct hbc_live_obs *o,
		  struct hbc_live_change *ch)
{
	enum hb_state want, s = l->state;

	if (hb_state_final(s))
		return 0;
	if (!o->pid_alive)
		return hbc_live_move(l, HB_STATE_DEAD, "pid-gone", now_ns, ch);
	want = hbc_live_by_age(l, now_ns);
	if (want != HB_STATE_LATE && want != HB_STATE_DEAD)
		return 0; /* aging only makes things worse; recovery comes from heartbeats */
	if (hbc_live_attempt_fresh(l, now_ns, o->hb_attempt_ns))
		return hbc_live_move(l, HB_STATE_BACKLOGGED, "backlog", now_ns, ch);
	if (s == HB_STATE_DEAD || (s == HB_STATE_LATE && want == HB_STATE_LATE))
		return 0;
	/* One step per call, so late is always recorded before dead. */
	if (s != HB_STATE_LATE)
		want = HB_STATE_LATE;
	return hbc_live_move(l, want, want == HB_STATE_LATE ? "late" : "no-heartbeat", now_ns, ch);
}

int hbc_live_close(struct hbc_liveness *l, uint64_t now_ns, struct hbc_live_change *ch)
{
	return hbc_live_move(l, HB_STATE_EXITED, "closed", now_ns, ch);
}

int hbc_live_finish(struct hbc_liveness *l, enum hb_state to, const char *why, uint64_t now_ns,
		   struct hbc_live_change *ch)
{
	return hbc_live_move(l, to, why, now_ns, ch);
}
