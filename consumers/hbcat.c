/* SPDX-License-Identifier: MIT */
/*
 * hbcat - print, filter and summarise hb archives (docs/man/hbcat.1).
 */
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hb.h"
#include "hb_merge.h"
#include "hb_reader.h"
#include "hb_summary.h"

enum out_fmt { OUT_TEXT, OUT_JSON, OUT_MSGPACK };

#define CAT_CHUNK (256u << 10) /* text and JSON are written in chunks of this */
#define CAT_SLACK (64u << 10)  /* room always left for the next record */

struct cat_filter {
	char **types, **prods, **hosts;
	size_t ntypes, nprods, nhosts;
	int min_prio; /* -1: any */
	bool events, heartbeats;
	bool has_req, has_since, has_until;
	uint64_t req, since, until;
};

/* One producer across files (the restated producer records that start
 * them): what the time-order merge waits for. */
struct cat_prod {
	struct hb_merge_src src;
	char *key;
};

/* A producer record (hb_rd_producer.user points here): for msgpack output
 * its definition records, restated before its first selected record. */
struct cat_pdef {
	uint32_t p;
	char *bytes;
	size_t len, emitted;
	struct cat_prod *prod;
};

/* A selected record, formatted, waiting for its turn in time order or in
 * the ring of the last N. */
struct cat_item {
	struct hb_merge_item m;
	const struct hb_rd_producer *pr; /* msgpack: whose definitions go first */
	size_t len;
	char bytes[];
};

#define CAT_MERGE_MAX (1u << 20) /* records held for time order at most */
#define CAT_TAIL_FOLLOW 10       /* -f without -n or --since: the last 10 */

struct cat {
	enum out_fmt fmt;
	struct cat_filter flt;
	bool follow, summary, color, utc, all_gaps;
	int tflags; /* HB_RD_TEXT_* */
	const char *bus;
	struct hb_reader *r;
	FILE *out;
	/* text and JSON: formatted records not yet written to stdout */
	char *obuf;
	size_t olen, ocap;
	/* msgpack output */
	char *header;
	size_t header_len;
	bool header_out;
	struct cat_pdef **pdefs; /* all, for freeing */
	size_t npdefs;
	struct cat_pdef **out_p; /* per output p number: the def emitted last */
	uint32_t *out_pn;
	size_t nout;
	struct hb_sum *sum;
	/* time order (not --raw) */
	bool raw;
	struct hb_merge merge;
	struct cat_prod **prods;
	size_t nprods;
	uint64_t pushed;
	char *fbuf; /* one record being formatted */
	size_t fcap;
	/* -n N: the last N released, a ring; live once -f has printed them */
	long long lines; /* -1: all */
	struct cat_item **tail;
	size_t tail_head, tail_len;
	bool live;
};

static struct hb_reader *volatile g_reader;

