#!/usr/bin/env bash
# Installs the Debian packages listed in tools/debian-packages.txt that are
# missing. Plain bash: it must run on a fresh Debian without make or gcc.
#
#   bash tools/deps.sh            install what is missing (as root), or
#                                 print the sudo command and exit 1
#   bash tools/deps.sh --check    only report; exit 1 if anything is missing
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
list="$here/debian-packages.txt"
check_only=0

case "${1:-}" in
"") ;;
--check) check_only=1 ;;
-h | --help)
	echo "usage: bash tools/deps.sh [--check]"
	exit 0
	;;
*)
	echo "deps.sh: unknown argument '$1'" >&2
	exit 2
	;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps.sh: dpkg-query not found: this script supports Debian and derivatives only" >&2
	exit 1
fi

# package names, comments and blank lines stripped
mapfile -t wanted < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$list")

missing=()
for pkg in "${wanted[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
	[ "$status" = installed ] || missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps.sh: all ${#wanted[@]} packages installed"
	exit 0
fi

echo "deps.sh: missing: ${missing[*]}"
if [ "$check_only" = 1 ]; then
	exit 1
fi
if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: run as root, or:" >&2
	echo "sudo apt-get install -y ${missing[*]}"
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
if ! apt-get install -y --no-install-recommends "${missing[@]}"; then
	# stale lists: refresh once and retry
	apt-get update
	apt-get install -y --no-install-recommends "${missing[@]}"
fi
echo "deps.sh: installed ${missing[*]}"
