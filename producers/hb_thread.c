/* SPDX-License-Identifier: MIT */
/*
 * hb_thread.c - the process-wide handle: any thread may call it; each
 * thread's records go to a ring of its own (single producer, as the ring
 * protocol wants), made on the thread's first call and closed when the
 * thread exits. Types and metrics are registered once, in the handle's own
 * table, and copied into every thread's ring. Counters and timings are
 * bumped in the calling thread's ring (one writer per slot, no atomic
 * read-modify-write); every heartbeat carries their process totals: the
 * live threads' slots plus what threads that exited had left.
 *
 * Locking: one mutex (hb_lock) guards the list of handles, each handle's
 * list of rings, the tables and the totals. It is taken on the cold path
 * only (a thread's first call, registration, a due heartbeat, thread exit,
 * close, fork) and never held around a syscall but munmap at close. The
 * hot path reads the thread cache (hb__tls_cache) and the thread's ring,
 * nothing another thread writes.
 *
 * Exit: a thread's rings close when it ends (pthread key destructor) and
 * the rings of the thread that calls exit() close then (atexit); _exit, a
 * signal or a crash leave them open for the collector to find the pid gone.
 *
 * fork: pthread_atfork's child handler forgets every ring of the parent
 * (the child's mapping of them is dropped, never written, closed or
 * unlinked), empties the thread cache and zeroes the totals; the child's
 * first call on a handle then makes a ring under the child's own pid.
 * Single-thread handles from hb_open are disabled in the child.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "hb_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* A thread's ring of one process-wide handle. */
struct hb_node {
	struct hb_producer ring;
	uint64_t id;               /* the handle's id */
	struct hb_producer *proc;  /* the handle; NULL once it is closed (hb_lock) */
	struct hb_node *next_ring; /* in the handle's list (hb_lock) */
	struct hb_node *next_own;  /* in the owning thread's list (that thread) */
};

/* libhb's state of a process-wide handle (its priv). */
struct hb_proc {
	struct hb_config cfg; /* resolved; strings point below */
	char bus[HB_BUS_MAX], name[HB_NAME_MAX], thread[32];
	pid_t opener;          /* thread that opened it: its rings get cfg.thread */
	struct hb_producer *self;
	struct hb_node *rings; /* live rings of every thread (hb_lock) */
	struct hb_proc *next;  /* in hb_procs (hb_lock) */
};

/* A single-thread handle from hb_open, for fork (hb_lock). */
struct hb_single {
	struct hb_producer *p;
	struct hb_single *next;
};

__thread struct hb__tls hb__tls_cache __attribute__((tls_model("initial-exec")));

static pthread_mutex_t hb_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hb_proc *hb_procs;
static struct hb_single *hb_singles;
static _Atomic uint64_t hb_next_id;
static pthread_key_t hb_key; /* value: the thread's first node; destructor at exit */
static pthread_once_t hb_once = PTHREAD_ONCE_INIT;
static __thread struct hb_node *hb_own; /* this thread's rings */
static __thread char hb_tag[32];
static __thread int hb_tag_given;

static void hb_thread_exit(void *arg);
static void hb_fork_prepare(void);
static void hb_fork_parent(void);
static void hb_fork_child(void);

/* exit(): the calling thread (main, usually) closes its rings as a thread
 * that ends does; key destructors do not run for it. */
static void hb_at_exit(void)
{
	hb_thread_exit(NULL);
}

static void hb_once_init(void)
{
	pthread_key_create(&hb_key, hb_thread_exit);
	pthread_atfork(hb_fork_prepare, hb_fork_parent, hb_fork_child);
	atexit(hb_at_exit);
}

static struct hb_proc *hb_proc_of(const struct hb_producer *p)
{
	return (struct hb_proc *)p->priv;
}

int hb_thread_tag_set(const char *tag)
{
	if (!tag || strlen(tag) >= sizeof(hb_tag))
		return -EINVAL;
	snprintf(hb_tag, sizeof(hb_tag), "%s", tag);
	hb_tag_given = 1;
	return 0;
}

