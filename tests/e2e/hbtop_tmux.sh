#!/usr/bin/env bash
# hbtop interactive, driven in tmux: producer rows appear, a sort key
# reorders them, a filter hides the others, a killed producer turns crashed,
# q exits 0 and leaves the terminal as it was (alternate screen off).
set -euo pipefail
. "$(dirname "$0")/common.bash"
hb_need hbcollect hbtop ticker
command -v tmux >/dev/null || { echo "tmux is not installed"; exit 77; }

A="$T/archive"
hb_collector_start "$A"
for spec in alpha:20 bravo:200 charlie:5; do
	hb_spawn "$T/${spec%%:*}.out" /dev/null "$BIN/ticker" --name "${spec%%:*}" \
		--interval-ms 200 --rate "${spec##*:}" --seconds 120
done
hb_spawn "$T/victim.out" /dev/null "$BIN/ticker" --name victim --interval-ms 200 --rate 5 \
	--seconds 120
VICTIM=$!

. "$(dirname "$0")/tmux_common.bash"
tm_start 200 40 xterm-256color "$A"
tm send-keys -t "$SESS" "clear; echo before-hbtop" Enter
tm send-keys -t "$SESS" "$BIN/hbtop -d 0.3; echo HBTOP_EXIT=\$?" Enter

# names of the producer rows in screen order
rows() { screen | awk '$1 ~ /^(alpha|bravo|charlie|victim)$/ {print $1}' | tr '\n' ' '; }
rows_are() { [ "$(rows)" = "$1" ]; }

hb_wait_for 20 "the four rows" rows_are "alpha bravo charlie victim "
# events/s needs a few whole seconds of history
sleep 4
tm send-keys -t "$SESS" e
hb_wait_for 20 "rows sorted by events/s" rows_are "bravo alpha charlie victim "
shows "sort ev/s" || hb_fail "status line does not name the sort"
tm send-keys -t "$SESS" r
hb_wait_for 10 "reversed sort" rows_are "victim charlie alpha bravo "
tm send-keys -t "$SESS" n
hb_wait_for 10 "rows sorted by name, reversed" rows_are "victim charlie bravo alpha "
tm send-keys -t "$SESS" r
hb_wait_for 10 "rows sorted by name" rows_are "alpha bravo charlie victim "

tm send-keys -t "$SESS" / 
hb_wait_for 10 "the filter prompt" shows "filter producer:"
tm send-keys -t "$SESS" "bra" Enter
hb_wait_for 10 "only bravo" rows_are "bravo "
tm send-keys -t "$SESS" / 
hb_wait_for 10 "the filter prompt" shows "filter producer:"
tm send-keys -t "$SESS" Enter
hb_wait_for 10 "all rows again" rows_are "alpha bravo charlie victim "

kill -KILL "$VICTIM"
# SIGKILL: dead (pid-gone), then crashed, the state the collector records
victim_dead() { screen | grep -Eq '^victim +[0-9]+ +crashed'; }
hb_wait_for 20 "victim crashed" victim_dead
screen | grep -Eq '^alpha +[0-9]+ +healthy' || hb_fail "alpha is not healthy"

tm send-keys -t "$SESS" "?"
hb_wait_for 10 "the help screen" shows "hbtop keys"
tm send-keys -t "$SESS" x
hb_wait_for 10 "the rows after help" rows_are "alpha bravo charlie victim "

tm send-keys -t "$SESS" q
hb_wait_for 10 "hbtop to exit 0" shows "^HBTOP_EXIT=0"
[ "$(tm display -p -t "$SESS" '#{alternate_on}')" = 0 ] || hb_fail "alternate screen still on"
shows "^before-hbtop" || hb_fail "the screen before hbtop was not restored"
screen | tail -n 5 >&2
echo "hbtop_tmux: rows, sort, filter, crashed, help and q all behaved"
