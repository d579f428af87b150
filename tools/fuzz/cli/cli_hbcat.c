/* SPDX-License-Identifier: MIT */
#include "cli.h"
#define main hbcat_main
#define exit fuzz_cli_exit
#include "../../../consumers/hbcat.c"

int fuzz_cli_hbcat(int argc, char **argv)
{
	struct cat c = {.out = stdout};

	parse_opts(&c, argc, argv);
	return -1;
}
