/* SPDX-License-Identifier: MIT */
/*
 * ship_metrics.c - hbship's /metrics text (ship.h): its lag, what it
 * published and what was acknowledged, failures and backoff, the NATS
 * connection. Prometheus names: hb_ship_ prefix, _total on counters,
 * seconds and bytes. The text is rendered in the shipper's loop and handed
 * to the server thread through prom.c's publish (a pointer swap).
 */
#include "ship.h"
#include "prom.h"

#include <stdio.h>

int ship_metrics_render(const struct ship_stats *st, char **text, size_t *len)
{
	char host[200], bus[200], stream[200], labels[700];
	int behind = st->lag.records > 0;
	double age = behind && st->now_ns > st->lag.ts_ns ? (double)(st->now_ns - st->lag.ts_ns) / 1e9 : 0;

	hbc_prom_label_escape(st->host, host, sizeof(host));
	hbc_prom_label_escape(st->bus, bus, sizeof(bus));
	hbc_prom_label_escape(st->stream, stream, sizeof(stream));
	snprintf(labels, sizeof(labels), "host=\"%s\",bus=\"%s\",stream=\"%s\"", host, bus, stream);
	const struct hbc_prom_family f[] = {
		{"hb_ship_info", "gauge", "The archive shipped (host and bus) and the stream, value 1.",
		 labels, 1, 0},
		{"hb_ship_start_time_seconds", "gauge", "When the shipper started.", NULL,
		 (double)st->start_ns / 1e9, 0},
		{"hb_ship_lag_records", "gauge",
		 "Records of the archive not yet acknowledged by the stream.", NULL,
		 (double)st->lag.records, 0},
		{"hb_ship_lag_bytes", "gauge",
		 "Archive bytes from the oldest record not yet acknowledged to the end.", NULL,
		 (double)st->lag_bytes, 0},
		{"hb_ship_oldest_unshipped_timestamp_seconds", "gauge",
		 "Time of the oldest record not yet acknowledged (no sample when none).", NULL,
		 (double)st->lag.ts_ns / 1e9, !behind},
		{"hb_ship_oldest_unshipped_age_seconds", "gauge",
		 "Age of the oldest record not yet acknowledged (0 when none).", NULL, age, 0},
		{"hb_ship_messages_published_total", "counter",
		 "Messages handed to NATS, re-sends included.", NULL, (double)st->msgs_published, 0},
		{"hb_ship_records_published_total", "counter",
		 "Records in the messages handed to NATS, re-sends included.", NULL,
		 (double)st->records_published, 0},
		{"hb_ship_messages_acked_total", "counter", "Messages the stream acknowledged.", NULL,
		 (double)st->msgs_acked, 0},
		{"hb_ship_records_acked_total", "counter",
		 "Archive records acknowledged by the stream, each counted once.", NULL,
		 (double)st->records_acked, 0},
		{"hb_ship_messages_duplicate_total", "counter",
		 "Acknowledgements saying the stream already had the message.", NULL,
		 (double)st->msgs_duplicate, 0},
		{"hb_ship_publish_failures_total", "counter",
		 "Messages refused or failed (a run then restarts from the position).", NULL,
		 (double)st->publish_failures, 0},
		{"hb_ship_retries_total", "counter", "Runs restarted from the position after a failure.",
		 NULL, (double)st->retries, 0},
		{"hb_ship_backoff_seconds", "gauge",
		 "The current wait between retries (0 while publishing works).", NULL,
		 (double)st->backoff_ms / 1e3, 0},
		{"hb_ship_failing", "gauge", "1 from a failure to the next acknowledgement.", NULL,
		 st->failing, 0},
		{"hb_ship_messages_inflight", "gauge", "Messages awaiting their acknowledgement.", NULL,
		 (double)st->inflight, 0},
		{"hb_ship_nats_connected", "gauge", "1 while connected to a NATS server.", NULL,
		 st->connected, 0},
	};

	return hbc_prom_render_plain(f, sizeof(f) / sizeof(f[0]), text, len);
}
