/* SPDX-License-Identifier: MIT */
/*
 * writer.c - archive writes through io_uring.
 *
 * A fixed pool of large buffers. The collector fills one at a time
 * (FILLING); sealing gives it the next file offset and queues it (SEALED)
 * in a FIFO; flush submits every sealed buffer as one write at its
 * explicit offset (no O_APPEND), several in flight. Completions come back
 * in any order: a short write is resubmitted for the rest, a failed one
 * (ENOSPC, EIO) waits for a retry with capped exponential backoff. Buffers
 * are *applied* (their marks released to the rings by the caller) strictly
 * in FIFO order, and only once written — and, with fsync=always, covered by
 * an fsync that started after they completed. So a ring's tail never moves
 * past a record that is not on file.
 *
 * With a cache window, what is written leaves the page cache behind the
 * writer (as RocksDB's bytes_per_sync and dd's oflag=nocache do): each
 * chunk's writeback is started as soon as it is written
 * (IORING_OP_SYNC_FILE_RANGE) and, once the window has passed it, waited
 * for and the chunk dropped (IORING_OP_FADVISE, DONTNEED, linked), all in
 * io_uring so the loop never waits for the disk. The archive's pages then stop
 * growing the page cache, and the pages the kernel gives the next writes
 * are mostly the ones just dropped: on a VM whose host takes freed guest
 * memory back, a page the guest has not touched lately costs a fault in
 * the host, and such pages were most of the kernel's write cost.
 */
#include "hbc.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HBC_FSYNC_TAG 1ull /* user_data of fsync requests (buffers are aligned) */
#define HBC_RETIRE_TAG 2ull /* | fd << 8: fsync of a file rotated away, then close */
#define HBC_TRIM_TAG 3ull   /* writeback start or drop of the cache window */
#define HBC_TRIMS_MAX 6u    /* of those in flight at most */
#define HBC_WAKE_TAG 4ull   /* POLLIN on the wake descriptor (hbc_writer_wake_on) */
#define HBC_RETIRE_WAIT_NS 10000000000ull
#define HBC_BACKOFF_MIN_NS 10000000ull
#define HBC_BACKOFF_MAX_NS 2000000000ull

struct hbc_writer {
	struct io_uring uring;
	unsigned defer_taskrun;
	int uring_ok;
	struct hbc_wbuf *bufs;
	unsigned nbufs;
	struct hbc_wbuf **fifo; /* sealed..done, in serial order */
	unsigned fifo_head, fifo_n;
	struct hbc_wbuf *cur;
	int fd;
	uint64_t off;
	uint64_t next_serial, applied;
	unsigned inflight; /* requests submitted, not completed */

	enum hbc_fsync mode;
	uint64_t fsync_interval_ns, last_fsync_ns, unsynced;
	int fsync_inflight, fsync_wanted, fsync_fd;
	unsigned retiring; /* fsyncs of retired files in flight */
	uint64_t fsync_covers, synced;

	int err;                  /* errno of the failure in progress, 0 when fine */
	uint64_t backoff_ns, retry_at, failing_since;

	hbc_apply_fn apply;
	void *ctx;
	struct hbc_writer_stats st;

	/* the cache window: file trim_fd is written back from its start up to
	 * wb_off and dropped up to drop_off (both multiples of
	 * HBC_CACHE_CHUNK, or where the file was taken up) */
	uint64_t cache_window;
	int trim_fd;
	uint64_t wb_off, drop_off;
	unsigned trims; /* in flight */

	/* waits also end when wake_fd is readable: a poll request armed by
	 * the wait, not counted in inflight (nobody waits for its result) */
	int wake_fd, wake_armed;
};

static void hbc_submit_fsync(struct hbc_writer *w, int fd, uint64_t covers);
static void hbc_submit_sealed(struct hbc_writer *w);

static int hbc_uring_init(struct hbc_writer *w, unsigned entries)
{
	struct io_uring_params p;
	int rc;

	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	rc = io_uring_queue_init_params(entries, &w->uring, &p);
	if (rc == 0) {
		w->defer_taskrun = 1;
		return 0;
	}
	memset(&p, 0, sizeof(p));
	return io_uring_queue_init_params(entries, &w->uring, &p);
}

