#!/usr/bin/env bash
# Exactly once under faults: three hosts (collector --host, four hbload
# producers, hbship each) and an hbsink on a three-server JetStream cluster
# (R3). While the producers run, every shipper and the sink are SIGKILLed
# and restarted three times each, and one nats-server is SIGKILLed and
# restarted; at the end a sink with an empty position (a new durable
# consumer: the whole stream again) runs over the same fleet archive. The
# archive holds every committed record of every producer exactly once,
# drops as gaps, and the sinks dropped the re-deliveries as duplicates.
# hb-test-timeout: 300
set -euo pipefail
source "$(dirname "$0")/common.bash"
source "$(dirname "$0")/fleet_common.bash"
hb_need hbcollect hbload hbship hbsink hbcat

hb_nats_start 3
hb_sink_start --rotate-size 512k
for i in 0 1 2; do
	hb_host_start "$i" --rotate-size 256k
	hb_ship_start "$i" --replicas 3 --window 32 --max-msg 16k
done
loads=()
for i in 0 1 2; do
	"$BIN/hbload" --bus "${HOST_BUS[$i]}" --producers 4 --seconds 9 --rate 1500 \
		--ring-kb 64 --interval-ms 200 --json >"$T/load.h$i.json" 2>"$T/load.h$i.err" &
	loads+=($!)
done

kill_ship()
{
	kill -KILL "${HOST_SHIP[$1]}" 2>/dev/null || true
	wait "${HOST_SHIP[$1]}" 2>/dev/null || true
	hb_ship_start "$1" --replicas 3 --window 32 --max-msg 16k
}
kill_sink()
{
	kill -KILL "$SINK_PID" 2>/dev/null || true
	wait "$SINK_PID" 2>/dev/null || true
	hb_sink_start --rotate-size 512k
}
for round in 1 2 3; do
	sleep 1
	for i in 0 1 2; do kill_ship "$i"; done
	hb_log "round $round: shippers killed and restarted"
	sleep 0.7
	kill_sink
	hb_log "round $round: sink killed and restarted"
	[ $round -eq 1 ] && hb_nats_kill 1
	[ $round -eq 2 ] && hb_nats_restart 1
done
for p in "${loads[@]}"; do
	wait "$p" || hb_fail "hbload exited $?"
done
for i in 0 1 2; do
	hb_host_stop "$i"
	kill_ship "$i"
done
sleep 1
hb_fleet_drain 0 1 2
# a sink with an empty position reads the whole stream again, in fetches
# of at most one message as large as the server takes (--batch-bytes 1k
# is raised to that: a smaller limit would stop at the first larger one)
hb_sink_start --rotate-size 512k --durable fresh --batch-bytes 1k
hb_wait_for 90 "the fresh sink to consume everything" hb_consumer_done HB fresh
hb_sink_stop
tail -n 3 "$T/sink.log"
fresh=$(tail -n 1 "$T/sink.log")
case "$fresh" in
*" 0 records written, "*) ;;
*) hb_fail "the fresh sink wrote records the fleet archive held: $fresh" ;;
esac
dups=$(echo "$fresh" | sed -n 's/.*, \([0-9]*\) duplicates dropped.*/\1/p')
[ "${dups:-0}" -gt 100000 ] || hb_fail "the fresh sink dropped only ${dups:-0} duplicates"
for i in 0 1 2; do
	hb_fleet_check "$i" "$T/load.h$i.json"
done
grep -c "publishing to stream HB fails" "$T"/ship.h*.log || true
echo "ok"
