/* SPDX-License-Identifier: MIT */
/*
 * hbreplay - re-publish archived records into a live bus as their original
 * producers, merged in time order, at the original pace times a factor or
 * as fast as possible, without loss.
 *
 * Records are read in file order through the reader, copied into items and
 * merged by time (hb_merge.h): a producer's records never change order, and
 * those of different producers, batches and files come out in time order.
 * Each replayed producer is a process of its own (replay/child.h) that owns
 * its ring, so that the collector records what it recorded of the original:
 * heartbeats stop where the original's stopped (late, dead), the process
 * dies without closing its ring where the original's died (crashed), and it
 * closes where the original closed (exited).
 */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hb.h"
#include "hb_merge.h"
#include "hb_reader.h"
#include "hb_state.h"
#include "hbs/names.h"
#include "replay/child.h"

#define TOOL "hbreplay"
#define NS 1000000000ull
#define MERGE_MAX_ITEMS (4u << 20) /* beyond this, release the oldest anyway */
#define MAX_GLOBS 32

struct rp; /* a replayed producer */

struct item {
	struct hb_merge_item m; /* m.key: the time it is replayed at */
	uint64_t ts;
	struct rp *rp;
	const struct hb_rd_producer *tables; /* valid until the reader closes */
	uint8_t kind; /* HB_RD_EVENT, HB_RD_HEARTBEAT, or HB_RD_BUS: its process died */
	uint8_t prio;
	uint8_t status;
	uint8_t nvals;
	uint16_t type;
	uint64_t req;
	uint32_t nmetrics;
	uint64_t seq;
	struct hb_val vals[HB_MAX_FIELDS];
	uint64_t *metrics; /* nmetrics x (a, b, c), after the strings */
	_Alignas(8) char data[]; /* string/bytes values, or metrics */
};

struct rp {
	char *key; /* host + ring + start: one original producer */
	char *name, *thread;
	uint32_t interval_ms;
	struct hbr_child child; /* no process until its first record is replayed */
	int died;               /* its process died in this pass: nothing follows */
	uint64_t gone_ts;       /* when its process was found gone, 0: not (yet) */
	struct hb_merge_src src;
	uint64_t replayed;
};

struct opts {
	const char *bus;
	double speed; /* 0: as fast as possible */
	uint64_t since, until;
	const char *types[MAX_GLOBS], *producers[MAX_GLOBS], *hosts[MAX_GLOBS];
	int ntypes, nproducers, nhosts;
	int loop, dry_run, quiet;
	unsigned ring_kb;
	char **paths;
	int npaths;
};

static volatile sig_atomic_t stop_flag;
static struct hb_reader *active_reader;

static struct hb_merge merge;

static struct rp **rps;
static size_t nrps;

static struct {
	uint64_t t0_rec, t0_wall, read, replayed, bytes_total, bytes_before, last_draw;
	const char *file;
	uint64_t file_off, file_size;
	int tty;
	uint64_t ts_first, ts_last;
} prog;

/* ---- small helpers ----------------------------------------------------- */

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
	if (active_reader)
		hb_reader_stop(active_reader);
}

static int usage_error(const char *flag, const char *what, const char *val)
{
	fprintf(stderr, TOOL ": %s: %s '%s'\n", flag, what, val ? val : "");
	fprintf(stderr, "Try '" TOOL " --help'.\n");
	return 2;
}

static void usage(void)
{
	printf("Usage: " TOOL " [OPTIONS] FILE|DIR...\n"
	       "Re-publish archived hb records into a live bus as their original producers.\n\n"
	       "  --bus NAME        bus to publish on (default $HB_BUS or 'default')\n"
	       "  --speed X         original pace times X (default 1)\n"
	       "  --max             as fast as possible\n"
	       "  --since T         only records at or after T (ISO 8601, @EPOCH, -10m, now,\n"
	       "                    '5 min ago', today, yesterday, 17:20; local time unless\n"
	       "                    the time has a zone; see hbcat(1))\n"
	       "  --until T         only records at or before T\n"
	       "  -t, --type GLOB   only events of matching types (repeatable)\n"
	       "  -p, --producer GLOB  only matching producers (repeatable)\n"
	       "  --host GLOB       only producers of matching hosts (repeatable; a fleet\n"
	       "                    archive FLEETDIR holds many)\n"
	       "  --loop            start again at the end, until interrupted\n"
	       "  --ring-kb K       ring size of each replayed producer (default 1024)\n"
	       "  -n, --dry-run     print the records in replay order, publish nothing\n"
	       "  -q, --quiet       no progress line\n"
	       "  --help, --version\n\n"
	       "Records are stamped at replay time by the replaying producers; their\n"
	       "order, types, priorities, request ids, fields and heartbeat metrics are\n"
	       "kept. Each producer runs in a process of its own, so the collector records\n"
	       "what it recorded of the original: heartbeats stop where the original's\n"
	       "stopped (late, dead), the process dies with its ring open where the\n"
	       "original's was found gone (crashed), the ring closes where it closed\n"
	       "(exited). SIGINT stops cleanly: the producers close and the collector\n"
	       "records them as exited.\n");
}

