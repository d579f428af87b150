/* SPDX-License-Identifier: MIT */
/*
 * hbweb - hbtop's live model of an hb bus in a browser: one built-in page
 * and a Server-Sent Events stream of the model's state (deltas at a
 * bounded rate); with --replay, an archive's timeline as charts. HTTP
 * through libmicrohttpd, loopback only unless --allow-remote; read-only.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "web/web.h"

#define HBWEB_LISTEN "127.0.0.1:7070"
#define HBWEB_KEEP 16        /* deltas kept for clients that lag */
#define HBWEB_TIMEOUT_S 30   /* a connection idle this long is closed */
#define HBWEB_BUCKETS 2000   /* timeline buckets */

static volatile sig_atomic_t hbweb_stop;

static void hbweb_on_signal(int sig)
{
	(void)sig;
	hbweb_stop = 1;
}

struct hbweb_args {
	struct top_opts o;
	const char *listen;
	int allow_remote;
	unsigned interval_ms, max_clients;
	char dirbuf[1024];
};

static void hbweb_usage(FILE *f)
{
	fprintf(f,
		"usage: hbweb [OPTIONS]\n"
		"       hbweb --replay DIR|FILE... [OPTIONS]\n"
		"The live state of an hb bus in a browser (the model hbtop shows), or an\n"
		"archive's timeline as charts.\n"
		"\n"
		"  --bus NAME          bus (default $HB_BUS or \"default\")\n"
		"  --dir DIR           archive directory (default $HB_DIR or\n"
		"                      ${XDG_STATE_HOME:-~/.local/state}/hb/BUS)\n"
		"  --listen HOST:PORT  address to serve on (default " HBWEB_LISTEN "; port 0\n"
		"                      picks a free one); loopback only unless --allow-remote\n"
		"  --allow-remote      allow a non-loopback --listen address: anyone who can\n"
		"                      reach it sees the bus (read-only, no authentication)\n"
		"  --replay            serve the timeline of the archive PATHs instead of a\n"
		"                      live bus (and their end state as the live page)\n"
		"  --interval-ms MS    stream update period (default 500, 100..60000)\n"
		"  --max-clients N     connections at once (default 512); more are refused\n"
		"  --help, --version\n"
		"\n"
		"Pages: / (live dashboard, or the timeline with --replay), /index.html,\n"
		"/timeline.html; data: /state.json (as hbtop -b -o json), /stream (SSE),\n"
		"/producer.json?ring=NAME, /timeline.json.\n");
}

static int hbweb_bad(const char *flag, const char *val, const char *what)
{
	fprintf(stderr, "hbweb: %s: %s '%s'\n", flag, what, val);
	return 2;
}

static int hbweb_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < lo || v > hi)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

/* Returns -1 to go on, or an exit code. */
static int hbweb_parse(int argc, char **argv, struct hbweb_args *a, int *replay)
{
	static const struct option lo[] = {
		{"bus", 1, 0, 'B'},       {"dir", 1, 0, 'D'},         {"listen", 1, 0, 'l'},
		{"allow-remote", 0, 0, 'A'}, {"replay", 0, 0, 'R'},   {"interval-ms", 1, 0, 'i'},
		{"max-clients", 1, 0, 'm'}, {"help", 0, 0, 'H'},      {"version", 0, 0, 'V'},
		{0, 0, 0, 0},
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'B':
			if (hb_name_check(optarg, HB_BUS_MAX))
				return hbweb_bad("--bus", optarg, "bad bus name");
			a->o.bus = optarg;
			break;
		case 'D': a->o.dir = optarg; break;
		case 'l': a->listen = optarg; break;
		case 'A': a->allow_remote = 1; break;
		case 'R': *replay = 1; break;
		case 'i':
			if (hbweb_uint(optarg, 100, 60000, &a->interval_ms))
				return hbweb_bad("--interval-ms", optarg, "not a number of ms in 100..60000");
			break;
		case 'm':
			if (hbweb_uint(optarg, 1, 100000, &a->max_clients))
				return hbweb_bad("--max-clients", optarg, "not a count in 1..100000");
			break;
		case 'H': hbweb_usage(stdout); return 0;
		case 'V': printf("hbweb %s\n", HB_VERSION_STRING); return 0;
		default: hbweb_usage(stderr); return 2;
		}
	}
	if (optind < argc && !*replay) {
		fprintf(stderr, "hbweb: '%s': archive paths go with --replay\n", argv[optind]);
		return 2;
	}
	if (*replay && optind == argc) {
		fprintf(stderr, "hbweb: --replay: no DIR or FILE to show\n");
		return 2;
	}
	if (*replay) {
		a->o.paths = (const char *const *)&argv[optind];
		a->o.npaths = (size_t)(argc - optind);
	}
	return -1;
}

