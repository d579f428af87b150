/* SPDX-License-Identifier: MIT */
/* hbcollect's encoder: option values, file names, timestamps, and events,
 * heartbeats and bus records exactly as docs/FORMAT.md states them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hbc.h"
#include "hb_reader.h"

#include <stdlib.h>
#include <string.h>

static char mem[HB_RING_HDR_SIZE + 4096] __attribute__((aligned(4096)));

static void sizes_and_durations_parse(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(hbc_parse_size("64M", &v), 0);
	assert_int_equal(v, 64ull << 20);
	assert_int_equal(hbc_parse_size("1k", &v), 0);
	assert_int_equal(v, 1024);
	assert_int_equal(hbc_parse_size("3G", &v), 0);
	assert_int_equal(v, 3ull << 30);
	assert_int_equal(hbc_parse_size("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(hbc_parse_size("5T", &v), -EINVAL);
	assert_int_equal(hbc_parse_size("-1", &v), -EINVAL);
	assert_int_equal(hbc_parse_size("", &v), -EINVAL);
	assert_int_equal(hbc_parse_duration("1h", &v), 0);
	assert_int_equal(v, 3600ull * 1000000000u);
	assert_int_equal(hbc_parse_duration("500ms", &v), 0);
	assert_int_equal(v, 500000000ull);
	assert_int_equal(hbc_parse_duration("30", &v), 0);
	assert_int_equal(v, 30000000000ull);
	assert_int_equal(hbc_parse_duration("2d", &v), 0);
	assert_int_equal(v, 2 * 86400ull * 1000000000u);
	assert_int_equal(hbc_parse_duration("1x", &v), -EINVAL);
}

static void file_names_round_trip_and_sort(void **state)
{
	char a[HBC_FNAME_MAX], b[HBC_FNAME_MAX];
	uint64_t ns = 1795450385123456789ull, back;

	(void)state;
	hbc_file_name(ns, a, sizeof(a));
	assert_string_equal(a, "hb-20261123T161305.123456789Z.msgpack");
	assert_int_equal(hbc_file_name_parse(a, &back), 0);
	assert_int_equal(back, ns);
	hbc_file_name(ns + 1, b, sizeof(b));
	assert_true(strcmp(a, b) < 0);
	assert_int_equal(hbc_file_name_parse("hb-2026.msgpack", &back), -EINVAL);
	assert_int_equal(hbc_file_name_parse("hb-20261123T161305.123456789Z.msgpack.tmp", &back),
			 -EINVAL);
}

static msgpack_object unpack_one(struct hbc_buf *b, msgpack_unpacked *u)
{
	size_t off = 0;

	hbc_buf_batch_end(b);
	msgpack_unpacked_init(u);
	assert_int_equal(msgpack_unpack_next(u, b->data, b->len, &off), MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(off, b->len); /* exactly one object */
	return u->data;
}

/* A map counted as it is packed (hbc_map) is byte for byte the map
 * msgpack-c packs with its count up front: fixmap below 16 pairs, map 16
 * from there, also inside another counted map. */
static void counted_maps_are_msgpack_c_maps(void **state)
{
	static const unsigned counts[] = {0, 1, 15, 16, 17, 300};
	char data[8192];
	struct hbc_buf b = {.data = data, .cap = sizeof(data)};
	msgpack_sbuffer sb;
	msgpack_packer pk, ref;
	struct hbc_map m, inner;
	unsigned i, k;

	(void)state;
	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		b.len = 0;
		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&ref, &sb, msgpack_sbuffer_write);
		hbc_packer_init(&pk, &b);
		hbc_map_open(&m, &pk);
		msgpack_pack_map(&ref, counts[i] + 1);
		for (k = 0; k < counts[i]; k++) {
			hbc_map_key(&m, "k");
			msgpack_pack_uint32(&pk, k);
			hbc_pack_str(&ref, "k");
			msgpack_pack_uint32(&ref, k);
		}
		hbc_map_key(&m, "in"); /* a counted map as a value */
		hbc_map_open(&inner, &pk);
		hbc_map_key(&inner, "x");
		msgpack_pack_nil(&pk);
		hbc_map_close(&inner);
		hbc_pack_str(&ref, "in");
		msgpack_pack_map(&ref, 1);
		hbc_pack_str(&ref, "x");
		msgpack_pack_nil(&ref);
		hbc_map_close(&m);
		assert_int_equal(m.n, counts[i] + 1);
		assert_int_equal(b.len, sb.size);
		assert_memory_equal(b.data, sb.data, sb.size);
		msgpack_sbuffer_destroy(&sb);
	}
}

