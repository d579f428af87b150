/* SPDX-License-Identifier: MIT */
/* ops_hooks.c - hbcollect's calls into the operating view (ops_hooks.h). */
#include "ops_hooks.h"

#include <errno.h>
#include <string.h>

int hbc_ops_create(struct hbc_collector *c)
{
	char err[256] = "";
	int rc;

	c->o.ops.bus = c->o.bus;
	c->o.ops.dir = c->o.dir;
	c->o.ops.note = hbc_pack_note;
	rc = hb_ops_create(&c->ops, &c->o.ops, err, sizeof(err));
	if (rc) {
		hbc_warn("--metrics %s", err);
		return rc;
	}
	if (c->o.ops.metrics_addr)
		hbc_info("metrics on %s (port %d)", c->o.ops.metrics_addr,
			 hb_ops_metrics_port(c->ops));
	return 0;
}

void hbc_ops_destroy(struct hbc_collector *c)
{
	hb_ops_destroy(c->ops);
	c->ops = NULL;
}

void hbc_ops_attached(struct hbc_collector *c, struct hbc_ring *r)
{
	if (c->ops && r->v.hdr)
		hb_ops_attach(c->ops, r->p, r->v.hdr, hbc_now_ns());
}

static void hbc_ops_state(struct hbc_collector *c, struct hbc_ring *r, msgpack_packer *pk,
			  const struct hb_live_change *ch)
{
	hbc_enc_state(pk, r->p, hbc_now_ns(), hb_state_name(ch->to), ch->why, NULL);
	hbc_ring_mark(c, r);
	hbc_debug("%s: %s (%s)", r->id.name, hb_state_name(ch->to), ch->why);
}

unsigned hbc_ops_heartbeat(struct hbc_collector *c, struct hbc_ring *r, msgpack_packer *pk,
			   const struct hb_rec_hb *b, const void *slots)
{
	uint64_t vals[HB_MAX_METRICS * 3];
	struct hb_live_change ch;
	uint32_t n = b->nmetrics > HB_MAX_METRICS ? 0 : b->nmetrics;

	if (!c->ops)
		return 0;
	memcpy(vals, slots, (size_t)n * 24);
	if (hb_ops_heartbeat(c->ops, r->p, b->rt_ns, b->interval_ns, hbc_now_ns(), vals, n, &ch))
		hbc_ops_state(c, r, pk, &ch);
	return hb_ops_has_proc(c->ops, r->p) ? 1 : 0;
}

void hbc_ops_heartbeat_pack(struct hbc_collector *c, struct hbc_ring *r, msgpack_packer *pk)
{
	hb_ops_pack_proc(c->ops, r->p, pk);
}

void hbc_ops_records(struct hbc_collector *c, struct hbc_ring *r, uint64_t n)
{
	if (c->ops && n)
		hb_ops_records(c->ops, r->p, n);
}

void hbc_ops_live(struct hbc_collector *c, struct hbc_ring *r, uint64_t now_ns)
{
	struct hb_live_obs obs = {.pid_alive = !r->gone};
	struct hb_live_change ch;
	msgpack_packer *pk;

	/* A5 (drain.c) reads the same store: a ring marked closed is
	 * exiting, its backlog draining; the drain writes exited at its end */
	if (!c->ops || atomic_load_explicit(&r->v.hdr->state, memory_order_acquire) == HB_RING_CLOSED)
		return;
	obs.hb_attempt_ns = atomic_load_explicit(&r->v.hdr->last_hb_ns, memory_order_relaxed);
	while ((pk = hbc_pk(c)) && hb_ops_check(c->ops, r->p, &obs, now_ns, &ch))
		hbc_ops_state(c, r, pk, &ch);
}

void hbc_ops_finished(struct hbc_collector *c, struct hbc_ring *r, enum hb_state final,
		      msgpack_packer *pk)
{
	if (c->ops)
		hb_ops_detach(c->ops, r->p, final, pk, hbc_now_ns());
}

void hbc_ops_tick(struct hbc_collector *c)
{
	const struct hbc_writer_stats *st = hbc_writer_stats(c->w);
	struct hb_prom_collector cs = {
		.records = c->records, .bytes = st->bytes,
		.writes = st->writes, .write_ns_sum = st->lat_sum_ns, .write_ns_max = st->lat_max_ns,
		.backlog_bytes = hbc_rings_backlog(c), .files = c->file_seq,
		.write_failing = hbc_writer_failing(c->w)};

	if (c->ops)
		hb_ops_tick(c->ops, hbc_now_ns(), &cs, hbc_pk(c));
}
