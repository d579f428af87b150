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
};

/* Runs until *stop (with once: until everything the archive holds is
 * acknowledged); returns 0 after a clean stop (what it read acknowledged,
 * or given up after the ack wait, and its position saved), -EINTR when
 * stopped before once was done, or -errno when it cannot start. */
int ship_run(const struct ship_opts *o, volatile int *stop);

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
