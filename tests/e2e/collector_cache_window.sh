#!/usr/bin/env bash
# --cache-window: the collector keeps only about that much of its archive
# in the page cache, starting writeback and dropping the rest as it goes;
# with --cache-window 0 the kernel keeps it all. Either way the archive
# holds every committed record exactly once.
set -euo pipefail
source "$(dirname "$0")/common.bash"
hb_need hbcollect hbload hbcat
command -v fincore >/dev/null || hb_fail "fincore (util-linux) is missing"

# resident FILE: bytes of FILE in the page cache
resident() { fincore --bytes --noheadings --output RES "$1" | tr -d ' '; }

# run WINDOW: one file of about 110 MB written through the collector
run() {
	local window=$1 dir="$T/archive-$1"
	hb_collector_start "$dir" --cache-window "$window" --rotate-size 0 --fsync never
	hb_collector_ready "$dir"
	"$BIN/hbload" --bus "$BUS" --producers 4 --records 1000000 --ring-kb 8192 --block \
		--json >"$T/load-$window.json" 2>"$T/load-$window.err" ||
		hb_fail "hbload exited $?: $(tail -n 5 "$T/load-$window.err")"
	hb_collector_stop
	files=("$dir"/hb-*.msgpack)
	[ ${#files[@]} -eq 1 ] || hb_fail "expected one archive file, got ${#files[@]}"
	size=$(stat -c %s "${files[0]}")
	res=$(resident "${files[0]}") # before hbcat reads it all back in
	hb_log "--cache-window $window: file $size bytes, $res in the page cache"
	"$BIN/hbcat" --summary -o json "$dir" >"$T/summary-$window.json" 2>"$T/hbcat-$window.err" ||
		hb_fail "hbcat exited $?: $(tail -n 5 "$T/hbcat-$window.err")"
	"$PY" - "$T/load-$window.json" "$T/summary-$window.json" <<'PY'
import json, sys
load = json.load(open(sys.argv[1]))
assert load["committed"] == 4000000 and load["dropped"] == 0, load
s = json.load(open(sys.argv[2]))
ps = [p for p in s["producers"] if p["name"].startswith("load-")]
assert len(ps) == 4, "%d load producers in the archive" % len(ps)
for p in ps:
    assert p["events"] == 1000000 and p["duplicates"] == 0 and p["gap_count"] == 0, p["name"]
PY
}

run 0
[ "$res" -ge $((size * 9 / 10)) ] ||
	hb_fail "--cache-window 0: only $res of $size bytes cached (the kernel should keep them)"
sync # the first run's writeback is not the second's
run 16M
# each 8 MiB chunk is dropped once it is on disk and 16 MiB follow it; a
# slow disk may hold back some, never most
[ "$res" -le $((size / 2)) ] ||
	hb_fail "--cache-window 16M: $res of $size bytes still in the page cache"
echo "ok"
