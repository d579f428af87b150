/* SPDX-License-Identifier: MIT */
/*
 * procstat.h - process metrics of a producer and host metrics, read from
 * /proc at the collector's cost (no producer code involved).
 *
 * Process: CPU % (user + system, between two samples; 100 = one core),
 * resident set size, threads, open file descriptors.
 * Host: load averages, memory used/total (used = total - available), disk
 * use of the file system holding the archive.
 *
 * Archive encoding (docs/FORMAT.md, version 1.1): heartbeat element 8 is a
 * map {"cpu_pct", "rss_bytes", "threads", "fds"}; host figures go into a
 * periodic `host` bus record.
 */
#ifndef HB_BUS_PROCSTAT_H
#define HB_BUS_PROCSTAT_H

#include <msgpack.h>
#include <stdint.h>

struct hbc_procstat {
	int pid;
	int have_prev;      /* a previous sample exists: cpu_pct is meaningful */
	uint64_t prev_ticks; /* utime + stime at the previous sample */
	uint64_t prev_ns;    /* monotonic time of the previous sample */
	uint64_t start_ticks; /* process start time, clock ticks since boot */

	/* latest figures */
	double cpu_pct;     /* -1 until two samples were taken */
	uint64_t rss_bytes;
	uint32_t threads;
	int32_t fds;        /* -1 when /proc/PID/fd is not readable */
};

struct hbc_hoststat {
	double load1, load5, load15;
	uint64_t mem_total_bytes;
	uint64_t mem_used_bytes;
	uint64_t disk_total_bytes; /* 0 when no path was given or statvfs failed */
	uint64_t disk_used_bytes;
	uint32_t ncpu;
};

/* Starts tracking pid. */
void hbc_procstat_init(struct hbc_procstat *ps, int pid);

/* Reads /proc/PID/{stat,fd} at monotonic time mono_ns and updates ps.
 * 0, -ESRCH when the process is gone (or its pid was reused by another
 * process since init), or -errno. */
int hbc_procstat_sample(struct hbc_procstat *ps, uint64_t mono_ns);

/* 1 when pid runs and, if start_ticks is not 0, is the same process that
 * started at start_ticks (clock ticks since boot); 0 when it is gone. */
int hbc_proc_alive(int pid, uint64_t start_ticks);

/* Reads the host figures; disk use is that of the file system holding
 * path (may be NULL). 0 or -errno. */
int hbc_hoststat_read(struct hbc_hoststat *hs, const char *path);

/* Packs the process figures as the heartbeat's element 8 map. */
int hbc_procstat_pack(const struct hbc_procstat *ps, msgpack_packer *pk);

/* Packs the host figures as key/value pairs of a `host` bus record into
 * the map the caller opened; returns how many pairs it packed. */
unsigned hbc_hoststat_pack(const struct hbc_hoststat *hs, msgpack_packer *pk);

/* Monotonic clock in ns. */
uint64_t hbc_mono_now_ns(void);

#endif
