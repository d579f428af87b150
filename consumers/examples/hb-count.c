/* SPDX-License-Identifier: MIT */
/*
 * hb-count - example of the consumer API (<hb_consumer.h>): counts events
 * per type, heartbeats and bus records of archives (or follows the live
 * archive with -f), and alerts when the share of error events among the
 * last N events goes above a threshold. A handler that fails (here: the
 * alert sink, when it cannot write) is suspended by its circuit breaker.
 * On a fleet archive (FLEETDIR/<host>/<bus>/) it counts per host too, and
 * --host GLOB keeps the records of matching hosts.
 *
 *   hb-count [-f] [--host GLOB] [--errors GLOB] [--window N] [--max-pct P] PATH...
 */
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hb_consumer.h"

#define MAX_TYPES 256
#define MAX_HOSTS 256

struct counts {
	char *name[MAX_TYPES];
	uint64_t n[MAX_TYPES];
	int ntypes;
	uint64_t heartbeats, bus;
	char *host[MAX_HOSTS]; /* events and heartbeats per host */
	uint64_t host_ev[MAX_HOSTS], host_hb[MAX_HOSTS];
	int nhosts;
};

static const char *host_glob; /* --host: only records of matching hosts */

static const char *host_of(const struct hb_rd_record *rec)
{
	return rec->producer && rec->producer->host ? rec->producer->host : "";
}

/* The record is of a host --host asks for (a record of no producer is
 * of none). */
static int host_ok(const struct hb_rd_record *rec)
{
	return !host_glob || (rec->producer && !fnmatch(host_glob, host_of(rec), 0));
}

/* The index of rec's host in c, added when new; -1 when full. */
static int host_slot(struct counts *c, const struct hb_rd_record *rec)
{
	const char *h = host_of(rec);
	int i;

	for (i = 0; i < c->nhosts; i++)
		if (!strcmp(c->host[i], h))
			return i;
	if (i == MAX_HOSTS || !(c->host[i] = strdup(h)))
		return -1;
	return c->nhosts++;
}

/* Counts rec in per[] (host_ev or host_hb) by its host: 1, or 0 when it is
 * not of a host --host asks for, or -ENOSPC. */
static int count_host(struct counts *c, const struct hb_rd_record *rec, uint64_t *per)
{
	int i;

	if (!host_ok(rec))
		return 0;
	i = host_slot(c, rec);
	if (i < 0)
		return -ENOSPC;
	per[i]++;
	return 1;
}

struct rate {
	const char *glob;
	unsigned window, max_pct;
	uint8_t *ring; /* 1 = error, last `window` events */
	unsigned pos, fill, errors;
	int alerting;
};

static struct hb_consumer *consumer;

static int count_event(void *ctx, const struct hb_rd_record *rec)
{
	struct counts *c = ctx;
	const char *t = rec->type ? rec->type->name : "?";
	int i = count_host(c, rec, c->host_ev);

	if (i <= 0)
		return i;
	for (i = 0; i < c->ntypes; i++)
		if (!strcmp(c->name[i], t))
			break;
	if (i == c->ntypes) {
		if (i == MAX_TYPES || !(c->name[i] = strdup(t)))
			return -ENOSPC;
		c->ntypes++;
	}
	c->n[i]++;
	return 0;
}

static int count_heartbeat(void *ctx, const struct hb_rd_record *rec)
{
	struct counts *c = ctx;
	int rc = count_host(c, rec, c->host_hb);

	if (rc <= 0)
		return rc;
	c->heartbeats++;
	return 0;
}

static int count_bus(void *ctx, const struct hb_rd_record *rec)
{
	if (host_ok(rec))
		((struct counts *)ctx)->bus++;
	return 0;
}

/* The alert sink: a line on stdout; fails when stdout cannot be written. */
static int alert(const struct rate *r, const struct hb_rd_record *rec, int on)
{
	char ts[40];

	hb_time_format(rec->ts_ns, ts, sizeof(ts));
	if (printf("%s ALERT %s: %u of the last %u events are %s (limit %u%%)\n", ts,
		   on ? "firing" : "resolved", r->errors, r->fill, r->glob, r->max_pct) < 0 ||
	    fflush(stdout))
		return -EIO;
	return 0;
}

