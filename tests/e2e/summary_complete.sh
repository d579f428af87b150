#!/usr/bin/env bash
# hbcat --summary (text and JSON): per producer and per type counts, time
# span, rates, heartbeat gaps, liveness transitions, corrupt byte ranges;
# of a version 1.1 archive (single events) and of a 2.0 one (event batches).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

# summary_of FORMAT: the checks on an archive mkarchive.py writes in FORMAT
summary_of()
{
	local fmt=$1 a="$T/a$1" f rc=0
	# heartbeats every 200 ms with a 100 ms interval: every gap is late
	/usr/bin/python3 "$LIBDIR/mkarchive.py" "$a" --producers 2 --records 1000 --files 2 \
		--step-ns 2000000 --states 1:late:300,1:healthy:400,2:exited:999 --format "$fmt"
	f=$(ls "$a"/*.msgpack | head -1)
	printf '\xc1\xc1\xc1\xc1' | dd of="$f" bs=1 seek=20000 conv=notrunc status=none
	"$BIN/hbcat" --summary -o json "$a" > "$T/sum.json" 2> "$T/err" || rc=$?
	[ "$rc" -eq 1 ] || { echo "FAIL: format $fmt: exit $rc on a damaged archive, want 1"; exit 1; }
	/usr/bin/python3 - "$T/sum.json" "$fmt" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
p = {x["name"]: x for x in d["producers"]}
def check(cond, what):
    if not cond:
        sys.exit("FAIL: format %s: %s" % (sys.argv[2], what))
check(set(p) == {"syn-0", "syn-1"}, "producers %s" % sorted(p))
for name, x in p.items():
    check(x["heartbeat_interval_ms"] == 100, name + " interval")
    check(abs(x["heartbeat_max_gap_s"] - 0.2) < 1e-6, name + " max gap")
    check(x["heartbeat_late_gaps"] >= 8 and len(x["heartbeat_gaps"]) == x["heartbeat_late_gaps"], name + " late gaps")
    check(x["rate"] > 0 and x["span_s"] > 1.9, name + " span/rate")
    check(sum(x["types"].values()) == x["events"] if isinstance(x["types"], dict) else True, name + " types")
check([s["state"] for s in p["syn-0"]["states"]] == ["late", "healthy"], "syn-0 states")
check([s["state"] for s in p["syn-1"]["states"]] == ["exited"], "syn-1 states")
check(len(d["damage"]) >= 1 and any(x["offset"] <= 20000 + 4 for x in d["damage"]), "damage %s" % d["damage"])
print("summary ok (format %s):" % sys.argv[2], {n: (x["events"], x["heartbeat_late_gaps"]) for n, x in p.items()}, "damage", len(d["damage"]))
PY
	"$BIN/hbcat" --summary "$a" > "$T/sum.txt" 2>/dev/null || true
	grep -q 'heartbeat interval 100 ms  max gap 0.200 s' "$T/sum.txt" ||
		{ cat "$T/sum.txt"; echo "FAIL: format $fmt: text summary"; exit 1; }
}

summary_of 1.1
summary_of 2.0
echo "ok summary_complete"
