/* SPDX-License-Identifier: MIT */
/* ship_seen.c - what hbship has shipped of each producer (ship.h): the
 * next sequence number after the acknowledged ones, kept with the position
 * so that records the collector's byte limit removed before they were
 * shipped become an exact gap. */
#include "ship.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct ship_seen_ent *ship_seen_find(struct ship_seen *v, const char *ring, uint64_t start)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->e[i].start_ns == start && !strcmp(v->e[i].ring, ring))
			return &v->e[i];
	return NULL;
}

struct ship_seen_ent *ship_seen_get(struct ship_seen *v, const char *ring, uint64_t start)
{
	struct ship_seen_ent *e = ship_seen_find(v, ring, start);

	if (e || strlen(ring) >= sizeof(e->ring))
		return e;
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		struct ship_seen_ent *ne = realloc(v->e, cap * sizeof(*ne));

		if (!ne)
			return NULL;
		v->e = ne, v->cap = cap;
	}
	e = &v->e[v->n++];
	memset(e, 0, sizeof(*e));
	snprintf(e->ring, sizeof(e->ring), "%s", ring);
	e->start_ns = start;
	return e;
}

void ship_seen_note(struct ship_seen *v, const char *ring, uint64_t start, uint64_t next)
{
	struct ship_seen_ent *e = ship_seen_get(v, ring, start);

	if (e && next > e->next)
		e->next = next;
}

void ship_seen_write(const struct ship_seen *v, FILE *f)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->e[i].next)
			fprintf(f, "next %s %" PRIu64 " %" PRIu64 "\n", v->e[i].ring, v->e[i].start_ns,
				v->e[i].next);
}

int ship_seen_read(struct ship_seen *v, const char *line)
{
	char ring[256];
	unsigned long long start, next;

	if (sscanf(line, "next %255s %llu %llu", ring, &start, &next) != 3)
		return -EINVAL;
	ship_seen_note(v, ring, start, next);
	return 0;
}

void ship_seen_free(struct ship_seen *v)
{
	free(v->e);
	memset(v, 0, sizeof(*v));
}