static void usage(FILE *f)
{
	fputs("Usage: hbcat [OPTIONS] [PATH...]\n"
	      "Print, filter and summarise hb archives, in time order across producers and\n"
	      "files. PATH is an archive file, a directory (its hb-*.msgpack files in\n"
	      "name order), a fleet archive FLEETDIR (the files of FLEETDIR/<host>/<bus>/,\n"
	      "hosts interleaved by time) or - for stdin; default: the bus's\n"
	      "archive directory ($HB_DIR, else ${XDG_STATE_HOME:-~/.local/state}/hb/BUS).\n"
	      "\n"
	      "  -f, --follow            wait for more records, follow rotations (of every\n"
	      "                          host and bus of a fleet tree, new ones too); first\n"
	      "                          prints the last 10 (-n), or all since --since\n"
	      "  -n, --lines N           only the last N records (all: every one); with -f,\n"
	      "                          the last N, then the new ones\n"
	      "      --raw               file order (as drained), not time order\n"
	      "  -o, --output FMT        text (default), json (one object per line), msgpack\n"
	      "  -t, --type GLOB         events whose type matches GLOB (repeatable)\n"
	      "  -p, --producer GLOB     records of producers matching GLOB (repeatable)\n"
	      "      --host GLOB         records of producers of hosts matching GLOB (repeatable)\n"
	      "  -P, --priority MIN      events of at least MIN: low|normal|high|urgent|0-3\n"
	      "  -e, --events            events only\n"
	      "  -H, --heartbeats        heartbeats only\n"
	      "  -r, --request ID        events of request ID\n"
	      "      --since T           records at or after T\n"
	      "      --until T           records at or before T\n"
	      "                          T: 2026-11-23T16:13:05Z, '2026-11-23 16:13:05',\n"
	      "                          @EPOCHSECS, now, -10m, -2h, 1h, '5 min ago',\n"
	      "                          today, yesterday, 'yesterday 17:20', 17:20\n"
	      "                          (local time unless --utc or a zone is given)\n"
	      "      --utc               show and read times in UTC, not local time\n"
	      "      --summary           per producer and type counts, spans, gaps (as ranges\n"
	      "                          and the largest), states, damage\n"
	      "      --gaps              --summary listing every gap\n"
	      "      --bus NAME          bus whose archive is read (default $HB_BUS or default)\n"
	      "      --color WHEN        auto (default), always, never; NO_COLOR is honoured\n"
	      "  -h, --help              this help\n"
	      "  -V, --version           print the version\n"
	      "\n"
	      "Exit status: 0 ok, 1 damaged data was met, 2 usage error.\n",
	      f);
}

static void die_usage(const char *flag, const char *msg, const char *val)
{
	fprintf(stderr, "hbcat: %s: %s '%s'\n", flag, msg, val);
	exit(2);
}

static void push(char ***v, size_t *n, char *s)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(*nv));

	if (!nv) {
		fputs("hbcat: out of memory\n", stderr);
		exit(1);
	}
	*v = nv;
	nv[(*n)++] = s;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* -n N: a count, or all (-1). */
static long long parse_lines(const char *s)
{
	char *end;
	long long n;

	if (strcmp(s, "all") == 0)
		return -1;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno || end == s || *end || n < 0 || s[0] == '-' || s[0] == '+')
		die_usage("--lines", "not a count (N or all)", s);
	return n;
}

/* --since/--until, once --utc is known. */
static void parse_time(const char *flag, const char *s, bool utc, uint64_t *ns, bool *set)
{
	if (!s)
		return;
	if (hb_time_parse_flags(s, now_ns(), utc ? HB_TIME_UTC : 0, ns))
		die_usage(flag, "bad time (see --help for the forms)", s);
	*set = true;
}

enum { OPT_SINCE = 256, OPT_UNTIL, OPT_SUMMARY, OPT_BUS, OPT_COLOR, OPT_UTC, OPT_RAW, OPT_GAPS, OPT_HOST };

