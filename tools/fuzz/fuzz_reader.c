/* SPDX-License-Identifier: MIT */
/*
 * fuzz_reader - the archive reader (include/hb_reader.h) on hostile
 * archives: whole files and directories, and follow mode, where the input
 * is appended chunk by chunk (and rotated into new files) from the
 * reader's on_idle callback, the way a live collector grows the archive.
 *
 * Every record returned is walked completely (msgpack objects, producer
 * tables, raw bytes, the record packed as a standalone object) so that
 * ASan sees any dangling or out of bounds pointer; damage reports must
 * point inside the file.
 *
 * Input: mode u8; whole-file mode: split u16, then the bytes (split in two
 * files when mode & 4); follow mode (mode & 1): nchunks u8, per chunk
 * len u16 + flags u8 (1 = start a new file first), then the bytes.
 */
#include "fuzz_input.h"
#include "hb_reader.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_RECORDS 100000
#define MAX_CHUNKS 16

static char dir[64];
static volatile uint64_t sink;

struct feed {
	struct hb_reader *r;
	const uint8_t *p;
	size_t n;
	unsigned nchunks, next, files;
	uint16_t len[MAX_CHUNKS];
	uint8_t flags[MAX_CHUNKS];
	int fd;
};

static void dir_clear(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[128];

	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
}

static int file_new(unsigned i)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/hb-20261123T1613%02u.000000000Z.msgpack", dir, i % 60);
	return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
}

static void file_write(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		CHECK(w > 0);
		p += w;
		n -= (size_t)w;
	}
}

static void dir_remove(void)
{
	dir_clear();
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "/tmp/hb-fuzz-reader.%d", (int)getpid());
	mkdir(dir, 0700);
	atexit(dir_remove);
	return 0;
}

static void damage(void *ctx, const char *file, uint64_t offset, uint64_t len, const char *what)
{
	(void)ctx;
	CHECK(file && what);
	sink += offset + len + strlen(file) + strlen(what);
}

static void obj_walk(const msgpack_object *o, int depth)
{
	uint32_t i;

	CHECK(depth < 1000);
	switch (o->type) {
	case MSGPACK_OBJECT_STR:
	case MSGPACK_OBJECT_BIN:
		for (i = 0; i < o->via.str.size; i++)
			sink += (uint8_t)o->via.str.ptr[i];
		break;
	case MSGPACK_OBJECT_EXT:
		for (i = 0; i < o->via.ext.size; i++)
			sink += (uint8_t)o->via.ext.ptr[i];
		break;
	case MSGPACK_OBJECT_ARRAY:
		for (i = 0; i < o->via.array.size; i++)
			obj_walk(&o->via.array.ptr[i], depth + 1);
		break;
	case MSGPACK_OBJECT_MAP:
		for (i = 0; i < o->via.map.size; i++) {
			obj_walk(&o->via.map.ptr[i].key, depth + 1);
			obj_walk(&o->via.map.ptr[i].val, depth + 1);
		}
		break;
	default:
		sink += o->via.u64;
	}
}

static void str_walk(const char *s)
{
	if (s)
		sink += strlen(s);
}

static void producer_walk(const struct hb_rd_producer *p)
{
	uint32_t i, j;

	str_walk(p->name);
	str_walk(p->thread);
	str_walk(p->host);
	str_walk(p->ring);
	for (i = 0; i < p->ntypes; i++) {
		const struct hb_rd_type *t = &p->types[i];

		str_walk(t->name);
		for (j = 0; j < t->nfields; j++) {
			str_walk(t->fields[j]);
			sink += t->ftypes[j];
		}
	}
	for (i = 0; i < p->nmetrics; i++) {
		str_walk(p->metrics[i].name);
		sink += p->metrics[i].kind;
	}
}

/* The record as a standalone object: it must decode as one, whole. */
static void packed_walk(const struct hb_rd_record *rec)
{
	static char buf[1 << 16];
	size_t n = hb_rd_format_msgpack(buf, sizeof(buf), rec), off = 0;
	msgpack_unpacked u;

	CHECK(n > 0);
	if (n > sizeof(buf))
		return;
	msgpack_unpacked_init(&u);
	CHECK(msgpack_unpack_next(&u, buf, n, &off) == MSGPACK_UNPACK_SUCCESS && off == n);
	msgpack_unpacked_destroy(&u);
}

