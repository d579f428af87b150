# Builds the hostile ring helper (tests/e2e/hostile_ring.c) into
# $T/hostile_ring (sourced after common.bash); skips (77) without a compiler.
command -v cc >/dev/null || {
	echo "no C compiler to build the hostile ring helper"
	exit 77
}
hostile_san=()
[ -n "${SANITIZE:-}" ] && hostile_san=(-fsanitize="$SANITIZE")
cc -O1 -g -D_GNU_SOURCE -I"$ROOT/include" -I"$ROOT/bus" "${hostile_san[@]}" "$E2E/hostile_ring.c" \
	"$ROOT/producers/hb.c" "$ROOT/producers/hb_thread.c" -lpthread -o "$T/hostile_ring"
