#!/usr/bin/env bash
# Bad input on the stream: messages that are not ours (not msgpack, another
# application's map), a truncated fleet message, hostile ones (a host or
# ring that would leave the fleet tree, a record of another producer, a
# huge array length, event batches with a bad event, of another producer
# or cut short) are each reported by hbsink with their stream
# sequence and skipped; nothing of them is written, the sink keeps going
# and the good traffic around them is all there, exactly once.
# hb-test-timeout: 120
set -euo pipefail
source "$(dirname "$0")/common.bash"
source "$(dirname "$0")/fleet_common.bash"
hb_need hbcollect hbload hbship hbsink hbcat
cc -O1 -g "$E2E/nats_pub.c" -lnats -o "$T/nats_pub" || hb_fail "cannot build nats_pub"

hb_nats_start 1
hb_sink_start
hb_host_start 0
hb_ship_start 0
"$BIN/hbload" --bus "${HOST_BUS[0]}" --producers 2 --seconds 4 --rate 2000 --interval-ms 200 \
	--json >"$T/load.json" 2>/dev/null &
load=$!
sleep 1.5

"$PY" - "$T/bad" <<'PY'
import os, sys, msgpack
d = sys.argv[1]
os.makedirs(d)
ts = msgpack.Timestamp.from_unix_nano(1796000000000000000)
def ship(host="evil", bus="b", v=1):
    return msgpack.packb({"k": "ship", "magic": "hb-ship", "version": [v, 0], "host": host,
                          "bus": bus, "n": 1})
def prod(ring="hb.b.x.1.0", p=1):
    return msgpack.packb({"k": "producer", "why": "shipped", "p": p, "ts": ts, "name": "x",
                          "pid": 1, "tid": 1, "thread": "", "host": "evil", "ring": ring,
                          "start": ts, "interval_ms": 1000, "types": [], "metrics": [],
                          "seq_next": 1})
ev = msgpack.packb([2, 1, 0, ts, "ok", 1, 1000, None])
good = ship() + prod() + ev
bad = {
    "1-not-msgpack": b"hello, world\n",
    "2-foreign-map": msgpack.packb({"k": "order", "id": 7}),
    "3-truncated": good[:len(good) - 5],
    "4-host-escape": ship(host="..") + prod() + ev,
    "5-ring-slash": ship() + prod(ring="../../etc/x") + ev,
    "6-other-producer": ship() + prod() + msgpack.packb([2, 9, 0, ts, "ok", 1, 1000, None]),
    "7-huge-array": ship() + prod() + b"\xdd\x7f\xff\xff\xff\x01",
    "8-batch-bad-event": ship(v=2) + prod() + msgpack.packb([3, 1, 0, ts, [0, 1, 1, None], 7]),
    "9-batch-other-producer": ship(v=2) + prod() + msgpack.packb([3, 9, 0, ts, [0, 1, 1, None]]),
    "10-batch-cut": ship(v=2) + prod() + msgpack.packb([3, 1, 0, ts, [0, 1, 1, None], [5, 1, 1, None]])[:-6],
}
for name, data in bad.items():
    open(os.path.join(d, name), "wb").write(data)
PY
"$T/nats_pub" "$NATS_URLS" hb.evil.b "$T"/bad/* >"$T/bad.seqs" || hb_fail "nats_pub exited $?"
wait "$load" || hb_fail "hbload exited $?"
hb_host_stop 0
hb_fleet_drain 0
cat "$T/sink.log"
for seq in $(cat "$T/bad.seqs"); do
	n=$(grep -c "stream HB sequence $seq (subject hb.evil.b, .*skipped" "$T/sink.log" || true)
	[ "$n" -eq 1 ] || hb_fail "stream sequence $seq reported $n times, want once"
done
n=$(grep -c "; skipped$" "$T/sink.log")
[ "$n" -eq 10 ] || hb_fail "$n messages reported as skipped, want 10"
grep -q " 10 bad messages skipped" "$T/sink.log" || hb_fail "the sink's count of bad messages"
[ "$(ls "$T/fleet")" = h0 ] || hb_fail "the fleet tree holds more than h0: $(ls -a "$T/fleet")"
[ ! -e "$T/etc" ] && [ ! -e "$T/fleet/evil" ] || hb_fail "a hostile message wrote outside h0"
hb_fleet_check 0 "$T/load.json"
echo "ok"
