#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""runstat.py OUT CMD...: runs CMD, forwards SIGTERM/SIGINT/SIGHUP to it and,
when it exits, writes "<user_s> <sys_s> <exit_status>" (its rusage) to OUT.
Used by tools/bench.sh to charge a collector's whole CPU time to a run."""
import os
import signal
import sys

out, cmd = sys.argv[1], sys.argv[2:]
pid = os.fork()
if pid == 0:
    os.execvp(cmd[0], cmd)
for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(s, lambda sig, _f: os.kill(pid, sig))
while True:
    try:
        _, status, ru = os.wait4(pid, 0)
        break
    except InterruptedError:
        continue
with open(out, "w") as f:
    f.write("%.6f %.6f %d\n" % (ru.ru_utime, ru.ru_stime, os.waitstatus_to_exitcode(status)))
