/* SPDX-License-Identifier: MIT */
/*
 * drain.c - the record's way from a ring to the write buffers: read from
 * cursor to head, one copy per record (hb_ring_view_take). The usual event
 * takes the run (hbc_source_run: checked while it is encoded, enc_event.h);
 * any other record the full way: the copy checked whole
 * (hb_rec_check_copy), gaps where sequence numbers jump, late-registered
 * types and metrics stated, field type mismatches reported, the record
 * encoded (encode.c). Both write into the current write buffer
 * (writer.c), with a mark ("this source is written up to cursor X") that
 * source.c's hbc_apply turns into a tail release once the buffer is
 * durable (R2 in ring.c).
 *
 * It decides nothing about the source's fate: hbc_source_drain says how it
 * ended (more to read, at the head, a bad record) and source.c settles it.
 * The operating view is fed what the drain saw (ops_feed.c) and the
 * liveness changes it hands back are written here as state records.
 */
#include "collector.h"

#include "enc_event.h"
#include "hbs/names.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* A liveness change of r the operating view handed back: a state record. */
void hbc_source_change(struct hbc_collector *c, struct hbc_source *r, msgpack_packer *pk,
			    const struct hbc_live_change *ch)
{
	hbc_enc_state(pk, r->p, hbc_now_ns(), hb_state_name(ch->to), ch->why, NULL);
	hbc_source_mark(c, r);
	hbc_debug("%s: %s (%s)", r->id.name, hb_state_name(ch->to), ch->why);
}

msgpack_packer *hbc_pk(struct hbc_collector *c)
{
	struct hbc_wbuf *b;

	hbc_index_put(c, 0);
	b = hbc_writer_buf(c->w, HBC_REC_MAX);
	if (!b)
		return NULL;
	if (b != c->pk_buf) {
		hbc_packer_init(&c->pk, &b->b);
		c->pk_buf = b;
	}
	b->b.ix = c->ix_on ? &c->ix : NULL;
	return &c->pk;
}

msgpack_packer *hbc_pk_wait(struct hbc_collector *c)
{
	msgpack_packer *pk;

	while (!(pk = hbc_pk(c))) {
		hbc_writer_flush(c->w);
		hbc_writer_poll(c->w);
		if (hbc_writer_failing(c->w) && !hbc_writer_idle(c->w))
			return NULL; /* no point waiting here: the loop retries */
		hbc_writer_wait(c->w, 1000000);
	}
	return pk;
}

void hbc_index_put(struct hbc_collector *c, int final)
{
	struct hbc_wbuf *b;
	int rc;

	if (!c->ix_on || !c->ix.n ||
	    (!final && !hbc_index_due(&c->ix, hbc_writer_file_size(c->w))))
		return;
	b = hbc_writer_buf(c->w, HBC_INDEX_REC_SIZE);
	if (!b)
		return; /* every buffer busy: the next object tries again */
	rc = hbc_index_encode(&c->ix, hbc_writer_file_size(c->w), hbc_now_ns(),
			     b->b.data + b->b.len, b->b.cap - b->b.len);
	if (rc > 0)
		b->b.len += (size_t)rc;
}

void hbc_source_mark(struct hbc_collector *c, struct hbc_source *r)
{
	struct hbc_wbuf *b = c->pk_buf;

	if (!b)
		return;
	if (hbc_wbuf_mark(b, r, r->v.cursor, r->expected) == 0)
		r->last_serial = hbc_wbuf_serial(b);
}

void hbc_source_kinds(struct hbc_source *r, uint32_t from, uint32_t to)
{
	uint32_t i;

	for (i = from; i < to; i++) {
		uint32_t k = r->v.hdr->metric_defs[i].kind;

		r->kinds[i] = (uint8_t)(k >= HB_METRIC_COUNTER && k <= HB_METRIC_HEALTH ? k : 0);
	}
}

/* The raw clock's conversion to ns, the source's own anchor and rate as
 * values (the run keeps them in locals). */
