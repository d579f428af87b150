/* SPDX-License-Identifier: MIT */
/*
 * threads_check.c - reads the archive of threads_emit (through libhbread)
 * and checks it: each of the 8 threads' N events exactly once, in order,
 * under one producer per thread whose thread tag is "wI" (I = field t);
 * every worker's producer ends in state exited (closed), the early ones
 * before any late one's second half; the main thread's first heartbeat,
 * sent while 4 threads had finished and 4 were half-way, says 6N, and the
 * counter's largest total in a heartbeat is 8N. Prints what is wrong, exits 1 then.
 *
 *   threads_check DIR N
 */
#include <hb_reader.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NT 8

static int bad;

#define WRONG(...)                                     \
	do {                                           \
		if (bad++ < 20)                        \
			fprintf(stderr, __VA_ARGS__); \
	} while (0)

static int str_is(const msgpack_object *o, const char *s)
{
	return o && o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(s) &&
	       !memcmp(o->via.str.ptr, s, o->via.str.size);
}

int main(int argc, char **argv)
{
	const struct hb_rd_producer *owner[NT] = {0};
	uint64_t next[NT] = {0}, total = 0, n_arg, main_first = 0;
	int exited[NT] = {0};
	struct hb_rd_record rec;
	struct hb_reader *r;
	int rc;

	if (argc != 3 || hb_reader_open(&r, (const char *const *)&argv[1], 1, NULL) < 0)
		return 2;
	n_arg = strtoull(argv[2], NULL, 10) & ~1ull;
	while ((rc = hb_reader_next(r, &rec)) > 0) {
		const struct hb_rd_producer *pr = rec.producer;

		if (!pr || strcmp(pr->name, "thr"))
			continue;
		if (rec.kind == HB_RD_HEARTBEAT && rec.metrics && rec.metrics->via.array.size) {
			uint64_t v = rec.metrics->via.array.ptr[0].via.u64;

			if (v > total)
				total = v;
			if (pr->thread[0] != 'w' && !main_first)
				main_first = v;
		}
		if (rec.kind == HB_RD_BUS && rec.bus_kind && !strcmp(rec.bus_kind, "state") &&
		    str_is(hb_rd_map_get(rec.obj, "state"), "exited")) {
			for (int t = 0; t < NT; t++)
				if (owner[t] == pr)
					exited[t] = str_is(hb_rd_map_get(rec.obj, "why"), "closed") ? 1 : -1;
		}
		if (rec.kind != HB_RD_EVENT || !rec.type || strcmp(rec.type->name, "thr.ev"))
			continue;
		uint64_t t = rec.vals[0].via.u64, n = rec.vals[1].via.u64;
		char tag[8];

		if (t >= NT) {
			WRONG("event with t=%llu\n", (unsigned long long)t);
			continue;
		}
		if (!owner[t])
			owner[t] = pr;
		snprintf(tag, sizeof(tag), "w%d", (int)t);
		if (owner[t] != pr || strcmp(pr->thread, tag))
			WRONG("event of thread %d under producer %u (thread '%s')\n", (int)t, pr->p,
			      pr->thread);
		if (n != next[t])
			WRONG("thread %d: event n=%llu, expected %llu\n", (int)t,
			      (unsigned long long)n, (unsigned long long)next[t]);
		if (exited[t])
			WRONG("thread %d: event after its exit\n", (int)t);
		next[t] = n + 1;
	}
	hb_reader_close(r);
	for (int t = 0; t < NT; t++) {
		if (next[t] != n_arg)
			WRONG("thread %d: %llu events, expected %llu\n", t, (unsigned long long)next[t],
			      (unsigned long long)n_arg);
		if (exited[t] != 1)
			WRONG("thread %d: not reported exited (closed)\n", t);
		for (int u = 0; u < t; u++)
			if (owner[u] == owner[t])
				WRONG("threads %d and %d share a producer\n", u, t);
	}
	if (main_first != 6 * n_arg) /* 4 x N + 4 x N/2 */
		WRONG("main thread's first heartbeat total %llu, expected %llu\n",
		      (unsigned long long)main_first, (unsigned long long)(6 * n_arg));
	if (total != NT * n_arg)
		WRONG("counter total %llu, expected %llu\n", (unsigned long long)total,
		      (unsigned long long)(NT * n_arg));
	printf("%d problems\n", bad);
	return rc < 0 || bad;
}
