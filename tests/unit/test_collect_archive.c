/* SPDX-License-Identifier: MIT */
/* Archive files after a crash and over time: a torn tail is cut at the last
 * complete object and `end` appended, the sequence numbers persisted per
 * ring are learned, and retention deletes the oldest files but never the
 * live one. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hbc.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

static int dir_setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/hb-unit-archive.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int dir_teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *name, const struct hbc_buf *b)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(b->data, 1, b->len, f), b->len);
	fclose(f);
}

static uint64_t file_size(const char *name)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

/* Encodes an event of producer p, sequence seq, with no fields. */
static void enc_event(struct hbc_buf *b, uint32_t p, uint64_t seq, uint64_t ts)
{
	uint64_t rec[HB_EVENT_FIXED / 8] = {0};
	struct hb_rec r = {.len = HB_EVENT_FIXED, .kind = HB_REC_EVENT, .seq = seq};

	memcpy(rec, &r, sizeof(r));
	hbc_enc_event(b, p, (const struct hb_rec *)rec, ts);
}

/* A file of one run: header, producer r1 as p=1 (seq_next 5), events 5..9
 * of p=1, a gap 10..12 of p=1, events 0..2 of an unknown p=9. */
static void fill_run(struct hbc_buf *b, uint64_t ts)
{
	struct hb_ring_hdr *h = calloc(1, sizeof(*h));
	struct hbc_file_hdr fh = {.ts_ns = ts, .host = "h", .bus = "unit", .pid = 1};
	struct hbc_ident id = {.name = "r", .ring = "hb.unit.r.1.0", .pid = 1, .start_ns = 5};
	msgpack_packer pk;
	uint64_t seq;

	hbc_packer_init(&pk, b);
	hbc_enc_header(&pk, &fh);
	hbc_enc_producer(&pk, "attached", 1, ts, &id, h, 0, 0, 5);
	for (seq = 5; seq < 10; seq++)
		enc_event(b, 1, seq, ts);
	hbc_enc_gap(&pk, 1, ts, 10, 12, "overflow");
	for (seq = 0; seq < 3; seq++)
		enc_event(b, 9, seq, ts);
	hbc_buf_batch_end(b);
	free(h);
}

/* Events in a batch (format 2.0) persist seq0 .. seq0 + n - 1. */
static void a_batch_teaches_its_last_seq(void **state)
{
	static char data[65536];
	struct hbc_buf b = {.data = data, .cap = sizeof(data)};
	struct hb_ring_hdr *h = calloc(1, sizeof(*h));
	struct hbc_file_hdr fh = {.ts_ns = 1795450385000000003ull, .host = "h", .bus = "unit"};
	struct hbc_ident id = {.name = "r", .ring = "hb.unit.r.1.0", .pid = 1, .start_ns = 5};
	struct hbc_learned learned = {0};
	struct hbc_recovery rc;
	msgpack_packer pk;

	(void)state;
	hbc_packer_init(&pk, &b);
	hbc_enc_header(&pk, &fh);
	hbc_enc_producer(&pk, "attached", 1, fh.ts_ns, &id, h, 0, 0, 5);
	for (uint64_t seq = 5; seq < 30; seq++)
		enc_event(&b, 1, seq, fh.ts_ns);
	hbc_buf_batch_end(&b);
	write_file("hb-20991123T161305.000000003Z.msgpack", &b); /* the newest */
	assert_int_equal(hbc_archive_scan(dir, &rc, &learned), 0);
	assert_int_equal(rc.good_len, b.len);
	assert_int_equal(hbc_learned_get(&learned, "hb.unit.r.1.0", 5), 30);
	hbc_learned_free(&learned);
	free(h);
}

