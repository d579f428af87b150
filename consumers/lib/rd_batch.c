/* SPDX-License-Identifier: MIT */
/*
 * rd_batch.c - event batches (docs/FORMAT.md, format 2.0),
 *   [3, p, seq0, ts0, e0, e1, ...]   e(i) = [dt, type, prio, req, v0, ...],
 * handed out one event per hb_reader_next as the single event each stands
 * for, [1, p, seq0 + i, ts(e(i)), type, prio, req, v0, ...].
 *
 * A batch is checked whole before its first event goes out, so that a bad
 * one is damage like any invalid record: none of its events is returned.
 * Checking decodes each event's dt, type, prio and req and skips its
 * values by their sizes; handing it out decodes it whole with rd_scalar,
 * into one array that only grows. Keeping a batch's events decoded from
 * the check instead (thousands, up to RD_OBJ_MAX bytes of them) would cost
 * memory in proportion to the batch; this allocates nothing per event.
 * An event is decoded with its elements where a single event has them:
 * dt lands where ts goes, and type, prio, req and the values stay put.
 */
#include "rd_batch.h"
#include "rd_internal.h"
#include "rd_wire.h"

#include <errno.h>
#include <stdlib.h>

#define RD_BATCH_HEAD 4 /* k, p, seq0, ts0 */
#define RD_EV_AT 3      /* a single event's elements before ts (dt's place): k, p, seq */

static int rd_batch_grow(struct rd_batch *b, uint64_t need)
{
	uint64_t cap = b->cap ? b->cap : 32;
	msgpack_object *o;

	while (cap < need)
		cap *= 2;
	o = realloc(b->o, cap * sizeof(*o));
	if (!o)
		return -ENOMEM;
	b->o = o;
	b->cap = (uint32_t)cap;
	return 0;
}

void rd_batch_free(struct hb_reader *r)
{
	free(r->batch.o);
	memset(&r->batch, 0, sizeof(r->batch));
}

static void rd_batch_zone_clear(struct hb_reader *r)
{
	if (r->batch.zone_used) {
		msgpack_zone_clear(&r->zone);
		r->batch.zone_used = false;
	}
}

/* A value with containers in it (rare: field values are scalars) into o,
 * through msgpack-c into the zone: its size, or 0 when it does not decode. */
static __attribute__((noinline)) size_t rd_batch_nested(struct hb_reader *r, const uint8_t *p,
							 size_t len, msgpack_object *o)
{
	long n = rd_mp_size(p, len);
	size_t off = 0;

	if (n <= 0)
		return 0;
	r->batch.zone_used = true;
	if (msgpack_unpack((const char *)p, (size_t)n, &off, &r->zone, o) != MSGPACK_UNPACK_SUCCESS)
		return 0;
	return (size_t)n;
}

/* An integer or nil at p into o, as rd_scalar makes it, with at least 9
 * bytes readable at p (the largest integer's size): its size, or 0 when p
 * starts anything else. The four elements every batch event starts with
 * are these, decoded twice per event (check, hand out): without a bounds
 * check per element they cost half of what rd_scalar's loop does. */
static inline __attribute__((always_inline)) size_t rd_batch_int(const uint8_t *p,
								 msgpack_object *o)
{
	uint8_t b = p[0];
	uint64_t w;
	unsigned n;

	if (b <= 0x7f) {
		o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
		o->via.u64 = b;
		return 1;
	}
	if (b >= 0xcc && b <= 0xcf) { /* one 8-byte load, shifted to the width */
		n = 1u << (b - 0xcc);
		memcpy(&w, p + 1, 8);
		o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
		o->via.u64 = __builtin_bswap64(w) >> (64 - 8 * n);
		return 1 + n;
	}
	if (b == 0xc0) {
		o->type = MSGPACK_OBJECT_NIL;
		return 1;
	}
	return 0; /* negative, or not an integer: rd_scalar decides */
}

/* The leading dt, type, prio and req of the batch event whose elements
 * start at p into o[0..3]: their size, or 0 when one is not a scalar
 * complete in len. */
static inline __attribute__((always_inline)) size_t rd_batch_lead(const uint8_t *p, size_t len,
								  msgpack_object *o)
{
	size_t off = 0, k;

	if (len >= 4 * 9) {
		size_t k0 = rd_batch_int(p, &o[0]);
		size_t k1 = k0 ? rd_batch_int(p + k0, &o[1]) : 0;
		size_t k2 = k1 ? rd_batch_int(p + k0 + k1, &o[2]) : 0;
		size_t k3 = k2 ? rd_batch_int(p + k0 + k1 + k2, &o[3]) : 0;
		if (k3)
			return k0 + k1 + k2 + k3;
	}
	for (int i = 0; i < 4; i++, off += k)
		if (off >= len || !(k = rd_scalar(p + off, len - off, &o[i])))
			return 0;
	return off;
}

