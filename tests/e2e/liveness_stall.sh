#!/usr/bin/env bash
# A producer that stops ticking (its process alive) goes healthy -> late ->
# dead in the archive, in that order, each within bounds derived from its
# heartbeat interval; when it ticks again it is healthy again.
set -euo pipefail
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/liveness_common.bash"
hb_need hbcollect hbcat ticker

IV_MS=300
A="$T/archive"
hb_collector_start "$A"
hb_spawn "$T/ticker.out" "$T/ticker.err" "$BIN/ticker" --name stall --interval-ms $IV_MS \
	--rate 50 --seconds 60
TICKER=$!
hb_wait_for 20 "healthy" has_state "$A" stall healthy
sleep 1
kill -USR1 "$TICKER" # stop ticking, stay alive
hb_wait_for 30 "dead" has_state "$A" stall dead
hb_collector_stop

last_hb=$(last_heartbeat_ns "$A" stall)
live_states "$A" stall >"$T/states"
cat "$T/states" >&2
"$PY" - "$T/states" "$last_hb" "$IV_MS" <<'PY'
import sys
lines = [l.split() for l in open(sys.argv[1])]
last_hb, iv = int(sys.argv[2]), int(sys.argv[3]) * 1e6
states = [l[0] for l in lines]
assert states[:3] == ["healthy", "late", "dead"], states
late = next(int(l[2]) for l in lines if l[0] == "late")
dead = next(int(l[2]) for l in lines if l[0] == "dead")
assert lines[1][1] == "late" and lines[2][1] == "no-heartbeat", lines
# late after more than 1.5 intervals, dead after more than 3; the slack
# (check period, scheduling on a busy machine) is generous
assert 1.5 * iv < late - last_hb < 1.5 * iv + 3e9, (late - last_hb) / 1e6
assert 3 * iv < dead - last_hb < 3 * iv + 3e9, (dead - last_hb) / 1e6
assert late < dead
print("liveness_stall: healthy -> late (%.0f ms) -> dead (%.0f ms), interval %d ms"
      % ((late - last_hb) / 1e6, (dead - last_hb) / 1e6, iv / 1e6))
PY
