/* SPDX-License-Identifier: MIT */
/* Sparse time index: records read through the planned byte ranges and
 * filtered by time equal a full scan filtered by time; narrow ranges skip
 * most of the file; files without (or with a broken) index are read whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#include "index.h"
#include "seek.h"

#define T0 1795450385000000000ull
#define MS 1000000ull
#define NREC 20000

struct file {
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct hbc_index ix;
	uint64_t seqs[NREC], ts[NREC];
	uint64_t off[NREC];
	int n;
};

static void put_index(struct file *f, int final)
{
	char buf[HBC_INDEX_REC_SIZE];
	int rc;

	if (!final && !hbc_index_due(&f->ix, f->sb.size))
		return;
	rc = hbc_index_encode(&f->ix, f->sb.size, T0, buf, sizeof(buf));
	assert_true(rc == 0 || rc == (int)HBC_INDEX_REC_SIZE);
	msgpack_sbuffer_write(&f->sb, buf, (size_t)rc);
}

static void put_map(struct file *f, const char *k, uint64_t ts, int meta)
{
	msgpack_pack_map(&f->pk, 2);
	msgpack_pack_str_with_body(&f->pk, "k", 1);
	msgpack_pack_str_with_body(&f->pk, k, strlen(k));
	msgpack_pack_str_with_body(&f->pk, "ts", 2);
	msgpack_pack_uint64(&f->pk, ts);
	hbc_index_note(&f->ix, ts, meta);
}

/* [1, p, seq, ts(as int here), pad string] */
static void put_event(struct file *f, uint64_t seq, uint64_t ts)
{
	static const char pad[40] = "0123456789012345678901234567890123456789";

	f->off[f->n] = f->sb.size;
	f->seqs[f->n] = seq;
	f->ts[f->n++] = ts;
	msgpack_pack_array(&f->pk, 5);
	msgpack_pack_int(&f->pk, 1);
	msgpack_pack_int(&f->pk, (int)(seq % 3));
	msgpack_pack_uint64(&f->pk, seq);
	msgpack_pack_uint64(&f->pk, ts);
	msgpack_pack_str_with_body(&f->pk, pad, sizeof(pad));
	hbc_index_note(&f->ix, ts, 0);
	put_index(f, 0);
}

/* Three producers drained in batches of 7: times interleave, not sorted. */
static void make_file(struct file *f, int with_index, int with_end)
{
	uint64_t seq = 0;
	int b, i, p;

	memset(f, 0, sizeof(*f));
	msgpack_sbuffer_init(&f->sb);
	msgpack_packer_init(&f->pk, &f->sb, msgpack_sbuffer_write);
	hbc_index_reset(&f->ix, 4096, 0);
	put_map(f, "header", T0, 1);
	for (b = 0; f->n < NREC - 21; b++) {
		for (p = 0; p < 3; p++)
			for (i = 0; i < 7; i++)
				put_event(f, seq++, T0 + (uint64_t)(b * 7 + i) * MS + (uint64_t)p * 3 * MS);
		if (b % 50 == 10) {
			put_map(f, "types", T0 + (uint64_t)b * 7 * MS, 1);
			put_index(f, 0);
		}
	}
	if (with_index)
		put_index(f, 1);
	if (with_end)
		put_map(f, "end", T0 + (uint64_t)b * 7 * MS, 0);
}

/* Decodes [from, to) and appends the seq of every event with ts in range. */
static void scan(const struct file *f, uint64_t from, uint64_t to, uint64_t since, uint64_t until,
		 uint64_t *out, int *n)
{
	msgpack_unpacked u;
	size_t pos = (size_t)from;

	msgpack_unpacked_init(&u);
	while (pos < to &&
	       msgpack_unpack_next(&u, f->sb.data, (size_t)to, &pos) == MSGPACK_UNPACK_SUCCESS) {
		const msgpack_object *o = &u.data;

		if (o->type == MSGPACK_OBJECT_ARRAY && o->via.array.ptr[3].via.u64 >= since &&
		    o->via.array.ptr[3].via.u64 <= until)
			out[(*n)++] = o->via.array.ptr[2].via.u64;
	}
	msgpack_unpacked_destroy(&u);
}

static void check_range(const struct file *f, const struct hb_rd_file_index *fi, uint64_t since,
			uint64_t until, uint64_t *decoded)
{
	static uint64_t want[NREC], got[NREC];
	struct hb_rd_range *r;
	int nw = 0, ng = 0, i;
	size_t nr, k;

	scan(f, 0, f->sb.size, since, until, want, &nw);
	assert_int_equal(hb_rd_index_plan(fi, f->sb.size, since, until, &r, &nr), 0);
	*decoded = 0;
	for (k = 0; k < nr; k++) {
		scan(f, r[k].from, r[k].to, since, until, got, &ng);
		*decoded += r[k].to - r[k].from;
	}
	free(r);
	assert_int_equal(ng, nw);
	for (i = 0; i < nw; i++)
		assert_int_equal(got[i], want[i]);
}

