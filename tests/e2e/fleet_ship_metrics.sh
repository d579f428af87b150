#!/usr/bin/env bash
# hbship --metrics: the lag it serves is exact. Caught up, it acknowledged
# exactly the records the archive holds (counted by hbcat) and is 0
# behind; with NATS down, the records behind grow to exactly what the
# archive holds beyond what was acknowledged (the collector stopped, so the
# archive is final), with the bytes and the oldest record's age; with NATS
# back it catches up to 0 and has acknowledged every record of the archive
# once. The exposition passes promtool, and a real Prometheus stores the
# figures when it is installed.
# hb-test-timeout: 240
set -euo pipefail
source "$(dirname "$0")/common.bash"
source "$(dirname "$0")/fleet_common.bash"
source "$(dirname "$0")/prometheus_common.bash"
hb_need hbcollect hbload hbship hbcat

hb_nats_start 1
hb_host_start 0
hb_ship_start 0 --no-heartbeats --metrics 127.0.0.1:0
MPORT=$(metrics_port "$T/ship.h0.log")
hb_log "hbship metrics on port $MPORT"

scrape() { curl -fsS "http://127.0.0.1:$MPORT/metrics"; }
# m NAME: the value of the sample NAME (no labels), or nothing
m() { scrape | awk -v n="$1" '$1 == n { print $2 }'; }
# the records hbship ships, counted in the host's archive by hbcat: those
# of a producer, but its producer/types/metrics records
archive_records()
{
	"$BIN/hbcat" -o json "${HOST_DIR[0]}" | "$PY" -c '
import json, sys
n = 0
for line in sys.stdin:
    j = json.loads(line)
    if "p" in j and j.get("k") not in ("producer", "types", "metrics"):
        n += 1
print(n)'
}
# caught_up: 0 behind, and what was acknowledged is what the archive holds
# (the collector still writes its heartbeats: the figures must agree
# between two scrapes around the count)
caught_up()
{
	local a1 a2 n
	a1=$(m hb_ship_records_acked_total)
	[ "$(m hb_ship_lag_records)" = 0 ] || return 1
	n=$(archive_records)
	a2=$(m hb_ship_records_acked_total)
	[ "$a1" = "$a2" ] && [ "$a1" = "$n" ] && [ "$(m hb_ship_lag_records)" = 0 ] &&
		[ "$(m hb_ship_lag_bytes)" = 0 ] && [ "$(m hb_ship_oldest_unshipped_age_seconds)" = 0 ]
}
load() { "$BIN/hbload" --bus "${HOST_BUS[0]}" --producers 2 --seconds 1 --rate 300 --json >"$T/load.$1.json"; }

is_m() { [ "$(m "$1")" = "$2" ]; }
hb_wait_for 30 "the first exposition" is_m hb_ship_nats_connected 1
scrape >"$T/metrics.0.txt"
promtool check metrics <"$T/metrics.0.txt" || hb_fail "promtool check metrics failed"
load 1
hb_wait_for 60 "hbship to have shipped the archive" caught_up
acked1=$(m hb_ship_records_acked_total)
[ "$acked1" -gt 600 ] || hb_fail "only $acked1 records acknowledged after 600 events"
[ "$(m hb_ship_nats_connected)" = 1 ] || hb_fail "not connected to NATS"
hb_log "caught up: $acked1 records acknowledged"

# NATS down: the lag grows, and is exact once the archive is final
hb_nats_kill 0
hb_wait_for 30 "hb_ship_nats_connected 0" is_m hb_ship_nats_connected 0
load 2
behind_gt() { [ "$(m hb_ship_lag_records)" -gt "$1" ]; }
hb_wait_for 30 "records behind while NATS is down" behind_gt 600
lag2=$(m hb_ship_lag_records)
bytes2=$(m hb_ship_lag_bytes)
load 3
hb_host_stop 0
acked=$(m hb_ship_records_acked_total)
[ "$acked" = "$acked1" ] || hb_fail "$acked records acknowledged without NATS, $acked1 before"
want=$(($(archive_records) - acked1))
hb_wait_for 30 "hb_ship_lag_records = $want" is_m hb_ship_lag_records "$want"
scrape >"$T/metrics.down.txt"
got() { awk -v n="$1" '$1 == n { print $2 }' "$T/metrics.down.txt"; }
hb_log "NATS down: $(got hb_ship_lag_records) records, $(got hb_ship_lag_bytes) bytes behind," \
	"oldest $(got hb_ship_oldest_unshipped_age_seconds) s old, $(got hb_ship_retries_total) retries"
