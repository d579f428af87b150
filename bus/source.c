/* SPDX-License-Identifier: MIT */
/*
 * source.c - a source's life, the collector's record of one ring: found in
 * /dev/shm, attached (its header checked, its identity and history
 * learned, a producer record written), drained (drain.c), settled by what
 * the drain found (quarantined, or finished when closed or its process is
 * gone), its tail released as its records become durable (hbc_apply, the
 * writer's callback), and finally unmapped and removed. Also: rings left
 * alone, quarantined rings removed once their process is gone, rings shrunk
 * under the mapping (SIGBUS).
 */
#include "collector.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define HBC_PENDING_NS 2000000000ull /* a ring's header must appear within this */

void hbc_source_free(struct hbc_source *r)
{
	if (r->v.hdr)
		hb_ring_view_detach(&r->v);
	if (r->pidfd >= 0)
		close(r->pidfd);
	free(r);
}

static struct hbc_source *hbc_source_find(struct hbc_collector *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nsources; i++)
		if (!strcmp(c->sources[i]->name, name))
			return c->sources[i];
	return NULL;
}

static int hbc_source_add(struct hbc_collector *c, const char *name)
{
	struct hbc_source *r;

	if (c->nsources == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct hbc_source **nr = realloc(c->sources, cap * sizeof(*nr));

		if (!nr)
			return -ENOMEM;
		c->sources = nr;
		c->cap = cap;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->pidfd = -1;
	r->state = HBC_SRC_PENDING;
	r->seen_mono = hbc_mono_ns();
	c->sources[c->nsources++] = r;
	return 0;
}

static void hbc_source_ident(struct hbc_source *r)
{
	const struct hb_ring_hdr *h = r->v.hdr;

	hbc_strcpy_shared(r->id.name, h->name, sizeof(h->name));
	hbc_strcpy_shared(r->id.host, h->host, sizeof(h->host));
	hbc_strcpy_shared(r->id.thread, h->thread, sizeof(h->thread));
	snprintf(r->id.ring, sizeof(r->id.ring), "%s", r->name);
	r->id.pid = h->pid;
	r->id.tid = h->tid;
	r->id.start_ns = h->start_ns;
	r->id.interval_ns = h->interval_ns ? h->interval_ns : 1000000000ull;
	r->proc_start = h->proc_start;
	r->hz = (h->flags & HB_RING_F_TSC) ? h->tsc_hz : 1000000000ull;
	if (r->hz < 1000 || r->hz > 1000000000000ull)
		r->hz = 1000000000ull;
	r->ns_mult = r->hz > 1000000000u
		     ? (uint64_t)(((unsigned __int128)1000000000u << 64) / r->hz) : 0;
	r->anchor_raw = h->start_tsc;
	r->anchor_ns = h->start_ns;
}

/* Where this ring's history starts: what an earlier run persisted, else
 * what the ring itself says was persisted, else its first record. */
static void hbc_source_expect(struct hbc_collector *c, struct hbc_source *r)
{
	uint64_t learned = hbc_learned_get(&c->learned, r->name, r->id.start_ns);
	uint64_t persisted = atomic_load_explicit(&r->v.hdr->persisted_seq, memory_order_relaxed);

	r->expected = 0;
	if (learned)
		r->expected = learned;
	else if (r->v.tail && persisted)
		r->expected = persisted;
	else if (r->v.tail)
		r->expect_any = 1;
}

static void hbc_source_producer(struct hbc_collector *c, struct hbc_source *r, msgpack_packer *pk,
			      const char *why)
{
	uint32_t nt = hbc_load_count(&r->v.hdr->ntypes, HB_MAX_TYPES);
	uint32_t nm = hbc_load_count(&r->v.hdr->nmetrics, HB_MAX_METRICS);

	hbc_source_kinds(r, 0, nm);
	hbc_source_types(r, 0, nt);
	r->types_stated = nt;
	r->metrics_stated = nm;
	hbc_enc_producer(pk, why, r->p, hbc_now_ns(), &r->id, r->v.hdr, nt, nm, r->expected);
	hbc_source_mark(c, r);
}

int hbc_source_restate(struct hbc_collector *c, struct hbc_source *r)
{
	msgpack_packer *pk = hbc_pk_wait(c);

	if (!pk)
		return -ENOBUFS;
	hbc_source_producer(c, r, pk, "restated");
	return 0;
}

static void hbc_source_state(struct hbc_collector *c, struct hbc_source *r, msgpack_packer *pk,
			   enum hb_state state, const char *why)
{
	if (!r->p)
		r->p = ++c->next_p;
	hbc_enc_state(pk, r->p, hbc_now_ns(), hb_state_name(state), why,
		      r->state == HBC_SRC_QUARANTINED ? r->name : NULL);
	hbc_source_mark(c, r);
}

/* The shm object's stat; 0 or -errno. */
static int hbc_source_stat(const struct hbc_collector *c, const struct hbc_source *r, struct stat *st)
{
	char path[sizeof(r->name) + 300];

	snprintf(path, sizeof(path), "%s/%s", c->o.shm_dir, r->name);
	return stat(path, st) < 0 ? -errno : 0;
}

/* The pid in a ring name as producers make them, "hb.BUS.NAME.PID.N";
 * 0 when there is none. */
static uint32_t hbc_name_pid(const char *name)
{
	const char *n = strrchr(name, '.'), *p;
	unsigned long v;
	char *end;

	if (!n || n == name || !n[1] || strspn(n + 1, "0123456789") != strlen(n + 1))
		return 0;
	for (p = n - 1; p > name && *p != '.'; p--)
		;
	if (*p != '.' || p + 1 == n || strspn(p + 1, "0123456789") != (size_t)(n - p - 1))
		return 0;
	v = strtoul(p + 1, &end, 10);
	return v && v <= 0x3fffffff ? (uint32_t)v : 0;
}

/* r stays known but unread: a file the collector may not open or remove
 * is not attached again while it is there (hbc_sources_tidy forgets it once
 * the file goes or is replaced). */
static void hbc_source_leave(struct hbc_collector *c, struct hbc_source *r)
{
	struct stat st;

	if (r->v.hdr)
		hb_ring_view_detach(&r->v);
	if (r->pidfd >= 0)
		close(r->pidfd);
	r->pidfd = -1;
	r->unlink_done = 0; /* what is there later may be someone else's */
	r->ino = hbc_source_stat(c, r, &st) == 0 ? st.st_ino : 0;
	r->state = HBC_SRC_LEFT;
}

static void hbc_source_quarantine(struct hbc_collector *c, struct hbc_source *r, msgpack_packer *pk,
				const char *why)
{
	hbc_warn("%s: quarantined: %s", r->name, why);
	r->state = HBC_SRC_QUARANTINED;
	r->qpid = r->v.hdr && r->id.pid ? r->id.pid : hbc_name_pid(r->name);
	if (r->v.hdr && r->p) {
		uint64_t last = atomic_load_explicit(&r->v.hdr->seq, memory_order_relaxed);

		if (last > r->expected && last - r->expected < HBC_SEQ_SANE)
			hbc_enc_gap(pk, r->p, hbc_now_ns(), r->expected, last - 1, "corrupt");
	}
	hbc_source_state(c, r, pk, HB_STATE_QUARANTINED, why);
	hbc_feed_finished(c, r, HB_STATE_QUARANTINED, pk);
}

/* -EPERM when the shm object belongs to another user than ours. */
static int hbc_source_owner(struct hbc_collector *c, struct hbc_source *r)
{
	struct stat st;

	if (hbc_source_stat(c, r, &st) < 0)
		return 0; /* gone or unreadable: attach will tell */
	return st.st_uid == geteuid() ? 0 : -EPERM;
}

/* 1 while r waits out its grace (HBC_ATTACH_GRACE_NS), noting when it
 * ends so that the idle wait does not sleep past it; none when stopping. */
static int hbc_source_young(struct hbc_collector *c, struct hbc_source *r)
{
	uint64_t due = r->seen_mono + HBC_ATTACH_GRACE_NS;

	if (!c->discovering || hbc_mono_ns() >= due)
		return 0;
	if (!c->attach_due_mono || due < c->attach_due_mono)
		c->attach_due_mono = due;
	return 1;
}

static int hbc_source_attach(struct hbc_collector *c, struct hbc_source *r)
{
	msgpack_packer *pk = hbc_pk(c);
	int rc;

	if (!pk)
		return -ENOBUFS; /* try again next pass */
	if (hbc_source_young(c, r))
		return -EAGAIN; /* still pending: hbc_pending_retry */
	if (!c->o.accept_uid && (rc = hbc_source_owner(c, r)) != 0) {
		hbc_source_quarantine(c, r, pk, "owned by another user");
		return rc;
	}
	rc = hb_ring_view_attach(&r->v, r->name);
	if (rc == -EPROTO || rc == -EINVAL) {
		/* maybe not published yet (magic is stored last, R0) */
		if (hbc_mono_ns() - r->seen_mono < HBC_PENDING_NS)
			return rc;
		hbc_source_quarantine(c, r, pk, rc == -EPROTO ? "bad magic" : "bad header");
		return rc;
	}
	if (rc == -ENOENT) {
		r->state = HBC_SRC_DONE; /* forget it (reaped below) */
		return rc;
	}
	if (rc == -EACCES || rc == -EPERM) {
		hbc_warn("%s: %s; ignored", r->name, strerror(-rc));
		hbc_source_leave(c, r); /* once, not at every rescan */
		return rc;
	}
	if (rc) {
		hbc_source_quarantine(c, r, pk, strerror(-rc));
		return rc;
	}
	hbc_source_ident(r);
	/* the collector's host, not the producer's: --host may stand for another */
	snprintf(r->id.host, sizeof(r->id.host), "%s", c->host);
	if (hb_name_check(r->id.name, HB_NAME_MAX)) {
		hbc_source_quarantine(c, r, pk, "invalid producer name");
		return -EINVAL;
	}
	hbc_source_expect(c, r);
	hbc_source_pidfd(r);
	atomic_store_explicit(&r->v.hdr->collector_pid, c->pid, memory_order_relaxed);
	r->p = ++c->next_p;
	r->state = HBC_SRC_ACTIVE;
	hbc_source_producer(c, r, pk, "attached");
	hbc_feed_attached(c, r);
	hbc_debug("attached %s as p=%u (next seq %llu)", r->name, r->p,
		  (unsigned long long)r->expected);
	return 0;
}

void hbc_found(void *ctx, const char *name)
{
	struct hbc_collector *c = ctx;
	struct hbc_source *r = hbc_source_find(c, name);
	struct stat st;

	if (r && r->state == HBC_SRC_LEFT && hbc_source_stat(c, r, &st) == 0 && st.st_ino != r->ino)
		r->state = HBC_SRC_DONE; /* a new file of that name: reaped, then found anew */
	if (r)
		return;
	if (hbc_source_add(c, name))
		return;
	r = c->sources[c->nsources - 1];
	hbc_source_attach(c, r);
}

void hbc_pending_retry(struct hbc_collector *c)
{
	size_t i;

	for (i = 0; i < c->nsources; i++)
		if (c->sources[i]->state == HBC_SRC_PENDING)
			hbc_source_attach(c, c->sources[i]);
}

/* The ring is drained to a head that will not move: trailing gap, final
 * state, and removal once both are written. */
static void hbc_source_finish(struct hbc_collector *c, struct hbc_source *r, msgpack_packer *pk,
			    enum hb_state state, const char *why)
{
	uint64_t last = atomic_load_explicit(&r->v.hdr->seq, memory_order_relaxed);

	if (last > r->expected && last - r->expected < HBC_SEQ_SANE) {
		hbc_source_gap(c, r, pk, r->expected, last - 1, "overflow");
		r->expected = last;
	}
	hbc_source_state(c, r, pk, state, why);
	hbc_feed_finished(c, r, state, pk);
	r->state = HBC_SRC_DONE;
	r->unlink_done = 1;
	hbc_info("%s: %s (%s), %llu records", r->name, hb_state_name(state), why,
		 (unsigned long long)r->expected);
}

/* r's producer closed it: A5, pairs with the release store of
 * HB_RING_CLOSED in hb_close: every record was published before it, so
 * one more look sees them all. */
static int hbc_source_closed(const struct hbc_source *r)
{
	return atomic_load_explicit(&r->v.hdr->state, memory_order_acquire) == HB_RING_CLOSED;
}

/* At the head of a ring that is closed (closed) or whose process is gone. */
static void hbc_source_at_head(struct hbc_collector *c, struct hbc_source *r, msgpack_packer *pk,
			       int closed)
{
	if (closed) {
		if (hbc_source_empty(r))
			hbc_source_finish(c, r, pk, HB_STATE_EXITED, "closed");
		return;
	}
	if (hbc_source_empty(r))
		hbc_source_finish(c, r, pk, HB_STATE_CRASHED, "pid-gone");
}

/* What the drain found decides the source's fate: a record that fails
 * validation quarantines it; at the head, a ring closed or a process gone
 * with nothing left to read finishes it. Every buffer busy: the next pass
 * drains to the same place and comes here again. The usual end, at the
 * head of a live ring, writes nothing and asks for no buffer. */
void hbc_source_settle(struct hbc_collector *c, struct hbc_source *r, enum hbc_drain_end end)
{
	msgpack_packer *pk;
	int closed = 0;

	if (end == HBC_DRAIN_MORE || r->state != HBC_SRC_ACTIVE)
		return;
	if (end == HBC_DRAIN_HEAD && !(closed = hbc_source_closed(r)) && !r->gone)
		return;
	pk = hbc_pk(c);
	if (!pk)
		return;
	if (end == HBC_DRAIN_CORRUPT)
		hbc_source_quarantine(c, r, pk, r->truncated ? "ring truncated" : "corrupt record");
	else
		hbc_source_at_head(c, r, pk, closed);
}

static struct hbc_collector *hbc_sigbus_c;

/* A producer (or anyone who may write the shm object) can ftruncate a ring
 * while it is mapped: touching the lost pages raises SIGBUS. The handler
 * maps zeroed private memory over that ring's whole mapping and returns;
 * the access is retried on zeros, which fail validation, and the ring is
 * quarantined ("ring truncated"). A SIGBUS anywhere else is not ours: the
 * default action runs. mmap is a plain system call, safe in a handler. */
static void hbc_on_sigbus(int sig, siginfo_t *si, void *uc)
{
	struct hbc_collector *c = hbc_sigbus_c;
	uintptr_t a = (uintptr_t)si->si_addr;
	size_t i;

	(void)uc;
	for (i = 0; c && i < c->nsources; i++) {
		struct hbc_source *r = c->sources[i];
		uintptr_t base = (uintptr_t)r->v.hdr;

		if (!base || a - base >= r->v.map_size)
			continue;
		if (mmap(r->v.hdr, r->v.map_size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
			break;
		r->truncated = 1;
		return;
	}
	signal(sig, SIG_DFL);
}

void hbc_sigbus_install(struct hbc_collector *c)
{
	struct sigaction sa = {.sa_sigaction = hbc_on_sigbus, .sa_flags = SA_SIGINFO};

	sigemptyset(&sa.sa_mask);
	hbc_sigbus_c = c;
	sigaction(SIGBUS, &sa, NULL);
}

void hbc_apply(void *ctx, struct hbc_wbuf *b)
{
	size_t i;

	(void)ctx;
	for (i = 0; i < b->nmarks; i++) {
		struct hbc_source *r = b->marks[i].src;

		if (!r->v.hdr)
			continue;
		hb_ring_view_release(&r->v, b->marks[i].upto);
		atomic_store_explicit(&r->v.hdr->persisted_seq, b->marks[i].seq_next,
				      memory_order_relaxed);
	}
}

uint64_t hbc_sources_backlog(const struct hbc_collector *c)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < c->nsources; i++) {
		const struct hbc_source *r = c->sources[i];

		if (r->v.hdr)
			sum += atomic_load_explicit(&r->v.hdr->head, memory_order_relaxed) - r->v.tail;
	}
	return sum;
}

/* Removes r's shm object: 0 (also when it is gone already) or -1 (errno). */
static int hbc_source_unlink(const struct hbc_source *r)
{
	char name[260];

	snprintf(name, sizeof(name), "/%s", r->name);
	return shm_unlink(name) < 0 && errno != ENOENT ? -1 : 0;
}

void hbc_sources_reap(struct hbc_collector *c)
{
	uint64_t applied = hbc_writer_applied(c->w);
	size_t i = 0;

	while (i < c->nsources) {
		struct hbc_source *r = c->sources[i];

		if ((r->state != HBC_SRC_DONE && r->state != HBC_SRC_QUARANTINED) ||
		    r->last_serial > applied) {
			i++;
			continue;
		}
		if (r->state == HBC_SRC_QUARANTINED) { /* keep its name: never attach again */
			if (r->v.hdr)
				hb_ring_view_detach(&r->v);
			i++;
			continue;
		}
		if (r->unlink_done && hbc_source_unlink(r) < 0) {
			hbc_warn("%s: cannot remove: %s; left there", r->name, strerror(errno));
			hbc_source_leave(c, r);
			i++;
			continue;
		}
		hbc_source_free(r);
		c->sources[i] = c->sources[--c->nsources];
	}
}

/* Once a second: quarantined rings whose process is gone are removed (their
 * state record is on file), and rings left there are forgotten once their
 * file went or was replaced, so that a new one is found. */
void hbc_sources_tidy(struct hbc_collector *c)
{
	uint64_t applied = hbc_writer_applied(c->w);
	struct stat st;
	size_t i = 0;

	while (i < c->nsources) {
		struct hbc_source *r = c->sources[i];
		int forget = 0;

		if (r->state == HBC_SRC_LEFT) {
			forget = hbc_source_stat(c, r, &st) < 0 || st.st_ino != r->ino;
		} else if (r->state == HBC_SRC_QUARANTINED && r->qpid && r->last_serial <= applied &&
			   kill((pid_t)r->qpid, 0) < 0 && errno == ESRCH) {
			forget = hbc_source_unlink(r) == 0;
			if (forget)
				hbc_info("%s: removed (quarantined, process %u gone)", r->name, r->qpid);
			else
				hbc_warn("%s: quarantined, process %u gone, cannot remove: %s", r->name,
					 r->qpid, strerror(errno));
			r->qpid = 0; /* tried once */
		}
		if (!forget) {
			i++;
			continue;
		}
		hbc_source_free(r);
		c->sources[i] = c->sources[--c->nsources];
	}
}
