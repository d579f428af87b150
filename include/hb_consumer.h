/* SPDX-License-Identifier: MIT */
/*
 * hb_consumer.h - run handler functions over hb archives (files,
 * directories, or the live archive followed across rotations).
 *
 * A program registers handlers for event types (glob on the type name),
 * for heartbeats and for bus records (glob on the bus record kind), each
 * optionally restricted to producers matching a glob, then runs them over
 * archives through the reader (<hb_reader.h>).
 *
 * Every handler has statistics (calls, failures, consecutive failures,
 * time spent, records skipped) and a circuit breaker: after fail_max
 * failures in a row its breaker opens and the records it would have seen
 * are skipped (and counted) for cooldown_ns; then it goes half-open, the
 * next matching record is a trial call: success closes the breaker, failure
 * opens it again for another cooldown.
 *
 * Time for the cooldown is, by default, the newest record timestamp seen
 * (so replaying an old archive behaves as it would have live); a clock can
 * be injected instead (tests, or wall time).
 *
 * Functions return 0 (or a non-negative id) or a negative errno.
 */
#ifndef HB_CONSUMER_H
#define HB_CONSUMER_H

#include "hb_reader.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct hb_consumer;

/* Handler: 0 (or any value >= 0) on success, a negative errno on failure. */
typedef int (*hb_handler_fn)(void *ctx, const struct hb_rd_record *rec);

/* hb_handler_spec.kinds */
#define HB_ON_EVENT 0x1u
#define HB_ON_HEARTBEAT 0x2u
#define HB_ON_BUS 0x4u

struct hb_handler_spec {
	unsigned kinds;       /* HB_ON_* bits */
	const char *glob;     /* events: type name glob; bus: kind glob; NULL = any */
	const char *producer; /* producer name glob; NULL = any */
	const char *name;     /* shown in statistics; default: the glob */
	hb_handler_fn fn;
	void *ctx;
	unsigned fail_max;    /* 0: the consumer's default */
	uint64_t cooldown_ns; /* 0: the consumer's default */
};

struct hb_consumer_opts {
	unsigned fail_max;    /* failures in a row that open a breaker; default 5 */
	uint64_t cooldown_ns; /* how long a breaker stays open; default 30 s */
	/* Current time in ns; NULL: the newest record timestamp seen. */
	uint64_t (*clock)(void *ctx);
	void *clock_ctx;
	struct hb_reader_opts reader; /* used by hb_consumer_run */
};

enum hb_breaker_state {
	HB_BREAKER_CLOSED = 0,
	HB_BREAKER_OPEN = 1,
	HB_BREAKER_HALF_OPEN = 2,
};

struct hb_handler_stats {
	const char *name;
	uint64_t calls;       /* times the handler ran */
	uint64_t failures;    /* calls that returned < 0 */
	uint64_t consecutive; /* failures in a row, now */
	uint64_t skipped;     /* matching records not delivered: breaker open */
	uint64_t time_ns;     /* time spent in the handler (monotonic clock) */
	uint64_t opened;      /* times the breaker opened */
	enum hb_breaker_state state;
	uint64_t open_until_ns; /* when open: the time it goes half-open */
	int last_error;         /* last negative return, 0 if none */
};

/* opts may be NULL (defaults). */
int hb_consumer_new(struct hb_consumer **c, const struct hb_consumer_opts *opts);
void hb_consumer_free(struct hb_consumer *c);

/* Registers a handler; returns its id (>= 0) or -EINVAL / -ENOMEM. */
int hb_consumer_add(struct hb_consumer *c, const struct hb_handler_spec *spec);
int hb_consumer_on_event(struct hb_consumer *c, const char *type_glob, hb_handler_fn fn,
			 void *ctx);
int hb_consumer_on_heartbeat(struct hb_consumer *c, hb_handler_fn fn, void *ctx);
int hb_consumer_on_bus(struct hb_consumer *c, const char *kind_glob, hb_handler_fn fn, void *ctx);

/* Hands one record to every handler that matches it (breakers applied).
 * Returns the number of handlers called. */
int hb_consumer_dispatch(struct hb_consumer *c, const struct hb_rd_record *rec);

/* Reads paths (as hb_reader_open; flags: HB_RD_FOLLOW) and dispatches every
 * record until the end, or until hb_consumer_stop. 0 or -errno. */
int hb_consumer_run(struct hb_consumer *c, const char *const *paths, size_t npaths,
		    unsigned flags);
/* Makes hb_consumer_run return soon; async-signal-safe. */
void hb_consumer_stop(struct hb_consumer *c);
/* Damaged regions the last run met. */
uint64_t hb_consumer_damage_count(const struct hb_consumer *c);

/* Number of handlers registered. */
int hb_consumer_count(const struct hb_consumer *c);
int hb_consumer_stats(const struct hb_consumer *c, int id, struct hb_handler_stats *out);
/* "closed", "open", "half-open" */
const char *hb_breaker_state_name(enum hb_breaker_state s);

#ifdef __cplusplus
}
#endif
#endif
