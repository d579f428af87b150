#!/usr/bin/python3
"""Checks hbcat JSON lines against what hbload produced.

usage: check_load.py RECORDS.jsonl [--load LOAD.json] [--expect NAME:LAST]...
                     [--state NAME:STATE]... [--min-events N]

RECORDS.jsonl is the output of `hbcat -o json`. With --load (hbload --json
output) every producer it lists is checked against its counters; --expect
NAME:LAST checks a producer whose counters are unknown (killed) up to its
last committed sequence number LAST.

For every checked producer:
  - every event has the content hbload's formula gives for its n
    (type, fields, priority, request id);
  - no event n and no sequence number appears twice;
  - sequence numbers 0..last are each covered exactly once, by an event, a
    heartbeat or a gap record;
  - with --load: events present == committed, missing n == dropped, and the
    sum of overflow gaps == dropped + hb_dropped.
Exits 0 when everything holds, 1 with a diagnostic otherwise.
"""
import argparse
import base64
import collections
import json
import struct
import sys

TYPES = ["load.order", "load.fill", "load.note"]
PRIOS = ["low", "normal", "high", "urgent"]

errors = []


def err(msg):
    errors.append(msg)
    if len(errors) <= 30:
        print("check_load: " + msg, file=sys.stderr)


def expected_event(i, n):
    t = n % 3
    if t == 0:
        fields = {"n": n, "px": n * 0.25, "sym": "s%d" % (n % 100)}
    elif t == 1:
        fields = {"n": n, "qty": n * 3, "ok": n % 2 == 0}
    else:
        blob = base64.b64encode(struct.pack("<I", n & 0xFFFFFFFF)).decode()
        fields = {"n": n, "text": "note-%d" % n, "blob": blob}
    return TYPES[t], fields, PRIOS[n % 4], i * 1000000000 + n + 1


def load_records(path):
    recs = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                recs.append(json.loads(line))
            except ValueError as e:
                err("%s:%d: not JSON (%s): %.200s" % (path, lineno, e, line))
    return recs


def producer_index(name):
    try:
        return int(name.rsplit("-", 1)[1])
    except (IndexError, ValueError):
        err("producer name %r does not end in -<i>" % name)
        return 0


