#!/usr/bin/python3
# compare.py A.json B.json: per producer, the events (type, priority,
# request id, fields) and heartbeats (status, metrics) of two hbcat -o json
# dumps are the same, in the same order. Prints counts; exits 1 otherwise.
import json, sys
from collections import defaultdict

def load(path):
    per = defaultdict(list)
    for line in open(path):
        r = json.loads(line)
        if r["k"] == "event":
            per[r["producer"]].append(("e", r["type"], r["prio"], r["req"], json.dumps(r["fields"], sort_keys=True)))
        elif r["k"] == "heartbeat" and r["producer"] != "hbcollect":
            per[r["producer"]].append(("h", r["status"], json.dumps(r["metrics"], sort_keys=True)))
    return per

a, b = load(sys.argv[1]), load(sys.argv[2])
if sorted(a) != sorted(b):
    sys.exit("FAIL: producers differ: %s vs %s" % (sorted(a), sorted(b)))
for p in sorted(a):
    if a[p] != b[p]:
        n = next((i for i, (x, y) in enumerate(zip(a[p], b[p])) if x != y), min(len(a[p]), len(b[p])))
        sys.exit("FAIL: %s: %d vs %d records, first difference at %d: %s vs %s" % (
            p, len(a[p]), len(b[p]), n, a[p][n] if n < len(a[p]) else None, b[p][n] if n < len(b[p]) else None))
    print("%s: %d events, %d heartbeats identical" % (
        p, sum(1 for r in a[p] if r[0] == "e"), sum(1 for r in a[p] if r[0] == "h")))
