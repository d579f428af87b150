/* SPDX-License-Identifier: MIT */
/*
 * drain.c - one ring's life in the collector: attach, read records from
 * cursor to head, encode them (with gaps, late-registered types and
 * metrics, field type mismatches), notice a clean close or a dead process,
 * quarantine what fails validation, release the tail once written.
 *
 * Every record about a ring is followed by a mark in the buffer that holds
 * it ("ring r is written up to cursor X"); the writer hands buffers back in
 * order once durable and hbc_apply releases the tail to X (R2 in ring.c).
 *
 * The operating view (ops.h: liveness, process figures, alerts, /metrics)
 * is fed from here with what the drain saw (hbc_feed_*): it gets values and
 * hands back liveness changes, which the drain writes as its own state
 * records; it never calls into the drain.
 */
#include "collector.h"

#include "hbs/names.h"
#include "hbs/proc.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define HBC_PENDING_NS 2000000000ull /* a ring's header must appear within this */
#define HBC_SEQ_SANE (1ull << 48)    /* larger jumps are not believed */

static void hbc_source_pidfd(struct hbc_source *r);

/* ---- the operating view, fed ------------------------------------------ */

/* A liveness change of r the operating view handed back: a state record. */
static void hbc_source_change(struct hbc_collector *c, struct hbc_source *r, msgpack_packer *pk,
			    const struct hbc_live_change *ch)
{
	hbc_enc_state(pk, r->p, hbc_now_ns(), hb_state_name(ch->to), ch->why, NULL);
	hbc_source_mark(c, r);
	hbc_debug("%s: %s (%s)", r->id.name, hb_state_name(ch->to), ch->why);
}

static void hbc_feed_attached(struct hbc_collector *c, struct hbc_source *r)
{
	if (c->ops && r->v.hdr)
		hbc_ops_attach(c->ops, r->p, r->v.hdr, hbc_now_ns());
}

/* A heartbeat of r is about to be encoded: liveness (a change is written
 * first) and a process sample. Returns the heartbeat's extra elements (1
 * when the sample goes with it, packed by hbc_feed_heartbeat_pack). */
static unsigned hbc_feed_heartbeat(struct hbc_collector *c, struct hbc_source *r,
				   msgpack_packer *pk, const struct hb_rec_hb *b, const void *slots)
{
	uint64_t vals[HB_MAX_METRICS * 3];
	struct hbc_live_change ch;
	uint32_t n = b->nmetrics > HB_MAX_METRICS ? 0 : b->nmetrics;

	if (!c->ops)
		return 0;
	memcpy(vals, slots, (size_t)n * 24);
	if (hbc_ops_heartbeat(c->ops, r->p, b->rt_ns, b->interval_ns, hbc_now_ns(), vals, n, &ch))
		hbc_source_change(c, r, pk, &ch);
	return hbc_ops_has_proc(c->ops, r->p) ? 1 : 0;
}

static void hbc_feed_heartbeat_pack(struct hbc_collector *c, struct hbc_source *r,
				    msgpack_packer *pk)
{
	hbc_ops_pack_proc(c->ops, r->p, pk);
}

/* n records of r were persisted (queued for writing). */
static void hbc_feed_records(struct hbc_collector *c, struct hbc_source *r, uint64_t n)
{
	if (c->ops && n)
		hbc_ops_records(c->ops, r->p, n);
}

/* r ended in a final state (exited, crashed, quarantined), its state
 * record already in pk. */
static void hbc_feed_finished(struct hbc_collector *c, struct hbc_source *r, enum hb_state final,
			      msgpack_packer *pk)
{
	if (c->ops)
		hbc_ops_detach(c->ops, r->p, final, pk, hbc_now_ns());
}

/* Periodic liveness of r: every change the operating view finds is
 * written. */
