/* SPDX-License-Identifier: MIT */
/* Follow mode: a writer appends records (sometimes half an object at a
 * time) and rotates (successor first, then end) while the reader follows a
 * directory that does not exist yet; every record arrives exactly once, in
 * order. A file left without end by a crash is left once a newer file
 * exists and it has not grown for a while. hb_reader_stop ends next(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>

#include "test_reader_fixture.h"

#define NFILES 5
#define PER_FILE 200
#define NCRASH 10 /* events in the file after the crash */

static char *g_dir;

static void name_of(char *buf, size_t len, int i)
{
	snprintf(buf, len, "hb-20261123T1613%02d.000000000Z.msgpack", i);
}

static void sleep_us(long us)
{
	struct timespec ts = {us / 1000000, (us % 1000000) * 1000};

	nanosleep(&ts, NULL);
}

/* Appends the buffer to file i, in two writes when split. */
static void append(struct fx *f, int i, bool split)
{
	char name[64], path[512];
	size_t half = split ? f->sb.size / 2 : f->sb.size;
	int fd;

	name_of(name, sizeof(name), i);
	snprintf(path, sizeof(path), "%s/%s", g_dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (fd < 0 || write(fd, f->sb.data, half) != (ssize_t)half)
		abort();
	if (split) {
		sleep_us(3000);
		if (write(fd, f->sb.data + half, f->sb.size - half) != (ssize_t)(f->sb.size - half))
			abort();
	}
	close(fd);
	msgpack_sbuffer_clear(&f->sb);
}

static void start_file(struct fx *f, int i)
{
	fx_header(f, (uint64_t)i);
	fx_producer(f, i ? "restated" : "attached");
	append(f, i, false);
}

static void *writer(void *arg)
{
	struct fx f;
	uint64_t seq = 0;
	char name[64], path[512];

	(void)arg;
	fx_init(&f);
	sleep_us(50000);
	if (mkdir(g_dir, 0700))
		abort();
	start_file(&f, 0);
	for (int i = 0; i < NFILES; i++) {
		for (int k = 0; k < PER_FILE; k += 10) {
			for (int j = 0; j < 10; j++, seq++)
				fx_event_one(&f, seq, (int64_t)seq);
			append(&f, i, k % 30 == 0); /* some batches end half-written */
			if (k % 50 == 0)
				sleep_us(1000);
		}
		/* rotation: successor first, then end */
		start_file(&f, i + 1);
		name_of(name, sizeof(name), i + 1);
		fx_end(&f, name);
		append(&f, i, false);
	}
	/* crash: file NFILES ends in half an event, has no end, and is old */
	fx_event_one(&f, seq, (int64_t)seq);
	f.sb.size -= 4;
	append(&f, NFILES, false);
	name_of(name, sizeof(name), NFILES);
	snprintf(path, sizeof(path), "%s/%s", g_dir, name);
	struct timespec old[2] = {{time(NULL) - 60, 0}, {time(NULL) - 60, 0}};
	if (utimensat(AT_FDCWD, path, old, 0))
		abort();
	start_file(&f, NFILES + 1);
	for (int j = 0; j < NCRASH; j++, seq++)
		fx_event_one(&f, seq, (int64_t)seq);
	append(&f, NFILES + 1, false);
	fx_free(&f);
	return NULL;
}

static void test_reader_follow_rotation(void **state)
{
	char *base = fx_tmpdir(), dir[600];
	struct fx_damage d = {0};
	struct hb_reader *r;
	struct hb_rd_record rec;
	pthread_t th;
	uint64_t next = 0, total = NFILES * PER_FILE + NCRASH;
	int headers = 0;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/archive", base);
	g_dir = dir;
	assert_int_equal(fx_open(&r, dir, HB_RD_FOLLOW, &d), 0);
	assert_int_equal(pthread_create(&th, NULL, writer, NULL), 0);
	while (next < total) {
		assert_int_equal(hb_reader_next(r, &rec), 1);
		headers += rec.kind == HB_RD_HEADER;
		if (rec.kind != HB_RD_EVENT)
			continue;
		assert_int_equal(rec.seq, next);
		assert_int_equal(rec.vals[0].via.i64, (int64_t)next);
		assert_non_null(rec.type);
		next++;
	}
	pthread_join(th, NULL);
	assert_int_equal(headers, NFILES + 2);
	/* only the crashed file's torn tail is damage */
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.what[0], "truncated"));
	hb_reader_stop(r);
	assert_int_equal(hb_reader_next(r, &rec), 0);
	hb_reader_close(r);
	fx_rmdir(base);
}

static void *stopper(void *arg)
{
	sleep_us(100000);
	hb_reader_stop(arg);
	return NULL;
}

static void test_reader_follow_stop(void **state)
{
	char *dir = fx_tmpdir();
	struct fx_damage d = {0};
	struct hb_reader *r;
	struct hb_rd_record rec;
	pthread_t th;

	(void)state;
	assert_int_equal(fx_open(&r, dir, HB_RD_FOLLOW, &d), 0);
	assert_int_equal(pthread_create(&th, NULL, stopper, r), 0);
	assert_int_equal(hb_reader_next(r, &rec), 0);
	pthread_join(th, NULL);
	hb_reader_close(r);
	fx_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reader_follow_rotation),
		cmocka_unit_test(test_reader_follow_stop),
	};

	alarm(120);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
