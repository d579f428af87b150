#!/usr/bin/env bash
# A producer killed with SIGKILL is marked dead from the pid check (why
# pid-gone) well before its heartbeats would have run out, then crashed once
# its ring is drained; a producer that closes cleanly is exited, never dead.
set -euo pipefail
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/liveness_common.bash"
hb_need hbcollect hbcat ticker

A="$T/archive"
hb_collector_start "$A"
# a long interval: only the pid check can find it dead quickly
hb_spawn "$T/k.out" "$T/k.err" "$BIN/ticker" --name victim --interval-ms 60000 --rate 20
VICTIM=$!
hb_spawn "$T/c.out" "$T/c.err" "$BIN/ticker" --name clean --interval-ms 200 --rate 20 \
	--seconds 1.5
CLEAN=$!
hb_wait_for 20 "victim healthy" has_state "$A" victim healthy
hb_wait_exit "$CLEAN" 30
kill -KILL "$VICTIM"
t_kill=$(date +%s%N)
hb_wait_for 20 "victim crashed" has_state "$A" victim crashed
hb_wait_for 20 "clean exited" has_state "$A" clean exited
hb_collector_stop

live_states "$A" victim >"$T/victim"
live_states "$A" clean >"$T/clean"
cat "$T/victim" "$T/clean" >&2
"$PY" - "$T/victim" "$T/clean" "$t_kill" <<'PY'
import sys
v = [l.split() for l in open(sys.argv[1])]
c = [l.split() for l in open(sys.argv[2])]
t_kill = int(sys.argv[3])
vs = [(s, w) for s, w, _ in v]
assert vs[0] == ("healthy", "heartbeat"), vs
assert ("dead", "pid-gone") in vs, vs
assert vs.index(("dead", "pid-gone")) < vs.index(("crashed", "pid-gone")), vs
dead_ts = int(next(t for s, w, t in v if s == "dead"))
# the interval is 60 s: dead within 10 s can only come from the pid check
assert dead_ts - t_kill < 10e9, (dead_ts - t_kill) / 1e9
cs = [s for s, _, _ in c]
assert cs[0] == "healthy" and cs[-1] == "exited" and "dead" not in cs, cs
assert c[-1][1] == "closed", c
print("liveness_killed: victim", [s for s, _ in vs], "clean", cs)
PY
