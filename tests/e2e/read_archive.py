#!/usr/bin/python3
"""Reads an hb archive with nothing but msgpack (stock settings) and
docs/FORMAT.md, and checks it against hbload's report.

usage: read_archive.py DIR LOAD.json BUS T0_NS T1_NS [--version MAJOR.MINOR] [--host NAME]
                       [--fleet]

Reads version 1.x and 2.x files: event batches (element 0 = 3) are expanded
into their events, each with its own sequence number and time. Checks, per
hbload producer: every event's content; sequence numbers in file order,
each from 0 to the last present exactly once or covered by exactly one gap
record; events present == committed and overflow gaps == dropped. Checks
every time index record against the chunk it describes. With --version,
every file header must state that version, and from 2.0 on every event must
come in a batch (the collector writes no single events).
"""
import argparse
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
META_KINDS = {"header", "producer", "types", "metrics"}
# bus records that collectors of format 1.x wrote without noting them in
# their time index; from 2.0 on every record counts
UNINDEXED_KINDS = {"host", "alert"}

problems = []


def bad(where, msg):
    problems.append(msg)
    if len(problems) <= 30:
        print("read_archive: %s: %s" % (where, msg), file=sys.stderr)


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def in_window(where, ns, t0, t1):
    if not t0 - SLACK_NS <= ns <= t1 + SLACK_NS:
        bad(where, "ts %d ns outside the test's window [%d, %d]" % (ns, t0, t1))


def ts_ns(where, ts):
    if not isinstance(ts, msgpack.Timestamp):
        bad(where, "ts is %s, not msgpack.Timestamp" % type(ts).__name__)
        return None
    return ts.to_unix_nano()


def expand_batch(where, o):
    """The events of batch o as single events [1, p, seq, ts_ns, type, prio,
    req, v0, ...], or None when o is malformed."""
    if len(o) < 5 or not is_int(o[1]) or not is_int(o[2]) or o[2] < 0:
        bad(where, "malformed batch head %.200r" % (o[:5],))
        return None
    t = ts_ns(where, o[3])
    if t is None:
        return None
    events = []
    for i, e in enumerate(o[4:]):
        if not isinstance(e, list) or len(e) < 4 or not is_int(e[0]):
            bad(where, "batch event %d is %.200r" % (i, e))
            return None
        t += e[0]
        events.append([1, o[1], o[2] + i, t] + e[1:])
    return events


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


class Chunk:
    """What a time index record must say about the bytes before it: the
    records in them, of which meta are tables, and their time range.

    In a 1.x file, an index record that matches the chunk without its
    UNINDEXED_KINDS records is accepted, and counted in lax."""

    lax = 0

    def __init__(self, start):
        self.start, self.meta = start, 0
        self.all = [0, None, None]     # n, ts_min, ts_max
        self.indexed = [0, None, None]  # without UNINDEXED_KINDS

    def note(self, ns, meta=False, records=1, unindexed=False):
        """A record (or batch of records) and its time (ns, or None)."""
        self.meta += meta
        for acc in (self.all,) if unindexed else (self.all, self.indexed):
            acc[0] += records
        self.time(ns, unindexed)

    def time(self, ns, unindexed=False):
        """A time in the chunk, of a record already noted."""
        for acc in (self.all,) if unindexed else (self.all, self.indexed):
            if ns is not None:
                acc[1] = ns if acc[1] is None else min(acc[1], ns)
                acc[2] = ns if acc[2] is None else max(acc[2], ns)

    def check(self, where, o, at, prev):
        want = {"at": at, "prev": prev, "from": self.start, "meta": self.meta}
        for key, v in want.items():
            if o.get(key) != v:
                bad(where, "index record %s=%r, want %r" % (key, o.get(key), v))
        got = [o.get(key) for key in ("n", "ts_min", "ts_max")]
        got = [v.to_unix_nano() if isinstance(v, msgpack.Timestamp) else v for v in got]
        if got == self.indexed and got != self.all:
            Chunk.lax += 1
        elif got != self.all:
            bad(where, "index record n, ts_min, ts_max = %r, the chunk's are %r" %
                (got, self.all))


