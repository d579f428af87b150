/* SPDX-License-Identifier: MIT */
/* A directory is read file by file in name order, whatever the order the
 * files were created in; other files in it are ignored. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_reader_fixture.h"

static const char *const names[3] = {
	"hb-20261123T161305.000000000Z.msgpack",
	"hb-20261123T161306.500000000Z.msgpack",
	"hb-20261123T171305.000000000Z.msgpack",
};

static void write_file(const char *dir, int i)
{
	struct fx f;

	fx_init(&f);
	fx_header(&f, (uint64_t)i);
	fx_producer(&f, i ? "restated" : "attached");
	for (int k = 0; k < 10; k++)
		fx_event_one(&f, (uint64_t)(i * 10 + k), k);
	if (i < 2)
		fx_end(&f, names[i + 1]);
	fx_flush(&f, dir, names[i]);
	fx_free(&f);
}

static void test_reader_dir_name_order(void **state)
{
	char *dir = fx_tmpdir();
	struct fx_damage d = {0};
	struct hb_reader *r;
	struct hb_rd_record rec;
	uint64_t next = 0;
	int headers = 0, rc;
	struct fx junk;

	(void)state;
	write_file(dir, 2);
	write_file(dir, 0);
	write_file(dir, 1);
	fx_init(&junk);
	fx_event_one(&junk, 999, 0);
	fx_flush(&junk, dir, "notes.msgpack");
	fx_free(&junk);

	assert_int_equal(fx_open(&r, dir, 0, &d), 0);
	while ((rc = hb_reader_next(r, &rec)) == 1) {
		if (rec.kind == HB_RD_HEADER) {
			assert_non_null(strstr(rec.file, names[headers]));
			headers++;
		}
		if (rec.kind != HB_RD_EVENT)
			continue;
		assert_int_equal(rec.seq, next);
		assert_non_null(rec.type);
		assert_string_equal(rec.producer->name, "fx-0");
		next++;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(headers, 3);
	assert_int_equal(next, 30);
	assert_int_equal(d.n, 0);
	hb_reader_close(r);
	fx_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reader_dir_name_order),
	};

	alarm(60);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
