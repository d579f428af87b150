/* SPDX-License-Identifier: MIT */
/*
 * ring.c - the consumer side of an hb ring (see ring.h and the protocol
 * diagram at the top of hb.h).
 *
 * Everything in the ring is untrusted: the producer may be buggy, hostile
 * or dead halfway through a write. The rules kept here:
 *
 *   - no byte outside [data, data + size) is ever read through a record;
 *   - a record's length and fields are validated before it is returned;
 *   - each shared word is read once into a local before it is checked and
 *     used (memcpy), so a value cannot change between check and use inside
 *     one call;
 *   - the only store into the ring is the tail (R2).
 *
 * A producer that rewrites a record after publishing it can still change
 * it between hb_ring_view_next() and hb_event_decode(); hb_event_decode()
 * therefore re-checks every bound itself and never trusts len beyond the
 * largest record the producer can legally write. A consumer that must be
 * immune to that uses hb_ring_view_copy(): one read of the record into its
 * own buffer, then validation of that copy only, which the caller may then
 * use as it is.
 */
#include "ring.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* The largest event a producer can write: fixed part, then 8 fields of
 * slot + HB_STR_MAX bytes. */
#define HB_EVENT_MAX HB_REC_COPY_MAX
#define HB_HB_FIXED (sizeof(struct hb_rec) + sizeof(struct hb_rec_hb))

int hb_ring_view_init(struct hb_ring_view *v, void *mem, size_t map_size)
{
	struct hb_ring_hdr *h = mem;
	int rc;

	rc = hb_ring_hdr_check(h, map_size);
	if (rc)
		return rc;
	memset(v, 0, sizeof(*v));
	v->hdr = h;
	v->size = h->data_size;
	v->mask = v->size - 1;
	v->data = (const uint8_t *)mem + h->hdr_size;
	/* tail is written only by us (the consumer); a restarted consumer
	 * resumes where the previous one released. */
	v->tail = atomic_load_explicit(&h->tail, memory_order_relaxed);
	v->cursor = v->tail;
	v->head = v->tail; /* the first hb_ring_view_next loads head (A1) */
	return 0;
}

int hb_ring_view_attach(struct hb_ring_view *v, const char *shm_name)
{
	char name[256];
	struct stat st;
	void *mem;
	int fd, rc, n;

	if (!shm_name || !*shm_name)
		return -EINVAL;
	if (shm_name[0] == '/')
		shm_name++;
	if (strchr(shm_name, '/'))
		return -EINVAL;
	n = snprintf(name, sizeof(name), "/%s", shm_name);
	if (n < 0 || (size_t)n >= sizeof(name))
		return -ENAMETOOLONG;
	/* O_NONBLOCK: anyone may create a FIFO under the bus prefix; opening
	 * it must not hang the collector. Only regular files are rings. */
	fd = shm_open(name, O_RDWR | O_NONBLOCK | O_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		goto out;
	}
	if (st.st_size < (off_t)sizeof(struct hb_ring_hdr)) {
		rc = -EINVAL;
		goto out;
	}
	mem = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) {
		rc = -errno;
		goto out;
	}
	rc = hb_ring_view_init(v, mem, (size_t)st.st_size);
	if (rc) {
		munmap(mem, (size_t)st.st_size);
		goto out;
	}
	v->map_size = (size_t)st.st_size;
out:
	close(fd);
	return rc;
}

void hb_ring_view_detach(struct hb_ring_view *v)
{
	if (v->hdr && v->map_size)
		munmap(v->hdr, v->map_size);
	memset(v, 0, sizeof(*v));
}

/* Validates an event's fields in [24, len) without decoding them: tags
 * known and dense, every slot and str/bytes length in bounds, the last
 * field ending exactly at len. Each slot is read once into a local, so
 * this is as safe on a record in the ring as on a copy. */
HB_INLINE int hb_event_check(const struct hb_rec *r, uint32_t len)
{
	const uint8_t *base = (const uint8_t *)r;
	uint32_t pos = HB_EVENT_FIXED;
	uint64_t tw;

	if (len < HB_EVENT_FIXED || len > HB_EVENT_MAX)
		return -EBADMSG;
	tw = hb_event_tags(r);
	if (!hb_tags_ok(tw))
		return -EBADMSG;
	/* dense tags: the word is 0 once past the last field. pos never
	 * exceeds HB_EVENT_FIXED + 8 * (8 + HB_STR_MAX), so sums cannot wrap;
	 * a scalar slot is not read here, so only the final pos == len bounds
	 * it, while a str/bytes slot is bounded before its length is read. */
	for (; tw; tw >>= 8) {
		uint64_t val;

		pos += 8;
		if ((uint8_t)tw < HB_T_STR)
			continue;
		if (pos > len)
			return -EBADMSG;
		memcpy(&val, base + pos - 8, 8);
		if (val > HB_STR_MAX || pos + ((val + 7) & ~7ull) > len)
			return -EBADMSG;
		pos += (uint32_t)((val + 7) & ~7ull);
	}
	return pos == len ? 0 : -EBADMSG;
}

/* Walks an event's fields in [24, len): hb_event_check's rules, and fills
 * ev's req, nfields, all of tags and the first nfields entries of vals and
 * ptrs (the rest is left alone). */
