#!/usr/bin/env bash
# tools/hbcollect.service as shipped: it names a User=, its ExecStart (with
# the unit's own Environment=HB_BUS, /var/lib/hb moved to a test directory,
# the metrics port to a free one) is a command line hbcollect accepts, and
# the archive goes to the directory of the unit's HB_BUS, whatever it is.
set -euo pipefail
. "$(dirname "$0")/common.bash"
hb_need hbcollect hbcat ticker

unit="$ROOT/tools/hbcollect.service"
grep -q '^User=[a-z]' "$unit" || hb_fail "the unit runs as root: no User="
if command -v systemd-analyze >/dev/null && [ -d /run/systemd/system ]; then
	systemd-analyze verify "$unit" 2>&1 | grep -v 'Command .* is not executable' | grep . &&
		hb_fail "systemd-analyze verify complains"
fi
port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# the ExecStart line (continuations joined), with HB_BUS=$BUS as a copy of
# the unit for another bus would set it
"$PY" - "$unit" "$BUS" "$T/lib" "$port" "$BIN" >"$T/cmd" <<'PY'
import re, shlex, sys
unit, bus, lib, port, bindir = sys.argv[1:]
text = open(unit).read().replace("\\\n", " ")
env = dict(re.findall(r"^Environment=(\w+)=(\S+)$", text, re.M))
assert env.get("HB_BUS") == "default", env
line = re.search(r"^ExecStart=(.*)$", text, re.M).group(1)
line = line.replace("${HB_BUS}", bus).replace("/var/lib/hb", lib)
line = line.replace("/usr/local/bin/", bindir + "/").replace("127.0.0.1:9464", "127.0.0.1:" + port)
print("\n".join(shlex.split(line)))
PY
mapfile -t cmd <"$T/cmd"
mkdir -p "$T/lib"
hb_spawn /dev/null "$T/collector.log" "${cmd[@]}"
COLLECTOR_PID=$!
hb_wait_for 20 "the unit's collector to start" grep -q "collecting bus '$BUS' into $T/lib/$BUS\$" \
	"$T/collector.log"
"$BIN/ticker" --name unit --interval-ms 100 --rate 100 --count 10 --seconds 1 >/dev/null
hb_wait_for 20 "the ticker exited" grep -q "unit.*exited" "$T/collector.log"
kill -TERM "$COLLECTOR_PID"
hb_wait_exit "$COLLECTOR_PID" 30
n=$("$BIN/hbcat" -o json -e "$T/lib/$BUS" | grep -c '"producer":"unit"' || true)
[ "$n" = 10 ] || hb_fail "$n events in $T/lib/$BUS, expected 10"
echo "systemd_unit_runs: ExecStart accepted, archive in /var/lib/hb/\$HB_BUS"
