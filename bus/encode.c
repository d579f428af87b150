/* SPDX-License-Identifier: MIT */
/*
 * encode.c - archive records (docs/FORMAT.md) packed with msgpack-c into a
 * caller-owned preallocated buffer. The packer's write callback appends to
 * the buffer; callers make sure HBC_REC_MAX bytes are free before each
 * record, so the callback never has to grow anything.
 *
 * Ring contents are untrusted: strings from a ring header are copied with
 * their bound, tags and kinds outside the known sets are encoded as what
 * they are, never used as indexes.
 */
#include "hbc.h"
#include "hb_reader.h" /* HB_FORMAT_MAJOR and _MINOR: the version it writes */
#include "hbs/names.h"
#include "hbs/utf8.h"

#include <endian.h>
#include <string.h>

static int hbc_buf_write(void *data, const char *p, size_t n)
{
	struct hbc_buf *b = data;

	if (b->batch_n)
		hbc_buf_batch_end(b); /* anything packed ends the open batch */
	if (n > b->cap - b->len) {
		b->overflow = 1;
		return -1;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

void hbc_packer_init(msgpack_packer *pk, struct hbc_buf *b)
{
	msgpack_packer_init(pk, b, hbc_buf_write);
}

int hbc_pack_ts(msgpack_packer *pk, uint64_t ns)
{
	msgpack_timestamp t = {.tv_sec = (int64_t)(ns / 1000000000u),
			       .tv_nsec = (uint32_t)(ns % 1000000000u)};
	uint64_t v;
	char body[8];
	int i;

	if (t.tv_sec >> 34)
		return msgpack_pack_timestamp(pk, &t);
	/* FORMAT.md: always the 64-bit form inside its range (msgpack-c would
	 * pick the 32-bit one when nanoseconds are 0). */
	v = ((uint64_t)t.tv_nsec << 34) | (uint64_t)t.tv_sec;
	for (i = 0; i < 8; i++)
		body[i] = (char)(v >> (56 - 8 * i));
	if (msgpack_pack_ext(pk, 8, -1))
		return -1;
	return msgpack_pack_ext_body(pk, body, 8);
}

void hbc_pack_str(msgpack_packer *pk, const char *s)
{
	char buf[HBC_STR_PACK_MAX];
	size_t n = strlen(s);

	if (hbc_str_clean(s, n)) {
		msgpack_pack_str_with_body(pk, s, n);
		return;
	}
	n = hbc_str_escape(buf, sizeof(buf), s, n);
	msgpack_pack_str_with_body(pk, buf, n);
}

/* A string from shared memory: at most n bytes, up to the first NUL,
 * copied once and made printable ASCII (hbc_strcpy_shared), so that what a
 * hostile producer writes is valid UTF-8 and harmless on a terminal. */
static void hbc_pack_sstr(msgpack_packer *pk, const char *s, size_t n)
{
	char buf[256];

	if (n > sizeof(buf))
		n = sizeof(buf);
	hbc_strcpy_shared(buf, s, n);
	msgpack_pack_str_with_body(pk, buf, strlen(buf));
}

/* ---- maps counted as they are packed --------------------------------------
 *
 * A map's header states how many pairs follow. Instead of a number written
 * by hand beside the code that packs them, hbc_map_open reserves a map 16
 * header and hbc_map_close writes the number of keys packed through the map
 * (hbc_map_key and the kv helpers), in the smallest form as msgpack-c's
 * packer would (a fixmap below 16), so the bytes are those of a map packed
 * with its count up front. */

void hbc_map_open(struct hbc_map *m, msgpack_packer *pk)
{
	struct hbc_buf *b = pk->data;

	m->pk = pk;
	m->n = 0;
	msgpack_pack_map(pk, 16); /* 0xde and a 16-bit count, filled in at close */
	m->at = b->overflow ? SIZE_MAX : b->len - 3;
}

void hbc_map_key(struct hbc_map *m, const char *k)
{
	hbc_pack_str(m->pk, k);
	m->n++;
}

void hbc_map_close(struct hbc_map *m)
{
	struct hbc_buf *b = m->pk->data;
	uint8_t *a;

	if (m->at == SIZE_MAX || b->overflow)
		return; /* the record did not fit (never expected: HBC_REC_MAX) */
	a = (uint8_t *)b->data + m->at;
	if (m->n >= 16) {
		a[1] = (uint8_t)(m->n >> 8);
		a[2] = (uint8_t)m->n;
		return;
	}
	a[0] = (uint8_t)(0x80 | m->n);
	memmove(a + 1, a + 3, b->len - m->at - 3);
	b->len -= 2;
}

static void hbc_kv_str(struct hbc_map *m, const char *k, const char *v)
{
	hbc_map_key(m, k);
	if (v)
		hbc_pack_str(m->pk, v);
	else
		msgpack_pack_nil(m->pk);
}

static void hbc_kv_u64(struct hbc_map *m, const char *k, uint64_t v)
{
	hbc_map_key(m, k);
	msgpack_pack_uint64(m->pk, v);
}

static void hbc_kv_ts(struct hbc_map *m, const char *k, uint64_t ns)
{
	hbc_map_key(m, k);
	hbc_pack_ts(m->pk, ns);
}

/* Notes an object in the time index of the buffer it goes to (index.c). */
static void hbc_pk_note(msgpack_packer *pk, uint64_t ts_ns, int meta)
{
	struct hbc_buf *b = pk->data;

	if (b->ix)
		hbc_index_note(b->ix, ts_ns, meta);
}

void hbc_pack_note(msgpack_packer *pk, uint64_t ts_ns)
{
	hbc_pk_note(pk, ts_ns, 0);
}

/* Opens the map of a bus record with its k and ts (closed by the caller,
 * hbc_map_close). */
static void hbc_bus_open(struct hbc_map *m, msgpack_packer *pk, const char *k, uint64_t ts_ns)
{
	hbc_pk_note(pk, ts_ns,
		       !strcmp(k, "producer") || !strcmp(k, "types") || !strcmp(k, "metrics"));
	hbc_map_open(m, pk);
	hbc_kv_str(m, "k", k);
	hbc_kv_ts(m, "ts", ts_ns);
}

void hbc_strcpy_shared(char *dst, const char *src, size_t n)
{
	size_t l = strnlen(src, n), i;

	if (l == n && l > 0)
		l--;
	memcpy(dst, src, l);
	dst[l] = 0;
	for (i = 0; i < l; i++) /* read once above; only printable ASCII passes */
		if ((unsigned char)dst[i] < 0x20 || (unsigned char)dst[i] > 0x7e)
			dst[i] = '?';
}

void hbc_enc_header(msgpack_packer *pk, const struct hbc_file_hdr *h)
{
	struct hbc_map m;

	hbc_pk_note(pk, h->ts_ns, 1);
	hbc_map_open(&m, pk);
	hbc_kv_str(&m, "k", "header");
	hbc_kv_str(&m, "magic", "hb-archive");
	hbc_map_key(&m, "version");
	msgpack_pack_array(pk, 2);
	msgpack_pack_int(pk, HB_FORMAT_MAJOR); /* 2.0: event batches */
	msgpack_pack_int(pk, HB_FORMAT_MINOR); /* 2.3: valid UTF-8 */
	hbc_kv_ts(&m, "ts", h->ts_ns);
	hbc_kv_str(&m, "host", h->host);
	hbc_kv_str(&m, "bus", h->bus);
	hbc_kv_u64(&m, "collector_pid", h->pid);
	hbc_kv_u64(&m, "file_seq", h->file_seq);
	hbc_kv_str(&m, "prev", h->prev);
	hbc_map_close(&m);
}

static void hbc_pack_type(msgpack_packer *pk, const struct hb_type_def *t)
{
	unsigned i, n = t->nfields > HB_MAX_FIELDS ? HB_MAX_FIELDS : t->nfields;

	struct hbc_map m;

	hbc_map_open(&m, pk);
	hbc_map_key(&m, "name");
	hbc_pack_sstr(pk, t->name, sizeof(t->name));
	hbc_map_key(&m, "fields");
	msgpack_pack_array(pk, n);
	for (i = 0; i < n; i++)
		hbc_pack_sstr(pk, t->fields[i], sizeof(t->fields[i]));
	hbc_map_key(&m, "ftypes");
	msgpack_pack_array(pk, n);
	for (i = 0; i < n; i++)
		hbc_pack_str(pk, hbs_or_unknown(hbs_tag_name(t->tags[i])));
	hbc_map_close(&m);
}

static void hbc_pack_metric(msgpack_packer *pk, const struct hb_metric_def *m)
{
	struct hbc_map map;

	hbc_map_open(&map, pk);
	hbc_map_key(&map, "name");
	hbc_pack_sstr(pk, m->name, sizeof(m->name));
	hbc_kv_str(&map, "kind", hbs_or_unknown(hbs_kind_name(m->kind)));
	hbc_map_close(&map);
}

static void hbc_pack_types(msgpack_packer *pk, const struct hb_ring_hdr *h, uint32_t first,
			   uint32_t end)
{
	uint32_t i;

	msgpack_pack_array(pk, end - first);
	for (i = first; i < end; i++)
		hbc_pack_type(pk, &h->types[i]);
}

static void hbc_pack_metrics(msgpack_packer *pk, const struct hb_ring_hdr *h, uint32_t first,
			     uint32_t end)
{
	uint32_t i;

	msgpack_pack_array(pk, end - first);
	for (i = first; i < end; i++)
		hbc_pack_metric(pk, &h->metric_defs[i]);
}

void hbc_enc_producer(msgpack_packer *pk, const char *why, uint32_t p, uint64_t ts_ns,
		      const struct hbc_ident *id, const struct hb_ring_hdr *h, uint32_t ntypes,
		      uint32_t nmetrics, uint64_t seq_next)
{
	struct hbc_map m;

	hbc_bus_open(&m, pk, "producer", ts_ns);
	hbc_kv_str(&m, "why", why);
	hbc_kv_u64(&m, "p", p);
	hbc_kv_str(&m, "name", id->name);
	hbc_kv_u64(&m, "pid", id->pid);
	hbc_kv_u64(&m, "tid", id->tid);
	hbc_kv_str(&m, "thread", id->thread);
	hbc_kv_str(&m, "host", id->host);
	hbc_kv_str(&m, "ring", id->ring);
	hbc_kv_ts(&m, "start", id->start_ns);
	hbc_kv_u64(&m, "interval_ms", id->interval_ns / 1000000u);
	hbc_map_key(&m, "types");
	hbc_pack_types(pk, h, 0, ntypes);
	hbc_map_key(&m, "metrics");
	hbc_pack_metrics(pk, h, 0, nmetrics);
	hbc_kv_u64(&m, "seq_next", seq_next);
	hbc_map_close(&m);
}

void hbc_enc_types(msgpack_packer *pk, uint32_t p, uint64_t ts_ns, const struct hb_ring_hdr *h,
		   uint32_t first, uint32_t end)
{
	struct hbc_map m;

	hbc_bus_open(&m, pk, "types", ts_ns);
	hbc_kv_u64(&m, "p", p);
	hbc_kv_u64(&m, "first", first);
	hbc_map_key(&m, "list");
	hbc_pack_types(pk, h, first, end);
	hbc_map_close(&m);
}

void hbc_enc_metrics(msgpack_packer *pk, uint32_t p, uint64_t ts_ns, const struct hb_ring_hdr *h,
		     uint32_t first, uint32_t end)
{
	struct hbc_map m;

	hbc_bus_open(&m, pk, "metrics", ts_ns);
	hbc_kv_u64(&m, "p", p);
	hbc_kv_u64(&m, "first", first);
	hbc_map_key(&m, "list");
	hbc_pack_metrics(pk, h, first, end);
	hbc_map_close(&m);
}

/* ---- events: written straight into the buffer --------------------------
 *
 * Events are nearly every record, so they skip the packer (an indirect
 * call and a memcpy per token) and are written with the exact forms
 * msgpack-c's packer picks for the same values (the smallest integer form,
 * float64, fixstr/str8/str16, bin8/bin16, fixarray/array16), so the bytes
 * are the same (tests/unit/test_collect_encode.c compares the two). */

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

static inline uint8_t *hbc_mp_uint(uint8_t *p, uint64_t v)
{
	if (v < 128) {
		*p = (uint8_t)v;
		return p + 1;
	}
	if (v < 256) {
		p[0] = 0xcc;
		p[1] = (uint8_t)v;
		return p + 2;
	}
	if (v < 65536)
		return hbc_mp_be16(p, 0xcd, (uint16_t)v);
	if (v < (1ull << 32))
		return hbc_mp_be32(p, 0xce, (uint32_t)v);
	return hbc_mp_be64(p, 0xcf, v);
}

static inline uint8_t *hbc_mp_int(uint8_t *p, int64_t v)
{
	if (v >= 0)
		return hbc_mp_uint(p, (uint64_t)v);
	if (v >= -32) {
		*p = (uint8_t)v; /* negative fixint */
		return p + 1;
	}
	if (v >= -128) {
		p[0] = 0xd0;
		p[1] = (uint8_t)v;
		return p + 2;
	}
	if (v >= -32768)
		return hbc_mp_be16(p, 0xd1, (uint16_t)v);
	if (v >= -(1ll << 31))
		return hbc_mp_be32(p, 0xd2, (uint32_t)v);
	return hbc_mp_be64(p, 0xd3, (uint64_t)v);
}

static inline uint8_t *hbc_mp_raw(uint8_t *p, uint8_t fix, uint8_t t8, uint8_t t16, uint8_t t32,
				  const void *data, uint32_t n)
{
	if (fix && n < 32)
		*p++ = (uint8_t)(fix | n);
	else if (n < 256) {
		*p++ = t8;
		*p++ = (uint8_t)n;
	} else if (n < 65536) {
		p = hbc_mp_be16(p, t16, (uint16_t)n);
	} else {
		p = hbc_mp_be32(p, t32, n);
	}
	if (n <= 8) {
		/* short strings word by word: the source is padded to 8 in the
		 * record and the destination has room (hbc_event_size); an
		 * empty one has no word to read */
		if (n)
			memcpy(p, data, 8);
	} else if (n <= 64) {
		uint32_t k;

		for (k = 0; k < n; k += 8)
			memcpy(p + k, (const uint8_t *)data + k, 8);
	} else {
		memcpy(p, data, n);
	}
	return p + n;
}

static inline uint8_t *hbc_mp_array(uint8_t *p, uint32_t n)
{
	if (n < 16) {
		*p = (uint8_t)(0x90 | n);
		return p + 1;
	}
	return n < 65536 ? hbc_mp_be16(p, 0xdc, (uint16_t)n) : hbc_mp_be32(p, 0xdd, n);
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

static inline uint8_t *hbc_mp_value(uint8_t *p, unsigned tag, uint64_t v, const void *ptr)
{
	union {
		uint64_t u;
		double d;
	} bits = {.u = v};

	switch (tag) {
	case HB_T_I64:
		return hbc_mp_int(p, (int64_t)v);
	case HB_T_U64:
		return hbc_mp_uint(p, v);
	case HB_T_F64:
		return hbc_mp_be64(p, 0xcb, bits.u);
	case HB_T_BOOL:
		*p = v ? 0xc3 : 0xc2;
		return p + 1;
	case HB_T_STR:
		/* msgpack str must be UTF-8; anything else goes out as bin */
		if (!hbc_ascii(ptr, (uint32_t)v) && !hbs_utf8_valid(ptr, (uint32_t)v))
			return hbc_mp_raw(p, 0, 0xc4, 0xc5, 0xc6, ptr, (uint32_t)v);
		return hbc_mp_raw(p, 0xa0, 0xd9, 0xda, 0xdb, ptr, (uint32_t)v);
	case HB_T_BYTES:
		return hbc_mp_raw(p, 0, 0xc4, 0xc5, 0xc6, ptr, (uint32_t)v);
	default:
		*p = 0xc0;
		return p + 1;
	}
}

/* A new batch's array 3, kind 1, p 5, seq0 9, ts0 15; the event's array
 * 3, dt 9, type 5, prio 2, req 9 bytes at most, then per field up to 9
 * bytes (a value or a str/bin header) plus the str/bin bytes and 8 bytes
 * of slack (hbc_mp_raw copies whole words). */
#define HBC_EVENT_HDR_MAX 72
#define HBC_EVENT_ENC_MAX (HBC_EVENT_HDR_MAX + HB_MAX_FIELDS * (9 + 8 + HB_STR_MAX))

/* Elements of a batch before its events: k, p, seq0, ts0. */
#define HBC_BATCH_HEAD 4

void hbc_buf_batch_end(struct hbc_buf *b)
{
	uint8_t *a = (uint8_t *)b->data + b->batch_at;
	uint32_t n = HBC_BATCH_HEAD + b->batch_n;

	if (!b->batch_n)
		return;
	b->batch_n = 0;
	if (n >= 16) {
		hbc_mp_be16(a, 0xdc, (uint16_t)n);
		return;
	}
	/* the smallest form, as msgpack-c's packer would write it */
	a[0] = (uint8_t)(0x90 | n);
	memmove(a + 1, a + 3, b->len - b->batch_at - 3);
	b->len -= 2;
}

/* Opens a batch for p at w: an array 16 header whose count
 * hbc_buf_batch_end fills in, then k, p, seq0 and ts0. */
static uint8_t *hbc_batch_open(struct hbc_buf *b, uint8_t *w, uint32_t p, uint64_t seq,
			       uint64_t ts_ns)
{
	b->batch_at = (size_t)(w - (uint8_t *)b->data);
	b->batch_p = p;
	b->batch_ts = ts_ns;
	w += 3;
	*w++ = 3;
	w = hbc_mp_uint(w, p);
	w = hbc_mp_uint(w, seq);
	return hbc_mp_ts(w, ts_ns);
}

/* Whether ts_ns - prev, as a signed 64-bit dt, adds back up to ts_ns: a
 * time more than 2^63 ns away (a hostile or broken clock) starts a new
 * batch instead, whose ts0 states it whole. */
static inline int hbc_dt_fits(uint64_t ts_ns, uint64_t prev)
{
	return ts_ns >= prev ? ts_ns - prev <= (uint64_t)INT64_MAX : prev - ts_ns <= (uint64_t)INT64_MAX + 1;
}

/* What every event starts with, up to its req: the index note, the batch
 * (joined or opened), the event's array of 4 + nf and dt, type, prio, req.
 * The caller has made sure the whole event fits. */
HB_INLINE uint8_t *hbc_event_head(struct hbc_buf *b, uint32_t p, const struct hb_rec *r,
			       uint64_t ts_ns, unsigned nf, uint64_t req)
{
	uint8_t *w;

	if (b->ix)
		hbc_index_note(b->ix, ts_ns, 0);
	if (b->batch_n && (b->batch_p != p || b->batch_seq != r->seq ||
			   b->batch_n >= HBC_BATCH_MAX || !hbc_dt_fits(ts_ns, b->batch_ts)))
		hbc_buf_batch_end(b);
	w = (uint8_t *)b->data + b->len;
	if (!b->batch_n)
		w = hbc_batch_open(b, w, p, r->seq, ts_ns);
	w = hbc_mp_array(w, 4 + nf);
	/* ns from the previous event (two's complement: may go back) */
	w = hbc_mp_int(w, (int64_t)(ts_ns - b->batch_ts));
	w = hbc_mp_uint(w, r->type);
	w = hbc_mp_uint(w, r->prio);
	if (req)
		return hbc_mp_uint(w, req);
	*w = 0xc0;
	return w + 1;
}

/* An upper bound of what an event record of len bytes encodes to: each
 * field takes 8 + its padded bytes in the record and at most 9 + 8 + its
 * bytes encoded, so at most 9 more (see HBC_EVENT_HDR_MAX). */
#define HBC_EVENT_REC_SIZE(len) (HBC_EVENT_HDR_MAX + 9 * HB_MAX_FIELDS + (size_t)(len))

void hbc_enc_event(struct hbc_buf *b, uint32_t p, const struct hb_rec *r, uint64_t ts_ns)
{
	const uint8_t *s = (const uint8_t *)r + HB_EVENT_FIXED;
	uint64_t req, tw;
	uint8_t *w;

	if (b->cap - b->len < HBC_EVENT_ENC_MAX && HBC_EVENT_REC_SIZE(r->len) > b->cap - b->len) {
		b->overflow = 1; /* never expected: callers keep HBC_REC_MAX free */
		return;
	}
	memcpy(&req, r + 1, 8);
	tw = hb_event_tags(r);
	w = hbc_event_head(b, p, r, ts_ns, hb_tags_nfields(tw), req);
	/* validated: tags known and dense (the word is 0 past the last
	 * field), slots and strings inside the record */
	for (; tw; tw >>= 8) {
		unsigned tag = (uint8_t)tw;
		uint64_t v;

		memcpy(&v, s, 8);
		w = hbc_mp_value(w, tag, v, s + 8);
		s += 8;
		if (tag == HB_T_STR || tag == HB_T_BYTES)
			s += (v + 7) & ~7ull;
	}
	b->len = (size_t)(w - (uint8_t *)b->data);
	b->batch_n++;
	b->batch_seq = r->seq + 1;
	b->batch_ts = ts_ns;
}

static void hbc_pack_metric_val(msgpack_packer *pk, unsigned kind, const uint64_t *v)
{
	union {
		uint64_t u;
		double d;
	} bits = {.u = v[0]};

	switch (kind) {
	case HB_METRIC_GAUGE:
		msgpack_pack_double(pk, bits.d);
		break;
	case HB_METRIC_TIMING:
		msgpack_pack_array(pk, 3);
		msgpack_pack_uint64(pk, v[0]);
		msgpack_pack_uint64(pk, v[1]);
		msgpack_pack_uint64(pk, v[2]);
		break;
	case HB_METRIC_HEALTH:
		hbc_pack_str(pk, hbs_or_unknown(hbs_health_name(v[0])));
		break;
	default: /* counters, and metrics of unknown kind */
		msgpack_pack_uint64(pk, v[0]);
	}
}

void hbc_enc_heartbeat(msgpack_packer *pk, uint32_t p, const struct hb_rec *r, uint64_t ts_ns,
		       const struct hb_rec_hb *b, const void *slots, const uint8_t *kinds,
		       unsigned extra)
{
	uint32_t i, n = b->nmetrics > HB_MAX_METRICS ? 0 : b->nmetrics;
	uint64_t v[3];

	hbc_pk_note(pk, ts_ns, 0);
	msgpack_pack_array(pk, 8 + extra);
	msgpack_pack_int(pk, 2);
	msgpack_pack_uint32(pk, p);
	msgpack_pack_uint64(pk, r->seq);
	hbc_pack_ts(pk, ts_ns);
	hbc_pack_str(pk, hbs_or_unknown(hbs_status_name(b->status)));
	msgpack_pack_uint64(pk, b->count);
	msgpack_pack_uint64(pk, b->interval_ns / 1000000u);
	if (!n) {
		msgpack_pack_nil(pk);
		return;
	}
	msgpack_pack_array(pk, n);
	for (i = 0; i < n; i++) {
		memcpy(v, (const uint8_t *)slots + (size_t)i * 24, sizeof(v));
		hbc_pack_metric_val(pk, kinds[i], v);
	}
}

void hbc_enc_state(msgpack_packer *pk, uint32_t p, uint64_t ts_ns, const char *state,
		   const char *why, const char *ring)
{
	struct hbc_map m;

	hbc_bus_open(&m, pk, "state", ts_ns);
	hbc_kv_u64(&m, "p", p);
	hbc_kv_str(&m, "state", state);
	hbc_kv_str(&m, "why", why);
	if (ring)
		hbc_kv_str(&m, "ring", ring);
	hbc_map_close(&m);
}

void hbc_enc_gap(msgpack_packer *pk, uint32_t p, uint64_t ts_ns, uint64_t from, uint64_t to,
		 const char *why)
{
	struct hbc_map m;

	hbc_bus_open(&m, pk, "gap", ts_ns);
	hbc_kv_u64(&m, "p", p);
	hbc_kv_u64(&m, "from", from);
	hbc_kv_u64(&m, "to", to);
	hbc_kv_u64(&m, "n", to - from + 1);
	hbc_kv_str(&m, "why", why);
	hbc_map_close(&m);
}

void hbc_enc_collector(msgpack_packer *pk, uint64_t ts_ns, const char *event, uint32_t pid)
{
	struct hbc_map m;

	hbc_bus_open(&m, pk, "collector", ts_ns);
	hbc_kv_str(&m, "event", event);
	hbc_kv_u64(&m, "pid", pid);
	hbc_map_close(&m);
}

void hbc_enc_mismatch(msgpack_packer *pk, uint32_t p, uint64_t ts_ns, uint64_t seq,
		      uint32_t type, const char *field, const char *expected, const char *got)
{
	struct hbc_map m;

	hbc_bus_open(&m, pk, "mismatch", ts_ns);
	hbc_kv_u64(&m, "p", p);
	hbc_kv_u64(&m, "seq", seq);
	hbc_kv_u64(&m, "type", type);
	hbc_kv_str(&m, "field", field);
	hbc_kv_str(&m, "expected", expected);
	hbc_kv_str(&m, "got", got);
	hbc_map_close(&m);
}

void hbc_enc_end(msgpack_packer *pk, uint64_t ts_ns, const char *next)
{
	struct hbc_map m;

	hbc_bus_open(&m, pk, "end", ts_ns);
	hbc_kv_str(&m, "next", next);
	hbc_map_close(&m);
}