int hbc_writer_create(struct hbc_writer **out, unsigned nbufs, size_t bufsize,
		      enum hbc_fsync mode, uint64_t fsync_interval_ns, hbc_apply_fn apply,
		      void *ctx)
{
	struct hbc_writer *w;
	unsigned i;
	int rc;

	if (nbufs < 2 || bufsize < 2 * HBC_REC_MAX)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->bufs = calloc(nbufs, sizeof(*w->bufs));
	w->fifo = calloc(nbufs, sizeof(*w->fifo));
	if (!w->bufs || !w->fifo) {
		rc = -ENOMEM;
		goto err;
	}
	w->nbufs = nbufs;
	for (i = 0; i < nbufs; i++) {
		w->bufs[i].b.data = malloc(bufsize);
		if (!w->bufs[i].b.data) {
			rc = -ENOMEM;
			goto err;
		}
		w->bufs[i].b.cap = bufsize;
	}
	rc = hbc_uring_init(w, 2 * nbufs + 8);
	if (rc < 0)
		goto err;
	w->uring_ok = 1;
	w->fd = -1;
	w->trim_fd = -1;
	w->wake_fd = -1;
	w->mode = mode;
	w->fsync_interval_ns = fsync_interval_ns;
	w->last_fsync_ns = hbc_mono_ns();
	w->apply = apply;
	w->ctx = ctx;
	*out = w;
	return 0;
err:
	hbc_writer_destroy(w);
	return rc;
}

static void hbc_reap(struct hbc_writer *w);

/* Archive writes in flight: the requests that are neither the periodic
 * fsync nor the fsync of a retired file. */
static unsigned hbc_writes_inflight(const struct hbc_writer *w)
{
	return w->inflight - (unsigned)w->fsync_inflight - w->retiring - w->trims;
}

/* Retired files are synced and closed before the writer goes. */
static void hbc_writer_settle(struct hbc_writer *w)
{
	uint64_t t0 = hbc_mono_ns();

	while (w->retiring && hbc_mono_ns() - t0 < HBC_RETIRE_WAIT_NS) {
		hbc_writer_wait(w, 10000000);
		hbc_reap(w);
	}
}

void hbc_writer_destroy(struct hbc_writer *w)
{
	unsigned i;

	if (!w)
		return;
	if (w->uring_ok) {
		hbc_writer_settle(w);
		io_uring_queue_exit(&w->uring);
	}
	for (i = 0; w->bufs && i < w->nbufs; i++) {
		free(w->bufs[i].b.data);
		free(w->bufs[i].marks);
	}
	free(w->bufs);
	free(w->fifo);
	free(w);
}

static void hbc_fifo_push(struct hbc_writer *w, struct hbc_wbuf *b)
{
	w->fifo[(w->fifo_head + w->fifo_n) % w->nbufs] = b;
	w->fifo_n++;
}

static struct hbc_wbuf *hbc_fifo_at(const struct hbc_writer *w, unsigned i)
{
	return w->fifo[(w->fifo_head + i) % w->nbufs];
}

static void hbc_writer_seal(struct hbc_writer *w)
{
	struct hbc_wbuf *b = w->cur;

	if (!b)
		return;
	hbc_buf_batch_end(&b->b);
	if (b->b.len == 0 && b->nmarks == 0)
		return;
	w->cur = NULL;
	b->fd = w->fd;
	b->off = w->off;
	b->written = 0;
	w->off += b->b.len;
	b->state = b->b.len ? HBC_WB_SEALED : HBC_WB_DONE;
	hbc_fifo_push(w, b);
}

struct hbc_wbuf *hbc_writer_buf(struct hbc_writer *w, size_t need)
{
	unsigned i;

	if (w->cur)
		hbc_buf_batch_end(&w->cur->b); /* the caller may write raw bytes */
	if (w->cur && w->cur->b.cap - w->cur->b.len >= need)
		return w->cur;
	hbc_writer_seal(w);
	if (w->cur) /* still current: it was empty, and need is too large */
		return NULL;
	if (!w->err)
		hbc_submit_sealed(w); /* a full buffer goes out now, not at the next flush */
	for (i = 0; i < w->nbufs; i++) {
		struct hbc_wbuf *b = &w->bufs[i];

		if (b->state != HBC_WB_FREE)
			continue;
		b->state = HBC_WB_FILLING;
		b->b.len = 0;
		b->b.overflow = 0;
		b->nmarks = 0;
		b->serial = ++w->next_serial;
		w->cur = b;
		return need <= b->b.cap ? b : NULL;
	}
	return NULL;
}

