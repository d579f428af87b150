#!/usr/bin/env bash
# The shipped HbProducerDown rule fires in a real Prometheus for a producer
# killed with SIGKILL (crashed), and not for one that keeps running. The
# rules file is the shipped one with its `for:` durations shortened; its
# expressions are as shipped.
set -euo pipefail
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/liveness_common.bash"
. "$(dirname "$0")/prometheus_common.bash"
hb_need hbcollect ticker
prom_need

A="$T/archive"
hb_collector_start "$A" --metrics 127.0.0.1:0 --keep-crashed 10m
MPORT=$(metrics_port "$T/collector.1.log")
hb_spawn "$T/v.out" "$T/v.err" "$BIN/ticker" --name victim --interval-ms 200 --rate 20
VICTIM=$!
hb_spawn "$T/s.out" "$T/s.err" "$BIN/ticker" --name steady --interval-ms 200 --rate 20

sed 's/^\( *for:\) .*/\1 2s/' "$ROOT/tools/prometheus/hb-alerts.rules.yml" >"$T/rules.yml"
grep -q 'for: 1m' "$T/rules.yml" && hb_fail "the for: durations were not shortened"
cat >"$T/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $T/rules.yml
scrape_configs:
  - job_name: hb
    static_configs:
      - targets: ["127.0.0.1:$MPORT"]
YML
prom_start "$T/prometheus.yml" "$(free_port)"
hb_wait_for 60 "Prometheus to see victim up" is 'hb_producer_up{job="hb",producer="victim"}' 1
hb_wait_for 30 "Prometheus to see steady up" is 'hb_producer_up{job="hb",producer="steady"}' 1

kill -KILL "$VICTIM"
wait "$VICTIM" 2>/dev/null || true
hb_wait_for 60 "HbProducerDown firing for victim" \
	is 'ALERTS{alertname="HbProducerDown",alertstate="firing",producer="victim"}' 1
is "hb_producer_state{job=\"hb\",producer=\"victim\",pid=\"$VICTIM\",state=\"crashed\"}" 1 ||
	hb_fail "Prometheus did not store the crashed state"
is 'hb_producer_crashes_total{job="hb",producer="victim"}' 1 || hb_fail "no crash counted"
[ -z "$(query 'ALERTS{alertname="HbProducerDown",producer="steady"}')" ] ||
	hb_fail "HbProducerDown fired for the steady producer"
echo "prometheus_crash_alert: HbProducerDown firing for the crashed producer, not for steady"
