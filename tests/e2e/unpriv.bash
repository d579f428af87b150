# Helpers for tests that need a second, unprivileged user (sourced after
# common.bash). Needs root: hb_unpriv_setup exits 77 otherwise.
#
# Sets: U (user name), UID_U, GID_U, UT (a temp directory owned by U), and
# AS_USER, a command prefix that runs a program as U with no supplementary
# groups and HOME=UT, keeping the pid ("${AS_USER[@]}" prog args &).

hb_unpriv_setup()
{
	[ "$(id -u)" = 0 ] || {
		echo "needs root to run commands as a second user"
		exit 77
	}
	command -v setpriv >/dev/null || {
		echo "setpriv (util-linux) is missing"
		exit 77
	}
	U=hbtest
	if ! id "$U" >/dev/null 2>&1; then
		useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
			"$U" >/dev/null 2>&1 || {
			echo "cannot create user $U"
			exit 77
		}
	fi
	UID_U=$(id -u "$U")
	GID_U=$(id -g "$U")
	UT=$(mktemp -d /tmp/hb-e2e-user.XXXXXX)
	chown "$UID_U:$GID_U" "$UT"
	chmod 0700 "$UT"
	AS_USER=(env HOME="$UT" setpriv --reuid="$UID_U" --regid="$GID_U" --clear-groups --)
}