static void parse_opts(struct cat *c, int argc, char **argv)
{
	static const struct option longs[] = {
		{"follow", no_argument, NULL, 'f'},	 {"output", required_argument, NULL, 'o'},
		{"type", required_argument, NULL, 't'},	 {"producer", required_argument, NULL, 'p'},
		{"priority", required_argument, NULL, 'P'}, {"events", no_argument, NULL, 'e'},
		{"heartbeats", no_argument, NULL, 'H'},	 {"request", required_argument, NULL, 'r'},
		{"host", required_argument, NULL, OPT_HOST},
		{"since", required_argument, NULL, OPT_SINCE},
		{"until", required_argument, NULL, OPT_UNTIL},
		{"summary", no_argument, NULL, OPT_SUMMARY},
		{"utc", no_argument, NULL, OPT_UTC},
		{"raw", no_argument, NULL, OPT_RAW},
		{"gaps", no_argument, NULL, OPT_GAPS},
		{"lines", required_argument, NULL, 'n'},
		{"bus", required_argument, NULL, OPT_BUS},
		{"color", required_argument, NULL, OPT_COLOR},
		{"colour", required_argument, NULL, OPT_COLOR},
		{"help", no_argument, NULL, 'h'},	 {"version", no_argument, NULL, 'V'},
		{0, 0, 0, 0},
	};
	const char *color = "auto", *since = NULL, *until = NULL;
	bool lines_set = false;
	char *end;
	int o;

	c->flt.min_prio = -1;
	argv[0] = (char *)"hbcat"; /* getopt names the program in its messages */
	while ((o = getopt_long(argc, argv, "fo:t:p:P:eHr:n:hV", longs, NULL)) != -1) {
		switch (o) {
		case 'f':
			c->follow = true;
			break;
		case 'o':
			if (strcmp(optarg, "text") == 0)
				c->fmt = OUT_TEXT;
			else if (strcmp(optarg, "json") == 0)
				c->fmt = OUT_JSON;
			else if (strcmp(optarg, "msgpack") == 0)
				c->fmt = OUT_MSGPACK;
			else
				die_usage("--output", "unknown output format", optarg);
			break;
		case 't':
			push(&c->flt.types, &c->flt.ntypes, optarg);
			break;
		case 'p':
			push(&c->flt.prods, &c->flt.nprods, optarg);
			break;
		case OPT_HOST:
			push(&c->flt.hosts, &c->flt.nhosts, optarg);
			break;
		case 'P':
			c->flt.min_prio = hb_prio_parse(optarg);
			if (c->flt.min_prio < 0)
				die_usage("--priority", "unknown priority", optarg);
			break;
		case 'e':
			c->flt.events = true;
			break;
		case 'H':
			c->flt.heartbeats = true;
			break;
		case 'r':
			errno = 0;
			c->flt.req = strtoull(optarg, &end, 0);
			if (errno || end == optarg || *end || optarg[0] == '-')
				die_usage("--request", "bad request id", optarg);
			c->flt.has_req = true;
			break;
		case OPT_SINCE:
			since = optarg;
			break;
		case OPT_UNTIL:
			until = optarg;
			break;
		case OPT_UTC:
			c->utc = true;
			break;
		case OPT_RAW:
			c->raw = true;
			break;
		case OPT_GAPS:
			c->all_gaps = c->summary = true;
			break;
		case 'n':
			c->lines = parse_lines(optarg);
			lines_set = true;
			break;
		case OPT_SUMMARY:
			c->summary = true;
			break;
		case OPT_BUS:
			if (hb_name_check(optarg, HB_BUS_MAX))
				die_usage("--bus", "bad bus name", optarg);
			c->bus = optarg;
			break;
		case OPT_COLOR:
			if (strcmp(optarg, "auto") && strcmp(optarg, "always") && strcmp(optarg, "never"))
				die_usage("--color", "unknown color mode", optarg);
			color = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			puts("hbcat " HB_VERSION_STRING);
			exit(0);
		default:
			fputs("Try 'hbcat --help' for more information.\n", stderr);
			exit(2);
		}
	}
	if (!lines_set)
		c->lines = c->follow && !since ? CAT_TAIL_FOLLOW : -1;
	if (lines_set && c->summary)
		die_usage("--lines", "does not apply to", "--summary");
	parse_time("--since", since, c->utc, &c->flt.since, &c->flt.has_since);
	parse_time("--until", until, c->utc, &c->flt.until, &c->flt.has_until);
	if (strcmp(color, "auto") == 0) {
		const char *nc = getenv("NO_COLOR");
		c->color = isatty(STDOUT_FILENO) && !(nc && *nc);
	} else {
		c->color = strcmp(color, "always") == 0;
	}
	if (c->fmt != OUT_TEXT || c->summary)
		c->color = false;
	c->tflags = (c->color ? HB_RD_TEXT_COLOR : 0) | (c->utc ? 0 : HB_RD_TEXT_LOCAL);
}

/* ---- selection ----------------------------------------------------------- */

static bool glob_any(char **globs, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (fnmatch(globs[i], s, 0) == 0)
			return true;
	return false;
}