static void timestamps_use_the_64_bit_form(void **state)
{
	char data[64];
	struct hbc_buf b = {.data = data, .cap = sizeof(data)};
	msgpack_timestamp ts;
	msgpack_packer pk;
	msgpack_unpacked u;
	msgpack_object o;

	(void)state;
	hbc_packer_init(&pk, &b);
	hbc_pack_ts(&pk, 1795450385000000000ull); /* whole second: still fixext 8 */
	assert_int_equal(b.len, 10);
	assert_int_equal((unsigned char)b.data[0], 0xd7);
	assert_int_equal((signed char)b.data[1], -1);
	o = unpack_one(&b, &u);
	assert_true(msgpack_object_to_timestamp(&o, &ts));
	assert_int_equal(ts.tv_sec, 1795450385);
	assert_int_equal(ts.tv_nsec, 0);
	msgpack_unpacked_destroy(&u);
	b.len = 0;
	hbc_pack_ts(&pk, (1ull << 34) * 1000000000ull + 7); /* past 2514: 96-bit form */
	assert_int_equal(b.len, 15);
	o = unpack_one(&b, &u);
	assert_true(msgpack_object_to_timestamp(&o, &ts));
	assert_int_equal(ts.tv_sec, 1ll << 34);
	assert_int_equal(ts.tv_nsec, 7);
	msgpack_unpacked_destroy(&u);
}

static struct hb_producer open_ring(void)
{
	struct hb_config cfg = {.bus = "unit", .name = "enc"};
	struct hb_producer p;

	assert_int_equal(hb_ring_format(mem, sizeof(mem), 4096, &cfg), 0);
	assert_int_equal(hb_producer_attach(&p, mem, &cfg), 0);
	return p;
}

/* The record a producer writes for (r, ev), in rec (HB_REC_COPY_MAX
 * bytes), the pads of strings filled with noise (the encoder reads them
 * and must ignore them). */
static const struct hb_rec *rec_of(uint64_t *rec, const struct hb_rec *r,
				   const struct hb_event_view *ev, uint64_t noise)
{
	uint8_t *base = (uint8_t *)rec;
	uint32_t pos = HB_EVENT_FIXED;
	unsigned i;

	memcpy(base, r, sizeof(*r));
	memcpy(base + sizeof(*r), &ev->req, 8);
	memcpy(base + sizeof(*r) + 8, ev->tags, 8);
	for (i = 0; i < ev->nfields; i++) {
		memcpy(base + pos, &ev->vals[i], 8);
		pos += 8;
		if (ev->tags[i] == HB_T_STR || ev->tags[i] == HB_T_BYTES) {
			uint32_t n = (uint32_t)ev->vals[i], pad = (n + 7) & ~7u;

			if (pad)
				memcpy(base + pos + pad - 8, &noise, 8);
			memcpy(base + pos, ev->ptrs[i], n);
			pos += pad;
		}
	}
	memcpy(base, &pos, 4); /* len */
	return (const struct hb_rec *)rec;
}

static const struct hb_rec *next_rec(struct hb_ring_view *v)
{
	const struct hb_rec *r = NULL;

	assert_int_equal(hb_ring_view_next(v, &r), 1);
	return r;
}

/* The batch object of b's first event: [3, p, seq0, ts0, e...]. */
static const msgpack_object *batch_event(const msgpack_object *o, uint32_t i)
{
	assert_int_equal(o->type, MSGPACK_OBJECT_ARRAY);
	assert_true(o->via.array.size > 4 + i);
	return &o->via.array.ptr[4 + i];
}

