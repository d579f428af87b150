#!/usr/bin/env bash
# hbtop -h prints the help; in its text, a producer's ALERT comes before
# its metrics (visible at 160 columns) and timings carry a unit that fits
# them (ns, us, ms, s), not fractions of a millisecond.
set -euo pipefail
. "$(dirname "$0")/common.bash"
hb_need hbcollect hbcat hbtop hbload

for h in -h --help; do
	"$BIN/hbtop" $h >"$T/help" || hb_fail "hbtop $h exited $?"
	grep -q '^usage: hbtop' "$T/help" || hb_fail "hbtop $h: $(head -n 2 "$T/help")"
done

A="$T/archive"
hb_collector_start "$A" --alert 'busy rate load.sent > 5'
hb_collector_ready "$A"
hb_spawn "$T/load.out" "$T/load.err" "$BIN/hbload" --bus "$BUS" --producers 1 --rate 100 \
	--seconds 60 --interval-ms 200 --name txt
fired() { "$BIN/hbcat" -p txt-0 "$A" 2>/dev/null | grep -q ' BUS alert .*name=busy .*event=fired'; }
hb_wait_for 20 "the busy alert of txt-0" fired
HB_DIR="$A" COLUMNS=160 "$BIN/hbtop" --bus "$BUS" -b -n 1 -p txt-0 >"$T/top.txt"
cat "$T/top.txt" >&2
line=$(grep '^txt-0 ' "$T/top.txt") || hb_fail "no txt-0 row"
pre=${line%%ALERT:busy*}
[ "$pre" != "$line" ] || hb_fail "no ALERT:busy in the row: $line"
[ ${#pre} -lt 150 ] || hb_fail "ALERT starts at column ${#pre}, past a 160-column screen"
grep -Eq ' load\.emit=avg [0-9.]+(ns|us|ms|s) max [0-9.]+(ns|us|ms|s) ' <<<"$line" ||
	hb_fail "timing without a fitting unit: $line"
grep -Eq 'load\.emit=avg 0\.0|e-0' <<<"$line" && hb_fail "timing as a small fraction: $line"
echo "ok hbtop_text: help, ALERT at column ${#pre}, timings with units"
