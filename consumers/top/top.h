/* SPDX-License-Identifier: MIT */
/*
 * top.h - hbtop's model of the bus and its views.
 *
 * model.c: a reader thread follows the archive (hb_reader_next) and folds
 * records into per-producer rows under the model mutex; ring headers in
 * /dev/shm are mapped read-only for live counters (head, tail, drops,
 * last heartbeat) so drops show even while the collector is down.
 * view.c: the ncurses screen, the batch text and the JSON snapshot, all
 * drawn from a struct top_snap copied out of the model under the mutex.
 */
#ifndef HB_TOP_H
#define HB_TOP_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include "hb.h"
#include "hb_reader.h"
#include "replay.h"

#define TOP_SPARK 16      /* seconds of history in the sparkline */
#define TOP_BUCKETS 64    /* per-second event buckets kept */
#define TOP_METRICS 32    /* metrics shown per producer */
#define TOP_ALERTS 8
#define TOP_HB_HIST 32    /* recent heartbeats kept per producer */
#define TOP_RECENT 16     /* recent events kept per producer (opts.recent) */

/* the collector's states (include/hb_state.h) as hbtop shows them */
enum top_state {
	TS_UNKNOWN,
	TS_HEALTHY,
	TS_LATE,
	TS_DEAD,
	TS_EXITED,
	TS_CRASHED,
	TS_BACKLOGGED,
	TS_QUARANTINED,
	TS_NSTATES
};

struct top_metric {
	char name[HB_METRIC_NAME_MAX];
	int kind;          /* enum hb_metric_kind */
	uint64_t a, b, c;  /* as in struct hb_metric_val (gauge: a = double bits) */
	uint64_t pa, pb;   /* previous heartbeat's a and b */
	int have_prev;
	char health[16];
};

/* One heartbeat as the model saw it. */
struct top_hb {
	uint64_t ts_ns;  /* when the producer emitted it */
	int64_t lat_ns;  /* read from the live archive at ts_ns + lat_ns; -1 unknown
			  * (offline, or an old one read while catching up) */
};

struct top_row {
	char name[HB_NAME_MAX];
	char ring[128];
	char host[64];
	uint32_t pid;
	enum top_state state;
	char why[24];       /* reason of the last state change */
	uint64_t start_ns;
	uint32_t interval_ms;
	char status[16];    /* heartbeat status */
	uint64_t last_hb_ns;
	uint64_t prev_hb_ns;
	uint64_t heartbeats, events, gaps_n, records;
	uint64_t drops;     /* ring header when live, else gap records */
	int live;           /* its ring is mapped now */
	double fill;        /* ring fill ratio, < 0 unknown */
	uint64_t bucket_sec[TOP_BUCKETS]; /* per-second event counts by ts */
	uint32_t bucket_n[TOP_BUCKETS];
	uint32_t nmetrics;
	struct top_metric m[TOP_METRICS];
	int have_proc;
	double cpu_pct;
	uint64_t rss_bytes;
	int64_t threads, fds;
	uint32_t nalerts;
	char alerts[TOP_ALERTS][32];
	uint64_t types_seen; /* bitmask of event type ids seen (< 64) */
	char types[512];     /* comma list of registered type names */
	uint64_t missed;     /* heartbeats that did not come: whole intervals
			      * between consecutive ones past 1.5 intervals */
	uint32_t hb_hist_n;  /* entries of hb_hist in use */
	uint32_t hb_hist_at; /* next slot (oldest entry once full) */
	struct top_hb hb_hist[TOP_HB_HIST];
};

struct top_snap {
	uint64_t now_ns;
	uint32_t nrows;
	struct top_row *rows;
	uint64_t records, events, drops;
	double events_per_s;
	int coll_running;    /* -1 unknown */
	uint32_t coll_pid;
	uint64_t coll_records;
	int caught_up;       /* reader reached the live end at least once */
	int fleet;           /* a followed fleet archive (opts.fleet) */
	int by_host;         /* a fleet, or rows of more than one host: show hosts */
	uint64_t damage;
	char dir[512];
	char err[256];       /* archive problem shown in the header */
};

struct top_model;

struct top_opts {
	const char *bus;
	const char *dir;
	const char *const *paths; /* offline input; NULL: follow dir */
	size_t npaths;
	struct top_replay *replay; /* paths are replayed on this clock, or NULL */
	int recent;                /* keep each producer's newest events as JSON
				    * (top_model_recent) */
	int fleet;                 /* dir is a fleet tree (FLEETDIR/<host>/<bus>/):
				    * followed in every host and bus, no ring
				    * headers (they are other hosts'), rows by
				    * host and ring */
};

