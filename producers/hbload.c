/* SPDX-License-Identifier: MIT */
/*
 * hbload - a load generator for the hb bus.
 *
 * One thread per producer, each with its own handle "<prefix>-<i>". Event
 * number n of producer i (counting every attempt, dropped or not) is fully
 * determined by (i, n), so a reader can check every record it gets:
 *
 *   type n % 3: 0 load.order  n (i64) = n, px (f64) = n * 0.25, sym (str) = "s<n % 100>"
 *               1 load.fill   n (i64) = n, qty (u64) = n * 3, ok (bool) = n % 2 == 0
 *               2 load.note   n (i64) = n, text (str) = "note-<n>",
 *                             blob (bytes) = n as little-endian u32
 *   priority n % 4, request id i * 1000000000 + n + 1.
 */
#include "hb.h"

#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define TIMING_EVERY 64   /* time one emit in this many (load.emit) */
#define METRICS_EVERY 4096 /* refresh load.fill_pct and load.ring */
#define CHECK_EVERY 1024  /* look at the clock and the stop flag */

struct opts {
	const char *bus;
	const char *prefix;
	unsigned producers;
	uint64_t records;
	double seconds; /* > 0: run for this long instead of --records */
	double rate;    /* events per producer per second, 0 = unpaced */
	int block;
	unsigned ring_kb;
	unsigned interval_ms;
	int json;
};

struct worker {
	const struct opts *o;
	unsigned idx;
	pthread_t th;
	char name[HB_NAME_MAX];
	char ring[128];
	int pid;
	int open_rc;
	uint64_t attempted, committed, dropped, hb_dropped;
	/* ids */
	int t_order, t_fill, t_note;
	int m_sent, m_fill, m_emit, m_ring;
	uint64_t last_dropped;
};

static pthread_barrier_t start_line;
static volatile sig_atomic_t stop_now;

/* First signal: finish, close the rings, report. Second: leave now (a
 * producer waiting for space in --block mode cannot see the first). */
