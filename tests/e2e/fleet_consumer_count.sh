#!/usr/bin/env bash
# The consumer API on a fleet tree (hb-count, the example): given FLEETDIR
# it dispatches every host's records, exactly hbload's counts per host and
# type; --host GLOB keeps exactly the matching hosts' records.
# hb-test-timeout: 180
set -euo pipefail
source "$(dirname "$0")/common.bash"
source "$(dirname "$0")/fleet_common.bash"
source "$(dirname "$0")/fleet_reader_common.bash"
hb_need hbcollect hbload hbship hbsink hbcat hb-count

hb_fleet_build 3 2 3000
"$BIN/hbcat" -o json "$T/fleet" >"$T/tree.jsonl" || hb_fail "hbcat on the tree exited $?"
hb_fleet_events "$T/tree.jsonl" >"$T/tree.counts"
cat "$T/tree.counts"
timeout 60 "$BIN/hb-count" "$T/fleet" >"$T/all.out" || hb_fail "hb-count exited $?"
timeout 60 "$BIN/hb-count" --host 'h[02]' "$T/fleet" >"$T/h02.out" || hb_fail "hb-count --host exited $?"
cat "$T/all.out" "$T/h02.out"
"$PY" - "$T" <<'PY' || hb_fail "hb-count on the fleet tree"
import json, re, sys
t = sys.argv[1]
committed, hb = {}, {}
for line in open(t + "/tree.counts"):
    h, p, ev, beats = line.split()
    hb[h] = hb.get(h, 0) + int(beats)
for i in range(3):
    j = json.load(open("%s/load.h%d.json" % (t, i)))
    assert j["dropped"] == 0, "h%d dropped %d" % (i, j["dropped"])
    committed["h%d" % i] = j["committed"]
def parse(path):
    out = {"types": {}, "hosts": {}}
    for line in open(path):
        f = line.split()
        if f[0] == "type":
            out["types"][f[1]] = int(f[2])
        elif f[0] == "host":
            out["hosts"][f[1]] = (int(f[3]), int(f[5]))
        elif f[0] == "heartbeats":
            out["heartbeats"] = int(f[1])
    return out
def check(path, hosts):
    got = parse(path)
    want = {h: (committed[h], hb[h]) for h in hosts}
    assert got["hosts"] == want, "%s: per host %s, want %s" % (path, got["hosts"], want)
    # hbload's event n has type n % 3: per producer ceil/floor thirds
    per = {k: 0 for k in ("load.order", "load.fill", "load.note")}
    for h in hosts:
        for k, name in enumerate(per):
            per[name] += 2 * len(range(k, 3000, 3))
    assert got["types"] == per, "%s: per type %s, want %s" % (path, got["types"], per)
    assert got["heartbeats"] == sum(hb[h] for h in hosts)
check(t + "/all.out", ["h0", "h1", "h2"])
check(t + "/h02.out", ["h0", "h2"])
print("hb-count: exact per host and type on the tree and with --host h[02]")
PY
echo "ok"
