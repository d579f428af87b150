#!/usr/bin/env bash
# hbreplay --speed scales the liveness thresholds: a producer whose
# heartbeats stalled for 4 s (20 intervals of 200 ms) went late and dead in
# the original; replayed at 10 times the pace (a 0.4 s stall, longer than
# the collector's 200 ms between liveness checks) it states a
# 20 ms interval and goes late and dead again, then exits.
set -euo pipefail
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/liveness_common.bash"
hb_need hbcollect hbcat hbreplay ticker

A="$T/A"
hb_collector_start "$A"
hb_collector_ready "$A"
"$BIN/ticker" --name st --interval-ms 200 --rate 20 --seconds 5 --stall-after 1 >/dev/null
hb_wait_for 20 "st exited in A" has_state "$A" st exited
hb_collector_stop
states() { "$BIN/hbcat" -p st "$1" | awk '$3 == "BUS" && $4 == "state" { sub("state=", "", $5); printf "%s ", $5 }'; }
sa=$(states "$A")
hb_log "original states: $sa"
[[ $sa == "healthy late dead "*"exited " ]] || hb_fail "the original did not go late and dead: $sa"

B="$T/B"
BUS_A=$BUS
BUS="${BUS}b"
hb_collector_start "$B"
hb_collector_ready "$B"
"$BIN/hbreplay" --bus "$BUS" --speed 10 -q "$A" || hb_fail "hbreplay exited $?"
hb_wait_for 20 "st exited in B" has_state "$B" st exited
hb_collector_stop
sb=$(states "$B")
hb_log "replayed states: $sb"
iv=$("$BIN/hbcat" -o json -p st "$B" | "$PY" -c '
import json, sys
print([r for r in map(json.loads, sys.stdin) if r["k"] == "producer"][0]["interval_ms"])')
[ "$iv" = 20 ] || hb_fail "replayed interval $iv ms, want 200 / 10"
[[ $sb == "healthy late dead "*"exited " ]] || hb_fail "the replay at --speed 10 did not go late and dead: $sb"
rm -f /dev/shm/hb."$BUS".* /dev/shm/hbcollect."$BUS".lock
BUS=$BUS_A
echo "ok replay_liveness_speed: original $sa; replayed $sb"
