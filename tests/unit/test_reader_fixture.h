/* SPDX-License-Identifier: MIT */
/*
 * test_reader_fixture.h - crafting archives per docs/FORMAT.md with
 * msgpack-c's packer, for the reader tests.
 *
 * Producer 7 "fx-0" pid 4242 has types
 *   0 "fx.all"  i (i64), u (u64), f (f64), b (bool), s (str), y (bytes)
 *   1 "fx.one"  n (i64)
 * and metrics 0 reqs (counter), 1 temp (gauge), 2 lat (timing), 3 db (health).
 */
#ifndef TEST_READER_FIXTURE_H
#define TEST_READER_FIXTURE_H

#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hb_reader.h"

#define FX_P 7
#define FX_PID 4242
#define FX_T0 1795450385000000000ull /* 2026-11-23T16:13:05Z */

struct fx {
	msgpack_sbuffer sb;
	msgpack_packer pk;
};

static inline void fx_init(struct fx *f)
{
	msgpack_sbuffer_init(&f->sb);
	msgpack_packer_init(&f->pk, &f->sb, msgpack_sbuffer_write);
}

static inline void fx_free(struct fx *f)
{
	msgpack_sbuffer_destroy(&f->sb);
}

static inline void fx_str(struct fx *f, const char *s)
{
	msgpack_pack_str_with_body(&f->pk, s, strlen(s));
}

static inline void fx_ts(struct fx *f, uint64_t ns)
{
	msgpack_timestamp t = {(int64_t)(ns / 1000000000u), (uint32_t)(ns % 1000000000u)};

	msgpack_pack_timestamp(&f->pk, &t);
}

static inline void fx_kv_str(struct fx *f, const char *k, const char *v)
{
	fx_str(f, k);
	fx_str(f, v);
}

static inline void fx_kv_u64(struct fx *f, const char *k, uint64_t v)
{
	fx_str(f, k);
	msgpack_pack_uint64(&f->pk, v);
}

static inline void fx_header(struct fx *f, uint64_t file_seq)
{
	msgpack_pack_map(&f->pk, 9);
	fx_kv_str(f, "k", "header");
	fx_kv_str(f, "magic", "hb-archive");
	fx_str(f, "version");
	msgpack_pack_array(&f->pk, 2);
	msgpack_pack_int(&f->pk, 1);
	msgpack_pack_int(&f->pk, 0);
	fx_str(f, "ts");
	fx_ts(f, FX_T0);
	fx_kv_str(f, "host", "fxhost");
	fx_kv_str(f, "bus", "fx");
	fx_kv_u64(f, "collector_pid", 99);
	fx_kv_u64(f, "file_seq", file_seq);
	fx_str(f, "prev");
	msgpack_pack_nil(&f->pk);
}

static inline void fx_type(struct fx *f, const char *name, int n, const char *const *fields,
			   const char *const *ftypes)
{
	msgpack_pack_map(&f->pk, 3);
	fx_kv_str(f, "name", name);
	fx_str(f, "fields");
	msgpack_pack_array(&f->pk, (size_t)n);
	for (int i = 0; i < n; i++)
		fx_str(f, fields[i]);
	fx_str(f, "ftypes");
	msgpack_pack_array(&f->pk, (size_t)n);
	for (int i = 0; i < n; i++)
		fx_str(f, ftypes[i]);
}

static inline void fx_metric(struct fx *f, const char *name, const char *kind)
{
	msgpack_pack_map(&f->pk, 2);
	fx_kv_str(f, "name", name);
	fx_kv_str(f, "kind", kind);
}

