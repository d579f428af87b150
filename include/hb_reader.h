/* SPDX-License-Identifier: MIT */
/*
 * hb_reader.h - reading hb archives (docs/FORMAT.md): files, directories in
 * time order, stdin, and following the live archive across rotations.
 * Every hb tool reads archives through this API and nothing else.
 *
 * Functions return 0 (or 1 for "a record") or a negative errno.
 */
#ifndef HB_READER_H
#define HB_READER_H

#include <msgpack.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HB_FORMAT_MAJOR 2
#define HB_FORMAT_MINOR 3

struct hb_reader;

struct hb_rd_type {
	char *name;
	uint32_t nfields;
	char **fields;   /* field names */
	uint8_t *ftypes; /* enum hb_tag */
	/* strlen of name and of each field name, set by the reader; 0 and NULL
	 * in a type built otherwise (the formatters then measure the names) */
	uint32_t name_len;
	uint32_t *field_lens;
};

struct hb_rd_metric {
	char *name;
	uint8_t kind; /* enum hb_metric_kind */
};

/* A producer as the archive states it (producer/types/metrics records). */
struct hb_rd_producer {
	uint32_t p;     /* producer number within the collector run */
	char *name;
	char *thread;
	char *host;
	char *ring;
	uint32_t pid;
	uint32_t tid;
	uint64_t start_ns;
	uint32_t interval_ms;
	uint64_t seq_next; /* from the last producer record seen */
	uint32_t ntypes;
	struct hb_rd_type *types;
	uint32_t nmetrics;
	struct hb_rd_metric *metrics;
	void *user; /* free for the application; NULL at first */
	uint32_t name_len; /* strlen(name), set by the reader; 0 if not known */
};

enum hb_rd_kind {
	HB_RD_EVENT = 1,
	HB_RD_HEARTBEAT = 2,
	HB_RD_BUS = 3,    /* a bus record: bus_kind says which */
	HB_RD_HEADER = 4, /* a file header */
	HB_RD_BATCH = 5,  /* an event batch whole (only with HB_RD_BATCHES) */
};

struct hb_rd_record {
	enum hb_rd_kind kind;
	const char *bus_kind; /* "producer", "state", "gap", "end", ... or NULL;
			       * may be a kind newer than this reader (the
			       * record is then only printed, not interpreted) */
	const struct hb_rd_producer *producer; /* NULL when none */
	uint64_t seq;
	uint64_t ts_ns; /* UTC ns since the epoch */

	/* events */
	int type_id;
	const struct hb_rd_type *type; /* NULL if the id is unknown */
	int prio;
	int has_req;
	uint64_t req;
	uint32_t nvals;
	const msgpack_object *vals;

	/* heartbeats */
	const char *status;
	uint64_t hb_count;
	uint32_t interval_ms;
	const msgpack_object *metrics; /* array or NULL */

	/* The whole decoded object, valid until the next call. For an event
	 * of an event batch (format 2.0) it is the single event the batch
	 * event stands for, [1, p, seq, ts, type, prio, req, v...], made in
	 * the reader's memory (ts a timestamp whose bytes are the reader's). */
	const msgpack_object *obj;
	/* Its bytes, valid until the next call; NULL (raw_len 0) for an event
	 * of a batch, which has no bytes of its own: hb_rd_format_msgpack
	 * writes any record as a standalone object. */
	const char *raw;
	size_t raw_len;
	const char *file;          /* file it came from ("-" for stdin); valid
				      until hb_reader_close, as are producers */
	uint64_t offset;           /* byte offset of the object in that file
				      (of the batch, for its events) */
	/* HB_RD_BATCH: its events, checked as the reader checks any batch
	 * (seq is its first event's, ts_ns its first event's time, obj NULL,
	 * raw its bytes) */
	uint64_t nevents;
};

#define HB_RD_FOLLOW 0x1u /* at the end, wait for more and follow rotation */
/* An event batch comes out whole, one HB_RD_BATCH record, instead of one
 * event per call: for tools that move archive objects on as they are
 * (hbship). A followed fleet tree orders batches by their first event. */
#define HB_RD_BATCHES 0x2u

struct hb_reader_opts {
	unsigned flags;
	unsigned poll_ms; /* follow: how often to look for more; default 50 */
	/* Called for every damaged region: file, byte offset, length (0 when
	 * unknown), and what was wrong. Default: a line on stderr. */
	void (*on_damage)(void *ctx, const char *file, uint64_t offset, uint64_t len,
			  const char *what);
	void *ctx;
	/* Follow mode: called before the reader waits for more data (e.g. to
	 * flush output). May be NULL. */
	void (*on_idle)(void *ctx);
	/* Time range of interest (ns, 0 = unbounded; format 1.1). The reader
	 * may then skip the parts of files whose time index says they hold no
	 * record in [since_ns, until_ns]; it still returns records outside the
	 * range from the parts it reads: callers keep filtering by ts_ns. */
	uint64_t since_ns, until_ns;
};

/* Opens paths: files, directories (their hb-*.msgpack files in name order;
 * a fleet tree, with none of its own: those of every <host>/<bus>/ in it)
 * or "-" for stdin. With HB_RD_FOLLOW, the last path must be a directory
 * (or a file in one) and the reader follows it across rotations; a fleet
 * tree is followed in every <host>/<bus>/, those that appear later too,
 * the hosts kept close in time. */
