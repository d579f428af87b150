/* SPDX-License-Identifier: MIT */
/*
 * ops_hooks.h - where hbcollect calls into the operating view (ops.h):
 * one hook per event of the collector loop. Private to hbcollect.
 */
#ifndef HB_BUS_OPS_HOOKS_H
#define HB_BUS_OPS_HOOKS_H

#include "collector.h"

/* Creation (options in c->o.ops) and teardown. 0 or -errno (logged). */
int hbc_ops_create(struct hbc_collector *c);
void hbc_ops_destroy(struct hbc_collector *c);
/* r was attached (it has its p). */
void hbc_ops_attached(struct hbc_collector *c, struct hbc_ring *r);
/* A heartbeat of r is about to be encoded: feeds liveness (a state change
 * is written first) and samples the process. Returns the number of extra
 * heartbeat elements hbc_ops_heartbeat_pack will add (0 or 1). */
unsigned hbc_ops_heartbeat(struct hbc_collector *c, struct hbc_ring *r, msgpack_packer *pk,
			   const struct hb_rec_hb *b, const void *slots);
void hbc_ops_heartbeat_pack(struct hbc_collector *c, struct hbc_ring *r, msgpack_packer *pk);
/* n records of r were persisted (queued for writing). */
void hbc_ops_records(struct hbc_collector *c, struct hbc_ring *r, uint64_t n);
/* Periodic liveness of r: writes every state change. */
void hbc_ops_live(struct hbc_collector *c, struct hbc_ring *r, uint64_t now_ns);
/* r is finished with a final state (exited, crashed, quarantined); its
 * state record is already in pk. */
void hbc_ops_finished(struct hbc_collector *c, struct hbc_ring *r, enum hb_state final,
		      msgpack_packer *pk);
/* Periodic: alerts, host record, /metrics snapshot. */
void hbc_ops_tick(struct hbc_collector *c);

#endif
