/* SPDX-License-Identifier: MIT */
/*
 * hb_int.h - libhb's internals shared by hb.c (one ring: open, register,
 * heartbeat, close) and hb_thread.c (the process-wide handle: a ring per
 * thread, thread exit, fork).
 */
#ifndef HB_INT_H
#define HB_INT_H
#include "hb.h"

void hb__config_resolve(struct hb_config *c, const struct hb_config *in);
/* Checks what hb_open checks before making anything. 0 or -EINVAL. */
int hb__config_check(const struct hb_config *c);
/* Makes a ring in shm for c and attaches p (caller's memory) to it. */
/* 0 when this process can make shm objects for c, else -errno. */
int hb__shm_probe(const struct hb_config *c);
int hb__ring_create(struct hb_producer *p, const struct hb_config *c);
/* Final heartbeat (status stopping; a thread's ring: written before by the
 * caller), state closed, unmap; p's memory stays. */
void hb__ring_close(struct hb_producer *p);
/* Adds a type or metric to p's own table (p->hdr); id or -errno. */
int hb__type_add(struct hb_producer *p, const char *name, const struct hb_field *fields,
		 unsigned nfields);
int hb__metric_add(struct hb_producer *p, const char *name, enum hb_metric_kind kind);
/* Writes a heartbeat into ring p with the metric values vals (3 per
 * metric, nm metrics). */
int hb__heartbeat_write(struct hb_producer *p, const uint64_t *vals, uint32_t nm);

/* hb_thread.c: the process-wide handle */
int hb__proc_open(struct hb_producer **out, const struct hb_config *c);
void hb__proc_close(struct hb_producer *p);
int hb__proc_type_register(struct hb_producer *p, const char *name, const struct hb_field *fields,
			   unsigned nfields);
int hb__proc_metric_register(struct hb_producer *p, const char *name, enum hb_metric_kind kind);
/* Heartbeat of a thread's ring w, with the process's metric totals (takes
 * the handles' lock). */
int hb__proc_heartbeat(struct hb_producer *w);
/* Registers a single-thread handle from hb_open, so that a forked child
 * disables its copy; unregister before freeing it. */
void hb__single_track(struct hb_producer *p, int add);

#endif /* HB_INT_H */
