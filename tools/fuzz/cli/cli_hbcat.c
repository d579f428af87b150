/* SPDX-License-Identifier: MIT */
#include "cli.h"
#define main hbcat_main
#define exit fuzz_cli_exit
#include "../../../consumers/hbcat.c"

/* Static, so what a parser that exits (a longjmp out of it) has pushed stays
 * reachable; the next call frees it. */
static struct cat fuzz_cat;

int fuzz_cli_hbcat(int argc, char **argv)
{
	free(fuzz_cat.flt.types);
	free(fuzz_cat.flt.prods);
	free(fuzz_cat.flt.hosts);
	memset(&fuzz_cat, 0, sizeof(fuzz_cat));
	fuzz_cat.out = stdout;
	parse_opts(&fuzz_cat, argc, argv);
	return -1;
}
