/* SPDX-License-Identifier: MIT */
/*
 * sink.h - hbsink's fleet archive: FLEETDIR/<host>/<bus>/hb-*.msgpack in the
 * archive format (docs/FORMAT.md), written from fleet messages (fleet.h).
 *
 * Exactly once: for every producer identity (host, ring, start) the sink
 * knows which sequence numbers it holds (a set of ranges, learned from the
 * tree when it starts and kept as it writes) and which times of its bus
 * records without a sequence number (state, alert, mismatch); a record it
 * holds already is dropped, a gap is cut to what it does not hold. A
 * message is applied whole or not at all (checked first).
 *
 * Writes go to memory first; sink_flush writes every directory's pending
 * bytes, rotates, applies retention and fsyncs as configured. Only after
 * sink_flush returned 0 may the messages applied before it be acked.
 */
#ifndef HB_SINK_H
#define HB_SINK_H

#include "fleet.h"
#include "hbc.h"

#include <stdint.h>

struct sink_cfg {
	char dir[4096];
	uint64_t rotate_size, rotate_age_ns;
	uint64_t retain_files, retain_bytes;
	enum hbc_fsync fsync;
	uint64_t fsync_interval_ns;
	uint64_t cache_window; /* as hbcollect's --cache-window; 0 = the kernel's */
};

struct sink;

struct sink_stats {
	uint64_t records, dups, gaps_cut, msgs, files;
};

/* Opens the fleet tree (created when missing), learns what it holds and
 * repairs torn tails. 0 or -errno. */
int sink_open(struct sink **out, const struct sink_cfg *cfg);
/* Applies one message. 0; -EPROTO with why set when the message is bad
 * (nothing of it is written); -errno otherwise. */
int sink_apply(struct sink *s, const char *data, size_t len, const char **why);
/* Writes what was applied. 0 or -errno (then nothing since the last good
 * flush may be acked; the bytes stay pending and the next flush retries). */
int sink_flush(struct sink *s, int final);
void sink_stats(const struct sink *s, struct sink_stats *st);
void sink_close(struct sink *s);

#endif
