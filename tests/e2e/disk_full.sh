#!/usr/bin/env bash
# The archive directory sits on a 2 MiB tmpfs that fills up mid-stream: the
# collector keeps the records in the rings, backs off, logs the failure
# once and the recovery once, resumes when space is freed, and the final
# archive holds every committed record exactly once. The producers' rings
# are large enough for the backlog, so they drop nothing.
# Needs root (mount); skipped otherwise.
set -euo pipefail
source "$(dirname "$0")/common.bash"
hb_need hbcollect hbload hbcat
[ "$(id -u)" = 0 ] || {
	echo "needs root to mount a tmpfs"
	exit 77
}
mnt="$T/small"
mkdir -p "$mnt"
mount -t tmpfs -o size=2m,mode=0700 hbtest "$mnt" || {
	echo "cannot mount a tmpfs"
	exit 77
}
trap 'umount -l "$mnt" 2>/dev/null; hb_cleanup' EXIT

# 1.6 MiB of ballast leaves about 400 KiB for the archive; the load below
# needs about 1.2 MiB of archive, so the disk fills a third of the way in.
dd if=/dev/zero of="$mnt/ballast" bs=64k count=26 status=none
dir="$mnt/archive"
hb_collector_start "$dir" --fsync always
hb_spawn "$T/load.json" "$T/load.err" "$BIN/hbload" --bus "$BUS" --producers 2 \
	--records 12000 --rate 2000 --ring-kb 4096 --json
load_pid=$!
log="$T/collector.1.log"
hb_wait_for 60 "the disk to fill" grep -q "No space left on device" "$log"
hb_log "disk full: $(df -k "$mnt" | tail -1)"
sleep 2 # the collector backs off while records pile up in the rings
kill -0 "$COLLECTOR_PID" 2>/dev/null || hb_fail "hbcollect died on a full disk"
rm -f "$mnt/ballast"
hb_log "ballast removed: $(df -k "$mnt" | tail -1)"
rc=0
hb_wait_exit "$load_pid" 120 || rc=$?
[ $rc -eq 0 ] || hb_fail "hbload exited $rc: $(tail -n 5 "$T/load.err")"
hb_wait_for 30 "writes to resume" grep -q "writes resumed" "$log"
hb_collector_stop
cat "$log" >&2

fails=$(grep -c "No space left on device" "$log" || true)
resumes=$(grep -c "writes resumed" "$log" || true)
[ "$fails" -eq 1 ] || hb_fail "the disk-full state was logged $fails times (expected once)"
[ "$resumes" -eq 1 ] || hb_fail "the recovery was logged $resumes times (expected once)"
"$BIN/hbcat" -o json "$dir" >"$T/records.jsonl" 2>"$T/hbcat.err" || {
	cat "$T/hbcat.err" >&2
	hb_fail "hbcat could not read the archive"
}
"$PY" "$E2E/check_load.py" "$T/records.jsonl" --load "$T/load.json"
"$PY" - "$T/load.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
if d["dropped"]:
    sys.exit("disk_full: producers dropped %d records with room left in their rings" % d["dropped"])
print("disk_full: committed=%d dropped=0 lost=0 duplicates=0 faults_injected=1 (ENOSPC)"
      % d["committed"])
PY
echo "ok"
