/* SPDX-License-Identifier: MIT */
#include "cli.h"
#define main hbreplay_main
#define exit fuzz_cli_exit
#include "../../../consumers/hbreplay.c"

int fuzz_cli_hbreplay(int argc, char **argv)
{
	struct opts o;

	memset(&o, 0, sizeof(o));
	return parse_opts(argc, argv, &o);
}
