/* SPDX-License-Identifier: MIT */
/*
 * ring.h - the consumer side of an hb ring (used by hbcollect, tests and
 * fuzz drivers). The producer side is the inline code in <hb.h>.
 *
 * The consumer treats the ring as untrusted: the header is validated on
 * attach and every record's length, kind and field tags are validated
 * before use. Nothing here writes to the ring except the tail (R2).
 */
#ifndef HB_BUS_RING_H
#define HB_BUS_RING_H

#include "hb.h"

#include <endian.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The largest record a producer can write: an event of HB_MAX_FIELDS
 * strings of HB_STR_MAX bytes. */
#define HB_REC_COPY_MAX (HB_EVENT_FIXED + HB_MAX_FIELDS * (8 + HB_STR_MAX))

struct hb_ring_view {
	struct hb_ring_hdr *hdr;
	const uint8_t *data;
	size_t map_size; /* 0 when the memory is not ours to unmap */
	uint32_t size;
	uint32_t mask;
	uint64_t tail;   /* consumer index last released (R2) */
	uint64_t cursor; /* read position, tail <= cursor <= head; a caller
			  * may set it back to an earlier cursor only */
	uint64_t head;   /* head as last loaded (A1) */
};

/* (a ring header is validated by hb_ring_hdr_check in hb.h: the one check
 * of producers, collector and readers) */

/* Makes v a view over a ring in memory (plain or shm); validates it. */
int hb_ring_view_init(struct hb_ring_view *v, void *mem, size_t map_size);
/* Maps the shm object name (with or without leading '/') read-write and
 * initialises v over it. */
int hb_ring_view_attach(struct hb_ring_view *v, const char *shm_name);
/* Unmaps what attach mapped. */
void hb_ring_view_detach(struct hb_ring_view *v);

/* Returns 1 and the next record at cursor (pads skipped, cursor advanced
 * past it), 0 when there is nothing new, or -EBADMSG when the ring holds
 * something that cannot be a valid record (the view stays where it was).
 * The record points into the ring: copy what you need before releasing. */
int hb_ring_view_next(struct hb_ring_view *v, const struct hb_rec **rec);

/* Releases every byte before upto (tail <= upto <= cursor) back to the
 * producer: R2, pairs with the producer's A2. */
void hb_ring_view_release(struct hb_ring_view *v, uint64_t upto);

/* Validates one record of avail bytes: length, kind, tags, string and
 * bytes lengths, heartbeat metric count. 0 or -EBADMSG. */
int hb_rec_check(const struct hb_rec *r, uint32_t avail);

/* Decoded view of an event's fields (pointers into the record). */
struct hb_event_view {
	uint64_t req;
	unsigned nfields;
	uint8_t tags[HB_MAX_FIELDS];
	uint64_t vals[HB_MAX_FIELDS];       /* scalar values, or length */
	const void *ptrs[HB_MAX_FIELDS];    /* str/bytes data */
};

/* An event's 8 tags as one word, tag i in byte i from the low end. */
static inline uint64_t hb_event_tags(const struct hb_rec *r)
{
	uint64_t tw;

	memcpy(&tw, (const uint8_t *)r + sizeof(*r) + 8, sizeof(tw));
	return le64toh(tw);
}

/* The number of fields of an event whose tags word (tag i in byte i from
 * the low end) passed validation: the tags are dense, so that is up to the
 * highest byte set. */
static inline unsigned hb_tags_nfields(uint64_t tw)
{
	return tw ? (unsigned)(63 - __builtin_clzll(tw)) / 8 + 1 : 0;
}

/* Decodes a record that passed hb_rec_check. 0 or -EBADMSG. */
int hb_event_decode(const struct hb_rec *r, struct hb_event_view *ev);

/* Like hb_ring_view_next, but for a consumer that must be immune to a
 * producer rewriting a record after publishing it: the record is read
 * from the ring once, into buf (cap bytes, 8-byte aligned), and only that
 * copy is validated (as by hb_rec_check). *rec points into buf; decode an
 * event with hb_event_decode, or use the copy as it is (its fields are
 * known to be in bounds). A record longer than cap is -EBADMSG;
 * cap >= HB_REC_COPY_MAX takes every record a producer can write. */
int hb_ring_view_copy(struct hb_ring_view *v, void *buf, size_t cap, const struct hb_rec **rec);

#endif