class Archive:
    def __init__(self, bus, t0, t1, version, host=None):
        self.bus, self.t0, self.t1, self.version = bus, t0, t1, version
        self.host = host
        self.any_order = False  # a fleet archive: re-sent ranges may come late
        self.producers = {}  # p -> producer record (one collector run)
        self.events = {}     # name -> set of n
        self.seqs = {}       # name -> set of seq
        self.last_seq = {}   # name -> last seq in file order
        self.gaps = {}       # name -> [(from, to, why)]
        self.nhb = self.nbatches = self.nbatched = self.nsingle = self.nindex = 0

    def read_file(self, path):
        fname = os.path.basename(path)
        with open(path, "rb") as f:
            unpacker = msgpack.Unpacker(f, raw=False)
            major, off, chunk, prev_index = None, 0, Chunk(0), 0
            for idx, o in enumerate(unpacker):
                where = "%s object %d (offset %d)" % (fname, idx, off)
                end = unpacker.tell()
                if idx == 0:
                    major = self.header(where, o)
                    if major is None:
                        break
                    chunk.note(ts_ns(where, o.get("ts")), meta=True)
                elif isinstance(o, dict) and o.get("k") == "index":
                    chunk.check(where, o, off, prev_index)
                    chunk, prev_index = Chunk(end), off
                    self.nindex += 1
                elif isinstance(o, dict):
                    chunk.note(self.bus_record(where, o), meta=o.get("k") in META_KINDS,
                               unindexed=major < 2 and o.get("k") in UNINDEXED_KINDS)
                elif isinstance(o, list) and len(o) >= 1 and o[0] == 3:
                    if major < 2:
                        bad(where, "event batch in a version %d file" % major)
                    evs = expand_batch(where, o) or []
                    # 2.x indexes count the events of a batch, 1.x objects
                    chunk.note(None, records=len(evs) if major >= 2 else 1)
                    for ev in evs:
                        chunk.time(ev[3])
                        self.record(where, ev)
                    self.nbatches += 1
                    self.nbatched += len(evs)
                elif isinstance(o, list) and len(o) >= 4 and o[0] in (1, 2):
                    ns = ts_ns(where, o[3])
                    chunk.note(ns)
                    if ns is not None:
                        self.record(where, o[:3] + [ns] + o[4:])
                    if o[0] == 1:
                        self.nsingle += 1
                        if self.version and self.version[0] >= 2:
                            bad(where, "a single event in a collector's %d.%d file" %
                                tuple(self.version))
                else:
                    bad(where, "neither a map nor an event/heartbeat/batch array: %.200r" % (o,))
                off = end

    def header(self, where, o):
        """Checks the file header; returns the file's major version."""
        v = o.get("version") if isinstance(o, dict) else None
        if not (isinstance(o, dict) and o.get("k") == "header" and
                o.get("magic") == "hb-archive" and isinstance(v, list) and len(v) >= 2 and
                all(is_int(x) for x in v[:2]) and v[0] in (1, 2)):
            bad(where, "first object is not a v1 or v2 file header: %r" % (o,))
            return None
        if self.version and v[:2] != self.version:
            bad(where, "header version %r, want %r" % (v, self.version))
        if o.get("bus") != self.bus:
            bad(where, "header bus %r, want %r" % (o.get("bus"), self.bus))
        if self.host is not None and o.get("host") != self.host:
            bad(where, "header host %r, want %r" % (o.get("host"), self.host))
        ns = ts_ns(where, o.get("ts"))
        if ns is not None:
            in_window(where, ns, self.t0, self.t1)
        return v[0]

    def bus_record(self, where, o):
        """Checks a bus record and applies its tables; returns its ts (ns)."""
        k = o.get("k")
        if not isinstance(k, str):
            bad(where, "map without k: %r" % o)
            return None
        if k == "producer" and self.host is not None and o.get("host") != self.host:
            bad(where, "producer %r host %r, want %r" % (o.get("name"), o.get("host"),
                                                        self.host))
        ns = None
        if "ts" in o:
            ns = ts_ns(where, o["ts"])
            if ns is not None:
                in_window(where, ns, self.t0, self.t1)
        else:
            bad(where, "bus record without ts: %r" % o)
        if k == "producer" and check_producer_record(where, o):
            self.producers[o["p"]] = o
        elif k in ("types", "metrics"):
            prod = self.producers.get(o.get("p"))
            if prod is None:
                bad(where, "%s record of unknown producer %r" % (k, o.get("p")))
            elif o.get("first") != len(prod[k]) or not isinstance(o.get("list"), list):
                bad(where, "%s record first=%r, the table holds %d" %
                    (k, o.get("first"), len(prod[k])))
            else:
                prod[k].extend(o["list"])
        elif k == "gap":
            self.gap(where, o)
        return ns

    def gap(self, where, o):
        prod = self.producers.get(o.get("p"))
        if prod is None:
            bad(where, "gap record of unknown producer %r" % o.get("p"))
            return
        lo, hi, n = o.get("from"), o.get("to"), o.get("n")
        if not all(is_int(x) for x in (lo, hi, n)) or hi < lo or hi - lo + 1 != n or \
                o.get("why") not in ("overflow", "corrupt"):
            bad(where, "malformed gap record %r" % o)
            return
        self.gaps.setdefault(prod["name"], []).append((lo, hi, o["why"]))

    def record(self, where, o):
        """An event or heartbeat [kind, p, seq, ts_ns, ...]."""
        prod = self.producers.get(o[1])
        if prod is None:
            bad(where, "record of unknown producer p=%r" % o[1])
            return
        name = prod["name"]
        if not name.startswith("load-"):
            return
        seq = o[2]
        if not is_int(seq):
            bad(where, "%s seq %r" % (name, seq))
            return
        if seq in self.seqs.setdefault(name, set()):
            bad(where, "%s seq %d twice" % (name, seq))
        elif seq <= self.last_seq.get(name, -1) and not self.any_order:
            bad(where, "%s seq %d after seq %d" % (name, seq, self.last_seq[name]))
        self.seqs[name].add(seq)
        self.last_seq[name] = max(seq, self.last_seq.get(name, -1))
        in_window(where, o[3], self.t0, self.t1)
        if o[0] == 2:
            self.nhb += 1
            check_heartbeat(where, o, prod)
            return
        self.event(where, o, prod)

    def event(self, where, o, prod):
        name = prod["name"]
        if len(o) < 7:
            bad(where, "event array of %d elements" % len(o))
            return
        tid, prio, req, vals = o[4], o[5], o[6], o[7:]
        if not isinstance(tid, int) or not 0 <= tid < len(prod["types"]):
            bad(where, "event type id %r" % tid)
            return
        tname = prod["types"][tid]["name"]
        n = vals[0] if vals else None
        if not isinstance(n, int):
            bad(where, "event without n: %r" % o)
            return
        i = int(name.rsplit("-", 1)[1])
        want = expect_values(i, n, tname)
        if tname != ["load.order", "load.fill", "load.note"][n % 3] or \
                not all(same_typed(a, b) for a, b in zip(vals, want)) or len(vals) != 3:
            bad(where, "%s n=%d: %s %r, want %s %r" % (name, n, tname, vals,
                                                      ["load.order", "load.fill",
                                                       "load.note"][n % 3], want))
        if prio != n % 4 or req != i * 1000000000 + n + 1:
            bad(where, "%s n=%d: prio %r req %r" % (name, n, prio, req))
        if n in self.events.setdefault(name, set()):
            bad(where, "%s n=%d twice" % (name, n))
        self.events[name].add(n)

    def check_producer(self, pr):
        """Exactly once: every seq 0..last present once or in one gap."""
        name = pr["name"]
        got = len(self.events.get(name, ()))
        if got != pr["committed"]:
            bad(name, "%d events in the archive, hbload committed %d" % (got, pr["committed"]))
        seqs = self.seqs.get(name, set())
        covered = set(seqs)
        overflow = 0
        for lo, hi, why in self.gaps.get(name, []):
            both = covered.intersection(range(lo, hi + 1))
            if both:
                bad(name, "gap %d..%d covers seqs already present or gapped, first %d" %
                    (lo, hi, min(both)))
            covered.update(range(lo, hi + 1))
            overflow += (hi - lo + 1) * (why == "overflow")
        last = max(covered) if covered else -1
        if len(covered) != last + 1:
            missing = sorted(set(range(last + 1)) - covered)
            bad(name, "%d seqs in 0..%d neither present nor in a gap, first %s" %
                (len(missing), last, missing[:10]))
        drop = pr["dropped"] + pr.get("hb_dropped", 0)
        if overflow != drop:
            bad(name, "overflow gaps sum to %d, hbload dropped %d" % (overflow, drop))
        if pr["attempted"] - got != pr["dropped"]:
            bad(name, "%d of %d events missing, hbload dropped %d" %
                (pr["attempted"] - got, pr["attempted"], pr["dropped"]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("load")
    ap.add_argument("bus")
    ap.add_argument("t0", type=int)
    ap.add_argument("t1", type=int)
    ap.add_argument("--version", help="MAJOR.MINOR every file header must state")
    ap.add_argument("--host", help="host every file header and producer must state")
    ap.add_argument("--fleet", action="store_true",
                    help="a fleet archive (hbsink): a producer's seqs in any order")
    a = ap.parse_args()
    version = [int(x) for x in a.version.split(".")] if a.version else None
    load = json.load(open(a.load))
    files = sorted(glob.glob(os.path.join(a.dir, "hb-*.msgpack")))
    if not files:
        bad(a.dir, "no archive files")
    ar = Archive(a.bus, a.t0, a.t1, version, a.host)
    ar.any_order = a.fleet
    for path in files:
        ar.read_file(path)
    for prod in ar.producers.values():
        if prod["name"].startswith("load-"):
            check_load_tables(prod["name"], prod)
    for pr in load["producers"]:
        ar.check_producer(pr)
    if ar.nhb == 0:
        bad(a.dir, "no heartbeats in the archive")
    if version and version[0] >= 2 and ar.nbatches == 0:
        bad(a.dir, "no event batches in a %d.%d archive" % tuple(version))
    if problems:
        print("read_archive: %d problems" % len(problems), file=sys.stderr)
        return 1
    print("read_archive: ok: %d files, %d producers, %d events (%d in %d batches, %d single), "
          "%d heartbeats, %d index records" %
          (len(files), len(ar.producers), sum(len(v) for v in ar.events.values()), ar.nbatched,
           ar.nbatches, ar.nsingle, ar.nhb, ar.nindex))
    if Chunk.lax:
        print("read_archive: note: %d index records of 1.x files leave out the chunk's %s records" %
              (Chunk.lax, " and ".join(sorted(UNINDEXED_KINDS))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
