/* SPDX-License-Identifier: MIT */
/* Event batches (format 2.0): each event of a batch comes out as the
 * single event it stands for, exactly as if it had been written singly;
 * a bad or cut batch is damage like any bad record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/stat.h>

#include "hb.h"
#include "index.h"
#include "test_reader_fixture.h"

#define NAME "hb-20261123T161305.000000000Z.msgpack"

struct fxa {
	char *dir;
	char path[512];
	struct fx f;
};

static void fxa_begin(struct fxa *a)
{
	a->dir = fx_tmpdir();
	snprintf(a->path, sizeof(a->path), "%s/" NAME, a->dir);
	fx_init(&a->f);
	fx_header(&a->f, 0);
	fx_producer(&a->f, "attached");
}

static void fxa_end(struct fxa *a)
{
	fx_flush(&a->f, a->dir, NAME);
	fx_free(&a->f);
}

/* Every record of path: kinds, seqs and times, and the damage met. */
struct got {
	int n;
	int kind[256];
	uint64_t seq[256], ts[256], off[256];
	struct fx_damage d;
};

static void read_all(const char *path, struct got *g)
{
	struct hb_reader *r;
	struct hb_rd_record rec;
	int rc;

	memset(g, 0, sizeof(*g));
	assert_int_equal(fx_open(&r, path, 0, &g->d), 0);
	while ((rc = hb_reader_next(r, &rec)) == 1) {
		if (rec.kind == HB_RD_HEADER || rec.kind == HB_RD_BUS)
			continue;
		assert_true(g->n < 256);
		g->kind[g->n] = rec.kind;
		g->seq[g->n] = rec.seq;
		g->ts[g->n] = rec.ts_ns;
		g->off[g->n++] = rec.offset;
	}
	assert_int_equal(rc, 0);
	hb_reader_close(r);
}

/* Exactly one damaged region: at off, len bytes long, said to be what. */
static void check_damage(const struct got *g, size_t off, size_t len, const char *what)
{
	assert_int_equal(g->d.n, 1);
	assert_int_equal(g->d.off[0], off);
	assert_int_equal(g->d.len[0], len);
	assert_non_null(strstr(g->d.what[0], what));
}

/* rec->obj is the single event [1, p, seq, ts, type, prio, req, v...] */
static void check_v1_shape(const struct hb_rd_record *rec)
{
	const msgpack_object *a = rec->obj->via.array.ptr;
	uint64_t ns;

	assert_int_equal(rec->obj->type, MSGPACK_OBJECT_ARRAY);
	assert_int_equal(rec->obj->via.array.size, 7 + rec->nvals);
	assert_int_equal(a[0].via.u64, 1);
	assert_int_equal(a[1].via.u64, FX_P);
	assert_int_equal(a[2].via.u64, rec->seq);
	assert_int_equal(hb_rd_obj_time(&a[3], &ns), 0);
	assert_true(ns == rec->ts_ns);
	assert_int_equal(a[4].via.u64, rec->type_id);
	assert_ptr_equal(rec->vals, a + 7);
}

