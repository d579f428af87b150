#!/usr/bin/env bash
# Runs the test suite: every unit test program $BUILD/tests/test_* and every
# end-to-end script tests/e2e/*.sh, each under a timeout.
#
#   BUILD=build bash tests/run.sh [FILTER]
#
# FILTER (optional) is a substring: only tests whose name contains it run.
# Prints PASS/FAIL/SKIP per test (the tail of the output of a failed one),
# then one line "N passed, N failed, N skipped"; exits 1 if any failed.
# A test that exits 77 is skipped (e.g. a tool it needs is not built); under
# CI=true a skip counts as a failure, since CI installs everything.
# An e2e script with a line "# hb-test-sanitizers: no" in its first 20 lines
# is not part of a sanitizer build's suite (SANITIZE set): valgrind, say.
# An e2e script may raise its own limit with a line "# hb-test-timeout: SECS"
# in its first 20 lines.
# Environment: BUILD (default build), HB_TEST_TIMEOUT (seconds, default 300),
# HB_TEST_LOGS (directory for the logs, default a temp directory).
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 2
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$root/$BUILD" ;; esac
export BUILD
filter=${1:-}
limit=${HB_TEST_TIMEOUT:-300}
logs=${HB_TEST_LOGS:-$(mktemp -d "${TMPDIR:-/tmp}/hb-tests.XXXXXX")}
mkdir -p "$logs"

if [ ! -d "$BUILD/bin" ] && [ ! -d "$BUILD/tests" ]; then
	echo "run.sh: nothing built in $BUILD (run make first)" >&2
	exit 2
fi

tests=()
for t in "$BUILD"/tests/test_*; do
	[ -f "$t" ] && [ -x "$t" ] || continue
	case "$t" in *.d | *.o) continue ;; esac
	tests+=("$t")
done
for t in tests/e2e/*.sh; do
	[ -f "$t" ] && tests+=("$t")
done

passed=0 failed=0 skipped=0
failed_names=()
for t in "${tests[@]}"; do
	name=$(basename "$t")
	case "$t" in tests/e2e/*) name="e2e/${name%.sh}" ;; esac
	if [ -n "$filter" ] && [[ "$name" != *"$filter"* ]]; then
		continue
	fi
	log="$logs/${name//\//_}.log"
	tlimit=$limit
	case "$t" in
	*.sh)
		if [ -n "${SANITIZE:-}" ] && head -n 20 "$t" | grep -q '^# hb-test-sanitizers: no'; then
			continue
		fi
		cmd=(bash "$t")
		own=$(head -n 20 "$t" | sed -n 's/^# hb-test-timeout: *\([0-9][0-9]*\).*/\1/p' | head -n 1)
		[ -n "$own" ] && [ "$own" -gt "$tlimit" ] && tlimit=$own
		;;
	*) cmd=("$t") ;;
	esac
	start=$SECONDS
	timeout -k 10 "$tlimit" "${cmd[@]}" </dev/null >"$log" 2>&1
	rc=$?
	secs=$((SECONDS - start))
	if [ $rc -eq 0 ]; then
		echo "PASS $name (${secs}s)"
		passed=$((passed + 1))
	elif [ $rc -eq 77 ] && [ "${CI:-}" = true ]; then
		echo "FAIL $name (skipped, but CI must run every test): $(tail -n 1 "$log")"
		failed=$((failed + 1))
		failed_names+=("$name")
	elif [ $rc -eq 77 ]; then
		echo "SKIP $name: $(tail -n 1 "$log")"
		skipped=$((skipped + 1))
	else
		why="exit $rc"
		[ $rc -eq 124 ] && why="timed out after ${tlimit}s"
		echo "FAIL $name ($why, ${secs}s; log $log)"
		tail -n 30 "$log" | sed 's/^/    /'
		failed=$((failed + 1))
		failed_names+=("$name")
	fi
done

[ $failed -gt 0 ] && echo "failed: ${failed_names[*]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
