/* SPDX-License-Identifier: MIT */
/*
 * collector.c - hbcollect's loop: discover rings, drain them in batches
 * into the writer's buffers, flush, reap completions, rotate files, publish
 * its own stats, and stop cleanly.
 *
 * Files (docs/FORMAT.md): each starts with a header and one producer record
 * per live producer. Rotation waits for every write of the old file, writes
 * the successor's header and producer records, waits again, and only then
 * appends `end` to the old file: a reader that meets `end` can open the
 * successor, and a crash at any point leaves files a restart can finish.
 */
#include "collector.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HBC_NBUFS 16                    /* write buffers: enough for many rings */
#define HBC_BUFSIZE (1u << 20)
#define HBC_DRAIN_BUDGET 4096           /* records per ring per pass */
#define HBC_BUSY_WAIT_NS 1000000ull     /* longest wait for a write while busy */
#define HBC_POLL_RECORDS 4096          /* drained between two reaps in a pass */
#define HBC_THIN_PASS 1024              /* records: a pass that drained fewer... */
#define HBC_GATHER_NS 100000ull         /* ...lets the rings fill this long */
#define HBC_KICK_NS 1000000ull          /* a busy pass's buffer waits at most this... */
#define HBC_KICK_HELD 8                 /* ...or less when 1/8 of a ring waits on it */
#define HBC_LIVE_EVERY_NS 200000000ull  /* pid and heartbeat checks */
#define HBC_STOP_DRAIN_NS 5000000000ull /* longest final drain */
#define HBC_STOP_WRITE_NS 10000000000ull
#define HBC_FILE_CHECK_NS 1000000000ull /* is the live file still there? */
#define HBC_ROTATE_BACKOFF_MAX_NS 30000000000ull

/* ---- files ------------------------------------------------------------- */

static int hbc_file_create(struct hbc_collector *c, uint64_t *ns_out, char *name, int *fd_out)
{
	char path[sizeof(c->o.dir) + HBC_FNAME_MAX + 2];
	uint64_t ns = hbc_now_ns();
	int fd, tries;

	/* the directory may have been removed under us: make it again */
	if (access(c->o.dir, F_OK) < 0 && (fd = hbc_mkdir_p(c->o.dir, 0700)) < 0)
		return fd;
	for (tries = 0; tries < 1000; tries++) {
		if (ns <= c->fname_ns)
			ns = c->fname_ns + 1; /* names only ever go forward */
		hbc_file_name(ns, name, HBC_FNAME_MAX);
		snprintf(path, sizeof(path), "%s/%s", c->o.dir, name);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0) {
			*fd_out = fd;
			*ns_out = ns;
			c->fname_ns = ns;
			return 0;
		}
		if (errno != EEXIST)
			return -errno;
		ns++;
	}
	return -EEXIST;
}

/* Opens the successor and queues its header and producer records. */
static int hbc_file_start(struct hbc_collector *c, char *prev)
{
	struct hbc_file_hdr h = {.host = c->host, .bus = c->o.bus, .pid = c->pid};
	char name[HBC_FNAME_MAX];
	msgpack_packer *pk;
	uint64_t ns;
	size_t i;
	int fd, rc;

	rc = hbc_file_create(c, &ns, name, &fd);
	if (rc)
		return rc;
	hbc_writer_set_file(c->w, fd, 0);
	hbc_index_reset(&c->ix, 0, 0);
	c->ix_on = 1;
	c->fd = fd;
	memcpy(c->fname, name, sizeof(name));
	c->file_mono = hbc_mono_ns();
	h.ts_ns = ns;
	h.file_seq = c->file_seq++;
	h.prev = prev && prev[0] ? prev : NULL;
	pk = hbc_pk_wait(c);
	if (!pk)
		return -ENOBUFS;
	hbc_enc_header(pk, &h);
	for (i = 0; i < c->nsources; i++) {
		struct hbc_source *r = c->sources[i];

		if (r->state == HBC_SRC_ACTIVE && (rc = hbc_source_restate(c, r)))
			return rc;
	}
	hbc_info("writing %s/%s", c->o.dir, name);
	return 0;
}

static int hbc_write_end(struct hbc_collector *c, int fd, uint64_t off)
{
	msgpack_packer *pk;

	hbc_writer_set_file(c->w, fd, off);
	c->ix_on = 0; /* the index belongs to the new file now */
	pk = hbc_pk_wait(c);
	c->ix_on = 1;
	if (!pk)
		return -ENOBUFS;
	c->pk_buf->b.ix = NULL;
	hbc_enc_end(pk, hbc_now_ns(), c->fname);
	return 0;
}

