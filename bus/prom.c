/* SPDX-License-Identifier: MIT */
/*
 * prom.c - the /metrics HTTP server (see prom.h).
 *
 * One thread, poll(2) over the listening socket, a wake-up pipe and up to
 * HB_PROM_MAXCONN nonblocking connections. Each connection reads one
 * request (at most HB_PROM_REQMAX bytes), answers, and is closed; one that
 * takes longer than HB_PROM_DEADLINE_MS in total is dropped.
 *
 * The exposition is a reference-counted immutable block: publish swaps the
 * current block under the mutex; a connection takes a reference under the
 * same mutex and sends from it without holding the lock.
 */
#include "prom.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HB_PROM_MAXCONN 32
#define HB_PROM_REQMAX 8192
#define HB_PROM_DEADLINE_MS 10000

struct hb_prom_text {
	_Atomic unsigned refs;
	size_t len;
	char *data;
};

struct hb_prom_conn {
	int fd;
	uint64_t deadline_ms;
	size_t rlen;
	char req[HB_PROM_REQMAX];
	char head[256]; /* response head */
	size_t hlen, hoff;
	struct hb_prom_text *body; /* NULL: no body */
	size_t boff;
	int writing;
};

struct hb_prom_server {
	int lfd;
	int wake[2];
	int port;
	pthread_t thread;
	pthread_mutex_t mu;        /* guards cur (held only to swap or take a ref) */
	struct hb_prom_text *cur;
	_Atomic uint64_t requests;
	struct hb_prom_conn *conns[HB_PROM_MAXCONN];
};

static uint64_t hb_prom_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void hb_prom_text_put(struct hb_prom_text *t)
{
	if (t && atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) == 1) {
		free(t->data);
		free(t);
	}
}

static struct hb_prom_text *hb_prom_text_get(struct hb_prom_server *s)
{
	struct hb_prom_text *t;

	pthread_mutex_lock(&s->mu);
	t = s->cur;
	if (t)
		atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
	pthread_mutex_unlock(&s->mu);
	return t;
}

void hb_prom_server_publish(struct hb_prom_server *s, char *text, size_t len)
{
	struct hb_prom_text *t = malloc(sizeof(*t)), *old;

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
	hb_prom_text_put(old);
}

static void hb_prom_conn_close(struct hb_prom_server *s, int i)
{
	struct hb_prom_conn *c = s->conns[i];

	close(c->fd);
	hb_prom_text_put(c->body);
	free(c);
	s->conns[i] = NULL;
}

static void hb_prom_respond(struct hb_prom_server *s, struct hb_prom_conn *c, int status,
			    const char *reason, int head_only)
{
	static const char fallback[] = "# no data yet\n";
	const char *ctype = "text/plain; charset=utf-8";
	char small[64];
	size_t blen;
	int n;

	/* a small body (errors, no data yet) goes out with the head */
	snprintf(small, sizeof(small), "%s\n", reason);
	if (status == 200) {
		c->body = hb_prom_text_get(s);
		ctype = "text/plain; version=0.0.4; charset=utf-8";
		if (!c->body)
			snprintf(small, sizeof(small), "%s", fallback);
	}
	blen = c->body ? c->body->len : strlen(small);
	n = snprintf(c->head, sizeof(c->head),
		     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		     "%sConnection: close\r\n\r\n%s",
		     status, reason, ctype, blen, status == 405 ? "Allow: GET, HEAD\r\n" : "",
		     head_only || c->body ? "" : small);
	c->hlen = n < 0 ? 0 : (size_t)n >= sizeof(c->head) ? sizeof(c->head) - 1 : (size_t)n;
	if (head_only) {
		hb_prom_text_put(c->body);
		c->body = NULL;
	}
	c->writing = 1;
	atomic_fetch_add_explicit(&s->requests, 1, memory_order_relaxed);
}

