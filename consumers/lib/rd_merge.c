/* SPDX-License-Identifier: MIT */
/*
 * rd_merge.c - the bounded time-order merge (hb_merge.h).
 */
#include "hb_merge.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void hb_merge_init(struct hb_merge *m, size_t max_items)
{
	memset(m, 0, sizeof(*m));
	m->slack_ns = HB_MERGE_SLACK_NS;
	m->silent_ns = HB_MERGE_SILENT_NS;
	m->max_items = max_items;
}

int hb_merge_src_add(struct hb_merge *m, struct hb_merge_src *s)
{
	if (m->nsrcs == m->srccap) {
		size_t cap = m->srccap ? m->srccap * 2 : 16;
		struct hb_merge_src **v = realloc(m->srcs, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		m->srcs = v;
		m->srccap = cap;
	}
	m->srcs[m->nsrcs++] = s;
	return 0;
}

static int item_less(const struct hb_merge_item *a, const struct hb_merge_item *b)
{
	return a->key < b->key || (a->key == b->key && a->order < b->order);
}

#define QAT(s, i) ((s)->q[((s)->qhead + (i)) & ((s)->qcap - 1)])
/* How far back an item is moved into its producer's queue at most: a
 * clock that went back further (a stepped wall clock) costs order, not
 * quadratic time. */
#define MERGE_SCAN_MAX 256

static int src_less(const struct hb_merge_src *a, const struct hb_merge_src *b)
{
	return item_less(QAT(a, 0), QAT(b, 0));
}

static void heap_set(struct hb_merge *m, size_t i, struct hb_merge_src *s)
{
	m->v[i] = s;
	s->hpos = i;
}

static void heap_up(struct hb_merge *m, size_t i)
{
	struct hb_merge_src *s = m->v[i];

	while (i && src_less(s, m->v[(i - 1) / 2])) {
		heap_set(m, i, m->v[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(m, i, s);
}

static void heap_down(struct hb_merge *m, size_t i)
{
	struct hb_merge_src *s = m->v[i];
	size_t c;

	while ((c = 2 * i + 1) < m->nv) {
		if (c + 1 < m->nv && src_less(m->v[c + 1], m->v[c]))
			c++;
		if (!src_less(m->v[c], s))
			break;
		heap_set(m, i, m->v[c]);
		i = c;
	}
	heap_set(m, i, s);
}

static int q_grow(struct hb_merge_src *s)
{
	size_t cap = s->qcap ? s->qcap * 2 : 64;
	struct hb_merge_item **q = malloc(cap * sizeof(*q));

	if (!q)
		return -ENOMEM;
	for (size_t i = 0; i < s->qlen; i++)
		q[i] = QAT(s, i);
	free(s->q);
	s->q = q;
	s->qhead = 0;
	s->qcap = cap;
	return 0;
}

/* Into s's queue in key order, from the back; 1 when it became the first. */
static int q_insert(struct hb_merge_src *s, struct hb_merge_item *it)
{
	size_t i = s->qlen, stop = s->qlen > MERGE_SCAN_MAX ? s->qlen - MERGE_SCAN_MAX : 0;

	while (i > stop && item_less(it, QAT(s, i - 1))) {
		QAT(s, i) = QAT(s, i - 1);
		i--;
	}
	QAT(s, i) = it;
	s->qlen++;
	return i == 0;
}

int hb_merge_push(struct hb_merge *m, struct hb_merge_item *it, struct hb_merge_src *s,
		  uint64_t ts)
{
	struct hb_merge_src *q = s ? s : &m->none;

	if (q->qlen == q->qcap && q_grow(q))
		return -ENOMEM;
	if (!q->qlen && m->nv == m->capv) {
		size_t cap = m->capv ? m->capv * 2 : 64;
		struct hb_merge_src **v = realloc(m->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		m->v = v;
		m->capv = cap;
	}
	it->key = m->keep_order && s && s->last_ts > ts ? s->last_ts : ts;
	it->order = m->order++;
	if (s && s->last_ts < ts)
		s->last_ts = ts;
	if (ts > m->newest)
		m->newest = ts;
	m->n++;
	if (!q->qlen) {
		q_insert(q, it);
		heap_set(m, m->nv++, q);
		heap_up(m, q->hpos);
	} else if (q_insert(q, it)) {
		heap_up(m, q->hpos);
	}
	return 0;
}

uint64_t hb_merge_watermark(const struct hb_merge *m)
{
	uint64_t wm = m->newest;

	for (size_t i = 0; i < m->nsrcs; i++) {
		const struct hb_merge_src *s = m->srcs[i];
		if (!s->done && s->last_ts + m->silent_ns >= m->newest && s->last_ts < wm)
			wm = s->last_ts;
	}
	return wm > m->slack_ns ? wm - m->slack_ns : 0;
}

struct hb_merge_item *hb_merge_pop(struct hb_merge *m, uint64_t upto)
{
	struct hb_merge_src *s;
	struct hb_merge_item *top;

	if (!m->nv)
		return NULL;
	s = m->v[0];
	top = QAT(s, 0);
	if (top->key > upto && m->n <= m->max_items)
		return NULL;
	s->qhead = (s->qhead + 1) & (s->qcap - 1);
	s->qlen--;
	m->n--;
	if (!s->qlen) {
		struct hb_merge_src *last = m->v[--m->nv];
		if (m->nv && last != s) {
			heap_set(m, 0, last);
			heap_down(m, 0);
		}
	} else {
		heap_down(m, 0);
	}
	return top;
}

void hb_merge_restart(struct hb_merge *m)
{
	for (size_t i = 0; i < m->nsrcs; i++) {
		m->srcs[i]->done = 0;
		m->srcs[i]->last_ts = 0;
	}
	m->newest = 0;
}

void hb_merge_free(struct hb_merge *m)
{
	for (size_t i = 0; i < m->nsrcs; i++)
		free(m->srcs[i]->q);
	free(m->none.q);
	free(m->v);
	free(m->srcs);
	memset(m, 0, sizeof(*m));
}

static int is_str(const msgpack_object *o, const char *s)
{
	size_t n = strlen(s);

	return o && o->type == MSGPACK_OBJECT_STR && o->via.str.size == n &&
	       memcmp(o->via.str.ptr, s, n) == 0;
}

int hb_merge_final(const struct hb_rd_record *rec)
{
	const msgpack_object *s;

	if (rec->kind == HB_RD_HEARTBEAT)
		return rec->status && strcmp(rec->status, "stopping") == 0;
	if (rec->kind != HB_RD_BUS || !rec->bus_kind || strcmp(rec->bus_kind, "state"))
		return 0;
	s = hb_rd_map_get(rec->obj, "state");
	return is_str(s, "exited") || is_str(s, "crashed") || is_str(s, "quarantined");
}