int hbc_wbuf_mark(struct hbc_wbuf *b, struct hbc_source *src, uint64_t upto, uint64_t seq_next)
{
	struct hbc_mark *m;

	/* rings are drained one after the other: the last mark is usually ours */
	if (b->nmarks && b->marks[b->nmarks - 1].src == src) {
		m = &b->marks[b->nmarks - 1];
		m->upto = upto;
		m->seq_next = seq_next;
		return 0;
	}
	if (b->nmarks == b->mcap) {
		size_t cap = b->mcap ? b->mcap * 2 : 64;
		struct hbc_mark *nm = realloc(b->marks, cap * sizeof(*nm));

		if (!nm)
			return -ENOMEM;
		b->marks = nm;
		b->mcap = cap;
	}
	b->marks[b->nmarks++] = (struct hbc_mark){src, upto, seq_next};
	return 0;
}

uint64_t hbc_wbuf_serial(const struct hbc_wbuf *b)
{
	return b->serial;
}

void hbc_writer_set_file(struct hbc_writer *w, int fd, uint64_t off)
{
	hbc_writer_seal(w);
	w->fd = fd;
	w->off = off;
}

uint64_t hbc_writer_file_size(const struct hbc_writer *w)
{
	return w->off + (w->cur ? w->cur->b.len : 0);
}

static struct io_uring_sqe *hbc_get_sqe(struct hbc_writer *w)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&w->uring);

	if (!sqe) {
		io_uring_submit(&w->uring);
		sqe = io_uring_get_sqe(&w->uring);
	}
	return sqe;
}

static void hbc_submit_buf(struct hbc_writer *w, struct hbc_wbuf *b)
{
	struct io_uring_sqe *sqe = hbc_get_sqe(w);

	if (!sqe) /* cannot happen: the queue has room for every buffer */
		return;
	io_uring_prep_write(sqe, b->fd, b->b.data + b->written, (unsigned)(b->b.len - b->written),
			    b->off + b->written);
	io_uring_sqe_set_data(sqe, b);
	if (!b->t_submit)
		b->t_submit = hbc_mono_ns();
	b->state = HBC_WB_INFLIGHT;
	w->inflight++;
}

static void hbc_submit_sealed(struct hbc_writer *w)
{
	unsigned i, n = 0;

	for (i = 0; i < w->fifo_n; i++) {
		struct hbc_wbuf *b = hbc_fifo_at(w, i);

		if (b->state == HBC_WB_SEALED) {
			hbc_submit_buf(w, b);
			n++;
		}
	}
	if (n)
		io_uring_submit(&w->uring);
}

void hbc_writer_flush(struct hbc_writer *w)
{
	hbc_writer_seal(w);
	if (!w->err)
		hbc_submit_sealed(w);
}

/* The current buffer goes out at once when no write is in flight, so a
 * lone record is written without delay. While writes are in flight it keeps
 * filling instead (hbc_writer_buf sends it when full): writes to one file run
 * one after the other anyway, and a slow write then meets a few full buffers
 * queued behind it rather than every buffer holding a sliver, which would
 * stop the drain after a handful of passes. Returns 1 when the current
 * buffer went out. */
int hbc_writer_kick(struct hbc_writer *w)
{
	struct hbc_wbuf *b = w->cur;

	if (hbc_writes_inflight(w)) {
		if (!w->err)
			hbc_submit_sealed(w);
		return 0;
	}
	hbc_writer_flush(w);
	return b && !w->cur; /* sealed: it held something */
}

static void hbc_fail(struct hbc_writer *w, int err, const char *what)
{
	uint64_t now = hbc_mono_ns();

	if (w->err != err)
		hbc_warn("%s failed: %s; records stay in the rings, retrying", what, strerror(err));
	if (!w->err) {
		w->backoff_ns = HBC_BACKOFF_MIN_NS;
		w->failing_since = now;
		w->retry_at = now + w->backoff_ns;
	}
	/* else: the retry that failed already scheduled the next one */
	w->err = err;
}

