#!/usr/bin/env bash
# hbtop --replay in batch mode shows, as the replay goes, the producer
# states the archive's bus records say: syn-0 late from 25% to 75% of the
# recording then healthy again, syn-1 exited at the end.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
[ -x "$BIN/hbtop" ] || exit 77

# 2 s of recording; the states follow the records they are written after
/usr/bin/python3 "$LIBDIR/mkarchive.py" "$T/a" --producers 3 --records 2000 --files 2 \
	--step-ns 1000000 --states 1:late:500,1:healthy:1500,2:exited:1999
timeout 60 "$BIN/hbtop" --replay --speed 2 -b -d 0.1s "$T/a" > "$T/out"
states() { awk -v p="$1" '$1 == p { print $3 }' "$T/out" | uniq | tr '\n' ' '; }
s0=$(states syn-0)
s1=$(states syn-1)
echo "syn-0: $s0"
echo "syn-1: $s1"
case "$s0" in *"late healthy "*) ;; *) echo "FAIL: syn-0 went $s0"; exit 1 ;; esac
[ "$(awk '$1 == "syn-0" { s = $3 } END { print s }' "$T/out")" = healthy ] || { echo "FAIL: syn-0 final"; exit 1; }
[ "$(awk '$1 == "syn-1" { s = $3 } END { print s }' "$T/out")" = exited ] || { echo "FAIL: syn-1 final"; exit 1; }
# the whole archive at once (--max) ends in the same states
timeout 60 "$BIN/hbtop" --replay --max -b "$T/a" > "$T/max"
grep -Eq '^syn-0 +1000 healthy' "$T/max" && grep -Eq '^syn-1 +1001 exited' "$T/max" || { cat "$T/max"; echo "FAIL: --max states"; exit 1; }
# bad speed: usage error
if "$BIN/hbtop" --replay --speed 0 -b "$T/a" 2> "$T/err"; then echo "FAIL: --speed 0 accepted"; exit 1; fi
grep -q -- '--speed' "$T/err"
echo "ok replay_hbtop"
