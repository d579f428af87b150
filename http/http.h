/* SPDX-License-Identifier: MIT */
/*
 * http.h - the HTTP servers' common start (libmicrohttpd).
 *
 * Both the collector's /metrics and hbweb serve through libmicrohttpd in
 * its internal-thread mode (epoll), so no caller's loop ever waits on a
 * client. The listening socket is made here (clear errors for a bad or
 * busy address) and handed to the daemon, which enforces the connection
 * limit, the idle timeout and the per-connection memory limit.
 */
#ifndef HB_HTTP_H
#define HB_HTTP_H

#include <stddef.h>
#include <sys/socket.h>

#include <microhttpd.h>

struct hb_http_opts {
	const char *hostport;   /* "HOST:PORT", ":PORT", "PORT", "[V6]:PORT" */
	int allow_remote;       /* 0: refuse a non-loopback address */
	unsigned max_conns;     /* connections at once; more are refused */
	unsigned timeout_s;     /* a connection idle this long is closed */
	int suspend_resume;     /* the handler suspends connections (streams) */
	MHD_AccessHandlerCallback handler;
	void *cls;
	MHD_RequestCompletedCallback completed; /* may be NULL */
};

/* Fills ss from a host:port text (host 127.0.0.1 when not given). 0 or
 * -EINVAL. */
int hb_http_addr_parse(const char *hp, struct sockaddr_storage *ss, socklen_t *sl);
/* 1 when the address is 127.0.0.0/8 or ::1. */
int hb_http_addr_loopback(const struct sockaddr_storage *ss);
/* Binds, listens and starts the daemon; *port is the bound port. On
 * error returns -errno with a message in err. */
int hb_http_start(struct MHD_Daemon **out, const struct hb_http_opts *o, int *port, char *err,
		  size_t errlen);
/* Queues a small text answer (errors). */
enum MHD_Result hb_http_text(struct MHD_Connection *c, unsigned status, const char *text);

#endif
