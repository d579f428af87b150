#!/usr/bin/python3
"""Writes the hand-made seed inputs of the fuzz drivers into
tools/fuzz/corpus/<driver>/seed-*. Deterministic; rerun after changing a
driver's input layout. Regression inputs (crash-*) are kept as they are."""
import os
import struct
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def s(b):
    if isinstance(b, str):
        b = b.encode()
    return bytes([len(b)]) + b


def u8(x):
    return struct.pack("<B", x & 0xff)


def u16(x):
    return struct.pack("<H", x & 0xffff)


def u32(x):
    return struct.pack("<I", x & 0xffffffff)


def u64(x):
    return struct.pack("<Q", x & 0xffffffffffffffff)


def write(driver, name, data):
    d = os.path.join(ROOT, driver)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


# ---- fuzz_register ------------------------------------------------------
I64, U64, F64, BOOL, STR, BYTES = 1, 2, 3, 4, 5, 6


def reg_format(bus=None, name=None, thread=None, detailed=True, interval=1000, hwm=75):
    flags = (1 if bus is not None else 0) | (2 if name is not None else 0) | \
        (4 if thread is not None else 0) | (8 if detailed else 0)
    out = u8(flags)
    for x in (bus, name, thread):
        if x is not None:
            out += s(x)
    return out + u32(interval) + u8(hwm)


def reg_type(name, fields):
    out = u8(2) + u8(len(fields)) + s(name)
    for fname, tag in fields:
        out += s(fname) + u8(tag)
    return out


def reg_metric(name, kind):
    return u8(3) + s(name) + u8(kind)


def reg_event(type_id, prio, req, vals):
    out = u8(4) + u8(type_id) + u8(prio) + u8(len(vals)) + u64(req)
    for tag, v in vals:
        out += u8(tag) + (u16(v) if tag in (STR, BYTES) else u64(v))
    return out


def reg_seeds():
    load = reg_format("load", "load-0", "main")
    load += reg_type("load.order", [("n", I64), ("px", F64), ("sym", STR)])
    load += reg_type("load.fill", [("n", I64), ("qty", U64), ("ok", BOOL)])
    load += reg_type("load.note", [("n", I64), ("text", STR), ("blob", BYTES)])
    for m, k in (("load.sent", 1), ("load.fill_pct", 2), ("load.emit", 3), ("load.ring", 4)):
        load += reg_metric(m, k)
    for n in range(12):
        t = n % 3
        vals = [[(I64, n), (F64, 0x3fd0000000000000), (STR, 2)],
                [(I64, n), (U64, n * 3), (BOOL, n % 2)],
                [(I64, n), (STR, 6), (BYTES, 4)]][t]
        load += reg_event(t, n % 4, n + 1, vals)
        load += u8(6) + u8(n % 4) + u64(n) + u8(n)
    load += u8(7) + u8(8)
    write("register", "load", load)

    # Big values: truncation at HB_STR_MAX, ring wrap and drops.
    big = reg_format("b", "big", None, False)
    big += reg_type("t", [("a", STR), ("b", BYTES)])
    for i in range(20):
        big += reg_event(0, 3, 0, [(STR, 1500), (BYTES, 900)])
        if i % 5 == 4:
            big += u8(8)
    write("register", "big", big)

    # Names at and past their limits, bad characters, duplicates.
    names = reg_format("x" * 31, "y" * 63)
    for n in ("", ".", "..", "a/b", "a b", "tab\tx", "ok.name", "\x7f", "é", "a" * 47, "a" * 48):
        names += reg_type(n, [("f", I64)])
        names += reg_metric(n, 1)
        names += u8(0) + u8(48) + s(n)
        names += u8(1) + s(n)
    names += reg_type("dup", [("f", I64)]) + reg_type("dup", [("f", U64)])
    names += reg_type("many", [("f%d" % i, I64) for i in range(9)])
    names += reg_type("badtag", [("f", 0), ("g", 7)])
    names += reg_metric("badkind", 0) + reg_metric("badkind", 5)
    write("register", "names", names)

    full = reg_format("t", "full")
    for i in range(66):
        full += reg_type("t%d" % i, []) + reg_metric("m%d" % i, 1 + i % 4)
    write("register", "tables-full", full)

    write("register", "open", reg_format("t", "open") + u8(9) + u8(0x4f) + s("fz") +
          s("open") + u8(0) + u16(0o600))
    write("register", "open-badmode", reg_format("t", "open") + u8(9) + u8(0x4f) + s("fz") +
          s("open") + u8(0) + u16(0o4777))
    write("register", "open-badname", reg_format("t", "open") + u8(9) + u8(0x4f) + s("../x") +
          s("a/b") + u8(1))


