#!/usr/bin/env bash
# `make install` produces a usable SDK: a program builds against the
# installed <hb.h> and libhb through the installed pkg-config file alone,
# and runs: as strict C11 and gnu11 with gcc and clang, and with <hb.hpp> as
# C++17 and C++20 with g++ and clang++, hb's headers first or last.
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
for f in usr/include/hb.h usr/include/hb.hpp usr/include/hb_reader.h usr/lib/libhb.a usr/lib/libhbread.a \
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

cflags=$(PKG_CONFIG_PATH='' PKG_CONFIG_LIBDIR="$root/usr/lib/pkgconfig" \
	PKG_CONFIG_SYSROOT_DIR="$root" pkg-config --cflags hb)
san=()
[ -n "${SANITIZE:-}" ] && san=(-fsanitize="$SANITIZE")
# build CC OUT SRC ARGS...: with the installed flags only, warnings as errors.
# gcc's sanitizer runtime is not clang's: under SANITIZE (libhb instrumented
# by gcc) clang only compiles, gcc and g++ also link and run.
build()
{
	local cc=$1 out=$2 src=$3
	shift 3
	if [ -n "${SANITIZE:-}" ] && [[ "$cc" == clang* ]]; then
		# shellcheck disable=SC2086 # flags are words
		"$cc" -Wall -Wextra -Werror "$@" -fsyntax-only "$src" $cflags ||
			hb_fail "$src does not compile with $cc $* against the installed headers"
		return 0
	fi
	# shellcheck disable=SC2086
	"$cc" -Wall -Wextra -Werror "${san[@]}" "$@" "$src" -o "$out" $flags -lpthread ||
		hb_fail "$src does not build with $cc $* against the installed headers"
	# linked against the staged libhb.so, as pkg-config --libs hb gives it
	LD_LIBRARY_PATH="$root/usr/lib" "$out" || hb_fail "$out ($cc $*) failed"
}
command -v clang >/dev/null || hb_fail "clang is not installed (tools/packages/test.txt)"
for cc in gcc clang; do
	# strict C11: no feature-test macro, the header must not need one
	build $cc "$T/check-c11-$cc" "$ROOT/tests/install/check.c" -std=c11
	build $cc "$T/check-gnu11-$cc" "$ROOT/tests/install/check.c" -std=gnu11
done
for cxx in g++ clang++; do
	for std in c++17 c++20; do
		build $cxx "$T/check-$std-$cxx" "$ROOT/tests/install/check.cpp" -std=$std
		build $cxx "$T/check-$std-$cxx-after" "$ROOT/tests/install/check.cpp" -std=$std \
			-DHB_CHECK_STD_FIRST
	done
done
[ "$(hb_shm_count)" -ge 1 ] || hb_fail "the programs left no ring in /dev/shm"
echo "ok"
