/* SPDX-License-Identifier: MIT */
/* The io_uring writer: buffers land at their offsets in the order they were
 * filled, and are handed back (their marks applied) strictly in that order,
 * only once written - with every fsync mode. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hbc.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUFSZ (256u * 1024)
#define NBUFS 4
#define CHUNK 1000u

struct applied {
	uint64_t serials[4096];
	uint64_t upto[4096];
	size_t n;
};

static void on_apply(void *ctx, struct hbc_wbuf *b)
{
	struct applied *a = ctx;

	assert_true(a->n < 4096);
	a->serials[a->n] = b->serial;
	a->upto[a->n] = b->nmarks ? b->marks[b->nmarks - 1].upto : 0;
	a->n++;
}

static void writes_land_in_order(enum hbc_fsync mode)
{
	char path[] = "/tmp/hb-unit-writer.XXXXXX";
	static struct applied a;
	struct hbc_writer *w;
	struct hbc_source *ring = (struct hbc_source *)&a; /* only compared, never used */
	unsigned i, j, chunks = (3 * NBUFS * BUFSZ) / CHUNK;
	uint64_t total = 0;
	char *back;
	int fd;

	memset(&a, 0, sizeof(a));
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(hbc_writer_create(&w, NBUFS, BUFSZ, mode, 1000000, on_apply, &a), 0);
	hbc_writer_set_file(w, fd, 0);
	for (i = 0; i < chunks; i++) {
		struct hbc_wbuf *b;

		while (!(b = hbc_writer_buf(w, HBC_REC_MAX))) {
			hbc_writer_flush(w);
			hbc_writer_poll(w);
		}
		for (j = 0; j < CHUNK; j++)
			b->b.data[b->b.len + j] = (char)((total + j) * 7);
		b->b.len += CHUNK;
		total += CHUNK;
		assert_int_equal(hbc_wbuf_mark(b, ring, total, i + 1), 0);
		if (i % 100 == 99)
			hbc_writer_flush(w);
		hbc_writer_poll(w);
	}
	assert_int_equal(hbc_writer_file_size(w), total);
	assert_int_equal(hbc_writer_wait_idle(w, 0), 0);
	assert_true(hbc_writer_idle(w));
	assert_int_equal(hbc_writer_stats(w)->bytes, total);
	/* every buffer applied once, in serial order, marks never going back */
	assert_true(a.n >= 3 * NBUFS);
	for (i = 1; i < a.n; i++) {
		assert_int_equal(a.serials[i], a.serials[i - 1] + 1);
		assert_true(a.upto[i] >= a.upto[i - 1]);
	}
	assert_int_equal(a.upto[a.n - 1], total);
	assert_int_equal(hbc_writer_applied(w), a.serials[a.n - 1]);
	back = malloc(total);
	assert_int_equal(pread(fd, back, total, 0), (ssize_t)total);
	for (i = 0; i < total; i++)
		if (back[i] != (char)(i * 7))
			fail_msg("byte %u differs", i);
	free(back);
	hbc_writer_destroy(w);
	close(fd);
	unlink(path);
}

static void writes_land_in_order_fsync_never(void **state)
{
	(void)state;
	writes_land_in_order(HBC_FSYNC_NEVER);
}

static void writes_land_in_order_fsync_interval(void **state)
{
	(void)state;
	writes_land_in_order(HBC_FSYNC_INTERVAL);
}

static void writes_land_in_order_fsync_always(void **state)
{
	(void)state;
	writes_land_in_order(HBC_FSYNC_ALWAYS);
}

