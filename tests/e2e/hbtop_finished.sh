#!/usr/bin/env bash
# hbtop and finished producers: an exited one and a SIGKILLed one stop
# their uptime at their end and show no CPU% or RSS; --hide-done hides
# them, --expire hides them once that long gone; with a filter the header
# totals are those of the rows shown.
set -euo pipefail
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/liveness_common.bash"
hb_need hbcollect hbcat hbtop ticker

A="$T/archive"
hb_collector_start "$A"
hb_collector_ready "$A"
hb_spawn "$T/live.out" "$T/live.err" "$BIN/ticker" --name live --interval-ms 200 --rate 50 --seconds 120
hb_spawn "$T/done.out" "$T/done.err" "$BIN/ticker" --name done --interval-ms 200 --rate 50 --seconds 1.5
hb_spawn "$T/victim.out" "$T/victim.err" "$BIN/ticker" --name victim --interval-ms 200 --rate 50 --seconds 120
victim=$!
sleep 1
kill -KILL "$victim"
hb_wait_for 20 "done exited" has_state "$A" done exited
hb_wait_for 20 "victim crashed" has_state "$A" victim crashed
top() { HB_DIR="$A" "$BIN/hbtop" --bus "$BUS" -b -n 1 "$@"; }
# column of a row: 1 NAME 2 PID 3 STATE 4 HB-AGE 5 UPTIME ... 7 EVENTS 10 CPU% 11 RSS
col() { awk -v n="$1" -v c="$2" '$1 == n { print $c }' "$3"; }

top >"$T/a.txt"
sleep 1.5
top >"$T/b.txt"
cat "$T/b.txt" >&2
for n in done victim; do
	[ "$(col $n 10 "$T/b.txt")" = - ] || hb_fail "$n shows CPU% $(col $n 10 "$T/b.txt")"
	[ "$(col $n 11 "$T/b.txt")" = - ] || hb_fail "$n shows RSS $(col $n 11 "$T/b.txt")"
	[ "$(col $n 5 "$T/a.txt")" = "$(col $n 5 "$T/b.txt")" ] ||
		hb_fail "$n uptime goes on after its end: $(col $n 5 "$T/a.txt") then $(col $n 5 "$T/b.txt")"
done
[ "$(col live 5 "$T/a.txt")" != "$(col live 5 "$T/b.txt")" ] || hb_fail "live uptime stands still"
[ "$(col live 10 "$T/b.txt")" != - ] || hb_fail "live has no CPU%"

top --hide-done >"$T/hide.txt"
[ -n "$(col live 1 "$T/hide.txt")" ] || hb_fail "--hide-done hid live"
[ -z "$(col done 1 "$T/hide.txt")$(col victim 1 "$T/hide.txt")" ] || hb_fail "--hide-done shows finished rows"
top --expire 1m >"$T/keep.txt"
[ -n "$(col done 1 "$T/keep.txt")" ] && [ -n "$(col victim 1 "$T/keep.txt")" ] ||
	hb_fail "--expire 1m hid rows ended seconds ago"
top --expire 0.5s >"$T/exp.txt"
[ -n "$(col live 1 "$T/exp.txt")" ] || hb_fail "--expire hid live"
[ -z "$(col done 1 "$T/exp.txt")$(col victim 1 "$T/exp.txt")" ] || hb_fail "--expire 0.5s kept finished rows"

# header totals of a filtered view: those of its one row
top -p live >"$T/f.txt"
ev=$(col live 7 "$T/f.txt")
grep -q "^producers 1: 1 healthy, .*  events $ev  " "$T/f.txt" ||
	hb_fail "filtered header is not live's: $(sed -n 2p "$T/f.txt") (row events $ev)"
echo "ok hbtop_finished: uptime stops, no proc figures, hidden and expired, totals filtered"
