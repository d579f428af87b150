/* SPDX-License-Identifier: MIT */
#include "cli.h"
#define main hbtop_main
#define exit fuzz_cli_exit
#include "../../../consumers/hbtop.c"

int fuzz_cli_hbtop(int argc, char **argv)
{
	struct hbtop_args a = {.delay_ms = 2000, .v.sort = TC_NAME, .speed = 1};

	return hbtop_parse(argc, argv, &a);
}
