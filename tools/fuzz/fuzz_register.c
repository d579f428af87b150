/* SPDX-License-Identifier: MIT */
/*
 * fuzz_register - the producer's cold path on hostile arguments: names
 * (hb_name_check), event type and metric registration, ring formatting with
 * odd configurations, and the hot path emitting what was registered, all on
 * a ring formatted in plain memory.
 *
 * Invariants checked after every operation: the tables in the ring header
 * only ever hold valid names and tags and their counts stay in bounds; with
 * the consumer side linked in (HB_FUZZ_RING), every record the producer
 * wrote passes the consumer's validation.
 */
#include "fuzz_input.h"
#include "hb.h"
#ifdef HB_FUZZ_RING
#include "ring.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define DATA_SIZE 4096u
#define TOTAL (HB_RING_HDR_SIZE + DATA_SIZE)
#define MAX_OPS 96

static void *ring_mem;
static uint8_t blob[2048];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("HB_CLOCK", "realtime", 1); /* no /proc/cpuinfo per input */
	unsetenv("HB_BUS");
	unsetenv("HB_RING_KB");
	unsetenv("HB_ENABLED");
	ring_mem = aligned_alloc(4096, TOTAL);
	for (size_t i = 0; i < sizeof(blob); i++)
		blob[i] = (uint8_t)(i * 7);
	return 0;
}

static int name_ok(const char *s, size_t max)
{
	return memchr(s, 0, max) != NULL && hb_name_check(s, max) == 0;
}

/* What a successful hb_name_check promises. */
static void name_check_contract(const char *s, size_t max, int rc)
{
	size_t i, n;

	if (rc)
		return;
	n = strlen(s);
	CHECK(n > 0 && n < max);
	CHECK(strcmp(s, ".") && strcmp(s, ".."));
	for (i = 0; i < n; i++)
		CHECK(s[i] != '/' && (unsigned char)s[i] > 0x20 && (unsigned char)s[i] < 0x7f);
}

static void tables_check(const struct hb_producer *p)
{
	const struct hb_ring_hdr *h = p->hdr;
	uint32_t nt = atomic_load(&h->ntypes), nm = atomic_load(&h->nmetrics), i, j;

	CHECK(nt <= HB_MAX_TYPES && nt == p->ntypes);
	CHECK(nm <= HB_MAX_METRICS && nm == p->nmetrics);
	for (i = 0; i < nt; i++) {
		const struct hb_type_def *t = &h->types[i];

		CHECK(name_ok(t->name, sizeof(t->name)));
		CHECK(t->nfields <= HB_MAX_FIELDS);
		for (j = 0; j < t->nfields; j++) {
			CHECK(name_ok(t->fields[j], sizeof(t->fields[j])));
			CHECK(t->tags[j] >= HB_T_I64 && t->tags[j] <= HB_T_BYTES);
		}
	}
	for (i = 0; i < nm; i++) {
		CHECK(name_ok(h->metric_defs[i].name, sizeof(h->metric_defs[i].name)));
		CHECK(h->metric_defs[i].kind >= HB_METRIC_COUNTER &&
		      h->metric_defs[i].kind <= HB_METRIC_HEALTH);
	}
}

/* A name check on an exactly-sized buffer without a terminator: the check
 * must not read past max bytes. */
static void op_name_raw(struct fz *f)
{
	size_t len = fz_u8(f) % 80 + 1;
	const uint8_t *b = fz_bytes(f, &len);
	char *s;

	if (!len)
		return;
	s = malloc(len);
	memcpy(s, b, len);
	(void)hb_name_check(s, len);
	if (memchr(s, 0, len))
		name_check_contract(s, len, hb_name_check(s, len));
	free(s);
}

static void op_name(struct fz *f)
{
	char buf[256];
	size_t max = fz_u8(f);

	fz_str(f, buf, sizeof(buf));
	if (max == 0)
		max = 1;
	name_check_contract(buf, max, hb_name_check(buf, max));
}

static void op_type(struct fz *f, struct hb_producer *p)
{
	char name[80], fname[HB_MAX_FIELDS + 2][40];
	struct hb_field fields[HB_MAX_FIELDS + 2];
	unsigned n = fz_u8(f) % (HB_MAX_FIELDS + 3), i;
	int id;

	fz_str(f, name, sizeof(name));
	for (i = 0; i < n && i < HB_MAX_FIELDS + 2; i++) {
		fields[i].name = fz_str(f, fname[i], sizeof(fname[i]));
		fields[i].tag = (enum hb_tag)(int8_t)fz_u8(f);
	}
	id = hb_type_register(p, name, n ? fields : NULL, n > HB_MAX_FIELDS + 2 ? 0 : n);
	if (id >= 0) {
		CHECK(id < HB_MAX_TYPES && (unsigned)id < p->ntypes);
		CHECK(!strcmp(p->hdr->types[id].name, name));
	}
}

