/* SPDX-License-Identifier: MIT */
/*
 * cli.h - running a tool's option parser inside the fuzz process. Each
 * cli_<tool>.c includes the tool's source with main renamed and exit()
 * turned into a jump back to the driver, then calls the tool's own parser.
 */
#ifndef HB_FUZZ_CLI_H
#define HB_FUZZ_CLI_H

#include <setjmp.h>

extern jmp_buf fuzz_cli_jmp;
__attribute__((noreturn)) void fuzz_cli_exit(int code);

/* Each returns the exit code the tool would use, or -1 to "go on". */
int fuzz_cli_hbcollect(int argc, char **argv);
int fuzz_cli_hbcat(int argc, char **argv);
int fuzz_cli_hbload(int argc, char **argv);
int fuzz_cli_hbtop(int argc, char **argv);
int fuzz_cli_hbreplay(int argc, char **argv);

#endif
