# Helpers of the fleet tests (sourced after common.bash): real nats-server
# processes with JetStream on free loopback ports, hosts made of a collector
# (--host), hbload producers and an hbship each, and an hbsink.
#
# hb_nats_start N: a cluster of N servers (N = 1: a lone server); sets
# NATS_URLS (all client URLs, comma separated). Server i (0-based) keeps its
# store in $T/nats/i and its log in $T/nats/i.log; hb_nats_kill I and
# hb_nats_restart I stop (SIGKILL) and start it again with the same store.

command -v nats-server >/dev/null || {
	echo "nats-server is not installed (apt-get install nats-server)"
	exit 77
}

NATS_N=0
declare -a NATS_PID NATS_CPORT NATS_MPORT NATS_RPORT

# hb_free_ports N: N distinct free loopback ports, one a line
hb_free_ports()
{
	"$PY" - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print("\n".join(str(s.getsockname()[1]) for s in socks))
PY
}

hb_nats_conf()
{
	local i=$1 j routes=""
	for ((j = 0; j < NATS_N; j++)); do
		routes+="${routes:+, }nats-route://127.0.0.1:${NATS_RPORT[$j]}"
	done
	mkdir -p "$T/nats/$i"
	{
		echo "server_name: n$i"
		echo "listen: 127.0.0.1:${NATS_CPORT[$i]}"
		echo "http: 127.0.0.1:${NATS_MPORT[$i]}"
		echo "jetstream { store_dir: \"$T/nats/$i\", max_memory_store: 64MB, max_file_store: 2GB }"
		if [ "$NATS_N" -gt 1 ]; then
			echo "cluster { name: hbtest, listen: 127.0.0.1:${NATS_RPORT[$i]}, routes: [ $routes ] }"
		fi
	} >"$T/nats/$i.conf"
}

hb_nats_spawn()
{
	local i=$1
	hb_spawn /dev/null "$T/nats/$i.log" nats-server -c "$T/nats/$i.conf"
	NATS_PID[$i]=$!
}

hb_nats_ready()
{
	curl -fsS "http://127.0.0.1:${NATS_MPORT[$1]}/healthz" >/dev/null 2>&1
}

hb_nats_start()
{
	local i ports
	NATS_N=$1
	mapfile -t ports < <(hb_free_ports $((3 * NATS_N)))
	NATS_URLS=""
	for ((i = 0; i < NATS_N; i++)); do
		NATS_CPORT[$i]=${ports[$((3 * i))]}
		NATS_MPORT[$i]=${ports[$((3 * i + 1))]}
		NATS_RPORT[$i]=${ports[$((3 * i + 2))]}
		NATS_URLS+="${NATS_URLS:+,}nats://127.0.0.1:${NATS_CPORT[$i]}"
	done
	for ((i = 0; i < NATS_N; i++)); do
		hb_nats_conf "$i"
		hb_nats_spawn "$i"
	done
	for ((i = 0; i < NATS_N; i++)); do
		hb_wait_for 30 "nats-server $i to be ready" hb_nats_ready "$i"
	done
	hb_log "nats-server x$NATS_N ready: $NATS_URLS"
}

hb_nats_kill()
{
	kill -KILL "${NATS_PID[$1]}" 2>/dev/null || true
	wait "${NATS_PID[$1]}" 2>/dev/null || true
	hb_log "nats-server $1 killed"
}

hb_nats_restart()
{
	hb_nats_spawn "$1"
	hb_wait_for 60 "nats-server $1 to be ready again" hb_nats_ready "$1"
	hb_log "nats-server $1 restarted"
}

# hb_consumer_done STREAM DURABLE: true when the consumer's leader reports
# it with nothing pending and nothing awaiting an ack, delivered up to the
# stream's last message (a follower's view can look done early: its
# stream behind the consumer state it was sent).
hb_consumer_done()
{
	local i
	for ((i = 0; i < NATS_N; i++)); do
		curl -fsS "http://127.0.0.1:${NATS_MPORT[$i]}/jsz?consumers=true" 2>/dev/null |
			"$PY" -c '
import json, sys
stream, durable = sys.argv[1], sys.argv[2]
j = json.load(sys.stdin)
for a in j.get("account_details", []):
    for s in a.get("stream_detail", []):
        if s["name"] != stream:
            continue
        for c in s.get("consumer_detail", []):
            cl = c.get("cluster") or {}
            leader = cl.get("leader") not in [r.get("name") for r in cl.get("replicas") or []]
            if c["name"] == durable and leader and c["num_pending"] == 0 and \
               c["num_ack_pending"] == 0 and \
               c["delivered"]["stream_seq"] >= s["state"]["last_seq"] > 0:
                sys.exit(0)
sys.exit(1)' "$1" "$2" && return 0
	done
	return 1
}

