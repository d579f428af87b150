/* SPDX-License-Identifier: MIT */
/*
 * check.c - builds against the *installed* <hb.h> and libhb only (found
 * with `pkg-config --cflags --libs hb`), the way a service would, and runs
 * the producer API once: open, register, emit, heartbeat, close.
 * Run by tests/e2e/installed_header.sh; exits 0 when every call succeeded.
 */
#include <hb.h>

#include <stdio.h>
#include <stdlib.h>

#define CHECK(expr)                                                                     \
	do {                                                                            \
		long long rc_ = (long long)(expr);                                      \
		if (rc_ < 0) {                                                          \
			fprintf(stderr, "%s:%d: %s = %lld\n", __FILE__, __LINE__, #expr, \
				rc_);                                                   \
			return 1;                                                       \
		}                                                                       \
	} while (0)

int main(void)
{
	static const struct hb_field fields[] = {
		{"id", HB_T_U64},
		{"msg", HB_T_STR},
	};
	struct hb_config cfg = {.name = "install-check", .ring_kb = 64};
	struct hb_producer *p;
	int type, counter;

	CHECK(hb_open(&p, &cfg));
	CHECK(type = hb_type_register(p, "check.hello", fields, 2));
	CHECK(counter = hb_metric_register(p, "check.count", HB_METRIC_COUNTER));
	CHECK(hb_event(p, (unsigned)type, HB_PRIO_NORMAL, 1, HB_U64(7), HB_STR("hello")));
	CHECK(hb_counter_add(p, (unsigned)counter, 1));
	CHECK(hb_heartbeat(p));
	CHECK(hb_tick(p));
	hb_close(p);
	printf("install-check: ok (hb %s)\n", HB_VERSION_STRING);
	return 0;
}
