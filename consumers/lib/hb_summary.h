/* SPDX-License-Identifier: MIT */
/*
 * hb_summary.h - summary of an archive: per producer counts, time span,
 * rate, sequence gaps, drops, state changes; per type counts; damage.
 * Used by hbcat --summary. Producers are told apart by (name, pid, host);
 * the summary uses hb_rd_producer.user.
 */
#ifndef HB_SUMMARY_H
#define HB_SUMMARY_H

#include "hb_reader.h"

#include <stdio.h>

struct hb_sum;

struct hb_sum *hb_sum_new(void);
/* Every record read, selected or not: sequence tracking, gaps, states. */
void hb_sum_seq(struct hb_sum *s, const struct hb_rd_record *rec);
/* Every selected record: counts, times, types. */
void hb_sum_add(struct hb_sum *s, const struct hb_rd_record *rec);
void hb_sum_damage(struct hb_sum *s, const char *file, uint64_t off, uint64_t len,
		   const char *what);
/* Text, or one JSON object (HB_SUM_JSON). Text shows gaps as ranges of
 * gaps less than a second apart and the largest few, every gap with
 * HB_SUM_ALL_GAPS; JSON has every gap (the first 10000) and the ranges. */
#define HB_SUM_JSON 0x1
#define HB_SUM_ALL_GAPS 0x2
void hb_sum_print(struct hb_sum *s, FILE *f, int flags);
void hb_sum_free(struct hb_sum *s);

#endif
