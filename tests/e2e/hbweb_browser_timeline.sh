#!/usr/bin/env bash
# hbweb --replay in a real headless Chromium, on an archive recorded here
# with a crash (SIGKILL), a heartbeat gap (SIGSTOP for 2 s) and drops (a
# full ring while the collector is stopped): the timeline page has one
# chart per event type and per producer of the archive, with the event
# counts hbcat finds, and the crash, gap, drop and alert marks on the charts of
# the producers they belong to; zooming into a range before the crash
# leaves its mark out. A screenshot is kept in $ART.
set -euo pipefail
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/web_common.bash"
. "$(dirname "$0")/liveness_common.bash"
hb_need hbcollect hbweb hbcat hbload ticker
web_need_chromium

A="$T/archive"
# tla sends 50 events a second: this rule fires for it alone
hb_collector_start "$A" --alert 'fast rate tick.sent > 40 producer tla'
hb_spawn "$T/a.out" "$T/a.err" "$BIN/ticker" --name tla --interval-ms 200 --rate 50 --seconds 120
TLA=$!
hb_spawn "$T/b.out" "$T/b.err" "$BIN/ticker" --name tlb --interval-ms 200 --rate 30 --seconds 120
TLB=$!
hb_spawn "$T/c.out" "$T/c.err" "$BIN/ticker" --name tlc --interval-ms 200 --rate 20 --seconds 120
TLC=$!
sleep 1.5
kill -STOP "$TLC"
sleep 2
kill -CONT "$TLC"
sleep 1
kill -KILL "$TLB"
hb_wait_for 20 "tlb crashed" has_state "$A" tlb crashed
# drops: a 16 KiB ring and 4000 unpaced events while the collector is stopped
kill -STOP "$COLLECTOR_PID"
"$BIN/hbload" --producers 1 --records 4000 --ring-kb 16 --name tld --json >"$T/load.json"
kill -CONT "$COLLECTOR_PID"
dropped=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["dropped"])' "$T/load.json")
[ "$dropped" -gt 0 ] || hb_fail "hbload dropped nothing"
sleep 1
kill -TERM "$TLA" "$TLC"
hb_wait_for 20 "tla exited" has_state "$A" tla exited
hb_wait_for 20 "tlc exited" has_state "$A" tlc exited
hb_collector_stop
"$BIN/hbcat" -o json "$A" >"$T/all.json"

web_start --replay "$A"
"$PY" - "$WEB_URL" "$T/all.json" "$ART/hbweb_timeline.png" "$dropped" <<'PY'
import collections, json, struct, sys
from browser import Browser

url, allj, shot, dropped = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
types, prods, crash_t, gaps = collections.Counter(), collections.Counter(), None, 0
label = {}
for line in open(allj):
    r = json.loads(line)
    if r["k"] == "producer":
        label[r["producer"]] = "%s (pid %d)" % (r["producer"], r["pid"])
    if r["k"] == "event":
        types[r["type"]] += 1
        prods[r["producer"]] += 1
    if r["k"] == "state" and r["state"] == "crashed" and r["producer"] == "tlb":
        crash_t = r["ts_ns"]
    if r["k"] == "gap" and r["producer"].startswith("tld"):
        gaps += r["n"]
# the gap records may count a dropped heartbeat too (hbload counts events)
assert crash_t and gaps >= dropped, (crash_t, gaps, dropped)

CHARTS = "Object.fromEntries([...document.querySelectorAll('#%s .chart')].map(c => [c.dataset.%s, +c.querySelector('h3 .dim').textContent.trim().split(' ')[0]]))"
MARKS = "(p, k) => document.querySelectorAll('.chart[data-producer=\"' + p + '\"] .mark.' + k).length"
with Browser(1400, 900) as b:
    b.open(url + "/")
    b.wait("document.body.dataset.ready == '1'", 20, "the timeline")
    shown = b.eval(CHARTS % ("types", "type"))
    assert shown == dict(types), (shown, types)
    assert set(shown) == {"tick.work", "load.order", "load.fill", "load.note"}, shown
    shown = b.eval(CHARTS % ("producers", "producer"))
    assert shown == {label[p]: prods[p] for p in label}, (shown, prods)  # heartbeats only: 0
    m = lambda p, k: b.eval("(%s)(%s, %s)" % (MARKS, json.dumps(label[p]), json.dumps(k)))
    assert m("tlb", "crash") == 1, m("tlb", "crash")
    assert m("tla", "crash") == 0 and m("tlc", "crash") == 0
    assert m("tlc", "hb-gap") >= 1, m("tlc", "hb-gap")
    # the 2 s stop (a busy machine may add short gaps of its own)
    stop = b.eval("tl.marks.filter(m => m.kind == 'hb-gap' && m.who == %s && m.t2 - m.t > 1.5e9)"
                  ".map(m => m.t)" % json.dumps(label["tlc"]))
    assert len(stop) == 1, stop
    drops = b.eval("[...document.querySelectorAll('#marks li.drop')].map(l => l.textContent)")
    assert drops and all("tld-0" in d for d in drops), drops
    assert sum(int(d.split(": ")[1].split(" ")[0]) for d in drops) == gaps, (drops, gaps)
    assert m("tld-0", "drop") >= 1
    assert b.eval("tl.marks_left_out") == 0
    alerts = b.eval("tl.marks.filter(m => m.kind == 'alert').map(m => [m.who, m.text])")
    assert alerts and alerts[0] == [label["tla"], "fast fired"], alerts
    assert all(w == label["tla"] for w, _ in alerts), alerts
    assert m("tla", "alert") == len(alerts) and m("tlc", "alert") == 0
    b.screenshot(shot)
    # zoom to the range before the crash: its mark goes, the gap stays
    t0 = b.eval("tl.t0_ns")
    b.eval("location.hash = '#from=%d&to=%d'" % (t0, crash_t - 200000000))
    b.wait("document.getElementById('to').textContent.length && (%s)(%s, 'crash') == 0"
           % (MARKS, json.dumps(label["tlb"])), 5, "the zoomed range")
    assert m("tlc", "hb-gap") >= 1
with open(shot, "rb") as f:
    head = f.read(24)
assert head[:8] == b"\x89PNG\r\n\x1a\n"
print("hbweb_browser_timeline: types %s, crash, gap and %d drops marked; screenshot %s %dx%d"
      % (dict(types), gaps, shot, *struct.unpack(">II", head[16:24])))
PY
web_stop
