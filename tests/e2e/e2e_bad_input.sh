#!/usr/bin/env bash
# Damaged archives and bad command lines: hbcat prints everything readable
# around a truncated tail or a corrupt region, reports the offset and exits 1;
# bad flags and values exit 2 naming the problem; --help and --version work.
set -euo pipefail
source "$(dirname "$0")/common.bash"
hb_need hbcollect hbload hbcat

# ---- an intact archive of one file ----
dir="$T/archive"
hb_collector_start "$dir"
"$BIN/hbload" --bus "$BUS" --producers 2 --records 3000 --rate 20000 --json >"$T/load.json" 2>"$T/load.err" ||
	hb_fail "hbload exited $?: $(tail -n 5 "$T/load.err")"
hb_collector_stop
files=("$dir"/hb-*.msgpack)
[ ${#files[@]} -eq 1 ] || hb_fail "expected one archive file, got ${#files[@]}"
good="${files[0]}"

"$BIN/hbcat" -o json "$good" >"$T/good.jsonl" 2>"$T/good.err" ||
	hb_fail "hbcat on the intact file exited $?: $(cat "$T/good.err")"
[ -s "$T/good.err" ] && hb_fail "hbcat on the intact file wrote to stderr: $(cat "$T/good.err")"

# The layout of the intact file: per object its offset, end, how many
# records hbcat prints of it by default (none of the header, of index
# records and of restated producers; one per event of an event batch), and
# whether it holds events (a single event or a batch).
"$PY" - "$good" "$T/good.jsonl" >"$T/layout" <<'PY'
import json, sys, msgpack
data = open(sys.argv[1], "rb").read()
u = msgpack.Unpacker(raw=False)
u.feed(data)
off = 0
rows = []
for o in u:
    end = u.tell()
    events = isinstance(o, list) and o[0] in (1, 3)
    if isinstance(o, list) and o[0] == 3:
        printed = len(o) - 4
    else:
        printed = int(not (isinstance(o, dict) and (o.get("k") in ("header", "index") or
                           (o.get("k") == "producer" and o.get("why") == "restated"))))
    rows.append((off, end, printed, int(events)))
    off = end
assert off == len(data), "trailing bytes in the intact file"
nprinted = sum(r[2] for r in rows)
if sum(r[3] for r in rows) < 20:
    sys.exit("only %d objects with events in the intact file, too few for the test"
             % sum(r[3] for r in rows))
nlines = len(open(sys.argv[2]).read().splitlines())
if nprinted != nlines:
    sys.exit("hbcat printed %d records of the intact file, %d printable objects in it"
             % (nlines, nprinted))
for r in rows:
    print(*r)
PY
nobj=$(wc -l <"$T/layout")
hb_log "intact file: $nobj objects, $(wc -l <"$T/good.jsonl") printed"

# printed_before I: how many records hbcat prints of the objects before index I
printed_before() { head -n "$1" "$T/layout" | awk '{ s += $3 } END { print s + 0 }'; }
# printed_from I: how many records hbcat prints of the objects from index I on
printed_from() { tail -n +"$(($1 + 1))" "$T/layout" | awk '{ s += $3 } END { print s + 0 }'; }
obj() { sed -n "$(($1 + 1))p" "$T/layout"; }
# events_from I: index of the first object from I on that holds events
events_from()
{
	local i=$1
	while [ "$i" -lt "$nobj" ] && [ "$(obj "$i" | cut -d' ' -f4)" != 1 ]; do i=$((i + 1)); done
	[ "$i" -lt "$nobj" ] || hb_fail "no object with events from object $1 on"
	echo "$i"
}
[ "$(printed_from 0)" -gt 1000 ] || hb_fail "archive too small for the test ($(printed_from 0) records)"

# hbcat_damaged FILE WANT_LINES OFFSET: hbcat must print WANT_LINES records,
# report OFFSET on stderr and exit 1.
hbcat_damaged()
{
	local file=$1 want=$2 offset=$3 rc=0 got
	"$BIN/hbcat" -o json "$file" >"$T/out.jsonl" 2>"$T/out.err" || rc=$?
	got=$(wc -l <"$T/out.jsonl")
	hb_log "hbcat $(basename "$file"): exit $rc, $got records, stderr: $(head -c 300 "$T/out.err")"
	[ $rc -eq 1 ] || hb_fail "hbcat on $(basename "$file") exited $rc, want 1"
	[ "$got" -eq "$want" ] || hb_fail "hbcat on $(basename "$file") printed $got records, want $want"
	grep -q "offset $offset\b" "$T/out.err" ||
		hb_fail "hbcat did not report offset $offset on stderr: $(cat "$T/out.err")"
	# every line printed is one of the intact file's lines
	"$PY" - "$T/good.jsonl" "$T/out.jsonl" <<'PY'
import sys
good = set(open(sys.argv[1]).read().splitlines())
for line in open(sys.argv[2]).read().splitlines():
    if line not in good:
        sys.exit("hbcat printed a record not in the intact file: %.300s" % line)
PY
}

# ---- truncated mid-record (inside an event or batch, 2/3 into the file) ----
i=$(events_from $((nobj * 2 / 3)))
read -r start end _ <<<"$(obj $i)"
cp "$good" "$T/truncated.msgpack"
truncate -s $(((start + end) / 2)) "$T/truncated.msgpack"
hbcat_damaged "$T/truncated.msgpack" "$(printed_before $i)" "$start"

# ---- a corrupt region: objects i..i+2 overwritten with 0xc1 (never valid) ----
i=$(events_from $((nobj / 3)))
read -r start _ <<<"$(obj $i)"
read -r _ end _ <<<"$(obj $((i + 2)))"
cp "$good" "$T/corrupt.msgpack"
head -c $((end - start)) /dev/zero | tr '\0' '\301' |
	dd of="$T/corrupt.msgpack" bs=1 seek="$start" conv=notrunc status=none
want=$(($(printed_before $i) + $(printed_from $((i + 3)))))
hbcat_damaged "$T/corrupt.msgpack" "$want" "$start"

# ---- the same through stdin ----
rc=0
"$BIN/hbcat" -o json - <"$T/corrupt.msgpack" >"$T/stdin.jsonl" 2>"$T/stdin.err" || rc=$?
[ $rc -eq 1 ] || hb_fail "hbcat - on the corrupt file exited $rc, want 1"
[ "$(wc -l <"$T/stdin.jsonl")" -eq "$want" ] ||
	hb_fail "hbcat - printed $(wc -l <"$T/stdin.jsonl") records, want $want"

# ---- bad command lines: exit 2, the message names the problem ----
# usage_error WORD CMD...: CMD must exit 2 and mention WORD on stderr
usage_error()
{
	local word=$1 rc=0
	shift
	HB_DIR="$T/nodir" timeout 10 "$@" </dev/null >"$T/u.out" 2>"$T/u.err" || rc=$?
	[ $rc -eq 2 ] || hb_fail "'${*#"$BIN/"}' exited $rc, want 2 (stderr: $(head -c 300 "$T/u.err"))"
	grep -qF -- "$word" "$T/u.err" ||
		hb_fail "'${*#"$BIN/"}': stderr does not name '$word': $(head -c 300 "$T/u.err")"
	hb_log "ok: $(basename "$1") ${*:2} -> exit 2: $(head -n 1 "$T/u.err")"
}
usage_error --bogus "$BIN/hbcat" --bogus "$dir"
usage_error foo "$BIN/hbcat" --priority foo "$dir"
usage_error yesterdayish "$BIN/hbcat" --since yesterdayish "$dir"
usage_error xml "$BIN/hbcat" -o xml "$dir"
usage_error --bogus "$BIN/hbload" --bus "$BUS" --bogus
usage_error -5 "$BIN/hbload" --bus "$BUS" --records -5
usage_error --bogus "$BIN/hbcollect" --bus "$BUS" --bogus
usage_error 12Q "$BIN/hbcollect" --bus "$BUS" --dir "$T/nodir" --rotate-size 12Q
usage_error sometimes "$BIN/hbcollect" --bus "$BUS" --dir "$T/nodir" --fsync sometimes
[ ! -e "$T/nodir" ] || hb_fail "hbcollect created its directory despite a usage error"

# ---- --help and --version ----
for tool in hbcat hbcollect hbload; do
	rc=0
	"$BIN/$tool" --help </dev/null >"$T/h.out" 2>"$T/h.err" || rc=$?
	[ $rc -eq 0 ] || hb_fail "$tool --help exited $rc"
	grep -qi usage "$T/h.out" || hb_fail "$tool --help printed no usage on stdout"
	v=$("$BIN/$tool" --version </dev/null) || hb_fail "$tool --version exited $?"
	[ "$v" = "$tool 0.1.0" ] || hb_fail "$tool --version printed '$v', want '$tool 0.1.0'"
done
echo "ok"
