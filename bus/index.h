/* SPDX-License-Identifier: MIT */
/*
 * index.h - the sparse time index the collector writes into each archive
 * file (docs/FORMAT.md, "index" records, format 1.1).
 *
 * The collector tells the index about every object it appends (its time
 * and whether it is a producer/types/metrics record that readers need to
 * interpret later records). About every `every` bytes, and once more just
 * before a file's `end` record, it appends an `index` record describing
 * the chunk of bytes since the previous one: its byte range, its time
 * range, how many records it holds and how many of them are tables.
 *
 * Index records have a fixed size (HBC_INDEX_REC_SIZE) and fixed key order,
 * name their own offset (`at`) and the offset of the previous one (`prev`),
 * so a reader finds the last one from the end of the file and walks the
 * chain back without decoding anything else.
 */
#ifndef HB_BUS_INDEX_H
#define HB_BUS_INDEX_H

#include <stddef.h>
#include <stdint.h>

#define HBC_INDEX_EVERY (1u << 20) /* default chunk size in bytes */
#define HBC_INDEX_REC_SIZE 121u    /* encoded size of an index record */

struct hbc_index {
	uint64_t every;  /* bytes between index records */
	uint64_t from;   /* file offset of the current chunk's first byte */
	uint64_t prev;   /* offset of this file's last index record, 0 if none */
	uint64_t ts_min; /* time range of the chunk's records (ns) */
	uint64_t ts_max;
	uint64_t n;      /* records in the chunk */
	uint64_t meta;   /* of which producer/types/metrics records */
};

/* Starts a new file: the first chunk begins at offset from (usually 0,
 * the header). every = 0 means HBC_INDEX_EVERY. */
void hbc_index_reset(struct hbc_index *x, uint64_t every, uint64_t from);
/* Notes one object appended to the current chunk (inline: it runs for
 * every record). */
static inline void hbc_index_note(struct hbc_index *x, uint64_t ts_ns, int meta)
{
	if (!x->n || ts_ns < x->ts_min)
		x->ts_min = ts_ns;
	if (!x->n || ts_ns > x->ts_max)
		x->ts_max = ts_ns;
	x->n++;
	x->meta += meta != 0;
}
/* Notes one object standing for n records (an event batch) whose times
 * are ts_min..ts_max. */
static inline void hbc_index_note_span(struct hbc_index *x, uint64_t ts_min, uint64_t ts_max,
				       uint64_t n)
{
	hbc_index_note(x, ts_min, 0);
	if (ts_max > x->ts_max)
		x->ts_max = ts_max;
	x->n += n - 1;
}
/* 1 when an index record should be appended at file offset off (the
 * chunk is at least `every` bytes long and holds records). */
int hbc_index_due(const struct hbc_index *x, uint64_t off);
/* Encodes the index record of the chunk [from, off) that will be written
 * at file offset off into buf, and starts the next chunk right after it.
 * Returns HBC_INDEX_REC_SIZE, 0 when the chunk is empty (nothing to write),
 * or -ENOBUFS when cap is too small. */
int hbc_index_encode(struct hbc_index *x, uint64_t off, uint64_t now_ns, void *buf, size_t cap);

#endif