static int glob_any(const char *const *globs, int n, const char *s)
{
	int i;

	if (!n)
		return 1;
	for (i = 0; i < n; i++)
		if (!fnmatch(globs[i], s ? s : "", 0))
			return 1;
	return 0;
}

/* ---- options ------------------------------------------------------------ */

static int parse_speed(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || isinf(v))
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{"bus", required_argument, 0, 'b'},   {"speed", required_argument, 0, 's'},
		{"max", no_argument, 0, 'm'},         {"since", required_argument, 0, 'S'},
		{"until", required_argument, 0, 'U'}, {"type", required_argument, 0, 't'},
		{"producer", required_argument, 0, 'p'}, {"loop", no_argument, 0, 'l'},
		{"host", required_argument, 0, 'H'},
		{"ring-kb", required_argument, 0, 'r'}, {"dry-run", no_argument, 0, 'n'},
		{"quiet", no_argument, 0, 'q'},       {"help", no_argument, 0, 'h'},
		{"version", no_argument, 0, 'V'},     {0, 0, 0, 0},
	};
	uint64_t now = hb__clock_ns();
	char *end;
	int c;

	o->bus = getenv("HB_BUS") && *getenv("HB_BUS") ? getenv("HB_BUS") : "default";
	o->speed = 1;
	o->until = UINT64_MAX;
	while ((c = getopt_long(argc, argv, "t:p:nq", lo, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (hb_name_check(optarg, HB_BUS_MAX))
				return usage_error("--bus", "invalid bus name", optarg);
			o->bus = optarg;
			break;
		case 's':
			if (parse_speed(optarg, &o->speed))
				return usage_error("--speed", "not a positive number", optarg);
			break;
		case 'm':
			o->speed = 0;
			break;
		case 'S':
			if (hb_time_parse_flags(optarg, now, 0, &o->since))
				return usage_error("--since", "invalid time", optarg);
			break;
		case 'U':
			if (hb_time_parse_flags(optarg, now, 0, &o->until))
				return usage_error("--until", "invalid time", optarg);
			break;
		case 't':
		case 'p':
		case 'H': {
			const char **v = c == 't' ? o->types : c == 'p' ? o->producers : o->hosts;
			int *n = c == 't' ? &o->ntypes : c == 'p' ? &o->nproducers : &o->nhosts;

			if (*n >= MAX_GLOBS)
				return usage_error(c == 't' ? "--type" : c == 'p' ? "--producer" : "--host",
						   "too many", optarg);
			v[(*n)++] = optarg;
			break;
		}
		case 'l':
			o->loop = 1;
			break;
		case 'r':
			errno = 0;
			o->ring_kb = (unsigned)strtoul(optarg, &end, 10);
			if (errno || *end || !o->ring_kb || o->ring_kb > (1u << 20))
				return usage_error("--ring-kb", "invalid size", optarg);
			break;
		case 'n':
			o->dry_run = 1;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'h':
			usage();
			exit(0);
		case 'V':
			printf(TOOL " " HB_VERSION_STRING "\n");
			exit(0);
		default:
			fprintf(stderr, "Try '" TOOL " --help'.\n");
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, TOOL ": no FILE or DIR given\nTry '" TOOL " --help'.\n");
		return 2;
	}
	if (o->since > o->until)
		return usage_error("--until", "is before --since", "");
	o->paths = argv + optind;
	o->npaths = argc - optind;
	return 0;
}

/* ---- producers ------------------------------------------------------------ */

static struct rp *rp_find(const struct hb_rd_producer *pr)
{
	char key[256];
	struct rp *rp, **v;
	size_t i;