static int hbc_rotate(struct hbc_collector *c)
{
	char old_name[HBC_FNAME_MAX];
	uint64_t old_size, new_size;
	int old_fd = c->fd, rc;

	hbc_index_put(c, 1); /* the old file's last chunk, right before its end */
	rc = hbc_writer_wait_idle(c->w, 0);
	if (rc)
		return rc;
	old_size = hbc_writer_file_size(c->w);
	memcpy(old_name, c->fname, sizeof(old_name));
	rc = hbc_file_start(c, old_name);
	if (rc == 0)
		rc = hbc_writer_wait_idle(c->w, 0);
	if (rc)
		return rc; /* the caller logs it */
	/* the successor is on file: now the old one may say where it went */
	new_size = hbc_writer_file_size(c->w);
	rc = hbc_write_end(c, old_fd, old_size);
	if (rc == 0)
		rc = hbc_writer_wait_idle(c->w, 0);
	hbc_writer_set_file(c->w, c->fd, new_size);
	hbc_writer_retire(c->w, old_fd, c->o.fsync != HBC_FSYNC_NEVER);
	return rc;
}

static void hbc_retain(struct hbc_collector *c)
{
	int rc = hbc_archive_retain(c->o.dir, c->fname, c->o.retain_files, c->o.retain_bytes);

	if (rc)
		hbc_warn("retention in %s: %s", c->o.dir, strerror(-rc));
}

/* ---- the operating view (ops.h) ------------------------------------------ */

/* Creation, options in c->o.ops. 0 or -errno (logged). */
static int hbc_ops_open(struct hbc_collector *c)
{
	char err[256] = "";
	int rc;

	c->o.ops.bus = c->o.bus;
	c->o.ops.dir = c->o.dir;
	c->o.ops.note = hbc_pack_note;
	rc = hbc_ops_create(&c->ops, &c->o.ops, err, sizeof(err));
	if (rc) {
		hbc_warn("--metrics %s", err);
		return rc;
	}
	if (c->o.ops.metrics_addr)
		hbc_info("metrics on %s (port %d)", c->o.ops.metrics_addr,
			 hbc_ops_metrics_port(c->ops));
	return 0;
}

/* Periodic: alerts, host record, /metrics snapshot, fed the collector's
 * own figures. */
static void hbc_ops_feed(struct hbc_collector *c)
{
	const struct hbc_writer_stats *st = hbc_writer_stats(c->w);
	struct hbc_prom_collector cs = {
		.records = c->records, .bytes = st->bytes,
		.writes = st->writes, .write_ns_sum = st->lat_sum_ns, .write_ns_max = st->lat_max_ns,
		.backlog_bytes = hbc_sources_backlog(c), .files = c->file_seq,
		.write_failing = hbc_writer_failing(c->w)};

	if (c->ops)
		hbc_ops_tick(c->ops, hbc_now_ns(), &cs, hbc_pk(c));
}

/* ---- start ---------------------------------------------------------------- */

static void hbc_self_open(struct hbc_collector *c)
{
	struct hb_config cfg = {.bus = c->o.bus, .name = "hbcollect",
				.ring_kb = 256, .single_thread = 1};

	setenv("HB_BUS", c->o.bus, 1); /* its own ring is on the bus it collects */
	if (hb_open(&c->self, &cfg) < 0)
		return;
	c->m_records = hb_metric_register(c->self, "hbcollect.records", HB_METRIC_COUNTER);
	c->m_bytes = hb_metric_register(c->self, "hbcollect.bytes", HB_METRIC_COUNTER);
	c->m_gaps = hb_metric_register(c->self, "hbcollect.gap_records", HB_METRIC_COUNTER);
	c->m_write = hb_metric_register(c->self, "hbcollect.write", HB_METRIC_TIMING);
	c->m_backlog = hb_metric_register(c->self, "hbcollect.backlog_bytes", HB_METRIC_GAUGE);
	c->m_rings = hb_metric_register(c->self, "hbcollect.rings", HB_METRIC_GAUGE);
	c->m_rps = hb_metric_register(c->self, "hbcollect.records_per_s", HB_METRIC_GAUGE);
	c->m_bps = hb_metric_register(c->self, "hbcollect.bytes_per_s", HB_METRIC_GAUGE);
	hb_status_set(c->self, HB_STATUS_OK);
}

