#!/usr/bin/env bash
# Outside tools mess with the archive under a running collector:
#   1. the live file is moved away (a log rotator): the collector notices,
#      logs it, starts a new file; the moved file plus the directory hold
#      every committed record exactly once;
#   2. the directory is made read-only (collector running as an ordinary
#      user) and a rotation is asked for: it fails, is logged once, the
#      collector keeps writing the current file, and rotates once the
#      directory is writable again; every record exactly once;
#   3. the directory is removed: the collector survives, logs it, makes the
#      directory again and goes on; what was written to the removed file is
#      gone with it, every record after that is there exactly once.
# Needs root for part 2 (a second user); parts 1 and 3 run anyway.
set -euo pipefail
source "$(dirname "$0")/common.bash"
source "$(dirname "$0")/unpriv.bash"
hb_need hbcollect hbload hbcat

load()
{ # load OUT: 2 producers, about 6 s
	hb_spawn "$1" "$1.err" "$BIN/hbload" --bus "$BUS" --producers 2 --records 15000 \
		--rate 2500 --ring-kb 4096 --json
	load_pid=$!
}

load_wait()
{
	local rc=0
	hb_wait_exit "$load_pid" 120 || rc=$?
	[ $rc -eq 0 ] || hb_fail "hbload exited $rc"
}

# ---- 1. the live file moved away
dir="$T/a1"
mkdir -p "$T/moved"
hb_collector_start "$dir"
load "$T/load1.json"
sleep 2
live=$(ls "$dir" | sort | tail -1)
mv "$dir/$live" "$T/moved/"
hb_log "moved $live away"
hb_wait_for 10 "the collector to notice the move" grep -q "moved away" "$T/collector.1.log"
load_wait
hb_collector_stop
"$BIN/hbcat" -o json "$T/moved/$live" "$dir" >"$T/r1.jsonl"
"$PY" "$E2E/check_load.py" "$T/r1.jsonl" --load "$T/load1.json"
echo "archive_faults: moved-file committed=$("$PY" -c 'import json,sys;print(json.load(open(sys.argv[1]))["committed"])' "$T/load1.json") lost=0 duplicates=0"

# ---- 3. the directory removed (before 2, which may skip)
dir="$T/a3"
hb_collector_start "$dir"
load "$T/load3.json"
sleep 2
rm -rf "$dir"
hb_log "removed $dir"
hb_wait_for 10 "the collector to notice the removal" grep -q "was removed" "$T/collector.2.log"
has_file() { [ -n "$(ls "$dir" 2>/dev/null)" ]; }
hb_wait_for 10 "a new file in a new directory" has_file
load_wait
kill -0 "$COLLECTOR_PID" || hb_fail "hbcollect died"
hb_collector_stop
"$BIN/hbcat" -o json "$dir" >"$T/r3.jsonl"
"$PY" - "$T/r3.jsonl" "$T/load3.json" <<'PY'
import collections, json, sys
load = json.load(open(sys.argv[2]))
events = collections.defaultdict(list)
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("k") == "event":
        events[r["producer"]].append(r["fields"]["n"])
lost = 0
for p in load["producers"]:
    ns = events[p["name"]]
    if len(ns) != len(set(ns)):
        sys.exit("archive_faults: duplicates for %s" % p["name"])
    if not ns or max(ns) != p["attempted"] - 1 or len(ns) != max(ns) - min(ns) + 1:
        sys.exit("archive_faults: %s: records after the removal are missing" % p["name"])
    lost += min(ns)
print("archive_faults: removed-dir committed=%d gone-with-the-removed-file=%d "
      "after-removal-missing=0 duplicates=0" % (load["committed"], lost))
PY

# ---- 2. the directory made read-only (as an ordinary user: root ignores modes)
hb_unpriv_setup
dir="$UT/a2"
"${AS_USER[@]}" "$BIN/hbcollect" --bus "$BUS" --dir "$dir" 2>"$T/collector.ro.log" &
cpid=$!
hb_pids+=($cpid)
"${AS_USER[@]}" "$BIN/hbload" --bus "$BUS" --producers 2 --records 15000 --rate 2500 \
	--ring-kb 4096 --json >"$T/load2.json" 2>"$T/load2.err" &
load_pid=$!
hb_pids+=($load_pid)
sleep 2
chmod 0500 "$dir"
kill -HUP "$cpid"
hb_wait_for 10 "the failed rotation to be logged" grep -q "cannot start a new archive file" \
	"$T/collector.ro.log"
sleep 2
kill -0 "$cpid" || hb_fail "hbcollect died"
chmod 0700 "$dir"
hb_wait_for 40 "the rotation to succeed" grep -q "rotation works again" "$T/collector.ro.log"
load_wait
kill -TERM "$cpid"
rc=0
hb_wait_exit "$cpid" 60 || rc=$?
cat "$T/collector.ro.log" >&2
[ $rc -eq 0 ] || hb_fail "hbcollect exited $rc"
n=$(grep -c "cannot start a new archive file" "$T/collector.ro.log" || true)
[ "$n" -eq 1 ] || hb_fail "the failed rotation was logged $n times (expected once)"
"$BIN/hbcat" -o json "$dir" >"$T/r2.jsonl"
"$PY" "$E2E/check_load.py" "$T/r2.jsonl" --load "$T/load2.json"
[ "$(ls "$dir" | wc -l)" -ge 2 ] || hb_fail "no new file after the directory was writable again"
rm -rf "$UT"
echo "archive_faults: faults_injected=3 (moved file, read-only dir, removed dir) collector_crashes=0"
echo "ok"
