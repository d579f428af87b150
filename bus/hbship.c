/* SPDX-License-Identifier: MIT */
/* hbship - ships a host's archive to a NATS JetStream stream (ship.h). */
#include "hbc.h"
#include "ship.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void ship_usage(FILE *f)
{
	fputs("usage: hbship [OPTIONS]\n"
	      "Follow a host's live hb archive and publish it, exactly once, to a NATS\n"
	      "JetStream stream, for hbsink to write into a fleet archive.\n"
	      "\n"
	      "  --bus NAME             bus whose archive is shipped ($HB_BUS, default \"default\")\n"
	      "  --dir DIR              archive directory ($HB_DIR, default\n"
	      "                         ${XDG_STATE_HOME:-~/.local/state}/hb/BUS)\n"
	      "  --stream NAME          JetStream stream (default HB)\n"
	      "  --subject PREFIX       subjects PREFIX.<host>.<bus> (default hb)\n"
	      "  --no-create            fail while the stream is missing instead of creating it\n"
	      "  --replicas N           new stream: replicas, 1-5 (default 1)\n"
	      "  --max-bytes SIZE       new stream: byte limit (default none)\n"
	      "  --max-age DUR          new stream: age limit (default none)\n"
	      "  --discard old|new      new stream, when full: drop the oldest (default) or\n"
	      "                         refuse new messages (hbship then waits and retries)\n"
	      "  --dup-window DUR       new stream: duplicate window (default 2m, at most\n"
	      "                         the age limit)\n"
	      "  --window N             messages awaiting an ack at most (default 256)\n"
	      "  --max-msg SIZE         bytes of records per message (default 256k)\n"
	      "  --ack-wait DUR         how long an ack may take (default 5s)\n"
	      "  --backoff-max DUR      longest wait between retries (default 5s)\n"
	      "  --no-heartbeats        do not publish its own heartbeats (lag) on the bus\n"
	      "  --metrics HOST:PORT    serve Prometheus metrics (lag, published, acked,\n"
	      "                         failures) at http://HOST:PORT/metrics (host\n"
	      "                         127.0.0.1 when only :PORT is given)\n"
	      "  --once                 ship what the archive holds now, then exit (0 when all\n"
	      "                         of it is acknowledged)\n",
	      f);
	fputs(hbf_nats_usage, f);
	fputs("  -q, --quiet            log only problems\n"
	      "  -v, --verbose          log more\n"
	      "  --help                 this text\n"
	      "  --version              print the version\n"
	      "\n"
	      "SIZE takes k, M, G; DUR takes ms, s, m, h, d (default s).\n"
	      "Its position is saved in DIR/hbship-STREAM.pos. SIGTERM/SIGINT: waits for\n"
	      "the acks of what it sent, saves its position and exits 0.\n",
	      f);
}

enum {
	O_BUS = 256, O_DIR, O_STREAM, O_SUBJECT, O_NO_CREATE, O_REPLICAS, O_MAX_BYTES, O_MAX_AGE,
	O_DISCARD, O_DUP, O_WINDOW, O_MAX_MSG, O_ACK_WAIT, O_BACKOFF, O_NO_HB, O_ONCE, O_METRICS, O_HELP,
	O_VERSION,
};

static const struct option ship_own_opts[] = {
	{"bus", required_argument, NULL, O_BUS},
	{"dir", required_argument, NULL, O_DIR},
	{"stream", required_argument, NULL, O_STREAM},
	{"subject", required_argument, NULL, O_SUBJECT},
	{"no-create", no_argument, NULL, O_NO_CREATE},
	{"replicas", required_argument, NULL, O_REPLICAS},
	{"max-bytes", required_argument, NULL, O_MAX_BYTES},
	{"max-age", required_argument, NULL, O_MAX_AGE},
	{"discard", required_argument, NULL, O_DISCARD},
	{"dup-window", required_argument, NULL, O_DUP},
	{"window", required_argument, NULL, O_WINDOW},
	{"max-msg", required_argument, NULL, O_MAX_MSG},
	{"ack-wait", required_argument, NULL, O_ACK_WAIT},
	{"backoff-max", required_argument, NULL, O_BACKOFF},
	{"no-heartbeats", no_argument, NULL, O_NO_HB},
	{"once", no_argument, NULL, O_ONCE},
	{"metrics", required_argument, NULL, O_METRICS},
	{"help", no_argument, NULL, O_HELP},
	{"version", no_argument, NULL, O_VERSION},
};


/* A subject prefix or stream name: NATS tokens without wildcards. */
static int ship_token_ok(const char *s, int dots)
{
	if (!*s || strlen(s) > 128 || s[0] == '.' || s[strlen(s) - 1] == '.')
		return 0;
	for (; *s; s++)
		if (strchr("*> \t\r\n/\\", *s) || (*s == '.' && !dots))
			return 0;
	return 1;
}

static int ship_num(const char *flag, const char *arg, uint64_t lo, uint64_t hi, uint64_t *v)
{
	if (hbc_parse_size(arg, v) || strpbrk(arg, "kKmMgGbB") || *v < lo || *v > hi)
		return hbf_bad(flag, arg, "invalid number");
	return -1;
}

