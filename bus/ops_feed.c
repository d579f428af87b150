/* SPDX-License-Identifier: MIT */
/*
 * ops_feed.c - what the operating view (ops.c: liveness, process figures,
 * alerts, /metrics) is fed from the record's way: a source attached, the
 * values of each heartbeat, records persisted, a final state. It gets
 * values and hands back liveness changes, which the caller writes as its
 * own state records; nothing here writes into the archive or calls back
 * into the drain. Every hbc_feed_* is a no-op without an operating view.
 */
#include "collector.h"

#include <string.h>

void hbc_feed_attached(struct hbc_collector *c, struct hbc_source *r)
{
	if (c->ops && r->v.hdr)
		hbc_ops_attach(c->ops, r->p, r->v.hdr, hbc_now_ns());
}

/* A heartbeat of r (b, and its nmetrics x 3 slots) is about to be encoded:
 * liveness and a process sample. 1 and *ch when liveness changed. */
int hbc_feed_heartbeat(struct hbc_collector *c, struct hbc_source *r, const struct hb_rec_hb *b,
		       const void *slots, struct hbc_live_change *ch)
{
	uint64_t vals[HB_MAX_METRICS * 3];
	uint32_t n = b->nmetrics > HB_MAX_METRICS ? 0 : b->nmetrics;

	if (!c->ops)
		return 0;
	memcpy(vals, slots, (size_t)n * 24);
	return hbc_ops_heartbeat(c->ops, r->p, b->rt_ns, b->interval_ns, hbc_now_ns(), vals, n, ch);
}

/* The heartbeat's extra elements: 1 when a process sample goes with it
 * (packed by hbc_feed_heartbeat_pack), else 0. */
unsigned hbc_feed_extra(struct hbc_collector *c, struct hbc_source *r)
{
	return c->ops && hbc_ops_has_proc(c->ops, r->p) ? 1 : 0;
}

void hbc_feed_heartbeat_pack(struct hbc_collector *c, struct hbc_source *r,
				    msgpack_packer *pk)
{
	hbc_ops_pack_proc(c->ops, r->p, pk);
}

/* n records of r were persisted (queued for writing). */
void hbc_feed_records(struct hbc_collector *c, struct hbc_source *r, uint64_t n)
{
	if (c->ops && n)
		hbc_ops_records(c->ops, r->p, n);
}

/* r ended in a final state (exited, crashed, quarantined), its state
 * record already in pk. */
void hbc_feed_finished(struct hbc_collector *c, struct hbc_source *r, enum hb_state final,
			      msgpack_packer *pk)
{
	if (c->ops)
		hbc_ops_detach(c->ops, r->p, final, pk, hbc_now_ns());
}