	snprintf(key, sizeof(key), "%s/%s/%s/%u/%llu", pr->host ? pr->host : "",
		 pr->ring ? pr->ring : "", pr->name, pr->pid, (unsigned long long)pr->start_ns);
	for (i = 0; i < nrps; i++)
		if (!strcmp(rps[i]->key, key))
			return rps[i];
	rp = calloc(1, sizeof(*rp));
	v = realloc(rps, (nrps + 1) * sizeof(*v));
	if (!rp || !v) {
		free(rp);
		if (v)
			rps = v;
		return NULL;
	}
	rps = v;
	rp->key = strdup(key);
	rp->name = strdup(pr->name);
	rp->thread = pr->thread ? strdup(pr->thread) : NULL;
	rp->interval_ms = pr->interval_ms ? pr->interval_ms : 1000;
	rp->child.fd = -1;
	if (!rp->key || !rp->name || hb_merge_src_add(&merge, &rp->src)) {
		free(rp->key);
		free(rp->name);
		free(rp->thread);
		free(rp);
		return NULL;
	}
	rps[nrps++] = rp;
	return rp;
}

/* The heartbeat interval the replayed producer states: the original's over
 * the speed, so that the collector's liveness thresholds (1.5 and 3
 * intervals) scale with the pace and a stall replays as late and dead. */
static uint32_t rp_interval_ms(const struct rp *rp, const struct opts *o)
{
	double ms = o->speed > 0 ? rp->interval_ms / o->speed : rp->interval_ms;

	return ms < 1 ? 1 : ms > UINT32_MAX ? UINT32_MAX : (uint32_t)(ms + 0.5);
}

static int rp_open(struct rp *rp, const struct opts *o)
{
	struct hb_config c = {
		.bus = o->bus,
		.name = rp->name,
		.thread = rp->thread && *rp->thread ? rp->thread : NULL,
		.interval_ms = rp_interval_ms(rp, o),
		.ring_kb = o->ring_kb,
		.blocking = 1,
		.hwm_pct = 100,
		.single_thread = 1, /* one ring per original producer */
	};
	int rc = hbr_child_start(&rp->child, &c);

	if (rc < 0)
		fprintf(stderr, TOOL ": %s: cannot start its process: %s\n", rp->name,
			strerror(-rc));
	return rc;
}

/* Registers the original's types and metrics in order, so ids match (the
 * child checks them). */
static int rp_sync_tables(struct rp *rp, const struct hb_rd_producer *t)
{
	struct hb_field f[HB_MAX_FIELDS];
	unsigned i, j;
	int rc;

	for (i = rp->child.ntypes; i < t->ntypes; i++) {
		const struct hb_rd_type *ty = &t->types[i];

		for (j = 0; j < ty->nfields && j < HB_MAX_FIELDS; j++)
			f[j] = (struct hb_field){ty->fields[j], (enum hb_tag)ty->ftypes[j]};
		if ((rc = hbr_child_type(&rp->child, ty->name, f, j)) < 0)
			return rc;
	}
	for (i = rp->child.nmetrics; i < t->nmetrics; i++)
		if ((rc = hbr_child_metric(&rp->child, t->metrics[i].name,
					   (enum hb_metric_kind)t->metrics[i].kind)) < 0)
			return rc;
	return 0;
}

/* ---- records to items ------------------------------------------------------ */

static int status_parse(const char *s)
{
	int st = s ? hbs_status_parse(s, strlen(s)) : -1;

	return st < 0 ? HB_STATUS_OK : st;
}

static uint64_t health_parse(const msgpack_object *o)
{
	int h = o->type == MSGPACK_OBJECT_STR ? hbs_health_parse(o->via.str.ptr, o->via.str.size)
					      : -1;

	return h < 0 ? HB_HEALTH_UNKNOWN : (uint64_t)h;
}

static size_t item_extra(const struct hb_rd_record *rec)
{
	size_t n = 0;
	uint32_t i;

	if (rec->kind == HB_RD_HEARTBEAT)
		return rec->metrics ? rec->metrics->via.array.size * 3 * sizeof(uint64_t) : 0;
	for (i = 0; i < rec->nvals && i < HB_MAX_FIELDS; i++) {
		if (rec->vals[i].type == MSGPACK_OBJECT_STR)
			n += rec->vals[i].via.str.size;
		else if (rec->vals[i].type == MSGPACK_OBJECT_BIN)
			n += rec->vals[i].via.bin.size;
	}
	return n;
}

