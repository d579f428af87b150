/* SPDX-License-Identifier: MIT */
/* sink_write.c - hbsink's fleet archive (sink.h). */
#include "hbc.h"
#include "index.h"
#include "sink.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SINK_HASH 4096

struct sink_range {
	uint64_t lo, hi;
};

struct sink_dir;

struct sink_prod {
	char host[HBF_HOST_MAX];
	char ring[256];
	uint64_t start_ns;
	struct sink_dir *d;
	uint32_t p;             /* its number in this run's files */
	struct sink_range *r;   /* seqs held: sorted, disjoint, not adjacent */
	size_t nr, cr;
	uint64_t *ts;           /* times of its seq-less bus records held, sorted */
	size_t nts, cts;
	uint64_t stated_gen;    /* the file (d->gen) its producer record is in */
	struct sink_prod *next; /* hash chain */
};

struct sink_dir {
	char host[HBF_HOST_MAX], bus[64];
	char path[4096 + 2 * 64 + 4];
	int fd;
	char fname[HBC_FNAME_MAX];
	uint64_t fname_ns, size, opened_ns, file_seq, gen;
	msgpack_sbuffer pend;
	msgpack_packer pk;
	struct hbc_index ix;
	int unsynced;
	uint64_t wb_off, drop_off; /* the cache window: written back, dropped */
	struct hbc_recovery rec; /* the newest file left by an earlier run */
	int finish;              /* it still needs an end naming our first file */
	struct sink_dir *next;
};

/* A record of a message: its bytes there and what dedup needs of it. */
struct sink_item {
	size_t at, len;
	struct hbf_rec_key k;
	int raw; /* an event, heartbeat or event batch: written from its bytes */
};

struct sink {
	struct sink_cfg cfg;
	struct sink_dir *dirs;
	struct sink_prod *hash[SINK_HASH];
	uint32_t next_p;
	uint64_t last_sync_ns;
	uint64_t gen;
	struct sink_stats st;
	/* the objects of a message's header and producer (zone_msg), of one
	 * record at a time (zone_rec): cleared, never freed, between uses, so
	 * that a message's thousands of records do not each allocate */
	msgpack_zone zone_msg, zone_rec;
	/* the records of the message being applied, as the check found them */
	struct sink_item *items;
	size_t nitems, citems;
};

/* ---- sets -------------------------------------------------------------- */

