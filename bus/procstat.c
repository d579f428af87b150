/* SPDX-License-Identifier: MIT */
/* procstat.c - process and host metrics from /proc (see procstat.h). */
#include "procstat.h"

#include "hbs/proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

uint64_t hbc_mono_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct hbc_proc_raw {
	uint64_t ticks;  /* utime + stime */
	uint64_t start;  /* starttime */
	uint64_t rss_pages;
	uint32_t threads;
};

/* The figures of /proc/PID/stat (hbs_proc.h splits it). */
static int hbc_proc_stat_read(int pid, struct hbc_proc_raw *raw)
{
	char buf[1024];
	const char *state;
	ssize_t n;

	n = hbs_proc_stat_read((uint32_t)pid, buf, sizeof(buf));
	if (n < 0)
		return n == -ENOENT ? -ESRCH : (int)n;
	state = hbs_proc_stat_field(buf, HBS_STAT_STATE);
	if (state && (*state == 'Z' || *state == 'X'))
		return -ESRCH; /* zombie: gone for our purposes */
	if (!hbs_proc_stat_field(buf, HBS_STAT_RSS))
		return -EINVAL;
	raw->ticks = hbs_proc_stat_u64(buf, HBS_STAT_UTIME) + hbs_proc_stat_u64(buf, HBS_STAT_STIME);
	raw->threads = (uint32_t)hbs_proc_stat_u64(buf, HBS_STAT_THREADS);
	raw->start = hbs_proc_stat_u64(buf, HBS_STAT_START);
	raw->rss_pages = hbs_proc_stat_u64(buf, HBS_STAT_RSS);
	return 0;
}

