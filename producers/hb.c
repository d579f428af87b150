/* SPDX-License-Identifier: MIT */
/* libhb: the producer's cold path for one ring (open, register, heartbeat,
 * close); the process-wide handle is in hb_thread.c. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "hb_int.h"

#include "hbs/proc.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct hb_producer hb_producer_disabled; /* enabled == 0 */

static _Atomic unsigned hb_ring_counter;

uint64_t hb__clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t hb_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int hb_name_check(const char *name, size_t max)
{
	size_t i, n;

	if (!name)
		return -EINVAL;
	n = strnlen(name, max);
	if (n == 0 || n >= max || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.' || c == ':'))
			return -EINVAL;
	}
	return 0;
}

/* TSC is used when the CPU says it is invariant (constant and nonstop);
 * HB_CLOCK=realtime forces clock_gettime. */
static int hb_tsc_usable(void)
{
#if defined(__x86_64__) || defined(__i386__)
	const char *env = getenv("HB_CLOCK");
	char line[4096];
	int constant = 0, nonstop = 0;
	FILE *f;

	if (env && !strcmp(env, "realtime"))
		return 0;
	f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f) && !(constant && nonstop)) {
		if (strncmp(line, "flags", 5))
			continue;
		constant = strstr(line, " constant_tsc") != NULL;
		nonstop = strstr(line, " nonstop_tsc") != NULL;
	}
	fclose(f);
	return constant && nonstop;
#else
	return 0;
#endif
}

/* Ticks per second of the raw clock, measured once per process over ~2 ms.
 * Threads opening handles at the same time may each measure; the cache is
 * atomic (relaxed: any one measurement will do). */
static uint64_t hb_tsc_hz(void)
{
	static _Atomic uint64_t cached;
	uint64_t hz = atomic_load_explicit(&cached, memory_order_relaxed);
#if defined(__x86_64__) || defined(__i386__)
	uint64_t t0, n0, t1, n1;

	if (hz)
		return hz;
	n0 = hb_mono_ns();
	t0 = __builtin_ia32_rdtsc();
	do
		n1 = hb_mono_ns();
	while (n1 - n0 < 2000000);
	t1 = __builtin_ia32_rdtsc();
	hz = (uint64_t)((unsigned __int128)(t1 - t0) * 1000000000u / (n1 - n0));
	atomic_store_explicit(&cached, hz, memory_order_relaxed);
#endif
	return hz;
}

/* This process's start time (field 22 of its stat), 0 when unknown. */
static uint64_t hb_proc_start(void)
{
	char buf[1024];

	if (hbs_proc_stat_read(0, buf, sizeof(buf)) <= 0)
		return 0;
	return hbs_proc_stat_u64(buf, HBS_STAT_START);
}

static unsigned hb_env_uint(const char *name, unsigned def)
{
	const char *s = getenv(name);
	char *end;
	unsigned long v;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 0x7fffffff)
		return def;
	return (unsigned)v;
}

void hb__config_resolve(struct hb_config *c, const struct hb_config *in)
{
	const char *env;

	if (in)
		*c = *in;
	else
		memset(c, 0, sizeof(*c));
	if (!c->bus)
		c->bus = "default";
	if (!c->name)
		c->name = program_invocation_short_name;
	if (!c->interval_ms)
		c->interval_ms = 1000;
	if (!c->ring_kb)
		c->ring_kb = 1024;
	if (!c->hwm_pct || c->hwm_pct > 100)
		c->hwm_pct = 75;
	if (!c->mode)
		c->mode = 0600;
	if ((env = getenv("HB_BUS")) && *env)
		c->bus = env;
	c->disabled = !hb_env_uint("HB_ENABLED", !c->disabled);
	c->lean = !hb_env_uint("HB_DETAILED", !c->lean);
	c->interval_ms = hb_env_uint("HB_INTERVAL_MS", c->interval_ms);
	c->ring_kb = hb_env_uint("HB_RING_KB", c->ring_kb);
	if (c->interval_ms == 0)
		c->interval_ms = 1000;
}

static uint32_t hb_data_size(unsigned ring_kb)
{
	uint64_t want = (uint64_t)ring_kb * 1024, sz = 4096;

	while (sz < want && sz < (1u << 30))
		sz <<= 1;
	return (uint32_t)sz;
}