static void a_batch_yields_each_event_with_its_seq_time_type_and_values(void **state)
{
	struct fxa a;
	struct fx_damage d = {0};
	struct hb_reader *r;
	struct hb_rd_record rec;
	size_t boff;

	(void)state;
	fxa_begin(&a);
	boff = a.f.sb.size;
	fx_batch(&a.f, 10, FX_T0, 3);
	fx_batch_all(&a.f, 0);
	fx_batch_one(&a.f, 250, 11, -77);
	fx_batch_one(&a.f, 1000000, 12, 5);
	fxa_end(&a);

	assert_int_equal(fx_open(&r, a.path, 0, &d), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(hb_reader_next(r, &rec), 1); /* header, producer */

	assert_int_equal(hb_reader_next(r, &rec), 1);
	assert_int_equal(rec.kind, HB_RD_EVENT);
	assert_string_equal(rec.type->name, "fx.all");
	assert_int_equal(rec.seq, 10);
	assert_true(rec.ts_ns == FX_T0);
	assert_int_equal(rec.prio, 3);
	assert_true(rec.has_req);
	assert_int_equal(rec.req, 42);
	assert_int_equal(rec.nvals, 6);
	assert_int_equal(rec.vals[0].via.i64, -5);
	assert_true(rec.vals[1].via.u64 == 18000000000000000000ull);
	assert_true(rec.vals[2].via.f64 == 2.5);
	assert_true(rec.vals[3].via.boolean);
	assert_memory_equal(rec.vals[4].via.str.ptr, "hello", 5);
	assert_memory_equal(rec.vals[5].via.bin.ptr, "\1\2\3\4", 4);
	assert_null(rec.raw);
	assert_int_equal(rec.raw_len, 0);
	assert_int_equal(rec.offset, boff);
	check_v1_shape(&rec);

	assert_int_equal(hb_reader_next(r, &rec), 1);
	assert_string_equal(rec.type->name, "fx.one");
	assert_int_equal(rec.seq, 11);
	assert_true(rec.ts_ns == FX_T0 + 250);
	assert_int_equal(rec.prio, 3);
	assert_int_equal(rec.req, 1011);
	assert_int_equal(rec.nvals, 1);
	assert_int_equal(rec.vals[0].via.i64, -77);
	assert_int_equal(rec.offset, boff);
	check_v1_shape(&rec);

	assert_int_equal(hb_reader_next(r, &rec), 1);
	assert_int_equal(rec.seq, 12);
	assert_true(rec.ts_ns == FX_T0 + 1000250);
	assert_int_equal(rec.prio, 0);
	assert_false(rec.has_req);
	assert_int_equal(rec.vals[0].via.i64, 5);
	check_v1_shape(&rec);

	assert_int_equal(hb_reader_next(r, &rec), 0);
	assert_int_equal(d.n, 0);
	hb_reader_close(r);
	fx_rmdir(a.dir);
}

static void a_negative_dt_steps_back_in_time(void **state)
{
	static const int64_t dt[] = {500, -200, -100, 1000, -1199};
	struct fxa a;
	struct got g;
	uint64_t t = FX_T0 + 7;

	(void)state;
	fxa_begin(&a);
	fx_batch(&a.f, 0, t, 5);
	for (int i = 0; i < 5; i++)
		fx_batch_one(&a.f, dt[i], (uint64_t)i, i);
	fxa_end(&a);

	read_all(a.path, &g);
	assert_int_equal(g.d.n, 0);
	assert_int_equal(g.n, 5);
	for (int i = 0; i < 5; i++) {
		t += (uint64_t)dt[i];
		assert_int_equal(g.seq[i], i);
		assert_true(g.ts[i] == t);
	}
	assert_true(g.ts[4] == FX_T0 + 8);
	fx_rmdir(a.dir);
}

static void batches_singles_and_heartbeats_of_a_producer_read_in_file_order(void **state)
{
	static const int kind[] = {HB_RD_EVENT, HB_RD_EVENT, HB_RD_EVENT, HB_RD_HEARTBEAT,
				   HB_RD_EVENT, HB_RD_EVENT, HB_RD_EVENT, HB_RD_HEARTBEAT};
	struct fxa a;
	struct got g;

	(void)state;
	fxa_begin(&a);
	fx_batch(&a.f, 0, FX_T0, 3);
	for (int i = 0; i < 3; i++)
		fx_batch_one(&a.f, i ? 1000 : 0, (uint64_t)i, i);
	fx_heartbeat(&a.f, 3);
	fx_event_one(&a.f, 4, 4);
	fx_batch(&a.f, 5, FX_T0 + 5000, 2);
	fx_batch_one(&a.f, 0, 5, 5);
	fx_batch_one(&a.f, 1000, 6, 6);
	fx_heartbeat(&a.f, 7);
	fxa_end(&a);

	read_all(a.path, &g);
	assert_int_equal(g.d.n, 0);
	assert_int_equal(g.n, 8);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(g.kind[i], kind[i]);
		assert_int_equal(g.seq[i], i);
		assert_true(g.ts[i] == FX_T0 + (uint64_t)i * 1000);
	}
	assert_true(g.off[0] == g.off[2] && g.off[5] == g.off[6] && g.off[4] < g.off[5]);
	fx_rmdir(a.dir);
}

/* HB_RD_BATCHES: a batch comes out whole (its bytes, first seq and
 * event's time, event count), the records around it as ever, and a bad
 * batch is still damage. */