static bool is_restated(const struct hb_rd_record *rec)
{
	const msgpack_object *why = hb_rd_map_get(rec->obj, "why");

	return why && why->type == MSGPACK_OBJECT_STR && why->via.str.size == 8 &&
	       memcmp(why->via.str.ptr, "restated", 8) == 0;
}

static bool selected(const struct cat_filter *f, const struct hb_rd_record *rec)
{
	bool ev = rec->kind == HB_RD_EVENT;

	if (rec->kind == HB_RD_HEADER)
		return false;
	if ((f->events || f->heartbeats) &&
	    !((f->events && ev) || (f->heartbeats && rec->kind == HB_RD_HEARTBEAT)))
		return false;
	if ((f->ntypes || f->min_prio >= 0 || f->has_req) && !ev)
		return false;
	if (f->has_since && rec->ts_ns < f->since)
		return false;
	if (f->has_until && rec->ts_ns > f->until)
		return false;
	if (f->min_prio >= 0 && rec->prio < f->min_prio)
		return false;
	if (f->has_req && (!rec->has_req || rec->req != f->req))
		return false;
	if (f->nprods && (!rec->producer || !glob_any(f->prods, f->nprods, rec->producer->name)))
		return false;
	if (f->nhosts && (!rec->producer || !glob_any(f->hosts, f->nhosts, rec->producer->host)))
		return false;
	if (f->ntypes && !glob_any(f->types, f->ntypes, rec->type ? rec->type->name : ""))
		return false;
	if (rec->kind == HB_RD_BUS && strcmp(rec->bus_kind, "producer") == 0 && is_restated(rec))
		return false;
	if (rec->kind == HB_RD_BUS && strcmp(rec->bus_kind, "index") == 0)
		return false; /* file structure (time index), like restated producers */
	return true;
}

/* ---- msgpack output ------------------------------------------------------ */

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		fputs("hbcat: out of memory\n", stderr);
		exit(1);
	}
	return p;
}

/* A producer record as the restated one a file starts with: the output is
 * a new file whose tables come first, not an attachment at that time. */
static void pdef_restated(struct cat_pdef *d, const struct hb_rd_record *rec)
{
	const msgpack_object *m = rec->obj;
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, m->via.map.size);
	for (uint32_t i = 0; i < m->via.map.size; i++) {
		const msgpack_object *k = &m->via.map.ptr[i].key;
		msgpack_pack_object(&pk, *k);
		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == 3 &&
		    memcmp(k->via.str.ptr, "why", 3) == 0)
			msgpack_pack_str_with_body(&pk, "restated", 8);
		else
			msgpack_pack_object(&pk, m->via.map.ptr[i].val);
	}
	d->bytes = xrealloc(d->bytes, d->len + sb.size);
	memcpy(d->bytes + d->len, sb.data, sb.size);
	d->len += sb.size;
	msgpack_sbuffer_destroy(&sb);
}

static void pdef_append(struct cat_pdef *d, const struct hb_rd_record *rec)
{
	d->bytes = xrealloc(d->bytes, d->len + rec->raw_len);
	memcpy(d->bytes + d->len, rec->raw, rec->raw_len);
	d->len += rec->raw_len;
}

/* A producer record that is itself selected is written as it is. */
static void pdef_selected(struct cat_pdef *d, const struct hb_rd_record *rec)
{
	d->len = 0;
	pdef_append(d, rec);
}

/* The producer an archive producer record is one of, by identity. */
static struct cat_prod *prod_find(struct cat *c, const struct hb_rd_producer *pr)
{
	struct cat_prod *cp;
	char *key;

	if (asprintf(&key, "%s/%s/%s/%u/%llu", pr->host ? pr->host : "", pr->ring ? pr->ring : "",
		     pr->name, pr->pid, (unsigned long long)pr->start_ns) < 0)
		exit(1);
	for (size_t i = 0; i < c->nprods; i++)
		if (strcmp(c->prods[i]->key, key) == 0) {
			free(key);
			return c->prods[i];
		}
	cp = calloc(1, sizeof(*cp));
	if (!cp || hb_merge_src_add(&c->merge, &cp->src))
		exit(1);
	cp->key = key;
	c->prods = xrealloc(c->prods, (c->nprods + 1) * sizeof(*c->prods));
	c->prods[c->nprods++] = cp;
	return cp;
}