static int hbc_recover(struct hbc_collector *c)
{
	struct hbc_recovery rec;
	msgpack_packer *pk;
	int rc;

	rc = hbc_archive_scan(c->o.dir, &rec, &c->learned);
	if (rc)
		hbc_warn("%s: cannot scan: %s", c->o.dir, strerror(-rc));
	c->fname_ns = rec.newest_ns;
	rc = hbc_file_start(c, NULL);
	if (rc)
		return rc;
	pk = hbc_pk(c);
	if (!pk)
		return -ENOBUFS;
	hbc_enc_collector(pk, hbc_now_ns(), "start", c->pid);
	rc = hbc_writer_wait_idle(c->w, 0);
	if (rc)
		return rc;
	if (rec.newest[0] && !rec.has_end) {
		hbc_info("%s was not finished; closing it", rec.newest);
		rc = hbc_archive_finish(c->o.dir, &rec, c->fname);
		if (rc)
			hbc_warn("%s: %s", rec.newest, strerror(-rc));
	}
	if (c->learned.n)
		hbc_debug("learned %zu rings from %s", c->learned.n, rec.newest);
	return 0;
}

/* One collector per bus: two would both consume the same rings. */
static int hbc_lock_bus(struct hbc_collector *c)
{
	snprintf(c->lock_path, sizeof(c->lock_path), "%s/hbcollect.%s.lock", c->o.shm_dir,
		 c->o.bus);
	c->lock_fd = open(c->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (c->lock_fd < 0)
		return -errno;
	if (flock(c->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		int err = errno;

		close(c->lock_fd);
		c->lock_fd = -1;
		return err == EWOULDBLOCK ? -EBUSY : -err;
	}
	return 0;
}

int hbc_collector_create(struct hbc_collector **out, const struct hbc_opts *o)
{
	struct hbc_collector *c;
	int rc;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->o = *o;
	c->fd = -1;
	c->pid = (uint32_t)getpid();
	c->self = &hb_producer_disabled;
	c->lock_fd = -1;
	if (o->host[0])
		snprintf(c->host, sizeof(c->host), "%s", o->host);
	else
		gethostname(c->host, sizeof(c->host) - 1);
	rc = hbc_lock_bus(c);
	if (rc) {
		if (rc == -EBUSY)
			hbc_warn("another hbcollect is collecting bus '%s'", o->bus);
		else
			hbc_warn("%s: %s", c->lock_path, strerror(-rc));
		goto err;
	}
	rc = hbc_mkdir_p(o->dir, 0700);
	if (rc) {
		hbc_warn("cannot create %s: %s", o->dir, strerror(-rc));
		goto err;
	}
	rc = hbc_writer_create(&c->w, HBC_NBUFS, HBC_BUFSIZE, o->fsync, o->fsync_interval_ns,
			       hbc_apply, c);
	if (rc) {
		hbc_warn("io_uring: %s", strerror(-rc));
		goto err;
	}
	hbc_writer_cache_window(c->w, o->cache_window);
	rc = hbc_recover(c);
	if (rc) {
		hbc_warn("cannot start an archive file in %s: %s", o->dir, strerror(-rc));
		goto err;
	}
	hbc_retain(c);
	rc = hbc_ops_open(c);
	if (rc)
		goto err;
	hbc_disc_init(&c->disc, o->shm_dir, o->bus);
	c->discovering = 1;
	hbc_writer_wake_on(c->w, c->disc.ifd); /* a new ring ends the idle wait */
	hbc_self_open(c);
	hbc_sigbus_install(c);
	*out = c;
	return 0;
err:
	hbc_collector_destroy(c);
	return rc;
}

void hbc_collector_destroy(struct hbc_collector *c)
{
	size_t i;

	if (!c)
		return;
	hb_close(c->self);
	hbc_ops_destroy(c->ops);
	hbc_disc_close(&c->disc);
	hbc_writer_destroy(c->w);
	for (i = 0; i < c->nsources; i++)
		hbc_source_free(c->sources[i]);
	free(c->sources);
	free(c->pfds);
	hbc_learned_free(&c->learned);
	if (c->fd >= 0)
		close(c->fd);
	if (c->lock_fd >= 0) {
		unlink(c->lock_path);
		close(c->lock_fd);
	}
	free(c);
}

/* ---- the loop ------------------------------------------------------------ */

/* Drains every active ring once, up to the budget each, starting where the
 * previous pass stopped so that no ring waits behind the others for buffers.
 * Between rings, once HBC_POLL_RECORDS were drained since, completed
 * writes are reaped and the tails they cover released (a system call with
 * io_uring's deferred completions, so not after every ring: with many
 * rings of a few records each that call cost more than the records; the
 * pass ends with one anyway). *blocked is set when every write buffer was
 * busy: the pass stopped early, which is not idleness. Returns the records
 * drained. */
static int hbc_drain_all(struct hbc_collector *c, int *blocked)
{
	size_t k, nr = c->nsources, start = nr ? c->drain_next % nr : 0;
	int total = 0, unpolled = 0;

	*blocked = 0;
	c->ring_held = 0;
	for (k = 0; k < nr; k++) {
		size_t i = (start + k) % nr;
		struct hbc_source *r = c->sources[i];
		enum hbc_drain_end end;
		int n;

		if (r->state != HBC_SRC_ACTIVE)
			continue;
		n = hbc_source_drain(c, r, HBC_DRAIN_BUDGET, &end);
		if (n == -ENOBUFS) {
			/* every buffer is busy: send them, take back what is done */
			hbc_writer_flush(c->w);
			hbc_writer_poll(c->w);
			n = hbc_source_drain(c, r, HBC_DRAIN_BUDGET, &end);
		}
		if (n == -ENOBUFS) {
			hbc_writer_flush(c->w);
			c->drain_next = i; /* this ring goes first next time */
			*blocked = 1;
			return total;
		}
		hbc_source_settle(c, r, end);
		/* drained, not released: room the producer gets back only once
		 * the buffers holding it are written */
		if (r->v.cursor - r->v.tail > r->v.size / HBC_KICK_HELD)
			c->ring_held = 1;
		total += n;
		unpolled += n;
		if (unpolled >= HBC_POLL_RECORDS && k + 1 < nr) {
			hbc_writer_poll(c->w);
			unpolled = 0;
		}
	}
	c->drain_next = start + 1;
	return total;
}

static void hbc_stats(struct hbc_collector *c, uint64_t now)
{
	const struct hbc_writer_stats *st = hbc_writer_stats(c->w);
	struct hb_producer *s = c->self;
	double dt;

	if (!s->enabled)
		return;
	if (st->writes != c->stat_writes)
		hb_timing_add(s, (unsigned)c->m_write, st->last_lat_ns);
	c->stat_writes = st->writes;
	if (now - c->stat_mono >= 1000000000ull) {
		dt = (double)(now - c->stat_mono) / 1e9;
		hb_gauge_set(s, (unsigned)c->m_rps, (double)(c->records - c->stat_records) / dt);
		hb_gauge_set(s, (unsigned)c->m_bps, (double)(st->bytes - c->stat_bytes) / dt);
		hb_gauge_set(s, (unsigned)c->m_backlog, (double)hbc_sources_backlog(c));
		hb_gauge_set(s, (unsigned)c->m_rings, (double)c->nsources);
		hb_counter_add(s, (unsigned)c->m_records, c->records - c->stat_records);
		hb_counter_add(s, (unsigned)c->m_bytes, st->bytes - c->stat_bytes);
		c->stat_mono = now;
		c->stat_records = c->records;
		c->stat_bytes = st->bytes;
	}
	hb_tick(s);
}

/* The live file must still be the one named c->fname in the directory: an
 * outside tool may have removed it (or the directory) or moved it away.
 * Then a new file is started; what was written to a moved file stays in
 * it, what was written to a removed one went with it. */
static void hbc_file_check(struct hbc_collector *c, uint64_t now, volatile int *rotate)
{
	char path[sizeof(c->o.dir) + HBC_FNAME_MAX + 2];
	struct stat fs, ps;

	if (now < c->next_file_check_mono || c->fd < 0)
		return;
	c->next_file_check_mono = now + HBC_FILE_CHECK_NS;
	snprintf(path, sizeof(path), "%s/%s", c->o.dir, c->fname);
	if (fstat(c->fd, &fs) < 0)
		return;
	if (fs.st_nlink > 0 && stat(path, &ps) == 0 && ps.st_ino == fs.st_ino &&
	    ps.st_dev == fs.st_dev)
		return;
	if (!c->rotate_failing)
		hbc_warn("%s: the live archive file was %s; starting a new file", path,
			 fs.st_nlink ? "moved away" : "removed");
	*rotate = 1;
}

/* A failed rotation is retried with capped exponential backoff and logged
 * once per state change. */
static void hbc_rotate_now(struct hbc_collector *c, uint64_t now, volatile int *rotate)
{
	int rc = hbc_rotate(c);

	if (rc == 0) {
		if (c->rotate_failing)
			hbc_warn("rotation works again: writing %s/%s", c->o.dir, c->fname);
		c->rotate_failing = 0;
		c->rotate_backoff_ns = 0;
		*rotate = 0;
		hbc_retain(c);
		return;
	}
	if (!c->rotate_failing)
		hbc_warn("cannot start a new archive file in %s: %s; still writing %s, retrying",
			 c->o.dir, strerror(-rc), c->fname);
	c->rotate_failing = 1;
	c->rotate_backoff_ns = c->rotate_backoff_ns ? c->rotate_backoff_ns * 2 : 100000000ull;
	if (c->rotate_backoff_ns > HBC_ROTATE_BACKOFF_MAX_NS)
		c->rotate_backoff_ns = HBC_ROTATE_BACKOFF_MAX_NS;
	c->rotate_retry_mono = now + c->rotate_backoff_ns;
	*rotate = 1; /* still wanted */
}

static int hbc_rotate_due(struct hbc_collector *c, uint64_t now, volatile int *rotate)
{
	if (hbc_writer_failing(c->w) || now < c->rotate_retry_mono)
		return 0;
	if (*rotate)
		return 1;
	if (c->o.rotate_size && hbc_writer_file_size(c->w) >= c->o.rotate_size)
		return 1;
	return c->o.rotate_age_ns && now - c->file_mono >= c->o.rotate_age_ns;
}

/* Nothing was drained. While writes are queued or in flight (or every
 * buffer was busy) wait on their completion, at most 1 ms: a completion
 * frees buffers and ring space at once. Only when every ring is empty and
 * nothing is in flight, sleep 1 ms, doubling up to --poll-ms while it
 * stays so; a ring named meanwhile ends the sleep (the writer polls the
 * shm directory's inotify descriptor), and one found waiting out its
 * grace (HBC_ATTACH_GRACE_NS) shortens it. */
static void hbc_idle(struct hbc_collector *c, int blocked, uint64_t *sleep_ns)
{
	if (blocked || !hbc_writer_idle(c->w)) {
		*sleep_ns = 0;
		hbc_writer_wait(c->w, HBC_BUSY_WAIT_NS);
		return;
	}
	*sleep_ns = *sleep_ns ? *sleep_ns * 2 : 1000000;
	if (*sleep_ns > (uint64_t)c->o.poll_ms * 1000000)
		*sleep_ns = (uint64_t)c->o.poll_ms * 1000000;
	if (c->attach_due_mono) { /* a ring found waits out its grace */
		uint64_t now = hbc_mono_ns();
		uint64_t left = c->attach_due_mono > now ? c->attach_due_mono - now : 0;

		if (left < *sleep_ns)
			*sleep_ns = left;
		c->attach_due_mono = 0;
	}
	hbc_writer_wait(c->w, *sleep_ns);
}

/* The current buffer goes out (when no write is in flight) after a pass
 * that drained nothing, so a lone record waits one gather at most, and
 * otherwise once per HBC_KICK_NS: with writes of whatever each pass
 * drained, rates that keep every pass busy paid a wake-up of io_uring's
 * worker and two context switches on the collector's core for every few
 * kB. It goes out at once too when a ring has more than 1/HBC_KICK_HELD
 * of its size drained and not yet released (a producer writing a burst
 * needs that room back), and a full buffer whatever this says
 * (hbc_writer_buf). */
static void hbc_pass_kick(struct hbc_collector *c, uint64_t now, int n)
{
	if ((n == 0 || c->ring_held || now >= c->kick_due_mono) && hbc_writer_kick(c->w))
		c->kick_due_mono = now + HBC_KICK_NS;
}

/* One pass; returns the records drained, *blocked as in hbc_drain_all. */
static int hbc_pass(struct hbc_collector *c, uint64_t now, int *blocked)
{
	int n;

	if (c->discovering) {
		hbc_disc_poll(&c->disc, now, 0, hbc_found, c);
		hbc_pending_retry(c);
	}
	n = hbc_drain_all(c, blocked);
	if (now >= c->next_live_mono) {
		int each_second = now >= c->next_pidstart_mono;

		c->next_live_mono = now + HBC_LIVE_EVERY_NS;
		if (each_second) {
			c->next_pidstart_mono = now + 1000000000ull;
			hbc_sources_tidy(c);
		}
		hbc_liveness_check(c, each_second);
		hbc_ops_feed(c);
	}
	hbc_pass_kick(c, now, n);
	hbc_writer_poll(c->w);
	hbc_sources_reap(c);
	return n;
}

/* 1 while some ring still holds records written before the stop. */
static int hbc_stop_pending(struct hbc_collector *c)
{
	size_t i;

	for (i = 0; i < c->nsources; i++) {
		struct hbc_source *r = c->sources[i];

		if (r->state == HBC_SRC_ACTIVE && r->stop_head - r->v.cursor - 1 < r->v.size)
			return 1; /* cursor < stop_head, by subtraction */
	}
	return 0;
}

static void hbc_stop_snapshot(struct hbc_collector *c)
{
	size_t i;

	for (i = 0; i < c->nsources; i++) {
		struct hbc_source *r = c->sources[i];

		if (r->state == HBC_SRC_ACTIVE)
			r->stop_head = atomic_load_explicit(&r->v.hdr->head, memory_order_acquire);
	}
}

static int hbc_stop(struct hbc_collector *c)
{
	uint64_t t0 = hbc_mono_ns();
	msgpack_packer *pk;
	int rc, blocked;

	hbc_info("stopping: draining every ring");
	/* every ring that exists now is drained, even one not seen yet,
	 * without its grace (hbc_source_young) */
	c->discovering = 0;
	hbc_writer_wake_on(c->w, -1); /* nobody reads the events now */
	hbc_disc_poll(&c->disc, hbc_mono_ns(), 1, hbc_found, c);
	hbc_pending_retry(c);
	hb_close(c->self);
	c->self = &hb_producer_disabled;
	/* everything written before now is drained; a producer that keeps
	 * writing leaves the rest in its ring for the next collector */
	hbc_stop_snapshot(c);
	while (hbc_mono_ns() - t0 < HBC_STOP_DRAIN_NS) {
		int n = hbc_pass(c, hbc_mono_ns(), &blocked);

		if (!hbc_stop_pending(c))
			break;
		if (n == 0) /* buffers busy: let writes complete */
			hbc_writer_wait(c->w, HBC_BUSY_WAIT_NS);
	}
	/* closed rings finish on the pass after their last record */
	hbc_pass(c, hbc_mono_ns(), &blocked);
	pk = hbc_pk_wait(c);
	if (pk)
		hbc_enc_collector(pk, hbc_now_ns(), "stop", c->pid);
	hbc_index_put(c, 1);
	rc = hbc_writer_wait_idle(c->w, HBC_STOP_WRITE_NS);
	if (rc)
		hbc_warn("stopping with unwritten records left in the rings: %s", strerror(-rc));
	hbc_sources_reap(c);
	if (c->fd >= 0 && fsync(c->fd) < 0 && !rc)
		rc = -errno;
	return rc;
}

/* Something was drained. A thin pass (the rings hold little at a time)
 * waits a moment before the next one, so that the next finds more: each
 * ring's records then go out in batches that state the producer, sequence
 * and time once for many events (docs/FORMAT.md), and a pass costs its
 * per-ring work once for many records. At HBC_GATHER_NS no ring of the
 * rates a thin pass shows fills meanwhile; a thick pass goes on at once. */
static void hbc_gather(struct hbc_collector *c, int n, uint64_t *sleep_ns)
{
	*sleep_ns = 0;
	if (n < HBC_THIN_PASS)
		hbc_writer_wait(c->w, HBC_GATHER_NS);
}

int hbc_collector_run(struct hbc_collector *c, volatile int *stop, volatile int *rotate)
{
	uint64_t sleep_ns = 0;

	c->stat_mono = hbc_mono_ns();
	hbc_disc_poll(&c->disc, c->stat_mono, 1, hbc_found, c);
	while (!*stop) {
		uint64_t now = hbc_mono_ns();
		int blocked, n = hbc_pass(c, now, &blocked);

		hbc_stats(c, now);
		hbc_file_check(c, now, rotate);
		if (hbc_rotate_due(c, now, rotate))
			hbc_rotate_now(c, now, rotate);
		if (n > 0)
			hbc_gather(c, n, &sleep_ns);
		else
			hbc_idle(c, blocked, &sleep_ns);
	}
	return hbc_stop(c);
}
