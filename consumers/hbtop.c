/* SPDX-License-Identifier: MIT */
/*
 * hbtop - live view of an hb bus: one row per producer with its state,
 * heartbeat age, rates, drops, ring fill, process figures and metrics.
 * Live counters come from the ring headers, the rest from the archive
 * (followed with the reader API). Batch mode prints text or JSON.
 */
#include <errno.h>
#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "top/top.h"

static volatile sig_atomic_t hbtop_stop;

static void hbtop_on_signal(int sig)
{
	(void)sig;
	hbtop_stop = 1;
}

static void hbtop_usage(FILE *f)
{
	fprintf(f,
		"usage: hbtop [OPTIONS] [PATH...]\n"
		"Live view of the producers of an hb bus (PATHs: show an archive offline; a\n"
		"fleet tree FLEETDIR shows every host's producers).\n"
		"\n"
		"  --bus NAME          bus (default $HB_BUS or \"default\")\n"
		"  --dir DIR           archive directory (default $HB_DIR or\n"
		"                      ${XDG_STATE_HOME:-~/.local/state}/hb/BUS)\n"
		"  --fleet FLEETDIR    follow a fleet archive (hbsink's FLEETDIR/<host>/<bus>/):\n"
		"                      every host's producers, with their host, as recorded\n"
		"  --host GLOB         show only producers of matching hosts\n"
		"  -b, --batch         print plain text (or JSON) instead of the screen\n"
		"  -n, --iterations N  batch: stop after N refreshes (default: run until killed)\n"
		"  -d, --delay DUR     refresh delay (default 2s; ms, s, m suffixes)\n"
		"  -o, --output text|json  batch output (json: one snapshot object per refresh)\n"
		"  -s, --sort COL      name, pid, state, age, uptime, ev/s, drops, fill, cpu, rss\n"
		"  -r, --reverse       reverse the sort order\n"
		"  -p, --producer GLOB show only matching producers\n"
		"  -t, --type GLOB     show only producers with a matching event type\n"
		"  -c, --counter GLOB  metrics to show (repeatable; default all)\n"
		"  --replay            replay the PATHs at their recorded pace (states, ages and\n"
		"                      rates as they were at the time)\n"
		"  --speed X           replay at X times the recorded pace (default 1);\n"
		"  --max               replay as fast as possible\n"
		"  --expire DUR        hide exited and crashed producers DUR after their end\n"
		"                      (default 10m; 0 = never)\n"
		"  --hide-done         hide exited and crashed producers at once (key H)\n"
		"  -h, --help          this help\n"
		"  -V, --version       the version\n"
		"\n"
		"Keys: q quit, h/? help, space pause, d delay, / producer filter, t type filter,\n"
		"< > sort column, r reverse, n p s a u e x f c m sort by a column,\n"
		"PgDn PgUp Down Up j k Home End g G scroll the rows, H hide finished producers.\n");
}

static int hbtop_duration_ms(const char *s, unsigned *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v <= 0)
		return -EINVAL;
	if (!strcmp(end, "ms"))
		v /= 1000;
	else if (!strcmp(end, "m"))
		v *= 60;
	else if (!strcmp(end, "h"))
		v *= 3600;
	else if (*end && strcmp(end, "s"))
		return -EINVAL;
	if (!(v >= 0.01 && v <= 86400)) /* NaN fails this too */
		return -EINVAL;
	*out = (unsigned)(v * 1000);
	return 0;
}

#define HBTOP_EXPIRE_NS (600 * 1000000000ull) /* finished rows shown 10 min */

struct hbtop_args {
	struct top_opts o;
	struct top_view v;
	int batch, json;
	int replay;   /* --replay, --speed, --max */
	double speed; /* 0: as fast as possible */
	struct top_replay clock;
	long iterations;
	unsigned delay_ms;
	char dirbuf[1024];
};

static int hbtop_bad(const char *flag, const char *val, const char *what)
{
	fprintf(stderr, "hbtop: %s: %s '%s'\n", flag, what, val);
	return 2;
}

static int hbtop_sort_parse(const char *s, struct top_view *v)
{
	int c;

	for (c = 0; c < TC_NCOLS; c++)
		if (!strcmp(s, top_col_name((enum top_col)c))) {
			v->sort = (enum top_col)c;
			return 0;
		}
	return -EINVAL;
}

