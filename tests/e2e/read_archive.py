#!/usr/bin/python3
"""Reads an hb archive with nothing but msgpack (stock settings) and
docs/FORMAT.md, and checks it against hbload's report.

usage: read_archive.py DIR LOAD.json BUS T0_NS T1_NS
"""
import glob
import json
import os
import struct
import sys

import msgpack

SLACK_NS = 2 * 10**9  # clock conversion slack around the test's window
LOAD_TYPES = {
    "load.order": (["n", "px", "sym"], ["i64", "f64", "str"]),
    "load.fill": (["n", "qty", "ok"], ["i64", "u64", "bool"]),
    "load.note": (["n", "text", "blob"], ["i64", "str", "bytes"]),
}
LOAD_METRICS = {"load.sent": "counter", "load.fill_pct": "gauge", "load.emit": "timing",
                "load.ring": "health"}
STATUSES = {"starting", "ok", "degraded", "stopping"}
HEALTH = {"unknown", "up", "down", "degraded", "open", "closed", "half-open"}

problems = []


def bad(where, msg):
    problems.append(msg)
    if len(problems) <= 30:
        print("read_archive: %s: %s" % (where, msg), file=sys.stderr)


def ts_ns(where, ts, t0, t1):
    if not isinstance(ts, msgpack.Timestamp):
        bad(where, "ts is %s, not msgpack.Timestamp" % type(ts).__name__)
        return None
    ns = ts.to_unix_nano()
    if not t0 - SLACK_NS <= ns <= t1 + SLACK_NS:
        bad(where, "ts %s outside the test's window [%d, %d]" % (ts.to_datetime(), t0, t1))
    return ns


def expect_values(i, n, tname):
    if tname == "load.order":
        return [n, n * 0.25, "s%d" % (n % 100)]
    if tname == "load.fill":
        return [n, n * 3, n % 2 == 0]
    return [n, "note-%d" % n, struct.pack("<I", n & 0xFFFFFFFF)]


def same_typed(a, b):
    return type(a) is type(b) and a == b


def check_producer_record(where, o):
    for key, typ in (("p", int), ("name", str), ("pid", int), ("types", list),
                     ("metrics", list), ("interval_ms", int), ("seq_next", int)):
        if not isinstance(o.get(key), typ):
            bad(where, "producer record key %r is %r" % (key, o.get(key)))
            return False
    if not isinstance(o.get("start"), msgpack.Timestamp):
        bad(where, "producer start is not a timestamp: %r" % o.get("start"))
    return True


def check_load_tables(where, o):
    """hbload's type and metric tables, once the archive stated them all
    (in the producer record, or in later types/metrics records when the
    collector attached the ring before hbload registered)."""
    names = [t.get("name") for t in o["types"]]
    for tname, (fields, ftypes) in LOAD_TYPES.items():
        if tname not in names:
            bad(where, "%s: type %s not in the type table %s" % (o["name"], tname, names))
            continue
        t = o["types"][names.index(tname)]
        if t.get("fields") != fields or t.get("ftypes") != ftypes:
            bad(where, "%s: type %s is %r" % (o["name"], tname, t))
    metrics = {m.get("name"): m.get("kind") for m in o["metrics"]}
    for mname, kind in LOAD_METRICS.items():
        if metrics.get(mname) != kind:
            bad(where, "%s: metric %s is %r, want %s" % (o["name"], mname, metrics.get(mname),
                                                        kind))


def check_heartbeat(where, o, prod):
    if len(o) < 8:
        bad(where, "heartbeat array of %d elements" % len(o))
        return
    _, _, seq, _, status, count, interval, metrics = o[:8]
    if status not in STATUSES or not isinstance(count, int) or count < 1:
        bad(where, "heartbeat status %r count %r" % (status, count))
    if interval != prod["interval_ms"]:
        bad(where, "heartbeat interval_ms %r, producer says %r" % (interval, prod["interval_ms"]))
    if metrics is None:
        return
    if not isinstance(metrics, list) or len(metrics) > len(prod["metrics"]):
        bad(where, "heartbeat metrics %r for %d metrics" % (metrics, len(prod["metrics"])))
        return
    for m, v in zip(prod["metrics"], metrics):
        kind = m["kind"]
        ok = ((kind == "counter" and isinstance(v, int) and v >= 0) or
              (kind == "gauge" and isinstance(v, float)) or
              (kind == "timing" and isinstance(v, list) and len(v) == 3 and
               all(isinstance(x, int) for x in v)) or
              (kind == "health" and v in HEALTH))
        if not ok:
            bad(where, "metric %s (%s) has value %r" % (m["name"], kind, v))


