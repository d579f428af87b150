#!/usr/bin/env bash
# The archive reads with a stock msgpack library (Debian's python3-msgpack)
# and docs/FORMAT.md alone: headers, producer tables, event batches expanded
# into events, heartbeats, gaps, timestamps and index records decode to what
# hbload wrote, in a version 2.0 archive and in the same archive rewritten as
# version 1.1 (every event single, no index records).
set -euo pipefail
source "$(dirname "$0")/common.bash"
hb_need hbcollect hbload

dir="$T/archive"
t0=$(date +%s%N)
hb_collector_start "$dir" --rotate-size 1m
"$BIN/hbload" --bus "$BUS" --producers 3 --records 20000 --rate 20000 --interval-ms 100 \
	--json >"$T/load.json" 2>"$T/load.err" ||
	hb_fail "hbload exited $?: $(tail -n 5 "$T/load.err")"
cat "$T/load.json"
hb_collector_stop
t1=$(date +%s%N)

"$PY" "$E2E/read_archive.py" "$dir" "$T/load.json" "$BUS" "$t0" "$t1" --version 2.3

"$PY" - "$dir" "$T/v11" <<'PY'
import glob, os, sys, msgpack
os.makedirs(sys.argv[2])
for path in sorted(glob.glob(os.path.join(sys.argv[1], "hb-*.msgpack"))):
    with open(path, "rb") as f, open(os.path.join(sys.argv[2], os.path.basename(path)), "wb") as out:
        for o in msgpack.Unpacker(f, raw=False):
            if isinstance(o, dict) and o.get("k") == "index":
                continue
            if isinstance(o, dict) and o.get("k") == "header":
                o["version"] = [1, 1]
            if not (isinstance(o, list) and o[0] == 3):
                out.write(msgpack.packb(o))
                continue
            t = o[3].to_unix_nano()
            for i, e in enumerate(o[4:]):
                t += e[0]
                ts = msgpack.Timestamp.from_unix_nano(t)
                out.write(msgpack.packb([1, o[1], o[2] + i, ts] + e[1:]))
PY
"$PY" "$E2E/read_archive.py" "$T/v11" "$T/load.json" "$BUS" "$t0" "$t1" --version 1.1
echo "ok"