static void events_encode_in_batches(void **state)
{
	static const struct hb_field f[] = {
		{"n", HB_T_I64}, {"px", HB_T_F64}, {"sym", HB_T_STR},
		{"b", HB_T_BYTES}, {"ok", HB_T_BOOL}, {"q", HB_T_U64}};
	char data[4096];
	struct hbc_buf b = {.data = data, .cap = sizeof(data)};
	struct hb_producer p = open_ring();
	struct hb_ring_view v;
	const struct hb_rec *r;
	const msgpack_object *e;
	msgpack_timestamp ts;
	msgpack_unpacked u;
	msgpack_object o;
	int t;

	(void)state;
	t = hb_type_register(&p, "unit.ev", f, 6);
	assert_int_equal(hb_event(&p, t, HB_PRIO_HIGH, 42, HB_I64(-5), HB_F64(2.5), HB_STR("s5"),
				  HB_BYTES("\x01\x02", 2), HB_BOOL(1), HB_U64(1ull << 63)),
			 0);
	assert_int_equal(hb_event(&p, t, HB_PRIO_LOW, 0, HB_I64(1)), 0);
	assert_int_equal(hb_ring_view_init(&v, mem, sizeof(mem)), 0);
	r = next_rec(&v); /* validated in a ring no one writes now */
	hbc_enc_event(&b, 3, r, 1795450385123456789ull);
	r = next_rec(&v); /* 5 ns earlier (clocks may step back); no request id */
	hbc_enc_event(&b, 3, r, 1795450385123456784ull);
	o = unpack_one(&b, &u);
	assert_int_equal(o.via.array.size, 6); /* one batch of both */
	assert_int_equal(o.via.array.ptr[0].via.u64, 3);
	assert_int_equal(o.via.array.ptr[1].via.u64, 3);
	assert_int_equal(o.via.array.ptr[2].via.u64, 0);
	assert_true(msgpack_object_to_timestamp(&o.via.array.ptr[3], &ts));
	assert_int_equal(ts.tv_sec, 1795450385);
	assert_int_equal(ts.tv_nsec, 123456789);
	e = batch_event(&o, 0)->via.array.ptr;
	assert_int_equal(batch_event(&o, 0)->via.array.size, 10);
	assert_int_equal(e[0].via.u64, 0); /* dt */
	assert_int_equal(e[1].via.u64, (uint64_t)t);
	assert_int_equal(e[2].via.u64, HB_PRIO_HIGH);
	assert_int_equal(e[3].via.u64, 42);
	assert_int_equal(e[4].via.i64, -5);
	assert_true(e[5].type == MSGPACK_OBJECT_FLOAT64 && e[5].via.f64 == 2.5);
	assert_int_equal(e[6].type, MSGPACK_OBJECT_STR);
	assert_memory_equal(e[6].via.str.ptr, "s5", 2);
	assert_int_equal(e[7].type, MSGPACK_OBJECT_BIN);
	assert_int_equal(e[7].via.bin.size, 2);
	assert_true(e[8].type == MSGPACK_OBJECT_BOOLEAN && e[8].via.boolean);
	assert_int_equal(e[9].via.u64, 1ull << 63);
	e = batch_event(&o, 1)->via.array.ptr;
	assert_int_equal(batch_event(&o, 1)->via.array.size, 5);
	assert_int_equal(e[0].type, MSGPACK_OBJECT_NEGATIVE_INTEGER);
	assert_int_equal(e[0].via.i64, -5);
	assert_int_equal(e[2].via.u64, HB_PRIO_LOW);
	assert_int_equal(e[3].type, MSGPACK_OBJECT_NIL);
	assert_int_equal(e[4].via.i64, 1);
	msgpack_unpacked_destroy(&u);
}

/* Encodes an event with no fields of producer p and sequence seq. */
static void enc_plain(struct hbc_buf *b, uint32_t p, uint64_t seq, uint64_t ts)
{
	struct hb_rec r = {.kind = HB_REC_EVENT, .seq = seq};
	struct hb_event_view ev = {.nfields = 0};
	uint64_t rec[HB_EVENT_FIXED / 8];

	hbc_enc_event(b, p, rec_of(rec, &r, &ev, 0), ts);
}

/* Unpacks every object of b and checks each is a batch of producer p[i]
 * starting at seq0[i] with n[i] events (n[i] = 0: a map). */
static void expect_objects(struct hbc_buf *b, size_t nobj, const uint32_t *p,
			   const uint64_t *seq0, const uint32_t *n)
{
	msgpack_unpacked u;
	size_t off = 0, i;

	hbc_buf_batch_end(b);
	msgpack_unpacked_init(&u);
	for (i = 0; i < nobj; i++) {
		const msgpack_object *o = &u.data;

		assert_int_equal(msgpack_unpack_next(&u, b->data, b->len, &off),
				 MSGPACK_UNPACK_SUCCESS);
		if (!n[i]) {
			assert_int_equal(o->type, MSGPACK_OBJECT_MAP);
			continue;
		}
		assert_int_equal(o->type, MSGPACK_OBJECT_ARRAY);
		assert_int_equal(o->via.array.size, 4 + n[i]);
		assert_int_equal(o->via.array.ptr[0].via.u64, 3);
		assert_int_equal(o->via.array.ptr[1].via.u64, p[i]);
		assert_int_equal(o->via.array.ptr[2].via.u64, seq0[i]);
	}
	assert_int_equal(off, b->len);
	msgpack_unpacked_destroy(&u);
}