static void record_walk(const struct hb_rd_record *rec)
{
	uint32_t i;

	CHECK(rec->kind >= HB_RD_EVENT && rec->kind <= HB_RD_HEADER);
	CHECK(rec->obj && rec->file);
	/* only an event of a batch has no bytes of its own */
	CHECK(rec->raw ? rec->raw_len > 0 : rec->kind == HB_RD_EVENT && !rec->raw_len);
	for (i = 0; i < rec->raw_len; i++)
		sink += (uint8_t)rec->raw[i];
	packed_walk(rec);
	obj_walk(rec->obj, 0);
	str_walk(rec->bus_kind);
	str_walk(rec->status);
	if (rec->producer)
		producer_walk(rec->producer);
	if (rec->type) {
		str_walk(rec->type->name);
		sink += rec->type->nfields;
	}
	for (i = 0; i < rec->nvals; i++)
		obj_walk(&rec->vals[i], 0);
	if (rec->metrics)
		obj_walk(rec->metrics, 0);
	sink += (uint64_t)(int64_t)rec->prio + rec->seq + rec->ts_ns;
	str_walk(hb_prio_name(rec->prio));
}

/* Every record is at least one byte of what was written: more records
 * than bytes means the reader went round in circles. */
static void read_all(struct hb_reader *r, size_t bytes)
{
	struct hb_rd_record rec;
	size_t i;
	int rc = 1;

	for (i = 0; i < MAX_RECORDS && (rc = hb_reader_next(r, &rec)) == 1; i++)
		record_walk(&rec);
	CHECK(rc <= 1);
	CHECK(i <= bytes);
}

/* Follow mode: each time the reader runs dry, the next chunk is appended
 * (to a new file when asked); when the input is used up, stop. */
static void feed_idle(void *ctx)
{
	struct feed *fd = ctx;
	size_t len;

	if (fd->next >= fd->nchunks) {
		hb_reader_stop(fd->r);
		return;
	}
	len = fd->len[fd->next] < fd->n ? fd->len[fd->next] : fd->n;
	if ((fd->flags[fd->next] & 1) && fd->files < 50) {
		close(fd->fd);
		fd->fd = file_new(++fd->files);
		CHECK(fd->fd >= 0);
	}
	file_write(fd->fd, fd->p, len);
	fd->p += len;
	fd->n -= len;
	fd->next++;
}

static void run_follow(struct fz *f)
{
	struct feed fd = {0};
	struct hb_reader_opts o = {.flags = HB_RD_FOLLOW, .poll_ms = 1, .on_damage = damage,
				   .on_idle = feed_idle, .ctx = &fd};
	const char *paths[1] = {dir};
	unsigned i;

	fd.nchunks = fz_u8(f) % (MAX_CHUNKS + 1);
	for (i = 0; i < fd.nchunks; i++) {
		fd.len[i] = fz_u16(f);
		fd.flags[i] = fz_u8(f);
	}
	fd.p = f->p;
	fd.n = f->n;
	fd.fd = file_new(0);
	CHECK(fd.fd >= 0);
	CHECK(hb_reader_open(&fd.r, paths, 1, &o) == 0);
	read_all(fd.r, f->n);
	hb_reader_close(fd.r);
	close(fd.fd);
}

static void run_whole(struct fz *f, uint8_t mode)
{
	struct hb_reader_opts o = {.on_damage = damage};
	char path[128];
	const char *paths[1] = {path};
	size_t split = fz_u16(f), n;
	struct hb_reader *r;
	int fd;

	n = f->n;
	fd = file_new(0);
	CHECK(fd >= 0);
	if (mode & 4) {
		split = split < n ? split : n;
		file_write(fd, f->p, split);
		close(fd);
		fd = file_new(1);
		file_write(fd, f->p + split, n - split);
	} else {
		file_write(fd, f->p, n);
	}
	close(fd);
	if (mode & 2)
		snprintf(path, sizeof(path), "%s/hb-20261123T161300.000000000Z.msgpack", dir);
	else
		snprintf(path, sizeof(path), "%s", dir);
	CHECK(hb_reader_open(&r, paths, 1, &o) == 0);
	read_all(r, n);
	CHECK(hb_reader_next(r, &(struct hb_rd_record){0}) <= 0);
	hb_reader_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = {data, size};
	uint8_t mode = fz_u8(&f);

	dir_clear();
	if (mode & 1)
		run_follow(&f);
	else
		run_whole(&f, mode);
	return 0;
}