static void hbweb_sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) && errno == EINTR && !hbweb_stop)
		;
}

static int hbweb_listen(struct web_server *s, const struct hbweb_args *a)
{
	struct hb_http_opts ho = {.hostport = a->listen, .allow_remote = a->allow_remote,
				  .max_conns = a->max_clients, .timeout_s = HBWEB_TIMEOUT_S,
				  .suspend_resume = 1, .handler = web_handle, .cls = s};
	struct sockaddr_storage ss;
	socklen_t sl;
	char err[256];
	int port, rc;

	rc = hb_http_start(&s->d, &ho, &port, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "hbweb: --listen: %s%s\n", err,
			rc == -EPERM ? " (--allow-remote serves it anyway)" : "");
		return rc == -EPERM || rc == -EINVAL ? 2 : 1;
	}
	if (!hb_http_addr_parse(a->listen, &ss, &sl) && !hb_http_addr_loopback(&ss))
		fprintf(stderr, "hbweb: warning: serving on %s, not a loopback address: anyone "
				"who can reach it sees this bus (read-only, no authentication)\n",
			a->listen);
	fprintf(stderr, "hbweb: serving %s on %s (port %d)\n", s->mode, a->listen, port);
	return 0;
}

static int hbweb_timeline(struct web_server *s, const struct hbweb_args *a)
{
	int rc = web_timeline_build(a->o.paths, a->o.npaths, HBWEB_BUCKETS, &s->timeline,
				    &s->timeline_len);

	if (rc)
		fprintf(stderr, "hbweb: %s: %s\n", a->o.paths[0], strerror(-rc));
	return rc ? 1 : 0;
}

static int hbweb_run(struct web_server *s, const struct hbweb_args *a)
{
	int rc;

	if (web_state_new(&s->state) || web_hub_new(&s->hub, HBWEB_KEEP))
		return 1;
	rc = top_model_start(&s->model, &a->o);
	if (rc) {
		fprintf(stderr, "hbweb: %s\n", strerror(-rc));
		return 1;
	}
	rc = hbweb_listen(s, a);
	while (!rc && !hbweb_stop) {
		web_publish(s);
		hbweb_sleep_ms(a->interval_ms);
	}
	web_hub_close(s->hub);
	if (s->d)
		MHD_stop_daemon(s->d);
	top_model_stop(s->model);
	return rc;
}

int main(int argc, char **argv)
{
	struct hbweb_args a = {.listen = HBWEB_LISTEN, .interval_ms = 500, .max_clients = 512,
			       .o.recent = 1};
	struct web_server s = {.mode = "live"};
	int rc, replay = 0;

	rc = hbweb_parse(argc, argv, &a, &replay);
	if (rc >= 0)
		return rc;
	top_opts_defaults(&a.o, a.dirbuf, sizeof(a.dirbuf));
	if (replay) {
		s.mode = "replay";
		if (hbweb_timeline(&s, &a))
			return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, hbweb_on_signal);
	signal(SIGTERM, hbweb_on_signal);
	pthread_mutex_init(&s.snap_mu, NULL);
	rc = hbweb_run(&s, &a);
	web_hub_free(s.hub);
	web_state_free(s.state);
	free(s.timeline);
	pthread_mutex_destroy(&s.snap_mu);
	return rc;
}
