/* SPDX-License-Identifier: MIT */
/* hbsink writes an event or heartbeat of a fleet message from its bytes
 * with only its producer number replaced (hbf_pack_rec_raw): the result
 * decodes to what packing the decoded record (hbf_pack_rec) gives, whatever
 * integer forms the sender used for its kind and producer number. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fleet.h"

#include <errno.h>
#include <string.h>

/* An event [k, p, seq, ts, dt-less fields...] with k and p in the given
 * forms (the bytes after the array header), then seq 7, a timestamp, an
 * int, a str and a float. */
static size_t rec_make(uint8_t *out, const uint8_t *kp, size_t kplen)
{
	static const uint8_t rest[] = {
		0x07,                                                 /* seq 7 */
		0xd7, 0xff, 0, 0, 0, 0, 0x69, 0x50, 0x2e, 0x80,       /* timestamp */
		0xd1, 0xff, 0x38,                                     /* int16 -200 */
		0xa3, 'a', 'b', 'c',                                  /* "abc" */
		0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0,                   /* 1.5 */
	};
	size_t n = 0;

	out[n++] = 0x97; /* 7 elements */
	memcpy(out + n, kp, kplen);
	n += kplen;
	memcpy(out + n, rest, sizeof(rest));
	return n + sizeof(rest);
}

/* raw, with p replaced by 300 both ways, decodes to equal objects */
static void raw_matches_decoded(const uint8_t *raw, size_t n)
{
	msgpack_sbuffer a, b;
	msgpack_packer pa, pb;
	msgpack_zone z;
	msgpack_object in, oa, ob;
	size_t off = 0, offa = 0, offb = 0;

	msgpack_sbuffer_init(&a);
	msgpack_sbuffer_init(&b);
	msgpack_packer_init(&pa, &a, msgpack_sbuffer_write);
	msgpack_packer_init(&pb, &b, msgpack_sbuffer_write);
	msgpack_zone_init(&z, 4096);
	assert_int_equal(msgpack_unpack((const char *)raw, n, &off, &z, &in), MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(off, n);
	assert_int_equal(hbf_pack_rec_raw(&pa, (const char *)raw, n, 300), 0);
	hbf_pack_rec(&pb, &in, 300, 0, 0);
	assert_int_equal(msgpack_unpack(a.data, a.size, &offa, &z, &oa), MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(offa, a.size);
	assert_int_equal(msgpack_unpack(b.data, b.size, &offb, &z, &ob), MSGPACK_UNPACK_SUCCESS);
	assert_true(msgpack_object_equal(oa, ob));
	assert_int_equal(oa.via.array.ptr[1].via.u64, 300);
	assert_int_equal(oa.via.array.ptr[0].via.u64, 1);
	assert_int_equal(oa.via.array.ptr[2].via.u64, 7);
	msgpack_zone_destroy(&z);
	msgpack_sbuffer_destroy(&a);
	msgpack_sbuffer_destroy(&b);
}

static void producer_number_replaced_in_every_form(void **state)
{
	static const struct {
		uint8_t b[16];
		size_t n;
	} kps[] = {
		{{0x01, 0x05}, 2},                                   /* fixints */
		{{0xcc, 0x01, 0xcc, 0x05}, 4},                       /* uint 8 */
		{{0x01, 0xcd, 0x01, 0x00}, 4},                       /* p uint 16 */
		{{0xd0, 0x01, 0xd2, 0, 0, 0, 5}, 7},                 /* int 8, int 32 */
		{{0x01, 0xcf, 0, 0, 0, 0, 0, 0, 0, 5}, 10},          /* p uint 64 */
		{{0xd3, 0, 0, 0, 0, 0, 0, 0, 1, 0xce, 0, 1, 0, 0}, 14}, /* int 64, uint 32 */
	};
	uint8_t raw[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(kps) / sizeof(kps[0]); i++)
		raw_matches_decoded(raw, rec_make(raw, kps[i].b, kps[i].n));
}

static void unknown_forms_refused_whole(void **state)
{
	static const uint8_t map[] = {0x81, 0xa1, 'k', 0x01};
	static const uint8_t str_k[] = {0x93, 0xa1, 'x', 0x05, 0x07};
	static const uint8_t short_rec[] = {0x92, 0x01};
	msgpack_sbuffer a;
	msgpack_packer pa;

	(void)state;
	msgpack_sbuffer_init(&a);
	msgpack_packer_init(&pa, &a, msgpack_sbuffer_write);
	assert_int_equal(hbf_pack_rec_raw(&pa, (const char *)map, sizeof(map), 3), -EINVAL);
	assert_int_equal(hbf_pack_rec_raw(&pa, (const char *)str_k, sizeof(str_k), 3), -EINVAL);
	assert_int_equal(hbf_pack_rec_raw(&pa, (const char *)short_rec, sizeof(short_rec), 3), -EINVAL);
	assert_int_equal(hbf_pack_rec_raw(&pa, NULL, 0, 3), -EINVAL);
	assert_int_equal(a.size, 0); /* nothing packed */
	msgpack_sbuffer_destroy(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(producer_number_replaced_in_every_form),
		cmocka_unit_test(unknown_forms_refused_whole),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
