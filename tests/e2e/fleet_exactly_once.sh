#!/usr/bin/env bash
# Three hosts (three collectors with --host, four hbload producers each, an
# hbship each) ship into a three-server JetStream cluster (stream R3), one
# hbsink writes the fleet archive: per host and producer it holds exactly
# the records hbload committed, each once, drops as gaps, read back by hbcat
# and by the stock Python msgpack reader.
# hb-test-timeout: 240
set -euo pipefail
source "$(dirname "$0")/common.bash"
source "$(dirname "$0")/fleet_common.bash"
hb_need hbcollect hbload hbship hbsink hbcat

hb_nats_start 3
hb_sink_start --rotate-size 256k
for i in 0 1 2; do
	hb_host_start "$i" --rotate-size 256k
	hb_ship_start "$i" --replicas 3
done
loads=()
for i in 0 1 2; do
	"$BIN/hbload" --bus "${HOST_BUS[$i]}" --producers 4 --records 10000 --rate 10000 \
		--ring-kb 64 --interval-ms 100 --json >"$T/load.h$i.json" 2>"$T/load.h$i.err" &
	loads+=($!)
done
for p in "${loads[@]}"; do
	wait "$p" || hb_fail "hbload exited $?"
done
for i in 0 1 2; do
	hb_host_stop "$i"
	hb_log "h$i: $(cat "$T/load.h$i.json")"
done
# the shippers follow to the end of the archives; --once then confirms
hb_fleet_drain 0 1 2
cat "$T/sink.log"
for i in 0 1 2; do
	hb_fleet_check "$i" "$T/load.h$i.json"
done
grep -q "0 bad messages" "$T/sink.log" || hb_fail "the sink skipped messages"
echo "ok"
