#!/usr/bin/env bash
# hbreplay reproduces the states the collector recorded of the original: a
# producer killed with SIGKILL replays as dead then crashed (its replayed
# process dies with its ring open, where the original's was found gone),
# one that closed cleanly as exited; at --speed 1 and at --speed 10 (the
# same states, the clean exit still before the kill 4 s later, the
# intervals scaled). A replay that kept every ring in one process would turn the
# killed one late, dead, then exited.
set -euo pipefail
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/liveness_common.bash"
hb_need hbcollect hbcat hbreplay ticker

# transitions DIR: "producer state why" of victim, then of clean, each in
# time order, then which of the two ended first (4 s apart in the original)
transitions()
{
	"$BIN/hbcat" -o json "$1" 2>/dev/null | "$PY" -c '
import json, sys
rs = [json.loads(l) for l in sys.stdin]
rs = sorted((r for r in rs if r.get("k") == "state"), key=lambda r: r["ts_ns"])
for p in ("victim", "clean"):
    for r in rs:
        if r.get("producer") == p:
            print(p, r["state"], r.get("why", "-"))
ends = [r["producer"] for r in rs if r["state"] in ("exited", "dead", "crashed")]
print("first to end:", ends[0] if ends else "none")'
}
intervals() # DIR: "name interval_ms" of the replayed producers
{
	"$BIN/hbcat" -o json "$1" 2>/dev/null | "$PY" -c '
import json, sys
seen = {}
for r in map(json.loads, sys.stdin):
    if r.get("k") == "producer" and r["name"] in ("victim", "clean"):
        seen[r["name"]] = r["interval_ms"]
for n in sorted(seen):
    print(n, seen[n])'
}

A="$T/A"
hb_collector_start "$A"
hb_collector_ready "$A"
hb_spawn "$T/v.out" "$T/v.err" "$BIN/ticker" --name victim --interval-ms 1000 --rate 50
VICTIM=$!
hb_spawn "$T/c.out" "$T/c.err" "$BIN/ticker" --name clean --interval-ms 1000 --rate 50 \
	--seconds 1.5
CLEAN=$!
hb_wait_for 20 "victim healthy" has_state "$A" victim healthy
hb_wait_exit "$CLEAN" 30
hb_wait_for 20 "clean exited" has_state "$A" clean exited
sleep 4 # at --speed 10 still 0.4 s between the exit and the kill
kill -KILL "$VICTIM"
hb_wait_for 20 "victim crashed" has_state "$A" victim crashed
hb_collector_stop
transitions "$A" >"$T/a.states"
hb_log "original: $(tr '\n' ';' <"$T/a.states")"
grep -q '^victim crashed pid-gone$' "$T/a.states" || hb_fail "the original victim did not crash"
grep -q '^clean exited closed$' "$T/a.states" || hb_fail "the original clean did not exit"
grep -q "^first to end: clean$" "$T/a.states" || hb_fail "the original victim ended first"

BUS_A=$BUS
n=0
for speed in 1 10; do
	n=$((n + 1))
	BUS="${BUS_A}r$n"
	B="$T/B$speed"
	hb_collector_start "$B"
	hb_collector_ready "$B"
	timeout 120 "$BIN/hbreplay" --bus "$BUS" --speed "$speed" -q "$A" ||
		hb_fail "hbreplay --speed $speed exited $?"
	hb_wait_for 20 "victim crashed in the replay at --speed $speed" has_state "$B" victim crashed
	hb_wait_for 20 "clean exited in the replay at --speed $speed" has_state "$B" clean exited
	hb_collector_stop
	transitions "$B" >"$T/b$speed.states"
	hb_log "replayed at --speed $speed: $(tr '\n' ';' <"$T/b$speed.states")"
	diff "$T/a.states" "$T/b$speed.states" >&2 ||
		hb_fail "the replay at --speed $speed recorded other states than the original"
	intervals "$B" >"$T/iv$speed"
	printf 'clean %d\nvictim %d\n' $((1000 / speed)) $((1000 / speed)) | diff - "$T/iv$speed" >&2 ||
		hb_fail "the replayed intervals at --speed $speed are not 1000 ms / $speed"
	rm -f /dev/shm/hb."$BUS".* /dev/shm/hbcollect."$BUS".lock
done
BUS=$BUS_A
echo "ok replay_crash_states: $(tr '\n' ';' <"$T/a.states")"
