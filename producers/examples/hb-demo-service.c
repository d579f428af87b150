/* SPDX-License-Identifier: MIT */
/*
 * hb-demo-service - how a service uses hb, end to end.
 *
 * A pretend web service that "handles requests" in a loop. It shows the
 * whole producer API in the order a real service would use it:
 *
 *   1. hb_open() once per process at start-up; any thread may use the handle
 *      (each gets a ring of its own); it never fails hard: on error
 *      you get a disabled handle and every later call is a no-op);
 *   2. register event types and metrics once (cold path, names interned);
 *   3. in the hot loop: hb_event() with a request id, metric updates,
 *      hb_tick() for heartbeats -- no syscall, lock or allocation;
 *   4. hb_close() on the way out (final "stopping" heartbeat).
 *
 * Usage: hb-demo-service [--seconds N] [--rate R]
 * The bus comes from $HB_BUS (default "default"); HB_ENABLED=0 turns
 * telemetry off without touching the code.
 */
#include <hb.h>

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Event type ids and metric ids, filled in by telemetry_setup(). */
static struct {
	struct hb_producer *hb;
	int ev_request, ev_query, ev_outage;
	int m_requests, m_errors, m_inflight, m_latency, m_db;
} tm;

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static void telemetry_setup(void)
{
	static const struct hb_field request[] = {
		{"method", HB_T_STR}, {"path", HB_T_STR}, {"status", HB_T_U64}, {"dur_us", HB_T_U64}};
	static const struct hb_field query[] = {
		{"table", HB_T_STR}, {"rows", HB_T_U64}, {"ok", HB_T_BOOL}};
	static const struct hb_field outage[] = {{"component", HB_T_STR}, {"down", HB_T_BOOL}};
	struct hb_config cfg = {
		.name = "demo-service",
		.thread = "main",
		.interval_ms = 1000,
	};
	int rc = hb_open(&tm.hb, &cfg);

	if (rc < 0) /* keep serving: telemetry is off, every call is a no-op */
		fprintf(stderr, "hb-demo-service: telemetry disabled: %s\n", strerror(-rc));
	tm.ev_request = hb_type_register(tm.hb, "http.request", request, 4);
	tm.ev_query = hb_type_register(tm.hb, "db.query", query, 3);
	tm.ev_outage = hb_type_register(tm.hb, "db.outage", outage, 2);
	tm.m_requests = hb_metric_register(tm.hb, "requests", HB_METRIC_COUNTER);
	tm.m_errors = hb_metric_register(tm.hb, "errors", HB_METRIC_COUNTER);
	tm.m_inflight = hb_metric_register(tm.hb, "inflight", HB_METRIC_GAUGE);
	tm.m_latency = hb_metric_register(tm.hb, "request_time", HB_METRIC_TIMING);
	tm.m_db = hb_metric_register(tm.hb, "db", HB_METRIC_HEALTH);
	hb_health_set(tm.hb, tm.m_db, HB_HEALTH_UP);
	hb_status_set(tm.hb, HB_STATUS_OK);
}

/* ---- the pretend service --------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void) /* xorshift64: deterministic, no libc state */
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The database goes down now and then and comes back a bit later. */
static void db_update(uint64_t req_id, int *db_up)
{
	int up = (req_id / 200) % 5 != 4; /* down for 200 of every 1000 */

	if (up == *db_up)
		return;
	*db_up = up;
	hb_health_set(tm.hb, tm.m_db, up ? HB_HEALTH_UP : HB_HEALTH_DOWN);
	hb_status_set(tm.hb, up ? HB_STATUS_OK : HB_STATUS_DEGRADED);
	hb_event(tm.hb, tm.ev_outage, HB_PRIO_URGENT, 0, HB_STR("db"), HB_BOOL(!up));
}

/* Handles request req_id; returns its HTTP status. */
static unsigned handle_request(uint64_t req_id, int db_up)
{
	static const char *paths[] = {"/", "/orders", "/orders/42", "/login", "/health"};
	const char *path = paths[rng() % 5];
	const char *method = req_id % 4 ? "GET" : "POST";
	uint64_t t0 = now_ns(), rows = rng() % 100, dur;
	unsigned status = 200;

	if (strcmp(path, "/health")) { /* everything but /health hits the db */
		hb_event(tm.hb, tm.ev_query, HB_PRIO_LOW, req_id, HB_STR("orders"),
			 HB_U64(db_up ? rows : 0), HB_BOOL(db_up));
		if (!db_up)
			status = 503;
	}
	if (status == 200 && rng() % 50 == 0)
		status = 500;
	dur = now_ns() - t0 + 20000 + rng() % 200000; /* pretend work: 20-220 us */
	hb_timing_add(tm.hb, tm.m_latency, dur);
	hb_counter_add(tm.hb, tm.m_requests, 1);
	if (status >= 500)
		hb_counter_add(tm.hb, tm.m_errors, 1);
	/* errors are worth more under pressure: they survive shedding */
	hb_event(tm.hb, tm.ev_request, status >= 500 ? HB_PRIO_HIGH : HB_PRIO_NORMAL, req_id,
		 HB_STR(method), HB_STR(path), HB_U64(status), HB_U64(dur / 1000));
	return status;
}

static void sleep_until(uint64_t ns)
{
	struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};

	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL); /* EINTR: loop checks */
}

/* ---- main ------------------------------------------------------------ */

static void usage(FILE *f)
{
	fprintf(f, "Usage: hb-demo-service [--seconds N] [--rate R]\n"
		   "A pretend service emitting hb events, metrics and heartbeats.\n"
		   "  --seconds N   run for N seconds (default 10, 0 = until SIGINT/SIGTERM)\n"
		   "  --rate R      requests per second (default 100)\n"
		   "  -h, --help    show this help\n"
		   "      --version show the version\n"
		   "Environment: HB_BUS, HB_ENABLED, HB_INTERVAL_MS, HB_DETAILED, HB_RING_KB.\n");
}

static double parse_num(const char *flag, const char *s, double min, double max)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || !(v >= min && v <= max)) {
		fprintf(stderr, "hb-demo-service: %s: invalid value '%s'\n", flag, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"seconds", required_argument, NULL, 's'},
		{"rate", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct sigaction sa = {.sa_handler = on_signal};
	double seconds = 10, rate = 100;
	uint64_t req_id = 0, errors = 0, start, deadline, gap;
	int c, db_up = 1;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			seconds = parse_num("--seconds", optarg, 0, 1e7);
			break;
		case 'r':
			rate = parse_num("--rate", optarg, 0.001, 1e7);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("hb-demo-service %s\n", HB_VERSION_STRING);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	telemetry_setup();

	start = now_ns();
	deadline = seconds > 0 ? start + (uint64_t)(seconds * 1e9) : UINT64_MAX;
	gap = (uint64_t)(1e9 / rate);
	while (!stopping && now_ns() < deadline) {
		req_id++;
		db_update(req_id, &db_up);
		hb_gauge_set(tm.hb, tm.m_inflight, (double)(rng() % 8));
		errors += handle_request(req_id, db_up) >= 500;
		hb_tick(tm.hb); /* a heartbeat when the interval has passed */
		sleep_until(start + req_id * gap < deadline ? start + req_id * gap : deadline);
	}

	hb_status_set(tm.hb, HB_STATUS_STOPPING);
	hb_close(tm.hb); /* final heartbeat; the collector drains and removes the ring */
	fprintf(stderr, "hb-demo-service: handled %llu requests, %llu errors\n",
		(unsigned long long)req_id, (unsigned long long)errors);
	return 0;
}
