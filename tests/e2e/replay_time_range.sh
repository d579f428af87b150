#!/usr/bin/env bash
# A time-range query over an archive of many files (which the reader
# narrows with the collector's time index) prints exactly what a full scan
# filtered by time prints.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
BUS=e2e-range-$$

/usr/bin/python3 "$LIBDIR/mkarchive.py" "$T/syn" --producers 4 --records 30000 --files 2 --step-ns 100000
start_collector "$BUS" "$T/A" --rotate-size 100k
timeout 120 "$BIN/hbreplay" --bus "$BUS" --max -q "$T/syn"
wait_records "$T/A" 120000
stop_collector "$COLLECTOR_PID"
nfiles=$(ls "$T/A" | wc -l)
[ "$nfiles" -ge 5 ] || { echo "FAIL: only $nfiles files"; exit 1; }

"$BIN/hbcat" -o json "$T/A" > "$T/full.json"
# windows start at quantiles of the records' times, a few ms long
/usr/bin/python3 -c '
import json, sys
ts = sorted(json.loads(l)["ts_ns"] for l in open(sys.argv[1]) if "\"ts_ns\"" in l)
for q in (0, 1, 7, 13, 19):
    s = ts[len(ts) * q // 20]
    print(s, s + 2000000)
print(ts[-1], ts[-1])' "$T/full.json" > "$T/windows"
i=0
while read -r since until; do
	i=$((i + 1))
	s=$(printf '@%d.%09d' $(( since / 1000000000 )) $(( since % 1000000000 )))
	u=$(printf '@%d.%09d' $(( until / 1000000000 )) $(( until % 1000000000 )))
	"$BIN/hbcat" -o json --since "$s" --until "$u" "$T/A" > "$T/q.json"
	/usr/bin/python3 -c '
import json, sys
since, until = int(sys.argv[2]), int(sys.argv[3])
want = [l for l in open(sys.argv[1]) if since <= json.loads(l).get("ts_ns", -1) <= until]
got = open(sys.argv[4]).readlines()
if got != want or not want:
    sys.exit("FAIL: window %s: %d lines, want %d" % (sys.argv[5], len(got), len(want)))
' "$T/full.json" "$since" "$until" "$T/q.json" "$i"
done < "$T/windows"
echo "ok replay_time_range ($nfiles files)"
