#!/usr/bin/env bash
# The consumer API over an archive (hb-count example): exact per-type
# counts, heartbeats, and an error-rate alert that fires and resolves.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
[ -x "$BIN/hb-count" ] || exit 77

/usr/bin/python3 "$LIBDIR/mkarchive.py" "$T/a" --producers 3 --records 1000 --files 3 \
	--states 1:late:300,1:healthy:400,2:exited:999
timeout 60 "$BIN/hb-count" "$T/a" > "$T/out"
grep -qx 'type syn.a *1500' "$T/out" || { cat "$T/out"; echo "FAIL: syn.a count"; exit 1; }
grep -qx 'type syn.b *1500' "$T/out" || { cat "$T/out"; echo "FAIL: syn.b count"; exit 1; }
grep -qx 'heartbeats 30' "$T/out" || { cat "$T/out"; echo "FAIL: heartbeats"; exit 1; }
# half the events are syn.b: over a 40% limit the alert fires
timeout 60 "$BIN/hb-count" --errors 'syn.b' --window 10 --max-pct 40 "$T/a" > "$T/alert"
grep -q 'ALERT firing: 5 of the last 10 events are syn.b' "$T/alert" || { cat "$T/alert"; echo "FAIL: no alert"; exit 1; }
timeout 60 "$BIN/hb-count" --errors 'syn.b' --window 10 --max-pct 60 "$T/a" > "$T/quiet"
! grep -q ALERT "$T/quiet" || { echo "FAIL: alert under the limit"; exit 1; }
echo "ok consumer_count"
