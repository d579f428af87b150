#!/usr/bin/env bash
# hbtop batch mode shows the producers of a running bus with the counts
# hbcat finds in the same archive; the JSON snapshot parses and holds the
# same numbers; -p filters and -n N prints N snapshots.
set -euo pipefail
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/liveness_common.bash"
hb_need hbcollect hbcat hbtop ticker

A="$T/archive"
hb_collector_start "$A"
pids=()
for n in 30 50 70; do
	hb_spawn "$T/t$n.out" "$T/t$n.err" "$BIN/ticker" --name "top$n" --interval-ms 200 \
		--rate 200 --count $n --seconds 1.5
	pids+=($!)
done
# a live one too (still running while hbtop looks)
hb_spawn "$T/live.out" "$T/live.err" "$BIN/ticker" --name toplive --interval-ms 200 \
	--rate 100 --count 25 --seconds 120
for p in "${pids[@]}"; do hb_wait_exit "$p" 30; done
for n in 30 50 70; do hb_wait_for 20 "top$n exited" has_state "$A" "top$n" exited; done
live_done() { [ "$("$BIN/hbcat" -e -p toplive "$A" 2>/dev/null | wc -l)" = 25 ]; }
hb_wait_for 20 "toplive's 25 events" live_done

"$BIN/hbcat" -o json "$A" >"$T/all.json"
HB_DIR="$A" "$BIN/hbtop" -b -n 1 -o json >"$T/top.json"
HB_DIR="$A" "$BIN/hbtop" -b -n 2 -d 0.2 -p 'top[0-9]*' >"$T/top.txt"
cat "$T/top.txt" >&2

"$PY" - "$T/all.json" "$T/top.json" "$T/top.txt" <<'PY'
import json, sys, collections
ev, hb = collections.Counter(), collections.Counter()
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["k"] == "event": ev[r["producer"]] += 1
    if r["k"] == "heartbeat": hb[r["producer"]] += 1
snaps = [json.loads(l) for l in open(sys.argv[2])]
assert len(snaps) == 1, len(snaps)
s = snaps[0]
rows = {p["name"]: p for p in s["producers"]}
for n in (30, 50, 70):
    p = rows["top%d" % n]
    assert ev["top%d" % n] == n, (n, ev)
    assert p["events"] == n, (n, p["events"])
    assert p["heartbeats"] == hb["top%d" % n], (p["heartbeats"], hb)
    assert p["state"] == "exited", p["state"]
    assert p["drops"] == 0 and p["metrics"]["tick.sent"]["value"] == n, p
live = rows["toplive"]
assert live["events"] == ev["toplive"] == 25 and live["state"] == "healthy", live
assert live["live"] is True and live["fill_pct"] is not None, live
assert live["proc"] is not None and live["proc"]["threads"] == 1, live["proc"]
assert s["totals"]["events"] == sum(ev.values()), (s["totals"], ev)
assert s["totals"]["by_state"]["exited"] >= 3, s["totals"]
assert s["collector"]["running"] is True
# text: two snapshots, only the filtered producers, same counts
text = open(sys.argv[3]).read()
assert text.count("hbtop ") == 2, text
rows_txt = [l.split() for l in text.splitlines() if l.startswith("top")]
names = sorted(set(r[0] for r in rows_txt))
assert names == ["top30", "top50", "top70"], names
for r in rows_txt:
    assert r[2] == "exited" and int(r[6]) == ev[r[0]], r
print("hbtop_batch: events", dict(ev), "match hbcat")
PY
