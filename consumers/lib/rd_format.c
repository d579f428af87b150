/* SPDX-License-Identifier: MIT */
/*
 * rd_format.c - records as JSON lines and text lines (hbcat's formats).
 * Written for throughput: a record is formatted into the caller's buffer
 * (hb_rd_format_*) or into one on the stack handed to stdio with one fwrite
 * (hb_rd_print_*); numbers, times and most
 * doubles are formatted by hand (rd_fmt.h), printf only for the doubles
 * the fast path cannot prove shortest.
 */
#include "rd_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hb.h"
#include "rd_fmt.h"

#define C_RESET "\033[0m"

/* ---- output buffer ------------------------------------------------------ */

#define OB_CAP 8192

/* Bytes of one record: in a buffer on the stack, flushed to a FILE when
 * full and at the end (f set), or in a caller's buffer (f NULL), where
 * what does not fit is only counted. */
struct ob {
	FILE *f;
	char *b;
	size_t len, cap;
	size_t over; /* caller's buffer: bytes that did not fit */
	char st[OB_CAP];
};

/* Not the buffer: clearing 8 KiB a record would show. */
static inline void ob_init(struct ob *o, FILE *f)
{
	o->f = f;
	o->b = o->st;
	o->len = 0;
	o->cap = OB_CAP;
	o->over = 0;
}

static void ob_flush(struct ob *o)
{
	if (o->f && o->len)
		fwrite_unlocked(o->b, 1, o->len, o->f);
	o->over += o->f ? 0 : o->len;
	o->len = 0;
}

/* Room for n more bytes (n <= 64); returns where they go. */
static inline char *ob_room(struct ob *o, size_t n)
{
	if (__builtin_expect(o->len + n > o->cap, 0))
		ob_flush(o);
	return o->b + o->len;
}

/* memcpy without the call for the short names and values of records:
 * two overlapping loads and stores cover 1 to 16 bytes. */
static inline void copy_short(char *d, const char *s, size_t n)
{
	uint64_t a, b;
	uint32_t x, y;

	if (n >= 8 && n <= 16) {
		memcpy(&a, s, 8);
		memcpy(&b, s + n - 8, 8);
		memcpy(d, &a, 8);
		memcpy(d + n - 8, &b, 8);
	} else if (n >= 4 && n < 8) {
		memcpy(&x, s, 4);
		memcpy(&y, s + n - 4, 4);
		memcpy(d, &x, 4);
		memcpy(d + n - 4, &y, 4);
	} else if (n && n < 4) {
		d[0] = s[0];
		d[n / 2] = s[n / 2];
		d[n - 1] = s[n - 1];
	} else if (n) {
		memcpy(d, s, n);
	}
}

static inline void out_n(struct ob *o, const char *s, size_t n)
{
	if (n > o->cap / 2) {
		if (!o->f && !o->over && o->len + n <= o->cap) {
			memcpy(o->b + o->len, s, n); /* fits the caller's buffer */
			o->len += n;
			return;
		}
		ob_flush(o);
		if (o->f)
			fwrite_unlocked(s, 1, n, o->f);
		else
			o->over += n;
		return;
	}
	copy_short(ob_room(o, n), s, n);
	o->len += n;
}

static inline void out_s(struct ob *o, const char *s)
{
	out_n(o, s, strlen(s));
}

#define out_lit(o, s) out_n(o, s, sizeof(s) - 1)

static inline void out_c(struct ob *o, char c)
{
	*ob_room(o, 1) = c;
	o->len++;
}

static inline __attribute__((always_inline)) void out_u64(struct ob *o, uint64_t v)
{
	o->len += rd_fmt_u64(ob_room(o, 20), v);
}

static void out_i64(struct ob *o, int64_t v)
{
	if (v < 0) {
		out_c(o, '-');
		out_u64(o, (uint64_t)0 - (uint64_t)v);
	} else {
		out_u64(o, (uint64_t)v);
	}
}

static void out_double(struct ob *o, double d, int json)
{
	if (json && !isfinite(d)) {
		out_lit(o, "null");
		return;
	}
	o->len += (size_t)hb_rd_fmt_double(ob_room(o, 40), d);
}

static inline void out_time(struct ob *o, uint64_t ns)
{
	rd_fmt_time(ob_room(o, 30), ns);
	o->len += 30;
}

/* ---- public single-token helpers ------------------------------------------ */

