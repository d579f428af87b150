/* SPDX-License-Identifier: MIT */
/*
 * fuzz_cli - every tool's command-line parsing on hostile arguments:
 * hbcollect, hbcat, hbload, hbtop and hbreplay, each parser run in process
 * (tools/fuzz/cli/), exit() turned into a jump back here.
 *
 * Input: tool u8, then the arguments separated by NUL bytes (at most 24).
 * Checked: no memory error, and the exit code is one the tools document
 * (0 for --help/--version, 1, 2 for usage errors) or "go on".
 */
#include "cli/cli.h"
#include "fuzz_input.h"

#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define MAX_ARGS 24

jmp_buf fuzz_cli_jmp;

void fuzz_cli_exit(int code)
{
	longjmp(fuzz_cli_jmp, code + 1000);
}

static int (*const tools[])(int, char **) = {
	fuzz_cli_hbcollect, fuzz_cli_hbcat, fuzz_cli_hbload, fuzz_cli_hbtop, fuzz_cli_hbreplay,
};
static const char *const names[] = {"hbcollect", "hbcat", "hbload", "hbtop", "hbreplay"};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("HB_BUS", "fuzz", 1);
	setenv("HB_DIR", "/nonexistent/hb-fuzz", 1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[4096];
	char *argv[MAX_ARGS + 2];
	unsigned t;
	size_t n, i;
	int argc = 1;
	volatile int rc;

	if (size < 1)
		return 0;
	t = data[0] % (sizeof(tools) / sizeof(tools[0]));
	n = size - 1 < sizeof(buf) - 1 ? size - 1 : sizeof(buf) - 1;
	memcpy(buf, data + 1, n);
	buf[n] = 0;
	argv[0] = (char *)names[t];
	if (n)
		argv[argc++] = buf;
	for (i = 0; i < n && argc <= MAX_ARGS; i++)
		if (buf[i] == 0 && i + 1 < n)
			argv[argc++] = buf + i + 1;
	argv[argc] = NULL;
	optind = 0; /* glibc: reinitialise getopt completely */
	rc = setjmp(fuzz_cli_jmp);
	if (rc == 0)
		rc = tools[t](argc, argv);
	else
		rc -= 1000;
	if (rc != -1 && rc != 0 && rc != 1 && rc != 2) {
		fprintf(stderr, "%s: unexpected exit code %d\n", names[t], rc);
		abort();
	}
	return 0;
}
