#!/usr/bin/env bash
# Whatever bytes a user puts into names under the bus prefix in /dev/shm,
# every str the collector writes is valid UTF-8: a stock msgpack reader in
# strict mode (Python's msgpack, raw=False) reads every record of every
# file, the records written after the hostile names included. The names
# come out escaped (\xNN for a byte that is not a printable character, \\
# for a backslash), both for a ring quarantined by its name alone and for a
# valid ring renamed; the log has no control characters and is UTF-8 too.
set -euo pipefail
. "$(dirname "$0")/common.bash"
hb_need hbcollect ticker

A="$T/archive"
hb_collector_start "$A"
hb_wait_for 20 "the collector to start" grep -q "collecting bus" "$T/collector.1.log"
kill -STOP "$COLLECTOR_PID"
# a valid ring of "renamed", moved to a name with bad bytes before the
# collector saw it; and junk under a name with an escape sequence
hb_spawn "$T/r.out" "$T/r.err" "$BIN/ticker" --name renamed --interval-ms 100 --rate 50
RENAMED=$!
ring_of_renamed() { compgen -G "/dev/shm/hb.$BUS.renamed.$RENAMED.*" >/dev/null; }
hb_wait_for 20 "the ring of renamed" ring_of_renamed
"$PY" - "$BUS" "$RENAMED" <<'PY'
import glob, os, sys
bus, pid = sys.argv[1], sys.argv[2]
src = glob.glob("/dev/shm/hb.%s.renamed.%s.*" % (bus, pid))[0]
os.rename(src.encode(), b"/dev/shm/hb.%s.\xc3(re\\named\x07\xff.%s.0" % (bus.encode(), pid.encode()))
fd = os.open(b"/dev/shm/hb.%s.\xff\xfe\x1b[31mjunk\xe2\x82.1.0" % bus.encode(),
             os.O_CREAT | os.O_WRONLY, 0o600)
os.write(fd, b"\xff" * 8192)
os.close(fd)
PY
kill -CONT "$COLLECTOR_PID"
hb_wait_for 20 "the junk quarantined" grep -q "quarantined" "$T/collector.1.log"
sleep 1
hb_spawn "$T/a.out" "$T/a.err" "$BIN/ticker" --name after --interval-ms 100 --rate 50 --count 30 \
	--seconds 1
AFTER=$!
hb_wait_exit "$AFTER" 30
kill -TERM "$RENAMED"
hb_wait_exit "$RENAMED" 30
renamed_removed() { ! compgen -G "/dev/shm/hb.$BUS.*.$RENAMED.0" >/dev/null; }
hb_wait_for 20 "the renamed ring drained and removed" renamed_removed
hb_collector_stop

"$PY" - "$A" "$T/collector.1.log" "$RENAMED" <<'PY'
import glob, msgpack, sys
arch, log, pid = sys.argv[1], sys.argv[2], sys.argv[3]
def strs(o):
    if isinstance(o, str):
        yield o
    elif isinstance(o, (list, tuple)):
        for x in o:
            yield from strs(x)
    elif isinstance(o, dict):
        for k, v in o.items():
            yield from strs(k)
            yield from strs(v)
names, rings, quarantined, counts, n = {}, {}, [], {}, 0
for f in sorted(glob.glob(arch + "/hb-*.msgpack")):
    with open(f, "rb") as fh:
        for o in msgpack.Unpacker(fh, raw=False, strict_map_key=False):
            n += 1
            for s in strs(o):
                assert not any(ord(c) < 0x20 or 0x7f <= ord(c) < 0xa0 for c in s), repr(s)
            if isinstance(o, dict) and o.get("k") == "producer":
                names[o["p"]] = o["name"]
                rings[o["name"]] = o["ring"]
            elif isinstance(o, dict) and o.get("k") == "state" and o.get("state") == "quarantined":
                quarantined.append(o.get("ring"))
            elif isinstance(o, list) and o[0] in (1, 2, 3):
                k = names.get(o[1])
                counts[k] = counts.get(k, 0) + (len(o) - 4 if o[0] == 3 else 1)
bus = rings["after"].split(".")[1]
assert quarantined == ["hb.%s.\\xff\\xfe\\x1b[31mjunk\\xe2\\x82.1.0" % bus], quarantined
assert rings["renamed"] == "hb.%s.\\xc3(re\\\\named\\x07\\xff.%s.0" % (bus, pid), rings["renamed"]
assert counts.get("after", 0) >= 30 and counts.get("renamed", 0) > 0, counts
text = open(log, "rb").read().decode("utf-8")  # strict
assert not any(ord(c) < 0x20 and c != "\n" for c in text), [l for l in text.splitlines() if any(ord(c) < 0x20 for c in l)]
assert "\\x1b[31mjunk" in text, text
print("names_utf8_strict_reader: %d objects read strictly; ring names %r and %r" %
      (n, quarantined[0], rings["renamed"]))
PY
