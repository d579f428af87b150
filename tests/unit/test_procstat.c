/* SPDX-License-Identifier: MIT */
/* Process and host metrics from /proc: own process, a child that exits,
 * CPU % of a busy process, and the msgpack encoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hbs/proc.h"
#include "procstat.h"

static void test_own_process(void **state)
{
	struct hbc_procstat ps;
	int fd = open("/dev/null", O_RDONLY);

	(void)state;
	hbc_procstat_init(&ps, getpid());
	assert_int_equal(hbc_procstat_sample(&ps, hbc_mono_now_ns()), 0);
	assert_true(ps.cpu_pct < 0); /* one sample: no rate yet */
	assert_true(ps.rss_bytes > 0);
	assert_int_equal(ps.threads, 1);
	assert_true(ps.fds >= 4); /* stdin, stdout, stderr, /dev/null */
	assert_true(ps.start_ticks > 0);
	close(fd);
}

static void test_busy_child_cpu(void **state)
{
	struct hbc_procstat ps;
	uint64_t t0;
	pid_t pid = fork();

	(void)state;
	assert_true(pid >= 0);
	if (pid == 0) {
		volatile unsigned long x = 0;

		for (;;)
			x++;
	}
	hbc_procstat_init(&ps, pid);
	assert_int_equal(hbc_procstat_sample(&ps, hbc_mono_now_ns()), 0);
	t0 = hbc_mono_now_ns();
	while (hbc_mono_now_ns() - t0 < 300000000ull)
		usleep(10000);
	assert_int_equal(hbc_procstat_sample(&ps, hbc_mono_now_ns()), 0);
	/* a spinning child uses some CPU and never more than all cores */
	assert_true(ps.cpu_pct > 0);
	assert_true(ps.cpu_pct <= 100.0 * (double)sysconf(_SC_NPROCESSORS_ONLN) + 5);
	assert_int_equal(hbc_proc_alive(pid, ps.start_ticks), 1);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_int_equal(hbc_proc_alive(pid, ps.start_ticks), 0);
	assert_int_equal(hbc_procstat_sample(&ps, hbc_mono_now_ns()), -ESRCH);
}

static void test_pid_reuse_is_not_alive(void **state)
{
	struct hbc_procstat ps;

	(void)state;
	hbc_procstat_init(&ps, getpid());
	assert_int_equal(hbc_procstat_sample(&ps, hbc_mono_now_ns()), 0);
	assert_int_equal(hbc_proc_alive(getpid(), ps.start_ticks), 1);
	assert_int_equal(hbc_proc_alive(getpid(), ps.start_ticks + 1), 0);
	assert_int_equal(hbc_proc_alive(getpid(), 0), 1);
	assert_int_equal(hbc_proc_alive(0, 0), 0);
}

/* One split of a stat line for the producer, the collector and procstat:
 * fields counted from the last ')', whatever the comm holds. */
static void test_stat_fields_after_comm(void **state)
{
	const char *line = "77 (a) b ) c) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 "
			   "18 987654321 20 21\n";

	(void)state;
	assert_int_equal(*hbs_proc_stat_field(line, HBS_STAT_STATE), 'S');
	assert_int_equal(hbs_proc_stat_u64(line, HBS_STAT_UTIME), 11);
	assert_int_equal(hbs_proc_stat_u64(line, HBS_STAT_STIME), 12);
	assert_int_equal(hbs_proc_stat_u64(line, HBS_STAT_THREADS), 17);
	assert_int_equal(hbs_proc_stat_u64(line, HBS_STAT_START), 987654321);
	assert_int_equal(hbs_proc_stat_u64(line, HBS_STAT_RSS), 21);
	assert_null(hbs_proc_stat_field(line, 25));
	assert_null(hbs_proc_stat_field("12 no comm", HBS_STAT_STATE));
	assert_null(hbs_proc_stat_field(line, 2));
}

static void test_host(void **state)
{
	struct hbc_hoststat hs;

	(void)state;
	assert_int_equal(hbc_hoststat_read(&hs, "/"), 0);
	assert_true(hs.ncpu >= 1);
	assert_true(hs.mem_total_bytes > 0);
	assert_true(hs.mem_used_bytes <= hs.mem_total_bytes);
	assert_true(hs.disk_total_bytes > 0);
	assert_true(hs.disk_used_bytes <= hs.disk_total_bytes);
	assert_true(hs.load1 >= 0);
}

static const msgpack_object *map_get(const msgpack_object *m, const char *key)
{
	uint32_t i;

	for (i = 0; i < m->via.map.size; i++) {
		const msgpack_object_kv *kv = &m->via.map.ptr[i];

		if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == strlen(key) &&
		    !memcmp(kv->key.via.str.ptr, key, strlen(key)))
			return &kv->val;
	}
	return NULL;
}

static void test_pack(void **state)
{
	struct hbc_procstat ps = {.cpu_pct = 12.5, .rss_bytes = 4096, .threads = 3, .fds = 7};
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;
	const msgpack_object *v;

	(void)state;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	hbc_procstat_pack(&ps, &pk);
	msgpack_unpacked_init(&u);
	assert_int_equal(msgpack_unpack_next(&u, sb.data, sb.size, NULL), MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(u.data.type, MSGPACK_OBJECT_MAP);
	assert_int_equal(u.data.via.map.size, 4);
	v = map_get(&u.data, "cpu_pct");
	assert_non_null(v);
	assert_true(v->via.f64 == 12.5);
	v = map_get(&u.data, "rss_bytes");
	assert_int_equal(v->via.u64, 4096);
	v = map_get(&u.data, "threads");
	assert_int_equal(v->via.u64, 3);
	v = map_get(&u.data, "fds");
	assert_int_equal(v->via.u64, 7);
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_own_process),
		cmocka_unit_test(test_busy_child_cpu),
		cmocka_unit_test(test_pid_reuse_is_not_alive),
		cmocka_unit_test(test_stat_fields_after_comm),
		cmocka_unit_test(test_host),
		cmocka_unit_test(test_pack),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