static void on_signal(int sig)
{
	if (stop_now)
		_exit(128 + sig);
	stop_now = 1;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Writes the decimal digits of v at s; returns the length. */
static unsigned put_u64(char *s, uint64_t v)
{
	char tmp[24];
	unsigned n = 0, i;

	do
		tmp[n++] = (char)('0' + v % 10);
	while (v /= 10);
	for (i = 0; i < n; i++)
		s[i] = tmp[n - 1 - i];
	s[n] = 0;
	return n;
}

/* Emits event n of this worker; returns what hb_event returned. */
static int emit_event(struct worker *w, struct hb_producer *p, uint64_t n)
{
	uint64_t req = (uint64_t)w->idx * 1000000000u + n + 1;
	unsigned prio = (unsigned)(n % 4);
	char buf[32];

	switch (n % 3) {
	case 0:
		buf[0] = 's';
		put_u64(buf + 1, n % 100);
		return hb_event(p, w->t_order, prio, req, HB_I64(n), HB_F64((double)n * 0.25),
				HB_STR(buf));
	case 1:
		return hb_event(p, w->t_fill, prio, req, HB_I64(n), HB_U64(n * 3),
				HB_BOOL(n % 2 == 0));
	default: {
		uint8_t blob[4] = {(uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16),
				   (uint8_t)(n >> 24)};

		memcpy(buf, "note-", 5);
		put_u64(buf + 5, n);
		return hb_event(p, w->t_note, prio, req, HB_I64(n), HB_STR(buf),
				HB_BYTES(blob, 4));
	}
	}
}

static int worker_register(struct worker *w, struct hb_producer *p)
{
	static const struct hb_field order[] = {
		{"n", HB_T_I64}, {"px", HB_T_F64}, {"sym", HB_T_STR}};
	static const struct hb_field fill[] = {{"n", HB_T_I64}, {"qty", HB_T_U64}, {"ok", HB_T_BOOL}};
	static const struct hb_field note[] = {
		{"n", HB_T_I64}, {"text", HB_T_STR}, {"blob", HB_T_BYTES}};

	w->t_order = hb_type_register(p, "load.order", order, 3);
	w->t_fill = hb_type_register(p, "load.fill", fill, 3);
	w->t_note = hb_type_register(p, "load.note", note, 3);
	w->m_sent = hb_metric_register(p, "load.sent", HB_METRIC_COUNTER);
	w->m_fill = hb_metric_register(p, "load.fill_pct", HB_METRIC_GAUGE);
	w->m_emit = hb_metric_register(p, "load.emit", HB_METRIC_TIMING);
	w->m_ring = hb_metric_register(p, "load.ring", HB_METRIC_HEALTH);
	if (w->t_order < 0 || w->t_fill < 0 || w->t_note < 0 || w->m_sent < 0 || w->m_fill < 0 ||
	    w->m_emit < 0 || w->m_ring < 0)
		return -EINVAL;
	hb_health_set(p, (unsigned)w->m_ring, HB_HEALTH_UP);
	return 0;
}

/* Ring fill and drop health; cold, every METRICS_EVERY events. */
static void worker_metrics(struct worker *w, struct hb_producer *p)
{
	uint64_t head = atomic_load_explicit(&p->hdr->head, memory_order_relaxed);
	uint64_t tail = atomic_load_explicit(&p->hdr->tail, memory_order_relaxed);

	hb_gauge_set(p, (unsigned)w->m_fill, (double)(head - tail) * 100.0 / p->size);
	hb_health_set(p, (unsigned)w->m_ring,
		      w->dropped != w->last_dropped ? HB_HEALTH_DEGRADED : HB_HEALTH_UP);
	w->last_dropped = w->dropped;
}

static void worker_tick(struct worker *w, struct hb_producer *p)
{
	(void)w;
	hb_tick(p); /* drops are counted from the ring at close */
}

static void worker_emit(struct worker *w, struct hb_producer *p)
{
	uint64_t n = w->attempted++, t0 = 0;
	int rc;

	if (n % TIMING_EVERY == 0)
		t0 = mono_ns();
	rc = emit_event(w, p, n);
	if (n % TIMING_EVERY == 0)
		hb_timing_add(p, (unsigned)w->m_emit, mono_ns() - t0);
	if (rc == 0) {
		w->committed++;
		hb_counter_add(p, (unsigned)w->m_sent, 1);
	} else {
		w->dropped++;
	}
	if (n % METRICS_EVERY == METRICS_EVERY - 1)
		worker_metrics(w, p);
}

static int worker_done(const struct worker *w, uint64_t now, uint64_t deadline)
{
	if (stop_now)
		return 1;
	if (deadline)
		return now >= deadline;
	return w->attempted >= w->o->records;
}

/* As fast as possible. */
static void worker_run_free(struct worker *w, struct hb_producer *p, uint64_t deadline)
{
	for (;;) {
		for (unsigned k = 0; k < CHECK_EVERY; k++) {
			if (!deadline && w->attempted >= w->o->records)
				break;
			worker_emit(w, p);
		}
		worker_tick(w, p);
		if (worker_done(w, deadline ? mono_ns() : 0, deadline))
			return;
	}
}

static void sleep_until(uint64_t ns)
{
	struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR && !stop_now)
		;
}

/* Paced: small batches (about one per millisecond at high rates, one event
 * at low rates), sleeping until the next batch is due; never sleeps more
 * than 100 ms at once so heartbeats keep coming. */
static void worker_run_paced(struct worker *w, struct hb_producer *p, uint64_t start,
			     uint64_t deadline)
{
	double rate = w->o->rate;
	uint64_t batch = rate > 1000 ? (uint64_t)(rate / 1000) : 1;

	for (;;) {
		uint64_t now = mono_ns(), due;

		if (worker_done(w, now, deadline))
			return;
		for (uint64_t k = 0; k < batch && !(!deadline && w->attempted >= w->o->records);
		     k++)
			worker_emit(w, p);
		worker_tick(w, p);
		due = start + (uint64_t)((double)w->attempted * 1e9 / rate);
		while (!stop_now && (now = mono_ns()) < due && (!deadline || now < deadline)) {
			uint64_t wake = due;

			if (wake > now + 100000000u)
				wake = now + 100000000u;
			if (deadline && wake > deadline)
				wake = deadline;
			sleep_until(wake);
			worker_tick(w, p);
		}
	}
}

/* A read-only view of the ring header that outlives hb_close(), so the
 * final heartbeat's fate shows in the drop count. NULL if unavailable. */