# ---- fuzz_ring ------------------------------------------------------------
def rec(kind, prio, type_id, seq, body):
    n = 24 + len(body)
    return struct.pack("<IBBHQQ", n, kind, prio, type_id, seq, 1000 + seq) + body


def event(seq, type_id, prio, req, vals):
    tags = bytes(t for t, _ in vals).ljust(8, b"\0")
    body = u64(req) + tags
    for tag, v in vals:
        if tag in (STR, BYTES):
            body += u64(len(v)) + v + b"\0" * (-len(v) % 8)
        else:
            body += u64(v)
    return rec(1, prio, type_id, seq, body)


def heartbeat(seq, count, metrics):
    body = u64(5000 + seq) + u64(count) + u64(10 ** 9) + u32(1) + u32(len(metrics))
    for a, b, c in metrics:
        body += u64(a) + u64(b) + u64(c)
    return rec(2, 3, 0, seq, body)


def pad(n):
    return u32(n) + b"\0" * (n - 4)


def load_events(first, count):
    out = b""
    for n in range(first, first + count):
        t = n % 3
        vals = [[(I64, n), (F64, 0x3fd0000000000000), (STR, b"s%d" % (n % 100))],
                [(I64, n), (U64, n * 3), (BOOL, n % 2 == 0)],
                [(I64, n), (STR, b"note-%d" % n), (BYTES, struct.pack("<I", n))]][t]
        out += event(n, t, n % 4, n + 1, vals)
    return out


NEXT, RELEASE, PATCH_HDR, PATCH_DATA, HEAD_DELTA, HEAD_SET, REATTACH = 0, 2, 3, 4, 5, 6, 7


def ring_input(data, ops=b"", mode=0, sel=0, tail8=0, head_delta=None, patches=b"",
               raw_hdr=None):
    out = u8(mode) + u8(sel)
    if mode & 1:
        out += u16(len(raw_hdr)) + raw_hdr
    else:
        out += u8(len(patches) and patches[0]) + patches[1:]
    out += u16(tail8) + u16(len(data) if head_delta is None else head_delta)
    return out + u16(len(data)) + data + ops


def ring_patch(off, b):
    return u16(off) + u8(len(b)) + b


