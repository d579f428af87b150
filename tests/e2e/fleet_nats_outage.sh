#!/usr/bin/env bash
# NATS absent for 20 s in the middle of a run: the collector goes on and
# loses nothing (its retention, --retain-files 2, removes no file the
# shipper has not shipped: after 20 s every file is still there), the
# shipper reports the outage once (one line when it starts, one when acks
# come back), catches up, and the fleet archive holds every record.
# hb-test-timeout: 180
set -euo pipefail
source "$(dirname "$0")/common.bash"
source "$(dirname "$0")/fleet_common.bash"
hb_need hbcollect hbload hbship hbsink hbcat

hb_nats_start 1
hb_sink_start
hb_host_start 0 --rotate-size 64k --retain-files 2
hb_ship_start 0
"$BIN/hbload" --bus "${HOST_BUS[0]}" --producers 4 --seconds 26 --rate 400 --ring-kb 64 \
	--interval-ms 200 --json >"$T/load.h0.json" 2>"$T/load.h0.err" &
load=$!
sleep 3
hb_nats_kill 0
sleep 20
# retention held back: the file the shipper resumes from and every one
# after it are still there (more than --retain-files 2)
files=$(ls "${HOST_DIR[0]}"/hb-*.msgpack | wc -l)
[ "$files" -gt 4 ] || hb_fail "only $files archive files after 20 s without NATS"
pos=$(sed -n 's/^file //p' "${HOST_DIR[0]}/hbship-HB.pos")
[ -f "${HOST_DIR[0]}/$pos" ] || hb_fail "retention removed $pos, the shipper's position"
! grep -q "before hbship shipped it" "$T/collector.h0.log" ||
	hb_fail "retention removed unshipped files"
hb_log "$files archive files kept while NATS was away (position in $pos)"
hb_nats_restart 0
wait "$load" || hb_fail "hbload exited $?"
hb_host_stop 0
hb_wait_for 60 "the shipper to catch up" grep -q "acknowledges again" "$T/ship.h0.log"
hb_fleet_drain 0
cat "$T/ship.h0.log"
n=$(grep -c "publishing to stream HB fails" "$T/ship.h0.log" || true)
[ "$n" -eq 1 ] || hb_fail "the outage was reported $n times, want once"
n=$(grep -c "acknowledges again" "$T/ship.h0.log" || true)
[ "$n" -eq 1 ] || hb_fail "the recovery was reported $n times, want once"
! grep -q "before hbship shipped it" "$T/collector.h0.log" ||
	hb_fail "retention removed unshipped files"
# the collector lost nothing: all of it reached the fleet archive
hb_fleet_check 0 "$T/load.h0.json"
echo "ok"
