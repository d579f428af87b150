/* SPDX-License-Identifier: MIT */
/* nats_pub URL SUBJECT FILE...: publishes each file's bytes as one
 * JetStream message on SUBJECT and prints the stream sequence the server
 * acknowledged for it, one a line. For the tests' bad fleet messages. */
#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>

static char *slurp(const char *path, long *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;

	if (!f || fseek(f, 0, SEEK_END) || (*len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		return NULL;
	buf = malloc((size_t)*len + 1);
	if (buf && fread(buf, 1, (size_t)*len, f) != (size_t)*len) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	int i, rc = 0;

	if (argc < 4) {
		fprintf(stderr, "usage: nats_pub URL SUBJECT FILE...\n");
		return 2;
	}
	if (natsConnection_ConnectTo(&nc, argv[1]) != NATS_OK ||
	    natsConnection_JetStream(&js, nc, NULL) != NATS_OK) {
		fprintf(stderr, "nats_pub: cannot connect to %s\n", argv[1]);
		return 1;
	}
	for (i = 3; i < argc && !rc; i++) {
		jsPubAck *pa = NULL;
		jsErrCode jerr = 0;
		long len = 0;
		char *data = slurp(argv[i], &len);
		natsStatus s = data ? js_Publish(&pa, js, argv[2], data, (int)len, NULL, &jerr)
				    : NATS_ERR;

		if (s == NATS_OK)
			printf("%llu\n", (unsigned long long)pa->Sequence);
		else
			fprintf(stderr, "nats_pub: %s: %s (%d)\n", argv[i], natsStatus_GetText(s),
				(int)jerr), rc = 1;
		jsPubAck_Destroy(pa);
		free(data);
	}
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	nats_Close();
	return rc;
}