int hb_ring_format(void *mem, size_t total, uint32_t data_size, const struct hb_config *in)
{
	struct hb_ring_hdr *h = mem;
	struct hb_config c;
	int use_tsc;

	if (!mem || data_size < 4096 || (data_size & (data_size - 1)) ||
	    total < HB_RING_HDR_SIZE + data_size)
		return -EINVAL;
	hb__config_resolve(&c, in);
	if (hb_name_check(c.bus, HB_BUS_MAX) || hb_name_check(c.name, HB_NAME_MAX))
		return -EINVAL;
	memset(h, 0, HB_RING_HDR_SIZE);
	use_tsc = hb_tsc_usable();
	h->version = HB_RING_VERSION;
	h->hdr_size = (uint32_t)HB_RING_HDR_SIZE;
	h->data_size = data_size;
	h->flags = (use_tsc ? HB_RING_F_TSC : 0) | (c.blocking ? HB_RING_F_BLOCKING : 0) |
		   (c.lean ? 0 : HB_RING_F_DETAILED);
	h->pid = (uint32_t)getpid();
	h->uid = (uint32_t)getuid();
	h->tid = (uint32_t)syscall(SYS_gettid);
	h->proc_start = hb_proc_start();
	h->tsc_hz = use_tsc ? hb_tsc_hz() : 1000000000u;
	h->start_ns = hb__clock_ns();
	h->start_tsc = use_tsc ? __builtin_ia32_rdtsc() : h->start_ns;
	h->interval_ns = (uint64_t)c.interval_ms * 1000000u;
	snprintf(h->name, sizeof(h->name), "%s", c.name);
	snprintf(h->bus, sizeof(h->bus), "%s", c.bus);
	gethostname(h->host, sizeof(h->host) - 1);
	if (c.thread)
		snprintf(h->thread, sizeof(h->thread), "%s", c.thread);
	atomic_store_explicit(&h->state, HB_RING_OPEN, memory_order_relaxed);
	atomic_store_explicit(&h->hb_status, HB_STATUS_STARTING, memory_order_relaxed);
	/* R0: identity is complete before anyone sees the magic (pairs with A0). */
	atomic_store_explicit(&h->magic, HB_RING_MAGIC, memory_order_release);
	return 0;
}

static int hb_str_terminated(const char *s, size_t n)
{
	return memchr(s, 0, n) != NULL;
}

int hb_ring_hdr_check(const struct hb_ring_hdr *h, size_t map_size)
{
	uint32_t hdr_size, data_size;

	if (!h || map_size < sizeof(*h))
		return -EINVAL;
	/* A0: pairs with R0 in hb_ring_format (identity written before magic). */
	if (atomic_load_explicit(&h->magic, memory_order_acquire) != HB_RING_MAGIC)
		return -EPROTO;
	if (h->version != HB_RING_VERSION)
		return -EPROTONOSUPPORT;
	hdr_size = h->hdr_size;
	data_size = h->data_size;
	if (hdr_size != HB_RING_HDR_SIZE || data_size < 4096 || (data_size & (data_size - 1)))
		return -EINVAL;
	if ((uint64_t)hdr_size + data_size > map_size)
		return -EINVAL;
	if (!hb_str_terminated(h->name, sizeof(h->name)) ||
	    !hb_str_terminated(h->bus, sizeof(h->bus)) ||
	    !hb_str_terminated(h->host, sizeof(h->host)) ||
	    !hb_str_terminated(h->thread, sizeof(h->thread)))
		return -EINVAL;
	return 0;
}