int hb__proc_open(struct hb_producer **out, const struct hb_config *c)
{
	struct hb_producer *p = calloc(1, sizeof(*p));
	struct hb_proc *pr = calloc(1, sizeof(*pr));
	struct hb_ring_hdr *tables = aligned_alloc(HB_CACHELINE, HB_RING_HDR_SIZE);
	int rc = p && pr && tables ? hb__shm_probe(c) : -ENOMEM;

	pthread_once(&hb_once, hb_once_init);
	if (rc) {
		free(p);
		free(pr);
		free(tables);
		return rc;
	}
	memset(tables, 0, HB_RING_HDR_SIZE);
	pr->cfg = *c;
	snprintf(pr->bus, sizeof(pr->bus), "%s", c->bus);
	snprintf(pr->name, sizeof(pr->name), "%s", c->name);
	snprintf(pr->thread, sizeof(pr->thread), "%s", c->thread ? c->thread : "");
	pr->cfg.bus = pr->bus;
	pr->cfg.name = pr->name;
	pr->cfg.thread = c->thread ? pr->thread : NULL;
	pr->opener = (pid_t)syscall(SYS_gettid);
	p->hdr = tables;
	p->enabled = 1;
	p->status = HB_STATUS_STARTING;
	p->priv = pr;
	pr->self = p;
	/* unique while the process lives: the address tells live handles
	 * apart, the count a handle from one freed at the same address */
	p->id = (uint64_t)(uintptr_t)p ^ ((atomic_fetch_add(&hb_next_id, 1) + 1) << 48);
	pthread_mutex_lock(&hb_lock);
	pr->next = hb_procs;
	hb_procs = pr;
	pthread_mutex_unlock(&hb_lock);
	*out = p;
	return 0;
}

/* Copies the handle's type and metric definitions [from, end) into ring w's
 * header (R3/R4 as in hb__type_add: definitions before counts). */
static void hb_tables_copy(struct hb_producer *w, const struct hb_producer *p)
{
	struct hb_ring_hdr *d = w->hdr;
	const struct hb_ring_hdr *s = p->hdr;
	uint32_t nt = atomic_load_explicit(&p->ntypes, memory_order_relaxed);
	uint32_t nm = atomic_load_explicit(&p->nmetrics, memory_order_relaxed);
	uint32_t i;

	for (i = w->ntypes; i < nt; i++)
		d->types[i] = s->types[i];
	for (i = w->nmetrics; i < nm; i++)
		d->metric_defs[i] = s->metric_defs[i];
	atomic_store_explicit(&d->ntypes, nt, memory_order_release);
	atomic_store_explicit(&d->nmetrics, nm, memory_order_release);
	/* only the ring's own copy of the counts; the hot path reads p's */
	atomic_store_explicit(&w->ntypes, nt, memory_order_relaxed);
	atomic_store_explicit(&w->nmetrics, nm, memory_order_relaxed);
}

/* The tag for a ring this thread makes for pr: the one the code set; for
 * the thread that opened the handle cfg.thread (or none, as a single-thread
 * handle has); for another thread its name, or "tid" and its tid when it
 * has none of its own (the process's name, inherited). */
static void hb_tag_pick(const struct hb_proc *pr, char *out, size_t len)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);
	char name[16];

	if (hb_tag_given)
		snprintf(out, len, "%s", hb_tag);
	else if (tid == pr->opener)
		snprintf(out, len, "%s", pr->thread);
	else if (!pthread_getname_np(pthread_self(), name, sizeof(name)) && name[0] &&
		 strncmp(name, program_invocation_short_name, 15))
		snprintf(out, len, "%s", name);
	else
		snprintf(out, len, "tid%d", (int)tid);
}

static struct hb_producer *hb_cache(uint64_t id, struct hb_producer *ring)
{
	hb__tls_cache.id = id;
	hb__tls_cache.ring = ring;
	return ring;
}

struct hb_producer *hb__thread_ring(struct hb_producer *p)
{
	struct hb_proc *pr = hb_proc_of(p);
	struct hb_config c = pr->cfg;
	struct hb_node *n;
	char tag[32];

	for (n = hb_own; n; n = n->next_own)
		if (n->id == p->id)
			return hb_cache(p->id, &n->ring);
	n = calloc(1, sizeof(*n));
	if (!n)
		return hb_cache(p->id, &hb_producer_disabled);
	hb_tag_pick(pr, tag, sizeof(tag));
	c.thread = tag;
	if (hb__ring_create(&n->ring, &c)) {
		free(n);
		return hb_cache(p->id, &hb_producer_disabled);
	}
	n->id = p->id;
	n->proc = p;
	n->ring.proc = p;
	pthread_mutex_lock(&hb_lock);
	hb_tables_copy(&n->ring, p);
	n->next_ring = pr->rings;
	pr->rings = n;
	pthread_mutex_unlock(&hb_lock);
	n->next_own = hb_own;
	hb_own = n;
	pthread_setspecific(hb_key, n);
	return hb_cache(p->id, &n->ring);
}

