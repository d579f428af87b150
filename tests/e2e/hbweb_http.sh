#!/usr/bin/env bash
# hbweb's HTTP side: /state.json is byte for byte `hbtop -b -o json` on the
# same archive (the same model at the same instant: offline, the archive's
# last record), and on a live bus the same but for the figures that move
# with the clock; the page is built in and names nothing outside; only
# GET and HEAD; bad requests get 4xx; non-loopback addresses need
# --allow-remote; bad options exit 2.
set -euo pipefail
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/web_common.bash"
hb_need hbcollect hbweb hbtop ticker
. "$(dirname "$0")/liveness_common.bash"

A="$T/archive"
hb_collector_start "$A"
hb_spawn "$T/a.out" "$T/a.err" "$BIN/ticker" --name httpa --interval-ms 200 --rate 50 \
	--count 30 --seconds 1
hb_spawn "$T/b.out" "$T/b.err" "$BIN/ticker" --name httpb --interval-ms 200 --rate 50 \
	--seconds 120
hb_wait_for 20 "httpa exited" has_state "$A" httpa exited

code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

# live: the same model as hbtop, but for what moves with the clock
web_start --bus "$BUS" --dir "$A"
hb_wait_for 20 "/state.json" curl -fs -o "$T/live.json" "$WEB_URL/state.json"
"$BIN/hbtop" -b -n 1 -o json --bus "$BUS" --dir "$A" >"$T/top-live.json"
"$PY" - "$T/live.json" "$T/top-live.json" <<'PY'
import json, sys
moving = {"ts", "ts_ns", "hb_age_s", "uptime_s", "events_per_s", "spark", "records", "events",
          "heartbeats", "metrics", "proc", "fill_pct", "drops", "status"}
def still(o):
    if isinstance(o, dict):
        return {k: still(v) for k, v in o.items() if k not in moving}
    if isinstance(o, list):
        return [still(v) for v in o]
    return o
w, t = (json.load(open(p)) for p in sys.argv[1:3])
assert [p["name"] for p in w["producers"]] == [p["name"] for p in t["producers"]], (w, t)
assert still(w) == still(t), (still(w), still(t))
a = [p for p in w["producers"] if p["name"] == "httpa"][0]
assert a["state"] == "exited" and a["events"] == 30 and a["metrics"]["tick.sent"]["value"] == 30, a
print("live /state.json matches hbtop:", [(p["name"], p["state"]) for p in w["producers"]])
PY

# the page: built in, nothing from outside, read-only
curl -fsS -D "$T/h.txt" -o "$T/index.html" "$WEB_URL/"
grep -qi '^content-security-policy: default-src .self.' "$T/h.txt" || hb_fail "no CSP on the page"
for f in index.html common.js app.js style.css timeline.html timeline.js; do
	curl -fsS -o "$T/$f" "$WEB_URL/$f" || hb_fail "/$f not served"
	cmp -s "$T/$f" "$ROOT/consumers/web/assets/$f" || hb_fail "/$f differs from the source"
	! grep -Eq '(src|href)="(https?:)?//' "$T/$f" || hb_fail "/$f names an outside URL"
done
[ "$(code -X POST "$WEB_URL/state.json")" = 405 ] || hb_fail "POST not refused with 405"
[ "$(code -X DELETE "$WEB_URL/")" = 405 ] || hb_fail "DELETE not refused with 405"
[ "$(code "$WEB_URL/nope")" = 404 ] || hb_fail "no 404 for an unknown path"
[ "$(code "$WEB_URL/producer.json")" = 400 ] || hb_fail "no 400 without ?ring="
[ "$(code "$WEB_URL/producer.json?ring=nope")" = 404 ] || hb_fail "no 404 for an unknown ring"
[ "$(code "$WEB_URL/timeline.json")" = 404 ] || hb_fail "a timeline without --replay"
[ "$(code -I "$WEB_URL/state.json")" = 200 ] || hb_fail "HEAD refused"
# requests libmicrohttpd cannot parse are answered 400 or closed, and
# hbweb serves on
for req in 'GARBAGE\r\n\r\n' 'GET / HTTP/1.1\r\nHost: x\r\nBad header\r\n\r\n' \
	"GET /$(head -c 20000 /dev/zero | tr '\0' a) HTTP/1.1\r\nHost: x\r\n\r\n"; do
	printf "$req" | timeout 5 "$PY" -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(sys.stdin.buffer.read())
print((s.recv(100).split(b"\r\n")[0] or b"closed").decode())' "${WEB_URL##*:}" >"$T/garbage.txt"
	grep -Eq ' 4[0-9][0-9] |^closed$' "$T/garbage.txt" || hb_fail "bad request answered: $(cat "$T/garbage.txt")"
	hb_log "bad request: $(cat "$T/garbage.txt")"
done
[ "$(code "$WEB_URL/state.json")" = 200 ] || hb_fail "not serving after garbage"

web_stop

# offline: byte for byte hbtop's snapshot of the same archive
kill -TERM "${hb_pids[2]}"
hb_wait_for 20 "httpb exited" has_state "$A" httpb exited
hb_collector_stop
web_start --replay "$A"
hb_wait_for 20 "/state.json (replay)" curl -fs -o "$T/off.json" "$WEB_URL/state.json"
"$BIN/hbtop" -b -n 1 -o json "$A" >"$T/top-off.json"
cmp "$T/off.json" "$T/top-off.json" || hb_fail "offline /state.json differs from hbtop -b -o json"
grep -q '"name":"httpb"' "$T/off.json" || hb_fail "httpb missing from the snapshot"
web_stop

# addresses and options
rc=0
"$BIN/hbweb" --dir "$A" --listen 0.0.0.0:0 2>"$T/remote.err" || rc=$?
[ $rc = 2 ] || hb_fail "non-loopback --listen: exit $rc, want 2"
grep -q "not a loopback address.*--allow-remote" "$T/remote.err" || hb_fail "$(cat "$T/remote.err")"
rc=0
"$BIN/hbweb" --dir "$A" --listen 127.0.0.1:notaport 2>"$T/bad.err" || rc=$?
[ $rc = 2 ] && grep -q "bad address" "$T/bad.err" || hb_fail "bad --listen: exit $rc"
rc=0
"$BIN/hbweb" --interval-ms 5 2>/dev/null || rc=$?
[ $rc = 2 ] || hb_fail "--interval-ms 5: exit $rc, want 2"
rc=0
"$BIN/hbweb" "$A" 2>"$T/path.err" || rc=$?
[ $rc = 2 ] && grep -q "with --replay" "$T/path.err" || hb_fail "a path without --replay: exit $rc"
"$BIN/hbweb" --help | grep -q -- "--allow-remote" || hb_fail "--help"
echo "hbweb_http: /state.json equals hbtop's JSON (offline, $(wc -c <"$T/off.json") bytes); HTTP checks passed"
