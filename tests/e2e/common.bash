# Helpers shared by the end-to-end tests (sourced, not run by tests/run.sh).
#
# Sets: ROOT, BUILD (absolute), BIN, PY (Debian's python3 with msgpack),
# BUS (a bus name private to this test), T (a private temp directory).
# Every process started with hb_spawn is killed on exit, and the shm objects
# of BUS are removed.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
BIN="$BUILD/bin"
PY=/usr/bin/python3
E2E="$ROOT/tests/e2e"
BUS="t$$$(basename "$0" .sh | tr -cd 'a-z' | cut -c1-10)"
T=$(mktemp -d "${TMPDIR:-/tmp}/hb-e2e.XXXXXX")
export HB_BUS="$BUS"
unset HB_DIR HB_ENABLED HB_INTERVAL_MS HB_DETAILED HB_RING_KB
hb_pids=()

hb_log() { echo "[$(date +%T)] $*" >&2; }

hb_fail()
{
	echo "FAIL: $*" >&2
	exit 1
}

hb_cleanup()
{
	local rc=$? pid
	set +e
	for pid in "${hb_pids[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true # set -e holds in traps too
	done
	wait 2>/dev/null || true
	rm -f /dev/shm/hb."$BUS".* /dev/shm/hbcollect."$BUS".lock 2>/dev/null
	if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
		echo "test directory kept for inspection: $T ${UT:-}" >&2
	else
		rm -rf "$T" ${UT:+"$UT"}
	fi
	exit $rc
}
trap hb_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# hb_need TOOL...: skip the test (exit 77) unless the tools are built.
hb_need()
{
	local t
	for t in "$@"; do
		[ -x "$BIN/$t" ] || {
			echo "$BIN/$t is not built"
			exit 77
		}
	done
	"$PY" -c 'import msgpack' 2>/dev/null || {
		echo "$PY has no msgpack module (apt-get install python3-msgpack)"
		exit 77
	}
}

# hb_spawn OUT ERR CMD...: starts CMD in the background with stdout to OUT
# and stderr to ERR; its pid is in $! and is killed on exit.
hb_spawn()
{
	local out=$1 err=$2
	shift 2
	"$@" >"$out" 2>"$err" &
	hb_pids+=($!)
}

# hb_collector_start DIR [ARGS...]: starts hbcollect on $BUS writing to DIR;
# sets COLLECTOR_PID. Its stderr goes to $T/collector.N.log.
hb_collector_n=0
hb_collector_start()
{
	local dir=$1
	shift
	hb_collector_n=$((hb_collector_n + 1))
	hb_spawn /dev/null "$T/collector.$hb_collector_n.log" \
		"$BIN/hbcollect" --bus "$BUS" --dir "$dir" "$@"
	COLLECTOR_PID=$!
	hb_log "hbcollect started (pid $COLLECTOR_PID): $*"
}

# hb_collector_ready DIR: waits until the collector made its first file in
# DIR (its signal handlers are in place by then: a SIGTERM is a clean stop).
hb_has_archive_file() { compgen -G "$1/hb-*.msgpack" >/dev/null; }
hb_collector_ready()
{
	hb_wait_for 10 "the collector's first file in $1" hb_has_archive_file "$1"
}

# hb_wait_exit PID SECS: waits for PID to exit; returns its exit code, or
# fails the test if it is still running after SECS seconds.
hb_wait_exit()
{
	local pid=$1 secs=$2 i
	for ((i = 0; i < secs * 10; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			return $?
		fi
		sleep 0.1
	done
	hb_fail "process $pid still running after ${secs}s"
}

# hb_collector_stop: SIGTERM the collector; fails unless it exits 0.
hb_collector_stop()
{
	local rc=0
	kill -TERM "$COLLECTOR_PID"
	hb_wait_exit "$COLLECTOR_PID" 60 || rc=$?
	if [ $rc -ne 0 ]; then
		tail -n 20 "$T/collector.$hb_collector_n.log" >&2
		hb_fail "hbcollect exited $rc on SIGTERM (expected 0)"
	fi
	hb_log "hbcollect stopped"
}

# hb_wait_for SECS WHAT CMD...: polls CMD every 0.1 s until it succeeds;
# fails the test naming WHAT after SECS seconds.
hb_wait_for()
{
	local secs=$1 what=$2 i
	shift 2
	for ((i = 0; i < secs * 10; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	hb_fail "timed out after ${secs}s waiting for $what"
}

# hb_shm_count: number of shm objects of $BUS.
hb_shm_count()
{
	local f n=0
	for f in /dev/shm/hb."$BUS".*; do
		[ -e "$f" ] && n=$((n + 1))
	done
	echo $n
}