struct hbc_clock {
	uint64_t anchor_raw, anchor_ns, hz;
	uint64_t ns_mult; /* floor(2^64 * 1e9 / hz) when hz > 1e9, else 0 */
};

/* floor(d * 1e9 / hz) without a division when hz > 1e9 (a TSC): ns_mult
 * is floor(2^64 * 1e9 / hz), so the product's high half is the exact
 * result or one less, and one multiplication tells which. */
HB_INLINE uint64_t hbc_clock_ticks_ns(const struct hbc_clock *k, uint64_t d)
{
	unsigned __int128 x;
	uint64_t q;

	x = (unsigned __int128)d * 1000000000u;
	if (k->ns_mult) { /* the usual case, a TSC */
		q = (uint64_t)(((unsigned __int128)d * k->ns_mult) >> 64);
		if ((unsigned __int128)(q + 1) * k->hz <= x)
			q++;
		return q;
	}
	if (k->hz == 1000000000u)
		return d;
	return x / k->hz > UINT64_MAX ? UINT64_MAX : (uint64_t)(x / k->hz);
}

HB_INLINE uint64_t hbc_clock_ns(const struct hbc_clock *k, uint64_t raw)
{
	uint64_t d;

	if (raw >= k->anchor_raw) {
		d = hbc_clock_ticks_ns(k, raw - k->anchor_raw);
		return d > UINT64_MAX - k->anchor_ns ? UINT64_MAX : k->anchor_ns + d;
	}
	d = hbc_clock_ticks_ns(k, k->anchor_raw - raw);
	return d > k->anchor_ns ? 0 : k->anchor_ns - d;
}

static inline struct hbc_clock hbc_source_clock(const struct hbc_source *r)
{
	return (struct hbc_clock){r->anchor_raw, r->anchor_ns, r->hz, r->ns_mult};
}

static uint64_t hbc_source_ns(const struct hbc_source *r, uint64_t raw)
{
	struct hbc_clock k = hbc_source_clock(r);

	return hbc_clock_ns(&k, raw);
}

void hbc_source_gap(struct hbc_collector *c, struct hbc_source *r, msgpack_packer *pk,
			 uint64_t from, uint64_t to, const char *why)
{
	hbc_enc_gap(pk, r->p, hbc_now_ns(), from, to, why);
	c->gaps_n += to - from + 1;
}

static void hbc_state_types(struct hbc_source *r, msgpack_packer *pk, uint32_t type)
{
	uint32_t nt = hbc_load_count(&r->v.hdr->ntypes, HB_MAX_TYPES);

	if (nt > r->types_stated) {
		hbc_enc_types(pk, r->p, hbc_now_ns(), r->v.hdr, r->types_stated, nt);
		hbc_source_types(r, r->types_stated, nt);
		r->types_stated = nt;
	}
	if (type >= r->types_stated && !r->bad_type_logged) {
		r->bad_type_logged = 1;
		hbc_warn("%s: event of unregistered type %u", r->name, type);
	}
}

static void hbc_state_metrics(struct hbc_source *r, msgpack_packer *pk, uint32_t n)
{
	uint32_t nm = hbc_load_count(&r->v.hdr->nmetrics, HB_MAX_METRICS);

	(void)n;
	if (nm <= r->metrics_stated)
		return;
	hbc_source_kinds(r, r->metrics_stated, nm);
	hbc_enc_metrics(pk, r->p, hbc_now_ns(), r->v.hdr, r->metrics_stated, nm);
	r->metrics_stated = nm;
}

/* The first n (at most 8) of 8 tags as one word (tag i in byte i from the
 * low end). */
static uint64_t hbc_tags_word(const uint8_t *tags, unsigned n)
{
	static const uint64_t first[HB_MAX_FIELDS + 1] = {
		0, 0xff, 0xffff, 0xffffff, 0xffffffff, 0xffffffffffull, 0xffffffffffffull,
		0xffffffffffffffull, ~0ull};
	uint64_t w;

	memcpy(&w, tags, sizeof(w));
	return le64toh(w) & first[n];
}

