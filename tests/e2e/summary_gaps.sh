#!/usr/bin/env bash
# hbcat --summary aggregates sequence gaps: a producer that overflows its
# ring writes thousands of small gaps; the summary gives their total, the
# ranges of gaps less than 1 s apart and the largest five, in a few lines,
# all exact against the gap records a stock msgpack reader finds; --gaps
# lists every one.
set -euo pipefail
source "$(dirname "$0")/common.bash"
hb_need hbcollect hbload hbcat

dir="$T/arch"
hb_collector_start "$dir"
hb_collector_ready "$dir"
"$BIN/hbload" --bus "$BUS" --producers 1 --records 400000 --ring-kb 64 --name shed \
	>"$T/load.out" 2>"$T/load.err" || hb_fail "hbload: $(cat "$T/load.err")"
hb_collector_stop

# what the archive holds, read with python3-msgpack: gaps of shed-0
"$PY" - "$dir" >"$T/want" <<'PY'
import glob, msgpack, sys
gaps = []
for f in sorted(glob.glob(sys.argv[1] + "/hb-*.msgpack")):
    p = None
    with open(f, "rb") as fh:
        for o in msgpack.Unpacker(fh, raw=False):
            if isinstance(o, dict) and o.get("k") == "producer" and o["name"] == "shed-0":
                p = o["p"]
            elif isinstance(o, dict) and o.get("k") == "gap" and o.get("p") == p:
                gaps.append((o["ts"].to_unix_nano(), o["from"], o["to"], o["n"], o["why"]))
ranges = []
for t, fr, to, n, why in gaps:
    if ranges and t <= ranges[-1][1] + 1000000000:
        r = ranges[-1]
        r[1] = t; r[2] = min(r[2], fr); r[3] = max(r[3], to); r[4] += 1; r[5] += n
    else:
        ranges.append([t, t, fr, to, 1, n])
largest = sorted(gaps, key=lambda g: -g[3])[0]
print(len(gaps), sum(g[3] for g in gaps), len(ranges), largest[3])
for r in ranges[:10]:
    print("  gaps %d..%d: %d gap%s, %d records overflow," % (r[2], r[3], r[4], "" if r[4] == 1 else "s", r[5]))
PY
read -r ngaps dropped nranges big <"$T/want"
hb_log "archive: $ngaps gaps, $dropped dropped, $nranges ranges, largest $big"
[ "$ngaps" -ge 50 ] || hb_fail "only $ngaps gaps: the ring did not overflow enough for the test"

"$BIN/hbcat" --summary -p shed-0 "$dir" >"$T/sum"
grep -q "gaps $ngaps  dropped $dropped  lost 0" "$T/sum" || hb_fail "totals: $(grep '  seq' "$T/sum")"
grep -q "^  gap ranges $nranges (gaps less than 1 s apart merged)$" "$T/sum" ||
	hb_fail "ranges: $(grep 'gap ranges' "$T/sum")"
tail -n +2 "$T/want" | while IFS= read -r line; do
	grep -qF -- "$line" "$T/sum" || hb_fail "no range line '$line' in the summary"
done
grep -q "^  largest [0-9]*\.\.[0-9]* n=$big overflow$" "$T/sum" || hb_fail "largest: $(grep largest "$T/sum")"
[ "$(grep -c '^  next ' "$T/sum")" -eq 4 ] || hb_fail "want the 4 next largest"
[ "$(grep -c '^  gap [0-9]' "$T/sum")" -eq 0 ] || hb_fail "the summary lists single gaps"
lines=$(wc -l <"$T/sum")
[ "$lines" -le 40 ] || hb_fail "summary of $ngaps gaps is $lines lines long"
# the full list on request, and in JSON
"$BIN/hbcat" --summary --gaps -p shed-0 "$dir" >"$T/all"
[ "$(grep -c '^  gap [0-9]*\.\.[0-9]* n=[0-9]* overflow$' "$T/all")" -eq "$ngaps" ] ||
	hb_fail "--gaps lists $(grep -c '^  gap [0-9]' "$T/all") of $ngaps gaps"
"$BIN/hbcat" --summary -o json -p shed-0 "$dir" | "$PY" -c '
import json, sys
p = json.load(sys.stdin)["producers"][0]
ng, nr, big = map(int, sys.argv[1:])
assert p["gap_count"] == ng and len(p["gaps"]) == ng, (p["gap_count"], len(p["gaps"]))
assert len(p["gap_ranges"]) == nr and sum(r["gaps"] for r in p["gap_ranges"]) == ng
assert p["largest_gaps"][0]["n"] == big and len(p["largest_gaps"]) == 5
' "$ngaps" "$nranges" "$big" || hb_fail "JSON summary"
echo "ok summary_gaps: $ngaps gaps in $nranges ranges, $lines summary lines"
