/* SPDX-License-Identifier: MIT */
/* Minor-version compatibility: unknown map keys and extra array elements
 * are ignored; a bus record of an unknown kind is no damage: it is returned
 * with its kind (for printing) and not interpreted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_reader_fixture.h"

#define NAME "hb-20261123T161305.000000000Z.msgpack"

static void write_file(const char *dir)
{
	struct fx f;

	fx_init(&f);
	fx_header(&f, 0);
	fx_producer(&f, "attached");
	/* a bus record of a kind from the future */
	msgpack_pack_map(&f.pk, 3);
	fx_kv_str(&f, "k", "weather");
	fx_str(&f, "ts");
	fx_ts(&f, FX_T0);
	fx_kv_str(&f, "sky", "blue");
	/* a heartbeat with two extra trailing elements */
	msgpack_pack_array(&f.pk, 10);
	msgpack_pack_int(&f.pk, 2);
	msgpack_pack_int(&f.pk, FX_P);
	msgpack_pack_int(&f.pk, 0);
	fx_ts(&f, FX_T0);
	fx_str(&f, "degraded");
	msgpack_pack_int(&f.pk, 1);
	msgpack_pack_int(&f.pk, 500);
	msgpack_pack_nil(&f.pk);
	fx_str(&f, "future");
	msgpack_pack_int(&f.pk, 7);
	/* a gap record with an extra key */
	msgpack_pack_map(&f.pk, 8);
	fx_kv_str(&f, "k", "gap");
	fx_kv_u64(&f, "p", FX_P);
	fx_kv_str(&f, "extra", "x");
	fx_str(&f, "ts");
	fx_ts(&f, FX_T0);
	fx_kv_u64(&f, "from", 1);
	fx_kv_u64(&f, "to", 1);
	fx_kv_u64(&f, "n", 1);
	fx_kv_str(&f, "why", "overflow");
	fx_event_one(&f, 2, 5);
	fx_flush(&f, dir, NAME);
	fx_free(&f);
}

static void test_reader_ignores_unknown(void **state)
{
	char *dir = fx_tmpdir(), path[512];
	struct fx_damage d = {0};
	struct hb_reader *r;
	struct hb_rd_record rec;

	(void)state;
	write_file(dir);
	snprintf(path, sizeof(path), "%s/" NAME, dir);
	assert_int_equal(fx_open(&r, path, 0, &d), 0);
	assert_int_equal(hb_reader_next(r, &rec), 1);
	assert_int_equal(rec.kind, HB_RD_HEADER);
	assert_int_equal(hb_reader_next(r, &rec), 1);
	assert_string_equal(rec.bus_kind, "producer");
	assert_int_equal(hb_reader_next(r, &rec), 1);
	assert_int_equal(rec.kind, HB_RD_BUS);
	assert_string_equal(rec.bus_kind, "weather");
	assert_true(rec.ts_ns == FX_T0);
	assert_int_equal(hb_reader_next(r, &rec), 1);
	assert_int_equal(rec.kind, HB_RD_HEARTBEAT);
	assert_string_equal(rec.status, "degraded");
	assert_int_equal(rec.interval_ms, 500);
	assert_null(rec.metrics);
	assert_int_equal(hb_reader_next(r, &rec), 1);
	assert_string_equal(rec.bus_kind, "gap");
	assert_int_equal(hb_rd_map_get(rec.obj, "from")->via.u64, 1);
	assert_int_equal(hb_reader_next(r, &rec), 1);
	assert_int_equal(rec.kind, HB_RD_EVENT);
	assert_int_equal(rec.seq, 2);
	assert_int_equal(hb_reader_next(r, &rec), 0);
	assert_int_equal(d.n, 0);
	hb_reader_close(r);
	fx_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reader_ignores_unknown),
	};

	alarm(60);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
