/* SPDX-License-Identifier: MIT */
/*
 * fuzz_ring - the consumer's validation of an untrusted ring: a header and
 * a data area taken from the input go through hb_ring_hdr_check,
 * hb_ring_view_init, hb_ring_view_next and hb_event_decode, interleaved
 * with a hostile producer that patches the header and the data, moves head
 * backwards or far ahead, while the consumer drains and releases.
 *
 * The ring lives at the very end of an ASan-guarded allocation, so any read
 * past the data area is reported. Invariants: tail <= cursor <= tail + size
 * (by subtraction), every returned record lies inside the data area and
 * passes hb_rec_check, every decoded string lies inside its record.
 *
 * Every record that validates then goes through the collector's encoder
 * (bus/encode.c): a heartbeat must come out as exactly one msgpack object,
 * an event as a batch that decodes (msgpack-c) to hb_event_decode's view
 * of the same copy. The collector's own path, hb_ring_view_copy, is driven
 * alongside: what it accepts must pass hb_rec_check and is encoded the
 * same way.
 *
 * Input: mode u8, size u8, header (raw bytes or formatted + patches), tail,
 * head, data bytes, then a stream of operations (see fuzz_op()).
 */
#include "fuzz_input.h"
#include "hb.h"
#include "hbc.h"
#include "ring.h"

#include <endian.h>
#include <stdio.h>
#include <stdlib.h>

#define MAX_OPS 256
#define MAX_DRAIN 20000

struct ring {
	uint8_t *mem;
	size_t total;    /* allocated */
	size_t map_size; /* what the consumer is told */
	uint32_t size;   /* real data area size */
	struct hb_ring_hdr *hdr;
	uint8_t *data;
	struct hb_ring_view v;
	int attached;
	_Alignas(8) uint8_t copy[HB_EVENT_FIXED + HB_MAX_FIELDS * (8 + HB_STR_MAX) + 64];
	_Alignas(8) uint8_t taken[HB_REC_COPY_MAX]; /* hb_ring_view_copy's buffer */
};

static volatile uint64_t sink;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("HB_CLOCK", "realtime", 1);
	unsetenv("HB_BUS");
	return 0;
}

static void patch(struct fz *f, uint8_t *base, size_t n)
{
	size_t off = fz_u16(f) % n, len = fz_u8(f) % 17;

	if (len > n - off)
		len = n - off;
	fz_take(f, base + off, len);
}

static void ring_header(struct fz *f, struct ring *g, uint8_t mode)
{
	struct hb_config c = {.bus = "fz", .name = "fuzz"};
	unsigned i, n;

	if (mode & 1) {
		size_t len = fz_u16(f);
		const uint8_t *b = fz_bytes(f, &len);

		memcpy(g->mem, b, len < HB_RING_HDR_SIZE ? len : HB_RING_HDR_SIZE);
		return;
	}
	CHECK(hb_ring_format(g->mem, g->total, g->size, &c) == 0);
	n = fz_u8(f) % 8;
	for (i = 0; i < n; i++)
		patch(f, g->mem, HB_RING_HDR_SIZE);
}

static void indices(struct fz *f, struct ring *g, uint8_t mode)
{
	uint64_t tail = (mode & 2) ? fz_u64(f) : (uint64_t)fz_u16(f) * 8;
	uint64_t head = (mode & 4) ? fz_u64(f) : tail + fz_u16(f);

	atomic_store(&g->hdr->tail, tail);
	atomic_store(&g->hdr->head, head);
}

static void data_fill(struct fz *f, struct ring *g)
{
	size_t len = fz_u16(f), off = (size_t)atomic_load(&g->hdr->tail) & (g->size - 1);
	const uint8_t *b = fz_bytes(f, &len);
	size_t first;

	if (len > g->size)
		len = g->size;
	first = len < g->size - off ? len : g->size - off;
	memcpy(g->data + off, b, first);
	memcpy(g->data, b + first, len - first);
}

static void view_invariants(const struct ring *g)
{
	const struct hb_ring_view *v = &g->v;

	/* head is whatever the producer published last and may be hostile
	 * (behind the cursor); what was consumed stays within one ring. */
	CHECK(v->cursor - v->tail <= g->size);
}

