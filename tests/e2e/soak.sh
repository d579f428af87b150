#!/usr/bin/env bash
# Soak: SOAK_SECONDS (default 120) of churn on one bus. Up to 32 producers
# (hbload instances of 1-4 producers) appear and disappear at random, some
# of them SIGKILLed mid-stream; the collector is SIGKILLed and restarted
# during the first half and rotates files every 256 KiB and every 5 s.
# Then:
#   - zero lost committed records, zero duplicates: every finished
#     producer's records match its counters exactly, every killed one's are
#     complete up to the last one archived;
#   - the last collector's RSS and fd count are flat: sampled idle (no
#     producer alive, everything drained) before and after the second half
#     (RSS not in sanitizer builds: LeakSanitizer checks at exit there);
#   - every ring is removed at the end.
set -euo pipefail
source "$(dirname "$0")/common.bash"
hb_need hbcollect hbload hbcat

secs=${SOAK_SECONDS:-$([ -n "${SANITIZE:-}" ] && echo 60 || echo 120)}
seed=${SOAK_SEED:-$$}
RANDOM=$seed
hb_log "soak: $secs s, seed $seed"
dir="$T/archive"
copts=(--rotate-size 256k --rotate-age 5s)
hb_collector_start "$dir" "${copts[@]}"

declare -A live=() # pid -> "prefix producers"
killed=()          # prefixes of SIGKILLed instances
finished=()        # prefixes of instances that exited on their own
seq_no=0 spawned=0 producers_started=0 collector_kills=0 producer_kills=0