void hbc_source_types(struct hbc_source *r, uint32_t from, uint32_t to)
{
	uint32_t i;

	for (i = from; i < to; i++) {
		const struct hb_type_def *t = &r->v.hdr->types[i];
		uint8_t tags[HB_MAX_FIELDS], n;
		uint64_t tw = HBC_TW_NONE;

		/* shared memory: each byte read once, then only the copies */
		memcpy(&n, &t->nfields, 1);
		memcpy(tags, t->tags, sizeof(tags));
		if (n <= HB_MAX_FIELDS)
			tw = hbc_tags_word(tags, n);
		if (!hb_tags_ok(tw) || hb_tags_nfields(tw) != n)
			tw = HBC_TW_NONE;
		r->type_tw[i] = tw;
	}
}

/* Whether an event of n fields with tags word tw is as its type t
 * declares: as many fields, the same tags. The event's tags are validated
 * (known, dense: nothing above byte n), so its n bounds the compare and
 * the type's own count, which the producer may have got wrong, is only
 * compared with it. */
static int hbc_fields_declared(const struct hb_type_def *t, uint64_t tw, unsigned n)
{
	return t->nfields == n && tw == hbc_tags_word(t->tags, n);
}

/* rec: a checked event copy (hb_rec_check_copy). */
static void hbc_check_fields(struct hbc_source *r, msgpack_packer *pk, const struct hb_rec *rec)
{
	const struct hb_type_def *t = &r->v.hdr->types[rec->type];
	const uint8_t *tags = (const uint8_t *)(rec + 1) + 8;
	uint64_t tw = hb_event_tags(rec);
	unsigned i, nf, n = hb_tags_nfields(tw); /* at most 8 */

	if (hbc_fields_declared(t, tw, n))
		return; /* the usual case: every field as declared */
	nf = t->nfields > HB_MAX_FIELDS ? HB_MAX_FIELDS : t->nfields;
	for (i = 0; i < n; i++) {
		unsigned want = i < nf ? t->tags[i] : HB_T_NONE;
		char field[HB_FIELD_NAME_MAX];

		if (want == tags[i] || (r->mismatch[rec->type] & (1u << i)))
			continue;
		r->mismatch[rec->type] |= (uint8_t)(1u << i);
		if (i < nf)
			hbc_strcpy_shared(field, t->fields[i], sizeof(t->fields[i]));
		else
			snprintf(field, sizeof(field), "#%u", i);
		hbc_enc_mismatch(pk, r->p, hbc_now_ns(), rec->seq, rec->type, field,
				 hbs_or_unknown(hbs_tag_name(want)), hbs_or_unknown(hbs_tag_name(tags[i])));
	}
}

/* rec: the checked copy of an event (hb_rec_check_copy). */
static void hbc_source_event(struct hbc_collector *c, struct hbc_source *r, msgpack_packer *pk,
			   const struct hb_rec *rec)
{
	if (rec->type >= r->types_stated)
		hbc_state_types(r, pk, rec->type);
	if (rec->type < r->types_stated)
		hbc_check_fields(r, pk, rec);
	hbc_enc_event(&c->pk_buf->b, r->p, rec, hbc_source_ns(r, rec->ts));
}

