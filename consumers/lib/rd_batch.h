/* SPDX-License-Identifier: MIT */
/*
 * rd_batch.h - an event batch (docs/FORMAT.md, format 2.0) checked and cut
 * on its own bytes, outside a reader: for the fleet sink, which writes the
 * batches of a message as they came once it has checked them as a reader
 * will.
 */
#ifndef HB_RD_BATCH_H
#define HB_RD_BATCH_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

struct rd_batch_info {
	uint32_t p;              /* its producer number */
	uint64_t seq0, nev;      /* its first sequence number, its events */
	uint64_t ts_min, ts_max; /* the times of its events */
	size_t first, size;      /* offset of its first event; its bytes */
};

/* Checks that p starts an event batch, complete in len and valid as a
 * reader takes it (every event checked, times in range, no larger than a
 * reader reads whole): its size, and what it holds in bi; -1 otherwise.
 * z is scratch for values with containers (left cleared). */
long rd_batch_verify(const uint8_t *p, size_t len, msgpack_zone *z, struct rd_batch_info *bi);
/* In a batch rd_batch_verify accepted: the offset of event i (i = nev:
 * the batch's end), and in *t the time of the event before it (the
 * batch's base time for event 0). */
size_t rd_batch_seek(const uint8_t *p, const struct rd_batch_info *bi, uint64_t i, uint64_t *t);

#endif
