/* SPDX-License-Identifier: MIT */
/*
 * rd_format.c - records as JSON lines and text lines (hbcat's formats).
 * Written for throughput: numbers and times are formatted by hand into the
 * stdio buffer with the unlocked calls, printf only for doubles.
 */
#include "rd_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hb.h"

#define C_RESET "\033[0m"

static void out_s(FILE *f, const char *s)
{
	fputs_unlocked(s, f);
}

static void out_n(FILE *f, const char *s, size_t n)
{
	fwrite_unlocked(s, 1, n, f);
}

static void out_c(FILE *f, char c)
{
	putc_unlocked(c, f);
}

void hb_rd_print_u64(FILE *f, uint64_t v)
{
	char b[24];
	int i = 24;

	do {
		b[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	out_n(f, b + i, (size_t)(24 - i));
}

static void out_i64(FILE *f, int64_t v)
{
	if (v < 0) {
		out_c(f, '-');
		hb_rd_print_u64(f, (uint64_t)0 - (uint64_t)v);
	} else {
		hb_rd_print_u64(f, (uint64_t)v);
	}
}

int hb_rd_fmt_double(char *buf, double d)
{
	int n = 0;

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

static void out_double(FILE *f, double d, int json)
{
	char b[40];

	if (json && !isfinite(d)) {
		out_s(f, "null");
		return;
	}
	out_n(f, b, (size_t)hb_rd_fmt_double(b, d));
}

static void out_time(FILE *f, uint64_t ns)
{
	char b[32];

	out_n(f, hb_time_format(ns, b, sizeof(b)), 30);
}

void hb_rd_print_json_str(FILE *f, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;

	out_c(f, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		out_n(f, s + run, i - run);
		run = i + 1;
		out_c(f, '\\');
		if (c == '"' || c == '\\')
			out_c(f, (char)c);
		else if (c == '\n')
			out_c(f, 'n');
		else if (c == '\t')
			out_c(f, 't');
		else if (c == '\r')
			out_c(f, 'r');
		else {
			out_s(f, "u00");
			out_c(f, hex[c >> 4]);
			out_c(f, hex[c & 15]);
		}
	}
	out_n(f, s + run, n - run);
	out_c(f, '"');
}

static void out_base64(FILE *f, const unsigned char *p, size_t n)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	out_c(f, '"');
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		out_c(f, t[v >> 18 & 63]);
		out_c(f, t[v >> 12 & 63]);
		out_c(f, i + 1 < n ? t[v >> 6 & 63] : '=');
		out_c(f, i + 2 < n ? t[v & 63] : '=');
	}
	out_c(f, '"');
}

static void out_hex(FILE *f, const unsigned char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	out_s(f, "0x");
	for (size_t i = 0; i < n; i++) {
		out_c(f, hex[p[i] >> 4]);
		out_c(f, hex[p[i] & 15]);
	}
}

/* Scalars shared by both formats; false if o is a container or ext. */
static bool out_scalar(FILE *f, const msgpack_object *o, int json)
{
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		out_s(f, "null");
		return true;
	case MSGPACK_OBJECT_BOOLEAN:
		out_s(f, o->via.boolean ? "true" : "false");
		return true;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		hb_rd_print_u64(f, o->via.u64);
		return true;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		out_i64(f, o->via.i64);
		return true;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		out_double(f, o->via.f64, json);
		return true;
	case MSGPACK_OBJECT_STR:
		hb_rd_print_json_str(f, o->via.str.ptr, o->via.str.size);
		return true;
	case MSGPACK_OBJECT_BIN:
		if (json)
			out_base64(f, (const unsigned char *)o->via.bin.ptr, o->via.bin.size);
		else
			out_hex(f, (const unsigned char *)o->via.bin.ptr, o->via.bin.size);
		return true;
	default:
		return false;
	}
}