static void hbc_recovered(struct hbc_writer *w)
{
	if (!w->err)
		return;
	hbc_warn("writes resumed");
	w->err = 0;
}

static void hbc_complete_fsync(struct hbc_writer *w, int res)
{
	w->fsync_inflight = 0;
	if (res < 0) {
		w->fsync_wanted = 1;
		hbc_fail(w, -res, "fsync");
		return;
	}
	if (w->fsync_covers > w->synced)
		w->synced = w->fsync_covers;
}

static void hbc_complete_write(struct hbc_writer *w, struct hbc_wbuf *b, int res)
{
	if (res == -EAGAIN || res == -EINTR) {
		b->state = HBC_WB_SEALED;
		return;
	}
	if (res <= 0) {
		b->state = HBC_WB_FAILED;
		hbc_fail(w, res ? -res : EIO, "archive write");
		return;
	}
	hbc_recovered(w);
	b->written += (size_t)res;
	w->unsynced += (uint64_t)res;
	w->st.bytes += (uint64_t)res;
	if (b->written < b->b.len) {
		b->state = HBC_WB_SEALED; /* short write: the rest goes again */
		return;
	}
	b->state = HBC_WB_DONE;
	w->st.writes++;
	w->st.last_lat_ns = hbc_mono_ns() - b->t_submit;
	w->st.lat_sum_ns += w->st.last_lat_ns;
	if (w->st.last_lat_ns > w->st.lat_max_ns)
		w->st.lat_max_ns = w->st.last_lat_ns;
	b->t_submit = 0;
}

/* A file the collector is done with is synced (when sync is set) and
 * closed without stalling the drain loop: the fsync goes through io_uring,
 * the close follows its completion. */
void hbc_writer_retire(struct hbc_writer *w, int fd, int sync)
{
	struct io_uring_sqe *sqe;

	if (fd < 0)
		return;
	if (!sync || !w->uring_ok || !(sqe = hbc_get_sqe(w))) {
		if (sync)
			fsync(fd);
		close(fd);
		return;
	}
	io_uring_prep_fsync(sqe, fd, 0);
	io_uring_sqe_set_data64(sqe, HBC_RETIRE_TAG | (uint64_t)fd << 8);
	io_uring_submit(&w->uring);
	w->inflight++;
	w->retiring++;
}

static void hbc_complete_retire(struct hbc_writer *w, int fd, int res)
{
	w->retiring--;
	if (res < 0)
		hbc_warn("fsync of a finished archive file failed: %s", strerror(-res));
	close(fd);
}

static void hbc_reap(struct hbc_writer *w)
{
	struct io_uring_cqe *cqe;

	if (!w->inflight && !w->wake_armed)
		return;
	if (w->defer_taskrun)
		io_uring_get_events(&w->uring);
	while (io_uring_peek_cqe(&w->uring, &cqe) == 0) {
		uint64_t ud = io_uring_cqe_get_data64(cqe);
		int res = cqe->res;

		io_uring_cqe_seen(&w->uring, cqe);
		if (ud == HBC_WAKE_TAG) {
			w->wake_armed = 0; /* it ended a wait: nothing else to do */
			continue;
		}
		w->inflight--;
		if (ud == HBC_FSYNC_TAG)
			hbc_complete_fsync(w, res);
		else if (ud == HBC_TRIM_TAG)
			w->trims--; /* advice: its result changes nothing */
		else if ((ud & 0xff) == HBC_RETIRE_TAG)
			hbc_complete_retire(w, (int)(ud >> 8), res);
		else
			hbc_complete_write(w, (struct hbc_wbuf *)(uintptr_t)ud, res);
	}
}

/* Serial up to which every buffer is written (the done prefix). */
static uint64_t hbc_done_prefix(const struct hbc_writer *w, int *fd)
{
	uint64_t s = w->applied;
	unsigned i;

	for (i = 0; i < w->fifo_n; i++) {
		struct hbc_wbuf *b = hbc_fifo_at(w, i);

		if (b->state != HBC_WB_DONE)
			break;
		s = b->serial;
		if (b->b.len)
			*fd = b->fd;
	}
	return s;
}

