/* SPDX-License-Identifier: MIT */
/*
 * test_ring_fixture.h - a producer handle and a consumer view over the same
 * ring, either on plain heap memory (hb_ring_format + hb_producer_attach)
 * or on a real shm object (hb_open + hb_ring_view_attach). Included by the
 * ring and producer unit tests; each test runs once per kind of memory.
 */
#ifndef TEST_RING_FIXTURE_H
#define TEST_RING_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hb.h"
#include "ring.h"

enum fx_kind { FX_MEM, FX_SHM };

static const enum fx_kind __attribute__((unused)) fx_mem = FX_MEM, fx_shm = FX_SHM;

/* Runs test fn on heap memory and on shm. */
#define FX_BOTH(fn)                                                                               \
	{#fn "/mem", fn, NULL, NULL, (void *)&fx_mem}, { #fn "/shm", fn, NULL, NULL, (void *)&fx_shm }

struct fx {
	enum fx_kind kind;
	struct hb_producer *p;
	struct hb_producer local; /* the handle when on heap memory */
	void *mem;
	size_t total;
	struct hb_ring_view v;
	char shm_name[128];
};

static char __attribute__((unused)) fx_bus[HB_BUS_MAX];

/* A bus of our own, and no HB_* variable from the caller's environment. */
static inline void fx_env_reset(void)
{
	static const char *vars[] = {"HB_BUS",     "HB_ENABLED", "HB_INTERVAL_MS",
				     "HB_DETAILED", "HB_RING_KB", NULL};

	for (int i = 0; vars[i]; i++)
		unsetenv(vars[i]);
	snprintf(fx_bus, sizeof(fx_bus), "ut%d", (int)getpid());
}

static inline void fx_shm_cleanup(void)
{
	char pat[128];
	glob_t g;

	snprintf(pat, sizeof(pat), "/dev/shm/hb.%s.*", fx_bus);
	if (glob(pat, 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++)
			unlink(g.gl_pathv[i]);
		globfree(&g);
	}
}

static inline size_t fx_shm_count(const char *bus)
{
	char pat[128];
	size_t n = 0;
	glob_t g;

	snprintf(pat, sizeof(pat), "/dev/shm/hb.%s.*", bus);
	if (glob(pat, 0, NULL, &g) == 0) {
		n = g.gl_pathc;
		globfree(&g);
	}
	return n;
}

static inline struct hb_config fx_config(const char *name, unsigned ring_kb)
{
	struct hb_config c = {
		.bus = fx_bus,
		.name = name,
		.ring_kb = ring_kb,
		.interval_ms = 3600 * 1000, /* ticks never fire by themselves */
		.single_thread = 1, /* these tests are about one ring */
	};
	return c;
}

/* Opens the ring with head = tail = start (8-aligned) before any record. */
static inline void fx_open_at(struct fx *f, enum fx_kind kind, const struct hb_config *cfg,
		       uint64_t start)
{
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	if (kind == FX_MEM) {
		uint32_t data_size = cfg->ring_kb * 1024;

		f->total = HB_RING_HDR_SIZE + data_size;
		f->mem = aligned_alloc(4096, f->total);
		assert_non_null(f->mem);
		assert_int_equal(hb_ring_format(f->mem, f->total, data_size, cfg), 0);
		atomic_store(&((struct hb_ring_hdr *)f->mem)->head, start);
		atomic_store(&((struct hb_ring_hdr *)f->mem)->tail, start);
		assert_int_equal(hb_producer_attach(&f->local, f->mem, cfg), 0);
		f->p = &f->local;
		assert_int_equal(hb_ring_view_init(&f->v, f->mem, f->total), 0);
		return;
	}
	assert_int_equal(hb_open(&f->p, cfg), 0);
	assert_true(f->p->enabled);
	snprintf(f->shm_name, sizeof(f->shm_name), "%s", f->p->shm_name);
	if (start) {
		atomic_store(&f->p->hdr->head, start);
		atomic_store(&f->p->hdr->tail, start);
		f->p->head = f->p->cached_tail = start;
	}
	assert_int_equal(hb_ring_view_attach(&f->v, f->shm_name), 0);
}

static inline void fx_open(struct fx *f, enum fx_kind kind, const struct hb_config *cfg)
{
	fx_open_at(f, kind, cfg, 0);
}

static inline void fx_close(struct fx *f)
{
	hb_close(f->p);
	hb_ring_view_detach(&f->v);
	if (f->kind == FX_SHM)
		shm_unlink(f->shm_name);
	free(f->mem);
	memset(f, 0, sizeof(*f));
}

/* The next record, failing the test on a validation error. NULL when the
 * ring is empty. */
static inline const struct hb_rec *fx_next(struct fx *f)
{
	const struct hb_rec *r = NULL;
	int rc = hb_ring_view_next(&f->v, &r);

	if (rc < 0)
		fail_msg("hb_ring_view_next: %d at cursor %llu head %llu tail %llu", rc,
			 (unsigned long long)f->v.cursor, (unsigned long long)f->v.head,
			 (unsigned long long)f->v.tail);
	return rc == 1 ? r : NULL;
}

/* Reads and releases everything; returns the number of records. */
static inline unsigned fx_drain(struct fx *f)
{
	unsigned n = 0;

	while (fx_next(f))
		n++;
	hb_ring_view_release(&f->v, f->v.cursor);
	return n;
}

static inline int fx_main(const char *group, const struct CMUnitTest *tests, size_t n)
{
	int rc;

	alarm(120); /* every test program has a timeout */
	fx_env_reset();
	rc = _cmocka_run_group_tests(group, tests, n, NULL, NULL);
	fx_shm_cleanup();
	return rc;
}

#define FX_RUN(group, tests) fx_main(group, tests, sizeof(tests) / sizeof(tests[0]))

#endif
