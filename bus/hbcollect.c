/* SPDX-License-Identifier: MIT */
/* hbcollect - drains every ring of an hb bus into rotating msgpack archives. */
#include "hbc.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile int hbc_stop_flag;
static volatile int hbc_rotate_flag;

static void hbc_on_signal(int sig)
{
	if (sig == SIGHUP)
		hbc_rotate_flag = 1;
	else
		hbc_stop_flag = 1;
}

static void hbc_usage(FILE *f)
{
	fputs("usage: hbcollect [OPTIONS]\n"
	      "Drain every ring of an hb bus into rotating msgpack archive files.\n"
	      "\n"
	      "  --bus NAME             bus to collect ($HB_BUS, default \"default\")\n"
	      "  --host NAME            host written into the archive and every producer's\n"
	      "                         identity (default: the host name)\n"
	      "  --dir DIR              archive directory ($HB_DIR, default\n"
	      "                         ${XDG_STATE_HOME:-~/.local/state}/hb/BUS, ~ being\n"
	      "                         $HOME or the user's home directory)\n"
	      "  --rotate-size SIZE     start a new file after SIZE bytes (default 64M, 0 = never)\n"
	      "  --rotate-age DUR       start a new file after DUR (default 1h, 0 = never)\n"
	      "  --retain-files N       keep at most N files (default 0 = unlimited)\n"
	      "  --retain-bytes SIZE    keep at most SIZE bytes of files (default 0 = unlimited)\n"
	      "  --fsync MODE           never | interval | always (default interval)\n"
	      "  --fsync-interval DUR   fsync period with --fsync interval (default 1s)\n"
	      "  --cache-window SIZE    keep about SIZE of the newest archive bytes in the\n"
	      "                         page cache, start writeback and drop the rest as it\n"
	      "                         is written (default 32M, 0 = leave it to the kernel)\n"
	      "  --poll-ms N            longest sleep when idle, in ms (default 20); a new\n"
	      "                         ring ends it\n"
	      "  --accept-uid           also collect rings owned by other users\n"
	      "  --metrics HOST:PORT    serve Prometheus metrics at http://HOST:PORT/metrics\n"
	      "                         (HOST defaults to 127.0.0.1; port 0 picks a free one)\n"
	      "  --alert RULE           alert rule (repeatable), e.g. 'errs rate app.errors > 5',\n"
	      "                         'full fill > 80%', 'down state dead' (see hbcollect(1))\n"
	      "  --alert-file FILE      alert rules, one per line ('#' starts a comment)\n"
	      "  --keep-crashed DUR     a crashed producer stays on /metrics (state crashed)\n"
	      "                         and its state alerts keep firing for DUR\n"
	      "                         (default 15m, 0 = forget it at once)\n"
	      "  -q, --quiet            log only problems\n"
	      "  -v, --verbose          log more\n"
	      "  --help                 this text\n"
	      "  --version              print the version\n"
	      "\n"
	      "SIZE takes k, M, G (powers of 1024); DUR takes ms, s, m, h, d (default s).\n"
	      "Signals: SIGTERM/SIGINT drain everything and exit, SIGHUP rotates now.\n",
	      f);
}

static int hbc_bad(const char *flag, const char *val, const char *what)
{
	fprintf(stderr, "hbcollect: %s: %s '%s'\n", flag, what, val);
	return 2;
}

enum {
	OPT_BUS = 256,
	OPT_DIR,
	OPT_RSIZE,
	OPT_RAGE,
	OPT_RFILES,
	OPT_RBYTES,
	OPT_FSYNC,
	OPT_FSYNC_IV,
	OPT_POLL,
	OPT_CACHE_WINDOW,
	OPT_ACCEPT_UID,
	OPT_HELP,
	OPT_VERSION,
	OPT_METRICS,
	OPT_ALERT,
	OPT_ALERT_FILE,
	OPT_HOST,
	OPT_KEEP_CRASHED,
};

static const struct option hbc_longopts[] = {
	{"bus", required_argument, NULL, OPT_BUS},
	{"dir", required_argument, NULL, OPT_DIR},
	{"host", required_argument, NULL, OPT_HOST},
	{"rotate-size", required_argument, NULL, OPT_RSIZE},
	{"rotate-age", required_argument, NULL, OPT_RAGE},
	{"retain-files", required_argument, NULL, OPT_RFILES},
	{"retain-bytes", required_argument, NULL, OPT_RBYTES},
	{"fsync", required_argument, NULL, OPT_FSYNC},
	{"fsync-interval", required_argument, NULL, OPT_FSYNC_IV},
	{"poll-ms", required_argument, NULL, OPT_POLL},
	{"cache-window", required_argument, NULL, OPT_CACHE_WINDOW},
	{"accept-uid", no_argument, NULL, OPT_ACCEPT_UID},
	{"quiet", no_argument, NULL, 'q'},
	{"verbose", no_argument, NULL, 'v'},
	{"metrics", required_argument, NULL, OPT_METRICS},
	{"alert", required_argument, NULL, OPT_ALERT},
	{"alert-file", required_argument, NULL, OPT_ALERT_FILE},
	{"keep-crashed", required_argument, NULL, OPT_KEEP_CRASHED},
	{"help", no_argument, NULL, OPT_HELP},
	{"version", no_argument, NULL, OPT_VERSION},
	{NULL, 0, NULL, 0},
};

/* --metrics, --alert, --alert-file: parsed by ops.c. */
static int hbc_ops_opt(struct hbc_opts *o, int ch, const char *arg)
{
	static const char *const names[] = {"--metrics", "--alert", "--alert-file"};
	const char *name = names[ch - OPT_METRICS];
	char err[512];

	if (hbc_ops_option(&o->ops, name, arg, err, sizeof(err)) < 0) {
		fprintf(stderr, "hbcollect: %s: %s\n", name, err);
		return 2;
	}
	return -1;
}

