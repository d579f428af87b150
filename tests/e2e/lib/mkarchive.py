#!/usr/bin/python3
# Writes a synthetic hb archive (docs/FORMAT.md) with a stock msgpack
# library: several producers, records interleaved by "drain batch" (not
# sorted by time), split over rotated files, with state bus records.
#
#   mkarchive.py DIR [--producers N] [--records N] [--files N] [--t0 NS]
#                [--step-ns NS] [--batch N] [--states SPEC]
#                [--format 1.1|2.0] [--batch-max N] [--dt0 NS]
#
# Event i of producer k has ts = t0 + i*step + k*step/N, type i%2, prio i%4,
# req k*1e9 + i + 1, fields (n=i, s="v<i>").
#
# --format 1.1 (the default) writes every event as a single event
# [1, p, seq, ts, ...]; --format 2.0 writes consecutive events of a producer
# (no heartbeat, state record or file boundary between them) as event
# batches [3, p, seq0, ts0, [dt, type, prio, req, v...]...] of at most
# --batch-max events, with ts0 = the first event's ts - --dt0 (so the first
# dt is --dt0; it may be negative). The file headers state the format.
import argparse, os, msgpack

def ts(ns):
    return msgpack.Timestamp.from_unix_nano(ns)

def event_batch(p, seq0, ts0_ns, events):
    """The batch object of events, each (ts_ns, type, prio, req, [v...]),
    with sequence numbers seq0, seq0 + 1, ... (FORMAT.md, version 2.0)."""
    out, prev = [3, p, seq0, ts(ts0_ns)], ts0_ns
    for t, typ, prio, req, vals in events:
        out.append([t - prev, typ, prio, req] + list(vals))
        prev = t
    return out

def batched(recs, batch_max, dt0):
    """recs, (ts_ns, record) in file order, with runs of consecutive single
    events of one producer replaced by event batches."""
    out, run = [], []

    def flush():
        if run:
            evs = [(t, r[4], r[5], r[6], r[7:]) for t, r in run]
            out.append((run[0][0], event_batch(run[0][1][1], run[0][1][2], run[0][0] - dt0, evs)))
            del run[:]

    for t, r in recs:
        if isinstance(r, list) and r[0] == 1:
            if run and (run[-1][1][1] != r[1] or run[-1][1][2] + 1 != r[2] or
                        len(run) >= batch_max):
                flush()
            run.append((t, r))
            continue
        flush()
        out.append((t, r))
    flush()
    return out

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--producers", type=int, default=3)
    ap.add_argument("--records", type=int, default=1000)
    ap.add_argument("--files", type=int, default=3)
    ap.add_argument("--t0", type=int, default=1795450385000000000)
    ap.add_argument("--step-ns", type=int, default=1000000)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--heartbeat-every", type=int, default=100)
    # p:state:at_record, e.g. "1:late:300,1:healthy:400,2:exited:999"
    ap.add_argument("--states", default="")
    # gaps between a producer's records, in ms, cycled (instead of --step-ns)
    ap.add_argument("--gaps", default="")
    ap.add_argument("--format", choices=["1.1", "2.0"], default="1.1")
    ap.add_argument("--batch-max", type=int, default=4096)
    ap.add_argument("--dt0", type=int, default=0)
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    N = a.producers
    prods = []
    for k in range(N):
        prods.append({"k": "producer", "p": k + 1, "ts": ts(a.t0), "name": "syn-%d" % k,
                      "pid": 1000 + k, "tid": 1000 + k, "thread": "", "host": "h",
                      "ring": "hb.x.syn-%d.%d.0" % (k, 1000 + k), "start": ts(a.t0 - 10**9),
                      "interval_ms": 100,
                      "types": [{"name": "syn.a", "fields": ["n", "s"], "ftypes": ["i64", "str"]},
                                {"name": "syn.b", "fields": ["n", "s"], "ftypes": ["i64", "str"]}],
                      "metrics": [{"name": "syn.count", "kind": "counter"},
                                  {"name": "syn.db", "kind": "health"}],
                      "seq_next": 0})
    states = {}
    for spec in filter(None, a.states.split(",")):
        p, st, at = spec.split(":")
        states.setdefault(int(at), []).append((int(p), st))
    # per producer record streams: (ts, record)
    streams = []
    gaps = [int(g) * 1000000 for g in a.gaps.split(",")] if a.gaps else []
    at = [sum(gaps[j % len(gaps)] for j in range(i)) if gaps else i * a.step_ns
          for i in range(a.records)]
    for k in range(N):
        recs, seq = [], 0
        for i in range(a.records):
            t = a.t0 + at[i] + k * a.step_ns // N
            if i % a.heartbeat_every == 0:
                recs.append((t, [2, k + 1, seq, ts(t), "ok", i // a.heartbeat_every + 1, 100,
                                 [i, "up" if i % 200 else "down"]]))
                seq += 1
            recs.append((t, [1, k + 1, seq, ts(t), i % 2, i % 4, k * 10**9 + i + 1, i, "v%d" % i]))
            seq += 1
        streams.append(recs)
    # drain in batches, producer by producer: interleaved, not sorted
    out, pos = [], [0] * N
    while any(pos[k] < len(streams[k]) for k in range(N)):
        for k in reversed(range(N)):
            for r in streams[k][pos[k]:pos[k] + a.batch]:
                out.append(r)
                i = r[1][7] if r[1][0] == 1 else None
                if i is not None and i in states:
                    for p, st in states[i]:
                        if p == k + 1:
                            out.append((r[0], {"k": "state", "p": p, "ts": ts(r[0]), "state": st,
                                               "why": "test"}))
            pos[k] += a.batch
    per = (len(out) + a.files - 1) // a.files
    names = ["hb-20261123T1613%02d.000000000Z.msgpack" % (5 + f) for f in range(a.files)]
    version = [int(x) for x in a.format.split(".")]
    for f in range(a.files):
        recs = out[f * per:(f + 1) * per]
        if version[0] >= 2:
            recs = batched(recs, a.batch_max, a.dt0)
        with open(os.path.join(a.dir, names[f]), "wb") as fh:
            pk = msgpack.Packer()
            fh.write(pk.pack({"k": "header", "magic": "hb-archive", "version": version,
                              "ts": ts(a.t0 + f), "host": "h", "bus": "x", "collector_pid": 1,
                              "file_seq": f, "prev": names[f - 1] if f else None}))
            for pr in prods:
                d = dict(pr, why="attached" if f == 0 else "restated")
                fh.write(pk.pack(d))
            for t, r in recs:
                fh.write(pk.pack(r))
            if f + 1 < a.files:
                fh.write(pk.pack({"k": "end", "ts": ts(a.t0), "next": names[f + 1]}))

if __name__ == "__main__":
    main()