static size_t sink_range_find(const struct sink_prod *pr, uint64_t seq)
{
	size_t lo = 0, hi = pr->nr;

	while (lo < hi) { /* first range with hi >= seq */
		size_t mid = (lo + hi) / 2;

		if (pr->r[mid].hi < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int sink_held(const struct sink_prod *pr, uint64_t seq)
{
	size_t i = sink_range_find(pr, seq);

	return i < pr->nr && pr->r[i].lo <= seq;
}

static int sink_range_add(struct sink_prod *pr, uint64_t lo, uint64_t hi)
{
	size_t i, j;

	if (pr->nr && pr->r[pr->nr - 1].hi + 1 >= lo && pr->r[pr->nr - 1].lo <= lo) {
		if (hi > pr->r[pr->nr - 1].hi) /* the usual case: extends the last */
			pr->r[pr->nr - 1].hi = hi;
		return 0;
	}
	i = sink_range_find(pr, lo ? lo - 1 : 0); /* first that may touch */
	j = i;
	while (j < pr->nr && pr->r[j].lo <= (hi == UINT64_MAX ? hi : hi + 1))
		j++;
	if (j > i) { /* merge [i, j) with [lo, hi] */
		uint64_t nlo = pr->r[i].lo < lo ? pr->r[i].lo : lo;
		uint64_t nhi = pr->r[j - 1].hi > hi ? pr->r[j - 1].hi : hi;

		pr->r[i] = (struct sink_range){nlo, nhi};
		memmove(&pr->r[i + 1], &pr->r[j], (pr->nr - j) * sizeof(*pr->r));
		pr->nr -= j - i - 1;
		return 0;
	}
	if (pr->nr == pr->cr) {
		size_t c = pr->cr ? pr->cr * 2 : 4;
		struct sink_range *r = realloc(pr->r, c * sizeof(*r));

		if (!r)
			return -ENOMEM;
		pr->r = r, pr->cr = c;
	}
	memmove(&pr->r[i + 1], &pr->r[i], (pr->nr - i) * sizeof(*pr->r));
	pr->r[i] = (struct sink_range){lo, hi};
	pr->nr++;
	return 0;
}

/* 1 when ts was held already, else adds it (0) or -ENOMEM. */
static int sink_ts_add(struct sink_prod *pr, uint64_t ts)
{
	size_t lo = 0, hi = pr->nts;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (pr->ts[mid] < ts)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < pr->nts && pr->ts[lo] == ts)
		return 1;
	if (pr->nts == pr->cts) {
		size_t c = pr->cts ? pr->cts * 2 : 8;
		uint64_t *t = realloc(pr->ts, c * sizeof(*t));

		if (!t)
			return -ENOMEM;
		pr->ts = t, pr->cts = c;
	}
	memmove(&pr->ts[lo + 1], &pr->ts[lo], (pr->nts - lo) * sizeof(*pr->ts));
	pr->ts[lo] = ts;
	pr->nts++;
	return 0;
}

/* ---- directories and producers ---------------------------------------- */

static struct sink_dir *sink_dir_get(struct sink *s, const char *host, const char *bus)
{
	struct sink_dir *d;

	for (d = s->dirs; d; d = d->next)
		if (!strcmp(d->host, host) && !strcmp(d->bus, bus))
			return d;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	snprintf(d->host, sizeof(d->host), "%s", host);
	snprintf(d->bus, sizeof(d->bus), "%s", bus);
	snprintf(d->path, sizeof(d->path), "%s/%s/%s", s->cfg.dir, host, bus);
	d->fd = -1;
	msgpack_sbuffer_init(&d->pend);
	msgpack_packer_init(&d->pk, &d->pend, msgpack_sbuffer_write);
	d->next = s->dirs;
	s->dirs = d;
	return d;
}

static unsigned sink_hash(const char *host, const char *ring, uint64_t start)
{
	uint64_t h = 1469598103934665603ull ^ start;

	for (; *host; host++)
		h = (h ^ (unsigned char)*host) * 1099511628211ull;
	for (; *ring; ring++)
		h = (h ^ (unsigned char)*ring) * 1099511628211ull;
	return (unsigned)(h % SINK_HASH);
}

static struct sink_prod *sink_prod_get(struct sink *s, struct sink_dir *d, const char *ring,
				       uint64_t start)
{
	unsigned h = sink_hash(d->host, ring, start);
	struct sink_prod *pr;

	for (pr = s->hash[h]; pr; pr = pr->next)
		if (pr->start_ns == start && !strcmp(pr->ring, ring) && !strcmp(pr->host, d->host))
			return pr;
	pr = calloc(1, sizeof(*pr));
	if (!pr)
		return NULL;
	snprintf(pr->host, sizeof(pr->host), "%s", d->host);
	snprintf(pr->ring, sizeof(pr->ring), "%s", ring);
	pr->start_ns = start;
	pr->d = d;
	pr->p = ++s->next_p;
	pr->next = s->hash[h];
	s->hash[h] = pr;
	return pr;
}

/* ---- files ------------------------------------------------------------- */

static void sink_pack_str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

/* The file header (docs/FORMAT.md), for a file of the fleet archive. */
static void sink_pack_header(struct sink_dir *d, uint64_t ns, const char *prev)
{
	msgpack_packer *pk = &d->pk;

	hbc_index_note(&d->ix, ns, 1);
	msgpack_pack_map(pk, 10);
	sink_pack_str(pk, "k"), sink_pack_str(pk, "header");
	sink_pack_str(pk, "magic"), sink_pack_str(pk, "hb-archive");
	sink_pack_str(pk, "version");
	msgpack_pack_array(pk, 2);
	msgpack_pack_int(pk, HB_FORMAT_MAJOR);
	msgpack_pack_int(pk, HB_FORMAT_MINOR);
	sink_pack_str(pk, "ts"), hbc_pack_ts(pk, ns);
	sink_pack_str(pk, "host"), sink_pack_str(pk, d->host);
	sink_pack_str(pk, "bus"), sink_pack_str(pk, d->bus);
	sink_pack_str(pk, "collector_pid"), msgpack_pack_uint32(pk, (uint32_t)getpid());
	sink_pack_str(pk, "file_seq"), msgpack_pack_uint64(pk, d->file_seq);
	sink_pack_str(pk, "prev");
	if (prev)
		sink_pack_str(pk, prev);
	else
		msgpack_pack_nil(pk);
	sink_pack_str(pk, "via"), sink_pack_str(pk, "hbsink");
}

static int sink_write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w, n -= (size_t)w;
	}
	return 0;
}

