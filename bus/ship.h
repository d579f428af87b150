/* SPDX-License-Identifier: MIT */
/*
 * ship.h - hbship's engine: follows a host's live archive and publishes it
 * to a JetStream stream in fleet messages (fleet.h), with a bounded window
 * of unacknowledged messages, and saves its position (the last archive
 * object of the oldest unbroken run of acknowledged messages) in the
 * archive directory, in "hbship-STREAM.pos".
 *
 * Any failure (an ack timeout, a refusal, no server) stops the run: what
 * is in flight settles, and the engine re-reads the archive from its
 * position after a capped exponential backoff. Messages re-sent that way
 * have the ids they had, so the stream keeps one copy (within its
 * duplicate window; the sink drops the rest by sequence number).
 */
#ifndef HB_SHIP_H
#define HB_SHIP_H

#include "fleet.h"

#include <pthread.h>
#include <stdio.h>

struct ship_opts {
	struct hbf_nats_opts nats;
	char dir[4096];
	int dir_set;
	char bus[64];
	const char *stream;  /* default "HB" */
	const char *prefix;  /* subject prefix, default "hb" */
	int create;          /* create the stream when missing (default 1) */
	int64_t replicas;    /* new stream: replicas (default 1) */
	int64_t max_bytes;   /* new stream: byte limit (0 = none) */
	int64_t max_age_ns;  /* new stream: age limit (0 = none) */
	int discard_new;     /* new stream: refuse new messages when full */
	int64_t dup_window_ns; /* new stream: duplicate window (default 2 min) */
	unsigned window;     /* messages in flight at most (default 256) */
	uint64_t max_msg;    /* bytes of records per message (default 256k) */
	int64_t ack_wait_ms; /* per message (default 5000) */
	uint64_t backoff_max_ms; /* default 5000 */
	int heartbeats;      /* publish own heartbeats with the lag (default 1) */
	int once;            /* ship what the archive holds, then exit */
	const char *metrics; /* serve /metrics on "HOST:PORT" (NULL: no) */
};

/* Runs until *stop (with once: until everything the archive holds is
 * acknowledged); returns 0 after a clean stop (what it read acknowledged,
 * or given up after the ack wait, and its position saved), -EINTR when
 * stopped before once was done, or -errno when it cannot start. */
int ship_run(const struct ship_opts *o, volatile int *stop);

/* ---- how far behind it is (ship_count.c) ------------------------------ */

/* Records counted and not acknowledged, and the first of them: its time,
 * and the file and offset of its archive object (file "" when none). */
struct ship_lag {
	uint64_t records;
	uint64_t ts_ns;
	char file[64];
	uint64_t off;
};

struct ship_count;

/* Starts counting, in a thread, the records shipped of dir's archive after
 * (pos_file, pos_off) (pos_file NULL or "": all of it). 0 or -errno. */
int ship_count_start(struct ship_count **c, const char *dir, const char *pos_file,
		     uint64_t pos_off);
/* The lag when acked of the counted records are acknowledged (NULL c: 0). */
void ship_count_lag(struct ship_count *c, uint64_t acked, struct ship_lag *out);
void ship_count_stop(struct ship_count *c);

/* ---- its /metrics (ship_metrics.c) ------------------------------------- */

struct ship_stats {
	uint64_t now_ns, start_ns;
	uint64_t lag_bytes;          /* archive bytes from the oldest unshipped object */
	struct ship_lag lag;
	uint64_t msgs_published, records_published; /* handed to NATS, re-sends too */
	uint64_t msgs_acked, records_acked;          /* acknowledged, each record once */
	uint64_t msgs_duplicate;     /* acks that said the stream had it already */
	uint64_t publish_failures;   /* naks, refusals, publish errors */
	uint64_t retries;            /* runs restarted after a failure */
	uint64_t backoff_ms;         /* the current wait between runs (0: none) */
	int failing;                 /* 1 from a failure to the next ack */
	uint64_t inflight;           /* messages awaiting an ack */
	int connected;               /* to NATS */
	const char *host, *bus, *stream;
};

/* The exposition of st (prom.h); *text malloc'd. 0 or -ENOMEM. */
int ship_metrics_render(const struct ship_stats *st, char **text, size_t *len);

/* ---- what was shipped of each producer (ship_seen.c) ------------------ */

struct ship_seen_ent {
	char ring[256];
	uint64_t start_ns;
	uint64_t next;  /* every seq below it acknowledged (or in a gap) */
	int gap_done;   /* this run: its loss, if any, already stated */
};

struct ship_seen {
	struct ship_seen_ent *e;
	size_t n, cap;
};

/* The entry of (ring, start), made when missing (NULL: no memory). */
struct ship_seen_ent *ship_seen_get(struct ship_seen *v, const char *ring, uint64_t start);
void ship_seen_note(struct ship_seen *v, const char *ring, uint64_t start, uint64_t next);
/* "next RING START NEXT" lines of the position file. */
void ship_seen_write(const struct ship_seen *v, FILE *f);
int ship_seen_read(struct ship_seen *v, const char *line);
void ship_seen_free(struct ship_seen *v);

#endif
