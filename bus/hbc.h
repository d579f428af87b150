/* SPDX-License-Identifier: MIT */
/*
 * hbc.h - internals of hbcollect: options, logging, msgpack encoding of
 * archive records (docs/FORMAT.md), the io_uring writer, archive files,
 * ring discovery and the collector loop. Prefix hbc_.
 */
#ifndef HB_BUS_HBC_H
#define HB_BUS_HBC_H

#include "hb.h"
#include "index.h"
#include "ops.h"
#include "ring.h"

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

/* ---- options and logging (util.c) ------------------------------------- */

enum hbc_fsync {
	HBC_FSYNC_NEVER = 0,
	HBC_FSYNC_INTERVAL = 1,
	HBC_FSYNC_ALWAYS = 2,
};

struct hbc_opts {
	char bus[HB_BUS_MAX];
	char dir[4096];
	char host[64];           /* --host; "" = gethostname */
	uint64_t rotate_size;    /* bytes, 0 = never */
	uint64_t rotate_age_ns;  /* 0 = never */
	uint64_t retain_files;   /* 0 = unlimited */
	uint64_t retain_bytes;   /* 0 = unlimited */
	enum hbc_fsync fsync;
	uint64_t fsync_interval_ns;
	uint64_t cache_window;   /* archive bytes left in the page cache, 0 = all */
	unsigned poll_ms;        /* longest idle sleep */
	int verbosity;           /* 0 quiet, 1 normal, 2 verbose */
	int accept_uid;          /* collect rings of other users too */
	const char *shm_dir;     /* "/dev/shm" */
	struct hbc_ops_config ops; /* --metrics, --alert, --alert-file (ops.h) */
};

extern int hbc_verbosity;
extern const char *hbc_prog; /* the program named in log lines ("hbcollect") */

void hbc_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define hbc_info(...) hbc_log(1, __VA_ARGS__)
#define hbc_debug(...) hbc_log(2, __VA_ARGS__)
#define hbc_warn(...) hbc_log(0, __VA_ARGS__)

/* Strings the collector writes (archive str values, log lines) are valid
 * UTF-8 with no control characters, whatever bytes they came from (a name
 * in /dev/shm, a rule file): every byte that is not part of a printable
 * character is written as \xNN, a backslash as \\ (so the bytes can be
 * told back). hbc_str_escape writes the escaped form of the n bytes at src
 * into dst (NUL-terminated, cut at a whole character or escape to fit cap)
 * and returns its length; hbc_str_clean is 1 when escaping changes nothing. */
size_t hbc_str_escape(char *dst, size_t cap, const char *src, size_t n);
int hbc_str_clean(const char *src, size_t n);

/* "64M", "1k", "10G" (powers of 1024). 0 or -EINVAL. */
int hbc_parse_size(const char *s, uint64_t *out);
/* "1h", "500ms", "2d", "30" (seconds) into ns. 0 or -EINVAL. */
int hbc_parse_duration(const char *s, uint64_t *out_ns);
uint64_t hbc_now_ns(void);  /* CLOCK_REALTIME */
uint64_t hbc_mono_ns(void); /* CLOCK_MONOTONIC */
/* The archive directory of bus when none is given, by the rule every tool
 * follows (hb_default_dir in hb_reader.h): 0, or 2 (an exit code) after
 * an error naming hbc_prog on stderr. */
int hbc_default_dir(char *dir, size_t len, const char *bus);
/* "never", "interval", "always". 0 or -EINVAL. */
int hbc_fsync_parse(const char *s, enum hbc_fsync *mode);
/* mkdir -p with mode for the missing parts. 0 or -errno. */
int hbc_mkdir_p(const char *path, unsigned mode);

/* ---- encoding (encode.c) ---------------------------------------------- */

/* Room every encode call may need at most: a types record for a full
 * table, mismatch records and the largest event together. */
#define HBC_REC_MAX (64 * 1024)

/* Events per batch object at most (FORMAT.md 2.0: [3, p, seq0, ts0, e...]);
 * its array header is then never larger than an array 16. */
#define HBC_BATCH_MAX 4096
/* The unit of --cache-window: writeback and dropping go by 8 MiB. */
#define HBC_CACHE_CHUNK (8ull << 20)

