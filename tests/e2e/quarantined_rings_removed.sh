#!/usr/bin/env bash
# Quarantined rings do not pile up in /dev/shm: once the process a ring
# names (in its header, or in its name hb.BUS.NAME.PID.N when the header is
# unreadable) is gone, the collector removes it; while that process lives
# the ring stays, untouched. Each is quarantined exactly once.
set -euo pipefail
. "$(dirname "$0")/common.bash"
hb_need hbcollect hbcat
. "$(dirname "$0")/hostile_common.bash"

A="$T/archive"
hb_collector_start "$A"
log="$T/collector.1.log"
# a process that is gone: junk under its pid
true &
DEAD=$!
wait "$DEAD"
printf 'not a ring at all %.0s' {1..100} >"/dev/shm/hb.$BUS.junk.$DEAD.0"
# live processes whose rings fail validation: by their header (a record
# past the end) and by their magic (the pid comes from the name)
kinds=(len-past-end bad-magic)
pids=()
for k in "${kinds[@]}"; do
	hb_spawn "$T/$k.out" "$T/$k.err" "$T/hostile_ring" "$BUS" "$k"
	pids+=($!)
done
for k in "${kinds[@]}"; do
	hb_wait_for 30 "hostile-$k quarantined" grep -q "hostile-$k\..*quarantined" "$log"
done
hb_wait_for 30 "the junk of a gone process removed" \
	test ! -e "/dev/shm/hb.$BUS.junk.$DEAD.0"
grep -q "junk.$DEAD.0: removed (quarantined, process $DEAD gone)" "$log" ||
	hb_fail "no log line for the removal"
# the live ones are still there, a tidy pass later
sleep 1.5
for i in 0 1; do
	compgen -G "/dev/shm/hb.$BUS.hostile-${kinds[$i]}.${pids[$i]}.*" >/dev/null ||
		hb_fail "the ring of live process ${pids[$i]} (${kinds[$i]}) was removed"
done
kill -TERM "${pids[@]}"
gone() { ! compgen -G "$pat" >/dev/null; }
for i in 0 1; do
	hb_wait_exit "${pids[$i]}" 20 || true
	pat="/dev/shm/hb.$BUS.hostile-${kinds[$i]}.${pids[$i]}.*"
	hb_wait_for 30 "the ring of ${kinds[$i]} removed once its process exited" gone
done
sleep 1.5 # rescans find nothing to quarantine again
hb_collector_stop
[ "$(hb_shm_count)" = 0 ] || hb_fail "left in /dev/shm: $(ls /dev/shm | grep "hb.$BUS." || true)"

"$BIN/hbcat" -o json "$A" | "$PY" -c '
import json, sys
from collections import Counter
q = Counter(json.loads(l).get("ring") for l in sys.stdin
            if "\"quarantined\"" in l and json.loads(l).get("k") == "state")
rings = sorted(q)
assert len(rings) == 3 and all(n == 1 for n in q.values()), q
print("quarantined_rings_removed: quarantined once each and removed:", rings)
'
