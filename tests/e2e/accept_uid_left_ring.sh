#!/usr/bin/env bash
# A collector run by an unprivileged user with --accept-uid collects a ring
# of another user (root) it may read but not remove: it drains it, records
# it exited once, says once that it cannot remove it, and leaves it alone
# from then on; rescans (every second) do not attach it again. When that
# file is replaced by a new ring of the same name, the new one is
# collected. Needs root (a second user); skipped otherwise.
set -euo pipefail
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/unpriv.bash"
hb_need hbcollect hbcat
command -v cc >/dev/null || {
	echo "no C compiler to build the probe"
	exit 77
}
hb_unpriv_setup
chmod 0755 "$T"
cc -O1 -D_GNU_SOURCE -I"$ROOT/include" "$E2E/open_probe.c" "$ROOT/producers/hb.c" \
	"$ROOT/producers/hb_thread.c" -lpthread -o "$T/open_probe" ${SANITIZE:+-fsanitize=$SANITIZE}

# probe NAME: a root ring of mode 0660 in the collector user's group,
# closed when $T/go.NAME gets a line
probe()
{
	mkfifo "$T/go.$1"
	hb_spawn "$T/probe.$1.out" "$T/probe.$1.err" sh -c "exec '$T/open_probe' '$BUS' '$1' 0660 <'$T/go.$1'"
	exec {fd}>"$T/go.$1"
	eval "GO_$1=$fd"
	hb_wait_for 10 "the probe $1" grep -q '^rc=0 ring=' "$T/probe.$1.out"
	RING=/dev/shm/$(sed -n 's/^rc=0 ring=//p' "$T/probe.$1.out")
	chgrp "$GID_U" "$RING"
}
probe foreign
ring=$RING
A="$UT/archive"
hb_spawn /dev/null "$T/collector.log" "${AS_USER[@]}" "$BIN/hbcollect" --bus "$BUS" \
	--dir "$A" --accept-uid
COLLECTOR_PID=$!
hb_wait_for 20 "the foreign ring attached" grep -q "collecting bus" "$T/collector.log"
echo >&"$GO_foreign" # hb_close: the collector drains it and cannot remove it
hb_wait_for 20 "the collector failing to remove it" grep -q "cannot remove" "$T/collector.log"
sleep 3.5 # three rescans
[ -e "$ring" ] || hb_fail "the ring was removed after all"
# a new ring under the same name (another file): collected
cp -p "$ring" "$T/old-ring"
rm -f "$ring"
cp -p "$T/old-ring" "$ring" # same bytes and owner, another inode
collected_twice() { [ "$(grep -c "exited (closed)" "$T/collector.log")" -ge 2 ]; }
hb_wait_for 20 "the new file collected" collected_twice
sleep 1.5
kill -TERM "$COLLECTOR_PID"
hb_wait_exit "$COLLECTOR_PID" 30
cat "$T/collector.log" >&2
[ "$(grep -c "cannot remove" "$T/collector.log")" = 2 ] ||
	hb_fail "expected one 'cannot remove' per file"
"$BIN/hbcat" -o json "$A" >"$T/r.jsonl"
n=$(grep -c '"k":"producer".*"why":"attached".*"name":"foreign"' "$T/r.jsonl" || true)
[ "$n" = 2 ] || hb_fail "the foreign ring was attached $n times, expected 2 (one per file)"
e=$(grep -c '"k":"state".*"producer":"foreign".*"state":"exited"' "$T/r.jsonl" || true)
[ "$e" = 2 ] || hb_fail "exited $e times, expected 2"
echo "accept_uid_left_ring: attached once per file, 'cannot remove' once per file"
