/* SPDX-License-Identifier: MIT */
/*
 * collector.h - state shared by the collector loop (collector.c) and the
 * per-source code (source.c, drain.c, pidwatch.c, ops_feed.c). Private to
 * hbcollect.
 */
#ifndef HB_BUS_COLLECTOR_H
#define HB_BUS_COLLECTOR_H

#include "hbc.h"

#include <signal.h>
#include <poll.h>

enum hbc_source_state {
	HBC_SRC_PENDING = 1, /* seen, header not published yet */
	HBC_SRC_ACTIVE,      /* attached and drained */
	HBC_SRC_DONE,        /* closed or crashed, final records queued */
	HBC_SRC_QUARANTINED, /* failed validation: ignored from now on */
	HBC_SRC_LEFT,        /* finished or refused but not removable: unmapped,
			    * ignored while the same file (inode) is there */
};

enum hbc_live {
	HBC_LIVE_HEALTHY = 0,
	HBC_LIVE_LATE,
	HBC_LIVE_DEAD,
};

/* No tags word of a valid event: every byte an unknown tag. */
#define HBC_TW_NONE (~0ull)

/* A ring is taken up no sooner than this after the collector first saw its
 * name: its producer registers its types and metrics right after making
 * it, and the producer record names them only if they are there. */
#define HBC_ATTACH_GRACE_NS 2000000ull

struct hbc_source {
	char name[256];
	enum hbc_source_state state;
	struct hb_ring_view v; /* v.hdr != NULL while mapped */
	uint64_t seen_mono;   /* first seen (pending rings give up after a while) */
	uint32_t p;           /* 0 until a record was written about it */
	struct hbc_ident id;
	uint64_t proc_start;
	int expect_any;       /* the first record sets expected (history unknown) */
	uint64_t expected;    /* next sequence number to write */
	uint64_t skipped;     /* records below expected (already persisted) */
	uint64_t anchor_raw, anchor_ns, hz;
	uint64_t ns_mult;      /* floor(2^64 * 1e9 / hz) when hz > 1e9, else 0 */
	uint32_t types_stated, metrics_stated; /* in the current file */
	uint8_t kinds[HB_MAX_METRICS];
	/* each stated type's declared tags word (hb_event_tags form), or
	 * HBC_TW_NONE when the declaration is not a valid one: an event whose
	 * tags word equals it needs no tag check of its own */
	uint64_t type_tw[HB_MAX_TYPES];
	uint8_t mismatch[HB_MAX_TYPES]; /* reported (type, field) pairs, one bit per field */
	int bad_type_logged;
	int gone;                 /* its process is gone */
	int pidfd;                /* pidfd of its process, -1 when none */
	int unlink_done;          /* remove the shm object once written */
	uint32_t qpid;            /* quarantined: the pid it claims (header or
				   * name), 0 unknown; removed once it is gone */
	uint64_t ino;             /* left: the inode of the file left there */
	enum hbc_live live;
	uint64_t last_serial;     /* newest buffer holding records about it */
	uint64_t stop_head;       /* head when the collector was asked to stop */
	volatile sig_atomic_t truncated; /* shrunk under us: now mapped to zeros */
};

struct hbc_collector {
	struct hbc_opts o;
	struct hbc_writer *w;
	struct hbc_disc disc;
	int discovering;
	struct hbc_source **sources;
	size_t nsources, cap;
	size_t drain_next;        /* the ring the next pass starts with */
	uint32_t next_p;
	struct hbc_learned learned;

	/* the packer and the buffer it points at */
	msgpack_packer pk;
	struct hbc_wbuf *pk_buf;

	/* the time index of the live file (index.c); off while `end` is
	 * written into the previous file */
	struct hbc_index ix;
	int ix_on;

	/* the live file */
	int fd;
	char fname[HBC_FNAME_MAX];
	uint64_t fname_ns;
	uint64_t file_seq;
	uint64_t file_mono;
	char host[64];
	uint32_t pid;

	/* own stats, published as producer "hbcollect" */
	struct hb_producer *self;
	int m_records, m_bytes, m_gaps, m_write, m_backlog, m_rings, m_rps, m_bps;
	uint64_t records, gaps_n;
	uint64_t stat_mono, stat_records, stat_bytes, stat_writes;

	uint64_t next_live_mono, next_pidstart_mono;
	uint64_t kick_due_mono;   /* a busy pass sends the buffer from then on */
	uint64_t attach_due_mono; /* a ring found waits out its grace until then */
	int ring_held;            /* the last pass left much of a ring unreleased */
	int lock_fd;              /* flock on the bus: one collector per bus */
	char lock_path[300];
	uint64_t next_file_check_mono;
	int rotate_failing;
	uint64_t rotate_backoff_ns, rotate_retry_mono;
	struct pollfd *pfds;      /* scratch for the pidfd poll */
	size_t npfds;

	struct hbc_ops *ops; /* liveness, alerts, /metrics (ops.h), fed by ops_feed.c */

	/* the drain's copy of the record it reads (hb_ring_view_take); zeroed
	 * once, so that reading a lying record never meets uninitialised bytes */
	uint64_t copy[HB_REC_COPY_MAX / 8];
};