int hb_producer_attach(struct hb_producer *p, void *mem, const struct hb_config *in)
{
	struct hb_ring_hdr *h = mem;
	struct hb_config c;
	uint32_t hwm;

	int rc;

	hb__config_resolve(&c, in);
	/* the memory is as large as its header says: the caller made it */
	rc = hb_ring_hdr_check(h, (size_t)HB_RING_HDR_SIZE + h->data_size);
	if (rc)
		return rc;
	memset(p, 0, sizeof(*p));
	p->hdr = h;
	p->data = (uint8_t *)mem + h->hdr_size;
	p->size = h->data_size;
	p->mask = h->data_size - 1;
	p->head = atomic_load_explicit(&h->head, memory_order_relaxed);
	p->cached_tail = atomic_load_explicit(&h->tail, memory_order_acquire);
	p->seq = atomic_load_explicit(&h->seq, memory_order_relaxed);
	p->dropped = atomic_load_explicit(&h->dropped, memory_order_relaxed);
	p->ntypes = atomic_load_explicit(&h->ntypes, memory_order_relaxed);
	p->nmetrics = atomic_load_explicit(&h->nmetrics, memory_order_relaxed);
	hwm = (uint32_t)((uint64_t)p->size * c.hwm_pct / 100);
	p->blocking = (h->flags & HB_RING_F_BLOCKING) != 0;
	p->limit[HB_PRIO_LOW] = p->limit[HB_PRIO_NORMAL] = p->blocking ? p->size : hwm;
	p->limit[HB_PRIO_HIGH] = p->limit[HB_PRIO_URGENT] = p->size;
	p->use_tsc = (h->flags & HB_RING_F_TSC) != 0;
	p->detailed = (h->flags & HB_RING_F_DETAILED) != 0;
	p->hb_interval_raw = (uint64_t)((unsigned __int128)h->interval_ns * h->tsc_hz / 1000000000u);
	p->hb_next = 0; /* first tick emits the first heartbeat */
	p->status = HB_STATUS_STARTING;
	p->enabled = 1;
	return 0;
}

/* Renames shm object from to to (both with a leading '/'); POSIX shm lives
 * in /dev/shm on Linux. 0 or -errno. */
static int hb_shm_publish(const char *from, const char *to)
{
	char a[160], b[160];

	snprintf(a, sizeof(a), "/dev/shm%s", from);
	snprintf(b, sizeof(b), "/dev/shm%s", to);
	return rename(a, b) < 0 ? -errno : 0;
}

int hb__config_check(const struct hb_config *c)
{
	if (hb_name_check(c->bus, HB_BUS_MAX) || hb_name_check(c->name, HB_NAME_MAX) ||
	    (c->mode & ~0660u))
		return -EINVAL;
	return 0;
}

/* Can this process make rings for c? An shm object made and removed at
 * once, so hb_open reports what the first thread's ring would meet. */
int hb__shm_probe(const struct hb_config *c)
{
	char name[160];
	int fd;

	snprintf(name, sizeof(name), "/hbnew.%s.%s.%d.probe", c->bus, c->name, (int)getpid());
	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)c->mode);
	if (fd < 0)
		return -errno;
	shm_unlink(name);
	close(fd);
	return 0;
}

int hb__ring_create(struct hb_producer *p, const struct hb_config *c)
{
	char name[sizeof(p->shm_name)], tmp[sizeof(p->shm_name)];
	uint32_t data_size = hb_data_size(c->ring_kb);
	size_t total = HB_RING_HDR_SIZE + data_size;
	void *mem = MAP_FAILED;
	int fd, rc;
	unsigned n;

	/* The ring is made under a name collectors ignore ("hbnew.") and renamed
	 * into the bus's namespace only once its header is published, so a
	 * collector never meets a ring that is still being set up. */
	n = atomic_fetch_add(&hb_ring_counter, 1);
	snprintf(tmp, sizeof(tmp), "/hbnew.%s.%s.%d.%u", c->bus, c->name, (int)getpid(), n);
	snprintf(name, sizeof(name), "/hb.%s.%s.%d.%u", c->bus, c->name, (int)getpid(), n);
	fd = shm_open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)c->mode);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, (mode_t)c->mode) < 0 || ftruncate(fd, (off_t)total) < 0) {
		rc = -errno;
		goto err;
	}
	mem = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
	if (mem == MAP_FAILED) {
		rc = -errno;
		goto err;
	}
	/* Format a private header first so the collector never sees a half-made
	 * ring: magic is stored last (R0). */
	rc = hb_ring_format(mem, total, data_size, c);
	if (!rc)
		rc = hb_shm_publish(tmp, name);
	if (rc)
		goto err;
	rc = hb_producer_attach(p, mem, c);
	if (rc) {
		shm_unlink(name);
		goto err_unmapped;
	}
	close(fd);
	memcpy(p->shm_name, name, sizeof(name));
	p->map_size = total;
	return 0;
err:
	shm_unlink(tmp);
err_unmapped:
	if (mem != MAP_FAILED)
		munmap(mem, total);
	close(fd);
	return rc;
}

int hb_open(struct hb_producer **out, const struct hb_config *in)
{
	struct hb_producer *p;
	struct hb_config c;
	int rc;

	*out = &hb_producer_disabled;
	hb__config_resolve(&c, in);
	if (c.disabled)
		return 0;
	rc = hb__config_check(&c);
	if (rc)
		return rc;
	if (!c.single_thread)
		return hb__proc_open(out, &c);
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	rc = hb__ring_create(p, &c);
	if (rc) {
		free(p);
		return rc;
	}
	hb__single_track(p, 1);
	*out = p;
	return 0;
}

