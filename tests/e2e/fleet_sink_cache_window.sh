#!/usr/bin/env bash
# hbsink --cache-window: the sink keeps only about that much of a fleet
# file in the page cache, as hbcollect does with its archive; with
# --cache-window 0 the kernel keeps it all. Either way the fleet archive
# holds every committed record exactly once.
# hb-test-timeout: 240
set -euo pipefail
source "$(dirname "$0")/common.bash"
source "$(dirname "$0")/fleet_common.bash"
hb_need hbcollect hbload hbship hbsink hbcat
command -v fincore >/dev/null || hb_fail "fincore (util-linux) is missing"

resident() { fincore --bytes --noheadings --output RES "$1" | tr -d ' '; }

# One host archive of 3,000,000 events (about 100 MB as single events in
# the fleet), shipped once, then written by a sink per window.
hb_nats_start 1
hb_host_start 0 --fsync never
hb_collector_ready "$T/h0"
"$BIN/hbload" --bus "${HOST_BUS[0]}" --producers 2 --records 1500000 --ring-kb 8192 --block \
	--json >"$T/h0.load.json" 2>"$T/h0.load.err" || hb_fail "hbload exited $?"
hb_host_stop 0
timeout 120 "$BIN/hbship" --bus "${HOST_BUS[0]}" --dir "$T/h0" --nats "$NATS_URLS" --once \
	--no-heartbeats 2>>"$T/ship.h0.log" || hb_fail "hbship --once exited $?"

# sink WINDOW: a new durable consumer writes the stream into its own tree
sink() {
	local w=$1 fd="$T/fleet-$1" f
	"$BIN/hbsink" --dir "$fd" --nats "$NATS_URLS" --durable "w$w" --rotate-size 0 \
		--fsync never --cache-window "$w" >/dev/null 2>>"$T/sink.log" &
	hb_pids+=($!)
	SINK_PID=$!
	hb_wait_for 120 "the sink (--cache-window $w) to consume the stream" hb_consumer_done HB "w$w"
	hb_sink_stop
	f=$(ls "$fd/h0/${HOST_BUS[0]}"/hb-*.msgpack)
	[ "$(echo "$f" | wc -l)" -eq 1 ] || hb_fail "expected one fleet file: $f"
	size=$(stat -c %s "$f")
	res=$(resident "$f") # before anything reads it back in
	hb_log "--cache-window $w: fleet file $size bytes, $res in the page cache"
	"$BIN/hbcat" --summary -o json "$fd" >"$T/summary-$w.json" || hb_fail "hbcat exited $?"
	"$PY" - "$T/summary-$w.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
ps = [p for p in s["producers"] if p["name"].startswith("load-")]
assert len(ps) == 2, [p["name"] for p in s["producers"]]
for p in ps:
    assert p["events"] == 1500000 and p["duplicates"] == 0 and p["gap_count"] == 0, p
PY
}

sink 0
[ "$res" -ge $((size * 9 / 10)) ] ||
	hb_fail "--cache-window 0: only $res of $size bytes cached (the kernel should keep them)"
sync
sink 16M
[ "$res" -le $((size / 2)) ] ||
	hb_fail "--cache-window 16M: $res of $size bytes still in the page cache"
echo "ok"
