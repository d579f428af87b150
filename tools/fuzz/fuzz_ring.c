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
 * Every str the collector writes about a ring is valid, printable UTF-8
 * whatever its header and its shm name hold: the producer, types, metrics
 * and quarantine state records made from the final header, with the
 * input's first bytes as the shm name, are decoded and each str checked;
 * the escaped name (hbc_str_escape, also the log's) reads back as the
 * bytes it came from.
 *
 * Input: mode u8, size u8, header (raw bytes or formatted + patches), tail,
 * head, data bytes, then a stream of operations (see fuzz_op()).
 */
#include "fuzz_input.h"
#include "hb.h"
#include "hb_reader.h"
#include "hbc.h"
#include "enc_event.h"
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

/* The drain's one pass (hb_ring_view_take, then hbc_enc_fields checking
 * the fields while it encodes them) accepts an event whose fixed part and
 * tags are good exactly when the full check (hb_rec_check_copy) does. The
 * copy sits in a zeroed HB_REC_COPY_MAX buffer, as the collector's. */
static void take_fields_agree(const struct ring *g)
{
	static _Alignas(8) uint8_t copy[HB_REC_COPY_MAX];
	static uint8_t out[HBC_REC_MAX];
	struct hb_ring_view v = g->v;
	struct hb_rec h;
	uint32_t len;
	uint64_t tw;
	uint8_t *w;

	memset(copy, 0, sizeof(copy));
	if (hb_ring_view_take(&v, copy, sizeof(copy), &len) != 1)
		return;
	memcpy(&h, copy, sizeof(h));
	if (len < HB_EVENT_FIXED || h.len != len || h.kind != HB_REC_EVENT || h.prio > HB_PRIO_URGENT)
		return;
	tw = hb_event_tags((const struct hb_rec *)copy);
	if (!hb_tags_ok(tw))
		return;
	w = hbc_enc_fields(out, copy + HB_EVENT_FIXED, copy + len, tw);
	CHECK((w != NULL) == (hb_rec_check_copy((const struct hb_rec *)copy, len) == 0));
	CHECK(!w || (size_t)(w - out) <= HBC_EVENT_ENC_MAX);
}

/* hb_ring_view_copy as the collector drains: what it takes is valid. */
static int ring_copy(struct ring *g)
{
	const struct hb_rec *r;
	uint64_t before = g->v.cursor;
	int rc;

	if (!g->attached)
		return 0;
	take_fields_agree(g);
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

/* Valid UTF-8 without control characters (C0, DEL, C1). */
static int printable_utf8(const char *s, size_t n)
{
	const uint8_t *u = (const uint8_t *)s;
	size_t i;

	if (!hb_utf8_valid(s, n))
		return 0;
	for (i = 0; i < n; i++)
		if (u[i] < 0x20 || u[i] == 0x7f || (u[i] == 0xc2 && i + 1 < n && u[i + 1] < 0xa0))
			return 0;
	return 1;
}

static void check_strs(const msgpack_object *o)
{
	uint32_t i;

	if (o->type == MSGPACK_OBJECT_STR)
		CHECK(printable_utf8(o->via.str.ptr, o->via.str.size));
	if (o->type == MSGPACK_OBJECT_ARRAY)
		for (i = 0; i < o->via.array.size; i++)
			check_strs(&o->via.array.ptr[i]);
	if (o->type == MSGPACK_OBJECT_MAP)
		for (i = 0; i < o->via.map.size; i++) {
			check_strs(&o->via.map.ptr[i].key);
			check_strs(&o->via.map.ptr[i].val);
		}
}

/* Reads an escape back: the bytes hbc_str_escape was given (as far as it
 * went) must be what it wrote them as. */
static void check_unescape(const char *esc, size_t n, const uint8_t *src, size_t srcn)
{
	size_t i = 0, k = 0;

	while (i < n) {
		uint8_t b = (uint8_t)esc[i];

		if (b == '\\') {
			CHECK(i + 1 < n);
			if (esc[i + 1] == '\\') {
				b = '\\';
				i += 2;
			} else {
				CHECK(esc[i + 1] == 'x' && i + 3 < n);
				b = (uint8_t)strtoul((char[]){esc[i + 2], esc[i + 3], 0}, NULL, 16);
				i += 4;
			}
		} else {
			i++;
		}
		CHECK(k < srcn && src[k] == b);
		k++;
	}
}

static void names_encode(struct ring *g, const uint8_t *name, size_t namelen)
{
	static char out[4 * HBC_REC_MAX];
	struct hbc_buf b = {.data = out, .cap = sizeof(out)};
	char ring[256], esc[4 * sizeof(ring)];
	struct hbc_ident id = {.pid = 1, .interval_ns = 1000000000u};
	const struct hb_ring_hdr *h = g->hdr;
	uint32_t nt = atomic_load(&h->ntypes), nm = atomic_load(&h->nmetrics);
	msgpack_unpacked u;
	msgpack_packer pk;
	size_t off = 0, n;

	if (namelen > sizeof(ring) - 1)
		namelen = sizeof(ring) - 1;
	memcpy(ring, name, namelen);
	ring[namelen] = 0; /* as readdir gives it: up to the first NUL */
	n = hbc_str_escape(esc, sizeof(esc), ring, strlen(ring));
	CHECK(printable_utf8(esc, n));
	check_unescape(esc, n, (const uint8_t *)ring, strlen(ring));
	hbc_strcpy_shared(id.name, h->name, sizeof(h->name));
	hbc_strcpy_shared(id.host, h->host, sizeof(h->host));
	hbc_strcpy_shared(id.thread, h->thread, sizeof(h->thread));
	snprintf(id.ring, sizeof(id.ring), "%s", ring);
	nt = nt > HB_MAX_TYPES ? HB_MAX_TYPES : nt;
	nm = nm > HB_MAX_METRICS ? HB_MAX_METRICS : nm;
	hbc_packer_init(&pk, &b);
	hbc_enc_producer(&pk, "attached", 1, 1, &id, h, nt, nm, 0);
	hbc_enc_types(&pk, 1, 1, h, 0, nt);
	hbc_enc_metrics(&pk, 1, 1, h, 0, nm);
	hbc_enc_state(&pk, 1, 1, "quarantined", "bad header", ring);
	CHECK(!b.overflow);
	msgpack_unpacked_init(&u);
	for (n = 0; n < 4; n++) {
		CHECK(msgpack_unpack_next(&u, out, b.len, &off) == MSGPACK_UNPACK_SUCCESS);
		check_strs(&u.data);
	}
	CHECK(off == b.len);
	msgpack_unpacked_destroy(&u);
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
	names_encode(g, data, size);
	free(g->mem);
	free(g);
	return 0;
}