int hb_reader_open(struct hb_reader **r, const char *const *paths, size_t npaths,
		   const struct hb_reader_opts *opts);
/* 1 and the next record, 0 at the end (never in follow mode, unless
 * hb_reader_stop was called), or -errno. */
int hb_reader_next(struct hb_reader *r, struct hb_rd_record *rec);
/* Makes a following hb_reader_next return 0 soon; async-signal-safe. */
void hb_reader_stop(struct hb_reader *r);
/* Number of damaged regions met so far. */
uint64_t hb_reader_damage_count(const struct hb_reader *r);
void hb_reader_close(struct hb_reader *r);

/* Helpers shared by the tools. */
const char *hb_prio_name(int prio); /* "low", "normal", "high", "urgent" */
int hb_prio_parse(const char *s);    /* name (any case) or digit; -EINVAL */
const char *hb_tag_name(int tag);    /* "i64", ... */
const char *hb_metric_kind_name(int kind);
/* Parses a time into ns; 0 or -EINVAL. Forms: ISO 8601 ("2026-11-23T16:13:05Z",
 * "2026-11-23 16:13:05", "2026-11-23", with an optional Z or +HH:MM), seconds
 * since the epoch ("@1795450385.5"), relative to now_ns ("now", "-10m",
 * "+1h", "-30" seconds, "5 min ago", "1h 30min ago", "2 days left", or a bare
 * "10m" / "1h" meaning that long ago; units ns us ms s m h d w and their
 * long forms), the day words "today", "yesterday", "tomorrow" (midnight, or
 * "yesterday 17:20"), and a clock time of today ("17:20", "17:20:05.5").
 * Words are case-blind. A time without a zone is local time (TZ) unless
 * flags has HB_TIME_UTC. hb_time_parse is hb_time_parse_flags with
 * HB_TIME_UTC. */
#define HB_TIME_UTC 0x1u
int hb_time_parse_flags(const char *s, uint64_t now_ns, unsigned flags, uint64_t *out_ns);
int hb_time_parse(const char *s, uint64_t now_ns, uint64_t *out_ns);
/* Length of the well-formed UTF-8 sequence (RFC 3629) starting at p, with
 * n bytes left, or 0 when the bytes there are not one. */
size_t hb_utf8_len(const void *p, size_t n);
/* 1 when the n bytes at p are well-formed UTF-8, else 0. */
int hb_utf8_valid(const void *p, size_t n);
/* The archive directory of bus (NULL or "": $HB_BUS, else "default") when
 * none is given, the one rule hbcollect, hbcat, hbtop and hbweb follow:
 * $HB_DIR; else $XDG_STATE_HOME/hb/BUS; else HOME/.local/state/hb/BUS,
 * HOME being $HOME or, when that is unset or empty, the home directory of
 * the user in the password database. Into out (len bytes): 0, -ENOENT when
 * there is no home either, -ENAMETOOLONG. */
int hb_default_dir(const char *bus, char *out, size_t len);
/* Formats ns as ISO 8601 UTC with nanoseconds into buf (>= 32 bytes). */
char *hb_time_format(uint64_t ns, char *buf, size_t len);
/* The value of string key `key` in a msgpack map, or NULL. */
const msgpack_object *hb_rd_map_get(const msgpack_object *map, const char *key);
/* A msgpack timestamp (ext -1) as ns since the epoch: 0 or -EINVAL. */
int hb_rd_obj_time(const msgpack_object *o, uint64_t *ns);

/* Output in hbcat's formats (docs/man/hbcat.1), for a FILE with a large
 * buffer. JSON: one object and a newline; timestamps as ISO strings (UTC)
 * plus ts_ns, bin as base64, NaN/Inf as null. Text: one line; flags is a
 * set of HB_RD_TEXT_* (1, true, is HB_RD_TEXT_COLOR): ANSI colours by
 * priority and record kind, and the time as local time with its UTC offset
 * (2026-11-23T17:13:05.123456789+01:00; Z where the offset is 0) instead
 * of UTC (...Z). */
#define HB_RD_TEXT_COLOR 0x1
#define HB_RD_TEXT_LOCAL 0x2
void hb_rd_print_json(FILE *f, const struct hb_rd_record *rec);
void hb_rd_print_text(FILE *f, const struct hb_rd_record *rec, int flags);
/* The same into buf (len >= 256 bytes), for callers that do their own
 * output buffering: the record's length in bytes. When that is more than
 * len, buf holds only part of the record: call again with more room. */
size_t hb_rd_format_json(char *buf, size_t len, const struct hb_rd_record *rec);
size_t hb_rd_format_text(char *buf, size_t len, const struct hb_rd_record *rec, int flags);
/* The record as one standalone msgpack object, a record of an archive
 * like any other: its raw bytes, or for an event of a batch the single
 * event (element 0 = 1) it stands for. Into buf as hb_rd_format_json:
 * the length in bytes; when more than len, buf holds only part of it. */
size_t hb_rd_format_msgpack(char *buf, size_t len, const struct hb_rd_record *rec);
/* A JSON string literal of the n bytes at s. */
void hb_rd_print_json_str(FILE *f, const char *s, size_t n);
/* Shortest text that reads back as the same double; buf >= 32 bytes. */
int hb_rd_fmt_double(char *buf, double d);

#ifdef __cplusplus
}
#endif
#endif
