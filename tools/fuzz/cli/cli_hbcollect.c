/* SPDX-License-Identifier: MIT */
#include "cli.h"
#define main hbcollect_main
#define exit fuzz_cli_exit
#include "../../../bus/hbcollect.c"

int fuzz_cli_hbcollect(int argc, char **argv)
{
	struct hbc_opts o;

	return hbc_parse_args(&o, argc, argv);
}