static void hbc_submit_fsync(struct hbc_writer *w, int fd, uint64_t covers)
{
	struct io_uring_sqe *sqe;

	if (fd < 0 || !(sqe = hbc_get_sqe(w)))
		return;
	io_uring_prep_fsync(sqe, fd, 0);
	io_uring_sqe_set_data64(sqe, HBC_FSYNC_TAG);
	io_uring_submit(&w->uring);
	w->inflight++;
	w->fsync_inflight = 1;
	w->fsync_wanted = 0;
	w->fsync_fd = fd;
	w->fsync_covers = covers;
	w->unsynced = 0;
	w->last_fsync_ns = hbc_mono_ns();
}

static void hbc_maybe_fsync(struct hbc_writer *w)
{
	int fd = w->fd;
	uint64_t dp;

	if (w->fsync_inflight || w->err)
		return;
	if (w->mode == HBC_FSYNC_ALWAYS) {
		dp = hbc_done_prefix(w, &fd);
		if (dp > w->synced)
			hbc_submit_fsync(w, fd, dp);
		return;
	}
	if (w->mode == HBC_FSYNC_INTERVAL && (w->unsynced || w->fsync_wanted) &&
	    hbc_mono_ns() - w->last_fsync_ns >= w->fsync_interval_ns)
		hbc_submit_fsync(w, w->fd, 0);
}

void hbc_writer_cache_window(struct hbc_writer *w, uint64_t window)
{
	w->cache_window = window;
}

static struct io_uring_sqe *hbc_trim_sqe(struct hbc_writer *w)
{
	struct io_uring_sqe *sqe = hbc_get_sqe(w);

	if (sqe) {
		io_uring_sqe_set_data64(sqe, HBC_TRIM_TAG);
		w->inflight++;
		w->trims++;
	}
	return sqe;
}

/* The chunk at off: its writeback started, or (drop) waited for and the
 * chunk then dropped, a clean page being the only kind DONTNEED drops. */
static void hbc_trim_submit(struct hbc_writer *w, int fd, uint64_t off, int drop)
{
	unsigned wait = SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WAIT_AFTER;
	struct io_uring_sqe *sqe = hbc_trim_sqe(w);

	if (!sqe)
		return;
	io_uring_prep_sync_file_range(sqe, fd, HBC_CACHE_CHUNK, off,
				      SYNC_FILE_RANGE_WRITE | (drop ? wait : 0));
	if (!drop)
		return;
	sqe->flags |= IOSQE_IO_LINK; /* the drop runs once the chunk is on disk */
	sqe = hbc_trim_sqe(w);
	if (sqe)
		io_uring_prep_fadvise(sqe, fd, off, HBC_CACHE_CHUNK, POSIX_FADV_DONTNEED);
}

/* The cache window after a buffer of file fd from start to end was
 * applied (in file order): writeback started for every whole chunk
 * written, a chunk dropped once cache_window bytes of started ones follow
 * it. At most HBC_TRIMS_MAX requests are in flight; what waits for them
 * goes later (a slow disk keeps more in the cache, never blocks). */
static void hbc_trim(struct hbc_writer *w, int fd, uint64_t start, uint64_t end)
{
	unsigned n = 0;

	if (fd != w->trim_fd) { /* a new file: from where its writes start */
		w->trim_fd = fd;
		w->wb_off = w->drop_off = start - start % HBC_CACHE_CHUNK;
	}
	while (end - w->wb_off >= HBC_CACHE_CHUNK && w->trims < HBC_TRIMS_MAX) {
		hbc_trim_submit(w, fd, w->wb_off, 0);
		w->wb_off += HBC_CACHE_CHUNK;
		n++;
	}
	while (w->wb_off - w->drop_off > w->cache_window && w->trims + 2 <= HBC_TRIMS_MAX) {
		hbc_trim_submit(w, fd, w->drop_off, 1);
		w->drop_off += HBC_CACHE_CHUNK;
		n++;
	}
	if (n)
		io_uring_submit(&w->uring);
}

