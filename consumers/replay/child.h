/* SPDX-License-Identifier: MIT */
/*
 * child.h - hbreplay's replayed producers, each in a process of its own.
 *
 * A replayed producer's ring belongs to a child process (fork) that opens
 * it, so the collector sees each one live, exit or die on its own, as the
 * original did: hbreplay reads, merges and paces the records, and sends
 * what each producer does to its child through a pipe, in order (tables,
 * events, heartbeats). The child publishes each message as it arrives;
 * at the end of the messages (the pipe closed) or on a last heartbeat
 * (status stopping) it closes its ring, the collector records it exited;
 * on a crash message it kills itself (SIGKILL) with the ring open, the
 * collector records it dead, then crashed, as it did the original.
 *
 * Messages are buffered in the parent and written by hbr_child_flush
 * (and when a buffer fills): hbreplay flushes before it sleeps and after
 * every few records it reads. Calls return 0 or a negative errno; -EPIPE
 * when the child is gone, -EINTR when a signal interrupted a write.
 */
#ifndef HBR_CHILD_H
#define HBR_CHILD_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hb.h"

struct hbr_child {
	pid_t pid;                 /* 0: none running */
	int fd;                    /* write end of its pipe, -1 when none */
	unsigned ntypes, nmetrics; /* tables sent so far */
	char *out;                 /* messages not written yet */
	size_t len, cap;
};

/* Call once, before the first hbr_child_start: reaps children as they end
 * (a killed one must not linger as a zombie the collector takes for alive). */
void hbr_children_init(void);
/* Forks a child that opens a producer with cfg (its strings must stay valid
 * until then: the child has a copy of the caller's memory). */
int hbr_child_start(struct hbr_child *c, const struct hb_config *cfg);
int hbr_child_type(struct hbr_child *c, const char *name, const struct hb_field *f,
		   unsigned nfields);
int hbr_child_metric(struct hbr_child *c, const char *name, enum hb_metric_kind kind);
int hbr_child_event(struct hbr_child *c, unsigned type, unsigned prio, uint64_t req,
		    const struct hb_val *vals, unsigned nvals);
/* A heartbeat with these metric slots (nmetrics x a, b, c) and status; with
 * HB_STATUS_STOPPING its last: the child closes its ring and ends (as
 * hbr_child_end). */
int hbr_child_beat(struct hbr_child *c, enum hb_status status, const uint64_t *metrics,
		   unsigned nmetrics);
/* The original's process died here: the child publishes what it was sent,
 * then dies by SIGKILL without closing its ring. */
int hbr_child_crash(struct hbr_child *c);
/* No more messages: the child publishes what it was sent, closes its ring
 * and exits. */
int hbr_child_end(struct hbr_child *c);
int hbr_child_flush(struct hbr_child *c);
/* Asks every child still running to close its ring now (SIGTERM). */
void hbr_children_stop(void);
/* Waits until every child has ended (passing a stop on to them once *stop
 * is set); 1 when one failed (exited non-zero or died of a signal other
 * than its crash), else 0. */
int hbr_children_wait(volatile sig_atomic_t *stop);

#endif
