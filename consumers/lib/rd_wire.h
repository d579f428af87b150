/* SPDX-License-Identifier: MIT */
/*
 * rd_wire.h - msgpack wire bytes read straight, without msgpack-c: the
 * fast paths of rd_decode.c (single events) and rd_batch.c (event batches).
 */
#ifndef HB_RD_WIRE_H
#define HB_RD_WIRE_H

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t rd_be(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	uint32_t w;
	uint16_t h;

	switch (n) {
	case 1:
		return p[0];
	case 2:
		memcpy(&h, p, 2);
		return __builtin_bswap16(h);
	case 4:
		memcpy(&w, p, 4);
		return __builtin_bswap32(w);
	case 8:
		memcpy(&v, p, 8);
		return __builtin_bswap64(v);
	}
	for (unsigned i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* For a marker byte 0xc4..0xdf: bytes of its length/count field (lenb),
 * fixed payload bytes (fixed), and what the length counts. */
enum { RD_PAYLOAD, RD_ELEMS, RD_PAIRS };
struct rd_marker {
	uint8_t lenb, fixed, what;
};
static const struct rd_marker rd_markers[0x20] = {
	[0x04] = {1, 0, RD_PAYLOAD}, [0x05] = {2, 0, RD_PAYLOAD}, [0x06] = {4, 0, RD_PAYLOAD},
	[0x07] = {1, 1, RD_PAYLOAD}, [0x08] = {2, 1, RD_PAYLOAD}, [0x09] = {4, 1, RD_PAYLOAD},
	[0x0a] = {0, 4, RD_PAYLOAD}, [0x0b] = {0, 8, RD_PAYLOAD}, [0x0c] = {0, 1, RD_PAYLOAD},
	[0x0d] = {0, 2, RD_PAYLOAD}, [0x0e] = {0, 4, RD_PAYLOAD}, [0x0f] = {0, 8, RD_PAYLOAD},
	[0x10] = {0, 1, RD_PAYLOAD}, [0x11] = {0, 2, RD_PAYLOAD}, [0x12] = {0, 4, RD_PAYLOAD},
	[0x13] = {0, 8, RD_PAYLOAD}, [0x14] = {0, 2, RD_PAYLOAD}, [0x15] = {0, 3, RD_PAYLOAD},
	[0x16] = {0, 5, RD_PAYLOAD}, [0x17] = {0, 9, RD_PAYLOAD}, [0x18] = {0, 17, RD_PAYLOAD},
	[0x19] = {1, 0, RD_PAYLOAD}, [0x1a] = {2, 0, RD_PAYLOAD}, [0x1b] = {4, 0, RD_PAYLOAD},
	[0x1c] = {2, 0, RD_ELEMS},   [0x1d] = {4, 0, RD_ELEMS},   [0x1e] = {2, 0, RD_PAIRS},
	[0x1f] = {4, 0, RD_PAIRS},
};

/* Size of every scalar whose marker byte alone gives it; 0 for the rest
 * (str, bin and ext with a length field, containers, 0xc1). Skipping a
 * value is then one load in the common case. */
static const uint8_t rd_fixed_size[256] = {
	[0x00 ... 0x7f] = 1, [0xe0 ... 0xff] = 1, [0xc0] = 1, [0xc2] = 1, [0xc3] = 1,
	[0xa0] = 1, [0xa1] = 2, [0xa2] = 3, [0xa3] = 4, [0xa4] = 5, [0xa5] = 6,
	[0xa6] = 7, [0xa7] = 8, [0xa8] = 9, [0xa9] = 10, [0xaa] = 11, [0xab] = 12,
	[0xac] = 13, [0xad] = 14, [0xae] = 15, [0xaf] = 16, [0xb0] = 17, [0xb1] = 18,
	[0xb2] = 19, [0xb3] = 20, [0xb4] = 21, [0xb5] = 22, [0xb6] = 23, [0xb7] = 24,
	[0xb8] = 25, [0xb9] = 26, [0xba] = 27, [0xbb] = 28, [0xbc] = 29, [0xbd] = 30,
	[0xbe] = 31, [0xbf] = 32,
	[0xca] = 5, [0xcb] = 9, [0xcc] = 2, [0xcd] = 3, [0xce] = 5, [0xcf] = 9,
	[0xd0] = 2, [0xd1] = 3, [0xd2] = 5, [0xd3] = 9,
	[0xd4] = 3, [0xd5] = 4, [0xd6] = 6, [0xd7] = 10, [0xd8] = 18,
};

/* Size of the scalar at p (len >= 1), skipped without decoding it; 0 when
 * it is a container, not complete in len, or not valid msgpack. */
static inline size_t rd_skip_scalar(const uint8_t *p, size_t len)
{
	uint8_t b = p[0];
	size_t n = rd_fixed_size[b];

	if (!n) {
		if (b < 0xc4)
			return 0; /* fixmap, fixarray, 0xc1 */
		const struct rd_marker *m = &rd_markers[b - 0xc0];
		if (m->what != RD_PAYLOAD || len < 1u + m->lenb)
			return 0;
		n = 1u + m->lenb + m->fixed + rd_be(p + 1, m->lenb);
	}
	return n <= len ? n : 0;
}

static inline bool rd_is_uint(const msgpack_object *o)
{
	return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER;
}

/* The array header at p: its size (1, 3 or 5 bytes) and element count in
 * *n, or 0 when p does not start an array header complete in len. */
static inline size_t rd_array_head(const uint8_t *p, size_t len, uint32_t *n)
{
	if (len >= 1 && p[0] >= 0x90 && p[0] <= 0x9f) {
		*n = p[0] & 0x0f;
		return 1;
	}
	if (len >= 3 && p[0] == 0xdc) {
		*n = (uint32_t)rd_be(p + 1, 2);
		return 3;
	}
	if (len >= 5 && p[0] == 0xdd) {
		*n = (uint32_t)rd_be(p + 1, 4);
		return 5;
	}
	return 0;
}

/* The scalar at p (len >= 1 bytes) as msgpack-c's msgpack_unpack makes it
 * (strings, bin and ext point into the bytes): its size, or 0 when it is a
 * container, not complete in len, or not valid msgpack. Inlined in every
 * decoding loop: the call would cost a third of decoding an element. */
static inline __attribute__((always_inline)) size_t rd_scalar(const uint8_t *p, size_t len, msgpack_object *o)
{
	uint8_t b = p[0];
	size_t hdr, n;

	if (b <= 0x7f) {
		o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
		o->via.u64 = b;
		return 1;
	}
	if (b >= 0xe0) {
		o->type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
		o->via.i64 = (int8_t)b;
		return 1;
	}
	if (b >= 0xa0 && b <= 0xbf) {
		hdr = 1;
		n = b & 0x1f;
		goto str;
	}
	switch (b) {
	case 0xc0:
		o->type = MSGPACK_OBJECT_NIL;
		return 1;
	case 0xc2:
	case 0xc3:
		o->type = MSGPACK_OBJECT_BOOLEAN;
		o->via.boolean = b == 0xc3;
		return 1;
	case 0xcc:
	case 0xcd:
	case 0xce:
	case 0xcf:
		hdr = 1 + (1u << (b - 0xcc));
		if (len < hdr)
			return 0;
		o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
		o->via.u64 = rd_be(p + 1, (unsigned)hdr - 1);
		return hdr;
	case 0xd0:
	case 0xd1:
	case 0xd2:
	case 0xd3: {
		hdr = 1 + (1u << (b - 0xd0));
		if (len < hdr)
			return 0;
		unsigned bits = 8u * ((unsigned)hdr - 1);
		uint64_t u = rd_be(p + 1, (unsigned)hdr - 1);
		int64_t v = bits == 64 ? (int64_t)u : (int64_t)(u << (64 - bits)) >> (64 - bits);
		if (v < 0) {
			o->type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
			o->via.i64 = v;
		} else {
			o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
			o->via.u64 = (uint64_t)v;
		}
		return hdr;
	}
	case 0xca: {
		uint32_t u;
		float f;
		if (len < 5)
			return 0;
		u = (uint32_t)rd_be(p + 1, 4);
		memcpy(&f, &u, sizeof(f));
		o->type = MSGPACK_OBJECT_FLOAT32;
		o->via.f64 = f;
		return 5;
	}
	case 0xcb: {
		uint64_t u;
		if (len < 9)
			return 0;
		u = rd_be(p + 1, 8);
		o->type = MSGPACK_OBJECT_FLOAT64;
		memcpy(&o->via.f64, &u, sizeof(u));
		return 9;
	}
	case 0xd9:
	case 0xda:
	case 0xdb:
		hdr = 1 + (1u << (b - 0xd9));
		if (len < hdr)
			return 0;
		n = rd_be(p + 1, (unsigned)hdr - 1);
		goto str;
	case 0xc4:
	case 0xc5:
	case 0xc6:
		hdr = 1 + (1u << (b - 0xc4));
		if (len < hdr)
			return 0;
		n = rd_be(p + 1, (unsigned)hdr - 1);
		if (n > len - hdr)
			return 0;
		o->type = MSGPACK_OBJECT_BIN;
		o->via.bin.ptr = (const char *)p + hdr;
		o->via.bin.size = (uint32_t)n;
		return hdr + n;
	case 0xd4:
	case 0xd5:
	case 0xd6:
	case 0xd7:
	case 0xd8:
		hdr = 1;
		n = 1 + (1u << (b - 0xd4)); /* type byte + data */
		goto ext;
	case 0xc7:
	case 0xc8:
	case 0xc9:
		hdr = 1 + (1u << (b - 0xc7));
		if (len < hdr)
			return 0;
		n = rd_be(p + 1, (unsigned)hdr - 1) + 1;
		goto ext;
	default:
		return 0;
	}
str:
	if (n > len - hdr)
		return 0;
	o->type = MSGPACK_OBJECT_STR;
	o->via.str.ptr = (const char *)p + hdr;
	o->via.str.size = (uint32_t)n;
	return hdr + n;
ext:
	if (n > len - hdr)
		return 0;
	o->type = MSGPACK_OBJECT_EXT;
	o->via.ext.type = (int8_t)p[hdr];
	o->via.ext.ptr = (const char *)p + hdr + 1;
	o->via.ext.size = (uint32_t)(n - 1);
	return hdr + n;
}

#endif
