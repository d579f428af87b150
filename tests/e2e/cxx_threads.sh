#!/usr/bin/env bash
# C++: tests/e2e/cxx_threads.cpp, built as C++17 with g++ and with clang++
# (-Wall -Wextra -Werror), emits from four threads through one hb::producer,
# through the C API and the wrapper; the archive holds every event once,
# each thread's under a producer of its own, field for field as sent, and
# the counter bumped by every thread reads as the total.
set -euo pipefail
source "$(dirname "$0")/common.bash"
hb_need hbcollect hbcat
command -v clang++ >/dev/null || hb_fail "clang++ is not installed (tools/packages/test.txt)"
san=()
[ -n "${SANITIZE:-}" ] && san=(-fsanitize="$SANITIZE")
for cxx in g++ clang++; do
	# gcc's sanitizer runtime is not clang's: clang++ only compiles then
	if [ -n "${SANITIZE:-}" ] && [ $cxx = clang++ ]; then
		$cxx -std=c++17 -Wall -Wextra -Werror -fsyntax-only -I"$ROOT/include" \
			"$E2E/cxx_threads.cpp" || hb_fail "cxx_threads.cpp does not compile with $cxx"
		continue
	fi
	$cxx -std=c++17 -Wall -Wextra -Werror -O2 "${san[@]}" -I"$ROOT/include" \
		"$E2E/cxx_threads.cpp" "$BUILD/lib/libhb.a" -lpthread -o "$T/cxx-$cxx" ||
		hb_fail "cxx_threads.cpp does not build with $cxx"
	dir="$T/archive-$cxx"
	hb_collector_start "$dir"
	"$T/cxx-$cxx" || hb_fail "the $cxx build failed"
	only_collector_ring() { [ "$(hb_shm_count)" -eq 1 ]; }
	hb_wait_for 30 "every ring drained and removed" only_collector_ring
	hb_collector_stop
	"$BIN/hbcat" -o json "$dir" >"$T/$cxx.json" || hb_fail "hbcat failed on $dir"
	"$PY" - "$T/$cxx.json" <<'PY' || hb_fail "the $cxx build's archive differs from what it sent"
import json, sys
T, N = 4, 5000
recs = [json.loads(l) for l in open(sys.argv[1])]
prods = {r["p"]: r for r in recs if r["k"] == "producer" and r["name"] == "cxx"}
bad, seen, ring_of, total = [], {}, {}, 0
for r in recs:
    if r["k"] == "heartbeat" and r["p"] in prods:
        total = max(total, r.get("metrics", {}).get("cxx.sent", 0))
    if r["k"] != "event" or r["type"] != "cxx.ev":
        continue
    f = r["fields"]
    t, n = f["t"], -f["n"]
    # req 0 is "no request id": null in JSON
    want = {"t": t, "n": -n, "x": n * 0.5 + t, "ok": n % 3 == 0, "who": "ACME-%d" % t}
    if f != want or r["req"] != (n or None) or r["prio"] != ("normal" if n % 2 == 0 else "high"):
        bad.append("event %s, expected fields %s" % (r, want))
    if ring_of.setdefault(t, r["p"]) != r["p"]:
        bad.append("thread %d's events under producers %d and %d" % (t, ring_of[t], r["p"]))
    seen.setdefault(t, []).append(n)
for t in range(T):
    if seen.get(t) != list(range(N)):
        bad.append("thread %d: %d events, not 0..%d once each in order" % (t, len(seen.get(t, [])), N - 1))
if len(set(ring_of.values())) != T:
    bad.append("%d producers for %d threads" % (len(set(ring_of.values())), T))
if total != T * N:
    bad.append("counter total %d, expected %d" % (total, T * N))
for b in bad[:20]:
    print("cxx_threads.sh:", b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
done
echo "ok"
