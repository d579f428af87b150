# Helpers of the tests that run a real Prometheus (sourced after
# common.bash): installing it when root, free ports, the collector's
# metrics port, and instant queries.

# prom_need: skip (77) unless prometheus and promtool can be run; as root
# with apt-get, installs Debian's prometheus package first.
prom_need()
{
	command -v prometheus >/dev/null && command -v promtool >/dev/null && return 0
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		hb_log "installing Debian's prometheus package"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			prometheus >"$T/apt.log" 2>&1 || { cat "$T/apt.log"; hb_fail "cannot install prometheus"; }
	else
		echo "prometheus is not installed (apt-get install prometheus)"
		exit 77
	fi
}

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# metrics_port LOG: waits for the collector to log its metrics port, prints it.
metrics_port()
{
	hb_wait_for 20 "the metrics port in the log" grep -q "metrics on .*(port [0-9]*)" "$1"
	sed -n 's/.*metrics on .*(port \([0-9]*\)).*/\1/p' "$1" | head -n1
}

# prom_start CONFIG PORT: runs Prometheus on 127.0.0.1:PORT with CONFIG.
prom_start()
{
	promtool check config "$1" >/dev/null || hb_fail "promtool check config $1 failed"
	hb_spawn "$T/prom.out" "$T/prom.err" prometheus --config.file="$1" \
		--storage.tsdb.path="$T/prom-data" --web.listen-address="127.0.0.1:$2"
	PROM_PORT=$2
}

# query EXPR: the first value of an instant query, or nothing
query()
{
	curl -fsS --get "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode "query=$1" 2>/dev/null |
		"$PY" -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' 2>/dev/null
}
is() { [ "$(query "$1")" = "$2" ]; }
