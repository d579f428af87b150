/* SPDX-License-Identifier: MIT */
/* http.c - the HTTP servers' common start (see http.h). */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HB_HTTP_BACKLOG 256
#define HB_HTTP_CONN_MEM (32 * 1024)

int hb_http_addr_parse(const char *hp, struct sockaddr_storage *ss, socklen_t *sl)
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

int hb_http_addr_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	return ss->ss_family == AF_INET6 &&
	       IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

static int hb_http_port_of(const struct sockaddr_storage *ss)
{
	return ntohs(ss->ss_family == AF_INET ? ((const struct sockaddr_in *)ss)->sin_port
					      : ((const struct sockaddr_in6 *)ss)->sin6_port);
}

/* The listening socket for o->hostport, or -errno with err filled. */
static int hb_http_listen(const struct hb_http_opts *o, int *port, int *v6, char *err,
			  size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, one = 1, rc;

	if (hb_http_addr_parse(o->hostport, &ss, &sl)) {
		snprintf(err, errlen, "bad address '%s' (want HOST:PORT with a numeric host)",
			 o->hostport);
		return -EINVAL;
	}
	if (!o->allow_remote && !hb_http_addr_loopback(&ss)) {
		snprintf(err, errlen, "%s is not a loopback address", o->hostport);
		return -EPERM;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto sys_err;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, HB_HTTP_BACKLOG) < 0)
		goto sys_err;
	sl = sizeof(ss);
	*port = getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 ? hb_http_port_of(&ss) : 0;
	*v6 = ss.ss_family == AF_INET6;
	return fd;
sys_err:
	rc = -errno;
	snprintf(err, errlen, "%s: %s", o->hostport, strerror(-rc));
	if (fd >= 0)
		close(fd);
	return rc;
}

int hb_http_start(struct MHD_Daemon **out, const struct hb_http_opts *o, int *port, char *err,
		  size_t errlen)
{
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD;
	int fd, v6 = 0;

	fd = hb_http_listen(o, port, &v6, err, errlen);
	if (fd < 0)
		return fd;
	if (v6)
		flags |= MHD_USE_IPv6;
	if (o->suspend_resume)
		flags |= MHD_ALLOW_SUSPEND_RESUME;
	/* the daemon owns fd from here: MHD_stop_daemon closes it */
	*out = MHD_start_daemon(flags, 0, NULL, NULL, o->handler, o->cls,
				MHD_OPTION_LISTEN_SOCKET, fd,
				MHD_OPTION_CONNECTION_LIMIT, o->max_conns,
				MHD_OPTION_CONNECTION_TIMEOUT, o->timeout_s,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HB_HTTP_CONN_MEM,
				MHD_OPTION_NOTIFY_COMPLETED, o->completed, o->cls,
				MHD_OPTION_END);
	if (!*out) {
		close(fd);
		snprintf(err, errlen, "%s: cannot start the HTTP server", o->hostport);
		return -EIO;
	}
	return 0;
}

enum MHD_Result hb_http_text(struct MHD_Connection *c, unsigned status, const char *text)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}
