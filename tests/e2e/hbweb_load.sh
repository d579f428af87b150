#!/usr/bin/env bash
# 200 Server-Sent Events clients, a slowloris client (headers a byte at a
# time) and a client that never reads, all on hbweb while producers write
# through the collector: every record reaches the archive (exact count, no
# drops), every stream client keeps receiving in order to the end,
# /state.json still answers, and hbweb's memory stays bounded.
set -euo pipefail
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/web_common.bash"
hb_need hbcollect hbweb hbcat hbload

A="$T/archive"
hb_collector_start "$A"
# a sanitizer build keeps freed memory in quarantine (256 MiB by default):
# a small one, so that the memory bound below means the same there
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4"
web_start --bus "$BUS" --dir "$A" --interval-ms 100
# the stream gets going before the load starts
hb_wait_for 20 "/state.json" curl -fs -o /dev/null "$WEB_URL/state.json"

"$PY" - "${WEB_URL##*:}" "$WEB_PID" "$BIN/hbload" "$BUS" "$T/load.json" <<'PY'
import json, re, selectors, socket, subprocess, sys, time

port, pid, hbload, bus, loadout = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
N = 200
ID = re.compile(rb"(?:^|\n)id: (\d+)\n")

def rss_kb():
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

# HTTP/1.0: the stream comes without chunked framing, events as they are
sel = selectors.DefaultSelector()
clients = []
for i in range(N):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /stream HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
    s.setblocking(False)
    c = {"s": s, "buf": b"", "ids": [], "full": False, "head": None}
    sel.register(s, selectors.EVENT_READ, c)
    clients.append(c)
slow = socket.create_connection(("127.0.0.1", port))  # slowloris
slow_req = b"GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 400
deaf = socket.create_connection(("127.0.0.1", port))  # never reads
deaf.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
deaf.sendall(b"GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")

def pump(secs):
    end = time.time() + secs
    while time.time() < end:
        for key, _ in sel.select(0.05):
            c = key.data
            try:
                data = c["s"].recv(1 << 16)
            except BlockingIOError:
                continue
            if not data:
                sel.unregister(c["s"])
                c["closed"] = True
                continue
            c["buf"] += data
            if c["head"] is None and b"\r\n\r\n" in c["buf"]:
                c["head"], c["buf"] = c["buf"].split(b"\r\n\r\n", 1)
            if c["head"] is None:
                continue
            # whole events only
            cut = c["buf"].rfind(b"\n\n")
            if cut < 0:
                continue
            done, c["buf"] = c["buf"][:cut + 2], c["buf"][cut + 2:]
            if not c["ids"] and b'"full":true' in done.split(b"\n\n")[0]:
                c["full"] = True
            c["ids"] += [int(x) for x in ID.findall(done)]
            c["last"] = done.split(b"\n\n")[-2]

pump(2)
rss0 = rss_kb()
load = subprocess.Popen([hbload, "--bus", bus, "--producers", "2", "--records", "15000",
                         "--rate", "3000", "--block", "--interval-ms", "200", "--json"],
                        stdout=open(loadout, "w"))
sent = 0
t_end = time.time() + 60
while load.poll() is None and time.time() < t_end:
    if sent < len(slow_req):
        slow.send(slow_req[sent:sent + 1])  # one byte per round
        sent += 1
    pump(0.25)
assert load.poll() == 0, "hbload did not finish: %s" % load.poll()
marks = [len(c["ids"]) for c in clients]
pump(2)  # after the load: everyone still receives
rss1 = rss_kb()

# /state.json answers while the slowloris and the deaf client hang on
st = socket.create_connection(("127.0.0.1", port), timeout=10)
st.sendall(b"GET /state.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
resp = b""
while True:
    d = st.recv(1 << 16)
    if not d:
        break
    resp += d
assert resp.startswith(b"HTTP/1.1 200"), resp[:100]
state = json.loads(resp.split(b"\r\n\r\n", 1)[1])

for i, c in enumerate(clients):
    assert not c.get("closed"), "client %d was closed" % i
    assert re.match(rb"HTTP/1\.[01] 200 ", c["head"]) and b"text/event-stream" in c["head"], c["head"]
    assert c["full"], "client %d did not start from the full state" % i
    ids = c["ids"]
    assert ids == sorted(set(ids)), "client %d: ids out of order or repeated" % i
    assert len(ids) > marks[i], "client %d received nothing after the load" % i
    assert len(ids) >= 20, "client %d: only %d messages" % (i, len(ids))
got = [len(c["ids"]) for c in clients]
# the stream's own count: the 200 and the deaf one (the slowloris has not
# finished its request)
last = json.loads(clients[0]["last"].split(b"data: ", 1)[1])
print("hbweb_load: %d clients got %d..%d messages each; rss %d kB before the load, %d kB after; "
      "stream clients %d" % (N, min(got), max(got), rss0, rss1, last["g"]["web"]["clients"]))
assert last["g"]["web"]["clients"] == N + 1, last["g"]["web"]
assert rss1 < 96 * 1024, "hbweb rss %d kB" % rss1
assert rss1 - rss0 < 48 * 1024, "hbweb grew from %d to %d kB" % (rss0, rss1)
names = sorted(p["name"] for p in state["producers"])
assert names == ["hbcollect", "load-0", "load-1"], names
for c in clients:
    c["s"].close()
slow.close()
deaf.close()
PY

"$PY" - "$T/load.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["attempted"] == 30000 and d["committed"] == 30000 and d["dropped"] == 0, d
PY
events_in_archive() { [ "$("$BIN/hbcat" -e -o json "$A" 2>/dev/null | grep -c '"producer":"load-')" = 30000 ]; }
hb_wait_for 30 "30000 events in the archive" events_in_archive
hb_collector_stop
web_stop
echo "hbweb_load: 30000 records committed and archived, none dropped"