/* Decodes the checked batch event at p into o[RD_EV_AT...]: its size, and
 * in *n the element count of the single event it stands for; 0 when it
 * does not decode (no memory). */
static size_t rd_batch_event(struct hb_reader *r, const uint8_t *p, size_t len, uint32_t *n)
{
	struct rd_batch *b = &r->batch;
	uint32_t cnt;
	size_t off = rd_array_head(p, len, &cnt), k;
	msgpack_object *o;

	if (!off || (cnt + RD_EV_AT > b->cap && rd_batch_grow(b, (uint64_t)cnt + RD_EV_AT)))
		return 0;
	rd_batch_zone_clear(r);
	o = b->o + RD_EV_AT;
	k = rd_batch_lead(p + off, len - off, o);
	if (!k)
		return 0;
	off += k;
	for (uint32_t i = 4; i < cnt; i++, off += k) {
		if (off >= len)
			return 0;
		k = rd_scalar(p + off, len - off, &o[i]);
		if (!k && !(k = rd_batch_nested(r, p + off, len - off, &o[i])))
			return 0;
	}
	*n = cnt + RD_EV_AT;
	return off;
}

/* *t plus the event's dt: false when the sum leaves the uint64 range of
 * ns since the epoch (a damaged batch). */
static bool rd_batch_time(const msgpack_object *dt, uint64_t *t)
{
	if (dt->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		return !__builtin_add_overflow(*t, dt->via.u64, t);
	return !__builtin_add_overflow(*t, dt->via.i64, t);
}

/* 1 when the n bytes at p decode with msgpack-c (which refuses nesting
 * deeper than its stack), as handing out the event will; z is cleared. */
static bool rd_batch_unpacks(msgpack_zone *z, const uint8_t *p, size_t n)
{
	msgpack_object o;
	size_t off = 0;
	bool ok;

	ok = msgpack_unpack((const char *)p, n, &off, z, &o) == MSGPACK_UNPACK_SUCCESS;
	msgpack_zone_clear(z);
	return ok;
}

/* Checks the batch event at p, skipping its values without decoding them:
 * its size, with dt, type, prio, req in e[3..6] (their places in a single
 * event); 0 when its end is not in len, -1 when it is not a valid event. */
static long rd_batch_check(msgpack_zone *z, const uint8_t *p, size_t len, msgpack_object *e)
{
	uint32_t cnt, i;
	size_t off = rd_array_head(p, len, &cnt), k;
	bool nested = false;
	long n;

	if (!off || cnt < 4 || cnt > len - off || !(k = rd_batch_lead(p + off, len - off, e + RD_EV_AT)))
		goto other;
	off += k;
	i = 4;
	if ((e[RD_EV_AT].type != MSGPACK_OBJECT_POSITIVE_INTEGER &&
	     e[RD_EV_AT].type != MSGPACK_OBJECT_NEGATIVE_INTEGER) ||
	    !rd_event_valid(e))
		return -1;
	for (; i < cnt; i++, off += k) {
		if (off >= len)
			return 0;
		k = rd_skip_scalar(p + off, len - off);
		if (k)
			continue;
		n = rd_mp_size(p + off, len - off); /* a container, or not complete */
		if (n <= 0)
			return n;
		k = (size_t)n;
		nested = true;
	}
	if (nested && !rd_batch_unpacks(z, p, off))
		return -1;
	return (long)off;
other: /* not complete, or not an event: the structure tells which */
	n = rd_mp_size(p, len);
	return n <= 0 ? n : -1;
}

/* The header of a batch at p into h: the size of it and its array header,
 * and in *nev its event count (each event takes 5 bytes or more); 0 when
 * p does not start a valid one. */
static size_t rd_batch_head(const uint8_t *p, size_t len, msgpack_object *h, uint64_t *nev)
{
	uint32_t cnt;
	size_t off = rd_array_head(p, len, &cnt), k;

	if (!off || cnt <= RD_BATCH_HEAD || off >= len || p[off] != 3)
		return 0;
	for (int i = 0; i < RD_BATCH_HEAD; i++) {
		if (off >= len || !(k = rd_scalar(p + off, len - off, &h[i])))
			return 0;
		off += k;
	}
	*nev = cnt - RD_BATCH_HEAD;
	if (*nev > RD_OBJ_MAX / 5 || !rd_is_uint(&h[1]) || h[1].via.u64 > UINT32_MAX || !rd_is_uint(&h[2]) ||
	    *nev > UINT64_MAX - h[2].via.u64)
		return 0;
	return off;
}

/* Checks every event of the batch at p, whose file offset is at and whose
 * events start at p + off, from ts0 at t: the batch's size, 0 when its end
 * is not in len, -1 when it is not valid. When the end is missing, how far
 * it got is kept so that the check goes on from there when more bytes are
 * in: the collector's batches are about as large as one read. */
static long rd_batch_check_all(struct hb_reader *r, const uint8_t *p, size_t len, size_t off,
			       uint64_t nev, uint64_t t, uint64_t at)
{
	struct rd_batch *b = &r->batch;
	msgpack_object e[RD_EV_AT + 4];
	uint64_t i = 0, t1 = 0;
	long n = 0;

	if (b->chk_file == r->name && b->chk_at == at && b->chk_off <= len) {
		off = b->chk_off;
		i = b->chk_i;
		t = b->chk_t;
		t1 = b->chk_t1;
	}
	b->chk_file = NULL;
	for (; i < nev; i++, off += (size_t)n) {
		n = off < len ? rd_batch_check(&r->zone, p + off, len - off, e) : 0;
		if (n < 0 || (n > 0 && !rd_batch_time(&e[RD_EV_AT], &t)))
			return -1;
		if (n == 0) {
			*b = (struct rd_batch){.o = b->o, .cap = b->cap, .chk_file = r->name,
					       .chk_at = at, .chk_off = off, .chk_i = i, .chk_t = t,
					       .chk_t1 = t1};
			return 0;
		}
		if (i == 0)
			t1 = t;
	}
	b->ts_first = t1;
	return (long)off;
}

long rd_batch_open(struct hb_reader *r, const uint8_t *p, size_t len)
{
	struct rd_batch *b = &r->batch;
	msgpack_object h[RD_BATCH_HEAD];
	bool capped = len >= RD_OBJ_MAX; /* a larger batch is damage */
	uint64_t nev, ts0, at = r->base + (uint64_t)((const char *)p - r->buf);
	size_t first;
	long n;

	first = rd_batch_head(p, capped ? RD_OBJ_MAX : len, h, &nev);
	if (!first || hb_rd_obj_time(&h[3], &ts0))
		return -1;
	n = rd_batch_check_all(r, p, capped ? RD_OBJ_MAX : len, first, nev, ts0, at);
	if (n <= 0)
		return n == 0 && !capped ? 0 : -1;
	if (b->cap < RD_EV_AT + 4 && rd_batch_grow(b, RD_EV_AT + 4))
		return -1;
	b->next = p + first;
	b->end = p + n;
	b->left = nev;
	b->seq = h[2].via.u64;
	b->ts_ns = ts0;
	b->offset = at;
	b->p = (uint32_t)h[1].via.u64;
	b->producer = rd_ptab_get(&r->tab, b->p);
	/* k and p are the same for every event; seq and ts are set per event */
	b->o[0] = (msgpack_object){.type = MSGPACK_OBJECT_POSITIVE_INTEGER, .via.u64 = HB_RD_EVENT};
	b->o[1] = h[1];
	return n;
}

long rd_batch_verify(const uint8_t *p, size_t len, msgpack_zone *z, struct rd_batch_info *bi)
{
	msgpack_object h[RD_BATCH_HEAD], e[RD_EV_AT + 4];
	size_t off;
	uint64_t t;
	long k;

	if (len > RD_OBJ_MAX) /* a larger batch is damage to a reader */
		len = RD_OBJ_MAX;
	off = rd_batch_head(p, len, h, &bi->nev);
	if (!off || hb_rd_obj_time(&h[3], &t))
		return -1;
	bi->p = (uint32_t)h[1].via.u64;
	bi->seq0 = h[2].via.u64;
	bi->first = off;
	for (uint64_t i = 0; i < bi->nev; i++, off += (size_t)k) {
		k = off < len ? rd_batch_check(z, p + off, len - off, e) : 0;
		if (k <= 0 || !rd_batch_time(&e[RD_EV_AT], &t))
			return -1;
		if (!i || t < bi->ts_min)
			bi->ts_min = t;
		if (!i || t > bi->ts_max)
			bi->ts_max = t;
	}
	bi->size = off;
	return (long)off;
}

size_t rd_batch_seek(const uint8_t *p, const struct rd_batch_info *bi, uint64_t i, uint64_t *t)
{
	msgpack_object h[RD_BATCH_HEAD], dt = {.type = MSGPACK_OBJECT_NIL};
	size_t off = bi->first;
	uint64_t nev;
	uint32_t cnt;

	rd_batch_head(p, bi->first, h, &nev);
	hb_rd_obj_time(&h[3], t);
	for (uint64_t j = 0; j < i; j++) { /* checked: each is [dt, ...] */
		size_t a = rd_array_head(p + off, bi->size - off, &cnt);

		rd_scalar(p + off + a, bi->size - off - a, &dt);
		rd_batch_time(&dt, t);
		off += (size_t)rd_mp_size(p + off, bi->size - off);
	}
	return off;
}

/* o[RD_EV_AT]: the time as a single event carries it, a timestamp (64-bit
 * form, or 96-bit past 2514) whose bytes are the reader's. */
static void rd_batch_ts(struct rd_batch *b, uint64_t ns)
{
	uint64_t sec = ns / 1000000000u, nsec = ns % 1000000000u, w;
	msgpack_object *o = &b->o[RD_EV_AT];
	uint32_t h;

	o->type = MSGPACK_OBJECT_EXT;
	o->via.ext.type = -1;
	o->via.ext.ptr = (const char *)b->ts_body;
	if (sec >> 34 == 0) {
		w = __builtin_bswap64(nsec << 34 | sec);
		memcpy(b->ts_body, &w, 8);
		o->via.ext.size = 8;
		return;
	}
	h = __builtin_bswap32((uint32_t)nsec);
	w = __builtin_bswap64(sec);
	memcpy(b->ts_body, &h, 4);
	memcpy(b->ts_body + 4, &w, 8);
	o->via.ext.size = 12;
}

int rd_batch_whole(struct hb_reader *r, struct hb_rd_record *rec)
{
	struct rd_batch *b = &r->batch;

	rd_rec_init(rec, NULL);
	rec->kind = HB_RD_BATCH;
	rec->producer = b->producer;
	rec->seq = b->seq;
	rec->ts_ns = b->ts_first;
	rec->nevents = b->left;
	b->left = 0;
	return 1;
}

int rd_batch_next(struct hb_reader *r, struct hb_rd_record *rec)
{
	struct rd_batch *b = &r->batch;
	uint32_t n;
	size_t k = rd_batch_event(r, b->next, (size_t)(b->end - b->next), &n);

	if (!k) { /* it decoded when the batch was opened: only memory fails now */
		b->left = 0;
		return -ENOMEM;
	}
	b->next += k;
	b->left--;
	rd_batch_time(&b->o[RD_EV_AT], &b->ts_ns);
	b->o[2] = (msgpack_object){.type = MSGPACK_OBJECT_POSITIVE_INTEGER, .via.u64 = b->seq};
	rd_batch_ts(b, b->ts_ns);
	r->obj.type = MSGPACK_OBJECT_ARRAY;
	r->obj.via.array.size = n;
	r->obj.via.array.ptr = b->o;
	rd_rec_init(rec, &r->obj);
	rec->producer = b->producer;
	rec->seq = b->seq++;
	rec->ts_ns = b->ts_ns;
	rd_event_set(rec, b->o, n);
	rec->file = r->name;
	rec->offset = b->offset;
	return 1;
}

/* ---- records as standalone objects ---------------------------------------- */

/* A msgpack-c write callback into a caller's buffer that counts what did
 * not fit, so that the caller learns the room it needs. */
struct rd_out {
	char *b;
	size_t cap, len;
};

static int rd_out_write(void *data, const char *p, size_t n)
{
	struct rd_out *o = data;

	if (o->len < o->cap)
		memcpy(o->b + o->len, p, n < o->cap - o->len ? n : o->cap - o->len);
	o->len += n;
	return 0;
}

size_t hb_rd_format_msgpack(char *buf, size_t len, const struct hb_rd_record *rec)
{
	struct rd_out o = {buf, len, 0};
	msgpack_packer pk;

	if (rec->raw) {
		rd_out_write(&o, rec->raw, rec->raw_len);
		return o.len;
	}
	msgpack_packer_init(&pk, &o, rd_out_write);
	msgpack_pack_object(&pk, *rec->obj);
	return o.len;
}
