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
