/* SPDX-License-Identifier: MIT */
/* Prometheus exposition: rendering, label escapes, and the HTTP server's
 * answers (200, 404, 405) with a stuck client connected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "hb.h"
#include "prom.h"

static void test_label_escape(void **state)
{
	char out[64];

	(void)state;
	hbc_prom_label_escape("a\"b\\c\nd", out, sizeof(out));
	assert_string_equal(out, "a\\\"b\\\\c\\nd");
	hbc_prom_label_escape("abcdef", out, 4);
	assert_string_equal(out, "ab");
}

static char *render_sample(void)
{
	static struct hbc_procstat ps = {.have_prev = 1, .cpu_pct = 50, .rss_bytes = 8192,
					.threads = 2, .fds = 5};
	union {
		double d;
		uint64_t u;
	} g = {.d = 21.5};
	struct hbc_prom_metric m[] = {
		{.name = "app.reqs", .kind = HB_METRIC_COUNTER, .a = 42},
		{.name = "app.temp", .kind = HB_METRIC_GAUGE, .a = g.u},
		{.name = "app.lat", .kind = HB_METRIC_TIMING, .a = 4, .b = 2000000000, .c = 900000000},
		{.name = "db", .kind = HB_METRIC_HEALTH, .a = HB_HEALTH_UP},
	};
	struct hbc_prom_producer p[] = {
		{.name = "gw\"1", .pid = 10, .state = HB_STATE_HEALTHY, .last_hb_ns = 5000000000ull,
		 .interval_ns = 1000000000, .records = 100, .dropped = 3, .fill = 0.25, .proc = &ps,
		 .nmetrics = 4, .metrics = m},
		{.name = "gw\"1", .pid = 10, .state = HB_STATE_DEAD, .fill = -1},
	};
	struct hbc_prom_collector c = {.records = 1000, .bytes = 65536, .writes = 2,
				      .write_ns_sum = 3000000};
	struct hbc_prom_alert al = {.name = "down", .producer = "gw\"1", .pid = 10};
	struct hbc_prom_snapshot s = {.now_ns = 6000000000ull, .nproducers = 2, .producers = p,
				     .collector = &c, .nalerts = 1, .alerts = &al};
	char *text;
	size_t len;

	assert_int_equal(hbc_prom_render(&s, &text, &len), 0);
	assert_int_equal(strlen(text), len);
	return text;
}

static void test_render(void **state)
{
	char *t = render_sample();

	(void)state;
	assert_non_null(strstr(t, "# TYPE hb_producer_up gauge\n"));
	assert_non_null(strstr(t, "hb_producer_up{producer=\"gw\\\"1\",pid=\"10\"} 1\n"));
	assert_non_null(strstr(t, "hb_producer_up{producer=\"gw\\\"1#1\",pid=\"10\"} 0\n"));
	assert_non_null(strstr(t, "hb_producer_state{producer=\"gw\\\"1\",pid=\"10\",state=\"healthy\"} 1\n"));
	assert_non_null(strstr(t, "hb_producer_state{producer=\"gw\\\"1\",pid=\"10\",state=\"dead\"} 0\n"));
	assert_non_null(strstr(t, "hb_last_heartbeat_timestamp_seconds{producer=\"gw\\\"1\",pid=\"10\"} 5\n"));
	assert_non_null(strstr(t, "hb_heartbeat_age_seconds{producer=\"gw\\\"1\",pid=\"10\"} 1\n"));
	assert_non_null(strstr(t, "hb_records_total{producer=\"gw\\\"1\",pid=\"10\"} 100\n"));
	assert_non_null(strstr(t, "hb_records_dropped_total{producer=\"gw\\\"1\",pid=\"10\"} 3\n"));
	assert_non_null(strstr(t, "hb_ring_fill_ratio{producer=\"gw\\\"1\",pid=\"10\"} 0.25\n"));
	assert_null(strstr(t, "hb_ring_fill_ratio{producer=\"gw\\\"1#1\""));
	assert_non_null(strstr(t, "hb_metric_total{producer=\"gw\\\"1\",pid=\"10\",metric=\"app.reqs\"} 42\n"));
	assert_non_null(strstr(t, "hb_metric_value{producer=\"gw\\\"1\",pid=\"10\",metric=\"app.temp\"} 21.5\n"));
	assert_non_null(strstr(t, "hb_timing_seconds_count{producer=\"gw\\\"1\",pid=\"10\",metric=\"app.lat\"} 4\n"));
	assert_non_null(strstr(t, "hb_timing_seconds_sum{producer=\"gw\\\"1\",pid=\"10\",metric=\"app.lat\"} 2\n"));
	assert_non_null(strstr(t, "hb_timing_seconds_max{producer=\"gw\\\"1\",pid=\"10\",metric=\"app.lat\"} 0.90000000000000002\n"));
	assert_non_null(strstr(t, "hb_component_health{producer=\"gw\\\"1\",pid=\"10\",metric=\"db\",health=\"up\"} 1\n"));
	assert_non_null(strstr(t, "hb_process_cpu_usage_ratio{producer=\"gw\\\"1\",pid=\"10\"} 0.5\n"));
	assert_non_null(strstr(t, "hb_process_resident_memory_bytes{producer=\"gw\\\"1\",pid=\"10\"} 8192\n"));
	assert_non_null(strstr(t, "hb_alert_active{alert=\"down\",producer=\"gw\\\"1\",pid=\"10\"} 1\n"));
	assert_non_null(strstr(t, "hb_collector_records_total 1000\n"));
	assert_non_null(strstr(t, "hb_collector_write_latency_seconds_sum 0.0030000000000000001\n"));
	assert_non_null(strstr(t, "hb_producers 2\n"));
	free(t);
}

/* Sends req to 127.0.0.1:port and returns the whole answer (malloc'd). */
static char *http(int port, const char *req)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct timeval tv = {5, 0};
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap);
	ssize_t n;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while ((n = read(fd, buf + len, cap - 1 - len)) > 0) {
		len += (size_t)n;
		if (cap - len < 4096)
			buf = realloc(buf, cap *= 2);
	}
	buf[len] = 0;
	close(fd);
	return buf;
}

