#!/usr/bin/env bash
# Who may touch what:
#   - rings are 0600 by default, 0660 only when asked (hb_config.mode),
#     other modes are refused;
#   - another user can neither read nor write a ring, nor list or read the
#     archive (directory 0700, files 0600);
#   - the collector quarantines rings owned by other users unless started
#     with --accept-uid;
#   - names with '/', '..', control characters or excessive length are
#     refused by hb_open, hbcollect --bus, hbcat --bus and hbload --name,
#     and no shm object is created for them.
# Needs root (a second user); skipped otherwise.
set -euo pipefail
source "$(dirname "$0")/common.bash"
source "$(dirname "$0")/unpriv.bash"
hb_need hbcollect hbload hbcat
command -v cc >/dev/null || {
	echo "no C compiler to build the probe"
	exit 77
}
hb_unpriv_setup
chmod 0755 "$T" # the probe binary lives here
cc -O1 -D_GNU_SOURCE -I"$ROOT/include" "$E2E/open_probe.c" "$ROOT/producers/hb.c" "$ROOT/producers/hb_thread.c" -lpthread \
	-o "$T/open_probe" ${SANITIZE:+-fsanitize=$SANITIZE}
checks=0
ok() { checks=$((checks + 1)); }

mode_of() { stat -c %a "$1"; }

# ---- ring modes
probe_open()
{ # probe_open NAME MODE: a producer's ring (left for the collector); prints its path
	local out="$T/probe.$1.out"
	"$T/open_probe" "$BUS" "$1" "$2" </dev/null >"$out" 2>&1
	hb_wait_for 10 "the probe $1" grep -q '^rc=' "$out"
	line=$(head -1 "$out")
	echo "/dev/shm/${line#*ring=}"
}
ring1=$(probe_open p-default 0)
[ "$(mode_of "$ring1")" = 600 ] || hb_fail "default ring mode $(mode_of "$ring1"), expected 600"
ok
ring2=$(probe_open p-group 0660)
[ "$(mode_of "$ring2")" = 660 ] || hb_fail "group ring mode $(mode_of "$ring2"), expected 660"
ok
for m in 0666 0644 0700 04600; do
	out=$("$T/open_probe" "$BUS" p-bad "$m" </dev/null || true)
	[ "$out" = "rc=-22 ring=-" ] || hb_fail "mode $m was accepted: $out"
	ok
done

# ---- another user can neither read nor write a ring
for r in "$ring1" "$ring2"; do
	if "${AS_USER[@]}" cat "$r" >/dev/null 2>&1; then hb_fail "$U could read $r"; fi
	if "${AS_USER[@]}" sh -c "printf x >> '$r'" 2>/dev/null; then hb_fail "$U could write $r"; fi
	ok
done

# ---- the archive: directory 0700, files 0600, closed to another user
dir="$T/archive"
hb_collector_start "$dir"
"$BIN/hbload" --bus "$BUS" --producers 1 --records 100 --name own >/dev/null
# a ring of another user: quarantined, its records not collected
"${AS_USER[@]}" "$BIN/hbload" --bus "$BUS" --producers 1 --records 100 --name foreign \
	>/dev/null 2>&1 &
foreign_pid=$!
hb_wait_for 20 "the foreign ring to be quarantined" \
	grep -q "foreign-0.*owned by another user" "$T/collector.1.log"
ok
wait "$foreign_pid" || true
hb_collector_stop
[ "$(mode_of "$dir")" = 700 ] || hb_fail "archive directory mode $(mode_of "$dir")"
ok
for f in "$dir"/*; do
	[ "$(mode_of "$f")" = 600 ] || hb_fail "archive file $f mode $(mode_of "$f")"
done
ok
chmod 0755 "$T" # only the archive's own modes protect it now
if "${AS_USER[@]}" ls "$dir" >/dev/null 2>&1; then hb_fail "$U could list the archive"; fi
f=$(ls "$dir" | head -1)
if "${AS_USER[@]}" cat "$dir/$f" >/dev/null 2>&1; then hb_fail "$U could read $f"; fi
rc=0
"${AS_USER[@]}" "$BIN/hbcat" "$dir" >/dev/null 2>"$T/hbcat.user.err" || rc=$?
[ $rc -ne 0 ] || hb_fail "hbcat as $U read the archive"
ok
"$BIN/hbcat" -o json "$dir" >"$T/r.jsonl"
grep -q '"producer":"own-0"' "$T/r.jsonl" || hb_fail "own records missing"
if grep -q '"k":"event".*"producer":"foreign-0"' "$T/r.jsonl"; then
	hb_fail "events of the foreign ring were collected"
fi
ok

# ---- --accept-uid: the same foreign producer is collected
rm -f /dev/shm/hb."$BUS".foreign-0.* # the quarantined one of the first run
dir2="$T/archive2"
hb_collector_start "$dir2" --accept-uid
"${AS_USER[@]}" "$BIN/hbload" --bus "$BUS" --producers 1 --records 100 --name foreign \
	>/dev/null 2>&1
hb_wait_for 20 "the foreign ring to be drained" grep -q "foreign-0.*exited" "$T/collector.2.log"
hb_collector_stop
"$BIN/hbcat" -o json -e "$dir2" >"$T/r2.jsonl"
n=$(grep -c '"producer":"foreign-0"' "$T/r2.jsonl" || true)
[ "$n" = 100 ] || hb_fail "--accept-uid: $n foreign events collected, expected 100"
ok

# ---- names refused everywhere
long=$(printf 'n%.0s' {1..300})
bad_names=('a/b' '/abs' '..' '.' '../up' $'ctl\001x' $'tab\tx' $'esc\033[31m' 'sp ace' "$long" '')
for n in "${bad_names[@]}"; do
	shown=$(printf '%q' "$n")
	out=$("$T/open_probe" "$BUS" "$n" 0 </dev/null || true)
	[ "$out" = "rc=-22 ring=-" ] || hb_fail "hb_open accepted name $shown: $out"
	out=$(env -u HB_BUS "$T/open_probe" "$n" okname 0 </dev/null || true)
	[ "$out" = "rc=-22 ring=-" ] || hb_fail "hb_open accepted bus $shown: $out"
	for cmd in "hbcollect --bus" "hbcat --bus" "hbload --name" "hbload --bus"; do
		case "$cmd" in
		hbcollect*) extra=(--dir "$T/nodir") ;;
		hbcat*) extra=("$T/nodir") ;;
		*) extra=(--records 1 --producers 1) ;;
		esac
		rc=0
		# shellcheck disable=SC2086
		timeout 10 "$BIN"/$cmd "$n" "${extra[@]}" >/dev/null 2>"$T/name.err" </dev/null || rc=$?
		[ $rc -eq 2 ] || hb_fail "$cmd $shown: exit $rc, expected 2 (usage error)"
		grep -q -- "${cmd#* }" "$T/name.err" || hb_fail "$cmd $shown: the error does not name the flag"
		ok
	done
done
ls /dev/shm | grep -q 'hb\..*\(/\|\.\.\)' && hb_fail "a shm object with a bad name exists"
echo "permissions: checks=$checks bad_names=${#bad_names[@]} bad_name_shm_objects=0 foreign_rings_quarantined=1"
echo "ok"
