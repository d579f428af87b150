#!/usr/bin/env bash
# 8 producers x 125000 events through one collector: every event hbload
# committed is in the archive exactly once with the content hbload gave it,
# and every dropped one is accounted for by an overflow gap; the archive
# copied with hbcat -o msgpack reads back as the same records.
set -euo pipefail
source "$(dirname "$0")/common.bash"
hb_need hbcollect hbload hbcat

dir="$T/archive"
hb_collector_start "$dir"
hb_log "hbload: 8 producers x 125000 events"
"$BIN/hbload" --bus "$BUS" --producers 8 --records 125000 --json >"$T/load.json" 2>"$T/load.err" ||
	hb_fail "hbload exited $?: $(tail -n 5 "$T/load.err")"
cat "$T/load.json"
hb_collector_stop

"$BIN/hbcat" -o json "$dir" >"$T/records.jsonl" 2>"$T/hbcat.err" ||
	hb_fail "hbcat exited $?: $(tail -n 5 "$T/hbcat.err")"
hb_log "hbcat printed $(wc -l <"$T/records.jsonl") records"
"$PY" "$E2E/check_load.py" "$T/records.jsonl" --load "$T/load.json" --min-events 1
# -o msgpack writes the batched events as single ones: read back, the same records
"$BIN/hbcat" -o msgpack "$dir" >"$T/copy.msgpack" 2>"$T/copy.err" ||
	hb_fail "hbcat -o msgpack exited $?: $(tail -n 5 "$T/copy.err")"
"$BIN/hbcat" -o json - <"$T/copy.msgpack" >"$T/copy.jsonl" 2>>"$T/copy.err" ||
	hb_fail "hbcat reading its msgpack output exited $?: $(tail -n 5 "$T/copy.err")"
cmp -s "$T/records.jsonl" "$T/copy.jsonl" ||
	hb_fail "hbcat -o msgpack | hbcat -o json differs from hbcat -o json: $(diff "$T/records.jsonl" "$T/copy.jsonl" | head -n 4)"
"$PY" - "$T/load.json" <<'PY'
import json, sys
load = json.load(open(sys.argv[1]))
assert len(load["producers"]) == 8, "hbload reported %d producers" % len(load["producers"])
for p in load["producers"]:
    assert p["attempted"] == 125000, "%s attempted %d, want 125000" % (p["name"], p["attempted"])
    assert p["committed"] + p["dropped"] == p["attempted"], "%s: committed + dropped != attempted" % p["name"]
assert load["attempted"] == 1000000, "total attempted %d" % load["attempted"]
PY
echo "ok"
