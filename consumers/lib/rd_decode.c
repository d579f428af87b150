/* SPDX-License-Identifier: MIT */
/*
 * rd_decode.c - archive objects to records (docs/FORMAT.md), producer tables.
 *
 * Decoding is msgpack-c's msgpack_unpack into one zone that is cleared, not
 * freed, between objects (msgpack_unpack_next and msgpack_unpacker_next make
 * a new zone per object). Before msgpack-c sees the bytes, rd_mp_size walks
 * the object's structure to find its end: it bounds every length and count by
 * the bytes present, so a corrupt length can never make the decoder allocate
 * gigabytes, and an incomplete object is told apart without decoding.
 */
#include "rd_internal.h"
#include "rd_wire.h"

#include <errno.h>
#include <msgpack/timestamp.h>
#include <stdlib.h>
#include <string.h>

#include "hb.h"
#include "hbs/names.h"

/* ---- structure walk ------------------------------------------------- */

long rd_mp_size(const uint8_t *p, size_t len)
{
	uint64_t need = 1; /* objects still to read; each takes >= 1 byte */
	size_t off = 0;

	while (need) {
		if (need > RD_OBJ_MAX)
			return -1;
		if (need > len - off)
			return off + need > RD_OBJ_MAX ? -1 : 0;
		uint8_t b = p[off++];
		need--;
		if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
			continue;
		if (b <= 0x8f) {
			need += 2u * (b & 0x0f);
		} else if (b <= 0x9f) {
			need += b & 0x0f;
		} else if (b <= 0xbf) {
			off += b & 0x1f;
		} else if (b == 0xc1) {
			return -1;
		} else {
			const struct rd_marker *m = &rd_markers[b - 0xc0];
			if (len - off < m->lenb)
				return 0;
			uint64_t n = rd_be(p + off, m->lenb);
			off += m->lenb;
			if (m->what == RD_ELEMS)
				need += n;
			else if (m->what == RD_PAIRS)
				need += 2 * n;
			else
				off += m->fixed + (m->lenb ? n : 0);
			if (off > RD_OBJ_MAX)
				return -1;
		}
		if (off > len)
			return 0;
	}
	return (long)off;
}

/* Length of the unsigned integer at p, 0 if it is not one. */
static size_t rd_uint_len(const uint8_t *p, size_t len)
{
	static const uint8_t w[4] = {2, 3, 5, 9};

	if (len < 1)
		return 0;
	if (p[0] <= 0x7f)
		return 1;
	if (p[0] >= 0xcc && p[0] <= 0xcf && len >= w[p[0] - 0xcc])
		return w[p[0] - 0xcc];
	return 0;
}

/* An array of cnt elements (header of head bytes) whose element 0 is kind
 * could be a record: an event or heartbeat is a fixarray of 7 or more
 * elements or an array 16 of at most 1024; a batch (2.0) has 4 elements
 * and its events, each of 5 bytes or more. */
static bool rd_maybe_count(uint8_t kind, uint32_t cnt, size_t head)
{
	if (kind == 1 || kind == 2)
		return head == 1 ? cnt >= 7 : head == 3 && cnt <= 1024;
	return kind == 3 && cnt >= 5 && cnt - 4 <= RD_OBJ_MAX / 5;
}

bool rd_maybe_record(const uint8_t *p, size_t len)
{
	size_t off, n;
	uint32_t cnt;

	if (len < 2)
		return false;
	if ((p[0] >= 0x81 && p[0] <= 0x8f) || p[0] == 0xde)
		return len > 3 && (p[p[0] == 0xde ? 3 : 1] & 0xe0) == 0xa0; /* a str key */
	off = rd_array_head(p, len, &cnt);
	if (!off || off >= len || !rd_maybe_count(p[off], cnt, off))
		return false;
	off++;
	for (int i = 0; i < 2; i++) { /* p and seq */
		n = rd_uint_len(p + off, len - off);
		if (!n)
			return false;
		off += n;
	}
	/* ts: fixext 4, fixext 8 or ext8 of 12 bytes, type -1 */
	if (len - off < 3)
		return false;
	return ((p[off] == 0xd6 || p[off] == 0xd7) && p[off + 1] == 0xff) ||
	       (p[off] == 0xc7 && p[off + 1] == 12 && p[off + 2] == 0xff);
}

