/* SPDX-License-Identifier: MIT */
#include "cli.h"
#define main hbcollect_main
#define exit fuzz_cli_exit
#include "../../../bus/hbcollect.c"

/* Static, so the alert rules a parser that exits (a longjmp out of it) has
 * parsed stay reachable; the next call frees them. */
static struct hbc_opts fuzz_opts;

int fuzz_cli_hbcollect(int argc, char **argv)
{
	int rc;

	hbc_alerts_free(&fuzz_opts.ops.alerts);
	rc = hbc_parse_args(&fuzz_opts, argc, argv);
	hbc_alerts_free(&fuzz_opts.ops.alerts);
	return rc;
}