static void a_batch_ends_at_a_gap_another_producer_or_another_object(void **state)
{
	static const uint32_t p[] = {1, 1, 2, 0, 2};
	static const uint64_t seq0[] = {0, 3, 9, 0, 10};
	static const uint32_t n[] = {2, 1, 1, 0, 1};
	char data[4096];
	struct hbc_buf b = {.data = data, .cap = sizeof(data)};
	msgpack_packer pk;

	(void)state;
	hbc_packer_init(&pk, &b);
	enc_plain(&b, 1, 0, 100);
	enc_plain(&b, 1, 1, 200);
	enc_plain(&b, 1, 3, 300); /* seq 2 missing: a new batch */
	enc_plain(&b, 2, 9, 400); /* another producer */
	hbc_enc_state(&pk, 2, 500, "late", "late", NULL);
	enc_plain(&b, 2, 10, 600); /* after a packed object */
	expect_objects(&b, 5, p, seq0, n);
}

/* The times of the events of b, rebuilt as FORMAT.md says (ts0 + dt...). */
static size_t batch_times(struct hbc_buf *b, uint64_t *ts, size_t max)
{
	msgpack_unpacked u;
	size_t off = 0, n = 0;

	hbc_buf_batch_end(b);
	msgpack_unpacked_init(&u);
	while (msgpack_unpack_next(&u, b->data, b->len, &off) == MSGPACK_UNPACK_SUCCESS) {
		const msgpack_object *a = u.data.via.array.ptr;
		msgpack_timestamp t0 = {0, 0};
		uint64_t t;

		assert_true(msgpack_object_to_timestamp(&a[3], &t0));
		t = (uint64_t)t0.tv_sec * 1000000000u + t0.tv_nsec;
		for (uint32_t i = 4; i < u.data.via.array.size && n < max; i++) {
			t += (uint64_t)a[i].via.array.ptr[0].via.i64; /* wraps as int64 adds do */
			ts[n++] = t;
		}
	}
	assert_int_equal(off, b->len);
	msgpack_unpacked_destroy(&u);
	return n;
}

static void a_time_jump_beyond_a_signed_dt_starts_a_new_batch(void **state)
{
	static const uint32_t p[] = {1, 1, 1};
	static const uint64_t seq0[] = {0, 1, 2};
	static const uint32_t n[] = {1, 1, 2};
	const uint64_t ts[] = {100, 100 + (1ull << 63) + 5, 50, 60};
	char data[4096];
	struct hbc_buf b = {.data = data, .cap = sizeof(data)};
	uint64_t got[4];

	(void)state;
	for (size_t i = 0; i < 4; i++)
		enc_plain(&b, 1, i, ts[i]);
	expect_objects(&b, 3, p, seq0, n);
	assert_int_equal(batch_times(&b, got, 4), 4);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(got[i], ts[i]);
}

static void a_batch_holds_at_most_HBC_BATCH_MAX_events(void **state)
{
	static const uint32_t p[] = {4, 4};
	static const uint64_t seq0[] = {0, HBC_BATCH_MAX};
	static const uint32_t n[] = {HBC_BATCH_MAX, 1};
	static char data[HBC_BATCH_MAX * 16];
	struct hbc_buf b = {.data = data, .cap = sizeof(data)};
	uint64_t i;

	(void)state;
	for (i = 0; i <= HBC_BATCH_MAX; i++)
		enc_plain(&b, 4, i, 1000 + i);
	expect_objects(&b, 2, p, seq0, n);
}

