/* SPDX-License-Identifier: MIT */
/* LTTng-UST tracepoint provider for the peer benchmark: the same record
 * shape as hb's bench.order event (priority, request id, i64, f64, str). */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER hb_bench

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "./hb_bench_tp.h"

#if !defined(HB_BENCH_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define HB_BENCH_TP_H

#include <lttng/tracepoint.h>

LTTNG_UST_TRACEPOINT_EVENT(hb_bench, order,
	LTTNG_UST_TP_ARGS(int, prio, uint64_t, req, int64_t, n, double, px, const char *, sym),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint8_t, prio, prio)
		lttng_ust_field_integer(uint64_t, req, req)
		lttng_ust_field_integer(int64_t, n, n)
		lttng_ust_field_float(double, px, px)
		lttng_ust_field_string(sym, sym)
	)
)

#endif

#include <lttng/tracepoint-event.h>