def main():
    d, load_path, bus, t0, t1 = sys.argv[1:6]
    t0, t1 = int(t0), int(t1)
    load = json.load(open(load_path))
    files = sorted(glob.glob(os.path.join(d, "hb-*.msgpack")))
    if not files:
        bad(d, "no archive files")
    producers = {}  # p -> producer record (one collector run)
    events = {}     # name -> set of n
    seqs = {}       # name -> set of seq
    nhb = 0
    for path in files:
        fname = os.path.basename(path)
        with open(path, "rb") as f:
            unpacker = msgpack.Unpacker(f, raw=False)
            for idx, o in enumerate(unpacker):
                where = "%s object %d" % (fname, idx)
                if idx == 0:
                    if not (isinstance(o, dict) and o.get("k") == "header" and
                            o.get("magic") == "hb-archive" and
                            isinstance(o.get("version"), list) and o["version"][:1] == [1]):
                        bad(where, "first object is not a v1 file header: %r" % (o,))
                        break
                    if o.get("bus") != bus:
                        bad(where, "header bus %r, want %r" % (o.get("bus"), bus))
                    ts_ns(where, o.get("ts"), t0, t1)
                    continue
                if isinstance(o, dict):
                    k = o.get("k")
                    if not isinstance(k, str):
                        bad(where, "map without k: %r" % o)
                        continue
                    if "ts" in o:
                        ts_ns(where, o["ts"], t0, t1)
                    else:
                        bad(where, "bus record without ts: %r" % o)
                    if k == "producer" and check_producer_record(where, o):
                        producers[o["p"]] = o
                    elif k in ("types", "metrics"):
                        prod = producers.get(o.get("p"))
                        if prod is None:
                            bad(where, "%s record of unknown producer %r" % (k, o.get("p")))
                        elif o.get("first") != len(prod[k]) or not isinstance(o.get("list"), list):
                            bad(where, "%s record first=%r, the table holds %d" %
                                (k, o.get("first"), len(prod[k])))
                        else:
                            prod[k].extend(o["list"])
                    continue
                if not isinstance(o, list) or len(o) < 4 or o[0] not in (1, 2):
                    bad(where, "neither a map nor an event/heartbeat array: %r" % (o,))
                    continue
                prod = producers.get(o[1])
                if prod is None:
                    bad(where, "record of unknown producer p=%r" % o[1])
                    continue
                name = prod["name"]
                if not name.startswith("load-"):
                    continue
                seq = o[2]
                if seq in seqs.setdefault(name, set()):
                    bad(where, "%s seq %d twice" % (name, seq))
                seqs[name].add(seq)
                ts_ns(where, o[3], t0, t1)
                if o[0] == 2:
                    nhb += 1
                    check_heartbeat(where, o, prod)
                    continue
                if len(o) < 7:
                    bad(where, "event array of %d elements" % len(o))
                    continue
                tid, prio, req, vals = o[4], o[5], o[6], o[7:]
                if not isinstance(tid, int) or not 0 <= tid < len(prod["types"]):
                    bad(where, "event type id %r" % tid)
                    continue
                tname = prod["types"][tid]["name"]
                n = vals[0] if vals else None
                if not isinstance(n, int):
                    bad(where, "event without n: %r" % o)
                    continue
                i = int(name.rsplit("-", 1)[1])
                want = expect_values(i, n, tname)
                if tname != ["load.order", "load.fill", "load.note"][n % 3] or \
                        not all(same_typed(a, b) for a, b in zip(vals, want)) or len(vals) != 3:
                    bad(where, "%s n=%d: %s %r, want %s %r" % (name, n, tname, vals,
                                                              ["load.order", "load.fill",
                                                               "load.note"][n % 3], want))
                if prio != n % 4 or req != i * 1000000000 + n + 1:
                    bad(where, "%s n=%d: prio %r req %r" % (name, n, prio, req))
                if n in events.setdefault(name, set()):
                    bad(where, "%s n=%d twice" % (name, n))
                events[name].add(n)
    for prod in producers.values():
        if prod["name"].startswith("load-"):
            check_load_tables(prod["name"], prod)
    for pr in load["producers"]:
        got = len(events.get(pr["name"], ()))
        if got != pr["committed"]:
            bad(pr["name"], "%d events in the archive, hbload committed %d" % (got,
                                                                              pr["committed"]))
    if nhb == 0:
        bad(d, "no heartbeats in the archive")
    if problems:
        print("read_archive: %d problems" % len(problems), file=sys.stderr)
        return 1
    print("read_archive: ok: %d files, %d producers, %d events, %d heartbeats" %
          (len(files), len(producers), sum(len(v) for v in events.values()), nhb))
    return 0


if __name__ == "__main__":
    sys.exit(main())
