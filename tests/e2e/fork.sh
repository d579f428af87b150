#!/usr/bin/env bash
# fork(): a parent emits, forks a child that emits and closes, emits again,
# forks a child that emits and _exits without closing, emits again, forks a
# child that emits and calls exit() without closing, emits again and
# returns from main, through one handle opened before the forks. The
# archive holds every record of the parent and of each child exactly once,
# each under its own pid; no gap (nothing overwritten or missing); the
# parent and the children that closed or called exit() are reported exited
# (closed), the one that _exited crashed (pid-gone) under its own pid.
set -euo pipefail
source "$(dirname "$0")/common.bash"
hb_need hbcollect hbcat
san=()
[ -n "${SANITIZE:-}" ] && san=(-fsanitize="$SANITIZE")
cc -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -O1 "${san[@]}" -I"$ROOT/include" \
	"$E2E/fork_emit.c" "$BUILD/lib/libhb.a" -lpthread -o "$T/fork_emit" ||
	hb_fail "cannot build fork_emit.c"

dir="$T/archive"
hb_collector_start "$dir"
out=$("$T/fork_emit") || hb_fail "fork_emit failed"
hb_log "$out"
only_collector_ring() { [ "$(hb_shm_count)" -eq 1 ]; }
hb_wait_for 30 "every ring drained and removed" only_collector_ring
hb_collector_stop
"$BIN/hbcat" -o json "$dir" >"$T/all.json" || hb_fail "hbcat failed on the archive"

"$PY" - "$T/all.json" $out <<'PY' || hb_fail "the archive does not hold what the processes sent"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
pids = dict(a.split("=") for a in sys.argv[2:])
who_of = {int(pids["parent"]): 0, int(pids["closer"]): 1, int(pids["leaver"]): 2,
          int(pids["exiter"]): 3}
want = {0: 3000, 1: 500, 2: 300, 3: 200}
prod_pid = {r["p"]: r["pid"] for r in recs if r["k"] == "producer"}
bad = []
got = {0: [], 1: [], 2: [], 3: []}
for r in recs:
    if r["k"] == "event" and r["type"] == "fork.ev":
        who = r["fields"]["who"]
        if who_of.get(r["pid"]) != who:
            bad.append("event of %d under pid %d" % (who, r["pid"]))
        got[who].append(r["fields"]["n"])
    if r["k"] == "gap":
        bad.append("gap record: %s" % r)
for who, n in want.items():
    if got[who] != list(range(n)):
        bad.append("who=%d: %d events, not 0..%d in order once each" % (who, len(got[who]), n - 1))
final = {}
for r in recs:
    if r["k"] == "state" and prod_pid.get(r["p"]) in who_of:
        final.setdefault(who_of[prod_pid[r["p"]]], []).append((r["state"], r["why"]))
if final.get(0, [])[-1:] != [("exited", "closed")] or any(s != "exited" and s != "healthy" for s, _ in final.get(0, [])):
    bad.append("parent's states: %s" % final.get(0))
if final.get(1, [])[-1:] != [("exited", "closed")]:
    bad.append("closing child's states: %s" % final.get(1))
if final.get(2, [])[-1:] != [("crashed", "pid-gone")]:
    bad.append("leaving child's states: %s" % final.get(2))
if final.get(3, [])[-1:] != [("exited", "closed")]:
    bad.append("exiting child's states: %s" % final.get(3))
for b in bad:
    print("fork.sh:", b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
echo "ok"