static void op_metric(struct fz *f, struct hb_producer *p)
{
	char name[80];
	int kind, id;

	fz_str(f, name, sizeof(name));
	kind = (int)(int8_t)fz_u8(f);
	id = hb_metric_register(p, name, (enum hb_metric_kind)kind);
	if (id >= 0) {
		CHECK(id < HB_MAX_METRICS && (unsigned)id < p->nmetrics);
		CHECK(p->hdr->metric_defs[id].kind == (uint32_t)kind);
	}
}

static void op_event(struct fz *f, struct hb_producer *p)
{
	struct hb_val v[HB_MAX_FIELDS + 1];
	unsigned type = fz_u8(f), prio = fz_u8(f) % 5, n = fz_u8(f) % (HB_MAX_FIELDS + 2), i;
	uint64_t req = fz_u64(f);

	memset(v, 0, sizeof(v));
	for (i = 0; i < n; i++) {
		v[i].tag = fz_u8(f) % 8;
		if (v[i].tag == HB_T_STR || v[i].tag == HB_T_BYTES) {
			v[i].len = fz_u16(f) % sizeof(blob);
			v[i].v.p = blob;
		} else {
			v[i].v.u = fz_u64(f);
		}
	}
	(void)hb_event_emit(p, type % 72, prio, req, v, n);
}

static void op_metric_update(struct fz *f, struct hb_producer *p)
{
	unsigned id = fz_u8(f) % 70;
	uint64_t x = fz_u64(f);

	switch (fz_u8(f) % 4) {
	case 0:
		hb_counter_add(p, id, x);
		break;
	case 1:
		hb_gauge_set(p, id, (double)x);
		break;
	case 2:
		hb_timing_add(p, id, x);
		break;
	default:
		hb_health_set(p, id, (enum hb_health)(x % 8));
	}
}

/* Formats the ring with a configuration taken from the input. */
static int op_format(struct fz *f, struct hb_producer *p)
{
	char bus[48], name[80], thread[48];
	struct hb_config c = {0};
	uint8_t flags = fz_u8(f);

	c.bus = (flags & 1) ? fz_str(f, bus, sizeof(bus)) : NULL;
	c.name = (flags & 2) ? fz_str(f, name, sizeof(name)) : "fuzz";
	c.thread = (flags & 4) ? fz_str(f, thread, sizeof(thread)) : NULL;
	c.lean = !((flags >> 3) & 1);
	c.blocking = 0;
	c.interval_ms = fz_u32(f);
	c.hwm_pct = fz_u8(f);
	if (hb_ring_format(ring_mem, TOTAL, DATA_SIZE, &c))
		return -1;
	CHECK(name_ok(((struct hb_ring_hdr *)ring_mem)->name, HB_NAME_MAX));
	return hb_producer_attach(p, ring_mem, &c);
}

/* Opens a real shm ring with a name from the input, then removes it. */
static void op_open(struct fz *f)
{
	char bus[48], name[80];
	struct hb_config c = {.ring_kb = 4, .single_thread = 1};
	struct hb_producer *h;

	c.bus = fz_str(f, bus, sizeof(bus));
	c.name = fz_str(f, name, sizeof(name));
	c.mode = fz_u8(f) & 1 ? 0660 : fz_u16(f);
	if (hb_open(&h, &c) == 0 && h->enabled) {
		CHECK(hb_name_check(bus, HB_BUS_MAX) == 0 && hb_name_check(name, HB_NAME_MAX) == 0);
		CHECK(strchr(h->shm_name + 1, '/') == NULL);
		CHECK(shm_unlink(h->shm_name) == 0);
		hb_close(h);
	} else {
		CHECK(!h->enabled);
	}
}

#ifdef HB_FUZZ_RING
/* Consumer side: every record the producer wrote must validate. */
static void ring_drain(struct hb_producer *p)
{
	struct hb_ring_view v;
	const struct hb_rec *r;
	struct hb_event_view ev;
	int rc;

	CHECK(hb_ring_view_init(&v, p->hdr, TOTAL) == 0);
	while ((rc = hb_ring_view_next(&v, &r)) == 1)
		if (r->kind == HB_REC_EVENT)
			CHECK(hb_event_decode(r, &ev) == 0);
	CHECK(rc == 0);
	hb_ring_view_release(&v, v.cursor);
}
#else
static void ring_drain(struct hb_producer *p)
{
	atomic_store(&p->hdr->tail, atomic_load(&p->hdr->head));
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = {data, size};
	struct hb_producer p;
	int ops;

	memset(&p, 0, sizeof(p));
	if (op_format(&f, &p))
		return 0;
	for (ops = 0; fz_left(&f) && ops < MAX_OPS; ops++) {
		switch (fz_u8(&f) % 10) {
		case 0:
			op_name(&f);
			break;
		case 1:
			op_name_raw(&f);
			break;
		case 2:
			op_type(&f, &p);
			break;
		case 3:
			op_metric(&f, &p);
			break;
		case 4:
		case 5:
			op_event(&f, &p);
			break;
		case 6:
			op_metric_update(&f, &p);
			break;
		case 7:
			(void)hb_heartbeat(&p);
			break;
		case 8:
			ring_drain(&p);
			break;
		default:
			if (fz_u8(&f) == 0x4f)
				op_open(&f);
		}
		tables_check(&p);
	}
	ring_drain(&p);
	return 0;
}
