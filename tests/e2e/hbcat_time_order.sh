#!/usr/bin/env bash
# hbcat prints a live archive in time order: three producers at 20k
# events/s each for 3 s, interleaved by drain batch in the files, come out
# with no timestamp going back, every record once (exact counts), each
# producer's records in sequence order; --raw keeps file order, the same
# records.
set -euo pipefail
source "$(dirname "$0")/common.bash"
hb_need hbcollect hbload hbcat

dir="$T/arch"
hb_collector_start "$dir" --rotate-size 4M
"$BIN/hbload" --bus "$BUS" --producers 3 --records 60000 --rate 20000 --block \
	--interval-ms 100 --name ord >"$T/load.out" 2>"$T/load.err" ||
	hb_fail "hbload: $(cat "$T/load.err")"
hb_collector_stop
nfiles=$(ls "$dir"/hb-*.msgpack | wc -l)
[ "$nfiles" -ge 2 ] || hb_fail "want rotated files, got $nfiles"

# time order: the first field is the UTC time, fixed width, sorts as text
"$BIN/hbcat" --utc "$dir" >"$T/merged"
"$BIN/hbcat" --utc --raw "$dir" >"$T/raw"
inv() { awk 'NR > 1 && $1 < prev { n++ } { prev = $1 } END { print n + 0 }' "$1"; }
raw_inv=$(inv "$T/raw")
merged_inv=$(inv "$T/merged")
hb_log "inversions: raw order $raw_inv, merged $merged_inv; files $nfiles"
[ "$raw_inv" -gt 0 ] || hb_fail "raw order has no inversion: the test proves nothing"
[ "$merged_inv" -eq 0 ] || hb_fail "$merged_inv inversions in time order"
# the same records, each once
[ "$(wc -l <"$T/merged")" -eq "$(wc -l <"$T/raw")" ] || hb_fail "merged and raw counts differ"
cmp -s <(sort "$T/merged") <(sort "$T/raw") || hb_fail "merged and raw records differ"
n=$(awk '$5 ~ /^load\.(order|fill|note)$/ { n++ } END { print n + 0 }' "$T/merged")
[ "$n" -eq 180000 ] || hb_fail "$n events, want 180000"
# each producer's records (events and heartbeats share its sequence): every
# sequence number from 0 once (--block drops nothing), 60000 events, and
# the events in sequence order (heartbeats are stamped by another clock
# that may disagree by a few hundred ns: time order places them by time)
for i in 0 1 2; do
	grep " ord-$i\[[0-9]*\] #" "$T/merged" | awk '{ print substr($3, 2) }' | sort -n >"$T/seq.$i"
	last=$(tail -n 1 "$T/seq.$i")
	cmp -s "$T/seq.$i" <(seq 0 "$last") || hb_fail "ord-$i: sequence numbers 0..$last not each once"
	grep " ord-$i\[[0-9]*\] #" "$T/merged" |
		awk -v p="ord-$i" '$5 ~ /^load\.(order|fill|note)$/ { s = substr($3, 2) + 0
			if (ev && s <= prev) { print "FAIL: " p " event #" s " after #" prev; exit 1 }
			prev = s; ev++ }
		     END { if (ev != 60000) { print "FAIL: " p " has " ev " events"; exit 1 } }'
done
echo "ok hbcat_time_order: raw $raw_inv inversions, merged 0"
