#!/bin/sh
# Proves that the build keeps each room to what it may include (the
# Makefile's INC_* paths, given in the environment by `make check-layers`):
# for every room, a header it may use compiles with its flags and a header
# of a room it may not use fails with "No such file"; and no source reaches
# into another room by a relative path ("../"), which no -I would stop.
# Prints one line per probe; exits 1 when any probe came out otherwise.
set -u
cd "$(dirname "$0")/.." || exit 2
CC=${CC:-cc}
t=$(mktemp -d "${TMPDIR:-/tmp}/hb-layers.XXXXXX")
trap 'rm -rf "$t"' EXIT
bad=0 n=0

# probe ROOM FLAGS HEADER ok|forbidden
probe()
{
	n=$((n + 1))
	printf '#include "%s"\nint hb_probe;\n' "$3" >"$t/p.c"
	# shellcheck disable=SC2086 # the flags are words
	if $CC -std=gnu11 -D_GNU_SOURCE $2 -fsyntax-only "$t/p.c" 2>"$t/err"; then
		got=ok
	elif grep -q "No such file" "$t/err"; then
		got=forbidden
	else
		got="broken: $(head -n 3 "$t/err")"
	fi
	if [ "$got" = "$4" ]; then
		echo "ok    $1: $3 $4"
	else
		echo "FAIL  $1: $3 should be $4, is $got"
		bad=1
	fi
}

probe producers "$INC_PRODUCERS" hb.h ok
probe producers "$INC_PRODUCERS" hbs/utf8.h ok
probe producers "$INC_PRODUCERS" hbc.h forbidden
probe producers "$INC_PRODUCERS" rd_internal.h forbidden
probe producers "$INC_PRODUCERS" http.h forbidden
probe bus "$INC_BUS" hbc.h ok
probe bus "$INC_BUS" hbs/proc.h ok
probe bus "$INC_BUS" rd_internal.h forbidden
probe bus "$INC_BUS" hb_merge.h forbidden
probe bus "$INC_BUS" hb_int.h forbidden
probe reader "$INC_READER" rd_internal.h ok
probe reader "$INC_READER" hbc.h forbidden
probe reader "$INC_READER" ring.h forbidden
probe reader "$INC_READER" http.h forbidden
probe consumers "$INC_CONSUMERS" hb_merge.h ok
probe consumers "$INC_CONSUMERS" http.h ok
probe consumers "$INC_CONSUMERS" hbc.h forbidden
probe consumers "$INC_CONSUMERS" ring.h forbidden
probe consumers "$INC_CONSUMERS" hb_int.h forbidden
probe examples "$INC_EXAMPLES" hb_consumer.h ok
probe examples "$INC_EXAMPLES" rd_internal.h forbidden
probe examples "$INC_EXAMPLES" hbc.h forbidden
probe http "$INC_HTTP" http.h ok
probe http "$INC_HTTP" hbc.h forbidden
probe http "$INC_HTTP" rd_internal.h forbidden

# relative includes: must stay in their room (or reach include/)
for f in $(git ls-files 'producers/*.[ch]' 'bus/*.[ch]' 'consumers/*.[ch]' 'http/*.[ch]' 2>/dev/null); do
	room=${f%%/*}
	for inc in $(sed -n 's/^#[ \t]*include[ \t]*"\(\.\.\/[^"]*\)".*/\1/p' "$f"); do
		n=$((n + 1))
		to=$(realpath -m --relative-to=. "$(dirname "$f")/$inc")
		case "$to" in
		"$room"/* | include/*) echo "ok    $f: \"$inc\" stays in $room" ;;
		*)
			echo "FAIL  $f: \"$inc\" reaches $to, outside $room"
			bad=1
			;;
		esac
	done
done
echo "check-layers: $n probes, $([ $bad = 0 ] && echo all as expected || echo some not)"
exit $bad