static void batches_come_out_whole_when_asked(void **state)
{
	struct fxa a;
	struct fx_damage d = {0};
	struct hb_reader *r;
	struct hb_rd_record rec;
	size_t b1, b1_end, b2, b2_end;

	(void)state;
	fxa_begin(&a);
	b1 = a.f.sb.size;
	fx_batch(&a.f, 0, FX_T0, 3);
	for (int i = 0; i < 3; i++)
		fx_batch_one(&a.f, 250 + i, (uint64_t)i, i);
	b1_end = a.f.sb.size;
	fx_heartbeat(&a.f, 3);
	fx_batch(&a.f, 4, FX_T0, 2); /* bad: its second event is an int */
	fx_batch_one(&a.f, 0, 4, 4);
	msgpack_pack_int(&a.f.pk, 9);
	b2 = a.f.sb.size;
	fx_batch(&a.f, 6, FX_T0 + 9000, 2);
	fx_batch_one(&a.f, 7, 6, 6);
	fx_batch_one(&a.f, 1, 7, 7);
	b2_end = a.f.sb.size;
	fx_event_one(&a.f, 8, 8);
	fxa_end(&a);

	assert_int_equal(fx_open(&r, a.path, HB_RD_BATCHES, &d), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(hb_reader_next(r, &rec), 1); /* header, producer */
	assert_int_equal(hb_reader_next(r, &rec), 1);
	assert_int_equal(rec.kind, HB_RD_BATCH);
	assert_int_equal(rec.seq, 0);
	assert_int_equal(rec.nevents, 3);
	assert_true(rec.ts_ns == FX_T0 + 250);
	assert_string_equal(rec.producer->name, "fx-0");
	assert_int_equal(rec.offset, b1);
	assert_int_equal(rec.raw_len, b1_end - b1);
	assert_memory_equal(rec.raw, a.f.sb.data + b1, b1_end - b1);
	assert_int_equal(hb_reader_next(r, &rec), 1);
	assert_int_equal(rec.kind, HB_RD_HEARTBEAT);
	assert_int_equal(rec.seq, 3);
	assert_int_equal(hb_reader_next(r, &rec), 1);
	assert_int_equal(rec.kind, HB_RD_BATCH);
	assert_int_equal(rec.seq, 6);
	assert_int_equal(rec.nevents, 2);
	assert_true(rec.ts_ns == FX_T0 + 9007);
	assert_int_equal(rec.offset, b2);
	assert_int_equal(rec.raw_len, b2_end - b2);
	assert_int_equal(hb_reader_next(r, &rec), 1);
	assert_int_equal(rec.kind, HB_RD_EVENT);
	assert_int_equal(rec.seq, 8);
	assert_int_equal(hb_reader_next(r, &rec), 0);
	assert_int_equal(d.n, 1); /* the bad batch */
	hb_reader_close(r);
	fx_rmdir(a.dir);
}

/* The same events as file name: singly, or in batches of up to `per`. */
static void write_events(const char *dir, const char *name, int per)
{
	struct fx f;

	fx_init(&f);
	fx_header(&f, 0);
	fx_producer(&f, "attached");
	for (uint64_t s = 0; s < 20; s += per ? (uint64_t)per : 1) {
		if (!per) {
			s % 5 == 3 ? fx_event_all(&f, s) : fx_event_one(&f, s, (int64_t)s * 3 - 20);
			continue;
		}
		fx_batch(&f, s, FX_T0 + s * 1000, (size_t)per);
		for (uint64_t i = s; i < s + (uint64_t)per; i++)
			i % 5 == 3 ? fx_batch_all(&f, i == s ? 0 : 1000)
				   : fx_batch_one(&f, i == s ? 0 : 1000, i, (int64_t)i * 3 - 20);
	}
	fx_heartbeat(&f, 20);
	fx_end(&f, "hb-20261123T161306.000000000Z.msgpack");
	fx_flush(&f, dir, name);
	fx_free(&f);
}

/* Text and JSON of every record of path, one after the other, into out. */
static size_t format_all(const char *path, char *out, size_t cap)
{
	struct fx_damage d = {0};
	struct hb_reader *r;
	struct hb_rd_record rec;
	size_t len = 0;

	assert_int_equal(fx_open(&r, path, 0, &d), 0);
	while (hb_reader_next(r, &rec) == 1) {
		len += hb_rd_format_text(out + len, cap - len, &rec, 0);
		assert_true(len < cap - 512);
		len += hb_rd_format_json(out + len, cap - len, &rec);
		assert_true(len < cap - 512);
	}
	assert_int_equal(d.n, 0);
	hb_reader_close(r);
	return len;
}

static void batched_events_print_as_the_same_events_written_singly(void **state)
{
	char *dir = fx_tmpdir(), p1[512], p2[512];
	static char t1[1 << 16], t2[1 << 16];
	size_t n1, n2;

	(void)state;
	write_events(dir, "hb-20261123T161301.000000000Z.msgpack", 0);
	write_events(dir, "hb-20261123T161302.000000000Z.msgpack", 4);
	snprintf(p1, sizeof(p1), "%s/hb-20261123T161301.000000000Z.msgpack", dir);
	snprintf(p2, sizeof(p2), "%s/hb-20261123T161302.000000000Z.msgpack", dir);
	n1 = format_all(p1, t1, sizeof(t1));
	n2 = format_all(p2, t2, sizeof(t2));
	assert_true(n1 > 20 * 100);
	assert_int_equal(n1, n2);
	assert_memory_equal(t1, t2, n1);
	fx_rmdir(dir);
}

static void a_bad_event_makes_its_whole_batch_damage_at_the_batch_offset(void **state)
{
	struct fxa a;
	struct got g;
	size_t bad, next;

	(void)state;
	fxa_begin(&a);
	fx_event_one(&a.f, 0, 0);
	bad = a.f.sb.size;
	fx_batch(&a.f, 1, FX_T0 + 1000, 3);
	fx_batch_one(&a.f, 0, 1, 1);
	msgpack_pack_array(&a.f.pk, 5); /* prio 300 */
	msgpack_pack_int(&a.f.pk, 1000);
	msgpack_pack_int(&a.f.pk, 1);
	msgpack_pack_int(&a.f.pk, 300);
	msgpack_pack_nil(&a.f.pk);
	msgpack_pack_int(&a.f.pk, 2);
	fx_batch_one(&a.f, 1000, 3, 3);
	next = a.f.sb.size;
	fx_batch(&a.f, 4, FX_T0 + 4000, 2);
	fx_batch_one(&a.f, 0, 4, 4);
	fx_batch_one(&a.f, 1000, 5, 5);
	fx_event_one(&a.f, 6, 6);
	fxa_end(&a);

	read_all(a.path, &g);
	assert_int_equal(g.n, 4);
	assert_int_equal(g.seq[0], 0);
	for (int i = 1; i < 4; i++)
		assert_int_equal(g.seq[i], i + 3);
	assert_true(g.off[1] == next);
	check_damage(&g, bad, next - bad, "invalid record");
	fx_rmdir(a.dir);
}

/* A batch whose times would go before 1970: damage, nothing of it read. */
static void a_batch_whose_time_goes_below_zero_is_damage(void **state)
{
	struct fxa a;
	struct got g;
	size_t bad, next;

	(void)state;
	fxa_begin(&a);
	bad = a.f.sb.size;
	fx_batch(&a.f, 0, 1000, 2);
	fx_batch_one(&a.f, 0, 0, 0);
	fx_batch_one(&a.f, -1001, 1, 1);
	next = a.f.sb.size;
	fx_event_one(&a.f, 2, 2);
	fxa_end(&a);

	read_all(a.path, &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.seq[0], 2);
	check_damage(&g, bad, next - bad, "invalid record");
	fx_rmdir(a.dir);
}

/* seq0 + the event count past UINT64_MAX: damage. */
static void a_batch_whose_seq_overflows_is_damage(void **state)
{
	struct fxa a;
	struct got g;

	(void)state;
	fxa_begin(&a);
	fx_batch(&a.f, UINT64_MAX - 1, FX_T0, 2);
	fx_batch_one(&a.f, 0, 0, 0);
	fx_batch_one(&a.f, 1, 1, 1);
	fx_event_one(&a.f, 2, 2);
	fxa_end(&a);

	read_all(a.path, &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.d.n, 1);
	fx_rmdir(a.dir);
}

static void a_batch_cut_by_the_end_of_the_file_is_a_truncated_record(void **state)
{
	struct fxa a;
	struct got g;
	size_t cut, boff;

	(void)state;
	fxa_begin(&a);
	fx_event_one(&a.f, 0, 0);
	boff = a.f.sb.size;
	fx_batch(&a.f, 1, FX_T0 + 1000, 3);
	for (int i = 1; i < 4; i++)
		fx_batch_one(&a.f, i == 1 ? 0 : 1000, (uint64_t)i, i);
	cut = a.f.sb.size - 4;
	fxa_end(&a);
	assert_int_equal(truncate(a.path, (off_t)cut), 0);

	read_all(a.path, &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.seq[0], 0);
	check_damage(&g, boff, cut - boff, "truncated");
	fx_rmdir(a.dir);
}

/* A batch of 70000 events (an array 32, several reads long) reads whole. */
static void a_batch_larger_than_one_read_is_read_whole(void **state)
{
	struct fxa a;
	struct fx_damage d = {0};
	struct hb_reader *r;
	struct hb_rd_record rec;
	uint64_t n = 0;

	(void)state;
	fxa_begin(&a);
	fx_batch(&a.f, 0, FX_T0, 70000);
	for (uint64_t i = 0; i < 70000; i++)
		fx_batch_one(&a.f, i ? 3 : 0, i, (int64_t)i);
	fx_event_one(&a.f, 70000, 1);
	assert_true(a.f.sb.size > 4 * (128u << 10));
	fxa_end(&a);

	assert_int_equal(fx_open(&r, a.path, 0, &d), 0);
	while (hb_reader_next(r, &rec) == 1) {
		if (rec.kind != HB_RD_EVENT)
			continue;
		assert_int_equal(rec.seq, n);
		assert_true(rec.ts_ns == (n < 70000 ? FX_T0 + 3 * n : FX_T0 + 70000 * 1000ull));
		assert_int_equal(rec.vals[0].via.i64, n == 70000 ? 1 : (int64_t)n);
		n++;
	}
	assert_int_equal(n, 70001);
	assert_int_equal(d.n, 0);
	hb_reader_close(r);
	fx_rmdir(a.dir);
}

/* Every record packed standalone (what hbcat -o msgpack writes) makes an
 * archive that reads back the same, batch members as single events. */
static void batched_events_packed_as_single_objects_read_back_the_same(void **state)
{
	char *dir = fx_tmpdir(), p1[512], p2[512], small[8];
	static char t1[1 << 16], t2[1 << 16];
	struct fx_damage d = {0};
	struct hb_reader *r;
	struct hb_rd_record rec;
	struct fx out;
	size_t n;

	(void)state;
	write_events(dir, "hb-20261123T161302.000000000Z.msgpack", 4);
	snprintf(p1, sizeof(p1), "%s/hb-20261123T161302.000000000Z.msgpack", dir);
	snprintf(p2, sizeof(p2), "%s/hb-20261123T161303.000000000Z.msgpack", dir);
	fx_init(&out);
	assert_int_equal(fx_open(&r, p1, 0, &d), 0);
	while (hb_reader_next(r, &rec) == 1) {
		char buf[512];
		n = hb_rd_format_msgpack(buf, sizeof(buf), &rec);
		assert_true(n <= sizeof(buf));
		assert_int_equal(hb_rd_format_msgpack(small, sizeof(small), &rec), n);
		if (rec.raw)
			assert_memory_equal(buf, rec.raw, n);
		else
			assert_int_equal((uint8_t)buf[1], 1); /* [1, ...]: a single event */
		msgpack_sbuffer_write(&out.sb, buf, n);
	}
	hb_reader_close(r);
	fx_flush(&out, dir, "hb-20261123T161303.000000000Z.msgpack");
	fx_free(&out);

	n = format_all(p1, t1, sizeof(t1));
	assert_int_equal(format_all(p2, t2, sizeof(t2)), n);
	assert_memory_equal(t1, t2, n);
	assert_int_equal(fx_open(&r, p2, 0, &d), 0);
	while (hb_reader_next(r, &rec) == 1)
		assert_non_null(rec.raw);
	hb_reader_close(r);
	assert_int_equal(d.n, 0);
	fx_rmdir(dir);
}

/* A file of 200 batches of 50 events 1 us apart, with a time index whose
 * n counts events (2.0), read for a time range. */
static void write_indexed(const char *path)
{
	struct hbc_index ix;
	char rec[HBC_INDEX_REC_SIZE];
	struct fx f;
	FILE *fp;

	fx_init(&f);
	hbc_index_reset(&ix, 4096, 0);
	fx_header(&f, 0);
	hbc_index_note(&ix, FX_T0, 1);
	fx_producer(&f, "attached");
	hbc_index_note(&ix, FX_T0, 1);
	for (uint64_t b = 0; b < 200; b++) {
		fx_batch(&f, b * 50, FX_T0 + b * 50000, 50);
		for (uint64_t i = 0; i < 50; i++) {
			fx_batch_one(&f, i ? 1000 : 0, b * 50 + i, 1);
			hbc_index_note(&ix, FX_T0 + (b * 50 + i) * 1000, 0);
		}
		if (hbc_index_due(&ix, f.sb.size) || b == 199) {
			assert_int_equal(hbc_index_encode(&ix, f.sb.size, FX_T0, rec, sizeof(rec)),
					 sizeof(rec));
			msgpack_sbuffer_write(&f.sb, rec, sizeof(rec));
		}
	}
	fx_end(&f, "hb-20261123T161306.000000000Z.msgpack");
	fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(f.sb.data, 1, f.sb.size, fp), f.sb.size);
	fclose(fp);
	fx_free(&f);
}