static inline void fx_producer(struct fx *f, const char *why)
{
	static const char *const all_f[] = {"i", "u", "f", "b", "s", "y"};
	static const char *const all_t[] = {"i64", "u64", "f64", "bool", "str", "bytes"};
	static const char *const one_f[] = {"n"};
	static const char *const one_t[] = {"i64"};

	msgpack_pack_map(&f->pk, 15);
	fx_kv_str(f, "k", "producer");
	fx_kv_str(f, "why", why);
	fx_kv_u64(f, "p", FX_P);
	fx_str(f, "ts");
	fx_ts(f, FX_T0);
	fx_kv_str(f, "name", "fx-0");
	fx_kv_u64(f, "pid", FX_PID);
	fx_kv_u64(f, "tid", FX_PID + 1);
	fx_kv_str(f, "thread", "main");
	fx_kv_str(f, "host", "fxhost");
	fx_kv_str(f, "ring", "hb.fx.fx-0.4242.0");
	fx_str(f, "start");
	fx_ts(f, FX_T0 - 5000000000ull);
	fx_kv_u64(f, "interval_ms", 1000);
	fx_str(f, "types");
	msgpack_pack_array(&f->pk, 2);
	fx_type(f, "fx.all", 6, all_f, all_t);
	fx_type(f, "fx.one", 1, one_f, one_t);
	fx_str(f, "metrics");
	msgpack_pack_array(&f->pk, 4);
	fx_metric(f, "reqs", "counter");
	fx_metric(f, "temp", "gauge");
	fx_metric(f, "lat", "timing");
	fx_metric(f, "db", "health");
	fx_kv_u64(f, "seq_next", 0);
}

/* The part of an fx.one event after its time: 1, prio, req|nil, n */
static inline void fx_one_tail(struct fx *f, uint64_t seq, int64_t n)
{
	msgpack_pack_int(&f->pk, 1);
	msgpack_pack_int(&f->pk, (int)(seq % 4));
	if (seq % 2)
		msgpack_pack_uint64(&f->pk, seq + 1000);
	else
		msgpack_pack_nil(&f->pk);
	msgpack_pack_int64(&f->pk, n);
}

/* fx.one event at time ts: [1, p, seq, ts, 1, prio, req|nil, n] */
static inline void fx_event_one_at(struct fx *f, uint64_t seq, uint64_t ts, int64_t n)
{
	msgpack_pack_array(&f->pk, 8);
	msgpack_pack_int(&f->pk, 1);
	msgpack_pack_uint32(&f->pk, FX_P);
	msgpack_pack_uint64(&f->pk, seq);
	fx_ts(f, ts);
	fx_one_tail(f, seq, n);
}

/* fx.one event: [1, p, seq, ts, 1, prio, req|nil, n] */
static inline void fx_event_one(struct fx *f, uint64_t seq, int64_t n)
{
	fx_event_one_at(f, seq, FX_T0 + seq * 1000, n);
}

/* The part of an fx.all event after its time: 0, 3, 42 and every field type */
static inline void fx_all_tail(struct fx *f)
{
	static const char blob[4] = {1, 2, 3, 4};

	msgpack_pack_int(&f->pk, 0);
	msgpack_pack_int(&f->pk, 3);
	msgpack_pack_uint64(&f->pk, 42);
	msgpack_pack_int64(&f->pk, -5);
	msgpack_pack_uint64(&f->pk, 18000000000000000000ull);
	msgpack_pack_double(&f->pk, 2.5);
	msgpack_pack_true(&f->pk);
	fx_str(f, "hello");
	msgpack_pack_bin_with_body(&f->pk, blob, 4);
}

/* fx.all event with every field type */
static inline void fx_event_all(struct fx *f, uint64_t seq)
{
	msgpack_pack_array(&f->pk, 13);
	msgpack_pack_int(&f->pk, 1);
	msgpack_pack_uint32(&f->pk, FX_P);
	msgpack_pack_uint64(&f->pk, seq);
	fx_ts(f, FX_T0 + seq * 1000);
	fx_all_tail(f);
}

/* Event batch (format 2.0) of n events: [3, p, seq0, ts0, ...]; the n
 * events follow with fx_batch_one / fx_batch_all. */
static inline void fx_batch(struct fx *f, uint64_t seq0, uint64_t ts0, size_t n)
{
	msgpack_pack_array(&f->pk, 4 + n);
	msgpack_pack_int(&f->pk, 3);
	msgpack_pack_uint32(&f->pk, FX_P);
	msgpack_pack_uint64(&f->pk, seq0);
	fx_ts(f, ts0);
}

