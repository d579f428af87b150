#!/usr/bin/env bash
# hbweb in a real headless Chromium on a live bus of 6 producers: the page
# shows each of them healthy, as hbtop's JSON does; after a SIGKILL of one
# the same page (no reload) shows it dead (with the ring header's reason
# while the collector is stopped), then crashed once the collector records
# it, and the counts by state change; a
# collector alert shows in the list and on its producer's row; the filters
# and the detail view (recent events) work; screenshots are kept in $ART.
set -euo pipefail
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/web_common.bash"
hb_need hbcollect hbweb hbtop ticker
web_need_chromium

A="$T/archive"
# web6 sends 60 events a second: this rule fires for it alone
hb_collector_start "$A" --alert 'busy rate tick.sent > 50 producer web6'
pids=()
for i in 1 2 3 4 5 6; do
	hb_spawn "$T/t$i.out" "$T/t$i.err" "$BIN/ticker" --name "web$i" --interval-ms 500 \
		--rate $((i * 10)) --seconds 120
	pids+=($!)
done
web_start --bus "$BUS" --dir "$A" --interval-ms 200

"$PY" - "$WEB_URL" "$ART/hbweb_live.png" "$BUS" "$A" "$BIN/hbtop" "$COLLECTOR_PID" "${pids[@]}" <<'PY'
import json, os, signal, struct, subprocess, sys
from browser import Browser

url, shot, bus, archive, hbtop = sys.argv[1:6]
collector = int(sys.argv[6])
pids = [int(p) for p in sys.argv[7:]]
names = ["web%d" % i for i in range(1, 7)]
STATES = "Object.fromEntries([...document.querySelectorAll('tr.prod')].map(t => [t.dataset.name, t.dataset.state]))"
COUNT = "(s) => +document.getElementById('n-' + s).textContent"

def hbtop_states():
    out = subprocess.run([hbtop, "-b", "-n", "1", "-o", "json", "--bus", bus, "--dir", archive],
                         capture_output=True, text=True, check=True).stdout
    return {p["name"]: p["state"] for p in json.loads(out)["producers"]}

with Browser(1500, 900) as b:
    b.open(url + "/")
    b.wait("(() => { const s = %s; return %s.every(n => s[n] == 'healthy'); })()"
           % (STATES, json.dumps(names)), 30, "six healthy producers on the page")
    states = b.eval(STATES)
    assert sorted(states) == sorted(names + ["hbcollect"]), states
    # the same as hbtop's (a heartbeat may come between the two looks: again)
    for _ in range(20):
        top, states = hbtop_states(), b.eval(STATES)
        if top == states:
            break
    assert top == states, (top, states)
    b.wait("(%s)('healthy') == 7 && (%s)('dead') == 0" % (COUNT, COUNT), 10, "counts 7 healthy")
    # the collector's alert: in the global list and on web6's row only
    b.wait("document.getElementById('n-alerts').textContent == '1'", 20, "one alert firing")
    assert b.eval("[...document.querySelectorAll('#alerts li.alert')].map(l => l.textContent)") \
        == ["busy \u2014 web6"], b.eval("document.getElementById('alerts').textContent")
    flagged = b.eval("[...document.querySelectorAll('tr.prod')].filter(t => t.querySelector("
                     "'.flag.alert')).map(t => t.dataset.name)")
    assert flagged == ["web6"], flagged
    assert b.eval("+document.getElementById('n-producers').textContent") == 7

    # the stream moves the same page: no reload from here on
    b.eval("window.__marker = 1")
    before = int(b.eval("document.body.dataset.updates"))
    victim = names[2]
    # with the collector stopped, only the ring header can tell (and the
    # reason shown must be its own, not the last one the archive gave)
    os.kill(collector, signal.SIGSTOP)
    os.kill(pids[2], signal.SIGKILL)
    b.wait("(() => { const s = %s; return s[%s] == 'dead'; })()" % (STATES, json.dumps(victim)),
           20, victim + " dead on the page")
    why = b.eval("document.querySelector('tr[data-name=%s] .why').textContent" % victim)
    os.kill(collector, signal.SIGCONT)
    assert why == "pid-gone", why
    # running again, the collector records the crash: crashed on the page,
    # in the counts and in hbtop, which read the same model
    b.wait("(%s)('crashed') == 1 && (%s)('dead') == 0 && (%s)('healthy') == 6"
           % (COUNT, COUNT, COUNT), 10, "counts 6 healthy, 1 crashed")
    assert b.eval("window.__marker") == 1, "the page was reloaded"
    assert int(b.eval("document.body.dataset.updates")) > before
    states = b.eval(STATES)
    assert [n for n in names if states[n] == "crashed"] == [victim], states
    assert hbtop_states()[victim] == "crashed"

    # filter by name, then by state
    b.eval("document.getElementById('f-name').value = 'web[12]';"
           "document.getElementById('f-name').dispatchEvent(new Event('input'))")
    b.wait("document.querySelectorAll('tr.prod').length == 2", 5, "the name filter")
    assert sorted(b.eval(STATES)) == ["web1", "web2"]
    b.eval("document.getElementById('f-name').value = '';"
           "document.getElementById('f-name').dispatchEvent(new Event('input'));"
           "document.getElementById('f-state').value = 'crashed';"
           "document.getElementById('f-state').dispatchEvent(new Event('change'))")
    b.wait("document.querySelectorAll('tr.prod').length == 1", 5, "the state filter")
    assert list(b.eval(STATES)) == [victim]
    b.eval("document.getElementById('f-state').value = '';"
           "document.getElementById('f-state').dispatchEvent(new Event('change'))")
    b.wait("document.querySelectorAll('tr.prod').length == 7", 5, "no filter")

    # detail view of web6: its newest events, as the archive holds them
    b.eval("document.querySelector('tr[data-name=web6]').click()")
    evs = b.wait("(() => { const e = [...document.querySelectorAll('#d-body pre.ev')];"
                 " return e.length >= 5 && e.map(x => JSON.parse(x.textContent)); })()",
                 10, "recent events in the detail view")
    assert all(e["producer"] == "web6" and e["type"] == "tick.work" for e in evs), evs[:2]
    seqs = [e["seq"] for e in evs]
    assert seqs == sorted(seqs), seqs
    assert "web6" in b.eval("document.getElementById('d-title').textContent")
    b.screenshot(shot.replace(".png", "_detail.png"), full_page=False)
    b.eval("document.getElementById('d-close').click()")
    b.wait("document.getElementById('detail').hidden", 5)
    b.wait("!document.querySelector('.dot.pulse')|| true", 1)
    b.screenshot(shot)

with open(shot, "rb") as f:
    head = f.read(24)
assert head[:8] == b"\x89PNG\r\n\x1a\n", head
w, h = struct.unpack(">II", head[16:24])
assert w == 1500 and h >= 900, (w, h)
print("hbweb_browser_live: 7 producers shown healthy, %s dead after SIGKILL; screenshot %s (%dx%d)"
      % (victim, shot, w, h))
PY
web_stop
