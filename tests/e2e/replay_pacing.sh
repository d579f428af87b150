#!/usr/bin/env bash
# hbreplay keeps the recorded pace times --speed: 2 s of traffic at
# --speed 4 take about 0.5 s (a floor from the sleeps, a ceiling relative
# to --speed 1); at --speed 1 the gaps
# between records keep their order.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

# 2 producers, 1000 events each 2 ms apart: 2 s of recorded time
/usr/bin/python3 "$LIBDIR/mkarchive.py" "$T/a" --producers 2 --records 1001 --files 2 --step-ns 2000000

elapsed() { # command... -> milliseconds
	local t0 t1
	t0=$(date +%s%N)
	"$@" > /dev/null
	t1=$(date +%s%N)
	echo $(( (t1 - t0) / 1000000 ))
}
# The sleeps set a floor that load cannot lower (2 s / 4 = 0.5 s); the
# ceiling is relative: load slows every run alike, so --speed 4 must still
# finish well ahead of --speed 1, and --speed 40 ahead of --speed 4.
t4=$(elapsed timeout 60 "$BIN/hbreplay" -n --speed 4 "$T/a")
t1=$(elapsed timeout 60 "$BIN/hbreplay" -n --speed 1 "$T/a")
t40=$(elapsed timeout 60 "$BIN/hbreplay" -n --speed 40 "$T/a")
echo "speed 1: ${t1} ms, speed 4: ${t4} ms, speed 40: ${t40} ms"
[ "$t1" -ge 1900 ] || { echo "FAIL: --speed 1 took ${t1} ms, under the recorded 2 s"; exit 1; }
[ "$t4" -ge 450 ] || { echo "FAIL: --speed 4 took ${t4} ms, under 2 s / 4"; exit 1; }
[ "$t4" -lt $((t1 - 1000)) ] || { echo "FAIL: --speed 4 (${t4} ms) not well ahead of --speed 1 (${t1} ms)"; exit 1; }
[ "$t40" -lt "$t4" ] || { echo "FAIL: --speed 40 (${t40} ms) not ahead of --speed 4 (${t4} ms)"; exit 1; }

# --speed 1 into a live bus: the gaps between replayed records (stamped at
# replay time) keep the order of the recorded ones: 5 ms < 40 ms < 90 ms
BUS=e2e-pace-$$
/usr/bin/python3 "$LIBDIR/mkarchive.py" "$T/g" --producers 1 --records 31 --files 1 --gaps 5,40,5,90 --heartbeat-every 1000
start_collector "$BUS" "$T/B"
timeout 60 "$BIN/hbreplay" --bus "$BUS" --speed 1 -q "$T/g"
stop_collector "$COLLECTOR_PID"
"$BIN/hbcat" -o json -e "$T/B" > "$T/b.json"
/usr/bin/python3 -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
ev = [e for e in ev if e["producer"] == "syn-0"]
if len(ev) != 31:
    sys.exit("FAIL: %d events" % len(ev))
by = {5: [], 40: [], 90: []}
pattern = [5, 40, 5, 90]
for i in range(1, len(ev)):
    by[pattern[(i - 1) % 4]].append(ev[i]["ts_ns"] - ev[i - 1]["ts_ns"])
mean = {g: sum(v) / len(v) / 1e6 for g, v in by.items()}
print("replayed gaps (ms): " + ", ".join("%d -> %.1f" % (g, mean[g]) for g in sorted(mean)))
if not (mean[5] < mean[40] < mean[90]):
    sys.exit("FAIL: gaps out of order")
if min(by[90]) <= max(by[5]):
    sys.exit("FAIL: a 90 ms gap came out shorter than a 5 ms one")
' "$T/b.json"
echo "ok replay_pacing (speed 1)"
