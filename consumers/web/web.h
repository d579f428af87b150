/* SPDX-License-Identifier: MIT */
/*
 * web.h - hbweb: hbtop's model served to a browser.
 *
 * state.c turns model snapshots into the page's JSON: a full state and a
 * delta holding only the rows that changed since the previous snapshot.
 * hub.c streams those to every Server-Sent Events client: a bounded list
 * of recent deltas plus the newest full state, so a client that falls
 * behind starts again from the full state instead of holding memory.
 * timeline.c reads an archive into per-type and per-producer rates and
 * marks (crashes, state changes, heartbeat gaps, drops, alerts).
 * serve.c answers the HTTP requests (libmicrohttpd, http.h).
 */
#ifndef HB_WEB_H
#define HB_WEB_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "../top/top.h"

#define WEB_SPARK 60 /* seconds of rate and drop history per producer */

/* ---- state.c ---- */
struct web_state;

int web_state_new(struct web_state **out);
void web_state_free(struct web_state *w);
/* Folds a snapshot (rows in any order): *full gets the whole state,
 * *delta the rows changed since the previous call and those gone; both
 * malloc'd JSON objects without newlines. 0 or -ENOMEM. */
int web_state_update(struct web_state *w, const struct top_snap *s, const char *mode,
		     unsigned clients, char **full, size_t *flen, char **delta, size_t *dlen);
/* The row of ring as in the stream, into a malloc'd string; NULL if none. */
char *web_state_row(struct web_state *w, const char *ring);

/* ---- hub.c ---- */
struct web_hub;

int web_hub_new(struct web_hub **out, unsigned keep);
/* Ends every stream (the clients see the end of the response). */
void web_hub_close(struct web_hub *h);
void web_hub_free(struct web_hub *h);
/* Takes ownership of both messages (malloc'd JSON): a delta for the
 * clients that are up to date, and the full state for new clients and
 * those the delta list no longer reaches. Wakes the waiting clients. */
void web_hub_publish(struct web_hub *h, char *full, size_t flen, char *delta, size_t dlen);
/* A streaming response for one new client of connection c (NULL: no
 * memory or the hub is closed). */
struct MHD_Response *web_hub_response(struct web_hub *h, struct MHD_Connection *c);
unsigned web_hub_clients(struct web_hub *h);

/* ---- timeline.c ---- */
/* Reads the archive at paths and writes the timeline JSON (malloc'd) to
 * *out. 0 or -errno. */
int web_timeline_build(const char *const *paths, size_t npaths, unsigned max_buckets,
		       char **out, size_t *len);

/* ---- serve.c ---- */
struct web_server {
	struct top_model *model;
	pthread_mutex_t snap_mu; /* one snapshot at a time (ring mappings) */
	struct web_state *state;  /* under snap_mu */
	struct web_hub *hub;
	const char *mode;         /* "live" or "replay" */
	char *timeline;           /* replay: the timeline JSON */
	size_t timeline_len;
	struct MHD_Daemon *d;
};

/* Snapshot of the model as in `hbtop -b -o json` (default view), malloc'd
 * into *out; -EAGAIN while the model is still catching up. */
int web_state_json(struct web_server *s, char **out, size_t *len);
/* Takes a snapshot and publishes it to the hub. */
void web_publish(struct web_server *s);
/* libmicrohttpd's access handler (cls = struct web_server). */
enum MHD_Result web_handle(void *cls, struct MHD_Connection *c, const char *url,
			   const char *method, const char *version, const char *upload,
			   size_t *upload_len, void **req);

#endif
