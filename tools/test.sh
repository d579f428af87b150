#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite four ways:
#   1. normal build (build/): every unit and end-to-end test
#   2. ASan + UBSan build (build-asan/): the same suite again
#   3. TSan build (build-tsan/): the ring stress test, the threads test, hbweb's tests,
#      hbship's metrics test
#   4. libFuzzer drivers (build-fuzz/): corpora replayed, each fuzzed 60 s
#
#   bash tools/test.sh [--quick] [--no-deps] [FILTER]
#
#   --quick     only step 1
#   --no-deps   do not check the Debian packages
#   FILTER      only tests whose name contains it (steps 1 and 2)
#   FUZZ_SECONDS=N (environment): fuzzing time per driver in step 4
# Exits 0 when every step passed.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 2
quick=0 deps=1 filter=''
for a in "$@"; do
	case "$a" in
	--quick) quick=1 ;;
	--no-deps) deps=0 ;;
	-h | --help)
		sed -n '2,14s/^# \{0,1\}//p' "$0"
		exit 0
		;;
	-*)
		echo "test.sh: unknown option '$a'" >&2
		exit 2
		;;
	*) filter=$a ;;
	esac
done

if [ $deps = 1 ]; then
	bash tools/deps.sh test || exit 1
fi

jobs=$(nproc 2>/dev/null || echo 2)
results=()
failed=0
t0=$SECONDS

step()
{
	local name=$1 rc start=$SECONDS
	shift
	echo
	echo "=== $name"
	"$@"
	rc=$?
	if [ $rc -eq 0 ]; then
		results+=("ok    $name ($((SECONDS - start))s)")
	else
		results+=("FAIL  $name ($((SECONDS - start))s)")
		failed=1
	fi
	return $rc
}

counts=$(mktemp)
trap 'rm -f "$counts"' EXIT

build_and_run()
{
	local build=$1 sanitize=$2 rc
	make -j"$jobs" BUILD="$build" SANITIZE="$sanitize" all || return 1
	BUILD="$build" SANITIZE="$sanitize" bash tests/run.sh ${filter:+"$filter"} | tee -a "$counts"
	rc=${PIPESTATUS[0]}
	return "$rc"
}

# one_test NAME CMD...: a step that is a single test in the final count
one_test()
{
	local rc
	"$@"
	rc=$?
	[ $rc -eq 0 ] && echo "1 passed, 0 failed, 0 skipped" >>"$counts" || echo "0 passed, 1 failed, 0 skipped" >>"$counts"
	return $rc
}

# hbweb's threads (model reader, HTTP daemon, stream) under TSan: its tests'
# closing line goes into the count
tsan_web()
{
	make -j"$jobs" tsan-web | tee -a "$counts"
	return "${PIPESTATUS[0]}"
}

# hbship's threads (NATS ack handler, archive counter, /metrics daemon)
# under TSan: its test's closing line goes into the count
tsan_ship()
{
	make -j"$jobs" tsan-ship | tee -a "$counts"
	return "${PIPESTATUS[0]}"
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1}

step "normal build and suite (build/)" build_and_run build ""
if [ $quick = 0 ]; then
	step "ASan+UBSan build and suite (build-asan/)" build_and_run build-asan address,undefined
	step "tests with threads under TSan (build-tsan/)" one_test make -j"$jobs" tsan
	step "hbweb's tests under TSan (build-tsan/)" tsan_web
	step "hbship's metrics test under TSan (build-tsan/)" tsan_ship
fi

# ---- reliability: libFuzzer drivers (tools/fuzz/). Every seed and regression
# input of tools/fuzz/corpus/ is replayed, then each driver is fuzzed for
# FUZZ_SECONDS (default 60). Needs clang and libclang-rt-14-dev.
if [ $quick = 0 ]; then
	step "fuzz drivers, ${FUZZ_SECONDS:-60} s each (build-fuzz/)" \
		one_test make fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
fi

echo
echo "=== summary ($((SECONDS - t0))s)"
printf '%s\n' "${results[@]}"
# every suite's closing line, added up, is the run's closing line
awk '/^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped/ { p += $1; f += $3; s += $5 }
     END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$counts"
exit $failed
