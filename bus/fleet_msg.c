/* SPDX-License-Identifier: MIT */
/* fleet_msg.c - fleet messages (fleet.h, docs/FORMAT.md "Fleet messages"):
 * built by hbship from archive records, checked and rewritten by hbsink.
 * Everything a sink reads is untrusted: every object is checked before use. */
#include "fleet.h"
#include "hbc.h"
#include "rd_batch.h"
#include "rd_wire.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void hbf_pack_str(msgpack_packer *pk, const char *s)
{
	if (!s)
		s = "";
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

static void hbf_pack_kv_str(msgpack_packer *pk, const char *k, const char *v)
{
	hbf_pack_str(pk, k);
	hbf_pack_str(pk, v);
}

static void hbf_pack_kv_u64(msgpack_packer *pk, const char *k, uint64_t v)
{
	hbf_pack_str(pk, k);
	msgpack_pack_uint64(pk, v);
}

static int hbf_str_eq(const msgpack_object *o, const char *s)
{
	return o && o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(s) &&
	       !memcmp(o->via.str.ptr, s, o->via.str.size);
}

/* A str object copied into dst when it is a safe name (hb_name_check). */
static int hbf_str_name(const msgpack_object *o, char *dst, size_t len)
{
	if (!o || o->type != MSGPACK_OBJECT_STR || o->via.str.size >= len)
		return -EPROTO;
	memcpy(dst, o->via.str.ptr, o->via.str.size);
	dst[o->via.str.size] = 0;
	return hb_name_check(dst, len) ? -EPROTO : 0;
}

static int hbf_obj_u64(const msgpack_object *o, uint64_t *v)
{
	if (!o || o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return -EPROTO;
	*v = o->via.u64;
	return 0;
}

void hbf_subject_token(char *dst, size_t len, const char *s)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < len; i++)
		dst[i] = strchr(".*> \t", s[i]) ? '_' : s[i];
	dst[i] = 0;
}

/* ---- building ---------------------------------------------------------- */

void hbf_msg_init(struct hbf_msg *m)
{
	memset(m, 0, sizeof(*m));
	msgpack_sbuffer_init(&m->body);
	msgpack_packer_init(&m->pk, &m->body, msgpack_sbuffer_write);
}

void hbf_msg_free(struct hbf_msg *m)
{
	msgpack_sbuffer_destroy(&m->body);
}

void hbf_msg_begin(struct hbf_msg *m, const struct hb_rd_producer *prod)
{
	msgpack_sbuffer_clear(&m->body);
	m->prod = prod;
	m->has_seq = 0;
	m->lo = m->hi = 0;
	m->ts_first = 0;
	m->nobj = m->nrec = 0;
}

static void hbf_msg_seq(struct hbf_msg *m, uint64_t lo, uint64_t hi)
{
	if (!m->has_seq || lo < m->lo)
		m->lo = lo;
	if (!m->has_seq || hi > m->hi)
		m->hi = hi;
	m->has_seq = 1;
}

int hbf_rec_shipped(const struct hb_rd_record *rec)
{
	if (!rec->producer || rec->kind == HB_RD_HEADER)
		return 0;
	return rec->kind != HB_RD_BUS ||
	       (rec->bus_kind && strcmp(rec->bus_kind, "producer") &&
		strcmp(rec->bus_kind, "types") && strcmp(rec->bus_kind, "metrics"));
}

/* rec's bytes into the body: as the archive holds them (an event batch
 * whole), or for an event handed out of a batch, as a single event. */
static int hbf_msg_bytes(struct hbf_msg *m, const struct hb_rd_record *rec)
{
	char small[4096], *buf = small;
	size_t n;

	if (rec->raw) {
		msgpack_sbuffer_write(&m->body, rec->raw, rec->raw_len);
		return 0;
	}
	n = hb_rd_format_msgpack(small, sizeof(small), rec);
	if (n > sizeof(small)) {
		buf = malloc(n);
		if (!buf)
			return -ENOMEM;
		hb_rd_format_msgpack(buf, n, rec);
	}
	msgpack_sbuffer_write(&m->body, buf, n);
	if (buf != small)
		free(buf);
	return 0;
}

