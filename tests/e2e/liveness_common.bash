# Helpers of the liveness tests (sourced after common.bash).

# live_states DIR [PRODUCER]: "state why ts_ns" lines of the producer's
# state records in the archive at DIR, in archive order.
live_states()
{
	"$BIN/hbcat" -o json "$1" 2>/dev/null |
		"$PY" -c '
import json, sys
want = sys.argv[1] if len(sys.argv) > 1 else None
for line in sys.stdin:
    r = json.loads(line)
    if r.get("k") == "state" and (want is None or r.get("producer") == want):
        print(r["state"], r.get("why", ""), r["ts_ns"])
' "${2:-}"
}

# last_heartbeat_ns DIR PRODUCER: ts_ns of the producer's newest heartbeat.
last_heartbeat_ns()
{
	"$BIN/hbcat" -o json -H -p "$2" "$1" 2>/dev/null |
		"$PY" -c '
import json, sys
ts = [json.loads(l)["ts_ns"] for l in sys.stdin]
print(max(ts) if ts else 0)'
}

# has_state DIR PRODUCER STATE: true once the archive holds that state.
has_state()
{
	live_states "$1" "$2" | grep -q "^$3 "
}

# live_events DIR PRODUCER: the producer's state and alert records in
# archive order, one per line: "state STATE WHY" or "alert NAME EVENT WHY".
live_events()
{
	"$BIN/hbcat" -o json "$1" 2>/dev/null |
		"$PY" -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    if r.get("producer") != sys.argv[1]:
        continue
    if r.get("k") == "state":
        print("state", r["state"], r.get("why", "-"))
    elif r.get("k") == "alert":
        print("alert", r["name"], r["event"], r.get("why") or "-")
' "$2"
}

# metrics_of PORT: the collector's /metrics exposition.
metrics_of() { curl -fsS "http://127.0.0.1:$1/metrics"; }
