#!/usr/bin/env bash
# A real Prometheus scrapes hbcollect --metrics: the exposition passes
# `promtool check metrics`, and Prometheus' own HTTP API returns the
# producer's counter value and up as it stored them.
set -euo pipefail
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/prometheus_common.bash"
hb_need hbcollect ticker

prom_need

A="$T/archive"
hb_collector_start "$A" --metrics 127.0.0.1:0
MPORT=$(metrics_port "$T/collector.1.log")
hb_log "hbcollect metrics on port $MPORT"

# exactly 40 events, then heartbeats only: tick.sent stays 40
hb_spawn "$T/t.out" "$T/t.err" "$BIN/ticker" --name promtick --interval-ms 200 --rate 100 \
	--count 40 --seconds 120
metrics() { curl -fsS "http://127.0.0.1:$MPORT/metrics"; }
sent_is_40() { metrics | grep -q '^hb_metric_total{producer="promtick",pid="[0-9]*",metric="tick.sent"} 40$'; }
hb_wait_for 30 "tick.sent = 40 on /metrics" sent_is_40
metrics >"$T/metrics.txt"
promtool check metrics <"$T/metrics.txt" || hb_fail "promtool check metrics failed"
grep -q '^hb_producer_up{producer="promtick",pid="[0-9]*"} 1$' "$T/metrics.txt"
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
[ "$(code "http://127.0.0.1:$MPORT/nope")" = 404 ] || hb_fail "expected 404"
[ "$(code -X POST "http://127.0.0.1:$MPORT/metrics")" = 405 ] || hb_fail "expected 405"

PPORT=$(free_port)
cat >"$T/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: hb
    static_configs:
      - targets: ["127.0.0.1:$MPORT"]
YML
prom_start "$T/prometheus.yml" "$PPORT"

hb_wait_for 60 "Prometheus to scrape up = 1" is 'up{job="hb"}' 1
hb_wait_for 30 "the stored counter" is 'hb_metric_total{job="hb",producer="promtick",metric="tick.sent"}' 40
is 'hb_producer_up{job="hb",producer="promtick"}' 1 || hb_fail "hb_producer_up is not 1"
is 'hb_records_dropped_total{job="hb",producer="promtick"}' 0 || hb_fail "drops are not 0"
echo "prometheus_scrape: up=1, tick.sent=40, hb_producer_up=1 as stored by Prometheus"