/* An event of a batch standing for fx_event_one(seq, n) at the previous
 * event's time + dt: [dt, 1, prio, req|nil, n] */
static inline void fx_batch_one(struct fx *f, int64_t dt, uint64_t seq, int64_t n)
{
	msgpack_pack_array(&f->pk, 5);
	msgpack_pack_int64(&f->pk, dt);
	fx_one_tail(f, seq, n);
}

/* An event of a batch standing for fx_event_all: [dt, 0, 3, 42, ...] */
static inline void fx_batch_all(struct fx *f, int64_t dt)
{
	msgpack_pack_array(&f->pk, 10);
	msgpack_pack_int64(&f->pk, dt);
	fx_all_tail(f);
}

static inline void fx_heartbeat(struct fx *f, uint64_t seq)
{
	msgpack_pack_array(&f->pk, 8);
	msgpack_pack_int(&f->pk, 2);
	msgpack_pack_uint32(&f->pk, FX_P);
	msgpack_pack_uint64(&f->pk, seq);
	fx_ts(f, FX_T0 + seq * 1000);
	fx_str(f, "ok");
	msgpack_pack_uint64(&f->pk, 2);
	msgpack_pack_uint32(&f->pk, 1000);
	msgpack_pack_array(&f->pk, 4);
	msgpack_pack_uint64(&f->pk, 10);
	msgpack_pack_double(&f->pk, 21.5);
	msgpack_pack_array(&f->pk, 3);
	msgpack_pack_uint64(&f->pk, 3);
	msgpack_pack_uint64(&f->pk, 300);
	msgpack_pack_uint64(&f->pk, 200);
	fx_str(f, "up");
}

static inline void fx_gap(struct fx *f, uint64_t from, uint64_t to)
{
	msgpack_pack_map(&f->pk, 7);
	fx_kv_str(f, "k", "gap");
	fx_kv_u64(f, "p", FX_P);
	fx_str(f, "ts");
	fx_ts(f, FX_T0 + from * 1000);
	fx_kv_u64(f, "from", from);
	fx_kv_u64(f, "to", to);
	fx_kv_u64(f, "n", to - from + 1);
	fx_kv_str(f, "why", "overflow");
}

static inline void fx_end(struct fx *f, const char *next)
{
	msgpack_pack_map(&f->pk, 3);
	fx_kv_str(f, "k", "end");
	fx_str(f, "ts");
	fx_ts(f, FX_T0);
	fx_kv_str(f, "next", next);
}

/* Appends the packed bytes to dir/name and empties the buffer. */
static inline void fx_flush(struct fx *f, const char *dir, const char *name)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "ab");
	if (!fp || fwrite(f->sb.data, 1, f->sb.size, fp) != f->sb.size || fclose(fp)) {
		perror(path);
		abort();
	}
	msgpack_sbuffer_clear(&f->sb);
}

static inline char *fx_tmpdir(void)
{
	char tmpl[] = "/tmp/hb-test-reader.XXXXXX";
	char *d = mkdtemp(tmpl);

	if (!d)
		abort();
	return strdup(d);
}

static inline void fx_rmdir(char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		perror(cmd);
	free(dir);
}

/* Damage collected by on_damage. */
struct fx_damage {
	int n;
	uint64_t off[8], len[8];
	char what[8][160];
};

static inline void fx_on_damage(void *ctx, const char *file, uint64_t off, uint64_t len,
				const char *what)
{
	struct fx_damage *d = ctx;

	(void)file;
	if (d->n < 8) {
		d->off[d->n] = off;
		d->len[d->n] = len;
		snprintf(d->what[d->n], sizeof(d->what[0]), "%s", what);
	}
	d->n++;
}

static inline int fx_open(struct hb_reader **r, const char *path, unsigned flags,
			  struct fx_damage *d)
{
	struct hb_reader_opts o = {.flags = flags, .poll_ms = 10, .on_damage = fx_on_damage, .ctx = d};

	return hb_reader_open(r, &path, 1, &o);
}

#endif