void hb__ring_close(struct hb_producer *p)
{
	/* a thread's ring had its final heartbeat written by hb_thread.c, with
	 * the process's totals */
	if (!p->proc) {
		p->status = HB_STATUS_STOPPING;
		hb_heartbeat(p);
	}
	/* Release: every record is published before the state says closed. */
	atomic_store_explicit(&p->hdr->state, HB_RING_CLOSED, memory_order_release);
	p->enabled = 0;
	if (p->map_size)
		munmap(p->hdr, p->map_size);
}

void hb_close(struct hb_producer *p)
{
	if (!p || p == &hb_producer_disabled || !p->enabled)
		return;
	if (p->id) {
		hb__proc_close(p);
		return;
	}
	hb__ring_close(p);
	if (p->map_size) {
		hb__single_track(p, 0);
		free(p);
	}
}

int hb__type_add(struct hb_producer *p, const char *name, const struct hb_field *fields,
		 unsigned nfields)
{
	struct hb_type_def *t;
	unsigned i, n, nt = p->ntypes;

	if (hb_name_check(name, HB_TYPE_NAME_MAX) || nfields > HB_MAX_FIELDS ||
	    (nfields && !fields))
		return -EINVAL;
	for (i = 0; i < nfields; i++)
		if (hb_name_check(fields[i].name, HB_FIELD_NAME_MAX) || fields[i].tag < HB_T_I64 ||
		    fields[i].tag > HB_T_BYTES)
			return -EINVAL;
	for (n = 0; n < nt; n++) {
		t = &p->hdr->types[n];
		if (strcmp(t->name, name))
			continue;
		if (t->nfields != nfields)
			return -EEXIST;
		for (i = 0; i < nfields; i++)
			if (strcmp(t->fields[i], fields[i].name) || t->tags[i] != fields[i].tag)
				return -EEXIST;
		return (int)n;
	}
	if (nt >= HB_MAX_TYPES)
		return -ENOSPC;
	t = &p->hdr->types[nt];
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->nfields = (uint8_t)nfields;
	for (i = 0; i < nfields; i++) {
		snprintf(t->fields[i], sizeof(t->fields[i]), "%s", fields[i].name);
		t->tags[i] = (uint8_t)fields[i].tag;
	}
	/* R3: the definition is visible before the count that covers it. */
	atomic_store_explicit(&p->hdr->ntypes, nt + 1, memory_order_release);
	atomic_store_explicit(&p->ntypes, nt + 1, memory_order_release);
	return (int)nt;
}

int hb_type_register(struct hb_producer *p, const char *name, const struct hb_field *fields,
		     unsigned nfields)
{
	if (!p->enabled)
		return 0; /* disabled: a no-op (hb.h) */
	if (p->id)
		return hb__proc_type_register(p, name, fields, nfields);
	return hb__type_add(p, name, fields, nfields);
}

int hb__metric_add(struct hb_producer *p, const char *name, enum hb_metric_kind kind)
{
	struct hb_metric_def *m;
	unsigned n, nm = p->nmetrics;

	if (hb_name_check(name, HB_METRIC_NAME_MAX) || kind < HB_METRIC_COUNTER ||
	    kind > HB_METRIC_HEALTH)
		return -EINVAL;
	for (n = 0; n < nm; n++) {
		m = &p->hdr->metric_defs[n];
		if (!strcmp(m->name, name))
			return m->kind == (uint32_t)kind ? (int)n : -EEXIST;
	}
	if (nm >= HB_MAX_METRICS)
		return -ENOSPC;
	m = &p->hdr->metric_defs[nm];
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->kind = (uint32_t)kind;
	/* R4: the definition is visible before the count that covers it. */
	atomic_store_explicit(&p->hdr->nmetrics, nm + 1, memory_order_release);
	atomic_store_explicit(&p->nmetrics, nm + 1, memory_order_release);
	return (int)nm;
}

int hb_metric_register(struct hb_producer *p, const char *name, enum hb_metric_kind kind)
{
	if (!p->enabled)
		return 0; /* disabled: a no-op (hb.h) */
	if (p->id)
		return hb__proc_metric_register(p, name, kind);
	return hb__metric_add(p, name, kind);
}

