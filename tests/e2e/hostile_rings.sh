#!/usr/bin/env bash
# Hostile and broken rings next to 4 honest producers: a bad magic, a wrong
# version, impossible sizes, a record length past the end, head running
# backwards or jumping, a sequence jump, an escape sequence as a name, a
# producer scribbling over its header and data while the collector drains,
# a ring truncated under the collector's mapping, and a FIFO under the bus
# prefix. Each is quarantined with a `state` bus record (state quarantined)
# and a log line; the collector never crashes and the honest producers' committed records
# are all in the archive, exactly once.
set -euo pipefail
source "$(dirname "$0")/common.bash"
hb_need hbcollect hbload hbcat
. "$(dirname "$0")/hostile_common.bash"

kinds=(bad-magic bad-version bad-size short-file len-past-end head-back head-jump seq-jump
	bad-name scribble truncate fifo)
dir="$T/archive"
hb_collector_start "$dir"
hb_spawn "$T/load.json" "$T/load.err" "$BIN/hbload" --bus "$BUS" --producers 4 \
	--records 60000 --rate 10000 --name honest --json
load_pid=$!
hostile_pids=()
for k in "${kinds[@]}"; do
	hb_spawn "$T/hostile.$k.out" "$T/hostile.$k.err" "$T/hostile_ring" "$BUS" "$k"
	hostile_pids+=($!)
done

log="$T/collector.1.log"
for k in "${kinds[@]}"; do
	hb_wait_for 60 "the collector to quarantine or refuse hostile-$k" \
		grep -q "hostile-$k\..*\(quarantined\|refused\)" "$log"
	kill -0 "$COLLECTOR_PID" 2>/dev/null || hb_fail "hbcollect died: $(tail -n 5 "$log")"
done
rc=0
hb_wait_exit "$load_pid" 120 || rc=$?
[ $rc -eq 0 ] || hb_fail "hbload exited $rc: $(tail -n 5 "$T/load.err")"
kill -0 "$COLLECTOR_PID" 2>/dev/null || hb_fail "hbcollect died: $(tail -n 5 "$log")"
for pid in "${hostile_pids[@]}"; do
	kill -TERM "$pid" 2>/dev/null || true
done
hb_collector_stop
grep "hostile-" "$log" >&2 || true

"$BIN/hbcat" -o json "$dir" >"$T/records.jsonl" 2>"$T/hbcat.err" || {
	cat "$T/hbcat.err" >&2
	hb_fail "hbcat could not read the archive"
}
"$PY" "$E2E/check_load.py" "$T/records.jsonl" --load "$T/load.json"

# One quarantined state record per hostile ring.
"$PY" - "$T/records.jsonl" "${kinds[@]}" <<'PY'
import collections, json, sys
path, kinds = sys.argv[1], sys.argv[2:]
quarantined = collections.Counter()
producers = {}
for line in open(path, encoding="utf-8"):
    r = json.loads(line)
    if r.get("k") == "state" and r.get("state") == "quarantined":
        ring = r.get("ring") or ""
        for k in kinds:
            if "hostile-%s." % k in ring:
                quarantined[k] += 1
bad = [k for k in kinds if quarantined[k] != 1]
if bad:
    sys.exit("hostile: state records: %s; missing or repeated: %s" % (dict(quarantined), bad))
print("hostile: rings=%d quarantined=%d" % (len(kinds), sum(quarantined.values())))
PY
load=$("$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print("honest producers=%d committed=%d dropped=%d" % (len(d["producers"]), d["committed"], d["dropped"]))' "$T/load.json")
echo "hostile: $load lost=0 duplicates=0 collector_crashes=0 faults_injected=${#kinds[@]}"
echo "ok"