/* Every record read: keeps the header and the producer/types/metrics
 * records (msgpack output), and what the time-order merge must know. */
static void cat_track(struct cat *c, const struct hb_rd_record *rec)
{
	struct hb_rd_producer *pr = (struct hb_rd_producer *)rec->producer;
	bool mp = c->fmt == OUT_MSGPACK;

	if (rec->kind == HB_RD_HEADER && mp && !c->header_out) {
		c->header = xrealloc(c->header, rec->raw_len);
		memcpy(c->header, rec->raw, rec->raw_len);
		c->header_len = rec->raw_len;
		return;
	}
	if (!pr)
		return;
	if (rec->kind == HB_RD_BUS && strcmp(rec->bus_kind, "producer") == 0) {
		struct cat_pdef *d = calloc(1, sizeof(*d));
		if (!d)
			exit(1);
		d->p = pr->p;
		d->prod = prod_find(c, pr);
		pr->user = d;
		c->pdefs = xrealloc(c->pdefs, (c->npdefs + 1) * sizeof(*c->pdefs));
		c->pdefs[c->npdefs++] = d;
		if (mp)
			pdef_restated(d, rec);
	} else if (mp && rec->kind == HB_RD_BUS && pr->user &&
		   (strcmp(rec->bus_kind, "types") == 0 || strcmp(rec->bus_kind, "metrics") == 0)) {
		pdef_append(pr->user, rec);
	}
	if (pr->user && hb_merge_final(rec))
		((struct cat_pdef *)pr->user)->prod->src.done = 1;
}

static void mp_defs(struct cat *c, const struct hb_rd_producer *pr)
{
	struct cat_pdef *d = pr ? pr->user : NULL;
	size_t i;

	if (!d)
		return;
	for (i = 0; i < c->nout && c->out_pn[i] != d->p; i++)
		;
	if (i == c->nout) {
		c->out_p = xrealloc(c->out_p, (c->nout + 1) * sizeof(*c->out_p));
		c->out_pn = xrealloc(c->out_pn, (c->nout + 1) * sizeof(*c->out_pn));
		c->out_p[i] = NULL;
		c->out_pn[i] = d->p;
		c->nout++;
	}
	if (c->out_p[i] != d) {
		c->out_p[i] = d;
		d->emitted = 0;
	}
	fwrite_unlocked(d->bytes + d->emitted, 1, d->len - d->emitted, c->out);
	d->emitted = d->len;
}

/* msgpack output: 0 for a record that is not written (end) or only as the
 * definitions before it (producer, types, metrics), else 1. */
static int mp_wanted(const struct hb_rd_record *rec)
{
	const char *k = rec->bus_kind;

	if (rec->kind != HB_RD_BUS)
		return 1;
	return strcmp(k, "end") && strcmp(k, "producer") && strcmp(k, "types") &&
	       strcmp(k, "metrics");
}

/* A msgpack record of producer pr (n bytes at b), after the file header
 * and the definitions it needs. */
static void mp_write(struct cat *c, const struct hb_rd_producer *pr, const char *b, size_t n)
{
	if (!c->header_out && c->header) {
		fwrite_unlocked(c->header, 1, c->header_len, c->out);
		c->header_out = true;
	}
	mp_defs(c, pr);
	fwrite_unlocked(b, 1, n, c->out);
}

/* The record as its output bytes, into c->fbuf: the length. */
static size_t cat_format(struct cat *c, const struct hb_rd_record *rec)
{
	for (;;) {
		size_t n = c->fmt == OUT_TEXT   ? hb_rd_format_text(c->fbuf, c->fcap, rec, c->tflags)
			   : c->fmt == OUT_JSON ? hb_rd_format_json(c->fbuf, c->fcap, rec)
			   : !mp_wanted(rec)	? 0
						: hb_rd_format_msgpack(c->fbuf, c->fcap, rec);
		if (n <= c->fcap)
			return n;
		c->fbuf = xrealloc(c->fbuf, n);
		c->fcap = n;
	}
}

