/* SPDX-License-Identifier: MIT */
/* The collector's sparse time index: fixed-size `index` records. */
#include "index.h"

#include <errno.h>
#include <msgpack.h>
#include <string.h>

void hbc_index_reset(struct hbc_index *x, uint64_t every, uint64_t from)
{
	memset(x, 0, sizeof(*x));
	x->every = every ? every : HBC_INDEX_EVERY;
	x->from = from;
}

int hbc_index_due(const struct hbc_index *x, uint64_t off)
{
	return x->n > 0 && off - x->from >= x->every;
}

struct hbc_index_buf {
	char *p;
	size_t len, cap;
};

static int hbc_index_write(void *data, const char *buf, size_t len)
{
	struct hbc_index_buf *b = data;

	if (b->len + len > b->cap)
		return -1;
	memcpy(b->p + b->len, buf, len);
	b->len += len;
	return 0;
}

/* Always the 64-bit timestamp form (fixext 8), so the size never varies:
 * 30 bits of nanoseconds above 34 bits of seconds, big endian. */
static void hbc_index_pack_ts(msgpack_packer *pk, uint64_t ns)
{
	uint64_t sec = ns / 1000000000u, v;
	char be[8];
	int i;

	if (sec >= (1ull << 34))
		sec = (1ull << 34) - 1;
	v = ((ns % 1000000000u) << 34) | sec;
	for (i = 0; i < 8; i++)
		be[i] = (char)(v >> (56 - 8 * i));
	msgpack_pack_ext(pk, 8, -1);
	msgpack_pack_ext_body(pk, be, 8);
}

static void hbc_index_pack_key(msgpack_packer *pk, const char *k)
{
	msgpack_pack_str(pk, strlen(k));
	msgpack_pack_str_body(pk, k, strlen(k));
}

int hbc_index_encode(struct hbc_index *x, uint64_t off, uint64_t now_ns, void *buf, size_t cap)
{
	struct hbc_index_buf b = {.p = buf, .cap = cap};
	msgpack_packer pk;

	if (!x->n)
		return 0;
	if (cap < HBC_INDEX_REC_SIZE)
		return -ENOBUFS;
	msgpack_packer_init(&pk, &b, hbc_index_write);
	msgpack_pack_map(&pk, 9);
	hbc_index_pack_key(&pk, "k");
	hbc_index_pack_key(&pk, "index");
	hbc_index_pack_key(&pk, "ts");
	hbc_index_pack_ts(&pk, now_ns);
	hbc_index_pack_key(&pk, "at");
	msgpack_pack_fix_uint64(&pk, off);
	hbc_index_pack_key(&pk, "prev");
	msgpack_pack_fix_uint64(&pk, x->prev);
	hbc_index_pack_key(&pk, "from");
	msgpack_pack_fix_uint64(&pk, x->from);
	hbc_index_pack_key(&pk, "ts_min");
	hbc_index_pack_ts(&pk, x->ts_min);
	hbc_index_pack_key(&pk, "ts_max");
	hbc_index_pack_ts(&pk, x->ts_max);
	hbc_index_pack_key(&pk, "n");
	msgpack_pack_fix_uint64(&pk, x->n);
	hbc_index_pack_key(&pk, "meta");
	msgpack_pack_fix_uint64(&pk, x->meta);
	if (b.len != HBC_INDEX_REC_SIZE)
		return -EPROTO; /* the layout above and the constant disagree */
	x->prev = off;
	x->from = off + HBC_INDEX_REC_SIZE;
	x->n = x->meta = x->ts_min = x->ts_max = 0;
	return HBC_INDEX_REC_SIZE;
}
