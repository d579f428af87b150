/* SPDX-License-Identifier: MIT */
/*
 * archive.c - archive files on disk: names, recovery of what a previous run
 * left (torn tail, sequence numbers persisted), retention.
 *
 * Recovery relies on how the collector writes: a ring's tail is released
 * only after every buffer before the one holding its records completed, so
 * anything after the first damaged byte of the newest file was never
 * released and is still in its ring. Truncating there loses nothing, and
 * the highest sequence number before it is exactly what was persisted.
 */
#include "hbc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HBC_SCAN_FILES_MAX 4 /* older files scanned while the newer state no producer */
#define HBC_P_MAX (1u << 20)

void hbc_file_name(uint64_t ns, char *buf, size_t len)
{
	time_t sec = (time_t)(ns / 1000000000u);
	struct tm tm;

	gmtime_r(&sec, &tm);
	snprintf(buf, len, "hb-%04d%02d%02dT%02d%02d%02d.%09luZ.msgpack", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned long)(ns % 1000000000u));
}

int hbc_file_name_parse(const char *name, uint64_t *ns)
{
	unsigned Y, M, D, h, m, s;
	unsigned long frac;
	struct tm tm = {0};
	int n = 0;
	time_t t;

	if (sscanf(name, "hb-%4u%2u%2uT%2u%2u%2u.%9luZ.msgpack%n", &Y, &M, &D, &h, &m, &s, &frac,
		   &n) != 7 ||
	    n != (int)strlen(name) || strlen(name) != 37)
		return -EINVAL;
	tm.tm_year = (int)Y - 1900;
	tm.tm_mon = (int)M - 1;
	tm.tm_mday = (int)D;
	tm.tm_hour = (int)h;
	tm.tm_min = (int)m;
	tm.tm_sec = (int)s;
	t = timegm(&tm);
	if (t < 0)
		return -EINVAL;
	*ns = (uint64_t)t * 1000000000u + frac;
	return 0;
}

/* ---- learned sequence numbers ---------------------------------------- */

static struct hbc_seen *hbc_learned_find(const struct hbc_learned *l, const char *ring,
					 uint64_t start_ns)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].start_ns == start_ns && !strcmp(l->v[i].ring, ring))
			return &l->v[i];
	return NULL;
}

uint64_t hbc_learned_get(const struct hbc_learned *l, const char *ring, uint64_t start_ns)
{
	struct hbc_seen *s = hbc_learned_find(l, ring, start_ns);

	return s ? s->seq_next : 0;
}

static long hbc_learned_slot(struct hbc_learned *l, const char *ring, uint64_t start_ns)
{
	struct hbc_seen *s = hbc_learned_find(l, ring, start_ns);

	if (s)
		return s - l->v;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct hbc_seen *nv = realloc(l->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = cap;
	}
	s = &l->v[l->n];
	snprintf(s->ring, sizeof(s->ring), "%s", ring);
	s->start_ns = start_ns;
	s->seq_next = 0;
	return (long)l->n++;
}

void hbc_learned_free(struct hbc_learned *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* ---- listing ----------------------------------------------------------- */

struct hbc_flist {
	char (*names)[HBC_FNAME_MAX];
	uint64_t *sizes;
	size_t n;
};

static int hbc_name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Archive files of dir in name (= time) order, with their sizes. */
static int hbc_flist_read(const char *dir, struct hbc_flist *fl)
{
	size_t cap = 0, i;
	struct dirent *de;
	uint64_t ns;
	DIR *d;

	memset(fl, 0, sizeof(*fl));
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (hbc_file_name_parse(de->d_name, &ns))
			continue;
		if (fl->n == cap) {
			void *nn;

			cap = cap ? cap * 2 : 64;
			nn = realloc(fl->names, cap * sizeof(*fl->names));
			if (!nn) {
				closedir(d);
				return -ENOMEM;
			}
			fl->names = nn;
		}
		memcpy(fl->names[fl->n++], de->d_name, strlen(de->d_name) + 1); /* 37 bytes */
	}
	closedir(d);
	if (fl->n)
		qsort(fl->names, fl->n, sizeof(*fl->names), hbc_name_cmp);
	fl->sizes = calloc(fl->n ? fl->n : 1, sizeof(*fl->sizes));
	if (!fl->sizes)
		return -ENOMEM;
	for (i = 0; i < fl->n; i++) {
		char path[4096 + HBC_FNAME_MAX];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, fl->names[i]);
		fl->sizes[i] = stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
	}
	return 0;
}

static void hbc_flist_free(struct hbc_flist *fl)
{
	free(fl->names);
	free(fl->sizes);
	memset(fl, 0, sizeof(*fl));
}

/* ---- scanning one file --------------------------------------------------- */

struct hbc_scan {
	struct hbc_learned *learned;
	long *p2l; /* producer number -> learned slot + 1 */
	uint32_t np;
	int producers; /* producer records seen */
	int last_is_end;
};