void hb_rd_print_json_obj(FILE *f, const msgpack_object *o)
{
	uint64_t ns;

	if (out_scalar(f, o, 1))
		return;
	if (o->type == MSGPACK_OBJECT_ARRAY) {
		out_c(f, '[');
		for (uint32_t i = 0; i < o->via.array.size; i++) {
			if (i)
				out_c(f, ',');
			hb_rd_print_json_obj(f, &o->via.array.ptr[i]);
		}
		out_c(f, ']');
	} else if (o->type == MSGPACK_OBJECT_MAP) {
		out_c(f, '{');
		for (uint32_t i = 0; i < o->via.map.size; i++) {
			const msgpack_object *k = &o->via.map.ptr[i].key;
			if (i)
				out_c(f, ',');
			if (k->type == MSGPACK_OBJECT_STR)
				hb_rd_print_json_str(f, k->via.str.ptr, k->via.str.size);
			else {
				out_c(f, '"');
				hb_rd_print_json_obj(f, k);
				out_c(f, '"');
			}
			out_c(f, ':');
			hb_rd_print_json_obj(f, &o->via.map.ptr[i].val);
		}
		out_c(f, '}');
	} else if (o->type == MSGPACK_OBJECT_EXT && hb_rd_obj_time(o, &ns) == 0) {
		out_c(f, '"');
		out_time(f, ns);
		out_c(f, '"');
	} else {
		out_s(f, "null");
	}
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

static const char *field_name(const struct hb_rd_record *rec, uint32_t i, char *tmp)
{
	if (rec->type && i < rec->type->nfields)
		return rec->type->fields[i];
	snprintf(tmp, 16, "%u", i);
	return tmp;
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

static void json_head(FILE *f, const struct hb_rd_record *rec, const char *k)
{
	out_s(f, "{\"k\":\"");
	out_s(f, k);
	out_s(f, "\",\"p\":");
	hb_rd_print_u64(f, rec_p(rec));
	out_s(f, ",\"producer\":");
	if (rec->producer) {
		hb_rd_print_json_str(f, rec->producer->name, strlen(rec->producer->name));
		out_s(f, ",\"pid\":");
		hb_rd_print_u64(f, rec->producer->pid);
	} else {
		out_s(f, "null,\"pid\":null");
	}
	out_s(f, ",\"seq\":");
	hb_rd_print_u64(f, rec->seq);
	out_s(f, ",\"ts\":\"");
	out_time(f, rec->ts_ns);
	out_s(f, "\",\"ts_ns\":");
	hb_rd_print_u64(f, rec->ts_ns);
}

static void json_event(FILE *f, const struct hb_rd_record *rec)
{
	char tmp[16];

	json_head(f, rec, "event");
	out_s(f, ",\"type\":");
	if (rec->type) {
		hb_rd_print_json_str(f, rec->type->name, strlen(rec->type->name));
	} else {
		out_s(f, "null,\"type_id\":");
		hb_rd_print_u64(f, (uint64_t)rec->type_id);
	}
	out_s(f, ",\"prio\":\"");
	out_s(f, hb_prio_name(rec->prio));
	out_s(f, "\",\"req\":");
	if (rec->has_req)
		hb_rd_print_u64(f, rec->req);
	else
		out_s(f, "null");
	out_s(f, ",\"fields\":{");
	for (uint32_t i = 0, n = rec_nfields(rec); i < n; i++) {
		const char *name = field_name(rec, i, tmp);
		if (i)
			out_c(f, ',');
		hb_rd_print_json_str(f, name, strlen(name));
		out_c(f, ':');
		hb_rd_print_json_obj(f, &rec->vals[i]);
	}
	out_s(f, "}}\n");
}

static void json_heartbeat(FILE *f, const struct hb_rd_record *rec)
{
	char tmp[16];
	int kind;

	json_head(f, rec, "heartbeat");
	out_s(f, ",\"status\":");
	hb_rd_print_json_str(f, rec->status, strlen(rec->status));
	out_s(f, ",\"count\":");
	hb_rd_print_u64(f, rec->hb_count);
	out_s(f, ",\"interval_ms\":");
	hb_rd_print_u64(f, rec->interval_ms);
	out_s(f, ",\"metrics\":");
	if (!rec->metrics) {
		out_s(f, "null}\n");
		return;
	}
	out_c(f, '{');
	for (uint32_t i = 0; i < rec->metrics->via.array.size; i++) {
		const msgpack_object *v = &rec->metrics->via.array.ptr[i];
		const char *name = metric_name(rec, i, tmp, &kind);
		if (i)
			out_c(f, ',');
		hb_rd_print_json_str(f, name, strlen(name));
		out_c(f, ':');
		if (is_timing(v, kind)) {
			out_s(f, "{\"count\":");
			hb_rd_print_json_obj(f, &v->via.array.ptr[0]);
			out_s(f, ",\"sum_ns\":");
			hb_rd_print_json_obj(f, &v->via.array.ptr[1]);
			out_s(f, ",\"max_ns\":");
			hb_rd_print_json_obj(f, &v->via.array.ptr[2]);
			out_c(f, '}');
		} else {
			hb_rd_print_json_obj(f, v);
		}
	}
	out_s(f, "}}\n");
}

static void json_bus(FILE *f, const struct hb_rd_record *rec)
{
	const msgpack_object *m = rec->obj;

	out_c(f, '{');
	for (uint32_t i = 0; i < m->via.map.size; i++) {
		const msgpack_object *k = &m->via.map.ptr[i].key;
		const msgpack_object *v = &m->via.map.ptr[i].val;
		if (i)
			out_c(f, ',');
		hb_rd_print_json_obj(f, k);
		out_c(f, ':');
		hb_rd_print_json_obj(f, v);
		if (k->type != MSGPACK_OBJECT_STR)
			continue;
		if (k->via.str.size == 1 && k->via.str.ptr[0] == 'p') {
			out_s(f, ",\"producer\":");
			if (rec->producer)
				hb_rd_print_json_str(f, rec->producer->name,
						     strlen(rec->producer->name));
			else
				out_s(f, "null");
		} else if (k->via.str.size == 2 && memcmp(k->via.str.ptr, "ts", 2) == 0) {
			out_s(f, ",\"ts_ns\":");
			hb_rd_print_u64(f, rec->ts_ns);
		}
	}
	out_s(f, "}\n");
}

void hb_rd_print_json(FILE *f, const struct hb_rd_record *rec)
{
	if (rec->kind == HB_RD_EVENT)
		json_event(f, rec);
	else if (rec->kind == HB_RD_HEARTBEAT)
		json_heartbeat(f, rec);
	else
		json_bus(f, rec);
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
static bool text_word(const msgpack_object *o)
{
	if (o->type != MSGPACK_OBJECT_STR || o->via.str.size == 0)
		return false;
	for (uint32_t i = 0; i < o->via.str.size; i++) {
		unsigned char c = (unsigned char)o->via.str.ptr[i];
		if (c <= ' ' || c == '"' || c == '\\' || c == '=' || c >= 0x7f)
			return false;
	}
	return true;
}

static void text_val(FILE *f, const msgpack_object *o, bool bare)
{
	if (bare && text_word(o))
		out_n(f, o->via.str.ptr, o->via.str.size);
	else if (!out_scalar(f, o, 0))
		hb_rd_print_json_obj(f, o);
}

static void text_who(FILE *f, const struct hb_rd_record *rec)
{
	if (rec->producer) {
		out_s(f, rec->producer->name);
		out_c(f, '[');
		hb_rd_print_u64(f, rec->producer->pid);
		out_s(f, "] ");
	} else if (rec->kind != HB_RD_BUS && rec->kind != HB_RD_HEADER) {
		out_c(f, 'p');
		hb_rd_print_u64(f, rec_p(rec));
		out_s(f, "[?] ");
	}
}

static void text_event(FILE *f, const struct hb_rd_record *rec)
{
	char tmp[16];

	out_s(f, hb_prio_name(rec->prio));
	out_c(f, ' ');
	if (rec->type) {
		out_s(f, rec->type->name);
	} else {
		out_s(f, "type#");
		hb_rd_print_u64(f, (uint64_t)rec->type_id);
	}
	if (rec->has_req) {
		out_s(f, " req=");
		hb_rd_print_u64(f, rec->req);
	}
	for (uint32_t i = 0, n = rec_nfields(rec); i < n; i++) {
		out_c(f, ' ');
		out_s(f, field_name(rec, i, tmp));
		out_c(f, '=');
		text_val(f, &rec->vals[i], false);
	}
}

static void text_heartbeat(FILE *f, const struct hb_rd_record *rec)
{
	char tmp[16];
	int kind;

	out_s(f, "HEARTBEAT ");
	out_s(f, rec->status);
	out_s(f, " count=");
	hb_rd_print_u64(f, rec->hb_count);
	for (uint32_t i = 0; rec->metrics && i < rec->metrics->via.array.size; i++) {
		const msgpack_object *v = &rec->metrics->via.array.ptr[i];
		const char *name = metric_name(rec, i, tmp, &kind);
		static const char *const part[] = {".count=", ".sum_ns=", ".max_ns="};
		if (!is_timing(v, kind)) {
			out_c(f, ' ');
			out_s(f, name);
			out_c(f, '=');
			text_val(f, v, true);
			continue;
		}
		for (int j = 0; j < 3; j++) {
			out_c(f, ' ');
			out_s(f, name);
			out_s(f, part[j]);
			text_val(f, &v->via.array.ptr[j], true);
		}
	}
}

static void text_bus(FILE *f, const struct hb_rd_record *rec)
{
	const msgpack_object *m = rec->obj;

	out_s(f, "BUS ");
	out_s(f, rec->bus_kind);
	for (uint32_t i = 0; i < m->via.map.size; i++) {
		const msgpack_object *k = &m->via.map.ptr[i].key;
		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == 1 &&
		    (k->via.str.ptr[0] == 'k' || k->via.str.ptr[0] == 'p'))
			continue;
		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == 2 &&
		    memcmp(k->via.str.ptr, "ts", 2) == 0)
			continue;
		out_c(f, ' ');
		text_val(f, k, true);
		out_c(f, '=');
		text_val(f, &m->via.map.ptr[i].val, true);
	}
}

void hb_rd_print_text(FILE *f, const struct hb_rd_record *rec, int color)
{
	const char *c = color ? text_color(rec) : "";

	if (*c)
		out_s(f, c);
	out_time(f, rec->ts_ns);
	out_c(f, ' ');
	text_who(f, rec);
	if (rec->kind == HB_RD_EVENT || rec->kind == HB_RD_HEARTBEAT) {
		out_c(f, '#');
		hb_rd_print_u64(f, rec->seq);
		out_c(f, ' ');
	}
	if (rec->kind == HB_RD_EVENT)
		text_event(f, rec);
	else if (rec->kind == HB_RD_HEARTBEAT)
		text_heartbeat(f, rec);
	else
		text_bus(f, rec);
	if (*c)
		out_s(f, C_RESET);
	out_c(f, '\n');
}