static void item_val(struct item *it, char **data, const struct hb_rd_type *t, uint32_t i,
		     const msgpack_object *v)
{
	struct hb_val *hv = &it->vals[i];

	memset(hv, 0, sizeof(*hv));
	switch (v->type) {
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		hv->tag = t && i < t->nfields && t->ftypes[i] == HB_T_I64 ? HB_T_I64 : HB_T_U64;
		hv->v.u = v->via.u64;
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		hv->tag = HB_T_I64;
		hv->v.i = v->via.i64;
		break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		hv->tag = HB_T_F64;
		hv->v.d = v->via.f64;
		break;
	case MSGPACK_OBJECT_BOOLEAN:
		hv->tag = HB_T_BOOL;
		hv->v.u = v->via.boolean;
		break;
	case MSGPACK_OBJECT_STR:
	case MSGPACK_OBJECT_BIN:
		hv->tag = v->type == MSGPACK_OBJECT_STR ? HB_T_STR : HB_T_BYTES;
		hv->len = v->type == MSGPACK_OBJECT_STR ? v->via.str.size : v->via.bin.size;
		memcpy(*data, v->type == MSGPACK_OBJECT_STR ? v->via.str.ptr : v->via.bin.ptr,
		       hv->len);
		hv->v.p = *data;
		*data += hv->len;
		break;
	default:
		hv->tag = HB_T_I64;
		break;
	}
}

static void item_metrics(struct item *it, const msgpack_object *m)
{
	uint32_t i;

	it->nmetrics = m ? m->via.array.size : 0;
	for (i = 0; i < it->nmetrics; i++) {
		const msgpack_object *v = &m->via.array.ptr[i];
		uint64_t *s = &it->metrics[3 * i];

		s[0] = s[1] = s[2] = 0;
		if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
			s[0] = v->via.u64;
		} else if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
			s[0] = (uint64_t)v->via.i64;
		} else if (v->type == MSGPACK_OBJECT_FLOAT64 || v->type == MSGPACK_OBJECT_FLOAT32) {
			memcpy(&s[0], &v->via.f64, sizeof(double));
		} else if (v->type == MSGPACK_OBJECT_STR) {
			s[0] = health_parse(v);
		} else if (v->type == MSGPACK_OBJECT_ARRAY && v->via.array.size >= 3) {
			s[0] = v->via.array.ptr[0].via.u64;
			s[1] = v->via.array.ptr[1].via.u64;
			s[2] = v->via.array.ptr[2].via.u64;
		}
	}
}

static struct item *item_make(const struct hb_rd_record *rec, struct rp *rp)
{
	size_t extra = item_extra(rec);
	struct item *it = malloc(sizeof(*it) + extra + sizeof(uint64_t));
	char *data;
	uint32_t i;

	if (!it)
		return NULL;
	memset(it, 0, sizeof(*it));
	it->ts = rec->ts_ns;
	it->rp = rp;
	it->tables = rec->producer;
	it->kind = (uint8_t)rec->kind;
	it->seq = rec->seq;
	data = it->data;
	if (rec->kind == HB_RD_HEARTBEAT) {
		it->status = (uint8_t)status_parse(rec->status);
		it->metrics = (uint64_t *)(void *)it->data;
		item_metrics(it,
			     rec->metrics && rec->metrics->type == MSGPACK_OBJECT_ARRAY ? rec->metrics
											: NULL);
		return it;
	}
	it->type = (uint16_t)rec->type_id;
	it->prio = (uint8_t)(rec->prio & 3);
	it->req = rec->has_req ? rec->req : 0;
	it->nvals = (uint8_t)(rec->nvals < HB_MAX_FIELDS ? rec->nvals : HB_MAX_FIELDS);
	for (i = 0; i < it->nvals; i++)
		item_val(it, &data, rec->type, i, &rec->vals[i]);
	return it;
}

/* ---- publishing -------------------------------------------------------------- */

/* Sends the item to its producer's process (started at its first record;
 * a last heartbeat or a death ends it). 1 when nothing was to be sent. */