/* Fills what o leaves unset: the bus ($HB_BUS, else "default") and the
 * archive directory ($HB_DIR, else ${XDG_STATE_HOME:-~/.local/state}/hb/BUS,
 * as the collector's default) into dirbuf. */
void top_opts_defaults(struct top_opts *o, char *dirbuf, size_t len);
int top_model_start(struct top_model **out, const struct top_opts *o);
/* Rescans ring headers and copies the model into snap (rows malloc'd,
 * replaced on each call). */
void top_model_snapshot(struct top_model *m, struct top_snap *snap);
/* 1 once the reader has read everything there was (live end or EOF). */
int top_model_caught_up(struct top_model *m);
void top_model_stop(struct top_model *m);
void top_snap_free(struct top_snap *s);
/* Replay only (no-ops otherwise): pause the replay clock, or step it. */
void top_model_pause(struct top_model *m, int on);
void top_model_step(struct top_model *m, uint64_t ns);
/* With opts.recent: the newest events (up to TOP_RECENT, oldest first) of
 * the producer of ring, as a JSON array of `hbcat -o json` objects, into
 * out (NUL-terminated). Returns the length, or -ENOENT / -ENOSPC. */
int top_model_recent(struct top_model *m, const char *ring, char *out, size_t len);

/* Derived figures (view.c). */
double top_row_rate(const struct top_row *r, uint64_t now_ns);
void top_row_spark(const struct top_row *r, uint64_t now_ns, double out[TOP_SPARK]);
const char *top_state_name(enum top_state s);

/* Sorting and filtering. */
enum top_col { TC_NAME, TC_PID, TC_STATE, TC_AGE, TC_UPTIME, TC_RATE, TC_DROPS, TC_FILL,
	       TC_CPU, TC_RSS, TC_NCOLS };
struct top_view {
	enum top_col sort;
	int reverse;
	char filter[64];   /* producer glob or substring, "" = all */
	char tfilter[64];  /* event type glob, "" = all */
	char hfilter[64];  /* host glob or substring, "" = all */
	char counters[8][64]; /* metric globs to show, none = all */
	int ncounters;
	int utf8;
	int hide_done;     /* hide finished producers (exited, or dead and gone) */
	uint64_t expire_ns; /* hide them this long after their end; 0 never */
};
/* 1 when the producer has finished: exited, or dead with its ring gone. */
int top_row_done(const struct top_row *r);
/* Sorts and filters snap->rows in place; returns rows kept. */
uint32_t top_view_apply(const struct top_view *v, struct top_snap *s);
const char *top_col_name(enum top_col c);

/* Text pieces shared by the batch and screen views. The HOST column
 * comes first when snap.by_host. */
#define TOP_HOST_FMT "%-12.12s "

void top_metrics_text(const struct top_view *v, const struct top_row *r, char *out, size_t len);
/* ns as a short time with a unit (640ns, 12.3us, 1.25ms, 2.5s). */
void top_fmt_ns(double ns, char *out, size_t len);
void top_fmt_dur(double s, char *out, size_t len);
void top_fmt_bytes(double b, char *out, size_t len);
void top_spark_text(const struct top_row *r, uint64_t now, int utf8, char *out, size_t len);
void top_counts(const struct top_snap *s, unsigned by[TS_NSTATES]);
void top_header_text(const struct top_snap *s, char *l1, size_t n1, char *l2, size_t n2);
/* pid, age, uptime, ev/s, events, drops, fill%, cpu%, rss, heartbeats */
void top_row_fields(const struct top_row *r, uint64_t now, char f[10][32]);

void top_print_text(FILE *f, const struct top_view *v, const struct top_snap *s, int iter);
void top_print_json(FILE *f, const struct top_view *v, const struct top_snap *s);
/* Pieces of the JSON snapshot: a string with JSON escapes, and a row's
 * metrics object as in the snapshot. */
void top_print_json_str(FILE *f, const char *s);
void top_print_json_metrics(FILE *f, const struct top_view *v, const struct top_row *r);
/* Runs the ncurses screen until q; delay_ms between refreshes. */
int top_curses_run(struct top_model *m, struct top_view *v, unsigned delay_ms);

#endif
