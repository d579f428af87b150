/* SPDX-License-Identifier: MIT */
/*
 * hb_merge.h - the bounded time-order merge of hbcat and hbreplay.
 *
 * An archive holds each producer's records in sequence order, but those of
 * different producers interleaved by drain batch, and files and inputs
 * overlap in time. The tools read records in file order and push them
 * (copied into their own items) on a min-heap keyed by (time, read order).
 * With keep_order (hbreplay), an item's time is raised to its producer's
 * previous one: a producer's records never change order, even where its
 * event and heartbeat clocks disagree by a few microseconds; without
 * (hbcat), the times alone decide. An item is released
 * once no producer still going can yield an earlier one (its newest time
 * read is past the item: the watermark) and a slack has passed for
 * producers not seen yet; a producer silent for long, or the end of the
 * input, holds nobody back, and beyond max_items the oldest item is
 * released anyway, so memory stays bounded.
 *
 * Items and sources are the caller's: it embeds struct hb_merge_item at
 * the start of its items and struct hb_merge_src in its producers.
 */
#ifndef HB_MERGE_H
#define HB_MERGE_H

#include <stddef.h>
#include <stdint.h>

#include "hb_reader.h"

struct hb_merge_item {
	uint64_t key;   /* set by hb_merge_push: the time, or with keep_order
			   raised to the producer's previous key */
	uint64_t order; /* read order, breaks ties */
};

/* One producer as the merge sees it (the same across files and the
 * restated producer records that start them). Its items wait in a queue
 * sorted by key (they arrive nearly sorted: inserting from the back costs
 * next to nothing); a heap of the producers by their first key gives the
 * next item: a k-way merge, O(log k) per record. */
struct hb_merge_src {
	uint64_t last_ts; /* newest time pushed */
	int done;         /* closed or gone: holds nobody back */
	/* private to rd_merge.c */
	struct hb_merge_item **q; /* ring of items, sorted by key */
	size_t qhead, qlen, qcap; /* qcap a power of two */
	size_t hpos;              /* index in the heap, when qlen > 0 */
};

struct hb_merge {
	struct hb_merge_src **v; /* heap of the sources with items, by first key */
	size_t nv, capv;
	size_t n; /* items held */
	struct hb_merge_src **srcs;
	size_t nsrcs, srccap;
	struct hb_merge_src none; /* records of no producer */
	uint64_t newest; /* newest time pushed */
	uint64_t order;
	uint64_t slack_ns, silent_ns;
	size_t max_items;
	int keep_order; /* raise keys to the producer's previous one */
};

#define HB_MERGE_SLACK_NS 1000000000ull   /* wait this long for producers not seen yet */
#define HB_MERGE_SILENT_NS 10000000000ull /* a producer this far behind holds nobody back */

void hb_merge_init(struct hb_merge *m, size_t max_items);
/* Makes s (zeroed by the caller) one of the producers the watermark waits
 * for; it must stay where it is until hb_merge_free. 0 or -ENOMEM. */
int hb_merge_src_add(struct hb_merge *m, struct hb_merge_src *s);
/* Pushes it with time ts, for producer s (NULL: a record of no producer,
 * e.g. the collector's). 0 or -ENOMEM. */
int hb_merge_push(struct hb_merge *m, struct hb_merge_item *it, struct hb_merge_src *s,
		  uint64_t ts);
/* The time up to which items may be released now. */
uint64_t hb_merge_watermark(const struct hb_merge *m);
/* The next item whose key is <= upto (or the oldest, beyond max_items),
 * or NULL. UINT64_MAX releases everything. */
struct hb_merge_item *hb_merge_pop(struct hb_merge *m, uint64_t upto);
/* Starts again (hbreplay --loop): every source not done, nothing read
 * (call when nothing is held). */
void hb_merge_restart(struct hb_merge *m);
void hb_merge_free(struct hb_merge *m);

/* 1 when rec says its producer has finished (a state exited, crashed or
 * quarantined, or a heartbeat with status stopping). */
int hb_merge_final(const struct hb_rd_record *rec);

#endif