[ "$want" -gt "$lag2" ] || hb_fail "the records behind did not grow ($lag2, then $want)"
[ "$(got hb_ship_lag_bytes)" -gt "$bytes2" ] || hb_fail "the bytes behind did not grow"
"$PY" - "$T/metrics.down.txt" "$(date +%s)" <<'PY' || hb_fail "oldest unshipped record figures"
import sys
v = {l.split()[0]: float(l.split()[1]) for l in open(sys.argv[1]) if not l.startswith("#")}
now = float(sys.argv[2])
assert v["hb_ship_oldest_unshipped_age_seconds"] > 0, v
assert now - 120 < v["hb_ship_oldest_unshipped_timestamp_seconds"] <= now + 1, v
assert v["hb_ship_failing"] == 1 and v["hb_ship_retries_total"] > 0, v
assert v["hb_ship_backoff_seconds"] > 0 and v["hb_ship_nats_connected"] == 0, v
PY

# NATS back: caught up, every record of the archive acknowledged once
hb_nats_restart 0
hb_wait_for 90 "hbship to catch up" caught_up
scrape >"$T/metrics.1.txt"
promtool check metrics <"$T/metrics.1.txt" || hb_fail "promtool check metrics failed"
got() { awk -v n="$1" '$1 == n { print $2 }' "$T/metrics.1.txt"; }
total=$(archive_records)
[ "$(got hb_ship_records_acked_total)" = "$total" ] || hb_fail "acked $(got hb_ship_records_acked_total), archive $total"
[ "$(got hb_ship_records_published_total)" -ge "$total" ] || hb_fail "published fewer than the archive holds"
[ "$(got hb_ship_failing)" = 0 ] && [ "$(got hb_ship_backoff_seconds)" = 0 ] &&
	[ "$(got hb_ship_nats_connected)" = 1 ] && [ "$(got hb_ship_messages_inflight)" = 0 ] ||
	hb_fail "not back to normal: $(grep -v '^#' "$T/metrics.1.txt")"
! grep -q '^hb_ship_oldest_unshipped_timestamp_seconds ' "$T/metrics.1.txt" ||
	hb_fail "an oldest unshipped record when none is"
hb_log "caught up: $total records acknowledged, $(got hb_ship_records_published_total) published," \
	"$(got hb_ship_messages_duplicate_total) duplicates"

# a real Prometheus stores them (when installed)
if command -v prometheus >/dev/null; then
	PPORT=$(free_port)
	cat >"$T/prometheus.yml" <<YML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: hbship
    static_configs:
      - targets: ["127.0.0.1:$MPORT"]
YML
	prom_start "$T/prometheus.yml" "$PPORT"
	hb_wait_for 60 "Prometheus to scrape hbship" is 'up{job="hbship"}' 1
	hb_wait_for 30 "the stored acked count" is 'hb_ship_records_acked_total{job="hbship"}' "$total"
	is 'hb_ship_lag_records{job="hbship"}' 0 || hb_fail "Prometheus stored a lag"
	hb_log "Prometheus stored hb_ship_records_acked_total = $total, lag 0"
fi
kill -TERM "${HOST_SHIP[0]}"
hb_wait_exit "${HOST_SHIP[0]}" 30 || hb_fail "hbship exited $? on SIGTERM"
echo "ok: $acked1 then $total records acknowledged, $want behind while NATS was down"
