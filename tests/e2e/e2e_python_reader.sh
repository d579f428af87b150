#!/usr/bin/env bash
# The archive reads with a stock msgpack library (Debian's python3-msgpack)
# and docs/FORMAT.md alone: headers, producer tables, events, heartbeats and
# timestamps decode to what hbload wrote.
set -euo pipefail
source "$(dirname "$0")/common.bash"
hb_need hbcollect hbload

dir="$T/archive"
t0=$(date +%s%N)
hb_collector_start "$dir"
"$BIN/hbload" --bus "$BUS" --producers 3 --records 20000 --rate 20000 --interval-ms 100 \
	--json >"$T/load.json" 2>"$T/load.err" ||
	hb_fail "hbload exited $?: $(tail -n 5 "$T/load.err")"
cat "$T/load.json"
hb_collector_stop
t1=$(date +%s%N)

"$PY" "$E2E/read_archive.py" "$dir" "$T/load.json" "$BUS" "$t0" "$t1"
echo "ok"