int hb__proc_type_register(struct hb_producer *p, const char *name, const struct hb_field *fields,
			   unsigned nfields)
{
	struct hb_node *n;
	int id;

	pthread_mutex_lock(&hb_lock);
	id = hb__type_add(p, name, fields, nfields);
	for (n = hb_proc_of(p)->rings; id >= 0 && n; n = n->next_ring)
		hb_tables_copy(&n->ring, p);
	pthread_mutex_unlock(&hb_lock);
	return id;
}

int hb__proc_metric_register(struct hb_producer *p, const char *name, enum hb_metric_kind kind)
{
	struct hb_node *n;
	int id;

	pthread_mutex_lock(&hb_lock);
	id = hb__metric_add(p, name, kind);
	for (n = hb_proc_of(p)->rings; id >= 0 && n; n = n->next_ring)
		hb_tables_copy(&n->ring, p);
	pthread_mutex_unlock(&hb_lock);
	return id;
}

/* Process totals of every metric into vals (3 per metric), hb_lock held:
 * counters and timings summed over the live rings plus what exited threads
 * left in the handle's slots; gauges and health flags from those slots. */
static uint32_t hb_totals(const struct hb_producer *p, uint64_t *vals)
{
	uint32_t nm = atomic_load_explicit(&p->nmetrics, memory_order_relaxed), i;
	const struct hb_node *n;

	for (i = 0; i < nm; i++) {
		const struct hb_metric_val *m = &p->hdr->metrics[i];
		uint32_t kind = p->hdr->metric_defs[i].kind;
		uint64_t *v = &vals[3 * i];

		v[0] = atomic_load_explicit(&m->a, memory_order_relaxed);
		v[1] = atomic_load_explicit(&m->b, memory_order_relaxed);
		v[2] = atomic_load_explicit(&m->c, memory_order_relaxed);
		if (kind != HB_METRIC_COUNTER && kind != HB_METRIC_TIMING)
			continue;
		for (n = hb_proc_of(p)->rings; n; n = n->next_ring) {
			const struct hb_metric_val *t = &n->ring.hdr->metrics[i];
			uint64_t c = atomic_load_explicit(&t->c, memory_order_relaxed);

			v[0] += atomic_load_explicit(&t->a, memory_order_relaxed);
			v[1] += atomic_load_explicit(&t->b, memory_order_relaxed);
			if (c > v[2])
				v[2] = c;
		}
	}
	return nm;
}

/* Heartbeat of ring w of handle p with the totals, hb_lock held. The
 * handle's status (hb_status_set) overrides the ring's own once set. */
static int hb_heartbeat_locked(struct hb_producer *w, struct hb_producer *p)
{
	uint64_t vals[HB_MAX_METRICS * 3];
	uint32_t nm = hb_totals(p, vals);
	uint32_t st = atomic_load_explicit(&p->hdr->hb_status, memory_order_relaxed);

	if (st != HB_STATUS_STARTING && w->status != HB_STATUS_STOPPING)
		w->status = st;
	return hb__heartbeat_write(w, vals, w->detailed ? nm : 0);
}

int hb__proc_heartbeat(struct hb_producer *w)
{
	int rc;

	pthread_mutex_lock(&hb_lock);
	rc = hb_heartbeat_locked(w, w->proc);
	pthread_mutex_unlock(&hb_lock);
	return rc;
}

/* Ring n leaves its handle: what its counters and timings counted stays in
 * the handle's slots, so totals never go back. hb_lock held. */
static void hb_ring_retire(struct hb_node *n)
{
	struct hb_producer *p = n->proc;
	struct hb_node **pp;
	uint32_t nm = atomic_load_explicit(&p->nmetrics, memory_order_relaxed), i;

	for (i = 0; i < nm; i++) {
		struct hb_metric_val *m = &p->hdr->metrics[i], *t = &n->ring.hdr->metrics[i];
		uint32_t kind = p->hdr->metric_defs[i].kind;
		uint64_t c = atomic_load_explicit(&t->c, memory_order_relaxed);

		if (kind != HB_METRIC_COUNTER && kind != HB_METRIC_TIMING)
			continue;
		atomic_store_explicit(&m->a, atomic_load(&m->a) + atomic_load(&t->a), memory_order_relaxed);
		atomic_store_explicit(&m->b, atomic_load(&m->b) + atomic_load(&t->b), memory_order_relaxed);
		if (c > atomic_load(&m->c))
			atomic_store_explicit(&m->c, c, memory_order_relaxed);
	}
	for (pp = &hb_proc_of(p)->rings; *pp; pp = &(*pp)->next_ring)
		if (*pp == n) {
			*pp = n->next_ring;
			break;
		}
	n->proc = NULL;
}