static int32_t hbc_proc_fd_count(int pid)
{
	char path[64];
	struct dirent *d;
	int32_t n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((d = readdir(dir)))
		if (d->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

void hbc_procstat_init(struct hbc_procstat *ps, int pid)
{
	*ps = (struct hbc_procstat){.pid = pid, .cpu_pct = -1, .fds = -1};
}

int hbc_procstat_sample(struct hbc_procstat *ps, uint64_t mono_ns)
{
	static long tck, page;
	struct hbc_proc_raw raw;
	int rc;

	if (!tck) {
		tck = sysconf(_SC_CLK_TCK);
		page = sysconf(_SC_PAGESIZE);
		if (tck <= 0)
			tck = 100;
		if (page <= 0)
			page = 4096;
	}
	rc = hbc_proc_stat_read(ps->pid, &raw);
	if (rc)
		return rc;
	if (ps->start_ticks && raw.start != ps->start_ticks)
		return -ESRCH; /* the pid now belongs to another process */
	ps->start_ticks = raw.start;
	if (ps->have_prev && mono_ns > ps->prev_ns && raw.ticks >= ps->prev_ticks)
		ps->cpu_pct = (double)(raw.ticks - ps->prev_ticks) / (double)tck * 1e9 /
			      (double)(mono_ns - ps->prev_ns) * 100.0;
	ps->prev_ticks = raw.ticks;
	ps->prev_ns = mono_ns;
	ps->have_prev = 1;
	ps->rss_bytes = raw.rss_pages * (uint64_t)page;
	ps->threads = raw.threads;
	ps->fds = hbc_proc_fd_count(ps->pid);
	return 0;
}

int hbc_proc_alive(int pid, uint64_t start_ticks)
{
	struct hbc_proc_raw raw;
	int rc;

	if (pid <= 0)
		return 0;
	rc = hbc_proc_stat_read(pid, &raw);
	if (rc == -ESRCH)
		return 0;
	if (rc)
		return 1; /* cannot tell: assume alive */
	return !start_ticks || raw.start == start_ticks;
}

static uint64_t hbc_meminfo_kb(const char *buf, const char *key)
{
	const char *p = strstr(buf, key);

	return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

int hbc_hoststat_read(struct hbc_hoststat *hs, const char *path)
{
	char buf[4096];
	struct statvfs sv;
	uint64_t avail;
	ssize_t n;

	memset(hs, 0, sizeof(*hs));
	hs->ncpu = (uint32_t)sysconf(_SC_NPROCESSORS_ONLN);
	n = hbs_proc_read("/proc/loadavg", buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	if (sscanf(buf, "%lf %lf %lf", &hs->load1, &hs->load5, &hs->load15) != 3)
		return -EINVAL;
	n = hbs_proc_read("/proc/meminfo", buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	hs->mem_total_bytes = hbc_meminfo_kb(buf, "MemTotal:") * 1024;
	avail = hbc_meminfo_kb(buf, "MemAvailable:") * 1024;
	hs->mem_used_bytes = hs->mem_total_bytes > avail ? hs->mem_total_bytes - avail : 0;
	if (path && statvfs(path, &sv) == 0) {
		hs->disk_total_bytes = (uint64_t)sv.f_blocks * sv.f_frsize;
		hs->disk_used_bytes = (uint64_t)(sv.f_blocks - sv.f_bfree) * sv.f_frsize;
	}
	return 0;
}

/* Packs key k; returns 1, the pair it opens. */
static unsigned hbc_pack_key(msgpack_packer *pk, const char *k)
{
	size_t n = strlen(k);

	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, k, n);
	return 1;
}

/* The keys of heartbeat element 8 in the order they are packed: its map's
 * size is the table's, not a count by hand. */
enum { HBC_PS_CPU, HBC_PS_RSS, HBC_PS_THREADS, HBC_PS_FDS };
static const char *const hbc_ps_keys[] = {"cpu_pct", "rss_bytes", "threads", "fds"};
#define HBC_NKEYS(t) (sizeof(t) / sizeof((t)[0]))

int hbc_procstat_pack(const struct hbc_procstat *ps, msgpack_packer *pk)
{
	msgpack_pack_map(pk, HBC_NKEYS(hbc_ps_keys));
	hbc_pack_key(pk, hbc_ps_keys[HBC_PS_CPU]);
	if (ps->cpu_pct < 0)
		msgpack_pack_nil(pk);
	else
		msgpack_pack_double(pk, ps->cpu_pct);
	hbc_pack_key(pk, hbc_ps_keys[HBC_PS_RSS]);
	msgpack_pack_uint64(pk, ps->rss_bytes);
	hbc_pack_key(pk, hbc_ps_keys[HBC_PS_THREADS]);
	msgpack_pack_uint32(pk, ps->threads);
	hbc_pack_key(pk, hbc_ps_keys[HBC_PS_FDS]);
	if (ps->fds < 0)
		msgpack_pack_nil(pk);
	else
		msgpack_pack_int32(pk, ps->fds);
	return 0;
}

unsigned hbc_hoststat_pack(const struct hbc_hoststat *hs, msgpack_packer *pk)
{
	unsigned n = 0; /* pairs, counted as their keys are packed */

	n += hbc_pack_key(pk, "load1");
	msgpack_pack_double(pk, hs->load1);
	n += hbc_pack_key(pk, "load5");
	msgpack_pack_double(pk, hs->load5);
	n += hbc_pack_key(pk, "load15");
	msgpack_pack_double(pk, hs->load15);
	n += hbc_pack_key(pk, "ncpu");
	msgpack_pack_uint32(pk, hs->ncpu);
	n += hbc_pack_key(pk, "mem_total_bytes");
	msgpack_pack_uint64(pk, hs->mem_total_bytes);
	n += hbc_pack_key(pk, "mem_used_bytes");
	msgpack_pack_uint64(pk, hs->mem_used_bytes);
	n += hbc_pack_key(pk, "disk_total_bytes");
	msgpack_pack_uint64(pk, hs->disk_total_bytes);
	n += hbc_pack_key(pk, "disk_used_bytes");
	msgpack_pack_uint64(pk, hs->disk_used_bytes);
	return n;
}