void hb_status_set(struct hb_producer *p, enum hb_status status)
{
	if (!p->enabled)
		return;
	/* a process-wide handle keeps it in its table; every thread's next
	 * heartbeat carries it */
	if (!p->id)
		p->status = status;
	atomic_store_explicit(&p->hdr->hb_status, status, memory_order_relaxed);
}

int hb__heartbeat_write(struct hb_producer *p, const uint64_t *vals, uint32_t nm)
{
	uint32_t len = (uint32_t)(sizeof(struct hb_rec) + sizeof(struct hb_rec_hb) + nm * 24);
	struct hb_rec_hb *b;
	struct hb_rec *r;
	uint64_t now;

	r = hb_ring_reserve(p, len, HB_PRIO_URGENT);
	now = hb_clock_raw(p);
	p->hb_next = now + p->hb_interval_raw;
	atomic_store_explicit(&p->hdr->seq, p->seq + 1, memory_order_relaxed);
	if (!r) {
		p->seq++;
		hb__drop(p);
		/* the attempt proves the thread's progress even though the ring
		 * had no room: the collector tells backlogged from dead by it */
		atomic_store_explicit(&p->hdr->last_hb_ns, hb__clock_ns(), memory_order_relaxed);
		return -ENOBUFS;
	}
	if (p->status == HB_STATUS_STARTING && p->hb_count > 0)
		p->status = HB_STATUS_OK;
	atomic_store_explicit(&p->hdr->hb_status, p->status, memory_order_relaxed);
	r->len = len;
	r->kind = HB_REC_HEARTBEAT;
	r->prio = HB_PRIO_URGENT;
	r->type = 0;
	r->seq = p->seq++;
	r->ts = now;
	b = (struct hb_rec_hb *)(r + 1);
	b->rt_ns = hb__clock_ns();
	b->count = ++p->hb_count;
	b->interval_ns = p->hdr->interval_ns;
	b->status = p->status;
	b->nmetrics = nm;
	memcpy(b + 1, vals, (size_t)nm * 24);
	hb_ring_commit(p, len);
	atomic_store_explicit(&p->hdr->last_hb_ns, b->rt_ns, memory_order_relaxed);
	return 0;
}

int hb_heartbeat(struct hb_producer *p)
{
	uint64_t vals[HB_MAX_METRICS * 3];
	uint32_t nm, i;

	if (!p->enabled)
		return 0; /* disabled: a no-op (hb.h) */
	p = hb__ring_of(p);
	if (!p->enabled)
		return 0;
	if (p->proc)
		return hb__proc_heartbeat(p);
	nm = p->detailed ? p->nmetrics : 0;
	for (i = 0; i < nm; i++) {
		struct hb_metric_val *m = &p->hdr->metrics[i];

		vals[3 * i] = atomic_load_explicit(&m->a, memory_order_relaxed);
		vals[3 * i + 1] = atomic_load_explicit(&m->b, memory_order_relaxed);
		vals[3 * i + 2] = atomic_load_explicit(&m->c, memory_order_relaxed);
	}
	return hb__heartbeat_write(p, vals, nm);
}

static void hb_wait_space(void)
{
	struct timespec ts = {0, 20000};

	nanosleep(&ts, NULL);
}

/* The ring looks full from the cached tail, or the record would cross the
 * end of the data area. Reload tail, pad to the end if needed, or drop. */
void *hb__reserve_slow(struct hb_producer *p, uint32_t len, unsigned prio)
{
	uint64_t limit = p->limit[prio & 3];

	if (len > p->size / 2)
		return NULL;
	for (;;) {
		uint32_t off = (uint32_t)p->head & p->mask;
		uint32_t pad = off + len > p->size ? p->size - off : 0;

		if (p->head + pad + len - p->cached_tail > limit) {
			/* A2: pairs with the collector's R2 on tail. */
			p->cached_tail = atomic_load_explicit(&p->hdr->tail, memory_order_acquire);
			if (p->head + pad + len - p->cached_tail > limit) {
				if (!p->blocking)
					return NULL;
				hb_wait_space();
				continue;
			}
		}
		if (pad) {
			struct hb_rec *r = (struct hb_rec *)(p->data + off);

			r->len = pad;
			r->kind = HB_REC_PAD;
			hb_ring_commit(p, pad);
		}
		return p->data + ((uint32_t)p->head & p->mask);
	}
}