static const msgpack_object *hbc_map_get(const msgpack_object *o, const char *key)
{
	size_t n = strlen(key);
	uint32_t i;

	for (i = 0; i < o->via.map.size; i++) {
		const msgpack_object *k = &o->via.map.ptr[i].key;

		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
		    !memcmp(k->via.str.ptr, key, n))
			return &o->via.map.ptr[i].val;
	}
	return NULL;
}

static int hbc_obj_u64(const msgpack_object *o, uint64_t *v)
{
	if (!o || o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return -EINVAL;
	*v = o->via.u64;
	return 0;
}

static int hbc_obj_is(const msgpack_object *o, const char *s)
{
	size_t n = strlen(s);

	return o && o->type == MSGPACK_OBJECT_STR && o->via.str.size == n &&
	       !memcmp(o->via.str.ptr, s, n);
}

static void hbc_scan_seq(struct hbc_scan *sc, uint64_t p, uint64_t seq_next)
{
	long slot;

	if (p >= sc->np || !(slot = sc->p2l[p]))
		return;
	if (seq_next > sc->learned->v[slot - 1].seq_next)
		sc->learned->v[slot - 1].seq_next = seq_next;
}

static void hbc_scan_producer(struct hbc_scan *sc, const msgpack_object *o)
{
	const msgpack_object *ring = hbc_map_get(o, "ring"), *start = hbc_map_get(o, "start");
	uint64_t p, seq_next = 0, start_ns = 0;
	msgpack_timestamp ts;
	char name[256];
	long slot;

	if (hbc_obj_u64(hbc_map_get(o, "p"), &p) || p >= HBC_P_MAX || !ring ||
	    ring->type != MSGPACK_OBJECT_STR || ring->via.str.size >= sizeof(name))
		return;
	memcpy(name, ring->via.str.ptr, ring->via.str.size);
	name[ring->via.str.size] = 0;
	if (start && msgpack_object_to_timestamp(start, &ts) && ts.tv_sec >= 0)
		start_ns = (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
	slot = hbc_learned_slot(sc->learned, name, start_ns);
	if (slot < 0)
		return;
	if (p >= sc->np) {
		uint32_t np = (uint32_t)p * 2 + 16;
		long *n = realloc(sc->p2l, np * sizeof(*n));

		if (!n)
			return;
		memset(n + sc->np, 0, (np - sc->np) * sizeof(*n));
		sc->p2l = n;
		sc->np = np;
	}
	sc->p2l[p] = slot + 1;
	sc->producers++;
	hbc_obj_u64(hbc_map_get(o, "seq_next"), &seq_next);
	hbc_scan_seq(sc, p, seq_next);
}

/* One top-level object; -EBADMSG when it cannot be something we wrote. */
static int hbc_scan_obj(struct hbc_scan *sc, const msgpack_object *o)
{
	uint64_t kind, p, seq;

	sc->last_is_end = 0;
	if (o->type == MSGPACK_OBJECT_ARRAY) {
		uint32_t n = o->via.array.size;

		if (n < 3 || hbc_obj_u64(&o->via.array.ptr[0], &kind) || kind < 1 || kind > 3 ||
		    hbc_obj_u64(&o->via.array.ptr[1], &p) ||
		    hbc_obj_u64(&o->via.array.ptr[2], &seq) || (kind == 3 && n < 5))
			return -EBADMSG;
		/* a batch (format 2.0) holds seq0 .. seq0 + events - 1 */
		hbc_scan_seq(sc, p, seq + (kind == 3 ? n - 4 : 1));
		return 0;
	}
	if (o->type != MSGPACK_OBJECT_MAP)
		return -EBADMSG;
	const msgpack_object *k = hbc_map_get(o, "k");

	if (!k || k->type != MSGPACK_OBJECT_STR)
		return -EBADMSG;
	if (hbc_obj_is(k, "producer"))
		hbc_scan_producer(sc, o);
	else if (hbc_obj_is(k, "gap") && !hbc_obj_u64(hbc_map_get(o, "p"), &p) &&
		 !hbc_obj_u64(hbc_map_get(o, "to"), &seq))
		hbc_scan_seq(sc, p, seq + 1);
	else if (hbc_obj_is(k, "end"))
		sc->last_is_end = 1;
	return 0;
}

/* Scans path; *good_len = bytes up to the end of the last object before
 * the first damage; *has_end when that object is an `end`. */
static int hbc_scan_file(const char *path, struct hbc_learned *learned, uint64_t *good_len,
			 uint64_t *file_len, int *has_end, int *producers)
{
	struct hbc_scan sc = {.learned = learned};
	msgpack_unpacked u;
	struct stat st;
	size_t off = 0;
	char *map;
	int fd;

	*good_len = *file_len = 0;
	*has_end = *producers = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_size == 0) {
		close(fd);
		return 0;
	}
	*file_len = (uint64_t)st.st_size;
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return -errno;
	msgpack_unpacked_init(&u);
	for (;;) {
		size_t at = off;

		if (msgpack_unpack_next(&u, map, (size_t)st.st_size, &off) != MSGPACK_UNPACK_SUCCESS ||
		    hbc_scan_obj(&sc, &u.data)) {
			off = at;
			break;
		}
	}
	msgpack_unpacked_destroy(&u);
	munmap(map, (size_t)st.st_size);
	free(sc.p2l);
	*good_len = off;
	*has_end = sc.last_is_end;
	*producers = sc.producers;
	return 0;
}

int hbc_archive_scan(const char *dir, struct hbc_recovery *rec, struct hbc_learned *learned)
{
	struct hbc_flist fl;
	size_t i, scanned = 0;
	int rc;

	memset(rec, 0, sizeof(*rec));
	rc = hbc_flist_read(dir, &fl);
	if (rc)
		return rc;
	for (i = fl.n; i-- > 0 && scanned < HBC_SCAN_FILES_MAX; scanned++) {
		char path[4096 + HBC_FNAME_MAX];
		uint64_t good, len;
		int has_end, producers;

		snprintf(path, sizeof(path), "%s/%s", dir, fl.names[i]);
		rc = hbc_scan_file(path, learned, &good, &len, &has_end, &producers);
		if (rc)
			break;
		if (i == fl.n - 1) {
			snprintf(rec->newest, sizeof(rec->newest), "%s", fl.names[i]);
			hbc_file_name_parse(fl.names[i], &rec->newest_ns);
			rec->good_len = good;
			rec->file_len = len;
			rec->has_end = has_end;
		}
		if (producers)
			break;
	}
	hbc_flist_free(&fl);
	return rc;
}

int hbc_archive_finish(const char *dir, const struct hbc_recovery *rec, const char *next)
{
	char path[4096 + HBC_FNAME_MAX], data[512];
	struct hbc_buf b = {.data = data, .cap = sizeof(data)};
	msgpack_packer pk;
	int fd, rc = 0;

	if (!rec->newest[0] || rec->has_end)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", dir, rec->newest);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (rec->good_len < rec->file_len) {
		hbc_info("%s: cutting a torn tail of %llu bytes at offset %llu", rec->newest,
			 (unsigned long long)(rec->file_len - rec->good_len),
			 (unsigned long long)rec->good_len);
		if (ftruncate(fd, (off_t)rec->good_len) < 0)
			rc = -errno;
	}
	hbc_packer_init(&pk, &b);
	hbc_enc_end(&pk, hbc_now_ns(), next);
	if (!rc && pwrite(fd, b.data, b.len, (off_t)rec->good_len) != (ssize_t)b.len)
		rc = errno ? -errno : -EIO;
	if (!rc && fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* The oldest file named by a shipper's position (hbship-*.pos, "file NAME"
 * on its second line) in dir into name; "" when there is none. */
static void hbc_unshipped(const char *dir, char *name, size_t len)
{
	char path[4096 + 300], line[128], f[40];
	struct dirent *de;
	DIR *d = opendir(dir);
	FILE *fp;
	uint64_t ns;

	name[0] = 0;
	if (!d)
		return;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (strncmp(de->d_name, "hbship-", 7) || n < 12 || strcmp(de->d_name + n - 4, ".pos"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		fp = fopen(path, "r");
		if (!fp)
			continue;
		if (fgets(line, sizeof(line), fp) && fgets(line, sizeof(line), fp) &&
		    sscanf(line, "file %39s", f) == 1 && !hbc_file_name_parse(f, &ns) &&
		    (!name[0] || strcmp(f, name) < 0))
			snprintf(name, len, "%s", f);
		fclose(fp);
	}
	closedir(d);
}

int hbc_archive_retain(const char *dir, const char *keep, uint64_t max_files, uint64_t max_bytes)
{
	uint64_t total = 0, count;
	char unshipped[HBC_FNAME_MAX];
	struct hbc_flist fl;
	size_t i;
	int rc;

	if (!max_files && !max_bytes)
		return 0;
	hbc_unshipped(dir, unshipped, sizeof(unshipped));
	rc = hbc_flist_read(dir, &fl);
	if (rc)
		return rc;
	for (i = 0; i < fl.n; i++)
		total += fl.sizes[i];
	count = fl.n;
	for (i = 0; i < fl.n; i++) {
		char path[4096 + HBC_FNAME_MAX];

		if (!((max_files && count > max_files) || (max_bytes && total > max_bytes)))
			break;
		if (!strcmp(fl.names[i], keep))
			break; /* never the live file (the newest anyway) */
		int lost = unshipped[0] && strcmp(fl.names[i], unshipped) >= 0;
		if (lost && !(max_bytes && total > max_bytes))
			break; /* not shipped yet: only the byte limit may force it */
		snprintf(path, sizeof(path), "%s/%s", dir, fl.names[i]);
		if (unlink(path) < 0 && errno != ENOENT) {
			rc = -errno;
			break;
		}
		if (lost)
			hbc_warn("retention: removed %s before hbship shipped it (--retain-bytes)",
				 fl.names[i]);
		else
			hbc_info("retention: removed %s", fl.names[i]);
		count--;
		total -= fl.sizes[i];
	}
	hbc_flist_free(&fl);
	return rc;
}