static void mp_emit(struct cat *c, const struct hb_rd_record *rec)
{
	if (rec->kind == HB_RD_BUS && strcmp(rec->bus_kind, "end") == 0)
		return;
	/* an event of a batch is written as the single event it stands for */
	size_t n = cat_format(c, rec);
	mp_write(c, rec->producer, c->fbuf, n);
}

static void cat_free(struct cat *c)
{
	for (size_t i = 0; i < c->npdefs; i++) {
		free(c->pdefs[i]->bytes);
		free(c->pdefs[i]);
	}
	free(c->pdefs);
	free(c->out_p);
	free(c->out_pn);
	free(c->header);
	free(c->fbuf);
	hb_merge_free(&c->merge); /* before the sources it holds queues of */
	for (size_t i = 0; i < c->nprods; i++) {
		free(c->prods[i]->key);
		free(c->prods[i]);
	}
	free(c->prods);
	while (c->tail_len) {
		free(c->tail[c->tail_head]);
		c->tail_head = (c->tail_head + 1) % (size_t)c->lines;
		c->tail_len--;
	}
	free(c->tail);
	free(c->obuf);
	free(c->flt.types);
	free(c->flt.prods);
	free(c->flt.hosts);
}

/* ---- main loop ------------------------------------------------------------- */

static void on_signal(int sig)
{
	(void)sig;
	if (g_reader)
		hb_reader_stop(g_reader);
}

static void check_out(struct cat *c)
{
	if (!ferror_unlocked(c->out))
		return;
	if (errno == EPIPE)
		exit(hb_reader_damage_count(c->r) ? 1 : 0);
	fprintf(stderr, "hbcat: write error: %s\n", strerror(errno));
	exit(1);
}

static void out_error(struct cat *c, int err)
{
	if (err == EPIPE)
		exit(hb_reader_damage_count(c->r) ? 1 : 0);
	fprintf(stderr, "hbcat: write error: %s\n", strerror(err));
	exit(1);
}

