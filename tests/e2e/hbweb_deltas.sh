#!/usr/bin/env bash
# hbweb's stream with 100 producers: a new client gets all of them once,
# then deltas carry only the producers that changed: once the 100 have
# exited, only the collector's own row (its heartbeat) is ever sent again.
# hbweb stops cleanly (exit 0) with a stream client still connected.
set -euo pipefail
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/web_common.bash"
hb_need hbcollect hbweb hbload

A="$T/archive"
hb_collector_start "$A"
"$BIN/hbload" --producers 100 --records 0 --ring-kb 16 --interval-ms 200 --name many \
	--json >"$T/load.json"
web_start --bus "$BUS" --dir "$A" --interval-ms 100
all_exited()
{
	curl -fs "$WEB_URL/state.json" 2>/dev/null |
		"$PY" -c 'import json,sys; sys.exit(json.load(sys.stdin)["totals"]["by_state"]["exited"] != 100)'
}
hb_wait_for 30 "100 producers exited" all_exited
# heartbeats only: once exited, nothing of theirs changes any more (rows
# with events also change while those are in the last minute's sparkline)
"$PY" - "${WEB_URL##*:}" <<'PY'
import json, socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"GET /stream HTTP/1.0\r\nHost: x\r\n\r\n")
buf, msgs = b"", []
end = time.time() + 30
quiet = 0
while time.time() < end and quiet < 20:
    buf += s.recv(1 << 16)
    while b"\n\n" in buf:
        ev, buf = buf.split(b"\n\n", 1)
        data = [l for l in ev.split(b"\n") if l.startswith(b"data: ")]
        if not data:
            continue
        m = json.loads(data[0][6:])
        msgs.append(m)
        others = [r["name"] for r in m["rows"] if r["name"] != "hbcollect"]
        quiet = quiet + 1 if not m["full"] and not others else 0
# the first message is the whole state (of the newest update, which may
# predate the last producers read); the deltas bring the rest
full = msgs[0]
assert full["full"] and all(not m["full"] for m in msgs[1:]), [m["full"] for m in msgs[:3]]
rows = {}
for m in msgs:
    rows.update((r["ring"], r) for r in m["rows"])
many = [r for r in rows.values() if r["name"].startswith("many-")]
assert len(rows) == 101 and len(many) == 100, len(rows)
assert all(r["state"] == "exited" for r in many), [r["state"] for r in many]
assert quiet >= 20, "deltas still carry other rows after %d messages" % len(msgs)
deltas = msgs[-20:]
assert all(not d["full"] and not d["gone"] for d in deltas)
assert all(r["name"] == "hbcollect" for d in deltas for r in d["rows"])
assert any(d["rows"] for d in deltas), "the collector's heartbeats never sent"
sizes = [len(json.dumps(d)) for d in deltas]
print("hbweb_deltas: full state %d rows (%d bytes); 20 deltas of %d..%d bytes, rows only hbcollect"
      % (len(full["rows"]), len(json.dumps(full)), min(sizes), max(sizes)))
PY
# a client still connected while hbweb stops
curl -sN "$WEB_URL/stream" >"$T/stream.out" &
hb_pids+=($!)
hb_wait_for 10 "the stream client's first message" grep -q '^data: ' "$T/stream.out"
web_stop
