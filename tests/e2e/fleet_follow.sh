#!/usr/bin/env bash
# hbcat -f FLEETDIR follows every <host>/<bus> of a fleet tree, across the
# sink's rotations, hosts that appear after it started included: one
# follower started before the tree exists prints exactly what hbcat reads
# from the finished tree; one started with -n 5 once h0 is in prints the
# last 5 records of then, and then exactly every record of h1 and h2,
# which come later. Each host's records are checked against hbload's counts.
# hb-test-timeout: 240
set -euo pipefail
source "$(dirname "$0")/common.bash"
source "$(dirname "$0")/fleet_common.bash"
source "$(dirname "$0")/fleet_reader_common.bash"
hb_need hbcollect hbload hbship hbsink hbcat

hb_nats_start 1
# before anything: $T/fleet does not even exist
hb_spawn "$T/all.jsonl" "$T/all.err" "$BIN/hbcat" -f -o json "$T/fleet"
all_pid=$!
hb_sink_start --rotate-size 64k
hb_fleet_hosts_run 2 5000 0
hb_fleet_ship_rest 0
"$BIN/hbcat" -o json "$T/fleet" >"$T/h0only.jsonl" || hb_fail "hbcat on the tree exited $?"
[ "$(ls "$T/fleet")" = h0 ] || hb_fail "the tree holds $(ls "$T/fleet"), expected h0"
hb_spawn "$T/tail.jsonl" "$T/tail.err" "$BIN/hbcat" -n 5 -f -o json "$T/fleet"
tail_pid=$!
lines() { [ "$(wc -l <"$1")" -ge "$2" ]; }
hb_wait_for 30 "hbcat -n 5 -f to print 5 records" lines "$T/tail.jsonl" 5

# two more hosts, new directories in the tree while both follow
hb_fleet_hosts_run 2 5000 1 2
hb_fleet_drain 1 2
grep -q "0 bad messages" "$T/sink.log" || hb_fail "the sink skipped messages"
for h in h0 h1 h2; do
	n=$(find "$T/fleet/$h" -name 'hb-*.msgpack' | wc -l)
	hb_log "$h: $n files"
	[ "$n" -ge 3 ] || hb_fail "$h has $n files in the tree: the sink did not rotate"
done
"$BIN/hbcat" -o json "$T/fleet" >"$T/final.jsonl" || hb_fail "hbcat on the tree exited $?"
want=$(wc -l <"$T/final.jsonl")
want_tail=$((5 + want - $(wc -l <"$T/h0only.jsonl")))
hb_wait_for 60 "hbcat -f to print $want records" lines "$T/all.jsonl" "$want"
hb_wait_for 60 "hbcat -n 5 -f to print $want_tail records" lines "$T/tail.jsonl" "$want_tail"
for p in "$all_pid" "$tail_pid"; do
	kill -0 "$p" 2>/dev/null || hb_fail "a follower exited early"
	kill -INT "$p"
	rc=0
	hb_wait_exit "$p" 20 || rc=$?
	[ $rc -eq 0 ] || hb_fail "hbcat -f exited $rc on SIGINT"
done
[ ! -s "$T/all.err" ] && [ ! -s "$T/tail.err" ] || hb_fail "hbcat -f complained: $(cat "$T/all.err" "$T/tail.err")"

for i in 0 1 2; do
	grep "\"host\":\"h$i\"" "$T/all.jsonl" >"$T/all.h$i.jsonl" || true
	"$PY" "$E2E/check_load.py" "$T/all.h$i.jsonl" --load "$T/load.h$i.json" ||
		hb_fail "hbcat -f: the records of h$i"
done
"$PY" - "$T" <<'PY' || hb_fail "hbcat -f on the fleet tree"
import collections, json, sys
t = sys.argv[1]
def lines(name):
    return open("%s/%s.jsonl" % (t, name)).read().splitlines()
final, h0only = lines("final"), lines("h0only")
follow, tail = lines("all"), lines("tail")
# every record once, whatever order the follow could give them in
assert sorted(follow) == sorted(final), \
    "hbcat -f printed %d records, the finished tree holds %d" % (len(follow), len(final))
# -n 5: the last five of h0, then exactly everything that came after
assert sorted(tail[:5]) == sorted(h0only[-5:]), "-n 5: not the last 5 records of h0"
later = collections.Counter(final) - collections.Counter(h0only)
assert collections.Counter(tail[5:]) == later, "-n 5 -f: not exactly the later records"
hosts = collections.Counter(json.loads(l).get("host") for l in tail[5:])
assert hosts.get("h0", 0) == 0 and hosts["h1"] > 0 and hosts["h2"] > 0, hosts
print("hbcat -f: %d records of 3 hosts; -n 5 -f: 5 + %d (%s)" % (len(follow), len(tail) - 5, dict(hosts)))
PY
echo "ok"
