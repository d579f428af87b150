/* SPDX-License-Identifier: MIT */
/*
 * seek.h - time-range seeking in archive files with the collector's sparse
 * index (docs/FORMAT.md, "index" records, format 1.1).
 *
 * hb_rd_index_load finds a file's index records from its end (they have a
 * fixed size and name their own offset and their predecessor's), without
 * decoding anything else. hb_rd_index_plan turns the index and a time range
 * into the byte ranges a reader must decode to see every record of the file
 * whose timestamp is in the range: chunks outside the range are skipped
 * unless they hold producer/types/metrics records that later records need.
 */
#ifndef HB_RD_SEEK_H
#define HB_RD_SEEK_H

#include <stddef.h>
#include <stdint.h>

#define HB_RD_INDEX_REC_SIZE 121u /* = HBC_INDEX_REC_SIZE in bus/index.h */

struct hb_rd_chunk {
	uint64_t from, to;      /* bytes [from, to); an index record sits at `to` */
	uint64_t ts_min, ts_max;
	uint64_t n, meta;
};

struct hb_rd_file_index {
	struct hb_rd_chunk *chunks; /* in file order; NULL when nchunks == 0 */
	size_t nchunks;
	uint64_t tail;    /* first byte after the last index record */
	int complete;     /* the tail is exactly the file's `end` record */
	uint64_t ts_min;  /* over all chunks */
	uint64_t ts_max;
};

struct hb_rd_range {
	uint64_t from, to;
};

/* Loads the index of a file mapped at base (len bytes). 0 with nchunks = 0
 * when the file has no (usable) index: read it all. -ENOMEM. */
int hb_rd_index_load(const uint8_t *base, size_t len, struct hb_rd_file_index *fi);
void hb_rd_index_free(struct hb_rd_file_index *fi);
/* Byte ranges to decode, in file order, for records with since <= ts <=
 * until (until = UINT64_MAX: no bound). *out is malloc'ed (free it);
 * *n may be 0. 0 or -ENOMEM. */
int hb_rd_index_plan(const struct hb_rd_file_index *fi, uint64_t len, uint64_t since,
		     uint64_t until, struct hb_rd_range **out, size_t *n);

#endif
