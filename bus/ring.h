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
#include <errno.h>
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

/* 1 when every tag of an event's tags word (tag i in byte i counted from
 * the low end) is known and no field follows a hole. */
static inline int hb_tags_ok(uint64_t tw)
{
	const uint64_t hi = 0x8080808080808080ull, lo7 = 0x7f7f7f7f7f7f7f7full;
	uint64_t nz, bytes;

	/* per byte, high bit: tag > HB_T_BYTES (6); tag != 0 */
	if ((((tw & lo7) + 0x7979797979797979ull) | tw) & hi)
		return 0; /* unknown tag */
	nz = (((tw & lo7) + lo7) | tw) & hi;
	bytes = (nz >> 7) * 0xff; /* 0xff where a field is */
	return !(bytes & (bytes + 1)); /* fields only in a run from byte 0 */
}

/* Decodes a record that passed hb_rec_check. 0 or -EBADMSG. */
int hb_event_decode(const struct hb_rec *r, struct hb_event_view *ev);

/* ---- reading records (inline: they run for every record) ---- */

/* The next record at *cursor of v's ring, pads skipped (*cursor moves
 * past them), *head the head last loaded (A1 loads it again when the
 * cursor reaches it): 1 with *out and its length *out_len (bounded by the
 * data area and head, not yet checked further), 0 when nothing is new,
 * -EBADMSG. The cursor and head are the caller's, so that a loop can keep
 * them in locals (the collector's run); hb_ring_view_locate uses v's own. */
static inline int hb_ring_locate(const struct hb_ring_view *v, uint64_t *cursor, uint64_t *head,
				 const struct hb_rec **out, uint32_t *out_len)
{
	for (;;) {
		uint64_t avail;
		uint32_t off, room, len;
		const struct hb_rec *r;
		uint8_t kind;

		if (*cursor == *head) {
			/* A1: pairs with the producer's R1 in hb_ring_commit. */
			uint64_t h = atomic_load_explicit(&v->hdr->head, memory_order_acquire);

			if (h == *cursor)
				return 0;
			/* Indices are free running: compare by subtraction only. A
			 * head behind the cursor shows up as a huge distance. */
			if (h - v->tail > v->size || h - *cursor > v->size || (*cursor & 7))
				return -EBADMSG; /* *head stays: the next call loads again */
			*head = h;
		}
		/* What the load above checked still holds: the cursor moves on by
		 * checked lengths (multiples of 8, at most avail) or back to an
		 * earlier cursor (ring.h), never before tail, and tail moves up to
		 * the cursor at most, so head - cursor <= head - tail <= size. */
		avail = *head - *cursor;
		off = (uint32_t)*cursor & v->mask;
		room = v->size - off; /* records never cross the end */
		r = (const struct hb_rec *)(v->data + off);
		memcpy(&len, &r->len, sizeof(len));
		memcpy(&kind, &r->kind, sizeof(kind));
		if (len % 8 || len < 8 || len > avail || len > room)
			return -EBADMSG;
		if (kind != HB_REC_PAD) {
			*out = r;
			*out_len = len;
			return 1;
		}
		*cursor += len;
	}
}

static inline int hb_ring_view_locate(struct hb_ring_view *v, const struct hb_rec **out,
				      uint32_t *out_len)
{
	return hb_ring_locate(v, &v->cursor, &v->head, out, out_len);
}

/* memcpy for a record of len bytes (a multiple of 8, hb_ring_view_locate):
 * most records are 32 to 128 bytes, copied here as two chunks that may
 * overlap (the second ends at len), cheaper than the call into libc. */
static inline void hb_rec_copy(void *dst, const void *src, uint32_t len)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	if (len > 64 && len <= 96) {
		__builtin_memcpy(d, s, 64);
		__builtin_memcpy(d + len - 32, s + len - 32, 32);
	} else if (len > 96 && len <= 128) {
		__builtin_memcpy(d, s, 64);
		__builtin_memcpy(d + len - 64, s + len - 64, 64);
	} else if (len >= 32 && len <= 64) {
		__builtin_memcpy(d, s, 32);
		__builtin_memcpy(d + len - 32, s + len - 32, 32);
	} else {
		memcpy(d, s, len);
	}
}

/* Like hb_ring_view_copy without the check of the copy: the next record
 * (pads skipped) copied once into buf, its length in *len and the cursor
 * past it; 1, 0 when nothing is new, -EBADMSG (the cursor where it was)
 * when what is at the cursor cannot be a record or is longer than cap.
 * Nothing of the copy but its length is known good: the caller checks it
 * (hb_rec_check_copy, or checks of its own as it reads) and sets the
 * cursor back when it is bad. */
static inline int hb_ring_view_take(struct hb_ring_view *v, void *buf, size_t cap, uint32_t *len)
{
	uint64_t start = v->cursor;
	const struct hb_rec *r;
	int rc = hb_ring_view_locate(v, &r, len);

	if (rc > 0 && *len > cap)
		rc = -EBADMSG;
	if (rc < 0)
		v->cursor = start; /* where it was, pads before the damage too */
	if (rc <= 0)
		return rc;
	hb_rec_copy(buf, r, *len); /* one read of the bytes: only the copy counts */
	v->cursor += *len;
	return 1;
}

/* Validates a record copied by hb_ring_view_take (len: the length it
 * gave), as hb_rec_check would. 0 or -EBADMSG. */
int hb_rec_check_copy(const struct hb_rec *r, uint32_t len);

/* Like hb_ring_view_next, but for a consumer that must be immune to a
 * producer rewriting a record after publishing it: the record is read
 * from the ring once, into buf (cap bytes, 8-byte aligned), and only that
 * copy is validated (as by hb_rec_check). *rec points into buf; decode an
 * event with hb_event_decode, or use the copy as it is (its fields are
 * known to be in bounds). A record longer than cap is -EBADMSG;
 * cap >= HB_REC_COPY_MAX takes every record a producer can write. */
int hb_ring_view_copy(struct hb_ring_view *v, void *buf, size_t cap, const struct hb_rec **rec);

#endif