int hbf_msg_add(struct hbf_msg *m, const struct hb_rd_record *rec)
{
	uint64_t from, to;

	if (rec->producer != m->prod || !hbf_rec_shipped(rec))
		return -EINVAL;
	if (hbf_msg_bytes(m, rec))
		return -ENOMEM;
	if (rec->kind == HB_RD_EVENT || rec->kind == HB_RD_HEARTBEAT)
		hbf_msg_seq(m, rec->seq, rec->seq);
	else if (rec->kind == HB_RD_BATCH)
		hbf_msg_seq(m, rec->seq, rec->seq + rec->nevents - 1);
	else if (!strcmp(rec->bus_kind, "gap") &&
		 !hbf_obj_u64(hb_rd_map_get(rec->obj, "from"), &from) &&
		 !hbf_obj_u64(hb_rd_map_get(rec->obj, "to"), &to) && from <= to)
		hbf_msg_seq(m, from, to);
	if (!m->nrec)
		m->ts_first = rec->ts_ns;
	m->nrec += rec->kind == HB_RD_BATCH ? (uint32_t)rec->nevents : 1;
	m->nobj++;
	m->last_off = rec->offset;
	m->file = rec->file;
	return 0;
}

void hbf_msg_add_gap(struct hbf_msg *m, uint64_t from, uint64_t to, uint64_t ts_ns,
		     const char *why)
{
	msgpack_pack_map(&m->pk, 7);
	hbf_pack_kv_str(&m->pk, "k", "gap");
	hbf_pack_str(&m->pk, "ts");
	hbc_pack_ts(&m->pk, ts_ns);
	hbf_pack_kv_u64(&m->pk, "p", m->prod->p);
	hbf_pack_kv_u64(&m->pk, "from", from);
	hbf_pack_kv_u64(&m->pk, "to", to);
	hbf_pack_kv_u64(&m->pk, "n", to - from + 1);
	hbf_pack_kv_str(&m->pk, "why", why);
	hbf_msg_seq(m, from, to);
	if (!m->nrec)
		m->ts_first = ts_ns;
	m->nrec++;
	m->nobj++;
}

static void hbf_pack_tables(msgpack_packer *pk, const struct hb_rd_producer *pr)
{
	uint32_t i, j;

	hbf_pack_str(pk, "types");
	msgpack_pack_array(pk, pr->ntypes);
	for (i = 0; i < pr->ntypes; i++) {
		const struct hb_rd_type *t = &pr->types[i];

		msgpack_pack_map(pk, 3);
		hbf_pack_kv_str(pk, "name", t->name);
		hbf_pack_str(pk, "fields");
		msgpack_pack_array(pk, t->nfields);
		for (j = 0; j < t->nfields; j++)
			hbf_pack_str(pk, t->fields[j]);
		hbf_pack_str(pk, "ftypes");
		msgpack_pack_array(pk, t->nfields);
		for (j = 0; j < t->nfields; j++)
			hbf_pack_str(pk, hb_tag_name(t->ftypes[j]));
	}
	hbf_pack_str(pk, "metrics");
	msgpack_pack_array(pk, pr->nmetrics);
	for (i = 0; i < pr->nmetrics; i++) {
		msgpack_pack_map(pk, 2);
		hbf_pack_kv_str(pk, "name", pr->metrics[i].name);
		hbf_pack_kv_str(pk, "kind", hb_metric_kind_name(pr->metrics[i].kind));
	}
}

static void hbf_pack_kv_ts(msgpack_packer *pk, const char *k, uint64_t ns)
{
	hbf_pack_str(pk, k);
	hbc_pack_ts(pk, ns);
}

/* The producer map of a message: as an archive's producer record. */
static void hbf_pack_prod(msgpack_packer *pk, const struct hbf_msg *m, const char *host)
{
	const struct hb_rd_producer *pr = m->prod;

	msgpack_pack_map(pk, 15);
	hbf_pack_kv_str(pk, "k", "producer");
	hbf_pack_kv_str(pk, "why", "shipped");
	hbf_pack_kv_u64(pk, "p", pr->p);
	hbf_pack_kv_ts(pk, "ts", pr->start_ns);
	hbf_pack_kv_str(pk, "name", pr->name);
	hbf_pack_kv_u64(pk, "pid", pr->pid);
	hbf_pack_kv_u64(pk, "tid", pr->tid);
	hbf_pack_kv_str(pk, "thread", pr->thread);
	hbf_pack_kv_str(pk, "host", host);
	hbf_pack_kv_str(pk, "ring", pr->ring);
	hbf_pack_kv_ts(pk, "start", pr->start_ns);
	hbf_pack_kv_u64(pk, "interval_ms", pr->interval_ms);
	hbf_pack_tables(pk, pr);
	hbf_pack_kv_u64(pk, "seq_next", m->has_seq ? m->hi + 1 : pr->seq_next);
}