static void marks_without_bytes_are_applied(void **state)
{
	static struct applied a;
	struct hbc_writer *w;
	struct hbc_wbuf *b;

	(void)state;
	memset(&a, 0, sizeof(a));
	assert_int_equal(hbc_writer_create(&w, NBUFS, BUFSZ, HBC_FSYNC_ALWAYS, 1, on_apply, &a), 0);
	hbc_writer_set_file(w, -1, 0);
	b = hbc_writer_buf(w, 16);
	assert_non_null(b);
	assert_int_equal(hbc_wbuf_mark(b, (struct hbc_source *)&a, 64, 3), 0);
	assert_int_equal(hbc_writer_wait_idle(w, 0), 0);
	assert_int_equal(a.n, 1);
	assert_int_equal(a.upto[0], 64);
	hbc_writer_destroy(w);
}

static void a_failing_file_keeps_buffers(void **state)
{
	static struct applied a;
	struct hbc_writer *w;
	struct hbc_wbuf *b;
	int fd = open("/dev/null", O_RDONLY); /* writes fail with EBADF */

	(void)state;
	memset(&a, 0, sizeof(a));
	assert_int_equal(hbc_writer_create(&w, NBUFS, BUFSZ, HBC_FSYNC_NEVER, 1, on_apply, &a), 0);
	hbc_writer_set_file(w, fd, 0);
	b = hbc_writer_buf(w, 16);
	memcpy(b->b.data, "data", 4);
	b->b.len = 4;
	assert_int_equal(hbc_wbuf_mark(b, (struct hbc_source *)&a, 4, 1), 0);
	assert_int_equal(hbc_writer_wait_idle(w, 50000000), -EIO);
	assert_true(hbc_writer_failing(w));
	assert_int_equal(a.n, 0); /* never applied: the ring would keep its records */
	hbc_writer_destroy(w);
	close(fd);
}

static struct hbc_wbuf *put4(struct hbc_writer *w)
{
	struct hbc_wbuf *b = hbc_writer_buf(w, 16);

	assert_non_null(b);
	memcpy(b->b.data + b->b.len, "data", 4);
	b->b.len += 4;
	return b;
}

/* The per-pass kick sends the current buffer at once when nothing is in
 * flight, and lets it fill while a write is. A pipe kept full holds the
 * first write in flight. */
static void a_kick_lets_the_buffer_fill_while_a_write_is_in_flight(void **state)
{
	static struct applied a;
	char junk[65536];
	struct hbc_writer *w;
	uint64_t s2;
	int p[2], i;

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(junk, 'j', sizeof(junk));
	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	while (write(p[1], junk, sizeof(junk)) > 0)
		;
	assert_int_equal(hbc_writer_create(&w, NBUFS, BUFSZ, HBC_FSYNC_NEVER, 1, on_apply, &a), 0);
	hbc_writer_set_file(w, p[1], 0);
	put4(w);
	hbc_writer_kick(w); /* nothing in flight: out it goes, and stays (pipe full) */
	s2 = hbc_wbuf_serial(put4(w));
	for (i = 0; i < 3; i++) {
		hbc_writer_kick(w);
		hbc_writer_poll(w);
		assert_int_equal(hbc_wbuf_serial(put4(w)), s2); /* still filling */
	}
	assert_int_equal(a.n, 0);
	assert_false(hbc_writer_idle(w));
	while (read(p[0], junk, sizeof(junk)) > 0) /* the first write completes */
		;
	for (i = 0; i < 5000 && a.n == 0; i++) {
		hbc_writer_wait(w, 1000000);
		hbc_writer_poll(w);
	}
	assert_int_equal(a.n, 1);
	hbc_writer_kick(w); /* nothing in flight now: sealed and sent */
	assert_int_not_equal(hbc_wbuf_serial(put4(w)), s2);
	close(p[0]); /* the rest fails on a closed pipe; nothing more to check */
	hbc_writer_destroy(w);
	close(p[1]);
}

/* A file rotated away is synced and closed in the background; waiting for
 * the writer to be idle does not wait for that. */
