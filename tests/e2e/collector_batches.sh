#!/usr/bin/env bash
# The events a pass drains from one ring go into the archive as batches
# (docs/FORMAT.md, element 0 = 3) that state the producer, first sequence
# number and time once: four rings filled before the collector starts,
# 20,000 events each, come out in batches of hundreds of events, never one
# batch per event, and the archive holds each event exactly once.
set -euo pipefail
source "$(dirname "$0")/common.bash"
hb_need hbcollect hbload hbcat

"$BIN/hbload" --bus "$BUS" --producers 4 --records 20000 --ring-kb 8192 --json \
	>"$T/load.json" 2>"$T/load.err" || hb_fail "hbload exited $?: $(tail -n 5 "$T/load.err")"
dir="$T/archive"
hb_collector_start "$dir"
hb_wait_for 30 "the collector to drain the four rings" \
	bash -c "! compgen -G '/dev/shm/hb.$BUS.load-*' >/dev/null"
hb_collector_stop

"$PY" - "$dir" "$T/load.json" <<'PY'
import collections, glob, json, sys, msgpack
load = json.load(open(sys.argv[2]))
assert load["committed"] == 80000 and load["dropped"] == 0, load
names, batches, seqs, singles = {}, collections.Counter(), collections.defaultdict(list), 0
for f in sorted(glob.glob(sys.argv[1] + "/hb-*.msgpack")):
    with open(f, "rb") as fh:
        for o in msgpack.Unpacker(fh, raw=False, strict_map_key=False):
            if isinstance(o, dict) and o.get("k") == "producer":
                names[o["p"]] = o["name"]
            elif isinstance(o, list) and o[0] == 3:  # [3, p, seq0, ts0, events...]
                batches[o[1]] += 1
                seqs[o[1]].extend(range(o[2], o[2] + len(o) - 4))
            elif isinstance(o, list) and o[0] == 1:
                singles += 1
load_ps = [p for p, n in names.items() if n.startswith("load-")]
assert len(load_ps) == 4, names
assert singles == 0, "%d events written alone" % singles
for p in load_ps:
    s = seqs[p]
    assert len(s) == 20000 and len(set(s)) == 20000, "%s: %d events, %d distinct" % (names[p], len(s), len(set(s)))
    per = len(s) / batches[p]
    print("%s: %d events in %d batches (%.0f a batch)" % (names[p], len(s), batches[p], per))
    assert per >= 100, "%s: %.1f events a batch" % (names[p], per)
PY
echo "ok"
