#!/usr/bin/env bash
# A producer killed with SIGKILL stays on /metrics as crashed, counted in
# hb_producer_crashes_total, its "down" alert firing, for --keep-crashed;
# then it expires: its series go, the alert clears (why gone) and the
# crash count stays. The archive tells the same story in order.
set -euo pipefail
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/liveness_common.bash"
. "$(dirname "$0")/prometheus_common.bash"
hb_need hbcollect hbcat ticker

A="$T/archive"
hb_collector_start "$A" --metrics 127.0.0.1:0 --alert 'down state dead' --keep-crashed 3s
MPORT=$(metrics_port "$T/collector.1.log")
hb_spawn "$T/v.out" "$T/v.err" "$BIN/ticker" --name victim --interval-ms 200 --rate 20
VICTIM=$!
hb_spawn "$T/s.out" "$T/s.err" "$BIN/ticker" --name steady --interval-ms 200 --rate 20
victim_up() { metrics_of "$MPORT" >"$T/m" && grep -q '^hb_producer_up{producer="victim",pid="[0-9]*"} 1$' "$T/m"; }
hb_wait_for 20 "victim up on /metrics" victim_up
kill -KILL "$VICTIM"
wait "$VICTIM" 2>/dev/null || true

crashed_shown()
{
	metrics_of "$MPORT" >"$T/m.crashed"
	grep -q "^hb_producer_state{producer=\"victim\",pid=\"$VICTIM\",state=\"crashed\"} 1$" "$T/m.crashed"
}
hb_wait_for 20 "victim crashed on /metrics" crashed_shown
grep -q '^hb_producer_crashes_total{producer="victim"} 1$' "$T/m.crashed" ||
	hb_fail "no crash counted: $(grep crashes "$T/m.crashed")"
grep -q "^hb_producer_up{producer=\"victim\",pid=\"$VICTIM\"} 0$" "$T/m.crashed" ||
	hb_fail "a crashed producer is not down"
grep -q "^hb_alert_active{alert=\"down\",producer=\"victim\",pid=\"$VICTIM\"} 1$" "$T/m.crashed" ||
	hb_fail "the down alert is not firing for the crashed producer"
if grep -q '^hb_alert_active{alert="down",producer="steady"' "$T/m.crashed"; then
	hb_fail "the steady producer is alerting"
fi

expired() { metrics_of "$MPORT" >"$T/m" && ! grep -q 'producer="victim",pid=' "$T/m"; }
hb_wait_for 30 "victim to expire from /metrics" expired
metrics_of "$MPORT" >"$T/m.expired"
grep -q '^hb_producer_crashes_total{producer="victim"} 1$' "$T/m.expired" ||
	hb_fail "the crash count went with the producer"
grep -q '^hb_producer_up{producer="steady",pid="[0-9]*"} 1$' "$T/m.expired" ||
	hb_fail "steady is not up"
hb_collector_stop

live_events "$A" victim >"$T/victim.events"
cat "$T/victim.events" >&2
# healthy, dead (pid-gone) and the alert firing, crashed while it fires,
# and only after the retention the clear
"$PY" - "$T/victim.events" <<'PY'
import sys
ev = [l.split() for l in open(sys.argv[1])]
want = [["state", "healthy", "heartbeat"], ["state", "dead", "pid-gone"],
        ["alert", "down", "fired", "-"], ["state", "crashed", "pid-gone"],
        ["alert", "down", "cleared", "gone"]]
assert ev == want, ev
print("crash_kept_on_metrics:", " -> ".join(" ".join(e[1:]) for e in ev))
PY