/* Final heartbeat, retire, closed. hb_lock held; the unmap is the caller's. */
static void hb_node_close(struct hb_node *n)
{
	n->ring.status = HB_STATUS_STOPPING;
	hb_heartbeat_locked(&n->ring, n->proc);
	hb_ring_retire(n);
	hb__ring_close(&n->ring);
}

/* pthread key destructor: the thread exits; its rings of handles still
 * open are closed (the collector drains them and records the exit). */
static void hb_thread_exit(void *arg)
{
	struct hb_node *n, *next;

	(void)arg;
	pthread_mutex_lock(&hb_lock);
	for (n = hb_own; n; n = n->next_own)
		if (n->proc)
			hb_node_close(n);
	pthread_mutex_unlock(&hb_lock);
	for (n = hb_own; n; n = next) {
		next = n->next_own;
		free(n);
	}
	hb_own = NULL;
	hb_cache(0, NULL);
}

void hb__proc_close(struct hb_producer *p)
{
	struct hb_proc *pr = hb_proc_of(p), **pp;

	pthread_mutex_lock(&hb_lock);
	for (pp = &hb_procs; *pp; pp = &(*pp)->next)
		if (*pp == pr) {
			*pp = pr->next;
			break;
		}
	/* every thread's ring; the nodes stay with their threads, which free
	 * them at exit (n->proc is NULL now) */
	while (pr->rings)
		hb_node_close(pr->rings);
	pthread_mutex_unlock(&hb_lock);
	if (hb__tls_cache.id == p->id)
		hb_cache(0, NULL);
	p->enabled = 0;
	free(p->hdr);
	free(pr);
	free(p);
}

void hb__single_track(struct hb_producer *p, int add)
{
	struct hb_single *s, **pp;

	pthread_once(&hb_once, hb_once_init);
	pthread_mutex_lock(&hb_lock);
	if (add && (s = malloc(sizeof(*s)))) {
		s->p = p;
		s->next = hb_singles;
		hb_singles = s;
	}
	for (pp = &hb_singles; !add && *pp; pp = &(*pp)->next)
		if ((*pp)->p == p) {
			s = *pp;
			*pp = s->next;
			free(s);
			break;
		}
	pthread_mutex_unlock(&hb_lock);
}

static void hb_fork_prepare(void)
{
	pthread_mutex_lock(&hb_lock);
}

static void hb_fork_parent(void)
{
	pthread_mutex_unlock(&hb_lock);
}

/* The child: the parent's rings are the parent's. Drop this process's view
 * of them without a write; zero the totals (the child is a new producer). */
static void hb_fork_child(void)
{
	struct hb_proc *pr;
	struct hb_single *s;
	struct hb_node *n, *next;

	for (pr = hb_procs; pr; pr = pr->next) {
		for (n = pr->rings; n; n = next) {
			next = n->next_ring;
			munmap(n->ring.hdr, n->ring.map_size);
			n->ring.enabled = 0;
			n->proc = NULL;
		}
		pr->rings = NULL;
		pr->opener = (pid_t)syscall(SYS_gettid);
		for (uint32_t i = 0; i < HB_MAX_METRICS; i++) {
			struct hb_metric_val *m = &pr->self->hdr->metrics[i];
			uint32_t kind = pr->self->hdr->metric_defs[i].kind;

			if (kind != HB_METRIC_COUNTER && kind != HB_METRIC_TIMING)
				continue;
			atomic_store_explicit(&m->a, 0, memory_order_relaxed);
			atomic_store_explicit(&m->b, 0, memory_order_relaxed);
			atomic_store_explicit(&m->c, 0, memory_order_relaxed);
		}
	}
	for (s = hb_singles; s; s = s->next)
		s->p->enabled = 0;
	/* this thread's nodes are the only ones left in the child to free;
	 * other threads' nodes belong to threads the child does not have */
	for (n = hb_own; n; n = next) {
		next = n->next_own;
		free(n);
	}
	hb_own = NULL;
	pthread_setspecific(hb_key, NULL);
	hb_cache(0, NULL);
	pthread_mutex_unlock(&hb_lock);
}