def check_producer(name, recs, last=None, counters=None):
    """Checks one producer's records; returns a summary dict."""
    i = producer_index(name)
    seen_n = {}
    cover = collections.Counter()
    rec_seqs = set()
    events = heartbeats = 0
    gap_overflow = 0
    overflow_seqs = set()
    stopping = False
    for r in recs:
        k = r.get("k")
        if k == "event":
            events += 1
            fields = r.get("fields") or {}
            n = fields.get("n")
            if not isinstance(n, int):
                err("%s seq %s: event without integer field n: %s" % (name, r.get("seq"), r))
                continue
            if n in seen_n:
                err("%s: event n=%d twice (seq %s and %s)" % (name, n, seen_n[n], r.get("seq")))
            seen_n[n] = r.get("seq")
            typ, want, prio, req = expected_event(i, n)
            got = (r.get("type"), fields, r.get("prio"), r.get("req"))
            if got != (typ, want, prio, req):
                err("%s n=%d: got type=%s prio=%s req=%s fields=%s; want type=%s prio=%s "
                    "req=%s fields=%s" % (name, n, got[0], got[2], got[3], got[1], typ, prio,
                                          req, want))
            cover[r.get("seq")] += 1
            rec_seqs.add(r.get("seq"))
        elif k == "heartbeat":
            heartbeats += 1
            stopping = stopping or r.get("status") == "stopping"
            cover[r.get("seq")] += 1
            rec_seqs.add(r.get("seq"))
        elif k == "gap":
            lo, hi, cnt = r.get("from"), r.get("to"), r.get("n")
            if not all(isinstance(x, int) for x in (lo, hi, cnt)) or hi - lo + 1 != cnt:
                err("%s: malformed gap record %s" % (name, r))
                continue
            if r.get("why") == "overflow":
                gap_overflow += cnt
                overflow_seqs.update(range(lo, hi + 1))
            for s in range(lo, hi + 1):
                cover[s] += 1
    dup = sorted(s for s, c in cover.items() if c > 1)
    if dup:
        err("%s: %d sequence numbers covered more than once, first %s" % (name, len(dup),
                                                                          dup[:10]))
    top = max(cover) if cover else -1
    if last is None:
        last = top
    missing = [s for s in range(0, last + 1) if s not in cover]
    if missing:
        err("%s: %d sequence numbers in 0..%d neither present nor in a gap, first %s" %
            (name, len(missing), last, missing[:10]))
    beyond = [s for s in rec_seqs if s > last]
    if beyond:
        # only gap records may cover numbers past the last committed one
        err("%s: records past the last committed seq %d: %s" % (name, last, sorted(beyond)[:10]))
    if counters is not None:
        att, com, drop = counters["attempted"], counters["committed"], counters["dropped"]
        # hb_dropped includes the closing heartbeat hb_close() emits when it
        # was dropped (hbload reads the ring's drop counter after closing)
        hb_drop = counters.get("hb_dropped", 0)
        if not stopping and top in overflow_seqs:
            print("%s: the closing heartbeat was dropped (seq %d)" % (name, top))
        if events != com:
            err("%s: %d events in the archive, hbload committed %d" % (name, events, com))
        out = [n for n in seen_n if not 0 <= n < att]
        if out:
            err("%s: event n outside 0..%d: %s" % (name, att - 1, sorted(out)[:10]))
        if att - len(seen_n) != drop:
            err("%s: %d of %d events missing, hbload dropped %d" % (name, att - len(seen_n),
                                                                   att, drop))
        if gap_overflow != drop + hb_drop:
            err("%s: overflow gaps sum to %d, hbload dropped %d events + %d heartbeats" %
                (name, gap_overflow, drop, hb_drop))
    return {"events": events, "heartbeats": heartbeats, "gap_overflow": gap_overflow,
            "last_seq": top}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("records")
    ap.add_argument("--load")
    ap.add_argument("--expect", action="append", default=[])
    ap.add_argument("--state", action="append", default=[])
    ap.add_argument("--min-events", type=int, default=1)
    a = ap.parse_args()

    recs = load_records(a.records)
    by_name = collections.defaultdict(list)
    for r in recs:
        if "producer" in r:
            by_name[r["producer"]].append(r)

    # the same record must never appear twice
    ident = collections.Counter((r.get("k"), r.get("producer"), r.get("pid"), r.get("seq"))
                                for r in recs if r.get("k") in ("event", "heartbeat"))
    twice = [k for k, c in ident.items() if c > 1]
    if twice:
        err("%d records appear more than once, e.g. %s" % (len(twice), twice[:5]))

    checked = []
    total_events = 0
    if a.load:
        with open(a.load, encoding="utf-8") as f:
            load = json.load(f)
        for pr in load["producers"]:
            s = check_producer(pr["name"], by_name.get(pr["name"], []), counters=pr)
            checked.append(pr["name"])
            total_events += s["events"]
            print("%s: %d events, %d heartbeats, %d in overflow gaps, last seq %d "
                  "(hbload: attempted=%d committed=%d dropped=%d)" %
                  (pr["name"], s["events"], s["heartbeats"], s["gap_overflow"], s["last_seq"],
                   pr["attempted"], pr["committed"], pr["dropped"]))
        if sum(p["committed"] for p in load["producers"]) != load["committed"]:
            err("hbload's total committed differs from the sum over producers")
    for e in a.expect:
        name, last = e.rsplit(":", 1)
        s = check_producer(name, by_name.get(name, []), last=int(last))
        checked.append(name)
        total_events += s["events"]
        print("%s: %d events, %d heartbeats, last seq %d (expected last committed %s)" %
              (name, s["events"], s["heartbeats"], s["last_seq"], last))
    for e in a.state:
        name, state = e.rsplit(":", 1)
        states = [r.get("state") for r in by_name.get(name, []) if r.get("k") == "state"]
        if state not in states:
            err("%s: no state record with state %r (states seen: %s)" % (name, state, states))
    others = sorted(set(n for n in by_name if n and n.startswith("load-")) - set(checked))
    if others:
        err("records of unexpected producers: %s" % others)
    if total_events < a.min_events:
        err("only %d events in total" % total_events)
    if errors:
        print("check_load: %d problems" % len(errors), file=sys.stderr)
        return 1
    print("check_load: ok, %d records, %d events checked" % (len(recs), total_events))
    return 0


if __name__ == "__main__":
    sys.exit(main())
