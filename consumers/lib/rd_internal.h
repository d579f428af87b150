/* SPDX-License-Identifier: MIT */
/*
 * rd_internal.h - private state of the archive reader (libhbread).
 *
 * reader.c moves through files (open, read in large chunks, follow);
 * rd_decode.c turns the bytes at the read position into records and keeps
 * the producer tables; rd_batch.c hands out the events of event batches
 * (format 2.0) one by one; rd_util.c has the small helpers of hb_reader.h.
 */
#ifndef HB_RD_INTERNAL_H
#define HB_RD_INTERNAL_H

#include "hb_reader.h"
#include "seek.h"

#include <signal.h>
#include <stdbool.h>
#include <string.h>

#ifndef RD_BUF_INIT /* the fuzz build starts small to exercise growth */
#define RD_BUF_INIT (4u << 20)  /* read buffer; grows for huge objects */
#endif
/* Bytes asked of one read: small enough that what the kernel copied is
 * still in the cache when it is decoded (a larger object takes several). */
#define RD_READ_MAX (128u << 10)
#define RD_OBJ_MAX (16u << 20)  /* a larger object is damage, not a record */
#define RD_FAST_MAX 32          /* elements of an array rd_decode_fast takes */
#define RD_STALE_NS 2000000000ull /* a file without end, not grown: crashed */
#define RD_NEWER_NS 1000000000ull /* ... and a newer file seen for this long */

/* p -> producer, open addressing, cleared at every file start. */
struct rd_ptab {
	struct hb_rd_producer **v;
	uint32_t cap; /* power of two or 0 */
	uint32_t n;
};

/* The event batch being handed out: its bytes stay in the read buffer
 * (nothing more is read while left > 0), each hb_reader_next decodes the
 * next event at `next` into o as the single event it stands for. */
struct rd_batch {
	const uint8_t *next, *end; /* the events not yet handed out */
	uint64_t left;             /* how many */
	uint64_t seq;              /* of the next event */
	uint64_t ts_ns;            /* of the event before it (ts0 at first) */
	uint64_t offset;           /* file offset of the batch */
	uint32_t p;
	const struct hb_rd_producer *producer;
	msgpack_object *o;   /* [1, p, seq, ts, type, prio, req, v...], cap of them */
	uint32_t cap;
	bool zone_used;      /* values of containers were decoded into the zone */
	uint8_t ts_body[12]; /* o[3]'s timestamp: 64-bit form, or 96-bit */
	/* a batch whose end is not read yet: how far checking it got */
	const char *chk_file; /* r->name then, or NULL */
	uint64_t chk_at;      /* the batch's file offset */
	size_t chk_off;       /* its bytes checked */
	uint64_t chk_i, chk_t; /* its events checked, the time of the last */
	uint64_t chk_t1;       /* the time of its first event */
	uint64_t ts_first;     /* of the open batch: its first event's time */
};

struct hb_reader {
	struct hb_reader_opts o;

	/* inputs not yet opened: files and "-" */
	char **queue;
	size_t nqueue, iqueue;
	char *dir;      /* follow: the directory followed, or NULL */
	char *dir_last; /* follow: base name of the last file opened there */
	bool follow;
	/* follow of a fleet tree (rd_fleet.c): dir holds no archive files but
	 * <host>/<bus>/ directories, each followed by a reader of its own */
	bool fleet;
	bool nowait; /* such a reader: -EAGAIN where it would wait */
	struct rd_fleet_sub *subs;
	size_t nsubs;

	/* the current file */
	const char *name; /* path as shown ("-" for stdin), in names[] */
	int fd;           /* -1 when none */
	bool is_stdin;
	bool followed;    /* current file is in dir and may still grow */
	bool eof;         /* no more bytes will come for this file */
	char *buf;
	size_t cap, len, pos; /* unparsed bytes are buf[pos, len) */
	uint64_t base;        /* file offset of buf[0] */
	char *end_next;       /* `next` of an end record met in this file */
	uint64_t newer_since; /* follow: when a newer file was first seen, or 0 */

	/* damaged region being skipped */
	bool bad;
	uint64_t bad_start;
	const char *bad_what;

	/* decoding */
	msgpack_zone zone;
	msgpack_object obj;
	msgpack_object elems[RD_FAST_MAX]; /* obj's elements from rd_decode_fast */
	char status[32];
	char kind[32]; /* k of a bus record of a kind not known here */
	struct rd_batch batch;

	/* producers: the current file's table, and all ever made (freed at close) */
	struct rd_ptab tab;
	struct hb_rd_producer **all;
	size_t nall, capall;
	char **names; /* every file name handed out in records */
	size_t nnames, capnames;

	volatile sig_atomic_t stop;
	int wake_fd; /* eventfd written by hb_reader_stop */
	int ino_fd;  /* inotify on dir, or -1 */
	int ino_wd;
	uint64_t damage;

	/* time-range read plan of the current file (seek.c), or nplan = 0 */
	struct hb_rd_range *plan;
	size_t nplan, iplan;
};

/* rd_decode.c */
/* Size of the complete msgpack object at p (> 0), 0 when more bytes are
 * needed, -1 when the bytes cannot be (the start of) a sane object. */
