/* SPDX-License-Identifier: MIT */
/*
 * open_probe - opens a producer handle with the given bus, name and shm
 * mode through hb_open, for tests/e2e/permissions.sh. Built by the test:
 *   cc -Iinclude tests/e2e/open_probe.c producers/hb.c -o open_probe
 *
 *   open_probe BUS NAME MODE(octal, 0 = default)
 *
 * Prints "rc=N ring=NAME" (N = hb_open's return, 0 or -errno), emits one
 * event, and with rc=0 waits for a line on stdin before closing.
 */
#include "hb.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	struct hb_config c = {0};
	struct hb_producer *p;
	char line[16];
	int rc;

	if (argc != 4) {
		fprintf(stderr, "usage: open_probe BUS NAME MODE\n");
		return 2;
	}
	c.bus = argv[1];
	c.name = argv[2];
	c.mode = (unsigned)strtoul(argv[3], NULL, 8);
	c.single_thread = 1; /* the ring is made now, its name printed */
	rc = hb_open(&p, &c);
	printf("rc=%d ring=%s\n", rc, rc == 0 ? p->shm_name + 1 : "-");
	fflush(stdout);
	if (rc)
		return 1;
	hb_heartbeat(p);
	if (!fgets(line, sizeof(line), stdin))
		line[0] = 0;
	hb_close(p);
	return 0;
}
