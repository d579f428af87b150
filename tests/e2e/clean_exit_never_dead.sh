#!/usr/bin/env bash
# Producers that close their rings and exit while the collector is still
# draining their backlog are exiting, not dead: hbload runs of 4 producers
# x 300000 records, one after another, give every producer exited (closed),
# never dead, and no "down" alert. The collector is stopped (SIGSTOP) while
# every other run fills the rings and exits, so that it meets exited
# processes whose rings hold more than one drain pass: the case that used
# to be called dead; the others run as they come.
set -euo pipefail
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/liveness_common.bash"
hb_need hbcollect hbcat hbload

RUNS=4
A="$T/archive"
hb_collector_start "$A" --alert 'down state dead'
for ((i = 0; i < RUNS; i++)); do
	[ $((i % 2)) = 0 ] && kill -STOP "$COLLECTOR_PID"
	"$BIN/hbload" --bus "$BUS" --producers 4 --records 300000 --json >"$T/load.$i.json"
	[ $((i % 2)) = 0 ] && sleep 0.5 # a liveness check is due when it resumes
	kill -CONT "$COLLECTOR_PID"
done
all_exited() { [ "$(grep -c 'load-.*: exited (closed)' "$T/collector.1.log")" -eq $((4 * RUNS)) ]; }
hb_wait_for 60 "every producer exited" all_exited
hb_collector_stop

"$BIN/hbcat" -o json "$A" >"$T/all.json"
"$PY" - "$T/all.json" "$RUNS" <<'PY'
import json, sys
from collections import defaultdict
runs = int(sys.argv[2])
name_of, states, alerts = {}, defaultdict(list), []
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("k") == "producer":
        name_of[r["p"]] = r["name"]
    elif r.get("k") == "state":
        states[r["p"]].append((r["state"], r.get("why")))
    elif r.get("k") == "alert":
        alerts.append((r.get("producer"), r["name"], r["event"]))
load = [p for p, n in name_of.items() if n.startswith("load-")]
assert len(load) == 4 * runs, (len(load), name_of)
for p in load:
    s = states[p]
    assert s[-1] == ("exited", "closed"), (name_of[p], s)
    assert all(st not in ("dead", "crashed", "late") for st, _ in s), (name_of[p], s)
assert not alerts, alerts
print("clean_exit_never_dead: %d producers, all exited (closed), none dead, no alert" % len(load))
PY