long rd_mp_size(const uint8_t *p, size_t len);
/* Cheap test that p could start a record (used while resynchronising). */
bool rd_maybe_record(const uint8_t *p, size_t len);
/* Decodes the object of n bytes at p into rec: 1 a record, 0 a valid object
 * to skip, -1 not a valid record. */
int rd_decode(struct hb_reader *r, const char *p, size_t n, struct hb_rd_record *rec);
/* Fast path for events (arrays of scalars): decodes the wire bytes at p
 * straight into rec without msgpack-c. Returns the object's size when it
 * is a complete, valid record, else 0 and the caller takes the general
 * path (rd_mp_size, rd_decode), which then decides exactly as before. */
long rd_decode_fast(struct hb_reader *r, const uint8_t *p, size_t len, struct hb_rd_record *rec);
struct hb_rd_producer *rd_ptab_get(const struct rd_ptab *t, uint32_t p);
void rd_ptab_clear(struct rd_ptab *t);
void rd_ptab_free(struct rd_ptab *t);
void rd_producer_free(struct hb_rd_producer *pr);

/* rd_batch.c: when p starts a complete, valid event batch (every event
 * checked), opens it in r->batch and returns its size; 0 when p starts
 * what may be a valid batch whose end is not in len yet; -1 otherwise,
 * and the caller takes the general path (a batch is then damage). */
long rd_batch_open(struct hb_reader *r, const uint8_t *p, size_t len);
/* The open batch whole into rec (HB_RD_BATCHES), closing it: 1. */
int rd_batch_whole(struct hb_reader *r, struct hb_rd_record *rec);
/* The next event of the open batch into rec: 1, or -ENOMEM. */
int rd_batch_next(struct hb_reader *r, struct hb_rd_record *rec);
void rd_batch_free(struct hb_reader *r);

/* A cleared record for the object o. Copied from a constant rather than
 * memset: gcc turns a memset of this size into rep stos, which costs more
 * than the rest of decoding an event. */
static inline void rd_rec_init(struct hb_rd_record *rec, const msgpack_object *o)
{
	static const struct hb_rd_record empty = {.type_id = -1};

	memcpy(rec, &empty, sizeof(*rec));
	rec->obj = o;
}

/* Elements 4..6 of an event array (type, prio, req) are valid. */
static inline bool rd_event_valid(const msgpack_object *a)
{
	return a[4].type == MSGPACK_OBJECT_POSITIVE_INTEGER && a[4].via.u64 <= INT32_MAX &&
	       a[5].type == MSGPACK_OBJECT_POSITIVE_INTEGER && a[5].via.u64 <= 255 &&
	       (a[6].type == MSGPACK_OBJECT_POSITIVE_INTEGER || a[6].type == MSGPACK_OBJECT_NIL);
}

/* Sets rec's event fields from the valid event array a of n elements
 * (rec->producer set already); inline: it runs for every event. */
static inline void rd_event_set(struct hb_rd_record *rec, const msgpack_object *a, uint32_t n)
{
	rec->kind = HB_RD_EVENT;
	rec->type_id = (int)a[4].via.u64;
	if (rec->producer && (uint32_t)rec->type_id < rec->producer->ntypes &&
	    rec->producer->types[rec->type_id].name)
		rec->type = &rec->producer->types[rec->type_id];
	rec->prio = (int)a[5].via.u64;
	rec->has_req = a[6].type != MSGPACK_OBJECT_NIL;
	rec->req = rec->has_req ? a[6].via.u64 : 0;
	rec->nvals = n - 7;
	rec->vals = a + 7;
}

/* seek.c: with a time range set, plans which byte ranges of the file just
 * opened to read (0 or -ENOMEM); then how many bytes the next read may
 * take (0: nothing more to read in this file), seeking between ranges. */
int rd_seek_plan(struct hb_reader *r);
size_t rd_seek_room(struct hb_reader *r, size_t room);
void rd_seek_clear(struct hb_reader *r);

/* reader.c */
void rd_damage(struct hb_reader *r, uint64_t off, uint64_t len, const char *what);
/* Follow: calls on_idle, then waits for the directory to change, for
 * hb_reader_stop or for poll_ms. */
void rd_wait(struct hb_reader *r);

/* The archive files of a fleet tree dir/<host>/<bus>/ (rd_fleet.c), sorted
 * by file name (time) across hosts: *n paths the caller frees. 0 or -errno. */
int rd_fleet_list(const char *dir, char ***paths, size_t *n);
/* Follow, nothing opened yet in r->dir: 1 when r->dir is a fleet tree (an
 * archive file in some <host>/<bus>/), and r follows it from then on
 * through rd_fleet_next; else 0. */
int rd_fleet_follow(struct hb_reader *r);
/* The next record of a followed fleet tree: from the <host>/<bus> reader
 * furthest behind in time that has one, new <host>/<bus> directories
 * followed from their first file as they appear; waits when none has a
 * record. As hb_reader_next. */
int rd_fleet_next(struct hb_reader *r, struct hb_rd_record *rec);
uint64_t rd_fleet_damage(const struct hb_reader *r);
void rd_fleet_close(struct hb_reader *r);

#endif
