/* SPDX-License-Identifier: MIT */
/*
 * prom.c - the /metrics HTTP server (see prom.h), on libmicrohttpd.
 *
 * The daemon runs its own thread (http.h): at most HBC_PROM_MAXCONN
 * connections, each closed after HBC_PROM_TIMEOUT_S idle, so a slow or
 * stuck client never reaches the drain loop.
 *
 * The exposition is a reference-counted immutable block: publish swaps the
 * current block under the mutex; a response takes a reference under the
 * same mutex, sends from it without the lock, and drops the reference in
 * the response's free callback.
 */
#include "prom.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

#define HBC_PROM_MAXCONN 32
#define HBC_PROM_TIMEOUT_S 10

struct hbc_prom_text {
	_Atomic unsigned refs;
	size_t len;
	char *data;
};

struct hbc_prom_server {
	struct MHD_Daemon *d;
	int port;
	pthread_mutex_t mu;        /* guards cur (held only to swap or take a ref) */
	struct hbc_prom_text *cur;
	_Atomic uint64_t requests;
};

static void hbc_prom_text_put(struct hbc_prom_text *t)
{
	if (t && atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) == 1) {
		free(t->data);
		free(t);
	}
}

static void hbc_prom_text_free(void *t)
{
	hbc_prom_text_put(t);
}

static struct hbc_prom_text *hbc_prom_text_get(struct hbc_prom_server *s)
{
	struct hbc_prom_text *t;

	pthread_mutex_lock(&s->mu);
	t = s->cur;
	if (t)
		atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
	pthread_mutex_unlock(&s->mu);
	return t;
}

void hbc_prom_server_publish(struct hbc_prom_server *s, char *text, size_t len)
{
	struct hbc_prom_text *t = malloc(sizeof(*t)), *old;

	if (!t) {
		free(text);
		return;
	}
	atomic_init(&t->refs, 1);
	t->data = text;
	t->len = len;
	pthread_mutex_lock(&s->mu);
	old = s->cur;
	s->cur = t;
	pthread_mutex_unlock(&s->mu);
	hbc_prom_text_put(old);
}

/* The exposition, or a placeholder before the first one. */
static enum MHD_Result hbc_prom_metrics(struct hbc_prom_server *s, struct MHD_Connection *c)
{
	static const char fallback[] = "# no data yet\n";
	struct hbc_prom_text *t = hbc_prom_text_get(s);
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (t)
		r = MHD_create_response_from_buffer_with_free_callback_cls(
			t->len, t->data, hbc_prom_text_free, t);
	else
		r = MHD_create_response_from_buffer(sizeof(fallback) - 1, (void *)fallback,
						    MHD_RESPMEM_PERSISTENT);
	if (!r) {
		hbc_prom_text_put(t);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; version=0.0.4; charset=utf-8");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result hbc_prom_handle(void *cls, struct MHD_Connection *c, const char *url,
				      const char *method, const char *version,
				      const char *upload, size_t *upload_size, void **req)
{
	struct hbc_prom_server *s = cls;

	(void)version, (void)upload, (void)upload_size, (void)req;
	atomic_fetch_add_explicit(&s->requests, 1, memory_order_relaxed);
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return hb_http_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "Method Not Allowed\n");
	if (strcmp(url, "/metrics"))
		return hb_http_text(c, MHD_HTTP_NOT_FOUND, "Not Found\n");
	return hbc_prom_metrics(s, c);
}

int hbc_prom_server_start(struct hbc_prom_server **out, const char *hostport, char *err,
			 size_t errlen)
{
	struct hbc_prom_server *s = calloc(1, sizeof(*s));
	struct hb_http_opts o = {.hostport = hostport, .allow_remote = 1,
				 .max_conns = HBC_PROM_MAXCONN, .timeout_s = HBC_PROM_TIMEOUT_S,
				 .handler = hbc_prom_handle, .cls = s};
	int rc;

	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->mu, NULL);
	rc = hb_http_start(&s->d, &o, &s->port, err, errlen);
	if (rc) {
		pthread_mutex_destroy(&s->mu);
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int hbc_prom_server_port(const struct hbc_prom_server *s)
{
	return s->port;
}

uint64_t hbc_prom_server_requests(const struct hbc_prom_server *s)
{
	return atomic_load_explicit(&s->requests, memory_order_relaxed);
}

void hbc_prom_server_stop(struct hbc_prom_server *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->d);
	hbc_prom_text_put(s->cur);
	pthread_mutex_destroy(&s->mu);
	free(s);
}
