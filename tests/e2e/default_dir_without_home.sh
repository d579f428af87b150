#!/usr/bin/env bash
# Without --dir, HB_DIR, XDG_STATE_HOME and HOME, hbcollect, hbcat and hbtop
# agree on the archive directory: the user's home directory from the
# password database + /.local/state/hb/BUS (hb_default_dir, the one rule).
# The collector writes there; hbcat and hbtop, given no path, read it.
set -euo pipefail
. "$(dirname "$0")/common.bash"
hb_need hbcollect hbcat hbtop ticker

home=$(getent passwd "$(id -u)" | cut -d: -f6)
[ -n "$home" ] && [ -d "$home" ] && [ -w "$home" ] || {
	echo "the user's home directory '$home' is not writable"
	exit 77
}
want="$home/.local/state/hb/$BUS"
[ ! -e "$want" ] || hb_fail "$want exists already"
# the test's directory goes too, and the test's status is kept for hb_cleanup
trap 'rc=$?; rm -rf "$want"; (exit $rc); hb_cleanup' EXIT
nohome=(env -u HOME -u XDG_STATE_HOME -u HB_DIR)

cd "$T" # a relative fallback would land here
hb_spawn /dev/null "$T/collector.log" "${nohome[@]}" "$BIN/hbcollect" --bus "$BUS"
COLLECTOR_PID=$!
hb_wait_for 20 "the collector to start" grep -q "collecting bus" "$T/collector.log"
grep -q "collecting bus '$BUS' into $want\$" "$T/collector.log" ||
	hb_fail "the collector writes elsewhere: $(cat "$T/collector.log")"
"$BIN/ticker" --name homeless --interval-ms 100 --rate 100 --count 20 --seconds 1 >/dev/null
hb_wait_for 20 "the ticker exited" grep -q "homeless.*exited" "$T/collector.log"
kill -TERM "$COLLECTOR_PID"
hb_wait_exit "$COLLECTOR_PID" 30

n=$("${nohome[@]}" "$BIN/hbcat" --bus "$BUS" -o json -e | grep -c '"producer":"homeless"' || true)
[ "$n" = 20 ] || hb_fail "hbcat read $n events of homeless from its default directory, expected 20"
"${nohome[@]}" "$BIN/hbtop" --bus "$BUS" -b -n 1 -o json >"$T/top.json"
"$PY" - "$T/top.json" "$want" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["archive"] == sys.argv[2], (s["archive"], sys.argv[2])
assert "homeless" in [p["name"] for p in s["producers"]], s["producers"]
PY
[ ! -e "$T/.local" ] || hb_fail "something wrote under the current directory"
echo "default_dir_without_home: collector, hbcat and hbtop all use $want"
