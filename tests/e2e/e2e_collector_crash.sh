#!/usr/bin/env bash
# The collector is SIGKILLed twice while producers write and restarted each
# time: the archive still holds every committed record exactly once.
set -euo pipefail
source "$(dirname "$0")/common.bash"
hb_need hbcollect hbload hbcat

dir="$T/archive"
hb_collector_start "$dir"
# 2 producers x 30000 events at 5000/s: about 6 s of traffic
hb_spawn "$T/load.json" "$T/load.err" "$BIN/hbload" --bus "$BUS" --producers 2 \
	--records 30000 --rate 5000 --json
load_pid=$!
for round in 1 2; do
	sleep 2
	kill -0 "$load_pid" 2>/dev/null || hb_fail "hbload finished before kill $round; raise --records"
	hb_log "SIGKILL hbcollect (round $round)"
	kill -KILL "$COLLECTOR_PID"
	wait "$COLLECTOR_PID" 2>/dev/null || true
	hb_collector_start "$dir"
done
rc=0
hb_wait_exit "$load_pid" 120 || rc=$?
[ $rc -eq 0 ] || hb_fail "hbload exited $rc: $(tail -n 5 "$T/load.err")"
cat "$T/load.json"
hb_collector_stop

ls -l "$dir" >&2
"$BIN/hbcat" -o json "$dir" >"$T/records.jsonl" 2>"$T/hbcat.err" || {
	rc=$?
	cat "$T/hbcat.err" >&2
	hb_fail "hbcat exited $rc on the archive of a crashed collector"
}
hb_log "hbcat printed $(wc -l <"$T/records.jsonl") records"
"$PY" "$E2E/check_load.py" "$T/records.jsonl" --load "$T/load.json"
echo "ok"
