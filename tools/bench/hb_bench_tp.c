/* SPDX-License-Identifier: MIT */
/* Instantiates the hb_bench tracepoint provider (hb_bench_tp.h). */
#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#define LTTNG_UST_TRACEPOINT_DEFINE
#include "hb_bench_tp.h"
