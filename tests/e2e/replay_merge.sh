#!/usr/bin/env bash
# hbreplay merges records split across rotated files and interleaved by
# producer batches into one stream in timestamp order, losing none.
set -euo pipefail
BUILD=${BUILD:-build}
BIN=$(cd "$BUILD/bin" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

/usr/bin/python3 "$HERE/lib/mkarchive.py" "$T/a" --producers 4 --records 2000 --files 5 --batch 37
timeout 60 "$BIN/hbreplay" --dry-run --max "$T/a" > "$T/out"

# 4 producers x (2000 events + 20 heartbeats)
n=$(wc -l < "$T/out")
[ "$n" -eq 8080 ] || { echo "FAIL: $n records, want 8080"; exit 1; }
# timestamps (column 2) never go back
awk 'NR > 1 && $2 < prev { print "FAIL: line " NR " goes back in time"; bad = 1 } { prev = $2 }
     END { exit bad }' "$T/out"
# per producer, sequence numbers in order and complete
for p in 0 1 2 3; do
	awk -v p="syn-$p" '$3 == p { sub("#", "", $4); if ($4 != want) { print "FAIL: " p " seq " $4 " want " want; exit 1 } want++ }
	     END { if (want != 2020) { print "FAIL: " p " has " want; exit 1 } }' want=0 "$T/out"
done
# filters: one producer, one type, a time window
n=$(timeout 60 "$BIN/hbreplay" -n --max -p syn-2 -t syn.b "$T/a" | wc -l)
# heartbeats are kept by -t (20 of them)
[ "$n" -eq 1020 ] || { echo "FAIL: filtered $n, want 1020"; exit 1; }
n=$(timeout 60 "$BIN/hbreplay" -n --max --since @1795450385.5 --until @1795450385.5999 "$T/a" | wc -l)
[ "$n" -ge 400 ] && [ "$n" -le 404 ] || { echo "FAIL: window $n"; exit 1; }
echo "ok replay_merge"