/* Creates d's next file (name newer than any before) and writes its
 * header; the previous file, if any, is left to the caller. */
static int sink_file_create(struct sink *s, struct sink_dir *d, char *prev)
{
	uint64_t ns = hbc_now_ns();
	char path[sizeof(d->path) + HBC_FNAME_MAX + 1];
	int fd, rc, tries;

	rc = hbc_mkdir_p(d->path, 0700);
	if (rc)
		return rc;
	if (ns <= d->fname_ns)
		ns = d->fname_ns + 1;
	if (ns <= d->rec.newest_ns)
		ns = d->rec.newest_ns + 1;
	for (tries = 0;; tries++, ns++) {
		hbc_file_name(ns, d->fname, sizeof(d->fname));
		snprintf(path, sizeof(path), "%s/%s", d->path, d->fname);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0)
			break;
		if (errno != EEXIST || tries > 1000)
			return -errno;
	}
	d->fd = fd;
	d->fname_ns = ns;
	d->size = 0;
	d->wb_off = d->drop_off = 0;
	d->opened_ns = hbc_mono_ns();
	d->gen = ++s->gen;
	hbc_index_reset(&d->ix, 0, 0);
	sink_pack_header(d, ns, prev && *prev ? prev : NULL);
	d->file_seq++;
	s->st.files++;
	rc = sink_write_all(fd, d->pend.data, d->pend.size);
	if (!rc)
		d->size = d->pend.size;
	msgpack_sbuffer_clear(&d->pend);
	return rc;
}

/* The index record of the chunk before off (when due or when closing). */
static void sink_index(struct sink_dir *d, int closing)
{
	char buf[HBC_INDEX_REC_SIZE];
	uint64_t off = d->size + d->pend.size;
	int n;

	if (!closing && !hbc_index_due(&d->ix, off))
		return;
	n = hbc_index_encode(&d->ix, off, hbc_now_ns(), buf, sizeof(buf));
	if (n > 0)
		msgpack_sbuffer_write(&d->pend, buf, (size_t)n);
}

/* Ends the open file with an index and `end` naming the new one. */
static int sink_rotate(struct sink *s, struct sink_dir *d)
{
	char prev[HBC_FNAME_MAX];
	int oldfd = d->fd, rc;
	uint64_t old_size = d->size;
	struct hbc_index ix = d->ix;

	memcpy(prev, d->fname, sizeof(prev));
	rc = sink_file_create(s, d, prev);
	if (rc)
		return rc;
	/* the successor exists (with its header) before end names it */
	struct sink_dir tmp = {.size = old_size, .ix = ix};
	msgpack_sbuffer_init(&tmp.pend);
	msgpack_packer_init(&tmp.pk, &tmp.pend, msgpack_sbuffer_write);
	sink_index(&tmp, 1);
	msgpack_pack_map(&tmp.pk, 3);
	sink_pack_str(&tmp.pk, "k"), sink_pack_str(&tmp.pk, "end");
	sink_pack_str(&tmp.pk, "ts"), hbc_pack_ts(&tmp.pk, hbc_now_ns());
	sink_pack_str(&tmp.pk, "next"), sink_pack_str(&tmp.pk, d->fname);
	rc = sink_write_all(oldfd, tmp.pend.data, tmp.pend.size);
	msgpack_sbuffer_destroy(&tmp.pend);
	if (!rc && s->cfg.fsync != HBC_FSYNC_NEVER && fsync(oldfd))
		rc = -errno;
	close(oldfd);
	if (!rc)
		rc = hbc_archive_retain(d->path, d->fname, s->cfg.retain_files, s->cfg.retain_bytes);
	return rc;
}

/* Opens d's first file of this run; an earlier run's newest file gets its
 * torn tail cut and an end naming it. */
static int sink_dir_open(struct sink *s, struct sink_dir *d)
{
	int rc;

	if (d->fd >= 0)
		return 0;
	rc = sink_file_create(s, d, d->rec.newest[0] ? d->rec.newest : NULL);
	if (!rc && d->finish) {
		rc = hbc_archive_finish(d->path, &d->rec, d->fname);
		d->finish = rc != 0;
	}
	return rc;
}