live_producers()
{
	local n=0 pid
	for pid in "${!live[@]}"; do
		n=$((n + ${live[$pid]#* }))
	done
	echo $n
}

reap()
{
	local pid rc
	for pid in "${!live[@]}"; do
		kill -0 "$pid" 2>/dev/null && continue
		rc=0
		wait "$pid" || rc=$?
		if [ $rc -eq 0 ]; then
			finished+=("${live[$pid]% *}")
		elif [ $rc -eq 137 ]; then
			killed+=("${live[$pid]% *}")
		else
			hb_fail "hbload ${live[$pid]} exited $rc: $(tail -n 3 "$T/${live[$pid]% *}.err")"
		fi
		unset "live[$pid]"
	done
}

spawn_one()
{
	local n=$((1 + RANDOM % 4)) rate=$((50 + RANDOM % 350)) prefix
	[ $(($(live_producers) + n)) -le 32 ] || return 0
	seq_no=$((seq_no + 1))
	prefix="s$seq_no"
	"$BIN/hbload" --bus "$BUS" --name "$prefix" --producers $n \
		--records $((rate * (2 + RANDOM % 12))) --rate $rate \
		--ring-kb 1024 --interval-ms 500 --json >"$T/$prefix.json" 2>"$T/$prefix.err" &
	live[$!]="$prefix $n"
	spawned=$((spawned + 1))
	producers_started=$((producers_started + n))
}

kill_one()
{
	local pids=("${!live[@]}")
	[ ${#pids[@]} -gt 0 ] || return 0
	kill -KILL "${pids[RANDOM % ${#pids[@]}]}" 2>/dev/null || true
	producer_kills=$((producer_kills + 1))
}

churn()
{ # churn UNTIL KILL_COLLECTOR
	local until=$1 kill_collector=$2
	while [ $SECONDS -lt "$until" ]; do
		reap
		case $((RANDOM % 10)) in
		0) kill_one ;;
		1 | 2 | 3 | 4 | 5) spawn_one ;;
		esac
		if [ "$kill_collector" = 1 ] && [ $((RANDOM % 60)) = 0 ]; then
			kill -KILL "$COLLECTOR_PID"
			wait "$COLLECTOR_PID" 2>/dev/null || true
			collector_kills=$((collector_kills + 1))
			hb_collector_start "$dir" "${copts[@]}"
		fi
		sleep 0.2
	done
}

no_producer_rings() { [ "$(ls /dev/shm/ | grep -c "^hb\.$BUS\.s")" -eq 0 ]; }

quiesce()
{ # lets every live instance finish (15 s at most, then SIGKILL), and the
  # collector drain and remove their rings
	local pid i
	for ((i = 0; i < 150 && ${#live[@]} > 0; i++)); do
		sleep 0.1
		reap
	done
	for pid in "${!live[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
		producer_kills=$((producer_kills + 1))
	done
	sleep 0.2
	reap
	hb_wait_for 60 "every producer ring to be drained and removed" no_producer_rings
	sleep 1
}

sample()
{ # sample: "RSS_KB FDS" of the collector
	echo "$(awk '/^VmRSS/ {print $2}' "/proc/$COLLECTOR_PID/status") $(ls "/proc/$COLLECTOR_PID/fd" | wc -l)"
}

t0=$SECONDS
churn $((t0 + secs / 2)) 1
# make sure at least one collector restart happened
if [ $collector_kills -eq 0 ]; then
	kill -KILL "$COLLECTOR_PID"
	wait "$COLLECTOR_PID" 2>/dev/null || true
	collector_kills=1
	hb_collector_start "$dir" "${copts[@]}"
fi
quiesce
read -r rss0 fds0 <<<"$(sample)"
hb_log "collector idle before the second half: rss ${rss0} kB, ${fds0} fds"
churn $((SECONDS + secs / 2)) 0
quiesce
read -r rss1 fds1 <<<"$(sample)"
hb_log "collector idle after the second half: rss ${rss1} kB, ${fds1} fds"
hb_collector_stop
left=$(hb_shm_count)
[ "$left" -eq 0 ] || hb_fail "$left rings left in /dev/shm: $(ls /dev/shm | grep "^hb\.$BUS\.")"

# Growth margins: no fd may leak; RSS may move by allocator noise only.
[ "$fds1" -le "$fds0" ] || hb_fail "collector fds grew from $fds0 to $fds1"
# Under ASan the allocator's quarantine makes RSS meaningless; there
# LeakSanitizer checks the collector at its exit instead.
if [ -z "${SANITIZE:-}" ]; then
	[ "$rss1" -le $((rss0 + 4096 + rss0 / 10)) ] || hb_fail "collector RSS grew from $rss0 kB to $rss1 kB"
fi

"$BIN/hbcat" -o json "$dir" >"$T/records.jsonl" 2>"$T/hbcat.err" || {
	cat "$T/hbcat.err" >&2
	hb_fail "hbcat could not read the archive"
}
# One combined hbload report for the finished instances; killed ones are
# checked up to the last sequence number archived for each producer.
"$PY" - "$T" "$T/records.jsonl" "${finished[@]}" -- "${killed[@]}" >"$T/check.args" <<'PY'
import collections, json, sys
t, recs = sys.argv[1], sys.argv[2]
rest = sys.argv[3:]
sep = rest.index("--")
finished, killed = rest[:sep], rest[sep + 1:]
load = {"producers": [], "attempted": 0, "committed": 0, "dropped": 0}
for p in finished:
    d = json.load(open("%s/%s.json" % (t, p)))
    for k in ("attempted", "committed", "dropped"):
        load[k] += d[k]
    load["producers"] += d["producers"]
json.dump(load, open("%s/load.json" % t, "w"))
last = collections.defaultdict(lambda: -1)
for line in open(recs):
    r = json.loads(line)
    if r.get("k") in ("event", "heartbeat", "gap"):
        name = r.get("producer") or ""
        s = r.get("to", r.get("seq"))
        if name.split("-")[0] in killed and s is not None:
            last[name] = max(last[name], s)
print("--load %s/load.json" % t, *["--expect %s:%d" % kv for kv in sorted(last.items())])
PY
# shellcheck disable=SC2046
"$PY" "$E2E/check_load.py" "$T/records.jsonl" $(cat "$T/check.args") --min-events 0 >"$T/check.out" || {
	tail -n 40 "$T/check.out" >&2
	hb_fail "archive check failed"
}
tail -n 1 "$T/check.out"
committed=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["committed"])' "$T/load.json")
events=$(grep -c '"k":"event"' "$T/records.jsonl" || true)
echo "soak: seconds=$secs seed=$seed instances=$spawned producers=$producers_started" \
	"producer_kills=$producer_kills instances_killed=${#killed[@]} collector_kills=$collector_kills events_archived=$events" \
	"committed_by_finished=$committed lost=0 duplicates=0" \
	"collector_rss_kb=$rss0->$rss1 collector_fds=$fds0->$fds1 rings_left=0"
echo "ok"
