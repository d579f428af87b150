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
#include "enc_event.h"

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

/* ---- events (the inline writers are in enc_event.h) ------------------- */

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

/* An upper bound of what an event record of len bytes encodes to: each
 * field takes 8 + its padded bytes in the record and at most 9 + 8 + its
 * bytes encoded, so at most 9 more (see HBC_EVENT_HDR_MAX). */
#define HBC_EVENT_REC_SIZE(len) (HBC_EVENT_HDR_MAX + 9 * HB_MAX_FIELDS + (size_t)(len))

void hbc_enc_event(struct hbc_buf *b, uint32_t p, const struct hb_rec *r, uint64_t ts_ns)
{
	uint64_t req, tw;
	uint8_t *w;

	if (b->cap - b->len < HBC_EVENT_ENC_MAX && HBC_EVENT_REC_SIZE(r->len) > b->cap - b->len) {
		b->overflow = 1; /* never expected: callers keep HBC_REC_MAX free */
		return;
	}
	memcpy(&req, r + 1, 8);
	tw = hb_event_tags(r);
	w = hbc_event_head(b, p, r, ts_ns, hb_tags_nfields(tw), req);
	/* validated: the fields check out, and only the caller's lapse could
	 * make them not (then nothing of the event counts) */
	w = hbc_enc_fields(w, (const uint8_t *)r + HB_EVENT_FIXED, (const uint8_t *)r + r->len, tw);
	if (w)
		hbc_event_done(b, r, ts_ns, w);
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