/* The collector's encoding of a valid heartbeat: one whole msgpack object. */
static void record_encode_heartbeat(const struct hb_rec *r)
{
	static char out[HBC_REC_MAX];
	static uint8_t kinds[HB_MAX_METRICS];
	struct hbc_buf b = {.data = out, .cap = sizeof(out)};
	struct hb_rec_hb hb;
	msgpack_packer pk;
	msgpack_zone zone;
	msgpack_object obj;
	size_t off = 0;

	hbc_packer_init(&pk, &b);
	memcpy(&hb, r + 1, sizeof(hb));
	for (unsigned i = 0; i < HB_MAX_METRICS; i++)
		kinds[i] = (uint8_t)(i % 5);
	hbc_enc_heartbeat(&pk, 1, r, hb.rt_ns, &hb, (const uint8_t *)(r + 1) + sizeof(hb), kinds, 0);
	CHECK(!b.overflow);
	msgpack_zone_init(&zone, 4096);
	CHECK(msgpack_unpack(out, b.len, &off, &zone, &obj) == MSGPACK_UNPACK_SUCCESS);
	CHECK(off == b.len && obj.type == MSGPACK_OBJECT_ARRAY);
	msgpack_zone_destroy(&zone);
}

/* Field value o as written for the value of tag t in the view. */
static int value_matches(const msgpack_object *o, unsigned t, uint64_t v, const void *ptr)
{
	switch (t) {
	case HB_T_I64:
		return o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER ? o->via.i64 == (int64_t)v
								  : o->via.u64 == v;
	case HB_T_U64:
		return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 == v;
	case HB_T_F64:
		return o->type == MSGPACK_OBJECT_FLOAT64 && !memcmp(&o->via.f64, &v, 8);
	case HB_T_BOOL:
		return o->type == MSGPACK_OBJECT_BOOLEAN && o->via.boolean == (v != 0);
	case HB_T_STR:
	case HB_T_BYTES: /* str, or bin when not UTF-8 */
		return (o->type == MSGPACK_OBJECT_STR || o->type == MSGPACK_OBJECT_BIN) &&
		       o->via.str.size == v && !memcmp(o->via.str.ptr, ptr, (size_t)v);
	default:
		return 0;
	}
}

/* What the collector encodes for a validated copy decodes to
 * hb_event_decode's view of it: a batch of one event [dt, type, prio, req,
 * v...]. */
static void record_encode_matches_view(const struct hb_rec *r)
{
	static char out[HBC_REC_MAX];
	struct hbc_buf b = {.data = out, .cap = sizeof(out)};
	struct hb_event_view ev;
	const msgpack_object *e;
	msgpack_zone zone;
	msgpack_object obj;
	size_t off = 0;

	CHECK(hb_event_decode(r, &ev) == 0);
	hbc_enc_event(&b, 1, r, r->ts);
	hbc_buf_batch_end(&b);
	CHECK(!b.overflow);
	msgpack_zone_init(&zone, 4096);
	CHECK(msgpack_unpack(out, b.len, &off, &zone, &obj) == MSGPACK_UNPACK_SUCCESS);
	CHECK(off == b.len && obj.type == MSGPACK_OBJECT_ARRAY && obj.via.array.size == 5);
	e = obj.via.array.ptr[4].via.array.ptr;
	CHECK(obj.via.array.ptr[4].via.array.size == 4 + ev.nfields);
	CHECK(e[1].via.u64 == r->type && e[2].via.u64 == r->prio);
	CHECK(ev.req ? e[3].via.u64 == ev.req : e[3].type == MSGPACK_OBJECT_NIL);
	for (unsigned i = 0; i < ev.nfields; i++)
		CHECK(value_matches(&e[4 + i], ev.tags[i], ev.vals[i], ev.ptrs[i]));
	msgpack_zone_destroy(&zone);
}

/* The record as a careful consumer uses it: copied (its length is how far
 * the cursor moved) and decoded from the copy, every value touched. */
static void record_use(struct ring *g, const struct hb_rec *r, uint64_t moved)
{
	const uint8_t *rp = (const uint8_t *)r;
	struct hb_event_view ev;
	uint32_t len;
	unsigned i;

	CHECK(rp >= g->data && rp + sizeof(*r) <= g->data + g->size);
	memcpy(&len, rp, 4);
	CHECK(len <= moved && rp + len <= g->data + g->size);
	CHECK(hb_rec_check(r, len) == 0);
	memcpy(g->copy, rp, len);
	r = (const struct hb_rec *)g->copy;
	if (r->kind != HB_REC_EVENT) {
		record_encode_heartbeat(r);
		return;
	}
	record_encode_matches_view(r);
	CHECK(hb_event_decode(r, &ev) == 0);
	CHECK(ev.nfields <= HB_MAX_FIELDS);
	for (i = 0; i < ev.nfields; i++) {
		if (ev.tags[i] == HB_T_STR || ev.tags[i] == HB_T_BYTES) {
			const uint8_t *s = ev.ptrs[i];

			CHECK(s >= g->copy && s + ev.vals[i] <= g->copy + len);
			for (uint64_t k = 0; k < ev.vals[i]; k++)
				sink += s[k];
		}
		sink += ev.vals[i];
	}
}