/* ---- applying messages ------------------------------------------------- */

static int sink_state(struct sink *s, struct sink_prod *pr, const struct hbf_parsed *m)
{
	struct sink_dir *d = pr->d;
	int rc = sink_dir_open(s, d);

	if (rc || pr->stated_gen == d->gen)
		return rc;
	hbc_index_note(&d->ix, pr->start_ns, 1);
	hbf_pack_producer(&d->pk, &m->producer, pr->p, pr->stated_gen ? "restated" : "attached",
			  pr->nr ? pr->r[pr->nr - 1].hi + 1 : 0);
	pr->stated_gen = d->gen;
	return 0;
}

static int sink_put(struct sink *s, struct sink_prod *pr, const struct hbf_parsed *m,
		    const msgpack_object *rec, uint64_t lo, uint64_t hi, uint64_t ts)
{
	int rc = sink_state(s, pr, m);

	if (rc)
		return rc;
	hbc_index_note(&pr->d->ix, ts, 0);
	hbf_pack_rec(&pr->d->pk, rec, pr->p, lo, hi);
	s->st.records++;
	return 0;
}

/* An event or heartbeat from its bytes (hbf_pack_rec_raw). Its array
 * header, kind and producer number are in forms hbf_pack_rec_raw knows:
 * hbf_msg_next decoded them as an array and two non-negative integers. */
static int sink_put_raw(struct sink *s, struct sink_prod *pr, const struct hbf_parsed *m,
			const char *raw, size_t n, uint64_t ts)
{
	int rc = sink_state(s, pr, m);

	if (rc)
		return rc;
	if (hbf_pack_rec_raw(&pr->d->pk, raw, n, pr->p))
		return -EPROTO;
	hbc_index_note(&pr->d->ix, ts, 0);
	s->st.records++;
	return 0;
}

/* The first run of sequence numbers from a to hi that is not held: 1 and
 * it in *lo..*b, or 0 when all of them are held. */
static int sink_free_run(const struct sink_prod *pr, uint64_t a, uint64_t hi, uint64_t *lo,
			 uint64_t *b)
{
	for (;;) {
		size_t i = sink_range_find(pr, a);

		if (i < pr->nr && pr->r[i].lo <= a) { /* a is held: skip the range */
			if (pr->r[i].hi >= hi)
				return 0;
			a = pr->r[i].hi + 1;
			continue;
		}
		*lo = a;
		*b = i < pr->nr && pr->r[i].lo <= hi ? pr->r[i].lo - 1 : hi;
		return 1;
	}
}

/* A gap: the parts of lo..hi not held, each as a gap record. */
static int sink_gap(struct sink *s, struct sink_prod *pr, const struct hbf_parsed *m,
		    const msgpack_object *rec, const struct hbf_rec_key *k)
{
	uint64_t a = k->lo, lo, b, put = 0;
	int rc = 0;

	while (!rc && sink_free_run(pr, a, k->hi, &lo, &b)) {
		rc = sink_put(s, pr, m, rec, lo, b, k->ts_ns);
		if (!rc)
			rc = sink_range_add(pr, lo, b);
		put += b - lo + 1;
		if (b == k->hi)
			break;
		a = b + 1;
	}
	s->st.gaps_cut += put != k->hi - k->lo + 1;
	return rc;
}

/* An event batch: whole from its bytes when none of it is held (the usual
 * case), else each run of it not held as a batch of its own. */
static int sink_put_batch(struct sink *s, struct sink_prod *pr, const struct hbf_parsed *m,
			  const char *raw, size_t n, const struct hbf_rec_key *k)
{
	uint64_t a = k->lo, lo, b, put = 0, nev = k->hi - k->lo + 1;
	int rc = 0;

	while (!rc && sink_free_run(pr, a, k->hi, &lo, &b)) {
		rc = sink_state(s, pr, m);
		if (rc)
			break;
		if (lo != k->lo || b != k->hi)
			hbf_pack_batch_part(&pr->d->pk, raw, n, k, pr->p, lo, b);
		else if (hbf_pack_rec_raw(&pr->d->pk, raw, n, pr->p))
			return -EPROTO; /* cannot be: hbf_msg_next checked its head */
		hbc_index_note_span(&pr->d->ix, k->ts_ns, k->ts_max, b - lo + 1);
		rc = sink_range_add(pr, lo, b);
		put += b - lo + 1;
		if (b == k->hi)
			break;
		a = b + 1;
	}
	s->st.records += put;
	s->st.dups += nev - put;
	return rc;
}

