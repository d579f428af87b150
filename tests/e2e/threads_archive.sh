#!/usr/bin/env bash
# 8 threads share one process-wide handle, 200,000 events each plus a
# counter bumped from every thread; half of them exit while the others
# still run. In the archive: every event exactly once, in order, under its
# own thread's producer (thread tag wI); every thread reported exited
# (closed); the counter's total in the heartbeats is the sum (1,600,000);
# hbtop shows one row per thread (thr/wI).
set -euo pipefail
source "$(dirname "$0")/common.bash"
hb_need hbcollect hbtop
n=${HB_THREADS_N:-200000}
san=()
[ -n "${SANITIZE:-}" ] && san=(-fsanitize="$SANITIZE")
cc -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -O2 "${san[@]}" -I"$ROOT/include" \
	"$E2E/threads_emit.c" "$BUILD/lib/libhb.a" -lpthread -o "$T/threads_emit" ||
	hb_fail "cannot build threads_emit.c"
cc -std=gnu11 -Wall -Wextra -Werror -O2 "${san[@]}" -I"$ROOT/include" "$E2E/threads_check.c" \
	"$BUILD/lib/libhbread.a" -lmsgpackc -lm -o "$T/threads_check" ||
	hb_fail "cannot build threads_check.c"

dir="$T/archive"
hb_collector_start "$dir"
"$T/threads_emit" "$n" 300 || hb_fail "threads_emit failed"
only_collector_ring() { [ "$(hb_shm_count)" -eq 1 ]; }
hb_wait_for 60 "every thread's ring drained and removed" only_collector_ring
hb_collector_stop
"$T/threads_check" "$dir" "$n" || hb_fail "the archive does not hold what the threads sent"
# hbtop tells the threads apart: one row per thread, named thr/wI
"$BIN/hbtop" -b -n 1 -o json "$dir" >"$T/top.json" || hb_fail "hbtop failed on the archive"
"$PY" - "$T/top.json" <<'PY' || hb_fail "hbtop does not show one exited row per thread"
import json, sys
rows = {p["name"]: p["state"] for p in json.load(open(sys.argv[1]))["producers"]}
want = {"thr/w%d" % i: "exited" for i in range(8)}
got = {k: v for k, v in rows.items() if k.startswith("thr/w")}
sys.exit(0 if got == want else print("hbtop rows:", rows, file=sys.stderr) or 1)
PY
echo "ok"
