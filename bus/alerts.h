/* SPDX-License-Identifier: MIT */
/*
 * alerts.h - threshold rules evaluated per producer, with hysteresis.
 *
 * A rule is one line of whitespace-separated words:
 *
 *   NAME rate METRIC > X [clear Y] [producer GLOB]   counter METRIC rises
 *                                                     faster than X per second
 *   NAME fill > P% [clear Q%] [producer GLOB]         ring fill above P percent
 *   NAME state late|dead [producer GLOB]              producer late, dead or
 *                                                     crashed (late), or dead
 *                                                     or crashed (dead)
 *
 * A rule fires when its value goes above X (or P) and clears when it falls
 * to Y (or Q) or below; the default clear level is 80% of the firing one.
 * State rules clear when the producer is healthy again, backlogged (not
 * its fault) or exits; a crashed producer's stay active until the
 * collector forgets it (its retention, hbc_alerts_forget). Words from a
 * '#' on are a comment. Each
 * producer matching GLOB (default "*") has its own instance of each rule.
 */
#ifndef HB_BUS_ALERTS_H
#define HB_BUS_ALERTS_H

#include <stddef.h>
#include <stdint.h>

#include "liveness.h"

#define HBC_ALERT_NAME_MAX 64
#define HBC_ALERT_TEXT_MAX 256

enum hbc_alert_kind {
	HBC_ALERT_RATE = 1,
	HBC_ALERT_FILL = 2,
	HBC_ALERT_STATE = 3,
};

struct hbc_alert_rule {
	char name[HBC_ALERT_NAME_MAX];
	char text[HBC_ALERT_TEXT_MAX]; /* the rule as written, after the name */
	enum hbc_alert_kind kind;
	char metric[64];
	char producer[64]; /* glob on the producer name */
	double fire;       /* rate: per second; fill: ratio 0..1 */
	double clear;
	enum hb_state state; /* state rules: HB_STATE_LATE or HB_STATE_DEAD */
};

struct hbc_alert_inst {
	uint32_t rule;
	uint32_t p;
	int active;
	int have_prev;
	uint64_t prev_val;
	uint64_t prev_ns;
	double value;
};

struct hbc_alerts {
	struct hbc_alert_rule *rules;
	uint32_t nrules;
	struct hbc_alert_inst *inst;
	size_t ninst, cap;
};

/* What one producer looks like at one moment. Counters are given by name:
 * metric_names[i] with value counters[i]; other kinds are not listed. */
struct hbc_alert_input {
	uint32_t p;
	const char *producer;
	uint64_t ts_ns;    /* time the values refer to (heartbeat time) */
	double fill;       /* ring fill ratio, < 0 when unknown */
	enum hb_state state;
	uint32_t ncounters;
	const char *const *counter_names;
	const uint64_t *counters;
};

/* A rule fired or cleared for a producer. */
struct hbc_alert_event {
	const struct hbc_alert_rule *rule;
	uint32_t p;
	const char *producer;
	int fired;          /* 1 fired, 0 cleared */
	double value;       /* rate (/s), fill ratio, or the state number */
	double threshold;   /* the level crossed */
	const char *why;    /* cleared only: "below", "gone", or the state now
			     * ("healthy", "exited", "backlogged", ...) */
};

typedef void (*hbc_alert_fn)(void *ctx, const struct hbc_alert_event *ev);

/* Parses one rule; on error returns -EINVAL with a message in err. */
int hbc_alert_parse(const char *spec, struct hbc_alert_rule *r, char *err, size_t errlen);
/* Adds a rule to a (zero-initialised) set. 0, -EINVAL (message in err) or
 * -ENOMEM. */
int hbc_alerts_add(struct hbc_alerts *a, const char *spec, char *err, size_t errlen);
/* Adds every rule of a file (one per line, '#' comments, blank lines ok).
 * Errors name the line: "FILE:LINE: message". */
int hbc_alerts_load(struct hbc_alerts *a, const char *path, char *err, size_t errlen);
/* Evaluates every rule for one producer; calls fn for each fire/clear.
 * Returns the number of events. */
int hbc_alerts_eval(struct hbc_alerts *a, const struct hbc_alert_input *in, hbc_alert_fn fn,
		   void *ctx);
/* The producer is gone for good: clears its active alerts (why "gone")
 * and forgets its instances. */
void hbc_alerts_forget(struct hbc_alerts *a, uint32_t p, const char *producer, hbc_alert_fn fn,
		      void *ctx);
/* Number of active alerts (all producers, or of producer p when p_only). */
unsigned hbc_alerts_active(const struct hbc_alerts *a, int p_only, uint32_t p);
void hbc_alerts_free(struct hbc_alerts *a);

#endif