/* Returns -1 to go on, or an exit code. */
static int hbtop_parse(int argc, char **argv, struct hbtop_args *a)
{
	static const struct option lo[] = {
		{"bus", 1, 0, 'B'},   {"dir", 1, 0, 'D'},      {"batch", 0, 0, 'b'},
		{"iterations", 1, 0, 'n'}, {"delay", 1, 0, 'd'}, {"output", 1, 0, 'o'},
		{"sort", 1, 0, 's'},  {"reverse", 0, 0, 'r'},  {"producer", 1, 0, 'p'},
		{"type", 1, 0, 't'},  {"counter", 1, 0, 'c'},  {"help", 0, 0, 'H'},
		{"version", 0, 0, 'V'}, {"replay", 0, 0, 'R'}, {"speed", 1, 0, 'S'},
		{"max", 0, 0, 'M'},     {"expire", 1, 0, 'E'}, {"hide-done", 0, 0, 'X'},
		{"fleet", 1, 0, 'F'},   {"host", 1, 0, 'L'},
		{0, 0, 0, 0},
	};
	char *end;
	int ch;

	while ((ch = getopt_long(argc, argv, "bn:d:o:s:rp:t:c:hV", lo, NULL)) != -1) {
		switch (ch) {
		case 'B':
			if (hb_name_check(optarg, HB_BUS_MAX))
				return hbtop_bad("--bus", optarg, "bad bus name");
			a->o.bus = optarg;
			break;
		case 'D': a->o.dir = optarg; break;
		case 'F': a->o.dir = optarg, a->o.fleet = 1; break;
		case 'L': snprintf(a->v.hfilter, sizeof(a->v.hfilter), "%s", optarg); break;
		case 'b': a->batch = 1; break;
		case 'n':
			a->iterations = strtol(optarg, &end, 10);
			if (*end || end == optarg || a->iterations < 1)
				return hbtop_bad("-n", optarg, "bad count");
			break;
		case 'd':
			if (hbtop_duration_ms(optarg, &a->delay_ms))
				return hbtop_bad("-d", optarg, "bad duration");
			break;
		case 'o':
			if (strcmp(optarg, "text") && strcmp(optarg, "json"))
				return hbtop_bad("-o", optarg, "unknown output");
			a->json = !strcmp(optarg, "json");
			break;
		case 's':
			if (hbtop_sort_parse(optarg, &a->v))
				return hbtop_bad("-s", optarg, "unknown column");
			break;
		case 'r': a->v.reverse = 1; break;
		case 'p': snprintf(a->v.filter, sizeof(a->v.filter), "%s", optarg); break;
		case 't': snprintf(a->v.tfilter, sizeof(a->v.tfilter), "%s", optarg); break;
		case 'c':
			if (a->v.ncounters == 8)
				return hbtop_bad("-c", optarg, "too many (8 at most)");
			snprintf(a->v.counters[a->v.ncounters++], sizeof(a->v.counters[0]), "%s",
				 optarg);
			break;
		case 'R': a->replay = 1; break;
		case 'S':
			a->replay = 1;
			a->speed = strtod(optarg, &end);
			if (*end || end == optarg || !(a->speed > 0) || a->speed > 1e9)
				return hbtop_bad("--speed", optarg, "not a positive number");
			break;
		case 'M': a->replay = 1, a->speed = 0; break;
		case 'E': {
			unsigned ms = 0;
			if (strcmp(optarg, "0") && hbtop_duration_ms(optarg, &ms))
				return hbtop_bad("--expire", optarg, "bad duration (0: never)");
			a->v.expire_ns = (uint64_t)ms * 1000000u;
			break;
		}
		case 'X': a->v.hide_done = 1; break;
		case 'H': case 'h': hbtop_usage(stdout); return 0;
		case 'V': printf("hbtop %s\n", HB_VERSION_STRING); return 0;
		default: hbtop_usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		a->o.paths = (const char *const *)&argv[optind];
		a->o.npaths = (size_t)(argc - optind);
	}
	if (a->o.fleet && a->o.paths) {
		fprintf(stderr, "hbtop: --fleet follows FLEETDIR: no PATH with it (to replay a\n"
				"fleet archive: hbtop --replay FLEETDIR)\n");
		return 2;
	}
	if (a->replay && !a->o.paths) {
		fprintf(stderr, "hbtop: --replay: no FILE or DIR to replay\n");
		return 2;
	}
	return -1;
}

static void hbtop_sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) && errno == EINTR && !hbtop_stop)
		;
}

static int hbtop_batch(struct top_model *m, struct hbtop_args *a)
{
	struct top_snap s = {0};
	unsigned waited = 0;
	long i;

	/* the first snapshot waits (up to 30 s) until the archive was read;
	 * a replay shows it as it goes instead */
	while (!a->replay && !top_model_caught_up(m) && waited < 30000 && !hbtop_stop) {
		hbtop_sleep_ms(20);
		waited += 20;
	}
	for (i = 0; !hbtop_stop && (!a->iterations || i < a->iterations); i++) {
		if (i > 0)
			hbtop_sleep_ms(a->delay_ms);
		top_model_snapshot(m, &s);
		top_view_apply(&a->v, &s);
		if (a->json)
			top_print_json(stdout, &a->v, &s);
		else
			top_print_text(stdout, &a->v, &s, (int)i);
		if (ferror(stdout))
			break;
		if (a->replay && !a->iterations && s.caught_up)
			break; /* without -n, a replay ends with its last record */
	}
	top_snap_free(&s);
	return ferror(stdout) ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct hbtop_args a = {.delay_ms = 2000, .v.sort = TC_NAME, .v.expire_ns = HBTOP_EXPIRE_NS,
			       .speed = 1};
	struct top_model *m;
	int rc;

	setlocale(LC_ALL, "");
	rc = hbtop_parse(argc, argv, &a);
	if (rc >= 0)
		return rc;
	top_opts_defaults(&a.o, a.dirbuf, sizeof(a.dirbuf));
	a.v.utf8 = !strcmp(nl_langinfo(CODESET), "UTF-8");
	if (!a.batch && !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "hbtop: stdout is not a terminal: use -b for batch mode\n");
		return 2;
	}
	if (a.replay) {
		top_replay_init(&a.clock, a.speed);
		a.o.replay = &a.clock;
	}
	rc = top_model_start(&m, &a.o);
	if (rc) {
		fprintf(stderr, "hbtop: %s\n", strerror(-rc));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	if (a.batch) {
		signal(SIGINT, hbtop_on_signal);
		signal(SIGTERM, hbtop_on_signal);
		rc = hbtop_batch(m, &a);
	} else {
		rc = top_curses_run(m, &a.v, a.delay_ms);
	}
	top_model_stop(m);
	if (a.replay)
		top_replay_destroy(&a.clock);
	return rc;
}
