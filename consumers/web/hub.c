/* SPDX-License-Identifier: MIT */
/*
 * hub.c - the Server-Sent Events stream (see web.h).
 *
 * Messages are immutable and reference-counted: the hub holds the newest
 * `keep` deltas and the newest full state; a client holds at most the one
 * it is sending. A client that has sent everything suspends its connection
 * (libmicrohttpd then leaves it alone) and publish resumes it. Both happen
 * under the hub mutex, so a resume never comes before its suspend. So
 * memory is bounded by keep + 1 messages plus one per client, whatever the
 * clients do: one that does not read has its socket buffer full and is
 * closed by the daemon's idle timeout; one that lags behind the deltas
 * starts again from the full state.
 */
#include "web.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct web_msg {
	_Atomic unsigned refs;
	uint64_t seq; /* delta: its number; full: the delta it includes */
	size_t len;
	char data[];  /* "id: N\ndata: JSON\n\n" */
};

struct web_client {
	struct web_hub *hub;
	struct MHD_Connection *conn;
	struct web_msg *cur; /* being sent, or NULL */
	size_t off;
	uint64_t next;       /* next delta to send; 0: start from the full state */
	int suspended;
	struct web_client *prev, *nxt;
};

struct web_hub {
	pthread_mutex_t mu; /* guards everything below */
	unsigned keep;
	struct web_msg **ring; /* deltas: ring[seq % keep] */
	uint64_t seq;          /* newest delta, 0: none yet */
	struct web_msg *full;
	struct web_client *clients;
	unsigned nclients;
	int closed;
};

static void web_msg_put(struct web_msg *m)
{
	if (m && atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1)
		free(m);
}

static struct web_msg *web_msg_get(struct web_msg *m)
{
	atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
	return m;
}

/* Frames json (taken over and freed) as one SSE event. */
static struct web_msg *web_msg_new(uint64_t seq, char *json, size_t len)
{
	struct web_msg *m = malloc(sizeof(*m) + len + 48);

	if (m) {
		atomic_init(&m->refs, 1);
		m->seq = seq;
		m->len = (size_t)sprintf(m->data, "id: %llu\ndata: ", (unsigned long long)seq);
		memcpy(m->data + m->len, json, len);
		m->len += len;
		memcpy(m->data + m->len, "\n\n", 3);
		m->len += 2;
	}
	free(json);
	return m;
}

int web_hub_new(struct web_hub **out, unsigned keep)
{
	struct web_hub *h = calloc(1, sizeof(*h));

	if (!h || !(h->ring = calloc(keep ? keep : 1, sizeof(*h->ring)))) {
		free(h);
		return -ENOMEM;
	}
	h->keep = keep ? keep : 1;
	pthread_mutex_init(&h->mu, NULL);
	*out = h;
	return 0;
}

/* Resumes every suspended client (mu held). */
static void web_hub_wake(struct web_hub *h)
{
	struct web_client *c;

	for (c = h->clients; c; c = c->nxt)
		if (c->suspended) {
			c->suspended = 0;
			MHD_resume_connection(c->conn);
		}
}

void web_hub_publish(struct web_hub *h, char *full, size_t flen, char *delta, size_t dlen)
{
	struct web_msg *d, *f, *old_d, *old_f;

	pthread_mutex_lock(&h->mu);
	d = web_msg_new(h->seq + 1, delta, dlen);
	f = web_msg_new(h->seq + 1, full, flen);
	if (!d || !f || h->closed) {
		pthread_mutex_unlock(&h->mu);
		web_msg_put(d), web_msg_put(f);
		return;
	}
	h->seq++;
	old_d = h->ring[h->seq % h->keep];
	h->ring[h->seq % h->keep] = d;
	old_f = h->full;
	h->full = f;
	web_hub_wake(h);
	pthread_mutex_unlock(&h->mu);
	web_msg_put(old_d);
	web_msg_put(old_f);
}

/* The next message for c, with a reference, or NULL (mu held). */
static struct web_msg *web_hub_next(struct web_hub *h, struct web_client *c)
{
	if (!h->seq)
		return NULL;
	if (!c->next || c->next + h->keep <= h->seq) {
		c->next = h->full->seq + 1; /* new, or too far behind: the full state */
		return web_msg_get(h->full);
	}
	if (c->next > h->seq)
		return NULL;
	return web_msg_get(h->ring[c->next++ % h->keep]);
}

static ssize_t web_hub_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct web_client *c = cls;
	struct web_hub *h = c->hub;
	size_t n;

	(void)pos;
	if (!c->cur) {
		pthread_mutex_lock(&h->mu);
		if (h->closed) {
			pthread_mutex_unlock(&h->mu);
			return MHD_CONTENT_READER_END_OF_STREAM;
		}
		c->cur = web_hub_next(h, c);
		c->off = 0;
		if (!c->cur) {
			/* resumed by web_hub_wake, under the same mutex */
			c->suspended = 1;
			MHD_suspend_connection(c->conn);
			pthread_mutex_unlock(&h->mu);
			return 0;
		}
		pthread_mutex_unlock(&h->mu);
	}
	n = c->cur->len - c->off < max ? c->cur->len - c->off : max;
	memcpy(buf, c->cur->data + c->off, n);
	c->off += n;
	if (c->off == c->cur->len) {
		web_msg_put(c->cur);
		c->cur = NULL;
	}
	return (ssize_t)n;
}

static void web_hub_gone(void *cls)
{
	struct web_client *c = cls;
	struct web_hub *h = c->hub;

	pthread_mutex_lock(&h->mu);
	if (c->prev)
		c->prev->nxt = c->nxt;
	else
		h->clients = c->nxt;
	if (c->nxt)
		c->nxt->prev = c->prev;
	h->nclients--;
	pthread_mutex_unlock(&h->mu);
	web_msg_put(c->cur);
	free(c);
}

struct MHD_Response *web_hub_response(struct web_hub *h, struct MHD_Connection *conn)
{
	struct web_client *c = calloc(1, sizeof(*c));
	struct MHD_Response *r;

	if (!c)
		return NULL;
	c->hub = h;
	c->conn = conn;
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, web_hub_read, c,
					      web_hub_gone);
	if (!r) {
		free(c);
		return NULL;
	}
	pthread_mutex_lock(&h->mu);
	c->nxt = h->clients;
	if (h->clients)
		h->clients->prev = c;
	h->clients = c;
	h->nclients++;
	pthread_mutex_unlock(&h->mu);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	return r;
}

unsigned web_hub_clients(struct web_hub *h)
{
	unsigned n;

	pthread_mutex_lock(&h->mu);
	n = h->nclients;
	pthread_mutex_unlock(&h->mu);
	return n;
}

void web_hub_close(struct web_hub *h)
{
	pthread_mutex_lock(&h->mu);
	h->closed = 1;
	web_hub_wake(h);
	pthread_mutex_unlock(&h->mu);
}

void web_hub_free(struct web_hub *h)
{
	unsigned i;

	if (!h)
		return;
	for (i = 0; i < h->keep; i++)
		web_msg_put(h->ring[i]);
	web_msg_put(h->full);
	free(h->ring);
	pthread_mutex_destroy(&h->mu);
	free(h);
}