static void a_retired_file_is_synced_and_closed_later(void **state)
{
	char path[] = "/tmp/hb-unit-writer.XXXXXX";
	static struct applied a;
	struct hbc_writer *w;
	struct stat st;
	int fd, i;

	(void)state;
	memset(&a, 0, sizeof(a));
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(hbc_writer_create(&w, NBUFS, BUFSZ, HBC_FSYNC_INTERVAL, 1000000000, on_apply, &a), 0);
	hbc_writer_set_file(w, fd, 0);
	put4(w);
	assert_int_equal(hbc_writer_wait_idle(w, 0), 0);
	hbc_writer_retire(w, fd, 1);
	assert_int_equal(hbc_writer_wait_idle(w, 0), 0);
	for (i = 0; i < 5000 && fcntl(fd, F_GETFD) != -1; i++) {
		hbc_writer_wait(w, 1000000);
		hbc_writer_poll(w);
	}
	assert_int_equal(fcntl(fd, F_GETFD), -1); /* closed by the writer */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 4);
	hbc_writer_destroy(w);
	unlink(path);
}

static uint64_t waited_ms(struct hbc_writer *w, uint64_t timeout_ms)
{
	uint64_t t0 = hbc_mono_ns();

	hbc_writer_wait(w, timeout_ms * 1000000);
	return (hbc_mono_ns() - t0) / 1000000;
}

/* A wait ends when the wake descriptor is readable (the collector's
 * inotify: a new ring), with nothing in flight and with a write in
 * flight; once the descriptor is no longer watched, waits last their
 * timeout. */
static void a_readable_wake_descriptor_ends_a_wait(void **state)
{
	char path[] = "/tmp/hb-unit-writer.XXXXXX";
	static struct applied a;
	struct hbc_writer *w;
	int p[2], fd;
	char c;

	(void)state;
	memset(&a, 0, sizeof(a));
	assert_int_equal(pipe(p), 0);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(hbc_writer_create(&w, NBUFS, BUFSZ, HBC_FSYNC_NEVER, 0, on_apply, &a), 0);
	hbc_writer_set_file(w, fd, 0);
	hbc_writer_wake_on(w, p[0]);
	assert_true(waited_ms(w, 20) >= 15); /* nothing readable: the timeout */
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_true(waited_ms(w, 5000) < 2500);
	hbc_writer_poll(w);
	assert_true(waited_ms(w, 5000) < 2500); /* still readable: at once again */
	hbc_writer_poll(w);
	assert_int_equal(read(p[0], &c, 1), 1);
	put4(w);
	hbc_writer_flush(w); /* a write in flight, or done: the wait is io_uring's */
	assert_int_equal(write(p[1], "y", 1), 1);
	assert_true(waited_ms(w, 5000) < 2500);
	assert_int_equal(hbc_writer_wait_idle(w, 0), 0);
	assert_int_equal(read(p[0], &c, 1), 1);
	hbc_writer_wait(w, 1000000); /* the poll armed now is the last one */
	hbc_writer_wake_on(w, -1);
	assert_int_equal(write(p[1], "z", 1), 1);
	hbc_writer_wait(w, 1000000);
	hbc_writer_poll(w);
	assert_true(waited_ms(w, 20) >= 15); /* readable, no longer watched */
	assert_int_equal(a.n, 1);
	hbc_writer_destroy(w);
	close(p[0]);
	close(p[1]);
	close(fd);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(writes_land_in_order_fsync_never),
		cmocka_unit_test(writes_land_in_order_fsync_interval),
		cmocka_unit_test(writes_land_in_order_fsync_always),
		cmocka_unit_test(marks_without_bytes_are_applied),
		cmocka_unit_test(a_failing_file_keeps_buffers),
		cmocka_unit_test(a_kick_lets_the_buffer_fill_while_a_write_is_in_flight),
		cmocka_unit_test(a_retired_file_is_synced_and_closed_later),
		cmocka_unit_test(a_readable_wake_descriptor_ends_a_wait),
	};

	hbc_verbosity = -1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