int hbf_msg_finish(struct hbf_msg *m, const char *host, const char *bus, msgpack_sbuffer *out,
		   char *id, size_t idlen)
{
	msgpack_packer pk;

	msgpack_sbuffer_clear(out);
	msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 6);
	hbf_pack_kv_str(&pk, "k", "ship");
	hbf_pack_kv_str(&pk, "magic", HBF_MSG_MAGIC);
	hbf_pack_str(&pk, "version");
	msgpack_pack_array(&pk, 2);
	msgpack_pack_uint32(&pk, HBF_MSG_MAJOR);
	msgpack_pack_uint32(&pk, HBF_MSG_MINOR);
	hbf_pack_kv_str(&pk, "host", host);
	hbf_pack_kv_str(&pk, "bus", bus);
	hbf_pack_kv_u64(&pk, "n", m->nobj);
	hbf_pack_prod(&pk, m, host);
	msgpack_sbuffer_write(out, m->body.data, m->body.size);
	/* what it holds: host, producer identity, seq range, record count
	 * (so a message grouped differently after a restart is not mistaken
	 * for one the stream holds, which the sink would then never see) */
	if (m->has_seq)
		snprintf(id, idlen, "hb1.%s.%s.%" PRIu64 ".%" PRIu64 "-%" PRIu64 ".%u", host,
			 m->prod->ring, m->prod->start_ns, m->lo, m->hi, m->nrec);
	else
		snprintf(id, idlen, "hb1.%s.%s.%" PRIu64 ".t%" PRIu64 ".%u", host, m->prod->ring,
			 m->prod->start_ns, m->ts_first, m->nrec);
	return 0;
}

/* ---- reading ----------------------------------------------------------- */