static void test_plan_equals_full_scan(void **state)
{
	static struct file f;
	struct hb_rd_file_index fi;
	uint64_t decoded, span;
	int i;

	(void)state;
	make_file(&f, 1, 1);
	assert_int_equal(hb_rd_index_load((const uint8_t *)f.sb.data, f.sb.size, &fi), 0);
	assert_true(fi.nchunks > 100);
	assert_int_equal(fi.complete, 1);
	assert_int_equal(fi.chunks[0].from, 0);
	assert_int_equal(fi.ts_min, T0);
	span = f.ts[f.n - 1] - T0;
	for (i = 0; i <= 20; i++) {
		uint64_t since = T0 + span * (uint64_t)i / 20;

		check_range(&f, &fi, since, since + 5 * MS, &decoded);
		assert_true(decoded < f.sb.size / 4); /* narrow: most bytes skipped */
		check_range(&f, &fi, since, UINT64_MAX, &decoded);
		check_range(&f, &fi, 0, since, &decoded);
	}
	check_range(&f, &fi, 0, UINT64_MAX, &decoded);
	assert_int_equal(decoded, f.sb.size);
	/* outside the file: only the tables and the end record */
	check_range(&f, &fi, T0 + span + 1000 * MS, UINT64_MAX, &decoded);
	assert_true(decoded < 2000);
	hb_rd_index_free(&fi);
	msgpack_sbuffer_destroy(&f.sb);
}

static void test_live_file_keeps_tables(void **state)
{
	static struct file f;
	struct hb_rd_file_index fi;
	uint64_t decoded;

	(void)state;
	make_file(&f, 0, 0); /* indexed every 4 KiB, but no final index, no end */
	assert_int_equal(hb_rd_index_load((const uint8_t *)f.sb.data, f.sb.size, &fi), 0);
	assert_true(fi.nchunks > 0);
	assert_int_equal(fi.complete, 0);
	check_range(&f, &fi, T0 + 100 * MS, T0 + 110 * MS, &decoded);
	check_range(&f, &fi, UINT64_MAX - 1, UINT64_MAX, &decoded);
	hb_rd_index_free(&fi);
	msgpack_sbuffer_destroy(&f.sb);
}

static void test_no_or_broken_index_reads_all(void **state)
{
	static struct file f;
	struct hb_rd_file_index fi;
	struct hb_rd_range *r;
	uint64_t last;
	size_t nr;

	(void)state;
	make_file(&f, 1, 1);
	/* break the chain: the last index record's prev points at garbage */
	assert_int_equal(hb_rd_index_load((const uint8_t *)f.sb.data, f.sb.size, &fi), 0);
	last = fi.chunks[fi.nchunks - 1].to;
	hb_rd_index_free(&fi);
	f.sb.data[(size_t)(last + 1 + 8 + 13 + 12 + 5 + 8)] ^= 0x01; /* prev's low byte */
	assert_int_equal(hb_rd_index_load((const uint8_t *)f.sb.data, f.sb.size, &fi), 0);
	assert_int_equal(fi.nchunks, 0);
	assert_int_equal(hb_rd_index_plan(&fi, f.sb.size, T0, T0 + MS, &r, &nr), 0);
	assert_int_equal(nr, 1);
	assert_int_equal(r[0].from, 0);
	assert_int_equal(r[0].to, f.sb.size);
	free(r);
	msgpack_sbuffer_destroy(&f.sb);
}

static void test_index_record_is_fixed_size(void **state)
{
	struct hbc_index ix;
	char buf[256];

	(void)state;
	hbc_index_reset(&ix, 0, 0);
	assert_int_equal(hbc_index_encode(&ix, 10, T0, buf, sizeof(buf)), 0); /* empty chunk */
	hbc_index_note(&ix, 1, 1);
	assert_int_equal(hbc_index_due(&ix, 100), 0);
	assert_int_equal(hbc_index_due(&ix, HBC_INDEX_EVERY), 1);
	assert_int_equal(hbc_index_encode(&ix, 5, T0, buf, 10), -ENOBUFS);
	hbc_index_note(&ix, UINT64_MAX / 2, 0);
	assert_int_equal(hbc_index_encode(&ix, 0xffffffffffull, T0, buf, sizeof(buf)),
			 HBC_INDEX_REC_SIZE);
	assert_int_equal(ix.prev, 0xffffffffffull);
	assert_int_equal(ix.from, 0xffffffffffull + HBC_INDEX_REC_SIZE);
	assert_int_equal(HBC_INDEX_REC_SIZE, HB_RD_INDEX_REC_SIZE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_index_record_is_fixed_size),
		cmocka_unit_test(test_plan_equals_full_scan),
		cmocka_unit_test(test_live_file_keeps_tables),
		cmocka_unit_test(test_no_or_broken_index_reads_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
