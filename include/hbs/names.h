/* SPDX-License-Identifier: MIT */
/*
 * hbs/names.h - the words of the bus for its numbers, one table each: value
 * tags (enum hb_tag), metric kinds (enum hb_metric_kind), health values
 * (enum hb_health) and producer statuses (enum hb_status), as the archive
 * writes them (docs/FORMAT.md) and /metrics, the reader and hbreplay read
 * them. Producer states are hb_state.h's. Header only, libc only
 * (include/hbs/README.md). Prefix hbs_.
 *
 * A number without a name gives NULL: what stands for it is the caller's
 * (the archive and /metrics write "unknown", hbs_or_unknown; the reader's
 * hb_tag_name and hb_metric_kind_name give "?").
 */
#ifndef HB_HBS_NAMES_H
#define HB_HBS_NAMES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define HBS_NAMES_N(a) (sizeof(a) / sizeof((a)[0]))

/* enum hb_tag: HB_T_NONE (0) to HB_T_BYTES (6) */
static const char *const hbs_tag_names[] = {"none", "i64", "u64", "f64", "bool", "str", "bytes"};
/* enum hb_metric_kind: HB_METRIC_COUNTER (1) to HB_METRIC_HEALTH (4); 0 is none */
static const char *const hbs_kind_names[] = {NULL, "counter", "gauge", "timing", "health"};
/* enum hb_health: HB_HEALTH_UNKNOWN (0) to HB_HEALTH_HALF_OPEN (6) */
static const char *const hbs_health_names[] = {"unknown", "up",     "down",     "degraded",
					       "open",    "closed", "half-open"};
/* enum hb_status: HB_STATUS_STARTING (0) to HB_STATUS_STOPPING (3) */
static const char *const hbs_status_names[] = {"starting", "ok", "degraded", "stopping"};

/* The name of v in table t of n entries, NULL when it has none. */
static inline const char *hbs_name_of(const char *const *t, size_t n, uint64_t v)
{
	return v < n ? t[v] : NULL;
}

/* The number whose name in table t (n entries) is the len bytes at s,
 * -1 when none is. */
static inline int hbs_name_parse(const char *const *t, size_t n, const char *s, size_t len)
{
	size_t i;

	for (i = 0; s && i < n; i++)
		if (t[i] && strlen(t[i]) == len && !memcmp(t[i], s, len))
			return (int)i;
	return -1;
}

/* name, or "unknown" when there is none (the archive's and /metrics' word) */
static inline const char *hbs_or_unknown(const char *name)
{
	return name ? name : "unknown";
}

static inline const char *hbs_tag_name(uint64_t tag)
{
	return hbs_name_of(hbs_tag_names, HBS_NAMES_N(hbs_tag_names), tag);
}

static inline const char *hbs_kind_name(uint64_t kind)
{
	return hbs_name_of(hbs_kind_names, HBS_NAMES_N(hbs_kind_names), kind);
}

static inline const char *hbs_health_name(uint64_t h)
{
	return hbs_name_of(hbs_health_names, HBS_NAMES_N(hbs_health_names), h);
}

static inline const char *hbs_status_name(uint64_t s)
{
	return hbs_name_of(hbs_status_names, HBS_NAMES_N(hbs_status_names), s);
}

static inline int hbs_tag_parse(const char *s, size_t len)
{
	return hbs_name_parse(hbs_tag_names, HBS_NAMES_N(hbs_tag_names), s, len);
}

static inline int hbs_kind_parse(const char *s, size_t len)
{
	return hbs_name_parse(hbs_kind_names, HBS_NAMES_N(hbs_kind_names), s, len);
}

static inline int hbs_health_parse(const char *s, size_t len)
{
	return hbs_name_parse(hbs_health_names, HBS_NAMES_N(hbs_health_names), s, len);
}

static inline int hbs_status_parse(const char *s, size_t len)
{
	return hbs_name_parse(hbs_status_names, HBS_NAMES_N(hbs_status_names), s, len);
}

#endif
