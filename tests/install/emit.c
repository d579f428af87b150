/* SPDX-License-Identifier: MIT */
/*
 * emit.c - emits N events of type "pkg.ev" (field n = 0..N-1) through
 * whatever libhb it was linked with (libhb.so through pkg-config, or a
 * plugin that carries libhb.a inside it), then closes. Built and run by
 * tests/e2e/shared_libraries.sh.
 *
 *   emit N            emit from this program
 *   emit N PLUGIN.so  dlopen PLUGIN.so and call its pkg_emit(N)
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef PKG_NO_HB
#include <hb.h>

int pkg_emit(unsigned n);

int pkg_emit(unsigned n)
{
	static const struct hb_field f[] = {{"n", HB_T_U64}};
	struct hb_config cfg = {.name = "pkg-check", .ring_kb = 1024};
	struct hb_producer *p;
	unsigned i;
	int rc, t;

	rc = hb_open(&p, &cfg);
	if (rc < 0)
		return rc;
	t = hb_type_register(p, "pkg.ev", f, 1);
	if (t < 0)
		return t;
	for (i = 0; i < n; i++)
		if ((rc = hb_event(p, (unsigned)t, HB_PRIO_NORMAL, i, HB_U64(i))) < 0)
			return rc;
	hb_close(p);
	return 0;
}
#endif

#ifndef PKG_PLUGIN
int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 0;
	int (*fn)(unsigned);
	int rc;

	if (argc > 2) {
		void *h = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);

		if (!h || !(fn = (int (*)(unsigned))dlsym(h, "pkg_emit"))) {
			fprintf(stderr, "emit: %s\n", dlerror());
			return 1;
		}
	} else {
#ifdef PKG_NO_HB
		return 2;
#else
		fn = pkg_emit;
#endif
	}
	rc = fn(n);
	if (rc < 0) {
		fprintf(stderr, "emit: pkg_emit: %d\n", rc);
		return 1;
	}
	return 0;
}
#endif