/* Returns -1 to go on, or an exit code. */
static int hbc_opt(struct hbc_opts *o, int ch, const char *arg, int *dir_set)
{
	uint64_t v;

	switch (ch) {
	case OPT_BUS:
		if (hb_name_check(arg, HB_BUS_MAX))
			return hbc_bad("--bus", arg, "invalid bus name");
		snprintf(o->bus, sizeof(o->bus), "%s", arg);
		return -1;
	case OPT_DIR:
		if (!*arg || strlen(arg) >= sizeof(o->dir) - HBC_FNAME_MAX)
			return hbc_bad("--dir", arg, "invalid directory");
		snprintf(o->dir, sizeof(o->dir), "%s", arg);
		*dir_set = 1;
		return -1;
	case OPT_HOST:
		if (hb_name_check(arg, sizeof(o->host)))
			return hbc_bad("--host", arg, "invalid host name");
		snprintf(o->host, sizeof(o->host), "%s", arg);
		return -1;
	case OPT_RSIZE:
		return hbc_parse_size(arg, &o->rotate_size) ? hbc_bad("--rotate-size", arg, "invalid size") : -1;
	case OPT_RAGE:
		return hbc_parse_duration(arg, &o->rotate_age_ns) ? hbc_bad("--rotate-age", arg, "invalid duration") : -1;
	case OPT_RFILES:
		return hbc_parse_size(arg, &o->retain_files) || strpbrk(arg, "kKmMgGbB")
			       ? hbc_bad("--retain-files", arg, "invalid number")
			       : -1;
	case OPT_RBYTES:
		return hbc_parse_size(arg, &o->retain_bytes) ? hbc_bad("--retain-bytes", arg, "invalid size") : -1;
	case OPT_FSYNC:
		return hbc_fsync_parse(arg, &o->fsync) ? hbc_bad("--fsync", arg, "unknown mode") : -1;
	case OPT_FSYNC_IV:
		if (hbc_parse_duration(arg, &o->fsync_interval_ns) || !o->fsync_interval_ns)
			return hbc_bad("--fsync-interval", arg, "invalid duration");
		return -1;
	case OPT_POLL:
		if (hbc_parse_size(arg, &v) || strpbrk(arg, "kKmMgGbB") || v < 1 || v > 10000)
			return hbc_bad("--poll-ms", arg, "invalid value (1-10000)");
		o->poll_ms = (unsigned)v;
		return -1;
	case OPT_CACHE_WINDOW:
		return hbc_parse_size(arg, &o->cache_window) ? hbc_bad("--cache-window", arg, "invalid size") : -1;
	case OPT_ACCEPT_UID:
		o->accept_uid = 1;
		return -1;
	case OPT_KEEP_CRASHED:
		return hbc_parse_duration(arg, &o->ops.keep_crashed_ns)
			       ? hbc_bad("--keep-crashed", arg, "invalid duration") : -1;
	case 'q':
		o->verbosity = 0;
		return -1;
	case 'v':
		o->verbosity = 2;
		return -1;
	case OPT_METRICS:
	case OPT_ALERT:
	case OPT_ALERT_FILE:
		return hbc_ops_opt(o, ch, arg);
	case OPT_HELP:
		hbc_usage(stdout);
		return 0;
	case OPT_VERSION:
		printf("hbcollect %s\n", HB_VERSION_STRING);
		return 0;
	default:
		fputs("Try 'hbcollect --help' for more information.\n", stderr);
		return 2;
	}
}

static int hbc_parse_args(struct hbc_opts *o, int argc, char **argv)
{
	const char *bus = getenv("HB_BUS");
	int ch, rc, dir_set = 0;

	memset(o, 0, sizeof(*o));
	snprintf(o->bus, sizeof(o->bus), "%s", bus && *bus ? bus : "default");
	o->rotate_size = 64ull << 20;
	o->rotate_age_ns = 3600ull * 1000000000u;
	o->fsync = HBC_FSYNC_INTERVAL;
	o->fsync_interval_ns = 1000000000u;
	o->poll_ms = 20;
	o->cache_window = 32ull << 20;
	o->ops.keep_crashed_ns = 15 * 60000000000ull;
	o->verbosity = 1;
	o->shm_dir = "/dev/shm";
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "qv", hbc_longopts, NULL)) != -1) {
		if (ch == '?') {
			fprintf(stderr, "hbcollect: %s: unknown or incomplete option\n",
				argv[optind - 1]);
			return 2;
		}
		rc = hbc_opt(o, ch, optarg, &dir_set);
		if (rc >= 0)
			return rc;
	}
	if (optind < argc) {
		fprintf(stderr, "hbcollect: %s: unexpected argument\n", argv[optind]);
		return 2;
	}
	if (hb_name_check(o->bus, HB_BUS_MAX))
		return hbc_bad("HB_BUS", o->bus, "invalid bus name");
	if (!dir_set && hbc_default_dir(o->dir, sizeof(o->dir) - HBC_FNAME_MAX, o->bus))
		return 2;
	return -1;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = hbc_on_signal};
	struct hbc_collector *c;
	struct hbc_opts o;
	int rc;

	rc = hbc_parse_args(&o, argc, argv);
	if (rc >= 0)
		return rc;
	hbc_verbosity = o.verbosity;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (hbc_collector_create(&c, &o))
		return 1;
	hbc_info("collecting bus '%s' into %s", o.bus, o.dir);
	rc = hbc_collector_run(c, &hbc_stop_flag, &hbc_rotate_flag);
	hbc_collector_destroy(c);
	hbc_info("stopped");
	return rc ? 1 : 0;
}
