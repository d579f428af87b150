# Shared helpers of the replay end-to-end tests (sourced).
BUILD=${BUILD:-build}
BIN=$(cd "$BUILD/bin" && pwd)
LIBDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
T=$(mktemp -d)
PIDS=()
BUSES=()

cleanup() {
	local p b
	for p in "${PIDS[@]}"; do kill -INT "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do timeout 10 tail --pid="$p" -f /dev/null 2>/dev/null || kill -9 "$p" 2>/dev/null || true; done
	for b in "${BUSES[@]}"; do rm -f /dev/shm/hb."$b".*; done
	rm -rf "$T"
}
trap cleanup EXIT

# start_collector BUS DIR [ARGS...]: runs hbcollect in the background
start_collector() {
	local bus=$1 dir=$2
	shift 2
	BUSES+=("$bus")
	"$BIN/hbcollect" --bus "$bus" --dir "$dir" -q "$@" &
	PIDS+=($!)
	COLLECTOR_PID=$!
	sleep 0.3
}

# stop_collector PID: SIGINT and wait (it drains everything first)
stop_collector() {
	kill -INT "$1"
	timeout 30 tail --pid="$1" -f /dev/null
}

# wait_records DIR N: until hbcat counts at least N events+heartbeats (60 s max)
wait_records() {
	local i n
	for i in $(seq 600); do
		n=$("$BIN/hbcat" -o json "$1" 2>/dev/null | grep -c '"k":"\(event\|heartbeat\)"' || true)
		[ "$n" -ge "$2" ] && return 0
		sleep 0.1
	done
	echo "FAIL: only $n records in $1, want $2"
	return 1
}
