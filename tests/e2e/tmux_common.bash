# A private tmux server for the interactive tests (sourced after
# common.bash): tm runs tmux on it, tm_start opens a session of the given
# size running a clean shell with HB_BUS and HB_DIR set, screen prints the
# pane, shows tells whether it holds a match of an extended regex. The
# server is killed on exit, before hb_cleanup.
SESS="hbtm$$"
tm() { tmux -L "$SESS" -f /dev/null "$@"; }
tmux_cleanup()
{
	local rc=$1
	tm kill-server 2>/dev/null || true
	set +e
	(exit "$rc")
	hb_cleanup
}
trap 'tmux_cleanup $?' EXIT
# tm_start COLS LINES TERM ARCHIVE_DIR
tm_start()
{
	tm new-session -d -s "$SESS" -x "$1" -y "$2" "env -i PATH=$PATH HOME=$T TERM=$3 LANG=C.UTF-8 bash --norc --noprofile"
	tm send-keys -t "$SESS" "export HB_BUS=$BUS HB_DIR=$4 PS1='prompt\$ '" Enter
}
screen() { tm capture-pane -p -t "$SESS"; }
shows() { screen | grep -Eq "$1"; }
