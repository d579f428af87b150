#!/usr/bin/env bash
# hbtop on a fleet tree. --replay FLEETDIR (batch, --max): every host's
# producers, each row with its host in the HOST column and in the JSON
# snapshot, with hbload's exact event counts; --host GLOB keeps the
# matching hosts. --fleet FLEETDIR (live, batch JSON) follows the tree as it
# grows: a host that appears after it started shows, and the last snapshot
# holds exactly the events the tree holds per producer.
# hb-test-timeout: 180
set -euo pipefail
source "$(dirname "$0")/common.bash"
source "$(dirname "$0")/fleet_common.bash"
source "$(dirname "$0")/fleet_reader_common.bash"
hb_need hbcollect hbload hbship hbsink hbcat hbtop

hb_nats_start 1
hb_sink_start --rotate-size 64k
# live, before the tree exists; a snapshot every 0.1 s
hb_spawn "$T/live.jsonl" "$T/live.err" "$BIN/hbtop" --fleet "$T/fleet" -b -o json -d 0.1 --expire 0
live_pid=$!
hb_fleet_hosts_run 2 3000 0
hb_fleet_hosts_run 2 3000 1 2
hb_fleet_drain 0 1 2
"$BIN/hbcat" -o json "$T/fleet" >"$T/tree.jsonl" || hb_fail "hbcat on the tree exited $?"
hb_fleet_events "$T/tree.jsonl" | grep -E '^h[0-9] h[0-9]-' >"$T/tree.counts"
cat "$T/tree.counts"

# snap_counts FILE: "host name events heartbeats" of the producers h*-* in
# the last JSON snapshot of FILE
snap_counts()
{
	tail -n 1 "$1" | "$PY" -c '
import json, sys
s = json.loads(sys.stdin.read())
for r in sorted(s["producers"], key=lambda r: (r["host"], r["name"])):
    if r["name"].startswith("h") and "-" in r["name"]:
        print(r["host"], r["name"], r["events"], r["heartbeats"])'
}
live_done()
{
	kill -0 "$live_pid" 2>/dev/null || hb_fail "hbtop --fleet exited: $(cat "$T/live.err")"
	[ "$(snap_counts "$T/live.jsonl" 2>/dev/null)" = "$(cat "$T/tree.counts")" ]
}
hb_wait_for 60 "hbtop --fleet to show the whole tree" live_done
kill -TERM "$live_pid"
hb_wait_exit "$live_pid" 20 || hb_fail "hbtop --fleet exited $? on SIGTERM"
grep -q '"fleet":true,"collector":{"running":null,"pid":0}' "$T/live.jsonl" ||
	hb_fail "hbtop --fleet: not a fleet, or claims a collector of its own"

timeout 60 "$BIN/hbtop" --replay --max -b -o json "$T/fleet" >"$T/replay.jsonl" ||
	hb_fail "hbtop --replay -o json exited $?"
[ "$(snap_counts "$T/replay.jsonl")" = "$(cat "$T/tree.counts")" ] ||
	hb_fail "hbtop --replay FLEETDIR: $(snap_counts "$T/replay.jsonl")"
timeout 60 "$BIN/hbtop" --replay --max -b -o json --host 'h[02]' "$T/fleet" >"$T/replay02.jsonl" ||
	hb_fail "hbtop --replay --host exited $?"
[ "$(snap_counts "$T/replay02.jsonl")" = "$(grep -v '^h1 ' "$T/tree.counts")" ] ||
	hb_fail "hbtop --replay --host 'h[02]': $(snap_counts "$T/replay02.jsonl")"
tail -n 1 "$T/replay02.jsonl" | grep -q '"host":"h1"' && hb_fail "--host 'h[02]' shows h1"

# text: a HOST column, each producer on its host's row
timeout 60 "$BIN/hbtop" --replay --max -b "$T/fleet" >"$T/replay.txt" || hb_fail "hbtop --replay exited $?"
cat "$T/replay.txt"
grep -q '^HOST  *NAME ' "$T/replay.txt" || hb_fail "no HOST column"
for i in 0 1 2; do
	for p in 0 1; do
		grep -Eq "^h$i +h$i-$p +[0-9]+ " "$T/replay.txt" || hb_fail "no row of h$i-$p on host h$i"
	done
done
echo "ok"