static void heartbeats_carry_metrics_by_kind(void **state)
{
	char data[4096];
	struct hbc_buf b = {.data = data, .cap = sizeof(data)};
	struct hb_producer p = open_ring();
	uint8_t kinds[4] = {HB_METRIC_COUNTER, HB_METRIC_GAUGE, HB_METRIC_TIMING, HB_METRIC_HEALTH};
	struct hb_ring_view v;
	const struct hb_rec *r;
	struct hb_rec_hb hb;
	msgpack_packer pk;
	msgpack_unpacked u;
	msgpack_object o, *m;

	(void)state;
	hb_metric_register(&p, "c", HB_METRIC_COUNTER);
	hb_metric_register(&p, "g", HB_METRIC_GAUGE);
	hb_metric_register(&p, "t", HB_METRIC_TIMING);
	hb_metric_register(&p, "h", HB_METRIC_HEALTH);
	hb_counter_add(&p, 0, 7);
	hb_gauge_set(&p, 1, 0.5);
	hb_timing_add(&p, 2, 100);
	hb_timing_add(&p, 2, 300);
	hb_health_set(&p, 3, HB_HEALTH_HALF_OPEN);
	assert_int_equal(hb_heartbeat(&p), 0);
	assert_int_equal(hb_ring_view_init(&v, mem, sizeof(mem)), 0);
	r = next_rec(&v);
	memcpy(&hb, r + 1, sizeof(hb));
	hbc_packer_init(&pk, &b);
	hbc_enc_heartbeat(&pk, 2, r, hb.rt_ns, &hb, (const uint8_t *)(r + 1) + sizeof(hb), kinds, 0);
	o = unpack_one(&b, &u);
	assert_int_equal(o.via.array.size, 8);
	assert_int_equal(o.via.array.ptr[0].via.u64, 2);
	assert_memory_equal(o.via.array.ptr[4].via.str.ptr, "starting", 8);
	assert_int_equal(o.via.array.ptr[5].via.u64, 1);
	assert_int_equal(o.via.array.ptr[6].via.u64, 1000);
	m = o.via.array.ptr[7].via.array.ptr;
	assert_int_equal(o.via.array.ptr[7].via.array.size, 4);
	assert_int_equal(m[0].via.u64, 7);
	assert_true(m[1].type == MSGPACK_OBJECT_FLOAT64 && m[1].via.f64 == 0.5);
	assert_int_equal(m[2].via.array.size, 3);
	assert_int_equal(m[2].via.array.ptr[0].via.u64, 2);
	assert_int_equal(m[2].via.array.ptr[1].via.u64, 400);
	assert_int_equal(m[2].via.array.ptr[2].via.u64, 300);
	assert_memory_equal(m[3].via.str.ptr, "half-open", 9);
	msgpack_unpacked_destroy(&u);
}

/* The value of key in a map object, or NULL. */
static const msgpack_object *get(const msgpack_object *o, const char *key)
{
	uint32_t i;

	for (i = 0; i < o->via.map.size; i++)
		if (o->via.map.ptr[i].key.via.str.size == strlen(key) &&
		    !memcmp(o->via.map.ptr[i].key.via.str.ptr, key, strlen(key)))
			return &o->via.map.ptr[i].val;
	return NULL;
}

static void bus_records_have_their_keys(void **state)
{
	char data[65536];
	struct hbc_buf b = {.data = data, .cap = sizeof(data)};
	struct hb_producer p = open_ring();
	struct hbc_ident id = {.name = "enc", .ring = "hb.unit.enc.1.0", .pid = 1,
			       .interval_ns = 250000000};
	static const struct hb_field f[] = {{"n", HB_T_I64}};
	msgpack_packer pk;
	msgpack_unpacked u;
	msgpack_object o;

	(void)state;
	hb_type_register(&p, "unit.a", f, 1);
	hbc_packer_init(&pk, &b);
	hbc_enc_gap(&pk, 4, 1, 10, 19, "overflow");
	o = unpack_one(&b, &u);
	assert_int_equal(o.via.map.size, 7);
	assert_int_equal(get(&o, "n")->via.u64, 10);
	assert_int_equal(get(&o, "from")->via.u64, 10);
	assert_int_equal(get(&o, "to")->via.u64, 19);
	msgpack_unpacked_destroy(&u);

	b.len = 0;
	hbc_enc_producer(&pk, "attached", 4, 1, &id, (struct hb_ring_hdr *)mem, 1, 0, 17);
	o = unpack_one(&b, &u);
	assert_int_equal(o.type, MSGPACK_OBJECT_MAP);
	assert_memory_equal(get(&o, "k")->via.str.ptr, "producer", 8);
	assert_int_equal(get(&o, "seq_next")->via.u64, 17);
	assert_int_equal(get(&o, "interval_ms")->via.u64, 250);
	assert_int_equal(get(&o, "types")->via.array.size, 1);
	assert_int_equal(get(&o, "metrics")->via.array.size, 0);
	assert_memory_equal(get(get(&o, "types")->via.array.ptr, "name")->via.str.ptr, "unit.a", 6);
	assert_non_null(get(&o, "start"));
	assert_non_null(get(&o, "ring"));
	msgpack_unpacked_destroy(&u);

	b.len = 0;
	hbc_enc_end(&pk, 1, "hb-20261123T161305.123456789Z.msgpack");
	o = unpack_one(&b, &u);
	assert_int_equal(o.via.map.size, 3);
	assert_int_equal(get(&o, "next")->via.str.size, 37);
	msgpack_unpacked_destroy(&u);
	assert_false(b.overflow);
}

