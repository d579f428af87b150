/* SPDX-License-Identifier: MIT */
/*
 * enc_event.h - events written straight into a write buffer (inline: an
 * event is nearly every record the collector writes, so drain.c and
 * encode.c both compile this code into their loops).
 *
 * Events skip the packer (an indirect call and a memcpy per token) and are
 * written with the exact forms msgpack-c's packer picks for the same values
 * (the smallest integer form, float64, fixstr/str8/str16, bin8/bin16,
 * fixarray/array16), so the bytes are the same
 * (tests/unit/test_collect_encode.c compares the two).
 *
 * Integers are written without a chain of branches on their size: the
 * size class is counted from three compares and the big-endian bytes are
 * stored as one 8-byte word, so every writer here may store up to 8 bytes
 * past what it returns (the buffer keeps HBC_EVENT_ENC_MAX free).
 */
#ifndef HB_BUS_ENC_EVENT_H
#define HB_BUS_ENC_EVENT_H

#include "hbc.h"
#include "index.h"
#include "ring.h"
#include "hbs/utf8.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

/* A new batch's array 3, kind 1, p 5, seq0 9, ts0 15; the event's array
 * 1, dt 9, type 1, prio 1, req 9 bytes at most, then per field up to 9
 * bytes (a value or a str/bin header) plus the str/bin bytes and 32 bytes
 * of slack (whole words and 16-byte chunks are stored). */
#define HBC_EVENT_HDR_MAX 72
#define HBC_EVENT_ENC_MAX (HBC_EVENT_HDR_MAX + HB_MAX_FIELDS * (9 + 32 + HB_STR_MAX))

/* Elements of a batch before its events: k, p, seq0, ts0. */
#define HBC_BATCH_HEAD 4

static inline uint8_t *hbc_mp_be16(uint8_t *p, uint8_t tag, uint16_t v)
{
	p[0] = tag;
	v = __builtin_bswap16(v);
	memcpy(p + 1, &v, 2);
	return p + 3;
}

static inline uint8_t *hbc_mp_be32(uint8_t *p, uint8_t tag, uint32_t v)
{
	p[0] = tag;
	v = __builtin_bswap32(v);
	memcpy(p + 1, &v, 4);
	return p + 5;
}

static inline uint8_t *hbc_mp_be64(uint8_t *p, uint8_t tag, uint64_t v)
{
	p[0] = tag;
	v = __builtin_bswap64(v);
	memcpy(p + 1, &v, 8);
	return p + 9;
}

/* tag, then the low 2^cls bytes of v big-endian (cls 0..3), stored as one
 * word: 9 bytes written, 2 + 2^cls used. */
HB_INLINE uint8_t *hbc_mp_sized(uint8_t *p, uint8_t tag, unsigned cls, uint64_t v)
{
	unsigned nb = 1u << cls;
	uint64_t be = __builtin_bswap64(v << (64 - 8 * nb)); /* low nb bytes first */

	p[0] = tag;
	memcpy(p + 1, &be, 8);
	return p + 1 + nb;
}

/* The size class (0..3: 1, 2, 4, 8 bytes) of a value whose highest set
 * bit is bit i. */
static const uint8_t hbc_mp_cls[64] = {
	0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3};

HB_INLINE uint8_t *hbc_mp_uint(uint8_t *p, uint64_t v)
{
	unsigned cls;

	if (v < 128) {
		*p = (uint8_t)v;
		return p + 1;
	}
	/* uint 8, 16, 32, 64: 0xcc + class */
	cls = hbc_mp_cls[63 ^ __builtin_clzll(v)];
	return hbc_mp_sized(p, (uint8_t)(0xcc + cls), cls, v);
}

HB_INLINE uint8_t *hbc_mp_int(uint8_t *p, int64_t v)
{
	unsigned cls;

	if (v >= 0)
		return hbc_mp_uint(p, (uint64_t)v);
	if (v >= -32) {
		*p = (uint8_t)v; /* negative fixint */
		return p + 1;
	}
	/* int 8, 16, 32, 64: 0xd0 + class; -v - 1 = ~v has the same class
	 * boundaries (-128 -> 127, -129 -> 128) */
	cls = hbc_mp_cls[63 ^ __builtin_clzll((uint64_t)~v << 1)];
	return hbc_mp_sized(p, (uint8_t)(0xd0 + cls), cls, (uint64_t)v);
}