int hb_rd_fmt_double(char *buf, double d)
{
	int n = rd_fmt_double_fast(buf, d);

	if (n)
		return n;
	for (int prec = 15; prec <= 17; prec++) {
		n = snprintf(buf, 32, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	if (isfinite(d) && !strpbrk(buf, ".eE")) {
		memcpy(buf + n, ".0", 3);
		n += 2;
	}
	return n;
}

/* ---- values ---------------------------------------------------------------- */

/* True when one of the 8 bytes of x is below 0x20, '"', '\\' or not ASCII
 * (the usual bit tricks; exact as a yes/no answer). */
static inline bool json_esc8(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ull, high = ones << 7;
	uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');

	return ((((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b)) & high) ||
	       (x & high);
}

static inline bool json_esc(unsigned char c)
{
	return c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
}


static void out_json_esc(struct ob *o, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char *p = ob_room(o, 6);

	p[0] = '\\';
	if (c == '"' || c == '\\') {
		p[1] = (char)c;
	} else if (c == '\n') {
		p[1] = 'n';
	} else if (c == '\t') {
		p[1] = 't';
	} else if (c == '\r') {
		p[1] = 'r';
	} else {
		memcpy(p + 1, "u00", 3);
		p[4] = hex[c >> 4];
		p[5] = hex[c & 15];
		o->len += 4;
	}
	o->len += 2;
}

/* True when one of the n <= 16 bytes at s needs escaping (json_esc8 on
 * overlapping words of the string's own bytes, padded with 'a'). */
static inline bool json_esc16(const char *s, size_t n)
{
	uint64_t a, b;
	uint32_t x, y;

	if (n >= 8) {
		memcpy(&a, s, 8);
		memcpy(&b, s + n - 8, 8);
		return json_esc8(a) || json_esc8(b);
	}
	if (n >= 4) {
		memcpy(&x, s, 4);
		memcpy(&y, s + n - 4, 4);
		return json_esc8((uint64_t)x | (uint64_t)y << 32);
	}
	if (!n)
		return false;
	a = (unsigned char)s[0] | (uint64_t)(unsigned char)s[n / 2] << 8 |
	    (uint64_t)(unsigned char)s[n - 1] << 16 | 0x6161616161000000ull;
	return json_esc8(a);
}

static void out_json_str(struct ob *o, const char *s, size_t n)
{
	size_t i = 0, run = 0;
	uint64_t x;

	if (n <= 16 && !json_esc16(s, n)) { /* most names and values */
		char *p = ob_room(o, n + 2);
		p[0] = '"';
		copy_short(p + 1, s, n);
		p[n + 1] = '"';
		o->len += n + 2;
		return;
	}
	out_c(o, '"');
	while (i < n) {
		if (n - i >= 8) {
			memcpy(&x, s + i, 8);
			if (!json_esc8(x)) {
				i += 8;
				continue;
			}
		}
		if (!json_esc((unsigned char)s[i])) {
			i++;
			continue;
		}
		if ((unsigned char)s[i] >= 0x80) {
			size_t u = hb_utf8_len(s + i, n - i);

			if (u) { /* well-formed: copied as it is */
				i += u;
				continue;
			}
			out_n(o, s + run, i - run);
			out_n(o, "\\ufffd", 6); /* not UTF-8: the replacement character */
			run = ++i;
			continue;
		}
		out_n(o, s + run, i - run);
		out_json_esc(o, (unsigned char)s[i]);
		run = ++i;
	}
	out_n(o, s + run, n - run);
	out_c(o, '"');
}

static void out_base64(struct ob *o, const unsigned char *p, size_t n)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	out_c(o, '"');
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		char *d = ob_room(o, 4);
		d[0] = t[v >> 18 & 63];
		d[1] = t[v >> 12 & 63];
		d[2] = i + 1 < n ? t[v >> 6 & 63] : '=';
		d[3] = i + 2 < n ? t[v & 63] : '=';
		o->len += 4;
	}
	out_c(o, '"');
}

static void out_hex(struct ob *o, const unsigned char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	out_lit(o, "0x");
	for (size_t i = 0; i < n; i++) {
		char *d = ob_room(o, 2);
		d[0] = hex[p[i] >> 4];
		d[1] = hex[p[i] & 15];
		o->len += 2;
	}
}

/* Scalars shared by both formats; false if v is a container or ext. */
static bool out_scalar(struct ob *o, const msgpack_object *v, int json)
{
	switch (v->type) {
	case MSGPACK_OBJECT_NIL:
		out_lit(o, "null");
		return true;
	case MSGPACK_OBJECT_BOOLEAN:
		if (v->via.boolean)
			out_lit(o, "true");
		else
			out_lit(o, "false");
		return true;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		out_u64(o, v->via.u64);
		return true;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		out_i64(o, v->via.i64);
		return true;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		out_double(o, v->via.f64, json);
		return true;
	case MSGPACK_OBJECT_STR:
		out_json_str(o, v->via.str.ptr, v->via.str.size);
		return true;
	case MSGPACK_OBJECT_BIN:
		if (json)
			out_base64(o, (const unsigned char *)v->via.bin.ptr, v->via.bin.size);
		else
			out_hex(o, (const unsigned char *)v->via.bin.ptr, v->via.bin.size);
		return true;
	default:
		return false;
	}
}

static void out_json_obj(struct ob *o, const msgpack_object *v)
{
	uint64_t ns;

	if (out_scalar(o, v, 1))
		return;
	if (v->type == MSGPACK_OBJECT_ARRAY) {
		out_c(o, '[');
		for (uint32_t i = 0; i < v->via.array.size; i++) {
			if (i)
				out_c(o, ',');
			out_json_obj(o, &v->via.array.ptr[i]);
		}
		out_c(o, ']');
	} else if (v->type == MSGPACK_OBJECT_MAP) {
		out_c(o, '{');
		for (uint32_t i = 0; i < v->via.map.size; i++) {
			const msgpack_object *k = &v->via.map.ptr[i].key;
			if (i)
				out_c(o, ',');
			if (k->type == MSGPACK_OBJECT_STR)
				out_json_str(o, k->via.str.ptr, k->via.str.size);
			else {
				out_c(o, '"');
				out_json_obj(o, k);
				out_c(o, '"');
			}
			out_c(o, ':');
			out_json_obj(o, &v->via.map.ptr[i].val);
		}
		out_c(o, '}');
	} else if (v->type == MSGPACK_OBJECT_EXT && hb_rd_obj_time(v, &ns) == 0) {
		out_c(o, '"');
		out_time(o, ns);
		out_c(o, '"');
	} else {
		out_lit(o, "null");
	}
}

void hb_rd_print_json_str(FILE *f, const char *s, size_t n)
{
	struct ob o;

	ob_init(&o, f);
	out_json_str(&o, s, n);
	ob_flush(&o);
}

/* ---- shared pieces ----------------------------------------------------- */

static uint64_t rec_p(const struct hb_rd_record *rec)
{
	const msgpack_object *p;

	if (rec->obj->type == MSGPACK_OBJECT_ARRAY)
		return rec->obj->via.array.ptr[1].via.u64;
	p = hb_rd_map_get(rec->obj, "p");
	return p && p->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? p->via.u64 : 0;
}

/* Name lengths the reader measured, else measured here. */
static inline size_t name_len(const char *s, uint32_t len)
{
	return len ? len : strlen(s);
}

static __attribute__((noinline)) const char *field_num(uint32_t i, char *tmp, size_t *len)
{
	*len = (size_t)snprintf(tmp, 16, "%u", i);
	return tmp;
}

static inline const char *field_name(const struct hb_rd_record *rec, uint32_t i, char *tmp,
				     size_t *len)
{
	const struct hb_rd_type *t = rec->type;

	if (!t || i >= t->nfields)
		return field_num(i, tmp, len);
	*len = name_len(t->fields[i], t->field_lens ? t->field_lens[i] : 0);
	return t->fields[i];
}

static void out_prio(struct ob *o, int prio)
{
	if (prio >= 0 && prio <= 3)
		out_n(o, rd_prios[prio].s, rd_prios[prio].len);
	else
		out_s(o, hb_prio_name(prio));
}

/* A producer or type name, its length known to the reader or measured. */
static inline void out_name(struct ob *o, const char *s, uint32_t len, int json)
{
	size_t n = name_len(s, len);

	if (json)
		out_json_str(o, s, n);
	else
		out_n(o, s, n);
}

static uint32_t rec_nfields(const struct hb_rd_record *rec)
{
	if (rec->type && rec->type->nfields < rec->nvals)
		return rec->type->nfields;
	return rec->nvals;
}

static const char *metric_name(const struct hb_rd_record *rec, uint32_t i, char *tmp, int *kind)
{
	const struct hb_rd_producer *pr = rec->producer;

	*kind = 0;
	if (pr && i < pr->nmetrics && pr->metrics[i].name) {
		*kind = pr->metrics[i].kind;
		return pr->metrics[i].name;
	}
	snprintf(tmp, 16, "m%u", i);
	return tmp;
}

static bool is_timing(const msgpack_object *v, int kind)
{
	return v->type == MSGPACK_OBJECT_ARRAY && v->via.array.size >= 3 &&
	       (kind == HB_METRIC_TIMING || kind == 0);
}

/* ---- JSON lines -------------------------------------------------------- */

static void json_head(struct ob *o, const struct hb_rd_record *rec, const char *k)
{
	out_lit(o, "{\"k\":\"");
	out_s(o, k);
	out_lit(o, "\",\"p\":");
	out_u64(o, rec_p(rec));
	out_lit(o, ",\"producer\":");
	if (rec->producer) {
		out_name(o, rec->producer->name, rec->producer->name_len, 1);
		out_lit(o, ",\"pid\":");
		out_u64(o, rec->producer->pid);
		out_lit(o, ",\"host\":");
		out_name(o, rec->producer->host, 0, 1);
	} else {
		out_lit(o, "null,\"pid\":null,\"host\":null");
	}
	out_lit(o, ",\"seq\":");
	out_u64(o, rec->seq);
	out_lit(o, ",\"ts\":\"");
	out_time(o, rec->ts_ns);
	out_lit(o, "\",\"ts_ns\":");
	out_u64(o, rec->ts_ns);
}

static void json_event(struct ob *o, const struct hb_rd_record *rec)
{
	char tmp[16];

	json_head(o, rec, "event");
	out_lit(o, ",\"type\":");
	if (rec->type) {
		out_name(o, rec->type->name, rec->type->name_len, 1);
	} else {
		out_lit(o, "null,\"type_id\":");
		out_u64(o, (uint64_t)rec->type_id);
	}
	out_lit(o, ",\"prio\":\"");
	out_prio(o, rec->prio);
	out_lit(o, "\",\"req\":");
	if (rec->has_req)
		out_u64(o, rec->req);
	else
		out_lit(o, "null");
	out_lit(o, ",\"fields\":{");
	for (uint32_t i = 0, n = rec_nfields(rec); i < n; i++) {
		size_t len;
		const char *name = field_name(rec, i, tmp, &len);
		if (i)
			out_c(o, ',');
		out_json_str(o, name, len);
		out_c(o, ':');
		out_json_obj(o, &rec->vals[i]);
	}
	out_lit(o, "}}\n");
}

static void json_heartbeat(struct ob *o, const struct hb_rd_record *rec)
{
	char tmp[16];
	int kind;

	json_head(o, rec, "heartbeat");
	out_lit(o, ",\"status\":");
	out_json_str(o, rec->status, strlen(rec->status));
	out_lit(o, ",\"count\":");
	out_u64(o, rec->hb_count);
	out_lit(o, ",\"interval_ms\":");
	out_u64(o, rec->interval_ms);
	out_lit(o, ",\"metrics\":");
	if (!rec->metrics) {
		out_lit(o, "null}\n");
		return;
	}
	out_c(o, '{');
	for (uint32_t i = 0; i < rec->metrics->via.array.size; i++) {
		const msgpack_object *v = &rec->metrics->via.array.ptr[i];
		const char *name = metric_name(rec, i, tmp, &kind);
		if (i)
			out_c(o, ',');
		out_json_str(o, name, strlen(name));
		out_c(o, ':');
		if (is_timing(v, kind)) {
			out_lit(o, "{\"count\":");
			out_json_obj(o, &v->via.array.ptr[0]);
			out_lit(o, ",\"sum_ns\":");
			out_json_obj(o, &v->via.array.ptr[1]);
			out_lit(o, ",\"max_ns\":");
			out_json_obj(o, &v->via.array.ptr[2]);
			out_c(o, '}');
		} else {
			out_json_obj(o, v);
		}
	}
	out_lit(o, "}}\n");
}

static void json_bus(struct ob *o, const struct hb_rd_record *rec)
{
	const msgpack_object *m = rec->obj;

	out_c(o, '{');
	for (uint32_t i = 0; i < m->via.map.size; i++) {
		const msgpack_object *k = &m->via.map.ptr[i].key;
		const msgpack_object *v = &m->via.map.ptr[i].val;
		if (i)
			out_c(o, ',');
		out_json_obj(o, k);
		out_c(o, ':');
		out_json_obj(o, v);
		if (k->type != MSGPACK_OBJECT_STR)
			continue;
		if (k->via.str.size == 1 && k->via.str.ptr[0] == 'p') {
			out_lit(o, ",\"producer\":");
			if (rec->producer)
				out_name(o, rec->producer->name, rec->producer->name_len, 1);
			else
				out_lit(o, "null");
			if (rec->producer && !hb_rd_map_get(m, "host")) {
				out_lit(o, ",\"host\":");
				out_name(o, rec->producer->host, 0, 1);
			}
		} else if (k->via.str.size == 2 && memcmp(k->via.str.ptr, "ts", 2) == 0) {
			out_lit(o, ",\"ts_ns\":");
			out_u64(o, rec->ts_ns);
		}
	}
	out_lit(o, "}\n");
}

static void json_record(struct ob *o, const struct hb_rd_record *rec)
{
	if (rec->kind == HB_RD_EVENT)
		json_event(o, rec);
	else if (rec->kind == HB_RD_HEARTBEAT)
		json_heartbeat(o, rec);
	else
		json_bus(o, rec);
}

void hb_rd_print_json(FILE *f, const struct hb_rd_record *rec)
{
	struct ob o;

	ob_init(&o, f);
	json_record(&o, rec);
	ob_flush(&o);
}

/* A record into the caller's buffer: its length. Room is reserved for
 * the longest form of each token, so near the end of a buffer long enough
 * for the record a reservation may spill (over > 0, the bytes lost): the
 * record is then made again in a buffer with room to spare and copied. */
static size_t ob_format(char *buf, size_t len, const struct hb_rd_record *rec, int flags,
			void (*fmt)(struct ob *, const struct hb_rd_record *, int))
{
	struct ob o;
	size_t n;

	ob_init(&o, NULL);
	o.b = buf;
	o.cap = len;
	fmt(&o, rec, flags);
	n = o.over + o.len;
	if (!o.over || n > len)
		return n;
	ob_init(&o, NULL);
	o.cap = n + 128;
	o.b = malloc(o.cap);
	if (!o.b)
		return n + 1; /* reads as "more room", which will do */
	fmt(&o, rec, flags);
	memcpy(buf, o.b, o.len);
	free(o.b);
	return o.len;
}

static void json_record_fmt(struct ob *o, const struct hb_rd_record *rec, int flags)
{
	(void)flags;
	json_record(o, rec);
}

size_t hb_rd_format_json(char *buf, size_t len, const struct hb_rd_record *rec)
{
	return ob_format(buf, len, rec, 0, json_record_fmt);
}

/* ---- text lines -------------------------------------------------------- */

static const char *text_color(const struct hb_rd_record *rec)
{
	static const char *const prio[] = {"\033[2m", "", "\033[33m", "\033[1;31m"};

	if (rec->kind == HB_RD_EVENT)
		return rec->prio >= 0 && rec->prio <= 3 ? prio[rec->prio] : "";
	if (rec->kind == HB_RD_HEARTBEAT)
		return "\033[36m";
	return "\033[35m";
}

/* A bare word stays unquoted in text (bus record values). */
static bool text_word(const msgpack_object *v)
{
	if (v->type != MSGPACK_OBJECT_STR || v->via.str.size == 0)
		return false;
	for (uint32_t i = 0; i < v->via.str.size; i++) {
		unsigned char c = (unsigned char)v->via.str.ptr[i];
		if (c <= ' ' || c == '"' || c == '\\' || c == '=' || c >= 0x7f)
			return false;
	}
	return true;
}

static void text_val(struct ob *o, const msgpack_object *v, bool bare)
{
	if (bare && text_word(v))
		out_n(o, v->via.str.ptr, v->via.str.size);
	else if (!out_scalar(o, v, 0))
		out_json_obj(o, v);
}

static void text_who(struct ob *o, const struct hb_rd_record *rec)
{
	if (rec->producer) {
		out_name(o, rec->producer->name, rec->producer->name_len, 0);
		out_c(o, '[');
		out_u64(o, rec->producer->pid);
		out_lit(o, "] ");
	} else if (rec->kind != HB_RD_BUS && rec->kind != HB_RD_HEADER) {
		out_c(o, 'p');
		out_u64(o, rec_p(rec));
		out_lit(o, "[?] ");
	}
}

static void text_event(struct ob *o, const struct hb_rd_record *rec)
{
	char tmp[16];

	out_prio(o, rec->prio);
	out_c(o, ' ');
	if (rec->type) {
		out_name(o, rec->type->name, rec->type->name_len, 0);
	} else {
		out_lit(o, "type#");
		out_u64(o, (uint64_t)rec->type_id);
	}
	if (rec->has_req) {
		out_lit(o, " req=");
		out_u64(o, rec->req);
	}
	for (uint32_t i = 0, n = rec_nfields(rec); i < n; i++) {
		size_t len;
		const char *name = field_name(rec, i, tmp, &len);
		out_c(o, ' ');
		out_n(o, name, len);
		out_c(o, '=');
		text_val(o, &rec->vals[i], false);
	}
}

static void text_heartbeat(struct ob *o, const struct hb_rd_record *rec)
{
	char tmp[16];
	int kind;

	out_lit(o, "HEARTBEAT ");
	out_s(o, rec->status);
	out_lit(o, " count=");
	out_u64(o, rec->hb_count);
	for (uint32_t i = 0; rec->metrics && i < rec->metrics->via.array.size; i++) {
		const msgpack_object *v = &rec->metrics->via.array.ptr[i];
		const char *name = metric_name(rec, i, tmp, &kind);
		static const char *const part[] = {".count=", ".sum_ns=", ".max_ns="};
		if (!is_timing(v, kind)) {
			out_c(o, ' ');
			out_s(o, name);
			out_c(o, '=');
			text_val(o, v, true);
			continue;
		}
		for (int j = 0; j < 3; j++) {
			out_c(o, ' ');
			out_s(o, name);
			out_s(o, part[j]);
			text_val(o, &v->via.array.ptr[j], true);
		}
	}
}

/* A table (types, metrics, a list of them): an array of maps with a name,
 * as [name,name,...] (the fields and kinds are in the JSON output). */
static bool text_names(struct ob *o, const msgpack_object *v)
{
	if (v->type != MSGPACK_OBJECT_ARRAY || !v->via.array.size)
		return false;
	for (uint32_t i = 0; i < v->via.array.size; i++) {
		const msgpack_object *n = hb_rd_map_get(&v->via.array.ptr[i], "name");
		if (!n || n->type != MSGPACK_OBJECT_STR)
			return false;
	}
	out_c(o, '[');
	for (uint32_t i = 0; i < v->via.array.size; i++) {
		if (i)
			out_c(o, ',');
		text_val(o, hb_rd_map_get(&v->via.array.ptr[i], "name"), true);
	}
	out_c(o, ']');
	return true;
}

static void text_bus(struct ob *o, const struct hb_rd_record *rec)
{
	const msgpack_object *m = rec->obj;

	out_lit(o, "BUS ");
	out_s(o, rec->bus_kind);
	for (uint32_t i = 0; i < m->via.map.size; i++) {
		const msgpack_object *k = &m->via.map.ptr[i].key;
		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == 1 &&
		    (k->via.str.ptr[0] == 'k' || k->via.str.ptr[0] == 'p'))
			continue;
		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == 2 &&
		    memcmp(k->via.str.ptr, "ts", 2) == 0)
			continue;
		out_c(o, ' ');
		text_val(o, k, true);
		out_c(o, '=');
		if (!text_names(o, &m->via.map.ptr[i].val))
			text_val(o, &m->via.map.ptr[i].val, true);
	}
}