static int publish(struct item *it, const struct opts *o)
{
	struct rp *rp = it->rp;
	int rc;

	if (rp->died || (it->kind == HB_RD_BUS && !rp->child.pid))
		return 1; /* nothing follows a death; nothing started, nothing dies */
	if (it->kind == HB_RD_BUS) {
		rp->died = 1;
		rc = hbr_child_crash(&rp->child);
	} else if (!rp->child.pid && (rc = rp_open(rp, o)) < 0) {
		return rc;
	} else if ((rc = rp_sync_tables(rp, it->tables)) < 0) {
	} else if (it->kind == HB_RD_EVENT) {
		rc = hbr_child_event(&rp->child, it->type, it->prio, it->req, it->vals, it->nvals);
	} else {
		rc = hbr_child_beat(&rp->child, (enum hb_status)it->status, it->metrics,
				    it->nmetrics < rp->child.nmetrics ? it->nmetrics
								      : rp->child.nmetrics);
	}
	if (rc == -EPIPE)
		fprintf(stderr, TOOL ": %s: its process ended early\n", rp->name);
	return rc;
}

/* Writes what waits for every producer's process. */
static int flush_all(void)
{
	size_t i;
	int rc;

	for (i = 0; i < nrps; i++)
		if (rps[i]->child.len && (rc = hbr_child_flush(&rps[i]->child)) < 0)
			return rc;
	return 0;
}

static void print_item(const struct item *it)
{
	char ts[40];

	hb_time_format(it->ts, ts, sizeof(ts));
	if (it->kind == HB_RD_EVENT)
		printf("%s %llu %s #%llu %s\n", ts, (unsigned long long)it->ts, it->rp->name,
		       (unsigned long long)it->seq,
		       it->type < it->tables->ntypes ? it->tables->types[it->type].name : "?");
	else
		printf("%s %llu %s #%llu HEARTBEAT\n", ts, (unsigned long long)it->ts, it->rp->name,
		       (unsigned long long)it->seq);
}

/* ---- pacing and progress ------------------------------------------------------- */

static void progress_draw(int final)
{
	uint64_t now = mono_ns(), pos = prog.bytes_before + prog.file_off;
	double pct = prog.bytes_total ? 100.0 * (double)pos / (double)prog.bytes_total : 0;

	if (!prog.tty || (!final && now - prog.last_draw < 200000000u))
		return;
	prog.last_draw = now;
	if (pct > 100)
		pct = 100;
	fprintf(stderr, "\r" TOOL ": %llu records  %5.1f%%  replayed %.1f s of recorded time in %.1f s\033[K%s",
		(unsigned long long)prog.replayed, final ? 100.0 : pct,
		(double)(prog.ts_last - prog.ts_first) / 1e9, (double)(now - prog.t0_wall) / 1e9,
		final ? "\n" : "");
}

/* Sleeps until the item's time, scaled, has come; 0 or -EINTR. */
static int pace(const struct item *it, const struct opts *o)
{
	uint64_t target, now;

	if (!prog.t0_rec) {
		prog.t0_rec = it->m.key;
		prog.t0_wall = mono_ns();
		prog.ts_first = it->m.key;
	}
	if (o->speed <= 0 || it->m.key <= prog.t0_rec)
		return 0;
	target = prog.t0_wall + (uint64_t)((double)(it->m.key - prog.t0_rec) / o->speed);
	if (mono_ns() < target && flush_all() < 0) /* all before it is out when we sleep */
		return -EINTR;
	while ((now = mono_ns()) < target) {
		uint64_t d = target - now;
		struct timespec ts;

		if (stop_flag)
			return -EINTR;
		if (d > 100000000u)
			d = 100000000u;
		ts.tv_sec = (time_t)(d / NS);
		ts.tv_nsec = (long)(d % NS);
		nanosleep(&ts, NULL);
		progress_draw(0);
	}
	return 0;
}

static int release(struct item *it, const struct opts *o)
{
	int rc = pace(it, o);

	if (rc == 0) {
		if (o->dry_run)
			rc = it->kind == HB_RD_BUS ? 1 : (print_item(it), 0);
		else
			rc = publish(it, o);
		if (rc == 0 && it->kind != HB_RD_BUS) {
			prog.replayed++;
			it->rp->replayed++;
			if (it->m.key > prog.ts_last)
				prog.ts_last = it->m.key;
		}
	}
	free(it);
	progress_draw(0);
	return rc < 0 ? rc : 0;
}

/* ---- merge ---------------------------------------------------------------------- */

