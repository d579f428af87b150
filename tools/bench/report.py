#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""report.py RESULTS NOTES MODE: prints the benchmark table of tools/bench.sh.

RESULTS holds lines "<rep> <name> <value> <unit>". Each figure is shown as
the median over repetitions with its spread (min..max); ratios hb/peer are
computed per repetition (same run) and then summarised the same way.
Targets come from the performance issue; PASS/MISS compare the median."""
import statistics
import sys
from collections import defaultdict

res = defaultdict(dict)  # name -> {rep: value}
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) >= 3:
        try:
            res[f[1]][f[0]] = float(f[2])
        except ValueError:
            pass
notes = [l.rstrip() for l in open(sys.argv[2])] if len(sys.argv) > 2 else []
mode = sys.argv[3] if len(sys.argv) > 3 else "full"


def series(key):
    """Values per repetition of a figure, of a ratio ('/': a/b, '\\': b/a)
    or of a difference ('-': a-b)."""
    if isinstance(key, tuple):
        op, a, b = key
        ra, rb = res.get(a, {}), res.get(b, {})
        out = {}
        for rep in ra:
            if rep in rb and ra[rep] and rb[rep]:
                out[rep] = {"/": ra[rep] / rb[rep], "\\": rb[rep] / ra[rep],
                            "-": ra[rep] - rb[rep]}[op]
        return out
    return res.get(key, {})


def fmt(v, unit):
    if v is None:
        return "-"
    if unit in ("records/s", "events/s"):
        return "%.3gM" % (v / 1e6) if v >= 1e5 else "%.3gk" % (v / 1e3)
    if unit == "x":
        return "%.2fx" % v
    if abs(v) >= 100 or v == int(v):
        return "%.0f" % v
    return "%.3g" % v


ROWS = [
    ("Producer hot path, per call (ns; consumer draining on the other core)", None),
    ("hb_event 3 fields, batch median, 1 MiB ring (default)", "hb.event.batch.p50", "ns", ("<=", 20)),
    ("hb_event 3 fields, batch p99", "hb.event.batch.p99", "ns", None),
    ("hb_event 3 fields, batch p99.9", "hb.event.batch.p999", "ns", None),
    ("hb_event single call, mean", "hb.event.single.mean", "ns", None),
    ("hb_event single call, median (in TSC steps)", "hb.event.single.p50", "ns", None),
    ("hb_event single call, p99", "hb.event.single.p99", "ns", None),
    ("hb_event single call, p99.9", "hb.event.single.p999", "ns", ("<=", 200)),
    ("hb_event batch median, 32 MiB ring (= LTTng buffer)", "hb32.event.batch.p50", "ns", ("<=", 20)),
    ("hb_event single p99.9, 32 MiB ring", "hb32.event.single.p999", "ns", ("<=", 200)),
    ("hb_event batch median, hbcollect draining", "hbc.event.batch.p50", "ns", ("<=", 20)),
    ("hb_event single p99.9, hbcollect draining", "hbc.event.single.p999", "ns", ("<=", 200)),
    ("hb_tick (not due), batch median", "hb.tick.batch.p50", "ns", None),
    ("hb_tick (not due), single p99", "hb.tick.single.p99", "ns", None),
    ("hb_tick (not due), single p99.9", "hb.tick.single.p999", "ns", None),
    ("clock read alone (rdtsc, in each call), batch median", "hb.clock.batch.p50", "ns", None),
    ("clock read alone, single p99.9 (the timing's own tail)", "hb.clock.single.p999", "ns", None),
    ("hb_event minus its clock read, batch median", ("-", "hb.event.batch.p50", "hb.clock.batch.p50"), "ns", None),
    ("records dropped while timing hb", "hb.cost.dropped", "records", ("==", 0)),
    ("Any thread: the event call through the process-wide handle (ns per call per thread; threads on one core)", None),
    ("process-wide handle, 1 thread, batch median", "hbp1.event.batch.p50", "ns", None),
    ("process-wide handle, 1 thread, single p99.9", "hbp1.event.single.p999", "ns", None),
    ("process-wide handle, 4 threads, batch median", "hbp4.event.batch.p50", "ns", None),
    ("process-wide handle, 4 threads, single p99.9", "hbp4.event.single.p999", "ns", None),
    ("single-thread handle per thread, 4 threads, batch median", "hbs4.event.batch.p50", "ns", None),
    ("single-thread handle per thread, 4 threads, single p99.9", "hbs4.event.single.p999", "ns", None),
    ("process-wide 1 thread minus single-thread handle, batch median", ("-", "hbp1.event.batch.p50", "hb.event.batch.p50"), "ns", ("<=", 3)),
    ("process-wide 4 threads minus single-thread handles 4 threads, batch median", ("-", "hbp4.event.batch.p50", "hbs4.event.batch.p50"), "ns", ("<=", 3)),
    ("process-wide 4 threads minus single-thread handle 1 thread, batch median", ("-", "hbp4.event.batch.p50", "hb.event.batch.p50"), "ns", ("<=", 3)),
    ("process-wide handle / LTTng-UST, 1 thread", ("/", "hbp1.event.batch.p50", "lttng.event.batch.p50"), "x", ("<=", 0.2)),
    ("process-wide handle / LTTng-UST, 4 threads (LTTng's 1-thread figure)", ("/", "hbp4.event.batch.p50", "lttng.event.batch.p50"), "x", ("<=", 0.2)),
    ("LTTng-UST tracepoint, 4 threads, batch median", "lttng4.event.batch.p50", "ns", None),
    ("LTTng-UST tracepoint, 4 threads, single p99.9", "lttng4.event.single.p999", "ns", None),
    ("process-wide handle / LTTng-UST, both 4 threads", ("/", "hbp4.event.batch.p50", "lttng4.event.batch.p50"), "x", ("<=", 0.2)),
    ("records dropped while timing the threads (4, process-wide)", "hbp4.event.dropped", "records", ("==", 0)),
    ("syscalls added by 9N extra events and ticks, process-wide handle", "hotp.syscalls", "syscalls", ("==", 0)),
    ("allocations in the event+tick loop, process-wide handle", "hotp.allocs", "allocs", ("==", 0)),
    ("Peers, same record, per call (batch median / single p99.9)", None),
    ("LTTng-UST tracepoint, batch median", "lttng.event.batch.p50", "ns", None),
    ("LTTng-UST tracepoint, single p99.9", "lttng.event.single.p999", "ns", None),
    ("LTTng events discarded while timing", "lttng.cost.discarded", "events", None),
    ("write(2) line to a pipe, batch median", "peer.pipe.batch.p50", "ns", None),
    ("write(2) line to a pipe, single p99.9", "peer.pipe.single.p999", "ns", None),
    ("sendto AF_UNIX datagram, batch median", "peer.dgram.batch.p50", "ns", None),
    ("sendto AF_UNIX datagram, single p99.9", "peer.dgram.single.p999", "ns", None),
    ("stdio JSON line (fprintf), batch median", "peer.stdio.batch.p50", "ns", None),
    ("stdio JSON line (fprintf), single p99.9", "peer.stdio.single.p999", "ns", None),
    ("mutex queue + drain thread, batch median", "peer.mutexq.batch.p50", "ns", None),
    ("mutex queue + drain thread, single p99.9", "peer.mutexq.single.p999", "ns", None),
    ("Ratios hb/peer, event call batch median (same run; < 1 = hb cheaper)", None),
    ("hb / LTTng-UST (1 MiB ring)", ("/", "hb.event.batch.p50", "lttng.event.batch.p50"), "x", ("<=", 0.2)),
    ("hb / LTTng-UST (32 MiB ring, same buffer memory)", ("/", "hb32.event.batch.p50", "lttng.event.batch.p50"), "x", ("<=", 0.2)),
    ("hb / pipe write", ("/", "hb.event.batch.p50", "peer.pipe.batch.p50"), "x", None),
    ("hb / AF_UNIX sendto", ("/", "hb.event.batch.p50", "peer.dgram.batch.p50"), "x", None),
    ("hb / stdio JSON", ("/", "hb.event.batch.p50", "peer.stdio.batch.p50"), "x", None),
    ("hb / mutex queue", ("/", "hb.event.batch.p50", "peer.mutexq.batch.p50"), "x", None),
    ("Hot path in steady state (producer only, strace -c -f, N vs 10N events+ticks)", None),
    ("syscalls added by 9N extra events and ticks", "hot.syscalls", "syscalls", ("==", 0)),
    ("allocations in the event+tick loop (malloc interposed)", "hot.allocs", "allocs", ("==", 0)),
    ("Raw shared-memory SPSC reference: the cross-core copy of the 72-byte record, no hb (bench_spsc)", None),
    ("32 MiB ring: records/s moved", "spsc32.rate", "records/s", None),
    ("32 MiB ring: consumer time awake per record (copy)", "spsc32.copy_ns", "ns", None),
    ("32 MiB ring: consumer batches that caught up with head", "spsc32.empty_pct", "%", None),
    ("1 MiB ring: records/s moved", "spsc1.rate", "records/s", None),
    ("1 MiB ring: consumer time awake per record (copy)", "spsc1.copy_ns", "ns", None),
    ("End to end: highest zero-loss rate persisted, bytes per record, collector CPU", None),
    ("hb, 1 producer: zero-loss records/s (--fsync never)", "e2e.hb1.rate", "records/s", None),
    ("hb, 1 producer: flat-out attempt rate", "e2e.hb1.flat", "records/s", None),
    ("hb, 1 producer: persisted while flat out (the collector's capacity)", "e2e.hb1.cap", "records/s", None),
    ("hb, 1 producer: bytes per record on disk", "e2e.hb1.bpr", "bytes", ("<=", 26.9)),
    ("hb, 1 producer: collector CPU per record", "e2e.hb1.cpuns", "ns", ("<=", 35)),
    ("hb, 16 producers: zero-loss records/s (--fsync never)", "e2e.hb16.rate", "records/s", None),
    ("hb, 16 producers: persisted while flat out", "e2e.hb16.cap", "records/s", None),
    ("hb, 16 producers: bytes per record on disk", "e2e.hb16.bpr", "bytes", ("<=", 26.9)),
    ("hb, 16 producers: collector CPU per record", "e2e.hb16.cpuns", "ns", ("<=", 35)),
    ("hbload --block (3 event types), 1 producer: records/s", "e2e.hbload1.block", "records/s", None),
    ("hbload --block (3 event types), 16 producers: records/s", "e2e.hbload16.block", "records/s", None),
    ("LTTng-UST: zero-loss events/s", "e2e.lttng.rate", "records/s", None),
    ("LTTng-UST: flat-out attempt rate", "e2e.lttng.flat", "records/s", None),
    ("LTTng-UST: bytes per event on disk (CTF)", "e2e.lttng.bpr", "bytes", None),
    ("hb 1p / LTTng zero-loss rate", ("/", "e2e.hb1.rate", "e2e.lttng.rate"), "x", (">=", 4)),
    ("hb 16p / LTTng zero-loss rate", ("/", "e2e.hb16.rate", "e2e.lttng.rate"), "x", (">=", 4)),
    ("hb 1p zero-loss rate / SPSC reference rate (32 MiB ring)", ("/", "e2e.hb1.rate", "spsc32.rate"), "x", None),
    ("hb 1p collector CPU per record / SPSC copy per record", ("/", "e2e.hb1.cpuns", "spsc32.copy_ns"), "x", None),
    ("hb / LTTng bytes per record", ("/", "e2e.hb1.bpr", "e2e.lttng.bpr"), "x", ("<=", 1.0)),
    ("Latency, call to archive write complete, 100k records/s (us)", None),
    ("p50", "lat.p50", "us", None),
    ("p99", "lat.p99", "us", ("<", 10000)),
    ("p99.9", "lat.p999", "us", None),
    ("events not seen in the archive", "lat.missing", "events", ("==", 0)),
    ("Fleet: one host's archive -> hbship -> NATS JetStream -> hbsink -> fleet archive", None),
    ("R1 (one nats-server): records/s shipped, zero loss", "fleet.r1.rate", "records/s", None),
    ("R3 (cluster of three, stream of 3 replicas): records/s shipped", "fleet.r3.rate", "records/s", None),
    ("records missing or twice in the fleet archive (hbcat)", "fleet.lost", "records", ("==", 0)),
    ("R1 shipped / collector zero-loss persisted rate (1 producer)", ("/", "fleet.r1.rate", "e2e.hb1.rate"), "x", (">=", 1.0)),
    ("R1 shipped / collector persisted while flat out (1 producer)", ("/", "fleet.r1.rate", "e2e.hb1.cap"), "x", None),
    ("R3 / R1 shipped rate", ("/", "fleet.r3.rate", "fleet.r1.rate"), "x", None),
    ("Latency, call to fleet archive (R1), 100k records/s (us)", None),
    ("p50", "flat.p50", "us", None),
    ("p99", "flat.p99", "us", ("<", 50000)),
    ("p99.9", "flat.p999", "us", None),
    ("p50 added by the fleet (minus the local p50 of the same repetition)", ("-", "flat.p50", "lat.p50"), "us", None),
    ("p99 added by the fleet (minus the local p99 of the same repetition)", ("-", "flat.p99", "lat.p99"), "us", None),
    ("events not seen in the fleet archive", "flat.missing", "events", ("==", 0)),
    ("Idle collector, 64 idle producers attached (% of a core)", None),
    ("hbcollect CPU", "idle.cpu_pct", "%", ("<", 1.0)),
    ("Readers: records/s to /dev/null", None),
    ("hbcat text (time order)", "hbcat.text", "records/s", None),
    ("hbcat text --raw (file order)", "hbcat.raw", "records/s", None),
    ("hbcat time order / file order", ("/", "hbcat.text", "hbcat.raw"), "x", None),
    ("hbcat JSON", "hbcat.json", "records/s", None),
    ("hbcat type filter (matches none: scan)", "hbcat.filter", "records/s", None),
    ("babeltrace2 text (LTTng trace, same events)", "bt2.text", "records/s", None),
    ("hbcat text / babeltrace2 text", ("/", "hbcat.text", "bt2.text"), "x", (">=", 10)),
]


def check(v, t):
    op, x = t
    return {"<=": v <= x, "<": v < x, ">=": v >= x, "==": v == x}[op]


def main():
    w = 58
    print()
    print("hb benchmark (%s run); median [min..max] over n repetitions" % mode)
    print("%-*s %10s %23s %3s  %-12s %s" % (w, "figure", "median", "spread", "n", "target", ""))
    missing = []
    passes = misses = 0
    for row in ROWS:
        if row[1] is None:
            print("\n== %s" % row[0])
            continue
        label, key, unit, target = row
        vals = list(series(key).values())
        if not vals:
            print("%-*s %10s" % (w, label, "n/a"))
            continue
        med = statistics.median(vals)
        spread = "[%s..%s]" % (fmt(min(vals), unit), fmt(max(vals), unit))
        tstr, status = "", ""
        if target:
            tstr = "%s %s" % (target[0], fmt(target[1], unit))
            ok = check(med, target)
            status = "PASS" if ok else "MISS"
            passes += ok
            misses += not ok
        u = "" if unit in ("x", "records/s") else " " + unit
        print("%-*s %10s %23s %3d  %-12s %s" % (w, label, fmt(med, unit) + u, spread, len(vals), tstr, status))
    print("\ntargets: %d PASS, %d MISS" % (passes, misses))
    for n in notes:
        print("note: " + n)


main()