static int hbf_parse_header(const msgpack_object *h, struct hbf_parsed *out, const char **why)
{
	const msgpack_object *v;

	*why = "not an hb fleet message (no ship header)";
	if (h->type != MSGPACK_OBJECT_MAP || !hbf_str_eq(hb_rd_map_get(h, "k"), "ship") ||
	    !hbf_str_eq(hb_rd_map_get(h, "magic"), HBF_MSG_MAGIC))
		return -EPROTO;
	v = hb_rd_map_get(h, "version");
	*why = "unsupported fleet message version";
	if (!v || v->type != MSGPACK_OBJECT_ARRAY || v->via.array.size < 2 ||
	    v->via.array.ptr[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    v->via.array.ptr[0].via.u64 < 1 || v->via.array.ptr[0].via.u64 > HBF_MSG_MAJOR)
		return -EPROTO;
	*why = "bad host or bus name";
	if (hbf_str_name(hb_rd_map_get(h, "host"), out->host, sizeof(out->host)) ||
	    hbf_str_name(hb_rd_map_get(h, "bus"), out->bus, sizeof(out->bus)))
		return -EPROTO;
	return 0;
}

static int hbf_parse_prod(const msgpack_object *pm, struct hbf_parsed *out, const char **why)
{
	const msgpack_object *ring = hb_rd_map_get(pm, "ring"), *name = hb_rd_map_get(pm, "name");
	const msgpack_object *types = hb_rd_map_get(pm, "types"), *mets = hb_rd_map_get(pm, "metrics");

	*why = "bad producer map";
	if (pm->type != MSGPACK_OBJECT_MAP || !hbf_str_eq(hb_rd_map_get(pm, "k"), "producer") ||
	    hbf_obj_u64(hb_rd_map_get(pm, "p"), &out->p) ||
	    hb_rd_obj_time(hb_rd_map_get(pm, "start"), &out->start_ns) || !ring ||
	    ring->type != MSGPACK_OBJECT_STR || !ring->via.str.size ||
	    ring->via.str.size >= sizeof(out->ring) || !name || name->type != MSGPACK_OBJECT_STR ||
	    !types || types->type != MSGPACK_OBJECT_ARRAY || !mets ||
	    mets->type != MSGPACK_OBJECT_ARRAY)
		return -EPROTO;
	memcpy(out->ring, ring->via.str.ptr, ring->via.str.size);
	out->ring[ring->via.str.size] = 0;
	if (memchr(out->ring, 0, ring->via.str.size) || strchr(out->ring, '/'))
		return -EPROTO;
	out->producer = *pm;
	return 0;
}

/* The object at p claims no more elements and bytes than the len bytes
 * there hold, and nests at most 32 deep: msgpack-c allocates what a
 * container's count says before it reads any of it, so a six-byte message
 * could ask for gigabytes. Its size, or -EPROTO. */
static long hbf_wire_one(const uint8_t *p, size_t len)
{
	uint64_t need[33];
	size_t off = 0;
	int depth = 0;

	do {
		uint8_t c;
		uint64_t n = 0, hdr = 1;

		if (off >= len)
			return -EPROTO;
		c = p[off];
		if ((c & 0xf0) == 0x80)
			n = 2u * (c & 0x0f);
		else if ((c & 0xf0) == 0x90)
			n = c & 0x0f;
		else if ((c & 0xe0) == 0xa0)
			hdr = 1u + (c & 0x1f);
		else if (c == 0xc1)
			return -EPROTO;
		else if (c >= 0xc4 && c <= 0xdf) {
			const struct rd_marker *m = &rd_markers[c - 0xc0];
			uint64_t l;

			if ((uint64_t)m->lenb + 1 > len - off)
				return -EPROTO;
			l = m->lenb ? rd_be(p + off + 1, m->lenb) : 0;
			hdr = 1u + m->lenb + (m->what == RD_PAYLOAD ? m->fixed + l : 0);
			n = m->what == RD_ELEMS ? l : m->what == RD_PAIRS ? 2 * l : 0;
		}
		if (hdr > len - off || n > len - off - hdr) /* a value is at least a byte */
			return -EPROTO;
		off += hdr;
		if (depth)
			need[depth]--;
		if (n) {
			if (depth == 32)
				return -EPROTO;
			need[++depth] = n;
		}
		while (depth && !need[depth])
			depth--;
	} while (depth);
	return (long)off;
}

/* The next object at *off, checked by hbf_wire_one, decoded into z. */
static int hbf_unpack_one(const char *data, size_t len, size_t *off, msgpack_zone *z,
			  msgpack_object *o)
{
	long n = *off < len ? hbf_wire_one((const uint8_t *)data + *off, len - *off) : -EPROTO;
	size_t at = 0;

	if (n < 0 || msgpack_unpack(data + *off, (size_t)n, &at, z, o) != MSGPACK_UNPACK_SUCCESS)
		return -EPROTO;
	*off += (size_t)n;
	return 0;
}

int hbf_msg_parse(const char *data, size_t len, msgpack_zone *z, struct hbf_parsed *out,
		  const char **why)
{
	msgpack_object h, pm;
	size_t off = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	*why = "not msgpack, or lengths beyond the message";
	if (!data || hbf_unpack_one(data, len, &off, z, &h))
		return -EPROTO;
	rc = hbf_parse_header(&h, out, why);
	if (rc)
		return rc;
	*why = "truncated: no producer map";
	if (hbf_unpack_one(data, len, &off, z, &pm))
		return -EPROTO;
	rc = hbf_parse_prod(&pm, out, why);
	out->body_off = off;
	return rc;
}

/* An array record [1 | 2, p, seq, ts, ...] of producer p. */
static int hbf_check_array(const msgpack_object *o, uint64_t p, const char **why)
{
	const msgpack_object *a = o->via.array.ptr;
	uint64_t ns;

	*why = "bad event or heartbeat";
	if (o->via.array.size < 4 || a[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    (a[0].via.u64 != 1 && a[0].via.u64 != 2) || a[2].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    hb_rd_obj_time(&a[3], &ns))
		return -EPROTO;
	*why = "record of another producer";
	if (a[1].type != MSGPACK_OBJECT_POSITIVE_INTEGER || a[1].via.u64 != p)
		return -EPROTO;
	return 0;
}

static int hbf_check_map(const msgpack_object *o, uint64_t p, const char **why)
{
	static const char *const refused[] = {"header", "producer", "types", "metrics",
					      "end",    "index",    "ship"};
	const msgpack_object *k = hb_rd_map_get(o, "k"), *mp = hb_rd_map_get(o, "p");
	uint64_t ns, v;
	size_t i;

	*why = "bus record without k or ts";
	if (!k || k->type != MSGPACK_OBJECT_STR || hb_rd_obj_time(hb_rd_map_get(o, "ts"), &ns))
		return -EPROTO;
	*why = "a bus record that has no place in a message";
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (hbf_str_eq(k, refused[i]))
			return -EPROTO;
	*why = "record of another producer";
	if (!mp || hbf_obj_u64(mp, &v) || v != p)
		return -EPROTO;
	return 0;
}

/* 1 when p starts an array whose first element is 3: an event batch. */
static int hbf_is_batch(const uint8_t *p, size_t len)
{
	uint32_t cnt;
	size_t h = rd_array_head(p, len, &cnt);

	return h && h < len && p[h] == 3;
}

/* The event batch at data + *off, checked whole (rd_batch_verify). */
static int hbf_batch_next(const char *data, size_t len, size_t *off, msgpack_zone *z,
			  uint64_t p, struct hbf_rec_key *k, const char **why)
{
	struct rd_batch_info bi;
	long n = rd_batch_verify((const uint8_t *)data + *off, len - *off, z, &bi);

	*why = "bad event batch";
	if (n < 0)
		return -EPROTO;
	*why = "record of another producer";
	if (bi.p != p)
		return -EPROTO;
	*k = (struct hbf_rec_key){.has_seq = 1, .lo = bi.seq0, .hi = bi.seq0 + bi.nev - 1,
				  .ts_ns = bi.ts_min, .ts_max = bi.ts_max, .is_batch = 1,
				  .first = bi.first};
	*off += (size_t)n;
	return 1;
}

int hbf_msg_next(const char *data, size_t len, size_t *off, msgpack_zone *z, uint64_t p,
		 msgpack_object *rec, struct hbf_rec_key *k, const char **why)
{
	if (*off >= len)
		return 0;
	if (hbf_is_batch((const uint8_t *)data + *off, len - *off)) {
		rec->type = MSGPACK_OBJECT_NIL;
		return hbf_batch_next(data, len, off, z, p, k, why);
	}
	*why = "truncated or damaged record";
	if (hbf_unpack_one(data, len, off, z, rec))
		return -EPROTO;
	if (rec->type == MSGPACK_OBJECT_ARRAY ? hbf_check_array(rec, p, why)
	    : rec->type == MSGPACK_OBJECT_MAP ? hbf_check_map(rec, p, why)
					      : -EPROTO)
		return -EPROTO;
	*why = "bad gap record";
	return hbf_rec_key(rec, k) ? -EPROTO : 1;
}

int hbf_rec_key(const msgpack_object *rec, struct hbf_rec_key *k)
{
	memset(k, 0, sizeof(*k));
	if (rec->type == MSGPACK_OBJECT_ARRAY) {
		k->has_seq = 1;
		k->lo = k->hi = rec->via.array.ptr[2].via.u64;
		return hb_rd_obj_time(&rec->via.array.ptr[3], &k->ts_ns);
	}
	if (hb_rd_obj_time(hb_rd_map_get(rec, "ts"), &k->ts_ns))
		return -EPROTO;
	if (!hbf_str_eq(hb_rd_map_get(rec, "k"), "gap"))
		return 0;
	k->has_seq = k->is_gap = 1;
	if (hbf_obj_u64(hb_rd_map_get(rec, "from"), &k->lo) ||
	    hbf_obj_u64(hb_rd_map_get(rec, "to"), &k->hi) || k->hi < k->lo)
		return -EPROTO;
	return 0;
}

void hbf_pack_rec(msgpack_packer *pk, const msgpack_object *rec, uint64_t p, uint64_t gap_lo,
		  uint64_t gap_hi)
{
	uint32_t i;

	if (rec->type == MSGPACK_OBJECT_ARRAY) {
		msgpack_pack_array(pk, rec->via.array.size);
		msgpack_pack_object(pk, rec->via.array.ptr[0]);
		msgpack_pack_uint64(pk, p);
		for (i = 2; i < rec->via.array.size; i++)
			msgpack_pack_object(pk, rec->via.array.ptr[i]);
		return;
	}
	int gap = hbf_str_eq(hb_rd_map_get(rec, "k"), "gap");

	msgpack_pack_map(pk, rec->via.map.size);
	for (i = 0; i < rec->via.map.size; i++) {
		const msgpack_object_kv *kv = &rec->via.map.ptr[i];

		msgpack_pack_object(pk, kv->key);
		if (hbf_str_eq(&kv->key, "p"))
			msgpack_pack_uint64(pk, p);
		else if (gap && hbf_str_eq(&kv->key, "from"))
			msgpack_pack_uint64(pk, gap_lo);
		else if (gap && hbf_str_eq(&kv->key, "to"))
			msgpack_pack_uint64(pk, gap_hi);
		else if (gap && hbf_str_eq(&kv->key, "n"))
			msgpack_pack_uint64(pk, gap_hi - gap_lo + 1);
		else
			msgpack_pack_object(pk, kv->val);
	}
}

/* Bytes of the msgpack integer or array header whose first byte is b, 0
 * for anything else. */
static size_t hbf_int_len(uint8_t b)
{
	if (b < 0x80 || b >= 0xe0)
		return 1; /* fixints */
	switch (b) {
	case 0xcc: case 0xd0: return 2;
	case 0xcd: case 0xd1: return 3;
	case 0xce: case 0xd2: return 5;
	case 0xcf: case 0xd3: return 9;
	default: return 0;
	}
}

static size_t hbf_array_hdr_len(uint8_t b)
{
	if ((b & 0xf0) == 0x90)
		return 1;
	return b == 0xdc ? 3 : b == 0xdd ? 5 : 0;
}

int hbf_pack_rec_raw(msgpack_packer *pk, const char *raw, size_t n, uint64_t p)
{
	const uint8_t *r = (const uint8_t *)raw;
	size_t h, k, q;

	if (!n || !(h = hbf_array_hdr_len(r[0])) || h >= n || !(k = hbf_int_len(r[h])) ||
	    h + k >= n || !(q = hbf_int_len(r[h + k])) || h + k + q > n)
		return -EINVAL;
	pk->callback(pk->data, raw, h + k);
	msgpack_pack_uint64(pk, p);
	pk->callback(pk->data, raw + h + k + q, n - h - k - q);
	return 0;
}

void hbf_pack_producer(msgpack_packer *pk, const msgpack_object *prod, uint64_t p, const char *why,
		       uint64_t seq_next)
{
	uint32_t i;

	msgpack_pack_map(pk, prod->via.map.size);
	for (i = 0; i < prod->via.map.size; i++) {
		const msgpack_object_kv *kv = &prod->via.map.ptr[i];

		msgpack_pack_object(pk, kv->key);
		if (hbf_str_eq(&kv->key, "p"))
			msgpack_pack_uint64(pk, p);
		else if (hbf_str_eq(&kv->key, "why"))
			hbf_pack_str(pk, why);
		else if (hbf_str_eq(&kv->key, "seq_next"))
			msgpack_pack_uint64(pk, seq_next);
		else
			msgpack_pack_object(pk, kv->val);
	}
}

void hbf_pack_batch_part(msgpack_packer *pk, const char *raw, size_t n,
			 const struct hbf_rec_key *k, uint64_t p, uint64_t lo, uint64_t hi)
{
	struct rd_batch_info bi = {.seq0 = k->lo, .nev = k->hi - k->lo + 1, .first = k->first,
				   .size = n};
	const uint8_t *r = (const uint8_t *)raw;
	uint64_t t, t_end;
	size_t a = rd_batch_seek(r, &bi, lo - k->lo, &t);
	size_t b = rd_batch_seek(r, &bi, hi - k->lo + 1, &t_end);

	msgpack_pack_array(pk, (size_t)(4 + hi - lo + 1));
	msgpack_pack_uint8(pk, 3);
	msgpack_pack_uint64(pk, p);
	msgpack_pack_uint64(pk, lo);
	hbc_pack_ts(pk, t); /* the time before event lo: its dt stays as it is */
	pk->callback(pk->data, raw + a, b - a);
}