struct hbc_buf {
	char *data;
	size_t len, cap;
	int overflow; /* a write did not fit (never expected: see HBC_REC_MAX) */
	struct hbc_index *ix; /* objects packed here are noted in it, or NULL */
	/* the event batch still open at the end of data (batch_n > 0): events
	 * of producer batch_p with consecutive seqs join it until anything
	 * else is written (hbc_buf_batch_end) */
	size_t batch_at;     /* offset of its array header */
	uint32_t batch_n;    /* events in it */
	uint32_t batch_p;
	uint64_t batch_seq;  /* seq an event must have to join it */
	uint64_t batch_ts;   /* time of its last event (ns) */
};

/* Points pk at b: everything packed is appended to b (and ends the open
 * event batch first). */
void hbc_packer_init(msgpack_packer *pk, struct hbc_buf *b);
/* Ends the open event batch of b, if any: writes its final element count.
 * Whoever writes into b->data other than through hbc_enc_event or a packer
 * made by hbc_packer_init calls this first; b->len may shrink by 2. */
void hbc_buf_batch_end(struct hbc_buf *b);
/* Notes a record about to be packed into pk (made by hbc_packer_init)
 * in the time index of pk's buffer, for records packed outside encode.c. */
void hbc_pack_note(msgpack_packer *pk, uint64_t ts_ns);
/* A str, escaped as hbc_str_escape does when it is not clean (at most
 * HBC_STR_PACK_MAX bytes then). */
#define HBC_STR_PACK_MAX 1024
void hbc_pack_str(msgpack_packer *pk, const char *s);
/* A map whose pair count is the number of keys packed through it (the
 * header is written at hbc_map_close, in the form msgpack-c would choose):
 * no count is written by hand. For packers made by hbc_packer_init. */
struct hbc_map {
	msgpack_packer *pk;
	size_t at;  /* offset of its header in the buffer */
	unsigned n; /* keys so far */
};
void hbc_map_open(struct hbc_map *m, msgpack_packer *pk);
/* Packs key k (its value follows, packed into m->pk). */
void hbc_map_key(struct hbc_map *m, const char *k);
void hbc_map_close(struct hbc_map *m);
/* A msgpack timestamp (ext -1): 64-bit form, or 96-bit outside its range. */
int hbc_pack_ts(msgpack_packer *pk, uint64_t ns);

/* What a producer record states about a ring (copied from its header). */
struct hbc_ident {
	char name[HB_NAME_MAX];
	char host[64];
	char thread[32];
	char ring[256];
	uint32_t pid, tid;
	uint64_t start_ns;
	uint64_t interval_ns;
};

struct hbc_file_hdr {
	uint64_t ts_ns;
	const char *host, *bus;
	uint32_t pid;
	uint64_t file_seq;
	const char *prev; /* NULL: nil */
};

void hbc_enc_header(msgpack_packer *pk, const struct hbc_file_hdr *h);
/* A producer record with types [0, ntypes) and metrics [0, nmetrics). */
void hbc_enc_producer(msgpack_packer *pk, const char *why, uint32_t p, uint64_t ts_ns,
		      const struct hbc_ident *id, const struct hb_ring_hdr *h, uint32_t ntypes,
		      uint32_t nmetrics, uint64_t seq_next);
void hbc_enc_types(msgpack_packer *pk, uint32_t p, uint64_t ts_ns, const struct hb_ring_hdr *h,
		   uint32_t first, uint32_t end);
void hbc_enc_metrics(msgpack_packer *pk, uint32_t p, uint64_t ts_ns, const struct hb_ring_hdr *h,
		     uint32_t first, uint32_t end);
/* r: a whole event record that passed validation in memory no one else
 * writes (a copy checked by hb_rec_check_copy), so its tags are known and
 * dense and every slot and string lies inside r->len (str/bytes values
 * are read in whole 8-byte words, as they are padded in a record).
 * Appended to the open event batch of b when it is p's, r->seq follows
 * its last event and the time delta fits, else to a new batch (format
 * 2.0). Written straight into b, not through a packer, with the forms
 * msgpack-c would choose for each value; sets b->overflow instead when it
 * does not fit. */
void hbc_enc_event(struct hbc_buf *b, uint32_t p, const struct hb_rec *r, uint64_t ts_ns);
/* r and b are local copies of the record's fixed parts; slots points at
 * b->nmetrics x 3 uint64_t; kinds[i] is metric i's kind (0 when unknown).
 * extra: trailing elements the caller packs right after (format 1.1). */
void hbc_enc_heartbeat(msgpack_packer *pk, uint32_t p, const struct hb_rec *r, uint64_t ts_ns,
		       const struct hb_rec_hb *b, const void *slots, const uint8_t *kinds,
		       unsigned extra);