static void hbc_source_heartbeat(struct hbc_collector *c, struct hbc_source *r, msgpack_packer *pk,
			       const struct hb_rec *rec)
{
	const void *slots = (const uint8_t *)(rec + 1) + sizeof(struct hb_rec_hb);
	struct hbc_live_change ch;
	struct hb_rec_hb b;
	unsigned extra;

	memcpy(&b, rec + 1, sizeof(b));
	if (b.nmetrics > HB_MAX_METRICS)
		b.nmetrics = 0; /* hb_rec_check refused this; belt and braces */
	r->anchor_raw = rec->ts; /* heartbeats carry a fresh (raw, realtime) pair */
	r->anchor_ns = b.rt_ns;
	if (b.nmetrics > r->metrics_stated)
		hbc_state_metrics(r, pk, b.nmetrics);
	if (hbc_feed_heartbeat(c, r, &b, slots, &ch))
		hbc_source_change(c, r, pk, &ch); /* written before the heartbeat */
	extra = hbc_feed_extra(c, r);
	hbc_enc_heartbeat(pk, r->p, rec, b.rt_ns, &b, slots, r->kinds, extra);
	if (extra)
		hbc_feed_heartbeat_pack(c, r, pk);
}

/* rec: the checked copy of a record (hb_rec_check_copy), ours alone. */
static int hbc_source_record(struct hbc_collector *c, struct hbc_source *r, msgpack_packer *pk,
			   const struct hb_rec *rec)
{
	uint64_t seq = rec->seq;

	if (r->expect_any) {
		r->expect_any = 0;
		r->expected = seq;
	}
	if (seq < r->expected) {
		r->skipped++; /* persisted by an earlier run */
		return 0;
	}
	if (seq > r->expected) {
		if (seq - r->expected >= HBC_SEQ_SANE)
			return -EBADMSG;
		hbc_source_gap(c, r, pk, r->expected, seq - 1, "overflow");
	}
	if (rec->kind == HB_REC_EVENT)
		hbc_source_event(c, r, pk, rec);
	else
		hbc_source_heartbeat(c, r, pk, rec);
	r->expected = seq + 1;
	c->records++;
	return 0;
}

/* 1 when nothing is left to read (a trailing pad is skipped). */
int hbc_source_empty(struct hbc_source *r)
{
	const struct hb_rec *rec;
	uint64_t at = r->v.cursor;

	if (hb_ring_view_next(&r->v, &rec) == 0)
		return 1;
	r->v.cursor = at; /* a record (or damage): the drain loop takes it */
	return 0;
}

/* Bytes of the current buffer below which the drain loop may encode
 * another record without asking hbc_pk: HBC_REC_MAX stay free and no index
 * record falls due (hbc_pk handles both). */
static size_t hbc_fast_limit(struct hbc_collector *c)
{
	const struct hbc_buf *b = &c->pk_buf->b;
	size_t lim = b->cap - HBC_REC_MAX;

	if (c->ix_on) {
		uint64_t start = hbc_writer_file_size(c->w) - b->len; /* offset of data[0] */
		uint64_t due = c->ix.from + c->ix.every;

		if (due <= start)
			return 0;
		if (due - start < lim)
			lim = (size_t)(due - start);
	}
	return lim;
}

/*
 * The run: the usual records, one after another, each in one pass. An
 * event that follows the last one written (no gap), of a type already
 * stated, whose tags word is its type's declared one (so its tags are
 * known good and need no mismatch record), is copied once out of the ring
 * and checked while it is encoded (hbc_enc_fields); the run stops before
 * anything else (a pad, a heartbeat, a gap, damage), which the full way in
 * hbc_source_drain takes, and before a record that fails a check, with
 * nothing of it written.
 *
 * The encoder writes through a byte pointer, which as far as the compiler
 * knows may alias anything in memory: a loop that kept its state in the
 * source, the buffer and the index would load and store all of it around
 * every byte written. Here that state lives in locals whose address is
 * never taken: loaded once, stored back once per run.
 */
/* How far ahead of the record it reads the run asks for ring bytes. */
#define HBC_RUN_PREFETCH 512

struct hbc_run {
	uint8_t *w, *data;
	uint64_t cursor, head, expected;
	uint32_t batch_n, batch_p;
	uint64_t batch_at, batch_ts;
	uint64_t ts_min, ts_max; /* of the index chunk, its records and the run's */
};

/* What the run reads of its source, its ring and its buffer, loaded once
 * into a local that the encoder's byte stores cannot reach. */