static struct hb_ring_hdr *hdr_watch(const char *shm_name)
{
	void *m;
	int fd = shm_open(shm_name, O_RDONLY | O_CLOEXEC, 0);

	if (fd < 0)
		return NULL;
	m = mmap(NULL, sizeof(struct hb_ring_hdr), PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	return m == MAP_FAILED ? NULL : m;
}

/* Closes the handle; heartbeat drops = ring drops - event drops. */
static void worker_close(struct worker *w, struct hb_producer *p)
{
	struct hb_ring_hdr *h = hdr_watch(p->shm_name);

	hb_close(p);
	if (!h)
		return;
	w->hb_dropped = atomic_load_explicit(&h->dropped, memory_order_relaxed) - w->dropped;
	munmap(h, sizeof(*h));
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	const struct opts *o = w->o;
	struct hb_config cfg = {
		.bus = o->bus,
		.name = w->name,
		.blocking = o->block,
		.ring_kb = o->ring_kb,
		.interval_ms = o->interval_ms,
		.single_thread = 1, /* each worker thread owns its handle */
	};
	struct hb_producer *p;
	uint64_t start, deadline = 0;

	w->open_rc = hb_open(&p, &cfg);
	if (!w->open_rc && !p->enabled)
		w->open_rc = -ENODEV;
	if (!w->open_rc)
		w->open_rc = worker_register(w, p);
	if (!w->open_rc) {
		snprintf(w->ring, sizeof(w->ring), "%s", p->shm_name + 1);
		w->pid = (int)getpid();
	}
	pthread_barrier_wait(&start_line); /* all producers start together */
	if (w->open_rc) {
		hb_close(p);
		return NULL;
	}
	hb_status_set(p, HB_STATUS_OK);
	worker_tick(w, p);
	start = mono_ns();
	if (o->seconds > 0)
		deadline = start + (uint64_t)(o->seconds * 1e9);
	if (o->rate > 0)
		worker_run_paced(w, p, start, deadline);
	else
		worker_run_free(w, p, deadline);
	worker_metrics(w, p);
	worker_close(w, p);
	return NULL;
}

/* ---- output ---------------------------------------------------------- */

static void print_text(const struct worker *ws, unsigned n)
{
	uint64_t a = 0, c = 0, d = 0, h = 0;

	for (unsigned i = 0; i < n; i++) {
		const struct worker *w = &ws[i];

		printf("hbload: producer %s attempted=%llu committed=%llu dropped=%llu", w->name,
		       (unsigned long long)w->attempted, (unsigned long long)w->committed,
		       (unsigned long long)w->dropped);
		if (w->hb_dropped)
			printf(" hb_dropped=%llu", (unsigned long long)w->hb_dropped);
		putchar('\n');
		a += w->attempted, c += w->committed, d += w->dropped, h += w->hb_dropped;
	}
	printf("hbload: total producers=%u attempted=%llu committed=%llu dropped=%llu", n,
	       (unsigned long long)a, (unsigned long long)c, (unsigned long long)d);
	if (h)
		printf(" hb_dropped=%llu", (unsigned long long)h);
	putchar('\n');
}

/* Names are [A-Za-z0-9_.:-] (hb_name_check): nothing to escape. */
static void print_json(const struct worker *ws, unsigned n)
{
	uint64_t a = 0, c = 0, d = 0, h = 0;

	printf("{\"producers\":[");
	for (unsigned i = 0; i < n; i++) {
		const struct worker *w = &ws[i];

		printf("%s{\"name\":\"%s\",\"pid\":%d,\"ring\":\"%s\",\"attempted\":%llu,"
		       "\"committed\":%llu,\"dropped\":%llu",
		       i ? "," : "", w->name, w->pid, w->ring, (unsigned long long)w->attempted,
		       (unsigned long long)w->committed, (unsigned long long)w->dropped);
		if (w->hb_dropped)
			printf(",\"hb_dropped\":%llu", (unsigned long long)w->hb_dropped);
		putchar('}');
		a += w->attempted, c += w->committed, d += w->dropped, h += w->hb_dropped;
	}
	printf("],\"attempted\":%llu,\"committed\":%llu,\"dropped\":%llu", (unsigned long long)a,
	       (unsigned long long)c, (unsigned long long)d);
	if (h)
		printf(",\"hb_dropped\":%llu", (unsigned long long)h);
	printf("}\n");
}

/* ---- command line ---------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: hbload [OPTIONS]\n"
		"Write deterministic events and heartbeats into an hb bus, one thread and\n"
		"one ring per producer, and report what was attempted, committed, dropped.\n"
		"\n"
		"  --bus NAME          bus (default $HB_BUS or \"default\")\n"
		"  --producers N       producer threads (default 4)\n"
		"  --records N         events per producer (default 100000)\n"
		"  --seconds DUR       run for DUR instead (s, ms, m, h, d; plain = seconds)\n"
		"  --rate R            events per producer per second, 0 = unpaced (default 0)\n"
		"  --block             wait for ring space instead of dropping\n"
		"                      (lossless; needs a running collector)\n"
		"  --ring-kb K         ring data area in KiB (default 1024)\n"
		"  --name PREFIX       producer names PREFIX-0 .. PREFIX-(N-1) (default \"load\")\n"
		"  --interval-ms MS    heartbeat interval (default 1000)\n"
		"  --json              print one JSON object instead of text lines\n"
		"  -h, --help          show this help\n"
		"      --version       show the version\n"
		"\n"
		"Event n of producer i: type n%%3 (load.order, load.fill, load.note),\n"
		"priority n%%4, request id i*1000000000+n+1; see hbload(1).\n"
		"Exit status: 0 ok, 1 a producer could not open its ring, 2 usage error.\n");
}

static void die_usage(const char *flag, const char *what, const char *val)
{
	fprintf(stderr, "hbload: %s: %s '%s'\n", flag, what, val);
	fprintf(stderr, "Try 'hbload --help'.\n");
	exit(2);
}

static uint64_t parse_count(const char *flag, const char *s, uint64_t min, uint64_t max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	if (!*s || *s == '-' || *s == '+')
		die_usage(flag, "not a number", s);
	v = strtoull(s, &end, 10);
	if (errno || *end)
		die_usage(flag, "not a number", s);
	if (v < min || v > max)
		die_usage(flag, "out of range", s);
	return v;
}

static double parse_duration(const char *flag, const char *s)
{
	static const struct {
		const char *suffix;
		double mult;
	} units[] = {{"", 1}, {"s", 1}, {"ms", 1e-3}, {"m", 60}, {"h", 3600}, {"d", 86400}};
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v <= 0 || *s == '-')
		die_usage(flag, "invalid duration", s);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(end, units[i].suffix))
			return v * units[i].mult;
	die_usage(flag, "invalid duration", s);
	return 0;
}

static double parse_rate(const char *flag, const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < 0 || v > 1e10)
		die_usage(flag, "invalid rate", s);
	return v;
}

static void parse_args(struct opts *o, int argc, char **argv)
{
	enum { O_BUS = 256, O_PRODUCERS, O_RECORDS, O_SECONDS, O_RATE, O_BLOCK, O_RING_KB,
	       O_NAME, O_INTERVAL, O_JSON, O_VERSION };
	static const struct option longopts[] = {
		{"bus", required_argument, NULL, O_BUS},
		{"producers", required_argument, NULL, O_PRODUCERS},
		{"records", required_argument, NULL, O_RECORDS},
		{"seconds", required_argument, NULL, O_SECONDS},
		{"rate", required_argument, NULL, O_RATE},
		{"block", no_argument, NULL, O_BLOCK},
		{"ring-kb", required_argument, NULL, O_RING_KB},
		{"name", required_argument, NULL, O_NAME},
		{"interval-ms", required_argument, NULL, O_INTERVAL},
		{"json", no_argument, NULL, O_JSON},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, O_VERSION},
		{NULL, 0, NULL, 0},
	};
	int c, have_records = 0;
	char name[HB_NAME_MAX + 16];

	opterr = 0; /* our own messages, naming the flag */
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case O_BUS:
			o->bus = optarg;
			if (hb_name_check(o->bus, HB_BUS_MAX))
				die_usage("--bus", "invalid bus name", optarg);
			break;
		case O_PRODUCERS:
			o->producers = (unsigned)parse_count("--producers", optarg, 1, 4096);
			break;
		case O_RECORDS:
			o->records = parse_count("--records", optarg, 0, UINT64_MAX);
			have_records = 1;
			break;
		case O_SECONDS:
			o->seconds = parse_duration("--seconds", optarg);
			break;
		case O_RATE:
			o->rate = parse_rate("--rate", optarg);
			break;
		case O_BLOCK:
			o->block = 1;
			break;
		case O_RING_KB:
			o->ring_kb = (unsigned)parse_count("--ring-kb", optarg, 4, 1u << 20);
			break;
		case O_NAME:
			o->prefix = optarg;
			break;
		case O_INTERVAL:
			o->interval_ms = (unsigned)parse_count("--interval-ms", optarg, 1, 86400000);
			break;
		case O_JSON:
			o->json = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case O_VERSION:
			printf("hbload %s\n", HB_VERSION_STRING);
			exit(0);
		case ':':
			fprintf(stderr, "hbload: %s: missing value\n", argv[optind - 1]);
			fprintf(stderr, "Try 'hbload --help'.\n");
			exit(2);
		default:
			fprintf(stderr, "hbload: %s: unknown option\n", argv[optind - 1]);
			fprintf(stderr, "Try 'hbload --help'.\n");
			exit(2);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "hbload: unexpected argument '%s'\n", argv[optind]);
		fprintf(stderr, "Try 'hbload --help'.\n");
		exit(2);
	}
	if (have_records && o->seconds > 0) {
		fprintf(stderr, "hbload: --records and --seconds cannot be used together\n");
		exit(2);
	}
	snprintf(name, sizeof(name), "%s-%u", o->prefix, o->producers - 1);
	/* the prefix itself must be a name too: no "." or ".." */
	if (hb_name_check(name, HB_NAME_MAX) || hb_name_check(o->prefix, HB_NAME_MAX))
		die_usage("--name", "invalid producer name prefix", o->prefix);
}

