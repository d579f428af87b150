/* SPDX-License-Identifier: MIT */
#include "cli.h"
#define main hbload_main
#define exit fuzz_cli_exit
#include "../../../producers/hbload.c"

int fuzz_cli_hbload(int argc, char **argv)
{
	struct opts o = {.prefix = "load", .producers = 4, .records = 100000};

	parse_args(&o, argc, argv);
	return -1;
}
