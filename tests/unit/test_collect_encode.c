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

	msgpack_unpacked_init(u);
	assert_int_equal(msgpack_unpack_next(u, b->data, b->len, &off), MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(off, b->len); /* exactly one object */
	return u->data;
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

static const struct hb_rec *next_rec(struct hb_ring_view *v)
{
	const struct hb_rec *r = NULL;

	assert_int_equal(hb_ring_view_next(v, &r), 1);
	return r;
}

static void events_encode_as_arrays(void **state)
{
	static const struct hb_field f[] = {
		{"n", HB_T_I64}, {"px", HB_T_F64}, {"sym", HB_T_STR},
		{"b", HB_T_BYTES}, {"ok", HB_T_BOOL}, {"q", HB_T_U64}};
	char data[4096];
	struct hbc_buf b = {.data = data, .cap = sizeof(data)};
	struct hb_producer p = open_ring();
	struct hb_event_view ev;
	struct hb_ring_view v;
	const struct hb_rec *r;
	msgpack_packer pk;
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
	r = next_rec(&v);
	assert_int_equal(hb_event_decode(r, &ev), 0);
	hbc_packer_init(&pk, &b);
	hbc_enc_event(&b, 3, r, 1795450385123456789ull, &ev);
	o = unpack_one(&b, &u);
	assert_int_equal(o.type, MSGPACK_OBJECT_ARRAY);
	assert_int_equal(o.via.array.size, 13);
	assert_int_equal(o.via.array.ptr[0].via.u64, 1);
	assert_int_equal(o.via.array.ptr[1].via.u64, 3);
	assert_int_equal(o.via.array.ptr[2].via.u64, 0);
	assert_int_equal(o.via.array.ptr[3].type, MSGPACK_OBJECT_EXT);
	assert_int_equal(o.via.array.ptr[4].via.u64, (uint64_t)t);
	assert_int_equal(o.via.array.ptr[5].via.u64, HB_PRIO_HIGH);
	assert_int_equal(o.via.array.ptr[6].via.u64, 42);
	assert_int_equal(o.via.array.ptr[7].via.i64, -5);
	assert_true(o.via.array.ptr[8].type == MSGPACK_OBJECT_FLOAT64 &&
		    o.via.array.ptr[8].via.f64 == 2.5);
	assert_int_equal(o.via.array.ptr[9].type, MSGPACK_OBJECT_STR);
	assert_memory_equal(o.via.array.ptr[9].via.str.ptr, "s5", 2);
	assert_int_equal(o.via.array.ptr[10].type, MSGPACK_OBJECT_BIN);
	assert_int_equal(o.via.array.ptr[10].via.bin.size, 2);
	assert_true(o.via.array.ptr[11].type == MSGPACK_OBJECT_BOOLEAN &&
		    o.via.array.ptr[11].via.boolean);
	assert_int_equal(o.via.array.ptr[12].via.u64, 1ull << 63);
	msgpack_unpacked_destroy(&u);

	r = next_rec(&v); /* no request id: nil */
	assert_int_equal(hb_event_decode(r, &ev), 0);
	b.len = 0;
	hbc_enc_event(&b, 3, r, 1, &ev);
	o = unpack_one(&b, &u);
	assert_int_equal(o.via.array.size, 8);
	assert_int_equal(o.via.array.ptr[2].via.u64, 1);
	assert_int_equal(o.via.array.ptr[6].type, MSGPACK_OBJECT_NIL);
	msgpack_unpacked_destroy(&u);
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
	struct hb_event_view ev;
	struct hb_ring_view v;
	const struct hb_rec *r;
	msgpack_packer pk;
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
	assert_int_equal(hb_event_decode(r, &ev), 0);
	hbc_packer_init(&pk, &b);
	hbc_enc_event(&b, 1, r, 1, &ev);
	o = unpack_one(&b, &u);
	assert_int_equal(o.via.array.size, 10);
	assert_int_equal(o.via.array.ptr[7].type, MSGPACK_OBJECT_STR);
	assert_int_equal(o.via.array.ptr[8].type, MSGPACK_OBJECT_STR);
	assert_int_equal(o.via.array.ptr[8].via.str.size, 5);
	assert_int_equal(o.via.array.ptr[9].type, MSGPACK_OBJECT_BIN);
	assert_int_equal(o.via.array.ptr[9].via.bin.size, 5);
	assert_memory_equal(o.via.array.ptr[9].via.bin.ptr, "bad\xff\xc3", 5);
	msgpack_unpacked_destroy(&u);
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

static void ref_event(msgpack_packer *pk, uint32_t p, const struct hb_rec *r, uint64_t ts_ns,
		      const struct hb_event_view *ev)
{
	unsigned i;

	msgpack_pack_array(pk, 7 + ev->nfields);
	msgpack_pack_int(pk, 1);
	msgpack_pack_uint32(pk, p);
	msgpack_pack_uint64(pk, r->seq);
	hbc_pack_ts(pk, ts_ns);
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

static void direct_event_encoder_matches_msgpack_c(void **state)
{
	static const uint32_t lens[] = {0, 1, 7, 8, 31, 32, 33, 64, 65, 255, 256, 1000, 1024};
	static uint64_t strs[HB_MAX_FIELDS][HB_STR_MAX / 8 + 1];
	static char got[16384], want[16384];
	struct hbc_buf bg = {.data = got, .cap = sizeof(got)};
	struct hbc_buf bw = {.data = want, .cap = sizeof(want)};
	msgpack_packer pk;
	int k;

	(void)state;
	for (k = 0; k < 8; k++)
		for (size_t j = 0; j < sizeof(strs[k]) / 8; j++)
			strs[k][j] = rnd();
	hbc_packer_init(&pk, &bw);
	for (k = 0; k < 20000; k++) {
		struct hb_rec r = {.kind = HB_REC_EVENT};
		struct hb_event_view ev;
		uint64_t ts = rnd_int();
		uint32_t p = (uint32_t)rnd_int();
		unsigned i;

		memset(&ev, 0, sizeof(ev));
		r.seq = rnd_int();
		r.type = (uint16_t)rnd_int();
		r.prio = (uint8_t)rnd_int();
		ev.req = rnd() % 4 ? rnd_int() : 0;
		ev.nfields = (unsigned)(rnd() % (HB_MAX_FIELDS + 1));
		for (i = 0; i < ev.nfields; i++) {
			ev.tags[i] = (uint8_t)(1 + rnd() % HB_T_BYTES);
			ev.vals[i] = rnd_int();
			if (ev.tags[i] == HB_T_BOOL)
				ev.vals[i] &= 1;
			if (ev.tags[i] == HB_T_STR || ev.tags[i] == HB_T_BYTES) {
				ev.vals[i] = lens[rnd() % (sizeof(lens) / sizeof(lens[0]))];
				ev.ptrs[i] = strs[i];
			}
		}
		bg.len = bw.len = 0;
		hbc_enc_event(&bg, p, &r, ts, &ev);
		ref_event(&pk, p, &r, ts, &ev);
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

	(void)state;
	hbc_enc_event(&b, 1, &r, 1, &ev);
	assert_true(b.overflow);
	assert_int_equal(b.len, 0);
	b.overflow = 0;
	ev.vals[0] = 100;
	hbc_enc_event(&b, 1, &r, 1, &ev);
	assert_false(b.overflow);
	assert_true(b.len > 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sizes_and_durations_parse),
		cmocka_unit_test(file_names_round_trip_and_sort),
		cmocka_unit_test(timestamps_use_the_64_bit_form),
		cmocka_unit_test(events_encode_as_arrays),
		cmocka_unit_test(heartbeats_carry_metrics_by_kind),
		cmocka_unit_test(bus_records_have_their_keys),
		cmocka_unit_test(strings_that_are_not_utf8_encode_as_bin),
		cmocka_unit_test(direct_event_encoder_matches_msgpack_c),
		cmocka_unit_test(a_full_buffer_reports_overflow),
		cmocka_unit_test(an_event_that_does_not_fit_is_not_written),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
