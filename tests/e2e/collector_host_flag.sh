#!/usr/bin/env bash
# hbcollect --host NAME: every file header and every producer record of the
# archive states NAME (not the machine's or the producer's host name), the
# archive is version 2.3 and otherwise what hbload wrote; an invalid name is
# a usage error (exit 2) that names the flag.
set -euo pipefail
source "$(dirname "$0")/common.bash"
hb_need hbcollect hbload

rc=0
"$BIN/hbcollect" --bus "$BUS" --dir "$T/bad" --host 'a/b' 2>"$T/bad.err" || rc=$?
[ $rc -eq 2 ] || hb_fail "--host a/b exited $rc, want 2"
grep -q -- "--host" "$T/bad.err" || hb_fail "error does not name --host: $(cat "$T/bad.err")"

host="fleet-h1.example"
[ "$(hostname)" != "$host" ] || hb_fail "the test host is named $host"
dir="$T/archive"
t0=$(date +%s%N)
hb_collector_start "$dir" --host "$host" --rotate-size 64k
"$BIN/hbload" --bus "$BUS" --producers 2 --records 5000 --rate 20000 --interval-ms 100 \
	--json >"$T/load.json" 2>"$T/load.err" ||
	hb_fail "hbload exited $?: $(tail -n 5 "$T/load.err")"
hb_collector_stop
t1=$(date +%s%N)
n=$(ls "$dir"/hb-*.msgpack | wc -l)
[ "$n" -ge 2 ] || hb_fail "want a rotated archive, got $n files"
"$PY" "$E2E/read_archive.py" "$dir" "$T/load.json" "$BUS" "$t0" "$t1" --version 2.3 \
	--host "$host"
echo "ok"