static int stuck_client(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(write(fd, "GET /met", 8), 8); /* and never more */
	return fd;
}

static void test_server(void **state)
{
	struct hbc_prom_server *s;
	char err[128], *r, *t;
	int port, stuck;

	(void)state;
	assert_int_equal(hbc_prom_server_start(&s, "nohost:1", err, sizeof(err)), -EINVAL);
	assert_int_equal(hbc_prom_server_start(&s, "127.0.0.1:0", err, sizeof(err)), 0);
	port = hbc_prom_server_port(s);
	assert_true(port > 0);
	stuck = stuck_client(port);
	r = http(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_non_null(strstr(r, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(r, "# no data yet\n"));
	free(r);
	t = strdup("hb_producers 0\n");
	hbc_prom_server_publish(s, t, strlen(t));
	r = http(port, "GET /metrics?x=1 HTTP/1.1\r\n\r\n");
	assert_non_null(strstr(r, "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
	assert_non_null(strstr(r, "Content-Length: 15\r\n"));
	assert_non_null(strstr(r, "\r\n\r\nhb_producers 0\n"));
	free(r);
	r = http(port, "GET / HTTP/1.1\r\n\r\n");
	assert_non_null(strstr(r, "HTTP/1.1 404 Not Found\r\n"));
	free(r);
	r = http(port, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
	assert_non_null(strstr(r, "HTTP/1.1 405 Method Not Allowed\r\n"));
	assert_non_null(strstr(r, "Allow: GET, HEAD\r\n"));
	free(r);
	r = http(port, "HEAD /metrics HTTP/1.1\r\n\r\n");
	assert_non_null(strstr(r, "HTTP/1.1 200 OK\r\n"));
	assert_null(strstr(r, "hb_producers"));
	free(r);
	/* a malformed request line is refused (closed unanswered) by the
	 * library itself, and the server goes on */
	r = http(port, "garbage\r\n\r\n");
	assert_null(strstr(r, "200 OK"));
	free(r);
	assert_int_equal(hbc_prom_server_requests(s), 5);
	/* a big exposition goes out whole */
	t = malloc(1 << 20);
	memset(t, '#', (1 << 20) - 1);
	t[(1 << 20) - 1] = '\n';
	hbc_prom_server_publish(s, t, 1 << 20);
	r = http(port, "GET /metrics HTTP/1.0\r\n\r\n");
	assert_non_null(strstr(r, "Content-Length: 1048576\r\n"));
	assert_int_equal(strlen(strstr(r, "\r\n\r\n") + 4), 1 << 20);
	free(r);
	close(stuck);
	hbc_prom_server_stop(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_label_escape),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_server),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