static int error_rate(void *ctx, const struct hb_rd_record *rec)
{
	struct rate *r = ctx;
	int err = rec->type && !fnmatch(r->glob, rec->type->name, 0);
	int over;

	if (!host_ok(rec))
		return 0;
	if (r->fill == r->window)
		r->errors -= r->ring[r->pos];
	else
		r->fill++;
	r->ring[r->pos] = (uint8_t)err;
	r->errors += (unsigned)err;
	r->pos = (r->pos + 1) % r->window;
	over = r->fill == r->window && r->errors * 100 > r->max_pct * r->window;
	if (over == r->alerting)
		return 0;
	r->alerting = over;
	return alert(r, rec, over);
}

static void on_signal(int sig)
{
	(void)sig;
	hb_consumer_stop(consumer);
}

static void print_report(const struct counts *c)
{
	struct hb_handler_stats st;
	int i;

	for (i = 0; i < c->ntypes; i++)
		printf("type %-32s %llu\n", c->name[i], (unsigned long long)c->n[i]);
	printf("heartbeats %llu\nbus records %llu\n", (unsigned long long)c->heartbeats,
	       (unsigned long long)c->bus);
	for (i = 0; i < c->nhosts; i++)
		printf("host %-32s events %llu heartbeats %llu\n", c->host[i],
		       (unsigned long long)c->host_ev[i], (unsigned long long)c->host_hb[i]);
	for (i = 0; i < hb_consumer_count(consumer); i++) {
		if (hb_consumer_stats(consumer, i, &st))
			continue;
		printf("handler %-12s calls %llu failures %llu skipped %llu time %.3f ms breaker %s\n",
		       st.name, (unsigned long long)st.calls, (unsigned long long)st.failures,
		       (unsigned long long)st.skipped, (double)st.time_ns / 1e6,
		       hb_breaker_state_name(st.state));
	}
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: hb-count [-f] [--host GLOB] [--errors GLOB] [--window N] [--max-pct P]\n"
		   "                PATH...\n"
		   "Counts events per type, heartbeats and bus records, and events and\n"
		   "heartbeats per host; alerts when more than P%% (default 10) of the last N\n"
		   "(default 1000) events match GLOB (default '*error*'). PATH: archive files,\n"
		   "directories, a fleet archive FLEETDIR; --host GLOB: only the records of\n"
		   "producers of matching hosts.\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"follow", no_argument, 0, 'f'},      {"errors", required_argument, 0, 'e'},
		{"window", required_argument, 0, 'w'}, {"max-pct", required_argument, 0, 'm'},
		{"host", required_argument, 0, 'H'}, {"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	struct hb_consumer_opts co = {.fail_max = 3, .cooldown_ns = 60ull * 1000000000u};
	struct rate rate = {.glob = "*error*", .window = 1000, .max_pct = 10};
	struct hb_handler_spec alert_spec = {
		.kinds = HB_ON_EVENT, .name = "error-rate", .fn = error_rate, .ctx = &rate};
	struct counts counts = {0};
	unsigned flags = 0;
	int c, rc, i;

	while ((c = getopt_long(argc, argv, "f", lo, NULL)) != -1) {
		switch (c) {
		case 'f':
			flags |= HB_RD_FOLLOW;
			break;
		case 'e':
			rate.glob = optarg;
			break;
		case 'H':
			host_glob = optarg;
			break;
		case 'w':
			rate.window = (unsigned)atoi(optarg);
			break;
		case 'm':
			rate.max_pct = (unsigned)atoi(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc || !rate.window || rate.max_pct > 100) {
		usage(stderr);
		return 2;
	}
	rate.ring = calloc(rate.window, 1);
	if (!rate.ring || hb_consumer_new(&consumer, &co))
		return 1;
	hb_consumer_on_event(consumer, "*", count_event, &counts);
	hb_consumer_on_heartbeat(consumer, count_heartbeat, &counts);
	hb_consumer_on_bus(consumer, "*", count_bus, &counts);
	hb_consumer_add(consumer, &alert_spec);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	rc = hb_consumer_run(consumer, (const char *const *)argv + optind,
			     (size_t)(argc - optind), flags);
	if (rc < 0)
		fprintf(stderr, "hb-count: %s\n", strerror(-rc));
	print_report(&counts);
	for (i = 0; i < counts.ntypes; i++)
		free(counts.name[i]);
	for (i = 0; i < counts.nhosts; i++)
		free(counts.host[i]);
	free(rate.ring);
	rc = rc < 0 || hb_consumer_damage_count(consumer) ? 1 : 0;
	hb_consumer_free(consumer);
	return rc;
}