static int drain(uint64_t upto, const struct opts *o)
{
	struct hb_merge_item *mi;
	int rc;

	while ((mi = hb_merge_pop(&merge, upto)))
		if ((rc = release((struct item *)mi, o)) < 0)
			return rc;
	/* paced, what was released goes out now; --max, in full buffers */
	return o->dry_run || o->speed <= 0 ? 0 : flush_all();
}

static void track_file(const struct hb_rd_record *rec)
{
	struct stat st;

	if (prog.file != rec->file && (!prog.file || strcmp(prog.file, rec->file))) {
		if (prog.file && stat(prog.file, &st) == 0)
			prog.bytes_before += (uint64_t)st.st_size;
		prog.file = rec->file;
	}
	prog.file_off = rec->offset;
}

/* Queues the death of rp's process at the time the original's was found
 * gone, behind every record of rp read so far. 0 or -ENOMEM. */
static int push_death(struct rp *rp, const struct opts *o)
{
	uint64_t ts = rp->gone_ts;
	struct item *it;

	rp->gone_ts = 0;
	if (ts < o->since || ts > o->until)
		return 0;
	if (!(it = calloc(1, sizeof(*it))))
		return -ENOMEM;
	it->ts = ts;
	it->rp = rp;
	it->kind = HB_RD_BUS;
	return hb_merge_push(&merge, &it->m, &rp->src, ts) ? (free(it), -ENOMEM) : 0;
}

/* A state record. A final one ends its producer (it holds nobody back);
 * where the original's process was found gone (why pid-gone, then crashed
 * once its ring was drained) the replayed process dies, at the first such
 * time, once the records drained after it are in. 0 or -ENOMEM. */
static int take_state(const struct hb_rd_record *rec, const struct opts *o)
{
	const msgpack_object *st = hb_rd_map_get(rec->obj, "state");
	const msgpack_object *why = hb_rd_map_get(rec->obj, "why");
	enum hb_state s = st && st->type == MSGPACK_OBJECT_STR
				  ? hb_state_parse(st->via.str.ptr, st->via.str.size)
				  : HB_STATE_UNKNOWN;
	int gone = s == HB_STATE_CRASHED ||
		   (why && why->type == MSGPACK_OBJECT_STR && why->via.str.size == 8 &&
		    !memcmp(why->via.str.ptr, "pid-gone", 8));
	struct rp *rp;

	if (!rec->bus_kind || strcmp(rec->bus_kind, "state") || !(rp = rp_find(rec->producer)))
		return 0;
	if (gone && !rp->gone_ts)
		rp->gone_ts = rec->ts_ns;
	if (!hb_merge_final(rec))
		return 0;
	rp->src.done = 1;
	if (s == HB_STATE_CRASHED)
		return push_death(rp, o);
	rp->gone_ts = 0; /* it ended some other way after all */
	return 0;
}

/* Reads one record into the heap (or notes what it says). 0 or -errno. */
static int take(const struct hb_rd_record *rec, const struct opts *o)
{
	struct rp *rp;
	struct item *it;

	track_file(rec);
	if (!rec->producer || !glob_any(o->producers, o->nproducers, rec->producer->name) ||
	    !glob_any(o->hosts, o->nhosts, rec->producer->host))
		return 0;
	if (rec->kind == HB_RD_BUS)
		return take_state(rec, o);
	if (rec->kind != HB_RD_EVENT && rec->kind != HB_RD_HEARTBEAT)
		return 0;
	if (rec->ts_ns < o->since || rec->ts_ns > o->until)
		return 0;
	if (rec->kind == HB_RD_EVENT &&
	    (!rec->type || !glob_any(o->types, o->ntypes, rec->type->name)))
		return 0;
	rp = rp_find(rec->producer);
	if (!rp || !(it = item_make(rec, rp)))
		return -ENOMEM;
	if (hb_merge_final(rec))
		rp->src.done = 1;
	return hb_merge_push(&merge, &it->m, &rp->src, rec->ts_ns) ? (free(it), -ENOMEM) : 0;
}

