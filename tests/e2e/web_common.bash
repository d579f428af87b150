# Helpers of the hbweb tests (sourced after common.bash).
#
# ART: where a test keeps what a person should look at (screenshots):
# $HB_TEST_ARTIFACTS, else $BUILD/test-artifacts.
ART=${HB_TEST_ARTIFACTS:-$BUILD/test-artifacts}
mkdir -p "$ART"
export PYTHONPATH="$E2E/lib${PYTHONPATH:+:$PYTHONPATH}"

# web_need_chromium: skip (exit 77) unless Debian's chromium is installed.
web_need_chromium()
{
	command -v chromium >/dev/null || {
		echo "chromium is not installed (apt-get install chromium; tools/deps.sh test)"
		exit 77
	}
}

# web_start ARGS...: starts hbweb on a free loopback port with ARGS; sets
# WEB_PID and WEB_URL. Its stderr goes to $T/web.N.log.
web_n=0
web_start()
{
	local log
	web_n=$((web_n + 1))
	log="$T/web.$web_n.log"
	hb_spawn /dev/null "$log" "$BIN/hbweb" --listen 127.0.0.1:0 "$@"
	WEB_PID=$!
	hb_wait_for 20 "hbweb's port in its log" grep -q "(port [0-9]*)" "$log"
	WEB_URL="http://127.0.0.1:$(sed -n 's/.*(port \([0-9]*\)).*/\1/p' "$log" | head -n 1)"
	hb_log "hbweb (pid $WEB_PID) on $WEB_URL: $*"
}

# web_stop: SIGTERM hbweb; fails unless it exits 0 (so a sanitizer build's
# findings at exit, leaks included, fail the test).
web_stop()
{
	local rc=0
	kill -TERM "$WEB_PID"
	hb_wait_exit "$WEB_PID" 30 || rc=$?
	[ $rc -eq 0 ] || {
		tail -n 30 "$T/web.$web_n.log" >&2
		hb_fail "hbweb exited $rc on SIGTERM (expected 0)"
	}
}
