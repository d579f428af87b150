#!/usr/bin/env bash
# hbtop with more producers than rows, in a 100x15 tmux window: the last
# line says which rows show and how many are hidden; PgDn/PgUp, Down/Up,
# j/k and Home/End scroll; no row wraps onto the next line.
set -euo pipefail
. "$(dirname "$0")/common.bash"
hb_need hbcollect hbtop hbload
command -v tmux >/dev/null || { echo "tmux is not installed"; exit 77; }

A="$T/archive"
hb_collector_start "$A"
hb_collector_ready "$A"
# 20 producers and the collector: 21 rows, 10 fit under the 4 header lines
hb_spawn "$T/load.out" "$T/load.err" "$BIN/hbload" --bus "$BUS" --producers 20 --rate 10 \
	--seconds 120 --interval-ms 200 --name s

. "$(dirname "$0")/tmux_common.bash"
# TERM=screen: the terminal tmux is (its keys, Home and End among them, as
# tmux sends them)
tm_start 100 15 screen "$A"
tm send-keys -t "$SESS" "$BIN/hbtop -d 0.3 -s name; echo HBTOP_EXIT=\$?" Enter

first_row() { screen | sed -n 5p | awk '{print $1}'; }
first_is() { [ "$(first_row)" = "$1" ]; }
# rows sorted by name: hbcollect s-0 s-1 s-10 ... s-19 s-2 ... s-9
hb_wait_for 20 "21 rows, 10 shown" shows '^-- rows 1-10 of 21, 11 hidden'
first_is hbcollect || hb_fail "first row $(first_row)"
tm send-keys -t "$SESS" NPage
hb_wait_for 10 "the next page" shows '^-- rows 11-20 of 21, 11 hidden'
first_is s-17 || hb_fail "after PgDn the first row is $(first_row)"
tm send-keys -t "$SESS" j
hb_wait_for 10 "one row down" shows '^-- rows 12-21 of 21'
tm send-keys -t "$SESS" j
sleep 0.5
shows '^-- rows 12-21 of 21' || hb_fail "scrolled past the last row"
tm send-keys -t "$SESS" k Up
hb_wait_for 10 "two rows up" shows '^-- rows 10-19 of 21'
tm send-keys -t "$SESS" Home
hb_wait_for 10 "Home" shows '^-- rows 1-10 of 21'
tm send-keys -t "$SESS" End
hb_wait_for 10 "End" shows '^-- rows 12-21 of 21'
first_is s-18 || hb_fail "after End the first row is $(first_row)"
tm send-keys -t "$SESS" PPage
hb_wait_for 10 "PgUp" shows '^-- rows 2-11 of 21'
tm send-keys -t "$SESS" Down
hb_wait_for 10 "Down" shows '^-- rows 3-12 of 21'
# every row line is a row: no wrapped remainder, nothing stray
screen >"$T/screen"
sed -n '5,14p' "$T/screen" | awk '$1 !~ /^(s-[0-9]+|hbcollect)$/ { print "stray line " NR + 4 ": " $0; bad = 1 } END { exit bad }' ||
	hb_fail "lines that are not rows: $(cat "$T/screen")"
awk 'length($0) > 100 { exit 1 }' "$T/screen" || hb_fail "a line wider than the screen"
tm send-keys -t "$SESS" q
hb_wait_for 10 "hbtop to exit 0" shows "^HBTOP_EXIT=0"
echo "ok hbtop_scroll: pages, lines, ends, no wrapped rows"