struct hbc_run_src {
	struct hb_ring_view v;   /* the ring (its cursor and head: the run's) */
	uint32_t p, ntypes;      /* the source's producer number, types stated */
	const uint64_t *type_tw; /* their declared tags words */
	uint64_t *copy;          /* the collector's copy buffer */
	struct hbc_buf *b;
};

/* One record of the run at u->cursor: 1 when it was written, 0 when the
 * run stops before it, -1 when there is none (the cursor is at the head
 * just loaded). */
HB_INLINE int hbc_run_one(const struct hbc_run_src *s, struct hbc_run *u,
			  const struct hbc_clock *clk)
{
	const struct hb_rec *rec = (const struct hb_rec *)s->copy, *r;
	struct hb_rec h;
	uint32_t len;
	uint64_t tw, ts, req;
	uint8_t *e;
	int ok;

	/* the records a few lines on: their lines are likely still in the
	 * producer's cache, and asking for them now overlaps the transfers */
	__builtin_prefetch(s->v.data + (((uint32_t)u->cursor + HBC_RUN_PREFETCH) & s->v.mask));
	/* pads skipped; anything the locate refuses is the full way's */
	ok = hb_ring_locate(&s->v, &u->cursor, &u->head, &r, &len);
	if (ok <= 0 || len < HB_EVENT_FIXED || len > HB_REC_COPY_MAX)
		return ok == 0 ? -1 : 0;
	hb_rec_copy(s->copy, r, len); /* one read: from here on only the copy */
	memcpy(&h, rec, sizeof(h));
	if (h.len != len || h.kind != HB_REC_EVENT || h.prio > HB_PRIO_URGENT ||
	    h.seq != u->expected || h.type >= s->ntypes)
		return 0;
	tw = hb_event_tags(rec);
	if (tw != s->type_tw[h.type])
		return 0;
	ts = hbc_clock_ns(clk, h.ts);
	if (u->batch_n && (u->batch_p != s->p || u->batch_n >= HBC_BATCH_MAX ||
			   !hbc_dt_fits(ts, u->batch_ts))) {
		/* the run's batch back into b to be ended there (rare) */
		s->b->len = (size_t)(u->w - u->data);
		s->b->batch_at = u->batch_at;
		s->b->batch_n = u->batch_n;
		s->b->batch_p = u->batch_p;
		hbc_buf_batch_end(s->b);
		u->w = u->data + s->b->len;
		u->batch_n = 0;
	}
	e = u->w;
	if (!u->batch_n) { /* void unless the event is written */
		u->batch_at = (uint64_t)(e - u->data);
		u->batch_p = s->p;
		u->batch_ts = ts;
		e = hbc_mp_batch(e, s->p, h.seq, ts);
	}
	memcpy(&req, rec + 1, 8);
	e = hbc_mp_event(e, hb_tags_nfields(tw), ts - u->batch_ts, h.type, h.prio, req);
	e = hbc_enc_fields(e, (const uint8_t *)rec + HB_EVENT_FIXED, (const uint8_t *)rec + len, tw);
	if (!e)
		return 0;
	u->w = e;
	u->cursor += len;
	u->expected = h.seq + 1;
	u->batch_n++;
	u->batch_ts = ts;
	u->ts_min = ts < u->ts_min ? ts : u->ts_min;
	u->ts_max = ts > u->ts_max ? ts : u->ts_max;
	return 1;
}

/* At most max records of the run into the current buffer, below lim
 * bytes (hbc_fast_limit); how many. *at_head is set when the run ended
 * because nothing more was published. */
