#!/usr/bin/env bash
# Valgrind memcheck on the tools' main paths: hbcollect draining producers
# and stopping on SIGTERM, hbcat reading the archive (text, JSON, msgpack,
# summary). Any memcheck error or definite leak fails the test.
# Not part of sanitizer suites: valgrind does not run sanitizer builds.
# hb-test-sanitizers: no
set -euo pipefail
source "$(dirname "$0")/common.bash"
hb_need hbcollect hbload hbcat
command -v valgrind >/dev/null || {
	echo "valgrind is not installed"
	exit 77
}
vg=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect
	--show-leak-kinds=definite,indirect)

dir="$T/archive"
hb_spawn /dev/null "$T/collector.vg.log" "${vg[@]}" "$BIN/hbcollect" --bus "$BUS" --dir "$dir" \
	--rotate-size 64k
COLLECTOR_PID=$!
hb_wait_for 60 "hbcollect under valgrind to start" grep -q "collecting bus" "$T/collector.vg.log"
"$BIN/hbload" --bus "$BUS" --producers 2 --records 3000 --rate 3000 --json >"$T/load.json"
drained() { [ "$(grep -c 'load-.*exited' "$T/collector.vg.log")" -eq 2 ]; }
hb_wait_for 60 "the producers to be drained" drained
kill -TERM "$COLLECTOR_PID"
rc=0
hb_wait_exit "$COLLECTOR_PID" 120 || rc=$?
[ $rc -eq 0 ] || {
	cat "$T/collector.vg.log" >&2
	hb_fail "hbcollect under valgrind exited $rc (99: memcheck errors)"
}
runs=1
for out in text json msgpack; do
	rc=0
	"${vg[@]}" "$BIN/hbcat" -o $out "$dir" >"$T/out.$out" 2>"$T/hbcat.$out.err" || rc=$?
	[ $rc -eq 0 ] || {
		cat "$T/hbcat.$out.err" >&2
		hb_fail "hbcat -o $out under valgrind exited $rc"
	}
	runs=$((runs + 1))
done
rc=0
"${vg[@]}" "$BIN/hbcat" --summary "$dir" >"$T/summary" 2>"$T/hbcat.summary.err" || rc=$?
[ $rc -eq 0 ] || {
	cat "$T/hbcat.summary.err" >&2
	hb_fail "hbcat --summary under valgrind exited $rc"
}
runs=$((runs + 1))
"$PY" "$E2E/check_load.py" "$T/out.json" --load "$T/load.json" >/dev/null
echo "valgrind: runs=$runs memcheck_errors=0 definite_leaks=0 files=$(ls "$dir" | wc -l)"
echo "ok"
