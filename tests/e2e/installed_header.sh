#!/usr/bin/env bash
# `make install` produces a usable SDK: a program builds against the
# installed <hb.h> and libhb through the installed pkg-config file alone,
# and runs.
set -euo pipefail
source "$(dirname "$0")/common.bash"
[ -e "$BUILD/lib/libhb.a" ] || {
	echo "$BUILD/lib/libhb.a is not built"
	exit 77
}
command -v pkg-config >/dev/null || hb_fail "pkg-config is not installed"

root="$T/root"
unset MAKEFLAGS MFLAGS MAKELEVEL
make -C "$ROOT" -s --no-print-directory install BUILD="$BUILD" SANITIZE="${SANITIZE:-}" \
	DESTDIR="$root" PREFIX=/usr >"$T/install.log" 2>&1 ||
	hb_fail "make install failed: $(tail -n 20 "$T/install.log")"
(cd "$root" && find . -type f | sort) >&2
for f in usr/include/hb.h usr/include/hb_reader.h usr/lib/libhb.a usr/lib/libhbread.a \
	usr/lib/pkgconfig/hb.pc; do
	[ -f "$root/$f" ] || hb_fail "make install did not install /$f"
done
for t in hbcollect hbcat hbtop hbreplay hbload; do
	[ -x "$root/usr/bin/$t" ] || hb_fail "make install did not install $t"
done
for m in "$ROOT"/docs/man/*.1; do
	[ -e "$m" ] || continue
	[ -f "$root/usr/share/man/man1/$(basename "$m")" ] ||
		hb_fail "make install did not install the man page $(basename "$m")"
done
grep -qx 'prefix=/usr' "$root/usr/lib/pkgconfig/hb.pc" ||
	hb_fail "installed hb.pc does not say prefix=/usr: $(cat "$root/usr/lib/pkgconfig/hb.pc")"

# pkg-config sees only the staged tree; the sysroot maps /usr to it
flags=$(PKG_CONFIG_PATH='' PKG_CONFIG_LIBDIR="$root/usr/lib/pkgconfig" \
	PKG_CONFIG_SYSROOT_DIR="$root" pkg-config --cflags --libs hb) ||
	hb_fail "pkg-config cannot resolve hb"
hb_log "pkg-config --cflags --libs hb: $flags"
[[ "$flags" == *"-I$root/usr/include"* ]] || hb_fail "cflags do not point into the staged tree"

san=()
[ -n "${SANITIZE:-}" ] && san=(-fsanitize="$SANITIZE")
for std in c11 gnu11; do
	# shellcheck disable=SC2086 # flags are words
	cc -std=$std -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror "${san[@]}" \
		"$ROOT/tests/install/check.c" -o "$T/check-$std" $flags ||
		hb_fail "tests/install/check.c does not build with -std=$std against the installed header"
done
HB_BUS="$BUS" "$T/check-c11" || hb_fail "the installed-header program failed"
[ "$(hb_shm_count)" -ge 1 ] || hb_fail "the program left no ring in /dev/shm"
echo "ok"
