# Helpers of the fleet reader tests (sourced after common.bash and
# fleet_common.bash): a real fleet tree made the way a fleet makes it.
#
# hb_fleet_build N PRODUCERS RECORDS: a lone nats-server (R1), an hbsink
# into $T/fleet, hosts h0..h(N-1) (collector --host, hbship) each running
# hbload with PRODUCERS producers of RECORDS events (names h$I-0...,
# --json into $T/load.h$I.json); then the collectors stop, everything is
# shipped and the sink stops: $T/fleet holds every host's records.

# hb_fleet_load I PRODUCERS RECORDS: hbload on host I (paced, so a
# follower sees the records arrive).
hb_fleet_load()
{
	"$BIN/hbload" --bus "${HOST_BUS[$1]}" --producers "$2" --records "$3" --rate 10000 \
		--name "h$1" --ring-kb 256 --interval-ms 100 --json >"$T/load.h$1.json" \
		2>"$T/load.h$1.err"
}

# hb_fleet_hosts_run PRODUCERS RECORDS I...: hosts I... started, loaded,
# stopped (their shippers keep running).
hb_fleet_hosts_run()
{
	local np=$1 nr=$2 i p
	local -a loads=()
	shift 2
	for i in "$@"; do
		hb_host_start "$i" --rotate-size 128k
		hb_ship_start "$i"
	done
	for i in "$@"; do
		hb_wait_for 10 "the collector of h$i" hb_has_archive_file "${HOST_DIR[$i]}"
	done
	for i in "$@"; do
		hb_fleet_load "$i" "$np" "$nr" &
		loads+=($!)
	done
	for p in "${loads[@]}"; do
		wait "$p" || hb_fail "hbload exited $?"
	done
	for i in "$@"; do
		hb_host_stop "$i"
	done
}

hb_fleet_build()
{
	local n=$1 np=$2 nr=$3 i
	local -a hosts=()
	for ((i = 0; i < n; i++)); do
		hosts+=("$i")
	done
	hb_nats_start 1
	hb_sink_start --rotate-size 64k
	hb_fleet_hosts_run "$np" "$nr" "${hosts[@]}"
	hb_fleet_drain "${hosts[@]}"
	grep -q "0 bad messages" "$T/sink.log" || hb_fail "the sink skipped messages"
	hb_log "fleet tree: $(find "$T/fleet" -name 'hb-*.msgpack' | wc -l) files of $n hosts"
}

# hb_fleet_events FILE.jsonl: "host producer events heartbeats" lines,
# sorted, counted from hbcat JSON lines.
hb_fleet_events()
{
	"$PY" - "$1" <<'PY'
import collections, json, sys
n = collections.Counter()
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["k"] in ("event", "heartbeat"):
        n[(r["host"], r["producer"], r["k"])] += 1
for h, p in sorted({(h, p) for h, p, _ in n}):
    print(h, p, n[(h, p, "event")], n[(h, p, "heartbeat")])
PY
}