static int sink_one(struct sink *s, struct sink_prod *pr, const struct hbf_parsed *m,
		    const msgpack_object *rec)
{
	struct hbf_rec_key k;
	int rc;

	hbf_rec_key(rec, &k);
	if (k.is_gap)
		return sink_gap(s, pr, m, rec, &k);
	if (k.has_seq) {
		if (sink_held(pr, k.lo)) {
			s->st.dups++;
			return 0;
		}
		rc = sink_put(s, pr, m, rec, 0, 0, k.ts_ns);
		return rc ? rc : sink_range_add(pr, k.lo, k.lo);
	}
	rc = sink_ts_add(pr, k.ts_ns);
	if (rc == 1)
		s->st.dups++;
	return rc ? (rc == 1 ? 0 : rc) : sink_put(s, pr, m, rec, 0, 0, k.ts_ns);
}

static int sink_item_add(struct sink *s, size_t at, size_t len, const msgpack_object *rec,
			 const struct hbf_rec_key *k)
{
	struct sink_item *it;

	if (s->nitems == s->citems) {
		size_t cap = s->citems ? 2 * s->citems : 1024;

		it = realloc(s->items, cap * sizeof(*it));
		if (!it)
			return -ENOMEM;
		s->items = it;
		s->citems = cap;
	}
	it = &s->items[s->nitems++];
	it->at = at;
	it->len = len;
	it->raw = rec->type == MSGPACK_OBJECT_ARRAY || k->is_batch;
	it->k = *k;
	return 0;
}

/* One record of the message: an event, heartbeat or batch straight from
 * its bytes unless held already, anything else decoded again (sink_one). */
static int sink_item_apply(struct sink *s, struct sink_prod *pr, const struct hbf_parsed *m,
			   const char *data, const struct sink_item *it)
{
	msgpack_object rec;
	size_t off = it->at;
	int rc;

	if (it->k.is_batch)
		return sink_put_batch(s, pr, m, data + it->at, it->len, &it->k);
	if (it->raw) {
		if (sink_held(pr, it->k.lo)) {
			s->st.dups++;
			return 0;
		}
		rc = sink_put_raw(s, pr, m, data + it->at, it->len, it->k.ts_ns);
		return rc ? rc : sink_range_add(pr, it->k.lo, it->k.lo);
	}
	msgpack_zone_clear(&s->zone_rec);
	if (msgpack_unpack(data, it->at + it->len, &off, &s->zone_rec, &rec) != MSGPACK_UNPACK_SUCCESS)
		return -EPROTO; /* cannot be: hbf_msg_next read it */
	return sink_one(s, pr, m, &rec);
}

/* A message is checked whole, each record once (its place and key kept),
 * before any of it is written; then events, heartbeats and event batches
 * are written from their bytes with their producer number replaced. */
int sink_apply(struct sink *s, const char *data, size_t len, const char **why)
{
	msgpack_zone *hz = &s->zone_msg, *rz = &s->zone_rec;
	struct hbf_parsed m;
	struct sink_prod *pr;
	struct sink_dir *d;
	struct hbf_rec_key k;
	msgpack_object rec;
	size_t off, at, i;
	int rc;

	msgpack_zone_clear(hz);
	s->nitems = 0;
	rc = hbf_msg_parse(data, len, hz, &m, why);
	for (off = at = m.body_off;
	     !rc && (rc = hbf_msg_next(data, len, &off, rz, m.p, &rec, &k, why)) == 1; at = off) {
		rc = sink_item_add(s, at, off - at, &rec, &k);
		msgpack_zone_clear(rz);
		if (rc)
			*why = rc == -ENOMEM ? "out of memory" : "bad record";
	}
	if (rc)
		return rc;
	d = sink_dir_get(s, m.host, m.bus);
	pr = d ? sink_prod_get(s, d, m.ring, m.start_ns) : NULL;
	if (!pr) {
		*why = "out of memory";
		return -ENOMEM;
	}
	for (i = 0; !rc && i < s->nitems; i++)
		rc = sink_item_apply(s, pr, &m, data, &s->items[i]);
	if (!rc)
		sink_index(pr->d, 0);
	s->st.msgs++;
	if (rc)
		*why = strerror(-rc);
	return rc;
}