/* As hbc_pack_ts: fixext 8 inside the 64-bit form's range, else ext 8 of 12. */
static inline uint8_t *hbc_mp_ts(uint8_t *p, uint64_t ns)
{
	uint64_t sec = ns / 1000000000u, nsec = ns % 1000000000u;

	if (sec >> 34) {
		uint32_t n32 = __builtin_bswap32((uint32_t)nsec);
		uint64_t s64 = __builtin_bswap64(sec);

		p[0] = 0xc7;
		p[1] = 12;
		p[2] = 0xff;
		memcpy(p + 3, &n32, 4);
		memcpy(p + 7, &s64, 8);
		return p + 15;
	}
	p[0] = 0xd7;
	return hbc_mp_be64(p + 1, 0xff, (nsec << 34) | sec);
}

/* 1 when the n bytes at p are ASCII. Word by word: the bytes are padded
 * to 8 in the record (the pad is read, and masked off). */
static inline int hbc_ascii(const void *p, uint32_t n)
{
	const uint8_t *s = p;
	uint64_t any = 0, w;
	uint32_t i;

	if (n <= 8) { /* most strings: one word, none when empty */
		if (!n)
			return 1;
		memcpy(&w, s, 8);
		return !(le64toh(w) & (~0ull >> (64 - 8 * n)) & 0x8080808080808080ull);
	}
	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		any |= w;
	}
	if (i < n) {
		memcpy(&w, s + i, 8);
		any |= le64toh(w) & (~0ull >> (64 - 8 * (n - i)));
	}
	return !(any & 0x8080808080808080ull);
}

/* Ends the open event batch of b (encode.c). */
void hbc_buf_batch_end(struct hbc_buf *b);

/* A batch's start at w: an array 16 header whose count
 * hbc_buf_batch_end fills in, then k, p, seq0 and ts0. */
static inline uint8_t *hbc_mp_batch(uint8_t *w, uint32_t p, uint64_t seq, uint64_t ts_ns)
{
	w += 3;
	*w++ = 3;
	w = hbc_mp_uint(w, p);
	w = hbc_mp_uint(w, seq);
	return hbc_mp_ts(w, ts_ns);
}

/* An event's start at w: its array of 4 + nf (nf <= 8: a fixarray), dt
 * (ns from the batch's previous event, two's complement: may go back),
 * type, prio, req (nil when 0). */
HB_INLINE uint8_t *hbc_mp_event(uint8_t *w, unsigned nf, uint64_t dt, uint16_t type, uint8_t prio,
				uint64_t req)
{
	*w++ = (uint8_t)(0x90 | (4 + nf));
	w = hbc_mp_int(w, (int64_t)dt);
	if (type < 128 && prio < 128) { /* always, from a checked record */
		w[0] = (uint8_t)type;
		w[1] = prio;
		w += 2;
	} else {
		w = hbc_mp_uint(w, type);
		w = hbc_mp_uint(w, prio);
	}
	if (req)
		return hbc_mp_uint(w, req);
	*w = 0xc0;
	return w + 1;
}

/* Whether ts_ns - prev, as a signed 64-bit dt, adds back up to ts_ns: a
 * time more than 2^63 ns away (a hostile or broken clock) starts a new
 * batch instead, whose ts0 states it whole. */
static inline int hbc_dt_fits(uint64_t ts_ns, uint64_t prev)
{
	return ts_ns >= prev ? ts_ns - prev <= (uint64_t)INT64_MAX : prev - ts_ns <= (uint64_t)INT64_MAX + 1;
}

/* What every event starts with, up to its req: the batch (joined or
 * opened), then hbc_mp_event. Nothing of it counts until hbc_event_done:
 * an event abandoned before leaves b as it was, but for an earlier batch
 * ended here. The caller has made sure HBC_EVENT_ENC_MAX bytes are free. */
