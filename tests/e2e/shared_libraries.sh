#!/usr/bin/env bash
# The libraries as a packager ships them: a program linked against
# libhb.so through `pkg-config hb` (soname, runs from the staged tree), a
# plugin that links libhb.a into itself and is dlopen()ed, and a reader
# linked through `pkg-config hbread`, which counts what both wrote. Then
# `make uninstall` with the same DESTDIR leaves no file behind.
set -euo pipefail
source "$(dirname "$0")/common.bash"
hb_need hbcollect
command -v pkg-config >/dev/null || hb_fail "pkg-config is not installed"

root="$T/root"
unset MAKEFLAGS MFLAGS MAKELEVEL
mk() { make -C "$ROOT" -s --no-print-directory BUILD="$BUILD" SANITIZE="${SANITIZE:-}" \
	DESTDIR="$root" PREFIX=/usr "$@" >"$T/make.log" 2>&1 ||
	hb_fail "make $* failed: $(tail -n 20 "$T/make.log")"; }
mk install
lib="$root/usr/lib"
for f in libhb.so libhb.so.0 libhbread.so libhbread.so.0 pkgconfig/hbread.pc; do
	[ -e "$lib/$f" ] || hb_fail "make install did not install /usr/lib/$f"
done
for f in usr/bin/hb-count usr/lib/systemd/system/hbcollect.service usr/share/man/man3/hb.3 \
	usr/share/doc/hb/OPERATIONS.md usr/share/doc/hb/README.md; do
	[ -f "$root/$f" ] || hb_fail "make install did not install /$f"
done
grep -q '^ExecStart=/usr/bin/hbcollect ' "$root/usr/lib/systemd/system/hbcollect.service" ||
	hb_fail "the installed unit does not run /usr/bin/hbcollect"
grep -q 'file:/usr/share/doc/hb/OPERATIONS.md' "$root/usr/lib/systemd/system/hbcollect.service" ||
	hb_fail "the installed unit's Documentation= does not point at the installed docs"
soname=$(readelf -d "$lib/libhb.so.0.1.0" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libhb.so.0 ] || hb_fail "libhb.so's soname is '$soname', not libhb.so.0"

# the staged tree first; msgpack's own .pc from the system (hbread needs it)
pc() { PKG_CONFIG_PATH="$lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$root" pkg-config "$@"; }
san=()
[ -n "${SANITIZE:-}" ] && san=(-fsanitize="$SANITIZE")
cflags=(-std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror "${san[@]}")
# shellcheck disable=SC2046 # flags are words
cc "${cflags[@]}" "$ROOT/tests/install/emit.c" -o "$T/emit" $(pc --cflags --libs hb) -ldl ||
	hb_fail "emit.c does not build through pkg-config hb"
readelf -d "$T/emit" | grep -q 'NEEDED.*\[libhb.so.0\]' ||
	hb_fail "the program is not linked against libhb.so.0: $(readelf -d "$T/emit" | grep NEEDED)"
# the plugin carries libhb.a (position independent) inside it
# shellcheck disable=SC2046
cc "${cflags[@]}" -shared -fPIC -DPKG_PLUGIN "$ROOT/tests/install/emit.c" -o "$T/plugin.so" \
	$(pc --cflags hb) "$lib/libhb.a" $(pc --static --libs-only-l hb | sed 's/-lhb//') ||
	hb_fail "a shared library cannot link libhb.a into itself"
readelf -d "$T/plugin.so" | grep -q 'NEEDED.*libhb' && hb_fail "the plugin depends on libhb.so"
cc "${cflags[@]}" -DPKG_NO_HB "$ROOT/tests/install/emit.c" -o "$T/loader" -ldl ||
	hb_fail "cannot build the plugin loader"
# shellcheck disable=SC2046
cc "${cflags[@]}" "$ROOT/tests/install/count.c" -o "$T/count" $(pc --cflags --libs hbread) ||
	hb_fail "count.c does not build through pkg-config hbread"

dir="$T/archive"
hb_collector_start "$dir"
LD_LIBRARY_PATH="$lib" "$T/emit" 1000 || hb_fail "the libhb.so program failed"
"$T/loader" 500 "$T/plugin.so" || hb_fail "the plugin with libhb.a inside failed"
only_collector_ring() { [ "$(hb_shm_count)" -eq 1 ]; }
hb_wait_for 20 "both rings drained and removed" only_collector_ring
hb_collector_stop
got=$(LD_LIBRARY_PATH="$lib" "$T/count" "$dir") || hb_fail "count failed on $dir"
# 1000 events n = 0..999 and 500 events n = 0..499
[ "$got" = "1500 $((999 * 1000 / 2 + 499 * 500 / 2))" ] ||
	hb_fail "the reader counted '$got' pkg.ev events (events sum), expected 1500 $((999 * 500 + 499 * 250))"

mk uninstall
left=$(cd "$root" && find . ! -type d | sort)
[ -z "$left" ] || hb_fail "make uninstall left files behind: $left"
echo "ok"
