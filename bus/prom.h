/* SPDX-License-Identifier: MIT */
/*
 * prom.h - Prometheus text exposition (format 0.0.4) of the collector's
 * view of the bus, and the HTTP server for it.
 *
 * The drain loop fills a struct hbc_prom_snapshot, renders it to text with
 * hbc_prom_render() (no lock held) and hands the text to the server with
 * hbc_prom_server_publish(), which only swaps a pointer under the server's
 * mutex. The server is libmicrohttpd in its own thread (http.h), with a
 * connection limit and an idle timeout, so a slow or stuck client can
 * never stall the drain loop (nor the other clients).
 */
#ifndef HB_BUS_PROM_H
#define HB_BUS_PROM_H

#include <stddef.h>
#include <stdint.h>

#include "liveness.h"
#include "procstat.h"

/* One registered metric of a producer with its latest values, as in
 * struct hb_metric_val: counter a; gauge a = double bits; timing a = count,
 * b = sum ns, c = max ns; health a = enum hb_health. */
struct hbc_prom_metric {
	const char *name;
	uint32_t kind; /* enum hb_metric_kind */
	uint64_t a, b, c;
};

struct hbc_prom_producer {
	const char *name;
	uint32_t pid;
	enum hb_state state;
	uint64_t start_ns;     /* when it opened its ring */
	uint64_t interval_ns;
	uint64_t last_hb_ns;   /* 0: none yet */
	uint64_t missed;       /* missed heartbeats, total */
	int64_t hb_latency_ns; /* newest heartbeat's latency */
	uint64_t records;      /* records persisted */
	uint64_t dropped;      /* records the producer dropped */
	double fill;           /* ring fill ratio 0..1, < 0 unknown */
	const struct hbc_procstat *proc; /* NULL when unknown */
	uint32_t nmetrics;
	const struct hbc_prom_metric *metrics;
};

struct hbc_prom_collector {
	uint64_t start_ns;
	uint64_t records;       /* records written, all producers */
	uint64_t bytes;         /* archive bytes written */
	uint64_t writes;        /* completed archive writes */
	uint64_t write_ns_sum;  /* their latency, submit to completion */
	uint64_t write_ns_max;
	uint64_t backlog_bytes; /* bytes waiting in the rings */
	uint64_t files;         /* archive files created */
	int write_failing;      /* 1 while archive writes fail */
};

struct hbc_prom_alert {
	const char *name;
	const char *producer;
	uint32_t pid;
};

/* Crashes of the producers of one name since the collector started. */
struct hbc_prom_crashes {
	const char *producer;
	uint64_t n;
};

struct hbc_prom_snapshot {
	uint64_t now_ns;
	const char *bus;
	uint32_t nproducers;
	const struct hbc_prom_producer *producers;
	const struct hbc_prom_collector *collector; /* may be NULL */
	const struct hbc_hoststat *host;            /* may be NULL */
	uint32_t nalerts;                          /* active alerts */
	const struct hbc_prom_alert *alerts;
	uint32_t ncrashes;
	const struct hbc_prom_crashes *crashes;
};

/* Renders the snapshot; *text is malloc'd (caller frees or publishes).
 * 0 or -ENOMEM. */
int hbc_prom_render(const struct hbc_prom_snapshot *s, char **text, size_t *len);

/* A family of one sample, for a tool with a few figures of its own
 * (hbship): labels is the text between the braces, escaped
 * (hbc_prom_label_escape), or NULL; absent: the family without a sample
 * (a value not known now). */
struct hbc_prom_family {
	const char *name, *type, *help;
	const char *labels;
	double v;
	int absent;
};

/* Renders n such families in their order; *text is malloc'd. 0 or
 * -ENOMEM. */
int hbc_prom_render_plain(const struct hbc_prom_family *f, size_t n, char **text, size_t *len);

/* Writes value with the exposition format's label escapes (\\, \", \n)
 * into out (NUL-terminated, truncated to outlen). */
void hbc_prom_label_escape(const char *value, char *out, size_t outlen);

struct hbc_prom_server;

/* Listens on "HOST:PORT", "PORT" or ":PORT" (host 127.0.0.1 when not
 * given; "[::1]:PORT" for IPv6) and starts the server thread. On error
 * returns -errno with a message in err. */
int hbc_prom_server_start(struct hbc_prom_server **out, const char *hostport, char *err,
			 size_t errlen);
/* The bound port (useful with port 0). */
int hbc_prom_server_port(const struct hbc_prom_server *s);
/* Replaces the exposition served; takes ownership of text (malloc'd). */
void hbc_prom_server_publish(struct hbc_prom_server *s, char *text, size_t len);
/* Requests the server handled so far (any status; requests libmicrohttpd
 * refused itself as malformed are not counted). */
uint64_t hbc_prom_server_requests(const struct hbc_prom_server *s);
void hbc_prom_server_stop(struct hbc_prom_server *s);

#endif
