#!/usr/bin/env bash
# Three hosts (three collectors with --host, four hbload producers each, an
# hbship each) ship into a three-server JetStream cluster (stream R3), one
# hbsink writes the fleet archive: per host and producer it holds exactly
# the records hbload committed, each once, drops as gaps, read back by hbcat
# and by the stock Python msgpack reader.
# hb-test-timeout: 240
set -euo pipefail
source "$(dirname "$0")/common.bash"
source "$(dirname "$0")/fleet_common.bash"
hb_need hbcollect hbload hbship hbsink hbcat

hb_nats_start 3
hb_sink_start --rotate-size 256k
for i in 0 1 2; do
	hb_host_start "$i" --rotate-size 256k
	hb_ship_start "$i" --replicas 3
done
loads=()
for i in 0 1 2; do
	"$BIN/hbload" --bus "${HOST_BUS[$i]}" --producers 4 --records 10000 --rate 10000 \
		--ring-kb 64 --interval-ms 100 --json >"$T/load.h$i.json" 2>"$T/load.h$i.err" &
	loads+=($!)
done
for p in "${loads[@]}"; do
	wait "$p" || hb_fail "hbload exited $?"
done
for i in 0 1 2; do
	hb_host_stop "$i"
	hb_log "h$i: $(cat "$T/load.h$i.json")"
done
# the shippers follow to the end of the archives; --once then confirms
hb_fleet_drain 0 1 2
cat "$T/sink.log"
for i in 0 1 2; do
	hb_fleet_check "$i" "$T/load.h$i.json"
done
grep -q "0 bad messages" "$T/sink.log" || hb_fail "the sink skipped messages"
# the whole tree like a directory: every host's records, merged in time
# order, each JSON line with its host; --host GLOB keeps those hosts
"$BIN/hbcat" -o json "$T/fleet" >"$T/tree.jsonl" || hb_fail "hbcat on the fleet tree exited $?"
"$BIN/hbcat" -o json --host 'h[02]' "$T/fleet" >"$T/tree02.jsonl" || hb_fail "hbcat --host exited $?"
"$PY" - "$T" <<'PY' || hb_fail "hbcat on the fleet tree"
import json, sys
t = sys.argv[1]
def load(path):
    return [json.loads(l) for l in open(path)]
def key(r):
    return (r.get("host"), r.get("producer"), r.get("pid"), r.get("k"), r.get("seq"))
tree, tree02 = load(t + "/tree.jsonl"), load(t + "/tree02.jsonl")
per = {h: load("%s/fleet.h%d.jsonl" % (t, i)) for i, h in enumerate(("h0", "h1", "h2"))}
recs = lambda rs: sorted(key(r) for r in rs if r["k"] in ("event", "heartbeat"))
assert all("host" in r for r in tree if r.get("producer")), "a JSON line without host"
for h, rs in per.items():
    assert all(r["host"] == h for r in rs if r.get("producer")), "wrong host in " + h
want = sorted(sum((recs(rs) for rs in per.values()), []))
assert recs(tree) == want, "the tree's records are not the hosts' records"
assert recs(tree02) == sorted(recs(per["h0"]) + recs(per["h2"])), "--host h[02]"
ts = [r["ts_ns"] for r in tree]
back = sum(1 for a, b in zip(ts, ts[1:]) if b < a)
assert back == 0, "%d records out of time order" % back
print("fleet tree: %d records of 3 hosts in time order, %d of h0 and h2" % (len(tree), len(tree02)))
PY
echo "ok"
