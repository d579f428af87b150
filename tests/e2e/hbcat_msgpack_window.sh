#!/usr/bin/env bash
# hbcat -o msgpack of a time window is an archive of that window: its
# summary spans the window, not back to when the producers attached (the
# tables it restates are not records of the window); producer records read
# as short lines naming their types and metrics.
set -euo pipefail
source "$(dirname "$0")/common.bash"
hb_need hbcollect hbload hbcat

dir="$T/arch"
hb_collector_start "$dir"
hb_collector_ready "$dir"
"$BIN/hbload" --bus "$BUS" --producers 2 --records 6000 --rate 2000 --interval-ms 100 --block \
	--name win >/dev/null || hb_fail "hbload"
hb_collector_stop

first=$("$BIN/hbcat" -o json -e -n all "$dir" | head -n 1 | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["ts_ns"])')
since=$((first + 2000000000)) until=$((first + 2500000000))
s=$(printf '@%d.%09d' $((since / 1000000000)) $((since % 1000000000)))
u=$(printf '@%d.%09d' $((until / 1000000000)) $((until % 1000000000)))
"$BIN/hbcat" -o msgpack -e --since "$s" --until "$u" "$dir" >"$T/w.msgpack"
want=$("$BIN/hbcat" -e --since "$s" --until "$u" "$dir" | wc -l)
[ "$want" -gt 1000 ] || hb_fail "only $want events in the window"
"$BIN/hbcat" --summary -o json "$T/w.msgpack" | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
since, until, want = map(int, sys.argv[1:])
assert d["events"] == want, (d["events"], want)
assert d["records"] == want, ("records besides the events", d["records"], want)
assert since <= d["first_ns"] and d["last_ns"] <= until, (d["first_ns"], d["last_ns"], since, until)
for p in d["producers"]:
    assert p["span_s"] <= 0.5, (p["name"], p["span_s"])
' "$since" "$until" "$want" || hb_fail "summary of the window"
# the output prints as its input did, and no producer record from before
cmp -s <("$BIN/hbcat" "$T/w.msgpack") <("$BIN/hbcat" -e --since "$s" --until "$u" "$dir") ||
	hb_fail "the window archive does not print as the window"

# producer records in text: one short line with the table names
"$BIN/hbcat" -p 'win-*' "$dir" | grep ' BUS producer ' >"$T/prod"
[ "$(wc -l <"$T/prod")" -eq 2 ] || hb_fail "want 2 producer records, got $(wc -l <"$T/prod")"
while IFS= read -r line; do
	[ ${#line} -le 400 ] || hb_fail "producer line of ${#line} characters: $line"
	[[ $line == *" types=[load.order,load.fill,load.note] metrics=[load.sent,load.fill_pct,load.emit,load.ring] "* ]] ||
		hb_fail "producer line without its table names: $line"
done <"$T/prod"
echo "ok hbcat_msgpack_window: $want events in a 0.5 s window"
