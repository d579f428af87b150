#!/usr/bin/env bash
# hbreplay FLEETDIR re-publishes every host's producers into a live bus:
# the collector there records exactly as many events and heartbeats per
# producer as the fleet tree holds; --host GLOB replays exactly the
# producers of the matching hosts.
# hb-test-timeout: 180
set -euo pipefail
source "$(dirname "$0")/common.bash"
source "$(dirname "$0")/fleet_common.bash"
source "$(dirname "$0")/fleet_reader_common.bash"
hb_need hbcollect hbload hbship hbsink hbcat hbreplay

hb_fleet_build 3 2 3000
"$BIN/hbcat" -o json "$T/fleet" >"$T/tree.jsonl" || hb_fail "hbcat on the tree exited $?"
# the replayed producers' host is the replaying collector's: compare by
# name; the hosts' own collectors and shippers (producers too) stay home
hb_fleet_events "$T/tree.jsonl" | cut -d' ' -f2- | grep -E '^h[0-9]-' >"$T/tree.counts"
grep -E '^h[02]-' "$T/tree.counts" >"$T/tree02.counts" || true
[ "$(wc -l <"$T/tree.counts")" -eq 6 ] || hb_fail "the tree holds $(wc -l <"$T/tree.counts") producers, want 6"

# replay_into NAME ARGS...: hbreplay --max ARGS into a fresh bus whose
# collector writes $T/NAME; the per producer counts into $T/NAME.counts
replay_into()
{
	local name=$1
	shift
	hb_collector_start "$T/$name" --host replay
	hb_collector_ready "$T/$name"
	timeout 120 "$BIN/hbreplay" --bus "$BUS" --max -q -p 'h[0-9]-*' "$@" "$T/fleet" 2>"$T/$name.err" ||
		hb_fail "hbreplay $* exited $?: $(tail -n 5 "$T/$name.err")"
	hb_collector_stop
	"$BIN/hbcat" -o json "$T/$name" >"$T/$name.jsonl" || hb_fail "hbcat on $name exited $?"
	hb_fleet_events "$T/$name.jsonl" | cut -d' ' -f2- | grep -E '^h[0-9]-' >"$T/$name.counts"
	hb_log "$name: $(tr '\n' ';' <"$T/$name.counts")"
}
replay_into all
diff "$T/tree.counts" "$T/all.counts" || hb_fail "hbreplay FLEETDIR: per producer counts differ (events, heartbeats)"
replay_into h02 --host 'h[02]'
diff "$T/tree02.counts" "$T/h02.counts" || hb_fail "hbreplay --host 'h[02]': per producer counts differ"
echo "ok"