static void strings_that_are_not_utf8_encode_as_bin(void **state)
{
	static const struct hb_field f[] = {{"a", HB_T_STR}, {"b", HB_T_STR}, {"c", HB_T_STR}};
	char data[4096];
	struct hbc_buf b = {.data = data, .cap = sizeof(data)};
	struct hb_producer p = open_ring();
	struct hb_ring_view v;
	const struct hb_rec *r;
	const msgpack_object *e;
	msgpack_unpacked u;
	msgpack_object o;
	int t;

	(void)state;
	t = hb_type_register(&p, "unit.utf8", f, 3);
	assert_int_equal(hb_event(&p, t, HB_PRIO_NORMAL, 0, HB_STR("plain"), HB_STR("caf\xc3\xa9"),
				  HB_STR("bad\xff\xc3")),
			 0);
	assert_int_equal(hb_ring_view_init(&v, mem, sizeof(mem)), 0);
	r = next_rec(&v);
	hbc_enc_event(&b, 1, r, 1);
	o = unpack_one(&b, &u);
	e = batch_event(&o, 0);
	assert_int_equal(e->via.array.size, 7);
	assert_int_equal(e->via.array.ptr[4].type, MSGPACK_OBJECT_STR);
	assert_int_equal(e->via.array.ptr[5].type, MSGPACK_OBJECT_STR);
	assert_int_equal(e->via.array.ptr[5].via.str.size, 5);
	assert_int_equal(e->via.array.ptr[6].type, MSGPACK_OBJECT_BIN);
	assert_int_equal(e->via.array.ptr[6].via.bin.size, 5);
	assert_memory_equal(e->via.array.ptr[6].via.bin.ptr, "bad\xff\xc3", 5);
	msgpack_unpacked_destroy(&u);
}

/* Names and texts the collector did not make (shm names, rule files) are
 * escaped into valid, printable UTF-8 before they become a str, and the
 * escapes can be told back. */
static void names_from_outside_are_escaped_to_printable_utf8(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"plain.name-1", "plain.name-1"},
		{"caf\xc3\xa9", "caf\xc3\xa9"},              /* valid UTF-8 stays */
		{"a\xff\xfe", "a\\xff\\xfe"},              /* invalid bytes */
		{"\x1b[31mred\x07", "\\x1b[31mred\\x07"},     /* controls */
		{"x\xc2\x85y", "x\\xc2\\x85y"},              /* C1 control NEL */
		{"\xe2\x82", "\\xe2\\x82"},                  /* truncated sequence */
		{"\xed\xa0\x80", "\\xed\\xa0\\x80"},        /* surrogate */
		{"back\\slash", "back\\\\slash"},
		{"del\x7f", "del\\x7f"},
	};
	char out[64], data[512];
	struct hbc_buf b = {.data = data, .cap = sizeof(data)};
	msgpack_packer pk;
	msgpack_unpacked u;
	msgpack_object o;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = strlen(cases[i].in);

		assert_int_equal(hbc_str_escape(out, sizeof(out), cases[i].in, n), strlen(cases[i].out));
		assert_string_equal(out, cases[i].out);
		assert_int_equal(hbc_str_clean(cases[i].in, n), !strcmp(cases[i].in, cases[i].out));
		b.len = 0;
		hbc_packer_init(&pk, &b);
		hbc_pack_str(&pk, cases[i].in);
		o = unpack_one(&b, &u);
		assert_int_equal(o.type, MSGPACK_OBJECT_STR);
		assert_int_equal(o.via.str.size, strlen(cases[i].out));
		assert_memory_equal(o.via.str.ptr, cases[i].out, o.via.str.size);
		assert_true(hb_utf8_valid(o.via.str.ptr, o.via.str.size));
		msgpack_unpacked_destroy(&u);
	}
	/* cut to fit: never in the middle of an escape or a character */
	assert_int_equal(hbc_str_escape(out, 7, "ab\xff\xff", 4), 6);
	assert_string_equal(out, "ab\\xff");
	assert_int_equal(hbc_str_escape(out, 4, "ab\xc3\xa9", 4), 2);
	assert_string_equal(out, "ab");
}

/* ---- the direct event encoder against msgpack-c's packer -------------- */

/* What hbc_enc_event writes, stated with msgpack-c's packer (the encoder
 * of earlier versions): the reference the direct encoder must match. */
