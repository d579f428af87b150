#!/usr/bin/env bash
# The hb demo: a collector, an example service and a load generator on a
# private bus; hbtop shows the live bus, hbcat follows the live archive,
# then summarises it.
#
#   bash tools/demo.sh [--no-build] [--dir DIR] [--seconds N]
#
#   --no-build   use what is already built in $BUILD (default build/)
#   --dir DIR    archive directory (default: a new temporary directory)
#   --seconds N  how long the producers run (default 10)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build=1 dir='' seconds=10
while [ $# -gt 0 ]; do
	case "$1" in
	--no-build) build=0 ;;
	--dir)
		dir=${2:?--dir needs a directory}
		shift
		;;
	--seconds)
		seconds=${2:?--seconds needs a number}
		shift
		;;
	-h | --help)
		sed -n '2,9s/^# \{0,1\}//p' "$0"
		exit 0
		;;
	*)
		echo "demo.sh: unknown option '$1'" >&2
		exit 2
		;;
	esac
	shift
done
case "$seconds" in '' | *[!0-9]*)
	echo "demo.sh: --seconds: not a number '$seconds'" >&2
	exit 2
	;;
esac

BUILD=${BUILD:-build}
if [ $build = 1 ]; then
	bash tools/deps.sh build
	make -j"$(nproc 2>/dev/null || echo 2)" BUILD="$BUILD"
fi
BIN="$root/$BUILD/bin"
case "$BUILD" in /*) BIN="$BUILD/bin" ;; esac
for t in hbcollect hbload hbcat; do
	[ -x "$BIN/$t" ] || {
		echo "demo.sh: $BIN/$t is not built (run make)" >&2
		exit 1
	}
done

bus="demo$$"
work=$(mktemp -d "${TMPDIR:-/tmp}/hb-demo.XXXXXX")
[ -n "$dir" ] || dir="$work/archive"
export HB_BUS="$bus"
pids=()
cleanup()
{
	local pid
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -f /dev/shm/hb."$bus".* 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
[ -t 1 ] || say() { printf '\n== %s\n' "$*"; }
color=never
[ -t 1 ] && [ -z "${NO_COLOR:-}" ] && color=always

say "hbcollect --bus $bus --dir $dir"
"$BIN/hbcollect" --bus "$bus" --dir "$dir" 2>"$work/hbcollect.log" &
collector=$!
pids+=("$collector")

if [ -x "$BIN/hb-demo-service" ]; then
	say "hb-demo-service (an example service using <hb.h>), HB_BUS=$bus"
	"$BIN/hb-demo-service" --seconds 0 --rate 50 >"$work/service.log" 2>&1 &
	pids+=($!)
fi

say "hbload --producers 2 --seconds $seconds --rate 200 (per producer per second)"
"$BIN/hbload" --bus "$bus" --producers 2 --seconds "$seconds" --rate 200 \
	>"$work/hbload.out" 2>&1 &
load=$!
pids+=("$load")
sleep 1

say "hbcat -f --since -1s (following the live archive; 25 lines, cut to the screen width)"
timeout -s INT 5 "$BIN/hbcat" -f --since -1s --color "$color" "$dir" 2>/dev/null |
	head -n 25 | cut -c "1-${COLUMNS:-160}" || true

if [ -x "$BIN/hbtop" ]; then
	say "hbtop -b -n 2 -d 1s (batch snapshots of the live bus; 'hbtop --bus $bus' for the screen)"
	"$BIN/hbtop" --bus "$bus" --dir "$dir" -b -n 2 -d 1s 2>/dev/null | cut -c "1-${COLUMNS:-160}" || true
fi

say "hbcat -e -P urgent -t 'load.*' (filtered: urgent load events, first 5)"
"$BIN/hbcat" -e -P urgent -t 'load.*' --color "$color" "$dir" 2>/dev/null | head -n 5 || true

echo
echo "(waiting for hbload to finish its ${seconds}s run)"
wait "$load" || echo "demo.sh: hbload exited $?" >&2
cat "$work/hbload.out"

say "stopping the producers and the collector (SIGTERM)"
for pid in "${pids[@]}"; do
	[ "$pid" = "$collector" ] || kill -TERM "$pid" 2>/dev/null || true
done
sleep 0.5
kill -TERM "$collector" 2>/dev/null || true
rc=0
wait "$collector" || rc=$?
echo "hbcollect exited $rc; its log:"
sed 's/^/  /' "$work/hbcollect.log" | tail -n 15

say "hbcat --summary"
"$BIN/hbcat" --summary "$dir" || true

say "the archive"
ls -l "$dir"
echo
echo "Read it again with:  $BIN/hbcat $dir | less"
echo "                     $BIN/hbcat -o json -t 'load.*' $dir | head"
echo "                     /usr/bin/python3 -c 'import msgpack,sys; [print(o) for o in msgpack.Unpacker(open(sys.argv[1],\"rb\"))]' FILE"