def ring_seeds():
    recs = load_events(0, 20) + heartbeat(20, 1, [(5, 0, 0), (0x4059000000000000, 0, 0),
                                                  (3, 300, 200), (1, 0, 0)])
    drain = bytes([NEXT] * 30 + [RELEASE])
    write("ring", "load", ring_input(recs, drain))
    # A record that does not fit before the end follows a pad at the end.
    wrap = pad(64) + load_events(100, 6)
    write("ring", "wrap", ring_input(wrap, drain, tail8=(4096 - 64) // 8))
    write("ring", "big-ring", ring_input(load_events(0, 40), drain, sel=3))
    write("ring", "short-map", ring_input(recs, drain, sel=0x10))
    hb_only = b"".join(heartbeat(i, i + 1, [(i, i, i)] * (i % 4)) for i in range(8))
    write("ring", "heartbeats", ring_input(hb_only, drain))
    # Hostile producer: scribbles the header (magic, data_size, head) and a
    # record's length while the consumer drains, moves head backwards.
    hostile = bytes([NEXT, NEXT]) + u8(PATCH_HDR) + ring_patch(8, u32(99)) + \
        bytes([NEXT]) + u8(PATCH_DATA) + ring_patch(0, u32(0xfff8)) + bytes([NEXT]) + \
        u8(HEAD_DELTA) + u16(-64) + bytes([NEXT, RELEASE]) + u8(HEAD_SET) + \
        u64(1 << 40) + bytes([NEXT, REATTACH, NEXT, NEXT])
    write("ring", "hostile", ring_input(recs, hostile))
    # Bad headers: magic, version, sizes, and a raw all-zero header.
    write("ring", "bad-magic", ring_input(recs, drain, patches=b"\1" + ring_patch(0, b"x")))
    write("ring", "bad-version", ring_input(recs, drain, patches=b"\1" + ring_patch(8, u32(2))))
    write("ring", "bad-size", ring_input(recs, drain,
                                         patches=b"\1" + ring_patch(16, u32(1 << 20))))
    write("ring", "raw-header", ring_input(recs, drain, mode=1, raw_hdr=b"hBRING1\1" + u32(1)))
    write("ring", "head-far", ring_input(recs, drain, head_delta=60000))
    # Record lengths past the end, unknown kind, bad tags, string too long.
    bad = rec(1, 0, 0, 0, u64(0) + bytes([5, 0, 0, 0, 0, 0, 0, 0]) + u64(5000))
    write("ring", "bad-strlen", ring_input(bad, drain))
    write("ring", "bad-kind", ring_input(rec(9, 0, 0, 0, b""), drain))
    write("ring", "bad-len", ring_input(u32(1 << 31) + b"\1" * 20, drain))


# ---- fuzz_reader ----------------------------------------------------------
def batches(events, size):
    """Events [1, p, seq, ts, ...] as format 2.0 batches of up to size events,
    [3, p, seq0, ts0, [dt, type, prio, req, v...], ...]."""
    import msgpack
    out = []
    for i in range(0, len(events), size):
        part = events[i:i + size]
        t = part[0][3].to_unix_nano()
        b = [3, part[0][1], part[0][2], part[0][3]]
        for e in part:
            ns = e[3].to_unix_nano()
            b.append([ns - t] + e[4:])
            t = ns
        out.append(b)
    return out


def archive(n_events=12, end_next=None, batch=0):
    import msgpack
    T = msgpack.Timestamp
    t0 = 1795450385
    version = [2, 0] if batch else [1, 0]
    objs = [{"k": "header", "magic": "hb-archive", "version": version, "ts": T(t0, 5),
             "host": "h", "bus": "b", "collector_pid": 7, "file_seq": 0, "prev": None},
            {"k": "producer", "why": "attached", "p": 1, "ts": T(t0, 6), "name": "load-0",
             "pid": 9, "tid": 9, "thread": "main", "host": "h", "ring": "hb.b.load-0.9.0",
             "start": T(t0, 0), "interval_ms": 1000,
             "types": [{"name": "load.order", "fields": ["n", "px", "sym"],
                        "ftypes": ["i64", "f64", "str"]},
                       {"name": "load.fill", "fields": ["n", "qty", "ok"],
                        "ftypes": ["i64", "u64", "bool"]},
                       {"name": "load.note", "fields": ["n", "text", "blob"],
                        "ftypes": ["i64", "str", "bytes"]}],
             "metrics": [{"name": "load.sent", "kind": "counter"},
                         {"name": "load.fill_pct", "kind": "gauge"},
                         {"name": "load.emit", "kind": "timing"},
                         {"name": "load.ring", "kind": "health"}],
             "seq_next": 0}]
    events = []
    for n in range(n_events):
        vals = [[n, n * 0.25, "s%d" % (n % 100)], [n, n * 3, n % 2 == 0],
                [n, "note-%d" % n, struct.pack("<I", n)]][n % 3]
        ns = (n * 7919) % 1000 if batch else n  # batched: times go back now and then
        events.append([1, 1, n, T(t0 + 1, ns), n % 3, n % 4, n + 1] + vals)
    objs += batches(events, batch) if batch else events
    objs.append([2, 1, n_events, T(t0 + 2, 0), "ok", 1, 1000, [5, 2.5, [3, 300, 200], "up"]])
    objs.append({"k": "types", "p": 1, "ts": T(t0 + 2, 1), "first": 3,
                 "list": [{"name": "late", "fields": [], "ftypes": []}]})
    objs.append({"k": "metrics", "p": 1, "ts": T(t0 + 2, 2), "first": 4,
                 "list": [{"name": "late.m", "kind": "counter"}]})
    objs.append({"k": "gap", "p": 1, "ts": T(t0 + 2, 3), "from": 20, "to": 29, "n": 10,
                 "why": "overflow"})
    objs.append({"k": "state", "p": 1, "ts": T(t0 + 2, 4), "state": "quarantined",
                 "why": "bad record"})
    objs.append({"k": "mismatch", "p": 1, "ts": T(t0 + 2, 5), "seq": 3, "type": 0,
                 "field": "px", "expected": "f64", "got": "i64"})
    objs.append({"k": "collector", "ts": T(t0 + 3, 0), "event": "stop", "pid": 7})
    if end_next:
        objs.append({"k": "end", "ts": T(t0 + 3, 1), "next": end_next})
    return b"".join(msgpack.packb(o, use_bin_type=True) for o in objs)


def reader_seeds():
    a = archive()
    write("reader", "dir", u8(0) + u16(0) + a)
    write("reader", "file", u8(2) + u16(0) + a)
    b = archive(4, "hb-20261123T161301.000000000Z.msgpack")
    write("reader", "two-files", u8(4) + u16(len(b)) + b + a)
    write("reader", "truncated", u8(0) + u16(0) + a[:len(a) - 7])
    corrupt = bytearray(a)
    for i in range(200, len(corrupt), 97):
        corrupt[i] ^= 0x5a
    write("reader", "corrupt", u8(0) + u16(0) + bytes(corrupt))
    write("reader", "garbage", u8(0) + u16(0) + bytes(range(256)) * 4)
    # Follow: the archive arrives in pieces, then rotates to a new file.
    chunks = [(100, 0), (1, 0), (300, 0), (len(b), 1), (len(a), 1)]
    follow = u8(1) + u8(len(chunks)) + b"".join(u16(n) + u8(fl) for n, fl in chunks)
    write("reader", "follow", follow + a[:401] + b + a)
    write("reader", "follow-end", u8(1) + u8(3) + u16(len(b)) + u8(0) + u16(len(a)) + u8(1) +
          u16(9) + u8(0) + b + a + b"\xdc\xff\xff\x01")
    # Format 2.0: events in batches, whole and arriving in pieces.
    c = archive(40, batch=16)
    write("reader", "batch", u8(2) + u16(0) + c)
    chunks = [(250, 0), (40, 0), (len(c), 0)]
    write("reader", "batch-follow",
          u8(1) + u8(len(chunks)) + b"".join(u16(n) + u8(fl) for n, fl in chunks) + c)


# ---- fuzz_cli -------------------------------------------------------------
CLI_TOOLS = ["hbcollect", "hbcat", "hbload", "hbtop", "hbreplay"]
CLI_ARGS = {
    "hbcollect": [["--bus", "b", "--dir", "/x", "--rotate-size", "64M", "--rotate-age", "1h"],
                  ["--retain-files", "3", "--retain-bytes", "1G", "--fsync", "always",
                   "--fsync-interval", "500ms", "--poll-ms", "20", "-q", "-v"],
                  ["--accept-uid", "--metrics", "127.0.0.1:0", "--alert", "x rate a.b > 5"],
                  ["--help"], ["--version"], ["--rotate-size", "99999999999G"], ["--bus", "a/b"]],
    "hbcat": [["-f", "-o", "json", "-t", "load.*", "-p", "load-0", "-P", "high", "/x"],
              ["-e", "-H", "-r", "42", "--since", "-10m", "--until", "2026-11-23T16:13:05Z"],
              ["--summary", "--bus", "b", "--color", "always", "-o", "msgpack", "-"],
              ["--since", "@1795450385", "--until", "now", "-P", "3"],
              ["--since", "2026-11-23 16:13:05.123456789", "-o", "text"], ["--help"]],
    "hbload": [["--bus", "b", "--producers", "4", "--records", "100", "--rate", "0"],
               ["--seconds", "2m", "--block", "--ring-kb", "64", "--name", "x",
                "--interval-ms", "10", "--json"], ["--records", "1", "--seconds", "1"],
               ["--producers", "99999999999"], ["--version"]],
    "hbtop": [["-b", "-n", "3", "-d", "0.5", "-o", "json", "-s", "rate", "--bus", "b"],
              ["--replay", "/x", "--speed", "10", "--max"], ["--help"]],
    "hbreplay": [["--bus", "b", "--speed", "2.5", "--since", "-1h", "-t", "load.*", "/x"],
                 ["--max", "-n", "-q", "-p", "load-1", "/x", "/y"], ["--help"]],
}


def cli_seeds():
    for t, lists in CLI_ARGS.items():
        for i, args in enumerate(lists):
            write("cli", "%s-%d" % (t, i),
                  u8(CLI_TOOLS.index(t)) + b"\0".join(a.encode() for a in args))


def main():
    seeds = {"register": reg_seeds, "ring": ring_seeds, "reader": reader_seeds, "cli": cli_seeds}
    for d in sys.argv[1:] or list(seeds):
        seeds[d]()


if __name__ == "__main__":
    main()
