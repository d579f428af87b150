#!/usr/bin/env bash
# tools/fuzz/run.sh [SECONDS] - build the libFuzzer drivers, replay every
# seed and regression input in tools/fuzz/corpus/<driver>/, then fuzz each
# driver for SECONDS (default $FUZZ_SECONDS or 60). Exits 1 when any input
# crashes; the crasher is left in $FUZZ_BUILD/artifacts/<driver>/ - copy it
# into tools/fuzz/corpus/<driver>/ once fixed so it is replayed forever.
set -euo pipefail
cd "$(dirname "$0")/../.."

secs=${1:-${FUZZ_SECONDS:-60}}
# Leaks count as failures here exactly as in the sanitizer suite.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export FUZZ_BUILD=${FUZZ_BUILD:-build-fuzz}
make -s -f tools/fuzz/fuzz.mk FUZZ_BUILD="$FUZZ_BUILD"
drivers=$(make -s -f tools/fuzz/fuzz.mk FUZZ_BUILD="$FUZZ_BUILD" list)
fail=0

for d in $drivers; do
	bin=$FUZZ_BUILD/fuzz_$d
	seeds=tools/fuzz/corpus/$d
	work=$FUZZ_BUILD/corpus/$d
	art=$FUZZ_BUILD/artifacts/$d
	log=$FUZZ_BUILD/fuzz_$d.log
	mkdir -p "$seeds" "$work" "$art"
	nseeds=$(find "$seeds" -type f | wc -l)
	# shellcheck disable=SC2207
	extra=($(cat "tools/fuzz/fuzz_$d.options" 2>/dev/null || true))
	# Replay: every seed and regression input once, no mutation.
	if ! timeout 600 "$bin" "${extra[@]}" -runs=0 -timeout=10 -artifact_prefix="$art/replay-" "$seeds" >"$log.replay" 2>&1; then
		echo "fuzz: $d: corpus replay FAILED (see $log.replay)"
		tail -30 "$log.replay"
		fail=1
		continue
	fi
	if [ "$secs" -le 0 ]; then
		echo "fuzz: driver=$d replayed=$nseeds crashes=0"
		continue
	fi
	rc=0
	timeout $((secs + 300)) "$bin" "${extra[@]}" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$art/" "$work" "$seeds" >"$log" 2>&1 || rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	ncorp=$(find "$work" -type f | wc -l)
	crashes=$(find "$art" -type f | wc -l)
	echo "fuzz: driver=$d seconds=$secs runs=${runs:-0} replayed=$nseeds corpus=$ncorp crashes=$crashes"
	if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then
		echo "fuzz: $d: FAILED (rc=$rc), artifacts in $art, log $log"
		grep -m1 -A25 'ERROR:\|runtime error\|check failed' "$log" || tail -30 "$log"
		fail=1
	fi
done
exit $fail
