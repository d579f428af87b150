#!/usr/bin/env bash
# hbship stopped while its publishes wait for acks that do not come (the
# only server is frozen with SIGSTOP), some of them from a run it already
# gave up, exits 0 and frees them (under ASan a leaked message fails it);
# its saved position is before them, so the next hbship sends them again
# and the fleet archive ends up complete, each record once.
# hb-test-timeout: 150
set -euo pipefail
source "$(dirname "$0")/common.bash"
source "$(dirname "$0")/fleet_common.bash"
hb_need hbcollect hbload hbship hbsink hbcat

hb_nats_start 1
hb_sink_start
hb_host_start 0
hb_ship_start 0
"$BIN/hbload" --bus "${HOST_BUS[0]}" --name load-a --producers 2 --records 500 --rate 1000 --ring-kb 64 \
	--json >"$T/load.a.json" 2>"$T/load.a.err" || hb_fail "hbload a"
hb_wait_for 30 "the sink to consume the first records" hb_consumer_done HB hbsink
kill -STOP "${NATS_PID[0]}"
hb_log "nats-server 0 frozen"
"$BIN/hbload" --bus "${HOST_BUS[0]}" --name load-b --producers 2 --seconds 6 --rate 1000 --ring-kb 64 \
	--json >"$T/load.b.json" 2>"$T/load.b.err" &
load=$!
# the shipper publishes while the server is frozen; once the first
# publish has timed out (--ack-wait 2 s), the run is given up and those
# after it are still waiting in the library when the stop comes
hb_wait_for 30 "the first publish to time out" grep -q "fails: Timeout" "$T/ship.h0.log"
kill -TERM "${HOST_SHIP[0]}"
rc=0
hb_wait_exit "${HOST_SHIP[0]}" 60 || rc=$?
kill -CONT "${NATS_PID[0]}"
hb_log "nats-server 0 thawed"
[ $rc -eq 0 ] || hb_fail "hbship exited $rc on SIGTERM with unacknowledged publishes"
wait "$load" || hb_fail "hbload b exited $?"
hb_ship_start 0
grep -q "stopped at" "$T/ship.h0.log" || hb_fail "hbship did not say where it stopped"
hb_host_stop 0
hb_fleet_drain 0
hb_fleet_check 0 "$T/load.a.json" "$T/load.b.json"
echo "ok"