HB_INLINE uint8_t *hbc_event_head(struct hbc_buf *b, uint32_t p, const struct hb_rec *r,
				  uint64_t ts_ns, unsigned nf, uint64_t req)
{
	uint8_t *w;

	if (b->batch_n && (b->batch_p != p || b->batch_seq != r->seq ||
			   b->batch_n >= HBC_BATCH_MAX || !hbc_dt_fits(ts_ns, b->batch_ts)))
		hbc_buf_batch_end(b);
	w = (uint8_t *)b->data + b->len;
	if (!b->batch_n) {
		b->batch_at = b->len;
		b->batch_p = p;
		b->batch_ts = ts_ns;
		w = hbc_mp_batch(w, p, r->seq, ts_ns);
	}
	return hbc_mp_event(w, nf, ts_ns - b->batch_ts, r->type, r->prio, req);
}

/* The event that hbc_event_head began now ends at w: it joins its batch
 * and the time index. */
HB_INLINE void hbc_event_done(struct hbc_buf *b, const struct hb_rec *r, uint64_t ts_ns, uint8_t *w)
{
	if (b->ix)
		hbc_index_note(b->ix, ts_ns, 0);
	b->len = (size_t)(w - (uint8_t *)b->data);
	b->batch_n++;
	b->batch_seq = r->seq + 1;
	b->batch_ts = ts_ns;
}

/* A str/bytes field's header and bytes (n <= HB_STR_MAX: str 16 at
 * most). The bytes are copied in two chunks that may overlap, never past
 * the n bytes padded to 8 that a record holds. */
static inline uint8_t *hbc_mp_str(uint8_t *p, uint8_t fix, uint8_t t8, uint8_t t16, const void *src,
				  uint32_t n)
{
	const uint8_t *s = src;

	if (fix && n < 32) {
		*p++ = (uint8_t)(fix | n);
	} else if (n < 256) {
		p[0] = t8;
		p[1] = (uint8_t)n;
		p += 2;
	} else {
		p = hbc_mp_be16(p, t16, (uint16_t)n);
	}
	if (n > 32) {
		memcpy(p, s, n);
	} else if (n > 16) {
		memcpy(p, s, 16);
		memcpy(p + n - 16, s + n - 16, 16);
	} else if (n > 8) {
		memcpy(p, s, 8);
		memcpy(p + n - 8, s + n - 8, 8);
	} else if (n) {
		memcpy(p, s, 8); /* the pad up to 8 is read, and overwritten later */
	}
	return p + n;
}

/* An event's fields (tags word tw, known good: known tags, dense) from s
 * up to end, checked while they are encoded: each str/bytes length at
 * most HB_STR_MAX, the last field ending exactly at end. The end of what
 * was written, or NULL when the fields are bad. Reads stay inside
 * HB_EVENT_FIXED + 8 x (8 + HB_STR_MAX) bytes of the record's start
 * whatever the fields say, so a buffer of HB_REC_COPY_MAX bytes holding the
 * record needs no other check (hbc_enc_event_checked). */
HB_INLINE uint8_t *hbc_enc_fields(uint8_t *w, const uint8_t *s, const uint8_t *end, uint64_t tw)
{
	for (; tw; tw >>= 8) {
		uint64_t v;

		memcpy(&v, s, 8);
		s += 8;
		switch ((uint8_t)tw) {
		case HB_T_I64:
			w = hbc_mp_int(w, (int64_t)v);
			break;
		case HB_T_U64:
			w = hbc_mp_uint(w, v);
			break;
		case HB_T_F64:
			w = hbc_mp_be64(w, 0xcb, v); /* the double's bits */
			break;
		case HB_T_BOOL:
			*w++ = (uint8_t)(0xc2 | (v != 0));
			break;
		case HB_T_STR:
			if (v > HB_STR_MAX)
				return NULL;
			if (hbc_ascii(s, (uint32_t)v) || hbs_utf8_valid(s, (uint32_t)v))
				w = hbc_mp_str(w, 0xa0, 0xd9, 0xda, s, (uint32_t)v);
			else /* msgpack str must be UTF-8: anything else is bin */
				w = hbc_mp_str(w, 0, 0xc4, 0xc5, s, (uint32_t)v);
			s += (v + 7) & ~7ull;
			break;
		default: /* HB_T_BYTES: tw is known good */
			if (v > HB_STR_MAX)
				return NULL;
			w = hbc_mp_str(w, 0, 0xc4, 0xc5, s, (uint32_t)v);
			s += (v + 7) & ~7ull;
		}
	}
	return s == end ? w : NULL;
}

#endif