static int replay_pass(const struct opts *o, int *damaged)
{
	struct hb_reader_opts ro = {.since_ns = o->since,
				    .until_ns = o->until == UINT64_MAX ? 0 : o->until};
	struct hb_rd_record rec;
	uint64_t n = 0;
	struct hb_reader *r;
	int rc;

	rc = hb_reader_open(&r, (const char *const *)o->paths, (size_t)o->npaths, &ro);
	if (rc < 0) {
		fprintf(stderr, TOOL ": cannot open the input: %s\n", strerror(-rc));
		return rc;
	}
	active_reader = r;
	hb_merge_restart(&merge);
	for (size_t i = 0; i < nrps; i++)
		rps[i]->died = 0, rps[i]->gone_ts = 0;
	prog.bytes_before = 0;
	prog.file = NULL;
	prog.t0_rec = 0;
	while (!stop_flag && (rc = hb_reader_next(r, &rec)) > 0) {
		if ((rc = take(&rec, o)) < 0)
			break;
		if ((++n & 63) == 0 && (rc = drain(hb_merge_watermark(&merge), o)) < 0)
			break;
	}
	for (size_t i = 0; rc >= 0 && i < nrps; i++)
		if (rps[i]->gone_ts) /* found gone, the input ends before its crash */
			rc = push_death(rps[i], o);
	if (rc >= 0 && !stop_flag)
		rc = drain(UINT64_MAX, o);
	for (struct hb_merge_item *mi; (mi = hb_merge_pop(&merge, UINT64_MAX));)
		free(mi); /* stopped early: drop what is left */
	active_reader = NULL;
	*damaged |= hb_reader_damage_count(r) > 0;
	hb_reader_close(r);
	return stop_flag ? 0 : rc;
}

/* Bytes of the hb-* files of a directory (for the progress line). */
static uint64_t dir_bytes(const char *dir)
{
	struct dirent **names;
	uint64_t total = 0;
	struct stat st;
	char full[8192];
	int n = scandir(dir, &names, NULL, alphasort), k;

	for (k = 0; k < n; k++) {
		snprintf(full, sizeof(full), "%s/%s", dir, names[k]->d_name);
		if (!strncmp(names[k]->d_name, "hb-", 3) && !stat(full, &st) && S_ISREG(st.st_mode))
			total += (uint64_t)st.st_size;
		free(names[k]);
	}
	if (n >= 0)
		free(names);
	return total;
}

static uint64_t input_bytes(const struct opts *o)
{
	uint64_t total = 0;
	struct stat st;
	int i;

	for (i = 0; i < o->npaths; i++)
		if (!stat(o->paths[i], &st))
			total += S_ISDIR(st.st_mode) ? dir_bytes(o->paths[i]) : (uint64_t)st.st_size;
	return total;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_signal};
	struct opts o = {0};
	int rc, damaged = 0, failed;
	size_t i;

	rc = parse_opts(argc, argv, &o);
	if (rc)
		return rc;
	/* the replayed producers take their bus, interval and ring size from
	 * the flags and the archive: the producer library's environment
	 * (which would override them) is not theirs */
	static char bus_env[HB_BUS_MAX + 1];
	snprintf(bus_env, sizeof(bus_env), "%s", o.bus);
	o.bus = bus_env;
	unsetenv("HB_BUS");
	unsetenv("HB_INTERVAL_MS");
	unsetenv("HB_RING_KB");
	hb_merge_init(&merge, MERGE_MAX_ITEMS);
	merge.keep_order = 1;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN); /* a producer's process gone: -EPIPE */
	hbr_children_init();
	prog.tty = !o.quiet && !o.dry_run && isatty(2);
	prog.bytes_total = input_bytes(&o);
	do {
		rc = replay_pass(&o, &damaged);
		progress_draw(1);
	} while (o.loop && rc >= 0 && !stop_flag);
	hb_merge_free(&merge); /* its queues point into the producers freed below */
	for (i = 0; i < nrps; i++) {
		if (stop_flag)
			rps[i]->child.len = 0; /* stopped: what waits is dropped */
		if (hbr_child_end(&rps[i]->child) < 0 && !stop_flag)
			rc = -EPIPE;
	}
	if (stop_flag)
		hbr_children_stop();
	failed = hbr_children_wait(&stop_flag); /* every ring closed (or crashed) */
	for (i = 0; i < nrps; i++) {
		free(rps[i]->child.out);
		free(rps[i]->key);
		free(rps[i]->name);
		free(rps[i]->thread);
		free(rps[i]);
	}
	free(rps);
	if (!o.quiet && !o.dry_run)
		fprintf(stderr, TOOL ": replayed %llu records of %zu producers%s\n",
			(unsigned long long)prog.replayed, nrps, stop_flag ? " (interrupted)" : "");
	if (rc < 0 || failed)
		return 1;
	return damaged ? 1 : 0;
}