/* The record's way, one direction:
 *
 *   ring (ring.h) -> a copy -> drain.c (the run: checked while encoded by
 *   enc_event.h; else the full way: checked, then encode.c) -> write
 *   buffer (writer.c) -> io_uring -> durable, in order -> hbc_apply
 *   (source.c): tail released
 *
 * collector.c runs the loop over sources (source.c: their life) and drives
 * the drain; the side effects are fed from the way, never call into it:
 * the operating view through ops_feed.c, process checks in pidwatch.c. */

#define HBC_SEQ_SANE (1ull << 48) /* larger sequence jumps are not believed */

/* A ring header count (types, metrics), capped at max. */
static inline uint32_t hbc_load_count(_Atomic uint32_t *n, uint32_t max)
{
	/* A3/A4: pair with R3/R4 in hb_type_register/hb_metric_register: the
	 * definitions below the count are complete. */
	uint32_t v = atomic_load_explicit(n, memory_order_acquire);

	return v > max ? max : v;
}

/* ---- drain.c: records to write buffers --------------------------------- */

/* How a drain of one source ended. */
enum hbc_drain_end {
	HBC_DRAIN_MORE = 0, /* the budget or the buffers ran out: more may be there */
	HBC_DRAIN_HEAD,     /* nothing more to read for now */
	HBC_DRAIN_CORRUPT,  /* a record failed validation; the cursor is at it */
};

/* The packer into the current write buffer (an index record first when
 * one is due); NULL when every buffer is busy. */
msgpack_packer *hbc_pk(struct hbc_collector *c);
/* Like hbc_pk, but waits for a buffer to come back (NULL only while writes
 * are failing). For rotation and stop, not for the drain loop. */
msgpack_packer *hbc_pk_wait(struct hbc_collector *c);
/* Appends an index record for the chunk so far: when due, or (final)
 * whenever it holds records. */
void hbc_index_put(struct hbc_collector *c, int final);
/* "r is written up to its cursor", in the current buffer. */
void hbc_source_mark(struct hbc_collector *c, struct hbc_source *r);
/* Drains up to budget records of r; returns records read, -ENOBUFS when
 * every buffer is busy (*end is then not set). */
int hbc_source_drain(struct hbc_collector *c, struct hbc_source *r, unsigned budget,
		     enum hbc_drain_end *end);
/* Writes a liveness change of r as a state record. */
void hbc_source_change(struct hbc_collector *c, struct hbc_source *r, msgpack_packer *pk,
		       const struct hbc_live_change *ch);
/* A gap record for seqs [from, to] of r (counted in the self-stats). */
void hbc_source_gap(struct hbc_collector *c, struct hbc_source *r, msgpack_packer *pk,
		    uint64_t from, uint64_t to, const char *why);
/* Notes the kinds of metrics [from, to) of r from its header. */
void hbc_source_kinds(struct hbc_source *r, uint32_t from, uint32_t to);
/* Notes the declared tags words of types [from, to) (type_tw). */
void hbc_source_types(struct hbc_source *r, uint32_t from, uint32_t to);
/* 1 when nothing is left to read in r (a trailing pad is skipped). */
int hbc_source_empty(struct hbc_source *r);

/* ---- source.c: a source's life ----------------------------------------- */

void hbc_found(void *ctx, const char *name);
void hbc_pending_retry(struct hbc_collector *c);
/* After a drain of r: quarantines it, or finishes it at the head. */
void hbc_source_settle(struct hbc_collector *c, struct hbc_source *r, enum hbc_drain_end end);
/* Writes a restated producer record for r into the current file. */
int hbc_source_restate(struct hbc_collector *c, struct hbc_source *r);
/* Bytes written into the mapped rings and not released yet, all together. */
uint64_t hbc_sources_backlog(const struct hbc_collector *c);
/* Unmaps and forgets rings whose last records are on file. */
void hbc_sources_reap(struct hbc_collector *c);
/* Removes quarantined rings of gone processes, forgets rings left there
 * whose file went (see source.c). */
void hbc_sources_tidy(struct hbc_collector *c);
/* Applies a durable buffer: releases ring tails (writer callback). */
void hbc_apply(void *ctx, struct hbc_wbuf *b);
void hbc_source_free(struct hbc_source *r);
/* Survives rings truncated while mapped (quarantined, see source.c). */
void hbc_sigbus_install(struct hbc_collector *c);

/* ---- pidwatch.c: is the process there ---------------------------------- */

/* At attach: a pidfd for r's process (r->gone when it is gone already). */
void hbc_source_pidfd(struct hbc_source *r);
/* Every active source: is its process gone (check_start: also by its
 * start time, against pid reuse; about once a second), and its liveness. */
void hbc_liveness_check(struct hbc_collector *c, int check_start);

/* ---- ops_feed.c: what the operating view is fed ------------------------ */

void hbc_feed_attached(struct hbc_collector *c, struct hbc_source *r);
int hbc_feed_heartbeat(struct hbc_collector *c, struct hbc_source *r, const struct hb_rec_hb *b,
		       const void *slots, struct hbc_live_change *ch);
unsigned hbc_feed_extra(struct hbc_collector *c, struct hbc_source *r);
void hbc_feed_heartbeat_pack(struct hbc_collector *c, struct hbc_source *r, msgpack_packer *pk);
void hbc_feed_records(struct hbc_collector *c, struct hbc_source *r, uint64_t n);
void hbc_feed_finished(struct hbc_collector *c, struct hbc_source *r, enum hb_state final,
		       msgpack_packer *pk);

#endif
