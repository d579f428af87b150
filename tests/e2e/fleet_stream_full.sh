#!/usr/bin/env bash
# A stream too small for what a host ships (discard new, 32 KiB): the
# server refuses messages; hbship reports it once, backs off and retries
# (its heartbeats count the failures and show the lag in bytes and
# records), never moves its position past what was acknowledged, and the
# collector loses nothing: the local archive holds every record.
# hb-test-timeout: 120
set -euo pipefail
source "$(dirname "$0")/common.bash"
source "$(dirname "$0")/fleet_common.bash"
hb_need hbcollect hbload hbship hbsink hbcat

hb_nats_start 1
hb_host_start 0 --retain-files 1 --rotate-size 32k
hb_ship_start 0 --discard new --max-bytes 32k --window 8 --max-msg 8k
"$BIN/hbload" --bus "${HOST_BUS[0]}" --producers 2 --seconds 2 --rate 1000 --interval-ms 200 \
	--json >"$T/load.h0.json" 2>"$T/load.h0.err" || hb_fail "hbload exited $?"
hb_wait_for 30 "the shipper to report the full stream" grep -q "fails: .*maximum bytes" \
	"$T/ship.h0.log"
sleep 4 # retries, and heartbeats of the shipper with the failures counted
hb_host_stop 0
kill -TERM "${HOST_SHIP[0]}"
hb_wait_exit "${HOST_SHIP[0]}" 30 || hb_fail "hbship exited $? on SIGTERM"
cat "$T/ship.h0.log"
n=$(grep -c "publishing to stream HB fails" "$T/ship.h0.log" || true)
[ "$n" -eq 1 ] || hb_fail "the full stream was reported $n times, want once"
! grep -q "acknowledges again" "$T/ship.h0.log" || hb_fail "the stream took messages again"
! grep -q "before hbship shipped it" "$T/collector.h0.log" || hb_fail "retention removed unshipped files"
# the collector lost nothing
"$BIN/hbcat" -o json "${HOST_DIR[0]}" >"$T/local.jsonl"
"$PY" "$E2E/check_load.py" "$T/local.jsonl" --load "$T/load.h0.json" ||
	hb_fail "the local archive lost records"
"$PY" - "$T/local.jsonl" "${HOST_DIR[0]}" <<'PY' || hb_fail "the shipper's heartbeats or position"
import json, os, sys
hbs = [json.loads(l) for l in open(sys.argv[1])]
hbs = [r for r in hbs if r.get("producer") == "hbship" and r.get("k") == "heartbeat"]
m = hbs[-1]["metrics"]
print("last hbship heartbeat:", m)
assert m["hbship.publish_failures"] >= 2, "no retries counted"
assert m["hbship.lag_bytes"] > 32 * 1024, "lag in bytes not shown"
assert m["hbship.lag_records"] > 0 or m["hbship.lag_bytes"] > 0
pos = open(os.path.join(sys.argv[2], "hbship-HB.pos")).read().split()
files = sorted(f for f in os.listdir(sys.argv[2]) if f.startswith("hb-"))
print("position", pos[3], pos[5], "files", files[0], "..", files[-1])
assert pos[3] in files, "the position's file was removed"
assert pos[3] != files[-1] or int(pos[5]) < os.path.getsize(os.path.join(sys.argv[2], files[-1]))
PY
echo "ok"