/* ---- flushing ------------------------------------------------------------ */

/* The page cache behind the file's end, as hbcollect's --cache-window
 * (writer.c): each whole chunk written has its writeback started, and is
 * dropped once window bytes of started ones follow it, after waiting for
 * it to be on disk (it was written window bytes ago: usually it is). The
 * sink writes with write(2), so these are system calls too, a pair per
 * HBC_CACHE_CHUNK. Advice: a failure changes nothing. */
static void sink_cache_trim(struct sink_dir *d, uint64_t window)
{
	unsigned wait = SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER;

	if (!window)
		return;
	for (; d->size - d->wb_off >= HBC_CACHE_CHUNK; d->wb_off += HBC_CACHE_CHUNK)
		sync_file_range(d->fd, (off_t)d->wb_off, HBC_CACHE_CHUNK, SYNC_FILE_RANGE_WRITE);
	for (; d->wb_off - d->drop_off > window; d->drop_off += HBC_CACHE_CHUNK) {
		sync_file_range(d->fd, (off_t)d->drop_off, HBC_CACHE_CHUNK, wait);
		posix_fadvise(d->fd, (off_t)d->drop_off, HBC_CACHE_CHUNK, POSIX_FADV_DONTNEED);
	}
}

static int sink_dir_flush(struct sink *s, struct sink_dir *d)
{
	int rc;

	if (!d->pend.size)
		return 0;
	rc = sink_write_all(d->fd, d->pend.data, d->pend.size);
	if (rc) {
		/* nothing of it counts: cut what went out, keep it pending */
		if (ftruncate(d->fd, (off_t)d->size))
			hbf_debug("ftruncate: %s", strerror(errno));
		lseek(d->fd, 0, SEEK_END);
		return rc;
	}
	d->size += d->pend.size;
	d->unsynced = 1;
	msgpack_sbuffer_clear(&d->pend);
	sink_cache_trim(d, s->cfg.cache_window);
	if ((s->cfg.rotate_size && d->size >= s->cfg.rotate_size) ||
	    (s->cfg.rotate_age_ns && hbc_mono_ns() - d->opened_ns >= s->cfg.rotate_age_ns))
		rc = sink_rotate(s, d);
	return rc;
}

int sink_flush(struct sink *s, int final)
{
	uint64_t now = hbc_mono_ns();
	struct sink_dir *d;
	int rc = 0, sync;

	for (d = s->dirs; d && !rc; d = d->next)
		rc = sink_dir_flush(s, d);
	if (rc)
		return rc;
	sync = s->cfg.fsync == HBC_FSYNC_ALWAYS ||
	       (s->cfg.fsync == HBC_FSYNC_INTERVAL &&
		(final || now - s->last_sync_ns >= s->cfg.fsync_interval_ns));
	if (!sync)
		return 0;
	for (d = s->dirs; d && !rc; d = d->next) {
		if (d->unsynced && d->fd >= 0 && fsync(d->fd))
			rc = -errno;
		else
			d->unsynced = 0;
	}
	s->last_sync_ns = now;
	return rc;
}

/* ---- learning the tree --------------------------------------------------- */

static void sink_learn_quiet(void *ctx, const char *file, uint64_t off, uint64_t len,
			     const char *what)
{
	(void)ctx, (void)len;
	hbf_warn("%s: offset %llu: %s", file, (unsigned long long)off, what);
}

static int sink_learn_rec(struct sink *s, struct sink_dir *d, const struct hb_rd_record *rec)
{
	struct sink_prod *pr;
	uint64_t lo, hi;

	if (!rec->producer || !rec->producer->ring)
		return 0;
	if (rec->kind == HB_RD_BUS &&
	    (!rec->bus_kind || !strcmp(rec->bus_kind, "producer") ||
	     !strcmp(rec->bus_kind, "types") || !strcmp(rec->bus_kind, "metrics")))
		return 0;
	pr = sink_prod_get(s, d, rec->producer->ring, rec->producer->start_ns);
	if (!pr)
		return -ENOMEM;
	if (rec->kind == HB_RD_EVENT || rec->kind == HB_RD_HEARTBEAT)
		return sink_range_add(pr, rec->seq, rec->seq);
	if (rec->kind == HB_RD_BATCH)
		return sink_range_add(pr, rec->seq, rec->seq + rec->nevents - 1);
	if (!strcmp(rec->bus_kind, "gap")) {
		const msgpack_object *f = hb_rd_map_get(rec->obj, "from"), *t = hb_rd_map_get(rec->obj, "to");

		if (!f || !t || f->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
		    t->type != MSGPACK_OBJECT_POSITIVE_INTEGER || t->via.u64 < f->via.u64)
			return 0;
		lo = f->via.u64, hi = t->via.u64;
		return sink_range_add(pr, lo, hi);
	}
	return sink_ts_add(pr, rec->ts_ns) < 0 ? -ENOMEM : 0;
}

