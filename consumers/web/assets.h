/* SPDX-License-Identifier: MIT */
/*
 * assets.h - the page's files built into hbweb: tools/embed_assets.sh turns
 * consumers/web/assets/ into this table at build time, so the binary
 * serves them without reading anything from disk or elsewhere.
 */
#ifndef HB_WEB_ASSETS_H
#define HB_WEB_ASSETS_H

#include <stddef.h>

struct web_asset {
	const char *path; /* "/index.html" */
	const char *type; /* Content-Type */
	const unsigned char *data;
	size_t len;
};

/* Ends with an entry whose path is NULL. */
extern const struct web_asset web_assets[];

#endif
