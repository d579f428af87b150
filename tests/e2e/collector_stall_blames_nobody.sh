#!/usr/bin/env bash
# A collector stopped for 3 s (SIGSTOP) does not blame healthy producers:
# one producer's heartbeats wait in its ring behind the stalled drain, the
# other's small ring fills and its heartbeats are dropped. Neither is ever
# late or dead, in the archive or in hbtop during the stall; the archive
# says backlogged (why backlog) where heartbeats were missing, and both end
# healthy, then exited.
set -euo pipefail
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/liveness_common.bash"
hb_need hbcollect hbcat hbtop ticker

A="$T/archive"
hb_collector_start "$A"
hb_spawn "$T/w.out" "$T/w.err" "$BIN/ticker" --name waits --interval-ms 200 --rate 3000
WAITS=$!
HB_RING_KB=4 hb_spawn "$T/f.out" "$T/f.err" "$BIN/ticker" --name fills --interval-ms 200 \
	--rate 3000
FILLS=$!
hb_wait_for 20 "waits healthy" has_state "$A" waits healthy
hb_wait_for 20 "fills healthy" has_state "$A" fills healthy
sleep 0.5

kill -STOP "$COLLECTOR_PID"
sleep 3
"$BIN/hbtop" --bus "$BUS" --dir "$A" -b -n 1 -o json >"$T/top.json" || {
	kill -CONT "$COLLECTOR_PID"
	hb_fail "hbtop failed"
}
kill -CONT "$COLLECTOR_PID"
sleep 1 # heartbeats flow again
kill -TERM "$WAITS" "$FILLS"
hb_wait_exit "$WAITS" 20
hb_wait_exit "$FILLS" 20
hb_wait_for 20 "waits exited" has_state "$A" waits exited
hb_wait_for 20 "fills exited" has_state "$A" fills exited
hb_collector_stop
# the small ring did overflow
"$BIN/hbcat" -o json -p fills "$A" | grep -q '"k":"gap".*"why":"overflow"' ||
	hb_fail "the ring of fills never overflowed"

"$PY" - "$T/top.json" <<'PY'
import json, sys
snap = json.load(open(sys.argv[1]))
st = {p["name"]: p["state"] for p in snap["producers"] if p["name"] in ("waits", "fills")}
assert st and all(s not in ("late", "dead") for s in st.values()), st
print("hbtop during the stall:", st)
PY
live_states "$A" waits >"$T/waits"
live_states "$A" fills >"$T/fills"
cat "$T/waits" "$T/fills" >&2
"$PY" - "$T/waits" "$T/fills" "$T/f.out" <<'PY'
import sys
w = [l.split()[:2] for l in open(sys.argv[1])]
f = [l.split()[:2] for l in open(sys.argv[2])]
for name, s in (("waits", w), ("fills", f)):
    assert not [x for x in s if x[0] in ("late", "dead", "crashed")], (name, s)
    assert s[0] == ["healthy", "heartbeat"] and s[-1] == ["exited", "closed"], (name, s)
    assert all(x[0] != "backlogged" or x[1] == "backlog" for x in s), (name, s)
    assert ["backlogged", "backlog"] in s, (name, s)
print("collector_stall_blames_nobody: waits", [x[0] for x in w], "fills", [x[0] for x in f])
PY
