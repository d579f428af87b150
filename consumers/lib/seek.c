/* SPDX-License-Identifier: MIT */
/* Time-range seeking: loading a file's index records and planning reads. */
#include "seek.h"

#include <errno.h>
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

/* How far from the end the last index record is looked for. The collector
 * writes one every ~1 MiB and one before `end`. */
#define HB_RD_INDEX_WINDOW (16u << 20)
#define HB_RD_INDEX_MAX_CHAIN (1u << 20)

/* Map header (9 pairs) and the first pair, "k": "index". */
static const uint8_t hb_rd_index_magic[] = {0x89, 0xa1, 'k', 0xa5, 'i', 'n', 'd', 'e', 'x'};

struct hb_rd_index_rec {
	uint64_t at, prev, from, ts_min, ts_max, n, meta;
};

static int hb_rd_key_is(const msgpack_object_kv *kv, const char *k)
{
	size_t n = strlen(k);

	return kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == n &&
	       !memcmp(kv->key.via.str.ptr, k, n);
}

static uint64_t hb_rd_ts_ns(const msgpack_object *o)
{
	msgpack_timestamp t;

	if (!msgpack_object_to_timestamp(o, &t) || t.tv_sec < 0)
		return 0;
	return (uint64_t)t.tv_sec * 1000000000u + t.tv_nsec;
}

static void hb_rd_index_field(const msgpack_object_kv *kv, struct hb_rd_index_rec *r)
{
	uint64_t u = kv->val.type == MSGPACK_OBJECT_POSITIVE_INTEGER ? kv->val.via.u64 : 0;

	if (hb_rd_key_is(kv, "at"))
		r->at = u;
	else if (hb_rd_key_is(kv, "prev"))
		r->prev = u;
	else if (hb_rd_key_is(kv, "from"))
		r->from = u;
	else if (hb_rd_key_is(kv, "n"))
		r->n = u;
	else if (hb_rd_key_is(kv, "meta"))
		r->meta = u;
	else if (hb_rd_key_is(kv, "ts_min"))
		r->ts_min = hb_rd_ts_ns(&kv->val);
	else if (hb_rd_key_is(kv, "ts_max"))
		r->ts_max = hb_rd_ts_ns(&kv->val);
}

/* Decodes an index record at off and checks that it names itself. */
static int hb_rd_index_decode(const uint8_t *base, size_t len, uint64_t off,
			      struct hb_rd_index_rec *r)
{
	msgpack_unpacked u;
	size_t pos = 0;
	uint32_t i;
	int ok = 0;

	if (off + HB_RD_INDEX_REC_SIZE > len ||
	    memcmp(base + off, hb_rd_index_magic, sizeof(hb_rd_index_magic)))
		return 0;
	memset(r, 0, sizeof(*r));
	r->at = UINT64_MAX;
	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, (const char *)base + off, HB_RD_INDEX_REC_SIZE, &pos) ==
		    MSGPACK_UNPACK_SUCCESS &&
	    pos == HB_RD_INDEX_REC_SIZE && u.data.type == MSGPACK_OBJECT_MAP) {
		for (i = 0; i < u.data.via.map.size; i++)
			hb_rd_index_field(&u.data.via.map.ptr[i], r);
		ok = r->at == off && r->from <= off && r->prev < off && r->ts_min <= r->ts_max;
	}
	msgpack_unpacked_destroy(&u);
	return ok;
}

/* Offset of the last index record in the file, or UINT64_MAX. */
static uint64_t hb_rd_index_find_last(const uint8_t *base, size_t len)
{
	size_t lo = len > HB_RD_INDEX_WINDOW ? len - HB_RD_INDEX_WINDOW : 0;
	size_t end = len;
	struct hb_rd_index_rec r;
	const uint8_t *p;

	while (end > lo && (p = memrchr(base + lo, 0x89, end - lo))) {
		uint64_t off = (uint64_t)(p - base);

		if (hb_rd_index_decode(base, len, off, &r))
			return off;
		end = off;
	}
	return UINT64_MAX;
}

