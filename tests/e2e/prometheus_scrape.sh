#!/usr/bin/env bash
# A real Prometheus scrapes hbcollect --metrics: the exposition passes
# `promtool check metrics`, and Prometheus' own HTTP API returns the
# producer's counter value and up as it stored them.
set -euo pipefail
. "$(dirname "$0")/common.bash"
hb_need hbcollect ticker

if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		hb_log "installing Debian's prometheus package"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			prometheus >"$T/apt.log" 2>&1 || { cat "$T/apt.log"; hb_fail "cannot install prometheus"; }
	else
		echo "prometheus is not installed (apt-get install prometheus)"
		exit 77
	fi
fi

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

A="$T/archive"
hb_collector_start "$A" --metrics 127.0.0.1:0
hb_wait_for 20 "the metrics port in the log" grep -q "metrics on .*(port [0-9]*)" "$T/collector.1.log"
MPORT=$(sed -n 's/.*metrics on .*(port \([0-9]*\)).*/\1/p' "$T/collector.1.log" | head -n1)
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
promtool check config "$T/prometheus.yml" >/dev/null || hb_fail "promtool check config failed"
hb_spawn "$T/prom.out" "$T/prom.err" prometheus --config.file="$T/prometheus.yml" \
	--storage.tsdb.path="$T/prom-data" --web.listen-address="127.0.0.1:$PPORT"

# query EXPR: the first value of an instant query, or nothing
query()
{
	curl -fsS --get "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode "query=$1" 2>/dev/null |
		"$PY" -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' 2>/dev/null
}
is() { [ "$(query "$1")" = "$2" ]; }
hb_wait_for 60 "Prometheus to scrape up = 1" is 'up{job="hb"}' 1
hb_wait_for 30 "the stored counter" is 'hb_metric_total{job="hb",producer="promtick",metric="tick.sent"}' 40
is 'hb_producer_up{job="hb",producer="promtick"}' 1 || hb_fail "hb_producer_up is not 1"
is 'hb_records_dropped_total{job="hb",producer="promtick"}' 0 || hb_fail "drops are not 0"
echo "prometheus_scrape: up=1, tick.sent=40, hb_producer_up=1 as stored by Prometheus"
