#!/usr/bin/env bash
# The collector's byte limit (--retain-bytes) removes files hbship could not
# ship (NATS away): the collector reports each such file, the shipper
# reports the loss when it finds its position's file gone and sends the
# numbers lost as exact gaps (why "retention"), so the fleet archive covers
# every sequence number of every producer exactly once: present, or in a
# gap.
# hb-test-timeout: 120
set -euo pipefail
source "$(dirname "$0")/common.bash"
source "$(dirname "$0")/fleet_common.bash"
hb_need hbcollect hbload hbship hbsink hbcat

hb_nats_start 1
hb_nats_kill 0
hb_host_start 0 --rotate-size 16k --retain-bytes 64k
hb_ship_start 0
"$BIN/hbload" --bus "${HOST_BUS[0]}" --producers 2 --seconds 4 --rate 1000 --interval-ms 200 \
	--json >"$T/load.h0.json" 2>"$T/load.h0.err" || hb_fail "hbload exited $?"
grep -q "before hbship shipped it" "$T/collector.h0.log" ||
	hb_fail "the byte limit removed no unshipped file"
hb_nats_restart 0
hb_sink_start
hb_wait_for 60 "the shipper to state the loss" grep -q "sent as a gap" "$T/ship.h0.log"
hb_host_stop 0
hb_fleet_drain 0
cat "$T/ship.h0.log"
"$BIN/hbcat" -o json "$T/fleet" >"$T/fleet.jsonl" || hb_fail "hbcat exited $?"
expect=$("$PY" - "$T/fleet.jsonl" <<'PY'
import json, sys
last, lost = {}, {}
for l in open(sys.argv[1]):
    r = json.loads(l)
    name = r.get("producer") or ""
    if not name.startswith("load-"):
        continue
    if r["k"] in ("event", "heartbeat"):
        last[name] = max(last.get(name, -1), r["seq"])
    if r["k"] == "gap" and r.get("why") == "retention":
        lost[name] = lost.get(name, 0) + r["n"]
print(" ".join("--expect %s:%d" % kv for kv in sorted(last.items())))
print("lost to retention: %s" % lost, file=sys.stderr)
assert sorted(lost) == ["load-0", "load-1"], "no retention gap for some producer"
PY
) || hb_fail "the fleet archive has no retention gaps"
# shellcheck disable=SC2086
"$PY" "$E2E/check_load.py" "$T/fleet.jsonl" $expect || hb_fail "the fleet archive is not exact"
echo "ok"