/* Flags beat the environment, which beats the built-in defaults: hb_open
 * lets HB_* variables override its config, so set them from the flags. */
static void export_flags(const struct opts *o)
{
	char buf[32];

	if (o->bus)
		setenv("HB_BUS", o->bus, 1);
	if (o->ring_kb) {
		snprintf(buf, sizeof(buf), "%u", o->ring_kb);
		setenv("HB_RING_KB", buf, 1);
	}
	if (o->interval_ms) {
		snprintf(buf, sizeof(buf), "%u", o->interval_ms);
		setenv("HB_INTERVAL_MS", buf, 1);
	}
}

int main(int argc, char **argv)
{
	struct opts o = {.prefix = "load", .producers = 4, .records = 100000};
	struct sigaction sa = {.sa_handler = on_signal};
	struct worker *ws;
	int rc = 0;

	parse_args(&o, argc, argv);
	export_flags(&o);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	ws = calloc(o.producers, sizeof(*ws));
	if (!ws || pthread_barrier_init(&start_line, NULL, o.producers)) {
		fprintf(stderr, "hbload: out of memory\n");
		return 1;
	}
	for (unsigned i = 0; i < o.producers; i++) {
		ws[i].o = &o;
		ws[i].idx = i;
		snprintf(ws[i].name, sizeof(ws[i].name), "%s-%u", o.prefix, i);
		if (pthread_create(&ws[i].th, NULL, worker_main, &ws[i])) {
			fprintf(stderr, "hbload: cannot start thread %u\n", i);
			return 1; /* the barrier would never open */
		}
	}
	for (unsigned i = 0; i < o.producers; i++)
		pthread_join(ws[i].th, NULL);
	for (unsigned i = 0; i < o.producers; i++) {
		if (ws[i].open_rc == -ENODEV) {
			fprintf(stderr, "hbload: %s: bus disabled (HB_ENABLED=0)\n", ws[i].name);
			rc = 1;
		} else if (ws[i].open_rc) {
			fprintf(stderr, "hbload: %s: cannot open ring: %s\n", ws[i].name,
				strerror(-ws[i].open_rc));
			rc = 1;
		}
	}
	if (o.json)
		print_json(ws, o.producers);
	else
		print_text(ws, o.producers);
	free(ws);
	pthread_barrier_destroy(&start_line);
	return rc;
}