static void ref_value(msgpack_packer *pk, unsigned tag, uint64_t v, const void *ptr)
{
	union {
		uint64_t u;
		double d;
	} bits = {.u = v};

	switch (tag) {
	case HB_T_I64: msgpack_pack_int64(pk, (int64_t)v); break;
	case HB_T_U64: msgpack_pack_uint64(pk, v); break;
	case HB_T_F64: msgpack_pack_double(pk, bits.d); break;
	case HB_T_BOOL: v ? msgpack_pack_true(pk) : msgpack_pack_false(pk); break;
	case HB_T_STR: /* the archive's str is UTF-8; other bytes go out as bin */
		if (hb_utf8_valid(ptr, (size_t)v))
			msgpack_pack_str_with_body(pk, ptr, (size_t)v);
		else
			msgpack_pack_bin_with_body(pk, ptr, (size_t)v);
		break;
	case HB_T_BYTES: msgpack_pack_bin_with_body(pk, ptr, (size_t)v); break;
	default: msgpack_pack_nil(pk);
	}
}

/* One event of a batch, dt ns after the previous one. */
static void ref_event(msgpack_packer *pk, int64_t dt, const struct hb_rec *r,
		      const struct hb_event_view *ev)
{
	unsigned i;

	msgpack_pack_array(pk, 4 + ev->nfields);
	msgpack_pack_int64(pk, dt);
	msgpack_pack_uint16(pk, r->type);
	msgpack_pack_uint8(pk, r->prio);
	if (ev->req)
		msgpack_pack_uint64(pk, ev->req);
	else
		msgpack_pack_nil(pk);
	for (i = 0; i < ev->nfields; i++)
		ref_value(pk, ev->tags[i], ev->vals[i], ev->ptrs[i]);
}

static uint64_t rng_state = 88172645463325252ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Integers near every boundary of msgpack's forms, and anything. */
static uint64_t rnd_int(void)
{
	static const uint64_t edges[] = {0, 1, 31, 32, 127, 128, 255, 256, 65535, 65536,
					 (1ull << 32) - 1, 1ull << 32, UINT64_MAX,
					 (uint64_t)-1, (uint64_t)-32, (uint64_t)-33,
					 (uint64_t)-128, (uint64_t)-129, (uint64_t)-32768,
					 (uint64_t)-32769, (uint64_t)-(1ll << 31),
					 (uint64_t)-(1ll << 31) - 1, 1ull << 63};
	uint64_t e = edges[rnd() % (sizeof(edges) / sizeof(edges[0]))];

	switch (rnd() % 4) {
	case 0: return e;
	case 1: return e + (rnd() % 3) - 1;
	case 2: return rnd() >> (rnd() % 64);
	default: return rnd();
	}
}

/* A random event with seq; strings from strs. */
static void rnd_event(struct hb_rec *r, struct hb_event_view *ev, uint64_t seq,
		      uint64_t (*strs)[HB_STR_MAX / 8 + 1])
{
	static const uint32_t lens[] = {0, 1, 7, 8, 31, 32, 33, 64, 65, 255, 256, 1000, 1024};
	unsigned i;

	memset(r, 0, sizeof(*r));
	memset(ev, 0, sizeof(*ev));
	r->kind = HB_REC_EVENT;
	r->seq = seq;
	r->type = (uint16_t)rnd_int();
	r->prio = (uint8_t)rnd_int();
	ev->req = rnd() % 4 ? rnd_int() : 0;
	ev->nfields = (unsigned)(rnd() % (HB_MAX_FIELDS + 1));
	for (i = 0; i < ev->nfields; i++) {
		ev->tags[i] = (uint8_t)(1 + rnd() % HB_T_BYTES);
		ev->vals[i] = rnd_int();
		if (ev->tags[i] == HB_T_BOOL)
			ev->vals[i] &= 1;
		if (ev->tags[i] == HB_T_STR || ev->tags[i] == HB_T_BYTES) {
			ev->vals[i] = lens[rnd() % (sizeof(lens) / sizeof(lens[0]))];
			ev->ptrs[i] = strs[i];
		}
	}
}

/* A time at most 2^62 ns before or after prev, any distance inside that
 * (batches end at larger jumps: a_time_jump_beyond_a_signed_dt_...). */
static uint64_t rnd_step(uint64_t prev)
{
	int64_t d = rnd() % 2 ? (int64_t)(rnd() % 100000) : (int64_t)rnd_int() >> 1;
	uint64_t ts = prev + (uint64_t)d;

	return (d >= 0 ? ts < prev : ts > prev) ? prev : ts; /* no wrap past 0 */
}

/* Batches of 1 to 20 random events (so both array header forms), each
 * encoded directly from its record, as the collector does, and with
 * msgpack-c's packer as FORMAT.md states it. */
