#!/usr/bin/env bash
# The build keeps each room to its own headers: compiled with its room's
# include paths, a producer cannot include the collector's or the reader's
# internals, the collector not the reader's, a reader tool not the
# collector's (make check-layers, tools/check_layers.sh); and every probe
# that should compile does, so the failures are the include paths' doing.
set -euo pipefail
. "$(dirname "$0")/common.bash"
command -v "${CC:-cc}" >/dev/null || {
	echo "no C compiler for the probes"
	exit 77
}
unset MAKEFLAGS MFLAGS MAKELEVEL
make -s -C "$ROOT" --no-print-directory check-layers >"$T/layers.log" 2>&1 ||
	hb_fail "check-layers: $(grep -v '^ok' "$T/layers.log")"
cat "$T/layers.log" >&2
forbidden=$(grep -c '^ok .* forbidden$' "$T/layers.log")
allowed=$(grep -c '^ok .* ok$' "$T/layers.log")
[ "$forbidden" -eq 16 ] || hb_fail "expected 16 forbidden includes refused, got $forbidden"
[ "$allowed" -eq 9 ] || hb_fail "expected 9 allowed includes to compile, got $allowed"
echo "layers_include: $forbidden forbidden includes refused, $allowed allowed ones compile"
