#!/usr/bin/env bash
# hbreplay keeps the recorded pace times --speed: 2 s of traffic at
# --speed 4 take about 0.5 s (generous bounds), --max does not wait.
set -euo pipefail
BUILD=${BUILD:-build}
BIN=$(cd "$BUILD/bin" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# 2 producers, 1000 events each 2 ms apart: 2 s of recorded time
/usr/bin/python3 "$HERE/lib/mkarchive.py" "$T/a" --producers 2 --records 1001 --files 2 --step-ns 2000000

elapsed() { # command... -> milliseconds
	local t0 t1
	t0=$(date +%s%N)
	"$@" > /dev/null
	t1=$(date +%s%N)
	echo $(( (t1 - t0) / 1000000 ))
}
ms=$(elapsed timeout 60 "$BIN/hbreplay" -n --speed 4 "$T/a")
echo "speed 4: ${ms} ms"
[ "$ms" -gt 300 ] && [ "$ms" -lt 1500 ] || { echo "FAIL: --speed 4 took ${ms} ms"; exit 1; }
ms=$(elapsed timeout 60 "$BIN/hbreplay" -n --speed 40 "$T/a")
echo "speed 40: ${ms} ms"
[ "$ms" -lt 1000 ] || { echo "FAIL: --speed 40 took ${ms} ms"; exit 1; }
echo "ok replay_pacing"
