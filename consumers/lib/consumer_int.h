/* SPDX-License-Identifier: MIT */
/* Internals of the consumer API shared by consumer.c and consumer_run.c. */
#ifndef HB_CONSUMER_INT_H
#define HB_CONSUMER_INT_H

#include "hb_consumer.h"

#include <signal.h>
#include <stdatomic.h>

struct hb_handler {
	struct hb_handler_spec spec;
	struct hb_handler_stats st;
	char *glob;
	char *producer;
	char *name;
};

struct hb_consumer {
	struct hb_consumer_opts opts;
	struct hb_handler *h;
	int n, cap;
	uint64_t newest_ts;               /* newest record timestamp seen */
	_Atomic(struct hb_reader *) active; /* reader of the running hb_consumer_run */
	volatile sig_atomic_t stop;
	uint64_t damage;
};

#endif