/* 1 when the object at off is a map with k = "end" that ends the file. */
static int hb_rd_is_end(const uint8_t *base, size_t len, uint64_t off)
{
	msgpack_unpacked u;
	size_t pos = 0;
	uint32_t i;
	int ok = 0;

	if (off >= len)
		return 0;
	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, (const char *)base + off, len - off, &pos) ==
		    MSGPACK_UNPACK_SUCCESS &&
	    off + pos == len && u.data.type == MSGPACK_OBJECT_MAP) {
		for (i = 0; i < u.data.via.map.size; i++) {
			const msgpack_object_kv *kv = &u.data.via.map.ptr[i];

			if (hb_rd_key_is(kv, "k") && kv->val.type == MSGPACK_OBJECT_STR &&
			    kv->val.via.str.size == 3 && !memcmp(kv->val.via.str.ptr, "end", 3))
				ok = 1;
		}
	}
	msgpack_unpacked_destroy(&u);
	return ok;
}

static int hb_rd_index_push(struct hb_rd_file_index *fi, size_t *cap,
			    const struct hb_rd_index_rec *r)
{
	struct hb_rd_chunk *c;

	if (fi->nchunks == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;

		c = realloc(fi->chunks, ncap * sizeof(*c));
		if (!c)
			return -ENOMEM;
		fi->chunks = c;
		*cap = ncap;
	}
	c = &fi->chunks[fi->nchunks++];
	*c = (struct hb_rd_chunk){r->from, r->at, r->ts_min, r->ts_max, r->n, r->meta};
	return 0;
}

static void hb_rd_index_reverse(struct hb_rd_file_index *fi)
{
	size_t i, j;

	for (i = 0, j = fi->nchunks ? fi->nchunks - 1 : 0; i < j; i++, j--) {
		struct hb_rd_chunk t = fi->chunks[i];

		fi->chunks[i] = fi->chunks[j];
		fi->chunks[j] = t;
	}
}

/* Chunks must tile the file: each starts right after the previous index. */
static int hb_rd_index_valid(const struct hb_rd_file_index *fi)
{
	size_t i;

	for (i = 1; i < fi->nchunks; i++)
		if (fi->chunks[i].from != fi->chunks[i - 1].to + HB_RD_INDEX_REC_SIZE)
			return 0;
	return 1;
}

int hb_rd_index_load(const uint8_t *base, size_t len, struct hb_rd_file_index *fi)
{
	struct hb_rd_index_rec r;
	uint64_t off;
	size_t cap = 0, i;

	memset(fi, 0, sizeof(*fi));
	off = hb_rd_index_find_last(base, len);
	if (off == UINT64_MAX)
		return 0;
	fi->tail = off + HB_RD_INDEX_REC_SIZE;
	fi->complete = hb_rd_is_end(base, len, fi->tail);
	while (hb_rd_index_decode(base, len, off, &r) && fi->nchunks < HB_RD_INDEX_MAX_CHAIN) {
		if (hb_rd_index_push(fi, &cap, &r)) {
			hb_rd_index_free(fi);
			return -ENOMEM;
		}
		if (!r.prev)
			break;
		off = r.prev;
	}
	hb_rd_index_reverse(fi);
	if (r.prev || !hb_rd_index_valid(fi)) { /* broken chain: read it all */
		hb_rd_index_free(fi);
		return 0;
	}
	fi->ts_min = UINT64_MAX;
	for (i = 0; i < fi->nchunks; i++) {
		if (fi->chunks[i].ts_min < fi->ts_min)
			fi->ts_min = fi->chunks[i].ts_min;
		if (fi->chunks[i].ts_max > fi->ts_max)
			fi->ts_max = fi->chunks[i].ts_max;
	}
	return 0;
}

void hb_rd_index_free(struct hb_rd_file_index *fi)
{
	free(fi->chunks);
	memset(fi, 0, sizeof(*fi));
}