static unsigned hbc_source_run(struct hbc_collector *c, struct hbc_source *r, unsigned max,
			       size_t lim, int *at_head)
{
	struct hbc_buf *b = &c->pk_buf->b;
	struct hbc_index *ix = b->ix;
	const struct hbc_clock clk = hbc_source_clock(r);
	const struct hbc_run_src src = {
		.v = r->v, .p = r->p, .ntypes = r->types_stated, .type_tw = r->type_tw,
		.copy = c->copy, .b = b,
	};
	struct hbc_run u = {
		.data = (uint8_t *)b->data, .w = (uint8_t *)b->data + b->len,
		.cursor = r->v.cursor, .head = r->v.head, .expected = r->expected,
		.batch_n = b->batch_n, .batch_p = b->batch_p, .batch_at = b->batch_at,
		.batch_ts = b->batch_ts,
		.ts_min = ix && ix->n ? ix->ts_min : UINT64_MAX, .ts_max = ix && ix->n ? ix->ts_max : 0,
	};
	unsigned k = 0;
	int one = 0;

	*at_head = 0;
	if (r->expect_any || (u.batch_n && b->batch_seq != u.expected))
		return 0; /* the full way sets expected; another batch ends there */
	while (k < max && u.w < u.data + lim && (one = hbc_run_one(&src, &u, &clk)) > 0)
		k++;
	*at_head = one < 0;
	if (k || *at_head) { /* the cursor past what was read, pads included */
		r->v.cursor = u.cursor;
		r->v.head = u.head;
	}
	if (!k)
		return 0;
	r->expected = u.expected;
	b->len = (size_t)(u.w - u.data);
	b->batch_at = u.batch_at;
	b->batch_n = u.batch_n;
	b->batch_p = r->p;
	b->batch_seq = u.expected;
	b->batch_ts = u.batch_ts;
	if (ix) {
		ix->n += k;
		ix->ts_min = u.ts_min;
		ix->ts_max = u.ts_max;
	}
	c->records += k;
	return k;
}

/* Every record is read from the ring once, into a local copy
 * (hb_ring_view_take): a producer may rewrite a record after publishing
 * it (a bug or hostility), so checks and encoding work only on the copy,
 * straight from its bytes, and nothing of it is used before it is checked.
 * The mark ("r is written up to its
 * cursor") goes into a buffer before the drain moves to another buffer
 * and at the end; records are counted for the operating view likewise. */
int hbc_source_drain(struct hbc_collector *c, struct hbc_source *r, unsigned budget,
		     enum hbc_drain_end *end)
{
	uint64_t records0 = c->records;
	const struct hb_rec *rec = (const struct hb_rec *)c->copy;
	msgpack_packer *pk = NULL;
	unsigned n = 0, k, marked = 0;
	size_t lim = 0;
	int rc = 0, at_head = 0;

	*end = HBC_DRAIN_MORE;
	while (r->state == HBC_SRC_ACTIVE) {
		uint64_t at = r->v.cursor;
		uint32_t len;

		if (!pk || c->pk_buf->b.len >= lim) {
			if (n > marked) {
				hbc_source_mark(c, r);
				marked = n;
			}
			pk = hbc_pk(c);
			if (!pk) {
				rc = -ENOBUFS;
				break;
			}
			lim = hbc_fast_limit(c);
		}
		if (n >= budget)
			break;
		k = hbc_source_run(c, r, budget - n, lim, &at_head);
		n += k;
		if (at_head) { /* the run loaded the head: nothing more to read */
			*end = HBC_DRAIN_HEAD;
			break;
		}
		if (k)
			continue;
		/* the full way: one record, the whole copy checked
		 * (hb_rec_check_copy) before anything of it is used */
		rc = hb_ring_view_take(&r->v, c->copy, sizeof(c->copy), &len);
		if (rc == 0) {
			*end = HBC_DRAIN_HEAD;
			break;
		}
		if (rc < 0 || hb_rec_check_copy(rec, len) || hbc_source_record(c, r, pk, rec) < 0) {
			r->v.cursor = at; /* everything from here on is abandoned */
			*end = HBC_DRAIN_CORRUPT;
			rc = 0;
			break;
		}
		n++;
	}
	if (n > marked)
		hbc_source_mark(c, r);
	hbc_feed_records(c, r, c->records - records0);
	return rc == -ENOBUFS ? rc : (int)n;
}
