/* SPDX-License-Identifier: MIT */
/*
 * count.c - a reader-side program built through `pkg-config hbread`:
 * prints how many events of type "pkg.ev" the archive DIR holds and the
 * sum of their field n. Run by tests/e2e/shared_libraries.sh.
 */
#include <hb_reader.h>

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	struct hb_reader *r;
	struct hb_rd_record rec;
	unsigned long long n = 0, sum = 0;
	int rc;

	if (argc != 2)
		return 2;
	rc = hb_reader_open(&r, (const char *const *)&argv[1], 1, NULL);
	if (rc < 0) {
		fprintf(stderr, "count: %s: %s\n", argv[1], strerror(-rc));
		return 1;
	}
	while ((rc = hb_reader_next(r, &rec)) > 0) {
		if (rec.kind != HB_RD_EVENT || !rec.type || strcmp(rec.type->name, "pkg.ev"))
			continue;
		n++;
		sum += rec.nvals ? rec.vals[0].via.u64 : 0;
	}
	hb_reader_close(r);
	printf("%llu %llu\n", n, sum);
	return rc < 0;
}