# hb_host_start I ARGS...: host h$I: bus ${BUS}h$I, collector with --host
# h$I into $T/h$I; sets HOST_BUS[I], HOST_DIR[I], HOST_COLLECTOR[I].
declare -a HOST_BUS HOST_DIR HOST_COLLECTOR HOST_SHIP
hb_host_start()
{
	local i=$1
	shift
	HOST_BUS[$i]="${BUS}h$i"
	HOST_DIR[$i]="$T/h$i"
	hb_spawn /dev/null "$T/collector.h$i.log" "$BIN/hbcollect" --bus "${HOST_BUS[$i]}" \
		--dir "${HOST_DIR[$i]}" --host "h$i" "$@"
	HOST_COLLECTOR[$i]=$!
}

# hb_host_stop I: SIGTERM the collector of host I; fails unless it exits 0.
hb_host_stop()
{
	local rc=0
	kill -TERM "${HOST_COLLECTOR[$1]}"
	hb_wait_exit "${HOST_COLLECTOR[$1]}" 60 || rc=$?
	[ $rc -eq 0 ] || hb_fail "hbcollect of h$1 exited $rc on SIGTERM"
	rm -f /dev/shm/hb."${HOST_BUS[$1]}".* /dev/shm/hbcollect."${HOST_BUS[$1]}".lock
}

# hb_ship_start I ARGS...: hbship for host I (log $T/ship.h$I.log, appended).
hb_ship_start()
{
	local i=$1
	shift
	"$BIN/hbship" --bus "${HOST_BUS[$i]}" --dir "${HOST_DIR[$i]}" --nats "$NATS_URLS" \
		--ack-wait 2s --backoff-max 1s ${HB_FLEET_VERBOSE:+-v} "$@" >/dev/null \
		2>>"$T/ship.h$i.log" &
	hb_pids+=($!)
	HOST_SHIP[$i]=$!
}

# hb_sink_start ARGS...: hbsink into $T/fleet (log $T/sink.log, appended).
hb_sink_start()
{
	"$BIN/hbsink" --dir "$T/fleet" --nats "$NATS_URLS" --ack-wait 2s "$@" \
		>/dev/null 2>>"$T/sink.log" &
	hb_pids+=($!)
	SINK_PID=$!
}

hb_sink_stop()
{
	local rc=0
	kill -TERM "$SINK_PID"
	hb_wait_exit "$SINK_PID" 30 || rc=$?
	[ $rc -eq 0 ] || hb_fail "hbsink exited $rc on SIGTERM (expected 0)"
}

# hb_fleet_ship_rest I...: once the collectors of hosts I... stopped:
# SIGTERM their shippers (exit 0), ship the rest with hbship --once (exit 0:
# all of it acknowledged), wait until the sink consumed the stream.
hb_fleet_ship_rest()
{
	local i
	for i in "$@"; do
		kill -TERM "${HOST_SHIP[$i]}"
		hb_wait_exit "${HOST_SHIP[$i]}" 30 || hb_fail "hbship of h$i exited $? on SIGTERM"
		timeout 60 "$BIN/hbship" --bus "${HOST_BUS[$i]}" --dir "${HOST_DIR[$i]}" \
			--nats "$NATS_URLS" --once --no-heartbeats 2>>"$T/ship.h$i.log" ||
			hb_fail "hbship --once of h$i exited $?"
	done
	hb_wait_for 90 "the sink to consume everything" hb_consumer_done HB hbsink
}

# hb_fleet_drain I...: hb_fleet_ship_rest I..., then stop the sink.
hb_fleet_drain()
{
	hb_fleet_ship_rest "$@"
	hb_sink_stop
}

# hb_fleet_check I LOAD...: the fleet archive of host I holds exactly what
# hbload reported (each LOAD a --json output), once, read by hbcat and by
# the stock Python reader.
hb_fleet_check()
{
	local i=$1 d="$T/fleet/h$1/${HOST_BUS[$1]}" l
	shift
	[ -d "$d" ] || hb_fail "no fleet directory $d"
	"$BIN/hbcat" -o json "$d" >"$T/fleet.h$i.jsonl" || hb_fail "hbcat on $d exited $?"
	"$PY" - "$T/h$i.load.json" "$@" <<'PY'
import json, sys
out = {"producers": [], "attempted": 0, "committed": 0, "dropped": 0}
for path in sys.argv[2:]:
    j = json.load(open(path))
    out["producers"] += j["producers"]
    for k in ("attempted", "committed", "dropped"):
        out[k] += j[k]
json.dump(out, open(sys.argv[1], "w"))
PY
	"$PY" "$E2E/check_load.py" "$T/fleet.h$i.jsonl" --load "$T/h$i.load.json" ||
		hb_fail "fleet archive of h$i (hbcat)"
	"$PY" "$E2E/read_archive.py" "$d" "$T/h$i.load.json" "${HOST_BUS[$i]}" 0 \
		"$(date +%s%N)" --host "h$i" --fleet || hb_fail "fleet archive of h$i (python msgpack)"
}
