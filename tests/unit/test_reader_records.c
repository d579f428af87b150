/* SPDX-License-Identifier: MIT */
/* The reader returns every record of a file with its exact values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hb.h"
#include "test_reader_fixture.h"

static void write_file(const char *dir)
{
	struct fx f;

	fx_init(&f);
	fx_header(&f, 0);
	fx_producer(&f, "attached");
	fx_event_all(&f, 0);
	fx_event_one(&f, 1, -77);
	fx_heartbeat(&f, 2);
	fx_gap(&f, 3, 5);
	fx_end(&f, "hb-20261123T161306.000000000Z.msgpack");
	fx_flush(&f, dir, "hb-20261123T161305.000000000Z.msgpack");
	fx_free(&f);
}

static void check_header_and_producer(struct hb_reader *r, struct hb_rd_record *rec)
{
	assert_int_equal(hb_reader_next(r, rec), 1);
	assert_int_equal(rec->kind, HB_RD_HEADER);
	assert_string_equal(rec->bus_kind, "header");
	assert_int_equal(rec->offset, 0);
	assert_true(rec->ts_ns == FX_T0);

	assert_int_equal(hb_reader_next(r, rec), 1);
	assert_int_equal(rec->kind, HB_RD_BUS);
	assert_string_equal(rec->bus_kind, "producer");
	const struct hb_rd_producer *pr = rec->producer;
	assert_non_null(pr);
	assert_int_equal(pr->p, FX_P);
	assert_string_equal(pr->name, "fx-0");
	assert_string_equal(pr->thread, "main");
	assert_string_equal(pr->host, "fxhost");
	assert_string_equal(pr->ring, "hb.fx.fx-0.4242.0");
	assert_int_equal(pr->pid, FX_PID);
	assert_int_equal(pr->tid, FX_PID + 1);
	assert_true(pr->start_ns == FX_T0 - 5000000000ull);
	assert_int_equal(pr->interval_ms, 1000);
	assert_int_equal(pr->ntypes, 2);
	assert_string_equal(pr->types[0].name, "fx.all");
	assert_int_equal(pr->types[0].nfields, 6);
	assert_string_equal(pr->types[0].fields[4], "s");
	assert_int_equal(pr->types[0].ftypes[0], HB_T_I64);
	assert_int_equal(pr->types[0].ftypes[5], HB_T_BYTES);
	assert_int_equal(pr->nmetrics, 4);
	assert_string_equal(pr->metrics[2].name, "lat");
	assert_int_equal(pr->metrics[2].kind, HB_METRIC_TIMING);
}

static void check_events(struct hb_reader *r, struct hb_rd_record *rec)
{
	assert_int_equal(hb_reader_next(r, rec), 1);
	assert_int_equal(rec->kind, HB_RD_EVENT);
	assert_non_null(rec->producer);
	assert_string_equal(rec->type->name, "fx.all");
	assert_int_equal(rec->seq, 0);
	assert_true(rec->ts_ns == FX_T0);
	assert_int_equal(rec->prio, 3);
	assert_true(rec->has_req);
	assert_int_equal(rec->req, 42);
	assert_int_equal(rec->nvals, 6);
	assert_int_equal(rec->vals[0].via.i64, -5);
	assert_true(rec->vals[1].via.u64 == 18000000000000000000ull);
	assert_true(rec->vals[2].via.f64 == 2.5);
	assert_true(rec->vals[3].via.boolean);
	assert_int_equal(rec->vals[4].via.str.size, 5);
	assert_memory_equal(rec->vals[4].via.str.ptr, "hello", 5);
	assert_int_equal(rec->vals[5].type, MSGPACK_OBJECT_BIN);
	assert_memory_equal(rec->vals[5].via.bin.ptr, "\1\2\3\4", 4);
	assert_non_null(rec->raw);
	assert_true(rec->raw_len > 20);

	assert_int_equal(hb_reader_next(r, rec), 1);
	assert_int_equal(rec->kind, HB_RD_EVENT);
	assert_string_equal(rec->type->name, "fx.one");
	assert_int_equal(rec->seq, 1);
	assert_true(rec->ts_ns == FX_T0 + 1000);
	assert_int_equal(rec->prio, 1);
	assert_int_equal(rec->req, 1001);
	assert_int_equal(rec->nvals, 1);
	assert_int_equal(rec->vals[0].via.i64, -77);
}

static void check_rest(struct hb_reader *r, struct hb_rd_record *rec)
{
	assert_int_equal(hb_reader_next(r, rec), 1);
	assert_int_equal(rec->kind, HB_RD_HEARTBEAT);
	assert_int_equal(rec->seq, 2);
	assert_string_equal(rec->status, "ok");
	assert_int_equal(rec->hb_count, 2);
	assert_int_equal(rec->interval_ms, 1000);
	assert_non_null(rec->metrics);
	assert_int_equal(rec->metrics->via.array.size, 4);
	assert_int_equal(rec->metrics->via.array.ptr[0].via.u64, 10);
	assert_true(rec->metrics->via.array.ptr[1].via.f64 == 21.5);
	assert_int_equal(rec->metrics->via.array.ptr[2].via.array.ptr[1].via.u64, 300);

	assert_int_equal(hb_reader_next(r, rec), 1);
	assert_int_equal(rec->kind, HB_RD_BUS);
	assert_string_equal(rec->bus_kind, "gap");
	assert_non_null(rec->producer);
	assert_int_equal(hb_rd_map_get(rec->obj, "n")->via.u64, 3);

	assert_int_equal(hb_reader_next(r, rec), 1);
	assert_string_equal(rec->bus_kind, "end");
	assert_int_equal(hb_reader_next(r, rec), 0);
	assert_int_equal(hb_reader_damage_count(r), 0);
}

static void test_reader_records_exact(void **state)
{
	char *dir = fx_tmpdir(), path[512];
	struct fx_damage d = {0};
	struct hb_reader *r;
	struct hb_rd_record rec;

	(void)state;
	write_file(dir);
	snprintf(path, sizeof(path), "%s/hb-20261123T161305.000000000Z.msgpack", dir);
	assert_int_equal(fx_open(&r, path, 0, &d), 0);
	check_header_and_producer(r, &rec);
	check_events(r, &rec);
	check_rest(r, &rec);
	assert_int_equal(d.n, 0);
	hb_reader_close(r);
	fx_rmdir(dir);
}

static void test_reader_missing_path(void **state)
{
	struct fx_damage d = {0};
	struct hb_reader *r;

	(void)state;
	assert_int_equal(fx_open(&r, "/nonexistent/hb-x.msgpack", 0, &d), -ENOENT);
	assert_null(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reader_records_exact),
		cmocka_unit_test(test_reader_missing_path),
	};

	alarm(60);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
