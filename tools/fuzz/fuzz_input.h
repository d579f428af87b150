/* SPDX-License-Identifier: MIT */
/*
 * fuzz_input.h - carving typed values out of a libFuzzer input. Every
 * take_* returns a zero value once the input is exhausted, so drivers never
 * need to check lengths themselves.
 */
#ifndef HB_FUZZ_INPUT_H
#define HB_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fz {
	const uint8_t *p;
	size_t n;
};

static inline size_t fz_left(const struct fz *f)
{
	return f->n;
}

static inline void fz_take(struct fz *f, void *out, size_t len)
{
	size_t k = len < f->n ? len : f->n;

	memcpy(out, f->p, k);
	memset((uint8_t *)out + k, 0, len - k);
	f->p += k;
	f->n -= k;
}

static inline uint8_t fz_u8(struct fz *f)
{
	uint8_t v;

	fz_take(f, &v, 1);
	return v;
}

static inline uint16_t fz_u16(struct fz *f)
{
	uint16_t v;

	fz_take(f, &v, 2);
	return v;
}

static inline uint32_t fz_u32(struct fz *f)
{
	uint32_t v;

	fz_take(f, &v, 4);
	return v;
}

static inline uint64_t fz_u64(struct fz *f)
{
	uint64_t v;

	fz_take(f, &v, 8);
	return v;
}

/* A NUL-terminated string of up to max - 1 bytes (length prefixed by one
 * byte) copied into buf of max bytes. */
static inline char *fz_str(struct fz *f, char *buf, size_t max)
{
	size_t len = fz_u8(f);

	if (len > max - 1)
		len = max - 1;
	if (len > f->n)
		len = f->n;
	memcpy(buf, f->p, len);
	buf[len] = 0;
	f->p += len;
	f->n -= len;
	return buf;
}

/* A pointer to up to len raw bytes of the input (fewer at the end). */
static inline const uint8_t *fz_bytes(struct fz *f, size_t *len)
{
	const uint8_t *p = f->p;

	if (*len > f->n)
		*len = f->n;
	f->p += *len;
	f->n -= *len;
	return p;
}

/* A failed check aborts, so libFuzzer keeps the input that broke it. */
#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);      \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#endif