static void direct_event_encoder_matches_msgpack_c(void **state)
{
	static uint64_t strs[HB_MAX_FIELDS][HB_STR_MAX / 8 + 1];
	static char got[1 << 16], want[1 << 16];
	static uint64_t rec[HB_REC_COPY_MAX / 8];
	struct hbc_buf bg = {.data = got, .cap = sizeof(got)};
	struct hbc_buf bw = {.data = want, .cap = sizeof(want)};
	msgpack_packer pk;
	int k;

	(void)state;
	for (k = 0; k < 8; k++)
		for (size_t j = 0; j < sizeof(strs[k]) / 8; j++)
			strs[k][j] = rnd();
	hbc_packer_init(&pk, &bw);
	for (k = 0; k < 4000; k++) {
		uint32_t p = (uint32_t)rnd_int(), n = 1 + (uint32_t)(rnd() % 20), i;
		uint64_t seq0 = rnd_int() % (UINT64_MAX - 32), ts = rnd_int(), prev = ts;

		bg.len = bw.len = 0;
		msgpack_pack_array(&pk, 4 + n);
		msgpack_pack_int(&pk, 3);
		msgpack_pack_uint32(&pk, p);
		msgpack_pack_uint64(&pk, seq0);
		hbc_pack_ts(&pk, ts);
		for (i = 0; i < n; i++) {
			struct hb_rec r;
			struct hb_event_view ev;

			rnd_event(&r, &ev, seq0 + i, strs);
			r.prio %= HB_PRIO_URGENT + 1; /* else no ring holds it (hb_rec_check) */
			if (i)
				ts = rnd_step(prev);
			rec_of(rec, &r, &ev, rnd());
			assert_int_equal(hb_rec_check((const struct hb_rec *)rec, HB_REC_COPY_MAX), 0);
			hbc_enc_event(&bg, p, (const struct hb_rec *)rec, ts);
			ref_event(&pk, (int64_t)(ts - prev), &r, &ev);
			prev = ts;
		}
		hbc_buf_batch_end(&bg);
		assert_false(bg.overflow);
		assert_int_equal(bg.len, bw.len);
		assert_memory_equal(got, want, bw.len);
	}
}

static void a_full_buffer_reports_overflow(void **state)
{
	char data[8];
	struct hbc_buf b = {.data = data, .cap = sizeof(data)};
	msgpack_packer pk;

	(void)state;
	hbc_packer_init(&pk, &b);
	hbc_enc_end(&pk, 1, "hb-20261123T161305.123456789Z.msgpack");
	assert_true(b.overflow);
	assert_true(b.len <= b.cap);
}

static void an_event_that_does_not_fit_is_not_written(void **state)
{
	static uint64_t str[HB_STR_MAX / 8];
	char data[512];
	struct hbc_buf b = {.data = data, .cap = sizeof(data)};
	struct hb_event_view ev = {.nfields = 1, .tags = {HB_T_STR}, .vals = {HB_STR_MAX},
				   .ptrs = {str}};
	struct hb_rec r = {.kind = HB_REC_EVENT};
	static uint64_t rec[HB_REC_COPY_MAX / 8];

	(void)state;
	hbc_enc_event(&b, 1, rec_of(rec, &r, &ev, 0), 1);
	assert_true(b.overflow);
	assert_int_equal(b.len, 0);
	b.overflow = 0;
	ev.vals[0] = 100;
	hbc_enc_event(&b, 1, rec_of(rec, &r, &ev, 0), 1);
	assert_false(b.overflow);
	assert_true(b.len > 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sizes_and_durations_parse),
		cmocka_unit_test(file_names_round_trip_and_sort),
		cmocka_unit_test(timestamps_use_the_64_bit_form),
		cmocka_unit_test(counted_maps_are_msgpack_c_maps),
		cmocka_unit_test(events_encode_in_batches),
		cmocka_unit_test(a_batch_ends_at_a_gap_another_producer_or_another_object),
		cmocka_unit_test(a_batch_holds_at_most_HBC_BATCH_MAX_events),
		cmocka_unit_test(a_time_jump_beyond_a_signed_dt_starts_a_new_batch),
		cmocka_unit_test(heartbeats_carry_metrics_by_kind),
		cmocka_unit_test(bus_records_have_their_keys),
		cmocka_unit_test(strings_that_are_not_utf8_encode_as_bin),
		cmocka_unit_test(names_from_outside_are_escaped_to_printable_utf8),
		cmocka_unit_test(direct_event_encoder_matches_msgpack_c),
		cmocka_unit_test(a_full_buffer_reports_overflow),
		cmocka_unit_test(an_event_that_does_not_fit_is_not_written),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
