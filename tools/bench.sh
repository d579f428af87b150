#!/usr/bin/env bash
# tools/bench.sh [--quick] [--only PARTS] - builds and runs every hb benchmark
# and its peers in one run and prints one table (docs/PERFORMANCE.md explains
# each figure).
#
#   make bench          full run (several minutes): 5 repetitions of the cost
#                       and latency figures, 3 of the end-to-end rate searches
#   make bench-quick    the same in under a minute (fewer, shorter runs)
#   --only PARTS        only these parts, comma-separated: cost, steady, spsc,
#                       e2e, latency, idle, readers, fleet (the other rows say n/a)
#
# Environment: BUILD (default build), HB_BENCH_KEEP=1 keeps the work dir,
# HB_BENCH_PCPU / HB_BENCH_CCPU: producer and collector cores (0 and 1).
set -euo pipefail

QUICK=0
PARTS=cost,steady,spsc,e2e,latency,idle,readers,fleet
ALL_PARTS=,$PARTS,
while (($#)); do
	case $1 in
	--quick) QUICK=1 ;;
	--only)
		[[ $# -ge 2 ]] || { echo "bench.sh: --only needs a list of parts" >&2; exit 2; }
		PARTS=$2
		shift
		;;
	-h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
	shift
done
for p in ${PARTS//,/ }; do
	[[ $ALL_PARTS == *,$p,* ]] || { echo "bench.sh: unknown part '$p'" >&2; exit 2; }
done
want() { [[ ,$PARTS, == *,$1,* ]]; } # want PART: whether PART runs

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
BIN=$BUILD/bin
BB=$BUILD/bench
PCPU=${HB_BENCH_PCPU:-0}
CCPU=${HB_BENCH_CCPU:-1}
PY=/usr/bin/python3

if ((QUICK)); then
	REPS=3 E2E_REPS=1 TRIAL_S=0.5 LAT_S=2 IDLE_S=3 CAT_N=50000 STOP_WAIT=2 SPSC_S=0.3
	FLEET_N=300000
	COST=(--batches 1000 --singles 50000)
	PEER_COST=(--batches 200 --singles 20000)
	SLOW_COST=(--batches 20 --singles 2000) # syscall peers: microseconds a call
	SEARCH_STEPS=2
else
	REPS=5 E2E_REPS=3 TRIAL_S=2 LAT_S=5 IDLE_S=10 CAT_N=1000000 STOP_WAIT=15 SPSC_S=1
	FLEET_N=2000000
	COST=(--batches 20000 --singles 1000000)
	PEER_COST=(--batches 2000 --singles 200000)
	SLOW_COST=(--batches 200 --singles 20000)
	SEARCH_STEPS=6
fi
STEADY_N=50000
# Other work on this host competes for the two cores; as root, the bench's
# producers, collector and LTTng daemons run at nice -10 (HB_BENCH_NICE=0 off).
NICE=
if [[ $(id -u) == 0 && ${HB_BENCH_NICE:-1} != 0 ]]; then NICE="nice -n -10"; fi

WORK=$(mktemp -d /var/tmp/hb-bench.XXXXXX) # on disk, like a real archive
BUS=hbb$$
RES=$WORK/results.txt
NOTES=$WORK/notes.txt
LOG=$WORK/log.txt
: >"$RES"
: >"$NOTES"
SESSIOND_PID=
NATS_PIDS=()
FLEET_PIDS=()
COLL_PID=
COLL_KILLED=0 # the last stop_collector had to kill it
LT_SESSIONS=()
T0=$(date +%s)

cleanup() {
	set +e
	[[ -n $COLL_PID ]] && kill -TERM "$COLL_PID" 2>/dev/null && wait "$COLL_PID" 2>/dev/null
	for s in "${LT_SESSIONS[@]}"; do lttng destroy "$s" >/dev/null 2>&1; done
	[[ -n $SESSIOND_PID ]] && kill "$SESSIOND_PID" 2>/dev/null
	for p in "${FLEET_PIDS[@]}" "${NATS_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	rm -f /dev/shm/hb."$BUS"*
	if [[ ${HB_BENCH_KEEP:-0} == 1 ]]; then
		echo "bench.sh: work dir kept: $WORK" >&2
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT

note() { echo "$*" >>"$NOTES"; echo "bench.sh: $*" >&2; }
say() { echo "bench.sh: [$(($(date +%s) - T0))s] $*" | tee -a "$LOG" >&2; }

# record REP CMD...: runs CMD and files its RESULT lines under repetition REP
record() {
	local rep=$1
	shift
	echo "[$(($(date +%s) - T0))s] $*" >>"$LOG"
	$NICE "$@" 2>>"$LOG" | awk -v rep="$rep" '$1 == "RESULT" { print rep, $2, $3, $4 }' >>"$RES"
}
put() { echo "$1 $2 $3 $4" >>"$RES"; } # put REP NAME VALUE UNIT
# get NAME FILE: value of RESULT NAME in FILE
get() { awk -v n="$1" '$1 == "RESULT" && $2 == n { print $3 }' "$2" | tail -1; }

# ---- packages and builds ---------------------------------------------------

if ! bash tools/deps.sh bench >>"$LOG" 2>&1; then
	note "peers: tools/deps.sh bench could not install the bench packages (see log; as a user: run it as root)"
fi
make -s BUILD="$BUILD" bench-build >>"$LOG" 2>&1 || { cat "$LOG" >&2; exit 1; }
HAVE_LTTNG=0
if pkg-config --exists lttng-ust 2>/dev/null && command -v lttng >/dev/null; then
	if make -s BUILD="$BUILD" bench-build-lttng >>"$LOG" 2>&1; then HAVE_LTTNG=1; else
		note "LTTng peer: bench_lttng does not build (see log)"; fi
fi
HAVE_COLL=0
[[ -x $BIN/hbcollect ]] && HAVE_COLL=1 || note "hbcollect not built: collector-draining cost, end-to-end, latency, idle and hbcat figures skipped"
HAVE_CAT=0
[[ -x $BIN/hbcat ]] && HAVE_CAT=1 || note "hbcat not built: hbcat figures skipped"

# ---- LTTng session daemon ----------------------------------------------------

lt_session() { # lt_session NAME OUTDIR: creates and starts a discard-mode session
	local s=$1 out=$2
	LT_SESSIONS+=("$s")
	lttng create "$s" --output "$out" >>"$LOG" 2>&1 &&
		lttng enable-channel -s "$s" --userspace --subbuf-size 4M --num-subbuf 8 --discard ch0 >>"$LOG" 2>&1 &&
		lttng enable-event -s "$s" --userspace --channel ch0 'hb_bench:*' >>"$LOG" 2>&1 &&
		lttng start "$s" >>"$LOG" 2>&1
}
lt_discarded() { lttng list "$1" 2>/dev/null | awk '/Discarded events:/ { n += $3 } END { print n + 0 }'; }
lt_destroy() { lttng destroy "$1" >>"$LOG" 2>&1 || true; }

if ((HAVE_LTTNG)); then
	if lttng list >/dev/null 2>&1; then
		note "LTTng: using the lttng-sessiond already running (its consumer daemon may not be pinned to core $CCPU)"
	elif [[ $(id -u) == 0 ]]; then
		$NICE taskset -c "$CCPU" lttng-sessiond --daemonize --no-kernel >>"$LOG" 2>&1 || true
		sleep 0.5
		SESSIOND_PID=$(pgrep -o -r R,S,D -x lttng-sessiond || true)
	else
		taskset -c "$CCPU" lttng-sessiond --daemonize >>"$LOG" 2>&1 || true
		sleep 0.5
		SESSIOND_PID=$(pgrep -o -r R,S,D -x lttng-sessiond || true)
	fi
	if ! lt_session hbbprobe$$ "$WORK/lt-probe"; then
		note "LTTng peer: cannot create a session: $(tail -1 "$LOG")"
		HAVE_LTTNG=0
	fi
	lt_destroy hbbprobe$$
fi

# ---- collector helpers ---------------------------------------------------------

# start_collector BUS DIR [FLAGS...]: hbcollect on the collector core, wrapped
# so its whole CPU time (user + sys, all threads) lands in DIR.rusage at exit
start_collector() {
	local b=$1 d=$2 i
	shift 2
	mkdir -p "$d"
	$NICE taskset -c "$CCPU" "$PY" tools/bench/runstat.py "$d.rusage" \
		"$BIN/hbcollect" --bus "$b" --dir "$d" -q "$@" 2>>"$LOG" &
	COLL_PID=$!
	for i in $(seq 100); do
		compgen -G "$d/hb-*" >/dev/null && break
		sleep 0.02
	done
}
# stop_collector: SIGTERM (drain everything, exit); after STOP_WAIT seconds
# it is killed: whatever it had not written by then counts as lost
stop_collector() {
	local i cpid
	[[ -n $COLL_PID ]] || return 0
	cpid=$(collector_child)
	COLL_KILLED=0
	kill -TERM "$COLL_PID" 2>/dev/null || true
	for ((i = 0; i < STOP_WAIT * 10; i++)); do
		kill -0 "$COLL_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$COLL_PID" 2>/dev/null; then
		echo "collector still draining after ${STOP_WAIT}s: killed" >>"$LOG"
		COLL_KILLED=1
		[[ -n $cpid ]] && kill -KILL "$cpid" 2>/dev/null
	fi
	wait "$COLL_PID" 2>/dev/null || true
	COLL_PID=
}
collector_child() { pgrep -P "$COLL_PID" | head -1; }
# CPU ns of a process, all threads (schedstat: ns on CPU)
proc_cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'; }

# seq_ok OUT WHAT: whether bench_count (in OUT) found every sequence number
# of every producer once, persisted or in a gap, in order; notes it when not
# (numbers missing are expected only from a collector killed while draining)
seq_ok() {
	local out=$1 what=$2 dup miss ord
	dup=$(get count.seq_dup "$out") miss=$(get count.seq_missing "$out") ord=$(get count.seq_order "$out")
	[[ ${dup:-x} == 0 && ${miss:-x} == 0 && ${ord:-x} == 0 ]] && return 0
	echo "$what: sequence numbers twice=$dup missing=$miss out of order=$ord" >>"$LOG"
	if ! ((COLL_KILLED)) || [[ $dup != 0 || $ord != 0 ]]; then
		note "$what: bench_count found sequence numbers twice ($dup), neither persisted nor in a gap ($miss), out of order ($ord)"
	fi
	return 1
}

# ---- producer cost -------------------------------------------------------------

cost_rep() {
	local rep=$1 b=$BUS-c$1
	say "cost: repetition $rep/$REPS"
	record "$rep" taskset -c "$PCPU,$CCPU" "$BB/bench_hb" --bus "$b" --cpu "$PCPU" --drain-cpu "$CCPU" "${COST[@]}"
	cost_lttng_rep "$rep"
	# any thread: the process-wide handle from 1 and 4 threads, and 4
	# single-thread handles, all producer threads on the producer core
	for t in "1 --shared" "4 --shared" "4"; do
		# shellcheck disable=SC2086 # "N [--shared]" are two words
		record "$rep" taskset -c "$PCPU,$CCPU" "$BB/bench_hb" --bus "$b" --cpu "$PCPU" \
			--drain-cpu "$CCPU" --threads $t "${COST[@]}"
	done
	record "$rep" taskset -c "$PCPU,$CCPU" "$BB/bench_hb" --bus "$b" --cpu "$PCPU" --drain-cpu "$CCPU" \
		--ring-kb 32768 --label hb32 "${COST[@]}"
	if ((HAVE_COLL)); then
		start_collector "$b" "$WORK/cost-$rep"
		record "$rep" taskset -c "$PCPU" "$BB/bench_hb" --bus "$b" --drain external --cpu "$PCPU" \
			--label hbc "${COST[@]}"
		stop_collector
		rm -rf "$WORK/cost-$rep"*
	fi
	for p in pipe dgram; do
		record "$rep" taskset -c "$PCPU,$CCPU" "$BB/bench_peers" --peer "$p" --dir "$WORK" \
			--cpu "$PCPU" --drain-cpu "$CCPU" "${SLOW_COST[@]}"
	done
	for p in stdio mutexq; do
		record "$rep" taskset -c "$PCPU,$CCPU" "$BB/bench_peers" --peer "$p" --dir "$WORK" \
			--cpu "$PCPU" --drain-cpu "$CCPU" "${PEER_COST[@]}"
	done
}

# LTTng cost: one session for every repetition (creating one takes
# seconds), timed inside each repetition right after hb (cost_rep)
LT_COST=hbbc$$
cost_lttng_start() {
	((HAVE_LTTNG)) || return 0
	lt_session "$LT_COST" "$WORK/lt-cost"
}
cost_lttng_rep() {
	local rep=$1 d0 d1
	((HAVE_LTTNG)) || return 0
	d0=$(lt_discarded "$LT_COST")
	record "$rep" taskset -c "$PCPU" "$BB/bench_lttng" --cost "${PEER_COST[@]}"
	# 4 threads on the producer core, as bench_hb --threads
	record "$rep" taskset -c "$PCPU" "$BB/bench_lttng" --cost --threads 4 --cpu "$PCPU" "${PEER_COST[@]}"
	d1=$(lt_discarded "$LT_COST")
	put "$rep" lttng.cost.discarded $((d1 - d0)) events
}
cost_lttng_stop() {
	((HAVE_LTTNG)) || return 0
	lttng stop "$LT_COST" >>"$LOG" 2>&1 || true
	lt_destroy "$LT_COST"
	rm -rf "$WORK/lt-cost"
}

# ---- hot path: syscalls and allocations in steady state -------------------------

# steady_one KEY [--shared]: figures KEY.syscalls*, KEY.allocs
steady_one() {
	local key=$1 n calls=() out
	shift
	for n in $STEADY_N $((STEADY_N * 10)); do
		out=$WORK/steady-$key-$n
		strace -f -c -o "$out.strace" "$BB/bench_hb" --bus "$BUS-s" --steady "$n" "$@" \
			>"$out.txt" 2>>"$LOG"
		calls+=("$(awk '$NF == "total" { print $4 }' "$out.strace")")
	done
	put 1 "$key.syscalls.n" "${calls[0]}" syscalls
	put 1 "$key.syscalls.10n" "${calls[1]}" syscalls
	put 1 "$key.syscalls" "$((calls[1] - calls[0]))" syscalls
	put 1 "$key.allocs" "$(get "$( [ $# -gt 0 ] && echo hbp || echo hb).steady.allocs" "$out.txt")" allocs
}
steady() {
	say "steady state: strace -c -f, N=$STEADY_N and 10N"
	steady_one hot
	steady_one hotp --shared
	put 1 hot.events "$((STEADY_N * 9))" events
}

# ---- the raw shared-memory SPSC reference ----------------------------------------

# spsc_rep REP: the cross-core copy of the bench record's bytes with nothing
# of hb in between (bench_spsc), with the 32 MiB ring of the 1-producer
# trials and a 1 MiB ring
spsc_rep() {
	local rep=$1
	say "raw shared-memory SPSC reference: repetition $rep/$REPS"
	record "$rep" taskset -c "$PCPU,$CCPU" "$BB/bench_spsc" --cpu "$PCPU" --drain-cpu "$CCPU" \
		--ring-kb 32768 --seconds "$SPSC_S" --label spsc32
	record "$rep" taskset -c "$PCPU,$CCPU" "$BB/bench_spsc" --cpu "$PCPU" --drain-cpu "$CCPU" \
		--ring-kb 1024 --seconds "$SPSC_S" --label spsc1
}

# ---- end to end: highest zero-loss rate ----------------------------------------

TRIAL=0
# hb_trial RATE PRODUCERS RING_KB: one collector run; sets T_RATE T_OK
# T_EVENTS T_BPR T_CPUNS
hb_trial() {
	local rate=$1 np=$2 kb=$3 b d out ev bytes us sy att drop seqs
	TRIAL=$((TRIAL + 1))
	b=$BUS-t$TRIAL d=$WORK/e2e-$TRIAL out=$WORK/e2e-$TRIAL.txt
	# the durability of the LTTng session it is compared with: the kernel
	# flushes, nobody fsyncs
	start_collector "$b" "$d" --fsync never
	$NICE taskset -c "$PCPU" "$BB/bench_load" --bus "$b" --producers "$np" --rate "$rate" \
		--ring-kb "$kb" --seconds "$TRIAL_S" >"$out" 2>>"$LOG" || true
	stop_collector
	"$BB/bench_count" "$d" >>"$out" 2>>"$LOG" || true
	att=$(get load.attempted "$out") drop=$(get load.dropped "$out")
	ev=$(get count.events "$out") bytes=$(get count.bytes "$out")
	read -r us sy _ <"$d.rusage" || us=0 sy=0
	T_RATE=$(get load.rate "$out")
	T_EVENTS=${ev:-0}
	T_OK=0 seqs=0
	seq_ok "$out" "hb trial $TRIAL" && seqs=1
	[[ ${drop:-1} == 0 && ${ev:-0} == "${att:-x}" && $seqs == 1 ]] && T_OK=1
	T_BPR=$(awk -v b="${bytes:-0}" -v e="$T_EVENTS" 'BEGIN { print e ? b / e : 0 }')
	T_CPUNS=$(awk -v u="$us" -v s="$sy" -v e="$T_EVENTS" 'BEGIN { print e ? (u + s) * 1e9 / e : 0 }')
	echo "hb trial $TRIAL: producers=$np ring_kb=$kb rate=$rate achieved=$T_RATE attempted=$att dropped=$drop persisted=$ev ok=$T_OK" >>"$LOG"
	rm -rf "$d" "$d.rusage"
}

lt_trial() { # lt_trial RATE: sets T_RATE T_OK T_EVENTS T_BPR
	local rate=$1 s out d disc bytes att
	TRIAL=$((TRIAL + 1))
	s=hbbt$$-$TRIAL d=$WORK/lt-$TRIAL out=$WORK/lt-$TRIAL.txt
	lt_session "$s" "$d"
	$NICE taskset -c "$PCPU" "$BB/bench_lttng" --rate "$rate" --seconds "$TRIAL_S" >"$out" 2>>"$LOG" || true
	lttng stop "$s" >>"$LOG" 2>&1 || true
	disc=$(lt_discarded "$s")
	lt_destroy "$s"
	att=$(get lttng.load.attempted "$out")
	bytes=$(du -sb "$d" | cut -f1)
	T_RATE=$(get lttng.load.rate "$out")
	T_EVENTS=$(awk -v a="${att:-0}" -v d="$disc" 'BEGIN { printf "%d", a - d }')
	T_OK=0
	[[ $disc == 0 && -n $att ]] && T_OK=1
	T_BPR=$(awk -v b="$bytes" -v e="$T_EVENTS" 'BEGIN { print e ? b / e : 0 }')
	T_CPUNS=0
	echo "lttng trial $TRIAL: rate=$rate achieved=$T_RATE attempted=$att discarded=$disc bytes=$bytes ok=$T_OK" >>"$LOG"
	rm -rf "$d"
}

# search REP NAME TRIALFN [ARGS]: flat out first (twice when it loses
# nothing: then the producer is the bound); if that loses records,
# SEARCH_STEPS paced trials. The flat-out trial says what the consumer took
# while the producer offered more than it could (persisted / trial time,
# cap): the first paced trial runs at 0.8 cap, each after it halfway between
# the best passing and the lowest losing rate, or at 0.6 of the lowest
# losing rate while none passed. (Starting at a quarter of the flat-out
# attempt rate, as the search did before, left a 2-step quick search only
# the rates F/4, 5F/8, F/16 and 5F/32 of the attempt rate F to report,
# whatever the consumer could take.) Files NAME.flat, NAME.cap, NAME.rate
# (highest zero-loss rate achieved), NAME.bpr, NAME.cpuns (of that run).
search() {
	local rep=$1 name=$2 fn=$3 flat cap r i good=0 gbpr=0 gcpu=0 hi=0
	shift 3
	$fn 0 "$@"
	flat=${T_RATE:-0}
	cap=$(awk -v e="${T_EVENTS:-0}" -v s="$TRIAL_S" -v f="$flat" 'BEGIN { c = e / s; printf "%d", c < f ? c : f }')
	if ((T_OK)); then
		# producer-bound; once more, as a starved producer looks the same
		good=$flat gbpr=$T_BPR gcpu=$T_CPUNS
		$fn 0 "$@"
		if ((T_OK)) && awk -v a="$T_RATE" -v b="$good" 'BEGIN { exit !(a > b) }'; then
			good=$T_RATE gbpr=$T_BPR gcpu=$T_CPUNS
		fi
		flat=$good
		put "$rep" "$name.producer_bound" 1 flag
	else
		for i in $(seq "$SEARCH_STEPS"); do
			r=$(awk -v g="$good" -v h="$hi" -v c="$cap" 'BEGIN {
				if (!h) r = 0.8 * c; else if (g) r = (g + h) / 2; else r = 0.6 * h
				printf "%d", r }')
			$fn "$r" "$@"
			if ((T_OK)); then good=$T_RATE gbpr=$T_BPR gcpu=$T_CPUNS; else hi=$r; fi
		done
	fi
	put "$rep" "$name.flat" "$flat" records/s
	put "$rep" "$name.cap" "$cap" records/s
	put "$rep" "$name.rate" "$good" records/s
	put "$rep" "$name.bpr" "$gbpr" bytes
	[[ $gcpu != 0 ]] && put "$rep" "$name.cpuns" "$gcpu" ns
	return 0
}

# hbload_rep REP NP: the project's own load tool (its three event types),
# blocking mode, flat out: records persisted per second with zero loss
hbload_rep() {
	local rep=$1 np=$2 b d out ev
	[[ -x $BIN/hbload ]] || return 0
	TRIAL=$((TRIAL + 1))
	b=$BUS-t$TRIAL d=$WORK/e2e-$TRIAL out=$WORK/e2e-$TRIAL.txt
	start_collector "$b" "$d"
	local s0 s1
	s0=$(date +%s%N)
	$NICE taskset -c "$PCPU" "$BIN/hbload" --bus "$b" --producers "$np" --block \
		--seconds "$TRIAL_S" >"$out" 2>>"$LOG" || true
	s1=$(date +%s%N)
	stop_collector
	"$BB/bench_count" "$d" >>"$out" 2>>"$LOG" || true
	ev=$(get count.events "$out")
	seq_ok "$out" "hbload trial $TRIAL" || true
	echo "hbload trial $TRIAL: producers=$np persisted=$ev $(grep total "$out")" >>"$LOG"
	put "$rep" "e2e.hbload$np.block" "$(awk -v e="${ev:-0}" -v a="$s0" -v b="$s1" 'BEGIN { print e * 1e9 / (b - a) }')" records/s
	rm -rf "$d" "$d.rusage"
}

e2e_rep() {
	local rep=$1
	if ((HAVE_COLL)); then
		say "end to end: repetition $rep/$E2E_REPS, hbload --block, 1 and 16 producers"
		hbload_rep "$rep" 1
		hbload_rep "$rep" 16
		say "end to end: repetition $rep/$E2E_REPS, hb 1 producer"
		search "$rep" e2e.hb1 hb_trial 1 32768
		say "end to end: repetition $rep/$E2E_REPS, hb 16 producers"
		search "$rep" e2e.hb16 hb_trial 16 2048
	fi
	if ((HAVE_LTTNG)); then
		say "end to end: repetition $rep/$E2E_REPS, LTTng-UST"
		search "$rep" e2e.lttng lt_trial
	fi
}

# ---- latency, idle, hbcat ---------------------------------------------------------

latency_rep() {
	local rep=$1 b=$BUS-l$1 d=$WORK/lat-$1
	say "latency at 100k records/s: repetition $rep"
	start_collector "$b" "$d"
	record "$rep" "$BB/bench_latency" --bus "$b" --dir "$d" --rate 100000 --seconds "$LAT_S"
	stop_collector
	rm -rf "$d" "$d.rusage"
}

idle_rep() {
	local rep=$1 b=$BUS-i$1 d=$WORK/idle-$1 ipid cpid c0 c1 t0 t1
	say "idle collector with 64 idle producers: repetition $rep ($IDLE_S s)"
	start_collector "$b" "$d"
	taskset -c "$PCPU" "$BB/bench_idle" --bus "$b" --producers 64 --seconds $((IDLE_S + 2)) >>"$LOG" 2>&1 &
	ipid=$!
	sleep 1
	cpid=$(collector_child)
	c0=$(proc_cpu_ns "$cpid") t0=$(date +%s%N)
	sleep "$IDLE_S"
	c1=$(proc_cpu_ns "$cpid") t1=$(date +%s%N)
	put "$rep" idle.cpu_pct "$(awk -v a="$c0" -v b="$c1" -v s="$t0" -v e="$t1" 'BEGIN { print (b - a) * 100 / (e - s) }')" "%"
	wait "$ipid" || true
	stop_collector
	rm -rf "$d" "$d.rusage"
}

# timed NAME N CMD...: runs CMD (output to /dev/null) on the producer core
# and files N / seconds as NAME
timed() {
	local name=$1 n=$2 s e
	shift 2
	s=$(date +%s%N)
	$NICE taskset -c "$PCPU" "$@" >/dev/null 2>>"$LOG" || true
	e=$(date +%s%N)
	put "$REP" "$name" "$(awk -v n="$n" -v s="$s" -v e="$e" 'BEGIN { print n * 1e9 / (e - s) }')" records/s
}

# readers: an archive and an LTTng trace of the same CAT_N events, then
# each repetition times hbcat and babeltrace2 one right after the other, so
# that a ratio compares runs the host gave the same core
readers() {
	local d=$WORK/cat b=$BUS-r lt=$WORK/lt-read cat=0 bt=0
	if ((HAVE_COLL && HAVE_CAT)); then
		say "hbcat: archive of $CAT_N records"
		start_collector "$b" "$d"
		taskset -c "$PCPU" "$BB/bench_load" --bus "$b" --producers 1 --records "$CAT_N" --block >>"$LOG" 2>&1
		stop_collector
		cat=1
	fi
	if ((HAVE_LTTNG)) && command -v babeltrace2 >/dev/null; then
		say "babeltrace2: trace of $CAT_N events"
		lt_session hbbr$$ "$lt"
		taskset -c "$PCPU" "$BB/bench_lttng" --count "$CAT_N" >>"$LOG" 2>&1
		lttng stop hbbr$$ >>"$LOG" 2>&1 || true
		put 1 bt2.discarded "$(lt_discarded hbbr$$)" events
		lt_destroy hbbr$$
		bt=1
	fi
	for REP in $(seq "$REPS"); do
		say "readers: repetition $REP/$REPS"
		if ((cat)); then
			timed hbcat.text "$CAT_N" "$BIN/hbcat" -o text "$d"
			timed hbcat.raw "$CAT_N" "$BIN/hbcat" --raw -o text "$d"
			timed hbcat.json "$CAT_N" "$BIN/hbcat" -o json "$d"
			timed hbcat.filter "$CAT_N" "$BIN/hbcat" -t 'bench.nomatch' "$d"
		fi
		((bt)) && timed bt2.text "$CAT_N" babeltrace2 "$lt"
	done
	return 0
}

# ---- the fleet: hbship -> NATS JetStream -> hbsink ---------------------------------

HAVE_FLEET=0
if ((HAVE_COLL && HAVE_CAT)) && [[ -x $BIN/hbship && -x $BIN/hbsink ]] && command -v nats-server >/dev/null; then
	HAVE_FLEET=1
fi
NATS_URLS= NATS_MON=()

# nats_start N: N nats-servers with JetStream (one cluster when N > 1) on
# free loopback ports, stores in $WORK/nats-N-I; sets NATS_URLS, NATS_MON
nats_start() {
	local n=$1 i j ports routes=""
	nats_stop
	mapfile -t ports < <("$PY" -c '
import socket, sys
ss = [socket.socket() for _ in range(3 * int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1", 0))
print("\n".join(str(s.getsockname()[1]) for s in ss))' "$n")
	for ((j = 0; j < n; j++)); do routes+="${routes:+, }nats-route://127.0.0.1:${ports[$((3 * j + 2))]}"; done
	NATS_URLS= NATS_MON=()
	for ((i = 0; i < n; i++)); do
		mkdir -p "$WORK/nats-$n-$i"
		{
			echo "server_name: b$i"
			echo "listen: 127.0.0.1:${ports[$((3 * i))]}"
			echo "http: 127.0.0.1:${ports[$((3 * i + 1))]}"
			echo "jetstream { store_dir: \"$WORK/nats-$n-$i\", max_memory_store: 64MB, max_file_store: 8GB }"
			((n > 1)) && echo "cluster { name: hbbench, listen: 127.0.0.1:${ports[$((3 * i + 2))]}, routes: [ $routes ] }"
		} >"$WORK/nats-$n-$i.conf"
		nats-server -c "$WORK/nats-$n-$i.conf" >>"$LOG" 2>&1 &
		NATS_PIDS+=($!)
		NATS_URLS+="${NATS_URLS:+,}nats://127.0.0.1:${ports[$((3 * i))]}"
		NATS_MON+=("${ports[$((3 * i + 1))]}")
	done
	for ((j = 0; j < 300; j++)); do
		local ok=1
		for ((i = 0; i < n; i++)); do
			curl -fsS "http://127.0.0.1:${NATS_MON[$i]}/healthz" >/dev/null 2>&1 || ok=0
		done
		((ok)) && return 0
		sleep 0.1
	done
	note "fleet: $n nats-server(s) not ready after 30 s"
	return 1
}
nats_stop() {
	local p
	for p in "${NATS_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${NATS_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	NATS_PIDS=()
}

# consumer_wait done|ready STREAM SECS: waits (one poller, every 10 ms)
# until the durable "hbsink" of STREAM is on some server (ready), or its
# leader reports it with nothing pending or unacknowledged, delivered up to
# the stream's last message (done; a follower's view may lag, its stream
# behind the consumer state it was sent, and look done early). A server
# shows itself as the leader by not being among the replicas it lists.
# Fails after SECS.
consumer_wait() {
	"$PY" - "$1" "$2" "$3" "${NATS_MON[@]}" <<'PY'
import json, sys, time, urllib.request
mode, stream, secs, mons = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4:]
def ok(m):
    try:
        j = json.load(urllib.request.urlopen("http://127.0.0.1:%s/jsz?consumers=true" % m, timeout=2))
    except Exception:
        return False
    for a in j.get("account_details", []):
        for s in a.get("stream_detail", []):
            for c in s.get("consumer_detail", []) if s["name"] == stream else []:
                cl = c.get("cluster") or {}
                leader = cl.get("leader") not in [r.get("name") for r in cl.get("replicas") or []]
                if c["name"] == "hbsink" and (mode == "ready" or (leader and
                   c["num_pending"] == 0 and c["num_ack_pending"] == 0 and
                   c["delivered"]["stream_seq"] >= s["state"]["last_seq"] > 0)):
                    return True
    return False
end = time.monotonic() + secs
while time.monotonic() < end:
    if any(ok(m) for m in mons):
        sys.exit(0)
    time.sleep(0.01)
sys.exit(1)
PY
}

# events DIR: the events an archive (or a fleet tree's directory) holds, by hbcat
events() { "$BIN/hbcat" --raw -e -o json "$1" 2>>"$LOG" | wc -l; }

# sink_start STREAM FLEETDIR / sink_stop: hbsink of STREAM (subjects: the
# stream's name in lower case) into FLEETDIR
sink_start() {
	local st=$1 fd=$2 lc
	lc=$(echo "$st" | tr 'A-Z' 'a-z')
	"$BIN/hbsink" --dir "$fd" --nats "$NATS_URLS" --stream "$st" --subject "$lc" -q 2>>"$LOG" &
	FLEET_PIDS+=($!)
	SINK_PID=$!
}
sink_stop() {
	kill -TERM "$SINK_PID" 2>/dev/null
	wait "$SINK_PID" 2>/dev/null || true
}

# fleet_archive: the host archive every shipping trial reads, FLEET_N
# records of one producer (collector --host bh); FLEET_EV its events
fleet_archive() {
	FLEET_B=$BUS-f FLEET_D=$WORK/fleet-host
	say "fleet: host archive of $FLEET_N records"
	start_collector "$FLEET_B" "$FLEET_D" --host bh
	taskset -c "$PCPU" "$BB/bench_load" --bus "$FLEET_B" --producers 1 --records "$FLEET_N" --block >>"$LOG" 2>&1
	stop_collector
	FLEET_EV=$(events "$FLEET_D")
}

# fleet_ready STREAM REPLICAS FLEETDIR: the stream made (hbship --once on an empty
# directory), hbsink started on it (sink_start) and its consumer there
fleet_ready() {
	local st=$1 r=$2 lc
	lc=$(echo "$st" | tr 'A-Z' 'a-z')
	mkdir -p "$WORK/fleet-empty"
	"$BIN/hbship" --bus "$BUS-e" --dir "$WORK/fleet-empty" --nats "$NATS_URLS" --stream "$st" \
		--subject "$lc" --replicas "$r" --once --no-heartbeats -q 2>>"$LOG" ||
		note "fleet: cannot make stream $st (R$r)"
	sink_start "$st" "$3"
	consumer_wait ready "$st" 30 || note "fleet: the sink's consumer on $st not there after 30 s"
}

# ship_trial REP NAME REPLICAS: hbship --once ships the host archive into a
# new stream, hbsink writes it into a new fleet tree; NAME.rate is the
# archive's events over the time from hbship's start to the sink's
# consumer having acknowledged the stream's last message (stream and
# consumer made before), filed only when the fleet tree holds exactly the
# host archive's events (hbcat)
ship_trial() {
	local rep=$1 name=$2 r=$3 st fd s0 s1 got
	TRIAL=$((TRIAL + 1))
	st=HBB$TRIAL fd=$WORK/fleet-$TRIAL
	fleet_ready "$st" "$r" "$fd"
	s0=$(date +%s%N)
	"$BIN/hbship" --bus "$FLEET_B" --dir "$FLEET_D" --nats "$NATS_URLS" --stream "$st" \
		--subject "hbb$TRIAL" --replicas "$r" --once -q 2>>"$LOG" ||
		note "fleet: hbship --once exited $? ($name)"
	consumer_wait done "$st" 120 || note "fleet: $name: the sink had not consumed the stream after 120 s"
	s1=$(date +%s%N)
	sink_stop
	got=$(events "$fd/bh/$FLEET_B")
	echo "fleet trial $TRIAL ($name, R$r): events host=$FLEET_EV fleet=$got in $(((s1 - s0) / 1000000)) ms" >>"$LOG"
	put "$rep" fleet.lost "$((got > FLEET_EV ? got - FLEET_EV : FLEET_EV - got))" records
	if [[ $got == "$FLEET_EV" ]]; then
		put "$rep" "$name.rate" "$(awk -v n="$got" -v a="$s0" -v b="$s1" 'BEGIN { print n * 1e9 / (b - a) }')" records/s
	else
		note "fleet: $name: the fleet archive holds $got events, the host archive $FLEET_EV: no rate filed"
	fi
	rm -rf "$fd" "$FLEET_D"/hbship-"$st".pos
}

# fleet_latency REP: call to fleet archive at 100k records/s, R1: the
# collector, hbship (following) and hbsink running, the stream made and
# the sink's consumer on it (the steady state, not the start), then
# bench_latency following the host's directory of the fleet tree
fleet_latency() {
	local rep=$1 b=$BUS-fl$1 d=$WORK/flat-$1 st=HBL$1 fd=$WORK/flat-fleet-$1 ship
	start_collector "$b" "$d" --host bh
	fleet_ready "$st" 1 "$fd"
	"$BIN/hbship" --bus "$b" --dir "$d" --nats "$NATS_URLS" --stream "$st" --subject "hbl$1" \
		-q 2>>"$LOG" &
	ship=$!
	FLEET_PIDS+=("$ship")
	record "$rep" "$BB/bench_latency" --bus "$b" --dir "$fd/bh/$b" --rate 100000 --seconds "$LAT_S" \
		--name flat --linger 10
	kill -TERM "$ship" 2>/dev/null
	wait "$ship" 2>/dev/null || true
	sink_stop
	stop_collector
	rm -rf "$d" "$d.rusage" "$fd"
}

fleet() {
	local rep n
	if ! ((HAVE_FLEET)); then
		note "fleet: needs hbcollect, hbcat, hbship, hbsink and nats-server (tools/deps.sh test bench): skipped"
		return 0
	fi
	fleet_archive
	for n in 1 3; do
		say "fleet: R$n, $n nats-server(s)"
		nats_start "$n" || continue
		for rep in $(seq "$E2E_REPS"); do
			say "fleet: R$n shipping, repetition $rep/$E2E_REPS"
			ship_trial "$rep" "fleet.r$n" "$n"
		done
		((n == 1)) || continue
		for rep in $(seq "$E2E_REPS"); do
			say "fleet: latency to the fleet archive at 100k records/s, repetition $rep/$E2E_REPS"
			fleet_latency "$rep"
		done
	done
	nats_stop
	rm -rf "$FLEET_D" "$FLEET_D.rusage" "$WORK"/nats-* "$WORK/fleet-empty"
}

# ---- run ------------------------------------------------------------------------

say "work dir $WORK; producer core $PCPU, collector core $CCPU; $( ((QUICK)) && echo quick || echo full) run"
if want cost; then
	cost_lttng_start
	for rep in $(seq "$REPS"); do cost_rep "$rep"; done
	cost_lttng_stop
fi
want steady && steady
if want spsc; then for rep in $(seq "$REPS"); do spsc_rep "$rep"; done; fi
if want e2e; then for rep in $(seq "$E2E_REPS"); do e2e_rep "$rep"; done; fi
if ((HAVE_COLL)); then
	if want latency; then for rep in $(seq $((QUICK ? 1 : REPS))); do latency_rep "$rep"; done; fi
	if want idle; then for rep in $(seq $((QUICK ? 1 : 3))); do idle_rep "$rep"; done; fi
fi
want readers && readers
want fleet && fleet
say "done"
"$PY" tools/bench/report.py "$RES" "$NOTES" "$( ((QUICK)) && echo quick || echo full)"
