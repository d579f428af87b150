#!/usr/bin/env bash
# Installs the missing Debian packages of one or more package sets, each a
# list in tools/packages/SET.txt. Plain bash: it must run on a fresh Debian
# without make or gcc.
#
#   bash tools/deps.sh [--check] SET...
#
#   SET        build (compile hb and run the demo), test (the test suite),
#              bench (make bench); build is always included
#   --check    only report; exit 1 if anything is missing
#
# As root it runs apt-get; otherwise it prints the exact command to run as
# root and exits 1. Packages that start a system service when installed
# (prometheus, lttng-tools) are installed with the service left stopped and
# disabled: hb's tests and benchmarks start their own instances.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
check_only=0
sets=(build)

usage() { sed -n '2,15s/^# \{0,1\}//p' "$0"; }
for a in "$@"; do
	case "$a" in
	--check) check_only=1 ;;
	-h | --help)
		usage
		exit 0
		;;
	-*)
		echo "deps.sh: unknown option '$a'" >&2
		exit 2
		;;
	*)
		if [ ! -f "$here/packages/$a.txt" ]; then
			echo "deps.sh: unknown package set '$a' (sets: build, test, bench)" >&2
			exit 2
		fi
		[ "$a" = build ] || sets+=("$a")
		;;
	esac
done

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps.sh: dpkg-query not found: this script supports Debian and derivatives only" >&2
	exit 1
fi

# package names, comments and blank lines stripped
wanted=()
for s in "${sets[@]}"; do
	mapfile -t -O "${#wanted[@]}" wanted < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$here/packages/$s.txt")
done

missing=()
for pkg in "${wanted[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
	[ "$status" = installed ] || missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps.sh: all ${#wanted[@]} packages of ${sets[*]} installed"
	exit 0
fi

echo "deps.sh: missing: ${missing[*]}"
if [ "$check_only" = 1 ]; then
	exit 1
fi
if [ "$(id -u)" != 0 ]; then
	cmd="apt-get install -y --no-install-recommends ${missing[*]}"
	echo "deps.sh: installing needs root; run this as root, then again:" >&2
	if command -v sudo >/dev/null 2>&1; then
		echo "sudo $cmd"
	else
		echo "su -c '$cmd'"
	fi
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# Update the package lists only when a package is unknown to apt (a fresh
# image often ships without lists).
need_update=0
for pkg in "${missing[@]}"; do
	if ! apt-cache show "$pkg" >/dev/null 2>&1; then
		need_update=1
		break
	fi
done
if [ "$need_update" = 1 ]; then
	apt-get update
fi

# Services a package would start on install are not started: a policy-rc.d
# that refuses (exit 101) for the length of the install, unless the machine
# already has one of its own.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	own_policy=1
fi
trap '[ $own_policy = 0 ] || rm -f "$policy"' EXIT
if ! apt-get install -y --no-install-recommends "${missing[@]}"; then
	# stale lists: refresh once and retry
	apt-get update
	apt-get install -y --no-install-recommends "${missing[@]}"
fi
# ... nor enabled for the next boot
if command -v systemctl >/dev/null 2>&1; then
	for pkg in "${missing[@]}"; do
		for unit in $(dpkg -L "$pkg" 2>/dev/null | sed -n 's|^/lib/systemd/system/\([^/@]*\.service\)$|\1|p'); do
			if systemctl is-enabled --quiet "$unit" 2>/dev/null; then
				systemctl disable --now "$unit" >/dev/null 2>&1 || true
				echo "deps.sh: $unit (from $pkg) left disabled and stopped"
			fi
		done
	done
fi
echo "deps.sh: installed ${missing[*]}"