static void text_record(struct ob *o, const struct hb_rd_record *rec, int flags)
{
	const char *c = flags & HB_RD_TEXT_COLOR ? text_color(rec) : "";

	if (*c)
		out_s(o, c);
	if (flags & HB_RD_TEXT_LOCAL)
		o->len += rd_fmt_time_local(ob_room(o, 40), rec->ts_ns);
	else
		out_time(o, rec->ts_ns);
	out_c(o, ' ');
	text_who(o, rec);
	if (rec->kind == HB_RD_EVENT || rec->kind == HB_RD_HEARTBEAT) {
		out_c(o, '#');
		out_u64(o, rec->seq);
		out_c(o, ' ');
	}
	if (rec->kind == HB_RD_EVENT)
		text_event(o, rec);
	else if (rec->kind == HB_RD_HEARTBEAT)
		text_heartbeat(o, rec);
	else
		text_bus(o, rec);
	if (*c)
		out_lit(o, C_RESET);
	out_c(o, '\n');
}

void hb_rd_print_text(FILE *f, const struct hb_rd_record *rec, int flags)
{
	struct ob o;

	ob_init(&o, f);
	text_record(&o, rec, flags);
	ob_flush(&o);
}

size_t hb_rd_format_text(char *buf, size_t len, const struct hb_rd_record *rec, int flags)
{
	return ob_format(buf, len, rec, flags, text_record);
}
