/* SPDX-License-Identifier: MIT */
/*
 * serve.c - hbweb's HTTP answers. Read-only: GET and HEAD only.
 *
 *   /, /index.html, /timeline.html, /app.js, ... the built-in page
 *   /state.json        the model as `hbtop -b -o json` prints it
 *   /stream            Server-Sent Events: the full state, then deltas
 *   /producer.json?ring=NAME  one producer's row and its newest events
 *   /timeline.json     (--replay) the archive's rates and marks
 */
#include "web.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assets.h"
#include "http.h"

int web_state_json(struct web_server *s, char **out, size_t *len)
{
	static const struct top_view v = {.sort = TC_NAME}; /* hbtop's default */
	struct top_snap snap = {0};
	FILE *f;

	*out = NULL;
	if (!top_model_caught_up(s->model))
		return -EAGAIN;
	f = open_memstream(out, len);
	if (!f)
		return -ENOMEM;
	pthread_mutex_lock(&s->snap_mu);
	top_model_snapshot(s->model, &snap);
	pthread_mutex_unlock(&s->snap_mu);
	top_view_apply(&v, &snap);
	top_print_json(f, &v, &snap);
	top_snap_free(&snap);
	if (fclose(f)) {
		free(*out);
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

void web_publish(struct web_server *s)
{
	struct top_snap snap = {0};
	char *full, *delta;
	size_t flen, dlen;
	int rc;

	pthread_mutex_lock(&s->snap_mu);
	top_model_snapshot(s->model, &snap);
	rc = web_state_update(s->state, &snap, s->mode, web_hub_clients(s->hub), &full, &flen,
			      &delta, &dlen);
	pthread_mutex_unlock(&s->snap_mu);
	top_snap_free(&snap);
	if (!rc)
		web_hub_publish(s->hub, full, flen, delta, dlen);
}

/* Queues buf (malloc'd, freed by the daemon) with a content type. */
static enum MHD_Result web_send(struct MHD_Connection *c, unsigned status, const char *type,
				char *buf, size_t len)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	if (!r) {
		free(buf);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result web_asset_send(struct MHD_Connection *c, const struct web_asset *a)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(a->len, (void *)a->data,
								 MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, a->type);
	/* nothing of the page may come from elsewhere, nor run inline */
	MHD_add_response_header(r, "Content-Security-Policy",
				"default-src 'self'; img-src 'self' data:; style-src 'self'");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result web_state_send(struct web_server *s, struct MHD_Connection *c)
{
	char *buf;
	size_t len;
	int rc = web_state_json(s, &buf, &len);

	if (rc == -EAGAIN)
		return hb_http_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "still reading the archive\n");
	if (rc)
		return hb_http_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	return web_send(c, MHD_HTTP_OK, "application/json", buf, len);
}

static enum MHD_Result web_producer_send(struct web_server *s, struct MHD_Connection *c)
{
	const char *ring = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "ring");
	size_t cap = TOP_RECENT * 520 + 64, off;
	char *row, *buf;
	int n;

	if (!ring || !*ring)
		return hb_http_text(c, MHD_HTTP_BAD_REQUEST, "want ?ring=NAME\n");
	row = web_state_row(s->state, ring);
	if (!row)
		return hb_http_text(c, MHD_HTTP_NOT_FOUND, "no such producer\n");
	buf = malloc(strlen(row) + 32 + cap); /* {"row":ROW,"events":[...]} */
	if (!buf) {
		free(row);
		return hb_http_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	}
	off = (size_t)sprintf(buf, "{\"row\":%s,\"events\":", row);
	free(row);
	n = top_model_recent(s->model, ring, buf + off, cap);
	if (n < 0)
		n = sprintf(buf + off, "[]");
	off += (size_t)n;
	buf[off++] = '}';
	return web_send(c, MHD_HTTP_OK, "application/json", buf, off);
}

static enum MHD_Result web_stream_send(struct web_server *s, struct MHD_Connection *c)
{
	struct MHD_Response *r = web_hub_response(s->hub, c);
	enum MHD_Result ret;

	if (!r)
		return hb_http_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "stream closed\n");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static const struct web_asset *web_asset_find(const char *path)
{
	const struct web_asset *a;

	for (a = web_assets; a->path; a++)
		if (!strcmp(a->path, path))
			return a;
	return NULL;
}

enum MHD_Result web_handle(void *cls, struct MHD_Connection *c, const char *url,
			   const char *method, const char *version, const char *upload,
			   size_t *upload_len, void **req)
{
	struct web_server *s = cls;
	const struct web_asset *a;

	(void)version, (void)upload;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return hb_http_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "read-only: GET and HEAD only\n");
	if (!*req) { /* headers only so far: answer on the next call */
		*req = (void *)1;
		return MHD_YES;
	}
	if (*upload_len)
		return hb_http_text(c, MHD_HTTP_BAD_REQUEST, "no request body expected\n");
	if (!strcmp(url, "/"))
		url = strcmp(s->mode, "replay") ? "/index.html" : "/timeline.html";
	if (!strcmp(url, "/state.json"))
		return web_state_send(s, c);
	if (!strcmp(url, "/stream"))
		return web_stream_send(s, c);
	if (!strcmp(url, "/producer.json"))
		return web_producer_send(s, c);
	if (!strcmp(url, "/timeline.json")) {
		char *buf;

		if (!s->timeline)
			return hb_http_text(c, MHD_HTTP_NOT_FOUND, "no timeline: start with --replay DIR\n");
		buf = malloc(s->timeline_len);
		if (!buf)
			return hb_http_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
		memcpy(buf, s->timeline, s->timeline_len);
		return web_send(c, MHD_HTTP_OK, "application/json", buf, s->timeline_len);
	}
	a = web_asset_find(url);
	if (a)
		return web_asset_send(c, a);
	return hb_http_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
}