static int hbc_apply_done(struct hbc_writer *w)
{
	int n = 0;

	while (w->fifo_n) {
		struct hbc_wbuf *b = hbc_fifo_at(w, 0);

		if (b->state != HBC_WB_DONE)
			break;
		if (w->mode == HBC_FSYNC_ALWAYS && w->synced < b->serial && b->b.len)
			break;
		w->fifo_head = (w->fifo_head + 1) % w->nbufs;
		w->fifo_n--;
		w->applied = b->serial;
		if (w->cache_window && b->b.len)
			hbc_trim(w, b->fd, b->off, b->off + b->b.len);
		if (w->apply)
			w->apply(w->ctx, b);
		b->state = HBC_WB_FREE;
		b->nmarks = 0;
		n++;
	}
	return n;
}

static void hbc_retry_failed(struct hbc_writer *w)
{
	unsigned i;

	if (w->err && hbc_mono_ns() < w->retry_at)
		return;
	for (i = 0; i < w->fifo_n; i++) {
		struct hbc_wbuf *b = hbc_fifo_at(w, i);

		if (b->state == HBC_WB_FAILED)
			b->state = HBC_WB_SEALED;
	}
	if (!w->err)
		return; /* a write succeeded since: the rest goes with the others */
	/* the next retry, should this one fail too; a success clears err */
	w->backoff_ns = w->backoff_ns * 2 > HBC_BACKOFF_MAX_NS ? HBC_BACKOFF_MAX_NS : w->backoff_ns * 2;
	w->retry_at = hbc_mono_ns() + w->backoff_ns;
	hbc_submit_sealed(w);
	if (w->fsync_wanted && !w->fsync_inflight)
		hbc_submit_fsync(w, w->fsync_fd, w->fsync_covers);
}

int hbc_writer_poll(struct hbc_writer *w)
{
	hbc_reap(w);
	hbc_retry_failed(w);
	if (!w->err)
		hbc_submit_sealed(w); /* short writes and EAGAIN */
	hbc_maybe_fsync(w);
	return hbc_apply_done(w);
}

/* (the cache window's requests are advice: nobody waits for them) */
int hbc_writer_idle(const struct hbc_writer *w)
{
	return w->fifo_n == 0 && w->inflight == w->trims &&
	       (!w->cur || (!w->cur->b.len && !w->cur->nmarks));
}

int hbc_writer_failing(const struct hbc_writer *w)
{
	return w->err != 0;
}

uint64_t hbc_writer_applied(const struct hbc_writer *w)
{
	return w->applied;
}

const struct hbc_writer_stats *hbc_writer_stats(const struct hbc_writer *w)
{
	return &w->st;
}

void hbc_writer_wake_on(struct hbc_writer *w, int fd)
{
	w->wake_fd = fd;
}

/* A one-shot poll for the wake descriptor, unless one is pending. */
static void hbc_wake_arm(struct hbc_writer *w)
{
	struct io_uring_sqe *sqe;

	if (w->wake_fd < 0 || w->wake_armed || !(sqe = hbc_get_sqe(w)))
		return;
	io_uring_prep_poll_add(sqe, w->wake_fd, POLLIN);
	io_uring_sqe_set_data64(sqe, HBC_WAKE_TAG);
	if (io_uring_submit(&w->uring) >= 0)
		w->wake_armed = 1;
}

void hbc_writer_wait(struct hbc_writer *w, uint64_t timeout_ns)
{
	struct __kernel_timespec ts = {(long long)(timeout_ns / 1000000000u),
				       (long long)(timeout_ns % 1000000000u)};
	struct timespec nts = {(time_t)(timeout_ns / 1000000000u),
			       (long)(timeout_ns % 1000000000u)};
	struct io_uring_cqe *cqe;

	hbc_wake_arm(w);
	if (w->inflight || w->wake_armed) {
		/* returns when a completion is ready (not consumed: hbc_reap does) */
		io_uring_wait_cqe_timeout(&w->uring, &cqe, &ts);
		return;
	}
	nanosleep(&nts, NULL);
}

int hbc_writer_wait_idle(struct hbc_writer *w, uint64_t timeout_ns)
{
	hbc_writer_flush(w);
	for (;;) {
		hbc_writer_poll(w);
		if (w->fifo_n == 0 && w->inflight == w->retiring + w->trims)
			return 0; /* retired files and the cache window finish on their own */
		if (w->err && timeout_ns && hbc_mono_ns() - w->failing_since > timeout_ns)
			return -EIO;
		hbc_writer_wait(w, w->err ? 5000000 : 10000000);
	}
}