void hbc_enc_state(msgpack_packer *pk, uint32_t p, uint64_t ts_ns, const char *state,
		   const char *why, const char *ring);
void hbc_enc_gap(msgpack_packer *pk, uint32_t p, uint64_t ts_ns, uint64_t from, uint64_t to,
		 const char *why);
void hbc_enc_collector(msgpack_packer *pk, uint64_t ts_ns, const char *event, uint32_t pid);
void hbc_enc_mismatch(msgpack_packer *pk, uint32_t p, uint64_t ts_ns, uint64_t seq,
		      uint32_t type, const char *field, const char *expected, const char *got);
void hbc_enc_end(msgpack_packer *pk, uint64_t ts_ns, const char *next);

/* Copies a string field of n bytes from shared memory, always terminated,
 * bytes outside printable ASCII replaced by '?'. */
void hbc_strcpy_shared(char *dst, const char *src, size_t n);

/* ---- the io_uring writer (writer.c) ----------------------------------- */

struct hbc_source;

/* "the records of ring r up to cursor upto (next seq seq_next) are in this
 * buffer": applied when the buffer is durable. */
struct hbc_mark {
	struct hbc_source *src;
	uint64_t upto;
	uint64_t seq_next;
};

enum hbc_wbuf_state {
	HBC_WB_FREE = 0,
	HBC_WB_FILLING,
	HBC_WB_SEALED,   /* waiting to be submitted */
	HBC_WB_INFLIGHT,
	HBC_WB_FAILED,   /* waiting for a retry */
	HBC_WB_DONE,
};

struct hbc_wbuf {
	struct hbc_buf b;
	enum hbc_wbuf_state state;
	int fd;
	uint64_t off;   /* file offset of b.data[0] */
	size_t written; /* bytes of b already on file */
	uint64_t serial;
	uint64_t t_submit;
	struct hbc_mark *marks;
	size_t nmarks, mcap;
};

struct hbc_writer;

/* Called for every buffer in submission order once it is durable. */
typedef void (*hbc_apply_fn)(void *ctx, struct hbc_wbuf *b);

struct hbc_writer_stats {
	uint64_t bytes, writes, last_lat_ns;
	uint64_t lat_sum_ns, lat_max_ns; /* over every completed write */
};

int hbc_writer_create(struct hbc_writer **out, unsigned nbufs, size_t bufsize,
		      enum hbc_fsync mode, uint64_t fsync_interval_ns, hbc_apply_fn apply,
		      void *ctx);
void hbc_writer_destroy(struct hbc_writer *w);
/* Keeps at most about window bytes of what was written behind the newest
 * durable write in the page cache (0: the kernel decides, the default):
 * writeback of each HBC_CACHE_CHUNK starts once it is written, and it is
 * dropped from the cache once window bytes follow it. */
void hbc_writer_cache_window(struct hbc_writer *w, uint64_t window);
/* The buffer being filled, with at least need bytes free (a new one when
 * the current one is too full); NULL when every buffer is busy. */
struct hbc_wbuf *hbc_writer_buf(struct hbc_writer *w, size_t need);
/* Adds or extends the mark of ring in b. */
int hbc_wbuf_mark(struct hbc_wbuf *b, struct hbc_source *src, uint64_t upto, uint64_t seq_next);
/* Sets the file later writes go to, at offset off. */
void hbc_writer_set_file(struct hbc_writer *w, int fd, uint64_t off);
/* The file offset the next byte will get (bytes already queued included). */
uint64_t hbc_writer_file_size(const struct hbc_writer *w);
/* Seals the current buffer and submits every sealed buffer (a failed
 * submission is retried by hbc_writer_poll: nothing to report here). */
void hbc_writer_flush(struct hbc_writer *w);
/* Like flush, but keeps filling the current buffer while writes are in
 * flight: the per-pass call. 1 when the current buffer went out. */
int hbc_writer_kick(struct hbc_writer *w);
/* Syncs (when sync) and closes fd, a file no longer written, in the
 * background; hbc_writer_destroy waits for it. */
void hbc_writer_retire(struct hbc_writer *w, int fd, int sync);
/* Reaps completions, retries failed writes when due, runs periodic fsync,
 * applies durable buffers in order. Never blocks. Returns the number of
 * buffers applied. */
