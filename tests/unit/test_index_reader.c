/* SPDX-License-Identifier: MIT */
/* Time-range reads over an archive of many indexed files: the reader with
 * since/until returns, after filtering by time, exactly what a full scan
 * filtered by time returns, while reading only a small part of the bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hb_reader.h"
#include "index.h"

#define T0 1795450385000000000ull
#define MS 1000000ull
#define NFILES 12
#define PER_FILE 6000

static char dir[64];

static void pack_key(msgpack_packer *pk, const char *k)
{
	msgpack_pack_str_with_body(pk, k, strlen(k));
}

static void pack_ts(msgpack_packer *pk, uint64_t ns)
{
	msgpack_timestamp t = {.tv_sec = (int64_t)(ns / 1000000000u),
			       .tv_nsec = (uint32_t)(ns % 1000000000u)};

	msgpack_pack_timestamp(pk, &t);
}

static void put_index(msgpack_sbuffer *sb, struct hbc_index *ix, int final)
{
	char buf[HBC_INDEX_REC_SIZE];
	int rc;

	if (!final && !hbc_index_due(ix, sb->size))
		return;
	rc = hbc_index_encode(ix, sb->size, T0, buf, sizeof(buf));
	assert_true(rc >= 0);
	msgpack_sbuffer_write(sb, buf, (size_t)rc);
}

static void put_header(msgpack_packer *pk, struct hbc_index *ix, int f)
{
	msgpack_pack_map(pk, 3);
	pack_key(pk, "k");
	pack_key(pk, "header");
	pack_key(pk, "version");
	msgpack_pack_array(pk, 2);
	msgpack_pack_int(pk, 1);
	msgpack_pack_int(pk, 1);
	pack_key(pk, "ts");
	pack_ts(pk, T0 + (uint64_t)f * PER_FILE * MS);
	hbc_index_note(ix, T0 + (uint64_t)f * PER_FILE * MS, 1);
	msgpack_pack_map(pk, 6);
	pack_key(pk, "k");
	pack_key(pk, "producer");
	pack_key(pk, "p");
	msgpack_pack_int(pk, 1);
	pack_key(pk, "ts");
	pack_ts(pk, T0 + (uint64_t)f * PER_FILE * MS);
	pack_key(pk, "name");
	pack_key(pk, "idx");
	pack_key(pk, "types");
	msgpack_pack_array(pk, 1);
	msgpack_pack_map(pk, 3);
	pack_key(pk, "name");
	pack_key(pk, "t.x");
	pack_key(pk, "fields");
	msgpack_pack_array(pk, 1);
	pack_key(pk, "n");
	pack_key(pk, "ftypes");
	msgpack_pack_array(pk, 1);
	pack_key(pk, "i64");
	pack_key(pk, "metrics");
	msgpack_pack_array(pk, 0);
	hbc_index_note(ix, T0 + (uint64_t)f * PER_FILE * MS, 1);
}

/* Batches of 10 records from two interleaved time lines, 1 ms apart. */
static void write_file(int f, uint64_t *seq)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct hbc_index ix;
	char path[128];
	FILE *fp;
	int i;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	hbc_index_reset(&ix, 16384, 0);
	put_header(&pk, &ix, f);
	for (i = 0; i < PER_FILE; i++, (*seq)++) {
		uint64_t ts = T0 + (*seq / 20) * 20 * MS + ((*seq % 20) % 10) * 2 * MS +
			      ((*seq % 20) >= 10 ? MS : 0);

		msgpack_pack_array(&pk, 8);
		msgpack_pack_int(&pk, 1);
		msgpack_pack_int(&pk, 1);
		msgpack_pack_uint64(&pk, *seq);
		pack_ts(&pk, ts);
		msgpack_pack_int(&pk, 0);
		msgpack_pack_int(&pk, 1);
		msgpack_pack_nil(&pk);
		msgpack_pack_int64(&pk, (int64_t)*seq);
		hbc_index_note(&ix, ts, 0);
		put_index(&sb, &ix, 0);
	}
	put_index(&sb, &ix, 1);
	msgpack_pack_map(&pk, 3);
	pack_key(&pk, "k");
	pack_key(&pk, "end");
	pack_key(&pk, "ts");
	pack_ts(&pk, T0);
	pack_key(&pk, "next");
	snprintf(path, sizeof(path), "hb-20261123T1613%02d.000000000Z.msgpack", f + 1);
	pack_key(&pk, f + 1 < NFILES ? path : "none");
	snprintf(path, sizeof(path), "%s/hb-20261123T1613%02d.000000000Z.msgpack", dir, f);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(sb.data, 1, sb.size, fp), sb.size);
	fclose(fp);
	msgpack_sbuffer_destroy(&sb);
}

static int setup(void **state)
{
	uint64_t seq = 0;
	int f;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/hb-index-reader.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	for (f = 0; f < NFILES; f++)
		write_file(f, &seq);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	if (getenv("KEEP")) return 0;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static void quiet_damage(void *ctx, const char *file, uint64_t off, uint64_t len, const char *w)
{
	(void)ctx, (void)file, (void)off, (void)len, (void)w;
	fail_msg("damage in %s at %llu: %s", file, (unsigned long long)off, w);
}

/* seqs of events in [since, until]; returns the count; *seen = all records */
static size_t query(uint64_t since, uint64_t until, int use_index, uint64_t *out, size_t cap,
		    size_t *seen)
{
	struct hb_reader_opts o = {.on_damage = quiet_damage};
	const char *paths[] = {dir};
	struct hb_rd_record rec;
	struct hb_reader *r;
	size_t n = 0;
	int rc;

	if (use_index) {
		o.since_ns = since;
		o.until_ns = until;
	}
	*seen = 0;
	assert_int_equal(hb_reader_open(&r, paths, 1, &o), 0);
	while ((rc = hb_reader_next(r, &rec)) > 0) {
		(*seen)++;
		if (rec.kind != HB_RD_EVENT || rec.ts_ns < since || rec.ts_ns > until)
			continue;
		assert_true(n < cap);
		assert_non_null(rec.type);
		out[n++] = rec.seq;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(hb_reader_damage_count(r), 0);
	hb_reader_close(r);
	return n;
}

static void check(uint64_t since, uint64_t until, int narrow)
{
	static uint64_t want[NFILES * PER_FILE], got[NFILES * PER_FILE];
	size_t nw, ng, seen_full, seen_idx, i;

	nw = query(since, until, 0, want, NFILES * PER_FILE, &seen_full);
	ng = query(since, until, 1, got, NFILES * PER_FILE, &seen_idx);
	assert_int_equal(ng, nw);
	for (i = 0; i < nw; i++)
		assert_int_equal(got[i], want[i]);
	if (narrow && seen_idx * 10 >= seen_full)
		print_message("since %llu: %zu of %zu records read\n", (unsigned long long)since,
			      seen_idx, seen_full);
	if (narrow)
		assert_true(seen_idx * 10 < seen_full);
}

static void test_range_equals_filtered_scan(void **state)
{
	uint64_t span = (uint64_t)NFILES * PER_FILE * MS, t;
	int i;

	(void)state;
	for (i = 0; i <= 24; i++) {
		t = T0 + span * (uint64_t)i / 24;
		check(t, t + 30 * MS, 1);
		check(t, UINT64_MAX, 0);
		check(1, t, 0);
	}
	check(T0 + span * 3, UINT64_MAX, 1); /* after everything */
	check(1, T0 - 1, 1);                 /* before everything */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_range_equals_filtered_scan),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
