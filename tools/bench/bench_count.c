/* SPDX-License-Identifier: MIT */
/*
 * bench_count - counts what an hb archive directory holds, with msgpack-c
 * only (docs/FORMAT.md): events, heartbeats, records lost in gap records,
 * bytes. Used by tools/bench.sh to check "zero loss" end to end.
 *
 *   bench_count DIR
 */
#include "bench_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <msgpack.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static uint64_t events, heartbeats, gap_n, bytes, damaged;

static void count_map(const msgpack_object *o)
{
	const msgpack_object_kv *kv = o->via.map.ptr;
	int is_gap = 0;
	uint64_t n = 0;

	for (uint32_t i = 0; i < o->via.map.size; i++) {
		const msgpack_object *k = &kv[i].key, *v = &kv[i].val;

		if (k->type != MSGPACK_OBJECT_STR)
			continue;
		if (k->via.str.size == 1 && k->via.str.ptr[0] == 'k' && v->type == MSGPACK_OBJECT_STR &&
		    v->via.str.size == 3 && !memcmp(v->via.str.ptr, "gap", 3))
			is_gap = 1;
		if (k->via.str.size == 1 && k->via.str.ptr[0] == 'n' &&
		    v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
			n = v->via.u64;
	}
	if (is_gap)
		gap_n += n;
}

static void count_file(const char *path)
{
	msgpack_zone zone;
	msgpack_object o;
	struct stat st;
	size_t off = 0;
	void *m;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) || st.st_size == 0) {
		if (fd >= 0)
			close(fd);
		return;
	}
	bytes += (uint64_t)st.st_size;
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return;
	msgpack_zone_init(&zone, 1 << 16);
	while (off < (size_t)st.st_size) {
		msgpack_unpack_return r = msgpack_unpack(m, (size_t)st.st_size, &off, &zone, &o);

		if (r != MSGPACK_UNPACK_SUCCESS && r != MSGPACK_UNPACK_EXTRA_BYTES) {
			damaged++;
			break;
		}
		if (o.type == MSGPACK_OBJECT_ARRAY && o.via.array.size > 0 &&
		    o.via.array.ptr[0].type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
			events += o.via.array.ptr[0].via.u64 == 1;
			heartbeats += o.via.array.ptr[0].via.u64 == 2;
		} else if (o.type == MSGPACK_OBJECT_MAP) {
			count_map(&o);
		}
		msgpack_zone_clear(&zone);
	}
	msgpack_zone_destroy(&zone);
	munmap(m, (size_t)st.st_size);
}

int main(int argc, char **argv)
{
	struct dirent *de;
	char path[4096];
	DIR *d;

	if (argc != 2 || !(d = opendir(argv[1]))) {
		fprintf(stderr, "usage: bench_count DIR\n");
		return 2;
	}
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "hb-", 3))
			continue;
		snprintf(path, sizeof(path), "%s/%s", argv[1], de->d_name);
		count_file(path);
	}
	closedir(d);
	bench_result("count.events", (double)events, "records");
	bench_result("count.heartbeats", (double)heartbeats, "records");
	bench_result("count.gap_n", (double)gap_n, "records");
	bench_result("count.bytes", (double)bytes, "bytes");
	bench_result("count.damaged", (double)damaged, "files");
	return 0;
}