/* ---- object helpers ------------------------------------------------- */

static bool rd_is_str(const msgpack_object *o, const char *s)
{
	size_t n = strlen(s);

	return o && o->type == MSGPACK_OBJECT_STR && o->via.str.size == n &&
	       memcmp(o->via.str.ptr, s, n) == 0;
}

static char *rd_strdup(const msgpack_object *o)
{
	if (!o || o->type != MSGPACK_OBJECT_STR)
		return strdup("");
	return strndup(o->via.str.ptr, o->via.str.size);
}

static uint64_t rd_uint(const msgpack_object *o, uint64_t dflt)
{
	return o && rd_is_uint(o) ? o->via.u64 : dflt;
}

static uint64_t rd_ts(const msgpack_object *o)
{
	uint64_t ns = 0;

	if (o)
		hb_rd_obj_time(o, &ns);
	return ns;
}

/* ---- producer tables -------------------------------------------------- */

static uint32_t rd_hash(uint32_t p)
{
	return p * 2654435761u;
}

struct hb_rd_producer *rd_ptab_get(const struct rd_ptab *t, uint32_t p)
{
	if (!t->cap)
		return NULL;
	for (uint32_t i = rd_hash(p) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		if (!t->v[i])
			return NULL;
		if (t->v[i]->p == p)
			return t->v[i];
	}
}

static int rd_ptab_put(struct rd_ptab *t, struct hb_rd_producer *pr)
{
	if ((t->n + 1) * 2 > t->cap) {
		uint32_t cap = t->cap ? t->cap * 2 : 16;
		struct hb_rd_producer **v = calloc(cap, sizeof(*v));
		if (!v)
			return -ENOMEM;
		struct rd_ptab nt = {v, cap, 0};
		for (uint32_t i = 0; i < t->cap; i++)
			if (t->v[i])
				rd_ptab_put(&nt, t->v[i]);
		free(t->v);
		*t = nt;
	}
	uint32_t i = rd_hash(pr->p) & (t->cap - 1);
	while (t->v[i] && t->v[i]->p != pr->p)
		i = (i + 1) & (t->cap - 1);
	if (!t->v[i])
		t->n++;
	t->v[i] = pr;
	return 0;
}

void rd_ptab_clear(struct rd_ptab *t)
{
	if (t->cap)
		memset(t->v, 0, t->cap * sizeof(*t->v));
	t->n = 0;
}

void rd_ptab_free(struct rd_ptab *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}

static void rd_type_clear(struct hb_rd_type *t)
{
	for (uint32_t i = 0; i < t->nfields; i++)
		free(t->fields[i]);
	free(t->fields);
	free(t->field_lens);
	free(t->ftypes);
	free(t->name);
	memset(t, 0, sizeof(*t));
}

void rd_producer_free(struct hb_rd_producer *pr)
{
	if (!pr)
		return;
	for (uint32_t i = 0; i < pr->ntypes; i++)
		rd_type_clear(&pr->types[i]);
	for (uint32_t i = 0; i < pr->nmetrics; i++)
		free(pr->metrics[i].name);
	free(pr->types);
	free(pr->metrics);
	free(pr->name);
	free(pr->thread);
	free(pr->host);
	free(pr->ring);
	free(pr);
}

/* (a str object's bytes, or none) */
static int rd_name_parse(int (*parse)(const char *, size_t), const msgpack_object *o)
{
	if (!o || o->type != MSGPACK_OBJECT_STR)
		return -1;
	return parse(o->via.str.ptr, o->via.str.size);
}

static int rd_tag_parse(const msgpack_object *o)
{
	int t = rd_name_parse(hbs_tag_parse, o);

	return t < 0 ? HB_T_NONE : t;
}

static int rd_kind_parse(const msgpack_object *o)
{
	int k = rd_name_parse(hbs_kind_parse, o);

	return k < 0 ? 0 : k;
}