static void hbc_feed_age(struct hbc_collector *c, struct hbc_source *r, uint64_t now_ns)
{
	struct hbc_live_obs obs = {.pid_alive = !r->gone};
	struct hbc_live_change ch;
	msgpack_packer *pk;

	/* A5 (hbc_source_at_head) reads the same store: a ring marked closed is
	 * exiting, its backlog draining; the drain writes exited at its end */
	if (!c->ops || atomic_load_explicit(&r->v.hdr->state, memory_order_acquire) == HB_RING_CLOSED)
		return;
	obs.hb_attempt_ns = atomic_load_explicit(&r->v.hdr->last_hb_ns, memory_order_relaxed);
	while ((pk = hbc_pk(c)) && hbc_ops_check(c->ops, r->p, &obs, now_ns, &ch))
		hbc_source_change(c, r, pk, &ch);
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

void hbc_source_free(struct hbc_source *r)
{
	if (r->v.hdr)
		hb_ring_view_detach(&r->v);
	if (r->pidfd >= 0)
		close(r->pidfd);
	free(r);
}

/* ---- attach ------------------------------------------------------------ */

static struct hbc_source *hbc_source_find(struct hbc_collector *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nsources; i++)
		if (!strcmp(c->sources[i]->name, name))
			return c->sources[i];
	return NULL;
}