/* Parses the request line once the head is complete. */
static void hb_prom_handle(struct hb_prom_server *s, struct hb_prom_conn *c)
{
	char method[16], target[1024];
	size_t plen;

	if (sscanf(c->req, "%15s %1023s HTTP/", method, target) != 2) {
		hb_prom_respond(s, c, 400, "Bad Request", 0);
		return;
	}
	plen = strcspn(target, "?");
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		hb_prom_respond(s, c, 405, "Method Not Allowed", 0);
		return;
	}
	if (plen != 8 || strncmp(target, "/metrics", 8)) {
		hb_prom_respond(s, c, 404, "Not Found", !strcmp(method, "HEAD"));
		return;
	}
	hb_prom_respond(s, c, 200, "OK", !strcmp(method, "HEAD"));
}

/* Returns 1 when the connection is finished (close it). */
static int hb_prom_conn_read(struct hb_prom_server *s, struct hb_prom_conn *c)
{
	ssize_t n = read(c->fd, c->req + c->rlen, sizeof(c->req) - 1 - c->rlen);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		return 1;
	if (n < 0)
		return 0;
	c->rlen += (size_t)n;
	c->req[c->rlen] = 0;
	if (strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n"))
		hb_prom_handle(s, c);
	else if (c->rlen >= sizeof(c->req) - 1)
		hb_prom_respond(s, c, 431, "Request Header Fields Too Large", 0);
	return 0;
}

static int hb_prom_conn_write(struct hb_prom_conn *c)
{
	ssize_t n;

	while (c->hoff < c->hlen) {
		n = send(c->fd, c->head + c->hoff, c->hlen - c->hoff, MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : 1;
		c->hoff += (size_t)n;
	}
	while (c->body && c->boff < c->body->len) {
		n = send(c->fd, c->body->data + c->boff, c->body->len - c->boff, MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : 1;
		c->boff += (size_t)n;
	}
	shutdown(c->fd, SHUT_WR);
	return 1;
}

static void hb_prom_accept(struct hb_prom_server *s)
{
	struct hb_prom_conn *c;
	int fd, i;

	for (;;) {
		fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		for (i = 0; i < HB_PROM_MAXCONN && s->conns[i]; i++)
			;
		c = i < HB_PROM_MAXCONN ? calloc(1, sizeof(*c)) : NULL;
		if (!c) {
			close(fd); /* too many clients: refuse this one */
			continue;
		}
		c->fd = fd;
		c->deadline_ms = hb_prom_now_ms() + HB_PROM_DEADLINE_MS;
		s->conns[i] = c;
	}
}

static void *hb_prom_thread(void *arg)
{
	struct hb_prom_server *s = arg;
	struct pollfd pfd[HB_PROM_MAXCONN + 2];
	int map[HB_PROM_MAXCONN + 2];

	for (;;) {
		int n = 2, i, k;
		uint64_t now = hb_prom_now_ms();

		pfd[0] = (struct pollfd){.fd = s->wake[0], .events = POLLIN};
		pfd[1] = (struct pollfd){.fd = s->lfd, .events = POLLIN};
		for (i = 0; i < HB_PROM_MAXCONN; i++) {
			if (!s->conns[i])
				continue;
			if (now > s->conns[i]->deadline_ms) {
				hb_prom_conn_close(s, i); /* stuck or slow: drop it */
				continue;
			}
			pfd[n] = (struct pollfd){.fd = s->conns[i]->fd,
						 .events = s->conns[i]->writing ? POLLOUT : POLLIN};
			map[n++] = i;
		}
		if (poll(pfd, (nfds_t)n, 500) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents)
			break;
		for (k = 2; k < n; k++) {
			struct hb_prom_conn *c = s->conns[map[k]];
			int done = 0;

			if (!pfd[k].revents)
				continue;
			if (!c->writing)
				done = hb_prom_conn_read(s, c);
			if (!done && c->writing)
				done = hb_prom_conn_write(c);
			if (done)
				hb_prom_conn_close(s, map[k]);
		}
		if (pfd[1].revents)
			hb_prom_accept(s);
	}
	return NULL;
}

/* Fills addr from "HOST:PORT", ":PORT", "PORT" or "[V6]:PORT". */
static int hb_prom_addr(const char *hp, struct sockaddr_storage *ss, socklen_t *sl)
{
	char host[128] = "127.0.0.1";
	const char *colon = strrchr(hp, ':'), *ps = hp;
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	unsigned long port;
	char *end;

	if (colon) {
		size_t hl = (size_t)(colon - hp);

		if (hl >= 2 && hp[0] == '[' && hp[hl - 1] == ']')
			hp++, hl -= 2;
		if (hl >= sizeof(host))
			return -EINVAL;
		if (hl)
			memcpy(host, hp, hl), host[hl] = 0;
		ps = colon + 1;
	}
	errno = 0;
	port = strtoul(ps, &end, 10);
	if (errno || end == ps || *end || port > 65535)
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (!strcmp(host, "localhost"))
		snprintf(host, sizeof(host), "127.0.0.1");
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*sl = sizeof(*a4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*sl = sizeof(*a6);
		return 0;
	}
	return -EINVAL;
}

static int hb_prom_listen(struct hb_prom_server *s, const char *hp, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int one = 1, rc;

	if (hb_prom_addr(hp, &ss, &sl)) {
		snprintf(err, errlen, "bad address '%s' (want HOST:PORT with a numeric host)", hp);
		return -EINVAL;
	}
	s->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->lfd < 0)
		goto sys_err;
	setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s->lfd, (struct sockaddr *)&ss, sl) < 0 || listen(s->lfd, 64) < 0)
		goto sys_err;
	sl = sizeof(ss);
	if (getsockname(s->lfd, (struct sockaddr *)&ss, &sl) == 0)
		s->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
							: ((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
sys_err:
	rc = -errno;
	snprintf(err, errlen, "%s: %s", hp, strerror(-rc));
	return rc;
}

int hb_prom_server_start(struct hb_prom_server **out, const char *hostport, char *err,
			 size_t errlen)
{
	struct hb_prom_server *s = calloc(1, sizeof(*s));
	int rc;

	if (!s)
		return -ENOMEM;
	s->lfd = -1;
	s->wake[0] = s->wake[1] = -1;
	pthread_mutex_init(&s->mu, NULL);
	rc = hb_prom_listen(s, hostport, err, errlen);
	if (rc)
		goto err;
	if (pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		rc = -errno;
		snprintf(err, errlen, "pipe: %s", strerror(-rc));
		goto err;
	}
	rc = -pthread_create(&s->thread, NULL, hb_prom_thread, s);
	if (rc) {
		snprintf(err, errlen, "thread: %s", strerror(-rc));
		goto err;
	}
	*out = s;
	return 0;
err:
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->wake[0] >= 0)
		close(s->wake[0]), close(s->wake[1]);
	pthread_mutex_destroy(&s->mu);
	free(s);
	return rc;
}

int hb_prom_server_port(const struct hb_prom_server *s)
{
	return s->port;
}

uint64_t hb_prom_server_requests(const struct hb_prom_server *s)
{
	return atomic_load_explicit(&s->requests, memory_order_relaxed);
}

void hb_prom_server_stop(struct hb_prom_server *s)
{
	int i;

	if (!s)
		return;
	if (write(s->wake[1], "x", 1) < 0) {
		/* the pipe is empty and nonblocking: cannot fail but EINTR */
	}
	pthread_join(s->thread, NULL);
	for (i = 0; i < HB_PROM_MAXCONN; i++)
		if (s->conns[i])
			hb_prom_conn_close(s, i);
	close(s->lfd);
	close(s->wake[0]);
	close(s->wake[1]);
	hb_prom_text_put(s->cur);
	pthread_mutex_destroy(&s->mu);
	free(s);
}
