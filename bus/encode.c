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

#include <string.h>

static int hbc_buf_write(void *data, const char *p, size_t n)
{
	struct hbc_buf *b = data;

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

static void hbc_pack_cstr(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
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

static void hbc_pack_kv_str(msgpack_packer *pk, const char *k, const char *v)
{
	hbc_pack_cstr(pk, k);
	if (v)
		hbc_pack_cstr(pk, v);
	else
		msgpack_pack_nil(pk);
}

static void hbc_pack_kv_u64(msgpack_packer *pk, const char *k, uint64_t v)
{
	hbc_pack_cstr(pk, k);
	msgpack_pack_uint64(pk, v);
}

static void hbc_pack_kv_ts(msgpack_packer *pk, const char *k, uint64_t ns)
{
	hbc_pack_cstr(pk, k);
	hbc_pack_ts(pk, ns);
}

/* Notes an object in the time index of the buffer it goes to (index.c). */
static void hbc_index_note(msgpack_packer *pk, uint64_t ts_ns, int meta)
{
	struct hbc_buf *b = pk->data;

	if (b->ix)
		hb_index_note(b->ix, ts_ns, meta);
}

/* Opens a bus record map of n pairs with its k and ts. */
static void hbc_pack_bus(msgpack_packer *pk, size_t n, const char *k, uint64_t ts_ns)
{
	hbc_index_note(pk, ts_ns,
		       !strcmp(k, "producer") || !strcmp(k, "types") || !strcmp(k, "metrics"));
	msgpack_pack_map(pk, n);
	hbc_pack_kv_str(pk, "k", k);
	hbc_pack_kv_ts(pk, "ts", ts_ns);
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

const char *hbc_tag_name(unsigned tag)
{
	static const char *const names[] = {"none", "i64", "u64", "f64", "bool", "str", "bytes"};

	return tag < sizeof(names) / sizeof(names[0]) ? names[tag] : "unknown";
}

const char *hbc_metric_kind_name(unsigned kind)
{
	static const char *const names[] = {"unknown", "counter", "gauge", "timing", "health"};

	return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "unknown";
}

const char *hbc_health_name(uint64_t h)
{
	static const char *const names[] = {"unknown", "up",     "down",     "degraded",
					    "open",    "closed", "half-open"};

	return h < sizeof(names) / sizeof(names[0]) ? names[h] : "unknown";
}

const char *hbc_status_name(uint64_t s)
{
	static const char *const names[] = {"starting", "ok", "degraded", "stopping"};

	return s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

void hbc_enc_header(msgpack_packer *pk, const struct hbc_file_hdr *h)
{
	hbc_index_note(pk, h->ts_ns, 1);
	msgpack_pack_map(pk, 9);
	hbc_pack_kv_str(pk, "k", "header");
	hbc_pack_kv_str(pk, "magic", "hb-archive");
	hbc_pack_cstr(pk, "version");
	msgpack_pack_array(pk, 2);
	msgpack_pack_int(pk, 1);
	msgpack_pack_int(pk, 1); /* minor: 1.1 adds proc, alert, host */
	hbc_pack_kv_ts(pk, "ts", h->ts_ns);
	hbc_pack_kv_str(pk, "host", h->host);
	hbc_pack_kv_str(pk, "bus", h->bus);
	hbc_pack_kv_u64(pk, "collector_pid", h->pid);
	hbc_pack_kv_u64(pk, "file_seq", h->file_seq);
	hbc_pack_kv_str(pk, "prev", h->prev);
}

static void hbc_pack_type(msgpack_packer *pk, const struct hb_type_def *t)
{
	unsigned i, n = t->nfields > HB_MAX_FIELDS ? HB_MAX_FIELDS : t->nfields;

	msgpack_pack_map(pk, 3);
	hbc_pack_cstr(pk, "name");
	hbc_pack_sstr(pk, t->name, sizeof(t->name));
	hbc_pack_cstr(pk, "fields");
	msgpack_pack_array(pk, n);
	for (i = 0; i < n; i++)
		hbc_pack_sstr(pk, t->fields[i], sizeof(t->fields[i]));
	hbc_pack_cstr(pk, "ftypes");
	msgpack_pack_array(pk, n);
	for (i = 0; i < n; i++)
		hbc_pack_cstr(pk, hbc_tag_name(t->tags[i]));
}

static void hbc_pack_metric(msgpack_packer *pk, const struct hb_metric_def *m)
{
	msgpack_pack_map(pk, 2);
	hbc_pack_cstr(pk, "name");
	hbc_pack_sstr(pk, m->name, sizeof(m->name));
	hbc_pack_kv_str(pk, "kind", hbc_metric_kind_name(m->kind));
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
	hbc_pack_bus(pk, 15, "producer", ts_ns);
	hbc_pack_kv_str(pk, "why", why);
	hbc_pack_kv_u64(pk, "p", p);
	hbc_pack_kv_str(pk, "name", id->name);
	hbc_pack_kv_u64(pk, "pid", id->pid);
	hbc_pack_kv_u64(pk, "tid", id->tid);
	hbc_pack_kv_str(pk, "thread", id->thread);
	hbc_pack_kv_str(pk, "host", id->host);
	hbc_pack_kv_str(pk, "ring", id->ring);
	hbc_pack_kv_ts(pk, "start", id->start_ns);
	hbc_pack_kv_u64(pk, "interval_ms", id->interval_ns / 1000000u);
	hbc_pack_cstr(pk, "types");
	hbc_pack_types(pk, h, 0, ntypes);
	hbc_pack_cstr(pk, "metrics");
	hbc_pack_metrics(pk, h, 0, nmetrics);
	hbc_pack_kv_u64(pk, "seq_next", seq_next);
}

void hbc_enc_types(msgpack_packer *pk, uint32_t p, uint64_t ts_ns, const struct hb_ring_hdr *h,
		   uint32_t first, uint32_t end)
{
	hbc_pack_bus(pk, 5, "types", ts_ns);
	hbc_pack_kv_u64(pk, "p", p);
	hbc_pack_kv_u64(pk, "first", first);
	hbc_pack_cstr(pk, "list");
	hbc_pack_types(pk, h, first, end);
}

void hbc_enc_metrics(msgpack_packer *pk, uint32_t p, uint64_t ts_ns, const struct hb_ring_hdr *h,
		     uint32_t first, uint32_t end)
{
	hbc_pack_bus(pk, 5, "metrics", ts_ns);
	hbc_pack_kv_u64(pk, "p", p);
	hbc_pack_kv_u64(pk, "first", first);
	hbc_pack_cstr(pk, "list");
	hbc_pack_metrics(pk, h, first, end);
}

static void hbc_pack_value(msgpack_packer *pk, unsigned tag, uint64_t v, const void *ptr)
{
	union {
		uint64_t u;
		double d;
	} bits = {.u = v};

	switch (tag) {
	case HB_T_I64:
		msgpack_pack_int64(pk, (int64_t)v);
		break;
	case HB_T_U64:
		msgpack_pack_uint64(pk, v);
		break;
	case HB_T_F64:
		msgpack_pack_double(pk, bits.d);
		break;
	case HB_T_BOOL:
		if (v)
			msgpack_pack_true(pk);
		else
			msgpack_pack_false(pk);
		break;
	case HB_T_STR:
		msgpack_pack_str_with_body(pk, ptr, (size_t)v);
		break;
	case HB_T_BYTES:
		msgpack_pack_bin_with_body(pk, ptr, (size_t)v);
		break;
	default:
		msgpack_pack_nil(pk);
	}
}

void hbc_enc_event(msgpack_packer *pk, uint32_t p, const struct hb_rec *r, uint64_t ts_ns,
		   const struct hb_event_view *ev)
{
	unsigned i;

	hbc_index_note(pk, ts_ns, 0);
	msgpack_pack_array(pk, 7 + ev->nfields);
	msgpack_pack_int(pk, 1);
	msgpack_pack_uint32(pk, p);
	msgpack_pack_uint64(pk, r->seq);
	hbc_pack_ts(pk, ts_ns);
	msgpack_pack_uint16(pk, r->type);
	msgpack_pack_uint8(pk, r->prio);
	if (ev->req)
		msgpack_pack_uint64(pk, ev->req);
	else
		msgpack_pack_nil(pk);
	for (i = 0; i < ev->nfields; i++)
		hbc_pack_value(pk, ev->tags[i], ev->vals[i], ev->ptrs[i]);
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
		hbc_pack_cstr(pk, hbc_health_name(v[0]));
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

	hbc_index_note(pk, ts_ns, 0);
	msgpack_pack_array(pk, 8 + extra);
	msgpack_pack_int(pk, 2);
	msgpack_pack_uint32(pk, p);
	msgpack_pack_uint64(pk, r->seq);
	hbc_pack_ts(pk, ts_ns);
	hbc_pack_cstr(pk, hbc_status_name(b->status));
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
	hbc_pack_bus(pk, ring ? 6 : 5, "state", ts_ns);
	hbc_pack_kv_u64(pk, "p", p);
	hbc_pack_kv_str(pk, "state", state);
	hbc_pack_kv_str(pk, "why", why);
	if (ring)
		hbc_pack_kv_str(pk, "ring", ring);
}

void hbc_enc_gap(msgpack_packer *pk, uint32_t p, uint64_t ts_ns, uint64_t from, uint64_t to,
		 const char *why)
{
	hbc_pack_bus(pk, 7, "gap", ts_ns);
	hbc_pack_kv_u64(pk, "p", p);
	hbc_pack_kv_u64(pk, "from", from);
	hbc_pack_kv_u64(pk, "to", to);
	hbc_pack_kv_u64(pk, "n", to - from + 1);
	hbc_pack_kv_str(pk, "why", why);
}

void hbc_enc_collector(msgpack_packer *pk, uint64_t ts_ns, const char *event, uint32_t pid)
{
	hbc_pack_bus(pk, 4, "collector", ts_ns);
	hbc_pack_kv_str(pk, "event", event);
	hbc_pack_kv_u64(pk, "pid", pid);
}

void hbc_enc_mismatch(msgpack_packer *pk, uint32_t p, uint64_t ts_ns, uint64_t seq,
		      uint32_t type, const char *field, const char *expected, const char *got)
{
	hbc_pack_bus(pk, 8, "mismatch", ts_ns);
	hbc_pack_kv_u64(pk, "p", p);
	hbc_pack_kv_u64(pk, "seq", seq);
	hbc_pack_kv_u64(pk, "type", type);
	hbc_pack_kv_str(pk, "field", field);
	hbc_pack_kv_str(pk, "expected", expected);
	hbc_pack_kv_str(pk, "got", got);
}

void hbc_enc_end(msgpack_packer *pk, uint64_t ts_ns, const char *next)
{
	hbc_pack_bus(pk, 3, "end", ts_ns);
	hbc_pack_kv_str(pk, "next", next);
}