static int hbc_source_add(struct hbc_collector *c, const char *name)
{
	struct hbc_source *r;

	if (c->nsources == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct hbc_source **nr = realloc(c->sources, cap * sizeof(*nr));

		if (!nr)
			return -ENOMEM;
		c->sources = nr;
		c->cap = cap;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->pidfd = -1;
	r->state = HBC_SRC_PENDING;
	r->seen_mono = hbc_mono_ns();
	c->sources[c->nsources++] = r;
	return 0;
}

static void hbc_source_ident(struct hbc_source *r)
{
	const struct hb_ring_hdr *h = r->v.hdr;

	hbc_strcpy_shared(r->id.name, h->name, sizeof(h->name));
	hbc_strcpy_shared(r->id.host, h->host, sizeof(h->host));
	hbc_strcpy_shared(r->id.thread, h->thread, sizeof(h->thread));
	snprintf(r->id.ring, sizeof(r->id.ring), "%s", r->name);
	r->id.pid = h->pid;
	r->id.tid = h->tid;
	r->id.start_ns = h->start_ns;
	r->id.interval_ns = h->interval_ns ? h->interval_ns : 1000000000ull;
	r->proc_start = h->proc_start;
	r->hz = (h->flags & HB_RING_F_TSC) ? h->tsc_hz : 1000000000ull;
	if (r->hz < 1000 || r->hz > 1000000000000ull)
		r->hz = 1000000000ull;
	r->ns_mult = r->hz > 1000000000u
		     ? (uint64_t)(((unsigned __int128)1000000000u << 64) / r->hz) : 0;
	r->anchor_raw = h->start_tsc;
	r->anchor_ns = h->start_ns;
}

/* Where this ring's history starts: what an earlier run persisted, else
 * what the ring itself says was persisted, else its first record. */
static void hbc_source_expect(struct hbc_collector *c, struct hbc_source *r)
{
	uint64_t learned = hbc_learned_get(&c->learned, r->name, r->id.start_ns);
	uint64_t persisted = atomic_load_explicit(&r->v.hdr->persisted_seq, memory_order_relaxed);

	r->expected = 0;
	if (learned)
		r->expected = learned;
	else if (r->v.tail && persisted)
		r->expected = persisted;
	else if (r->v.tail)
		r->expect_any = 1;
}

static uint32_t hbc_load_count(_Atomic uint32_t *n, uint32_t max)
{
	/* A3/A4: pair with R3/R4 in hb_type_register/hb_metric_register: the
	 * definitions below the count are complete. */
	uint32_t v = atomic_load_explicit(n, memory_order_acquire);

	return v > max ? max : v;
}

static void hbc_source_kinds(struct hbc_source *r, uint32_t from, uint32_t to)
{
	uint32_t i;

	for (i = from; i < to; i++) {
		uint32_t k = r->v.hdr->metric_defs[i].kind;

		r->kinds[i] = (uint8_t)(k >= HB_METRIC_COUNTER && k <= HB_METRIC_HEALTH ? k : 0);
	}
}

static void hbc_source_producer(struct hbc_collector *c, struct hbc_source *r, msgpack_packer *pk,
			      const char *why)
{
	uint32_t nt = hbc_load_count(&r->v.hdr->ntypes, HB_MAX_TYPES);
	uint32_t nm = hbc_load_count(&r->v.hdr->nmetrics, HB_MAX_METRICS);

	hbc_source_kinds(r, 0, nm);
	r->types_stated = nt;
	r->metrics_stated = nm;
	hbc_enc_producer(pk, why, r->p, hbc_now_ns(), &r->id, r->v.hdr, nt, nm, r->expected);
	hbc_source_mark(c, r);
}

int hbc_source_restate(struct hbc_collector *c, struct hbc_source *r)
{
	msgpack_packer *pk = hbc_pk_wait(c);

	if (!pk)
		return -ENOBUFS;
	hbc_source_producer(c, r, pk, "restated");
	return 0;
}

static void hbc_source_state(struct hbc_collector *c, struct hbc_source *r, msgpack_packer *pk,
			   enum hb_state state, const char *why)
{
	if (!r->p)
		r->p = ++c->next_p;
	hbc_enc_state(pk, r->p, hbc_now_ns(), hb_state_name(state), why,
		      r->state == HBC_SRC_QUARANTINED ? r->name : NULL);
	hbc_source_mark(c, r);
}

/* The shm object's stat; 0 or -errno. */
static int hbc_source_stat(const struct hbc_collector *c, const struct hbc_source *r, struct stat *st)
{
	char path[sizeof(r->name) + 300];

	snprintf(path, sizeof(path), "%s/%s", c->o.shm_dir, r->name);
	return stat(path, st) < 0 ? -errno : 0;
}

/* The pid in a ring name as producers make them, "hb.BUS.NAME.PID.N";
 * 0 when there is none. */
static uint32_t hbc_name_pid(const char *name)
{
	const char *n = strrchr(name, '.'), *p;
	unsigned long v;
	char *end;

	if (!n || n == name || !n[1] || strspn(n + 1, "0123456789") != strlen(n + 1))
		return 0;
	for (p = n - 1; p > name && *p != '.'; p--)
		;
	if (*p != '.' || p + 1 == n || strspn(p + 1, "0123456789") != (size_t)(n - p - 1))
		return 0;
	v = strtoul(p + 1, &end, 10);
	return v && v <= 0x3fffffff ? (uint32_t)v : 0;
}

/* r stays known but unread: a file the collector may not open or remove
 * is not attached again while it is there (hbc_sources_tidy forgets it once
 * the file goes or is replaced). */
static void hbc_source_leave(struct hbc_collector *c, struct hbc_source *r)
{
	struct stat st;

	if (r->v.hdr)
		hb_ring_view_detach(&r->v);
	if (r->pidfd >= 0)
		close(r->pidfd);
	r->pidfd = -1;
	r->unlink_done = 0; /* what is there later may be someone else's */
	r->ino = hbc_source_stat(c, r, &st) == 0 ? st.st_ino : 0;
	r->state = HBC_SRC_LEFT;
}

static void hbc_source_quarantine(struct hbc_collector *c, struct hbc_source *r, msgpack_packer *pk,
				const char *why)
{
	hbc_warn("%s: quarantined: %s", r->name, why);
	r->state = HBC_SRC_QUARANTINED;
	r->qpid = r->v.hdr && r->id.pid ? r->id.pid : hbc_name_pid(r->name);
	if (r->v.hdr && r->p) {
		uint64_t last = atomic_load_explicit(&r->v.hdr->seq, memory_order_relaxed);

		if (last > r->expected && last - r->expected < HBC_SEQ_SANE)
			hbc_enc_gap(pk, r->p, hbc_now_ns(), r->expected, last - 1, "corrupt");
	}
	hbc_source_state(c, r, pk, HB_STATE_QUARANTINED, why);
	hbc_feed_finished(c, r, HB_STATE_QUARANTINED, pk);
}

/* -EPERM when the shm object belongs to another user than ours. */
static int hbc_source_owner(struct hbc_collector *c, struct hbc_source *r)
{
	struct stat st;

	if (hbc_source_stat(c, r, &st) < 0)
		return 0; /* gone or unreadable: attach will tell */
	return st.st_uid == geteuid() ? 0 : -EPERM;
}

static int hbc_source_attach(struct hbc_collector *c, struct hbc_source *r)
{
	msgpack_packer *pk = hbc_pk(c);
	int rc;

	if (!pk)
		return -ENOBUFS; /* try again next pass */
	if (!c->o.accept_uid && (rc = hbc_source_owner(c, r)) != 0) {
		hbc_source_quarantine(c, r, pk, "owned by another user");
		return rc;
	}
	rc = hb_ring_view_attach(&r->v, r->name);
	if (rc == -EPROTO || rc == -EINVAL) {
		/* maybe not published yet (magic is stored last, R0) */
		if (hbc_mono_ns() - r->seen_mono < HBC_PENDING_NS)
			return rc;
		hbc_source_quarantine(c, r, pk, rc == -EPROTO ? "bad magic" : "bad header");
		return rc;
	}
	if (rc == -ENOENT) {
		r->state = HBC_SRC_DONE; /* forget it (reaped below) */
		return rc;
	}
	if (rc == -EACCES || rc == -EPERM) {
		hbc_warn("%s: %s; ignored", r->name, strerror(-rc));
		hbc_source_leave(c, r); /* once, not at every rescan */
		return rc;
	}
	if (rc) {
		hbc_source_quarantine(c, r, pk, strerror(-rc));
		return rc;
	}
	hbc_source_ident(r);
	/* the collector's host, not the producer's: --host may stand for another */
	snprintf(r->id.host, sizeof(r->id.host), "%s", c->host);
	if (hb_name_check(r->id.name, HB_NAME_MAX)) {
		hbc_source_quarantine(c, r, pk, "invalid producer name");
		return -EINVAL;
	}
	hbc_source_expect(c, r);
	hbc_source_pidfd(r);
	atomic_store_explicit(&r->v.hdr->collector_pid, c->pid, memory_order_relaxed);
	r->p = ++c->next_p;
	r->state = HBC_SRC_ACTIVE;
	hbc_source_producer(c, r, pk, "attached");
	hbc_feed_attached(c, r);
	hbc_debug("attached %s as p=%u (next seq %llu)", r->name, r->p,
		  (unsigned long long)r->expected);
	return 0;
}

void hbc_found(void *ctx, const char *name)
{
	struct hbc_collector *c = ctx;
	struct hbc_source *r = hbc_source_find(c, name);
	struct stat st;

	if (r && r->state == HBC_SRC_LEFT && hbc_source_stat(c, r, &st) == 0 && st.st_ino != r->ino)
		r->state = HBC_SRC_DONE; /* a new file of that name: reaped, then found anew */
	if (r)
		return;
	if (hbc_source_add(c, name))
		return;
	r = c->sources[c->nsources - 1];
	hbc_source_attach(c, r);
}

void hbc_pending_retry(struct hbc_collector *c)
{
	size_t i;

	for (i = 0; i < c->nsources; i++)
		if (c->sources[i]->state == HBC_SRC_PENDING)
			hbc_source_attach(c, c->sources[i]);
}

/* ---- records ------------------------------------------------------------ */

/* floor(d * 1e9 / hz) without a division when hz > 1e9 (a TSC): ns_mult
 * is floor(2^64 * 1e9 / hz), so the product's high half is the exact
 * result or one less, and one multiplication tells which. */
static uint64_t hbc_source_ticks_ns(const struct hbc_source *r, uint64_t d)
{
	unsigned __int128 x;
	uint64_t q;

	x = (unsigned __int128)d * 1000000000u;
	if (r->ns_mult) { /* the usual case, a TSC */
		q = (uint64_t)(((unsigned __int128)d * r->ns_mult) >> 64);
		if ((unsigned __int128)(q + 1) * r->hz <= x)
			q++;
		return q;
	}
	if (r->hz == 1000000000u)
		return d;
	return x / r->hz > UINT64_MAX ? UINT64_MAX : (uint64_t)(x / r->hz);
}

static uint64_t hbc_source_ns(const struct hbc_source *r, uint64_t raw)
{
	uint64_t d;

	if (raw >= r->anchor_raw) {
		d = hbc_source_ticks_ns(r, raw - r->anchor_raw);
		return d > UINT64_MAX - r->anchor_ns ? UINT64_MAX : r->anchor_ns + d;
	}
	d = hbc_source_ticks_ns(r, r->anchor_raw - raw);
	return d > r->anchor_ns ? 0 : r->anchor_ns - d;
}

static void hbc_source_gap(struct hbc_collector *c, struct hbc_source *r, msgpack_packer *pk,
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

/* Whether an event of n fields with tags word tw is as its type t
 * declares: as many fields, the same tags. The event's tags are validated
 * (known, dense: nothing above byte n), so its n bounds the compare and
 * the type's own count, which the producer may have got wrong, is only
 * compared with it. */
static int hbc_fields_declared(const struct hb_type_def *t, uint64_t tw, unsigned n)
{
	return t->nfields == n && tw == hbc_tags_word(t->tags, n);
}

/* rec: a validated event copy (hb_ring_view_copy). */
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

/* rec: the validated copy of an event (hb_ring_view_copy). */
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
	struct hb_rec_hb b;
	unsigned extra;

	memcpy(&b, rec + 1, sizeof(b));
	if (b.nmetrics > HB_MAX_METRICS)
		b.nmetrics = 0; /* hb_rec_check refused this; belt and braces */
	r->anchor_raw = rec->ts; /* heartbeats carry a fresh (raw, realtime) pair */
	r->anchor_ns = b.rt_ns;
	if (b.nmetrics > r->metrics_stated)
		hbc_state_metrics(r, pk, b.nmetrics);
	extra = hbc_feed_heartbeat(c, r, pk, &b, slots);
	hbc_enc_heartbeat(pk, r->p, rec, b.rt_ns, &b, slots, r->kinds, extra);
	if (extra)
		hbc_feed_heartbeat_pack(c, r, pk);
}

/* rec: the validated copy of a record (hb_ring_view_copy), ours alone. */
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

/* ---- end of a ring -------------------------------------------------------- */

/* The ring is drained to a head that will not move: trailing gap, final
 * state, and removal once both are written. */
static void hbc_source_finish(struct hbc_collector *c, struct hbc_source *r, msgpack_packer *pk,
			    enum hb_state state, const char *why)
{
	uint64_t last = atomic_load_explicit(&r->v.hdr->seq, memory_order_relaxed);

	if (last > r->expected && last - r->expected < HBC_SEQ_SANE) {
		hbc_source_gap(c, r, pk, r->expected, last - 1, "overflow");
		r->expected = last;
	}
	hbc_source_state(c, r, pk, state, why);
	hbc_feed_finished(c, r, state, pk);
	r->state = HBC_SRC_DONE;
	r->unlink_done = 1;
	hbc_info("%s: %s (%s), %llu records", r->name, hb_state_name(state), why,
		 (unsigned long long)r->expected);
}

/* 1 when nothing is left to read (a trailing pad is skipped). */
static int hbc_source_empty(struct hbc_source *r)
{
	const struct hb_rec *rec;
	uint64_t at = r->v.cursor;

	if (hb_ring_view_next(&r->v, &rec) == 0)
		return 1;
	r->v.cursor = at; /* a record (or damage): the drain loop takes it */
	return 0;
}

static void hbc_source_at_head(struct hbc_collector *c, struct hbc_source *r, msgpack_packer *pk)
{
	/* A5: pairs with the release store of HB_RING_CLOSED in hb_close: every
	 * record was published before it, so one more look sees them all. */
	if (atomic_load_explicit(&r->v.hdr->state, memory_order_acquire) == HB_RING_CLOSED) {
		if (hbc_source_empty(r))
			hbc_source_finish(c, r, pk, HB_STATE_EXITED, "closed");
		return;
	}
	if (r->gone && hbc_source_empty(r))
		hbc_source_finish(c, r, pk, HB_STATE_CRASHED, "pid-gone");
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

/* Every record is read from the ring once, into a local copy that is
 * validated (hb_ring_view_copy): a producer may rewrite a record after
 * publishing it (a bug or hostility), so encoding works only on the copy,
 * straight from its bytes. The mark ("r is written up to its
 * cursor") goes into a buffer before the drain moves to another buffer
 * and at the end; records are counted for the operating view likewise. */
int hbc_source_drain(struct hbc_collector *c, struct hbc_source *r, unsigned budget)
{
	uint64_t copy[HB_REC_COPY_MAX / 8];
	uint64_t records0 = c->records;
	const struct hb_rec *rec;
	msgpack_packer *pk = NULL;
	unsigned n = 0, marked = 0;
	size_t lim = 0;
	int rc = 0;

	while (r->state == HBC_SRC_ACTIVE) {
		uint64_t at = r->v.cursor;

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
		rc = hb_ring_view_copy(&r->v, copy, sizeof(copy), &rec);
		if (rc == 0) {
			hbc_feed_records(c, r, c->records - records0);
			records0 = c->records;
			hbc_source_at_head(c, r, pk);
			break;
		}
		if (rc < 0 || hbc_source_record(c, r, pk, rec) < 0) {
			r->v.cursor = at; /* everything from here on is abandoned */
			hbc_feed_records(c, r, c->records - records0);
			records0 = c->records;
			hbc_source_quarantine(c, r, pk,
					    r->truncated ? "ring truncated" : "corrupt record");
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

/* ---- liveness ------------------------------------------------------------- */

static int hbc_pid_ok(uint32_t pid)
{
	return pid >= 1 && pid <= 0x3fffffff; /* never 0 or negative for kill() */
}

/* 1 when the pid now runs a process other than the ring's (or none). */
static int hbc_pid_reused(const struct hbc_source *r)
{
	char buf[1024];
	const char *start;
	ssize_t n;

	if (!r->proc_start)
		return 0;
	n = hbs_proc_stat_read(r->id.pid, buf, sizeof(buf));
	if (n <= 0)
		return n == -ENOENT;
	start = hbs_proc_stat_field(buf, HBS_STAT_START);
	if (!start || *start < '0' || *start > '9')
		return 0;
	return strtoull(start, NULL, 10) != r->proc_start;
}

static int hbc_pid_gone(const struct hbc_source *r, int check_start)
{
	if (!hbc_pid_ok(r->id.pid))
		return 0;
	if (r->pidfd < 0 && kill((pid_t)r->id.pid, 0) < 0 && errno == ESRCH)
		return 1;
	return check_start && hbc_pid_reused(r);
}

/* At attach: a pidfd makes later checks one poll() for every ring, and
 * cannot be fooled by pid reuse. */
static void hbc_source_pidfd(struct hbc_source *r)
{
	long fd;

	if (!hbc_pid_ok(r->id.pid))
		return;
	fd = syscall(SYS_pidfd_open, (pid_t)r->id.pid, 0);
	if (fd < 0) {
		if (errno == ESRCH)
			r->gone = 1;
		return;
	}
	r->pidfd = (int)fd;
	if (hbc_pid_reused(r))
		r->gone = 1;
}

static void hbc_pidfds_poll(struct hbc_collector *c)
{
	size_t i, n = 0;

	if (c->npfds < c->nsources) {
		struct pollfd *p = realloc(c->pfds, c->nsources * sizeof(*p));

		if (!p)
			return;
		c->pfds = p;
		c->npfds = c->nsources;
	}
	for (i = 0; i < c->nsources; i++) {
		struct hbc_source *r = c->sources[i];

		if (r->state == HBC_SRC_ACTIVE && r->pidfd >= 0 && !r->gone)
			c->pfds[n++] = (struct pollfd){.fd = r->pidfd, .events = POLLIN};
	}
	if (!n || poll(c->pfds, n, 0) <= 0)
		return;
	for (i = 0; i < c->nsources; i++) {
		struct hbc_source *r = c->sources[i];
		size_t j;

		if (r->pidfd < 0 || r->gone)
			continue;
		for (j = 0; j < n; j++)
			if (c->pfds[j].fd == r->pidfd && c->pfds[j].revents)
				r->gone = 1;
	}
}

void hbc_liveness_check(struct hbc_collector *c, uint64_t now_mono)
{
	int check_start = now_mono >= c->next_pidstart_mono;
	uint64_t now_ns = hbc_now_ns();
	size_t i;

	if (check_start) {
		c->next_pidstart_mono = now_mono + 1000000000ull;
		hbc_sources_tidy(c);
	}
	hbc_pidfds_poll(c);
	for (i = 0; i < c->nsources; i++) {
		struct hbc_source *r = c->sources[i];

		if (r->state != HBC_SRC_ACTIVE)
			continue;
		/* without a pidfd: kill(pid, 0), and the start time once a second */
		if (!r->gone && r->pidfd < 0 && hbc_pid_gone(r, check_start))
			r->gone = 1;
		/* liveness proper (healthy, late, dead, missed heartbeats) is
		 * liveness.c's; a gone process is dead (pid-gone) */
		hbc_feed_age(c, r, now_ns);
	}
}

/* ---- rings shrunk under us ------------------------------------------------ */

static struct hbc_collector *hbc_sigbus_c;

/* A producer (or anyone who may write the shm object) can ftruncate a ring
 * while it is mapped: touching the lost pages raises SIGBUS. The handler
 * maps zeroed private memory over that ring's whole mapping and returns;
 * the access is retried on zeros, which fail validation, and the ring is
 * quarantined ("ring truncated"). A SIGBUS anywhere else is not ours: the
 * default action runs. mmap is a plain system call, safe in a handler. */
static void hbc_on_sigbus(int sig, siginfo_t *si, void *uc)
{
	struct hbc_collector *c = hbc_sigbus_c;
	uintptr_t a = (uintptr_t)si->si_addr;
	size_t i;

	(void)uc;
	for (i = 0; c && i < c->nsources; i++) {
		struct hbc_source *r = c->sources[i];
		uintptr_t base = (uintptr_t)r->v.hdr;

		if (!base || a - base >= r->v.map_size)
			continue;
		if (mmap(r->v.hdr, r->v.map_size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
			break;
		r->truncated = 1;
		return;
	}
	signal(sig, SIG_DFL);
}

void hbc_sigbus_install(struct hbc_collector *c)
{
	struct sigaction sa = {.sa_sigaction = hbc_on_sigbus, .sa_flags = SA_SIGINFO};

	sigemptyset(&sa.sa_mask);
	hbc_sigbus_c = c;
	sigaction(SIGBUS, &sa, NULL);
}

/* ---- completion ------------------------------------------------------------ */

void hbc_apply(void *ctx, struct hbc_wbuf *b)
{
	size_t i;

	(void)ctx;
	for (i = 0; i < b->nmarks; i++) {
		struct hbc_source *r = b->marks[i].src;

		if (!r->v.hdr)
			continue;
		hb_ring_view_release(&r->v, b->marks[i].upto);
		atomic_store_explicit(&r->v.hdr->persisted_seq, b->marks[i].seq_next,
				      memory_order_relaxed);
	}
}

uint64_t hbc_sources_backlog(const struct hbc_collector *c)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < c->nsources; i++) {
		const struct hbc_source *r = c->sources[i];

		if (r->v.hdr)
			sum += atomic_load_explicit(&r->v.hdr->head, memory_order_relaxed) - r->v.tail;
	}
	return sum;
}

/* Removes r's shm object: 0 (also when it is gone already) or -1 (errno). */
static int hbc_source_unlink(const struct hbc_source *r)
{
	char name[260];

	snprintf(name, sizeof(name), "/%s", r->name);
	return shm_unlink(name) < 0 && errno != ENOENT ? -1 : 0;
}

void hbc_sources_reap(struct hbc_collector *c)
{
	uint64_t applied = hbc_writer_applied(c->w);
	size_t i = 0;

	while (i < c->nsources) {
		struct hbc_source *r = c->sources[i];

		if ((r->state != HBC_SRC_DONE && r->state != HBC_SRC_QUARANTINED) ||
		    r->last_serial > applied) {
			i++;
			continue;
		}
		if (r->state == HBC_SRC_QUARANTINED) { /* keep its name: never attach again */
			if (r->v.hdr)
				hb_ring_view_detach(&r->v);
			i++;
			continue;
		}
		if (r->unlink_done && hbc_source_unlink(r) < 0) {
			hbc_warn("%s: cannot remove: %s; left there", r->name, strerror(errno));
			hbc_source_leave(c, r);
			i++;
			continue;
		}
		hbc_source_free(r);
		c->sources[i] = c->sources[--c->nsources];
	}
}

/* Once a second: quarantined rings whose process is gone are removed (their
 * state record is on file), and rings left there are forgotten once their
 * file went or was replaced, so that a new one is found. */
void hbc_sources_tidy(struct hbc_collector *c)
{
	uint64_t applied = hbc_writer_applied(c->w);
	struct stat st;
	size_t i = 0;

	while (i < c->nsources) {
		struct hbc_source *r = c->sources[i];
		int forget = 0;

		if (r->state == HBC_SRC_LEFT) {
			forget = hbc_source_stat(c, r, &st) < 0 || st.st_ino != r->ino;
		} else if (r->state == HBC_SRC_QUARANTINED && r->qpid && r->last_serial <= applied &&
			   kill((pid_t)r->qpid, 0) < 0 && errno == ESRCH) {
			forget = hbc_source_unlink(r) == 0;
			if (forget)
				hbc_info("%s: removed (quarantined, process %u gone)", r->name, r->qpid);
			else
				hbc_warn("%s: quarantined, process %u gone, cannot remove: %s", r->name,
					 r->qpid, strerror(errno));
			r->qpid = 0; /* tried once */
		}
		if (!forget) {
			i++;
			continue;
		}
		hbc_source_free(r);
		c->sources[i] = c->sources[--c->nsources];
	}
}