static int hb_event_walk(const struct hb_rec *r, uint32_t len, struct hb_event_view *ev)
{
	const uint8_t *base = (const uint8_t *)r;
	uint32_t pos = HB_EVENT_FIXED;
	uint64_t tw;
	int i, n;

	if (len < HB_EVENT_FIXED || len > HB_EVENT_MAX)
		return -EBADMSG; /* before the tags are read: they may lie past r */
	tw = hb_event_tags(r);
	if (!hb_tags_ok(tw))
		return -EBADMSG;
	n = (int)hb_tags_nfields(tw);
	memcpy(&ev->req, base + sizeof(*r), 8);
	for (i = 0; i < HB_MAX_FIELDS; i++) /* from the word checked, not read again */
		ev->tags[i] = (uint8_t)(tw >> (8 * i));
	ev->nfields = (unsigned)n;
	for (i = 0; i < n; i++) {
		unsigned tag = ev->tags[i];
		uint64_t val;

		if (len - pos < 8)
			return -EBADMSG;
		memcpy(&val, base + pos, 8);
		pos += 8;
		ev->vals[i] = val;
		ev->ptrs[i] = NULL;
		if (tag == HB_T_STR || tag == HB_T_BYTES) {
			if (val > HB_STR_MAX || ((val + 7) & ~7ull) > len - pos)
				return -EBADMSG;
			ev->ptrs[i] = base + pos;
			pos += (uint32_t)((val + 7) & ~7ull);
		}
	}
	return pos == len ? 0 : -EBADMSG;
}

static int hb_heartbeat_check(const struct hb_rec *r, uint32_t len)
{
	struct hb_rec_hb b;

	if (len < HB_HB_FIXED)
		return -EBADMSG;
	memcpy(&b, r + 1, sizeof(b));
	if (b.nmetrics > HB_MAX_METRICS || len != HB_HB_FIXED + (uint64_t)b.nmetrics * 24)
		return -EBADMSG;
	return 0;
}

/* Both kinds that hb_rec_check_body accepts need more than the fixed
 * part, so their own length checks cover len >= sizeof(struct hb_rec). */
_Static_assert(HB_EVENT_FIXED > sizeof(struct hb_rec) && HB_HB_FIXED > sizeof(struct hb_rec),
	       "kind checks cover the fixed part");

/* What hb_rec_check asks of a record of len bytes once len itself is
 * known good (a multiple of 8, at least 8, inside the ring): prio, and
 * what its kind needs. A pad is refused here; hb_rec_check takes it
 * before. */
HB_INLINE int hb_rec_check_body(const struct hb_rec *r, uint32_t len, uint8_t kind, uint8_t prio)
{
	if (prio > HB_PRIO_URGENT)
		return -EBADMSG;
	switch (kind) {
	case HB_REC_EVENT:
		return hb_event_check(r, len);
	case HB_REC_HEARTBEAT:
		return hb_heartbeat_check(r, len);
	default:
		return -EBADMSG;
	}
}

int hb_rec_check(const struct hb_rec *r, uint32_t avail)
{
	struct hb_rec rec;

	if (avail < 8)
		return -EBADMSG;
	memcpy(&rec, r, 8); /* len, kind, prio, type: all a pad needs */
	if (rec.len % 8 || rec.len < 8 || rec.len > avail)
		return -EBADMSG;
	if (rec.kind == HB_REC_PAD)
		return 0;
	return hb_rec_check_body(r, rec.len, rec.kind, rec.prio);
}

int hb_ring_view_next(struct hb_ring_view *v, const struct hb_rec **rec)
{
	uint64_t start = v->cursor;
	const struct hb_rec *r;
	uint32_t len;
	int rc = hb_ring_view_locate(v, &r, &len);

	/* the full check bounded by the len just read: the cursor only ever
	 * moves by a length known to stay inside the data area */
	if (rc > 0 && hb_rec_check(r, len))
		rc = -EBADMSG;
	if (rc < 0) {
		v->cursor = start;
		return rc;
	}
	if (rc > 0) {
		v->cursor += len;
		*rec = r;
	}
	return rc;
}

int hb_rec_check_copy(const struct hb_rec *r, uint32_t len)
{
	struct hb_rec hdr;

	/* the length the cursor moved by is the one hb_ring_view_locate
	 * found a multiple of 8, at least 8 and inside the ring: it stands for
	 * hb_rec_check's own length checks, so the copy must say the same. A
	 * pad is refused by kind in hb_rec_check_body. */
	memcpy(&hdr, r, 8);
	if (hdr.len != len)
		return -EBADMSG;
	return hb_rec_check_body(r, len, hdr.kind, hdr.prio);
}

int hb_ring_view_copy(struct hb_ring_view *v, void *buf, size_t cap, const struct hb_rec **rec)
{
	uint64_t start = v->cursor;
	uint32_t len;
	int rc = hb_ring_view_take(v, buf, cap, &len);

	if (rc > 0 && hb_rec_check_copy(buf, len))
		rc = -EBADMSG;
	if (rc < 0) {
		v->cursor = start;
		return -EBADMSG;
	}
	if (rc > 0)
		*rec = buf;
	return rc;
}

void hb_ring_view_release(struct hb_ring_view *v, uint64_t upto)
{
	/* tail <= upto <= cursor, by subtraction; anything else is ignored. */
	if (upto - v->tail > v->cursor - v->tail)
		return;
	v->tail = upto;
	/* R2: we are done with every byte before upto; pairs with the
	 * producer's A2 in hb__reserve_slow (and the load in
	 * hb_producer_attach). */
	atomic_store_explicit(&v->hdr->tail, upto, memory_order_release);
}

int hb_event_decode(const struct hb_rec *r, struct hb_event_view *ev)
{
	struct hb_rec rec;

	memcpy(&rec, r, sizeof(rec));
	if (rec.kind != HB_REC_EVENT)
		return -EBADMSG;
	memset(ev, 0, sizeof(*ev));
	return hb_event_walk(r, rec.len, ev);
}
