/* SPDX-License-Identifier: MIT */
/*
 * bench_count - counts what an hb archive directory holds, with msgpack-c
 * only (docs/FORMAT.md, versions 1.x and 2.x): events (every event of a
 * batch), heartbeats, records lost in gap records, bytes. Used by
 * tools/bench.sh to check "zero loss" end to end.
 *
 * It also checks exactly-once per producer (one collector run, so one
 * producer per p): every sequence number from 0 to the highest is either
 * present once or covered by one gap record, and a producer's records come
 * in sequence order. count.seq_dup counts numbers present or covered more
 * than once, count.seq_missing numbers neither present nor covered,
 * count.seq_order records whose number is not above the previous one's.
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

/* The sequence numbers seen of one producer: a bit each. */
struct seqs {
	uint64_t p;
	uint64_t *bits;
	uint64_t nwords;
	uint64_t top;  /* highest seq seen + 1 */
	uint64_t next; /* seq after the last record, in file order */
};

static uint64_t events, heartbeats, gap_n, bytes, damaged;
static uint64_t seq_dup, seq_missing, seq_order;
static struct seqs *prods;
static size_t nprods;

static struct seqs *seqs_of(uint64_t p)
{
	static size_t last;
	size_t i;

	if (last < nprods && prods[last].p == p)
		return &prods[last];
	for (i = 0; i < nprods; i++)
		if (prods[i].p == p)
			return &prods[last = i];
	prods = realloc(prods, (nprods + 1) * sizeof(*prods));
	if (!prods)
		abort();
	memset(&prods[nprods], 0, sizeof(*prods));
	prods[nprods].p = p;
	return &prods[last = nprods++];
}

/* Marks seq of s seen; counts it when it was already. */
static void seqs_mark(struct seqs *s, uint64_t seq)
{
	uint64_t w = seq / 64, bit = 1ull << (seq % 64);

	if (w >= s->nwords) {
		uint64_t n = s->nwords ? s->nwords : 1024;

		while (n <= w)
			n *= 2;
		s->bits = realloc(s->bits, n * sizeof(*s->bits));
		if (!s->bits)
			abort();
		memset(s->bits + s->nwords, 0, (n - s->nwords) * sizeof(*s->bits));
		s->nwords = n;
	}
	if (s->bits[w] & bit)
		seq_dup++;
	s->bits[w] |= bit;
	if (seq >= s->top)
		s->top = seq + 1;
}

/* A record (event or heartbeat) of p with seq, in file order. */
static void note_record(uint64_t p, uint64_t seq)
{
	struct seqs *s = seqs_of(p);

	if (seq < s->next)
		seq_order++;
	s->next = seq + 1;
	seqs_mark(s, seq);
}

static int is_uint(const msgpack_object *o)
{
	return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER;
}

static int key_is(const msgpack_object *k, const char *name)
{
	size_t n = strlen(name);

	return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
	       !memcmp(k->via.str.ptr, name, n);
}

static void count_map(const msgpack_object *o)
{
	const msgpack_object_kv *kv = o->via.map.ptr;
	int is_gap = 0, have = 0;
	uint64_t p = 0, from = 0, to = 0, n = 0;

	for (uint32_t i = 0; i < o->via.map.size; i++) {
		const msgpack_object *k = &kv[i].key, *v = &kv[i].val;

		if (key_is(k, "k") && v->type == MSGPACK_OBJECT_STR && v->via.str.size == 3 &&
		    !memcmp(v->via.str.ptr, "gap", 3))
			is_gap = 1;
		if (!is_uint(v))
			continue;
		if (key_is(k, "n"))
			n = v->via.u64, have |= 1;
		else if (key_is(k, "p"))
			p = v->via.u64, have |= 2;
		else if (key_is(k, "from"))
			from = v->via.u64, have |= 4;
		else if (key_is(k, "to"))
			to = v->via.u64, have |= 8;
	}
	if (!is_gap)
		return;
	gap_n += n;
	if (have != 15 || to < from || to - from + 1 != n) {
		fprintf(stderr, "bench_count: malformed gap record\n");
		damaged++;
		return;
	}
	for (uint64_t s = from; s <= to; s++)
		seqs_mark(seqs_of(p), s);
}

/* [1|2, p, seq, ...] or a batch [3, p, seq0, ts0, e0, e1, ...] */
static void count_array(const msgpack_object *o)
{
	const msgpack_object *a = o->via.array.ptr;
	uint32_t n = o->via.array.size;

	if (n < 3 || !is_uint(&a[0]) || !is_uint(&a[1]) || !is_uint(&a[2]))
		return;
	switch (a[0].via.u64) {
	case 1:
		events++;
		note_record(a[1].via.u64, a[2].via.u64);
		break;
	case 2:
		heartbeats++;
		note_record(a[1].via.u64, a[2].via.u64);
		break;
	case 3:
		for (uint32_t i = 4; i < n; i++) {
			events++;
			note_record(a[1].via.u64, a[2].via.u64 + (i - 4));
		}
		break;
	}
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
		if (o.type == MSGPACK_OBJECT_ARRAY)
			count_array(&o);
		else if (o.type == MSGPACK_OBJECT_MAP)
			count_map(&o);
		msgpack_zone_clear(&zone);
	}
	msgpack_zone_destroy(&zone);
	munmap(m, (size_t)st.st_size);
}

/* Sequence numbers below the highest of each producer never seen. */
static void count_missing(void)
{
	for (size_t i = 0; i < nprods; i++) {
		struct seqs *s = &prods[i];
		uint64_t miss = s->top;

		for (uint64_t w = 0; w < s->nwords && w * 64 < s->top; w++)
			miss -= (uint64_t)__builtin_popcountll(s->bits[w]);
		if (miss)
			fprintf(stderr, "bench_count: p %llu: %llu of seqs 0..%llu missing\n",
				(unsigned long long)s->p, (unsigned long long)miss,
				(unsigned long long)s->top - 1);
		seq_missing += miss;
		free(s->bits);
	}
	free(prods);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	struct dirent *de;
	char path[4096], **names = NULL;
	size_t n = 0;
	DIR *d;

	if (argc != 2 || !(d = opendir(argv[1]))) {
		fprintf(stderr, "usage: bench_count DIR\n");
		return 2;
	}
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "hb-", 3))
			continue;
		names = realloc(names, (n + 1) * sizeof(*names));
		if (!names || !(names[n] = strdup(de->d_name)))
			abort();
		n++;
	}
	closedir(d);
	/* names sort in the order the files were written: records in order */
	qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", argv[1], names[i]);
		count_file(path);
		free(names[i]);
	}
	free(names);
	count_missing();
	bench_result("count.events", (double)events, "records");
	bench_result("count.heartbeats", (double)heartbeats, "records");
	bench_result("count.gap_n", (double)gap_n, "records");
	bench_result("count.bytes", (double)bytes, "bytes");
	bench_result("count.damaged", (double)damaged, "files");
	bench_result("count.seq_dup", (double)seq_dup, "records");
	bench_result("count.seq_missing", (double)seq_missing, "records");
	bench_result("count.seq_order", (double)seq_order, "records");
	return 0;
}