/* Events read with the range [since, until] set: how many were returned
 * in all, and the seqs of those in the range into seqs. */
static int read_range(const char *path, uint64_t since, uint64_t until, uint64_t *seqs,
		      int *total)
{
	struct hb_reader_opts o = {.since_ns = since, .until_ns = until};
	struct hb_reader *r;
	struct hb_rd_record rec;
	int n = 0;

	assert_int_equal(hb_reader_open(&r, &path, 1, &o), 0);
	*total = 0;
	while (hb_reader_next(r, &rec) == 1) {
		if (rec.kind != HB_RD_EVENT)
			continue;
		++*total;
		if (rec.ts_ns >= since && rec.ts_ns <= until)
			seqs[n++] = rec.seq;
	}
	assert_int_equal(hb_reader_damage_count(r), 0);
	hb_reader_close(r);
	return n;
}

static void a_time_range_seek_over_batches_finds_the_same_records(void **state)
{
	char *dir = fx_tmpdir(), path[512];
	static uint64_t all[10000], part[10000];
	uint64_t since = FX_T0 + 4000000, until = FX_T0 + 5000000;
	int nall, npart, total_all, total_part;

	(void)state;
	snprintf(path, sizeof(path), "%s/" NAME, dir);
	write_indexed(path);
	nall = read_range(path, 1, UINT64_MAX - 1, all, &total_all);
	assert_int_equal(nall, 10000);
	npart = read_range(path, since, until, part, &total_part);
	assert_int_equal(npart, 1001);
	for (int i = 0; i < npart; i++)
		assert_int_equal(part[i], 4000 + i);
	assert_true(total_part < total_all / 4); /* chunks out of range skipped */
	fx_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_batch_yields_each_event_with_its_seq_time_type_and_values),
		cmocka_unit_test(a_negative_dt_steps_back_in_time),
		cmocka_unit_test(batches_singles_and_heartbeats_of_a_producer_read_in_file_order),
		cmocka_unit_test(batched_events_print_as_the_same_events_written_singly),
		cmocka_unit_test(a_bad_event_makes_its_whole_batch_damage_at_the_batch_offset),
		cmocka_unit_test(a_batch_whose_time_goes_below_zero_is_damage),
		cmocka_unit_test(a_batch_whose_seq_overflows_is_damage),
		cmocka_unit_test(a_batch_cut_by_the_end_of_the_file_is_a_truncated_record),
		cmocka_unit_test(a_batch_larger_than_one_read_is_read_whole),
		cmocka_unit_test(batched_events_packed_as_single_objects_read_back_the_same),
		cmocka_unit_test(a_time_range_seek_over_batches_finds_the_same_records),
		cmocka_unit_test(batches_come_out_whole_when_asked),
	};

	alarm(60);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