static int rd_type_set(struct hb_rd_type *t, const msgpack_object *m)
{
	const msgpack_object *f = hb_rd_map_get(m, "fields");
	const msgpack_object *ft = hb_rd_map_get(m, "ftypes");
	uint32_t n = f && f->type == MSGPACK_OBJECT_ARRAY ? f->via.array.size : 0;

	rd_type_clear(t);
	t->name = rd_strdup(hb_rd_map_get(m, "name"));
	t->fields = calloc(n + 1, sizeof(*t->fields));
	t->field_lens = calloc(n + 1, sizeof(*t->field_lens));
	t->ftypes = calloc(n + 1, 1);
	if (!t->name || !t->fields || !t->field_lens || !t->ftypes)
		return -ENOMEM;
	t->name_len = (uint32_t)strlen(t->name);
	for (uint32_t i = 0; i < n; i++) {
		t->fields[i] = rd_strdup(&f->via.array.ptr[i]);
		if (!t->fields[i])
			return -ENOMEM;
		t->field_lens[i] = (uint32_t)strlen(t->fields[i]);
		t->nfields = i + 1;
		if (ft && ft->type == MSGPACK_OBJECT_ARRAY && i < ft->via.array.size)
			t->ftypes[i] = (uint8_t)rd_tag_parse(&ft->via.array.ptr[i]);
	}
	return 0;
}

/* Sets entries first.. of the producer's types from the array list. */
static int rd_types_set(struct hb_rd_producer *pr, uint64_t first, const msgpack_object *list)
{
	if (!list || list->type != MSGPACK_OBJECT_ARRAY)
		return 0;
	uint64_t end = first + list->via.array.size;
	if (end > 65536)
		return -EINVAL;
	if (end > pr->ntypes) {
		struct hb_rd_type *v = realloc(pr->types, end * sizeof(*v));
		if (!v)
			return -ENOMEM;
		memset(v + pr->ntypes, 0, (end - pr->ntypes) * sizeof(*v));
		pr->types = v;
		pr->ntypes = (uint32_t)end;
	}
	for (uint32_t i = 0; i < list->via.array.size; i++) {
		const msgpack_object *m = &list->via.array.ptr[i];
		if (m->type == MSGPACK_OBJECT_MAP && rd_type_set(&pr->types[first + i], m))
			return -ENOMEM;
	}
	return 0;
}

static int rd_metrics_set(struct hb_rd_producer *pr, uint64_t first, const msgpack_object *list)
{
	if (!list || list->type != MSGPACK_OBJECT_ARRAY)
		return 0;
	uint64_t end = first + list->via.array.size;
	if (end > 65536)
		return -EINVAL;
	if (end > pr->nmetrics) {
		struct hb_rd_metric *v = realloc(pr->metrics, end * sizeof(*v));
		if (!v)
			return -ENOMEM;
		memset(v + pr->nmetrics, 0, (end - pr->nmetrics) * sizeof(*v));
		pr->metrics = v;
		pr->nmetrics = (uint32_t)end;
	}
	for (uint32_t i = 0; i < list->via.array.size; i++) {
		const msgpack_object *m = &list->via.array.ptr[i];
		struct hb_rd_metric *d = &pr->metrics[first + i];
		if (m->type != MSGPACK_OBJECT_MAP)
			continue;
		free(d->name);
		d->name = rd_strdup(hb_rd_map_get(m, "name"));
		if (!d->name)
			return -ENOMEM;
		d->kind = (uint8_t)rd_kind_parse(hb_rd_map_get(m, "kind"));
	}
	return 0;
}

