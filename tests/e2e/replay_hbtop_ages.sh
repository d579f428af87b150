#!/usr/bin/env bash
# hbtop --replay measures heartbeat ages on the replay clock, in the
# archive's time, not from now: replaying an archive recorded days ago,
# every snapshot's time lies within the archive, and every age shown is
# that time minus one of the producer's recorded heartbeats (not days).
# As fast as possible (--max), the ages are those at the archive's end.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
[ -x "$BIN/hbtop" ] && [ -x "$BIN/hbcat" ] || exit 77

# 2 producers, 2 s of recorded time (from --t0, 2026-11-23), a heartbeat
# every 100 records (0.2 s)
/usr/bin/python3 "$LIBDIR/mkarchive.py" "$T/a" --producers 2 --records 1000 --files 2 \
	--step-ns 2000000
"$BIN/hbcat" -o json "$T/a" > "$T/records.json"
timeout 60 "$BIN/hbtop" --replay --speed 1 -b -o json -d 0.2s "$T/a" > "$T/paced.json"
timeout 60 "$BIN/hbtop" --replay --max -b -o json "$T/a" > "$T/max.json"
/usr/bin/python3 - "$T/records.json" "$T/paced.json" "$T/max.json" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
hbs = {}
for r in recs:
    if r["k"] == "heartbeat":
        hbs.setdefault(r["producer"], []).append(r["ts_ns"])
t_first = min(r["ts_ns"] for r in recs if r["k"] in ("event", "heartbeat"))
t_last = max(r["ts_ns"] for r in recs if r["k"] in ("event", "heartbeat"))
assert sorted(hbs) == ["syn-0", "syn-1"], sorted(hbs)

def check(snap, what):
    now = snap["ts_ns"]
    n = 0
    for p in snap["producers"]:
        age = p["hb_age_s"]
        if age is None:
            continue
        n += 1
        # the age is now minus a recorded heartbeat, to the printed 1 ms
        if not any(abs(age - (now - h) / 1e9) < 0.0006 for h in hbs[p["name"]] if h <= now):
            sys.exit("FAIL: %s: %s age %.3f s at %d is no recorded heartbeat's age"
                     % (what, p["name"], age, now))
    return n

paced = [json.loads(l) for l in open(sys.argv[2])]
ages = 0
for s in paced:
    if not s["producers"]:
        continue  # before the first record
    # the clock runs in the archive's time (not now: days after it)
    if not t_first <= s["ts_ns"] <= t_last + 3600 * 10**9:
        sys.exit("FAIL: paced snapshot at %d, the archive spans %d..%d" % (s["ts_ns"], t_first, t_last))
    ages += check(s, "paced")
if ages == 0:
    sys.exit("FAIL: the paced replay showed no heartbeat age")
last = [json.loads(l) for l in open(sys.argv[3])][-1]
if last["ts_ns"] != t_last:
    sys.exit("FAIL: --max ends at %d, the archive at %d" % (last["ts_ns"], t_last))
if check(last, "max") != 2:
    sys.exit("FAIL: --max shows ages of %s" % [p["hb_age_s"] for p in last["producers"]])
for p in last["producers"]:  # exactly: the end minus its last heartbeat
    want = (t_last - max(hbs[p["name"]])) / 1e9
    if abs(p["hb_age_s"] - want) > 0.0006:
        sys.exit("FAIL: --max: %s age %.3f s, want %.3f" % (p["name"], p["hb_age_s"], want))
print("ages: %d paced ages checked in %d snapshots; at the end %s" %
      (ages, len(paced), [(p["name"], p["hb_age_s"]) for p in last["producers"]]))
PY
echo "ok replay_hbtop_ages"