static void hb_rd_range_add(struct hb_rd_range *out, size_t *n, uint64_t from, uint64_t to)
{
	if (from >= to)
		return;
	/* Adjacent, or separated only by an index record: one range. */
	if (*n && from <= out[*n - 1].to + HB_RD_INDEX_REC_SIZE) {
		if (to > out[*n - 1].to)
			out[*n - 1].to = to;
		return;
	}
	out[*n].from = from;
	out[*n].to = to;
	(*n)++;
}

int hb_rd_index_plan(const struct hb_rd_file_index *fi, uint64_t len, uint64_t since,
		     uint64_t until, struct hb_rd_range **out, size_t *n)
{
	int any = 0, need_meta;
	size_t i;

	*n = 0;
	*out = malloc((fi->nchunks + 2) * sizeof(**out));
	if (!*out)
		return -ENOMEM;
	if (!fi->nchunks) {
		hb_rd_range_add(*out, n, 0, len);
		return 0;
	}
	for (i = 0; i < fi->nchunks; i++)
		any |= fi->chunks[i].ts_max >= since && fi->chunks[i].ts_min <= until;
	/* Tables are needed by any record read after them; a complete file's
	 * tail is only its `end` record, which needs none. */
	need_meta = any || !fi->complete;
	hb_rd_range_add(*out, n, 0, fi->chunks[0].from); /* header before the first chunk */
	for (i = 0; i < fi->nchunks; i++) {
		const struct hb_rd_chunk *c = &fi->chunks[i];

		if ((c->ts_max >= since && c->ts_min <= until) || (need_meta && c->meta))
			hb_rd_range_add(*out, n, c->from, c->to);
	}
	hb_rd_range_add(*out, n, fi->tail, len);
	return 0;
}

/* ---- the reader's hook ------------------------------------------------- */

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rd_internal.h"

void rd_seek_clear(struct hb_reader *r)
{
	free(r->plan);
	r->plan = NULL;
	r->nplan = r->iplan = 0;
}

int rd_seek_plan(struct hb_reader *r)
{
	uint64_t until = r->o.until_ns ? r->o.until_ns : UINT64_MAX;
	struct hb_rd_file_index fi;
	struct stat st;
	void *map;

	rd_seek_clear(r);
	/* HB_READER_NO_INDEX=1 reads everything (to measure what the index saves) */
	if (getenv("HB_READER_NO_INDEX") && !strcmp(getenv("HB_READER_NO_INDEX"), "1"))
		return 0;
	if ((!r->o.since_ns && !r->o.until_ns) || fstat(r->fd, &st) || !S_ISREG(st.st_mode) ||
	    st.st_size <= 0)
		return 0;
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, r->fd, 0);
	if (map == MAP_FAILED)
		return 0;
	if (hb_rd_index_load(map, (size_t)st.st_size, &fi) == 0) {
		if (fi.nchunks &&
		    hb_rd_index_plan(&fi, (uint64_t)st.st_size, r->o.since_ns, until, &r->plan,
				     &r->nplan) == 0 &&
		    !r->nplan)
			r->eof = true; /* nothing in range, not even a tail to read */
		hb_rd_index_free(&fi);
	}
	munmap(map, (size_t)st.st_size);
	return 0;
}

size_t rd_seek_room(struct hb_reader *r, size_t room)
{
	uint64_t fpos = r->base + r->len;
	const struct hb_rd_range *c;

	if (!r->nplan)
		return room;
	while (r->iplan < r->nplan && fpos >= r->plan[r->iplan].to)
		r->iplan++;
	if (r->iplan == r->nplan)
		return 0;
	c = &r->plan[r->iplan];
	if (fpos < c->from) {
		/* Jump: bytes left unparsed can only be a cut object; drop them. */
		r->pos = r->len = 0;
		r->base = c->from;
		if (lseek(r->fd, (off_t)c->from, SEEK_SET) < 0)
			return 0;
		fpos = c->from;
	}
	return c->to - fpos < room ? (size_t)(c->to - fpos) : room;
}