/* Repairs and learns FLEETDIR/host/bus. */
static int sink_learn_dir(struct sink *s, const char *host, const char *bus)
{
	struct hb_reader_opts ro = {.flags = HB_RD_BATCHES, .on_damage = sink_learn_quiet};
	struct sink_dir *d = sink_dir_get(s, host, bus);
	struct hbc_learned learned = {0};
	struct hb_reader *rd;
	struct hb_rd_record rec;
	const char *paths[1];
	int rc;

	if (!d)
		return -ENOMEM;
	rc = hbc_archive_scan(d->path, &d->rec, &learned);
	hbc_learned_free(&learned);
	if (rc)
		return rc;
	if (!d->rec.newest[0])
		return 0;
	d->finish = !d->rec.has_end || d->rec.good_len < d->rec.file_len;
	if (d->finish && (rc = sink_dir_open(s, d))) /* cut the torn tail now */
		return rc;
	paths[0] = d->path;
	rc = hb_reader_open(&rd, paths, 1, &ro);
	if (rc)
		return rc;
	while (!rc && hb_reader_next(rd, &rec) > 0)
		rc = sink_learn_rec(s, d, &rec);
	hb_reader_close(rd);
	return rc;
}

static int sink_name_ok(const char *n)
{
	return n[0] != '.' && !hb_name_check(n, HBF_HOST_MAX);
}

static int sink_learn(struct sink *s)
{
	DIR *top = opendir(s->cfg.dir), *sub;
	struct dirent *h, *b;
	char path[sizeof(s->cfg.dir) + 260];
	int rc = 0;

	if (!top)
		return -errno;
	while (!rc && (h = readdir(top))) {
		if (!sink_name_ok(h->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", s->cfg.dir, h->d_name);
		sub = opendir(path);
		if (!sub)
			continue;
		while (!rc && (b = readdir(sub)))
			if (sink_name_ok(b->d_name) && strlen(b->d_name) < 64)
				rc = sink_learn_dir(s, h->d_name, b->d_name);
		closedir(sub);
	}
	closedir(top);
	return rc;
}

int sink_open(struct sink **out, const struct sink_cfg *cfg)
{
	struct sink *s = calloc(1, sizeof(*s));
	int rc;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	s->last_sync_ns = hbc_mono_ns();
	if (!msgpack_zone_init(&s->zone_msg, 64 * 1024)) {
		free(s);
		return -ENOMEM;
	}
	if (!msgpack_zone_init(&s->zone_rec, 16 * 1024)) {
		msgpack_zone_destroy(&s->zone_msg);
		free(s);
		return -ENOMEM;
	}
	rc = hbc_mkdir_p(cfg->dir, 0700);
	if (!rc)
		rc = sink_learn(s);
	if (rc) {
		sink_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

void sink_stats(const struct sink *s, struct sink_stats *st)
{
	*st = s->st;
}

void sink_close(struct sink *s)
{
	struct sink_dir *d, *dn;
	struct sink_prod *pr, *pn;
	size_t i;

	if (!s)
		return;
	for (d = s->dirs; d; d = dn) {
		dn = d->next;
		if (d->fd >= 0)
			close(d->fd);
		msgpack_sbuffer_destroy(&d->pend);
		free(d);
	}
	for (i = 0; i < SINK_HASH; i++)
		for (pr = s->hash[i]; pr; pr = pn) {
			pn = pr->next;
			free(pr->r);
			free(pr->ts);
			free(pr);
		}
	msgpack_zone_destroy(&s->zone_msg);
	msgpack_zone_destroy(&s->zone_rec);
	free(s->items);
	free(s);
}
