/* SPDX-License-Identifier: MIT */
/*
 * ops.h - the collector's operating view: liveness, process and host
 * metrics, alert rules and the Prometheus endpoint, behind a few hook
 * functions the collector loop calls. Producers are keyed by their
 * producer number p (unique within a collector run).
 *
 * Records this module adds to the archive (docs/FORMAT.md 1.1) are packed
 * into the msgpack_packer the caller passes: `alert` and `host` bus
 * records, and element 8 of heartbeats. State changes are returned to the
 * caller, which writes them as `state` records like its own.
 */
#ifndef HB_BUS_OPS_H
#define HB_BUS_OPS_H

#include <msgpack.h>
#include <stdint.h>

#include "alerts.h"
#include "hb.h"
#include "liveness.h"
#include "prom.h"

struct hbc_ops;

struct hbc_ops_config {
	const char *bus;
	const char *dir;          /* archive directory (disk use) */
	const char *metrics_addr; /* NULL: no Prometheus endpoint */
	struct hbc_alerts alerts;  /* rules; moved into the module */
	uint64_t host_every_ns;   /* `host` record period; 0 = 10 s */
	/* how long a producer that ended crashed (or quarantined) stays on
	 * /metrics with its state and its state alerts firing; 0 = not at all */
	uint64_t keep_crashed_ns;
	/* Called as each `alert` and `host` record is packed into pk, with its
	 * time (the collector notes it in the file's time index); may be NULL. */
	void (*note)(msgpack_packer *pk, uint64_t ts_ns);
};

/* Parses "--alert RULE" / "--alert-file FILE" / "--metrics ADDR" style
 * options into cfg: returns 1 when opt was one of them (arg consumed),
 * 0 when not, -EINVAL with a message in err on a bad value. */
int hbc_ops_option(struct hbc_ops_config *cfg, const char *opt, const char *arg, char *err,
		  size_t errlen);

int hbc_ops_create(struct hbc_ops **out, struct hbc_ops_config *cfg, char *err, size_t errlen);
/* The bound metrics port, 0 when none. */
int hbc_ops_metrics_port(const struct hbc_ops *o);
void hbc_ops_destroy(struct hbc_ops *o);

/* A producer was attached; hdr stays valid until hbc_ops_detach. */
void hbc_ops_attach(struct hbc_ops *o, uint32_t p, const struct hb_ring_hdr *hdr, uint64_t now_ns);
/* A heartbeat of p (wall-clock hb_ns) is being persisted at now_ns; slots
 * are its nmetrics x 3 values. Samples the process; returns 1 and *ch on a
 * liveness change. */
int hbc_ops_heartbeat(struct hbc_ops *o, uint32_t p, uint64_t hb_ns, uint64_t interval_ns,
		     uint64_t now_ns, const uint64_t *slots, uint32_t nmetrics,
		     struct hbc_live_change *ch);
/* Packs heartbeat element 8 (process figures) for p; 0 when packed,
 * -ENOENT when p has no sample (pack nothing then). */
int hbc_ops_pack_proc(struct hbc_ops *o, uint32_t p, msgpack_packer *pk);
/* 1 when hbc_ops_pack_proc would pack something for p. */
int hbc_ops_has_proc(struct hbc_ops *o, uint32_t p);
/* n more records of p were persisted. */
void hbc_ops_records(struct hbc_ops *o, uint32_t p, uint64_t n);
/* Periodic liveness check of p (o: what the collector sees of it).
 * Returns 1 and *ch on a change: call again until it returns 0. */
int hbc_ops_check(struct hbc_ops *o, uint32_t p, const struct hbc_live_obs *obs, uint64_t now_ns,
		 struct hbc_live_change *ch);
/* p ended with final state `final` (exited, crashed, quarantined). Exited:
 * its alerts clear into pk (may be NULL) and p is forgotten. Otherwise p
 * stays, in that state, for keep_crashed_ns: counted in
 * hb_producer_crashes_total when crashed, its state alerts firing, hdr no
 * longer read. */
void hbc_ops_detach(struct hbc_ops *o, uint32_t p, enum hb_state final, msgpack_packer *pk,
		   uint64_t now_ns);
/* Periodic work: evaluates alert rules (records into pk), forgets
 * producers kept past keep_crashed_ns (their alerts clear, why "gone"),
 * writes a `host`
 * record when due, publishes the Prometheus snapshot (cs->start_ns 0: the
 * time hbc_ops_create ran). pk may be NULL (no
 * room now): records are then left for the next call. */
void hbc_ops_tick(struct hbc_ops *o, uint64_t now_ns, const struct hbc_prom_collector *cs,
		 msgpack_packer *pk);

#endif