static void torn_tail_is_cut_and_end_appended(void **state)
{
	static char data[65536];
	struct hbc_buf b = {.data = data, .cap = sizeof(data)};
	const char *name = "hb-20261123T161305.000000001Z.msgpack";
	struct hbc_learned learned = {0};
	struct hbc_recovery rec;
	uint64_t good;

	(void)state;
	fill_run(&b, 1795450385000000001ull);
	good = b.len;
	memcpy(b.data + b.len, "\x98\x01\x01", 3); /* an array of 8 cut after 2 */
	b.len += 3;
	write_file(name, &b);
	assert_int_equal(hbc_archive_scan(dir, &rec, &learned), 0);
	assert_string_equal(rec.newest, name);
	assert_int_equal(rec.newest_ns, 1795450385000000001ull);
	assert_int_equal(rec.good_len, good);
	assert_int_equal(rec.file_len, good + 3);
	assert_false(rec.has_end);
	assert_int_equal(hbc_learned_get(&learned, "hb.unit.r.1.0", 5), 13); /* gap to 12 */
	assert_int_equal(hbc_learned_get(&learned, "hb.unit.other.1.0", 5), 0);
	assert_int_equal(hbc_learned_get(&learned, "hb.unit.r.1.0", 6), 0); /* another process */

	assert_int_equal(hbc_archive_finish(dir, &rec, "hb-20261123T161306.000000000Z.msgpack"), 0);
	assert_true(file_size(name) > good);
	hbc_learned_free(&learned);
	assert_int_equal(hbc_archive_scan(dir, &rec, &learned), 0);
	assert_true(rec.has_end);
	assert_int_equal(rec.good_len, rec.file_len);
	assert_int_equal(hbc_learned_get(&learned, "hb.unit.r.1.0", 5), 13);
	/* finishing a finished file changes nothing */
	assert_int_equal(hbc_archive_finish(dir, &rec, "x"), 0);
	assert_int_equal(file_size(name), rec.file_len);
	hbc_learned_free(&learned);
}

static void zeros_after_the_records_count_as_damage(void **state)
{
	static char data[65536];
	struct hbc_buf b = {.data = data, .cap = sizeof(data)};
	struct hbc_learned learned = {0};
	struct hbc_recovery rec;
	uint64_t good;

	(void)state;
	fill_run(&b, 1795450386000000000ull);
	good = b.len;
	memset(b.data + b.len, 0, 4096); /* a hole: msgpack would read 4096 zeros */
	b.len += 4096;
	write_file("hb-20261123T161306.000000000Z.msgpack", &b);
	assert_int_equal(hbc_archive_scan(dir, &rec, &learned), 0);
	assert_string_equal(rec.newest, "hb-20261123T161306.000000000Z.msgpack");
	assert_int_equal(rec.good_len, good);
	hbc_learned_free(&learned);
}

static void newest_without_producers_learns_from_older(void **state)
{
	static char data[65536];
	struct hbc_buf b = {.data = data, .cap = sizeof(data)};
	struct hbc_file_hdr fh = {.ts_ns = 1795450387000000000ull, .host = "h", .bus = "unit"};
	struct hbc_learned learned = {0};
	struct hbc_recovery rec;
	msgpack_packer pk;

	(void)state;
	hbc_packer_init(&pk, &b);
	hbc_enc_header(&pk, &fh); /* a run that died before any ring was attached */
	write_file("hb-20261123T161307.000000000Z.msgpack", &b);
	assert_int_equal(hbc_archive_scan(dir, &rec, &learned), 0);
	assert_string_equal(rec.newest, "hb-20261123T161307.000000000Z.msgpack");
	assert_false(rec.has_end);
	assert_int_equal(hbc_learned_get(&learned, "hb.unit.r.1.0", 5), 13);
	hbc_learned_free(&learned);
}

static int count_files(void)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	while ((de = readdir(d)))
		n += de->d_name[0] == 'h';
	closedir(d);
	return n;
}

static void retention_keeps_the_newest(void **state)
{
	char data[1000];
	struct hbc_buf b = {.data = data, .cap = sizeof(data), .len = sizeof(data)};
	char name[HBC_FNAME_MAX];
	int i;

	(void)state;
	memset(data, 0xc0, sizeof(data));
	for (i = 0; i < 3; i++) {
		hbc_file_name(1795450400000000000ull + (uint64_t)i, name, sizeof(name));
		write_file(name, &b);
	}
	assert_int_equal(count_files(), 6);
	assert_int_equal(hbc_archive_retain(dir, name, 0, 0), 0);
	assert_int_equal(count_files(), 6);
	assert_int_equal(hbc_archive_retain(dir, name, 4, 0), 0);
	assert_int_equal(count_files(), 4);
	/* the three 1000-byte files are newest; 2500 bytes keep two of them */
	assert_int_equal(hbc_archive_retain(dir, name, 0, 2500), 0);
	assert_int_equal(count_files(), 2);
	assert_int_equal(hbc_archive_retain(dir, name, 0, 1), 0);
	assert_int_equal(count_files(), 1); /* never the live file */
	assert_int_equal(file_size(name), 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(torn_tail_is_cut_and_end_appended),
		cmocka_unit_test(zeros_after_the_records_count_as_damage),
		cmocka_unit_test(newest_without_producers_learns_from_older),
		cmocka_unit_test(retention_keeps_the_newest),
		cmocka_unit_test(a_batch_teaches_its_last_seq),
	};

	hbc_verbosity = 0;
	return cmocka_run_group_tests(tests, dir_setup, dir_teardown);
}