static int ship_dur_ms(const char *flag, const char *arg, int64_t *ms)
{
	uint64_t ns;

	if (hbc_parse_duration(arg, &ns) || ns < 1000000u)
		return hbf_bad(flag, arg, "invalid duration");
	*ms = (int64_t)(ns / 1000000u);
	return -1;
}

static int ship_opt(void *ctx, int ch, const char *arg)
{
	struct ship_opts *o = ctx;
	uint64_t v;
	int rc;

	switch (ch) {
	case O_BUS:
		if (hb_name_check(arg, sizeof(o->bus)))
			return hbf_bad("--bus", arg, "invalid bus name");
		snprintf(o->bus, sizeof(o->bus), "%s", arg);
		return -1;
	case O_DIR:
		if (!*arg || strlen(arg) >= sizeof(o->dir) - HBC_FNAME_MAX)
			return hbf_bad("--dir", arg, "invalid directory");
		snprintf(o->dir, sizeof(o->dir), "%s", arg);
		o->dir_set = 1;
		return -1;
	case O_STREAM:
		o->stream = arg;
		return ship_token_ok(arg, 0) ? -1 : hbf_bad("--stream", arg, "invalid stream name");
	case O_SUBJECT:
		o->prefix = arg;
		return ship_token_ok(arg, 1) ? -1 : hbf_bad("--subject", arg, "invalid subject prefix");
	case O_NO_CREATE: o->create = 0; return -1;
	case O_NO_HB: o->heartbeats = 0; return -1;
	case O_ONCE: o->once = 1; return -1;
	case O_METRICS: o->metrics = arg; return -1;
	case O_REPLICAS:
		rc = ship_num("--replicas", arg, 1, 5, &v);
		o->replicas = (int64_t)v;
		return rc;
	case O_WINDOW:
		rc = ship_num("--window", arg, 1, 65536, &v);
		o->window = (unsigned)v;
		return rc;
	case O_MAX_BYTES:
		if (hbc_parse_size(arg, &v) || v > INT64_MAX)
			return hbf_bad("--max-bytes", arg, "invalid size");
		o->max_bytes = (int64_t)v;
		return -1;
	case O_MAX_MSG:
		if (hbc_parse_size(arg, &o->max_msg) || o->max_msg < 1024 || o->max_msg > (8u << 20))
			return hbf_bad("--max-msg", arg, "invalid size (1k-8M)");
		return -1;
	case O_MAX_AGE:
		if (hbc_parse_duration(arg, &v) || v > INT64_MAX)
			return hbf_bad("--max-age", arg, "invalid duration");
		o->max_age_ns = (int64_t)v;
		return -1;
	case O_DUP:
		if (hbc_parse_duration(arg, &v) || !v || v > INT64_MAX)
			return hbf_bad("--dup-window", arg, "invalid duration");
		o->dup_window_ns = (int64_t)v;
		return -1;
	case O_DISCARD:
		if (strcmp(arg, "old") && strcmp(arg, "new"))
			return hbf_bad("--discard", arg, "want old or new, not");
		o->discard_new = !strcmp(arg, "new");
		return -1;
	case O_ACK_WAIT: return ship_dur_ms("--ack-wait", arg, &o->ack_wait_ms);
	case O_BACKOFF: {
		int64_t ms = 0;

		rc = ship_dur_ms("--backoff-max", arg, &ms);
		o->backoff_max_ms = (uint64_t)ms;
		return rc;
	}
	case O_HELP: ship_usage(stdout); return 0;
	case O_VERSION: printf("hbship %s\n", HB_VERSION_STRING); return 0;
	default:
		fputs("Try 'hbship --help' for more information.\n", stderr);
		return 2;
	}
}

static int ship_parse_args(struct ship_opts *o, int argc, char **argv)
{
	const char *bus = getenv("HB_BUS");
	int rc;

	memset(o, 0, sizeof(*o));
	snprintf(o->bus, sizeof(o->bus), "%s", bus && *bus ? bus : "default");
	o->stream = "HB";
	o->prefix = "hb";
	o->create = 1;
	o->replicas = 1;
	o->dup_window_ns = 120ll * 1000000000;
	o->window = 256;
	o->max_msg = 256u << 10;
	o->ack_wait_ms = 5000;
	o->backoff_max_ms = 5000;
	o->heartbeats = 1;
	rc = hbf_getopt(argc, argv, ship_own_opts, sizeof(ship_own_opts) / sizeof(ship_own_opts[0]),
			&o->nats, ship_opt, o);
	if (rc >= 0)
		return rc;
	if (hb_name_check(o->bus, sizeof(o->bus)))
		return hbf_bad("HB_BUS", o->bus, "invalid bus name");
	if (!o->dir_set && hbc_default_dir(o->dir, sizeof(o->dir), o->bus))
		return 2;
	return -1;
}

int main(int argc, char **argv)
{
	struct ship_opts o;
	int rc;

	hbc_prog = "hbship";
	rc = ship_parse_args(&o, argc, argv);
	if (rc >= 0)
		return rc;
	hbf_signals();
	/* its own heartbeats go to the bus it ships (HB_BUS would override) */
	setenv("HB_BUS", o.bus, 1);
	rc = ship_run(&o, &hbf_stop);
	nats_Close();
	return rc ? 1 : 0;
}