static int ring_next(struct ring *g)
{
	const struct hb_rec *r;
	uint64_t before = g->v.cursor;
	int rc;

	if (!g->attached)
		return 0;
	rc = hb_ring_view_next(&g->v, &r);
	CHECK(rc == 0 || rc == 1 || rc == -EBADMSG);
	if (rc == 1)
		record_use(g, r, g->v.cursor - before);
	else if (rc < 0)
		CHECK(g->v.cursor == before); /* a bad record is not consumed */
	/* rc == 0 may have skipped pads */
	view_invariants(g);
	return rc;
}

/* hb_ring_view_copy as the collector drains: what it takes is valid. */
static int ring_copy(struct ring *g)
{
	const struct hb_rec *r;
	uint64_t before = g->v.cursor;
	int rc;

	if (!g->attached)
		return 0;
	rc = hb_ring_view_copy(&g->v, g->taken, sizeof(g->taken), &r);
	CHECK(rc == 0 || rc == 1 || rc == -EBADMSG);
	if (rc == 1) {
		CHECK((const uint8_t *)r == g->taken && r->len <= g->v.cursor - before); /* pads too */
		CHECK(r->kind != HB_REC_PAD && hb_rec_check(r, r->len) == 0);
		if (r->kind == HB_REC_EVENT)
			record_encode_matches_view(r);
		else
			record_encode_heartbeat(r);
	} else if (rc < 0) {
		CHECK(g->v.cursor == before);
	}
	view_invariants(g);
	return rc;
}

static void ring_attach(struct ring *g)
{
	int rc = hb_ring_view_init(&g->v, g->mem, g->map_size);

	CHECK(rc == 0 || rc == -EPROTO || rc == -EPROTONOSUPPORT || rc == -EINVAL);
	CHECK(rc == hb_ring_hdr_check(g->hdr, g->map_size));
	g->attached = rc == 0;
	if (g->attached) {
		CHECK(g->v.size <= g->size && g->v.data == g->data);
		CHECK(g->v.cursor == g->v.tail);
	}
}

static void fuzz_op(struct fz *f, struct ring *g)
{
	uint64_t h;

	switch (fz_u8(f) % 8) {
	case 0:
		ring_next(g);
		break;
	case 1:
		ring_copy(g);
		break;
	case 2:
		if (g->attached)
			hb_ring_view_release(&g->v, g->v.cursor);
		break;
	case 3: /* scribble over the header while the consumer runs */
		patch(f, g->mem, HB_RING_HDR_SIZE);
		break;
	case 4: /* rewrite published data */
		patch(f, g->data, g->size);
		break;
	case 5: /* head moves by a signed amount: backwards, jumps */
		h = atomic_load(&g->hdr->head) + (uint64_t)(int64_t)(int16_t)fz_u16(f);
		atomic_store(&g->hdr->head, h);
		break;
	case 6:
		atomic_store(&g->hdr->head, fz_u64(f));
		break;
	default: /* a restarted consumer */
		ring_attach(g);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = {data, size};
	struct ring *g = calloc(1, sizeof(*g));
	uint8_t mode = fz_u8(&f), sel = fz_u8(&f);
	int i;

	g->size = 4096u << (sel % 4);
	g->total = HB_RING_HDR_SIZE + g->size;
	g->map_size = (sel & 0x10) ? HB_RING_HDR_SIZE + g->size / 2 : g->total;
	g->mem = aligned_alloc(4096, g->total);
	memset(g->mem, 0, g->total);
	g->hdr = (struct hb_ring_hdr *)g->mem;
	g->data = g->mem + HB_RING_HDR_SIZE;
	ring_header(&f, g, mode);
	indices(&f, g, mode);
	data_fill(&f, g);
	ring_attach(g);
	for (i = 0; fz_left(&f) && i < MAX_OPS; i++)
		fuzz_op(&f, g);
	for (i = 0; i < MAX_DRAIN && ((mode & 8) ? ring_copy(g) : ring_next(g)) == 1; i++)
		if (i % 16 == 15)
			hb_ring_view_release(&g->v, g->v.cursor);
	free(g->mem);
	free(g);
	return 0;
}
