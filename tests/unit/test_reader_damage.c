/* SPDX-License-Identifier: MIT */
/* Damage: a truncated tail yields every complete record and reports where
 * the cut object starts; a corrupt region costs only the records in it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/stat.h>

#include "test_reader_fixture.h"

#define NAME "hb-20261123T161305.000000000Z.msgpack"
#define NEV 50

/* Writes header, producer and NEV events; offs[i] = offset of event i. */
static size_t write_events(const char *dir, size_t *offs)
{
	struct fx f;
	size_t total;

	fx_init(&f);
	fx_header(&f, 0);
	fx_producer(&f, "attached");
	for (int i = 0; i < NEV; i++) {
		offs[i] = f.sb.size;
		fx_event_one(&f, (uint64_t)i, i * 10);
	}
	total = f.sb.size;
	fx_flush(&f, dir, NAME);
	fx_free(&f);
	return total;
}

static int read_seqs(const char *path, uint64_t *seqs, int max, struct fx_damage *d)
{
	struct hb_reader *r;
	struct hb_rd_record rec;
	int n = 0, rc;

	assert_int_equal(fx_open(&r, path, 0, d), 0);
	while ((rc = hb_reader_next(r, &rec)) == 1)
		if (rec.kind == HB_RD_EVENT && n < max)
			seqs[n++] = rec.seq;
	assert_int_equal(rc, 0);
	assert_int_equal(hb_reader_damage_count(r), (uint64_t)d->n);
	hb_reader_close(r);
	return n;
}

static void test_reader_truncated_tail(void **state)
{
	char *dir = fx_tmpdir(), path[512];
	size_t offs[NEV], total;
	uint64_t seqs[NEV];
	struct fx_damage d = {0};

	(void)state;
	total = write_events(dir, offs);
	snprintf(path, sizeof(path), "%s/" NAME, dir);
	/* cut in the middle of the last-but-two event */
	size_t cut = offs[NEV - 3] + 5;
	assert_int_equal(truncate(path, (off_t)cut), 0);
	assert_true(cut < total);

	int n = read_seqs(path, seqs, NEV, &d);
	assert_int_equal(n, NEV - 3);
	for (int i = 0; i < n; i++)
		assert_int_equal(seqs[i], i);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.off[0], offs[NEV - 3]);
	assert_int_equal(d.len[0], 5);
	assert_non_null(strstr(d.what[0], "truncated"));
	fx_rmdir(dir);
}

static void test_reader_corrupt_region(void **state)
{
	char *dir = fx_tmpdir(), path[512];
	size_t offs[NEV];
	uint64_t seqs[NEV];
	struct fx_damage d = {0};
	FILE *fp;

	(void)state;
	write_events(dir, offs);
	snprintf(path, sizeof(path), "%s/" NAME, dir);
	/* overwrite events 20 and 21 (and one byte of 22) with garbage */
	fp = fopen(path, "r+b");
	assert_non_null(fp);
	fseek(fp, (long)offs[20] + 3, SEEK_SET);
	for (size_t i = offs[20] + 3; i < offs[22] + 1; i++)
		fputc(0xc1, fp);
	fclose(fp);

	int n = read_seqs(path, seqs, NEV, &d);
	assert_int_equal(n, NEV - 3);
	for (int i = 0; i < n; i++)
		assert_int_equal(seqs[i], i < 20 ? i : i + 3);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.off[0], offs[20]);
	assert_int_equal(d.len[0], offs[23] - offs[20]);
	fx_rmdir(dir);
}

static void test_reader_garbage_between_records(void **state)
{
	char *dir = fx_tmpdir(), path[512];
	uint64_t seqs[8];
	struct fx_damage d = {0};
	struct fx f;
	size_t off;

	(void)state;
	fx_init(&f);
	fx_header(&f, 0);
	fx_producer(&f, "attached");
	fx_event_one(&f, 0, 1);
	off = f.sb.size;
	msgpack_sbuffer_write(&f.sb, "\x05\xdd\xff\xff\xff\xff\x91", 7); /* int, huge array */
	fx_event_one(&f, 1, 2);
	fx_flush(&f, dir, NAME);
	fx_free(&f);
	snprintf(path, sizeof(path), "%s/" NAME, dir);

	int n = read_seqs(path, seqs, 8, &d);
	assert_int_equal(n, 2);
	assert_int_equal(seqs[1], 1);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.off[0], off);
	assert_int_equal(d.len[0], 7);
	fx_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reader_truncated_tail),
		cmocka_unit_test(test_reader_corrupt_region),
		cmocka_unit_test(test_reader_garbage_between_records),
	};

	alarm(60);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