/* Writes the formatted text/JSON records out. */
static void out_flush(struct cat *c)
{
	size_t off = 0;

	while (off < c->olen) {
		ssize_t n = write(STDOUT_FILENO, c->obuf + off, c->olen - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			out_error(c, n < 0 ? errno : EIO);
		off += (size_t)n;
	}
	c->olen = 0;
}

/* One text or JSON record into the output buffer, written out in chunks. */
static void out_record(struct cat *c, const struct hb_rd_record *rec)
{
	for (;;) {
		char *p = c->obuf + c->olen;
		size_t room = c->ocap - c->olen, n;
		n = c->fmt == OUT_TEXT ? hb_rd_format_text(p, room, rec, c->tflags)
				       : hb_rd_format_json(p, room, rec);
		if (n <= room) {
			c->olen += n;
			break;
		}
		if (c->olen) {
			out_flush(c);
			continue;
		}
		c->obuf = xrealloc(c->obuf, n); /* a record larger than the slack */
		c->ocap = n;
	}
	if (c->olen >= CAT_CHUNK)
		out_flush(c);
}

/* n bytes of formatted text or JSON into the output buffer. */
static void out_bytes(struct cat *c, const char *b, size_t n)
{
	if (c->olen + n > c->ocap)
		out_flush(c);
	if (n > c->ocap) {
		c->obuf = xrealloc(c->obuf, n); /* a record larger than the slack */
		c->ocap = n;
	}
	memcpy(c->obuf + c->olen, b, n);
	c->olen += n;
	if (c->olen >= CAT_CHUNK)
		out_flush(c);
}

/* ---- time order and the last N ------------------------------------------ */

static void item_write(struct cat *c, struct cat_item *it)
{
	if (c->fmt == OUT_MSGPACK) {
		mp_write(c, it->pr, it->bytes, it->len);
		check_out(c);
	} else {
		out_bytes(c, it->bytes, it->len);
	}
	free(it);
}

/* An item in time order: out, or into the ring of the last N. */
static void item_release(struct cat *c, struct cat_item *it)
{
	size_t cap = (size_t)c->lines;

	if (c->lines < 0 || c->live) {
		item_write(c, it);
		return;
	}
	if (!cap) {
		free(it);
		return;
	}
	if (!c->tail)
		c->tail = xrealloc(NULL, cap * sizeof(*c->tail));
	if (c->tail_len == cap) {
		free(c->tail[c->tail_head]);
		c->tail[c->tail_head] = it;
		c->tail_head = (c->tail_head + 1) % cap;
	} else {
		c->tail[(c->tail_head + c->tail_len++) % cap] = it;
	}
}

/* The last N, once everything there is was read. */
static void tail_write(struct cat *c)
{
	for (; c->tail_len; c->tail_len--) {
		item_write(c, c->tail[c->tail_head]);
		c->tail_head = (c->tail_head + 1) % (size_t)c->lines;
	}
	c->live = true;
}

static void merge_drain(struct cat *c, uint64_t upto)
{
	struct hb_merge_item *mi;

	while ((mi = hb_merge_pop(&c->merge, upto)))
		item_release(c, (struct cat_item *)mi);
}

/* A selected record: formatted, then in time order (or, --raw, at once). */
static void cat_take(struct cat *c, const struct hb_rd_record *rec)
{
	const struct hb_rd_producer *pr = rec->producer;
	const struct cat_pdef *d = pr ? pr->user : NULL;
	size_t n = cat_format(c, rec);
	struct cat_item *it;

	if (!n && c->fmt == OUT_MSGPACK && !pr)
		return;
	it = xrealloc(NULL, sizeof(*it) + n);
	it->pr = pr;
	it->len = n;
	memcpy(it->bytes, c->fbuf, n);
	if (c->raw) {
		item_release(c, it);
		return;
	}
	/* bus records carry the collector's time, not the producer's */
	if (hb_merge_push(&c->merge, &it->m, d && rec->kind != HB_RD_BUS ? &d->prod->src : NULL,
			  rec->ts_ns)) {
		fputs("hbcat: out of memory\n", stderr);
		exit(1);
	}
	if ((++c->pushed & 63) == 0)
		merge_drain(c, hb_merge_watermark(&c->merge));
}

/* Follow mode, caught up with the archive: the last N at first; then what
 * the watermark allows, and whatever is older than the merge's slack. */
static void on_idle(void *ctx)
{
	struct cat *c = ctx;

	if (!c->live) {
		merge_drain(c, UINT64_MAX);
		tail_write(c);
	} else {
		uint64_t wm = hb_merge_watermark(&c->merge), now = now_ns();
		uint64_t old = now > c->merge.slack_ns ? now - c->merge.slack_ns : 0;
		merge_drain(c, wm > old ? wm : old);
	}
	out_flush(c);
	fflush_unlocked(c->out);
	check_out(c);
}

static void on_damage(void *ctx, const char *file, uint64_t off, uint64_t len, const char *what)
{
	struct cat *c = ctx;

	(void)len;
	out_flush(c);
	fflush_unlocked(c->out);
	fprintf(stderr, "hbcat: %s: offset %llu: %s\n", file, (unsigned long long)off, what);
	if (c->sum)
		hb_sum_damage(c->sum, file, off, len, what);
}

static char *default_dir(const char *bus)
{
	char dir[4096];
	int rc = hb_default_dir(bus, dir, sizeof(dir));

	if (rc) {
		fprintf(stderr, "hbcat: no archive directory: %s; give a PATH or set HB_DIR\n",
			rc == -ENOENT ? "$HOME is not set and the user has no home directory"
				      : "the default one is too long");
		return NULL;
	}
	return strdup(dir);
}

/* Records straight out, in file order: --raw without -n (the fast path). */
static void cat_direct(struct cat *c, const struct hb_rd_record *rec)
{
	if (c->fmt != OUT_MSGPACK) {
		out_record(c, rec);
		return;
	}
	mp_emit(c, rec);
	check_out(c);
}

static int cat_run(struct cat *c)
{
	bool direct = c->raw && c->lines < 0;
	struct hb_rd_record rec;
	int rc;

	while ((rc = hb_reader_next(c->r, &rec)) == 1) {
		if (c->sum) {
			hb_sum_seq(c->sum, &rec);
			if (selected(&c->flt, &rec))
				hb_sum_add(c->sum, &rec);
			continue;
		}
		cat_track(c, &rec);
		if (!selected(&c->flt, &rec))
			continue;
		if (c->fmt == OUT_MSGPACK && rec.kind == HB_RD_BUS && rec.producer &&
		    strcmp(rec.bus_kind, "producer") == 0)
			pdef_selected(rec.producer->user, &rec);
		if (direct)
			cat_direct(c, &rec);
		else
			cat_take(c, &rec);
	}
	merge_drain(c, UINT64_MAX);
	if (!c->live)
		tail_write(c);
	out_flush(c);
	if (rc < 0)
		fprintf(stderr, "hbcat: read error: %s\n", strerror(-rc));
	return rc;
}

int main(int argc, char **argv)
{
	struct cat c = {.out = stdout};
	struct hb_reader_opts ro = {.on_damage = on_damage, .on_idle = on_idle, .ctx = &c};
	struct sigaction sa = {.sa_handler = on_signal};
	char *dflt = NULL;
	const char **paths;
	size_t npaths;
	int rc;

	parse_opts(&c, argc, argv);
	npaths = (size_t)(argc - optind);
	paths = (const char **)argv + optind;
	if (!npaths) {
		dflt = default_dir(c.bus);
		if (!dflt)
			return 1;
		paths = (const char **)&dflt;
		npaths = 1;
	}
	for (size_t i = 0; i < npaths; i++) {
		struct stat st;
		if (strcmp(paths[i], "-") == 0 || (c.follow && i + 1 == npaths))
			continue;
		if (stat(paths[i], &st)) {
			fprintf(stderr, "hbcat: %s: %s\n", paths[i], strerror(errno));
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	if (c.summary)
		c.sum = hb_sum_new();
	ro.flags = c.follow ? HB_RD_FOLLOW : 0;
	if (!c.summary) { /* let the reader skip what the time index rules out */
		ro.since_ns = c.flt.has_since ? c.flt.since : 0;
		ro.until_ns = c.flt.has_until ? c.flt.until : 0;
	}
	rc = hb_reader_open(&c.r, paths, npaths, &ro);
	if (rc) {
		fprintf(stderr, "hbcat: %s: %s\n", paths[npaths - 1], strerror(-rc));
		return 2;
	}
	g_reader = c.r;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	setvbuf(stdout, NULL, _IOFBF, 1 << 20);
	c.ocap = CAT_CHUNK + CAT_SLACK;
	c.obuf = xrealloc(NULL, c.ocap);
	c.fcap = 4096;
	c.fbuf = xrealloc(NULL, c.fcap);
	hb_merge_init(&c.merge, CAT_MERGE_MAX);
	rc = cat_run(&c);
	if (c.sum)
		hb_sum_print(c.sum, c.out,
			     (c.fmt == OUT_JSON ? HB_SUM_JSON : 0) | (c.all_gaps ? HB_SUM_ALL_GAPS : 0));
	fflush(c.out);
	check_out(&c);
	if (rc == 0 && hb_reader_damage_count(c.r))
		rc = 1;
	else if (rc < 0)
		rc = 1;
	g_reader = NULL;
	hb_reader_close(c.r);
	hb_sum_free(c.sum);
	cat_free(&c);
	free(dflt);
	return rc;
}
