#!/usr/bin/env bash
# The alert rules docs/OPERATIONS.md shows as an --alert-file, comments and
# all, are accepted by hbcollect as they are written there, and each rule
# comes out as the docs describe it (the rule text without its comment).
set -euo pipefail
. "$(dirname "$0")/common.bash"
hb_need hbcollect

# the fenced block right after "a valid `--alert-file`"
awk '/a valid `--alert-file`/ { want = 1 } want && /^```/ { if (in_block) exit; in_block = 1; next }
     in_block { print }' "$ROOT/docs/OPERATIONS.md" >"$T/rules"
[ "$(grep -c . "$T/rules")" -ge 3 ] || hb_fail "no alert-file example found in OPERATIONS.md"
grep -q '#' "$T/rules" || hb_fail "the example has no comment to check"
hb_collector_start "$T/archive" --alert-file "$T/rules"
hb_wait_for 20 "the collector to start" grep -q "collecting bus" "$T/collector.1.log"
hb_collector_stop
if grep -q "alert-file" "$T/collector.1.log"; then
	hb_fail "$(cat "$T/collector.1.log")"
fi
echo "docs_alert_examples: $(grep -c . "$T/rules") rules of OPERATIONS.md accepted"