int hbc_writer_poll(struct hbc_writer *w);
/* Flushes and waits until everything is written (and synced, with
 * fsync=always) and applied. Gives up with -EIO after timeout_ns of
 * failures (0 = never gives up). */
int hbc_writer_wait_idle(struct hbc_writer *w, uint64_t timeout_ns);
/* Sleeps up to timeout_ns, less when a write completes first or the wake
 * descriptor becomes readable. */
void hbc_writer_wait(struct hbc_writer *w, uint64_t timeout_ns);
/* From now on waits end too when fd is readable (-1: no descriptor). */
void hbc_writer_wake_on(struct hbc_writer *w, int fd);
/* 1 when nothing is queued or in flight. */
int hbc_writer_idle(const struct hbc_writer *w);
/* 1 while writes are failing. */
int hbc_writer_failing(const struct hbc_writer *w);
/* Serial of the newest buffer handed out (marks compare against it). */
uint64_t hbc_wbuf_serial(const struct hbc_wbuf *b);
/* Serial of the newest buffer applied. */
uint64_t hbc_writer_applied(const struct hbc_writer *w);
const struct hbc_writer_stats *hbc_writer_stats(const struct hbc_writer *w);

/* ---- archive files (archive.c) ---------------------------------------- */

#define HBC_FNAME_MAX 64 /* "hb-YYYYMMDDTHHMMSS.NNNNNNNNNZ.msgpack" + NUL */

/* Formats the file name for ns into buf (>= HBC_FNAME_MAX). */
void hbc_file_name(uint64_t ns, char *buf, size_t len);
/* Parses a file name; 0 and *ns, or -EINVAL. */
int hbc_file_name_parse(const char *name, uint64_t *ns);

/* What a previous run left: per ring (shm name and start time, so a name
 * reused by a new process does not match), the next seq to write. */
struct hbc_learned {
	struct hbc_seen {
		char ring[256];
		uint64_t start_ns;
		uint64_t seq_next;
	} *v;
	size_t n, cap;
};

uint64_t hbc_learned_get(const struct hbc_learned *l, const char *ring, uint64_t start_ns);
void hbc_learned_free(struct hbc_learned *l);

/* Result of scanning the newest file of a directory. */
struct hbc_recovery {
	char newest[HBC_FNAME_MAX]; /* "" when the directory has no file */
	uint64_t newest_ns;
	int has_end;       /* its last object is an `end` */
	uint64_t good_len; /* bytes up to the end of the last complete object */
	uint64_t file_len;
};

/* Scans dir: finds the newest file, where it is good, and learns the seqs
 * persisted (from it and, while they state no producer, older files). */
int hbc_archive_scan(const char *dir, struct hbc_recovery *rec, struct hbc_learned *learned);
/* Truncates the newest file at good_len and appends `end` naming next. */
int hbc_archive_finish(const char *dir, const struct hbc_recovery *rec, const char *next);
/* Deletes the oldest files beyond the limits, never keep (the live one);
 * nor, unless the byte limit forces it, a file a shipper has not shipped
 * (at or after the file of any hbship-*.pos in dir). */
int hbc_archive_retain(const char *dir, const char *keep, uint64_t max_files, uint64_t max_bytes);

/* ---- discovery (discover.c) ------------------------------------------- */

struct hbc_disc {
	int ifd;            /* inotify, -1 when unavailable */
	char dir[256];      /* "/dev/shm" */
	char prefix[HB_BUS_MAX + 8]; /* "hb.<bus>." */
	uint64_t next_scan_ns;
	uint64_t scan_every_ns;
};

int hbc_disc_init(struct hbc_disc *d, const char *dir, const char *bus);
void hbc_disc_close(struct hbc_disc *d);
/* Calls found(ctx, name) for every ring name seen by inotify since the last
 * call, and for every name in the directory when a rescan is due (or
 * force). Names may repeat. */
void hbc_disc_poll(struct hbc_disc *d, uint64_t now_mono, int force,
		   void (*found)(void *ctx, const char *name), void *ctx);

/* ---- the collector (collector.c) -------------------------------------- */

struct hbc_collector;

int hbc_collector_create(struct hbc_collector **out, const struct hbc_opts *o);
/* Runs until *stop becomes nonzero; *rotate set asks for a rotation (it is
 * cleared when done). Returns 0 after a clean stop, or -errno. */
int hbc_collector_run(struct hbc_collector *c, volatile int *stop, volatile int *rotate);
void hbc_collector_destroy(struct hbc_collector *c);

#endif
