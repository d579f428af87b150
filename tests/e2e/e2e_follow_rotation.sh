#!/usr/bin/env bash
# hbcat -f started before the collector (on an empty directory) follows the
# archive across at least three rotations and prints every record once.
set -euo pipefail
source "$(dirname "$0")/common.bash"
hb_need hbcollect hbload hbcat

dir="$T/archive"
mkdir -p "$dir"
hb_spawn "$T/follow.jsonl" "$T/follow.err" "$BIN/hbcat" -f -o json "$dir"
cat_pid=$!
sleep 0.5
hb_collector_start "$dir" --rotate-size 256k
"$BIN/hbload" --bus "$BUS" --producers 2 --records 100000 --rate 50000 --json >"$T/load.json" 2>"$T/load.err" ||
	hb_fail "hbload exited $?: $(tail -n 5 "$T/load.err")"
cat "$T/load.json"
hb_collector_stop

nfiles=$(find "$dir" -name 'hb-*.msgpack' | wc -l)
hb_log "$nfiles archive files"
[ "$nfiles" -ge 4 ] || hb_fail "only $nfiles archive files, expected >= 4 (rotate-size 256k)"

"$BIN/hbcat" -o json "$dir" >"$T/offline.jsonl" 2>"$T/offline.err" ||
	hb_fail "hbcat exited $?: $(tail -n 5 "$T/offline.err")"
want=$(wc -l <"$T/offline.jsonl")
hb_log "hbcat on the finished archive printed $want records"

# wait until the follower has printed as much (it may be buffering)
for ((i = 0; i < 600; i++)); do
	[ "$(wc -l <"$T/follow.jsonl")" -ge "$want" ] && break
	kill -0 "$cat_pid" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$cat_pid" 2>/dev/null || hb_fail "hbcat -f exited early: $(tail -n 5 "$T/follow.err")"
kill -INT "$cat_pid"
rc=0
hb_wait_exit "$cat_pid" 20 || rc=$?
[ $rc -eq 0 ] || [ $rc -eq 130 ] || hb_fail "hbcat -f exited $rc on SIGINT: $(tail -n 5 "$T/follow.err")"
if [ -s "$T/follow.err" ]; then
	hb_log "hbcat stderr:"
	cat "$T/follow.err" >&2
fi
hb_log "hbcat -f printed $(wc -l <"$T/follow.jsonl") records"
"$PY" "$E2E/check_load.py" "$T/follow.jsonl" --load "$T/load.json"

# following must print the same as reading the finished archive
"$PY" - "$T/follow.jsonl" "$T/offline.jsonl" <<'PY'
import sys
follow = sorted(open(sys.argv[1]).read().splitlines())
offline = sorted(open(sys.argv[2]).read().splitlines())
if follow != offline:
    a, b = set(follow), set(offline)
    print("FAIL: hbcat -f printed %d records, hbcat on the archive %d; only in -f: %s; only offline: %s"
          % (len(follow), len(offline), sorted(a - b)[:3], sorted(b - a)[:3]), file=sys.stderr)
    sys.exit(1)
PY
echo "ok"