static int rd_keep(struct hb_reader *r, struct hb_rd_producer *pr)
{
	if (r->nall == r->capall) {
		size_t cap = r->capall ? r->capall * 2 : 32;
		struct hb_rd_producer **v = realloc(r->all, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		r->all = v;
		r->capall = cap;
	}
	r->all[r->nall++] = pr;
	return 0;
}

/* A producer record: a new table entry for its p. */
static struct hb_rd_producer *rd_producer_add(struct hb_reader *r, const msgpack_object *m)
{
	const msgpack_object *p = hb_rd_map_get(m, "p");
	struct hb_rd_producer *pr;

	if (!p || !rd_is_uint(p) || p->via.u64 > UINT32_MAX)
		return NULL;
	pr = calloc(1, sizeof(*pr));
	if (!pr || rd_keep(r, pr)) {
		free(pr);
		return NULL;
	}
	pr->p = (uint32_t)p->via.u64;
	pr->name = rd_strdup(hb_rd_map_get(m, "name"));
	pr->thread = rd_strdup(hb_rd_map_get(m, "thread"));
	pr->host = rd_strdup(hb_rd_map_get(m, "host"));
	pr->ring = rd_strdup(hb_rd_map_get(m, "ring"));
	pr->pid = (uint32_t)rd_uint(hb_rd_map_get(m, "pid"), 0);
	pr->tid = (uint32_t)rd_uint(hb_rd_map_get(m, "tid"), 0);
	pr->start_ns = rd_ts(hb_rd_map_get(m, "start"));
	pr->interval_ms = (uint32_t)rd_uint(hb_rd_map_get(m, "interval_ms"), 0);
	pr->seq_next = rd_uint(hb_rd_map_get(m, "seq_next"), 0);
	if (!pr->name || !pr->thread || !pr->host || !pr->ring)
		return NULL;
	pr->name_len = (uint32_t)strlen(pr->name);
	if (rd_types_set(pr, 0, hb_rd_map_get(m, "types")) ||
	    rd_metrics_set(pr, 0, hb_rd_map_get(m, "metrics")))
		return NULL;
	if (rd_ptab_put(&r->tab, pr))
		return NULL;
	return pr;
}

/* ---- records ----------------------------------------------------------- */

static const char *const rd_bus_kinds[] = {
	"header", "producer", "types", "metrics", "state", "gap", "collector", "mismatch", "end",
	"alert", "host", /* format 1.1 */
};

static const char *rd_bus_kind(const msgpack_object *k)
{
	for (size_t i = 0; i < sizeof(rd_bus_kinds) / sizeof(rd_bus_kinds[0]); i++)
		if (rd_is_str(k, rd_bus_kinds[i]))
			return rd_bus_kinds[i];
	return NULL;
}

static int rd_decode_map(struct hb_reader *r, const msgpack_object *m, struct hb_rd_record *rec)
{
	const msgpack_object *k = hb_rd_map_get(m, "k");
	const msgpack_object *p = hb_rd_map_get(m, "p");
	const char *kind;

	if (!k || k->type != MSGPACK_OBJECT_STR)
		return -1;
	if (p && (!rd_is_uint(p) || p->via.u64 > UINT32_MAX))
		return -1;
	kind = rd_bus_kind(k);
	if (!kind) { /* a newer kind: returned for printing, not interpreted */
		size_t n = k->via.str.size < sizeof(r->kind) - 1 ? k->via.str.size
								  : sizeof(r->kind) - 1;
		memcpy(r->kind, k->via.str.ptr, n);
		r->kind[n] = 0;
		rec->kind = HB_RD_BUS;
		rec->bus_kind = r->kind;
		rec->ts_ns = rd_ts(hb_rd_map_get(m, "ts"));
		if (p)
			rec->producer = rd_ptab_get(&r->tab, (uint32_t)p->via.u64);
		return 1;
	}
	rec->kind = kind == rd_bus_kinds[0] ? HB_RD_HEADER : HB_RD_BUS;
	rec->bus_kind = kind;
	rec->ts_ns = rd_ts(hb_rd_map_get(m, "ts"));
	rec->seq = rd_uint(hb_rd_map_get(m, "seq"), 0);
	if (kind == rd_bus_kinds[1]) {
		if (!p)
			return -1;
		rec->producer = rd_producer_add(r, m);
		return rec->producer ? 1 : -1;
	}
	if (p)
		rec->producer = rd_ptab_get(&r->tab, (uint32_t)p->via.u64);
	if (kind == rd_bus_kinds[2] || kind == rd_bus_kinds[3]) {
		struct hb_rd_producer *pr = (struct hb_rd_producer *)rec->producer;
		uint64_t first = rd_uint(hb_rd_map_get(m, "first"), 0);
		const msgpack_object *list = hb_rd_map_get(m, "list");
		if (!pr)
			return 1;
		if (kind == rd_bus_kinds[2])
			return rd_types_set(pr, first, list) ? -1 : 1;
		return rd_metrics_set(pr, first, list) ? -1 : 1;
	}
	if (kind == rd_bus_kinds[8]) {
		const msgpack_object *n = hb_rd_map_get(m, "next");
		if (!n || n->type != MSGPACK_OBJECT_STR)
			return -1;
		free(r->end_next);
		r->end_next = strndup(n->via.str.ptr, n->via.str.size);
	}
	return 1;
}

static const char *rd_status(struct hb_reader *r, const msgpack_object *o)
{
	int known = rd_name_parse(hbs_status_parse, o);
	size_t n = o->via.str.size;

	if (known >= 0)
		return hbs_status_name((unsigned)known);
	if (n >= sizeof(r->status))
		n = sizeof(r->status) - 1;
	memcpy(r->status, o->via.str.ptr, n);
	r->status[n] = 0;
	return r->status;
}

static int rd_decode_array(struct hb_reader *r, const msgpack_object *o, struct hb_rd_record *rec)
{
	const msgpack_object *a = o->via.array.ptr;
	uint32_t n = o->via.array.size;

	if (n < 4 || !rd_is_uint(&a[0]) || !rd_is_uint(&a[1]) || !rd_is_uint(&a[2]) ||
	    a[1].via.u64 > UINT32_MAX || hb_rd_obj_time(&a[3], &rec->ts_ns))
		return -1;
	rec->seq = a[2].via.u64;
	rec->producer = rd_ptab_get(&r->tab, (uint32_t)a[1].via.u64);
	if (a[0].via.u64 == HB_RD_EVENT) {
		if (n < 7 || !rd_event_valid(a))
			return -1;
		rd_event_set(rec, a, n);
		return 1;
	}
	if (a[0].via.u64 == HB_RD_HEARTBEAT) {
		if (n < 8 || a[4].type != MSGPACK_OBJECT_STR || !rd_is_uint(&a[5]) ||
		    !rd_is_uint(&a[6]) ||
		    (a[7].type != MSGPACK_OBJECT_ARRAY && a[7].type != MSGPACK_OBJECT_NIL))
			return -1;
		rec->kind = HB_RD_HEARTBEAT;
		rec->status = rd_status(r, &a[4]);
		rec->hb_count = a[5].via.u64;
		rec->interval_ms = (uint32_t)a[6].via.u64;
		rec->metrics = a[7].type == MSGPACK_OBJECT_ARRAY ? &a[7] : NULL;
		return 1;
	}
	return -1;
}

/* ---- fast path: arrays of scalars ----------------------------------------- */

long rd_decode_fast(struct hb_reader *r, const uint8_t *p, size_t len, struct hb_rd_record *rec)
{
	uint32_t n;
	size_t off = rd_array_head(p, len, &n), k;

	if (!off || n < 7 || n > RD_FAST_MAX || len - off < 1 || p[off] != HB_RD_EVENT)
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		if (off >= len || !(k = rd_scalar(p + off, len - off, &r->elems[i])))
			return 0;
		off += k;
	}
	if (off > RD_OBJ_MAX)
		return 0;
	r->obj.type = MSGPACK_OBJECT_ARRAY;
	r->obj.via.array.size = n;
	r->obj.via.array.ptr = r->elems;
	rd_rec_init(rec, &r->obj);
	return rd_decode_array(r, &r->obj, rec) == 1 ? (long)off : 0;
}

int rd_decode(struct hb_reader *r, const char *p, size_t n, struct hb_rd_record *rec)
{
	size_t off = 0;

	msgpack_zone_clear(&r->zone);
	if (msgpack_unpack(p, n, &off, &r->zone, &r->obj) != MSGPACK_UNPACK_SUCCESS || off != n)
		return -1;
	rd_rec_init(rec, &r->obj);
	if (r->obj.type == MSGPACK_OBJECT_ARRAY)
		return rd_decode_array(r, &r->obj, rec);
	if (r->obj.type == MSGPACK_OBJECT_MAP)
		return rd_decode_map(r, &r->obj, rec);
	return -1;
}
