#!/usr/bin/env bash
# hbcat -n N prints the last N records (in time order) and nothing else;
# -n 0 none, -n all every one; -f prints the last N (10 by default), not
# the whole archive, then follows what the collector writes next.
set -euo pipefail
source "$(dirname "$0")/common.bash"
hb_need hbcollect hbload hbcat

dir="$T/arch"
hb_collector_start "$dir"
hb_collector_ready "$dir"
"$BIN/hbload" --bus "$BUS" --producers 2 --records 2000 --block --name one >/dev/null ||
	hb_fail "hbload one"
hb_collector_stop

"$BIN/hbcat" --utc "$dir" >"$T/all"
total=$(wc -l <"$T/all")
[ "$total" -gt 4000 ] || hb_fail "archive too small: $total records"
"$BIN/hbcat" --utc -n 7 "$dir" >"$T/n7"
[ "$(wc -l <"$T/n7")" -eq 7 ] || hb_fail "-n 7 printed $(wc -l <"$T/n7") records"
cmp -s "$T/n7" <(tail -n 7 "$T/all") || hb_fail "-n 7 is not the last 7 records"
"$BIN/hbcat" --utc --lines 3 -o json "$dir" >"$T/n3.json"
cmp -s "$T/n3.json" <("$BIN/hbcat" -o json "$dir" | tail -n 3) || hb_fail "--lines 3 -o json"
[ "$("$BIN/hbcat" -n 0 "$dir" | wc -l)" -eq 0 ] || hb_fail "-n 0 printed records"
cmp -s <("$BIN/hbcat" --utc -n all "$dir") "$T/all" || hb_fail "-n all is not everything"
cmp -s <("$BIN/hbcat" --utc -n "$((total + 5))" "$dir") "$T/all" || hb_fail "-n past the total"
# the last N of a selection, and of file order
cmp -s <("$BIN/hbcat" --utc -n 4 -p one-1 -e "$dir") <("$BIN/hbcat" --utc -p one-1 -e "$dir" | tail -n 4) ||
	hb_fail "-n 4 of a filter"
cmp -s <("$BIN/hbcat" --utc --raw -n 5 "$dir") <("$BIN/hbcat" --utc --raw "$dir" | tail -n 5) ||
	hb_fail "-n 5 --raw"
# -n 5 of a msgpack output is an archive of those 5 records (and the
# producer records they need)
"$BIN/hbcat" -o msgpack -n 5 "$dir" >"$T/n5.msgpack"
cmp -s <("$BIN/hbcat" --utc "$T/n5.msgpack" | grep -v ' BUS producer ') <(tail -n 5 "$T/all") ||
	hb_fail "-o msgpack -n 5"
for bad in -1 x 5x +3; do
	rc=0
	"$BIN/hbcat" -n "$bad" "$dir" >/dev/null 2>"$T/err" || rc=$?
	[ $rc -eq 2 ] && grep -q -- '--lines' "$T/err" || hb_fail "-n $bad: exit $rc, $(cat "$T/err")"
done

# -f -n 3: the last 3, then the records of a collector started later
hb_spawn "$T/f3" "$T/f3.err" "$BIN/hbcat" --utc -f -n 3 "$dir"
f3=$!
hb_spawn "$T/f10" "$T/f10.err" "$BIN/hbcat" --utc -f "$dir"
f10=$!
lines_at_least() { [ "$(wc -l <"$1")" -ge "$2" ]; }
hb_wait_for 10 "hbcat -f -n 3 to print 3 records" lines_at_least "$T/f3" 3
hb_wait_for 10 "hbcat -f to print 10 records" lines_at_least "$T/f10" 10
sleep 0.5
[ "$(wc -l <"$T/f3")" -eq 3 ] || hb_fail "-f -n 3 printed $(wc -l <"$T/f3") records before new ones"
cmp -s "$T/f3" <(tail -n 3 "$T/all") || hb_fail "-f -n 3 did not start with the last 3"
[ "$(wc -l <"$T/f10")" -eq 10 ] || hb_fail "-f printed $(wc -l <"$T/f10") records, want the last 10"
cmp -s "$T/f10" <(tail -n 10 "$T/all") || hb_fail "-f did not start with the last 10"
hb_collector_start "$dir"
started() { grep -q 'BUS collector event=start' "$1"; }
hb_wait_for 10 "hbcat -f to follow the new collector's start" started "$T/f3"
"$BIN/hbload" --bus "$BUS" --producers 1 --records 500 --block --name two >/dev/null ||
	hb_fail "hbload two"
new_events() { [ "$(grep -c ' two-0\[[0-9]*\] #[0-9]* [a-z]* load\.' "$T/f3")" -eq 500 ]; }
hb_wait_for 10 "hbcat -f to follow the 500 new events" new_events
hb_collector_stop
kill -INT "$f3" "$f10"
hb_wait_exit "$f3" 10
hb_wait_exit "$f10" 10
n=$(grep -c ' one-[01]\[' "$T/f3" || true)
[ "$n" -le 3 ] || hb_fail "-f -n 3 printed $n records of the earlier load"
echo "ok hbcat_lines: $total records, -n and -f -n exact"
